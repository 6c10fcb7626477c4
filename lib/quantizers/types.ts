/**
 * The contract every quantizer meets. A quantizer knows nothing of codecs or training: it maps
 * latent frames z (frames × dim) to hard values and integer codes, and reports its own losses.
 *
 * @module
 */
import type { tf } from "../backend.ts";

/** The hard quantization of a batch. */
export interface HardQuantization {
  /** Q(z). Carries gradient to loss-learned codebooks (for the codebook loss), never to z. */
  q: tf.Tensor2D;
  /** Integer codes, (frames × stages). */
  codes: tf.Tensor2D;
  /** Codebook loss Σ_stages mean‖sg(r) − C[i]‖², or null when nothing learns by loss. */
  codebookLoss: tf.Scalar | null;
}

export interface Quantizer {
  /** Bits spent per frame, B_q. */
  readonly bits: number;
  /** Dimension of the frames it quantizes. */
  readonly dim: number;
  /** Variables the optimizer trains (codebooks learned by loss); empty otherwise. */
  readonly variables: tf.Variable[];
  /** Differentiable map from the encoder output e to the quantizer input z (FSQ: tanh bound; VQ: identity). */
  prepare(e: tf.Tensor2D): tf.Tensor2D;
  /** Hard forward pass: nearest codeword(s) or rounding. */
  quantize(z: tf.Tensor2D): HardQuantization;
  /** Soft assignment Σ_k softmax(−‖z−c_k‖²/τ)_k c_k, for soft-to-hard annealing (VQ only). */
  soft?(z: tf.Tensor2D, tau: number): tf.Tensor2D;
  /** Initialise codebooks from quantizer inputs (k-means init); called once before training. */
  initialize?(z: Float32Array, frames: number): void;
  /** Update after an optimizer step (EMA codebooks). */
  afterStep?(z: tf.Tensor2D, codes: tf.Tensor2D): void;
  /** One integer per frame identifying its full code, for usage statistics. */
  jointCodes(codes: Int32Array, frames: number): Float64Array;
  dispose(): void;
}
