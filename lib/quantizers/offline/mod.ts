/**
 * Offline quantizers for post-training quantization (paper B, method §7), behind one contract
 * ({@linkcode OfflineQuantizer}): fitted on a fixed set of latents, then `encode` → integer codes
 * and `decode` → latents, `bitsPerFrame`, and a state that round-trips through the artefact
 * store. Kinds: k-means RVQ with the standardization variants (`rvq.ts`), FSQ, residual FSQ and
 * LFQ on a PCA projection, and bounded scalar quantization per dimension (`scalar.ts`). The
 * bitrate ladder that matches them is in `ladder.ts`.
 *
 * @example
 * ```ts
 * import { initBackend } from "../../backend.ts";
 * import { Rng } from "../../random.ts";
 * import { fitOfflineQuantizer } from "./mod.ts";
 * await initBackend();
 * const latents = { data: new Rng(1).normals(1000 * 8), count: 1000, dim: 8 };
 * const q = fitOfflineQuantizer(
 *   { kind: "rvq", stages: 2, bitsPerStage: 4, standardize: "stage", iterations: 10, tolerance: 1e-4 },
 *   latents,
 *   new Rng(2),
 * );
 * const codes = q.encode(latents);
 * console.log(q.bitsPerFrame, q.decode(codes, latents.count).length);
 * ```
 *
 * @module
 */
import type { Rng } from "../../random.ts";
import type { Artifact } from "../../store/artifacts.ts";
import { fitOfflineRvq, OfflineRvq } from "./rvq.ts";
import { fitBoundedScalar, fitProjectedScalar, OfflineScalar } from "./scalar.ts";
import type { Latents, OfflineQuantizer, OfflineQuantizerConfig } from "./types.ts";

export * from "./types.ts";
export { OfflineRvq } from "./rvq.ts";
export { clipHalfWidth, OfflineScalar, principalComponents } from "./scalar.ts";
export * from "./ladder.ts";
export { offlineAsQuantizer } from "./adapter.ts";

/** Fit the quantizer `config` describes on `latents` (k-means kinds draw from `rng`). */
export function fitOfflineQuantizer(
  config: OfflineQuantizerConfig,
  latents: Latents,
  rng: Rng,
): OfflineQuantizer {
  validateOfflineConfig(config, latents.dim);
  switch (config.kind) {
    case "rvq":
      return fitOfflineRvq(config, latents, rng);
    case "fsq":
    case "rfsq":
    case "lfq":
      return fitProjectedScalar(config, latents);
    case "scalar":
      return fitBoundedScalar(config, latents);
  }
}

/** Restore a quantizer from its {@linkcode OfflineQuantizer.toArtifact}. */
export function offlineQuantizerFromArtifact(artifact: Artifact): OfflineQuantizer {
  const meta = artifact.meta as { kind?: string; config?: OfflineQuantizerConfig; dim?: number };
  if (meta?.kind !== "offline-quantizer" || !meta.config || typeof meta.dim !== "number") {
    throw new Error(
      `offlineQuantizerFromArtifact: meta.kind = ${
        JSON.stringify(meta?.kind)
      }, expected "offline-quantizer" with config and dim`,
    );
  }
  return meta.config.kind === "rvq"
    ? OfflineRvq.fromArtifact(meta.config, meta.dim, artifact)
    : OfflineScalar.fromArtifact(meta.config, meta.dim, artifact);
}

/** Throw naming the bad field of an offline quantizer config. */
export function validateOfflineConfig(config: OfflineQuantizerConfig, dim: number): void {
  const int = (field: string, v: unknown, lo: number, hi: number) => {
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) {
      throw new Error(
        `offline quantizer ${config.kind}: ${field} = ${
          JSON.stringify(v)
        }, expected an integer in [${lo}, ${hi}]`,
      );
    }
  };
  switch (config.kind) {
    case "rvq":
      int("stages", config.stages, 1, 64);
      int("bitsPerStage", config.bitsPerStage, 1, 12);
      int("iterations", config.iterations, 1, 1000);
      if (!["none", "stage", "global", "scalar"].includes(config.standardize)) {
        throw new Error(
          `offline quantizer rvq: standardize = ${
            JSON.stringify(config.standardize)
          }, expected none, stage, global or scalar`,
        );
      }
      break;
    case "fsq":
    case "rfsq":
    case "lfq":
      int("stages", config.stages, 1, 64);
      int("dimsPerStage", config.dimsPerStage, 1, dim);
      if (
        config.kind !== "lfq" &&
        !(Number.isInteger(Math.log2(config.levels)) && config.levels >= 2 && config.levels <= 256)
      ) {
        throw new Error(
          `offline quantizer ${config.kind}: levels = ${config.levels}, expected a power of two in [2, 256]`,
        );
      }
      if (config.kind === "fsq" && config.stages !== 1) {
        throw new Error(
          `offline quantizer fsq: stages = ${config.stages}, expected 1 (use rfsq for residual stages)`,
        );
      }
      break;
    case "scalar":
      int("maxBitsPerDim", config.maxBitsPerDim, 1, 8);
      int("bits", config.bits, 1, dim * config.maxBitsPerDim);
      break;
    default:
      throw new Error(
        `offline quantizer: kind = ${
          JSON.stringify((config as { kind: unknown }).kind)
        }, expected rvq, fsq, rfsq, lfq or scalar`,
      );
  }
}
