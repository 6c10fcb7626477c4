/**
 * Data sources: what the trainer trains on and validates with. A source supplies seeded
 * training batches, a fixed validation set in batches, the training loss and its validation
 * metrics (the contract is `types.ts`), so the trainer never assumes a kind of data or a loss.
 * Each kind owns its config, defaults and validation beside its source; {@linkcode SOURCES} is
 * the registry `resolveConfig` and `buildSource` walk. A new kind adds its config to
 * {@linkcode DataConfig} and an entry to {@linkcode SOURCES}.
 *
 * @module
 */
import type { Kind } from "../kinds.ts";
import { SIMULATED_DEFAULTS, SimulatedSource, validateSimulated } from "./simulated.ts";
import type { SimulatedDataConfig } from "./simulated.ts";
import { prepareSpeech, speechSource } from "./speech.ts";
import {
  SPEECH_SOURCE_DEFAULTS,
  type SpeechSourceConfig,
  validateSpeech,
} from "./speech_config.ts";
import type { Batch, Source, SourceBuilder } from "./types.ts";

export {
  oracleFloor,
  SIMULATED_DEFAULTS,
  SimulatedSource,
  validateSimulated,
} from "./simulated.ts";
export { mseLoss, mseMeter } from "./mse.ts";
export type { FloorDistribution, FrameBatch, SimulatedDataConfig } from "./simulated.ts";
export { prepareSpeech, releaseSpeech, speechLoss, SpeechSource } from "./speech.ts";
export {
  SPEECH_SOURCE_DEFAULTS,
  type SpeechSourceConfig,
  validateSpeech,
} from "./speech_config.ts";
export type { Batch, Source, SourceBuilder, SourceMetrics, ValidationMeter } from "./types.ts";

/** The data a run trains on, by `kind`. */
export type DataConfig = SimulatedDataConfig | SpeechSourceConfig;

/** The registry of data kinds: defaults, validation and builder per `data.kind`. */
export const SOURCES: {
  [K in DataConfig["kind"]]: Kind<
    Extract<DataConfig, { kind: K }>,
    SourceBuilder<Extract<DataConfig, { kind: K }>>
  >;
} = {
  simulated: {
    defaults: SIMULATED_DEFAULTS,
    validate: validateSimulated,
    build: (config, seed) => new SimulatedSource(config, seed),
  },
  speech: {
    defaults: SPEECH_SOURCE_DEFAULTS,
    optional: ["siSdrWeight", "validationMinActive"],
    validate: validateSpeech,
    build: (config, seed) => speechSource(config, seed),
  },
};

/**
 * Load what a data kind needs before its (synchronous) builder can run: the speech corpus for
 * `"speech"` (fetched when missing, kept for the process); nothing for `"simulated"`.
 * `train()` calls it; call it yourself before `createSession` or `buildSource`.
 */
export async function prepareSource(config: DataConfig): Promise<void> {
  if (config.kind === "speech") await prepareSpeech(config);
}

/**
 * The source a (validated) data config names.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config.ts";
 * const config = resolveConfig({});
 * const source = buildSource(config.data, config.train.seed);
 * console.log(source.inputDim); // 16
 * ```
 */
export function buildSource(config: DataConfig, seed: number): Source {
  const build = SOURCES[config.kind]?.build as SourceBuilder<DataConfig> | undefined;
  if (!build) throw new Error(`buildSource: no source registered for data.kind = "${config.kind}"`);
  return build(config, seed);
}

/**
 * Split a batch along its leading axis into batches of at most `size` examples (views, no
 * copies): how a source serves a long validation set in batches of a configured size.
 *
 * @example
 * ```ts
 * const x = new Float32Array(10 * 4);
 * const parts = splitBatch({ x, xShape: [10, 4], y: x, yShape: [10, 4] }, 4);
 * console.log(parts.map((b) => b.xShape[0])); // [4, 4, 2]
 * ```
 */
export function splitBatch(batch: Batch, size: number): Batch[] {
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`splitBatch: size ${size} is not a positive integer`);
  }
  const n = batch.xShape[0];
  if (batch.yShape[0] !== n) {
    throw new RangeError(`splitBatch: x has ${n} examples, y has ${batch.yShape[0]}`);
  }
  const xPer = batch.x.length / n, yPer = batch.y.length / n;
  const out: Batch[] = [];
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    out.push({
      x: batch.x.subarray(start * xPer, (start + count) * xPer),
      xShape: [count, ...batch.xShape.slice(1)],
      y: batch.y.subarray(start * yPer, (start + count) * yPer),
      yShape: [count, ...batch.yShape.slice(1)],
    });
  }
  return out;
}
