/**
 * The speech data source: config → corpus (fetched when missing) → {@linkcode SpeechSegments}.
 * A trainer's source adapter calls `trainBatch(step, batchSize)` and reads `validation`.
 *
 * Memory: the training split at 8 kHz is ≈ 125 min = 60 M samples = 240 MB as Float32 (held once,
 * normalised in place); at 16 kHz twice that, and loading it upsamples with libsamplerate's best
 * sinc (≈ 1.5 s per minute of audio measured on this machine, so minutes for the whole split).
 *
 * @example
 * ```ts ignore
 * import { loadSpeechSource, resolveSpeechConfig } from "./source.ts";
 * const speech = await loadSpeechSource(resolveSpeechConfig({ segmentSamples: 4096 }));
 * const { x, count, length } = speech.trainBatch(0, 16); // tf.tensor2d(x, [count, length])
 * ```
 *
 * @module
 */
import { ConfigError } from "../config.ts";
import { DEFAULT_HELD_OUT, ensureSpeechData, loadSplit } from "./corpus.ts";
import { type Normalisation, SpeechSegments } from "./segments.ts";

/** Real speech from Debian's packages (`./quantlab data`). */
export interface SpeechDataConfig {
  kind: "speech";
  /** Corpus sample rate in Hz; files at other rates are resampled. [choice: 8000, telephone band,
   * because only ~1 min of lossless 16 kHz speech is available offline] */
  sampleRate: number;
  /** Samples per training and validation segment. [choice] */
  segmentSamples: number;
  /** Level normalisation per utterance (see `segments.ts`). [choice] */
  normalisation: Normalisation;
  /** Target level, dBFS: active-speech RMS for "utterance-rms", peak for "utterance-peak". [choice] */
  targetDb: number;
  /** The Asterisk speaker held out for validation. [choice] */
  heldOutSpeaker: string;
  /** Size of the fixed validation set, in segments. [choice] */
  validationSegments: number;
  /** Seed of the training segment draws. */
  seed: number;
}

/** Defaults of {@linkcode SpeechDataConfig}. */
export const SPEECH_DEFAULTS: SpeechDataConfig = {
  kind: "speech",
  sampleRate: 8000,
  segmentSamples: 8000,
  normalisation: "utterance-rms",
  targetDb: -20,
  heldOutSpeaker: DEFAULT_HELD_OUT,
  validationSegments: 64,
  seed: 0,
};

const NORMALISATIONS: Normalisation[] = ["utterance-rms", "utterance-peak", "none"];

/** Fill defaults and validate; errors name the field (`data.<field>`). Unknown fields are rejected. */
export function resolveSpeechConfig(input: Partial<SpeechDataConfig> = {}): SpeechDataConfig {
  for (const key of Object.keys(input)) {
    if (!(key in SPEECH_DEFAULTS)) {
      throw new ConfigError(
        `data.${key}`,
        (input as Record<string, unknown>)[key],
        `one of ${Object.keys(SPEECH_DEFAULTS).join(", ")}`,
      );
    }
  }
  const cfg = { ...SPEECH_DEFAULTS, ...input };
  const positiveInt = (field: keyof SpeechDataConfig) => {
    const v = cfg[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new ConfigError(`data.${field}`, v, "a positive integer");
    }
  };
  if (cfg.kind !== "speech") throw new ConfigError("data.kind", cfg.kind, '"speech"');
  positiveInt("sampleRate");
  positiveInt("segmentSamples");
  positiveInt("validationSegments");
  if (!Number.isInteger(cfg.seed) || cfg.seed < 0) {
    throw new ConfigError("data.seed", cfg.seed, "a non-negative integer");
  }
  if (!NORMALISATIONS.includes(cfg.normalisation)) {
    throw new ConfigError("data.normalisation", cfg.normalisation, NORMALISATIONS.join(" | "));
  }
  if (!Number.isFinite(cfg.targetDb) || cfg.targetDb > 0) {
    throw new ConfigError("data.targetDb", cfg.targetDb, "a finite level ≤ 0 dBFS");
  }
  if (!cfg.heldOutSpeaker.startsWith("asterisk:")) {
    throw new ConfigError(
      "data.heldOutSpeaker",
      cfg.heldOutSpeaker,
      'an Asterisk speaker id ("asterisk:…")',
    );
  }
  return cfg;
}

/**
 * Fetch (when missing) and verify the corpus, load both splits at `config.sampleRate`, and build
 * the segment source. `dir` overrides the corpus directory.
 */
export async function loadSpeechSource(
  config: SpeechDataConfig,
  opts: { dir?: string; log?: (msg: string) => void } = {},
): Promise<SpeechSegments> {
  const cfg = resolveSpeechConfig(config);
  const manifest = await ensureSpeechData({
    dir: opts.dir,
    heldOutSpeaker: cfg.heldOutSpeaker,
    log: opts.log,
  });
  const train = await loadSplit(manifest, "train", cfg.sampleRate, opts.dir);
  const validation = await loadSplit(manifest, "validation", cfg.sampleRate, opts.dir);
  return new SpeechSegments(train, validation, {
    length: cfg.segmentSamples,
    seed: cfg.seed,
    normalisation: cfg.normalisation,
    targetDb: cfg.targetDb,
    validationSegments: cfg.validationSegments,
    inPlace: true,
  });
}
