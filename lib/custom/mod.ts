/**
 * A researcher's own passers and quantizers, loaded from their modules (`candidate.ts`) into an
 * explicit registry, {@linkcode CustomKinds}, that the trainer hands to `buildPasser` and
 * `buildQuantizer` (`train(config, { custom })`). Nothing is registered globally: a run sees
 * only the custom kinds it is given. Every job that may train a candidate loads them first (the
 * battery's job, `lib/battery/job.ts`, and the speech job, `lib/experiments/speech_job.ts`),
 * after checking that each module's source still has the SHA-256 the run was keyed with. A
 * config with only built-in kinds loads nothing. This layer sits below the trainer and imports
 * neither experiments nor the battery.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import type { Passer } from "../passers.ts";
import type { QuantizerBuilder } from "../quantizers/mod.ts";
import { type Candidate, CandidateError, loadCandidate } from "./candidate.ts";
import { guardedBuilder } from "./guard.ts";

export * from "./candidate.ts";
export * from "./guard.ts";

/** Custom kinds by module reference (`file:///…#export`), as `passer.module` / `quantizer.module` name them. */
export interface CustomKinds {
  passers: ReadonlyMap<string, Passer>;
  quantizers: ReadonlyMap<string, QuantizerBuilder>;
}

/** No custom kinds: what a run of built-in kinds gets. */
export const NO_CUSTOM_KINDS: CustomKinds = { passers: new Map(), quantizers: new Map() };

/** The modules loaded in this process (importing a module twice would give the same exports). */
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

/** The custom passer and/or quantizer of `config`, loaded and checked, with the candidates. */
export async function loadCustomKinds(
  config: RunConfig,
): Promise<CustomKinds & { candidates: Candidate[] }> {
  const candidates: Candidate[] = [];
  const passers = new Map<string, Passer>();
  const quantizers = new Map<string, QuantizerBuilder>();
  if (config.passer.kind === "custom" && config.passer.module) {
    const c = await load(config.passer.module, config.passer.moduleSha256, "passer");
    if (c.kind === "passer") passers.set(c.module, c.passer);
    candidates.push(c);
  }
  if (config.quantizer.kind === "custom") {
    const c = await load(config.quantizer.module, config.quantizer.moduleSha256, "quantizer");
    // Guarded: codes in range and an honest jointCodes in every run (guard.ts).
    if (c.kind === "quantizer") quantizers.set(c.module, guardedBuilder(c.module, c.build));
    candidates.push(c);
  }
  return { passers, quantizers, candidates };
}
