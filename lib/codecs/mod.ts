/**
 * Codecs: encoder and decoder around the quantizer (the contract is `types.ts`). Each kind owns
 * its config, defaults and validation beside its builder; {@linkcode CODECS} is the registry
 * `resolveConfig` and `buildCodec` walk. A new kind adds its config to {@linkcode CodecConfig}
 * and an entry to {@linkcode CODECS}.
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { Kind } from "../kinds.ts";
import type { Rng } from "../random.ts";
import {
  CONV_CODEC_DEFAULTS,
  CONV_CODEC_OPTIONAL,
  convCodec,
  type ConvCodecConfig,
  validateConvCodecConfig,
} from "./conv.ts";
import { MLP_CODEC_DEFAULTS, mlpCodec, type MlpCodecConfig, validateMlpCodec } from "./mlp.ts";
import type { Codec, CodecBuilder, CodecIo } from "./types.ts";

export { convCodec, mlpCodec };
export {
  CONV_CODEC_DEFAULTS,
  CONV_CODEC_OPTIONAL,
  type ConvCodecConfig,
  validateConvCodecConfig,
} from "./conv.ts";
export { MLP_CODEC_DEFAULTS, type MlpCodecConfig, validateMlpCodec } from "./mlp.ts";
export type { Codec, CodecBuilder, CodecInitialization, CodecIo } from "./types.ts";

/** The codec, by `kind`; mlp: `mlp.ts`, conv: `conv.ts`. */
export type CodecConfig = MlpCodecConfig | ConvCodecConfig;

/** A codec kind's registry entry: {@linkcode Kind} plus the latent dimension its config gives. */
export interface CodecKind<C> extends Kind<C, CodecBuilder<C>> {
  /** Size of the latent's last axis, the quantizer's frame dimension. */
  latentDim(config: C): number;
}

/** The registry of codec kinds: defaults, validation, builder and latent size per `codec.kind`. */
export const CODECS: { [K in CodecConfig["kind"]]: CodecKind<Extract<CodecConfig, { kind: K }>> } =
  {
    mlp: {
      defaults: MLP_CODEC_DEFAULTS,
      validate: validateMlpCodec,
      build: (config, io, rng) => mlpCodec(config, io.inputDim, io.outputDim, rng),
      latentDim: (config) => config.latent,
    },
    conv: {
      defaults: CONV_CODEC_DEFAULTS,
      optional: CONV_CODEC_OPTIONAL,
      validate: validateConvCodecConfig,
      build: (config, io, rng) => {
        if (io.inputDim !== 1 || io.outputDim !== 1) {
          throw new Error(
            `buildCodec: codec.kind = "conv" codes mono audio (inputDim = outputDim = 1), got ${io.inputDim} → ${io.outputDim}`,
          );
        }
        return convCodec(config, rng);
      },
      latentDim: (config) => config.codeDim ?? config.latentDim,
    },
  };

/** Latent dimension D of a codec config: the size of the latent's last axis, the quantizer's frame dimension. */
export function latentDim(codec: CodecConfig): number {
  return (CODECS[codec.kind] as CodecKind<CodecConfig>).latentDim(codec);
}

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
  const build = CODECS[config.kind]?.build as CodecBuilder<CodecConfig> | undefined;
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
