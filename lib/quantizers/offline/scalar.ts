/**
 * Offline scalar quantizers: FSQ, residual FSQ and LFQ on a PCA projection fitted on the
 * latents, and bounded scalar quantization per latent dimension (see the configs in
 * `types.ts`). Each component j of a stage is clipped to μ_j ± a_j, a_j = κ(L)·σ_j, and rounded
 * to the centre of one of L uniform cells:
 *
 * ```text
 * i_j = clamp(⌊(u_j + a_j)/Δ_j⌋, 0, L − 1),  Δ_j = 2a_j/L,  û_j = −a_j + (i_j + ½)Δ_j
 * ```
 *
 * κ(L) = L·Δ*(L)/2 with Δ*(L) the step of the MSE-optimal uniform quantizer of a unit Gaussian
 * (Max 1960) [choice]. Codes: a stage of at most 16 bits is one code column (mixed radix over
 * its components), a wider one is one column per component.
 *
 * @module
 */
import type { Artifact } from "../../store/artifacts.ts";
import { _checkLatents, _dimStats } from "./rvq.ts";
import { principalComponents } from "../../cluster/pca.ts";
export { principalComponents };
import type {
  BoundedScalarConfig,
  Latents,
  OfflineQuantizer,
  ProjectedScalarConfig,
  Quantized,
} from "./types.ts";

/** Gaussian-optimal uniform step Δ*(L) for L = 2, 4, …, 256 levels (Max 1960; 128, 256 extrapolated). */
const OPTIMAL_STEP: Record<number, number> = {
  1: 0,
  2: 1.596,
  4: 0.9957,
  8: 0.586,
  16: 0.3352,
  32: 0.1881,
  64: 0.1041,
  128: 0.0568,
  256: 0.0307,
};

/** Half-width κ(L) of the clip in units of σ. */
export function clipHalfWidth(levels: number): number {
  const step = OPTIMAL_STEP[levels];
  if (step === undefined) {
    throw new Error(`clipHalfWidth: levels = ${levels}, expected 1, 2, 4, …, 256`);
  }
  return (levels * step) / 2;
}

/**
 * One stage: project r − μ on `basis` rows (m × D, orthonormal; identity rows for per-dimension
 * quantization), quantize each component with its own level count and half-width.
 */
export interface ScalarStage {
  mean: Float32Array;
  /** [m, D] row-major. */
  basis: Float32Array;
  /** Levels per component (1 = no bits: decodes to 0). */
  levels: Int32Array;
  /** Half-width a_j per component. */
  halfWidth: Float32Array;
}

/** A fitted offline scalar quantizer (all kinds): a list of {@linkcode ScalarStage}s. */
export class OfflineScalar implements OfflineQuantizer {
  readonly codeBits: number[] = [];
  readonly codeStage: number[] = [];
  readonly bitsPerFrame: number;
  /** Per code column: stage, first component, component count. */
  readonly #columns: { stage: number; from: number; n: number }[] = [];

  constructor(
    readonly config: ProjectedScalarConfig | BoundedScalarConfig,
    readonly dim: number,
    readonly stages: ScalarStage[],
  ) {
    stages.forEach((s, k) => {
      const bits = Array.from(s.levels, (l) => Math.log2(l));
      const total = bits.reduce((a, b) => a + b, 0);
      const grouped = total <= 16;
      for (let j = 0; j < s.levels.length; j++) {
        if (grouped && j > 0) break;
        const n = grouped ? s.levels.length : 1;
        const b = grouped ? total : bits[j];
        if (b === 0) continue;
        this.#columns.push({ stage: k, from: j, n });
        this.codeBits.push(b);
        this.codeStage.push(k);
      }
    });
    this.bitsPerFrame = this.codeBits.reduce((a, b) => a + b, 0);
  }

  encode(latents: Latents): Int32Array {
    return this.#run(latents).codes;
  }

