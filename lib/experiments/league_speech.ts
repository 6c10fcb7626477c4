/**
 * Notebook 11's speech test bed: every estimator of the league (`league.ts`) in notebook 07's
 * set-up, with 07's code — `speech.ts`'s `configOf` (the committed base model `codec.weights`,
 * RVQ 5 × 8 bits = 2500 bit/s with DAC's cosine lookup, k-means init, the fine-tuning recipe and
 * the profile's speech sizes and seeds), 07's grid job (`speech_job.ts`, which keeps the
 * listening clips) and 07's page parts (`speech_report.ts`: the systems table, the MA-E and
 * quality charts, the listening table). Paper A's five passers have 07's configs exactly, so
 * their runs and the continuous reference's come from 07's cache.
 *
 * How an estimator's proxy entry becomes a speech run [choice]: its passer and loss weights as
 * they are; its quantizer options other than `kind` and `bits` (SimVQ's and Huh et al.'s
 * `reparam`) applied to 07's RVQ, every stage its own map; soft-to-hard and Gumbel relax stage
 * by stage (`quantizers/rvq.ts`); DiVeQ and the rotation trick act on the summed Q(z) − z of
 * the RVQ (one direction per frame for the whole RVQ; lucidrains applies DiVeQ inside each
 * layer of its `ResidualVQ`). A researcher's module (`ref`) is not run here: it joins the
 * speech check through `./quantlab battery --speech`.
 *
 * The table ranks by the paired comparison against STE + CL over seeds of 07's statistic, the
 * final held-out mel L1 (`FINAL_MEL_L1`; a diverged run counts +∞, so the rule falls back to its
 * sign test), with its 95 % interval (`verdicts.ts`'s `compareRuns`, the proxy league's rule on
 * another statistic). Beside it: SI-SDR, mel L1 and F0 agreement (mean over seeds), whether the
 * system codes speech by 07's bar ({@linkcode CODES_SPEECH}), divergences, bounded MA-E, code
 * perplexity per RVQ stage and wall time per step.
 *
 * Cost, measured 2026-12-05 on the 2-core machine shared with other jobs: quick profile (1 seed,
 * 2 × 4 steps), the 12 runs from an empty cache in 43 s, 11 s for the section from a warm one;
 * full profile (4 seeds × 150 steps), the 22 runs 07 does not share in 679 s (one run 48–104 s
 * under that load; 07's own runs took 22–30 s each when they were computed), the other 26 from
 * 07's cache.
 *
 * @module
 */
import type { ConfigInput } from "../config.ts";
import { type Display, group, markdown, table } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import type { PairedStats } from "../stats.ts";
import { slug } from "../battery/result.ts";
import {
  isBounded,
  mean,
  type Profile,
  runConfigs,
  settingsTable,
  showFindings,
  sig,
} from "./common.ts";
import { compareRuns, differenceChart, metricComparisonFinding } from "./verdicts.ts";
import {
  comparisonColumns,
  comparisonKey,
  type LeagueEstimator,
  REFERENCE,
  replacementNote,
} from "./league.ts";
import {
  configOf,
  CONTINUOUS,
  REFERENCE as CONTINUOUS_REFERENCE,
  SETUPS,
  SPEECH_LABELS,
  SPEECH_START,
  type SpeechExperiment,
  type SpeechGroup,
} from "./speech.ts";
import { SPEECH_JOB } from "./speech_job.ts";
import { CODES_SPEECH, codesSpeech, finalMean, finalMetric } from "./speech_measures.ts";
import {
  FINAL_MEL_L1,
  listening,
  maeChart,
  qualityCharts,
  reachedNote,
  systemsTable,
} from "./speech_report.ts";

/** The set-up every estimator runs in: 07's DAC set-up (cosine lookup, only CL or the passer bounds |z|). */
export const SPEECH_LEAGUE_SETUP = SETUPS[0];

/**
 * Utterances in the league's listening table (one row per estimator, the original, the
 * continuous reference and 07's two real-codec anchors: 16 rows). [choice: 2 of the profile's
 * held-out utterances, 2.05 s each, to keep the page's weight near 07's; at 3 the table alone
 * weighed 2.7 MB]
 */
