/**
 * The identity "quantizer" (`quantizer.kind = "none"`): Q(z) = z, no codes, no bits, no losses.
 * It is how the continuous autoencoder of post-training quantization is trained through the
 * same trainer as every quantized codec. [paper B: the continuous model]
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { HardQuantization, Quantizer } from "./types.ts";

/**
 * No quantizer: Q(z) = z, zero bits. The continuous model of post-training quantization.
 * [paper B]
 */
export interface NoneQuantizerConfig {
  kind: "none";
}

/** The one config of kind "none". */
export const NONE_QUANTIZER_DEFAULTS: NoneQuantizerConfig = { kind: "none" };

/** An identity quantizer for latent frames of `dim` dimensions (codes: one zero column). */
export function identityQuantizer(dim: number): Quantizer {
  return {
    bits: 0,
    dim,
    variables: [],
    prepare: (e) => e,
    quantize(z): HardQuantization {
      return { q: z, codes: tf.zeros([z.shape[0], 1], "int32"), losses: {} };
    },
    decodeCodes(): tf.Tensor2D {
      throw new Error('identityQuantizer: quantizer.kind = "none" has no codes to decode');
    },
    jointCodes: (_codes, frames) => new Float64Array(frames),
    dispose() {},
  };
}
