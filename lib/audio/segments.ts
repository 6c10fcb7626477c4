/**
 * Fixed-length speech segments for training and validation, as flat `Float32Array` batches
 * [count, length] row-major (what a trainer's source hands to `tf.tensor2d`).
 *
 * - Training: {@linkcode SpeechSegments.trainBatch}(step, batchSize) is a pure function of
 *   (seed, step, batchSize): the same step gives the same batch in any call order, so a resumed
 *   or sharded run sees the same data. Each segment picks an utterance with probability
 *   proportional to its length (uniform over training audio) [choice], then a uniform start; an
 *   utterance shorter than the segment is placed at a uniform offset in zeros.
 * - Validation: {@linkcode SpeechSegments.validation} is fixed: up to `validationSegments`
 *   segments, the first `length` samples of validation utterances, zero-padded when shorter. Every
 *   speaker gets an equal share of the segments (all its files when it has fewer), its files
 *   evenly spaced [choice], so the small LibriVox and codec2 sets are not drowned by the held-out
 *   Asterisk voice.
 * - Active validation ({@linkcode activeValidationPicks}, option `minActive`): instead of each
 *   file's first samples, windows of `length` samples in which at least `minActive` of the 20 ms
 *   frames are active speech (within {@linkcode ACTIVE_RANGE_DB} dB of the utterance's loudest
 *   frame) [choice]; candidate windows start every quarter window, a speaker's windows do not
 *   overlap, every speaker with an eligible window gets an equal share, spread over its files and
 *   over each file. Used where segments are listened to and scored as speech (notebooks 08, 09).
 * - Level [choice, `normalisation`]: "utterance-rms" (default) scales each utterance so the RMS of
 *   its active speech is `targetDb` dBFS (default −20): active = the 20 ms frames within 40 dB of
 *   the utterance's loudest frame, so pauses do not inflate the gain; the result is clipped to
 *   [−1, 1]. "utterance-peak" scales each utterance's peak to `targetDb`; "none" keeps the
 *   recorded level. Per utterance, not per segment, so silence in a segment stays silence.
 *
 * @example
 * ```ts
 * import { SpeechSegments } from "./segments.ts";
 * const utt = { file: "a", speaker: "s", language: "en", sampleRate: 8000, samples: new Float32Array(8000).fill(0.1) };
 * const seg = new SpeechSegments([utt], [utt], { length: 1024, seed: 1 });
 * const { x, count, length } = seg.trainBatch(0, 4); // x.length === 4 * 1024
 * ```
 *
 * @module
 */
import { rngFor } from "../random.ts";
import type { Utterance } from "./corpus.ts";

/** Level normalisation of utterances [choice]. */
export type Normalisation = "utterance-rms" | "utterance-peak" | "none";

/** Options of {@linkcode SpeechSegments}. */
export interface SegmentOptions {
  /** Samples per segment. */
  length: number;
  /** Seed of the training draws (default 0). */
  seed?: number;
  /** Level normalisation [choice] (default "utterance-rms"). */
  normalisation?: Normalisation;
  /** Target level in dBFS: active-speech RMS or peak (default −20 for rms, −1 for peak). */
  targetDb?: number;
  /** Size of the fixed validation set (default 64). */
  validationSegments?: number;
  /** Normalise the utterances' sample arrays in place instead of copying (saves memory). */
  inPlace?: boolean;
  /**
   * Validation windows with at least this share of active 20 ms frames (module doc); absent =
   * each validation file's first `length` samples, zero-padded.
   */
  minActive?: number;
}

/** A batch: `x[i * length + t]`, `count` segments of `length` samples. */
export interface SegmentBatch {
  x: Float32Array;
  count: number;
  length: number;
}

/** RMS (dBFS) of the 20 ms frames within 40 dB of the loudest frame; −Infinity when silent. */
export function activeRmsDb(x: Float32Array, sampleRate: number): number {
  const frame = Math.max(1, Math.round(0.02 * sampleRate));
  const energies: number[] = [];
  for (let a = 0; a < x.length; a += frame) {
    let e = 0;
    const b = Math.min(x.length, a + frame);
    for (let i = a; i < b; i++) e += x[i] * x[i];
    energies.push(e / (b - a));
  }
  const loudest = Math.max(0, ...energies);
  if (loudest === 0) return -Infinity;
  const active = energies.filter((e) => e >= loudest * 1e-4);
  return 10 * Math.log10(active.reduce((s, e) => s + e, 0) / active.length);
}

/**
 * Scale an utterance per the normalisation choice, clipped to [−1, 1]: a copy, or `x` itself when
 * `inPlace`.
 */
export function normalise(
  x: Float32Array,
  sampleRate: number,
  normalisation: Normalisation,
  targetDb?: number,
  inPlace = false,
): Float32Array {
  const out = inPlace ? x : x.slice();
  if (normalisation === "none") return out;
  let levelDb: number;
  if (normalisation === "utterance-rms") levelDb = activeRmsDb(x, sampleRate);
  else if (normalisation === "utterance-peak") {
    levelDb = 20 * Math.log10(x.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  } else {
    throw new Error(
      `segments: normalisation must be "utterance-rms", "utterance-peak" or "none", got ${normalisation}`,
    );
  }
  const target = targetDb ?? (normalisation === "utterance-rms" ? -20 : -1);
  if (!Number.isFinite(levelDb)) return out;
  const gain = 10 ** ((target - levelDb) / 20);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i] * gain));
  return out;
}

