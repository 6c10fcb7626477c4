/**
 * The reference training step of issue 3, used to tune and benchmark the kernels: six dense
 * layers 64→256→256→16→256→256→64 with bias, ReLU after every hidden layer except the 16-wide
 * bottleneck, a rounding straight-through estimator on the bottleneck (forward `round`, backward
 * identity), MSE reconstruction loss, Adam, batch 512. [choice: ReLU, autoencoding random data]
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** One training step and its bookkeeping. */
export interface ReferenceStep {
  /** Runs one optimizer step and returns the loss. */
  step(): number;
  /** Frames per step (the batch size). */
  readonly batch: number;
  /** Floating-point operations per step (forward + backward GEMMs only). */
  readonly flops: number;
  /** The trainable variables, in layer order (kernel, bias, kernel, bias, …). */
  readonly variables: tf.Variable[];
  dispose(): void;
}

export interface ReferenceOptions {
  widths?: number[];
  batch?: number;
  seed?: number;
  learningRate?: number;
}

/** Layer widths of the reference net. */
export const REFERENCE_WIDTHS: readonly number[] = [64, 256, 256, 16, 256, 256, 64];

/** Rounding STE: `round(x)` forward, identity gradient backward. [paper A: STE] */
export const roundSte: (x: tf.Tensor) => tf.Tensor = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor) => ({ value: tf.round(x), gradFunc: (dy: tf.Tensor) => dy })) as any,
) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Forward pass of the reference net; `bottleneck` is the index of the layer whose output is rounded. */
export function referenceForward(
  x: tf.Tensor2D,
  variables: tf.Variable[],
  bottleneck: number,
): tf.Tensor2D {
  let h: tf.Tensor2D = x;
  const layers = variables.length / 2;
  for (let i = 0; i < layers; i++) {
    h = tf.add(tf.matMul(h, variables[2 * i]), variables[2 * i + 1]);
    if (i === bottleneck) h = roundSte(h) as tf.Tensor2D;
    else if (i < layers - 1) h = tf.relu(h);
  }
  return h;
}

/**
 * Build the reference step with seeded weights and a fixed batch.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * await initBackend();
 * const ref = createReferenceStep();
 * const loss = ref.step();
 * ref.dispose();
 * ```
 */
export function createReferenceStep(options: ReferenceOptions = {}): ReferenceStep {
  const widths = options.widths ?? REFERENCE_WIDTHS;
  const batch = options.batch ?? 512;
  // tfjs treats seed 0 as "unseeded", so seeds start at 1.
  const seed = 1 + (options.seed ?? 0);
  const bottleneck = widths.indexOf(Math.min(...widths.slice(1, -1))) - 1;
  const variables: tf.Variable[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const scale = Math.sqrt(2 / widths[i]);
    variables.push(
      tf.variable(tf.randomNormal([widths[i], widths[i + 1]], 0, scale, "float32", seed + i)),
      tf.variable(tf.zeros([widths[i + 1]])),
    );
  }
  const x = tf.randomNormal([batch, widths[0]], 0, 1, "float32", seed + 1000) as tf.Tensor2D;
  const target = x;
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  let flops = 0;
  for (let i = 0; i + 1 < widths.length; i++) flops += 3 * 2 * batch * widths[i] * widths[i + 1];
  return {
    batch,
    flops,
    variables,
    step() {
      const loss = optimizer.minimize(
        () => tf.losses.meanSquaredError(target, referenceForward(x, variables, bottleneck)),
        true,
        variables,
      )!;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, ...variables]);
    },
  };
}
