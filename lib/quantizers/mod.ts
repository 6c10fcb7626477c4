/**
 * The quantizer zoo: VQ, residual VQ, FSQ, all behind {@linkcode Quantizer}.
 *
 * @module
 */
import type { QuantizerConfig } from "../config.ts";
import type { Rng } from "../random.ts";
import { finiteScalarQuantizer } from "./fsq.ts";
import { identityQuantizer } from "./identity.ts";
import { residualVq } from "./rvq.ts";
import { DEFAULT_LOSS_WEIGHTS, type LossWeights, type Quantizer } from "./types.ts";
import { vectorQuantizer } from "./vq.ts";

export type { HardQuantization, LossWeights, Quantizer, QuantizerInitialization } from "./types.ts";
export { DEFAULT_LOSS_WEIGHTS } from "./types.ts";
export { Codebook, commitmentLoss } from "./codebook.ts";
export { finiteScalarQuantizer, identityQuantizer, residualVq, vectorQuantizer };

/**
 * What a researcher's quantizer module provides (see `lib/battery/candidate.ts`): build a
 * {@linkcode Quantizer} spending `bits` per frame on frames of `dim` dimensions.
 */
export type QuantizerBuilder = (
  bits: number,
  dim: number,
  rng: Rng,
  weights: LossWeights,
) => Quantizer;

/**
 * Quantizers of kind "custom", by module reference (`file:///…#export`). The battery's job
 * (`lib/battery/job.ts`) loads and checks a user's module, then registers it here before
 * training; {@linkcode buildQuantizer} refuses a custom quantizer nobody registered.
 */
const customQuantizers = new Map<string, QuantizerBuilder>();

/** Make a user's quantizer available to {@linkcode buildQuantizer} under its module reference. */
export function registerCustomQuantizer(module: string, build: QuantizerBuilder): void {
  customQuantizers.set(module, build);
}

/**
 * Build the quantizer a config names, for latent frames of `dim` dimensions, with the weights
 * of its auxiliary losses (a run takes them from `train.commitment` and `train.codebookWeight`).
 */
export function buildQuantizer(
  config: QuantizerConfig,
  dim: number,
  rng: Rng,
  weights: LossWeights = DEFAULT_LOSS_WEIGHTS,
): Quantizer {
  switch (config.kind) {
    case "vq":
      return vectorQuantizer(config, dim, rng, weights);
    case "rvq":
      return residualVq(config, dim, rng, weights);
    case "fsq":
      return finiteScalarQuantizer(config, weights);
    case "none":
      return identityQuantizer(dim);
    case "custom": {
      const build = customQuantizers.get(config.module);
      if (!build) {
        throw new Error(
          `quantizer.kind = "custom": ${config.module} is not loaded in this process; ` +
            "run it through the battery (lib/battery/job.ts#batteryJob loads it)",
        );
      }
      return build(config.bits, dim, rng, weights);
    }
  }
}
