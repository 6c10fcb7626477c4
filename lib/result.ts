/**
 * What a training run produces: plain JSON-serialisable objects, so notebooks, reports and
 * the result cache can store them as they are.
 *
 * @module
 */
import type { RunConfig } from "./config.ts";
import type { BackendInfo } from "./backend.ts";

/** Metrics recorded at the end of every epoch (validation always uses the hard quantizer). */
export interface EpochRecord {
  epoch: number;
  /** Global step count at the end of the epoch. */
  step: number;
  /** Mean training loss over the epoch's steps (reconstruction + auxiliary losses). */
  trainLoss: number;
  /** Validation MSE of ŷ against y with the hard quantizer. */
  valMse: number;
  /** valMse in dB relative to the target power. */
  valMseDb: number;
  /** MA-E: max |e| of the encoder output over the validation set. [choice, method §5] */
  maE: number;
  /** Entropy (bits) of the validation code histogram. */
  codeEntropy: number;
  /** 2^codeEntropy: the effective number of codes used. */
  codePerplexity: number;
  /** Share of validation frames decoded nearest to their own source frame (NaN if undefined). */
  symbolAccuracy: number;
  /** Soft-to-hard only: validation MSE with the soft quantizer at the current τ. */
  softValMse?: number;
  /** Soft-to-hard only: temperature at the end of the epoch. */
  tau?: number;
  /** Further validation metrics a source reports (e.g. spectral distances for speech). */
  metrics?: Record<string, number>;
  /**
   * Per validation example, named series in validation order (speech: `siSdr`, `melL1`,
   * `f0Agreement`, `voicingAgreement`, `levelDb` per segment, for comparisons paired by utterance).
   */
  segments?: Record<string, number[]>;
  /** Wall time since the start of training, ms. */
  wallMs: number;
}

/** Why and where a run stopped early. Divergence is an outcome, not a crash. */
export interface Divergence {
  step: number;
  epoch: number;
  reason: string;
}

export interface RunResult {
  config: RunConfig;
  history: EpochRecord[];
  /** The last epoch record with finite values (null when the first epoch already diverged). */
  final: EpochRecord | null;
  diverged: Divergence | null;
  versions: BackendInfo & { quantlab: string };
  wallMs: number;
  peakRssMb: number;
  /** Per-step trace when `train.traceEvery` > 0 (absent otherwise, e.g. in the proxy's runs). */
  steps?: StepTrace;
}

/**
 * Training loss and MA-E (max |e| of the training batch) at steps every, 2·every, …: entry i is
 * step (i + 1)·every. A diverging step is recorded too; non-finite values are stored as null.
 */
export interface StepTrace {
  every: number;
  loss: (number | null)[];
  maE: (number | null)[];
}
