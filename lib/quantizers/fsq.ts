/**
 * Finite scalar quantization (bounded scalar quantizer). [choice: FSQ of Mentzer et al. 2023]
 *
 * z = tanh(e) per dimension; with h_d = (L_d − 1)/2 and o_d = ½ for even L_d (0 for odd),
 * Q(z)_d = (round(h_d z_d − o_d) + o_d) / h_d, a grid of L_d points in [−1, 1].
 * Bits = Σ_d log2 L_d. No codebook to learn.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { checkInt, ConfigError } from "../kinds.ts";
import { withLosses } from "./codebook.ts";
import {
  DEFAULT_LOSS_WEIGHTS,
  type HardQuantization,
  type LossWeights,
  type Quantizer,
} from "./types.ts";

/** Finite scalar quantization: tanh-bounded, rounded per dimension; levels.length must equal L. */
export interface FsqConfig {
  kind: "fsq";
  levels: number[];
}

/** Defaults [choice]: 8 dimensions of 4, 4, 4, 4, 2, 2, 2, 2 levels (12 bits), for L = 8. */
export const FSQ_DEFAULTS: FsqConfig = { kind: "fsq", levels: [4, 4, 4, 4, 2, 2, 2, 2] };

/** Throw a `ConfigError` naming the first bad field; `levels` must have one count per latent dimension. */
export function validateFsq(q: FsqConfig, context: { latentDim: number }): void {
  const dim = context.latentDim;
  if (!Array.isArray(q.levels) || q.levels.length !== dim) {
    throw new ConfigError(
      "quantizer.levels",
      q.levels,
      `an array of ${dim} level counts, one per latent dimension (codec.latent = ${dim})`,
    );
  }
  q.levels.forEach((l, i) => checkInt(`quantizer.levels[${i}]`, l, 2, 1 << 16));
}

/** An FSQ with `levels[d]` levels in dimension d; its only auxiliary loss is commitment. */
export function finiteScalarQuantizer(
  config: FsqConfig,
  weights: LossWeights = DEFAULT_LOSS_WEIGHTS,
): Quantizer {
  const levels = config.levels;
  const dim = levels.length;
  const half = tf.tensor1d(levels.map((l) => (l - 1) / 2));
  const offset = tf.tensor1d(levels.map((l) => (l % 2 === 0 ? 0.5 : 0)));
  return {
    bits: levels.reduce((s, l) => s + Math.log2(l), 0),
    dim,
    variables: [],
    prepare: (e) => tf.tanh(e),
    quantize(z): HardQuantization {
      const { q, codes } = tf.tidy(() => {
        const grid = tf.add(tf.round(tf.sub(tf.mul(z, half), offset)), offset);
        return {
          q: tf.div(grid, half) as tf.Tensor2D,
          codes: tf.cast(tf.add(grid, half), "int32") as tf.Tensor2D,
        };
      });
      return withLosses(q, codes, z, weights, null);
    },
    decodeCodes: (codes) => tf.tidy(() => tf.div(tf.sub(tf.cast(codes, "float32"), half), half)),
    jointCodes(codes, frames) {
      const out = new Float64Array(frames);
      for (let n = 0; n < frames; n++) {
        let v = 0;
        for (let d = 0; d < dim; d++) v = v * levels[d] + codes[n * dim + d];
        out[n] = v;
      }
      return out;
    },
    dispose() {
      half.dispose();
      offset.dispose();
    },
  };
}