export const LEAGUE_LISTEN = 2;

/**
 * An estimator's config input on the speech bed (module doc): its quantizer section without
 * `kind` and `bits`, so its options apply to 07's RVQ. Throws for a module estimator (`ref`).
 */
export function speechInputOf(e: LeagueEstimator): ConfigInput {
  if (e.ref) {
    throw new Error(
      `speech league: ${e.label} is a module (${e.ref}); run it on speech with ./quantlab battery --speech`,
    );
  }
  const input = structuredClone(e.input ?? {});
  if (input.quantizer) {
    const { kind: _kind, bits: _bits, ...options } = input.quantizer as Record<string, unknown>;
    input.quantizer = options as ConfigInput["quantizer"];
  }
  return input;
}

/** One row of the speech league table. */
export interface SpeechLeagueRow {
  estimator: LeagueEstimator;
  group: SpeechGroup;
  /** Paired comparison of the final mel L1 with STE + CL (null for STE + CL itself). */
  stats: PairedStats | null;
  codes: ReturnType<typeof codesSpeech>;
  diverged: number;
  bounded: number;
  /** Mean code perplexity per RVQ stage over the seeds that did not diverge. */
  perplexity: number[];
  msPerStep: number;
}

/** The speech league: 07's experiment shape (continuous reference first), the rows and findings. */
export interface SpeechLeague {
  x: SpeechExperiment;
  rows: SpeechLeagueRow[];
  findings: FindingInput[];
}

/**
 * Run (or read from the cache) every built-in estimator (module ones are left out, see the
 * module doc) and the continuous reference over the profile's speech seeds, in one grid.
 */
export async function runSpeechLeague(
  estimators: LeagueEstimator[],
  profile: Profile,
): Promise<SpeechLeague> {
  const builtin = estimators.filter((e) => !e.ref);
  const seeds = profile.speech.seeds;
  const groups = [
    { setup: CONTINUOUS, passer: CONTINUOUS_REFERENCE },
    ...builtin.map((e) => ({
      setup: SPEECH_LEAGUE_SETUP,
      passer: { id: slug(e.label), label: e.label, input: speechInputOf(e) },
    })),
  ];
  const inputs = groups.flatMap(({ setup, passer }) =>
    seeds.map((seed) => configOf(profile, setup, passer, seed))
  );
  const results = await runConfigs("11 speech league", inputs, { job: SPEECH_JOB });
  const x: SpeechExperiment = {
    // `listen` sizes only the listening table (not part of any run's config).
    profile: { ...profile, speech: { ...profile.speech, listen: LEAGUE_LISTEN } },
    start: SPEECH_START,
    groups: groups.map(({ setup, passer }, i) => ({
      ...passer,
      setup,
      runs: results.slice(i * seeds.length, (i + 1) * seeds.length),
    })),
  };
  return speechLeagueOf(x, builtin);
}

