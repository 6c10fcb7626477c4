/**
 * Notebook 11: the estimator league — every gradient estimator in current use, run through the
 * battery (`lib/battery/`) on one test bed, judged against STE + CL in one table.
 *
 * A test bed ({@linkcode TestBed}) is a description plus a function that runs a list of
 * estimators and returns, per estimator, its runs at every bit budget of the sweep and at the
 * focus budget over the comparison seeds. {@linkcode PROXY_BED} is paper A's proxy through the
 * battery. The speech bed (notebook 07's set-up, one rate, scored on held-out speech) is
 * `league_speech.ts`: it runs 07's code and ranks by the same paired rule on 07's statistic
 * (final held-out mel L1), so its section is its own. Every estimator is a battery entry (a config) or a
 * researcher's passer module (`path.ts#export`), so the league is the battery's regression
 * suite: a new estimator joins with one more entry.
 *
 * What the table shows, per estimator [choice]: the paired difference of validation MSE
 * (`compareMse`: mean of the last epochs, per seed) against the reference STE + CL at the focus
 * budget with its 95 % interval and outcome; divergences over all its runs; bounded MA-E at the
 * focus budget; code usage (validation code entropy, bits, and perplexity); compute cost per
 * training step (a run's wall time over its steps, validation included, as measured when the run
 * was computed: cached runs keep the time of the machine and load they ran under).
 *
 * @module
 */
import type { ConfigInput } from "../config.ts";
import { chart, type Display, group, markdown, table } from "../display.ts";
import { heatMap } from "../charts.ts";
import type { FindingInput } from "../report/findings.ts";
import type { PairedStats } from "../stats.ts";
import { battery, type BatteryCell, type BatteryResult } from "../battery/mod.ts";
import { BASELINES, slug } from "../battery/result.ts";
import {
  epochChart,
  type GroupRuns,
  isBounded,
  mean,
  type Profile,
  runsOf,
  settingsTable,
  showFindings,
  sig,
  smoothedMse,
} from "./common.ts";
import { compareMse, differenceChart, mseComparisonFinding } from "./verdicts.ts";
import { BUDGETS, stabilityChart } from "./sweep.ts";

/** One estimator of the league. */
export interface LeagueEstimator {
  /** Row label. */
  label: string;
  /** Where it comes from (paper, library). */
  source: string;
  /** Formula and settings, one line. */
  doc: string;
  /** Its config (passer, quantizer options, loss weights); a VQ's `bits` is set per budget. */
  input?: ConfigInput;
  /** Or a researcher's passer module, `path.ts#export` (run as the battery runs it). */
  ref?: string;
}

/** The reference every estimator is compared with: STE with commitment loss β = 0.25 (DAC's). */
export const REFERENCE = "STE + CL";

/**
 * The league's estimators. Paper A's and quantlab's (the battery's baselines, the sweep's
 * configs, cached by notebooks 02–05 and 10), then the ones lucidrains/vector-quantize-pytorch
 * ships. Loss weights [choice, each stated]: an estimator whose paper trains without auxiliary
 * losses runs without them; the codebook reparameterisations keep STE + CL's losses, so they
 * differ from the reference only in the codebook's parameterisation (and, for Huh et al., the
 * synchronized update).
 */
