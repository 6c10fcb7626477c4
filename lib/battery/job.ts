/**
 * The grid job that trains with a researcher's passer: it loads the module named in
 * `passer.module`, checks that its source still has the SHA-256 the run was keyed with, registers
 * it for `buildPasser`, and trains. A distinct job identity, so a candidate's results can never
 * stand in for a built-in passer's in the cache (or the reverse).
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import { registerCustomPasser } from "../passers.ts";
import type { RunResult } from "../result.ts";
import { train, type TrainOptions } from "../train.ts";
import { type Candidate, CandidateError, loadCandidate } from "./candidate.ts";

/** This job as a grid reference. */
export const BATTERY_JOB = "lib/battery/job.ts#batteryJob";

const loaded = new Map<string, Candidate>();

/** Load (once per process) and register the candidate a config names; checks its checksum. */
export async function ensureCandidate(config: RunConfig): Promise<Candidate> {
  const { module, moduleSha256 } = config.passer;
  if (config.passer.kind !== "custom" || !module) {
    throw new Error(
      `the battery job trains passer.kind = "custom", got "${config.passer.kind}"`,
    );
  }
  let candidate = loaded.get(module);
  if (!candidate) {
    candidate = await loadCandidate(module);
    loaded.set(module, candidate);
  }
  if (candidate.sha256 !== moduleSha256) {
    throw new CandidateError(
      module,
      `the module changed since this run was keyed (SHA-256 ${candidate.sha256.slice(0, 12)}… ` +
        `now, ${String(moduleSha256).slice(0, 12)}… in the config): re-run the battery`,
    );
  }
  registerCustomPasser(module, candidate.passer);
  return candidate;
}

/** Train one run with the candidate passer (grid job). */
export async function batteryJob(
  config: RunConfig,
  options: TrainOptions = {},
): Promise<RunResult> {
  await ensureCandidate(config);
  return await train(config, options);
}
