/**
 * The run configuration: one plain typed object with documented defaults, validated once at
 * the edge. Every modelling decision the papers leave open is a field and is labelled [choice]
 * in its doc comment; the rest is [paper A].
 *
 * Each kind owns its config: its interface, defaults and validation sit beside its
 * implementation and are registered in its folder's `mod.ts` ({@linkcode SOURCES},
 * {@linkcode CODECS}, {@linkcode QUANTIZERS}, {@linkcode PASSERS}, one shape:
 * `kind → {defaults, validate, build}`). This module keeps what spans sections: the
 * {@linkcode RunConfig}, the training section, the defaults that depend on another section, the
 * checks across sections, and {@linkcode resolveConfig}, which walks the registries. The kinds'
 * configs are re-exported here, so `import { type RvqConfig } from "./config.ts"` keeps working.
 *
 * @module
 */
import { type CodecConfig, CODECS, latentDim } from "./codecs/mod.ts";
import { convHopSamples } from "./codecs/conv.ts";
import { checkInt, checkNumber, ConfigError, type Kind, oneOfText } from "./kinds.ts";
import { type PasserConfig, PASSERS } from "./passers.ts";
import { type QuantizerConfig, QUANTIZERS, validateQuantizer } from "./quantizers/mod.ts";
import { type DataConfig, SOURCES } from "./sources/mod.ts";

export { ConfigError, describeValue, MAX_SHOWN } from "./kinds.ts";
export type { CodecConfig, ConvCodecConfig, MlpCodecConfig } from "./codecs/mod.ts";
export { latentDim } from "./codecs/mod.ts";
export type { DataConfig, SimulatedDataConfig, SpeechSourceConfig } from "./sources/mod.ts";
export { SPEECH_SOURCE_DEFAULTS } from "./sources/mod.ts";
export type {
  CodebookInit,
  CodebookLearning,
  CustomQuantizerConfig,
  FsqConfig,
  NoneQuantizerConfig,
  QuantizerConfig,
  RvqConfig,
  VqConfig,
} from "./quantizers/mod.ts";
export { quantizerBits } from "./quantizers/mod.ts";
export { BUILTIN_PASSER_KINDS, PASSER_KINDS } from "./passers.ts";
export type { PasserConfig, PasserKind } from "./passers.ts";

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

/**
 * Defaults of the paper-A proxy (method §4, "a small configuration"): each section is the
 * default kind's defaults (the first kind of its registry), the training section is here.
 */
export const DEFAULTS: RunConfig = {
  data: SOURCES.simulated.defaults,
  codec: CODECS.mlp.defaults,
  quantizer: QUANTIZERS.vq.defaults,
  passer: PASSERS.ste.defaults,
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
 * Training defaults that differ for `data.kind = "speech"` [choice]: batches of 8 segments,
 * 10 epochs of 100 steps (1000 steps). The rest are the proxy's (Adam 1e-3, no commitment loss).
 */
export const SPEECH_TRAIN_DEFAULTS: Partial<TrainConfig> = {
  batchSize: 8,
  epochs: 10,
  stepsPerEpoch: 100,
};

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
        oneOfText(Object.keys(DEFAULTS)),
      );
    }
  }
  const cfg = {
    data: fill("data", SOURCES, input.data),
    // A speech source defaults to the conv codec (the only codec for audio).
    codec: fill("codec", CODECS, input.codec, {
      defaultKind: input.codec?.kind === undefined && input.data?.kind === "speech"
        ? "conv"
        : undefined,
    }),
    quantizer: fill("quantizer", QUANTIZERS, input.quantizer, { othersOptional: true }),
    passer: fill("passer", PASSERS, input.passer, { othersOptional: true }),
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

/** A registry as `resolveConfig` walks it: kinds in order, the first is the default. */
type Registry = Record<string, Kind<object, unknown, never>>;

/**
 * Fill one section from its registry: the defaults of the kind it names (else `defaultKind`,
 * else the registry's first kind), overridden by the input's fields. An unknown kind is
 * rejected naming `<name>.kind`; an unknown field naming it, with every field allowed. Allowed
 * are the kind's defaults and its `optional` fields; with `othersOptional` also every other
 * kind's optional fields, which the section's validation then refuses naming the kind they are
 * for (quantizers and passers: "no lookup: it is for quantizer.kind = rvq").
 */
function fill(
  name: string,
  registry: Registry,
  over: { kind?: unknown } | undefined,
  options: { defaultKind?: string; othersOptional?: boolean } = {},
): object {
  const kinds = Object.keys(registry);
  if (typeof over === "string") {
    // `passer: "mste"`: say the shape a section takes.
    throw new ConfigError(
      name,
      over,
      `an object such as { kind: ${JSON.stringify(over)} } (${name}.kind: ${oneOfText(kinds)})`,
    );
  }
  const named = over !== null && typeof over === "object" && over.kind !== undefined;
  const kind = named ? over.kind : options.defaultKind ?? kinds[0];
  if (typeof kind !== "string" || !Object.hasOwn(registry, kind)) {
    throw new ConfigError(`${name}.kind`, kind, oneOfText(kinds));
  }
  const optional = options.othersOptional
    ? [...new Set(kinds.flatMap((k) => registry[k].optional ?? []))]
    : [...registry[kind].optional ?? []];
  return merge(name, registry[kind].defaults, over, optional);
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
        `a field of ${name}: ${oneOfText([...Object.keys(base), ...optional])}`,
      );
    }
  }
  return { ...structuredClone(base), ...structuredClone(over) } as T;
}