export const ESTIMATORS: LeagueEstimator[] = [
  {
    label: "STE",
    source: "paper A",
    doc: "q = z + sg(Q(z) − z), no commitment loss",
    input: { passer: { kind: "ste" } },
  },
  {
    label: REFERENCE,
    source: "paper A; DAC's β",
    doc: "STE with commitment loss β = 0.25 (the reference)",
    input: { passer: { kind: "ste" }, train: { commitment: 0.25 } },
  },
  {
    label: "mSTE",
    source: "paper A",
    doc: "q = z + sg(n/σ)·σ, no CL",
    input: { passer: { kind: "mste" } },
  },
  {
    label: "NA detached",
    source: "paper A",
    doc: "uniform noise of the quantization noise's power, gradient cut",
    input: { passer: { kind: "na-detached" } },
  },
  {
    label: "NA attached",
    source: "paper A",
    doc: "the same noise tied to the graph through σ",
    input: { passer: { kind: "na-attached" } },
  },
  {
    label: "soft-to-hard",
    source: "paper A names it",
    doc: "softmax assignment, τ annealed 1 → 0.01",
    input: { passer: { kind: "soft-to-hard" } },
  },
  {
    label: "rotation",
    source: "Fifty et al. 2024",
    doc: "q = sg(λR)·z, no CL (notebook 10's card)",
    input: { passer: { kind: "rotation" } },
  },
  {
    label: "DiVeQ",
    source: "Vali et al. 2025 (arXiv 2509.26469; the authors' code)",
    doc: "q = z + sg(unit(Q(z) − z + ε))·‖Q(z) − z‖, σ² = 5e-3 (lucidrains'); no CL, no codebook " +
      "loss; every 100 steps codewords used < 0.01 times per step become copies of used ones " +
      "(the authors' codebook replacement)",
    input: {
      passer: { kind: "diveq" },
      quantizer: { kind: "vq", deadCodeEvery: 100, deadCodeThreshold: 0.01 },
      train: { codebookWeight: 0 },
    },
  },
  // Two controls that separate DiVeQ's estimator from its codebook replacement [choice].
  {
    label: "DiVeQ, no replacement",
    source: "control: DiVeQ without the codebook replacement",
    doc: "DiVeQ's estimator alone: the same passer and losses, the codebook never replaced",
    input: { passer: { kind: "diveq" }, train: { codebookWeight: 0 } },
  },
  {
    label: "STE + CL + replacement",
    source: "control: the reference with DiVeQ's codebook replacement",
    doc: "STE + CL (β = 0.25) with DiVeQ's replacement (every 100 steps, codewords used < 0.01 " +
      "times per step become copies of used ones)",
    input: {
      passer: { kind: "ste" },
      quantizer: { kind: "vq", deadCodeEvery: 100, deadCodeThreshold: 0.01 },
      train: { commitment: 0.25 },
    },
  },
  {
    label: "SimVQ",
    source: "Zhu et al. 2024 (arXiv 2411.02038)",
    doc: "C = C̃W, C̃ frozen, W learned (from I); STE, codebook loss + CL 0.25 (SimVQ's loss)",
    input: {
      quantizer: { kind: "vq", reparam: "linear" },
      train: { commitment: 0.25 },
    },
  },
  {
    label: "Huh et al.",
    source: "Huh et al. 2023 (ICML)",
    doc: "C = C̃⊙(1 + 10â) + 10b̂ learned, synchronized update v = 0.2 (vqtorch's example); STE + CL",
    input: {
      quantizer: { kind: "vq", reparam: "affine", reparamLrScale: 10 },
      passer: { kind: "ste", sync: 0.2 },
      train: { commitment: 0.25 },
    },
  },
  {
    label: "Gumbel ST",
    source: "Jang et al. 2017; lucidrains' form",
    doc: "sampled codeword forward, softmax(−‖z−c‖²/τ) backward, τ 1 → 0.01; no CL",
    input: { passer: { kind: "gumbel" } },
  },
];

/** An estimator's runs on one bed. */
export interface LeagueEntry {
  estimator: LeagueEstimator;
  /** Its runs at every budget (sweep seeds), labelled by the estimator. */
  cells: BatteryCell[];
  /** Its runs at the focus budget over the comparison seeds. */
  focus: GroupRuns;
}

/** What a bed's run returns. */
export interface LeagueRuns {
  profile: Profile;
  budgets: number[];
  focusBits: number;
  entries: LeagueEntry[];
  /** The battery cards the runs came from (one per estimator that is not a battery baseline). */
  cards: BatteryResult[];
}

/** A test bed: what it is, and how it runs the estimators. */
export interface TestBed {
  /** Short id, used in finding ids (`league-<id>-…`). */
  id: string;
  title: string;
  /** Markdown: data, codec, quantizer, sizes. */
  description: string;
  run(estimators: LeagueEstimator[], profile: Profile): Promise<LeagueRuns>;
}

