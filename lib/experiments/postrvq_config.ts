/**
 * The recipe and identities of every PostRVQ system (notebooks 08 and 09, pipeline in
 * `postrvq_pipeline.ts`): which offline family is PostRVQ, the comparison rung, the held-out
 * windows' share of active speech, the finetuning learning rate, the configs of the continuous
 * model and of the end-to-end baseline, the result version and the artefact keys.
 *
 * @module
 */
import { resolveConfig, type RunConfig } from "../config.ts";
import { keyGemm } from "../grid/key.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
import { LADDER, type OfflineFamily, type Rung } from "../quantizers/offline/mod.ts";
import { sha256Bytes } from "../store/artifacts.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { baseModelInput } from "./base_model.ts";
import type { PostRvqProfile } from "./profiles.ts";

/** Which offline family is "PostRVQ" in notebook 08. [choice: paper B's RVQ with its standardization step] */
export const POSTRVQ_FAMILY: OfflineFamily = "rvq-stage";
/** The rung of the finetuning and the end-to-end comparison: the second (paper B's 16 kbps). [paper B] */
export const COMPARISON_RUNG: Rung = LADDER[1];
/** Share of active 20 ms frames each held-out window must have. [choice] */
export const MIN_ACTIVE = 0.8;
/** Learning rate of finetuning and of the end-to-end baseline, decaying to the base recipe's last rate. [choice] */
export const FINETUNE_LEARNING_RATE = { start: 1e-4, end: 5e-5 } as const;
/**
 * Version of the PostRVQ evaluations in the result store; bump when a change moves their numbers.
 * 2: on the base model, held-out windows of active speech, evaluated by `Session.evaluate`.
 */
export const POSTRVQ_RESULT_VERSION = `${QUANTLAB_VERSION}+postrvq.2`;

/**
 * The config of every PostRVQ system: the base model's recipe (codec, loss, optimizer kind) with
 * the profile's held-out set of active speech and its finetuning budget and learning rate.
 */
export function continuousConfig(p: PostRvqProfile, seed = 0): RunConfig {
  const base = baseModelInput();
  return resolveConfig({
    ...base,
    data: {
      ...base.data,
      validationSegments: p.validationSegments,
      validationSamples: p.validationSamples,
      validationMinActive: MIN_ACTIVE,
    },
    train: {
      ...base.train,
      epochs: 1,
      stepsPerEpoch: p.finetuneSteps,
      batchSize: p.batchSize,
      learningRate: FINETUNE_LEARNING_RATE.start,
      learningRateEnd: FINETUNE_LEARNING_RATE.end,
      seed,
    },
  });
}

/**
 * The end-to-end baseline at {@linkcode COMPARISON_RUNG}: DAC-style RVQ of 8-bit stages, codebook
 * loss (weight 1) and commitment loss (β = 0.25), k-means initialisation, quantizer dropout 0.5,
 * straight-through gradient, started from the base model's weights (module doc). [paper B's
 * baseline; DAC's recipe; k-means init and the start from the base model are our choices]
 */
export function endToEndConfig(p: PostRvqProfile, seed = 0): RunConfig {
  const c = continuousConfig(p, seed);
  return resolveConfig({
    ...c,
    quantizer: {
      kind: "rvq",
      stages: COMPARISON_RUNG.stages,
      bitsPerStage: 8,
      learning: "loss",
      init: "kmeans",
      dropout: 0.5,
    },
    passer: { kind: "ste" },
    train: { ...c.train, commitment: 0.25, codebookWeight: 1 },
  });
}

/**
 * The artefact key of `what` made from `value`: a hash of both, the quantlab version and the
 * GEMM when it is not the reference one (as result keys, `lib/grid/key.ts`), so an artefact
 * trained under another OpenBLAS kernel is never read back as the reference's.
 */
export function keyOf(what: string, value: unknown, gemm: string = expectedGemmIdentity()): string {
  const text = JSON.stringify({ what, value, version: QUANTLAB_VERSION, gemm: keyGemm(gemm) });
  return `postrvq-${what}-${sha256Bytes(new TextEncoder().encode(text)).slice(0, 16)}`;
}
