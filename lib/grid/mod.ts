/**
 * The grid runner: run many training configs over worker processes, each result cached under a
 * hash of its normalised config, the job and the library version.
 *
 * @example
 * ```ts
 * import { expandGrid, runGrid } from "./mod.ts";
 * const configs = expandGrid({
 *   base: { train: { epochs: 1, stepsPerEpoch: 20 } },
 *   vary: { "passer.kind": ["ste", "mste", "na-attached"], "train.seed": [0, 1] },
 * });
 * const { results, failures } = await runGrid(configs, {
 *   store: await Deno.makeTempDir(), // default: $QUANTLAB_CACHE/results or .cache/results
 *   onProgress: (p) => console.log(p.done),
 * });
 * ```
 *
 * @module
 */
export {
  expandGrid,
  type GridInput,
  type GridSpec,
  loadGrid,
  MAX_GRID_CONFIGS,
  parseGrid,
} from "./expand.ts";
export { DEFAULT_JOB, type JobRef, resolveJob } from "./job.ts";
export { canonicalJson, decodeJson, encodeJson, resultKey } from "./key.ts";
export {
  diffPaths,
  type MergeConflict,
  type MergeReport,
  MergeSourceError,
  mergeStores,
} from "./merge.ts";
export { DEFAULT_START_TIMEOUT_MS, type PoolOutcome, WorkerStartError } from "./pool.ts";
export { formatDuration, formatProgress, type GridProgress } from "./progress.ts";
export {
  type GridFailure,
  type GridOptions,
  type GridReport,
  type GridStatus,
  gridStatus,
  runGrid,
} from "./run.ts";
export { parseShard, type Shard, shardKeys } from "./shard.ts";
export { measureSpeedup, speedupGrid, type SpeedupReport } from "./speedup.ts";
export {
  checkEntry,
  type ClaimHolder,
  defaultStoreDir,
  makeEntry,
  ResultStore,
  type StoreEntry,
} from "./store.ts";
export type { JobOptions } from "./worker.ts";
