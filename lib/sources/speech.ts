/**
 * Real speech as a training source (`data.kind = "speech"`): seeded random segments [B, T] of the
 * training speakers, a fixed validation set of longer segments from speakers the codec never
 * hears, the codec loss and the speech validation metrics. Built on `lib/audio/` (corpus, level
 * normalisation, segment draws, STFT losses, SI-SDR).
 *
 * Loss [choice, weights in the config]:
 *   L = w_wav·mean|ŷ − y| + w_stft·Σ_w mean|log10 max(|STFT_w ŷ|, 1e-5) − log10 max(|STFT_w y|, 1e-5)|
 *       + w_mel·(DAC's multi-scale mel L1),
 * plus the quantizer's own weighted losses, which the trainer adds.
 *
 * Validation metrics, over the whole validation set batch by batch: MSE and MSE in dB (the
 * trainer's divergence check reads them), and in `EpochRecord.metrics`: `siSdr` (dB, mean over
 * segments with a non-silent reference), `melL1` (DAC's multi-scale mel L1 at the sample rate,
 * `melSpectrogramLoss`), `f0Agreement`, `voicingAgreement` and `levelDb` (`lib/audio/pitch.ts`:
 * what tells a codec from a noise vocoder), `stftL1` (the training spectral loss at
 * `spectralWindows`), `waveformL1`, `latentMse` (mean (z − Q(z))² over the validation latents),
 * and per code column s (an RVQ stage, a VQ's one code, an FSQ dimension) `codeEntropy.s` (bits)
 * and `codePerplexity.s`; and in `EpochRecord.segments` the same five scores per validation
 * segment (`lib/audio/score.ts`), for comparisons paired by utterance.
 *
 * Loading is asynchronous (the corpus is read from disk, fetched first when missing), the
 * registry's builders are not: {@linkcode prepareSpeech} (or `prepareSource` of `sources/mod.ts`,
 * which `train()` calls) loads the corpus once per process and per level normalisation; the
 * builder then cuts segments from memory. The training split at 8 kHz is ≈ 60 M samples
 * (≈ 240 MB as float32), held once per process.
 *
 * @module
 */
import { concatArrays } from "../arrays.ts";
import { tf } from "../backend.ts";
import type { SpeechSourceConfig } from "./speech_config.ts";
import { codeUsage } from "../metrics.ts";
import { ensureSpeechData, loadSplit, type Utterance } from "../audio/corpus.ts";
import { normalise, type SegmentBatch, SpeechSegments } from "../audio/segments.ts";
import { logMagnitudeStftLoss, melSpectrogramLoss } from "../audio/stft.ts";
import { emptyScores, meanScores, scoreSegments, type SegmentScores } from "../audio/score.ts";
import type { Batch, Source, SourceMetrics, ValidationMeter } from "./types.ts";

/** Both splits of the corpus at one rate, each utterance level-normalised once. */
interface Corpus {
  train: Utterance[];
  validation: Utterance[];
}

const corpora = new Map<string, Corpus>();
const loading = new Map<string, Promise<Corpus>>();

/** What identifies a loaded corpus: rate, held-out speaker, level normalisation, directory. */
function corpusKey(config: SpeechSourceConfig, dir?: string): string {
  const { sampleRate, heldOutSpeaker, normalisation, targetDb } = config;
  return JSON.stringify({ sampleRate, heldOutSpeaker, normalisation, targetDb, dir: dir ?? null });
}

/** Options of {@linkcode prepareSpeech}. */
export interface PrepareSpeechOptions {
  /** Corpus directory (default `lib/audio`'s: `$QUANTLAB_SPEECH_DIR` or `.cache/speech`). */
  dir?: string;
  log?: (msg: string) => void;
}

/**
 * Fetch (when missing), verify and load the corpus a speech config needs, level-normalised,
 * and keep it for this process. A second call with the same rate, speaker and normalisation
 * returns at once.
 */
export async function prepareSpeech(
  config: SpeechSourceConfig,
  opts: PrepareSpeechOptions = {},
): Promise<void> {
  const key = corpusKey(config, opts.dir);
  if (corpora.has(key)) return;
  let pending = loading.get(key);
  if (!pending) {
    pending = (async () => {
      const manifest = await ensureSpeechData({
        dir: opts.dir,
        heldOutSpeaker: config.heldOutSpeaker,
        log: opts.log,
      });
      const level = (u: Utterance): Utterance => ({
        ...u,
        samples: normalise(u.samples, u.sampleRate, config.normalisation, config.targetDb, true),
      });
      return {
        train: (await loadSplit(manifest, "train", config.sampleRate, opts.dir)).map(level),
        validation: (await loadSplit(manifest, "validation", config.sampleRate, opts.dir)).map(
          level,
        ),
      };
    })();
    loading.set(key, pending);
  }
  try {
    corpora.set(key, await pending);
  } finally {
    loading.delete(key);
  }
}

