/**
 * The run configuration: one plain typed object with documented defaults, validated once at
 * the edge. Every modelling decision the papers leave open is a field here and is labelled
 * [choice] in its doc comment; the rest is [paper A].
 *
 * @module
 */

import {
  CONV_CODEC_DEFAULTS,
  CONV_CODEC_OPTIONAL,
  type ConvCodecConfig,
  convHopSamples,
  validateConvCodecConfig,
} from "./codecs/conv.ts";

export type { ConvCodecConfig };

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

/**
 * Real speech (`lib/audio/`, `./quantlab data`) cut into fixed-length segments, for the conv codec
 * (`lib/sources/speech.ts`). The first eight fields are `lib/audio/source.ts`'s
 * `SpeechDataConfig`; the rest size the validation set and weight the loss.
 */
export interface SpeechSourceConfig {
  kind: "speech";
  /** Corpus sample rate, Hz; files at other rates are resampled. [choice: 8 kHz telephone band] */
  sampleRate: number;
  /** Samples per training segment (a multiple of the codec's hop). [choice] */
  segmentSamples: number;
  /** Level normalisation per utterance (`lib/audio/segments.ts`). [choice] */
  normalisation: "utterance-rms" | "utterance-peak" | "none";
  /** Target level, dBFS. [choice] */
  targetDb: number;
  /** The Asterisk speaker held out for validation (the codec never hears it). [choice] */
  heldOutSpeaker: string;
  /** Size of the fixed validation set, in segments (equal share per validation speaker). [choice] */
  validationSegments: number;
  /** Seed of the training segment draws, mixed with `train.seed`. */
  seed: number;
  /** Samples per validation segment (longer than training segments, so they can be listened to). [choice] */
  validationSamples: number;
  /** Validation segments per forward pass. [choice] */
  validationBatch: number;
  /** Weight of the waveform L1 loss mean|ŷ − y|. [choice] */
  waveformWeight: number;
  /** Weight of the multi-scale log-magnitude STFT L1 loss (`logMagnitudeStftLoss`). [choice] */
  spectralWeight: number;
  /** Hann windows of the spectral loss, hop window/4. [choice: 64, 256, 1024, the conv reference step's] */
  spectralWindows: number[];
  /** Weight of DAC's multi-scale mel L1 loss in training (`melSpectrogramLoss`); validation always reports it. [choice: 0, off] */
  melWeight: number;
  /**
   * Weight of a scale-invariant SDR term, w·mean over segments of −SI-SDR(ŷ, y) in dB: the
   * magnitude losses are phase-blind, this asks for the waveform; the L1 and spectral terms anchor
   * the output level. [choice; absent = 0]
   */
  siSdrWeight?: number;
}

/** The data a run trains on, by `kind` (each kind's source is built by `lib/sources/mod.ts`). */
export type DataConfig = SimulatedDataConfig | SpeechSourceConfig;

/** Frame-wise MLP proxy codec (method §3): three FC layers per side with a skip. [paper A structure] */
export interface MlpCodecConfig {
  kind: "mlp";
  /** Hidden width H. [choice] */
  hidden: number;
  /** Latent dimension L (encoder output, quantizer input). [choice] */
  latent: number;
}

