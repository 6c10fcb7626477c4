/**
 * Summaries of a notebook's runs: the settings table that says which fields are the paper's and
 * which are our choices, per-group summary and convergence tables, per-epoch charts with bands
 * over seeds, and the per-run statistics they are made of.
 *
 * @module
 */
import { flattenFields } from "../arrays.ts";
import { DEFAULTS, resolveConfig, type RunConfig } from "../config.ts";
import { chart, type Display, folded, group, runInfo, table } from "../display.ts";
import { lineChart, type LineSeries, type MarkerSpec, type RuleSpec, seedBand } from "../plot.ts";
import type { EpochRecord, RunResult } from "../result.ts";
import { pairedT, slope } from "../stats.ts";
import type { Profile } from "./profiles.ts";
import type { GroupRuns } from "./running.ts";

/** Which config fields are the paper's and which are ours (method.md). */
const LABELS: Record<string, string> = {
  "data.kind": "paper A: Gaussian source, rotated target, bits known by construction",
  "codec.kind": "paper A: 3 frame-wise FC layers per side, skip, PReLU",
  "quantizer.kind": "paper A: VQ",
  "passer.kind": "paper A: STE, mSTE, noise approximation, soft-to-hard",
  "passer.sigma": "choice: σ_E per tensor or per channel",
  "passer.variance":
    "DiVeQ's σ² of the direction noise (choice: lucidrains' 5e-3; the authors' code: std 1e-3)",
  "passer.sync": "Huh et al. 2023's synchronized update v (choice: 0.2, vqtorch's example)",
  "quantizer.reparam": "affine: Huh et al. 2023; linear: SimVQ (absent: none)",
  "quantizer.reparamLrScale":
    "choice: learning-rate scale of the reparameterisation (10: vqtorch's affine_lr)",
  "quantizer.deadCodeEvery":
    "DiVeQ's codebook replacement interval in steps (the authors' code: 100; absent: none)",
  "quantizer.deadCodeThreshold":
    "DiVeQ's replacement threshold, uses per step (the authors' code: 0.01)",
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
  // Every field any run has (a kind's own fields, optional ones), in first-seen order.
  const fields = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  const rows = fields.map((field) => {
    const values = [
      ...new Set(flat.map((f) => f.has(field) ? JSON.stringify(f.get(field)) : "absent")),
    ];
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
    return {
      x,
      label: `${label}: ${n}diverged (${where})`,
      meaning: "the epoch in which runs diverged (max |e| above the threshold); " +
        "their later epochs are not drawn",
    };
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

/** Round for findings: 4 significant digits. */
export function sig(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : null;
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
