/**
 * A battery result as verdicts (computed from the runs) and as the report card a notebook cell
 * or the battery page shows.
 *
 * @module
 */
import { chart, type Display, group, markdown, table } from "../display.ts";
import {
  epochChart,
  finalMse,
  isBounded,
  mean,
  runsOf,
  settingsTable,
  showFindings,
  sig,
  verdictOf,
} from "../experiments/common.ts";
import { stabilityChart } from "../experiments/sweep.ts";
import { lineChart } from "../plot.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  type BatteryCell,
  type BatteryResult,
  candidateLabel,
  slug,
  USAGE_SHARE,
  VQ_LABEL,
} from "./result.ts";
import { speechFinding, speechReport } from "./speech.ts";

/** The card's verdicts, computed from the runs. */
export function batteryFindings(x: BatteryResult): FindingInput[] {
  const findings = x.candidate.kind === "quantizer" ? quantizerFindings(x) : passerFindings(x);
  if (x.speech) {
    findings.push(speechFinding(`battery-${slug(x.candidate.name)}`, x.candidate, x.speech));
  }
  return findings;
}

/** Comparisons as findings: the candidate's validation MSE lower than each baseline's. */
function comparisonFindings(x: BatteryResult, id: string): FindingInput[] {
  return x.comparisons.map((c) => {
    const mine = x.candidate.kind === "quantizer"
      ? `${x.candidate.name} · ${c.baseline.replace(`${VQ_LABEL} · `, "")}`
      : x.candidate.name;
    return {
      id: `${id}-mse-vs-${slug(c.baseline)}`,
      paper: "battery",
      claim: `${mine} reaches lower validation MSE than ${c.baseline} at B_q = ${x.focusBits}.`,
      metric: `paired over ${c.stats.n} seeds: ${c.stats.statistic}`,
      measured: {
        [`${mine} (mean)`]: sig(c.stats.treatmentMean ?? Infinity),
        [`${c.baseline} (mean)`]: sig(c.stats.baselineMean ?? Infinity),
        "difference (mean)": c.stats.mean === null ? null : sig(c.stats.mean),
        "interval": c.stats.ci.every((v) => v !== null)
          ? `[${sig(c.stats.ci[0]!)}, ${sig(c.stats.ci[1]!)}]`
          : c.stats.method,
        "lower in": `${c.stats.favourable}/${c.stats.n} seeds`,
      },
      verdict: c.stats.outcome,
      stats: c.stats,
    };
  });
}

/** A quantizer's verdicts: stable with each passer, MSE against VQ, code usage. */
function quantizerFindings(x: BatteryResult): FindingInput[] {
  const id = `battery-${slug(x.candidate.name)}`;
  const mine = x.cells.filter((c) => c.candidate);
  const out: FindingInput[] = (x.passers ?? []).map((p) => {
    const cells = mine.filter((c) => c.passer.endsWith(` · ${p}`));
    return {
      id: `${id}-stable-${slug(p)}`,
      paper: "battery",
      claim: `${x.candidate.name} trains stably with ${p} at every bit budget.`,
      metric: "per B_q: every seed bounded (no divergence, MA-E within 10× of epoch 1)",
      measured: Object.fromEntries(
        cells.map((c) => [
          `B_q = ${c.bits}`,
          `${c.runs.filter((r) => isBounded(r)).length}/${c.runs.length} bounded`,
        ]),
      ),
      verdict: verdictOf(cells.map((c) => c.runs.every((r) => isBounded(r)))),
    };
  });
  out.push(...comparisonFindings(x, id));
  const frames = x.cells[0]?.runs[0]?.config.data.kind === "simulated"
    ? x.cells[0].runs[0].config.data.validationFrames
    : Infinity;
  const entropy = (c: BatteryCell) => mean(c.runs.map((r) => r.final?.codeEntropy ?? NaN));
  const usage = mine.map((c) => entropy(c) / Math.min(c.bits, Math.log2(frames)));
  const vq = x.cells.filter((c) => !c.candidate);
  out.push({
    id: `${id}-code-usage`,
    paper: "battery",
    claim:
      `${x.candidate.name} uses its bits: validation code entropy at least ${USAGE_SHARE} of ` +
      "min(B_q, log2 validation frames) at every budget, with every passer.",
    metric: `per passer and B_q: mean code entropy over seeds, in bits (VQ's with the same passer)`,
    measured: Object.fromEntries(
      mine.map((c, i) => [
        c.label.replace(`${candidateLabel(x.candidate)} · `, ""),
        `${sig(entropy(c))} of ${c.bits} bits (${sig(usage[i])}); VQ ${sig(entropy(vq[i]))}`,
      ]),
    ),
    verdict: verdictOf(usage.map((u) => u >= USAGE_SHARE)),
  });
  return out;
}

