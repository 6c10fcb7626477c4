/**
 * What every paper-A notebook shares: the profile (quick or full), running a list of configs
 * through the cached grid runner with progress, the table of settings that says which are the
 * paper's and which are our choices, and summaries of runs over seeds.
 *
 * @module
 */
import { type ConfigInput, DEFAULTS } from "../config.ts";
import { chart, type Display, finding, group, runInfo, table } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import { formatDuration, type GridProgress, runGrid } from "../grid/mod.ts";
import { interruptible } from "../interrupt.ts";
import { progressView } from "../progress.ts";
import { lineChart, type LineSeries, type MarkerSpec, type RuleSpec, seedBand } from "../plot.ts";
import type { EpochRecord, RunResult } from "../result.ts";

/** Quick (CI, a first look) or full (the committed reports). */
export type ProfileName = "quick" | "full";

export interface Profile {
  name: ProfileName;
  epochs: number;
  stepsPerEpoch: number;
  /** Seeds every configuration is repeated with. */
  seeds: number[];
  validationFrames: number;
}

/** Profile sizes. [choice] Quick keeps every notebook to seconds; full is what reports show. */
export const PROFILES: Record<ProfileName, Profile> = {
  quick: { name: "quick", epochs: 3, stepsPerEpoch: 100, seeds: [0, 1], validationFrames: 2048 },
  full: {
    name: "full",
    epochs: 10,
    stepsPerEpoch: 250,
    seeds: [0, 1, 2, 3],
    validationFrames: 4096,
  },
};

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
 * and rejects with an `Interrupted` error saying how far it got (lib/interrupt.ts).
 */
export async function runConfigs(label: string, inputs: ConfigInput[]): Promise<RunResult[]> {
  const recompute = Deno.env.get("QUANTLAB_RECOMPUTE") === "1";
  const bar = progressView(label);
  let last: GridProgress | undefined;
  const report = await interruptible(
    (signal) =>
      runGrid(inputs, {
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

function flatten(value: unknown, prefix = ""): [string, unknown][] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

/**
 * The settings of an experiment's runs as a table: every config field, its value (or the values
 * it takes across the runs), and whether it is the paper's or our choice; with the backend and
 * versions the runs were computed on (the report header shows them).
 */
export function settingsTable(runs: RunResult[]): Display {
  const configs = runs.map((r) => r.config);
  const infos = runs.map(({ versions: v }) => ({
    backend: `${v.backend}${v.patched ? " with quantlab kernels" : ""}${
      v.gemm ? ` (${v.gemm} GEMM)` : ""
    }`,
    tfjs: v.tfjs,
    deno: v.deno,
  }));
  const flat = configs.map((c) => new Map(flatten(c)));
  const defaults = new Map(flatten(DEFAULTS));
  const rows = [...flat[0].keys()].map((field) => {
    const values = [...new Set(flat.map((f) => JSON.stringify(f.get(field))))];
    return {
      field,
      value: values.length === 1 ? values[0] : `varies: ${values.join(", ")}`,
      default: JSON.stringify(defaults.get(field) ?? "(quantizer-specific)"),
      source: LABELS[field] ?? "choice",
    };
  });
  return group(
    runInfo(infos),
    table(rows, { caption: "Settings of this notebook's runs: [paper] or [choice]" }),
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

/** A marker at the epoch where each diverged run stopped. */
export function divergenceMarkers(label: string, runs: RunResult[]): MarkerSpec[] {
  return runs.filter((r) => r.diverged).map((r) => ({
    x: r.diverged!.epoch,
    label: `${label} diverged (step ${r.diverged!.step})`,
  }));
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
    axis: "MA-E (log)",
    of: (h: EpochRecord) => h.maE,
  },
} as const;

/**
 * One metric against epoch on a log axis, one band over seeds per group, with the epoch where
 * any run diverged marked.
 */
export function epochChart(
  groups: GroupRuns[],
  metric: keyof typeof EPOCH_METRICS,
  options: { title?: string; rules?: RuleSpec[] } = {},
): Display {
  const m = EPOCH_METRICS[metric];
  return chart(lineChart({
    title: options.title ?? m.title,
    series: groups.map((g) => bandOf(g.label, g.runs, m.of)),
    markers: groups.flatMap((g) => divergenceMarkers(g.label, g.runs)),
    rules: options.rules,
    x: { label: "epoch" },
    y: { label: m.axis, log: true },
  }));
}
