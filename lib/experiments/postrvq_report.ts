/**
 * What notebooks 08 and 09 show alike: the settings table with its [paper]/[choice] labels,
 * paired comparisons of two systems per held-out segment, the systems table (SI-SDR, mel L1, F0
 * agreement, level, bit rate), rate charts with the anchors as lines, the listening table, the
 * timing table, and the verdict rules. The computation is `postrvq_pipeline.ts`.
 *
 * @module
 */
import { ANCHOR_PCA_SEGMENTS } from "../audio/anchors.ts";
import { flattenFields } from "../arrays.ts";
import { chart, type Display, finding, folded, group, markdown, table } from "../display.ts";
import { lineChart, type LineSeries, type MarkerSpec, type RuleSpec } from "../plot.ts";
import { bitsPerSecond, LADDER } from "../quantizers/offline/mod.ts";
import type { FindingInput, Verdict } from "../report/findings.ts";
import { listeningTable } from "../report/listening.ts";
import { comparePaired, type PairedStats, pairedT } from "../stats.ts";
import {
  COMPARISON_RUNG,
  continuousConfig,
  endToEndConfig,
  FINETUNE_LEARNING_RATE,
  MIN_ACTIVE,
  POSTRVQ_FAMILY,
} from "./postrvq_config.ts";
import { listeningOriginals, type PipelineContext, type SystemResult } from "./postrvq_context.ts";
import { mean } from "./postrvq_pipeline.ts";
import type { PostRvqProfile } from "./profiles.ts";
import { BASE_PCA_FRAME } from "./base_model.ts";

/** The per-segment metrics a comparison or chart can use. */
export type Metric = "melL1" | "siSdr" | "f0Agreement";

/** Axis labels and what a pair's value is, per metric. */
export const METRICS: Record<Metric, { axis: string; statistic: string }> = {
  melL1: {
    axis: "multi-scale mel L1 (lower is better)",
    statistic: "multi-scale mel L1 per segment",
  },
  siSdr: { axis: "SI-SDR (dB, higher is better)", statistic: "SI-SDR per segment (dB)" },
  f0Agreement: {
    axis: "F0 agreement (higher is better)",
    statistic: "F0 agreement per segment (share of the original's voiced frames within 5 %)",
  },
};

/**
 * Every field of the base model's run config as used here, and the end-to-end baseline's
 * quantizer and loss weights, as settings rows ([choice] unless named below).
 */
function configRows(p: PostRvqProfile): { field: string; value: string; source: string }[] {
  const cont = continuousConfig(p), e2e = endToEndConfig(p);
  const paper: Record<string, string> = {
    "continuous.quantizer.kind": "paper B",
    "end-to-end.quantizer.dropout": "DAC",
    "end-to-end.train.commitment": "DAC",
  };
  return [
    ...flattenFields(cont, "continuous"),
    ...flattenFields(e2e.quantizer, "end-to-end.quantizer"),
    ["end-to-end.train.commitment", e2e.train.commitment],
    ["end-to-end.train.codebookWeight", e2e.train.codebookWeight],
    ["end-to-end.passer.kind", e2e.passer.kind],
  ].map(([field, value]) => ({
    field: field as string,
    value: JSON.stringify(value),
    source: paper[field as string] ?? "choice",
  }));
}

