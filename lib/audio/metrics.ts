/**
 * Metrics for speech codecs (not differentiable; computed in float64 on plain arrays).
 *
 * - SI-SDR (Le Roux et al. 2019), mean removed: with ŝ, s zero-mean,
 *   α = ⟨ŝ, s⟩/‖s‖², SI-SDR = 10·log10(‖α s‖² / ‖ŝ − α s‖²) dB. +Infinity for a perfect
 *   estimate (zero residual), NaN when the reference is silent (no scale to project on).
 * - Latent MSE: mean of (z − ẑ)² over all elements.
 * - Code usage per RVQ stage: entropy (bits), perplexity 2^H, and the share of the codebook used.
 *
 * @example
 * ```ts
 * import { siSdr } from "./metrics.ts";
 * const s = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
 * siSdr(s.map((v) => 2 * v), s); // Infinity: scale-invariant
 * ```
 *
 * @module
 */
import { codeUsage } from "../metrics.ts";

/** SI-SDR in dB of `estimate` against `reference` (same length), means removed. */
export function siSdr(estimate: ArrayLike<number>, reference: ArrayLike<number>): number {
  const n = reference.length;
  if (estimate.length !== n) {
    throw new Error(`siSdr: estimate has ${estimate.length} samples, reference ${n}`);
  }
  if (n === 0) throw new Error("siSdr: empty signals");
  let me = 0, mr = 0;
  for (let i = 0; i < n; i++) {
    me += estimate[i];
    mr += reference[i];
  }
  me /= n;
  mr /= n;
  let dot = 0, rr = 0;
  for (let i = 0; i < n; i++) {
    const r = reference[i] - mr;
    dot += (estimate[i] - me) * r;
    rr += r * r;
  }
  if (rr === 0) return NaN;
  const alpha = dot / rr;
  let target = 0, noise = 0;
  for (let i = 0; i < n; i++) {
    const t = alpha * (reference[i] - mr);
    const e = estimate[i] - me - t;
    target += t * t;
    noise += e * e;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(target / noise);
}

/**
 * SI-SDR per segment of flat batches [count, length] (`x[i * length + t]`), and their mean over
 * segments with a defined value (silent references are left out of the mean and counted).
 */
export function siSdrBatch(
  estimate: Float32Array,
  reference: Float32Array,
  count: number,
  length: number,
): { perSegment: number[]; mean: number; silent: number } {
  if (estimate.length !== count * length || reference.length !== count * length) {
    throw new Error(
      `siSdrBatch: expected ${count}×${length} samples, got ${estimate.length} and ${reference.length}`,
    );
  }
  const perSegment: number[] = [];
  for (let i = 0; i < count; i++) {
    const a = i * length, b = a + length;
    perSegment.push(siSdr(estimate.subarray(a, b), reference.subarray(a, b)));
  }
  const defined = perSegment.filter((v) => !Number.isNaN(v));
  return {
    perSegment,
    mean: defined.reduce((s, v) => s + v, 0) / defined.length,
    silent: count - defined.length,
  };
}

/** Mean squared difference of two latents of equal size. */
export function latentMse(z: ArrayLike<number>, zq: ArrayLike<number>): number {
  if (z.length !== zq.length || z.length === 0) {
    throw new Error(
      `latentMse: expected two non-empty latents of equal size, got ${z.length} and ${zq.length}`,
    );
  }
  let s = 0;
  for (let i = 0; i < z.length; i++) s += (z[i] - zq[i]) ** 2;
  return s / z.length;
}

/** Code usage of one RVQ stage. */
export interface StageUsage {
  stage: number;
  /** Entropy of the empirical code distribution, bits (at most log2 codebookSize). */
  entropy: number;
  /** 2^entropy: the number of equally used codes with that entropy. */
  perplexity: number;
  /** Distinct codes used / codebook size. */
  used: number;
}

/**
 * Code usage per stage from codes laid out [frames, stages] row-major (as `rvq` returns them:
 * `codes[n * stages + s]`).
 */
export function codeUsagePerStage(
  codes: ArrayLike<number>,
  stages: number,
  codebookSize: number,
): StageUsage[] {
  if (!Number.isInteger(stages) || stages < 1 || codes.length % stages !== 0) {
    throw new Error(`codeUsagePerStage: ${codes.length} codes do not split into ${stages} stages`);
  }
  const frames = codes.length / stages;
  return Array.from({ length: stages }, (_, s) => {
    const column = new Int32Array(frames);
    for (let n = 0; n < frames; n++) {
      const c = codes[n * stages + s];
      if (!Number.isInteger(c) || c < 0 || c >= codebookSize) {
        throw new Error(
          `codeUsagePerStage: code ${c} at frame ${n}, stage ${s} is outside [0, ${codebookSize})`,
        );
      }
      column[n] = c;
    }
    const { entropy, perplexity } = codeUsage(column);
    return { stage: s, entropy, perplexity, used: new Set(column).size / codebookSize };
  });
}
