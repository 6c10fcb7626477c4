/**
 * Verdicts of the paper-A notebooks: "holds in every seed" counts, and comparisons of two
 * groups' MSE under the paired rule of `lib/stats.ts`, as findings and charts.
 *
 * @module
 */
import { chart, type Display, finding, group } from "../display.ts";
import { intervalChart } from "../charts.ts";
import type { FindingInput, Scalar } from "../report/findings.ts";
import type { RunResult } from "../result.ts";
import { caveats, comparePaired, type Direction, type PairedStats } from "../stats.ts";
import type { Profile } from "./profiles.ts";
import type { GroupRuns } from "./running.ts";
import { convergenceOf, finalMse, mean, sig, smoothedMse } from "./summaries.ts";

/** Verdict for "this holds in every seed": all → reproduced, some → partially, none → not. */
export function verdictOf(
  passes: boolean[],
): "reproduced" | "partially reproduced" | "not reproduced" {
  const n = passes.filter(Boolean).length;
  return n === passes.length ? "reproduced" : n > 0 ? "partially reproduced" : "not reproduced";
}

/** Findings as verdict boxes; each is also recorded (MIME output) for reports/findings.json. */
export function showFindings(findings: FindingInput[]): Display {
  return group(...findings.map(finding));
}

/** How {@linkcode smoothedMse} is described in findings. */
export function mseStatistic(profile: Profile): string {
  return `validation MSE (hard quantizer), mean of the last ${profile.lastEpochs} epochs`;
}

/** Runs of two groups paired by seed (only seeds both have), in seed order. */
export function pairBySeed(
  a: Pick<GroupRuns, "runs">,
  b: Pick<GroupRuns, "runs">,
): [RunResult, RunResult][] {
  const bySeed = new Map(b.runs.map((r) => [r.config.train.seed, r]));
  return a.runs
    .filter((r) => bySeed.has(r.config.train.seed))
    .sort((x, y) => x.config.train.seed - y.config.train.seed)
    .map((r) => [r, bySeed.get(r.config.train.seed)!]);
}

/**
 * The paired verdict (`lib/stats.ts`) of "`treatment`'s MSE is `claim` than `baseline`'s",
 * on {@linkcode smoothedMse} per seed.
 */
export function compareMse(
  treatment: GroupRuns,
  baseline: GroupRuns,
  claim: Direction,
  profile: Profile,
): PairedStats {
  return compareRuns(treatment, baseline, claim, {
    name: mseStatistic(profile),
    of: (r) => smoothedMse(r, profile.lastEpochs),
  });
}

/** One comparison finding's inputs: the claim, the two groups and the claimed direction. */
export interface MseComparison {
  id: string;
  paper: string;
  claim: string;
  treatment: GroupRuns;
  baseline: GroupRuns;
  direction: Direction;
  /** Short names for the measured record, e.g. `["mSTE", "STE+CL"]` (default: the labels). */
  names?: [string, string];
  /** Extra measured values (e.g. MA-E bounded counts). */
  measured?: Record<string, Scalar>;
}

/**
 * A comparison finding under the paired rule: the verdict is the outcome of
 * {@linkcode compareMse}, the record carries the stats, and the detail states the caveats the
 * numbers imply (interval, effect size, too few seeds, a training budget where the MSE is
 * still falling).
 */
export function mseComparisonFinding(c: MseComparison, profile: Profile): FindingInput {
  const stats = compareMse(c.treatment, c.baseline, c.direction, profile);
  const conv = [c.treatment, c.baseline].map((g) => convergenceOf(g, profile));
  const falling = conv.filter((k) => k.state === "still falling");
  const steps = conv[0].steps;
  const [tName, bName] = c.names ?? [c.treatment.label, c.baseline.label];
  const budget = falling.length > 0
    ? ` At this budget (${steps} steps) the MSE of ${falling.map((k) => k.label).join(" and ")} ${
      falling.length > 1 ? "are" : "is"
    } still falling (slope ${
      falling.map((k) => sig(k.slope)).join(", ")
    } per 1000 steps): the verdict is about this budget, not about convergence.`
    : ` At this budget (${steps} steps) both MSEs are flat or rising.`;
  return {
    id: c.id,
    paper: c.paper,
    claim: c.claim,
    metric:
      `paired over seeds: ${c.treatment.label} − ${c.baseline.label} of the ${
        mseStatistic(profile)
      }; ${
        Math.round(stats.level * 100)
      } % paired t interval (sign test when a run diverged); reproduced if it excludes 0 on the ` +
      `claimed side (${c.direction}), not reproduced if on the other, else inconclusive [choice]`,
    measured: {
      [`${tName} MSE`]: sig(
        stats.treatmentMean ?? mean(c.treatment.runs.map(finalMse)),
      ),
      [`${bName} MSE`]: sig(stats.baselineMean ?? mean(c.baseline.runs.map(finalMse))),
      "mean difference": stats.mean === null ? null : sig(stats.mean),
      "interval low": stats.ci[0] === null ? null : sig(stats.ci[0]),
      "interval high": stats.ci[1] === null ? null : sig(stats.ci[1]),
      [`seeds where ${tName} is ${c.direction}`]: `${stats.favourable}/${stats.n}`,
      "training steps": steps,
      ...c.measured,
    },
    verdict: stats.outcome,
    stats,
    detail: caveats(stats) + budget,
  };
}

