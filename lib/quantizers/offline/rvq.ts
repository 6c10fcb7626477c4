/**
 * Offline residual VQ from k-means, with paper B's standardization step (method §7):
 *
 * ```text
 * r_1 = z                                     ("global": r_1 = (z − μ)/σ per dimension)
 * per stage k:  u_k = (r_k − μ_k)/σ_k          ("stage": per dimension; "scalar": one number each;
 *               C_k = kmeans(u_k)                "none": μ_k = 0, σ_k = 1)
 *               i_k = argmin_i ‖u_k − C_k[i]‖²
 *               q_k = σ_k ⊙ C_k[i_k] + μ_k
 *               r_{k+1} = r_k − q_k
 * ẑ = Σ_k q_k                                 ("global": ẑ = σ ⊙ Σ_k q_k + μ)
 * ```
 *
 * [paper B: PostRVQ and the standardization step; the formulas and the scalar control are ours]
 *
 * @module
 */
import { kmeansFit, nearestCentroids } from "../../cluster/kmeans.ts";
import { Rng } from "../../random.ts";
import type { Artifact } from "../../store/artifacts.ts";
import type { Latents, OfflineQuantizer, OfflineRvqConfig, Quantized } from "./types.ts";

/** One stage's codebook [K, D] and standardization (μ, σ per dimension; 0 and 1 for none). */
export interface RvqStage {
  codebook: Float32Array;
  mean: Float32Array;
  std: Float32Array;
}

/** A fitted offline RVQ; build with {@linkcode fitOfflineRvq}. */
export class OfflineRvq implements OfflineQuantizer {
  readonly codeBits: number[];
  readonly codeStage: number[];
  readonly bitsPerFrame: number;
  readonly #size: number;

  constructor(
    readonly config: OfflineRvqConfig,
    readonly dim: number,
    /** Per-dimension (μ, σ) applied before the stages ("global"), else null. */
    readonly global: { mean: Float32Array; std: Float32Array } | null,
    readonly stages: RvqStage[],
  ) {
    this.#size = 2 ** config.bitsPerStage;
    this.codeBits = Array.from({ length: config.stages }, () => config.bitsPerStage);
    this.codeStage = Array.from({ length: config.stages }, (_, k) => k);
    this.bitsPerFrame = config.stages * config.bitsPerStage;
  }

  encode(latents: Latents): Int32Array {
    return this.#run(latents, null).codes;
  }

