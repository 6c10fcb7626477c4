/**
 * One VQ codebook of K vectors: nearest-neighbour search, lookup, codebook loss or EMA
 * learning, random or k-means initialisation. VQ is one codebook; RVQ is a chain of them.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { kmeans } from "../cluster/kmeans.ts";
import { checkInt, checkNumber, checkOneOf, ConfigError } from "../kinds.ts";
import { type Rng } from "../random.ts";
import { stopGradient } from "../grad.ts";
import type { HardQuantization, LossWeights } from "./types.ts";
import type { CodebookReparam } from "./reparam.ts";

/** How a codebook learns. [paper A names codebook loss; EMA is a common alternative, choice] */
export type CodebookLearning = "loss" | "ema";
/** How a codebook starts. [choice] */
export type CodebookInit = "random" | "kmeans";

/**
 * The codebook fields of a VQ or RVQ config: learning, init, EMA decay in (0, 1), and the dead-code
 * replacement pair (`deadCodeEvery`, `deadCodeThreshold`: both or neither, loss-learned only).
 */
export function validateCodebookFields(
  q: {
    learning: unknown;
    init: unknown;
    emaDecay: number;
    deadCodeEvery?: number;
    deadCodeThreshold?: number;
  },
): void {
  checkOneOf("quantizer.learning", q.learning, ["loss", "ema"]);
  checkOneOf("quantizer.init", q.init, ["random", "kmeans"]);
  checkNumber("quantizer.emaDecay", q.emaDecay, 0, 1, true);
  if (q.emaDecay >= 1) {
    throw new ConfigError("quantizer.emaDecay", q.emaDecay, "a number in (0, 1)");
  }
  if ((q.deadCodeEvery === undefined) !== (q.deadCodeThreshold === undefined)) {
    const [field, value] = q.deadCodeEvery === undefined
      ? ["quantizer.deadCodeThreshold", q.deadCodeThreshold]
      : ["quantizer.deadCodeEvery", q.deadCodeEvery];
    throw new ConfigError(
      field,
      value,
      "absent, or set together with quantizer.deadCodeEvery and quantizer.deadCodeThreshold",
    );
  }
  if (q.deadCodeEvery !== undefined) {
    checkInt("quantizer.deadCodeEvery", q.deadCodeEvery, 1, 1e7);
    checkNumber("quantizer.deadCodeThreshold", q.deadCodeThreshold, 0, 1e6);
    if (q.learning !== "loss") {
      throw new ConfigError(
        "quantizer.learning",
        q.learning,
        '"loss" with dead-code replacement (it rewrites loss-learned codewords)',
      );
    }
  }
}

/**
 * DiVeQ's codebook replacement [Vali et al. 2025's code, `DIVEQ._replace_unused_entries`;
 * lucidrains asserts a dead-code expiry with `directional_reparam`]: count each codeword's
 * assignments over `every` training steps; then every codeword whose assignments per step (count
 * / `every`) fall below `threshold` is replaced by a used codeword drawn with probability
 * proportional to its count, plus {@linkcode DEAD_CODE_PERTURBATION}·N(0, 1) per entry; counts
 * restart. Nothing happens when no codeword or every codeword is below the threshold. DiVeQ's
 * defaults: every 100 steps, threshold 0.01 (used less than once per 100 steps).
 */
export interface DeadCodeReplacement {
  every: number;
  threshold: number;
}

/** A config's dead-code replacement (its `deadCodeEvery`, `deadCodeThreshold`), or undefined. */
export function deadCodeOf(
  q: { deadCodeEvery?: number; deadCodeThreshold?: number },
): DeadCodeReplacement | undefined {
  return q.deadCodeEvery === undefined
    ? undefined
    : { every: q.deadCodeEvery, threshold: q.deadCodeThreshold! };
}

/**
 * The perturbation scale of a copied codeword (DiVeQ's `perturb_eps`). In float32 it vanishes
 * beside codewords of size ≳ 0.01, so the copy is exact in practice, as in DiVeQ's code.
 */
export const DEAD_CODE_PERTURBATION = 1e-9;

