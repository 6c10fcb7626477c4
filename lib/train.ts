/**
 * The trainer: Adam on the source's loss plus the quantizer's own weighted losses, seeded and
 * deterministic on one backend. It receives built parts — a {@linkcode Source}, a
 * {@linkcode Codec}, a {@linkcode Quantizer} and a {@linkcode Passer}, made from the config by
 * their registries ({@linkcode buildParts}) or handed in — and knows nothing of simulated data,
 * MLPs, quantizer kinds or plots: the quantizer says how it wants to be initialised and which
 * losses it adds, the passer whether it anneals and validates a soft value too.
 *
 * Loss per step: source.loss(ŷ, y) + Σ quantizer losses (the proxy: mean(ŷ − y)²
 * + β·mean(z − sg(Q(z)))² + w·codebookLoss). Latents' leading axes are folded into frames
 * ([N, D]) for the quantizer and passer and unfolded before decoding.
 * Divergence (a non-finite loss, or max |e| above `train.divergenceThreshold`) ends the run
 * with `diverged` set in the result: an outcome, never a crash.
 *
 * @module
 */
import { concatArrays } from "./arrays.ts";
import { backendInfo, tf } from "./backend.ts";
import { buildCodec, type Codec, foldFrames, unfoldFrames } from "./codecs/mod.ts";
import type { RunConfig } from "./config.ts";
import { type CustomKinds, NO_CUSTOM_KINDS } from "./custom/mod.ts";
import { stopGradient } from "./grad.ts";
import { codeUsage, maxAbs } from "./metrics.ts";
import { checkMemory } from "./memory.ts";
import { buildPasser, type PassContext, type Passer } from "./passers.ts";
import { buildQuantizer, type Quantizer } from "./quantizers/mod.ts";
import { rngFor } from "./random.ts";
import type { Divergence, EpochRecord, RunResult, StepTrace } from "./result.ts";
import { buildSource, prepareSource, type Source } from "./sources/mod.ts";
import { QUANTLAB_VERSION } from "./version.ts";

/** Validation metrics of the current model (an {@linkcode EpochRecord} without bookkeeping). */
export type Evaluation = Omit<EpochRecord, "epoch" | "step" | "trainLoss" | "wallMs">;

/** The built parts of a run. A session owns them and disposes them with itself. */
export interface Parts {
  source: Source;
  codec: Codec;
  quantizer: Quantizer;
  passer: Passer;
}

/**
 * Build whatever of a run's parts is not `given`, from the config's registries: the source
 * from `data`, the codec from `codec` (sized by the source), the quantizer from `quantizer` (for
 * the codec's latent dimension, with `train.commitment` and `train.codebookWeight` as its loss
 * weights), the passer from `passer`. Every part draws from its own labelled seed stream.
 * Custom passers and quantizers come from `custom` (`lib/custom/mod.ts`'s `loadCustomKinds`).
 */
export function buildParts(
  config: RunConfig,
  given: Partial<Parts> = {},
  custom: CustomKinds = NO_CUSTOM_KINDS,
): Parts {
  const { seed } = config.train;
  const source = given.source ?? buildSource(config.data, seed);
  const codec = given.codec ??
    buildCodec(
      config.codec,
      { inputDim: source.inputDim, outputDim: source.outputDim },
      rngFor(seed, "codec"),
    );
  const quantizer = given.quantizer ??
    buildQuantizer(
      config.quantizer,
      codec.latentDim,
      rngFor(seed, "quantizer"),
      { commitment: config.train.commitment, codebook: config.train.codebookWeight },
      custom.quantizers,
    );
  const passer = given.passer ?? buildPasser(config.passer, custom.passers);
  return { source, codec, quantizer, passer };
}

/**
 * What training updates: everything, or only the decoder (decoder finetuning: the encoder and
 * the quantizer, EMA codebooks included, stay as they are).
 */
export type Trainable = "all" | "decoder";