/** Settings of notebooks 08 and 09 with their [paper]/[choice] labels. */
export function postRvqSettings(ctx: PipelineContext): Display {
  const p = ctx.profile, frameRate = ctx.frameRate;
  const rows: { field: string; value: string; source: string }[] = [
    ...Object.entries(p).map(([k, v]) => ({
      field: `profile.${k}`,
      value: JSON.stringify(v),
      source: "choice",
    })),
    { field: "seed", value: String(ctx.seed), source: "choice" },
    ...configRows(p),
    {
      field: "continuous model",
      value: `the committed base model (data/base/continuous.qlartf, ${
        ctx.base.origin === "checkpoint"
          ? `SHA-256 ${ctx.baseId.slice(0, 12)}…`
          : "retrained by --recompute"
      }; ${((ctx.base.trainMs) / 60000).toFixed(0)} min of training)`,
      source: "paper B (trained continuous first); recipe choice",
    },
    {
      field: "end-to-end baseline start",
      value:
        "the base model's weights with RVQ inserted (k-means init), trained for the finetuning budget",
      source: "choice (paper B trains from scratch; the base recipe takes 51 min of one core)",
    },
    {
      field: "finetuning / end-to-end learning rate",
      value:
        `${FINETUNE_LEARNING_RATE.start} → ${FINETUNE_LEARNING_RATE.end}, ${p.finetuneSteps} steps`,
      source: "choice",
    },
    {
      field: "held-out set",
      value: `${ctx.source.validation.count} windows of ${
        (ctx.source.validation.length / ctx.sampleRate).toFixed(2)
      } s, ≥ ${MIN_ACTIVE * 100} % active 20 ms frames, speakers ${
        [...new Set(ctx.source.validationSources.map((s) => s.speaker))].join(", ")
      }`,
      source: "choice",
    },
    {
      field: "PostRVQ family",
      value: POSTRVQ_FAMILY,
      source: "paper B (standardization step; formula choice)",
    },
    {
      field: "ladder (bits/frame → bit/s)",
      value: LADDER.map((r) =>
        `${r.bitsPerFrame} → ${bitsPerSecond(r, frameRate)} (B: ${r.paperKbps} kbps)`
      ).join("; "),
      source: "choice (scaled from paper B)",
    },
    { field: "frame rate", value: `${frameRate} frames/s`, source: "choice (conv codec defaults)" },
    {
      field: "comparison rung",
      value: `${COMPARISON_RUNG.bitsPerFrame} bits/frame`,
      source: "paper B (16 kbps role)",
    },
    {
      field: "finetuning",
      value: "decoder only, encoder + quantizer frozen, the base recipe's loss, Adam",
      source: "paper B",
    },
    {
      field: "anchors",
      value:
        "Codec2 3200/2400/1600/700C, Opus 6000 narrowband, PCA of 128-sample frames (32 coefficients) continuous and with a 5-bit gain + bounded scalar quantization at the ladder's rates, " +
        `PCA of ${BASE_PCA_FRAME}-sample frames (${
          BASE_PCA_FRAME / 4
        } coefficients, the base model's linear path before training) continuous, ` +
        `fitted on ${ANCHOR_PCA_SEGMENTS} training segments`,
      source: "choice (lib/audio/anchors.ts)",
    },
    {
      field: "k-means",
      value: "own: k-means++, GEMM assignment, tolerance 1e-4",
      source: "choice",
    },
    {
      field: "FSQ/RFSQ/LFQ projection",
      value: "PCA per stage, clip ±κ(L)σ (Max 1960)",
      source: "choice",
    },
    {
      field: "metrics",
      value:
        "SI-SDR, DAC multi-scale mel L1, F0 agreement (YIN, within 5 %), level, per segment; paired by segment",
      source: "paper B (SI-SDR, mel L1); F0 and level choice",
    },
  ];
  return folded(
    `Settings of notebooks 08–09: ${rows.length} fields, each [paper] or [choice]`,
    table(rows),
  );
}

/** Pairs of finite values (a segment with no voiced frame has no F0 agreement). */
function finitePairs(a: number[], b: number[]): [number[], number[]] {
  const x: number[] = [], y: number[] = [];
  a.forEach((v, i) => {
    if (Number.isFinite(v) && Number.isFinite(b[i])) {
      x.push(v);
      y.push(b[i]);
    }
  });
  return [x, y];
}

/** Paired comparison of one metric between two systems, per held-out segment. */
export function compareSystems(
  treatment: SystemResult,
  baseline: SystemResult,
  metric: Metric,
  claim: "lower" | "higher",
): PairedStats {
  const [t, b] = finitePairs(treatment.scores[metric], baseline.scores[metric]);
  return comparePaired(t, b, { claim, statistic: METRICS[metric].statistic, unit: "utterance" });
}

/** A number for a finding's detail: 4 significant digits, "—" when absent. */
export function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : Number(v.toPrecision(4)).toString();
}

/** "mean [lo, hi]" of a paired comparison. */
export function interval(s: PairedStats): string {
  return `${fmt(s.mean)} [${fmt(s.ci[0])}, ${fmt(s.ci[1])}]`;
}

/**
 * One verdict over several paired comparisons of the same claim (e.g. one per rate) [choice]:
 * reproduced when every one is, not reproduced when none is and at least one goes significantly
 * the other way, partially reproduced when some are and some are not, else inconclusive.
 */
export function combinedVerdict(outcomes: Verdict[]): Verdict {
  if (outcomes.length === 0) return "inconclusive";
  const yes = outcomes.filter((o) => o === "reproduced").length;
  const no = outcomes.filter((o) => o === "not reproduced").length;
  if (yes === outcomes.length) return "reproduced";
  if (yes > 0) return "partially reproduced";
  if (no > 0) return "not reproduced";
  return "inconclusive";
}