/** One row of the league table. */
export interface LeagueRow {
  entry: LeagueEntry;
  /** Paired comparison with the reference at the focus budget (null for the reference itself). */
  stats: PairedStats | null;
  diverged: number;
  runs: number;
  bounded: number;
  codeEntropy: number;
  codePerplexity: number;
  msPerStep: number;
}

/** A bed's league: its runs, the sorted table rows and the computed findings. */
export interface League {
  bed: TestBed;
  runs: LeagueRuns;
  rows: LeagueRow[];
  findings: FindingInput[];
}

/**
 * Paper A's proxy through the battery: every estimator at every budget of the sweep (its two
 * seeds) and at B_q = B (the profile's comparison seeds: 8 in full), the baselines' runs being
 * the sweep's and notebooks 02–04's (cached). An estimator that is one of the battery's
 * baselines (same label) is read from the first card; every other runs as a battery entry.
 */
export const PROXY_BED: TestBed = {
  id: "proxy",
  title: "Proxy (paper A's simulated source, MLP codec, VQ)",
  description:
    "Paper A's proxy: simulated frames of B = 8 bits, the frame-wise MLP codec, one VQ codebook " +
    "of 2^B_q codewords; budgets B_q of notebook 05's sweep over its seeds, the focus budget " +
    "B_q = B over the comparison seeds.",
  async run(estimators, profile) {
    const baselineLabels = new Set(BASELINES.map((b) => b.label));
    const own = estimators.filter((e) => !baselineLabels.has(e.label));
    if (own.length === 0) throw new Error("league: no estimator besides the battery's baselines");
    const cards: BatteryResult[] = [];
    for (const e of own) {
      cards.push(
        await battery(
          e.ref ?? { name: e.label, doc: e.doc, input: e.input ?? {} },
          { profile, budgets: BUDGETS },
        ),
      );
      const kind = cards.at(-1)!.candidate.kind;
      if (kind !== "passer") {
        throw new Error(`league: ${e.label} (${e.ref}) is a ${kind}; the league takes passers`);
      }
    }
    const first = cards[0];
    const entries = estimators.map((e): LeagueEntry => {
      const card = cards[own.indexOf(e)];
      const relabel = (c: BatteryCell): BatteryCell => ({
        ...c,
        passer: e.label,
        label: `${e.label} @ ${c.bits}`,
      });
      if (card) {
        return {
          estimator: e,
          cells: card.cells.filter((c) => c.candidate).map(relabel),
          focus: { ...card.focus.at(-1)!, label: e.label },
        };
      }
      return {
        estimator: e,
        cells: first.cells.filter((c) => !c.candidate && c.passer === e.label).map(relabel),
        focus: first.focus.find((g) => g.label === e.label)!,
      };
    });
    return { profile, budgets: first.budgets, focusBits: first.focusBits, entries, cards };
  },
};

/** Run a bed's league: the runs, the table rows sorted by the comparison, the findings. */
export async function runLeague(
  bed: TestBed,
  profile: Profile,
  estimators: LeagueEstimator[] = ESTIMATORS,
): Promise<League> {
  const runs = await bed.run(estimators, profile);
  return leagueOf(bed, runs);
}

/** Rows and findings from a bed's runs (pure: no training). */
export function leagueOf(bed: TestBed, runs: LeagueRuns): League {
  const ref = runs.entries.find((e) => e.estimator.label === REFERENCE);
  if (!ref) throw new Error(`league: the reference "${REFERENCE}" is not among the estimators`);
  const steps = (r: GroupRuns["runs"][number]) =>
    r.config.train.epochs * r.config.train.stepsPerEpoch;
  const rows = runs.entries.map((entry): LeagueRow => {
    const all = [...runsOf(entry.cells), ...entry.focus.runs];
    const focus = entry.focus.runs;
    return {
      entry,
      stats: entry === ref ? null : compareMse(entry.focus, ref.focus, "lower", runs.profile),
      diverged: all.filter((r) => r.diverged).length,
      runs: all.length,
      bounded: focus.filter((r) => isBounded(r)).length,
      codeEntropy: mean(focus.map((r) => r.final?.codeEntropy ?? NaN)),
      codePerplexity: mean(focus.map((r) => r.final?.codePerplexity ?? NaN)),
      msPerStep: mean(focus.map((r) => r.wallMs / steps(r))),
    };
  });
  rows.sort((a, b) => comparisonKey(a.stats) - comparisonKey(b.stats));
  const findings = rows.filter((r) => r.stats).map((r) =>
    mseComparisonFinding({
      id: `league-${bed.id}-${slug(r.entry.estimator.label)}-vs-ste-cl`,
      paper: "league",
      claim:
        `${r.entry.estimator.label} reaches lower validation MSE than ${REFERENCE} at B_q = ${runs.focusBits} (${bed.id}).`,
      treatment: r.entry.focus,
      baseline: ref.focus,
      direction: "lower",
      names: [r.entry.estimator.label, REFERENCE],
      measured: { "diverged runs": `${r.diverged}/${r.runs}` },
    }, runs.profile)
  );
  return { bed, runs, rows, findings };
}