export interface SessionOptions {
  /** Default "all". */
  trainable?: Trainable;
  /**
   * Run the quantizer's data-dependent initialisation (k-means init) if it asks for one. Default
   * true; `createSession` turns it off for a quantizer handed in (it is trained already).
   */
  initializeQuantizer?: boolean;
  /**
   * Run the codec's data-dependent initialisation if it asks for one. Default true;
   * `createSession` turns it off for a codec handed in (it is trained already).
   */
  initializeCodec?: boolean;
}

/** One training run's state, stepped explicitly (the bench and tests use it directly). */
export class Session {
  readonly source: Source;
  readonly codec: Codec;
  readonly quantizer: Quantizer;
  readonly passer: Passer;
  readonly totalSteps: number;
  /** Global step count (optimizer steps taken). */
  stepCount = 0;
  /** max |e| of the last training batch. */
  lastBatchMaxAbs = 0;
  readonly #optimizer: tf.AdamOptimizer;
  readonly #variables: tf.Variable[];
  readonly #updateQuantizer: boolean;

  constructor(readonly config: RunConfig, parts: Parts, options: SessionOptions = {}) {
    const { trainable = "all", initializeQuantizer = true, initializeCodec = true } = options;
    this.source = parts.source;
    this.codec = parts.codec;
    this.quantizer = parts.quantizer;
    this.passer = parts.passer;
    this.totalSteps = config.train.epochs * config.train.stepsPerEpoch;
    const t = config.train;
    this.#optimizer = tf.train.adam(t.learningRate, t.beta1, t.beta2, t.epsilon);
    this.#variables = trainable === "decoder"
      ? [...this.codec.decoderVariables]
      : [...this.codec.variables, ...this.quantizer.variables];
    this.#updateQuantizer = trainable === "all";
    if (initializeCodec && this.codec.initialization) this.#initializeCodec();
    if (initializeQuantizer && this.quantizer.initialization) this.#initializeQuantizer();
  }

  /** The passer's temperature at the current step (undefined unless it anneals). */
  get tau(): number | undefined {
    return this.passer.temperature?.(this.stepCount, this.totalSteps);
  }

  /** One optimizer step on a fresh batch; returns the loss (NaN/Infinity are returned, not thrown). */
  step(): number {
    const { train } = this.config;
    const batch = this.source.trainBatch(this.stepCount, train.batchSize);
    const ctx = this.#context(rngFor(train.seed, `noise.${this.stepCount}`));
    let maxE: tf.Scalar | null = null;
    let kept: { z: tf.Tensor2D; codes: tf.Tensor2D } | null = null;
    const x = tf.tensor(batch.x, [...batch.xShape]);
    const y = tf.tensor(batch.y, [...batch.yShape]);
    if (train.learningRateEnd !== undefined) {
      // Exponential decay from learningRate to learningRateEnd over the run. [choice]
      const ratio = train.learningRateEnd / train.learningRate;
      (this.#optimizer as unknown as { learningRate: number }).learningRate = train.learningRate *
        ratio ** (this.stepCount / Math.max(1, this.totalSteps - 1));
    }
    const cost = this.#minimize(
      () => {
        const e = this.codec.encode(x);
        const z = this.quantizer.prepare(foldFrames(e));
        const hard = this.quantizer.quantizeTrain
          ? this.quantizer.quantizeTrain(z, rngFor(train.seed, `quantizer.${this.stepCount}`))
          : this.quantizer.quantize(z);
        const yhat = this.codec.decode(unfoldFrames(this.passer.forward(z, hard, ctx), e.shape));
        let loss = this.source.loss(yhat, y);
        for (const aux of Object.values(hard.losses)) loss = tf.add(loss, aux);
        maxE = tf.keep(tf.max(tf.abs(e)));
        if (this.quantizer.afterStep && this.#updateQuantizer) {
          kept = {
            z: tf.keep(stopGradient(z)),
            codes: tf.keep(hard.codes),
          };
        }
        return loss as tf.Scalar;
      },
    );
    const loss = cost.dataSync()[0];
    this.lastBatchMaxAbs = maxE ? (maxE as tf.Scalar).dataSync()[0] : NaN;
    if (kept) {
      const { z, codes } = kept;
      this.quantizer.afterStep!(z, codes);
      tf.dispose([z, codes]);
    }
    tf.dispose([cost, x, y, maxE as tf.Scalar | null].filter((t) => t !== null) as tf.Tensor[]);
    this.stepCount++;
    return loss;
  }

