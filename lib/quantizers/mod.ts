/**
 * The quantizer zoo: VQ, residual VQ, FSQ, the identity and a researcher's own, all behind
 * {@linkcode Quantizer} (the contract is `types.ts`). Each kind owns its config, defaults and
 * validation beside its implementation; {@linkcode QUANTIZERS} is the registry `resolveConfig`
 * and `buildQuantizer` walk. A new kind adds its config to {@linkcode QuantizerConfig} and an
 * entry to {@linkcode QUANTIZERS}.
 *
 * @module
 */
import { checkModuleFields, ConfigError, type Kind } from "../kinds.ts";
import type { Rng } from "../random.ts";
import {
  CUSTOM_QUANTIZER_DEFAULTS,
  type CustomQuantizerConfig,
  validateCustomQuantizer,
} from "./custom.ts";
import { finiteScalarQuantizer, FSQ_DEFAULTS, type FsqConfig, validateFsq } from "./fsq.ts";
import {
  identityQuantizer,
  NONE_QUANTIZER_DEFAULTS,
  type NoneQuantizerConfig,
} from "./identity.ts";
import { residualVq, RVQ_DEFAULTS, type RvqConfig, validateRvq } from "./rvq.ts";
import { DEFAULT_LOSS_WEIGHTS, type LossWeights, type Quantizer } from "./types.ts";
import { validateVq, vectorQuantizer, VQ_DEFAULTS, type VqConfig } from "./vq.ts";

export type { HardQuantization, LossWeights, Quantizer, QuantizerInitialization } from "./types.ts";
export { DEFAULT_LOSS_WEIGHTS } from "./types.ts";
export { Codebook, type CodebookInit, type CodebookLearning, commitmentLoss } from "./codebook.ts";
export { finiteScalarQuantizer, identityQuantizer, residualVq, vectorQuantizer };
export { CUSTOM_QUANTIZER_DEFAULTS, type CustomQuantizerConfig } from "./custom.ts";
export { FSQ_DEFAULTS, type FsqConfig } from "./fsq.ts";
export { NONE_QUANTIZER_DEFAULTS, type NoneQuantizerConfig } from "./identity.ts";
export { RVQ_DEFAULTS, type RvqConfig } from "./rvq.ts";
export { VQ_DEFAULTS, type VqConfig } from "./vq.ts";
export { codebookReparam, type CodebookReparamKind, REPARAM_KINDS } from "./reparam.ts";

/** The quantizer, by `kind`. */
export type QuantizerConfig =
  | VqConfig
  | RvqConfig
  | FsqConfig
  | NoneQuantizerConfig
  | CustomQuantizerConfig;

/**
 * What a researcher's quantizer module provides (see `lib/custom/candidate.ts`): build a
 * {@linkcode Quantizer} spending `bits` per frame on frames of `dim` dimensions.
 */
export type QuantizerBuilder = (
  bits: number,
  dim: number,
  rng: Rng,
  weights: LossWeights,
) => Quantizer;

/**
 * Builds the quantizer a config of one kind names, for frames of `dim`, with its loss weights;
 * `custom` holds the custom quantizers loaded for the run (`lib/custom/mod.ts`), by module
 * reference, which only kind "custom" reads.
 */
export type QuantizerKindBuilder<C> = (
  config: C,
  dim: number,
  rng: Rng,
  weights: LossWeights,
  custom: ReadonlyMap<string, QuantizerBuilder>,
) => Quantizer;

/** What a quantizer's validation needs from the rest of the run: the codec's latent size. */
export interface QuantizerContext {
  latentDim: number;
}

/** A quantizer kind's registry entry: {@linkcode Kind} plus the bits its config spends per frame. */
export interface QuantizerKind<C> extends Kind<C, QuantizerKindBuilder<C>, QuantizerContext> {
  /** Bits B_q spent per latent frame. */
  bits(config: C): number;
}