/** Each section by its kind's validation, then the checks across sections, then training. */
function validate(c: RunConfig): void {
  (SOURCES[c.data.kind] as Kind<DataConfig, unknown>).validate(c.data);
  (CODECS[c.codec.kind] as Kind<CodecConfig, unknown>).validate(c.codec);
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
  validateQuantizer(q, { latentDim: latentDim(c.codec) });

  PASSERS[c.passer.kind].validate(c.passer);
  for (const kind of ["soft-to-hard", "gumbel"]) {
    if (c.passer.kind === kind && q.kind !== "vq" && q.kind !== "rvq") {
      throw new ConfigError(
        "passer.kind",
        c.passer.kind,
        `a passer other than "${kind}" for quantizer.kind = "${q.kind}" (${kind} needs VQ or RVQ codebooks)`,
      );
    }
  }
  if (
    c.passer.sync && !((q.kind === "vq" || q.kind === "rvq") && q.learning === "loss")
  ) {
    throw new ConfigError(
      "passer.sync",
      c.passer.sync,
      `0 or absent: the synchronized update moves codewords by gradient, which needs quantizer.kind "vq" or "rvq" with learning = "loss" (here kind "${q.kind}")`,
    );
  }
  validateTrain(c.train);
}

function validateTrain(t: TrainConfig): void {
  checkInt("train.epochs", t.epochs, 1, 1e6);
  checkInt("train.stepsPerEpoch", t.stepsPerEpoch, 1, 1e7);
  checkInt("train.batchSize", t.batchSize, 1, 1 << 20);
  checkNumber("train.learningRate", t.learningRate, 0, 10, true);
  checkNumber("train.beta1", t.beta1, 0, 1);
  checkNumber("train.beta2", t.beta2, 0, 1);
  checkNumber("train.epsilon", t.epsilon, 0, 1, true);
  checkNumber("train.commitment", t.commitment, 0, 1e6);
  checkNumber("train.codebookWeight", t.codebookWeight, 0, 1e6);
  checkNumber("train.divergenceThreshold", t.divergenceThreshold, 0, Number.MAX_VALUE, true);
  checkInt("train.seed", t.seed, 0, 2 ** 32 - 1);
  if (t.traceEvery !== undefined) checkInt("train.traceEvery", t.traceEvery, 0, 1e7);
  if (t.learningRateEnd !== undefined) {
    checkNumber("train.learningRateEnd", t.learningRateEnd, 0, t.learningRate, true);
  }
  if (t.gradClip !== undefined) checkNumber("train.gradClip", t.gradClip, 0, 1e12, true);
}
