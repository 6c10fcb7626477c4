/**
 * Notebook 02: STE, commitment loss and mSTE (method §1.4, §4).
 *
 * [paper A] standard STE without commitment loss lets the encoder output grow without bound
 * and training diverges; with CL it stays bounded; mSTE stays stable without CL and reaches a
 * lower MSE.
 *
 * The MSE claims are judged by the paired rule of `lib/stats.ts` over the profile's comparison
 * seeds, at the profile's budget and, for mSTE against STE + CL (the claim the budget could
 * decide), again in a "long" group of {@linkcode Profile.longEpochs} epochs where the MSE has
 * flattened, so the verdict says at which budget it holds.
 *
 * @module
 */
import { chart, type Display, group } from "../display.ts";
import { lineChart, seedBand } from "../plot.ts";
import type { FindingInput, Scalar } from "../report/findings.ts";
import {
  compareMse,
  convergenceTable,
  currentProfile,
  differenceChart,
  epochChart,
  forComparison,
  type Group,
  type GroupExperiment,
  type GroupRuns,
  isBounded,
  maeGrowth,
  mseComparisonFinding,
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

/** STE + CL and mSTE trained for `profile.longEpochs` epochs (the "long" group). */
export function longGroups(profile: Profile): Group[] {
  const steps = profile.longEpochs * profile.stepsPerEpoch;
  return [GROUPS[1], GROUPS[2]].map((g) => ({
    label: `${g.label}, long (${steps} steps)`,
    input: { ...g.input, train: { ...g.input.train, epochs: profile.longEpochs } },
  }));
}

/** The groups of this notebook with their runs, over the comparison seeds; `long` as above. */
export interface SteExperiment extends GroupExperiment {
  long: GroupRuns[];
}

export async function run(profile: Profile = currentProfile()): Promise<SteExperiment> {
  const p = forComparison(profile);
  const all = await runGroups("02 STE/CL/mSTE", p, [...GROUPS, ...longGroups(profile)]);
  return { profile, groups: all.slice(0, GROUPS.length), long: all.slice(GROUPS.length) };
}

/** Validation MSE against training step of the long group, band over seeds. */
export function longChart(x: SteExperiment): Display {
  return chart(lineChart({
    title: "Validation MSE of STE + CL and mSTE: profile budget and long runs",
    series: [...x.groups.slice(1), ...x.long].map((g) =>
      seedBand(
        g.label,
        g.runs.map((r) => ({ x: r.history.map((h) => h.step), y: r.history.map((h) => h.valMse) })),
      )
    ),
    x: { label: "training step" },
    y: { label: "validation MSE", log: true },
  }));
}

/** MSE slope over the last epochs per configuration, profile budget and long. */
export function convergence(x: SteExperiment): Display {
  return convergenceTable([...x.groups, ...x.long], x.profile);
}

/** The MSE comparisons as paired differences with their intervals. */
export function differences(x: SteExperiment): Display {
  const [ste, steCl, mste] = x.groups;
  const [longCl, longMste] = x.long;
  return differenceChart([
    { label: "mSTE − STE", stats: compareMse(mste, ste, "lower", x.profile) },
    { label: "mSTE − STE + CL", stats: compareMse(mste, steCl, "lower", x.profile) },
    { label: "mSTE − STE + CL, long", stats: compareMse(longMste, longCl, "lower", x.profile) },
  ]);
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

/**
 * The same claim at the profile's budget and in the long runs, each finding's detail ending
 * with the other's outcome, so each says at which budget the claim holds.
 */
function budgets(atBudget: FindingInput, long: FindingInput): FindingInput[] {
  const steps = (f: FindingInput) => (f.measured as Record<string, Scalar>)["training steps"];
  return [
    {
      ...atBudget,
      detail: `${atBudget.detail} At ${steps(long)} steps (${long.id}): ${long.verdict}.`,
    },
    {
      ...long,
      detail: `${long.detail} At ${steps(atBudget)} steps (${atBudget.id}): ${atBudget.verdict}.`,
    },
  ];
}

/** The findings, each with a verdict computed from the runs. */
export function findings(x: SteExperiment): FindingInput[] {
  const [ste, steCl, mste] = x.groups;
  const [longCl, longMste] = x.long;
  const growth = (g: GroupRuns) =>
    g.runs.map((
      r,
    ) => (r.diverged ? `diverged at step ${r.diverged.step}` : String(sig(maeGrowth(r)))));
  const steUnbounded = ste.runs.map((r) => !isBounded(r));
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
    mseComparisonFinding({
      id: "A-mste-lower-mse-than-ste",
      paper: "A",
      claim: "mSTE without commitment loss reaches a lower MSE than STE without it.",
      treatment: mste,
      baseline: ste,
      direction: "lower",
      names: ["mSTE", "STE"],
    }, x.profile),
    ...budgets(
      mseComparisonFinding({
        id: "A-mste-lower-mse-than-ste-cl",
        paper: "A",
        claim: "mSTE without commitment loss reaches a lower MSE than STE with it.",
        treatment: mste,
        baseline: steCl,
        direction: "lower",
        names: ["mSTE", "STE+CL"],
      }, x.profile),
      mseComparisonFinding({
        id: "A-mste-lower-mse-than-ste-cl-long",
        paper: "A",
        claim:
          "mSTE without commitment loss reaches a lower MSE than STE with it (long runs, near convergence).",
        treatment: longMste,
        baseline: longCl,
        direction: "lower",
        names: ["mSTE", "STE+CL"],
      }, x.profile),
    ),
  ];
}
