/**
 * Notebook 07: paper A's STE / commitment loss / mSTE / noise-approximation verdicts on real
 * speech, on a codec that codes speech: the base continuous model (`base_model.ts`: the conv
 * codec with Snake, weight normalisation and the frozen PCA linear path, held-out SI-SDR +8 dB)
 * with an RVQ inserted between encoder and decoder, fine-tuned by the ordinary trainer with each
 * passer. Beside every passer runs the continuous reference: the same fine-tuning with no
 * quantizer, so a passer's numbers are read against what the codec reaches without one.
 *
 * [paper A] validated on LibriTTS with DAC: plain STE without commitment loss (CL) diverged at
 * once (max |embedding| above 1e15), mSTE trained stably and lowered MA-E, attached noise
 * approximation (NA) beat detached. Paper A trains from scratch.
 *
 * Here [choice, every item a constant below or a field of the profile]:
 * - {@linkcode SPEECH_START}: runs start from the base model's weights (`codec.weights`, the
 *   committed checkpoint, hash-checked) with the quantizer inserted and k-means-initialised on
 *   its latents, or from scratch with the base model's recipe;
 * - RVQ of 5 stages × 8 bits (notebook 08's comparison rung, 2500 bit/s at 62.5 frames/s) in two
 *   set-ups: DAC's l2-normalised (cosine) code choice, which ignores |z| so nothing but CL bounds
 *   it, and a plain Euclidean RVQ;
 * - the base recipe's loss (waveform L1 + mel L1 − 0.15·SI-SDR) and gradient clipping, Adam at a
 *   constant {@linkcode BASE_LEARNING_RATE}, training segments of 4 × 2048 samples;
 * - the "conditions": STE without CL, STE + CL and mSTE at {@linkcode CONDITION_LEARNING_RATE},
 *   DAC set-up, to see whether plain STE diverges where the others do not.
 *
 * Verdicts: "bounded" / "diverged" per seed by the proxy's rules (`isBounded`, the trainer's
 * `train.divergenceThreshold` at its default, as notebook 02), and comparisons of two passers by
 * the paired rule (`verdicts.ts`, `lib/stats.ts`) over seeds on the final held-out mel L1.
 *
 * @module
 */
