/**
 * Helpers for the experiments' tests: a run result built from a config and its epoch records,
 * for the tables and findings that read them.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import type { Divergence, EpochRecord, RunResult } from "../result.ts";

/**
 * A finished run of `config` with `history`; `diverged` marks where it stopped (reason "test").
 * The versions are fixed stand-ins; `final` is the last record.
 */
export function fakeRunResult(
  config: RunConfig,
  history: EpochRecord[],
  { diverged = null, wallMs = 1 }: {
    diverged?: Omit<Divergence, "reason"> | null;
    wallMs?: number;
  } = {},
): RunResult {
  return {
    config,
    history,
    final: history.at(-1) ?? null,
    diverged: diverged ? { ...diverged, reason: "test" } : null,
    versions: {
      backend: "wasm",
      tfjs: "4.22.0",
      deno: "2.9.6",
      patched: true,
      gemm: "openblas",
      quantlab: "0",
    },
    wallMs,
    peakRssMb: 1,
  };
}