  quantize(latents: Latents): Quantized {
    const { codes } = this.#run(latents);
    return { codes, values: this.decode(codes, latents.count) };
  }

  decode(codes: Int32Array, count: number): Float32Array {
    const D = this.dim, cols = this.#columns.length;
    if (codes.length !== count * cols) {
      throw new Error(
        `OfflineScalar.decode: ${codes.length} codes, expected count·columns = ${count * cols}`,
      );
    }
    const out = new Float32Array(count * D);
    const idx = this.stages.map((s) => new Int32Array(s.levels.length));
    for (let p = 0; p < count; p++) {
      idx.forEach((a) => a.fill(0));
      this.#columns.forEach(({ stage, from, n }, c) => {
        let code = codes[p * cols + c];
        if (!(code >= 0 && code < 2 ** this.codeBits[c])) {
          throw new Error(
            `OfflineScalar.decode: code ${code} at frame ${p} column ${c} outside [0, 2^${
              this.codeBits[c]
            })`,
          );
        }
        const levels = this.stages[stage].levels;
        for (let j = from; j < from + n; j++) {
          idx[stage][j] = code % levels[j];
          code = Math.floor(code / levels[j]);
        }
      });
      this.stages.forEach((s, k) => {
        const m = s.levels.length;
        for (let d = 0; d < D; d++) out[p * D + d] += s.mean[d];
        for (let j = 0; j < m; j++) {
          const L = s.levels[j];
          if (L === 1) continue;
          const a = s.halfWidth[j], step = (2 * a) / L;
          const v = -a + (idx[k][j] + 0.5) * step;
          for (let d = 0; d < D; d++) out[p * D + d] += v * s.basis[j * D + d];
        }
      });
    }
    return out;
  }

  /** Encode stage by stage; the residual passes on what each stage's decode gives. */
  #run(latents: Latents): { codes: Int32Array } {
    _checkLatents(latents, this.dim, "OfflineScalar");
    const { count } = latents, D = this.dim, cols = this.#columns.length;
    const r = Float32Array.from(latents.data);
    const codes = new Int32Array(count * cols);
    this.stages.forEach((s, k) => {
      const idx = encodeStage(s, r, count, D);
      this.#columns.forEach(({ stage, from, n }, c) => {
        if (stage !== k) return;
        for (let p = 0; p < count; p++) {
          let code = 0;
          for (let j = from + n - 1; j >= from; j--) {
            code = code * s.levels[j] + idx[p * s.levels.length + j];
          }
          codes[p * cols + c] = code;
        }
      });
    });
    return { codes };
  }

  toArtifact(): Artifact {
    const tensors: Artifact["tensors"] = {};
    const D = this.dim;
    this.stages.forEach((s, k) => {
      const m = s.levels.length;
      tensors[`stage${k}.mean`] = { shape: [D], data: s.mean };
      tensors[`stage${k}.basis`] = { shape: [m, D], data: s.basis };
      tensors[`stage${k}.levels`] = { shape: [m], data: s.levels };
      tensors[`stage${k}.halfWidth`] = { shape: [m], data: s.halfWidth };
    });
    return { meta: { kind: "offline-quantizer", config: { ...this.config }, dim: D }, tensors };
  }

  static fromArtifact(
    config: ProjectedScalarConfig | BoundedScalarConfig,
    dim: number,
    artifact: Artifact,
  ): OfflineScalar {
    const t = (name: string) => {
      const v = artifact.tensors[name];
      if (!v) throw new Error(`OfflineScalar.fromArtifact: the artefact has no tensor ${name}`);
      return v.data;
    };
    const n = config.kind === "scalar" ? 1 : config.stages;
    const stages = Array.from({ length: n }, (_, k) => ({
      mean: Float32Array.from(t(`stage${k}.mean`)),
      basis: Float32Array.from(t(`stage${k}.basis`)),
      levels: Int32Array.from(t(`stage${k}.levels`)),
      halfWidth: Float32Array.from(t(`stage${k}.halfWidth`)),
    }));
    return new OfflineScalar(config, dim, stages);
  }
}

