/**
 * Notebook 02: STE, commitment loss and mSTE (method §1.4, §4).
 *
 * [paper A] standard STE without commitment loss lets the encoder output grow without bound
 * and training diverges; with CL it stays bounded; mSTE stays stable without CL and reaches a
 * lower MSE.
 *
 * @module
 */
import { type Display, group } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  currentProfile,
  epochChart,
  finalMse,
  type Group,
  type GroupExperiment,
  type GroupRuns,
  isBounded,
  maeGrowth,
  mean,
  type Profile,
  runGroups,
  sig,
  verdictOf,
} from "./common.ts";

/** The three configurations compared, on the default proxy config. */
export const GROUPS: Group[] = [
  { label: "STE, no CL", input: { passer: { kind: "ste" } } },
  { label: "STE + CL (β = 0.25)", input: { passer: { kind: "ste" }, train: { commitment: 0.25 } } },
  { label: "mSTE, no CL", input: { passer: { kind: "mste" } } },
];

/** The groups of this notebook with their runs. */
export type SteExperiment = GroupExperiment;

export async function run(profile: Profile = currentProfile()): Promise<SteExperiment> {
  return { profile, groups: await runGroups("02 STE/CL/mSTE", profile, GROUPS) };
}

/** Validation MSE against epoch, band over seeds, divergence marked. */
export function mseChart(x: SteExperiment): Display {
  return epochChart(x.groups, "mse");
}

/**
 * MA-E (max |e| on validation) against epoch on a log axis: the unbounded-growth signal. When
 * some groups grow without bound, a second panel shows only the groups whose every run stays
 * bounded ({@linkcode isBounded}), on a linear axis, so their comparison is not flattened by the
 * other group's decades.
 */
export function maeChart(x: SteExperiment): Display {
  const threshold = x.groups[0].runs[0].config.train.divergenceThreshold;
  const all = epochChart(x.groups, "maE", {
    rules: [{ y: threshold, label: "divergence threshold" }],
  });
  const bounded = x.groups.filter((g) => g.runs.every((r) => isBounded(r)));
  if (bounded.length === 0 || bounded.length === x.groups.length) return all;
  return group(
    all,
    epochChart(bounded, "maE", {
      title: "MA-E of the configurations that stay bounded (linear axis)",
      log: false,
      colorLabels: x.groups.map((g) => g.label),
    }),
  );
}

/** The findings, each with a verdict computed from the runs. */
export function findings(x: SteExperiment): FindingInput[] {
  const [ste, steCl, mste] = x.groups;
  const growth = (g: GroupRuns) =>
    g.runs.map((
      r,
    ) => (r.diverged ? `diverged at step ${r.diverged.step}` : String(sig(maeGrowth(r)))));
  const mseOf = (g: GroupRuns) => sig(mean(g.runs.map(finalMse)));
  const steUnbounded = ste.runs.map((r) => !isBounded(r));
  const mstePairs = mste.runs.map((r, i) => finalMse(r) < finalMse(ste.runs[i]));
  const msteVsCl = mste.runs.map((r, i) => finalMse(r) < finalMse(steCl.runs[i]));
  const bounded =
    "MA-E stays within 10× its first-epoch value and the run does not diverge [choice of threshold]";
  return [
    {
      id: "A-ste-unbounded",
      paper: "A",
      claim: "Standard STE without commitment loss lets the encoder output grow without bound.",
      metric: `per seed: not bounded, i.e. diverged or MA-E grew over 10× (bounded = ${bounded})`,
      measured: {
        seeds: ste.runs.length,
        unbounded: steUnbounded.filter(Boolean).length,
        diverged: ste.runs.filter((r) => r.diverged).length,
        "MA-E growth per seed": growth(ste).join(", "),
      },
      verdict: verdictOf(steUnbounded),
    },
    {
      id: "A-ste-cl-bounded",
      paper: "A",
      claim: "With commitment loss, STE keeps the encoder output bounded.",
      metric: `per seed: ${bounded}`,
      measured: {
        seeds: steCl.runs.length,
        bounded: steCl.runs.filter((r) => isBounded(r)).length,
        "MA-E growth per seed": growth(steCl).join(", "),
      },
      verdict: verdictOf(steCl.runs.map((r) => isBounded(r))),
    },
    {
      id: "A-mste-stable",
      paper: "A",
      claim: "mSTE stays stable without commitment loss.",
      metric: `per seed: ${bounded}`,
      measured: {
        seeds: mste.runs.length,
        bounded: mste.runs.filter((r) => isBounded(r)).length,
        "MA-E growth per seed": growth(mste).join(", "),
      },
      verdict: verdictOf(mste.runs.map((r) => isBounded(r))),
    },
    {
      id: "A-mste-lower-mse-than-ste",
      paper: "A",
      claim: "mSTE without commitment loss reaches a lower MSE than STE without it.",
      metric: "per seed: final validation MSE of mSTE < that of STE (same seed)",
      measured: {
        "mSTE MSE": mseOf(mste),
        "STE MSE": mseOf(ste),
        "seeds where mSTE is lower": `${mstePairs.filter(Boolean).length}/${mstePairs.length}`,
      },
      verdict: verdictOf(mstePairs),
    },
    {
      id: "A-mste-lower-mse-than-ste-cl",
      paper: "A",
      claim: "mSTE without commitment loss reaches a lower MSE than STE with it.",
      metric: "per seed: final validation MSE of mSTE < that of STE + CL (same seed)",
      measured: {
        "mSTE MSE": mseOf(mste),
        "STE+CL MSE": mseOf(steCl),
        "seeds where mSTE is lower": `${msteVsCl.filter(Boolean).length}/${msteVsCl.length}`,
      },
      verdict: verdictOf(msteVsCl),
    },
  ];
}
