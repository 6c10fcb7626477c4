/**
 * The quantizer zoo: VQ, residual VQ, FSQ, all behind {@linkcode Quantizer}.
 *
 * @module
 */
import type { QuantizerConfig } from "../config.ts";
import type { Rng } from "../random.ts";
import { finiteScalarQuantizer } from "./fsq.ts";
import { residualVq } from "./rvq.ts";
import type { Quantizer } from "./types.ts";
import { vectorQuantizer } from "./vq.ts";

export type { HardQuantization, Quantizer } from "./types.ts";
export { Codebook } from "./codebook.ts";
export { finiteScalarQuantizer, residualVq, vectorQuantizer };

/** Build the quantizer a config names, for latent frames of `dim` dimensions. */
export function buildQuantizer(config: QuantizerConfig, dim: number, rng: Rng): Quantizer {
  switch (config.kind) {
    case "vq":
      return vectorQuantizer(config, dim, rng);
    case "rvq":
      return residualVq(config, dim, rng);
    case "fsq":
      return finiteScalarQuantizer(config);
  }
}
