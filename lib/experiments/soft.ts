/**
 * Notebook 04: soft-to-hard annealing (method §4).
 *
 * [paper A] names soft-to-hard annealing among the gradient passers it studies.
 * [choice] q = Σ_k softmax(−‖z − c_k‖²/τ)_k c_k with τ annealed exponentially from
 * passer.tauStart to passer.tauEnd over the run; validation uses the hard quantizer.
 *
 * @module
 */
import { resolveConfig } from "../config.ts";
import { chart, type Display } from "../display.ts";
import { temperature } from "../passers.ts";
import { lineChart } from "../plot.ts";
import type { FindingInput } from "../report/findings.ts";
import { GROUPS as STE_GROUPS } from "./ste.ts";
import {
  bandOf,
  convergenceTable,
  currentProfile,
  epochChart,
  finalMse,
  type Group,
  type GroupExperiment,
  mean,
  type Profile,
  runGroups,
  sig,
  verdictOf,
} from "./common.ts";

export const SOFT: Group = { label: "soft-to-hard", input: { passer: { kind: "soft-to-hard" } } };

/** The groups of this notebook with their runs. */
export type SoftExperiment = GroupExperiment;

export async function run(profile: Profile = currentProfile()): Promise<SoftExperiment> {
  return { profile, groups: await runGroups("04 soft-to-hard", profile, [SOFT, ...STE_GROUPS]) };
}

/** The temperature schedule τ(step) of the soft-to-hard runs. */
export function scheduleChart(x: SoftExperiment): Display {
  const config = resolveConfig(x.groups[0].runs[0].config);
  const total = config.train.epochs * config.train.stepsPerEpoch;
  const steps = Array.from({ length: 101 }, (_, i) => Math.round((i / 100) * (total - 1)));
  return chart(lineChart({
    title:
      `Temperature schedule: τ from ${config.passer.tauStart} to ${config.passer.tauEnd}, exponential [choice]`,
    series: [{ label: "τ", x: steps, y: steps.map((s) => temperature(config.passer, s, total)) }],
    x: { label: "training step" },
    y: { label: "τ (log)", log: true },
  }));
}

/** MSE slope over the last epochs per configuration (is any still falling?). */
export function convergence(x: SoftExperiment): Display {
  return convergenceTable(x.groups, x.profile);
}

/** Soft and hard validation MSE of the soft-to-hard runs against epoch. */
export function softHardChart(x: SoftExperiment): Display {
  const soft = x.groups[0];
  return chart(lineChart({
    title:
      "Soft-to-hard: validation MSE with the soft assignment (training view) and the hard quantizer",
    series: [
      bandOf("soft quantizer at current τ", soft.runs, (h) => h.softValMse),
      bandOf("hard quantizer", soft.runs, (h) => h.valMse),
    ],
    x: { label: "epoch", integer: true },
    y: { label: "validation MSE", log: true },
  }));
}

/** Hard validation MSE of soft-to-hard against the STE family. */
export function comparisonChart(x: SoftExperiment): Display {
  return epochChart(x.groups, "mse", {
    title: "Hard validation MSE: soft-to-hard against STE, STE + CL and mSTE",
  });
}

/** |soft − hard| / hard validation MSE at the last epoch, per seed. */
export function finalGap(x: SoftExperiment): number[] {
  return x.groups[0].runs.map((r) => {
    const h = r.final;
    return h && h.softValMse !== undefined
      ? Math.abs(h.softValMse - h.valMse) / h.valMse
      : Infinity;
  });
}

export function findings(x: SoftExperiment): FindingInput[] {
  const soft = x.groups[0];
  const gaps = finalGap(x);
  const firstGaps = soft.runs.map((r) => {
    const h = r.history[0];
    return h && h.softValMse !== undefined ? Math.abs(h.softValMse - h.valMse) / h.valMse : NaN;
  });
  const converges = gaps.map((g, i) => g < 0.1 && g < firstGaps[i]);
  const ranking = x.groups
    .map((g) => ({ label: g.label, mse: mean(g.runs.map(finalMse)) }))
    .sort((a, b) => a.mse - b.mse)
    .map((g) => `${g.label} ${sig(g.mse)}`)
    .join(" < ");
  return [{
    id: "A-s2h-anneals-to-hard",
    paper: "A",
    claim:
      "Soft-to-hard annealing trains through the quantizer: as τ anneals, the soft (training) and hard (deployed) quantizers agree.",
    metric:
      "per seed: relative gap |soft − hard| / hard validation MSE at the last epoch < 0.1 and smaller than at epoch 1 [choice of threshold]",
    measured: {
      "gap at epoch 1 (per seed)": firstGaps.map((g) => sig(g)).join(", "),
      "gap at last epoch (per seed)": gaps.map((g) => sig(g)).join(", "),
      "hard MSE ranking (mean over seeds)": ranking,
    },
    verdict: verdictOf(converges),
  }];
}
