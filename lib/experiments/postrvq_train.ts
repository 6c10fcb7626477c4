/**
 * The trained PostRVQ systems: decoder finetuning on an offline quantizer's values [paper B] and
 * the end-to-end RVQ baseline, both trained by `train()` from the base model's weights; each run
 * goes to the result store, its listening clips to the artefact store (`postrvq_context.ts`).
 *
 * @module
 */
import type { SegmentScores } from "../audio/score.ts";
import type { RunConfig } from "../config.ts";
import { offlineAsQuantizer, type OfflineQuantizer } from "../quantizers/offline/mod.ts";
import type { RunResult } from "../result.ts";
import { restoreCheckpoint } from "../store/checkpoint.ts";
import { buildParts, train } from "../train.ts";
import { COMPARISON_RUNG, endToEndConfig, keyOf } from "./postrvq_config.ts";
import {
  decodeListening,
  JOB,
  type PipelineContext,
  putResult,
  recomputing,
  storeKey,
  type SystemResult,
} from "./postrvq_context.ts";
import { stageUsage } from "./postrvq_pipeline.ts";

/** A trained system: its evaluation and training record. */
export interface TrainedSystem extends SystemResult {
  /** Training wall time, ms (when it was computed). */
  trainMs: number;
  /** The run's record (training loss per step, the epoch's evaluation). */
  run: RunResult;
}

/**
 * Train from the base model's weights through `train()` (the evaluation at the end of its epoch is
 * the system's), store the run in the result store and its clips in the artefact store.
 */
async function trainedSystem(
  ctx: PipelineContext,
  label: string,
  job: string,
  config: RunConfig,
  given: { quantizer?: ReturnType<typeof offlineAsQuantizer> },
  trainable: "all" | "decoder",
  usageOf: (metrics: Record<string, number>) => SystemResult["usage"],
  bps: number,
): Promise<TrainedSystem> {
  const key = storeKey({ ...ctx, config }, job);
  const clipsKey = keyOf("clips", { job, config, listen: ctx.listen });
  let run: RunResult | null = null, clips: Float32Array[] | null = null, computed = false;
  if (!recomputing()) {
    run = (await ctx.results.get<RunResult>(key))?.result ?? null;
    const a = run ? await ctx.artifacts.getKeyed(clipsKey) : null;
    clips = a ? ctx.listen.map((_, i) => a.tensors[`clip.${i}`].data as Float32Array) : null;
  }
  if (!run || !clips) {
    // A fresh codec with the base model's weights (it has no quantizer variables); the quantizer
    // is the one given (already fitted) or built by train() from the config, whose k-means
    // initialisation then runs on the base encoder's latents.
    const { codec } = buildParts(config, {
      source: ctx.source,
      quantizer: ctx.base.parts.quantizer,
    });
    restoreCheckpoint(ctx.baseArtifact, { codec, quantizer: ctx.base.parts.quantizer });
    const parts = { source: ctx.source, codec, ...given };
    const total = config.train.epochs * config.train.stepsPerEpoch;
    const every = Math.max(1, Math.floor(total / 5));
    let decoded: Float32Array[] = [];
    run = await train(config, {
      parts,
      trainable,
      onStep: (step, loss) => {
        if (step % every === 0) ctx.log(`${label}: step ${step}/${total}, loss ${loss.toFixed(4)}`);
      },
      onFinished: (session) => {
        decoded = decodeListening(ctx, session);
      },
    });
    if (run.diverged || !run.final?.segments) {
      throw new Error(`PostRVQ: ${label} diverged: ${JSON.stringify(run.diverged)}`);
    }
    clips = decoded;
    await putResult({ ...ctx, config }, job, run);
    await ctx.artifacts.putKeyed(clipsKey, {
      meta: { job },
      tensors: Object.fromEntries(
        clips.map((c, i) => [`clip.${i}`, { shape: [c.length], data: c }]),
      ),
    });
    computed = true;
  }
  const metrics = run.final!.metrics ?? {};
  return {
    label,
    role: "ours",
    bps,
    scores: run.final!.segments as unknown as SegmentScores,
    latentMse: metrics.latentMse ?? 0,
    usage: usageOf(metrics),
    clips,
    computed,
    trainMs: run.wallMs,
    run,
  };
}

/**
 * Finetune the base model's decoder on `quantizer`'s values for `p.finetuneSteps` steps (encoder
 * and quantizer frozen, same loss) [paper B], evaluated at the end.
 */
export function finetunedSystem(
  ctx: PipelineContext,
  label: string,
  quantizer: { q: OfflineQuantizer; key: string },
): Promise<TrainedSystem> {
  const q = quantizer.q;
  return trainedSystem(
    ctx,
    label,
    `${JOB}#finetune/${ctx.baseId}/${quantizer.key}`,
    ctx.config,
    { quantizer: offlineAsQuantizer(q) },
    "decoder",
    (m) => stageUsage(m, q.codeStage, q.codeBits),
    q.bitsPerFrame * ctx.frameRate,
  );
}

/** The end-to-end baseline ({@linkcode endToEndConfig}), evaluated at the end. */
export function endToEndSystem(ctx: PipelineContext, label: string): Promise<TrainedSystem> {
  const config = endToEndConfig(ctx.profile, ctx.seed);
  const stages = COMPARISON_RUNG.stages;
  return trainedSystem(
    ctx,
    label,
    `${JOB}#end-to-end/${ctx.baseId}`,
    config,
    {},
    "all",
    (m) =>
      stageUsage(
        m,
        Array.from({ length: stages }, (_, s) => s),
        Array.from({ length: stages }, () => 8),
      ),
    COMPARISON_RUNG.bitsPerFrame * ctx.frameRate,
  );
}
