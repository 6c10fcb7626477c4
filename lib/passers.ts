/**
 * Gradient passers: how the training graph gets through the non-differentiable quantizer
 * (method §4). Notation: z is the quantizer input, n = Q(z) − z the quantization noise,
 * sg the stop-gradient, σ = std(z) (over the batch tensor, or per channel), N the number of
 * values σ is taken over, g the incoming gradient.
 *
 * Two families share one mechanism: "detached" passers add a noise whose gradient is cut
 * (grad = g); "attached" passers write the noise as sg(noise/σ)·σ, so the gradient also
 * flows through σ: grad = g + ⟨g, noise⟩ (z − z̄) / (N σ²).
 *
 * | passer       | forward                   | gradient                 | label    |
 * |--------------|---------------------------|--------------------------|----------|
 * | ste          | z + sg(n) = Q(z)          | g                        | paper A  |
 * | mste         | z + sg(n/σ)·σ = Q(z)      | g + ⟨g,n⟩(z−z̄)/(Nσ²)     | choice   |
 * | na-detached  | z + sg(s)·u               | g                        | choice   |
 * | na-attached  | z + sg(s/σ)·σ·u           | g + ⟨g,s·u⟩(z−z̄)/(Nσ²)   | choice   |
 * | soft-to-hard | Σ_k softmax(−‖z−c_k‖²/τ)c_k | autodiff               | paper A names it; schedule choice |
 * | rotation     | sg(λR)·z = Q(z)           | λ(g − 2r⟨r,g⟩ + 2ẑ⟨q̂,g⟩) | Fifty et al. 2024 |
 * | diveq        | z + sg(u)·‖q − z‖ ≈ Q(z)  | z: g − d̂⟨u,g⟩; q: d̂⟨u,g⟩ | Vali et al. 2025 |
 * | gumbel       | C[k̃] + π·C − sg(π·C)      | through π = softmax(−‖z−c‖²/τ) | Jang et al. 2017; lucidrains' form |
 * | + sync v     | p + v·(Q(z) − sg(Q(z)))   | adds v·g to the codewords | Huh et al. 2023, eq. 21 |
 *
 * with u ~ U(−½, ½) and s = √12·rms(n), so the noise power matches the real quantizer's.
 * For the rotation trick, per frame: ẑ = z/‖z‖, q̂ = Q(z)/‖Q(z)‖, r = (ẑ + q̂)/‖ẑ + q̂‖,
 * λ = ‖Q(z)‖/‖z‖ and R = I − 2rrᵀ + 2q̂ẑᵀ, the rotation taking ẑ to q̂ (beyond the papers).
 * For DiVeQ, per frame: u = unit(Q(z) − z + ε), ε ~ N(0, σ²I) (σ² = `passer.variance`), and
 * d̂ = unit(Q(z) − z). For Gumbel, k̃ = argmax_k(−‖z − c_k‖²/τ + γ_k), γ_k ~ Gumbel(0, 1), with τ
 * annealed as soft-to-hard's. `passer.sync` = v adds Huh et al.'s synchronized update to any
 * passer p: the codewords receive v times the gradient the decoder input receives.
 *
 * @module
 */
import { tf } from "./backend.ts";
import { checkModuleFields, checkNumber, checkOneOf, ConfigError, type Kind } from "./kinds.ts";
import type { HardQuantization, Quantizer } from "./quantizers/mod.ts";
import type { Rng } from "./random.ts";
import { customGrad, stopGradient } from "./grad.ts";
import { gumbelStraightThrough } from "./quantizers/codebook.ts";

/** Gradient passers through the quantizer (method §4). */
export type PasserKind =
  | "ste"
  | "mste"
  | "na-detached"
  | "na-attached"
  | "soft-to-hard"
  | "rotation"
  | "diveq"
  | "gumbel"
  | "custom";
export const PASSER_KINDS: readonly PasserKind[] = [
  "ste",
  "mste",
  "na-detached",
  "na-attached",
  "soft-to-hard",
  "rotation",
  "diveq",
  "gumbel",
  "custom",
];
/** The passers quantlab implements ("custom" is a researcher's module, run by the battery). */
export const BUILTIN_PASSER_KINDS: readonly PasserKind[] = PASSER_KINDS.filter((k) =>
  k !== "custom"
);

