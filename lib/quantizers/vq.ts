/**
 * Vector quantizer: one codebook of 2^bits codewords, nearest neighbour. [paper A]
 *
 * Forward: i = argmin_k ‖z − c_k‖², Q(z) = c_i. Codebook learning by the codebook loss
 * ‖sg(z) − Q(z)‖² or by EMA; soft assignment for soft-to-hard annealing; optionally the codewords
 * through a learned map, c_k = f(c̃_k) (`reparam.ts`: Huh et al.'s affine map, SimVQ's linear
 * layer).
 *
 * @module
 */
import { tf } from "../backend.ts";
import { checkInt } from "../kinds.ts";
import { codebookReparam, type CodebookReparamKind, validateReparamFields } from "./reparam.ts";
import type { Rng } from "../random.ts";
import {
  Codebook,
  type CodebookInit,
  type CodebookLearning,
  deadCodeOf,
  validateCodebookFields,
  withLosses,
} from "./codebook.ts";
import {
  DEFAULT_LOSS_WEIGHTS,
  type HardQuantization,
  type LossWeights,
  type Quantizer,
} from "./types.ts";

/** Nearest-neighbour vector quantizer with one codebook of 2^bits entries. */
export interface VqConfig {
  kind: "vq";
  bits: number;
  learning: CodebookLearning;
  init: CodebookInit;
  /** EMA decay γ when learning = "ema". [choice] */
  emaDecay: number;
  /**
   * Codebook reparameterisation (`reparam.ts`): `affine` (Huh et al. 2023) or `linear` (SimVQ).
   * Absent: the codewords are the stored codebook, so configs without it keep their cache keys.
   */
  reparam?: CodebookReparamKind;
  /** With `reparam`: the learning-rate scale s of its parameters; absent = 1. [choice] */
  reparamLrScale?: number;
  /**
   * DiVeQ's dead-code replacement (`codebook.ts`'s `DeadCodeReplacement`): every this many
   * training steps … Absent (with `deadCodeThreshold`): none, and cache keys unchanged.
   */
  deadCodeEvery?: number;
  /** … codewords assigned less than this many times per step are replaced. [DiVeQ: 0.01] */
  deadCodeThreshold?: number;
}

/** Defaults [choice]: 8 bits (256 codewords) learned by the codebook loss, random init. */
export const VQ_DEFAULTS: VqConfig = {
  kind: "vq",
  bits: 8,
  learning: "loss",
  init: "random",
  emaDecay: 0.99,
};

/** Throw a `ConfigError` naming the first bad field (as `quantizer.<field>`). */
export function validateVq(q: VqConfig): void {
  checkInt("quantizer.bits", q.bits, 1, 16);
  validateCodebookFields(q);
  validateReparamFields(q);
}

/**
 * A VQ of 2^bits codewords for frames of `dim`. k-means init (`init: "kmeans"`) asks for
 * 4·2^bits frames. [choice]
 */
export function vectorQuantizer(
  config: VqConfig,
  dim: number,
  rng: Rng,
  weights: LossWeights = DEFAULT_LOSS_WEIGHTS,
): Quantizer {
  const book = new Codebook({
    size: 2 ** config.bits,
    dim,
    learning: config.learning,
    init: config.init,
    emaDecay: config.emaDecay,
    reparam: config.reparam
      ? codebookReparam(config.reparam, dim, config.reparamLrScale ?? 1)
      : undefined,
    deadCode: deadCodeOf(config),
  }, rng);
  return {
    bits: config.bits,
    dim,
    variables: book.trainables(),
    state: book.state,
    initialization: config.init === "kmeans"
      ? { frames: 4 * 2 ** config.bits, run: (z, frames) => book.initialize(z, frames) }
      : undefined,
    prepare: (e) => e,
    quantize(z): HardQuantization {
      const idx = book.nearest(z);
      const q = book.lookup(idx);
      const codebook = weights.codebook > 0 ? book.loss(z, q) : null;
      return withLosses(q, tf.expandDims(idx, 1) as tf.Tensor2D, z, weights, codebook);
    },
    decodeCodes: (codes) =>
      tf.tidy(() => book.lookup(tf.squeeze(codes, [1]) as tf.Tensor1D)) as tf.Tensor2D,
    soft(z, tau) {
      const weights = tf.softmax(tf.div(tf.neg(book.distances(z)), tau));
      return tf.matMul(weights, book.codewords()) as tf.Tensor2D;
    },
    distances: (z) => book.distances(z),
    afterStep(z, codes) {
      tf.tidy(() => book.emaUpdate(z, tf.squeeze(codes, [1]) as tf.Tensor1D));
      if (book.options.deadCode) book.replaceDead(codes.dataSync());
    },
    jointCodes: (codes) => Float64Array.from(codes),
    dispose: () => book.dispose(),
  };
}
