/**
 * What every PostRVQ system of a notebook shares (`PipelineContext`: the base model, its
 * held-out set of active speech, the listening picks, the stores) and how a system's evaluation
 * and listening clips are kept: the result store under `JOB`-prefixed jobs and version
 * `POSTRVQ_RESULT_VERSION`, the artefact store under `keyOf` keys; `QUANTLAB_RECOMPUTE=1`
 * recomputes both. What a system is made of is `postrvq_config.ts`; the systems are
 * `postrvq_pipeline.ts` (offline) and `postrvq_train.ts` (trained).
 *
 * @module
 */
import { listeningPicks } from "../audio/segments.ts";
import type { SegmentScores } from "../audio/score.ts";
import { backendInfo, tf } from "../backend.ts";
import { convFrameRate } from "../codecs/conv.ts";
import { foldFrames, unfoldFrames } from "../codecs/mod.ts";
import type { RunConfig } from "../config.ts";
import { keyGemm, resultKey } from "../grid/key.ts";
import { ResultStore } from "../grid/store.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
import { prepareSource } from "../sources/mod.ts";
import { SpeechSource } from "../sources/speech.ts";
import { type Artifact, ArtifactStore } from "../store/artifacts.ts";
import { checkpointOf } from "../store/checkpoint.ts";
import { buildParts, type Parts } from "../train.ts";
import { type BaseModel, loadBaseModel } from "./base_model.ts";
import type { PostRvqProfile } from "./profiles.ts";
import { continuousConfig, keyOf, POSTRVQ_RESULT_VERSION } from "./postrvq_config.ts";

/** Who a system is on a page: ours, a real codec (anchor), or the reference (original, base model). */
export type Role = "ours" | "anchor" | "reference";

/** Whether `QUANTLAB_RECOMPUTE=1` asks for everything to be recomputed. */
export const recomputing = (): boolean => Deno.env.get("QUANTLAB_RECOMPUTE") === "1";

/** `store.getOrCompute`, except that `QUANTLAB_RECOMPUTE=1` recomputes (and overwrites). */
export async function cached(
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
export interface StoredEvaluation {
  scores: SegmentScores;
  metrics: Record<string, number>;
}

/**
 * Job prefix of the PostRVQ entries in the result store. It names the module the pipeline began in
 * and is part of every stored key, so it stays as it is when code moves.
 */
export const JOB = "lib/experiments/postrvq_pipeline.ts";

/** Result-store key of a system of this context. */
export function storeKey(ctx: PipelineContext, job: string): string {
  return resultKey(ctx.config, job, POSTRVQ_RESULT_VERSION, keyGemm(expectedGemmIdentity()));
}

/** Put a system's result into the result store under `job` (version, GEMM recorded). */
export async function putResult(ctx: PipelineContext, job: string, result: unknown): Promise<void> {
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
export function decodeListening(
  ctx: PipelineContext,
  parts: Pick<Parts, "codec" | "quantizer">,
): Float32Array[] {
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