export interface PasserConfig {
  kind: PasserKind;
  /** σ_E over the whole batch tensor or per latent channel (mSTE, NA attached). [choice] */
  sigma: "tensor" | "channel";
  /** Soft-to-hard: initial temperature τ₀. [choice] */
  tauStart: number;
  /** Soft-to-hard: final temperature, reached exponentially at the last step. [choice] */
  tauEnd: number;
  /**
   * kind "diveq" only: σ² of the direction noise ε ~ N(0, σ²I) (DiVeQ's and lucidrains'
   * default 5e-3). Present exactly for that kind, so other passers' cache keys stay.
   */
  variance?: number;
  /**
   * Huh et al.'s synchronized update v ∈ [0, 1] (eq. 21; vqtorch's `sync_nu`), any kind: the
   * decoder input gains v·(Q(z) − sg(Q(z))), whose forward is 0 and which gives the codewords
   * v·g. Absent = 0 (no term), so configs without it keep their cache keys. [paper's; v is a choice]
   */
  sync?: number;
  /**
   * kind "custom" only: the passer's module as `file:///abs/path.ts#exportName` (see
   * `lib/custom/candidate.ts`). Absent for the built-in passers, so their cache keys stay.
   */
  module?: string;
  /** kind "custom" only: SHA-256 of the module's source, so an edited module is a new run. */
  moduleSha256?: string;
}

/** Defaults of every built-in passer [choice]: σ_E over the whole tensor, τ from 1 to 0.01. */
export const PASSER_DEFAULTS: PasserConfig = {
  kind: "ste",
  sigma: "tensor",
  tauStart: 1,
  tauEnd: 0.01,
};

/** Throw a `ConfigError` naming the first bad field (as `passer.<field>`). */
export function validatePasser(p: PasserConfig): void {
  checkOneOf("passer.kind", p.kind, PASSER_KINDS);
  checkOneOf("passer.sigma", p.sigma, ["tensor", "channel"]);
  checkNumber("passer.tauStart", p.tauStart, 0, 1e6, true);
  checkNumber("passer.tauEnd", p.tauEnd, 0, p.tauStart, true);
  checkModuleFields("passer", p, p.kind === "custom");
  if (p.kind === "diveq") checkNumber("passer.variance", p.variance, 0, 100, true);
  else if (p.variance !== undefined) {
    throw new ConfigError(
      "passer.variance",
      p.variance,
      'no variance: it is for passer.kind = "diveq"',
    );
  }
  if (p.sync !== undefined) checkNumber("passer.sync", p.sync, 0, 1);
}

/** DiVeQ's default σ² of the direction noise (Vali et al. 2025; lucidrains' `directional_reparam_variance`). */
export const DIVEQ_VARIANCE = 5e-3;

/** What a passer may use besides z and the hard quantization. */
export interface PassContext {
  quantizer: Quantizer;
  /** Fresh noise source for this step (NA passers). */
  rng: Rng;
  /** Optimizer steps taken before this one, and the run's total (annealing schedules). */
  step: number;
  totalSteps: number;
}

/**
 * A gradient passer: the value the decoder sees during training, plus what it owns of the
 * training policy (an annealing schedule, a validation of its own besides the hard one).
 */
export interface Passer {
  readonly kind: PasserKind;
  /** The decoder's input during training, from z and its hard quantization. */
  forward(z: tf.Tensor2D, hard: HardQuantization, ctx: PassContext): tf.Tensor2D;
  /** Temperature at `step` of `total`, for passers that anneal (recorded as `tau`). */
  temperature?(step: number, total: number): number;
  /**
   * A second validation value besides the hard Q(z) (soft-to-hard: the soft assignment at the
   * current temperature), whose MSE is recorded as `softValMse`.
   */
  softEvaluation?(z: tf.Tensor2D, ctx: PassContext): tf.Tensor2D;
}

/** A passer's training forward alone: what a researcher's module exports to the battery. */
export type PassForward = Passer["forward"];

/** σ_E over the whole tensor or per channel. [choice: per tensor by default] */
export type SigmaMode = PasserConfig["sigma"];

const SIGMA_EPS = 1e-12;

