/**
 * The contract every data source meets: seeded training batches, a fixed validation set in
 * batches, the training loss and a meter for its validation metrics. Nothing here knows about
 * codecs or quantizers, so speech clips, stored latents and the simulated frames implement the
 * same interface. Each kind's config, defaults and validation live beside its source; the
 * registry is `mod.ts`.
 *
 * @module
 */
import type { tf } from "../backend.ts";

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

/** Builds the source a data config of one kind names; `seed` is `train.seed`. */
export type SourceBuilder<C> = (config: C, seed: number) => Source;
