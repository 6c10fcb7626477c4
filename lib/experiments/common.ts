/**
 * What every paper-A notebook shares: the profile (quick or full), running a list of configs
 * through the cached grid runner with progress, the table of settings that says which are the
 * paper's and which are our choices, and summaries of runs over seeds.
 *
 * @module
 */
import { type ConfigInput, DEFAULTS, resolveConfig, type RunConfig } from "../config.ts";
import { flattenFields } from "../arrays.ts";
import { chart, type Display, finding, folded, group, runInfo, table } from "../display.ts";
import type { FindingInput, Scalar } from "../report/findings.ts";
import { formatDuration, type GridProgress, runGrid } from "../grid/mod.ts";
import { interruptible } from "../interrupt.ts";
import { progressView } from "../progress.ts";
import {
  intervalChart,
  lineChart,
  type LineSeries,
  type MarkerSpec,
  type RuleSpec,
  seedBand,
} from "../plot.ts";
import {
  caveats,
  comparePaired,
  type Direction,
  type PairedStats,
  pairedT,
  slope,
} from "../stats.ts";
import type { EpochRecord, RunResult } from "../result.ts";

/** Quick (CI, a first look) or full (the committed reports). */
export type ProfileName = "quick" | "full";

export interface Profile {
  name: ProfileName;
  epochs: number;
  stepsPerEpoch: number;
  /** Seeds every configuration is repeated with. */
  seeds: number[];
  /**
   * Seeds of the notebooks whose findings compare MSEs between configurations (02, 03): the
   * paired verdict (`lib/stats.ts`) needs more units than a "holds in every seed" check.
   * [choice] 8 in full: a paired t interval at n = 8 resolves differences of about one
   * standard deviation of the per-seed differences (d_z ≈ 0.8 at 80 % power).
   */
  comparisonSeeds: number[];
  validationFrames: number;
  /**
   * The per-seed MSE statistic of a comparison: the mean validation MSE of the last
   * `lastEpochs` epochs, which smooths the epoch-to-epoch jitter of the final value. [choice]
   */
  lastEpochs: number;
  /**
   * The convergence slope is fitted over the last `slopeFraction` of a run's epochs (at least
   * two): the last half [choice], long enough to average out the ±20 % epoch-to-epoch jitter.
   */
  slopeFraction: number;
  /**
   * A configuration's MSE is "flat" when the mean over seeds of the fitted slope of ln(MSE) is
   * within ±`flatSlope` per 1000 training steps, i.e. it changes by less than about that
   * fraction per 1000 steps. [choice] 0.1: measured (2 seeds, STE + CL and mSTE), the slope is
   * ≈ −0.3 at 2500 steps and −0.04 to −0.09 at 10 000 steps.
   */
  flatSlope: number;
  /**
   * Epochs of the "long" group that checks paper A's MSE claim near convergence. [choice] 40
   * (10 000 steps, 4× the full budget): where the measured slope had fallen inside ±flatSlope.
   */
  longEpochs: number;
  /** Sizes of notebook 07's real-speech runs (`lib/experiments/speech.ts`). [choice] */
  speech: SpeechProfile;
}

/** Run sizes of the real-speech notebook (07); its codec and data are in `experiments/speech.ts`. */
export interface SpeechProfile {
  epochs: number;
  stepsPerEpoch: number;
  seeds: number[];
  /** Validation segments (an equal share per held-out speaker) and their length in samples. */
  validationSegments: number;
  validationSamples: number;
  /** Utterances in the listening table. */
  listen: number;
}

/** Profile sizes. [choice] Quick keeps every notebook to seconds; full is what reports show. */
export const PROFILES: Record<ProfileName, Profile> = {
  quick: {
    name: "quick",
    epochs: 3,
    stepsPerEpoch: 100,
    seeds: [0, 1],
    comparisonSeeds: [0, 1, 2],
    validationFrames: 2048,
    lastEpochs: 2,
    slopeFraction: 0.5,
    flatSlope: 0.1,
    longEpochs: 6,
    speech: {
      epochs: 2,
      stepsPerEpoch: 50,
      seeds: [0],
      validationSegments: 12,
      validationSamples: 8192,
      listen: 4,
    },
  },
  full: {
    name: "full",
    epochs: 10,
    stepsPerEpoch: 250,
    seeds: [0, 1, 2, 3],
    comparisonSeeds: [0, 1, 2, 3, 4, 5, 6, 7],
    validationFrames: 4096,
    lastEpochs: 3,
    slopeFraction: 0.5,
    flatSlope: 0.1,
    longEpochs: 40,
    speech: {
      epochs: 6,
      stepsPerEpoch: 100,
      seeds: [0, 1],
      validationSegments: 24,
      validationSamples: 8192,
      listen: 5,
    },
  },
};