/**
 * Detached noise: forward `value`, gradient g to z (and none to `value`).
 * `value` is passed in so STE's forward is exactly Q(z), not z + (Q(z) − z) in floating point.
 */
const detached = customGrad(
  (_z: tf.Tensor2D, value: tf.Tensor2D, _save: tf.GradSaveFunc) => ({
    value: tf.clone(value),
    gradFunc: (dy: tf.Tensor2D) => [tf.clone(dy), tf.zerosLike(value)],
  }),
);

/** The extra gradient of an attached noise: ⟨g, noise⟩ (z − z̄) / (N σ²), per tensor or per channel. */
export function attachedGradient(
  g: tf.Tensor2D,
  z: tf.Tensor2D,
  noise: tf.Tensor2D,
  mode: SigmaMode,
): tf.Tensor2D {
  return tf.tidy(() => {
    const axis = mode === "tensor" ? undefined : 0;
    const n = mode === "tensor" ? z.size : z.shape[0];
    const centred = tf.sub(z, tf.mean(z, axis, true));
    const variance = tf.add(tf.mean(tf.square(centred), axis, true), SIGMA_EPS);
    const inner = tf.sum(tf.mul(g, noise), axis, true);
    return tf.add(g, tf.div(tf.mul(inner, centred), tf.mul(variance, n))) as tf.Tensor2D;
  });
}

function attached(
  mode: SigmaMode,
): (z: tf.Tensor2D, noise: tf.Tensor2D, value: tf.Tensor2D) => tf.Tensor2D {
  return customGrad(
    (z: tf.Tensor2D, noise: tf.Tensor2D, value: tf.Tensor2D, save: tf.GradSaveFunc) => {
      save([z, noise]);
      return {
        value: tf.clone(value),
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [
          attachedGradient(dy, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, mode),
          tf.zerosLike(noise),
          tf.zerosLike(value),
        ],
      };
    },
  );
}

/** Uniform noise with the power of the real quantization noise: s·u, s = √12·rms(Q(z) − z). */
function emulatedNoise(z: tf.Tensor2D, q: tf.Tensor2D, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => {
    const s = tf.mul(tf.sqrt(tf.mean(tf.squaredDifference(q, z))), Math.sqrt(12));
    const u = tf.tensor2d(rng.uniforms(z.size, -0.5, 0.5), z.shape);
    return tf.mul(u, s) as tf.Tensor2D;
  });
}

/** STE: q = z + sg(Q(z) − z); forward Q(z), gradient the identity. [paper A] */
export const ste: Passer = { kind: "ste", forward: (z, hard) => detached(z, hard.q) };

/**
 * mSTE: q = z + sg(n/σ)·σ. Forward equals Q(z); the quantization noise is tied to the graph
 * through σ, so its gradient is g + ⟨g,n⟩(z − z̄)/(Nσ²). [choice: our reading of paper A's
 * "ties the noise to the graph via σ_E"]
 */
export function mste(mode: SigmaMode = "tensor"): Passer {
  const pass = attached(mode);
  return { kind: "mste", forward: (z, hard) => tf.tidy(() => pass(z, tf.sub(hard.q, z), hard.q)) };
}

/** Noise approximation, detached: q = z + sg(s)·u. Gradient the identity. [choice] */
export const naDetached: Passer = {
  kind: "na-detached",
  forward: (z, hard, ctx) =>
    tf.tidy(() => detached(z, tf.add(z, emulatedNoise(z, hard.q, ctx.rng)))),
};

/** Noise approximation, attached: q = z + sg(s/σ)·σ·u; same forward as detached, gradient through σ. [choice] */
export function naAttached(mode: SigmaMode = "tensor"): Passer {
  const pass = attached(mode);
  return {
    kind: "na-attached",
    forward: (z, hard, ctx) =>
      tf.tidy(() => {
        const noise = emulatedNoise(z, hard.q, ctx.rng);
        return pass(z, noise, tf.add(z, noise));
      }),
  };
}

/**
 * Soft-to-hard: q = Σ_k softmax(−‖z − c_k‖²/τ)_k c_k with τ annealed by {@linkcode temperature};
 * hard Q is used only for validation, besides the soft value at the current τ. [paper A names it]
 */
