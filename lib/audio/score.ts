/**
 * One scorecard for every speech system, learned or not: per segment SI-SDR, DAC-style mel L1,
 * F0 agreement, voicing agreement and level, computed the same way for the conv codec's
 * validation ({@linkcode SpeechMeter} in `sources/speech.ts`), the anchor codecs and the base
 * model's benchmark, so their rows are comparable.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { siSdr } from "./metrics.ts";
import { levelDb, pitchAgreement } from "./pitch.ts";
import { melSpectrogramLoss } from "./stft.ts";

/** Per-segment scores, in segment order. */
export interface SegmentScores {
  /** SI-SDR, dB (NaN for a silent reference). */
  siSdr: number[];
  /** Multi-scale mel L1 (`melSpectrogramLoss` at the sample rate). */
  melL1: number[];
  /** Share of the original's voiced frames with the decoded F0 within 5 % (NaN: none voiced). */
  f0Agreement: number[];
  /** Share of frames whose voicing decisions agree. */
  voicingAgreement: number[];
  /** Decoded power relative to the original, dB. */
  levelDb: number[];
}

/** The names of {@linkcode SegmentScores}, in table order. */
export const SCORE_NAMES = [
  "siSdr",
  "melL1",
  "f0Agreement",
  "voicingAgreement",
  "levelDb",
] as const;

/** Empty scores, to append to. */
export function emptyScores(): SegmentScores {
  return { siSdr: [], melL1: [], f0Agreement: [], voicingAgreement: [], levelDb: [] };
}

/**
 * Score `decoded` against `reference`, both flat [count, length] at `sampleRate`, appending to
 * `into` when given. Mel L1 runs on the tfjs backend (a tensor op), the rest in float64.
 */
export function scoreSegments(
  decoded: Float32Array,
  reference: Float32Array,
  count: number,
  length: number,
  sampleRate: number,
  into: SegmentScores = emptyScores(),
): SegmentScores {
  if (decoded.length !== count * length || reference.length !== count * length) {
    throw new RangeError(
      `scoreSegments: expected ${count}×${length} samples, got ${decoded.length} and ${reference.length}`,
    );
  }
  const mel = tf.tidy(() => {
    const a = tf.tensor2d(decoded, [count, length]);
    const b = tf.tensor2d(reference, [count, length]);
    return tf.stack(
      Array.from({ length: count }, (_, i) =>
        melSpectrogramLoss(
          tf.slice(a, [i, 0], [1, length]),
          tf.slice(b, [i, 0], [1, length]),
          sampleRate,
        )),
    );
  });
  const mels = Array.from(mel.dataSync());
  mel.dispose();
  for (let i = 0; i < count; i++) {
    const d = decoded.subarray(i * length, (i + 1) * length);
    const r = reference.subarray(i * length, (i + 1) * length);
    const pitch = pitchAgreement(d, r, sampleRate);
    into.siSdr.push(siSdr(d, r));
    into.melL1.push(mels[i]);
    into.f0Agreement.push(pitch.f0Agreement);
    into.voicingAgreement.push(pitch.voicingAgreement);
    into.levelDb.push(levelDb(d, r));
  }
  return into;
}

/** Mean of the defined (non-NaN) values; NaN when none is. */
export function definedMean(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length ? defined.reduce((s, v) => s + v, 0) / defined.length : NaN;
}

/** The mean of every score (NaN values left out). */
export function meanScores(s: SegmentScores): Record<(typeof SCORE_NAMES)[number], number> {
  return Object.fromEntries(SCORE_NAMES.map((n) => [n, definedMean(s[n])])) as Record<
    (typeof SCORE_NAMES)[number],
    number
  >;
}
