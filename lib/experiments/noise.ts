/**
 * Notebook 03: noise approximation, attached versus detached (method §1.4, §4).
 *
 * [paper A] attached noise approximation beats detached noise approximation.
 * [choice] NA detached: q = z + sg(s)·u; NA attached: q = z + sg(s/σ)·σ·u, u ~ U(−½,½),
 * s = √12·rms(Q(z) − z).
 *
 * @module
 */
import type { Display } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  currentProfile,
  epochChart,
  finalMse,
  type Group,
  type GroupExperiment,
  isBounded,
  mean,
  type Profile,
  runGroups,
  sig,
  verdictOf,
} from "./common.ts";

export const GROUPS: Group[] = [
  { label: "NA detached", input: { passer: { kind: "na-detached" } } },
  { label: "NA attached", input: { passer: { kind: "na-attached" } } },
];

/** The groups of this notebook with their runs. */
export type NoiseExperiment = GroupExperiment;

export async function run(profile: Profile = currentProfile()): Promise<NoiseExperiment> {
  return { profile, groups: await runGroups("03 NA attached/detached", profile, GROUPS) };
}

export function mseChart(x: NoiseExperiment): Display {
  return epochChart(x.groups, "mse");
}

export function maeChart(x: NoiseExperiment): Display {
  return epochChart(x.groups, "maE");
}

/** Attached − detached final MSE in dB, per seed (negative: attached is better). */
export function gainDb(x: NoiseExperiment): number[] {
  const [detached, attached] = x.groups;
  return attached.runs.map((r, i) => 10 * Math.log10(finalMse(r) / finalMse(detached.runs[i])));
}

export function findings(x: NoiseExperiment): FindingInput[] {
  const [detached, attached] = x.groups;
  const better = attached.runs.map((r, i) => finalMse(r) < finalMse(detached.runs[i]));
  return [{
    id: "A-na-attached-beats-detached",
    paper: "A",
    claim: "Attached noise approximation beats detached noise approximation.",
    metric:
      "per seed: final validation MSE (hard quantizer) of NA attached < NA detached (same seed)",
    measured: {
      "attached MSE": sig(mean(attached.runs.map(finalMse))),
      "detached MSE": sig(mean(detached.runs.map(finalMse))),
      "attached − detached (dB, mean)": sig(mean(gainDb(x))),
      "seeds where attached is lower": `${better.filter(Boolean).length}/${better.length}`,
      "MA-E bounded, attached / detached": `${attached.runs.filter((r) => isBounded(r)).length}/${
        detached.runs.filter((r) => isBounded(r)).length
      } of ${better.length}`,
    },
    verdict: verdictOf(better),
  }];
}