  decode(codes: Int32Array, count: number): Float32Array {
    const { dim } = this, n = this.stages.length;
    if (codes.length !== count * n) {
      throw new Error(
        `OfflineRvq.decode: ${codes.length} codes, expected count·stages = ${count * n}`,
      );
    }
    const out = new Float32Array(count * dim);
    for (let k = 0; k < n; k++) {
      const { codebook, mean, std } = this.stages[k];
      for (let p = 0; p < count; p++) {
        const i = codes[p * n + k];
        if (!(i >= 0 && i < this.#size)) {
          throw new Error(
            `OfflineRvq.decode: code ${i} at frame ${p} stage ${k} outside [0, ${this.#size})`,
          );
        }
        for (let j = 0; j < dim; j++) {
          out[p * dim + j] += std[j] * codebook[i * dim + j] + mean[j];
        }
      }
    }
    if (this.global) _unstandardize(out, dim, this.global.mean, this.global.std);
    return out;
  }

  quantize(latents: Latents): Quantized {
    const codes = this.encode(latents);
    return { codes, values: this.decode(codes, latents.count) };
  }

  /** Greedy residual encoding; with `rng`, fits each stage's codebook first (used by the fit). */
  #run(latents: Latents, fit: { rng: Rng } | null): { codes: Int32Array } {
    const { dim } = this, n = this.config.stages;
    _checkLatents(latents, dim, "OfflineRvq");
    const { count } = latents;
    const r = Float32Array.from(latents.data);
    if (this.global) _standardize(r, dim, this.global.mean, this.global.std);
    const codes = new Int32Array(count * n);
    const u = new Float32Array(count * dim);
    for (let k = 0; k < n; k++) {
      if (fit) {
        this.stages.push(_fitStage(this.config, r, count, dim, new Rng(fit.rng.int(2 ** 32))));
      }
      const { codebook, mean, std } = this.stages[k];
      for (let p = 0; p < count; p++) {
        for (let j = 0; j < dim; j++) u[p * dim + j] = (r[p * dim + j] - mean[j]) / std[j];
      }
      const idx = nearestCentroids(u, count, dim, codebook, this.#size);
      for (let p = 0; p < count; p++) {
        const i = idx[p];
        codes[p * n + k] = i;
        for (let j = 0; j < dim; j++) r[p * dim + j] -= std[j] * codebook[i * dim + j] + mean[j];
      }
    }
    return { codes };
  }

  /** @internal the fit: stages are appended as the residual is computed. */
  _fit(latents: Latents, rng: Rng): this {
    this.#run(latents, { rng });
    return this;
  }

  toArtifact(): Artifact {
    const tensors: Artifact["tensors"] = {};
    const K = this.#size, D = this.dim;
    this.stages.forEach((s, k) => {
      tensors[`stage${k}.codebook`] = { shape: [K, D], data: s.codebook };
      tensors[`stage${k}.mean`] = { shape: [D], data: s.mean };
      tensors[`stage${k}.std`] = { shape: [D], data: s.std };
    });
    if (this.global) {
      tensors["global.mean"] = { shape: [D], data: this.global.mean };
      tensors["global.std"] = { shape: [D], data: this.global.std };
    }
    return {
      meta: { kind: "offline-quantizer", config: { ...this.config }, dim: D },
      tensors,
    };
  }

  /** Restore from {@linkcode OfflineRvq.toArtifact}. */
  static fromArtifact(config: OfflineRvqConfig, dim: number, artifact: Artifact): OfflineRvq {
    const t = (name: string) => {
      const v = artifact.tensors[name];
      if (!v) throw new Error(`OfflineRvq.fromArtifact: the artefact has no tensor ${name}`);
      return Float32Array.from(v.data);
    };
    const global = config.standardize === "global"
      ? { mean: t("global.mean"), std: t("global.std") }
      : null;
    const stages = Array.from({ length: config.stages }, (_, k) => ({
      codebook: t(`stage${k}.codebook`),
      mean: t(`stage${k}.mean`),
      std: t(`stage${k}.std`),
    }));
    return new OfflineRvq(config, dim, global, stages);
  }
}

/**
 * Fit an offline RVQ on `latents`: each stage's k-means on the (standardized) residual of the
 * stages before it, seeded from one draw of `rng` per stage (so every standardization variant
 * sees the same random draws).
 */
export function fitOfflineRvq(config: OfflineRvqConfig, latents: Latents, rng: Rng): OfflineRvq {
  const { dim } = latents;
  _checkLatents(latents, dim, "fitOfflineRvq");
  const global = config.standardize === "global"
    ? _dimStats(latents.data, latents.count, dim)
    : null;
  return new OfflineRvq(config, dim, global, [])._fit(latents, rng);
}

function _fitStage(
  config: OfflineRvqConfig,
  r: Float32Array,
  count: number,
  dim: number,
  rng: Rng,
): RvqStage {
  let mean = new Float32Array(dim), std = new Float32Array(dim).fill(1);
  if (config.standardize === "stage") ({ mean, std } = _dimStats(r, count, dim));
  if (config.standardize === "scalar") {
    const s = _scalarStats(r);
    mean.fill(s.mean), std.fill(s.std);
  }
  const u = new Float32Array(count * dim);
  for (let p = 0; p < count; p++) {
    for (let j = 0; j < dim; j++) u[p * dim + j] = (r[p * dim + j] - mean[j]) / std[j];
  }
  const { centroids } = kmeansFit(u, count, dim, 2 ** config.bitsPerStage, rng, {
    iterations: config.iterations,
    tolerance: config.tolerance,
  });
  return { codebook: centroids, mean, std };
}

/** Per-dimension mean and standard deviation (σ floored at 1e-12 so constant dims divide). */
export function _dimStats(x: Float32Array, count: number, dim: number) {
  const m = new Float64Array(dim), v = new Float64Array(dim);
  for (let p = 0; p < count; p++) for (let j = 0; j < dim; j++) m[j] += x[p * dim + j];
  for (let j = 0; j < dim; j++) m[j] /= count;
  for (let p = 0; p < count; p++) {
    for (let j = 0; j < dim; j++) v[j] += (x[p * dim + j] - m[j]) ** 2;
  }
  const mean = Float32Array.from(m);
  const std = Float32Array.from(v, (s) => Math.max(Math.sqrt(s / count), 1e-12));
  return { mean, std };
}

function _scalarStats(x: Float32Array): { mean: number; std: number } {
  let m = 0;
  for (const a of x) m += a;
  m /= x.length;
  let v = 0;
  for (const a of x) v += (a - m) ** 2;
  return { mean: m, std: Math.max(Math.sqrt(v / x.length), 1e-12) };
}

function _standardize(x: Float32Array, dim: number, mean: Float32Array, std: Float32Array) {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean[i % dim]) / std[i % dim];
}

function _unstandardize(x: Float32Array, dim: number, mean: Float32Array, std: Float32Array) {
  for (let i = 0; i < x.length; i++) x[i] = std[i % dim] * x[i] + mean[i % dim];
}

export function _checkLatents(latents: Latents, dim: number, who: string): void {
  if (latents.dim !== dim) throw new Error(`${who}: latents.dim = ${latents.dim}, expected ${dim}`);
  if (latents.data.length !== latents.count * dim) {
    throw new Error(
      `${who}: latents.data has ${latents.data.length} values, expected count·dim = ${
        latents.count * dim
      }`,
    );
  }
}