export interface CodebookOptions {
  size: number;
  dim: number;
  learning: CodebookLearning;
  init: CodebookInit;
  emaDecay: number;
  /** C = f(C̃): the codewords through a learned map (`reparam.ts`); absent: C = C̃. */
  reparam?: CodebookReparam;
  /** DiVeQ's dead-code replacement ({@linkcode DeadCodeReplacement}); absent: none. */
  deadCode?: DeadCodeReplacement;
}

export class Codebook {
  /** (K × dim) codewords. Trainable by the optimizer only when learning = "loss". */
  readonly embeddings: tf.Variable<tf.Rank.R2>;
  #emaCount: tf.Variable | null = null;
  #emaSum: tf.Variable | null = null;
  #usage: Float64Array | null = null;
  #usageSteps = 0;

  constructor(readonly options: CodebookOptions, readonly rng: Rng) {
    const { size, dim, learning } = options;
    // Random init: N(0, 1) codewords, the scale of a freshly initialised encoder's output. [choice]
    // Built in tidy so the initial values are freed once the variables hold them.
    this.embeddings = tf.tidy(() =>
      tf.variable(tf.tensor2d(rng.normals(size * dim), [size, dim]), learning === "loss")
    );
    if (learning === "ema") {
      this.#emaCount = tf.tidy(() => tf.variable(tf.ones([size]), false));
      this.#emaSum = tf.tidy(() => tf.variable(tf.clone(this.embeddings), false));
    }
  }

  /**
   * The codewords C the quantizer uses: the stored `embeddings` themselves, or f(embeddings)
   * when the codebook is reparameterised (a new tensor, differentiable in the map's variables).
   */
  codewords(): tf.Tensor2D {
    return this.options.reparam ? this.options.reparam.apply(this.embeddings) : this.embeddings;
  }

