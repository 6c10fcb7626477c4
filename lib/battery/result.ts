/**
 * What a battery run produces: the candidate judged, its cells and comparisons, and the labels
 * and thresholds the card and its verdicts share. `mod.ts` runs the battery, `card.ts` turns a
 * result into verdicts and the report card.
 *
 * @module
 */
import { type GroupRuns, type Profile } from "../experiments/common.ts";
import { PASSERS } from "../experiments/sweep.ts";
import type { FindingInput } from "../report/findings.ts";
import type { PairedStats } from "../stats.ts";
import type { SpeechCheck } from "./speech.ts";

/** What is judged. */
export interface BatteryCandidate {
  name: string;
  doc: string;
  /** Built-in passer kind, or the module reference `file:///…#export`. */
  ref: string;
  builtin: boolean;
  /** A gradient passer or a quantizer. */
  kind: "passer" | "quantizer";
  sha256?: string;
}

/** One passer at one budget, over seeds. */
export interface BatteryCell extends GroupRuns {
  /** The row: the passer's label (a quantizer battery: "quantizer · passer"). */
  passer: string;
  bits: number;
  candidate: boolean;
}

/** A paired comparison at the focus budget. */
export interface BatteryComparison {
  baseline: string;
  stats: PairedStats;
}

/** Everything the report card shows. */
export interface BatteryResult {
  candidate: BatteryCandidate;
  profile: Profile;
  budgets: number[];
  focusBits: number;
  /** Sweep cells (sweep seeds), baselines first, the candidate last per budget. */
  cells: BatteryCell[];
  /** Focus-budget groups over the profile's comparison seeds: baselines then the candidate. */
  focus: GroupRuns[];
  /** Oracle floor per budget, per sweep seed (each seed's own source). */
  floors: Map<number, number[]>;
  comparisons: BatteryComparison[];
  /** A quantizer battery: the passers it ran with (labels of {@linkcode BASELINES}). */
  passers?: string[];
  /** With `speech: true`: notebook 07's check, candidate and baselines in the DAC set-up. */
  speech?: SpeechCheck;
  findings: FindingInput[];
}

/** The built-in passers the battery compares against: the sweep's rows. */
export const BASELINES = PASSERS;

/**
 * The passers a quantizer candidate is run with, each next to the built-in VQ with the same
 * passer. [choice: STE + CL, what a codec researcher uses with a VQ (DAC, β = 0.25), and mSTE,
 * paper A's passer that needs no commitment loss]
 */
export const QUANTIZER_PASSERS = ["STE + CL", "mSTE"];

/** Label of the built-in VQ in a quantizer battery. */
export const VQ_LABEL = "VQ";

/**
 * Code usage a quantizer must reach at every budget and passer: validation code entropy at least
 * this share of min(B_q, log2 validation frames) (the most the validation set can show).
 * [choice: half]
 */
export const USAGE_SHARE = 0.5;

/** Label of the candidate in charts and tables. */
export function candidateLabel(c: BatteryCandidate): string {
  return `${c.name} (candidate)`;
}

/** A short, stable id fragment for findings and file names. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "candidate";
}
