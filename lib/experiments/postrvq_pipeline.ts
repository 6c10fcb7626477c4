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
 * version {@linkcode POSTRVQ_RESULT_VERSION}), listening clips and checkpoints to the artefact
 * store; `QUANTLAB_RECOMPUTE=1` recomputes both.
 *
 * The held-out set: windows of 2.05 s with ≥ {@linkcode MIN_ACTIVE} active speech from every
 * validation speaker that has them (`data.validationMinActive`, `lib/audio/segments.ts`) [choice];
 * the listening clips are some of them, one speaker after another (`listeningPicks`).
 *
 * @module
 */
import { listeningPicks } from "../audio/segments.ts";
import type { SegmentScores } from "../audio/score.ts";
import { backendInfo, tf } from "../backend.ts";
import { convFrameRate } from "../codecs/conv.ts";
import { foldFrames, unfoldFrames } from "../codecs/mod.ts";
import { resolveConfig, type RunConfig } from "../config.ts";
import { keyGemm, resultKey } from "../grid/key.ts";
import { ResultStore } from "../grid/store.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
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
import type { RunResult } from "../result.ts";
import { prepareSource } from "../sources/mod.ts";
import { SpeechSource } from "../sources/speech.ts";
import { type Artifact, ArtifactStore, type Json, sha256Bytes } from "../store/artifacts.ts";
import { checkpointOf, restoreCheckpoint } from "../store/checkpoint.ts";
import { buildParts, createSession, type Parts, type Session, train } from "../train.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { type BaseModel, baseModelInput, loadBaseModel } from "./base_model.ts";
import type { PostRvqProfile } from "./profiles.ts";

export { offlineAsQuantizer } from "../quantizers/offline/mod.ts";
export {
  POSTRVQ_PROFILES,
  type PostRvqProfile,
  postRvqProfile,
  postRvqProfileNamed,
} from "./profiles.ts";

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

/** Who a system is on a page: ours, a real codec (anchor), or the reference (original, base model). */
export type Role = "ours" | "anchor" | "reference";

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

const recomputing = () => Deno.env.get("QUANTLAB_RECOMPUTE") === "1";

/** `store.getOrCompute`, except that `QUANTLAB_RECOMPUTE=1` recomputes (and overwrites). */
async function cached(
  store: ArtifactStore,
  key: string,
  compute: () => Artifact | Promise<Artifact>,
): Promise<{ artifact: Artifact; computed: boolean }> {
  if (!recomputing()) return await store.getOrCompute(key, compute);
  const artifact = await compute();
  await store.putKeyed(key, artifact);
  return { artifact, computed: true };
}

/** What every system of a notebook shares: the base model, its held-out set, the stores. */
export interface PipelineContext {
  profile: PostRvqProfile;
  seed: number;
  config: RunConfig;
  base: BaseModel;
  /** The base model's variables, restored into every codec that is trained further. */
  baseArtifact: Artifact;
  /** Identity of the base model in keys: the committed checkpoint's SHA-256, or its retrained config. */
  baseId: string;
  /** The held-out set (windows of active speech). */
  source: SpeechSource;
  /** Indices of the held-out segments shown in listening tables. */
  listen: number[];
  frameRate: number;
  sampleRate: number;
  artifacts: ArtifactStore;
  results: ResultStore;
  log: (msg: string) => void;
}

/** Load the base model and build the held-out set and stores of a notebook. */
export async function pipelineContext(
  p: PostRvqProfile,
  options: { seed?: number; log?: (msg: string) => void } = {},
): Promise<PipelineContext> {
  const seed = options.seed ?? 0, log = options.log ?? (() => {});
  const config = continuousConfig(p, seed);
  const base = await loadBaseModel({ log });
  await prepareSource(config.data);
  const parts = buildParts(config, { codec: base.parts.codec, quantizer: base.parts.quantizer });
  if (!(parts.source instanceof SpeechSource)) throw new Error("PostRVQ: the source is not speech");
  const source = parts.source;
  if (config.codec.kind !== "conv") throw new Error("PostRVQ: codec.kind must be conv");
  return {
    profile: p,
    seed,
    config,
    base,
    baseArtifact: checkpointOf(base.parts, {}),
    baseId: base.provenance?.sha256 ?? `retrained-${keyOf("base", base.config)}`,
    source,
    listen: listeningPicks(source.validationSources.map((s) => s.speaker), p.listenRows),
    frameRate: convFrameRate(config.codec),
    sampleRate: source.sampleRate,
    artifacts: new ArtifactStore(),
    results: new ResultStore(),
    log,
  };
}

/** The held-out originals of the listening clips and who speaks them. */
export function listeningOriginals(
  ctx: PipelineContext,
): { clips: Float32Array[]; utterances: { label: string; speaker: string }[] } {
  const { x, length } = ctx.source.validation;
  return {
    clips: ctx.listen.map((i) => x.slice(i * length, (i + 1) * length)),
    utterances: ctx.listen.map((i) => {
      const s = ctx.source.validationSources[i];
      const file = s.file.split("/").pop() ?? s.file;
      return {
        label: `${file} @ ${(s.start / ctx.sampleRate).toFixed(1)} s`,
        speaker: s.speaker,
      };
    }),
  };
}

