/**
 * The trainer: Adam on reconstruction MSE plus the quantizer's auxiliary losses, seeded and
 * deterministic on one backend. It sees a {@linkcode FrameSource}, a {@linkcode Codec}, a
 * {@linkcode Quantizer} and a {@linkcode Passer}; it knows nothing of simulated data or plots.
 *
 * Loss per step: mean(ŷ − y)² + β·mean(z − sg(Q(z)))² + w·codebookLoss.
 * Divergence (a non-finite loss, or max |e| above `train.divergenceThreshold`) ends the run
 * with `diverged` set in the result: an outcome, never a crash.
 *
 * @module
 */
import { backendInfo, tf } from "./backend.ts";
import { mlpCodec } from "./codec.ts";
import type { Codec } from "./codec.ts";
import type { RunConfig } from "./config.ts";
import { type FrameSource, SimulatedSource } from "./data.ts";
import { stopGradient } from "./grad.ts";
import { codeUsage, maxAbs, mseDb } from "./metrics.ts";
import { buildPasser, type Passer, temperature } from "./passers.ts";
import { buildQuantizer, type Quantizer } from "./quantizers/mod.ts";
import { rngFor } from "./random.ts";
import type { Divergence, EpochRecord, RunResult } from "./result.ts";
import { QUANTLAB_VERSION } from "./version.ts";

/** Validation metrics of the current model (an {@linkcode EpochRecord} without bookkeeping). */
export type Evaluation = Omit<EpochRecord, "epoch" | "step" | "trainLoss" | "wallMs">;

/** One training run's state, stepped explicitly (the bench and tests use it directly). */
export class Session {
  readonly source: FrameSource;
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
  readonly #validationX: tf.Tensor2D;

  constructor(readonly config: RunConfig, source?: FrameSource) {
    const { seed } = config.train;
    this.source = source ?? new SimulatedSource(config.data, seed);
    this.codec = mlpCodec(
      config.codec,
      this.source.inputDim,
      this.source.outputDim,
      rngFor(seed, "codec"),
    );
    this.quantizer = buildQuantizer(
      config.quantizer,
      this.codec.latentDim,
      rngFor(seed, "quantizer"),
    );
    this.passer = buildPasser(config.passer);
    this.totalSteps = config.train.epochs * config.train.stepsPerEpoch;
    const t = config.train;
    this.#optimizer = tf.train.adam(t.learningRate, t.beta1, t.beta2, t.epsilon);
    this.#variables = [...this.codec.variables, ...this.quantizer.variables];
    const v = this.source.validation;
    this.#validationX = tf.tensor2d(v.x, [v.count, this.source.inputDim]);
    if (config.quantizer.kind !== "fsq" && config.quantizer.init === "kmeans") this.#kmeansInit();
  }

  /** Soft-to-hard temperature at the current step. */
  get tau(): number {
    return temperature(this.config.passer, this.stepCount, this.totalSteps);
  }

  /** One optimizer step on a fresh batch; returns the loss (NaN/Infinity are returned, not thrown). */
  step(): number {
    const { train } = this.config;
    const batch = this.source.trainBatch(this.stepCount, train.batchSize);
    const ctx = {
      quantizer: this.quantizer,
      rng: rngFor(train.seed, `noise.${this.stepCount}`),
      tau: this.tau,
    };
    let maxE: tf.Scalar | null = null;
    let kept: { z: tf.Tensor2D; codes: tf.Tensor2D } | null = null;
    const x = tf.tensor2d(batch.x, [batch.count, this.source.inputDim]);
    const y = tf.tensor2d(batch.y, [batch.count, this.source.outputDim]);
    const cost = this.#optimizer.minimize(
      () => {
        const e = this.codec.encode(x);
        const z = this.quantizer.prepare(e);
        const hard = this.quantizer.quantize(z);
        const yhat = this.codec.decode(this.passer(z, hard, ctx));
        let loss = tf.mean(tf.squaredDifference(yhat, y)) as tf.Scalar;
        if (train.commitment > 0) {
          loss = tf.add(
            loss,
            tf.mul(tf.mean(tf.squaredDifference(z, stopGradient(hard.q))), train.commitment),
          );
        }
        if (hard.codebookLoss && train.codebookWeight > 0) {
          loss = tf.add(loss, tf.mul(hard.codebookLoss, train.codebookWeight));
        }
        maxE = tf.keep(tf.max(tf.abs(e)));
        if (this.quantizer.afterStep) {
          kept = {
            z: tf.keep(stopGradient(z)),
            codes: tf.keep(hard.codes),
          };
        }
        return loss;
      },
      true,
      this.#variables,
    )!;
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