/** Rows (sorted by the comparison with STE + CL) and findings of a speech experiment (pure). */
export function speechLeagueOf(x: SpeechExperiment, estimators: LeagueEstimator[]): SpeechLeague {
  const groupOf = (e: LeagueEstimator) => {
    const g = x.groups.find((g) => g.id === slug(e.label) && g.setup.id !== "continuous");
    if (!g) throw new Error(`speech league: no runs of ${e.label}`);
    return g;
  };
  const refEstimator = estimators.find((e) => e.label === REFERENCE);
  if (!refEstimator) {
    throw new Error(`speech league: the reference "${REFERENCE}" is not among the estimators`);
  }
  const ref = groupOf(refEstimator);
  const steps = x.profile.speech.epochs * x.profile.speech.stepsPerEpoch;
  const rows = estimators.map((estimator): SpeechLeagueRow => {
    const group = groupOf(estimator);
    const q = group.runs[0].config.quantizer;
    const stages = q.kind === "rvq" ? q.stages : 1;
    return {
      estimator,
      group,
      stats: group === ref ? null : compareRuns(group, ref, "lower", FINAL_MEL_L1),
      codes: codesSpeech(group.runs),
      diverged: group.runs.filter((r) => r.diverged).length,
      bounded: group.runs.filter((r) => isBounded(r)).length,
      perplexity: Array.from(
        { length: stages },
        (_, s) => finalMean(group.runs, `codePerplexity.${s}`),
      ),
      msPerStep: mean(group.runs.map((r) => r.wallMs / steps)),
    };
  });
  rows.sort((a, b) => comparisonKey(a.stats) - comparisonKey(b.stats));
  const refRow = rows.find((r) => r.group === ref)!;
  const continuous = codesSpeech(x.groups.find((g) => g.setup.id === "continuous")?.runs ?? []);
  const findings = rows.filter((r) => r.stats).map((r) => {
    const f = metricComparisonFinding({
      id: `league-speech-${slug(r.estimator.label)}-vs-ste-cl`,
      paper: "league",
      claim: `${r.estimator.label} reaches a lower held-out mel L1 than ${REFERENCE} on speech ` +
        `(notebook 07's ${SPEECH_LEAGUE_SETUP.label} set-up, ${steps} fine-tuning steps).`,
      treatment: r.group,
      baseline: ref,
      direction: "lower",
      statistic: FINAL_MEL_L1,
      names: [r.estimator.label, REFERENCE],
      measured: {
        [`${r.estimator.label} SI-SDR dB`]: sig(r.codes.siSdr),
        [`${REFERENCE} SI-SDR dB`]: sig(refRow.codes.siSdr),
        [`${r.estimator.label} F0 agreement`]: sig(r.codes.f0Agreement),
        [`${REFERENCE} F0 agreement`]: sig(refRow.codes.f0Agreement),
        "diverged runs": `${r.diverged}/${r.group.runs.length}`,
        "training steps": steps,
      },
    });
    return { ...f, detail: `${f.detail} ${codingCaveat(r, refRow, continuous)}` };
  });
  return { x, rows, findings };
}

/** What a speech comparison is about: whether the two systems (and the continuous one) code speech. */
function codingCaveat(
  r: SpeechLeagueRow,
  ref: SpeechLeagueRow,
  continuous: ReturnType<typeof codesSpeech>,
): string {
  const who = [r, ref].filter((x) => !x.codes.ok).map((x) => x.estimator.label);
  const bar = `SI-SDR ≥ ${CODES_SPEECH.siSdr} dB and F0 agreement ≥ ${CODES_SPEECH.f0Agreement}`;
  if (who.length === 0) return `Both systems code speech (${bar}).`;
  return `${who.join(" and ")} ${who.length > 1 ? "do" : "does"} not code speech by 07's bar ` +
    `(${bar}; the continuous reference ${continuous.ok ? "does" : "does not either"}): ` +
    "the comparison is about the mel envelope of a codec that loses the pitch at this rate, " +
    "not about a working codec.";
}

const meanText = (v: number[]) => {
  const f = v.filter(Number.isFinite);
  return f.length === 0 ? "—" : `${sig(mean(f))}`;
};

/** The speech league table: one row per estimator, sorted by the comparison with STE + CL. */
export function speechLeagueTable(league: SpeechLeague): Display {
  const { x, rows } = league;
  const rate = rows[0]?.group.runs[0].config;
  return table(
    rows.map((r, i) => ({
      rank: i + 1,
      estimator: r.estimator.label,
      "mel L1 (mean)": meanText(r.group.runs.map((run) => finalMetric(run, "melL1"))),
      ...comparisonColumns(r.stats),
      "SI-SDR dB": sig(r.codes.siSdr),
      "F0 agreement": sig(r.codes.f0Agreement),
      "codes speech": r.codes.ok ? "yes" : "no",
      diverged: `${r.diverged}/${r.group.runs.length}`,
      bounded: `${r.bounded}/${r.group.runs.length}`,
      "code perplexity per stage": r.perplexity.map((p) => sig(p) ?? "—").join(" / "),
      "ms / step": sig(r.msPerStep),
    })),
    {
      caption:
        `League (speech, ${x.profile.name} profile, seeds ${x.profile.speech.seeds.join(", ")}; ${
          rate?.quantizer.kind === "rvq" ? "RVQ 5 × 8 bits, " : ""
        }${SPEECH_LEAGUE_SETUP.label}): sorted by the paired difference of the final held-out mel L1 against ${REFERENCE} ` +
        `(negative = lower); means over seeds that did not diverge; "codes speech": mean SI-SDR ≥ ` +
        `${CODES_SPEECH.siSdr} dB and F0 agreement ≥ ${CODES_SPEECH.f0Agreement} (07's bar); ` +
        "ms / step: a run's wall time (k-means init, evaluations and listening decode included) " +
        "over its steps, as measured when it was computed",
    },
  );
}

