/**
 * The PostRVQ pipeline shared by notebooks 08 (`postrvq.ts`) and 09 (`fixed_latent.ts`):
 * paper B's post-training quantization on the **base continuous speech model**
 * (`base_model.ts`, committed under `data/base/`: a codec that codes speech, held-out SI-SDR
 * ≈ 8 dB), with real codecs as anchors (`lib/audio/anchors.ts`).
 *
 * 1. The **continuous model** is the base model itself [paper B trains the continuous
 *    autoencoder first]; its latents of `fitFrames` training-split frames (batches no training
 *    step used) are the latent data set, cached in the artefact store.
 * 2. **Offline quantizers** are fitted on those latents (`lib/quantizers/offline/`), one per family
 *    and ladder rung; the RVQs of a family are prefixes of one fit of the top rung's 8 stages
 *    (stage k depends only on stages < k and on the k-th draw of the fit's seed).
 * 3. **Decoder finetuning** at the second rung [paper B]: `train()` with `trainable: "decoder"` from
 *    the base model's weights, the offline quantizer as a part (`offlineAsQuantizer`).
 * 4. The **end-to-end baseline**: the base model's weights with DAC-style RVQ at the second rung
 *    inserted (k-means initialised on its latents), everything trained by `train()` with the same
 *    loss, optimizer and step budget as the finetuning [choice: paper B trains its end-to-end codec
 *    from scratch; retraining the base recipe (51 min of one core) per notebook is beyond the
 *    budget, so this answers "the same working codec, trained with its quantizer for as long as
 *    PostRVQ's decoder is finetuned"].
 *
 * Evaluation is the trainer's: every system is a `Session` (`createSession`) whose `evaluate()`
 * scores each held-out segment (SI-SDR, mel L1, F0 and voicing agreement, level:
 * `lib/audio/score.ts`), the same scorecard as the anchors. Results go to the result store
 * (`ResultStore`, `$QUANTLAB_CACHE` or `.cache/results`; job `postrvq_pipeline.ts#…/<system>`,
 * version `POSTRVQ_RESULT_VERSION`), listening clips and checkpoints to the artefact
 * store; `QUANTLAB_RECOMPUTE=1` recomputes both.
 *
 * The held-out set: windows of 2.05 s with ≥ `MIN_ACTIVE` active speech from every
 * validation speaker that has them (`data.validationMinActive`, `lib/audio/segments.ts`) [choice];
 * the listening clips are some of them, one speaker after another (`listeningPicks`).
 *
 * The parts: the recipe (constants, configs, keys) is `postrvq_config.ts`; the context every
 * system shares and how results are stored, `postrvq_context.ts`; steps 1 and 2 and the
 * evaluation of the base model and of offline quantizers without training, this module; steps 3
 * and 4, `postrvq_train.ts`.
 *
 * @module
 */
import type { SegmentScores } from "../audio/score.ts";
import { tf } from "../backend.ts";
import { foldFrames } from "../codecs/mod.ts";
import {
  bitsPerSecond,
  fitOfflineQuantizer,
  LADDER,
  ladderConfig,
  type Latents,
  offlineAsQuantizer,
  type OfflineFamily,
  type OfflineQuantizer,
  offlineQuantizerFromArtifact,
  OfflineRvq,
  type Rung,
} from "../quantizers/offline/mod.ts";
import { rngFor } from "../random.ts";
import type { Json } from "../store/artifacts.ts";
import { createSession, type Session } from "../train.ts";
import { keyOf } from "./postrvq_config.ts";
import {
  cached,
  decodeListening,
  JOB,
  type PipelineContext,
  type StoredEvaluation,
  storedSystem,
  type SystemResult,
} from "./postrvq_context.ts";

export { offlineAsQuantizer } from "../quantizers/offline/mod.ts";
export {
  POSTRVQ_PROFILES,
  type PostRvqProfile,
  postRvqProfile,
  postRvqProfileNamed,
} from "./profiles.ts";

/** The stored part of `session.evaluate()`. */
function evaluationOf(session: Session): StoredEvaluation {
  const ev = session.evaluate();
  if (!ev.segments) throw new Error("PostRVQ: the speech meter returned no per-segment scores");
  return { scores: ev.segments as unknown as SegmentScores, metrics: ev.metrics ?? {} };
}

/** Per stage of `q` (or per code column of a trained RVQ): entropy of its codes and its bits. */
export function stageUsage(
  metrics: Record<string, number>,
  codeStage: number[],
  codeBits: number[],
): SystemResult["usage"] {
  const stages = new Map<number, { entropy: number; bits: number }>();
  codeStage.forEach((stage, c) => {
    const s = stages.get(stage) ?? { entropy: 0, bits: 0 };
    s.entropy += metrics[`codeEntropy.${c}`] ?? NaN;
    s.bits += codeBits[c];
    stages.set(stage, s);
  });
  return [...stages].map(([stage, v]) => ({ stage, ...v }));
}