  /** Index of the nearest codeword per row: argmin_k ‖c_k‖² − 2⟨z, c_k⟩ (‖z‖² is constant per row). */
  nearest(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const c = this.codewords();
      const cross = tf.matMul(z, c, false, true);
      const norms = tf.sum(tf.square(c), 1);
      return tf.argMin(tf.sub(norms, tf.mul(cross, 2)), 1) as tf.Tensor1D;
    });
  }

  /**
   * Index of the codeword of largest cosine with each row: argmax_k ⟨z/‖z‖, c_k/‖c_k‖⟩ (DAC's
   * factorised-code lookup, equivalently the nearest codeword after l2-normalising both). The
   * choice ignores ‖z‖; norms are floored at 1e-12 as torch's `F.normalize` does.
   */
  nearestCosine(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const c = this.codewords();
      const cn = tf.div(c, tf.maximum(tf.norm(c, "euclidean", 1, true), 1e-12));
      const zn = tf.div(z, tf.maximum(tf.norm(z, "euclidean", 1, true), 1e-12));
      return tf.argMax(tf.matMul(zn, cn, false, true), 1) as tf.Tensor1D;
    });
  }

  /** Squared distances ‖z_n − c_k‖², (frames × K), differentiable in z and c. */
  distances(z: tf.Tensor2D): tf.Tensor2D {
    const c = this.codewords();
    const zz = tf.sum(tf.square(z), 1, true);
    const cc = tf.sum(tf.square(c), 1);
    return tf.add(tf.sub(zz, tf.mul(tf.matMul(z, c, false, true), 2)), cc) as tf.Tensor2D;
  }

  /**
   * Squared distances of the l2-normalised rows and codewords, ‖ẑ_n − ĉ_k‖² = 2 − 2cos(z_n, c_k)
   * (frames × K), differentiable: the distance {@linkcode nearestCosine} minimises.
   */
  cosineDistances(z: tf.Tensor2D): tf.Tensor2D {
    const c = this.codewords();
    const cn = tf.div(c, tf.maximum(tf.norm(c, "euclidean", 1, true), 1e-12));
    const zn = tf.div(z, tf.maximum(tf.norm(z, "euclidean", 1, true), 1e-12));
    return tf.sub(2, tf.mul(tf.matMul(zn, cn, false, true), 2)) as tf.Tensor2D;
  }

  /** The variables the optimizer trains: C̃ (unless a reparam freezes it) and the map's. */
  trainables(): tf.Variable[] {
    if (this.options.learning !== "loss") return [];
    const r = this.options.reparam;
    return r ? [...(r.trainsBase ? [this.embeddings] : []), ...r.variables] : [this.embeddings];
  }

  /**
   * C[i] as onehot(i)·C: its gradient in C is a plain matMul, whereas tf.gather's needs
   * UnsortedSegmentSum, which the wasm backend lacks.
   */
  lookup(codes: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() =>
      tf.matMul(oneHot(codes, this.options.size), this.codewords())
    ) as tf.Tensor2D;
  }

  /** mean‖sg(z) − C[i]‖²: moves codewords towards their inputs. Null unless learning by loss. */
  loss(z: tf.Tensor2D, q: tf.Tensor2D): tf.Scalar | null {
    if (this.options.learning !== "loss") return null;
    return tf.mean(tf.squaredDifference(stopGradient(z), q));
  }

  /** k-means of the given inputs (k-means++ seeding, Lloyd iterations). [choice] */
  initialize(points: Float32Array, frames: number): void {
    const { size, dim } = this.options;
    const { centroids } = kmeans(points, frames, dim, size, this.rng, 20);
    const full = new Float32Array(size * dim);
    full.set(centroids);
    // Fewer points than codewords: keep random codewords for the rest.
    if (centroids.length < full.length) {
      full.set(this.embeddings.dataSync().subarray(centroids.length), centroids.length);
    }
    const init = tf.tensor2d(full, [size, dim]);
    this.embeddings.assign(init);
    this.#emaSum?.assign(init);
    init.dispose();
  }

  /**
   * EMA update: N_k ← γN_k + (1−γ)n_k, m_k ← γm_k + (1−γ)Σ_{i→k} z_i, c_k = m_k / N̂_k with
   * Laplace-smoothed counts N̂ (ε = 1e-5), as in VQ-VAE-2. [choice]
   */
  emaUpdate(z: tf.Tensor2D, codes: tf.Tensor1D): void {
    if (!this.#emaCount || !this.#emaSum) return;
    const g = this.options.emaDecay;
    const count = this.#emaCount, sum = this.#emaSum;
    tf.tidy(() => {
      const onehot = oneHot(codes, this.options.size);
      const n = tf.sum(onehot, 0);
      const s = tf.matMul(tf.transpose(onehot), z);
      const newCount = tf.add(tf.mul(count, g), tf.mul(n, 1 - g));
      const newSum = tf.add(tf.mul(sum, g), tf.mul(s, 1 - g));
      const total = tf.sum(newCount);
      const eps = 1e-5;
      const smoothed = tf.mul(
        tf.div(tf.add(newCount, eps), tf.add(total, this.options.size * eps)),
        total,
      );
      count.assign(newCount);
      sum.assign(newSum);
      this.embeddings.assign(tf.div(newSum, tf.expandDims(smoothed, 1)));
    });
  }

  /**
   * After a training step: count this step's codes and, every `deadCode.every` steps, replace the
   * dead codewords of C̃ ({@linkcode DeadCodeReplacement}). Returns how many were replaced (0
   * without `deadCode`). Draws from the codebook's seeded stream only when it replaces.
   */
  replaceDead(codes: ArrayLike<number>): number {
    const dead = this.options.deadCode;
    if (!dead) return 0;
    const { size, dim } = this.options;
    const usage = this.#usage ??= new Float64Array(size);
    for (let i = 0; i < codes.length; i++) usage[codes[i]]++;
    if (++this.#usageSteps % dead.every !== 0) return 0;
    const unused: number[] = [], used: number[] = [];
    usage.forEach((u, k) => (u / dead.every < dead.threshold ? unused : used).push(k));
    if (unused.length === 0 || used.length === 0) {
      usage.fill(0);
      return 0;
    }
    const total = used.reduce((t, k) => t + usage[k], 0);
    const c = Float32Array.from(this.embeddings.dataSync());
    for (const k of unused) {
      let r = this.rng.uniform() * total, j = used[used.length - 1];
      for (const u of used) {
        r -= usage[u];
        if (r < 0) {
          j = u;
          break;
        }
      }
      const noise = this.rng.normals(dim, DEAD_CODE_PERTURBATION);
      for (let d = 0; d < dim; d++) c[k * dim + d] = c[j * dim + d] + noise[d];
    }
    const next = tf.tensor2d(c, [size, dim]);
    this.embeddings.assign(next);
    next.dispose();
    usage.fill(0);
    return unused.length;
  }

  /** Every variable that defines the codebook: codewords and, for EMA, its statistics. */
  get state(): tf.Variable[] {
    return [
      this.embeddings,
      ...this.options.reparam?.variables ?? [],
      this.#emaCount,
      this.#emaSum,
    ].filter((v) => v !== null);
  }

  dispose(): void {
    this.embeddings.dispose();
    this.options.reparam?.dispose();
    this.#emaCount?.dispose();
    this.#emaSum?.dispose();
  }
}

/**
 * Float one-hot rows. Built as int32 and cast: tfjs-backend-wasm 4.22's OneHot with
 * dtype "float32" writes integer bit patterns (1 becomes 1.4e-45).
 */
export function oneHot(codes: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(codes, depth), "float32")) as tf.Tensor2D;
}