  /** Validation with the hard quantizer (and, for soft-to-hard, the soft one at the current τ). */
  evaluate(): Evaluation {
    const v = this.source.validation;
    const { yhat, e, codes, softYhat } = tidyObject(() => {
      const e = this.codec.encode(this.#validationX);
      const z = this.quantizer.prepare(e);
      const hard = this.quantizer.quantize(z);
      const yhat = this.codec.decode(hard.q);
      const soft = this.config.passer.kind === "soft-to-hard" && this.quantizer.soft
        ? this.codec.decode(this.quantizer.soft(z, this.tau))
        : null;
      return { yhat, e, codes: hard.codes, softYhat: soft };
    });
    const yhatData = yhat.dataSync() as Float32Array;
    const codeData = codes.dataSync() as Int32Array;
    const valMse = meanSquaredError(yhatData, v.y);
    const usage = codeUsage(this.quantizer.jointCodes(codeData, v.count));
    const out: Evaluation = {
      valMse,
      valMseDb: mseDb(valMse, v.y),
      maE: maxAbs(e.dataSync()),
      codeEntropy: usage.entropy,
      codePerplexity: usage.perplexity,
      symbolAccuracy: this.source.symbolAccuracy ? this.source.symbolAccuracy(yhatData) : NaN,
    };
    if (softYhat) {
      out.softValMse = meanSquaredError(softYhat.dataSync() as Float32Array, v.y);
      out.tau = this.tau;
    }
    tf.dispose([yhat, e, codes, softYhat].filter((t) => t !== null) as tf.Tensor[]);
    return out;
  }

  dispose(): void {
    this.codec.dispose();
    this.quantizer.dispose();
    this.#optimizer.dispose();
    this.#validationX.dispose();
  }

  #kmeansInit(): void {
    const { train } = this.config;
    const q = this.config.quantizer;
    const size = q.kind === "vq" ? 2 ** q.bits : q.kind === "rvq" ? 2 ** q.bitsPerStage : 0;
    const frames = Math.max(train.batchSize, 4 * size);
    const batch = this.source.trainBatch(-1, frames);
    const z = tf.tidy(() =>
      this.quantizer.prepare(
        this.codec.encode(tf.tensor2d(batch.x, [frames, this.source.inputDim])),
      )
    );
    this.quantizer.initialize!(z.dataSync() as Float32Array, frames);
    z.dispose();
  }
}

/** Build a session for a validated config (see `resolveConfig`). */
export function createSession(config: RunConfig, source?: FrameSource): Session {
  return new Session(config, source);
}

export interface TrainOptions {
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord, epochs: number) => void;
  /** Use this source instead of the simulated one the config describes. */
  source?: FrameSource;
  /** Stop between steps when aborted, rejecting with `signal.reason` (e.g. lib/interrupt.ts). */
  signal?: AbortSignal;
}

/**
 * Train a run to the end or to divergence and return its plain-JSON result.
 *
 * @example
 * ```ts
 * await initBackend();
 * const result = await train(resolveConfig({ passer: { kind: "mste" } }));
 * console.log(result.final?.valMse, result.diverged);
 * ```
 */
export async function train(config: RunConfig, options: TrainOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const session = createSession(config, options.source);
  const { epochs, stepsPerEpoch, divergenceThreshold } = config.train;
  const history: EpochRecord[] = [];
  let diverged: Divergence | null = null;
  let peakRss = Deno.memoryUsage().rss;
  try {
    for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
      let lossSum = 0;
      for (let i = 0; i < stepsPerEpoch; i++) {
        if (options.signal?.aborted) throw options.signal.reason;
        const loss = session.step();
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
  };
}

function meanSquaredError(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
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