/** The codec, by `kind` (each kind is built by `lib/codecs/mod.ts`); conv: `lib/codecs/conv.ts`. */
export type CodecConfig = MlpCodecConfig | ConvCodecConfig;

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
   * How a stage picks its code [choice]: "euclidean" (absent, the default) the nearest codeword;
   * "cosine" the codeword of largest cosine with the residual, both l2-normalised for the choice
   * only (DAC's factorised-code lookup), while Q(z) sums the raw codewords, so the choice ignores
   * |z| and nothing but the commitment loss pulls z towards Q(z). Absent from configs that do not
   * set it, so the proxy's cache keys stay.
   */
  lookup?: "euclidean" | "cosine";
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

/**
 * A researcher's own quantizer, from a module (see `lib/battery/candidate.ts`), built at `bits`
 * per frame. Only the battery's job (`lib/battery/job.ts`) loads it; the fields exist only for
 * this kind, so the built-in kinds' resolved configs and cache keys are unchanged.
 */
export interface CustomQuantizerConfig {
  kind: "custom";
  /** Bits B_q per frame the module is asked to build, and must report as its `bits`. */
  bits: number;
  /** The module as `file:///abs/path.ts#exportName`. */
  module: string;
  /** SHA-256 of the module's source, so an edited module is a new run. */
  moduleSha256: string;
}

export type QuantizerConfig =
  | VqConfig
  | RvqConfig
  | FsqConfig
  | NoneQuantizerConfig
  | CustomQuantizerConfig;

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
  /**
   * Record training loss and MA-E (max |e| of the batch) every `traceEvery` steps in
   * `RunResult.steps`; 0 records nothing. Absent from the proxy's resolved configs (their cache
   * keys stay); defaults to 1 (every step) for `data.kind = "speech"`. [choice]
   */
  traceEvery?: number;
  /**
   * Learning rate at the last step: exponential decay from `learningRate` (DAC decays by
   * ExponentialLR). [choice; absent = constant]
   */
  learningRateEnd?: number;
  /** Clip the global gradient norm to this value (DAC: 1e3). [choice; absent = no clipping] */
  gradClip?: number;
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

/**
 * Defaults of `data.kind = "speech"` [choice]: 8 kHz, training segments of 4096 samples (0.51 s,
 * a multiple of the conv codec's default hop 128), 32 validation segments of 16384 samples
 * (2.05 s) in batches of 8, loss = waveform L1 + log-magnitude STFT L1 at windows 64/256/1024
 * (the conv reference step's loss), no mel term in training.
 */
export const SPEECH_SOURCE_DEFAULTS: SpeechSourceConfig = {
  kind: "speech",
  sampleRate: 8000,
  segmentSamples: 4096,
  normalisation: "utterance-rms",
  targetDb: -20,
  heldOutSpeaker: "asterisk:june-wallack",
  validationSegments: 32,
  seed: 0,
  validationSamples: 16384,
  validationBatch: 8,
  waveformWeight: 1,
  spectralWeight: 1,
  spectralWindows: [64, 256, 1024],
  melWeight: 0,
};

/**
 * Training defaults that differ for `data.kind = "speech"` [choice]: batches of 8 segments,
 * 10 epochs of 100 steps (1000 steps). The rest are the proxy's (Adam 1e-3, no commitment loss).
 */
export const SPEECH_TRAIN_DEFAULTS: Partial<TrainConfig> = {
  batchSize: 8,
  epochs: 10,
  stepsPerEpoch: 100,
};

/**
 * Defaults per `data.kind`: a kind's section is filled from its own defaults. A function, not a
 * table, because `codecs/conv.ts` imports this module: reading its defaults at call time keeps
 * the import cycle harmless whichever module loads first.
 */
function dataDefaults(): { [K in DataConfig["kind"]]: Extract<DataConfig, { kind: K }> } {
  return { simulated: DEFAULTS.data as SimulatedDataConfig, speech: SPEECH_SOURCE_DEFAULTS };
}

/** Defaults per `codec.kind` (see {@linkcode dataDefaults} for why a function). */
function codecDefaults(): { [K in CodecConfig["kind"]]: Extract<CodecConfig, { kind: K }> } {
  return { mlp: DEFAULTS.codec as MlpCodecConfig, conv: CONV_CODEC_DEFAULTS };
}

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
  custom: { kind: "custom", bits: 8 },
} as const;

/** Raised for an invalid configuration; names the field, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly field: string, readonly value: unknown, readonly expected: string) {
    super(`config.${field} = ${describeValue(value)} is invalid: expected ${expected}`);
    this.name = "ConfigError";
  }
}

/** Longest value shown in a {@linkcode ConfigError} message, in characters. [choice] */
export const MAX_SHOWN = 120;

/**
 * A value as a config message shows it: JSON where JSON can say it, else what it is (`10n`,
 * `Symbol(x)`, `a function`, `a Map`, `a Date (…)`), truncated to {@linkcode MAX_SHOWN}
 * characters with the full length said. Never throws.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    if (typeof value === "bigint") text = `${value}n`;
    else if (typeof value === "symbol") text = value.toString();
    else if (typeof value === "function") text = "a function";
    else if (value === undefined) text = "undefined";
    else if (value instanceof Date) text = `a Date (${String(value)})`;
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value);
      text = proto !== Object.prototype && proto !== null
        ? `a ${proto?.constructor?.name ?? "non-plain object"}`
        : JSON.stringify(value, _jsonSafe) ?? String(value);
    } else text = JSON.stringify(value, _jsonSafe) ?? String(value);
  } catch {
    text = `a ${typeof value} that cannot be shown`;
  }
  return text.length > MAX_SHOWN
    ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters)`
    : text;
}

function _jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "function") return "[function]";
  return v;
}

/**
 * Refuse what a config cannot hold, naming the path: values that are not JSON (BigInt, Symbol,
 * functions, `undefined` array entries and holes), objects that are not plain (Map, Date, class
 * instances) and an explicit `kind: undefined` (which would silently mean the default kind).
 */
