/**
 * The run configuration: one plain typed object with documented defaults, validated once at
 * the edge. Every modelling decision the papers leave open is a field here and is labelled
 * [choice] in its doc comment; the rest is [paper A].
 *
 * @module
 */

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

/** Frame-wise MLP proxy codec (method §3): three FC layers per side with a skip. [paper A structure] */
export interface MlpCodecConfig {
  kind: "mlp";
  /** Hidden width H. [choice] */
  hidden: number;
  /** Latent dimension L (encoder output, quantizer input). [choice] */
  latent: number;
}

/** How a codebook learns. [paper A names codebook loss; EMA is a common alternative, choice] */
export type CodebookLearning = "loss" | "ema";
/** How a codebook starts. [choice] */
export type CodebookInit = "random" | "kmeans";

/** Nearest-neighbour vector quantizer with one codebook of 2^bits entries. */
export interface VqConfig {
  kind: "vq";
  bits: number;
  learning: CodebookLearning;
  init: CodebookInit;
  /** EMA decay γ when learning = "ema". [choice] */
  emaDecay: number;
}

/** Residual VQ: `stages` codebooks of 2^bitsPerStage entries, each quantizing the previous residual. */
export interface RvqConfig {
  kind: "rvq";
  stages: number;
  bitsPerStage: number;
  learning: CodebookLearning;
  init: CodebookInit;
  emaDecay: number;
}

/** Finite scalar quantization: tanh-bounded, rounded per dimension; levels.length must equal L. */
export interface FsqConfig {
  kind: "fsq";
  levels: number[];
}

export type QuantizerConfig = VqConfig | RvqConfig | FsqConfig;

/** Gradient passers through the quantizer (method §4). */
export type PasserKind = "ste" | "mste" | "na-detached" | "na-attached" | "soft-to-hard";
export const PASSER_KINDS: readonly PasserKind[] = [
  "ste",
  "mste",
  "na-detached",
  "na-attached",
  "soft-to-hard",
];

export interface PasserConfig {
  kind: PasserKind;
  /** σ_E over the whole batch tensor or per latent channel (mSTE, NA attached). [choice] */
  sigma: "tensor" | "channel";
  /** Soft-to-hard: initial temperature τ₀. [choice] */
  tauStart: number;
  /** Soft-to-hard: final temperature, reached exponentially at the last step. [choice] */
  tauEnd: number;
}

export interface TrainConfig {
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  /** Adam learning rate and moments. [choice] */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Commitment loss weight β; 0 disables it. DAC uses 0.25. [paper A names CL; β from DAC] */
  commitment: number;
  /** Weight of the codebook loss ‖sg(e) − Q(e)‖² (learning = "loss"). [choice] */
  codebookWeight: number;
  /** A run diverges when max |e| on a batch or on validation exceeds this. [choice] */
  divergenceThreshold: number;
  /** Seed of everything: data, initial weights, batches, noise. */
  seed: number;
}

/** One complete, validated run description. JSON-serialisable. */
export interface RunConfig {
  data: SimulatedDataConfig;
  codec: MlpCodecConfig;
  quantizer: QuantizerConfig;
  passer: PasserConfig;
  train: TrainConfig;
}

/** Deep-partial input accepted by {@linkcode resolveConfig}. */
export type ConfigInput = {
  [K in keyof RunConfig]?: Partial<RunConfig[K]> & { kind?: string };
};

/** Defaults of the paper-A proxy (method §4, "a small configuration"). */
export const DEFAULTS: RunConfig = {
  data: { kind: "simulated", frameDim: 16, groups: 2, bitsPerGroup: 4, validationFrames: 4096 },
  codec: { kind: "mlp", hidden: 128, latent: 8 },
  quantizer: { kind: "vq", bits: 8, learning: "loss", init: "random", emaDecay: 0.99 },
  passer: { kind: "ste", sigma: "tensor", tauStart: 1, tauEnd: 0.01 },
  train: {
    epochs: 8,
    stepsPerEpoch: 200,
    batchSize: 256,
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    commitment: 0,
    codebookWeight: 1,
    divergenceThreshold: 1e8,
    seed: 0,
  },
};

const QUANTIZER_DEFAULTS = {
  vq: DEFAULTS.quantizer,
  rvq: {
    kind: "rvq",
    stages: 2,
    bitsPerStage: 4,
    learning: "loss",
    init: "random",
    emaDecay: 0.99,
  },
  fsq: { kind: "fsq", levels: [4, 4, 4, 4, 2, 2, 2, 2] },
} as const;

/** Raised for an invalid configuration; names the field, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly field: string, readonly value: unknown, readonly expected: string) {
    super(`config.${field} = ${JSON.stringify(value)} is invalid: expected ${expected}`);
    this.name = "ConfigError";
  }
}

/**
 * Fill defaults and validate. Unknown fields are rejected too, so a typo never silently
 * falls back to a default.
 *
 * @example
 * ```ts
 * const cfg = resolveConfig({ passer: { kind: "mste" }, train: { seed: 3 } });
 * ```
 */
export function resolveConfig(input: ConfigInput = {}): RunConfig {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError("", input, "an object");
  }
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(DEFAULTS, key)) {
      throw new ConfigError(
        key,
        (input as Record<string, unknown>)[key],
        section(Object.keys(DEFAULTS)),
      );
    }
  }
  const qKind = input.quantizer?.kind ?? DEFAULTS.quantizer.kind;
  if (typeof qKind !== "string" || !Object.hasOwn(QUANTIZER_DEFAULTS, qKind)) {
    throw new ConfigError("quantizer.kind", qKind, section(Object.keys(QUANTIZER_DEFAULTS)));
  }
  const cfg = {
    data: merge("data", DEFAULTS.data, input.data),
    codec: merge("codec", DEFAULTS.codec, input.codec),
    quantizer: merge(
      "quantizer",
      QUANTIZER_DEFAULTS[qKind as keyof typeof QUANTIZER_DEFAULTS],
      input.quantizer,
    ),
    passer: merge("passer", DEFAULTS.passer, input.passer),
    train: merge("train", DEFAULTS.train, input.train),
  } as RunConfig;
  validate(cfg);
  return cfg;
}