/** A passer's verdicts: stable without CL at every budget, MSE against every baseline. */
function passerFindings(x: BatteryResult): FindingInput[] {
  const id = `battery-${slug(x.candidate.name)}`;
  const mine = x.cells.filter((c) => c.candidate);
  const stable = mine.map((c) => c.runs.every((r) => isBounded(r)));
  const findings: FindingInput[] = [{
    id: `${id}-stable-without-cl`,
    paper: "battery",
    claim: `${x.candidate.name} trains stably without commitment loss at every bit budget.`,
    metric: "per B_q: every seed bounded (no divergence, MA-E within 10× of epoch 1)",
    measured: Object.fromEntries(
      mine.map((
        c,
        i,
      ) => [
        `B_q = ${c.bits}`,
        `${c.runs.filter((r) => isBounded(r)).length}/${c.runs.length} bounded${
          stable[i] ? "" : ""
        }`,
      ]),
    ),
    verdict: verdictOf(stable),
  }];
  findings.push(...comparisonFindings(x, id));
  return findings;
}

/** The report card: what was judged, settings, MA-E curves, MSE against the floor, stability, code usage, verdicts. */
export function batteryReport(x: BatteryResult): Display {
  const c = x.candidate;
  const label = candidateLabel(c);
  const passers = [...new Set(x.cells.map((cell) => cell.passer))];
  const floorMean = (bits: number) => mean(x.floors.get(bits) ?? []);
  return group(
    markdown(
      [
        `## Battery: ${c.name}`,
        c.doc ? `> ${c.doc}` : "",
        `- candidate: \`${c.builtin ? c.ref : c.ref.replace(/^file:\/\//, "")}\`${
          c.sha256 ? ` (SHA-256 ${c.sha256.slice(0, 12)}…)` : ""
        }`,
        `- profile: ${x.profile.name} (${x.profile.epochs} epochs × ${x.profile.stepsPerEpoch} steps)`,
        `- budgets B_q: ${x.budgets.join(", ")} over ${
          x.cells[0]?.runs.length ?? 0
        } seeds; focus B_q = ${x.focusBits} over ${x.profile.comparisonSeeds.length} seeds [choice]`,
        c.kind === "quantizer"
          ? `- a quantizer, run with ${
            (x.passers ?? []).join(", ")
          } [choice]; baselines: the built-in ${VQ_LABEL} with the same passers (from the result cache when notebooks 02–05 ran)`
          : `- baselines: ${
            passers.filter((p) => p !== label).join(", ")
          } (from the result cache when the paper-A notebooks ran)`,
        x.speech ? "- with the real-speech check of notebook 07 (below)" : "",
      ].filter(Boolean).join("\n"),
    ),
    settingsTable([
      ...(c.kind === "quantizer" ? x.focus.slice(x.focus.length / 2) : x.focus.slice(-1))
        .flatMap((g) => g.runs),
      ...runsOf(x.cells.filter((cell) => cell.candidate)),
    ]),
    epochChart(x.focus, "maE", {
      title: `MA-E at B_q = ${x.focusBits}: the candidate against every baseline`,
    }),
    epochChart(x.focus, "mse", { title: `Validation MSE at B_q = ${x.focusBits}` }),
    chart(lineChart({
      title:
        "Final validation MSE against B_q (mean over seeds; diverged runs left out), with the oracle floor",
      series: [
        ...passers.map((p) => {
          const cells = x.cells.filter((cell) => cell.passer === p);
          return {
            label: p,
            x: cells.map((cell) => cell.bits),
            y: cells.map((cell) => mean(cell.runs.map((r) => (r.diverged ? NaN : finalMse(r))))),
          };
        }),
        { label: "oracle floor", x: x.budgets, y: x.budgets.map(floorMean) },
      ],
      x: { label: "quantizer bits B_q" },
      y: { label: "validation MSE (log)", log: true },
    })),
    stabilityChart(x),
    table(
      x.cells.map((cell) => ({
        passer: cell.passer,
        "B_q": cell.bits,
        "val MSE (mean)": sig(mean(cell.runs.map(finalMse))),
        "oracle floor (mean)": sig(floorMean(cell.bits)),
        "MSE / floor": floorMean(cell.bits) > 0
          ? sig(mean(cell.runs.map(finalMse)) / floorMean(cell.bits))
          : "floor 0",
        "code entropy bits (mean)": sig(mean(cell.runs.map((r) => r.final?.codeEntropy ?? NaN))),
        "final MA-E (max)": sig(Math.max(...cell.runs.map((r) => r.final?.maE ?? NaN))),
        diverged: `${cell.runs.filter((r) => r.diverged).length}/${cell.runs.length}`,
      })),
      {
        caption:
          "Every passer at every budget: MSE, oracle floor (each seed's own source), code usage, stability",
      },
    ),
    ...(x.speech ? [speechReport(x.speech)] : []),
    showFindings(x.findings),
  );
}
