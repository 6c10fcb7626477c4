/**
 * Load and register the researcher's modules a run config names (`passer.kind = "custom"`,
 * `quantizer.kind = "custom"`), once per process, after checking that each module's source still
 * has the SHA-256 the run was keyed with. Every job that may train a candidate calls it first:
 * the battery's job (`lib/battery/job.ts`) and the speech job (`lib/experiments/speech_job.ts`).
 * A config with only built-in kinds registers nothing.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import { registerCustomPasser } from "../passers.ts";
import { registerCustomQuantizer } from "../quantizers/mod.ts";
import { type Candidate, CandidateError, loadCandidate } from "./candidate.ts";
import { guardedBuilder } from "./guard.ts";

const loaded = new Map<string, Candidate>();

async function load(
  module: string,
  sha256: string | undefined,
  kind: Candidate["kind"],
): Promise<Candidate> {
  let candidate = loaded.get(module);
  if (!candidate) {
    candidate = await loadCandidate(module);
    loaded.set(module, candidate);
  }
  if (candidate.sha256 !== sha256) {
    throw new CandidateError(
      module,
      `the module changed since this run was keyed (SHA-256 ${candidate.sha256.slice(0, 12)}… ` +
        `now, ${String(sha256).slice(0, 12)}… in the config): re-run the battery`,
    );
  }
  if (candidate.kind !== kind) {
    throw new CandidateError(
      module,
      `the config uses it as a ${kind}, but the export is a ${candidate.kind}`,
    );
  }
  return candidate;
}

/** Load, check and register the custom passer and/or quantizer of `config`; returns them. */
export async function ensureCustomModules(config: RunConfig): Promise<Candidate[]> {
  const out: Candidate[] = [];
  if (config.passer.kind === "custom" && config.passer.module) {
    const c = await load(config.passer.module, config.passer.moduleSha256, "passer");
    if (c.kind === "passer") registerCustomPasser(c.module, c.passer);
    out.push(c);
  }
  if (config.quantizer.kind === "custom") {
    const c = await load(config.quantizer.module, config.quantizer.moduleSha256, "quantizer");
    // Guarded: codes in range and an honest jointCodes in every run (guard.ts).
    if (c.kind === "quantizer") {
      registerCustomQuantizer(c.module, guardedBuilder(c.module, c.build));
    }
    out.push(c);
  }
  return out;
}