/** Cell indices [count, m] of one stage; subtracts the stage's reconstruction from `r` in place. */
function encodeStage(s: ScalarStage, r: Float32Array, count: number, D: number): Int32Array {
  const m = s.levels.length;
  const idx = new Int32Array(count * m);
  for (let p = 0; p < count; p++) {
    for (let d = 0; d < D; d++) r[p * D + d] -= s.mean[d];
    for (let j = 0; j < m; j++) {
      const L = s.levels[j];
      if (L === 1) continue;
      let u = 0;
      for (let d = 0; d < D; d++) u += s.basis[j * D + d] * r[p * D + d];
      const a = s.halfWidth[j], step = (2 * a) / L;
      const i = Math.min(L - 1, Math.max(0, Math.floor((u + a) / step)));
      idx[p * m + j] = i;
      const v = -a + (i + 0.5) * step;
      for (let d = 0; d < D; d++) r[p * D + d] -= v * s.basis[j * D + d];
    }
  }
  return idx;
}

/** Fit FSQ / residual FSQ / LFQ: per stage, PCA of the residual, the top `dimsPerStage` components. */
export function fitProjectedScalar(config: ProjectedScalarConfig, latents: Latents): OfflineScalar {
  const D = latents.dim, { count } = latents;
  _checkLatents(latents, D, "fitProjectedScalar");
  const levels = config.kind === "lfq" ? 2 : config.levels;
  if (config.dimsPerStage > D) {
    throw new Error(
      `fitProjectedScalar: dimsPerStage = ${config.dimsPerStage} exceeds the latent dimension ${D}`,
    );
  }
  const r = Float32Array.from(latents.data);
  const stages: ScalarStage[] = [];
  const n = config.kind === "fsq" ? 1 : config.stages;
  for (let k = 0; k < n; k++) {
    const { mean } = _dimStats(r, count, D);
    const { vectors, values } = principalComponents(r, count, D, mean);
    const m = config.dimsPerStage;
    const stage: ScalarStage = {
      mean,
      basis: vectors.slice(0, m * D),
      levels: new Int32Array(m).fill(levels),
      halfWidth: Float32Array.from(
        values.slice(0, m),
        (v) => clipHalfWidth(levels) * Math.sqrt(Math.max(v, 0)),
      ),
    };
    encodeStage(stage, r, count, D);
    stages.push(stage);
  }
  return new OfflineScalar({ ...config, levels }, D, stages);
}

/** Fit bounded scalar quantization per dimension with greedy bit allocation. */
export function fitBoundedScalar(config: BoundedScalarConfig, latents: Latents): OfflineScalar {
  const D = latents.dim;
  _checkLatents(latents, D, "fitBoundedScalar");
  if (config.bits > D * config.maxBitsPerDim) {
    throw new Error(
      `fitBoundedScalar: bits = ${config.bits} exceeds dim·maxBitsPerDim = ${
        D * config.maxBitsPerDim
      }`,
    );
  }
  const { mean, std } = _dimStats(latents.data, latents.count, D);
  const bits = new Int32Array(D);
  for (let b = 0; b < config.bits; b++) {
    let best = -1, bestGain = -Infinity;
    for (let j = 0; j < D; j++) {
      if (bits[j] >= config.maxBitsPerDim) continue;
      const gain = std[j] ** 2 * 4 ** -bits[j];
      if (gain > bestGain) bestGain = gain, best = j;
    }
    bits[best]++;
  }
  const basis = new Float32Array(D * D);
  for (let j = 0; j < D; j++) basis[j * D + j] = 1;
  const levels = Int32Array.from(bits, (b) => 2 ** b);
  const halfWidth = Float32Array.from(levels, (L, j) => clipHalfWidth(L) * std[j]);
  return new OfflineScalar(config, D, [{ mean, basis, levels, halfWidth }]);
}
