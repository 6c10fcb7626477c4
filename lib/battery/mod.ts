/**
 * The battery: a gradient passer judged against every baseline on the proxy, with a report card.
 *
 * `battery("path/to/mine.ts#myPasser")` (or a built-in passer kind such as `"rotation"`) runs
 * the candidate at every bit budget of the sweep (notebook 05) and compares it with STE,
 * STE + CL, mSTE, NA detached/attached and soft-to-hard, whose runs come from the result cache
 * when the paper-A notebooks have run (the configs are theirs, so the keys match). Only the
 * candidate's runs are computed, over the worker pool, resumable like any grid.
 *
 * What is compared [choice, shown on the card]:
 * - at every budget B_q of the sweep, over the sweep's seeds: final MSE against the oracle floor
 *   of each seed's own source, stability (bounded MA-E, no divergence), code usage;
 * - at the focus budget (default B_q = B, the source's bits), over the profile's comparison
 *   seeds (those of notebooks 02–03): MA-E curves, and a paired comparison of validation MSE
 *   (mean of the last epochs, `compareMse`) with every baseline under the rule of `lib/stats.ts`.
 *
 * A quantizer module (an export with `build(bits, dim, rng, weights)`, see `lib/custom/candidate.ts`) is run
 * at every budget with {@linkcode QUANTIZER_PASSERS} next to the built-in VQ with the same
 * passers (the sweep's and notebooks 02–04's cached runs), with verdicts: stable with each
 * passer at every budget, paired MSE against VQ at the focus budget, code usage against B_q.
 *
 * `speech: true` adds notebook 07's short real-speech check for a passer (`speech.ts`).
 *
 * Every verdict is computed from the runs.
 *
 * @example
 * ```ts ignore
 * import { battery, batteryReport } from "./lib/battery/mod.ts";
 * const card = await battery("rotation");
 * batteryReport(card); // the report card as notebook output
 * ```
 *
 * @module
 */
import { type ConfigInput, resolveConfig, sourceBits } from "../config.ts";
import { oracleFloor, SimulatedSource } from "../sources/mod.ts";
import { chart, type Display, group, markdown, table } from "../display.ts";
import {
  BUDGETS as SWEEP_BUDGETS,
  PASSERS,
  stabilityChart,
  sweepProfile,
} from "../experiments/sweep.ts";
import {
  compareMse,
  currentProfile,
  epochChart,
  finalMse,
  forComparison,
  type GroupRuns,
  isBounded,
  mean,
  overSeeds,
  type Profile,
  runConfigs,
  runsOf,
  settingsTable,
  showFindings,
  sig,
  verdictOf,
} from "../experiments/common.ts";
import { BUILTIN_PASSER_KINDS, type PasserKind } from "../config.ts";
import { lineChart } from "../plot.ts";
import type { FindingInput } from "../report/findings.ts";
import type { PairedStats } from "../stats.ts";
import {
  type Candidate,
  CandidateError,
  loadCandidate,
  type QuantizerCandidate,
} from "../custom/candidate.ts";
import { type SpeechCheck, speechCheck, speechFinding, speechReport } from "./speech.ts";
import { BATTERY_JOB } from "./job.ts";
import { preflight } from "./preflight.ts";

/** Options of {@linkcode battery}. */
export interface BatteryOptions {
  /** Profile (default: `QUANTLAB_PROFILE`, else full). */
  profile?: Profile;
  /** Bit budgets B_q. Default: the sweep's. */
  budgets?: number[];
  /** The budget of the MA-E curves and paired MSE comparisons. Default: the source's B. [choice] */
  focusBits?: number;
  /** Directory relative module references resolve against. Default: `Deno.cwd()`. */
  cwd?: string;
  /**
   * A quantizer candidate runs with these passers (labels of {@linkcode BASELINES}), next to the
   * built-in VQ with the same ones. Default {@linkcode QUANTIZER_PASSERS}.
   */
  passers?: string[];
  /** Add notebook 07's short real-speech check (a passer candidate only; `lib/battery/speech.ts`). */
  speech?: boolean;
}

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
function candidateLabel(c: BatteryCandidate): string {
  return `${c.name} (candidate)`;
}

/** Resolve what `target` names: a built-in passer kind or a module reference. */
async function candidateOf(
  target: string,
  cwd: string,
): Promise<{ info: BatteryCandidate; input: ConfigInput; job?: string; loaded?: Candidate }> {
  if ((BUILTIN_PASSER_KINDS as readonly string[]).includes(target)) {
    const kind = target as PasserKind;
    return {
      info: {
        name: kind,
        doc: `built-in passer "${kind}" (lib/passers.ts)`,
        ref: kind,
        builtin: true,
        kind: "passer",
      },
      input: { passer: { kind } },
    };
  }
  const loaded = await loadCandidate(target, cwd);
  return {
    info: {
      name: loaded.name,
      doc: loaded.doc,
      ref: loaded.module,
      builtin: false,
      kind: loaded.kind,
      sha256: loaded.sha256,
    },
    input: loaded.kind === "passer"
      ? { passer: { kind: "custom", module: loaded.module, moduleSha256: loaded.sha256 } }
      : {},
    job: BATTERY_JOB,
    loaded,
  };
}

