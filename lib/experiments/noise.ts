/**
 * Notebook 03: noise approximation, attached versus detached (method §1.4, §4).
 *
 * [paper A] attached noise approximation beats detached noise approximation.
 * [choice] NA detached: q = z + sg(s)·u; NA attached: q = z + sg(s/σ)·σ·u, u ~ U(−½,½),
 * s = √12·rms(Q(z) − z).
 * The claim is judged by the paired rule of `lib/stats.ts` over the profile's comparison seeds.
 *
 * @module
 */
import type { Display } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  compareMse,
  convergenceTable,
  currentProfile,
  differenceChart,
  epochChart,
  finalMse,
  forComparison,
  type Group,
  type GroupExperiment,
  isBounded,
  mean,
  mseComparisonFinding,
  type Profile,
  runGroups,
  sig,
} from "./common.ts";

export const GROUPS: Group[] = [
  { label: "NA detached", input: { passer: { kind: "na-detached" } } },
  { label: "NA attached", input: { passer: { kind: "na-attached" } } },
];

/** The groups of this notebook with their runs. */
export type NoiseExperiment = GroupExperiment;

export async function run(profile: Profile = currentProfile()): Promise<NoiseExperiment> {
  return {
    profile,
    groups: await runGroups("03 NA attached/detached", forComparison(profile), GROUPS),
  };
}

export function mseChart(x: NoiseExperiment): Display {
  return epochChart(x.groups, "mse");
}

export function maeChart(x: NoiseExperiment): Display {
  return epochChart(x.groups, "maE");
}

/** MSE slope over the last epochs per configuration. */
export function convergence(x: NoiseExperiment): Display {
  return convergenceTable(x.groups, x.profile);
}

/** Attached − detached as a paired difference with its interval. */
export function differences(x: NoiseExperiment): Display {
  const [detached, attached] = x.groups;
  return differenceChart([
    { label: "attached − detached", stats: compareMse(attached, detached, "lower", x.profile) },
  ]);
}

/** Attached − detached final MSE in dB, per seed (negative: attached is better). */
export function gainDb(x: NoiseExperiment): number[] {
  const [detached, attached] = x.groups;
  return attached.runs.map((r, i) => 10 * Math.log10(finalMse(r) / finalMse(detached.runs[i])));
}

export function findings(x: NoiseExperiment): FindingInput[] {
  const [detached, attached] = x.groups;
  const n = attached.runs.length;
  return [mseComparisonFinding({
    id: "A-na-attached-beats-detached",
    paper: "A",
    claim: "Attached noise approximation beats detached noise approximation.",
    treatment: attached,
    baseline: detached,
    direction: "lower",
    names: ["attached", "detached"],
    measured: {
      "attached − detached final MSE (dB, mean over seeds)": sig(mean(gainDb(x))),
      "MA-E bounded, attached / detached": `${attached.runs.filter((r) => isBounded(r)).length}/${
        detached.runs.filter((r) => isBounded(r)).length
      } of ${n}`,
    },
  }, x.profile)];
}
