/**
 * The speech source's config (`data.kind = "speech"`): its fields, defaults and validation, beside
 * the source (`speech.ts`) and registered in `mod.ts`.
 *
 * @module
 */
import { checkInt, checkNumber, checkOneOf, ConfigError } from "../kinds.ts";

/**
 * Real speech (`lib/audio/`, `./quantlab data`) cut into fixed-length segments, for the conv codec
 * (`lib/sources/speech.ts`). The first eight fields choose the corpus and cut the segments; the
 * rest size the validation set and weight the loss.
 */
export interface SpeechSourceConfig {
  kind: "speech";
  /** Corpus sample rate, Hz; files at other rates are resampled. [choice: 8 kHz telephone band] */
  sampleRate: number;
  /** Samples per training segment (a multiple of the codec's hop). [choice] */
  segmentSamples: number;
  /** Level normalisation per utterance (`lib/audio/segments.ts`). [choice] */
  normalisation: "utterance-rms" | "utterance-peak" | "none";
  /** Target level, dBFS. [choice] */
  targetDb: number;
  /** The Asterisk speaker held out for validation (the codec never hears it). [choice] */
  heldOutSpeaker: string;
  /** Size of the fixed validation set, in segments (equal share per validation speaker). [choice] */
  validationSegments: number;
  /** Seed of the training segment draws, mixed with `train.seed`. */
  seed: number;
  /** Samples per validation segment (longer than training segments, so they can be listened to). [choice] */
  validationSamples: number;
  /** Validation segments per forward pass. [choice] */
  validationBatch: number;
  /** Weight of the waveform L1 loss mean|ŷ − y|. [choice] */
  waveformWeight: number;
  /** Weight of the multi-scale log-magnitude STFT L1 loss (`logMagnitudeStftLoss`). [choice] */
  spectralWeight: number;
  /** Hann windows of the spectral loss, hop window/4. [choice: 64, 256, 1024, the conv reference step's] */
  spectralWindows: number[];
  /** Weight of DAC's multi-scale mel L1 loss in training (`melSpectrogramLoss`); validation always reports it. [choice: 0, off] */
  melWeight: number;
  /**
   * Weight of a scale-invariant SDR term, w·mean over segments of −SI-SDR(ŷ, y) in dB: the
   * magnitude losses are phase-blind, this asks for the waveform; the L1 and spectral terms anchor
   * the output level. [choice; absent = 0]
   */
  siSdrWeight?: number;
  /**
   * Validation segments are windows with at least this share of active speech frames, from every
   * validation speaker that has such windows (`activeValidationPicks` of `lib/audio/segments.ts`),
   * instead of each file's first samples. [choice; absent = first samples, zero-padded]
   */
  validationMinActive?: number;
}

/**
 * Defaults of `data.kind = "speech"` [choice]: 8 kHz, training segments of 4096 samples (0.51 s,
 * a multiple of the conv codec's default hop 128), 32 validation segments of 16384 samples
 * (2.05 s) in batches of 8, loss = waveform L1 + log-magnitude STFT L1 at windows 64/256/1024
 * (the conv reference step's loss), no mel term in training.
 */
export const SPEECH_SOURCE_DEFAULTS: SpeechSourceConfig = {
  kind: "speech",
  sampleRate: 8000,
  segmentSamples: 4096,
  normalisation: "utterance-rms",
  targetDb: -20,
  heldOutSpeaker: "asterisk:june-wallack",
  validationSegments: 32,
  seed: 0,
  validationSamples: 16384,
  validationBatch: 8,
  waveformWeight: 1,
  spectralWeight: 1,
  spectralWindows: [64, 256, 1024],
  melWeight: 0,
};

/** Throw a {@linkcode ConfigError} naming the first bad field (as `data.<field>`). */
export function validateSpeech(d: SpeechSourceConfig): void {
  checkInt("data.sampleRate", d.sampleRate, 1000, 192000);
  checkInt("data.segmentSamples", d.segmentSamples, 1, 1 << 22);
  checkOneOf("data.normalisation", d.normalisation, ["utterance-rms", "utterance-peak", "none"]);
  checkNumber("data.targetDb", d.targetDb, -200, 0);
  if (typeof d.heldOutSpeaker !== "string" || !d.heldOutSpeaker.startsWith("asterisk:")) {
    throw new ConfigError(
      "data.heldOutSpeaker",
      d.heldOutSpeaker,
      'an Asterisk speaker id ("asterisk:…")',
    );
  }
  checkInt("data.validationSegments", d.validationSegments, 1, 1 << 16);
  checkInt("data.seed", d.seed, 0, 2 ** 32 - 1);
  checkInt("data.validationSamples", d.validationSamples, 1, 1 << 24);
  checkInt("data.validationBatch", d.validationBatch, 1, 1 << 16);
  checkNumber("data.waveformWeight", d.waveformWeight, 0, 1e6);
  checkNumber("data.spectralWeight", d.spectralWeight, 0, 1e6);
  if (
    !Array.isArray(d.spectralWindows) ||
    !d.spectralWindows.every((w) => Number.isInteger(w) && w >= 4 && w <= d.segmentSamples)
  ) {
    throw new ConfigError(
      "data.spectralWindows",
      d.spectralWindows,
      `a list of integer window lengths in [4, data.segmentSamples = ${d.segmentSamples}]`,
    );
  }
  checkNumber("data.melWeight", d.melWeight, 0, 1e6);
  if (d.siSdrWeight !== undefined) checkNumber("data.siSdrWeight", d.siSdrWeight, 0, 1e6);
  if (d.validationMinActive !== undefined) {
    checkNumber("data.validationMinActive", d.validationMinActive, 0, 1);
    if (d.validationMinActive <= 0) {
      throw new ConfigError("data.validationMinActive", d.validationMinActive, "a share in (0, 1]");
    }
  }
  if (d.waveformWeight + d.spectralWeight + d.melWeight <= 0) {
    throw new ConfigError(
      "data.waveformWeight",
      d.waveformWeight,
      "a loss: at least one of data.waveformWeight, spectralWeight, melWeight > 0",
    );
  }
}