export function softToHard(config: Pick<PasserConfig, "tauStart" | "tauEnd">): Passer {
  const soft = (z: tf.Tensor2D, ctx: PassContext) => {
    if (!ctx.quantizer.soft) {
      throw new Error("passer soft-to-hard: this quantizer has no soft assignment");
    }
    return ctx.quantizer.soft(z, temperature(config, ctx.step, ctx.totalSteps));
  };
  return {
    kind: "soft-to-hard",
    forward: (z, _hard, ctx) => soft(z, ctx),
    temperature: (step, total) => temperature(config, step, total),
    softEvaluation: soft,
  };
}

/** Norms below this count as zero in the rotation trick (no rotation, unit scale). */
const ROTATION_EPS = 1e-12;

/** Per-row unit vectors of `x` ([N, L]) and their norms ([N, 1]); zero rows stay zero. */
function unitRows(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const norm = tf.sqrt(tf.sum(tf.square(x), 1, true)) as tf.Tensor2D;
  return [tf.div(x, tf.maximum(norm, ROTATION_EPS)) as tf.Tensor2D, norm];
}

/**
 * The rotation trick's backward: per frame, (λR)ᵀg = λ(g − 2r⟨r,g⟩ + 2ẑ⟨q̂,g⟩), where R rotates
 * ẑ onto q̂ and λ = ‖q‖/‖z‖ rescales (Fifty et al. 2024, "Restructuring Vector Quantization with
 * the Rotation Trick", §4.2; lucidrains' `rotate_to`). A frame with ‖z‖ = 0 passes g unchanged.
 */
export function rotationGradient(g: tf.Tensor2D, z: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [zHat, zNorm] = unitRows(z);
    const [qHat, qNorm] = unitRows(q);
    const [r] = unitRows(tf.add(zHat, qHat) as tf.Tensor2D);
    const lambda = tf.where(
      tf.greater(zNorm, ROTATION_EPS),
      tf.div(qNorm, tf.maximum(zNorm, ROTATION_EPS)),
      tf.onesLike(zNorm),
    );
    const rg = tf.sum(tf.mul(r, g), 1, true);
    const qg = tf.sum(tf.mul(qHat, g), 1, true);
    const rotated = tf.add(tf.sub(g, tf.mul(tf.mul(r, rg), 2)), tf.mul(tf.mul(zHat, qg), 2));
    const grad = tf.mul(rotated, lambda) as tf.Tensor2D;
    // ‖z‖ = 0: no direction to rotate from; STE's identity.
    return tf.where(tf.greater(zNorm, ROTATION_EPS), grad, g) as tf.Tensor2D;
  });
}

const rotated = customGrad(
  (z: tf.Tensor2D, value: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([z, value]);
    return {
      value: tf.clone(value),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [
        rotationGradient(dy, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D),
        tf.zerosLike(value),
      ],
    };
  },
);

/**
 * The rotation trick (Fifty et al. 2024): q = sg(λR)·z, so the forward is Q(z) (returned
 * exactly) and the gradient reaching z is rotated and rescaled the way z was moved onto its
 * codeword, instead of copied as STE does. Per frame over the latent vector. [beyond the papers]
 */
export const rotationTrick: Passer = { kind: "rotation", forward: (z, hard) => rotated(z, hard.q) };

/** Frames whose quantization error is shorter than this count as exact in DiVeQ (no direction). */
const DIVEQ_EPS = 1e-12;

