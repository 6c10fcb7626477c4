/**
 * The run sizes of the notebooks: the quick profile (CI, a first look) and the full one (the
 * committed reports), and how a config input takes a profile's epochs, steps, validation size
 * and seeds; the PostRVQ notebooks' (08, 09) sizes per profile too.
 *
 * @module
 */
import type { ConfigInput } from "../config.ts";

/** Quick (CI, a first look) or full (the committed reports). */
export type ProfileName = "quick" | "full";

export interface Profile {
  name: ProfileName;
  epochs: number;
  stepsPerEpoch: number;
  /** Seeds every configuration is repeated with. */
  seeds: number[];
  /**
   * Seeds of the notebooks whose findings compare MSEs between configurations (02, 03): the
   * paired verdict (`lib/stats.ts`) needs more units than a "holds in every seed" check.
   * [choice] 8 in full: a paired t interval at n = 8 resolves differences of about one
   * standard deviation of the per-seed differences (d_z ≈ 0.8 at 80 % power).
   */
  comparisonSeeds: number[];
  validationFrames: number;
  /**
   * The per-seed MSE statistic of a comparison: the mean validation MSE of the last
   * `lastEpochs` epochs, which smooths the epoch-to-epoch jitter of the final value. [choice]
   */
  lastEpochs: number;
  /**
   * The convergence slope is fitted over the last `slopeFraction` of a run's epochs (at least
   * two): the last half [choice], long enough to average out the ±20 % epoch-to-epoch jitter.
   */
  slopeFraction: number;
  /**
   * A configuration's MSE is "flat" when the mean over seeds of the fitted slope of ln(MSE) is
   * within ±`flatSlope` per 1000 training steps, i.e. it changes by less than about that
   * fraction per 1000 steps. [choice] 0.1: measured (2 seeds, STE + CL and mSTE), the slope is
   * ≈ −0.3 at 2500 steps and −0.04 to −0.09 at 10 000 steps.
   */
  flatSlope: number;
  /**
   * Epochs of the "long" group that checks paper A's MSE claim near convergence. [choice] 40
   * (10 000 steps, 4× the full budget): where the measured slope had fallen inside ±flatSlope.
   */
  longEpochs: number;
  /** Sizes of notebook 07's real-speech runs (`lib/experiments/speech.ts`). [choice] */
  speech: SpeechProfile;
}

/**
 * Run sizes of the real-speech notebook (07); its codec and data are in `experiments/speech.ts`.
 * [choice] full: 4 seeds of 3 × 50 fine-tuning steps, sized so that 07's 56 runs fit about 20
 * minutes of the 2-core machine from an empty cache: measured 2026-12-05, one run of 120 steps
 * cost 24 s of CPU (0.14 s per step of 4 × 2048 samples with the fused Snake kernel, about 3 s
 * for the k-means initialisation and three evaluations on 8 × 2.05 s), so 56 runs of 150 steps
 * ≈ 56 × 25 s / 2 cores ≈ 12 min, plus corpus loads and charts; validation 8 held-out segments of
 * 2.05 s (the listening clips are validation segments); quick: one seed of 2 × 4 steps, to
 * check that everything runs.
 */
export interface SpeechProfile {
  epochs: number;
  stepsPerEpoch: number;
  seeds: number[];
  /** Validation segments (an equal share per held-out speaker) and their length in samples. */
  validationSegments: number;
  validationSamples: number;
  /** Utterances in the listening table. */
  listen: number;
}

/** Profile sizes. [choice] Quick keeps every notebook to seconds; full is what reports show. */
export const PROFILES: Record<ProfileName, Profile> = {
  quick: {
    name: "quick",
    epochs: 3,
    stepsPerEpoch: 100,
    seeds: [0, 1],
    comparisonSeeds: [0, 1, 2],
    validationFrames: 2048,
    lastEpochs: 2,
    slopeFraction: 0.5,
    flatSlope: 0.1,
    longEpochs: 6,
    speech: {
      epochs: 2,
      stepsPerEpoch: 4,
      seeds: [0],
      validationSegments: 4,
      validationSamples: 16384,
      listen: 3,
    },
  },
  full: {
    name: "full",
    epochs: 10,
    stepsPerEpoch: 250,
    seeds: [0, 1, 2, 3],
    comparisonSeeds: [0, 1, 2, 3, 4, 5, 6, 7],
    validationFrames: 4096,
    lastEpochs: 3,
    slopeFraction: 0.5,
    flatSlope: 0.1,
    longEpochs: 40,
    speech: {
      epochs: 3,
      stepsPerEpoch: 50,
      seeds: [0, 1, 2, 3],
      validationSegments: 8,
      validationSamples: 16384,
      listen: 3,
    },
  },
};

/** The profile with its comparison seeds as `seeds` (for notebooks that compare MSEs). */
export function forComparison(profile: Profile): Profile {
  return { ...profile, seeds: profile.comparisonSeeds };
}

/**
 * The profile named by `QUANTLAB_PROFILE` (default: full), checked, with the notebook
 * parameters' overrides (`./quantlab run NB -p seeds 0,1 -p epochs 5 -p steps 50`, which the
 * executor passes as `QUANTLAB_SEEDS`, `QUANTLAB_EPOCHS`, `QUANTLAB_STEPS`; empty = the
 * profile's): `seeds` replaces both seed lists, `epochs` and `steps` the epochs and steps per
 * epoch of every run (the real-speech runs included). An invalid value throws naming it.
 *
 * @example
 * ```ts
 * import { currentProfile } from "./profiles.ts";
 * currentProfile().epochs; // 10 in the full profile, unless QUANTLAB_EPOCHS says otherwise
 * ```
 */