/**
 * Gumbel straight-through of one codebook (the formula is `lib/passers.ts`'s `gumbel`): from the
 * codeword distances `d` (frames × K, gradient cut here), sample k̃ = argmax_k(−d_k/τ + γ_k),
 * γ_k = −log(−log U_k), U_k ~ U(0, 1) drawn from `rng`, and return C[k̃] + π·C − sg(π·C), where
 * `sample` looks up C[k̃] and `relaxed` computes π·C with π = softmax(−d/τ) (called after the
 * sample).
 */
export function gumbelStraightThrough(
  d: tf.Tensor2D,
  tau: number,
  rng: Rng,
  sample: (codes: tf.Tensor1D) => tf.Tensor2D,
  relaxed: () => tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const sg = stopGradient(d);
    const u = rng.uniforms(d.size, 0, 1).map((v) => Math.min(Math.max(v, 1e-20), 1 - 1e-7));
    const noise = tf.neg(tf.log(tf.neg(tf.log(tf.tensor2d(u, d.shape as [number, number])))));
    const k = tf.argMax(tf.add(tf.div(tf.neg(sg), tau), noise), 1) as tf.Tensor1D;
    // The sample before the relaxation: tfjs sums gradients in graph order, so this order keeps
    // the VQ runs computed before this helper existed bit-identical.
    const sampled = sample(k);
    const r = relaxed();
    return tf.add(sampled, tf.sub(r, stopGradient(r))) as tf.Tensor2D;
  });
}

/**
 * Commitment loss β·mean(z − sg(Q(z)))²: pulls the quantizer input towards its quantized value.
 * Null when β = 0. [paper A names CL; DAC's form]
 */
export function commitmentLoss(z: tf.Tensor2D, q: tf.Tensor2D, beta: number): tf.Scalar | null {
  if (!(beta > 0)) return null;
  return tf.mul(tf.mean(tf.squaredDifference(z, stopGradient(q))), beta);
}

/**
 * A hard quantization whose named, weighted `losses` — commitment, then codebook (w·loss) — are
 * computed when first read. The trainer reads them after decoding, so these ops enter the graph
 * where the trainer used to add them itself; tfjs sums a tensor's gradient contributions in
 * graph order, so this keeps every proxy run bit-identical (soft-to-hard with commitment loss
 * would otherwise differ in the last bits). Never read (validation), they cost nothing.
 */
export function withLosses(
  q: tf.Tensor2D,
  codes: tf.Tensor2D,
  z: tf.Tensor2D,
  weights: LossWeights,
  codebook: tf.Scalar | null,
): HardQuantization {
  let losses: Record<string, tf.Scalar> | undefined;
  return {
    q,
    codes,
    get losses() {
      if (!losses) {
        losses = {};
        const commitment = commitmentLoss(z, q, weights.commitment);
        if (commitment) losses.commitment = commitment;
        if (codebook && weights.codebook > 0) {
          losses.codebook = tf.mul(codebook, weights.codebook);
        }
      }
      return losses;
    },
  };
}