/**
 * The speech section of notebook 11: what the bed is, 07's systems table and its computed note
 * on whether the continuous reference codes speech, the league table, the paired differences,
 * MA-E and quality charts, the findings and a listening row per estimator.
 */
export async function speechLeagueSection(league: SpeechLeague): Promise<Display> {
  const { x } = league;
  const p = x.profile.speech;
  const continuous = codesSpeech(x.groups.find((g) => g.setup.id === "continuous")!.runs);
  const coding = league.rows.filter((r) => r.codes.ok).map((r) => r.estimator.label);
  return group(
    markdown(
      `## Speech (notebook 07's set-up)\n\n` +
        `Every estimator fine-tunes the committed base model with 07's RVQ inserted (5 stages × 8 ` +
        `bits = 2500 bit/s, ${SPEECH_LEAGUE_SETUP.label}), ${p.epochs} × ${p.stepsPerEpoch} steps, ` +
        `seeds ${
          p.seeds.join(", ")
        }, scored on ${p.validationSegments} held-out segments by 07's ` +
        `code; paper A's passers and the continuous reference are 07's runs (its cache). ` +
        `How each estimator's proxy entry maps onto the RVQ is a [choice] stated in ` +
        "`lib/experiments/league_speech.ts`. The table ranks by the paired comparison of the " +
        `final held-out mel L1 against ${REFERENCE}. 07's passers lose the pitch at this rate ` +
        "(F0 agreement about 0.1): the page states for every system whether it codes speech, " +
        "and each verdict says whether its two systems do.",
    ),
    systemsTable(x),
    reachedNote(x),
    markdown(
      `**Which systems code speech** (07's bar: SI-SDR ≥ ${CODES_SPEECH.siSdr} dB and F0 agreement ≥ ` +
        `${CODES_SPEECH.f0Agreement}): the continuous reference ${
          continuous.ok ? "does" : "does **not**"
        } (SI-SDR ${sig(continuous.siSdr)} dB, F0 ${sig(continuous.f0Agreement)}); with a ` +
        `quantizer, ${coding.length ? coding.join(", ") : "**none of the estimators**"}. ${
          coding.length < league.rows.length
            ? "A comparison between systems that do not code speech is about the mel envelope of " +
              "a codec that has lost the pitch at this rate, not about a working codec; each " +
              "finding below says which of its two systems code speech."
            : ""
        }`,
    ),
    speechLeagueTable(league),
    replacementNote((label) => {
      const group = league.rows.find((r) => r.estimator.label === label)?.group ??
        x.groups.find((g) => g.label === label);
      return group ? group.runs.map((r) => finalMetric(r, "melL1")) : null;
    }, "final held-out mel L1") ?? markdown(""),
    differenceChart(
      league.rows.filter((r) => r.stats).map((r) => ({
        label: r.estimator.label,
        stats: r.stats!,
      })),
      `Paired difference of the final held-out mel L1 against ${REFERENCE} (speech), with 95 % intervals`,
    ),
    maeChart(x.groups, `MA-E per training step — speech, ${SPEECH_LEAGUE_SETUP.label}`),
    qualityCharts(x.groups, `speech league, ${SPEECH_LEAGUE_SETUP.label}`),
    settingsTable(x.groups.flatMap((g) => g.runs), {
      ...SPEECH_LABELS,
      "passer.kind": "paper A's passers and the league's estimators (see the estimator table)",
    }),
    showFindings(league.findings),
    await listening(x, SPEECH_LEAGUE_SETUP.id),
  );
}

/** Which estimators beat STE + CL on speech (interval excluding 0), for the summary line. */
export function speechWinners(league: SpeechLeague): string[] {
  return league.rows.filter((r) => r.stats?.outcome === "reproduced").map((r) => r.estimator.label);
}
