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

/** The data a run trains on, by `kind` (each kind's source is built by `lib/sources/mod.ts`). */
export type DataConfig = SimulatedDataConfig;

/** Frame-wise MLP proxy codec (method §3): three FC layers per side with a skip. [paper A structure] */
export interface MlpCodecConfig {
  kind: "mlp";
  /** Hidden width H. [choice] */
  hidden: number;
  /** Latent dimension L (encoder output, quantizer input). [choice] */
  latent: number;
}

/** The codec, by `kind` (each kind is built by `lib/codecs/mod.ts`). */
export type CodecConfig = MlpCodecConfig;

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
  /**
   * Quantizer dropout [DAC: 0.5]: in training, each frame with this probability uses only its
   * first n ~ U{1..stages} stages (per frame, not per example as in DAC: choice); evaluation uses
   * all stages. Absent (off) unless set, so existing cache keys stay.
   */
  dropout?: number;
}

/** Finite scalar quantization: tanh-bounded, rounded per dimension; levels.length must equal L. */
export interface FsqConfig {
  kind: "fsq";
  levels: number[];
}

/**
 * No quantizer: Q(z) = z, zero bits. The continuous model of post-training quantization.
 * [paper B]
 */
export interface NoneQuantizerConfig {
  kind: "none";
}

export type QuantizerConfig = VqConfig | RvqConfig | FsqConfig | NoneQuantizerConfig;

/** Gradient passers through the quantizer (method §4). */
export type PasserKind =
  | "ste"
  | "mste"
  | "na-detached"
  | "na-attached"
  | "soft-to-hard"
  | "rotation"
  | "custom";
export const PASSER_KINDS: readonly PasserKind[] = [
  "ste",
  "mste",
  "na-detached",
  "na-attached",
  "soft-to-hard",
  "rotation",
  "custom",
];

export interface PasserConfig {
  kind: PasserKind;
  /** σ_E over the whole batch tensor or per latent channel (mSTE, NA attached). [choice] */
  sigma: "tensor" | "channel";
  /** Soft-to-hard: initial temperature τ₀. [choice] */
  tauStart: number;
  /** Soft-to-hard: final temperature, reached exponentially at the last step. [choice] */
  tauEnd: number;
  /**
   * kind "custom" only: the passer's module as `file:///abs/path.ts#exportName` (see
   * `lib/battery/candidate.ts`). Absent for the built-in passers, so their cache keys stay.
   */
  module?: string;
  /** kind "custom" only: SHA-256 of the module's source, so an edited module is a new run. */
  moduleSha256?: string;
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
  /**
   * Commitment loss weight β of the quantizer's loss β·mean(z − sg(Q(z)))²; 0 disables it. DAC
   * uses 0.25. The quantizer computes the loss (`losses.commitment`); the weight stays here so
   * the proxy's resolved configs and cache keys are unchanged. [paper A names CL; β from DAC]
   */
  commitment: number;
  /** Weight of the quantizer's codebook loss ‖sg(z) − Q(z)‖² (learning = "loss"). [choice] */
  codebookWeight: number;
  /** A run diverges when max |e| on a batch or on validation exceeds this. [choice] */
  divergenceThreshold: number;
  /** Seed of everything: data, initial weights, batches, noise. */
  seed: number;
}

/** One complete, validated run description. JSON-serialisable. */
export interface RunConfig {
  data: DataConfig;
  codec: CodecConfig;
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

/** Defaults per `data.kind`: a kind's section is filled from its own defaults. */
const DATA_DEFAULTS: { [K in DataConfig["kind"]]: Extract<DataConfig, { kind: K }> } = {
  simulated: DEFAULTS.data,
};

/** Defaults per `codec.kind`. */
const CODEC_DEFAULTS: { [K in CodecConfig["kind"]]: Extract<CodecConfig, { kind: K }> } = {
  mlp: DEFAULTS.codec,
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
  none: { kind: "none" },
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
  const cfg = {
    data: merge("data", kindDefaults("data", DATA_DEFAULTS, input.data), input.data),
    codec: merge("codec", kindDefaults("codec", CODEC_DEFAULTS, input.codec), input.codec),
    quantizer: merge(
      "quantizer",
      kindDefaults("quantizer", QUANTIZER_DEFAULTS, input.quantizer),
      input.quantizer,
      ["dropout"],
    ),
    passer: merge("passer", DEFAULTS.passer, input.passer, ["module", "moduleSha256"]),
    train: merge("train", DEFAULTS.train, input.train),
  } as RunConfig;
  validate(cfg);
  return cfg;
}

/** Bits B carried by one frame of the simulated source. */
export function sourceBits(data: SimulatedDataConfig): number {
  if (data.kind !== "simulated") {
    throw new ConfigError("data.kind", data.kind, `"simulated" (only it has a known bit count)`);
  }
  return data.groups * data.bitsPerGroup;
}

/** Latent dimension D of a codec config: the size of the latent's last axis, the quantizer's frame dimension. */
export function latentDim(codec: CodecConfig): number {
  switch (codec.kind) {
    case "mlp":
      return codec.latent;
  }
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
    case "none":
      return 0;
  }
}