/**
 * The base model, or the base model's encoder and decoder with `quantizer` between them
 * (no training), evaluated by `Session.evaluate` on the held-out set.
 */
export async function evaluateOffline(
  ctx: PipelineContext,
  label: string,
  quantizer: { q: OfflineQuantizer; key: string } | null,
  options: { clips?: boolean } = {},
): Promise<SystemResult> {
  const job = `${JOB}#evaluate/${quantizer ? quantizer.key : `base-${ctx.baseId}`}`;
  const parts = {
    source: ctx.source,
    codec: ctx.base.parts.codec,
    quantizer: quantizer ? offlineAsQuantizer(quantizer.q) : ctx.base.parts.quantizer,
  };
  const got = await storedSystem(
    ctx,
    job,
    // Not disposed: the codec and source belong to the context.
    () => Promise.resolve(evaluationOf(createSession(ctx.config, parts))),
    options.clips === false ? null : () => decodeListening(ctx, parts),
  );
  const q = quantizer?.q;
  return {
    label,
    role: quantizer ? "ours" : "reference",
    bps: q ? q.bitsPerFrame * ctx.frameRate : 0,
    scores: got.evaluation.scores,
    latentMse: got.evaluation.metrics.latentMse ?? 0,
    usage: q ? stageUsage(got.evaluation.metrics, q.codeStage, q.codeBits) : [],
    clips: got.clips,
    computed: got.computed,
  };
}

/** The latents of `fitFrames` training-split frames through the base encoder (cached). */
export async function baseLatents(ctx: PipelineContext): Promise<Latents> {
  const frames = ctx.profile.fitFrames;
  const key = keyOf("latents", { base: ctx.baseId, frames, batch: ctx.config.train.batchSize });
  const { artifact } = await cached(ctx.artifacts, key, () => {
    const D = ctx.base.parts.codec.latentDim;
    const out = new Float32Array(frames * D);
    let at = 0;
    for (let i = 0; at < frames; i++) {
      const batch = ctx.source.trainBatch(1e9 + i, ctx.config.train.batchSize);
      const z = tf.tidy(() =>
        foldFrames(ctx.base.parts.codec.encode(tf.tensor(batch.x, [...batch.xShape])))
      );
      const data = z.dataSync() as Float32Array;
      const take = Math.min(frames - at, z.shape[0]);
      out.set(data.subarray(0, take * D), at * D);
      at += take;
      z.dispose();
    }
    return { meta: { frames }, tensors: { z: { shape: [frames, D], data: out } } };
  });
  const z = artifact.tensors.z;
  return { data: z.data as Float32Array, count: z.shape[0], dim: z.shape[1] };
}

/** A fitted offline quantizer of `family` at `rung` (cached) and its key. */
export async function offlineQuantizer(
  ctx: PipelineContext,
  family: OfflineFamily,
  rung: Rung,
  latents: Latents,
): Promise<{ q: OfflineQuantizer; key: string; fitMs: number; computed: boolean }> {
  const kmeans = { iterations: ctx.profile.kmeansIterations, tolerance: 1e-4 };
  const isRvq = family.startsWith("rvq");
  // RVQs are fitted once at the top rung and truncated (see the module doc).
  const fitRung = isRvq ? LADDER[0] : rung;
  const config = ladderConfig(family, fitRung, latents.dim, kmeans);
  // Every RVQ variant draws the same k-means seeds, so the ablation differs only in the
  // standardization (and the scalar control can reproduce plain RVQ's codes).
  const seedLabel = isRvq ? "offline.rvq" : `offline.${family}`;
  const fitKey = keyOf("offline", {
    base: ctx.baseId,
    fitFrames: latents.count,
    config,
    seedLabel,
    seed: ctx.seed,
  });
  let fitMs = 0;
  const { artifact, computed } = await cached(ctx.artifacts, fitKey, () => {
    const started = performance.now();
    const q = fitOfflineQuantizer(config, latents, rngFor(ctx.seed, seedLabel));
    fitMs = performance.now() - started;
    const a = q.toArtifact();
    return { meta: { ...(a.meta as Record<string, Json>), fitMs }, tensors: a.tensors };
  });
  fitMs = (artifact.meta as { fitMs: number }).fitMs;
  let q = offlineQuantizerFromArtifact(artifact);
  if (q instanceof OfflineRvq && rung.stages < q.stages.length) {
    q = new OfflineRvq(
      { ...q.config, stages: rung.stages },
      q.dim,
      q.global,
      q.stages.slice(0, rung.stages),
    );
  }
  return { q, key: `${fitKey}/${rung.bitsPerFrame}`, fitMs, computed };
}

/** Bit/s of a rung at the base codec's frame rate. */
export function rungBps(ctx: PipelineContext, rung: Rung): number {
  return bitsPerSecond(rung, ctx.frameRate);
}

/** Mean of the defined values (NaN when none). */
export const mean = (v: readonly number[]): number => {
  const d = v.filter((x) => !Number.isNaN(x));
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : NaN;
};