/**
 * Run the battery for `target` (`"path.ts#export"` or a built-in passer kind) and return its
 * results and computed verdicts. A module that cannot be loaded, has the wrong shape, throws or
 * returns non-finite values fails here, before any run, with a message naming it.
 */
export async function battery(
  target: string,
  options: BatteryOptions = {},
): Promise<BatteryResult> {
  const profile = options.profile ?? currentProfile();
  const budgets = options.budgets ?? SWEEP_BUDGETS;
  const focusBits = options.focusBits ?? sourceBits(resolveConfig().data);
  const { info, input, job, loaded } = await candidateOf(target, options.cwd ?? Deno.cwd());
  if (loaded?.kind === "quantizer") {
    if (options.speech) {
      throw new CandidateError(
        loaded.module,
        "--speech checks a passer; the speech check of a quantizer is not built yet",
      );
    }
    return await quantizerBattery(loaded, info, profile, budgets, focusBits, options);
  }
  if (loaded) await preflight(loaded);

  const sweep = sweepProfile(profile);
  const compared = forComparison(profile);
  const specs = [
    ...BASELINES.map((b) => ({ passer: b.label, input: b.input, candidate: false })),
    { passer: candidateLabel(info), input, candidate: true },
  ];
  const atBudget = (s: typeof specs[number], bits: number) => ({
    ...s.input,
    quantizer: { kind: "vq" as const, bits },
  });
  // Baselines: the sweep's configs (cached by notebook 05) and, at the focus budget, the
  // paper-A notebooks' (02–04) over all seeds. The candidate: the same with its passer.
  const baseInputs = [
    ...specs.filter((s) => !s.candidate).flatMap((s) =>
      budgets.map((bits) => overSeeds(sweep, atBudget(s, bits)))
    ),
    ...specs.filter((s) => !s.candidate).map((s) => overSeeds(compared, s.input)),
  ];
  const candInputs = [
    ...budgets.map((bits) => overSeeds(sweep, atBudget(specs.at(-1)!, bits))),
    overSeeds(compared, focusInput(input, focusBits)),
  ];
  const baseRuns = await runConfigs("battery baselines", baseInputs.flat());
  const candRuns = await runConfigs(`battery ${info.name}`, candInputs.flat(), { job });

  const perSweep = sweep.seeds.length, perFull = compared.seeds.length;
  const baselines = specs.filter((s) => !s.candidate);
  const cells: BatteryCell[] = [];
  for (const [bi, bits] of budgets.entries()) {
    baselines.forEach((s, si) => {
      const at = (si * budgets.length + bi) * perSweep;
      cells.push({
        label: `${s.passer} @ ${bits}`,
        input: atBudget(s, bits),
        passer: s.passer,
        bits,
        candidate: false,
        runs: baseRuns.slice(at, at + perSweep),
      });
    });
    cells.push({
      label: `${candidateLabel(info)} @ ${bits}`,
      input: atBudget(specs.at(-1)!, bits),
      passer: candidateLabel(info),
      bits,
      candidate: true,
      runs: candRuns.slice(bi * perSweep, (bi + 1) * perSweep),
    });
  }
  const sweepCount = baselines.length * budgets.length * perSweep;
  const focus: GroupRuns[] = [
    ...baselines.map((s, si) => ({
      label: s.passer,
      input: s.input,
      runs: baseRuns.slice(sweepCount + si * perFull, sweepCount + (si + 1) * perFull),
    })),
    { label: candidateLabel(info), input, runs: candRuns.slice(budgets.length * perSweep) },
  ];
  const floors = floorsOf(budgets, sweep.seeds);
  const cand = focus.at(-1)!;
  const comparisons = focus.slice(0, -1).map((b) => ({
    baseline: b.label,
    stats: compareMse(cand, b, "lower", profile),
  }));
  const result: BatteryResult = {
    candidate: info,
    profile,
    budgets,
    focusBits,
    cells,
    focus,
    floors,
    comparisons,
    findings: [],
  };
  if (options.speech) result.speech = await speechCheck(info, input, profile);
  result.findings = batteryFindings(result);
  return result;
}

/** The input of a candidate quantizer at `bits`. */
function customQuantizer(c: QuantizerCandidate, bits: number): ConfigInput {
  return { quantizer: { kind: "custom", bits, module: c.module, moduleSha256: c.sha256 } };
}

