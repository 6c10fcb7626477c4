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
  }
}
