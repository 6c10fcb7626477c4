/**
 * Notebook 01: the simulated data and its bit budget (method §2).
 *
 * [paper A] the source carries a number of bits B known by construction, so a quantizer with
 * B_q ≥ B bits allows perfect reconstruction and one with fewer cannot.
 * [choice] the M-group Gaussian-dictionary construction; a VQ codebook of 2^B_q entries
 * trained with STE + commitment loss (the standard recipe) at each B_q.
 *
 * @module
 */
import { quantizerBits, resolveConfig, sourceBits } from "../config.ts";
import { oracleFloor, SimulatedSource } from "../sources/mod.ts";
import { chart, type Display, table } from "../display.ts";
import { lineChart } from "../plot.ts";
import type { FindingInput } from "../report/findings.ts";
import type { RunResult } from "../result.ts";
import {
  currentProfile,
  finalMse,
  type GroupRuns,
  mean,
  type Profile,
  runGroups,
  sig,
} from "./common.ts";

/** Quantizer bit budgets swept, around the default source's B = 8. [choice] */
export const BUDGETS = [4, 5, 6, 7, 8, 9, 10];

export interface BitsExperiment {
  profile: Profile;
  /** The default source at seed 0, for the source table. */
  source: SimulatedSource;
  /** Per bit budget: the runs (seed order) and each run's own oracle floor (same order). */
  groups: (GroupRuns & { bits: number; floors: number[] })[];
}

/**
 * The oracle floor of a run: k-means of the frames of the source that run trained on (its own
 * data config and seed, as `lib/train.ts` builds it) into 2^B_q clusters, weighted by that
 * source's validation frames. Sources differ by seed, and so do their floors.
 */
export function runFloor(r: RunResult, restarts?: number): number {
  const source = new SimulatedSource(r.config.data, r.config.train.seed);
  return oracleFloor(source, quantizerBits(r.config.quantizer), {
    distribution: "validation",
    restarts,
  });
}

/** The default source at seed 0 (what the source table describes). */
export function defaultSource(): SimulatedSource {
  const cfg = resolveConfig();
  return new SimulatedSource(cfg.data, cfg.train.seed);
}

/** What the source is, measured on it: bits, distinct frames, power. */
export function sourceTable(source: SimulatedSource): Display {
  const all = source.allFrames();
  const distinct = new Set<string>();
  for (let n = 0; n < all.count; n++) {
    distinct.add(all.x.subarray(n * source.inputDim, (n + 1) * source.inputDim).join(","));
  }
  const v = source.validation;
  const seen = new Set<string>();
  for (let n = 0; n < v.count; n++) {
    seen.add(v.x.subarray(n * source.inputDim, (n + 1) * source.inputDim).join(","));
  }
  const power = v.y.reduce((s, a) => s + a * a, 0) / v.y.length;
  return table([
    { quantity: "frame dimension F", value: source.inputDim },
    {
      quantity: "groups M × bits per group b",
      value: `${source.config.groups} × ${source.config.bitsPerGroup}`,
    },
    { quantity: "bits per frame B = M·b", value: source.bits },
    { quantity: "distinct frames (enumerated)", value: distinct.size },
    { quantity: "2^B", value: 2 ** source.bits },
    { quantity: "distinct frames in the validation set", value: seen.size },
    { quantity: "validation frames", value: v.count },
    { quantity: "target power mean(y²)", value: sig(power) },
  ], { caption: "The simulated source, measured" });
}

export async function run(profile: Profile = currentProfile()): Promise<BitsExperiment> {
  const source = defaultSource();
  const groups = await runGroups(
    "01 bit budget",
    profile,
    BUDGETS.map((bits) => ({
      label: `B_q = ${bits}`,
      input: {
        quantizer: { kind: "vq", bits },
        passer: { kind: "ste" },
        train: { commitment: 0.25 },
      },
    })),
  );
  return {
    profile,
    source,
    groups: groups.map((g, i) => ({
      ...g,
      bits: BUDGETS[i],
      floors: g.runs.map((r) => runFloor(r)),
    })),
  };
}

