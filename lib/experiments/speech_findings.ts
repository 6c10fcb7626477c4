/**
 * Notebook 07's verdicts: per set-up, STE without commitment loss unbounded, STE + CL and mSTE
 * bounded (the proxy's per-seed rules); mSTE against STE and STE + CL and attached against
 * detached noise approximation by the paired rule over seeds on the final mel L1 (the
 * comparisons and their difference chart); then the learning-rate conditions.
 *
 * @module
 */
import type { Display } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import type { PairedStats } from "../stats.ts";
import { isBounded, mean, sig, verdictOf } from "./common.ts";
import { differenceChart, metricComparisonFinding, type RunStatistic } from "./verdicts.ts";
import { BOUNDED, finalMetric, growth, peakStepMaE } from "./speech_measures.ts";
import {
  BASE_LEARNING_RATE,
  conditionGroups,
  find,
  SETUPS,
  type SpeechExperiment,
  type SpeechGroup,
} from "./speech.ts";

/**
 * The per-seed statistic of the speech comparisons [choice]: the final held-out mel L1 (DAC's
 * multi-scale mel distance, mean over the validation segments); +∞ for a run that diverged, so
 * the paired rule falls back to its sign test.
 */
export const FINAL_MEL_L1: RunStatistic = {
  name: "final held-out mel L1 (mean over the validation segments)",
  of: (r) => (r.diverged ? Infinity : r.final?.metrics?.melL1 ?? Infinity),
};

/** The paired comparisons of one set-up: [id, claim, treatment id, baseline id]. */
const COMPARISONS: [string, string, string, string][] = [
  ["mste-beats-ste", "mSTE without CL reconstructs better than STE without CL", "mste", "ste"],
  ["mste-beats-ste-cl", "mSTE without CL reconstructs better than STE with CL", "mste", "ste-cl"],
  [
    "na-attached-beats-detached",
    "Attached noise approximation reconstructs better than detached",
    "na-attached",
    "na-detached",
  ],
];

/** The paired differences (treatment − baseline, final mel L1) of every comparison. */
export function comparisons(
  x: SpeechExperiment,
): { label: string; stats: PairedStats; finding: FindingInput }[] {
  return SETUPS.flatMap((setup) =>
    COMPARISONS.map(([id, claim, t, b]) => {
      const treatment = find(x, setup.id, t);
      const baseline = find(x, setup.id, b);
      const f = metricComparisonFinding({
        id: `A-speech-${id}-${setup.id}`,
        paper: "A",
        claim: `On speech (${setup.label}), ${claim[0].toLowerCase()}${claim.slice(1)}.`,
        treatment,
        baseline,
        direction: "lower",
        statistic: FINAL_MEL_L1,
        measured: {
          [`${treatment.label} SI-SDR dB`]: sig(
            mean(treatment.runs.map((r) => finalMetric(r, "siSdr"))),
          ),
          [`${baseline.label} SI-SDR dB`]: sig(
            mean(baseline.runs.map((r) => finalMetric(r, "siSdr"))),
          ),
          [`${treatment.label} F0 agreement`]: sig(
            mean(treatment.runs.map((r) => finalMetric(r, "f0Agreement"))),
          ),
          [`${baseline.label} F0 agreement`]: sig(
            mean(baseline.runs.map((r) => finalMetric(r, "f0Agreement"))),
          ),
          "training steps": x.profile.speech.epochs * x.profile.speech.stepsPerEpoch,
        },
      });
      return {
        label: `${setup.label}: ${treatment.label} − ${baseline.label}`,
        stats: f.stats!,
        finding: f,
      };
    })
  );
}

/** The comparisons as paired differences with their intervals. */
export function differences(x: SpeechExperiment): Display {
  return differenceChart(
    comparisons(x),
    "Paired differences of the final held-out mel L1 (treatment − baseline; below 0: treatment better)",
  );
}

/**
 * The verdicts, per set-up: STE without CL unbounded (every seed), STE + CL bounded, mSTE bounded
 * (every seed) — the proxy's per-seed rules; mSTE against STE and STE + CL and NA attached against
 * detached by the paired rule over seeds on the final mel L1; then the conditions.
 */