/** The profile with its comparison seeds as `seeds` (for notebooks that compare MSEs). */
export function forComparison(profile: Profile): Profile {
  return { ...profile, seeds: profile.comparisonSeeds };
}

/** The profile named by `QUANTLAB_PROFILE` (default: full), checked. */
export function currentProfile(): Profile {
  const name = Deno.env.get("QUANTLAB_PROFILE") ?? "full";
  if (!(name in PROFILES)) {
    throw new Error(
      `QUANTLAB_PROFILE = ${JSON.stringify(name)} is invalid: expected "quick" or "full"`,
    );
  }
  return PROFILES[name as ProfileName];
}

/** A config input with the profile's epochs, steps and validation size applied. */
export function withProfile(profile: Profile, input: ConfigInput): ConfigInput {
  return {
    ...input,
    data: { ...input.data, validationFrames: profile.validationFrames },
    train: { epochs: profile.epochs, stepsPerEpoch: profile.stepsPerEpoch, ...input.train },
  };
}

/** One config per seed of the profile. */
export function overSeeds(profile: Profile, input: ConfigInput): ConfigInput[] {
  return profile.seeds.map((seed) =>
    withProfile(profile, { ...input, train: { ...input.train, seed } })
  );
}

/**
 * Run configs through the grid runner: results come from the cache when the config is
 * unchanged (`QUANTLAB_RECOMPUTE=1` recomputes), missing ones are computed over one worker
 * process per core. Progress is one bar that updates in place in the notebook (lib/progress.ts)
 * and ends as a one-line summary. Throws if any run failed (a diverged run is a result, not a
 * failure). Jupyter's interrupt stops the grid (workers killed, finished runs kept in the store)
 * and rejects with an `Interrupted` error saying how far it got (lib/interrupt.ts). `job` names
 * another grid job than training (the battery's, for a researcher's own passer).
 */
export async function runConfigs(
  label: string,
  inputs: ConfigInput[],
  options: { job?: string } = {},
): Promise<RunResult[]> {
  const recompute = Deno.env.get("QUANTLAB_RECOMPUTE") === "1";
  const bar = progressView(label);
  let last: GridProgress | undefined;
  const report = await interruptible(
    (signal) =>
      runGrid(inputs, {
        job: options.job,
        recompute,
        log: () => {},
        signal,
        onProgress: (p) => {
          last = p;
          bar.update(p.done, p.total, progressDetail(p));
        },
      }),
    () => {
      const done = last ? `${last.done}/${last.total}` : `0/${inputs.length}`;
      bar.finish(`interrupted after ${done} runs`);
      return `${label}: interrupted after ${done} runs; stored results kept; ` +
        "re-run the cell to resume";
    },
  );
  const summary = `${report.total} runs: ${report.cached} from cache, ${report.computed} ` +
    `computed in ${(report.wallMs / 1000).toFixed(1)} s`;
  if (report.failures.length > 0) {
    await bar.finish(`${summary}, ${report.failures.length} FAILED`);
    const lines = report.failures.map((f) => `  #${f.index} (${f.key.slice(0, 12)}): ${f.error}`);
    throw new Error(`${label}: ${report.failures.length} run(s) failed:\n${lines.join("\n")}`);
  }
  await bar.finish(summary);
  return report.results as RunResult[];
}

