/**
 * The PostRVQ pipeline shared by notebooks 08 (`postrvq.ts`) and 09 (`fixed_latent.ts`):
 * paper B's post-training quantization on the conv speech codec (method §7).
 *
 * Every expensive part is cached in the artefact store (`$QUANTLAB_CACHE/artifacts`, else
 * `.cache/artifacts`; `QUANTLAB_RECOMPUTE=1` recomputes), keyed by the config that made it:
 * 1. the **continuous model**: the conv codec trained by `train()` with `quantizer.kind = "none"`
 *    [paper B], stored with the latents of `fitFrames` training-split frames (the latent data set);
 * 2. **offline quantizers** fitted on those latents (`lib/quantizers/offline/`), one per family
 *    and ladder rung; the RVQs of a family are prefixes of one fit of the top rung's 8 stages,
 *    which equals fitting each separately (stage k depends only on stages < k and on the k-th
 *    draw of the fit's seed);
 * 3. **decoder finetuning** at the second rung with encoder and quantizer frozen [paper B]:
 *    `train()` with `trainable: "decoder"` and the offline quantizer as a part
 *    (`offlineAsQuantizer`, `lib/quantizers/offline/adapter.ts`);
 * 4. the **end-to-end baseline**: the same codec trained by `train()` with DAC-style RVQ at the
 *    second rung (codebook and commitment losses, quantizer dropout) [paper B's comparison, DAC's
 *    recipe].
 * Evaluation is per validation segment of the held-out speaker (speakers the codec never heard):
 * SI-SDR and DAC's multi-scale mel L1 (`lib/audio/`), paired by segment for the verdicts
 * (`comparePaired`, unit "utterance").
 *
 * @module
 */