export function currentProfile(): Profile {
  const name = Deno.env.get("QUANTLAB_PROFILE") || "full";
  if (!(name in PROFILES)) {
    throw new Error(
      `QUANTLAB_PROFILE = ${JSON.stringify(name)} is invalid: expected "quick" or "full"`,
    );
  }
  return withOverrides(PROFILES[name as ProfileName], {
    seeds: Deno.env.get("QUANTLAB_SEEDS"),
    epochs: Deno.env.get("QUANTLAB_EPOCHS"),
    steps: Deno.env.get("QUANTLAB_STEPS"),
  });
}

/** Parameter values as the executor passes them (strings; "" or undefined: not given). */
export interface ProfileOverrides {
  seeds?: string;
  epochs?: string;
  steps?: string;
}

/** `profile` with the given overrides applied (see {@linkcode currentProfile}). */
export function withOverrides(profile: Profile, o: ProfileOverrides): Profile {
  const count = (what: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(
        `parameter ${what} = ${JSON.stringify(raw)} is invalid: expected an integer ≥ 1`,
      );
    }
    return n;
  };
  let out = profile;
  if (o.seeds) {
    const text = o.seeds.trim().replace(/^\[|\]$/g, "");
    const seeds = text.split(",").map((s) => Number(s.trim()));
    if (text === "" || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new Error(
        `parameter seeds = ${JSON.stringify(o.seeds)} is invalid: expected seeds such as 0,1,2`,
      );
    }
    out = { ...out, seeds, comparisonSeeds: seeds, speech: { ...out.speech, seeds } };
  }
  if (o.epochs) {
    const epochs = count("epochs", o.epochs);
    out = {
      ...out,
      epochs,
      lastEpochs: Math.min(out.lastEpochs, epochs),
      speech: { ...out.speech, epochs },
    };
  }
  if (o.steps) {
    const stepsPerEpoch = count("steps", o.steps);
    out = { ...out, stepsPerEpoch, speech: { ...out.speech, stepsPerEpoch } };
  }
  return out;
}

/** A config input with the profile's epochs, steps and validation size applied. */
export function withProfile(profile: Profile, input: ConfigInput): ConfigInput {
  return {
    ...input,
    data: { ...input.data, validationFrames: profile.validationFrames },
    train: { epochs: profile.epochs, stepsPerEpoch: profile.stepsPerEpoch, ...input.train },
  };
}

/** One config per seed of the profile. */
export function overSeeds(profile: Profile, input: ConfigInput): ConfigInput[] {
  return profile.seeds.map((seed) =>
    withProfile(profile, { ...input, train: { ...input.train, seed } })
  );
}

/** Sizes of the PostRVQ experiments per profile. Every field is a [choice]. */
export interface PostRvqProfile {
  name: ProfileName;
  /** Batch of decoder finetuning and of the end-to-end baseline (and of the latent draws). */
  batchSize: number;
  /** Steps of decoder finetuning and of the end-to-end baseline (the same budget). */
  finetuneSteps: number;
  /** Training-split latent frames the offline quantizers are fitted on. */
  fitFrames: number;
  /** Lloyd iterations at most per k-means. */
  kmeansIterations: number;
  /** Held-out windows of active speech and their length in samples. */
  validationSegments: number;
  validationSamples: number;
  /** Utterances (columns) of the listening tables. */
  listenRows: number;
}

/**
 * Profile sizes [choice]. The continuous model is the committed base model (`base_model.ts`), so
 * nothing is trained from scratch. Quick keeps each notebook within CI's 3 minutes (few
 * finetuning steps, small k-means, 4 held-out windows: one per speaker); full is what the report
 * shows. Measured from an empty cache with the fused Snake kernel, on the 2-core machine under
 * load (load average ≈ 11, other agents training): full 08 in 9.4 min wall (3.6 min of CPU:
 * finetuning 300 steps 170 s, end-to-end 300 steps 283 s, each evaluation on 16 × 2.05 s 5–13 s,
 * anchors 24 s), then 09 in 2.6 min (1.3 min of CPU; 08's PostRVQ rates are 09's rvq-stage
 * rows, shared through the result store); quick 08 in 59 s and 09 in 79 s (20 s and 24 s of
 * CPU); from a warm cache 20–25 s each.
 */
export const POSTRVQ_PROFILES: Record<ProfileName, PostRvqProfile> = {
  quick: {
    name: "quick",
    batchSize: 4,
    finetuneSteps: 8,
    fitFrames: 4096,
    kmeansIterations: 8,
    validationSegments: 4,
    validationSamples: 16384,
    listenRows: 3,
  },
  full: {
    name: "full",
    batchSize: 8,
    finetuneSteps: 300,
    fitFrames: 16384,
    kmeansIterations: 20,
    validationSegments: 16,
    validationSamples: 16384,
    listenRows: 4,
  },
};

/** The PostRVQ profile called `name` (a notebook's `profile` parameter); throws naming it otherwise. */
export function postRvqProfileNamed(name: string): PostRvqProfile {
  if (!Object.hasOwn(POSTRVQ_PROFILES, name)) {
    throw new Error(
      `profile must be one of ${Object.keys(POSTRVQ_PROFILES).join(", ")}, got ${
        JSON.stringify(name)
      }`,
    );
  }
  return POSTRVQ_PROFILES[name as ProfileName];
}

/** The PostRVQ profile named by `QUANTLAB_PROFILE` (default full). */
export function postRvqProfile(): PostRvqProfile {
  return POSTRVQ_PROFILES[currentProfile().name];
}