function plainJson(value: unknown, path: string, depth = 0): void {
  if (depth > 32) throw new ConfigError(path, "…", "at most 32 levels of nesting");
  const t = typeof value;
  if (t === "bigint" || t === "symbol" || t === "function") {
    throw new ConfigError(path, value, "a JSON value (number, string, boolean, array, object)");
  }
  if (value === null || t !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) {
        throw new ConfigError(`${path}[${i}]`, undefined, "a value (an array without holes)");
      }
      plainJson(value[i], `${path}[${i}]`, depth + 1);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new ConfigError(path, value, "a plain object ({ … }) or a JSON value");
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (key === "kind" && v === undefined) {
      throw new ConfigError(at, v, "a kind name (leave the field out for the default kind)");
    }
    plainJson(v, at, depth + 1);
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
  plainJson(input, "");
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(DEFAULTS, key)) {
      throw new ConfigError(
        key,
        (input as Record<string, unknown>)[key],
        section(Object.keys(DEFAULTS)),
      );
    }
  }
  const dataBase = kindDefaults("data", dataDefaults(), input.data);
  const codecBase = kindDefaults(
    "codec",
    codecDefaults(),
    // A speech source defaults to the conv codec (the only codec for audio).
    input.codec?.kind === undefined && input.data?.kind === "speech"
      ? { ...input.codec, kind: "conv" }
      : input.codec,
  );
  const cfg = {
    data: merge("data", dataBase, input.data, dataBase.kind === "speech" ? ["siSdrWeight"] : []),
    codec: merge(
      "codec",
      codecBase,
      input.codec,
      codecBase.kind === "conv" ? CONV_CODEC_OPTIONAL : [],
    ),
    quantizer: merge(
      "quantizer",
      kindDefaults("quantizer", QUANTIZER_DEFAULTS, input.quantizer),
      input.quantizer,
      ["lookup", "dropout", "module", "moduleSha256"],
    ),
    passer: merge("passer", DEFAULTS.passer, input.passer, ["module", "moduleSha256"]),
    train: merge(
      "train",
      input.data?.kind === "speech"
        ? { ...DEFAULTS.train, ...SPEECH_TRAIN_DEFAULTS }
        : DEFAULTS.train,
      input.train,
      ["traceEvery", "learningRateEnd", "gradClip"],
    ),
  } as RunConfig;
  if (cfg.data.kind === "speech" && cfg.train.traceEvery === undefined) cfg.train.traceEvery = 1;
  validate(cfg);
  return cfg;
}

/** Bits B carried by one frame of the simulated source. */
export function sourceBits(data: DataConfig): number {
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
    case "conv":
      return codec.codeDim ?? codec.latentDim;
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
    case "custom":
      return q.bits;
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
    case "speech":
      validateSpeech(c.data);
      break;
  }
  switch (c.codec.kind) {
    case "mlp":
      int("codec.hidden", c.codec.hidden, 1, 8192);
      int("codec.latent", c.codec.latent, 1, 4096);
      break;
    case "conv":
      validateConvCodecConfig(c.codec);
      break;
  }
  if (c.codec.kind === "conv") {
    if (c.data.kind !== "speech") {
      throw new ConfigError(
        "codec.kind",
        c.codec.kind,
        `a codec for data.kind = "${c.data.kind}" ("mlp")`,
      );
    }
    const hop = convHopSamples(c.codec);
    for (const f of ["segmentSamples", "validationSamples"] as const) {
      if (c.data[f] % hop !== 0) {
        throw new ConfigError(`data.${f}`, c.data[f], `a multiple of Πcodec.strides = ${hop}`);
      }
    }
    if (c.codec.sampleRate !== c.data.sampleRate) {
      throw new ConfigError(
        "codec.sampleRate",
        c.codec.sampleRate,
        `data.sampleRate = ${c.data.sampleRate}`,
      );
    }
  } else if (c.data.kind === "speech") {
    throw new ConfigError("codec.kind", c.codec.kind, '"conv" for data.kind = "speech"');
  }

  const q = c.quantizer;
  if (q.kind !== "custom") moduleFields("quantizer", q as { kind: string }, false);
  if (q.kind !== "rvq" && "lookup" in q) {
    throw new ConfigError(
      "quantizer.lookup",
      (q as { lookup: unknown }).lookup,
      'no lookup: it is for quantizer.kind = "rvq"',
    );
  }
  if (q.kind === "vq" || q.kind === "rvq") {
    if (q.kind === "vq") int("quantizer.bits", q.bits, 1, 16);
    else {
      int("quantizer.stages", q.stages, 1, 64);
      int("quantizer.bitsPerStage", q.bitsPerStage, 1, 16);
    }
    if (q.kind === "rvq" && q.lookup !== undefined) {
      oneOf("quantizer.lookup", q.lookup, ["euclidean", "cosine"]);
    }
    oneOf("quantizer.learning", q.learning, ["loss", "ema"]);
    oneOf("quantizer.init", q.init, ["random", "kmeans"]);
    num("quantizer.emaDecay", q.emaDecay, 0, 1, true);
    if (q.emaDecay >= 1) {
      throw new ConfigError("quantizer.emaDecay", q.emaDecay, "a number in (0, 1)");
    }
    if (q.kind === "rvq" && q.dropout !== undefined) num("quantizer.dropout", q.dropout, 0, 1);
  } else if (q.kind === "custom") {
    num("quantizer.bits", q.bits, 0, 64, true);
    moduleFields("quantizer", q, true);
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
  moduleFields("passer", c.passer, c.passer.kind === "custom");
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
  if (t.traceEvery !== undefined) int("train.traceEvery", t.traceEvery, 0, 1e7);
  if (t.learningRateEnd !== undefined) {
    num("train.learningRateEnd", t.learningRateEnd, 0, t.learningRate, true);
  }
  if (t.gradClip !== undefined) num("train.gradClip", t.gradClip, 0, 1e12, true);
}