/**
 * Sort key of a row by its comparison with the reference: the mean paired difference (lower is
 * better; the reference, `null`, is 0). A comparison without one (a run diverged: sign test)
 * sorts after every numeric one, by the share of seeds where the estimator was worse.
 */
export function comparisonKey(stats: PairedStats | null): number {
  if (!stats) return 0;
  if (stats.mean !== null) return stats.mean;
  return 1e12 * (1 + (stats.n - stats.favourable) / Math.max(1, stats.n));
}

/** The league table: one row per estimator, sorted by the comparison with the reference. */
export function leagueTable(x: League): Display {
  return table(
    x.rows.map((r, i) => ({
      rank: i + 1,
      estimator: r.entry.estimator.label,
      source: r.entry.estimator.source,
      // The compared statistic for every row, the reference's included (its final MSE differs).
      [`val MSE @ ${x.runs.focusBits} (mean of the last ${x.runs.profile.lastEpochs} epochs)`]: sig(
        r.stats?.treatmentMean ??
          mean(r.entry.focus.runs.map((run) => smoothedMse(run, x.runs.profile.lastEpochs))),
      ),
      ...comparisonColumns(r.stats),
      diverged: `${r.diverged}/${r.runs}`,
      [`bounded @ ${x.runs.focusBits}`]: `${r.bounded}/${r.entry.focus.runs.length}`,
      "code entropy (bits)": sig(r.codeEntropy),
      "perplexity": sig(r.codePerplexity),
      "ms / step": sig(r.msPerStep),
    })),
    {
      caption:
        `League (${x.bed.id}, ${x.runs.profile.name} profile): sorted by the paired difference of validation MSE against ${REFERENCE} at B_q = ${x.runs.focusBits} (negative = lower MSE); ` +
        "diverged over every run (sweep and focus); code usage and cost at the focus budget",
    },
  );
}

/** The estimators and their settings, as a table. */
export function estimatorTable(estimators: LeagueEstimator[] = ESTIMATORS): Display {
  return table(
    estimators.map((e) => ({
      estimator: e.label,
      source: e.source,
      "formula and settings": e.doc,
      config: e.ref ?? JSON.stringify(e.input ?? {}),
    })),
    {
      caption:
        "The estimators: formula, source and config (every setting not the paper's is a [choice])",
    },
  );
}

/** Final validation MSE (dB) per estimator × B_q; a cell where a seed diverged says so. */
function mseHeatChart(x: League): Display {
  const cells = x.rows.flatMap((r) => r.entry.cells);
  return chart(heatMap({
    title:
      "Final validation MSE (dB re target power, mean over the sweep's seeds) per estimator × B_q",
    cells: cells.map((c) => {
      const diverged = c.runs.filter((r) => r.diverged).length;
      return {
        x: c.bits,
        y: c.passer,
        value: diverged > 0 ? null : mean(c.runs.map((r) => r.final?.valMseDb ?? NaN)),
        text: diverged > 0 ? `diverged ${diverged}/${c.runs.length}` : undefined,
      };
    }),
    x: { label: "quantizer bits B_q" },
    y: { label: "estimator" },
    color: { label: "MSE (dB)", scheme: "viridis", reverse: true },
    format: (v) => v.toFixed(1),
  }));
}