/**
 * DiVeQ, directional reparameterisation (Vali, Bäckström, Solin 2025, "DiVeQ: Differentiable
 * Vector Quantization Using the Reparameterization Trick", arXiv 2509.26469; lucidrains'
 * `directional_reparam`): per frame
 *
 *   q = z + sg(u)·‖Q(z) − z‖,  u = (Q(z) − z + ε)/‖Q(z) − z + ε‖,  ε ~ N(0, σ²I).
 *
 * The forward is Q(z) up to the direction noise (exactly Q(z) as σ → 0). Gradients, with
 * d̂ = (Q(z) − z)/‖Q(z) − z‖: to z, g − d̂⟨u, g⟩; to Q(z), d̂⟨u, g⟩, which reaches the codeword
 * itself (a loss-learned codebook learns from the task loss, no codebook loss needed). Autodiff
 * of that expression; ‖·‖ is floored at {@linkcode DIVEQ_EPS} inside the root, so a frame with
 * Q(z) = z passes g to z and nothing to Q(z).
 *
 * [choice] σ² = 5e-3 is lucidrains' `directional_reparam_variance`; the authors' code
 * (AaltoML/DiVeQ, `DIVEQ.forward`) draws ε with standard deviation `noise_var` = 1e-3. Their
 * recipe also replaces dead codewords every 100 steps (`quantizer.deadCodeEvery`,
 * `codebook.ts`'s `DeadCodeReplacement`), which notebook 11's DiVeQ row uses.
 *
 * Not built: the space-filling variant SF-DiVeQ, although the authors' code defines it (`SFDIVEQ`
 * in `sf_diveq.py`). In training it draws λ_j ~ U(0, 1) for each pair of consecutive codewords,
 * picks the nearest dithered point d_i = (1 − λ_i)c_i + λ_i c_{i+1}, and passes
 * z + ‖c_i − z‖·sg((1 − λ_i)·unit(c_i − z + ε₁)) + ‖c_{i+1} − z‖·sg(λ_i·unit(c_{i+1} − z + ε₂));
 * at inference it maps z to the nearest point of the polyline c_0 → c_1 → … → c_{K−1}: an index
 * plus a position λ ∈ [0, 1] on a segment that the code leaves unquantized. So (1) its output is
 * not one of 2^B_q points — it spends log2 K bits plus an unquantized real, more rate than every
 * other estimator at the same B_q, and how λ would be coded is not in the paper's code; (2) it
 * is a quantizer with its own schedule, not a gradient passer: no quantization for the first
 * `skip_iters` = 1000 steps, then codewords = means of consecutive chunks of the recent latents,
 * longer than a whole speech run of notebook 11 (150 steps).
 */
export function diveq(variance: number = DIVEQ_VARIANCE): Passer {
  return {
    kind: "diveq",
    forward: (z, hard, ctx) =>
      tf.tidy(() => {
        const eps = tf.tensor2d(ctx.rng.normals(z.size, Math.sqrt(variance)), z.shape);
        const error = tf.sub(hard.q, z);
        const [u] = unitRows(tf.add(error, eps) as tf.Tensor2D);
        const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(error), 1, true), DIVEQ_EPS ** 2));
        return tf.add(z, tf.mul(stopGradient(u), norm)) as tf.Tensor2D;
      }),
  };
}

/**
 * Gumbel straight-through sampling (Jang, Gu, Poole 2017, "Categorical Reparameterization with
 * Gumbel-Softmax", §2.2 straight-through; lucidrains' `gumbel_sample(stochastic = True,
 * straight_through = True)`): with logits ℓ_k = −‖z − c_k‖²/τ, sample k̃ = argmax_k(ℓ_k + γ_k),
 * γ_k = −log(−log U_k), U_k ~ U(0, 1), and pass
 *
 *   q = C[k̃] + π·C − sg(π·C),  π = softmax(ℓ).
 *
 * The forward is the sampled codeword; the gradient reaches z and the codebook through π·C
 * (and the codebook through C[k̃]). [choice, as lucidrains: τ divides the logits of the
 * sample too, so sampling sharpens as τ anneals (Jang et al. sample from softmax(ℓ·τ) at every
 * τ), and the relaxation π carries no noise; τ anneals as soft-to-hard's, `tauStart` →
 * `tauEnd`; logits are negative squared distances as in soft-to-hard.] Validation uses the hard
 * nearest codeword. A VQ as above; an RVQ samples stage by stage (its `gumbel`, `rvq.ts`).
 */
export function gumbel(config: Pick<PasserConfig, "tauStart" | "tauEnd">): Passer {
  return {
    kind: "gumbel",
    forward: (z, _hard, ctx) =>
      tf.tidy(() => {
        const { quantizer } = ctx;
        const tau = temperature(config, ctx.step, ctx.totalSteps);
        if (quantizer.gumbel) return quantizer.gumbel(z, tau, ctx.rng);
        if (!quantizer.soft || !quantizer.distances) {
          throw new Error("passer gumbel: this quantizer has no codeword distances (VQ, RVQ only)");
        }
        return gumbelStraightThrough(
          quantizer.distances(z),
          tau,
          ctx.rng,
          (k) => quantizer.decodeCodes(tf.expandDims(k, 1) as tf.Tensor2D),
          () => quantizer.soft!(z, tau),
        );
      }),
    temperature: (step, total) => temperature(config, step, total),
  };
}