/** One system's scores over the held-out segments. */
export interface SystemResult {
  label: string;
  role: Role;
  /** Bit/s (0 for a continuous system). */
  bps: number;
  /** Per held-out segment, in the source's order. */
  scores: SegmentScores;
  /** Mean (z − Q(z))² over every held-out latent value (0 for continuous and anchors). */
  latentMse: number;
  /** Per stage: entropy of its codes (bits, summed over the stage's code columns) and its bits. */
  usage: { stage: number; entropy: number; bits: number }[];
  /** Decoded listening clips (the context's `listen` segments). */
  clips: Float32Array[];
  /** Whether this call computed it (false: read from the stores). */
  computed: boolean;
}

/** What the result store keeps of one system's evaluation. */
interface StoredEvaluation {
  scores: SegmentScores;
  metrics: Record<string, number>;
}

/** Job prefix of the PostRVQ entries in the result store. */
export const JOB = "lib/experiments/postrvq_pipeline.ts";

/** Result-store key of a system of this context. */
function storeKey(ctx: PipelineContext, job: string): string {
  return resultKey(ctx.config, job, POSTRVQ_RESULT_VERSION, keyGemm(expectedGemmIdentity()));
}

async function putResult(ctx: PipelineContext, job: string, result: unknown): Promise<void> {
  await ctx.results.put(
    ctx.config,
    job,
    result,
    POSTRVQ_RESULT_VERSION,
    backendInfo().gemmIdentity ?? null,
    expectedGemmIdentity(),
  );
}

/**
 * A system's evaluation from the stores, or computed by `evaluate` and stored in the result store
 * under `job`; with `clips`, also its listening clips (artefact store), decoded only when they
 * are not stored yet (pages that do not play a system never decode its clips).
 */
export async function storedSystem(
  ctx: PipelineContext,
  job: string,
  evaluate: () => Promise<StoredEvaluation>,
  clips: (() => Float32Array[] | Promise<Float32Array[]>) | null,
): Promise<{ evaluation: StoredEvaluation; clips: Float32Array[]; computed: boolean }> {
  const clipsKey = keyOf("clips", { job, data: ctx.config.data, listen: ctx.listen });
  const fresh = recomputing();
  const entry = fresh ? undefined : await ctx.results.get<StoredEvaluation>(storeKey(ctx, job));
  let evaluation = entry?.result, computed = false;
  if (!evaluation) {
    evaluation = await evaluate();
    await putResult(ctx, job, evaluation);
    computed = true;
  }
  if (!clips) return { evaluation, clips: [], computed };
  const stored = fresh || computed ? null : await ctx.artifacts.getKeyed(clipsKey);
  if (stored) {
    const got = ctx.listen.map((_, i) => stored.tensors[`clip.${i}`].data as Float32Array);
    return { evaluation, clips: got, computed };
  }
  const decoded = await clips();
  await ctx.artifacts.putKeyed(clipsKey, {
    meta: { job },
    tensors: Object.fromEntries(
      decoded.map((c, i) => [`clip.${i}`, { shape: [c.length], data: c }]),
    ),
  });
  return { evaluation, clips: decoded, computed };
}

/** The listening segments decoded by `parts` (hard quantizer). */
function decodeListening(ctx: PipelineContext, parts: Pick<Parts, "codec" | "quantizer">) {
  const { x, length } = ctx.source.validation;
  return ctx.listen.map((i) =>
    tf.tidy(() => {
      const input = tf.tensor2d(x.subarray(i * length, (i + 1) * length), [1, length]);
      const e = parts.codec.encode(input);
      const hard = parts.quantizer.quantize(parts.quantizer.prepare(foldFrames(e)));
      const y = parts.codec.decode(unfoldFrames(hard.q, e.shape));
      return Float32Array.from(y.dataSync() as Float32Array);
    })
  );
}

/** The stored part of `session.evaluate()`. */
function evaluationOf(session: Session): StoredEvaluation {
  const ev = session.evaluate();
  if (!ev.segments) throw new Error("PostRVQ: the speech meter returned no per-segment scores");
  return { scores: ev.segments as unknown as SegmentScores, metrics: ev.metrics ?? {} };
}

/** Per stage of `q` (or per code column of a trained RVQ): entropy of its codes and its bits. */
function stageUsage(
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
    await ctx.results.put(
      config,
      job,
      run,
      POSTRVQ_RESULT_VERSION,
      backendInfo().gemmIdentity ?? null,
      expectedGemmIdentity(),
    );
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

/** Bit/s of a rung at the base codec's frame rate. */
export function rungBps(ctx: PipelineContext, rung: Rung): number {
  return bitsPerSecond(rung, ctx.frameRate);
}

/** Mean of the defined values (NaN when none). */
export const mean = (v: readonly number[]): number => {
  const d = v.filter((x) => !Number.isNaN(x));
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : NaN;
};