/**
 * One bed's section of the page: what the bed is, the league table, the paired differences
 * with their intervals, MA-E at the focus budget, the MSE and stability heat maps, the settings
 * and the computed verdicts.
 */
export function leagueSection(x: League): Display {
  const focus = x.rows.map((r) => r.entry.focus);
  return group(
    markdown(`## ${x.bed.title}\n\n${x.bed.description}`),
    leagueTable(x),
    replacementNote(
      (label) => {
        const row = x.rows.find((r) => r.entry.estimator.label === label);
        return row
          ? row.entry.focus.runs.map((r) => smoothedMse(r, x.runs.profile.lastEpochs))
          : null;
      },
      `validation MSE at B_q = ${x.runs.focusBits}, mean of the last ${x.runs.profile.lastEpochs} epochs`,
    ) ??
      markdown(""),
    differenceChart(
      x.rows.filter((r) => r.stats).map((r) => ({
        label: r.entry.estimator.label,
        stats: r.stats!,
      })),
      `Paired difference of validation MSE against ${REFERENCE} at B_q = ${x.runs.focusBits}, with 95 % intervals`,
    ),
    epochChart(focus, "maE", { title: `MA-E at B_q = ${x.runs.focusBits}, every estimator` }),
    mseHeatChart(x),
    stabilityChart({ cells: x.rows.flatMap((r) => r.entry.cells) }),
    settingsTable([...runsOf(focus), ...runsOf(x.rows.flatMap((r) => r.entry.cells))]),
    showFindings(x.findings),
  );
}

/**
 * A league row's paired comparison with {@linkcode REFERENCE} as table columns: the mean
 * difference, its interval (or the sign test's count) and the verdict; `null` is the reference.
 */
export function comparisonColumns(
  stats: PairedStats | null,
): Record<string, string | number | null> {
  return {
    [`− ${REFERENCE} (mean)`]: stats ? (stats.mean === null ? "—" : sig(stats.mean)) : "0",
    "95 % interval": stats
      ? stats.ci.every((v) => v !== null)
        ? `[${sig(stats.ci[0]!)}, ${sig(stats.ci[1]!)}]`
        : `${stats.method}: ${stats.favourable}/${stats.n} lower`
      : "reference",
    [`lower than ${REFERENCE}`]: stats ? stats.outcome : "—",
  };
}

/** The codebook replacement's controls: each estimator's rows with and without it. */
export const REPLACEMENT_CONTROLS = [
  { estimator: "DiVeQ", withReplacement: "DiVeQ", without: "DiVeQ, no replacement" },
  { estimator: REFERENCE, withReplacement: "STE + CL + replacement", without: REFERENCE },
] as const;

/**
 * One computed sentence on the replacement's controls: each estimator's mean `metric` with and
 * without DiVeQ's codebook replacement, from the per-seed values `valuesOf(label)`, and whether the
 * two are identical on every seed (the replacement then never changed a run). Null when a row is
 * missing.
 */
export function replacementNote(
  valuesOf: (label: string) => number[] | null,
  metric: string,
): Display | null {
  const parts: string[] = [];
  for (const c of REPLACEMENT_CONTROLS) {
    const a = valuesOf(c.withReplacement), b = valuesOf(c.without);
    if (!a || !b || a.length === 0 || b.length === 0) return null;
    const same = a.length === b.length && a.every((v, i) => v === b[i]);
    parts.push(
      `${c.estimator} ${sig(mean(a))} with it, ${sig(mean(b))} without${
        same ? " (identical on every seed: the replacement never changed a run)" : ""
      }`,
    );
  }
  return markdown(
    `**DiVeQ's codebook replacement, separated from the estimator** (${metric}, mean over ` +
      `seeds): ${parts.join("; ")}.`,
  );
}

/** Which estimators beat the reference, from the computed findings (for the summary line). */
export function winners(x: League): string[] {
  return x.rows.filter((r) => r.stats?.outcome === "reproduced").map((r) =>
    r.entry.estimator.label
  );
}
