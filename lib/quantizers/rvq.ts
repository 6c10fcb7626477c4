/**
 * Residual vector quantizer: N codebooks, each quantizing what the previous ones left.
 *
 * r₀ = z; i_s = argmin_k ‖r_s − c_{s,k}‖²; q_s = C_s[i_s]; r_{s+1} = r_s − q_s; Q(z) = Σ_s q_s.
 * Codebook loss Σ_s mean‖sg(r_s) − q_s‖² (per stage, residuals detached, as in DAC). [paper A/B]
 * With `lookup: "cosine"` each stage picks i_s = argmax_k cos(r_s, c_{s,k}) instead (DAC's
 * l2-normalised lookup) and still adds the raw codeword. [choice]
 * Quantizer dropout (`config.dropout` = p, DAC's 0.5): in training, a frame drawn with
 * probability p keeps only q_1 … q_n, n ~ U{1..N}, with a mask m_{f,s} = [s < n_f]:
 * Q(z)_f = Σ_s m_{f,s} q_{f,s}, while the residuals and codes are those of all stages, as in
 * DAC's `ResidualVectorQuantize.forward`. [DAC; per frame rather than per example: choice]
 * Codebook reparameterisation (`reparam`: Huh et al.'s affine map, SimVQ's linear layer) gives
 * each stage's codebook its own map (`reparam.ts`).
 * Relaxed passes (soft-to-hard's `soft`, Gumbel's `gumbel`) go stage by stage [choice, as
 * lucidrains' `ResidualVQ` chains its layers]: r₀ = z, stage s relaxes on r_s with the distance
 * its code choice minimises (‖r − c‖², or ‖r̂ − ĉ‖² = 2 − 2cos for the cosine lookup, so that the
 * relaxation sharpens to the hard choice as τ → 0), q_s its relaxed value (soft: π_s·C_s;
 * Gumbel: C_s[k̃_s] + π_s·C_s − sg(π_s·C_s)), r_{s+1} = r_s − sg(q_s) (the residual detached,
 * as lucidrains does), Q̃(z) = Σ_s q_s.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { checkInt, checkNumber, checkOneOf } from "../kinds.ts";
import type { Rng } from "../random.ts";
import { stopGradient } from "../grad.ts";
import { codebookReparam, type CodebookReparamKind, validateReparamFields } from "./reparam.ts";
import {
  Codebook,
  type CodebookInit,
  type CodebookLearning,
  deadCodeOf,
  gumbelStraightThrough,
  validateCodebookFields,
  withLosses,
} from "./codebook.ts";
import {
  DEFAULT_LOSS_WEIGHTS,
  type HardQuantization,
  type LossWeights,
  type Quantizer,
} from "./types.ts";

/** Residual VQ: `stages` codebooks of 2^bitsPerStage entries, each quantizing the previous residual. */
export interface RvqConfig {
  kind: "rvq";
  stages: number;
  bitsPerStage: number;
  learning: CodebookLearning;
  init: CodebookInit;
  emaDecay: number;
  /**
   * How a stage picks its code [choice]: "euclidean" (absent, the default) the nearest codeword;
   * "cosine" the codeword of largest cosine with the residual, both l2-normalised for the choice
   * only (DAC's factorised-code lookup), while Q(z) sums the raw codewords, so the choice ignores
   * |z| and nothing but the commitment loss pulls z towards Q(z). Absent from configs that do not
   * set it, so the proxy's cache keys stay.
   */
  lookup?: "euclidean" | "cosine";
  /**
   * Quantizer dropout [DAC: 0.5]: in training, each frame with this probability uses only its
   * first n ~ U{1..stages} stages (per frame, not per example as in DAC: choice); evaluation uses
   * all stages. Absent (off) unless set, so existing cache keys stay.
   */
  dropout?: number;
  /**
   * Codebook reparameterisation of every stage (`reparam.ts`): `affine` (Huh et al. 2023) or
   * `linear` (SimVQ). Absent: the codewords are the stored codebooks (cache keys unchanged).
   */
  reparam?: CodebookReparamKind;
  /** With `reparam`: the learning-rate scale s of its parameters; absent = 1. [choice] */
  reparamLrScale?: number;
  /** DiVeQ's dead-code replacement per stage (as VQ's `deadCodeEvery`); absent: none. */
  deadCodeEvery?: number;
  /** With `deadCodeEvery`: the usage per step below which a codeword is replaced. */
  deadCodeThreshold?: number;
}