function section(names: string[]): string {
  return `one of ${names.map((n) => JSON.stringify(n)).join(", ")}`;
}

/**
 * The defaults of the kind a section names (its `kind`, else the first kind in the table's
 * order, which is the default); an unknown kind is rejected naming `<name>.kind`.
 */
function kindDefaults<T extends object>(
  name: string,
  table: Record<string, T>,
  over: { kind?: unknown } | undefined,
): T {
  const kinds = Object.keys(table);
  const kind = over !== null && typeof over === "object" && over.kind !== undefined
    ? over.kind
    : kinds[0];
  if (typeof kind !== "string" || !Object.hasOwn(table, kind)) {
    throw new ConfigError(`${name}.kind`, kind, section(kinds));
  }
  return table[kind];
}

function merge<T extends object>(
  name: string,
  base: T,
  over: object | undefined,
  optional: string[] = [],
): T {
  if (over === undefined) return structuredClone(base);
  if (over === null || typeof over !== "object" || Array.isArray(over)) {
    throw new ConfigError(name, over, "an object");
  }
  for (const key of Object.keys(over)) {
    if (!Object.hasOwn(base, key) && !optional.includes(key)) {
      throw new ConfigError(
        `${name}.${key}`,
        (over as Record<string, unknown>)[key],
        `a field of ${name}: ${section([...Object.keys(base), ...optional])}`,
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
  switch (c.data.kind) {
    case "simulated":
      validateSimulated(c.data);
      break;
  }
  switch (c.codec.kind) {
    case "mlp":
      int("codec.hidden", c.codec.hidden, 1, 8192);
      int("codec.latent", c.codec.latent, 1, 4096);
      break;
  }

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
    if (q.kind === "rvq" && q.dropout !== undefined) num("quantizer.dropout", q.dropout, 0, 1);
  } else if (q.kind === "fsq") {
    const dim = latentDim(c.codec);
    if (!Array.isArray(q.levels) || q.levels.length !== dim) {
      throw new ConfigError(
        "quantizer.levels",
        q.levels,
        `an array of ${dim} level counts, one per latent dimension (codec.latent = ${dim})`,
      );
    }
    q.levels.forEach((l, i) => int(`quantizer.levels[${i}]`, l, 2, 1 << 16));
  }
  if (q.kind !== "rvq" && "dropout" in q) {
    throw new ConfigError(
      "quantizer.dropout",
      (q as { dropout: unknown }).dropout,
      'no dropout: it is for quantizer.kind = "rvq"',
    );
  }

  oneOf("passer.kind", c.passer.kind, PASSER_KINDS);
  oneOf("passer.sigma", c.passer.sigma, ["tensor", "channel"]);
  num("passer.tauStart", c.passer.tauStart, 0, 1e6, true);
  num("passer.tauEnd", c.passer.tauEnd, 0, c.passer.tauStart, true);
  const custom = c.passer.kind === "custom";
  if (custom !== (c.passer.module !== undefined)) {
    throw new ConfigError(
      "passer.module",
      c.passer.module,
      custom
        ? 'a module reference "file:///path/module.ts#exportName" (passer.kind = "custom")'
        : 'no module: passer.module is only for passer.kind = "custom"',
    );
  }
  if (custom) {
    if (
      typeof c.passer.module !== "string" || !/^file:\/\/.+#[A-Za-z_$][\w$]*$/.test(c.passer.module)
    ) {
      throw new ConfigError(
        "passer.module",
        c.passer.module,
        '"file:///path/module.ts#exportName"',
      );
    }
    if (
      typeof c.passer.moduleSha256 !== "string" || !/^[0-9a-f]{64}$/.test(c.passer.moduleSha256)
    ) {
      throw new ConfigError(
        "passer.moduleSha256",
        c.passer.moduleSha256,
        "the module's SHA-256 (64 hex digits)",
      );
    }
  } else if (c.passer.moduleSha256 !== undefined) {
    throw new ConfigError(
      "passer.moduleSha256",
      c.passer.moduleSha256,
      'no value: it is only for passer.kind = "custom"',
    );
  }
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

function validateSimulated(d: SimulatedDataConfig): void {
  int("data.frameDim", d.frameDim, 1, 4096);
  int("data.groups", d.groups, 1, d.frameDim);
  if (d.frameDim % d.groups !== 0) {
    throw new ConfigError("data.frameDim", d.frameDim, `a multiple of data.groups = ${d.groups}`);
  }
  int("data.bitsPerGroup", d.bitsPerGroup, 1, 16);
  int("data.validationFrames", d.validationFrames, 1, 1 << 20);
}