/** One row of a systems table. */
export function systemRow(r: SystemResult): Record<string, string | number> {
  return {
    system: r.label,
    role: r.role,
    "bit/s": r.bps || "continuous",
    "SI-SDR (dB)": mean(r.scores.siSdr),
    "mel L1": mean(r.scores.melL1),
    "F0 agreement": mean(r.scores.f0Agreement),
    "level (dB)": mean(r.scores.levelDb),
  };
}

/** The systems table: means over the held-out segments, ours and the anchors. */
export function systemsTable(systems: SystemResult[], caption: string): Display {
  return table(systems.map(systemRow), { caption });
}

/** A metric's mean over segments with its 95 % t interval (the band of a rate chart). */
function meanBand(values: number[]): { y: number; lo: number; hi: number } {
  const v = values.filter(Number.isFinite);
  const y = mean(v);
  if (v.length < 2) return { y, lo: NaN, hi: NaN };
  const [lo, hi] = pairedT(v).ci;
  return { y, lo, hi };
}

/** One series of a rate chart: a metric's mean per system, with or without its interval. */
export function rateSeries(
  label: string,
  systems: SystemResult[],
  metric: Metric,
  band = true,
): LineSeries {
  const sorted = [...systems].sort((a, b) => a.bps - b.bps);
  const bands = sorted.map((r) => meanBand(r.scores[metric]));
  return {
    label,
    x: sorted.map((r) => r.bps),
    y: bands.map((b) => b.y),
    ...(band ? { lo: bands.map((b) => b.lo), hi: bands.map((b) => b.hi) } : {}),
  };
}

/**
 * A rate chart: `series` of ours, the anchors Codec2 and PCA + scalar as lines, Opus and
 * `markers` (systems at one rate) as labelled points, the continuous systems as horizontal rules.
 */
export function rateChart(
  title: string,
  metric: Metric,
  series: LineSeries[],
  anchors: SystemResult[],
  markers: SystemResult[],
  continuous: SystemResult[],
): Display {
  const line = (prefix: string) => anchors.filter((a) => a.label.startsWith(prefix) && a.bps > 0);
  const point = (r: SystemResult): MarkerSpec => ({
    x: r.bps,
    y: mean(r.scores[metric]),
    label: r.label,
  });
  const rules: RuleSpec[] = continuous.map((r) => ({
    y: mean(r.scores[metric]),
    label: r.label,
  }));
  return chart(lineChart({
    title,
    series: [
      ...series,
      rateSeries("Codec2 (anchor)", line("Codec2"), metric, false),
      rateSeries("PCA + scalar (anchor)", line("PCA + scalar"), metric, false),
    ],
    markers: [...markers, ...anchors.filter((a) => a.label.startsWith("Opus"))].map(point),
    rules,
    x: { label: "bit/s" },
    y: { label: METRICS[metric].axis },
  }));
}

/** The listening table of a page: the original, then `systems` (ours and anchors). */
export function listening(ctx: PipelineContext, systems: SystemResult[], caption: string): Display {
  const originals = listeningOriginals(ctx);
  return listeningTable({
    systems: [
      { name: "original", role: "reference", clips: originals.clips },
      ...systems.map((s) => ({
        name: s.label,
        role: s.role,
        clips: s.clips,
        bitsPerSecond: s.bps,
      })),
    ],
    utterances: originals.utterances,
    sampleRate: ctx.sampleRate,
    caption,
  });
}

/** Measured times of a notebook's parts. */
export function timingTable(timings: Record<string, { ms: number; cached: boolean }>): Display {
  return table(
    Object.entries(timings).map(([part, t]) => ({
      part,
      "seconds (when computed)": t.ms / 1000,
      "read from cache": t.cached,
    })),
    {
      caption:
        "Compute time of each part (training time as stored with its run; measured on a shared 2-core machine)",
    },
  );
}

/** Findings of both notebooks as boxes. */
export function showPostRvqFindings(findings: FindingInput[]): Display {
  return group(...findings.map(finding));
}

/** A one-line note on the profile. */
export function profileNote(p: PostRvqProfile): Display {
  return markdown(
    p.name === "quick"
      ? `**Quick profile**: ${p.finetuneSteps} finetuning steps, ${p.validationSegments} held-out windows, small k-means; numbers show that the pipeline runs, not paper B's effects.`
      : `Full profile: ${p.finetuneSteps} finetuning and end-to-end steps, ${p.validationSegments} held-out windows of ${
        (p.validationSamples / 8000).toFixed(2)
      } s, k-means on ${p.fitFrames} latent frames.`,
  );
}