/** Defaults [choice]: 2 stages of 4 bits learned by the codebook loss, random init. */
export const RVQ_DEFAULTS: RvqConfig = {
  kind: "rvq",
  stages: 2,
  bitsPerStage: 4,
  learning: "loss",
  init: "random",
  emaDecay: 0.99,
};

/** Throw a `ConfigError` naming the first bad field (as `quantizer.<field>`). */
export function validateRvq(q: RvqConfig): void {
  checkInt("quantizer.stages", q.stages, 1, 64);
  checkInt("quantizer.bitsPerStage", q.bitsPerStage, 1, 16);
  if (q.lookup !== undefined) checkOneOf("quantizer.lookup", q.lookup, ["euclidean", "cosine"]);
  validateCodebookFields(q);
  validateReparamFields(q);
  if (q.dropout !== undefined) checkNumber("quantizer.dropout", q.dropout, 0, 1);
}

/**
 * An RVQ of `stages` codebooks of 2^bitsPerStage codewords. k-means init runs stage by stage on
 * the residuals and asks for 4·2^bitsPerStage frames. [choice]
 */
export function residualVq(
  config: RvqConfig,
  dim: number,
  rng: Rng,
  weights: LossWeights = DEFAULT_LOSS_WEIGHTS,
): Quantizer {
  const books = Array.from({ length: config.stages }, () =>
    new Codebook({
      size: 2 ** config.bitsPerStage,
      dim,
      learning: config.learning,
      init: config.init,
      emaDecay: config.emaDecay,
      reparam: config.reparam
        ? codebookReparam(config.reparam, dim, config.reparamLrScale ?? 1)
        : undefined,
      deadCode: deadCodeOf(config),
    }, rng));
  const size = 2 ** config.bitsPerStage;
  // The code choice of a stage: nearest codeword, or largest cosine (config.lookup). [choice]
  const pick = config.lookup === "cosine"
    ? (book: Codebook, r: tf.Tensor2D) => book.nearestCosine(r)
    : (book: Codebook, r: tf.Tensor2D) => book.nearest(r);
  // The distance a stage's code choice minimises, for the relaxed passes. [choice]
  const distance = config.lookup === "cosine"
    ? (book: Codebook, r: tf.Tensor2D) => book.cosineDistances(r)
    : (book: Codebook, r: tf.Tensor2D) => book.distances(r);
  /** The relaxed value stage by stage (module doc); `stage` relaxes one stage's residual. */
  const relaxed = (z: tf.Tensor2D, stage: (book: Codebook, r: tf.Tensor2D) => tf.Tensor2D) =>
    tf.tidy(() => {
      let residual = z;
      let q: tf.Tensor2D | null = null;
      for (const book of books) {
        const qs = stage(book, residual);
        residual = tf.sub(residual, stopGradient(qs));
        q = q ? tf.add(q, qs) : qs;
      }
      return q!;
    });
  const softStage = (book: Codebook, r: tf.Tensor2D, tau: number) =>
    tf.matMul(tf.softmax(tf.div(tf.neg(distance(book, r)), tau)), book.codewords()) as tf.Tensor2D;
  /** Per frame, the number of stages kept: N, or n ~ U{1..N} with probability `dropout`. */
  const dropoutMask = (frames: number, rng: Rng): tf.Tensor2D => {
    const mask = new Float32Array(frames * config.stages);
    for (let f = 0; f < frames; f++) {
      const keep = rng.uniform() < config.dropout! ? 1 + rng.int(config.stages) : config.stages;
      for (let s = 0; s < keep; s++) mask[f * config.stages + s] = 1;
    }
    return tf.tensor2d(mask, [frames, config.stages]);
  };
  const forward = (z: tf.Tensor2D, mask: tf.Tensor2D | null): HardQuantization => {
    let residual: tf.Tensor2D = z;
    let q: tf.Tensor2D | null = null;
    let loss: tf.Scalar | null = null;
    const codes: tf.Tensor1D[] = [];
    books.forEach((book, s) => {
      const idx = pick(book, residual);
      let qs = book.lookup(idx);
      const ls = weights.codebook > 0 ? book.loss(residual, qs) : null;
      if (ls) loss = loss ? tf.add(loss, ls) : ls;
      residual = tf.sub(residual, qs);
      if (mask) qs = tf.mul(qs, tf.slice(mask, [0, s], [-1, 1]));
      q = q ? tf.add(q, qs) : qs;
      codes.push(idx);
    });
    return withLosses(q!, tf.stack(codes, 1) as tf.Tensor2D, z, weights, loss);
  };
  return {
    bits: config.stages * config.bitsPerStage,
    dim,
    variables: books.flatMap((b) => b.trainables()),
    state: books.flatMap((b) => b.state),
    initialization: config.init === "kmeans"
      ? {
        frames: 4 * size,
        run(z, frames) {
          // Stage-wise k-means on the residuals left by the already initialised stages. [choice]
          let residual = tf.tensor2d(z, [frames, dim]);
          for (const book of books) {
            book.initialize(residual.dataSync() as Float32Array, frames);
            const next = tf.tidy(() => tf.sub(residual, book.lookup(pick(book, residual))));
            residual.dispose();
            residual = next as tf.Tensor2D;
          }
          residual.dispose();
        },
      }
      : undefined,
    prepare: (e) => e,
    quantize: (z) => forward(z, null),
    soft: (z, tau) => relaxed(z, (book, r) => softStage(book, r, tau)),
    gumbel: (z, tau, rng) =>
      relaxed(z, (book, r) =>
        gumbelStraightThrough(
          distance(book, r),
          tau,
          rng,
          (k) => book.lookup(k),
          () => softStage(book, r, tau),
        )),
    quantizeTrain: config.dropout
      ? (z, rng) => forward(z, dropoutMask(z.shape[0], rng))
      : undefined,
    decodeCodes: (codes) =>
      tf.tidy(() => {
        let q: tf.Tensor2D | null = null;
        books.forEach((book, s) => {
          const qs = book.lookup(tf.squeeze(tf.slice(codes, [0, s], [-1, 1]), [1]) as tf.Tensor1D);
          q = q ? tf.add(q, qs) : qs;
        });
        return q!;
      }),
    afterStep(z, codes) {
      tf.tidy(() => {
        let residual: tf.Tensor2D = z;
        books.forEach((book, s) => {
          const idx = tf.squeeze(tf.slice(codes, [0, s], [-1, 1]), [1]) as tf.Tensor1D;
          book.emaUpdate(residual, idx);
          residual = tf.sub(residual, book.lookup(idx));
        });
      });
      if (config.deadCodeEvery) {
        const all = codes.dataSync();
        books.forEach((book, s) => book.replaceDead(all.filter((_, i) => i % config.stages === s)));
      }
    },
    jointCodes(codes, frames) {
      const out = new Float64Array(frames);
      const S = config.stages;
      for (let n = 0; n < frames; n++) {
        let v = 0;
        for (let s = 0; s < S; s++) v = v * size + codes[n * S + s];
        out[n] = v;
      }
      return out;
    },
    dispose: () => books.forEach((b) => b.dispose()),
  };
}
