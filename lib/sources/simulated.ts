/**
 * Simulated data with a defined number of bits per frame (method §2).
 *
 * [paper A] the input is Gaussian noise, the target a rotated version of it, and the bits a
 * quantizer needs for perfect reconstruction are known by construction.
 * [choice] the construction: F dimensions in M groups; group m owns a dictionary of 2^b vectors
 * with i.i.d. N(0,1) entries; a frame concatenates one uniformly drawn row per group, so it
 * carries exactly B = M·b bits. The target is y = R·x with R a fixed random orthogonal matrix.
 *
 * @module
 */
import type { tf } from "../backend.ts";
import { kmeans } from "../cluster/kmeans.ts";
import { checkInt, ConfigError } from "../kinds.ts";
import { Rng, rngFor } from "../random.ts";
import type { Batch, Source, ValidationMeter } from "./types.ts";
import { mseLoss, mseMeter } from "./mse.ts";

/** Simulated source with a known number of bits per frame (method §2). [paper A idea, choice of form] */
export interface SimulatedDataConfig {
  kind: "simulated";
  /** Frame dimension F. [choice] */
  frameDim: number;
  /** Number of groups M; F must be divisible by M. [choice] */
  groups: number;
  /** Bits per group b: each group has a dictionary of 2^b Gaussian vectors. B = M·b. [choice] */
  bitsPerGroup: number;
  /** Size of the fixed validation set, in frames. [choice] */
  validationFrames: number;
}

/** Defaults of the paper-A proxy's data (method §4): F = 16 in 2 groups of 4 bits (B = 8). */
export const SIMULATED_DEFAULTS: SimulatedDataConfig = {
  kind: "simulated",
  frameDim: 16,
  groups: 2,
  bitsPerGroup: 4,
  validationFrames: 4096,
};

/** Throw a {@linkcode ConfigError} naming the first bad field (as `data.<field>`). */
export function validateSimulated(d: SimulatedDataConfig): void {
  checkInt("data.frameDim", d.frameDim, 1, 4096);
  checkInt("data.groups", d.groups, 1, d.frameDim);
  if (d.frameDim % d.groups !== 0) {
    throw new ConfigError("data.frameDim", d.frameDim, `a multiple of data.groups = ${d.groups}`);
  }
  checkInt("data.bitsPerGroup", d.bitsPerGroup, 1, 16);
  checkInt("data.validationFrames", d.validationFrames, 1, 1 << 20);
}

/** Frames as row-major matrices (`count` rows of `dim` values), shapes [count, dim]. */
export interface FrameBatch extends Batch {
  readonly count: number;
}

/**
 * The M-group Gaussian-dictionary source with a rotated target. Loss MSE; validation metrics
 * MSE, MSE in dB and symbol accuracy; the validation set is one batch (it is small, and one
 * batch keeps the proxy's numbers as they were). [choice]
 */
export class SimulatedSource implements Source {
  readonly inputDim: number;
  readonly outputDim: number;
  /** Bits per frame, B = M·b. */
  readonly bits: number;
  readonly groupDim: number;
  readonly codesPerGroup: number;
  /** dictionaries[m] is a (2^b × F/M) row-major matrix. */
  readonly dictionaries: Float32Array[];
  /** Orthogonal F×F rotation, row-major: y_i = Σ_j R[i,j] x_j. */
  readonly rotation: Float32Array;
  readonly validation: FrameBatch;
  /** Dictionary indices of the validation frames, (count × M). */
  readonly validationIndices: Int32Array;

  readonly config: SimulatedDataConfig;

  /** `config` must be a simulated data config (any other kind is rejected naming `data.kind`). */
  constructor(input: SimulatedDataConfig | { kind: string }, readonly seed: number) {
    if (input.kind !== "simulated") {
      throw new ConfigError("data.kind", input.kind, '"simulated" for SimulatedSource');
    }
    const config = input as SimulatedDataConfig;
    this.config = config;
    const { frameDim: F, groups: M, bitsPerGroup: b } = config;
    this.inputDim = F;
    this.outputDim = F;
    this.bits = M * b;
    this.groupDim = F / M;
    this.codesPerGroup = 2 ** b;
    const dictRng = rngFor(seed, "data.dictionary");
    this.dictionaries = Array.from(
      { length: M },
      () => dictRng.normals(this.codesPerGroup * this.groupDim),
    );
    this.rotation = randomOrthogonal(F, rngFor(seed, "data.rotation"));
    const v = this.#draw(rngFor(seed, "data.validation"), config.validationFrames);
    this.validation = v.batch;
    this.validationIndices = v.indices;
  }

  trainBatch(step: number, batchSize: number): FrameBatch {
    return this.#draw(rngFor(this.seed, `data.train.${step}`), batchSize).batch;
  }

  *validationBatches(): Iterable<FrameBatch> {
    yield this.validation;
  }

  loss(yhat: tf.Tensor, y: tf.Tensor): tf.Scalar {
    return mseLoss(yhat, y);
  }

  validationMeter(): ValidationMeter {
    return mseMeter((yhat) => this.symbolAccuracy(yhat));
  }

  /** Frames for explicit dictionary indices (count × M), e.g. to enumerate all 2^B frames. */
  framesFor(indices: Int32Array): FrameBatch {
    const count = indices.length / this.config.groups;
    const x = new Float32Array(count * this.inputDim);
    for (let n = 0; n < count; n++) {
      for (let m = 0; m < this.config.groups; m++) {
        const k = indices[n * this.config.groups + m];
        x.set(
          this.dictionaries[m].subarray(k * this.groupDim, (k + 1) * this.groupDim),
          n * this.inputDim + m * this.groupDim,
        );
      }
    }
    const shape = [count, this.inputDim];
    return { x, y: rotate(x, this.rotation, this.inputDim), count, xShape: shape, yShape: shape };
  }