/**
 * Huh et al.'s synchronized update (Huh, Cheung, Agrawal, Isola 2023, "Straightening Out the
 * Straight-Through Estimator: Overcoming Optimization Challenges in Vector Quantized Networks",
 * ICML, eq. 21; vqtorch's `sync_nu`): the passer's value p becomes p + v·(Q(z) − sg(Q(z))). The
 * forward is unchanged (the term is 0); the codewords Q(z) was looked up from receive v·g, the
 * gradient the decoder input receives, so they move with the encoder instead of only by the
 * codebook loss. [Here Q(z) is the raw codeword, as in the paper and vqtorch; lucidrains adds
 * the term to the straight-through value, which rescales the encoder's gradient instead.]
 */
export function synchronized(passer: Passer, v: number): Passer {
  return {
    ...passer,
    forward: (z, hard, ctx) =>
      tf.tidy(() =>
        tf.add(
          passer.forward(z, hard, ctx),
          tf.mul(tf.sub(hard.q, stopGradient(hard.q)), v),
        ) as tf.Tensor2D
      ),
  };
}

/**
 * Temperature of soft-to-hard annealing at `step` of `total`: exponential from τ_start to τ_end,
 * τ_t = τ_start·(τ_end/τ_start)^(t/(total−1)). [choice]
 */
export function temperature(
  config: Pick<PasserConfig, "tauStart" | "tauEnd">,
  step: number,
  total: number,
): number {
  const t = total <= 1 ? 1 : Math.min(1, step / (total - 1));
  return config.tauStart * (config.tauEnd / config.tauStart) ** t;
}

/**
 * The registry of passer kinds: defaults, validation and builder per `passer.kind` (every kind
 * shares the fields of {@linkcode PasserConfig} and its defaults). A builder gets the custom
 * passers loaded for the run (`lib/custom/mod.ts`), by module reference; only kind "custom"
 * reads them.
 */
export const PASSERS: Record<PasserKind, PasserKindEntry> = Object.fromEntries(
  PASSER_KINDS.map((kind) => [kind, passerKind(kind)]),
) as Record<PasserKind, PasserKindEntry>;

/** A passer kind's registry entry. */
export type PasserKindEntry = Kind<
  PasserConfig,
  (config: PasserConfig, custom?: ReadonlyMap<string, Passer>) => Passer
>;

function passerKind(kind: PasserKind): PasserKindEntry {
  return {
    defaults: kind === "diveq"
      ? { ...PASSER_DEFAULTS, kind, variance: DIVEQ_VARIANCE }
      : { ...PASSER_DEFAULTS, kind },
    optional: kind === "custom" ? ["module", "moduleSha256", "sync"] : ["sync"],
    validate: validatePasser,
    build: (config, custom = new Map()) => {
      const passer = BUILDERS[kind](config, custom);
      return config.sync ? synchronized(passer, config.sync) : passer;
    },
  };
}

const BUILDERS: Record<
  PasserKind,
  (config: PasserConfig, custom: ReadonlyMap<string, Passer>) => Passer
> = {
  "ste": () => ste,
  "mste": (config) => mste(config.sigma),
  "na-detached": () => naDetached,
  "na-attached": (config) => naAttached(config.sigma),
  "soft-to-hard": (config) => softToHard(config),
  "rotation": () => rotationTrick,
  "diveq": (config) => diveq(config.variance),
  "gumbel": (config) => gumbel(config),
  "custom": (config, custom) => {
    const passer = custom.get(config.module ?? "");
    if (!passer) {
      throw new Error(
        `passer.kind = "custom": ${config.module} is not among the custom kinds given; ` +
          "load it with loadCustomKinds (lib/custom/mod.ts) and pass it to train(config, { custom })",
      );
    }
    return passer;
  },
};

/** The passer a config names; kind "custom" is looked up in `custom` by its module reference. */
export function buildPasser(config: PasserConfig, custom?: ReadonlyMap<string, Passer>): Passer {
  return PASSERS[config.kind].build(config, custom);
}
