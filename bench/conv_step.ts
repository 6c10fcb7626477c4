/**
 * The conv reference training step of issue 8, built from {@linkcode convCodec}: audio
 * [batch, samples] → encode → rounding STE → decode; loss = mean |y − x| plus the multi-scale
 * log-magnitude STFT L1 of `lib/audio/stft.ts` (Σ over Hann windows 64, 256, 1024, hop w/4, of
 * mean |log10 max(|Y|, c) − log10 max(|X|, c)|, c = 1e-5, torch.stft's center = true); Adam 1e-3.
 * With {@linkcode CONV_REFERENCE_CONFIG}, batch 8 and 4096 samples it is the bench's step; tests
 * run it at small sizes (`conv_step_test.ts`). It lives in `bench/`, not `lib/`: nothing but the
 * bench and its test trains this way.
 *
 * @module
 */
import { tf } from "../lib/backend.ts";
import { logMagnitudeStftLoss } from "../lib/audio/stft.ts";
import { roundSte } from "../lib/kernels/reference.ts";
import { rngFor } from "../lib/random.ts";
import {
  CONV_REFERENCE_CONFIG,
  convCodec,
  type ConvCodecConfig,
  type ConvOps,
} from "../lib/codecs/conv.ts";
import type { Codec } from "../lib/codecs/types.ts";

/** Sizes of {@linkcode createConvStep}; every field has the reference step's value as default. */
export interface ConvStepOptions {
  /** Codec sizes (default {@linkcode CONV_REFERENCE_CONFIG}). */
  config?: ConvCodecConfig;
  /** Clips per step (default 8). */
  batch?: number;
  /** Samples per clip (default 4096); a multiple of Πstrides and ≥ the largest window. */
  samples?: number;
  /** Hann window lengths of the spectral loss, hop = window/4 (default 64, 256, 1024). */
  windows?: number[];
  /** Magnitudes are clamped below at this before the log (default 1e-5, as DAC). */
  clamp?: number;
  learningRate?: number;
  seed?: number;
  /** Convolution ops (default quantlab's `lib/nn/conv.ts`). */
  ops?: ConvOps;
}

/** One training step of the conv codec on a fixed batch, and its bookkeeping. */
export interface ConvStep {
  /** Runs one Adam step and returns the loss before it. */
  step(): number;
  readonly codec: Codec;
  readonly batch: number;
  readonly samples: number;
  dispose(): void;
}

/**
 * Build the step with a seeded codec and a fixed batch of seeded Gaussian noise (σ = 0.1).
 * [choice: noise, not speech; the step measures speed]
 *
 * @example
 * ```ts
 * import { initBackend } from "../lib/backend.ts";
 * import { resolveConvCodecConfig } from "../lib/codecs/conv.ts";
 * await initBackend();
 * const step = createConvStep({
 *   config: resolveConvCodecConfig({ channels: 2, strides: [2, 2] }),
 *   batch: 1,
 *   samples: 256,
 *   windows: [64],
 * });
 * const loss = step.step();
 * step.dispose();
 * ```
 */
export function createConvStep(options: ConvStepOptions = {}): ConvStep {
  const config = options.config ?? CONV_REFERENCE_CONFIG;
  const batch = options.batch ?? 8;
  const samples = options.samples ?? 4096;
  const windows = options.windows ?? [64, 256, 1024];
  const clamp = options.clamp ?? 1e-5;
  const seed = options.seed ?? 0;
  for (const w of windows) {
    if (!(Number.isInteger(w) && w >= 4 && w % 4 === 0 && w <= samples)) {
      throw new Error(
        `createConvStep: windows must be multiples of 4 up to samples = ${samples}; got ${w}`,
      );
    }
  }
  const codec = convCodec(config, seed, options.ops);
  const audio = rngFor(seed, "convStep.audio").normals(batch * samples, 0.1);
  const x = tf.tensor2d(audio, [batch, samples]);
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  return {
    codec,
    batch,
    samples,
    step() {
      const loss = optimizer.minimize(
        () => {
          const y = codec.decode(roundSte(codec.encode(x))) as tf.Tensor2D;
          return tf.add(
            tf.mean(tf.abs(tf.sub(y, x))),
            logMagnitudeStftLoss(y, x, { windows, hopDivisor: 4, clamp }),
          );
        },
        true,
        codec.variables,
      )!;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    dispose() {
      optimizer.dispose();
      x.dispose();
      codec.dispose();
    },
  };
}