/** The registry of quantizer kinds: defaults, validation, builder and bits per `quantizer.kind`. */
export const QUANTIZERS: {
  [K in QuantizerConfig["kind"]]: QuantizerKind<Extract<QuantizerConfig, { kind: K }>>;
} = {
  vq: {
    defaults: VQ_DEFAULTS,
    optional: ["reparam", "reparamLrScale", "deadCodeEvery", "deadCodeThreshold"],
    validate: validateVq,
    build: (config, dim, rng, weights) => vectorQuantizer(config, dim, rng, weights),
    bits: (q) => q.bits,
  },
  rvq: {
    defaults: RVQ_DEFAULTS,
    optional: [
      "lookup",
      "dropout",
      "reparam",
      "reparamLrScale",
      "deadCodeEvery",
      "deadCodeThreshold",
    ],
    validate: validateRvq,
    build: (config, dim, rng, weights) => residualVq(config, dim, rng, weights),
    bits: (q) => q.stages * q.bitsPerStage,
  },
  fsq: {
    defaults: FSQ_DEFAULTS,
    validate: validateFsq,
    build: (config, _dim, _rng, weights) => finiteScalarQuantizer(config, weights),
    bits: (q) => q.levels.reduce((s, l) => s + Math.log2(l), 0),
  },
  none: {
    defaults: NONE_QUANTIZER_DEFAULTS,
    validate: () => {},
    build: (_config, dim) => identityQuantizer(dim),
    bits: () => 0,
  },
  custom: {
    defaults: CUSTOM_QUANTIZER_DEFAULTS,
    optional: ["module", "moduleSha256"],
    validate: validateCustomQuantizer,
    build: (config, dim, rng, weights, custom) => {
      const build = custom.get(config.module);
      if (!build) {
        throw new Error(
          `quantizer.kind = "custom": ${config.module} is not among the custom kinds given; ` +
            "load it with loadCustomKinds (lib/custom/mod.ts) and pass it to train(config, { custom })",
        );
      }
      return build(config.bits, dim, rng, weights);
    },
    bits: (q) => q.bits,
  },
};

/** The registry entry of a config's kind (the kind must be registered: the config is resolved). */
function kindOf(q: QuantizerConfig): QuantizerKind<QuantizerConfig> {
  return QUANTIZERS[q.kind] as QuantizerKind<QuantizerConfig>;
}

/** Bits B_q a quantizer spends per latent frame. */
export function quantizerBits(q: QuantizerConfig): number {
  return kindOf(q).bits(q);
}

/**
 * Validate a filled quantizer section: fields that belong to another kind (`module`, `lookup`,
 * `dropout`) are refused naming the kind they are for, then the kind validates its own.
 */
export function validateQuantizer(q: QuantizerConfig, context: QuantizerContext): void {
  if (q.kind !== "custom") checkModuleFields("quantizer", q as { kind: string }, false);
  if (q.kind !== "rvq" && "lookup" in q) {
    throw new ConfigError(
      "quantizer.lookup",
      (q as { lookup: unknown }).lookup,
      'no lookup: it is for quantizer.kind = "rvq"',
    );
  }
  kindOf(q).validate(q, context);
  for (const field of ["reparam", "reparamLrScale"]) {
    if (q.kind !== "vq" && q.kind !== "rvq" && field in q) {
      throw new ConfigError(
        `quantizer.${field}`,
        (q as unknown as Record<string, unknown>)[field],
        `no ${field}: it is for quantizer.kind = "vq" or "rvq"`,
      );
    }
  }
  if (q.kind !== "rvq" && "dropout" in q) {
    throw new ConfigError(
      "quantizer.dropout",
      (q as { dropout: unknown }).dropout,
      'no dropout: it is for quantizer.kind = "rvq"',
    );
  }
}

/**
 * Build the quantizer a config names, for latent frames of `dim` dimensions, with the weights
 * of its auxiliary losses (a run takes them from `train.commitment` and `train.codebookWeight`).
 * Kind "custom" is looked up in `custom` by its module reference.
 */
export function buildQuantizer(
  config: QuantizerConfig,
  dim: number,
  rng: Rng,
  weights: LossWeights = DEFAULT_LOSS_WEIGHTS,
  custom: ReadonlyMap<string, QuantizerBuilder> = new Map(),
): Quantizer {
  return kindOf(config).build(config, dim, rng, weights, custom);
}
