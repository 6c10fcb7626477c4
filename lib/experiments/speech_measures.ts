/**
 * Numbers notebook 07's page and verdicts read off one speech run or group, written once: a
 * run's final held-out metric, a group's bit rate, a run's peak training-batch MA-E, the MA-E
 * growth per seed, what "bounded" means, and the bar a system clears to count as coding speech
 * (07's and notebook 11's speech league alike).
 *
 * @module
 */
import { quantizerBits } from "../config.ts";
import type { RunResult } from "../result.ts";
import { convBitrate } from "../codecs/conv.ts";
import { maeGrowth, mean, sig } from "./common.ts";
import type { SpeechGroup } from "./speech.ts";

/** A run's final held-out metric `name` (NaN when the run diverged or did not record it). */
export const finalMetric = (r: RunResult, name: string): number =>
  r.diverged ? NaN : r.final?.metrics?.[name] ?? NaN;

/** Mean of the runs' final held-out metric `name` over the runs that did not diverge. */
export function finalMean(runs: RunResult[], name: string): number {
  return mean(runs.map((r) => finalMetric(r, name)).filter(Number.isFinite));
}

/**
 * The bar a system must clear to count as coding speech [choice, issue 19]: mean held-out SI-SDR
 * ≥ 0 dB and F0 agreement ≥ 0.6 over its seeds.
 */
export const CODES_SPEECH = { siSdr: 0, f0Agreement: 0.6 } as const;

/** Whether a group's runs code speech by {@linkcode CODES_SPEECH}, with the two means over the runs that did not diverge. */
export function codesSpeech(
  runs: RunResult[],
): { siSdr: number; f0Agreement: number; ok: boolean } {
  const siSdr = finalMean(runs, "siSdr");
  const f0Agreement = finalMean(runs, "f0Agreement");
  return {
    siSdr,
    f0Agreement,
    ok: siSdr >= CODES_SPEECH.siSdr && f0Agreement >= CODES_SPEECH.f0Agreement,
  };
}

/** Bits per second of a group's quantizer (0 for the continuous reference). */
export function groupBitsPerSecond(g: SpeechGroup): number {
  const c = g.runs[0].config;
  if (c.codec.kind !== "conv" || c.quantizer.kind === "none") return 0;
  return convBitrate(c.codec, quantizerBits(c.quantizer));
}

/** Largest training-batch MA-E of a run (from the per-step trace; Infinity if non-finite). */
export function peakStepMaE(r: RunResult): number {
  const m = r.steps?.maE ?? [];
  return m.reduce<number>((a, v) => Math.max(a, v ?? Infinity), 0);
}

/** What "bounded" means in this notebook's verdicts (and the battery's speech check). */
export const BOUNDED =
  "no divergence and validation MA-E within 10× its first-epoch value [choice of threshold, as notebook 02]";

/** MA-E growth last/first epoch per seed, or where a seed diverged. */
export function growth(g: SpeechGroup): string {
  return g.runs.map((r) =>
    r.diverged ? `diverged at step ${r.diverged.step}` : `×${sig(maeGrowth(r))}`
  ).join(", ");
}
