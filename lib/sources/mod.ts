/**
 * Data sources: what the trainer trains on and validates with. A source supplies seeded
 * training batches, a fixed validation set in batches, the training loss and its validation
 * metrics, so the trainer never assumes a kind of data or a loss. `buildSource` makes the source
 * a config's `data` section names; a new kind adds its config to `DataConfig` (config.ts) and a
 * line to {@linkcode SOURCES}.
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { DataConfig } from "../config.ts";
import { SimulatedSource } from "./simulated.ts";
import { prepareSpeech, speechSource } from "./speech.ts";

export { oracleFloor, SimulatedSource } from "./simulated.ts";
export { mseLoss, mseMeter } from "./mse.ts";
export type { FloorDistribution, FrameBatch } from "./simulated.ts";
export { prepareSpeech, releaseSpeech, speechLoss, SpeechSource } from "./speech.ts";

/**
 * One batch of examples as row-major Float32Arrays with their shapes; the leading axis counts
 * examples (the proxy: x [B, F]; mono audio: e.g. [B, T]).
 */
export interface Batch {
  readonly x: Float32Array;
  readonly xShape: readonly number[];
  readonly y: Float32Array;
  readonly yShape: readonly number[];
}

/** Validation metrics a source reports for one pass over its validation set. */
export interface SourceMetrics {
  /** Mean squared error of ŷ against y over every validation value (divergence checks use it). */
  valMse: number;
  /** valMse in dB relative to the target power. */
  valMseDb: number;
  /** Share of validation examples decoded to their own source symbol; NaN where undefined. */
  symbolAccuracy: number;
  /** Further named metrics of this source (e.g. spectral distances); stored in `EpochRecord.metrics`. */
  extra?: Record<string, number>;
  /** Per validation example (speech: per segment), named series in validation order. */
  segments?: Record<string, number[]>;
}

/** Accumulates validation metrics batch by batch, in the order the source gave the batches. */
export interface ValidationMeter {
  add(yhat: Float32Array, batch: Batch): void;
  /**
   * Optional: the quantizer's view of the batch just added — inputs z, hard values Q(z) (both
   * frames × dim) and codes (frames × `columns`) — for latent and code-usage metrics. The trainer
   * calls it only on meters that have it.
   */
  addQuantization?(z: Float32Array, q: Float32Array, codes: Int32Array, columns: number): void;
  result(): SourceMetrics;
}

/**
 * What the trainer needs from data. Nothing here knows about codecs or quantizers, so speech
 * clips, stored latents and the simulated frames implement the same interface.
 */
export interface Source {
  /** Size of the last axis of x (the proxy's frame dimension F; 1 for mono audio). */
  readonly inputDim: number;
  /** Size of the last axis of y. */
  readonly outputDim: number;
  /** Training batch for a global step: the same (seed, step, size) always gives the same batch. */
  trainBatch(step: number, batchSize: number): Batch;
  /** The fixed validation set, in batches small enough to run through the codec at once. */
  validationBatches(): Iterable<Batch>;
  /** Training loss of a reconstruction ŷ against y (the proxy: MSE). Called inside the graph. */
  loss(yhat: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** A fresh meter for one validation pass. */
  validationMeter(): ValidationMeter;
  dispose?(): void;
}

/** Builds the source a data config names; `seed` is `train.seed`. */
export type SourceBuilder<C extends DataConfig> = (config: C, seed: number) => Source;

/** The registry of data kinds: one builder per `data.kind`. */
export const SOURCES: {
  [K in DataConfig["kind"]]: SourceBuilder<Extract<DataConfig, { kind: K }>>;
} = {
  simulated: (config, seed) => new SimulatedSource(config, seed),
  speech: (config, seed) => speechSource(config, seed),
};

/**
 * Load what a data kind needs before its (synchronous) builder can run: the speech corpus for
 * `"speech"` (fetched when missing, kept for the process); nothing for `"simulated"`.
 * `train()` calls it; call it yourself before `createSession` or `buildSource`.
 */
export async function prepareSource(config: DataConfig): Promise<void> {
  if (config.kind === "speech") await prepareSpeech(config);
}

/**
 * The source a (validated) data config names.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config.ts";
 * const config = resolveConfig({});
 * const source = buildSource(config.data, config.train.seed);
 * console.log(source.inputDim); // 16
 * ```
 */
export function buildSource(config: DataConfig, seed: number): Source {
  const build = SOURCES[config.kind] as SourceBuilder<DataConfig> | undefined;
  if (!build) throw new Error(`buildSource: no source registered for data.kind = "${config.kind}"`);
  return build(config, seed);
}

/**
 * Split a batch along its leading axis into batches of at most `size` examples (views, no
 * copies): how a source serves a long validation set in batches of a configured size.
 *
 * @example
 * ```ts
 * const x = new Float32Array(10 * 4);
 * const parts = splitBatch({ x, xShape: [10, 4], y: x, yShape: [10, 4] }, 4);
 * console.log(parts.map((b) => b.xShape[0])); // [4, 4, 2]
 * ```
 */
export function splitBatch(batch: Batch, size: number): Batch[] {
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`splitBatch: size ${size} is not a positive integer`);
  }
  const n = batch.xShape[0];
  if (batch.yShape[0] !== n) {
    throw new RangeError(`splitBatch: x has ${n} examples, y has ${batch.yShape[0]}`);
  }
  const xPer = batch.x.length / n, yPer = batch.y.length / n;
  const out: Batch[] = [];
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    out.push({
      x: batch.x.subarray(start * xPer, (start + count) * xPer),
      xShape: [count, ...batch.xShape.slice(1)],
      y: batch.y.subarray(start * yPer, (start + count) * yPer),
      yShape: [count, ...batch.yShape.slice(1)],
    });
  }
  return out;
}