/**
 * `<section>.module` and `<section>.moduleSha256`: both required for kind "custom" (a
 * `file:///…#export` reference and 64 hex digits), both absent otherwise.
 */
function moduleFields(
  name: "passer" | "quantizer",
  v: { kind: string; module?: unknown; moduleSha256?: unknown },
  custom: boolean,
): void {
  if (custom !== (v.module !== undefined)) {
    throw new ConfigError(
      `${name}.module`,
      v.module,
      custom
        ? `a module reference "file:///path/module.ts#exportName" (${name}.kind = "custom")`
        : `no module: ${name}.module is only for ${name}.kind = "custom"`,
    );
  }
  if (custom) {
    if (typeof v.module !== "string" || !/^file:\/\/.+#[A-Za-z_$][\w$]*$/.test(v.module)) {
      throw new ConfigError(`${name}.module`, v.module, '"file:///path/module.ts#exportName"');
    }
    if (typeof v.moduleSha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.moduleSha256)) {
      throw new ConfigError(
        `${name}.moduleSha256`,
        v.moduleSha256,
        "the module's SHA-256 (64 hex digits)",
      );
    }
  } else if (v.moduleSha256 !== undefined) {
    throw new ConfigError(
      `${name}.moduleSha256`,
      v.moduleSha256,
      `no value: it is only for ${name}.kind = "custom"`,
    );
  }
}

function validateSpeech(d: SpeechSourceConfig): void {
  int("data.sampleRate", d.sampleRate, 1000, 192000);
  int("data.segmentSamples", d.segmentSamples, 1, 1 << 22);
  oneOf("data.normalisation", d.normalisation, ["utterance-rms", "utterance-peak", "none"]);
  num("data.targetDb", d.targetDb, -200, 0);
  if (typeof d.heldOutSpeaker !== "string" || !d.heldOutSpeaker.startsWith("asterisk:")) {
    throw new ConfigError(
      "data.heldOutSpeaker",
      d.heldOutSpeaker,
      'an Asterisk speaker id ("asterisk:…")',
    );
  }
  int("data.validationSegments", d.validationSegments, 1, 1 << 16);
  int("data.seed", d.seed, 0, 2 ** 32 - 1);
  int("data.validationSamples", d.validationSamples, 1, 1 << 24);
  int("data.validationBatch", d.validationBatch, 1, 1 << 16);
  num("data.waveformWeight", d.waveformWeight, 0, 1e6);
  num("data.spectralWeight", d.spectralWeight, 0, 1e6);
  if (
    !Array.isArray(d.spectralWindows) ||
    !d.spectralWindows.every((w) => Number.isInteger(w) && w >= 4 && w <= d.segmentSamples)
  ) {
    throw new ConfigError(
      "data.spectralWindows",
      d.spectralWindows,
      `a list of integer window lengths in [4, data.segmentSamples = ${d.segmentSamples}]`,
    );
  }
  num("data.melWeight", d.melWeight, 0, 1e6);
  if (d.siSdrWeight !== undefined) num("data.siSdrWeight", d.siSdrWeight, 0, 1e6);
  if (d.waveformWeight + d.spectralWeight + d.melWeight <= 0) {
    throw new ConfigError(
      "data.waveformWeight",
      d.waveformWeight,
      "a loss: at least one of data.waveformWeight, spectralWeight, melWeight > 0",
    );
  }
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