  /** All 2^B distinct frames, in index order (only sensible for small B). */
  allFrames(): FrameBatch {
    const M = this.config.groups;
    const total = 2 ** this.bits;
    const indices = new Int32Array(total * M);
    for (let n = 0; n < total; n++) {
      let rest = n;
      for (let m = M - 1; m >= 0; m--) {
        indices[n * M + m] = rest % this.codesPerGroup;
        rest = Math.floor(rest / this.codesPerGroup);
      }
    }
    return this.framesFor(indices);
  }

  /**
   * Symbol accuracy: undo the rotation (x̂ = Rᵀŷ) and, per group, find the nearest dictionary
   * row. Because distance separates over groups, all groups right ⇔ the nearest of all 2^B
   * frames is the right one.
   */
  symbolAccuracy(yhat: Float32Array): number {
    const { groups: M } = this.config;
    const F = this.inputDim, d = this.groupDim;
    const count = this.validation.count;
    const xhat = unrotate(yhat, this.rotation, F);
    let right = 0;
    for (let n = 0; n < count; n++) {
      let ok = true;
      for (let m = 0; m < M && ok; m++) {
        const dict = this.dictionaries[m];
        let best = 0, bestDist = Infinity;
        for (let k = 0; k < this.codesPerGroup; k++) {
          let dist = 0;
          for (let j = 0; j < d; j++) {
            const diff = xhat[n * F + m * d + j] - dict[k * d + j];
            dist += diff * diff;
          }
          if (dist < bestDist) bestDist = dist, best = k;
        }
        ok = best === this.validationIndices[n * M + m];
      }
      if (ok) right++;
    }
    return right / count;
  }

  #draw(rng: Rng, count: number): { batch: FrameBatch; indices: Int32Array } {
    const indices = new Int32Array(count * this.config.groups);
    for (let i = 0; i < indices.length; i++) indices[i] = rng.int(this.codesPerGroup);
    return { batch: this.framesFor(indices), indices };
  }
}

/** Which frame distribution an oracle floor is computed for. */
export type FloorDistribution = "population" | "validation";

/**
 * Oracle MSE floor per element for a quantizer with `quantizerBits` bits on this source:
 * the k-means distortion of the 2^B frames into 2^B_q clusters (the best any codec whose
 * decoder sees only the code can do, up to k-means' local optimum, so the best of `restarts`
 * seeded runs is taken). 0 when B_q ≥ B. Rotation preserves distances, so it is computed on x.
 * [choice, method §2]
 *
 * `distribution`: "population" weighs the 2^B frames equally (the source itself);
 * "validation" weighs each by how often it occurs in the fixed validation set, which is the
 * floor a validation MSE is to be compared with (no sampling noise between the two).
 */
export function oracleFloor(
  source: SimulatedSource,
  quantizerBits: number,
  options: { distribution?: FloorDistribution; restarts?: number } = {},
): number {
  const { distribution = "population", restarts = 200 } = options;
  const clusters = Math.round(2 ** quantizerBits);
  if (quantizerBits >= source.bits - 1e-9) return 0;
  if (source.bits > 16) {
    throw new RangeError(
      `oracleFloor: B = ${source.bits} bits is too many frames to enumerate (max 16)`,
    );
  }
  const { x, count } = source.allFrames();
  const weights = distribution === "validation" ? validationWeights(source) : undefined;
  const dim = source.inputDim;
  let best = Infinity;
  for (let r = 0; r < restarts; r++) {
    const rng = rngFor(source.seed, `oracle.${r}`);
    best = Math.min(best, kmeans(x, count, dim, clusters, rng, 50, weights).distortion);
  }
  return best / dim;
}

/** How often each of the 2^B frames (in {@linkcode SimulatedSource.allFrames} order) occurs in the validation set. */
function validationWeights(source: SimulatedSource): Float64Array {
  const M = source.config.groups;
  const weights = new Float64Array(2 ** source.bits);
  for (let n = 0; n < source.validation.count; n++) {
    let index = 0;
    for (let m = 0; m < M; m++) {
      index = index * source.codesPerGroup + source.validationIndices[n * M + m];
    }
    weights[index]++;
  }
  return weights;
}

/** Random orthogonal matrix: Gram–Schmidt QR of a Gaussian matrix, signs fixed by diag(R) > 0. */
export function randomOrthogonal(n: number, rng: Rng): Float32Array {
  const a = Array.from({ length: n }, () => Float64Array.from(rng.normals(n)));
  const q: Float64Array[] = [];
  for (const col of a) {
    const v = Float64Array.from(col);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += u[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * u[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    q.push(v.map((t) => t / norm));
  }
  const out = new Float32Array(n * n);
  for (let c = 0; c < n; c++) for (let r = 0; r < n; r++) out[r * n + c] = q[c][r];
  return out;
}

function rotate(x: Float32Array, r: Float32Array, n: number): Float32Array {
  const count = x.length / n;
  const y = new Float32Array(x.length);
  for (let f = 0; f < count; f++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += r[i * n + j] * x[f * n + j];
      y[f * n + i] = s;
    }
  }
  return y;
}

function unrotate(y: Float32Array, r: Float32Array, n: number): Float32Array {
  const count = y.length / n;
  const x = new Float32Array(y.length);
  for (let f = 0; f < count; f++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += r[i * n + j] * y[f * n + i];
      x[f * n + j] = s;
    }
  }
  return x;
}
