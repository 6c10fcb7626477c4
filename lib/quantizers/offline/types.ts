/**
 * The contract of offline quantizers (post-training quantization, method §7): fitted once on a
 * fixed set of latents, then pure functions from latents to integer codes and back. Nothing here
 * is trained by gradient, so non-differentiable quantizers fit the same contract. [paper B]
 *
 * @module
 */
import type { Artifact } from "../../store/artifacts.ts";

/** Latent frames, row-major [count, dim]. */
export interface Latents {
  data: Float32Array;
  count: number;
  dim: number;
}

/** Residual k-means vector quantization. [paper B: PostRVQ] */
export interface OfflineRvqConfig {
  kind: "rvq";
  /** Number of stages N. */
  stages: number;
  /** Bits per stage; each codebook has 2^bitsPerStage entries. */
  bitsPerStage: number;
  /**
   * The standardization step [paper B names it; formulas are ours, choice]:
   * - `"none"`: plain RVQ on the residuals.
   * - `"stage"`: per stage and per dimension, u_k = (r_k − μ_k)/σ_k, C_k = kmeans(u_k),
   *   q_k = σ_k ⊙ C_k[i_k] + μ_k, r_{k+1} = r_k − q_k (statistics of the fitted residuals).
   * - `"global"`: one per-dimension standardization of the latents before a plain RVQ.
   * - `"scalar"`: per stage with one scalar μ_k and σ_k: the control, which changes nothing
   *   because k-means is scale- and shift-equivariant.
   */
  standardize: "none" | "stage" | "global" | "scalar";
  /** Lloyd iterations at most. [choice] */
  iterations: number;
  /** Relative objective decrease below which Lloyd stops. [choice] */
  tolerance: number;
}

/**
 * Scalar quantization on a projection fitted offline [choice: PCA of each stage's residual]:
 * per stage, the top `dimsPerStage` principal components of the residual, each clipped to
 * ±κ(L)·σ and rounded to one of `levels` uniform cells (κ(L) from the Gaussian-optimal uniform
 * quantizer, Max 1960 [choice]; FSQ's tanh bound becomes this clip offline).
 * - `"fsq"`: one stage (finite scalar quantization, Mentzer et al. 2023, on a PCA projection).
 * - `"rfsq"`: residual FSQ, `stages` stages.
 * - `"lfq"`: lookup-free quantization (Yu et al. 2023): two levels (the sign) per component,
 *   reconstructed at ±0.798σ; residual over `stages` stages to reach the bitrate.
 */
export interface ProjectedScalarConfig {
  kind: "fsq" | "rfsq" | "lfq";
  stages: number;
  dimsPerStage: number;
  /** Levels per component, a power of two so bits are whole (lfq: 2). */
  levels: number;
}

/**
 * Bounded scalar quantization per latent dimension, no projection: `bits` allocated greedily to
 * the dimension with the largest σ_j²·4^(−b_j) [choice: high-rate reverse water-filling], each
 * dimension clipped to μ_j ± κ(2^b_j)·σ_j and rounded to 2^b_j uniform cells; a dimension with no
 * bits decodes to its mean.
 */
export interface BoundedScalarConfig {
  kind: "scalar";
  bits: number;
  /** At most this many bits on one dimension. [choice] */
  maxBitsPerDim: number;
}

export type OfflineQuantizerConfig = OfflineRvqConfig | ProjectedScalarConfig | BoundedScalarConfig;

/** The result of quantizing: codes [count, codeBits.length] and their reconstruction. */
export interface Quantized {
  codes: Int32Array;
  values: Float32Array;
}

/**
 * A fitted offline quantizer. `encode` and `decode` are deterministic; `decode(encode(x))` is the
 * quantized value, and a quantizer restored from {@linkcode OfflineQuantizer.toArtifact} gives
 * the same codes and bit-identical values.
 */
export interface OfflineQuantizer {
  readonly config: OfflineQuantizerConfig;
  /** Latent dimension D. */
  readonly dim: number;
  /** Bits of each code column; a code in column c lies in [0, 2^codeBits[c]). */
  readonly codeBits: number[];
  /** Σ codeBits: the bits one frame costs. */
  readonly bitsPerFrame: number;
  /** Which stage each code column belongs to (code usage is reported per stage). */
  readonly codeStage: number[];
  encode(latents: Latents): Int32Array;
  decode(codes: Int32Array, count: number): Float32Array;
  /** encode and decode together. */
  quantize(latents: Latents): Quantized;
  /** The whole fitted state, for the artefact store. */
  toArtifact(): Artifact;
}