/** Forget the corpora loaded by {@linkcode prepareSpeech} (frees their memory). */
export function releaseSpeech(): void {
  corpora.clear();
}

/** The seed of the training draws: `train.seed` mixed with `data.seed` (equal to it when data.seed = 0). */
export function segmentSeed(config: SpeechSourceConfig, trainSeed: number): number {
  return (trainSeed ^ Math.imul(config.seed, 0x9e3779b1)) >>> 0;
}

/** A flat segment batch as a source batch: x = y = the audio [count, length]. */
function asBatch(b: SegmentBatch): Batch & { count: number; length: number } {
  const shape = [b.count, b.length];
  return { x: b.x, xShape: shape, y: b.x, yShape: shape, count: b.count, length: b.length };
}

/** The speech source; build it with {@linkcode speechSource} after {@linkcode prepareSpeech}. */
export class SpeechSource implements Source {
  readonly inputDim = 1;
  readonly outputDim = 1;
  readonly sampleRate: number;
  /** The fixed validation set, [validationSegments, validationSamples]. */
  readonly validation: SegmentBatch;
  /** Which validation utterance (file, speaker) each validation segment is the start of. */
  readonly validationSources: { file: string; speaker: string; start: number }[];
  readonly #train: SpeechSegments;

  constructor(readonly config: SpeechSourceConfig, corpus: Corpus, readonly seed: number) {
    this.sampleRate = config.sampleRate;
    // The utterances are already level-normalised: "none" with inPlace shares their arrays.
    this.#train = new SpeechSegments(corpus.train, corpus.validation, {
      length: config.segmentSamples,
      seed: segmentSeed(config, seed),
      normalisation: "none",
      validationSegments: 0,
      inPlace: true,
    });
    const validation = new SpeechSegments(corpus.train, corpus.validation, {
      length: config.validationSamples,
      normalisation: "none",
      validationSegments: config.validationSegments,
      inPlace: true,
      ...(config.validationMinActive === undefined
        ? {}
        : { minActive: config.validationMinActive }),
    });
    this.validation = validation.validation;
    this.validationSources = validation.validationSources;
  }

  trainBatch(step: number, batchSize: number): Batch {
    // The trainer asks for step −1 for a quantizer's data-dependent initialisation.
    const s = step < 0 ? 2 ** 31 + -step : step;
    return asBatch(this.#train.trainBatch(s, batchSize));
  }

  *validationBatches(): Iterable<Batch & { count: number; length: number }> {
    const { count, length, x } = this.validation;
    const per = this.config.validationBatch;
    for (let a = 0; a < count; a += per) {
      const n = Math.min(per, count - a);
      yield asBatch({ x: x.subarray(a * length, (a + n) * length), count: n, length });
    }
  }

  loss(yhat: tf.Tensor, y: tf.Tensor): tf.Scalar {
    return speechLoss(this.config, yhat as tf.Tensor2D, y as tf.Tensor2D);
  }

  validationMeter(): SpeechMeter {
    return new SpeechMeter(this.config);
  }
}

/** The training loss of a speech config (see the module doc). Differentiable. */
export function speechLoss(
  config: SpeechSourceConfig,
  yhat: tf.Tensor2D,
  y: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    let loss: tf.Tensor = tf.scalar(0);
    if (config.waveformWeight > 0) {
      loss = tf.add(loss, tf.mul(tf.mean(tf.abs(tf.sub(yhat, y))), config.waveformWeight));
    }
    if (config.spectralWeight > 0) {
      const stft = logMagnitudeStftLoss(yhat, y, { windows: config.spectralWindows });
      loss = tf.add(loss, tf.mul(stft, config.spectralWeight));
    }
    if (config.melWeight > 0) {
      loss = tf.add(loss, tf.mul(melSpectrogramLoss(yhat, y, config.sampleRate), config.melWeight));
    }
    if ((config.siSdrWeight ?? 0) > 0) {
      loss = tf.sub(loss, tf.mul(tf.mean(siSdrTensor(yhat, y)), config.siSdrWeight!));
    }
    return loss as tf.Scalar;
  });
}

/**
 * SI-SDR in dB of each row of `yhat` against the same row of `y` [B, T], means removed, as
 * `lib/audio/metrics.ts`'s `siSdr` but differentiable: α = ⟨ŷ, y⟩/‖y‖², SI-SDR =
 * 10·log10(‖αy‖² / ‖ŷ − αy‖²), with 1e-8 added to the three sums so silence stays finite.
 */
