/**
 * The battery's `--speech` check: the candidate passer in notebook 07's DAC set-up (RVQ with
 * DAC's cosine lookup, no commitment loss, the profile's speech sizes), next to 07's five passer
 * groups, whose runs come from the result cache when notebook 07 has run (same configs, same job
 * `lib/experiments/speech_job.ts#trainSpeech`, which registers a custom passer itself). The
 * groups, charts and table are 07's own (`lib/experiments/speech.ts`).
 *
 * @module
 */
import { type ConfigInput, resolveConfig } from "../config.ts";
import { prepareSource } from "../sources/mod.ts";
import { type Display, group, markdown } from "../display.ts";
import {
  isBounded,
  mean,
  type Profile,
  runConfigs,
  sig,
  verdictOf,
} from "../experiments/common.ts";
import {
  BASE_LEARNING_RATE,
  configOf,
  PASSERS as SPEECH_PASSERS,
  type Setup,
  SETUPS,
  type SpeechGroup,
} from "../experiments/speech.ts";
import { BOUNDED, growth, peakStepMaE } from "../experiments/speech_measures.ts";
import { maeChart, qualityCharts, summaryTable } from "../experiments/speech_tables.ts";
import { SPEECH_JOB } from "../experiments/speech_job.ts";
import type { FindingInput } from "../report/findings.ts";
import type { RunResult } from "../result.ts";

/** The set-up of the check. [choice: 07's DAC set-up, where only CL or the passer bounds |z|] */
export const SPEECH_SETUP: Setup = SETUPS[0];

/** What the check ran: 07's groups in the DAC set-up, the candidate last. */
export interface SpeechCheck {
  profile: Profile;
  setup: Setup;
  groups: SpeechGroup[];
}

/** The candidate's identity the check needs. */
interface Named {
  name: string;
}

/** Run (or read from the cache) 07's DAC groups and the candidate over the profile's speech seeds. */
export async function speechCheck(
  candidate: Named,
  input: ConfigInput,
  profile: Profile,
  jobTimeoutMs?: number,
): Promise<SpeechCheck> {
  const seeds = profile.speech.seeds;
  const mine = { id: "candidate", label: `${candidate.name} (candidate)`, input };
  const of = (g: typeof mine) => seeds.map((seed) => configOf(profile, SPEECH_SETUP, g, seed));
  // The corpus once, here, before the workers would each fetch it.
  await prepareSource(resolveConfig(of(mine)[0]).data);
  const base = await runConfigs("battery speech baselines (07)", SPEECH_PASSERS.flatMap(of), {
    job: SPEECH_JOB,
    jobTimeoutMs,
  });
  const runs = await runConfigs(`battery speech ${candidate.name}`, of(mine), {
    job: SPEECH_JOB,
    jobTimeoutMs,
  });
  return {
    profile,
    setup: SPEECH_SETUP,
    groups: [
      ...SPEECH_PASSERS.map((g, i) => ({
        ...g,
        setup: SPEECH_SETUP,
        runs: base.slice(i * seeds.length, (i + 1) * seeds.length),
      })),
      { ...mine, setup: SPEECH_SETUP, runs },
    ],
  };
}

const final = (r: RunResult, name: string) => r.diverged ? NaN : r.final?.metrics?.[name] ?? NaN;

/**
 * The check's verdict, id `<idPrefix>-speech-bounded`: the candidate bounded on speech in every
 * seed, with its MA-E, SI-SDR and mel L1 (and STE + CL's and mSTE's mel L1 for reference).
 */
export function speechFinding(idPrefix: string, candidate: Named, x: SpeechCheck): FindingInput {
  const mine = x.groups.at(-1)!;
  const reference = (id: string) => x.groups.find((g) => g.id === id)!;
  const melOf = (g: SpeechGroup) => sig(mean(g.runs.map((r) => final(r, "melL1"))));
  return {
    id: `${idPrefix}-speech-bounded`,
    paper: "battery",
    claim:
      `${candidate.name} stays bounded on real speech (notebook 07's ${x.setup.label} set-up).`,
    metric: `per seed: ${BOUNDED}; ${
      x.profile.speech.epochs * x.profile.speech.stepsPerEpoch
    } steps, lr ${BASE_LEARNING_RATE}`,
    measured: {
      seeds: mine.runs.length,
      bounded: mine.runs.filter((r) => isBounded(r)).length,
      "MA-E growth per seed": growth(mine),
      "peak batch MA-E": sig(Math.max(...mine.runs.map(peakStepMaE))),
      "SI-SDR dB (mean)": sig(mean(mine.runs.map((r) => final(r, "siSdr")))),
      "mel L1 (mean)": melOf(mine),
      "mel L1 of STE + CL (mean)": melOf(reference("ste-cl")),
      "mel L1 of mSTE (mean)": melOf(reference("mste")),
    },
    verdict: verdictOf(mine.runs.map((r) => isBounded(r))),
  };
}

/** The card's speech section: 07's MA-E chart, SI-SDR and mel L1 charts, and summary table. */
export function speechReport(x: SpeechCheck): Display {
  return group(
    markdown(
      `### Real speech (notebook 07, ${x.setup.label}; ${x.profile.speech.epochs} × ${x.profile.speech.stepsPerEpoch} steps, seeds ${
        x.profile.speech.seeds.join(", ")
      })`,
    ),
    maeChart(x.groups, `Real speech: MA-E per step, ${x.setup.label}`),
    qualityCharts(x.groups, x.setup.label),
    summaryTable({ groups: x.groups }),
  );
}
