/**
 * The contract every quantizer meets. A quantizer knows nothing of codecs or training: it maps
 * latent frames z (frames × dim) to hard values and integer codes, converts codes back to
 * values, says how it wants to be initialised, and computes its own weighted losses.
 *
 * @module
 */
import type { tf } from "../backend.ts";
import type { Rng } from "../random.ts";

/** The hard quantization of a batch: value, codes and auxiliary losses together (as in DAC). */
export interface HardQuantization {
  /** Q(z). Carries gradient to loss-learned codebooks (for the codebook loss), never to z. */
  q: tf.Tensor2D;
  /** Integer codes, (frames × stages) or (frames × dim) for FSQ. */
  codes: tf.Tensor2D;
  /**
   * Named auxiliary losses, already weighted, in the order the trainer adds them to the
   * reconstruction loss: `commitment` β·mean(z − sg(Q(z)))² when β > 0, then `codebook`
   * w·Σ_stages mean‖sg(r) − C[i]‖² when codebooks learn by loss and w > 0. Empty otherwise.
   * Read it inside the same graph as the rest of the loss, after decoding: the quantizers compute
   * it on first read (see `withLosses` in codebook.ts for why).
   */
  losses: Record<string, tf.Scalar>;
}

/** Weights of a quantizer's auxiliary losses (from `train.commitment`, `train.codebookWeight`). */
export interface LossWeights {
  /** β of the commitment loss; 0 disables it. */
  commitment: number;
  /** w of the codebook loss; 0 disables it. */
  codebook: number;
}

/** The weights of the default config: no commitment loss, codebook loss weight 1. */
export const DEFAULT_LOSS_WEIGHTS: LossWeights = { commitment: 0, codebook: 1 };

/** A data-dependent initialisation (k-means init) a quantizer asks for before training. */
export interface QuantizerInitialization {
  /** The fewest latent frames it wants (the trainer gives at least a training batch's worth). */
  frames: number;
  /** Initialise from quantizer inputs z, `frames` row-major rows of `dim`. */
  run(z: Float32Array, frames: number): void;
}

export interface Quantizer {
  /** Bits spent per frame, B_q. */
  readonly bits: number;
  /** Dimension of the frames it quantizes. */
  readonly dim: number;
  /** Variables the optimizer trains (codebooks learned by loss); empty otherwise. */
  readonly variables: tf.Variable[];
  /**
   * Every variable that defines the quantizer (codebooks, EMA statistics), for checkpoints;
   * absent means `variables`.
   */
  readonly state?: tf.Variable[];
  /** Present when the quantizer wants a data-dependent initialisation before training. */
  readonly initialization?: QuantizerInitialization;
  /** Differentiable map from the encoder output e to the quantizer input z (FSQ: tanh bound; VQ: identity). */
  prepare(e: tf.Tensor2D): tf.Tensor2D;
  /** Hard forward pass: nearest codeword(s) or rounding, with the weighted auxiliary losses. */
  quantize(z: tf.Tensor2D): HardQuantization;
  /**
   * The hard pass of a training step when it differs from `quantize` (quantizer dropout); the
   * trainer calls it with the step's seeded stream and evaluation always calls `quantize`.
   */
  quantizeTrain?(z: tf.Tensor2D, rng: Rng): HardQuantization;
  /** Q(z) from integer codes, exactly the `q` that `quantize` returned with those codes. */
  decodeCodes(codes: tf.Tensor2D): tf.Tensor2D;
  /**
   * Soft assignment Σ_k softmax(−‖z−c_k‖²/τ)_k c_k, for soft-to-hard annealing (VQ; an RVQ
   * stage by stage on the residuals, `rvq.ts`).
   */
  soft?(z: tf.Tensor2D, tau: number): tf.Tensor2D;
  /**
   * Gumbel straight-through value at temperature τ (`passers.ts`'s `gumbel`) when the quantizer
   * samples in its own way (RVQ: stage by stage); absent, the passer samples from `distances`.
   */
  gumbel?(z: tf.Tensor2D, tau: number, rng: Rng): tf.Tensor2D;
  /** Squared distances ‖z_n − c_k‖² to every codeword, (frames × K), differentiable (VQ only). */
  distances?(z: tf.Tensor2D): tf.Tensor2D;
  /** Update after an optimizer step (EMA codebooks). */
  afterStep?(z: tf.Tensor2D, codes: tf.Tensor2D): void;
  /** One integer per frame identifying its full code, for usage statistics. */
  jointCodes(codes: Int32Array, frames: number): Float64Array;
  dispose(): void;
}
