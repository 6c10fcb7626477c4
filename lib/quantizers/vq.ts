/**
 * Vector quantizer: one codebook of 2^bits codewords, nearest neighbour. [paper A]
 *
 * Forward: i = argmin_k ‖z − c_k‖², Q(z) = c_i. Codebook learning by the codebook loss
 * ‖sg(z) − Q(z)‖² or by EMA; soft assignment for soft-to-hard annealing.
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { VqConfig } from "../config.ts";
import type { Rng } from "../random.ts";
import { Codebook } from "./codebook.ts";
import type { HardQuantization, Quantizer } from "./types.ts";

export function vectorQuantizer(config: VqConfig, dim: number, rng: Rng): Quantizer {
  const book = new Codebook({
    size: 2 ** config.bits,
    dim,
    learning: config.learning,
    init: config.init,
    emaDecay: config.emaDecay,
  }, rng);
  return {
    bits: config.bits,
    dim,
    variables: config.learning === "loss" ? [book.embeddings] : [],
    prepare: (e) => e,
    quantize(z): HardQuantization {
      const idx = book.nearest(z);
      const q = book.lookup(idx);
      return { q, codes: tf.expandDims(idx, 1) as tf.Tensor2D, codebookLoss: book.loss(z, q) };
    },
    soft(z, tau) {
      const weights = tf.softmax(tf.div(tf.neg(book.distances(z)), tau));
      return tf.matMul(weights, book.embeddings) as tf.Tensor2D;
    },
    initialize: (z, frames) => book.initialize(z, frames),
    afterStep(z, codes) {
      tf.tidy(() => book.emaUpdate(z, tf.squeeze(codes, [1]) as tf.Tensor1D));
    },
    jointCodes: (codes) => Float64Array.from(codes),
    dispose: () => book.dispose(),
  };
}