/** Training and validation segments drawn from utterances at one sample rate. */
export class SpeechSegments {
  readonly length: number;
  readonly seed: number;
  readonly normalisation: Normalisation;
  readonly sampleRate: number;
  /** The fixed validation set. */
  readonly validation: SegmentBatch;
  /** Which validation utterance each validation segment came from. */
  readonly validationSources: { file: string; speaker: string; start: number }[];
  readonly #train: Float32Array[];
  readonly #cumulative: Float64Array;

  constructor(train: Utterance[], validation: Utterance[], opts: SegmentOptions) {
    const { length } = opts;
    if (!Number.isInteger(length) || length < 1) {
      throw new Error(`segments: length must be a positive integer, got ${length}`);
    }
    if (train.length === 0) throw new Error("segments: the training split has no utterances");
    const rates = new Set([...train, ...validation].map((u) => u.sampleRate));
    if (rates.size !== 1) {
      throw new Error(`segments: utterances must share one sample rate, got ${[...rates]}`);
    }
    this.sampleRate = train[0].sampleRate;
    this.length = length;
    this.seed = opts.seed ?? 0;
    this.normalisation = opts.normalisation ?? "utterance-rms";
    const norm = (u: Utterance) =>
      normalise(u.samples, u.sampleRate, this.normalisation, opts.targetDb, opts.inPlace);
    this.#train = train.map(norm);
    this.#cumulative = new Float64Array(train.length);
    let total = 0;
    this.#train.forEach((s, i) => this.#cumulative[i] = total += Math.max(1, s.length));

    if (opts.minActive !== undefined) {
      const levelled = validation.map(norm);
      const picks = activeValidationPicks(levelled, validation.map((u) => u.speaker), {
        wanted: opts.validationSegments ?? 64,
        length,
        sampleRate: this.sampleRate,
        minActive: opts.minActive,
      });
      const x = new Float32Array(picks.length * length);
      picks.forEach((p, i) =>
        x.set(levelled[p.utterance].subarray(p.start, p.start + length), i * length)
      );
      this.validation = { x, count: picks.length, length };
      this.validationSources = picks.map((p) => ({
        file: validation[p.utterance].file,
        speaker: validation[p.utterance].speaker,
        start: p.start,
      }));
      return;
    }
    const wanted = Math.min(opts.validationSegments ?? 64, validation.length);
    const picks = _validationPicks(validation, wanted);
    const x = new Float32Array(wanted * length);
    picks.forEach((u, i) => {
      const s = norm(validation[u]);
      x.set(s.subarray(0, Math.min(length, s.length)), i * length);
    });
    this.validation = { x, count: wanted, length };
    this.validationSources = picks.map((u) => ({
      file: validation[u].file,
      speaker: validation[u].speaker,
      start: 0,
    }));
  }

  /** Seconds of training audio. */
  get trainSeconds(): number {
    return this.#cumulative[this.#cumulative.length - 1] / this.sampleRate;
  }