/** A dot-and-whisker chart of paired differences with their intervals, one row per comparison. */
export function differenceChart(
  rows: { label: string; stats: PairedStats }[],
  title = "Paired differences (treatment − baseline) with their confidence intervals",
): Display {
  return chart(intervalChart({
    title,
    rows: rows.map((r) => ({
      label: r.label,
      value: r.stats.mean,
      lo: r.stats.ci[0],
      hi: r.stats.ci[1],
      note: `${r.stats.outcome} (n = ${r.stats.n}${
        r.stats.method === "sign test" ? ", sign test: no interval" : ""
      })`,
    })),
    x: { label: `difference of the ${r0(rows)?.statistic ?? "statistic"}` },
  }));
}

function r0(rows: { stats: PairedStats }[]): PairedStats | undefined {
  return rows[0]?.stats;
}

/** A per-run statistic of a comparison: its description and its value (±∞ for a diverged run). */
export interface RunStatistic {
  /** What the value is, e.g. "final held-out mel L1"; recorded as the stats' `statistic`. */
  name: string;
  of: (r: RunResult) => number;
}

/** A labelled group of runs, one per seed (a `GroupRuns` or notebook 07's `SpeechGroup`). */
export interface LabelledRuns {
  label: string;
  runs: RunResult[];
}

/** Inputs of {@linkcode metricComparisonFinding}: an {@linkcode MseComparison} on another statistic. */
export interface MetricComparison extends Omit<MseComparison, "treatment" | "baseline"> {
  treatment: LabelledRuns;
  baseline: LabelledRuns;
  statistic: RunStatistic;
}

/**
 * The paired verdict (`lib/stats.ts`) of "`treatment`'s `statistic` is `claim` than
 * `baseline`'s", one pair per seed (the same rule as {@linkcode compareMse}, on any per-run
 * statistic: the speech notebook's final mel L1).
 */
export function compareRuns(
  treatment: LabelledRuns,
  baseline: LabelledRuns,
  claim: Direction,
  statistic: RunStatistic,
): PairedStats {
  const pairs = pairBySeed(treatment, baseline);
  return comparePaired(
    pairs.map(([t]) => statistic.of(t)),
    pairs.map(([, b]) => statistic.of(b)),
    { claim, statistic: statistic.name, unit: "seed" },
  );
}

/**
 * A comparison finding under the paired rule on a per-run statistic, recorded like
 * {@linkcode mseComparisonFinding}'s: the means, the difference with its interval, the seeds
 * that go the claimed way, and the caveats the numbers imply.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config.ts";
 * import type { RunResult } from "../result.ts";
 * const run = (seed: number, mel: number) =>
 *   ({ config: resolveConfig({ train: { seed } }), diverged: null, final: { metrics: { melL1: mel } } }) as unknown as RunResult;
 * const f = metricComparisonFinding({
 *   id: "x", paper: "A", claim: "a beats b", direction: "lower",
 *   treatment: { label: "a", runs: [1, 2, 3, 4].map((s) => run(s, 1 + s / 100)) },
 *   baseline: { label: "b", runs: [1, 2, 3, 4].map((s) => run(s, 2 - s / 100)) },
 *   statistic: { name: "mel L1", of: (r) => r.final!.metrics!.melL1 },
 * });
 * f.verdict; // "reproduced"
 * ```
 */
export function metricComparisonFinding(c: MetricComparison): FindingInput {
  const stats = compareRuns(c.treatment, c.baseline, c.direction, c.statistic);
  const [tName, bName] = c.names ?? [c.treatment.label, c.baseline.label];
  return {
    id: c.id,
    paper: c.paper,
    claim: c.claim,
    metric:
      `paired over seeds: ${c.treatment.label} − ${c.baseline.label} of the ${c.statistic.name}; ${
        Math.round(stats.level * 100)
      } % paired t interval (sign test when a run diverged); reproduced if it excludes 0 on the ` +
      `claimed side (${c.direction}), not reproduced if on the other, else inconclusive [choice]`,
    measured: {
      [`${tName}`]: stats.treatmentMean === null ? null : sig(stats.treatmentMean),
      [`${bName}`]: stats.baselineMean === null ? null : sig(stats.baselineMean),
      "mean difference": stats.mean === null ? null : sig(stats.mean),
      "interval low": stats.ci[0] === null ? null : sig(stats.ci[0]),
      "interval high": stats.ci[1] === null ? null : sig(stats.ci[1]),
      [`seeds where ${tName} is ${c.direction}`]: `${stats.favourable}/${stats.n}`,
      ...c.measured,
    },
    verdict: stats.outcome,
    stats,
    detail: caveats(stats),
  };
}