/** The detail shown next to the bar: counts, times, and the epochs of the runs in flight. */
export function progressDetail(p: GridProgress): string {
  const parts = [
    `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ""}`,
    `${formatDuration(p.elapsedMs)} elapsed, eta ${formatDuration(p.etaMs)}`,
  ];
  const running = p.running;
  if (running.length > 0) {
    parts.push(
      "running " +
        running.map((r) => `${r.label || `#${r.index}`} epoch ${r.epoch}/${r.epochs}`).join("; "),
    );
  }
  return parts.join(" · ");
}

/** Which config fields are the paper's and which are ours (method.md). */
const LABELS: Record<string, string> = {
  "data.kind": "paper A: Gaussian source, rotated target, bits known by construction",
  "codec.kind": "paper A: 3 frame-wise FC layers per side, skip, PReLU",
  "quantizer.kind": "paper A: VQ",
  "passer.kind": "paper A: STE, mSTE, noise approximation, soft-to-hard",
  "passer.sigma": "choice: σ_E per tensor or per channel",
  "train.commitment": "paper A names commitment loss; β = 0.25 from DAC",
  "quantizer.learning": "paper A: codebook loss (EMA is our alternative)",
};

/** FNV-1a of a string as 8 hex digits: tells runs apart in report metadata, not a cache key. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * The defaults a config's fields are compared with: those of its data, codec and quantizer kinds
 * (a speech run against the speech defaults, not the proxy's); the proxy's when the kinds cannot
 * be resolved alone (a researcher's module).
 */
function defaultsOfKinds(c: RunConfig): Map<string, unknown> {
  try {
    return new Map(flattenFields(resolveConfig({
      data: { kind: c.data.kind },
      codec: { kind: c.codec.kind },
      quantizer: { kind: c.quantizer.kind },
    })));
  } catch {
    return new Map(flattenFields(DEFAULTS));
  }
}

/**
 * The settings of an experiment's runs as a table: every config field, its value (or the values
 * it takes across the runs), and whether it is the paper's or our choice, folded behind a
 * one-line summary; with the backend and versions the runs were computed on and each run's
 * stored compute time (the report header and index show them). `labels` overrides the
 * proxy's [paper]/[choice] labels per field (e.g. for another data kind or codec).
 */
export function settingsTable(runs: RunResult[], labels: Record<string, string> = {}): Display {
  const configs = runs.map((r) => r.config);
  const infos = runs.map(({ versions: v, wallMs, config }) => ({
    backend: `${v.backend}${v.patched ? " with quantlab kernels" : ""}${
      v.gemm ? ` (${v.gemm} GEMM)` : ""
    }`,
    tfjs: v.tfjs,
    deno: v.deno,
    computeMs: wallMs,
    run: fingerprint(JSON.stringify(config)),
  }));
  const flat = configs.map((c) => new Map(flattenFields(c)));
  const defaults = defaultsOfKinds(configs[0]);
  const rows = [...flat[0].keys()].map((field) => {
    const values = [...new Set(flat.map((f) => JSON.stringify(f.get(field))))];
    return {
      field,
      value: values.length === 1 ? values[0] : `varies: ${values.join(", ")}`,
      default: defaults.has(field) ? JSON.stringify(defaults.get(field)) : "—",
      source: labels[field] ?? LABELS[field] ?? "choice",
    };
  });
  return group(
    runInfo(infos),
    folded(
      `Settings of this notebook's runs: ${rows.length} fields, each [paper] or [choice]`,
      table(rows),
    ),
  );
}

/** Curves of one metric over epochs for a group of runs, as a band over seeds. */
export function bandOf(
  label: string,
  runs: RunResult[],
  metric: (r: EpochRecord) => number | undefined,
): LineSeries {
  return seedBand(
    label,
    runs.map((r) => ({
      x: r.history.map((h) => h.epoch),
      y: r.history.map((h) => metric(h) ?? NaN),
    })),
  );
}

/**
 * One marker per epoch at which runs of the group diverged, with how many and at which steps
 * (several seeds diverging in one epoch share one label instead of overprinting it).
 */
export function divergenceMarkers(label: string, runs: RunResult[]): MarkerSpec[] {
  const byEpoch = new Map<number, number[]>();
  for (const r of runs) {
    if (r.diverged) {
      byEpoch.set(r.diverged.epoch, [...(byEpoch.get(r.diverged.epoch) ?? []), r.diverged.step]);
    }
  }
  return [...byEpoch].map(([x, steps]) => {
    const lo = Math.min(...steps);
    const hi = Math.max(...steps);
    const where = lo === hi ? `step ${lo}` : `steps ${lo}–${hi}`;
    const n = steps.length > 1 ? `${steps.length}/${runs.length} ` : "";
    return { x, label: `${label}: ${n}diverged (${where})` };
  });
}

/** Mean of finite values (NaN when there are none). */
export function mean(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

/** Final validation MSE of a run; Infinity when it diverged before finishing an epoch. */
export function finalMse(r: RunResult): number {
  return r.diverged ? Infinity : r.final?.valMse ?? Infinity;
}

/**
 * Growth of MA-E over a run: last over first recorded epoch. A run that diverged counts as
 * unbounded growth (Infinity).
 */
export function maeGrowth(r: RunResult): number {
  if (r.diverged || r.history.length === 0) return Infinity;
  return r.history.at(-1)!.maE / r.history[0].maE;
}

/**
 * Bounded: the run did not diverge and MA-E never rose above `factor` × its first-epoch value.
 * [choice: factor 10, one order of magnitude]
 */
export function isBounded(r: RunResult, factor = 10): boolean {
  if (r.diverged || r.history.length === 0) return false;
  const first = r.history[0].maE;
  return r.history.every((h) => h.maE <= factor * first);
}

/** Verdict for "this holds in every seed": all → reproduced, some → partially, none → not. */
export function verdictOf(
  passes: boolean[],
): "reproduced" | "partially reproduced" | "not reproduced" {
  const n = passes.filter(Boolean).length;
  return n === passes.length ? "reproduced" : n > 0 ? "partially reproduced" : "not reproduced";
}

/** Round for findings: 4 significant digits. */
export function sig(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : null;
}

/** A named configuration repeated over the profile's seeds. */
export interface Group {
  label: string;
  input: ConfigInput;
}

/** A group with its runs (one per seed, in seed order). */
export interface GroupRuns extends Group {
  runs: RunResult[];
}

/** An experiment made of groups, each run over the profile's seeds. */
export interface GroupExperiment {
  profile: Profile;
  groups: GroupRuns[];
}

/** Run every group over every seed, in one grid (so the pool stays busy), cached. */
export async function runGroups(
  label: string,
  profile: Profile,
  groups: Group[],
): Promise<GroupRuns[]> {
  const inputs = groups.flatMap((g) => overSeeds(profile, g.input));
  const results = await runConfigs(label, inputs);
  const n = profile.seeds.length;
  return groups.map((g, i) => ({ ...g, runs: results.slice(i * n, (i + 1) * n) }));
}

/** Every run of some groups (for {@linkcode settingsTable}). */
export function runsOf(groups: GroupRuns[]): RunResult[] {
  return groups.flatMap((g) => g.runs);
}

/** Per group: final MSE and MA-E (mean over seeds), growth, divergence count. */
export function summaryTable(groups: GroupRuns[]): Display {
  return table(
    groups.map((g) => ({
      run: g.label,
      seeds: g.runs.length,
      "final val MSE (mean)": sig(mean(g.runs.map(finalMse))),
      "final val MSE dB (mean)": sig(
        mean(g.runs.map((r) => (r.diverged ? NaN : r.final?.valMseDb ?? NaN))),
      ),
      "final MA-E (max over seeds)": sig(Math.max(...g.runs.map((r) => r.final?.maE ?? NaN))),
      "MA-E growth last/first (max)": sig(Math.max(...g.runs.map(maeGrowth))),
      "code entropy bits (mean)": sig(mean(g.runs.map((r) => r.final?.codeEntropy ?? NaN))),
      "symbol accuracy (mean)": sig(mean(g.runs.map((r) => r.final?.symbolAccuracy ?? NaN))),
      diverged: `${g.runs.filter((r) => r.diverged).length}/${g.runs.length}`,
    })),
    {
      caption:
        "Per configuration, over seeds (a diverged run's MSE counts as ∞ and is left out of means)",
    },
  );
}

/** Findings as verdict boxes; each is also recorded (MIME output) for reports/findings.json. */
export function showFindings(findings: FindingInput[]): Display {
  return group(...findings.map(finding));
}

/** The two per-epoch metrics the notebooks chart. */
export const EPOCH_METRICS = {
  mse: {
    title: "Validation MSE (hard quantizer)",
    axis: "validation MSE",
    of: (h: EpochRecord) => h.valMse,
  },
  maE: {
    title: "MA-E: max |encoder output| over the validation set",
    axis: "MA-E",
    of: (h: EpochRecord) => h.maE,
  },
} as const;

/**
 * One metric against epoch on a log axis (linear with `log: false`), one band over seeds per
 * group, with the epoch where any run diverged marked. `colorLabels`: the labels of the full
 * chart when this is a panel of some of its groups, so each group keeps its colour.
 */
export function epochChart(
  groups: GroupRuns[],
  metric: keyof typeof EPOCH_METRICS,
  options: { title?: string; rules?: RuleSpec[]; log?: boolean; colorLabels?: string[] } = {},
): Display {
  const m = EPOCH_METRICS[metric];
  return chart(lineChart({
    title: options.title ?? m.title,
    series: groups.map((g) => bandOf(g.label, g.runs, m.of)),
    markers: groups.flatMap((g) => divergenceMarkers(g.label, g.runs)),
    rules: options.rules,
    x: { label: "epoch", integer: true },
    y: { label: m.axis, log: options.log ?? true },
    colorLabels: options.colorLabels,
  }));
}

/**
 * The per-seed MSE statistic of comparisons: mean validation MSE over the last `k` epochs
 * ({@linkcode Profile.lastEpochs}); Infinity for a run that diverged (its MSE is unbounded).
 */
export function smoothedMse(r: RunResult, k: number): number {
  if (r.diverged || r.history.length === 0) return Infinity;
  return mean(r.history.slice(-k).map((h) => h.valMse));
}

/** How {@linkcode smoothedMse} is described in findings. */
export function mseStatistic(profile: Profile): string {
  return `validation MSE (hard quantizer), mean of the last ${profile.lastEpochs} epochs`;
}

/** Runs of two groups paired by seed (only seeds both have), in seed order. */
export function pairBySeed(a: GroupRuns, b: GroupRuns): [RunResult, RunResult][] {
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
  const pairs = pairBySeed(treatment, baseline);
  return comparePaired(
    pairs.map(([t]) => smoothedMse(t, profile.lastEpochs)),
    pairs.map(([, b]) => smoothedMse(b, profile.lastEpochs)),
    { claim, statistic: mseStatistic(profile), unit: "seed" },
  );
}

/**
 * Slope of ln(validation MSE) against training steps over the last `fraction` of a run's
 * epochs (at least two), per 1000 steps: −0.05 means the MSE still falls by about 5 % every
 * 1000 steps. NaN for a diverged run or fewer than two epochs.
 */
export function mseSlope(r: RunResult, fraction: number): number {
  if (r.diverged) return NaN;
  const k = Math.max(2, Math.ceil(r.history.length * fraction));
  const last = r.history.slice(-k).filter((h) => h.valMse > 0);
  return 1000 * slope(last.map((h) => h.step), last.map((h) => Math.log(h.valMse)));
}

/** Convergence at the end of a group's runs: mean slope over seeds and its label. */
export interface Convergence {
  label: string;
  /** Mean over non-diverged seeds of {@linkcode mseSlope}. */
  slope: number;
  /** Its 95 % t interval over seeds (NaNs with fewer than two seeds). */
  ci: [number, number];
  /** [choice] "still falling" below −flatSlope, "rising" above +flatSlope, else "flat". */
  state: "still falling" | "flat" | "rising" | "diverged";
  steps: number;
}

/** {@linkcode Convergence} of a group under the profile's window and threshold. */
export function convergenceOf(g: GroupRuns, profile: Profile): Convergence {
  const slopes = g.runs.map((r) => mseSlope(r, profile.slopeFraction)).filter(Number.isFinite);
  const steps = Math.max(...g.runs.map((r) => r.history.at(-1)?.step ?? 0));
  const m = mean(slopes);
  const ci: [number, number] = slopes.length >= 2 ? pairedT(slopes).ci : [NaN, NaN];
  const state = slopes.length === 0
    ? "diverged"
    : m < -profile.flatSlope
    ? "still falling"
    : m > profile.flatSlope
    ? "rising"
    : "flat";
  return { label: g.label, slope: m, ci, state, steps };
}

/** Per group: the MSE slope over the last epochs and whether it is still falling. */
export function convergenceTable(groups: GroupRuns[], profile: Profile): Display {
  return table(
    groups.map((g) => {
      const c = convergenceOf(g, profile);
      return {
        run: g.label,
        "training steps": c.steps,
        "slope of ln MSE per 1000 steps (mean over seeds)": sig(c.slope),
        "95 % interval": Number.isFinite(c.ci[0]) ? `[${sig(c.ci[0])}, ${sig(c.ci[1])}]` : "—",
        state: c.state,
      };
    }),
    {
      caption:
        `Convergence: least-squares slope of ln(validation MSE) against steps over the last ` +
        `${
          profile.slopeFraction * 100
        } % of each run's epochs, mean over seeds; "flat" when within ` +
        `±${profile.flatSlope} per 1000 steps [choice]`,
    },
  );
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
