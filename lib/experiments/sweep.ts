/**
 * Notebook 05: bit-budget sweep — every gradient passer at every quantizer bit budget.
 *
 * [paper A] STE without commitment loss is unstable and mSTE is stable; this checks whether
 * that holds across bit budgets. [choice] B_q ∈ {4, 6, 8, 10}, VQ, default proxy otherwise;
 * the full profile uses its first two seeds to bound the cost.
 *
 * @module
 */
import type { ConfigInput } from "../config.ts";
import { chart, type Display, table } from "../display.ts";
import { heatMap } from "../charts.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  currentProfile,
  finalMse,
  type GroupRuns,
  isBounded,
  mean,
  type Profile,
  runGroups,
  sig,
  verdictOf,
} from "./common.ts";

export const BUDGETS = [4, 6, 8, 10];

/** Rows of the sweep: the gradient passers (and STE with CL). */
export const PASSERS: { label: string; input: ConfigInput }[] = [
  { label: "STE", input: { passer: { kind: "ste" } } },
  { label: "STE + CL", input: { passer: { kind: "ste" }, train: { commitment: 0.25 } } },
  { label: "mSTE", input: { passer: { kind: "mste" } } },
  { label: "NA detached", input: { passer: { kind: "na-detached" } } },
  { label: "NA attached", input: { passer: { kind: "na-attached" } } },
  { label: "soft-to-hard", input: { passer: { kind: "soft-to-hard" } } },
];

export interface SweepCell extends GroupRuns {
  passer: string;
  bits: number;
}

export interface SweepExperiment {
  profile: Profile;
  cells: SweepCell[];
}

/** The sweep's share of a profile: its first two seeds, to bound the cost. [choice] */
export function sweepProfile(profile: Profile): Profile {
  return { ...profile, seeds: profile.seeds.slice(0, 2) };
}

export async function run(profile: Profile = currentProfile()): Promise<SweepExperiment> {
  const seeds = sweepProfile(profile);
  const specs = PASSERS.flatMap((p) =>
    BUDGETS.map((bits) => ({ passer: p.label, bits, input: p.input }))
  );
  const groups = await runGroups(
    "05 bit-budget sweep",
    seeds,
    specs.map((s) => ({
      label: `${s.passer} @ ${s.bits}`,
      input: { ...s.input, quantizer: { kind: "vq", bits: s.bits } },
    })),
  );
  return {
    profile,
    cells: groups.map((g, i) => ({ ...g, passer: specs[i].passer, bits: specs[i].bits })),
  };
}

/** Final validation MSE in dB per passer × B_q; a cell where any seed diverged says so. */
export function heatChart(x: SweepExperiment): Display {
  return chart(heatMap({
    title: "Final validation MSE (dB re target power, mean over seeds) per gradient passer × B_q",
    cells: x.cells.map((c) => {
      const diverged = c.runs.filter((r) => r.diverged).length;
      const db = mean(c.runs.map((r) => (r.diverged ? NaN : r.final?.valMseDb ?? NaN)));
      return {
        x: c.bits,
        y: c.passer,
        value: diverged > 0 ? null : db,
        text: diverged > 0 ? `diverged ${diverged}/${c.runs.length}` : undefined,
      };
    }),
    x: { label: "quantizer bits B_q" },
    y: { label: "gradient passer" },
    color: { label: "MSE (dB)", scheme: "viridis", reverse: true },
    format: (v) => v.toFixed(1),
  }));
}

/** Stability per passer × B_q: bounded seeds out of all. */
export function stabilityChart(x: Pick<SweepExperiment, "cells">): Display {
  return chart(heatMap({
    title: "Share of seeds with bounded MA-E (no divergence, MA-E within 10× of epoch 1)",
    cells: x.cells.map((c) => ({
      x: c.bits,
      y: c.passer,
      value: c.runs.filter((r) => isBounded(r)).length / c.runs.length,
    })),
    x: { label: "quantizer bits B_q" },
    y: { label: "gradient passer" },
    color: { label: "bounded share", thresholds: [0.25, 0.5, 0.75, 0.99], scheme: "rdylbu" },
    format: (v) => v.toFixed(2),
  }));
}

export function resultTable(x: SweepExperiment): Display {
  return table(
    x.cells.map((c) => ({
      passer: c.passer,
      "B_q": c.bits,
      "val MSE (mean)": sig(mean(c.runs.map(finalMse))),
      "final MA-E (max)": sig(Math.max(...c.runs.map((r) => r.final?.maE ?? NaN))),
      bounded: `${c.runs.filter((r) => isBounded(r)).length}/${c.runs.length}`,
      diverged: `${c.runs.filter((r) => r.diverged).length}/${c.runs.length}`,
    })),
    { caption: "Every cell of the sweep" },
  );
}

export function findings(x: SweepExperiment): FindingInput[] {
  const row = (label: string) => x.cells.filter((c) => c.passer === label);
  const perBudget = (label: string, test: (c: SweepCell) => boolean) =>
    row(label).map((c) => `${c.bits}: ${test(c) ? "yes" : "no"}`).join(", ");
  const steUnbounded = (c: SweepCell) => c.runs.every((r) => !isBounded(r));
  const msteBounded = (c: SweepCell) => c.runs.every((r) => isBounded(r));
  return [
    {
      id: "A-sweep-ste-unstable",
      paper: "A",
      claim:
        "STE without commitment loss is unstable (unbounded encoder output), whatever the bit budget.",
      metric: "per B_q: every seed unbounded (diverged or MA-E grew over 10×)",
      measured: { "unbounded at B_q": perBudget("STE", steUnbounded) },
      verdict: verdictOf(row("STE").map(steUnbounded)),
    },
    {
      id: "A-sweep-mste-stable",
      paper: "A",
      claim: "mSTE without commitment loss is stable, whatever the bit budget.",
      metric: "per B_q: every seed bounded (no divergence, MA-E within 10× of epoch 1)",
      measured: { "bounded at B_q": perBudget("mSTE", msteBounded) },
      verdict: verdictOf(row("mSTE").map(msteBounded)),
    },
  ];
}
