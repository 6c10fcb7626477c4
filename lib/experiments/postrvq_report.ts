/**
 * What notebooks 08 and 09 show alike: the settings table with its [paper]/[choice] labels,
 * paired comparisons of two systems per validation segment, rate charts' series, the timing
 * table, the profile note and the findings boxes. The computation is `postrvq_pipeline.ts`.
 *
 * @module
 */
import { flattenFields } from "../arrays.ts";
import { type Display, finding, folded, group, markdown, table } from "../display.ts";
import type { LineSeries } from "../plot.ts";
import { bitsPerSecond, LADDER } from "../quantizers/offline/mod.ts";
import type { FindingInput } from "../report/findings.ts";
import { comparePaired, type PairedStats, pairedT } from "../stats.ts";
import {
  COMPARISON_RUNG,
  continuousConfig,
  endToEndConfig,
  mean,
  POSTRVQ_FAMILY,
  type SystemResult,
} from "./postrvq_pipeline.ts";
import type { PostRvqProfile } from "./profiles.ts";

/**
 * Every field of the continuous model's run config, and the end-to-end baseline's quantizer and
 * loss weights, as settings rows ([choice] unless named below).
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
export function postRvqSettings(p: PostRvqProfile, frameRate: number): Display {
  const rows: { field: string; value: string; source: string }[] = [
    ...Object.entries(p).map(([k, v]) => ({
      field: `profile.${k}`,
      value: JSON.stringify(v),
      source: "choice",
    })),
    ...configRows(p),
    { field: "continuous model", value: "conv codec, quantizer.kind = none", source: "paper B" },
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
      value: "decoder only, encoder + quantizer frozen, same loss and Adam",
      source: "paper B",
    },
    {
      field: "end-to-end baseline",
      value: "RVQ 5 × 8 bits, codebook loss 1, commitment 0.25, dropout 0.5, k-means init, STE",
      source: "paper B / DAC; k-means init choice",
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
      value: "SI-SDR, DAC multi-scale mel L1 per segment; paired by segment",
      source: "paper B (demo metrics)",
    },
  ];
  return folded(
    `Settings of notebooks 08–09: ${rows.length} fields, each [paper] or [choice]`,
    table(rows),
  );
}

/** Paired comparison of one metric between two systems, per validation segment. */
export function compareSystems(
  treatment: SystemResult,
  baseline: SystemResult,
  metric: "melL1" | "siSdr",
  claim: "lower" | "higher",
): PairedStats {
  return comparePaired(treatment[metric], baseline[metric], {
    claim,
    statistic: metric === "melL1" ? "multi-scale mel L1 per segment" : "SI-SDR per segment (dB)",
    unit: "utterance",
  });
}

/** A number for a finding's detail: 4 significant digits, "—" when absent. */
export function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : Number(v.toPrecision(4)).toString();
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
        "Compute time of each part (stored with its artefact; measured on a shared 2-core machine)",
    },
  );
}

/** A metric's mean over validation segments with its 95 % t interval (the band of a rate chart). */
function meanBand(values: number[]): { y: number; lo: number; hi: number } {
  const y = mean(values);
  if (values.length < 2) return { y, lo: NaN, hi: NaN };
  const [lo, hi] = pairedT(values).ci;
  return { y, lo, hi };
}

/** One series of a rate chart: mean mel L1 or SI-SDR per system, with its interval. */
export function rateSeries(
  label: string,
  systems: SystemResult[],
  metric: "melL1" | "siSdr",
): LineSeries {
  const bands = systems.map((r) => meanBand(r[metric]));
  return {
    label,
    x: systems.map((r) => r.bps),
    y: bands.map((b) => b.y),
    lo: bands.map((b) => b.lo),
    hi: bands.map((b) => b.hi),
  };
}

/** The metrics a rate chart can show, with their axis labels. */
export const RATE_METRICS = {
  melL1: "multi-scale mel L1 (lower is better)",
  siSdr: "SI-SDR (dB, higher is better)",
} as const;

/** Findings of both notebooks as boxes. */
export function showPostRvqFindings(findings: FindingInput[]): Display {
  return group(...findings.map(finding));
}

/** A one-line note on the quick profile. */
export function profileNote(p: PostRvqProfile): Display {
  return markdown(
    p.name === "quick"
      ? "**Quick profile**: the models are barely trained; numbers show that the pipeline runs, not paper B's effects."
      : `Full profile: ${p.steps} training steps per model, ${p.finetuneSteps} finetuning steps, ${p.validationSegments} validation segments.`,
  );
}
