/**
 * Codebook reparameterisations: the quantizer's codewords are C = f(C̃), a differentiable map of
 * the stored codebook C̃ with its own trained parameters, so one gradient step moves every
 * codeword, used or not.
 *
 * | reparam  | C                                   | trained      | paper                       |
 * |----------|-------------------------------------|--------------|-----------------------------|
 * | `affine` | C̃ ⊙ (1 + s·â) + s·b̂, per dimension | C̃, â, b̂     | Huh et al. 2023             |
 * | `linear` | C̃ (I + s·Ŵ)                        | Ŵ (C̃ frozen) | SimVQ, Zhu et al. 2024      |
 *
 * A VQ has one map; an RVQ one per stage (each stage's codebook its own â, b̂ or Ŵ, as
 * lucidrains' `ResidualSimVQ` gives each layer its own linear layer). [choice for the RVQ]
 *
 * â, b̂, Ŵ start at 0, so the codebook starts as C̃ (the plain VQ's random or k-means codebook).
 * s = `quantizer.reparamLrScale` multiplies the parameters' effective learning rate under Adam
 * (Adam's step is about the learning rate whatever the gradient's scale, so a parameter used as
 * s·p̂ moves s times as fast); vqtorch's `affine_lr` is this s (its example: 10).
 *
 * - Huh, Cheung, Agrawal, Isola 2023, "Straightening Out the Straight-Through Estimator:
 *   Overcoming Optimization Challenges in Vector Quantized Networks" (ICML): a shared affine map
 *   of the codewords, learned by gradient, so codewords the encoder's batch never selects still
 *   follow the shift and scale of its outputs. [choice: learned (vqtorch's form); lucidrains'
 *   `affine_param` uses running batch and codebook statistics instead.]
 * - Zhu, Li, Zhang, Qiu, Cheng 2024, "Addressing Representation Collapse in Vector Quantized
 *   Models with One Linear Layer" (SimVQ, arXiv 2411.02038; lucidrains' `sim_vq.py`): the
 *   codebook is a frozen random C̃ through one learned linear layer W, C = C̃W. [choice: W = I at
 *   the start (the paper and lucidrains use PyTorch's default Linear init and C̃ ~ N(0, 1/d)),
 *   so the starting codebook is the plain VQ's and only the parameterisation differs.]
 *
 * @module
 */
import { tf } from "../backend.ts";
import { checkNumber, checkOneOf, ConfigError } from "../kinds.ts";

/** Which codebook reparameterisation. */
export type CodebookReparamKind = "affine" | "linear";
export const REPARAM_KINDS: readonly CodebookReparamKind[] = ["affine", "linear"];

/** A codebook reparameterisation C = f(C̃) with its own variables. */
export interface CodebookReparam {
  readonly kind: CodebookReparamKind;
  /** Its trained parameters (â, b̂ or Ŵ). */
  readonly variables: tf.Variable[];
  /** Whether C̃ itself is trained (affine: yes; SimVQ's linear layer: no, C̃ is frozen). */
  readonly trainsBase: boolean;
  /** C from C̃ (differentiable in both). */
  apply(base: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/**
 * Check the reparameterisation fields of a VQ or RVQ config (`quantizer.reparam`,
 * `quantizer.reparamLrScale`), throwing a `ConfigError` that names the bad one.
 */
export function validateReparamFields(
  q: { learning: unknown; reparam?: unknown; reparamLrScale?: number },
): void {
  if (q.reparam !== undefined) {
    checkOneOf("quantizer.reparam", q.reparam, REPARAM_KINDS);
    if (q.learning !== "loss") {
      throw new ConfigError(
        "quantizer.learning",
        q.learning,
        `"loss" with quantizer.reparam = "${q.reparam}" (its parameters learn by gradient)`,
      );
    }
  }
  if (q.reparamLrScale !== undefined) {
    if (q.reparam === undefined) {
      throw new ConfigError(
        "quantizer.reparamLrScale",
        q.reparamLrScale,
        "no value without quantizer.reparam",
      );
    }
    checkNumber("quantizer.reparamLrScale", q.reparamLrScale, 0, 1e4, true);
  }
}

/** The reparameterisation of a codebook of `dim`-dimensional codewords, learning-rate scale `s`. */
export function codebookReparam(
  kind: CodebookReparamKind,
  dim: number,
  s: number,
): CodebookReparam {
  if (kind === "affine") {
    const scale = tf.variable(tf.zeros([1, dim]), true);
    const shift = tf.variable(tf.zeros([1, dim]), true);
    return {
      kind,
      variables: [scale, shift],
      trainsBase: true,
      apply: (base) =>
        tf.tidy(() =>
          tf.add(tf.mul(base, tf.add(tf.mul(scale, s), 1)), tf.mul(shift, s)) as tf.Tensor2D
        ),
      dispose: () => tf.dispose([scale, shift]),
    };
  }
  const w = tf.variable(tf.zeros([dim, dim]), true);
  return {
    kind,
    variables: [w],
    trainsBase: false,
    apply: (base) => tf.tidy(() => tf.add(base, tf.matMul(base, tf.mul(w, s))) as tf.Tensor2D),
    dispose: () => w.dispose(),
  };
}