  /**
   * One optimizer update of `f`'s value; returns the value (the caller disposes it). With
   * `train.gradClip` the gradients are scaled by min(1, clip/‖g‖) first, ‖g‖ the global norm
   * over every trained variable (PyTorch's `clip_grad_norm_`, as DAC's training does). [choice]
   */
  #minimize(f: () => tf.Scalar): tf.Scalar {
    const clip = this.config.train.gradClip;
    if (clip === undefined) return this.#optimizer.minimize(f, true, this.#variables)!;
    const { value, grads } = tf.variableGrads(f, this.#variables);
    const clipped = tf.tidy(() => {
      // Non-trainable variables in the list come back with a null gradient.
      const names = Object.keys(grads).filter((n) => grads[n] !== null);
      const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
      const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      return Object.fromEntries(names.map((n) => [n, tf.mul(grads[n], scale)])) as Record<
        string,
        tf.Variable
      >;
    });
    this.#optimizer.applyGradients(clipped);
    tf.dispose([...Object.values(grads).filter((g) => g !== null), ...Object.values(clipped)]);
    return value;
  }

  /**
   * Validation, batch by batch over the source's validation set, with the hard quantizer (and
   * the passer's own soft value when it has one): the source's metrics, MA-E over the encoder
   * output, and the code usage.
   */
  evaluate(): Evaluation {
    const meter = this.source.validationMeter();
    const softMeter = this.passer.softEvaluation ? this.source.validationMeter() : null;
    const ctx = this.#context(rngFor(this.config.train.seed, "noise.validation"));
    let maE = 0, frames = 0;
    const codeParts: Int32Array[] = [];
    for (const batch of this.source.validationBatches()) {
      const x = tf.tensor(batch.x, [...batch.xShape]);
      const latents = meter.addQuantization !== undefined;
      const { yhat, e, codes, softYhat, z, q } = tidyObject(() => {
        const e = this.codec.encode(x);
        const z = this.quantizer.prepare(foldFrames(e));
        const hard = this.quantizer.quantize(z);
        const yhat = this.codec.decode(unfoldFrames(hard.q, e.shape));
        const soft = this.passer.softEvaluation
          ? this.codec.decode(unfoldFrames(this.passer.softEvaluation(z, ctx), e.shape))
          : null;
        return {
          yhat,
          e,
          codes: hard.codes,
          softYhat: soft,
          z: latents ? z : null,
          q: latents ? hard.q : null,
        };
      });
      meter.add(yhat.dataSync() as Float32Array, batch);
      if (latents && z && q) {
        meter.addQuantization!(
          z.dataSync() as Float32Array,
          q.dataSync() as Float32Array,
          codes.dataSync() as Int32Array,
          codes.shape[1],
        );
      }
      if (softMeter && softYhat) softMeter.add(softYhat.dataSync() as Float32Array, batch);
      maE = maxAbs(e.dataSync(), maE);
      codeParts.push(codes.dataSync() as Int32Array);
      frames += codes.shape[0];
      tf.dispose([x, yhat, e, codes, softYhat, z, q].filter((t) => t !== null) as tf.Tensor[]);
    }
    const metrics = meter.result();
    const usage = codeUsage(this.quantizer.jointCodes(concatArrays(codeParts, Int32Array), frames));
    const out: Evaluation = {
      valMse: metrics.valMse,
      valMseDb: metrics.valMseDb,
      maE,
      codeEntropy: usage.entropy,
      codePerplexity: usage.perplexity,
      symbolAccuracy: metrics.symbolAccuracy,
    };
    if (softMeter) {
      out.softValMse = softMeter.result().valMse;
      out.tau = this.tau;
    }
    if (metrics.extra) out.metrics = metrics.extra;
    if (metrics.segments) out.segments = metrics.segments;
    return out;
  }