/** Final validation MSE against B_q with the oracle floor: the knee at B_q = B. */
export function kneeChart(x: BitsExperiment): Display {
  const B = x.source.bits;
  const perSeed = x.groups.map((g) => g.runs.map(finalMse).filter(Number.isFinite));
  return chart(lineChart({
    title: `Validation MSE against quantizer bits B_q (source: B = ${B} bits)`,
    series: [
      {
        label: "trained codec (mean, min–max over seeds)",
        x: x.groups.map((g) => g.bits),
        y: perSeed.map((v) => mean(v)),
        lo: perSeed.map((v) => Math.min(...v)),
        hi: perSeed.map((v) => Math.max(...v)),
        band: "min–max over the seeds",
      },
      {
        label:
          "oracle floor per seed (k-means of the validation frames, best of 200; mean, min–max)",
        x: x.groups.map((g) => g.bits),
        y: x.groups.map((g) => Math.max(mean(g.floors), 1e-4)),
        lo: x.groups.map((g) => Math.max(Math.min(...g.floors), 1e-4)),
        hi: x.groups.map((g) => Math.max(Math.max(...g.floors), 1e-4)),
        band: "min–max of the oracle floor over the seeds",
      },
    ],
    markers: [{
      x: B,
      label: `B_q = B = ${B}`,
      meaning: `B_q = B, where the quantizer can send the ${B} bits the source carries`,
    }],
    x: { label: "quantizer bits B_q", integer: true },
    y: { label: "validation MSE (floor of 0 drawn at 1e-4)", log: true },
  }));
}

export function resultTable(x: BitsExperiment): Display {
  return table(
    x.groups.map((g) => ({
      "B_q": g.bits,
      "oracle floor (per seed)": g.floors.map((f) => sig(f)).join(", "),
      "val MSE (mean)": sig(mean(g.runs.map(finalMse))),
      "val MSE dB (mean)": sig(mean(g.runs.map((r) => r.final?.valMseDb ?? NaN))),
      "symbol accuracy (mean)": sig(mean(g.runs.map((r) => r.final?.symbolAccuracy ?? NaN))),
      "code entropy (bits, mean)": sig(mean(g.runs.map((r) => r.final?.codeEntropy ?? NaN))),
      diverged: `${g.runs.filter((r) => r.diverged).length}/${g.runs.length}`,
    })),
    { caption: "Per bit budget, over seeds" },
  );
}

/** Near-zero MSE: −20 dB relative to the unit target power. [choice] */
export const NEAR_ZERO_MSE = 0.01;

/**
 * Verdict: below B every run stays at or above the oracle floor, and at some B_q ≥ B every
 * seed reaches near-zero MSE ({@linkcode NEAR_ZERO_MSE}).
 */
export function findings(x: BitsExperiment): FindingInput[] {
  const B = x.source.bits;
  const below = x.groups.filter((g) => g.bits < B);
  const atOrAbove = x.groups.filter((g) => g.bits >= B);
  const ratios = below.flatMap((g) => g.runs.map((r, i) => finalMse(r) / g.floors[i]));
  const aboveFloor = ratios.every((q) => q >= 1);
  const closest = Math.min(...ratios);
  const worstMse = atOrAbove.map((g) => Math.max(...g.runs.map(finalMse)));
  const accuracy = atOrAbove.map((g) =>
    Math.min(...g.runs.map((r) => r.final?.symbolAccuracy ?? 0))
  );
  const nearZero = worstMse.some((m) => m <= NEAR_ZERO_MSE);
  return [{
    id: "A-bits-defined",
    paper: "A",
    claim: `The simulated source carries a defined number of bits (B = ${
      sourceBits(x.source.config)
    }): with B_q ≥ B reconstruction can be perfect, with B_q < B it cannot beat the oracle floor.`,
    metric:
      `(a) every run with B_q < B has final MSE ≥ the oracle floor of its own seed's source ` +
      `(validation frames); ` +
      `(b) at some B_q ≥ B every seed's final MSE ≤ ${NEAR_ZERO_MSE} (−20 dB) [choice]`,
    measured: {
      "(a) all runs below B at or above the floor": aboveFloor,
      "closest approach to the floor below B (MSE / own seed's floor)": sig(closest),
      "(b) worst-seed MSE at B_q ≥ B": atOrAbove.map((g, i) => `${g.bits}: ${sig(worstMse[i])}`)
        .join(", "),
      "worst-seed symbol accuracy at B_q ≥ B": atOrAbove
        .map((g, i) => `${g.bits}: ${sig(accuracy[i])}`).join(", "),
    },
    verdict: aboveFloor && nearZero
      ? "reproduced"
      : aboveFloor || nearZero
      ? "partially reproduced"
      : "not reproduced",
    detail: !nearZero
      ? `No bit budget B_q ≥ B brings every seed to MSE ≤ ${NEAR_ZERO_MSE} in this profile.`
      : !aboveFloor
      ? "A run below B beat the floor. The floor is k-means' best local optimum, an upper bound on the true floor."
      : undefined,
  }];
}