import { concatArrays } from "../arrays.ts";
import { codeUsagePerStage, siSdr } from "../audio/metrics.ts";
import { melL1PerSegment } from "../audio/stft.ts";
import { tf } from "../backend.ts";
import { convFrameRate } from "../codecs/conv.ts";
import { foldFrames, unfoldFrames } from "../codecs/mod.ts";
import { type ConfigInput, resolveConfig, type RunConfig } from "../config.ts";
import {
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
import type { Quantizer } from "../quantizers/types.ts";
import { rngFor } from "../random.ts";
import { prepareSource, SpeechSource, type SpeechSourceConfig } from "../sources/mod.ts";
import { type Artifact, ArtifactStore, type Json, sha256Bytes } from "../store/artifacts.ts";
import { checkpointOf, restoreCheckpoint } from "../store/checkpoint.ts";
import { buildParts, type Parts, type Session, train, type TrainOptions } from "../train.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { keyGemm } from "../grid/key.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
import type { PostRvqProfile } from "./profiles.ts";

export { offlineAsQuantizer } from "../quantizers/offline/mod.ts";
export { melL1PerSegment } from "../audio/stft.ts";
export { POSTRVQ_PROFILES, type PostRvqProfile, postRvqProfile } from "./profiles.ts";

/** Which offline family is "PostRVQ" in notebook 08. [choice: paper B's RVQ with its standardization step] */
export const POSTRVQ_FAMILY: OfflineFamily = "rvq-stage";
/** The rung of the finetuning and the end-to-end comparison: the second (paper B's 16 kbps). [paper B] */
export const COMPARISON_RUNG: Rung = LADDER[1];
/** Seed of every model and fit here. */
export const SEED = 0;

function baseInput(p: PostRvqProfile): ConfigInput {
  return {
    data: {
      kind: "speech",
      segmentSamples: p.segmentSamples,
      validationSegments: p.validationSegments,
      validationSamples: p.validationSamples,
    },
    codec: { kind: "conv" },
    train: { epochs: 1, stepsPerEpoch: p.steps, batchSize: p.batchSize, seed: SEED },
  };
}

/** The continuous model: the conv codec with no quantizer. [paper B] */
export function continuousConfig(p: PostRvqProfile): RunConfig {
  return resolveConfig({ ...baseInput(p), quantizer: { kind: "none" } });
}

/**
 * The end-to-end baseline at {@linkcode COMPARISON_RUNG}: DAC-style RVQ of 8-bit stages, codebook
 * loss (weight 1) and commitment loss (β = 0.25), k-means initialisation, quantizer dropout 0.5,
 * straight-through gradient. [paper B's baseline; DAC's recipe; k-means init is our choice]
 */
export function endToEndConfig(p: PostRvqProfile): RunConfig {
  const input = baseInput(p);
  return resolveConfig({
    ...input,
    quantizer: {
      kind: "rvq",
      stages: COMPARISON_RUNG.stages,
      bitsPerStage: 8,
      learning: "loss",
      init: "kmeans",
      dropout: 0.5,
    },
    passer: { kind: "ste" },
    train: { ...input.train, commitment: 0.25, codebookWeight: 1 },
  });
}

/** A trained model rebuilt from its checkpoint. */
export interface Model {
  config: RunConfig;
  parts: Parts;
  /** Wall time of the training that made it (from the artefact), ms. */
  trainMs: number;
  /** Whether this call trained it (false: read from the store). */
  computed: boolean;
  artifact: Artifact;
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

/** The artefact store of these experiments: `$QUANTLAB_CACHE/artifacts`, else `.cache/artifacts`. */
export function artifactStore(): ArtifactStore {
  return new ArtifactStore();
}

/** `store.getOrCompute`, except that `QUANTLAB_RECOMPUTE=1` recomputes (and overwrites). */
async function cached(
  store: ArtifactStore,
  key: string,
  compute: () => Artifact | Promise<Artifact>,
): Promise<{ artifact: Artifact; computed: boolean }> {
  if (Deno.env.get("QUANTLAB_RECOMPUTE") !== "1") return await store.getOrCompute(key, compute);
  const artifact = await compute();
  await store.putKeyed(key, artifact);
  return { artifact, computed: true };
}

/**
 * Train `config` through `train()` (or read it from the store) and rebuild it. With
 * `latentFrames`, the artefact also holds the quantizer inputs of that many training-split
 * frames, drawn after training from batches no training step used (`latents.z` [frames, D]).
 * A run that diverges is an error here: nothing downstream can use it.
 */
export async function trainedModel(
  config: RunConfig,
  store: ArtifactStore,
  latentFrames = 0,
  log: (msg: string) => void = () => {},
): Promise<Model> {
  await prepareSource(config.data);
  const key = keyOf("model", { config, latentFrames });
  const { artifact, computed } = await cached(store, key, async () => {
    const total = config.train.epochs * config.train.stepsPerEpoch;
    const every = Math.max(1, Math.floor(total / 10));
    return await trainedArtifact(config, {
      onStep: (step, loss) => {
        if (step % every === 0) {
          log(`${config.quantizer.kind}: step ${step}/${total}, loss ${loss.toFixed(4)}`);
        }
      },
    }, (session, trainMs) => {
      const ckpt = checkpointOf(session, { trainMs, config: config as unknown as Json });
      if (latentFrames > 0) {
        ckpt.tensors["latents.z"] = {
          shape: [latentFrames, session.codec.latentDim],
          data: trainingLatents(session, latentFrames),
        };
      }
      return ckpt;
    });
  });
  const parts = buildParts(config);
  restoreCheckpoint(artifact, parts);
  const trainMs = (artifact.meta as { trainMs: number }).trainMs;
  return { config, parts, trainMs, computed, artifact };
}

/**
 * Run `train(config, options)` and make an artefact of the trained session with `keep`
 * (given the training wall time, ms); throws when the run diverged.
 */
async function trainedArtifact(
  config: RunConfig,
  options: TrainOptions,
  keep: (session: Session, trainMs: number) => Artifact,
): Promise<Artifact> {
  const started = performance.now();
  let artifact: Artifact | null = null;
  const result = await train(config, {
    ...options,
    onFinished: (session, diverged) => {
      if (!diverged) artifact = keep(session, performance.now() - started);
    },
  });
  if (result.diverged || !artifact) {
    throw new Error(
      `trainedModel: ${config.quantizer.kind} run diverged at step ${result.diverged?.step}: ` +
        `${result.diverged?.reason}`,
    );
  }
  return artifact;
}

/** Quantizer inputs of `frames` training frames, from batches at steps no training run reaches. */
function trainingLatents(session: Session, frames: number): Float32Array {
  const D = session.codec.latentDim;
  const out = new Float32Array(frames * D);
  let at = 0;
  for (let i = 0; at < frames; i++) {
    const batch = session.source.trainBatch(1e9 + i, session.config.train.batchSize);
    const z = tf.tidy(() =>
      session.quantizer.prepare(
        foldFrames(session.codec.encode(tf.tensor(batch.x, [...batch.xShape]))),
      )
    );
    const data = z.dataSync() as Float32Array;
    const take = Math.min(frames - at, z.shape[0]);
    out.set(data.subarray(0, take * D), at * D);
    at += take;
    z.dispose();
  }
  return out;
}

/** The continuous model and its training-split latents. */
export async function continuousModel(
  p: PostRvqProfile,
  store: ArtifactStore = artifactStore(),
  log?: (msg: string) => void,
): Promise<{ model: Model; latents: Latents }> {
  const model = await trainedModel(continuousConfig(p), store, p.fitFrames, log);
  const z = model.artifact.tensors["latents.z"];
  if (!z) throw new Error("continuousModel: the stored continuous model has no latents.z");
  const latents = { data: z.data as Float32Array, count: z.shape[0], dim: z.shape[1] };
  return { model, latents };
}

/** A fitted offline quantizer of `family` at `rung`, cached by the continuous model it belongs to. */
export async function offlineQuantizer(
  family: OfflineFamily,
  rung: Rung,
  continuous: { model: Model; latents: Latents },
  p: PostRvqProfile,
  store: ArtifactStore = artifactStore(),
): Promise<{ quantizer: OfflineQuantizer; fitMs: number; computed: boolean }> {
  const kmeans = { iterations: p.kmeansIterations, tolerance: 1e-4 };
  const isRvq = family.startsWith("rvq");
  // RVQs are fitted once at the top rung and truncated (see the module doc).
  const fitRung = isRvq ? LADDER[0] : rung;
  const config = ladderConfig(family, fitRung, continuous.latents.dim, kmeans);
  // Every RVQ variant draws the same k-means seeds, so the ablation differs only in the
  // standardization (and the scalar control can reproduce plain RVQ's codes).
  const seedLabel = isRvq ? "offline.rvq" : `offline.${family}`;
  const key = keyOf("offline", {
    model: continuous.model.config,
    fitFrames: continuous.latents.count,
    config,
    seedLabel,
  });
  let fitMs = 0;
  const { artifact, computed } = await cached(store, key, () => {
    const started = performance.now();
    const q = fitOfflineQuantizer(config, continuous.latents, rngFor(SEED, seedLabel));
    fitMs = performance.now() - started;
    const a = q.toArtifact();
    return { meta: { ...(a.meta as Record<string, Json>), fitMs }, tensors: a.tensors };
  });
  fitMs = (artifact.meta as { fitMs: number }).fitMs;
  let quantizer = offlineQuantizerFromArtifact(artifact);
  if (quantizer instanceof OfflineRvq && rung.stages < quantizer.stages.length) {
    quantizer = new OfflineRvq(
      { ...quantizer.config, stages: rung.stages },
      quantizer.dim,
      quantizer.global,
      quantizer.stages.slice(0, rung.stages),
    );
  }
  return { quantizer, fitMs, computed };
}

/**
 * Finetune the continuous model's decoder on `quantizer`'s values for `p.finetuneSteps` steps
 * (encoder and quantizer frozen, same loss and optimizer settings) [paper B]; cached. Returns a
 * model whose quantizer is the offline one.
 */
export async function finetunedModel(
  continuous: { model: Model },
  family: OfflineFamily,
  quantizer: OfflineQuantizer,
  p: PostRvqProfile,
  store: ArtifactStore = artifactStore(),
): Promise<Model> {
  const config: RunConfig = {
    ...continuous.model.config,
    train: { ...continuous.model.config.train, stepsPerEpoch: p.finetuneSteps },
  };
  const key = keyOf("finetuned", {
    model: continuous.model.config,
    family,
    q: quantizer.config,
    config,
  });
  const build = () => {
    const parts = buildParts(config, { quantizer: offlineAsQuantizer(quantizer) });
    restoreCheckpoint(continuous.model.artifact, {
      codec: parts.codec,
      quantizer: parts.quantizer,
    });
    return parts;
  };
  // train() with the decoder alone trainable; the quantizer handed in is not initialised again.
  const { artifact, computed } = await cached(
    store,
    key,
    () =>
      trainedArtifact(
        config,
        { parts: build(), trainable: "decoder" },
        (session, trainMs) => checkpointOf(session, { trainMs }),
      ),
  );
  const parts = build();
  restoreCheckpoint(artifact, { codec: parts.codec, quantizer: parts.quantizer });
  const trainMs = (artifact.meta as { trainMs: number }).trainMs;
  return { config, parts, trainMs, computed, artifact };
}

/** What a system does to the latents: an offline quantizer, the model's own quantizer, or nothing. */
export type LatentPath = OfflineQuantizer | "own" | "none";

/** One system's results over the validation segments. */
export interface SystemResult {
  label: string;
  /** Bit/s (0 for the continuous model). */
  bps: number;
  /** Per validation segment, in the source's order. */
  siSdr: number[];
  melL1: number[];
  /** Mean (z − Q(z))² over every validation latent value (0 for continuous). */
  latentMse: number;
  /** Per stage: entropy of its codes (bits, summed over the stage's code columns) and its bits. */
  usage: { stage: number; entropy: number; bits: number }[];
  /** The first `listenRows` decoded segments. */
  clips: Float32Array[];
  /** Codes of every validation frame, [frames, columns] (empty for continuous). */
  codes: Int32Array;
}

/**
 * Run the validation set through `model`'s encoder, `path` and `model`'s decoder; score every
 * segment against its original.
 */
export function evaluateSystem(
  label: string,
  model: Model,
  path: LatentPath,
  p: PostRvqProfile,
  bps: number,
): SystemResult {
  const { codec, source, quantizer } = model.parts;
  const sampleRate = speechData(model).sampleRate;
  const out: SystemResult = {
    label,
    bps,
    siSdr: [],
    melL1: [],
    latentMse: 0,
    usage: [],
    clips: [],
    codes: new Int32Array(0),
  };
  let sq = 0, values = 0;
  const codeParts: Int32Array[] = [];
  let columns = 0;
  for (const batch of source.validationBatches()) {
    const [n, T] = batch.xShape;
    const x = tf.tensor(batch.x, [...batch.xShape]);
    const e = codec.encode(x);
    const z = foldFrames(e);
    const zData = z.dataSync() as Float32Array;
    let q: tf.Tensor2D;
    if (path === "none") q = z;
    else if (path === "own") {
      const hard = quantizer.quantize(quantizer.prepare(z));
      q = hard.q;
      codeParts.push(hard.codes.dataSync() as Int32Array);
      columns = hard.codes.shape[1];
      tf.dispose(Object.values(hard.losses));
      if (hard.codes !== q) hard.codes.dispose();
    } else {
      const r = path.quantize({ data: zData, count: z.shape[0], dim: path.dim });
      q = tf.tensor2d(r.values, z.shape);
      codeParts.push(r.codes);
      columns = path.codeBits.length;
    }
    const qData = q.dataSync() as Float32Array;
    for (let i = 0; i < zData.length; i++) sq += (zData[i] - qData[i]) ** 2;
    values += zData.length;
    const yhat = tf.tidy(() => tf.reshape(codec.decode(unfoldFrames(q, e.shape)), [n, T]));
    const y = yhat.dataSync() as Float32Array;
    const mels = melL1PerSegment(yhat as tf.Tensor2D, tf.tensor2d(batch.y, [n, T]), sampleRate);
    for (let i = 0; i < n; i++) {
      const est = y.subarray(i * T, (i + 1) * T), ref = batch.y.subarray(i * T, (i + 1) * T);
      out.siSdr.push(siSdr(est, ref));
      out.melL1.push(mels[i]);
      if (out.clips.length < p.listenRows) out.clips.push(Float32Array.from(est));
    }
    tf.dispose([x, e, z, q, yhat]);
  }
  out.latentMse = values ? sq / values : 0;
  if (columns > 0) {
    out.usage = stageUsage(codeParts, columns, path, quantizer);
    out.codes = concatArrays(codeParts, Int32Array);
  }
  return out;
}

/**
 * Code usage per stage: the entropy of each code column (`codeUsagePerStage`, one column at a
 * time) summed over the columns of a stage, with the bits the stage spends.
 */
function stageUsage(
  parts: Int32Array[],
  columns: number,
  path: LatentPath,
  own: Quantizer,
): SystemResult["usage"] {
  const codes = concatArrays(parts, Int32Array);
  const stageOf = typeof path === "object"
    ? path.codeStage
    : Array.from({ length: columns }, (_, c) => c);
  const bitsOf = typeof path === "object"
    ? path.codeBits
    : Array.from({ length: columns }, () => own.bits / columns);
  const perColumn = codeUsagePerStage(codes, columns, 2 ** Math.ceil(Math.max(...bitsOf, 1)));
  const stages = new Map<number, { entropy: number; bits: number }>();
  for (let c = 0; c < columns; c++) {
    const s = stages.get(stageOf[c]) ?? { entropy: 0, bits: 0 };
    s.entropy += perColumn[c].entropy;
    s.bits += bitsOf[c];
    stages.set(stageOf[c], s);
  }
  return [...stages].map(([stage, v]) => ({ stage, ...v }));
}
/** Mean of a metric over validation segments. */
export const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** The frame rate of a model's codec, frames/s. */
export function frameRateOf(model: Model): number {
  if (model.config.codec.kind !== "conv") throw new Error("frameRateOf: codec.kind must be conv");
  return convFrameRate(model.config.codec);
}

/** The speech data section of a model's config (the PostRVQ models are speech codecs). */
function speechData(model: Model): SpeechSourceConfig {
  if (model.config.data.kind !== "speech") {
    throw new Error(`PostRVQ: data.kind must be "speech", got "${model.config.data.kind}"`);
  }
  return model.config.data;
}

/** The first `n` validation segments of a model's source and their speakers, for listening. */
export function validationOriginals(
  model: Model,
  n: number,
): { original: Float32Array[]; speakers: string[]; sampleRate: number } {
  const source = model.parts.source;
  if (!(source instanceof SpeechSource)) {
    throw new Error("validationOriginals: the model's source is not a SpeechSource");
  }
  const T = source.validation.length;
  const original = Array.from(
    { length: n },
    (_, i) => source.validation.x.slice(i * T, (i + 1) * T),
  );
  const speakers = source.validationSources.slice(0, n).map((s) => s.speaker);
  return { original, speakers, sampleRate: source.sampleRate };
}