  dispose(): void {
    this.codec.dispose();
    this.quantizer.dispose();
    this.source.dispose?.();
    this.#optimizer.dispose();
  }

  #context(rng: PassContext["rng"]): PassContext {
    return { quantizer: this.quantizer, rng, step: this.stepCount, totalSteps: this.totalSteps };
  }

  /** The codec's data-dependent initialisation on training examples drawn at step −2. [choice] */
  #initializeCodec(): void {
    const init = this.codec.initialization!;
    const batch = this.source.trainBatch(-2, init.examples);
    const count = batch.xShape[0];
    init.run(batch.x, count, batch.x.length / count);
  }

  /**
   * The quantizer's data-dependent initialisation on the latents of training examples drawn
   * at step −1: at least a training batch, and enough examples for the frames it asks for
   * (one encode; a codec with several frames per example needs fewer examples). [choice]
   */
  #initializeQuantizer(): void {
    const init = this.quantizer.initialization!;
    const { batchSize } = this.config.train;
    let z = this.#initLatents(batchSize);
    if (z.shape[0] < init.frames) {
      const perExample = z.shape[0] / batchSize;
      z.dispose();
      z = this.#initLatents(Math.max(batchSize, Math.ceil(init.frames / perExample)));
    }
    init.run(z.dataSync() as Float32Array, z.shape[0]);
    z.dispose();
  }

  #initLatents(examples: number): tf.Tensor2D {
    const batch = this.source.trainBatch(-1, examples);
    return tf.tidy(() =>
      this.quantizer.prepare(foldFrames(this.codec.encode(tf.tensor(batch.x, [...batch.xShape]))))
    );
  }
}

/**
 * Build a session for a validated config (see `resolveConfig`): parts not given are built from
 * the config; a bare `Source` stands for `{ source }`. A quantizer handed in is not initialised
 * again. Custom passers and quantizers come from `custom`.
 */
export function createSession(
  config: RunConfig,
  given: Partial<Parts> | Source = {},
  trainable: Trainable = "all",
  custom: CustomKinds = NO_CUSTOM_KINDS,
): Session {
  const parts = "trainBatch" in given ? { source: given as Source } : given as Partial<Parts>;
  // Before anything is allocated: a step that cannot fit is refused with a hint, not a crash.
  checkMemory(config);
  return new Session(config, buildParts(config, parts, custom), {
    trainable,
    initializeQuantizer: parts.quantizer === undefined,
    initializeCodec: parts.codec === undefined,
  });
}

export interface TrainOptions {
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord, epochs: number) => void;
  /** Called after every optimizer step with the global step count and its training loss. */
  onStep?: (step: number, loss: number) => void;
  /** Use this source instead of the one `config.data` describes. */
  source?: Source;
  /** Parts built elsewhere (e.g. a trained codec); the rest are built from the config. */
  parts?: Partial<Parts>;
  /** Train everything (default) or only the decoder. */
  trainable?: Trainable;
  /**
   * The custom passers and quantizers the config may name (`loadCustomKinds` of
   * `lib/custom/mod.ts`); none by default.
   */
  custom?: CustomKinds;
  /** Stop between steps when aborted, rejecting with `signal.reason` (e.g. lib/interrupt.ts). */
  signal?: AbortSignal;
  /**
   * Called once training ended (finished or diverged, not aborted) with the trained session,
   * before it is disposed: e.g. to decode and keep reconstructions with the run.
   */
  onFinished?: (session: Session, diverged: Divergence | null) => void | Promise<void>;
}