/** Bits B carried by one frame of the simulated source. */
export function sourceBits(data: SimulatedDataConfig): number {
  return data.groups * data.bitsPerGroup;
}

/** Bits B_q a quantizer spends per latent frame. */
export function quantizerBits(q: QuantizerConfig): number {
  switch (q.kind) {
    case "vq":
      return q.bits;
    case "rvq":
      return q.stages * q.bitsPerStage;
    case "fsq":
      return q.levels.reduce((s, l) => s + Math.log2(l), 0);
  }
}

function section(names: string[]): string {
  return `one of ${names.map((n) => JSON.stringify(n)).join(", ")}`;
}

function merge<T extends object>(name: string, base: T, over: object | undefined): T {
  if (over === undefined) return structuredClone(base);
  if (over === null || typeof over !== "object" || Array.isArray(over)) {
    throw new ConfigError(name, over, "an object");
  }
  for (const key of Object.keys(over)) {
    if (!Object.hasOwn(base, key)) {
      throw new ConfigError(
        `${name}.${key}`,
        (over as Record<string, unknown>)[key],
        `a field of ${name}: ${section(Object.keys(base))}`,
      );
    }
  }
  return { ...structuredClone(base), ...structuredClone(over) } as T;
}

function int(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, v, `an integer in [${min}, ${max}]`);
  }
}

function num(field: string, v: unknown, min: number, max: number, open = false): void {
  const ok = typeof v === "number" && Number.isFinite(v) &&
    (open ? v > min : v >= min) && v <= max;
  if (!ok) throw new ConfigError(field, v, `a finite number in ${open ? "(" : "["}${min}, ${max}]`);
}

function oneOf(field: string, v: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(v as string)) throw new ConfigError(field, v, section([...allowed]));
}

function validate(c: RunConfig): void {
  oneOf("data.kind", c.data.kind, ["simulated"]);
  int("data.frameDim", c.data.frameDim, 1, 4096);
  int("data.groups", c.data.groups, 1, c.data.frameDim);
  if (c.data.frameDim % c.data.groups !== 0) {
    throw new ConfigError(
      "data.frameDim",
      c.data.frameDim,
      `a multiple of data.groups = ${c.data.groups}`,
    );
  }
  int("data.bitsPerGroup", c.data.bitsPerGroup, 1, 16);
  int("data.validationFrames", c.data.validationFrames, 1, 1 << 20);

  oneOf("codec.kind", c.codec.kind, ["mlp"]);
  int("codec.hidden", c.codec.hidden, 1, 8192);
  int("codec.latent", c.codec.latent, 1, 4096);

  const q = c.quantizer;
  if (q.kind === "vq" || q.kind === "rvq") {
    if (q.kind === "vq") int("quantizer.bits", q.bits, 1, 16);
    else {
      int("quantizer.stages", q.stages, 1, 64);
      int("quantizer.bitsPerStage", q.bitsPerStage, 1, 16);
    }
    oneOf("quantizer.learning", q.learning, ["loss", "ema"]);
    oneOf("quantizer.init", q.init, ["random", "kmeans"]);
    num("quantizer.emaDecay", q.emaDecay, 0, 1, true);
    if (q.emaDecay >= 1) {
      throw new ConfigError("quantizer.emaDecay", q.emaDecay, "a number in (0, 1)");
    }
  } else {
    if (!Array.isArray(q.levels) || q.levels.length !== c.codec.latent) {
      throw new ConfigError(
        "quantizer.levels",
        q.levels,
        `an array of codec.latent = ${c.codec.latent} level counts, one per latent dimension`,
      );
    }
    q.levels.forEach((l, i) => int(`quantizer.levels[${i}]`, l, 2, 1 << 16));
  }

  oneOf("passer.kind", c.passer.kind, PASSER_KINDS);
  oneOf("passer.sigma", c.passer.sigma, ["tensor", "channel"]);
  num("passer.tauStart", c.passer.tauStart, 0, 1e6, true);
  num("passer.tauEnd", c.passer.tauEnd, 0, c.passer.tauStart, true);
  if (c.passer.kind === "soft-to-hard" && q.kind !== "vq") {
    throw new ConfigError(
      "passer.kind",
      c.passer.kind,
      `a passer other than "soft-to-hard" for quantizer.kind = "${q.kind}" (soft-to-hard needs a single VQ codebook)`,
    );
  }

  const t = c.train;
  int("train.epochs", t.epochs, 1, 1e6);
  int("train.stepsPerEpoch", t.stepsPerEpoch, 1, 1e7);
  int("train.batchSize", t.batchSize, 1, 1 << 20);
  num("train.learningRate", t.learningRate, 0, 10, true);
  num("train.beta1", t.beta1, 0, 1);
  num("train.beta2", t.beta2, 0, 1);
  num("train.epsilon", t.epsilon, 0, 1, true);
  num("train.commitment", t.commitment, 0, 1e6);
  num("train.codebookWeight", t.codebookWeight, 0, 1e6);
  num("train.divergenceThreshold", t.divergenceThreshold, 0, Number.MAX_VALUE, true);
  int("train.seed", t.seed, 0, 2 ** 32 - 1);
}