  /** The training batch of a step: deterministic in (seed, step, batchSize). */
  trainBatch(step: number, batchSize: number): SegmentBatch {
    if (!Number.isInteger(step) || step < 0) {
      throw new Error(`segments: step must be a non-negative integer, got ${step}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`segments: batchSize must be a positive integer, got ${batchSize}`);
    }
    const rng = rngFor(this.seed, `speech.train.${step}`);
    const { length } = this;
    const x = new Float32Array(batchSize * length);
    const total = this.#cumulative[this.#cumulative.length - 1];
    for (let b = 0; b < batchSize; b++) {
      const u = _search(this.#cumulative, rng.uniform() * total);
      const s = this.#train[u];
      if (s.length >= length) {
        const start = rng.int(s.length - length + 1);
        x.set(s.subarray(start, start + length), b * length);
      } else {
        const offset = rng.int(length - s.length + 1);
        x.set(s, b * length + offset);
      }
    }
    return { x, count: batchSize, length };
  }
}

/**
 * Which validation utterances make the fixed set: every speaker gets an equal share (a speaker
 * with fewer files gives all it has and the rest goes to the others), and within a speaker the
 * files are evenly spaced. Indices in input order.
 */
function _validationPicks(utterances: Utterance[], wanted: number): number[] {
  const bySpeaker = new Map<string, number[]>();
  utterances.forEach((u, i) => bySpeaker.set(u.speaker, [...(bySpeaker.get(u.speaker) ?? []), i]));
  const groups = [...bySpeaker.values()];
  return spreadPicks(groups, wanted).sort((a, b) => a - b);
}

/** A frame is active speech within this many dB of its utterance's loudest 20 ms frame. [choice] */
export const ACTIVE_RANGE_DB = 30;

/**
 * Per 20 ms frame of `x`, whether it is active: its energy within `rangeDb` of the loudest frame
 * of `reference` (default `x` itself; pass the whole utterance when `x` is a window of it).
 */
export function activeFrames(
  x: Float32Array,
  sampleRate: number,
  rangeDb = ACTIVE_RANGE_DB,
  loudest?: number,
): boolean[] {
  const energies = frameEnergies(x, sampleRate);
  const top = loudest ?? Math.max(0, ...energies);
  if (top === 0) return energies.map(() => false);
  const floor = top * 10 ** (-rangeDb / 10);
  return energies.map((e) => e > 0 && e >= floor);
}

/** Mean energy of each 20 ms frame (the last one may be shorter). */
export function frameEnergies(x: Float32Array, sampleRate: number): number[] {
  const frame = Math.max(1, Math.round(0.02 * sampleRate));
  const out: number[] = [];
  for (let a = 0; a < x.length; a += frame) {
    let e = 0;
    const b = Math.min(x.length, a + frame);
    for (let i = a; i < b; i++) e += x[i] * x[i];
    out.push(e / (b - a));
  }
  return out;
}

/** Share of active 20 ms frames of `x` (see {@linkcode activeFrames}). */
export function activeShare(
  x: Float32Array,
  sampleRate: number,
  rangeDb = ACTIVE_RANGE_DB,
  loudest?: number,
): number {
  const a = activeFrames(x, sampleRate, rangeDb, loudest);
  return a.length ? a.filter(Boolean).length / a.length : 0;
}

/** One validation window: which utterance, from which sample. */
export interface WindowPick {
  utterance: number;
  start: number;
}

/**
 * Validation windows of active speech (module doc): at most `wanted` windows of `length` samples
 * with at least `minActive` active frames, an equal share per speaker (a speaker with fewer
 * eligible windows gives all it has), and within a speaker the windows evenly spaced over its
 * eligible, non-overlapping windows in file order. Sorted by utterance and start.
 *
 * @example
 * ```ts
 * import { activeValidationPicks } from "./segments.ts";
 * const speech = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 5));
 * activeValidationPicks([speech], ["a"], { wanted: 2, length: 4000, sampleRate: 8000, minActive: 0.8 }).length; // 2
 * ```
 */
export function activeValidationPicks(
  utterances: Float32Array[],
  speakers: string[],
  opts: { wanted: number; length: number; sampleRate: number; minActive: number; rangeDb?: number },
): WindowPick[] {
  const { wanted, length, sampleRate, minActive } = opts;
  if (!(minActive > 0 && minActive <= 1)) {
    throw new Error(`segments: minActive must be in (0, 1], got ${minActive}`);
  }
  const hop = Math.max(1, Math.floor(length / 4));
  const bySpeaker = new Map<string, WindowPick[]>();
  utterances.forEach((x, u) => {
    const loudest = Math.max(0, ...frameEnergies(x, sampleRate));
    let last = -Infinity;
    for (let start = 0; start + length <= x.length; start += hop) {
      if (start < last + length) continue; // a speaker's windows do not overlap
      const share = activeShare(
        x.subarray(start, start + length),
        sampleRate,
        opts.rangeDb,
        loudest,
      );
      if (share >= minActive) {
        bySpeaker.set(speakers[u], [...(bySpeaker.get(speakers[u]) ?? []), {
          utterance: u,
          start,
        }]);
        last = start;
      }
    }
  });
  const groups = [...bySpeaker.values()];
  return spreadPicks(groups, wanted).sort((a, b) => a.utterance - b.utterance || a.start - b.start);
}

/**
 * Indices (into `speakers`) of `n` segments for listening: one per speaker in turn (first
 * occurrence order), so `n` ≥ 3 segments come from ≥ 3 speakers when there are that many. [choice]
 */
export function listeningPicks(speakers: string[], n: number): number[] {
  const bySpeaker = new Map<string, number[]>();
  speakers.forEach((s, i) => bySpeaker.set(s, [...(bySpeaker.get(s) ?? []), i]));
  const groups = [...bySpeaker.values()];
  const out: number[] = [];
  for (let round = 0; out.length < n; round++) {
    let gave = false;
    for (const g of groups) {
      if (out.length < n && round < g.length) {
        out.push(g[round]);
        gave = true;
      }
    }
    if (!gave) break;
  }
  return out;
}

/** First index i with cumulative[i] > v. */
function _search(cumulative: Float64Array, v: number): number {
  let lo = 0, hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `wanted` items from `groups` (one group per speaker), shared round-robin so every group gives
 * one before any gives two (a group gives at most what it has), each group's share evenly spaced
 * through it. In group order; callers sort.
 */
function spreadPicks<T>(groups: T[][], wanted: number): T[] {
  const quota = groups.map(() => 0);
  let left = wanted;
  while (left > 0) {
    let gave = false;
    for (let g = 0; g < groups.length && left > 0; g++) {
      if (quota[g] < groups[g].length) {
        quota[g]++;
        left--;
        gave = true;
      }
    }
    if (!gave) break;
  }
  return groups.flatMap((items, g) =>
    Array.from({ length: quota[g] }, (_, k) => items[Math.floor((k * items.length) / quota[g])])
  );
}