/**
 * Train a run to the end or to divergence and return its plain-JSON result.
 *
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * import { resolveConfig } from "./config.ts";
 * await initBackend();
 * const config = resolveConfig({ passer: { kind: "mste" }, train: { epochs: 1, stepsPerEpoch: 20 } });
 * const result = await train(config);
 * console.log(result.final?.valMse, result.diverged);
 * ```
 */
export async function train(config: RunConfig, options: TrainOptions = {}): Promise<RunResult> {
  // Loading data (the speech corpus: seconds, once per process) is not training time.
  if (!options.source && !options.parts?.source) await prepareSource(config.data);
  const started = performance.now();
  const session = createSession(
    config,
    { ...options.parts, ...(options.source ? { source: options.source } : {}) },
    options.trainable,
    options.custom,
  );
  const { epochs, stepsPerEpoch, divergenceThreshold } = config.train;
  const history: EpochRecord[] = [];
  let diverged: Divergence | null = null;
  let peakRss = Deno.memoryUsage().rss;
  const traceEvery = config.train.traceEvery ?? 0;
  const steps: StepTrace | undefined = traceEvery > 0
    ? { every: traceEvery, loss: [], maE: [] }
    : undefined;
  try {
    for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
      let lossSum = 0;
      for (let i = 0; i < stepsPerEpoch; i++) {
        if (options.signal?.aborted) throw options.signal.reason;
        const loss = session.step();
        options.onStep?.(session.stepCount, loss);
        if (steps && session.stepCount % traceEvery === 0) {
          steps.loss.push(finiteOrNull(loss));
          steps.maE.push(finiteOrNull(session.lastBatchMaxAbs));
        }
        const reason = !Number.isFinite(loss)
          ? `non-finite training loss (${loss})`
          : !(session.lastBatchMaxAbs <= divergenceThreshold)
          ? `max |e| on the training batch = ${
            session.lastBatchMaxAbs.toExponential(3)
          } exceeds train.divergenceThreshold = ${divergenceThreshold}`
          : null;
        if (reason) {
          diverged = { step: session.stepCount, epoch, reason };
          break;
        }
        lossSum += loss;
      }
      if (diverged) break;
      const evaluation = session.evaluate();
      const record: EpochRecord = {
        epoch,
        step: session.stepCount,
        trainLoss: lossSum / stepsPerEpoch,
        ...evaluation,
        wallMs: performance.now() - started,
      };
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      if (!Number.isFinite(record.valMse) || !(record.maE <= divergenceThreshold)) {
        diverged = {
          step: session.stepCount,
          epoch,
          reason: Number.isFinite(record.valMse)
            ? `validation MA-E = ${
              record.maE.toExponential(3)
            } exceeds train.divergenceThreshold = ${divergenceThreshold}`
            : `non-finite validation MSE (${record.valMse})`,
        };
        break;
      }
      history.push(record);
      options.onEpoch?.(record, epochs);
      // Let the event loop breathe so progress output and signals get through between epochs.
      await new Promise((r) => setTimeout(r, 0));
    }
    await options.onFinished?.(session, diverged);
  } finally {
    session.dispose();
  }
  return {
    config,
    history,
    final: history.at(-1) ?? null,
    diverged,
    versions: { ...backendInfo(), quantlab: QUANTLAB_VERSION },
    wallMs: performance.now() - started,
    peakRssMb: Math.max(peakRss, Deno.memoryUsage().rss) / 2 ** 20,
    ...(steps ? { steps } : {}),
  };
}

/** A number as JSON keeps it: non-finite values become null (JSON has no NaN or Infinity). */
function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** tf.tidy for a function returning a record of tensors (or nulls); keeps exactly those. */
function tidyObject<T extends Record<string, tf.Tensor | null>>(fn: () => T): T {
  let out: T | null = null;
  tf.tidy(() => {
    out = fn();
    Object.values(out).forEach((t) => t && tf.keep(t));
  });
  return out!;
}