export function siSdrTensor(yhat: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const e = tf.sub(yhat, tf.mean(yhat, 1, true));
    const r = tf.sub(y, tf.mean(y, 1, true));
    const alpha = tf.div(
      tf.add(tf.sum(tf.mul(e, r), 1, true), 1e-8),
      tf.add(tf.sum(tf.square(r), 1, true), 1e-8),
    );
    const target = tf.mul(alpha, r);
    const ratio = tf.div(
      tf.add(tf.sum(tf.square(target), 1), 1e-8),
      tf.add(tf.sum(tf.square(tf.sub(e, target)), 1), 1e-8),
    );
    return tf.mul(tf.log(ratio), 10 / Math.LN10) as tf.Tensor1D;
  });
}

/** Validation metrics of a speech source, batch by batch (see the module doc for the names). */
export class SpeechMeter implements ValidationMeter {
  #squaredError = 0;
  #absError = 0;
  #power = 0;
  #count = 0;
  #segments = 0;
  #stftSum = 0;
  /** SI-SDR, mel L1, F0 and voicing agreement and level of each validation segment, in order. */
  readonly perSegment: SegmentScores = emptyScores();
  #latentSq = 0;
  #latentCount = 0;
  #codes: Int32Array[] = [];
  #columns = 0;

  constructor(readonly config: SpeechSourceConfig) {}

  add(yhat: Float32Array, batch: Batch): void {
    const y = batch.y;
    if (yhat.length !== y.length) {
      throw new RangeError(`SpeechMeter: ŷ has ${yhat.length} values, y has ${y.length}`);
    }
    const [count, length] = batch.yShape;
    for (let i = 0; i < y.length; i++) {
      const d = yhat[i] - y[i];
      this.#squaredError += d * d;
      this.#absError += Math.abs(d);
      this.#power += y[i] * y[i];
    }
    this.#count += y.length;
    scoreSegments(yhat, y, count, length, this.config.sampleRate, this.perSegment);
    const stft = tf.tidy(() =>
      logMagnitudeStftLoss(tf.tensor2d(yhat, [count, length]), tf.tensor2d(y, [count, length]), {
        windows: this.config.spectralWindows,
      })
    );
    // A mean over the batch's frames: weight by segments for the mean over the set.
    this.#stftSum += stft.dataSync()[0] * count;
    stft.dispose();
    this.#segments += count;
  }

  /** The quantizer's view of the same batch: inputs z, hard values Q(z), codes [frames, columns]. */
  addQuantization(z: Float32Array, q: Float32Array, codes: Int32Array, columns: number): void {
    for (let i = 0; i < z.length; i++) this.#latentSq += (z[i] - q[i]) ** 2;
    this.#latentCount += z.length;
    this.#codes.push(codes);
    this.#columns = columns;
  }

  result(): SourceMetrics {
    const valMse = this.#squaredError / this.#count;
    const means = meanScores(this.perSegment);
    const extra: Record<string, number> = {
      siSdr: means.siSdr,
      melL1: means.melL1,
      f0Agreement: means.f0Agreement,
      voicingAgreement: means.voicingAgreement,
      levelDb: means.levelDb,
      stftL1: this.#stftSum / this.#segments,
      waveformL1: this.#absError / this.#count,
    };
    if (this.#latentCount > 0) extra.latentMse = this.#latentSq / this.#latentCount;
    if (this.#codes.length > 0) {
      const all = concatArrays(this.#codes, Int32Array);
      const frames = all.length / this.#columns;
      for (let s = 0; s < this.#columns; s++) {
        const column = new Int32Array(frames);
        for (let n = 0; n < frames; n++) column[n] = all[n * this.#columns + s];
        const usage = codeUsage(column);
        extra[`codeEntropy.${s}`] = usage.entropy;
        extra[`codePerplexity.${s}`] = usage.perplexity;
      }
    }
    return {
      valMse,
      valMseDb: 10 * Math.log10(valMse / (this.#power / this.#count)),
      symbolAccuracy: NaN,
      extra,
      // Per segment, for comparisons paired by utterance.
      segments: { ...this.perSegment },
    };
  }
}

/**
 * The speech source of a (validated) config, cut from the corpus {@linkcode prepareSpeech}
 * loaded; throws naming the config when it was not loaded. `seed` is `train.seed`.
 */
export function speechSource(config: SpeechSourceConfig, seed: number, dir?: string): SpeechSource {
  const corpus = corpora.get(corpusKey(config, dir));
  if (!corpus) {
    throw new Error(
      `speech source (data.kind = "speech"): the corpus for data = ${
        JSON.stringify(config)
      } is not loaded; ` +
        "await prepareSource(config.data) (lib/sources/mod.ts) first — train() does",
    );
  }
  return new SpeechSource(config, corpus, seed);
}
