/**
 * The contract every codec meets: encoder and decoder with their trainable variables. The
 * trainer sees only {@linkcode Codec}, so a convolutional speech codec replaces the MLP without
 * touching quantizers or the trainer. Each kind's config, defaults and validation live beside its
 * builder; the registry is `mod.ts`.
 *
 * @module
 */
import type { tf } from "../backend.ts";
import type { Rng } from "../random.ts";

/**
 * Encoder and decoder with their trainable variables. The LAST axis of a latent is the latent
 * dimension: the MLP encodes [B, F] to [B, L], a convolutional codec [B, T] to [B, T', D]. The
 * trainer folds every leading axis into frames ([N, D]) for the quantizer and gradient passer and
 * unfolds them (to the encoder output's shape) before `decode`.
 */
export interface Codec {
  /** Size of the latent's last axis (the quantizer's frame dimension). */
  readonly latentDim: number;
  readonly encoderVariables: tf.Variable[];
  readonly decoderVariables: tf.Variable[];
  /** Encoder then decoder variables: what training updates by default. */
  readonly variables: tf.Variable[];
  /**
   * A data-dependent initialisation the codec asks for (e.g. the conv codec's PCA-initialised
   * linear path): the trainer runs it once before training on `examples` training examples drawn
   * for the purpose, flat [count, length] (`length` = the example's values), before the
   * quantizer's own initialisation. Absent: nothing to do.
   */
  readonly initialization?: CodecInitialization;
  encode(x: tf.Tensor): tf.Tensor;
  decode(q: tf.Tensor): tf.Tensor;
  dispose(): void;
}

/** See {@linkcode Codec.initialization}. */
export interface CodecInitialization {
  /** How many training examples it wants. */
  readonly examples: number;
  run(x: Float32Array, count: number, length: number): void;
}

/** Sizes of the last axes of a source's x and y, which a codec's input and output layers need. */
export interface CodecIo {
  inputDim: number;
  outputDim: number;
}

/** Builds the codec a codec config of one kind names, seeded by `rng`. */
export type CodecBuilder<C> = (config: C, io: CodecIo, rng: Rng) => Codec;