/**
 * The quantizer battery: the candidate with each of `options.passers` at every budget (sweep
 * seeds) and at the focus budget (comparison seeds), next to the built-in VQ with the same
 * passers, whose runs are the sweep's and paper A's (cached).
 */
async function quantizerBattery(
  c: QuantizerCandidate,
  info: BatteryCandidate,
  profile: Profile,
  budgets: number[],
  focusBits: number,
  options: BatteryOptions,
): Promise<BatteryResult> {
  const labels = options.passers ?? QUANTIZER_PASSERS;
  const passers = labels.map((l) => {
    const b = BASELINES.find((b) => b.label === l);
    if (!b) {
      throw new Error(
        `battery: passer "${l}" is not a baseline (${BASELINES.map((b) => b.label).join(", ")})`,
      );
    }
    return b;
  });
  await preflight(c, { bits: [focusBits, ...budgets.filter((b) => b !== focusBits)] });
  const sweep = sweepProfile(profile);
  const compared = forComparison(profile);
  const vqAt = (p: typeof passers[number], bits: number): ConfigInput => ({
    ...p.input,
    quantizer: { kind: "vq", bits },
  });
  const mineAt = (p: typeof passers[number], bits: number): ConfigInput => ({
    ...p.input,
    ...customQuantizer(c, bits),
  });
  const baseInputs = [
    ...passers.flatMap((p) => budgets.map((bits) => overSeeds(sweep, vqAt(p, bits)))),
    ...passers.map((p) => overSeeds(compared, focusInput(p.input, focusBits))),
  ];
  const candInputs = [
    ...passers.flatMap((p) => budgets.map((bits) => overSeeds(sweep, mineAt(p, bits)))),
    ...passers.map((p) => overSeeds(compared, mineAt(p, focusBits))),
  ];
  const baseRuns = await runConfigs("battery baselines", baseInputs.flat());
  const candRuns = await runConfigs(`battery ${info.name}`, candInputs.flat(), {
    job: BATTERY_JOB,
  });
  const perSweep = sweep.seeds.length, perFull = compared.seeds.length;
  const row = (quantizer: string, p: typeof passers[number]) => `${quantizer} · ${p.label}`;
  const mine = candidateLabel(info);
  const cells: BatteryCell[] = [];
  for (const [bi, bits] of budgets.entries()) {
    for (const [pi, p] of passers.entries()) {
      const at = (pi * budgets.length + bi) * perSweep;
      for (
        const [candidate, runs, input] of [
          [false, baseRuns, vqAt(p, bits)],
          [true, candRuns, mineAt(p, bits)],
        ] as const
      ) {
        const passer = row(candidate ? mine : VQ_LABEL, p);
        cells.push({
          label: `${passer} @ ${bits}`,
          input,
          passer,
          bits,
          candidate,
          runs: runs.slice(at, at + perSweep),
        });
      }
    }
  }
  const sweepCount = passers.length * budgets.length * perSweep;
  const focusOf = (runs: typeof baseRuns, pi: number) =>
    runs.slice(sweepCount + pi * perFull, sweepCount + (pi + 1) * perFull);
  const focus: GroupRuns[] = [
    ...passers.map((p, pi) => ({
      label: row(VQ_LABEL, p),
      input: focusInput(p.input, focusBits),
      runs: focusOf(baseRuns, pi),
    })),
    ...passers.map((p, pi) => ({
      label: row(mine, p),
      input: mineAt(p, focusBits),
      runs: focusOf(candRuns, pi),
    })),
  ];
  const comparisons = passers.map((p, pi) => ({
    baseline: row(VQ_LABEL, p),
    stats: compareMse(focus[passers.length + pi], focus[pi], "lower", profile),
  }));
  const result: BatteryResult = {
    candidate: info,
    profile,
    budgets,
    focusBits,
    cells,
    focus,
    floors: floorsOf(budgets, sweep.seeds),
    comparisons,
    passers: labels,
    findings: [],
  };
  result.findings = batteryFindings(result);
  return result;
}

/** Oracle floor per budget, per seed (each seed's own source). */
function floorsOf(budgets: number[], seeds: number[]): Map<number, number[]> {
  return new Map(budgets.map((bits) => [
    bits,
    seeds.map((seed) => {
      const cfg = resolveConfig({ train: { seed } });
      return oracleFloor(new SimulatedSource(cfg.data, seed), bits, { distribution: "validation" });
    }),
  ]));
}

function focusInput(input: ConfigInput, bits: number): ConfigInput {
  return bits === sourceBits(resolveConfig().data)
    ? input
    : { ...input, quantizer: { kind: "vq", bits } };
}

/** A short, stable id fragment for findings and file names. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "candidate";
}

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