import { type ConfigInput, type QuantizerConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { LADDER } from "../quantizers/offline/ladder.ts";
import { BASE_MODEL_FILES, baseModelInput } from "./base_model.ts";
import { currentProfile, type Profile, type ProfileName, PROFILES, runConfigs } from "./common.ts";
import { SPEECH_JOB } from "./speech_job.ts";

/**
 * Where the runs start [choice]: `"base"` — the committed base model's weights with the
 * quantizer inserted (fine-tuning); `"scratch"` — the base model's recipe from its seeded and
 * PCA initialisation, as paper A trains. Default `"base"`: it answers "what does this passer do
 * to a codec that works", and at this notebook's budget (a few hundred steps) only a run that
 * starts from a working codec codes speech at all — the base model needed 3000 steps and 50
 * minutes of one core to get there.
 */
export type Start = "base" | "scratch";

/** The default start of notebook 07's runs (see {@linkcode Start}). [choice] */
export const SPEECH_START: Start = "base";

/** Why {@linkcode SPEECH_START}, in one sentence for the page. */
export const START_REASON: Record<Start, string> = {
  base: "fine-tuning from the base model: it answers what a passer does to a codec that already " +
    "codes speech, and costs a few hundred steps where training from scratch needed 3000 " +
    "(paper A trains from scratch)",
  scratch: "from scratch with the base model's recipe, as paper A trains",
};

/** Adam's learning rate of every group but the "conditions" (constant). [choice: inside the base recipe's 5e-4 → 5e-5] */
export const BASE_LEARNING_RATE = 1e-4;

/** The conditions' learning rate: 1000× {@linkcode BASE_LEARNING_RATE}. [choice] */
export const CONDITION_LEARNING_RATE = 1e-1;

/** Training examples per step and their length in samples (0.26 s). [choice, sized for time] */
export const TRAIN_BATCH = { batchSize: 4, segmentSamples: 2048 } as const;

/** The base model's checkpoint as `codec.weights` (its hash read from the committed provenance). */
export function baseWeights(): { checkpoint: string; sha256: string } {
  const provenance = JSON.parse(Deno.readTextFileSync(BASE_MODEL_FILES.provenance));
  return { checkpoint: "data/base/continuous.qlartf", sha256: provenance.sha256 };
}

/** [paper]/[choice] labels of this notebook's config fields for `settingsTable`. */
export const SPEECH_LABELS: Record<string, string> = {
  "data.kind": "choice: real speech from Debian packages (paper A: LibriTTS)",
  "data.sampleRate": "choice: 8 kHz (DAC: 44.1 kHz)",
  "codec.kind": "paper A: DAC; here the base model's conv codec (choice of sizes)",
  "codec.weights.checkpoint":
    "choice: start from the base model's weights (fine-tuning; paper A: from scratch)",
  "codec.weights.sha256": "the committed checkpoint's hash",
  "quantizer.kind": "paper A / DAC: RVQ; none for the continuous reference",
  "quantizer.lookup": "DAC: l2-normalised (cosine) code choice; euclidean: choice",
  "quantizer.stages": "choice: notebook 08's comparison rung (5 × 8 bits)",
  "passer.kind": "paper A: STE, mSTE, noise approximation",
  "passer.sigma": "choice: σ_E per tensor or per channel",
  "train.commitment": "paper A names commitment loss; β = 0.25 from DAC",
  "train.learningRate": `choice: ${BASE_LEARNING_RATE} (conditions: ${CONDITION_LEARNING_RATE})`,
  "train.divergenceThreshold": "choice: the proxy's default, as notebook 02",
  "quantizer.learning": "paper A / DAC: codebook loss",
};

/** A quantizer set-up (or none, for the continuous reference). */
export interface Setup {
  id: "dac" | "euclidean" | "continuous";
  label: string;
  quantizer: Partial<QuantizerConfig> & { kind: QuantizerConfig["kind"] };
}

const RUNG = LADDER[1];

/**
 * The two set-ups [choice: RVQ of notebook 08's comparison rung, 5 stages × 8 bits, k-means
 * init on the base model's latents]: DAC's l2-normalised code choice [paper A's DAC] and a plain
 * Euclidean RVQ.
 */
export const SETUPS: Setup[] = [
  {
    id: "dac",
    label: "DAC lookup (cosine)",
    quantizer: {
      kind: "rvq",
      stages: RUNG.stages,
      bitsPerStage: 8,
      init: "kmeans",
      lookup: "cosine",
    },
  },
  {
    id: "euclidean",
    label: "Euclidean RVQ",
    quantizer: { kind: "rvq", stages: RUNG.stages, bitsPerStage: 8, init: "kmeans" },
  },
];

/** The continuous reference's set-up: no quantizer. */
export const CONTINUOUS: Setup = {
  id: "continuous",
  label: "no quantizer",
  quantizer: { kind: "none" },
};

/** A passer configuration. */
export interface PasserGroup {
  id: string;
  label: string;
  input: ConfigInput;
}

/** The five passer configurations of paper A [paper A; β = 0.25 from DAC]. */
export const PASSERS: PasserGroup[] = [
  { id: "ste", label: "STE, no CL", input: { passer: { kind: "ste" } } },
  {
    id: "ste-cl",
    label: "STE + CL (β = 0.25)",
    input: { passer: { kind: "ste" }, train: { commitment: 0.25 } },
  },
  { id: "mste", label: "mSTE, no CL", input: { passer: { kind: "mste" } } },
  { id: "na-attached", label: "NA attached", input: { passer: { kind: "na-attached" } } },
  { id: "na-detached", label: "NA detached", input: { passer: { kind: "na-detached" } } },
];

/** The continuous reference: the same fine-tuning without a quantizer. */
export const REFERENCE: PasserGroup = {
  id: "continuous",
  label: "continuous reference (no quantizer)",
  input: {},
};

/**
 * STE without CL, STE + CL and mSTE at {@linkcode CONDITION_LEARNING_RATE}, DAC set-up only
 * [choice]: if plain STE does not diverge at the base rate in a run this short, does it at a
 * rate where the others stay bounded? Stated, not tuned.
 */
export const CONDITIONS: PasserGroup[] = [
  {
    id: "ste-lr-high",
    label: `STE, no CL, lr ${CONDITION_LEARNING_RATE}`,
    input: { passer: { kind: "ste" }, train: { learningRate: CONDITION_LEARNING_RATE } },
  },
  {
    id: "ste-cl-lr-high",
    label: `STE + CL, lr ${CONDITION_LEARNING_RATE}`,
    input: {
      passer: { kind: "ste" },
      train: { commitment: 0.25, learningRate: CONDITION_LEARNING_RATE },
    },
  },
  {
    id: "mste-lr-high",
    label: `mSTE, no CL, lr ${CONDITION_LEARNING_RATE}`,
    input: { passer: { kind: "mste" }, train: { learningRate: CONDITION_LEARNING_RATE } },
  },
];

/** A passer group of one set-up with its runs (one per seed, in seed order). */
export interface SpeechGroup extends PasserGroup {
  setup: Setup;
  runs: RunResult[];
}

/** Everything notebook 07 shows. */
export interface SpeechExperiment {
  profile: Profile;
  start: Start;
  groups: SpeechGroup[];
}

function merge(...inputs: ConfigInput[]): ConfigInput {
  const out: Record<string, Record<string, unknown>> = {};
  for (const input of inputs) {
    for (const [k, v] of Object.entries(input)) out[k] = { ...out[k], ...v };
  }
  return out as ConfigInput;
}

/**
 * The config of one group and seed under a profile: the base model's recipe (`base_model.ts`)
 * with {@linkcode TRAIN_BATCH}, the set-up's quantizer, the passer, and the profile's steps and
 * validation set; from the base model's weights or from scratch (`start`).
 */
export function configOf(
  profile: Profile,
  setup: Setup,
  passer: PasserGroup,
  seed: number,
  start: Start = SPEECH_START,
): ConfigInput {
  const p = profile.speech;
  const recipe = baseModelInput();
  return merge(
    {
      data: {
        ...recipe.data,
        segmentSamples: TRAIN_BATCH.segmentSamples,
        validationSegments: p.validationSegments,
        validationSamples: p.validationSamples,
      },
      codec: start === "base" ? { ...recipe.codec, weights: baseWeights() } : recipe.codec,
      train: {
        batchSize: TRAIN_BATCH.batchSize,
        learningRate: BASE_LEARNING_RATE,
        gradClip: recipe.train!.gradClip,
        traceEvery: 1,
      },
    },
    { quantizer: setup.quantizer },
    passer.input,
    { train: { epochs: p.epochs, stepsPerEpoch: p.stepsPerEpoch, seed } },
  );
}

/** Every group of the notebook: the continuous reference, the five passers in both set-ups, the conditions. */
export function groupsOf(): { setup: Setup; passer: PasserGroup }[] {
  return [
    { setup: CONTINUOUS, passer: REFERENCE },
    ...SETUPS.flatMap((setup) => PASSERS.map((passer) => ({ setup, passer }))),
    ...CONDITIONS.map((passer) => ({ setup: SETUPS[0], passer })),
  ];
}

/**
 * The profile with the notebook's parameters applied: `seeds` replaces the speech seeds, `steps`
 * the training budget (spread over the profile's epochs, rounded up). null keeps the profile's.
 */
export function withParameters(
  profile: Profile,
  { seeds = null, steps = null }: { seeds?: number[] | null; steps?: number | null } = {},
): Profile {
  if (
    seeds !== null && !(Array.isArray(seeds) && seeds.length > 0 && seeds.every(Number.isInteger))
  ) {
    throw new Error(
      `07 parameters: seeds = ${
        JSON.stringify(seeds)
      } is invalid: expected a non-empty list of integers`,
    );
  }
  if (steps !== null && !(Number.isInteger(steps) && steps >= profile.speech.epochs)) {
    throw new Error(
      `07 parameters: steps = ${
        JSON.stringify(steps)
      } is invalid: expected an integer ≥ ${profile.speech.epochs} (the epochs)`,
    );
  }
  const s = profile.speech;
  return {
    ...profile,
    speech: {
      ...s,
      seeds: seeds ?? s.seeds,
      stepsPerEpoch: steps === null ? s.stepsPerEpoch : Math.ceil(steps / s.epochs),
    },
  };
}

/** The notebook's parameters cell as a profile: `name` checked, then {@linkcode withParameters}. */
export function profileOf(
  name: string,
  parameters: { seeds?: number[] | null; steps?: number | null } = {},
): Profile {
  if (!(name in PROFILES)) {
    throw new Error(
      `07 parameters: profile = ${JSON.stringify(name)} is invalid: expected "quick" or "full"`,
    );
  }
  return withParameters(PROFILES[name as ProfileName], parameters);
}

/** Run (or read from the cache) every group over the profile's speech seeds, in one grid. */
export async function run(
  profile: Profile = currentProfile(),
  start: Start = SPEECH_START,
): Promise<SpeechExperiment> {
  const seeds = profile.speech.seeds;
  const all = groupsOf();
  const inputs = all.flatMap(({ setup, passer }) =>
    seeds.map((seed) => configOf(profile, setup, passer, seed, start))
  );
  const results = await runConfigs("07 real speech", inputs, { job: SPEECH_JOB });
  return {
    profile,
    start,
    groups: all.map(({ setup, passer }, i) => ({
      ...passer,
      setup,
      runs: results.slice(i * seeds.length, (i + 1) * seeds.length),
    })),
  };
}

/** The five passer groups of one set-up (not the conditions). */
export function groupsOfSetup(x: SpeechExperiment, id: Setup["id"]): SpeechGroup[] {
  const conditions = new Set(CONDITIONS.map((c) => c.id));
  return x.groups.filter((g) => g.setup.id === id && !conditions.has(g.id));
}

/** The "conditions" groups (larger learning rate, DAC set-up). */
export function conditionGroups(x: SpeechExperiment): SpeechGroup[] {
  const conditions = new Set(CONDITIONS.map((c) => c.id));
  return x.groups.filter((g) => conditions.has(g.id));
}

/** The continuous reference group. */
export function referenceGroup(x: SpeechExperiment): SpeechGroup {
  return find(x, "continuous", REFERENCE.id);
}

/** The group `id` of set-up `setup` (throws naming both when absent). */
export function find(x: SpeechExperiment, setup: Setup["id"], id: string): SpeechGroup {
  const g = x.groups.find((g) => g.setup.id === setup && g.id === id);
  if (!g) throw new Error(`speech experiment: no group ${id} in set-up ${setup}`);
  return g;
}
