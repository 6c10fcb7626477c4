/**
 * Codecs: encoder and decoder around the quantizer. The trainer sees only {@linkcode Codec}, so
 * a convolutional speech codec replaces the MLP without touching quantizers or the trainer.
 * `buildCodec` makes the codec a config's `codec` section names; a new kind adds its config to
 * `CodecConfig` (config.ts) and a line to {@linkcode CODECS}.
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { CodecConfig } from "../config.ts";
import type { Rng } from "../random.ts";
import { convCodec } from "./conv.ts";
import { mlpCodec } from "./mlp.ts";

export { convCodec, mlpCodec };

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

/** Builds the codec a codec config names, seeded by `rng`. */
export type CodecBuilder<C extends CodecConfig> = (config: C, io: CodecIo, rng: Rng) => Codec;

/** The registry of codec kinds: one builder per `codec.kind`. */
export const CODECS: {
  [K in CodecConfig["kind"]]: CodecBuilder<Extract<CodecConfig, { kind: K }>>;
} = {
  mlp: (config, io, rng) => mlpCodec(config, io.inputDim, io.outputDim, rng),
  conv: (config, io, rng) => {
    if (io.inputDim !== 1 || io.outputDim !== 1) {
      throw new Error(
        `buildCodec: codec.kind = "conv" codes mono audio (inputDim = outputDim = 1), got ${io.inputDim} → ${io.outputDim}`,
      );
    }
    return convCodec(config, rng);
  },
};

/**
 * The codec a (validated) codec config names.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { resolveConfig } from "../config.ts";
 * import { rngFor } from "../random.ts";
 * await initBackend();
 * const codec = buildCodec(resolveConfig({}).codec, { inputDim: 16, outputDim: 16 }, rngFor(0, "codec"));
 * console.log(codec.latentDim); // 8
 * codec.dispose();
 * ```
 */
export function buildCodec(config: CodecConfig, io: CodecIo, rng: Rng): Codec {
  const build = CODECS[config.kind] as CodecBuilder<CodecConfig> | undefined;
  if (!build) throw new Error(`buildCodec: no codec registered for codec.kind = "${config.kind}"`);
  return build(config, io, rng);
}

/**
 * Fold every leading axis of a latent into frames: [..., D] → [N, D] (a rank-2 latent is
 * returned as it is, so the proxy's graph has no extra op).
 */
export function foldFrames(latent: tf.Tensor): tf.Tensor2D {
  if (latent.rank === 2) return latent as tf.Tensor2D;
  const d = latent.shape[latent.rank - 1];
  return tf.reshape(latent, [-1, d]) as tf.Tensor2D;
}

/** Undo {@linkcode foldFrames}: [N, D] frames back to the encoder output's `shape`. */
export function unfoldFrames(frames: tf.Tensor2D, shape: readonly number[]): tf.Tensor {
  return shape.length === 2 ? frames : tf.reshape(frames, [...shape]);
}