export function findings(x: SpeechExperiment): FindingInput[] {
  const out: FindingInput[] = [];
  const steps = x.profile.speech.epochs * x.profile.speech.stepsPerEpoch;
  for (const setup of SETUPS) {
    const ste = find(x, setup.id, "ste");
    const cl = find(x, setup.id, "ste-cl");
    const mste = find(x, setup.id, "mste");
    const where = `${setup.label}; ${steps} steps, lr ${BASE_LEARNING_RATE}, ${
      x.start === "base" ? "fine-tuned from the base model" : "from scratch"
    }`;
    out.push({
      id: `A-speech-ste-unbounded-${setup.id}`,
      paper: "A",
      claim: "On speech, STE without commitment loss lets MA-E grow without bound (diverges).",
      metric: `per seed: not bounded, bounded = ${BOUNDED}; ${where}`,
      measured: {
        seeds: ste.runs.length,
        unbounded: ste.runs.filter((r) => !isBounded(r)).length,
        diverged: ste.runs.filter((r) => r.diverged).length,
        "MA-E growth per seed": growth(ste),
        "peak batch MA-E": sig(Math.max(...ste.runs.map(peakStepMaE))),
      },
      verdict: verdictOf(ste.runs.map((r) => !isBounded(r))),
    });
    const bounded = (id: string, claim: string, group: typeof cl): FindingInput => ({
      id: `${id}-${setup.id}`,
      paper: "A",
      claim,
      metric: `per seed: ${BOUNDED}; ${where}`,
      measured: {
        seeds: group.runs.length,
        bounded: group.runs.filter((r) => isBounded(r)).length,
        "MA-E growth per seed": growth(group),
      },
      verdict: verdictOf(group.runs.map((r) => isBounded(r))),
    });
    out.push(
      bounded("A-speech-cl-bounded", "Commitment loss keeps STE's MA-E bounded on speech.", cl),
      bounded(
        "A-speech-mste-bounded",
        "mSTE stays bounded without commitment loss on speech.",
        mste,
      ),
    );
  }
  out.push(...comparisons(x).map((c) => c.finding));
  const conditions = conditionGroups(x);
  if (conditions.length) {
    const plain = plainSte(conditions);
    out.push({
      id: "A-speech-ste-diverges-at-larger-lr",
      paper: "A",
      claim:
        "STE without commitment loss diverges on speech (checked at a larger learning rate, DAC lookup).",
      metric: `per seed of ${
        plain.map((g) => g.label).join(", ")
      }: diverged (non-finite loss or MA-E ` +
        `above train.divergenceThreshold, the proxy's rule); ${steps} steps`,
      measured: Object.fromEntries(
        conditions.map((g) => [
          g.label,
          `${g.runs.filter((r) => r.diverged).length}/${g.runs.length} diverged; growth ${
            growth(g)
          }; peak batch MA-E ${sig(Math.max(...g.runs.map(peakStepMaE)))}`,
        ]),
      ),
      verdict: verdictOf(plain.flatMap((g) => g.runs.map((r) => r.diverged !== null))),
      detail: otherDivergences(conditions.filter((g) => !plainSte([g]).length)),
    });
    const others = conditions.filter((g) => !plainSte([g]).length);
    out.push({
      id: "A-speech-cl-mste-bounded-at-larger-lr",
      paper: "A",
      claim:
        "At a learning rate that tests plain STE, commitment loss or mSTE keeps MA-E bounded (DAC lookup).",
      metric: `per seed of ${others.map((g) => g.label).join(", ")}: ${BOUNDED}`,
      measured: Object.fromEntries(
        others.map((g) => [
          g.label,
          `${g.runs.filter((r) => isBounded(r)).length}/${g.runs.length} bounded; growth ${
            growth(g)
          }`,
        ]),
      ),
      verdict: verdictOf(others.flatMap((g) => g.runs.map((r) => isBounded(r)))),
    });
  }
  return out;
}

/**
 * Whether the other passers diverged at the same learning rate: if they did, a divergence of
 * plain STE there is not specific to STE.
 */
function otherDivergences(others: SpeechGroup[]): string {
  const runs = others.flatMap((g) => g.runs);
  const diverged = runs.filter((r) => r.diverged).length;
  return diverged === 0
    ? `At this learning rate no run of ${others.map((g) => g.label).join(" or ")} diverged.`
    : `At this learning rate ${diverged} of ${runs.length} runs of ${
      others.map((g) => g.label).join(" and ")
    } diverged too: there the divergence is not specific to plain STE.`;
}

/** The groups that are plain STE without commitment loss. */
function plainSte(groups: SpeechGroup[]): SpeechGroup[] {
  return groups.filter((g) => g.input.passer?.kind === "ste" && !g.input.train?.commitment);
}
