/**
 * `runGrid`: run a list of configs over a pool of worker processes, computing only what the
 * store lacks, and return the results in input order.
 *
 * @module
 */
import { type ConfigInput, resolveConfig, type RunConfig } from "../config.ts";
import { checkMemory } from "../memory.ts";
import type { RunResult } from "../result.ts";
import { resolveJob } from "./job.ts";
import { keyGemm, resultKey } from "./key.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
import { type PoolOutcome, runPool } from "./pool.ts";
import { formatDuration, formatProgress, type GridProgress, varyingLabeller } from "./progress.ts";
import { parseShard, type Shard, shardKeys } from "./shard.ts";
import { CLAIM_HEARTBEAT_MS, ResultStore } from "./store.ts";

/** Options of {@linkcode runGrid}; all optional. */
export interface GridOptions {
  /** Store directory or instance. Default: `$QUANTLAB_CACHE`, else `<repo>/.cache/results`. */
  store?: string | ResultStore;
  /** Job as `module#export`. Default `lib/train.ts#train`. */
  job?: string;
  /** Worker processes. Default: one per core (`navigator.hardwareConcurrency`). */
  workers?: number;
  /** Run only this slice of the grid (`"i/n"` or a {@linkcode Shard}). */
  shard?: Shard | string;
  /** Ignore stored results and overwrite them. */
  recompute?: boolean;
  /** Kill and fail a job running longer than this. Default: no limit. */
  jobTimeoutMs?: number;
  /** Fail the grid when a worker is not ready this long after its start. Default 120 s. */
  startTimeoutMs?: number;
  /** Replace a worker after this many jobs (bounds memory growth). Default: no limit. */
  maxJobsPerWorker?: number;
  /** Extra environment variables for the workers. */
  env?: Record<string, string>;
  /**
   * The GEMM identity the runs' keys declare (`lib/grid/key.ts`), e.g. "OpenBLAS 0.3.21 Zen".
   * Default: this process's ({@linkcode expectedGemmIdentity}: the pinned OpenBLAS kernel, or
   * the override). A worker that reports another GEMM has its result refused, not stored under
   * a key that would misdescribe it.
   */
  gemm?: string;
  /**
   * Stop the grid: the workers are killed at once, every result already stored stays, nothing
   * partial is written, and `runGrid` rejects with `signal.reason` when that is an Error (other
   * than the default DOMException), else with an Error named "AbortError" saying how many runs
   * were done. Running the same grid again resumes.
   */
  signal?: AbortSignal;
  /** Called at the start, on every epoch a running job reports, and after every finished job. */
  onProgress?: (progress: GridProgress) => void;
  /** Terminal lines: progress, store warnings, worker stderr. Default: stderr; `() => {}` silences. */
  log?: (line: string) => void;
}

/** A job that threw, timed out, or killed its worker twice. */
export interface GridFailure {
  /** Position of its (first) config in the input. */
  index: number;
  key: string;
  config: RunConfig;
  error: string;
}

/** What {@linkcode runGrid} returns. Counts are of distinct runs (equal configs run once). */
export interface GridReport<R = RunResult> {
  /** Per input config: its result, or undefined when it failed or lies outside the shard. */
  results: (R | undefined)[];
  /** Per input config: its resolved config and its cache key. */
  configs: RunConfig[];
  keys: string[];
  /** Distinct runs handled (the shard's share when sharded). */
  total: number;
  /** Runs found in the store, including those another runner on the store computed meanwhile. */
  cached: number;
  computed: number;
  failures: GridFailure[];
  /** Distinct runs left to other shards. */
  skipped: number;
  wallMs: number;
}

/** How often a runner looks for results that another runner on the store is computing. */
const POLL_MS = 250;

/**
 * Run a grid. Missing results are computed over worker processes and stored atomically as
 * each finishes, so an interrupted grid resumes where it stopped; a failed job is reported,
 * not stored, and does not stop the others. Each run is claimed in the store before it starts,
 * so a second runner on the same store leaves it to the first and waits for its result.
 *
 * @example
 * ```ts
 * import { expandGrid } from "./expand.ts";
 * import { formatProgress } from "./progress.ts";
 * const configs = expandGrid({
 *   base: { train: { epochs: 1, stepsPerEpoch: 20 } },
 *   vary: { "passer.kind": ["ste", "mste"], "train.seed": [0, 1] },
 * });
 * const stop = new AbortController(); // stop.abort() interrupts; a re-run resumes
 * const { results, failures } = await runGrid(configs, {
 *   store: await Deno.makeTempDir(), // default: $QUANTLAB_CACHE/results or .cache/results
 *   signal: stop.signal,
 *   onProgress: (p) => p.event === "job" && console.log(formatProgress(p)),
 * });
 * ```
 */
export async function runGrid<R = RunResult>(
  inputs: readonly ConfigInput[],
  options: GridOptions = {},
): Promise<GridReport<R>> {
  const t0 = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const signal = options.signal;
  const plan = planGrid(inputs, options);
  const store = openStore(options.store, log);
  const { configs, keys } = plan;
  const label = varyingLabeller(configs);
  const firstIndex = new Map<string, number>();
  keys.forEach((k, i) => firstIndex.has(k) || firstIndex.set(k, i));
  const configOf = (key: string) => configs[firstIndex.get(key)!];

  const progress: GridProgress = {
    event: "start",
    running: [],
    done: 0,
    total: plan.inScope.size,
    cached: 0,
    computed: 0,
    failed: 0,
    elapsedMs: 0,
    etaMs: undefined,
  };
  const aborted = () => abortError(signal!, progress);
  if (signal?.aborted) throw aborted();

  await store.sweepTemp();
  const stored = new Map<string, R>();
  if (!options.recompute) {
    for (const key of plan.inScope) {
      const entry = await store.get<R>(key);
      if (entry) stored.set(key, entry.result);
    }
  }
  const failures: GridFailure[] = [];
  for (const key of plan.inScope) {
    if (stored.has(key) || !store.blocked(key)) continue;
    const error = `cannot store a result at ${store.path(key)}: ` +
      `something unreadable is there and could not be moved aside; remove it and re-run`;
    failures.push({ index: firstIndex.get(key)!, key, config: configOf(key), error });
  }
  const missing = [...plan.inScope].filter((k) => !stored.has(k) && !store.blocked(k));
  if (missing.length > 0) await store.probe();

  progress.cached = stored.size;
  progress.failed = failures.length;
  progress.done = stored.size + failures.length;
  progress.etaMs = missing.length === 0 ? 0 : undefined;
  const workers = Math.max(
    1,
    Math.min(options.workers ?? navigator.hardwareConcurrency, missing.length),
  );
  const shardNote = plan.shard ? ` in shard ${plan.shard.index}/${plan.shard.count}` : "";
  log(
    `[grid] ${progress.total} runs${shardNote}: ${stored.size} cached, ${missing.length} to compute` +
      (missing.length ? ` on ${workers} worker${workers > 1 ? "s" : ""}` : "") +
      ` (job ${plan.job.id}, store ${store.dir})`,
  );

  const running = new Map<number, GridProgress["running"][number]>();
  const emit = (event: GridProgress["event"]) => {
    progress.event = event;
    progress.elapsedMs = performance.now() - t0;
    progress.running = [...running.values()].map((r) => ({ ...r }));
    options.onProgress?.({ ...progress, ...(progress.last ? { last: { ...progress.last } } : {}) });
  };
  emit("start");

  let ranHere = 0;
  const finish = (key: string, outcome: PoolOutcome | { ok: true; cached: true; result: R }) => {
    const index = firstIndex.get(key)!;
    const config = configOf(key);
    if (outcome.ok) {
      stored.set(key, outcome.result as R);
      if ("cached" in outcome) progress.cached++;
      else progress.computed++;
    } else {
      failures.push({ index, key, config, error: outcome.error });
      progress.failed++;
    }
    progress.done++;
    if (!("cached" in outcome)) ranHere++;
    const elapsed = performance.now() - t0;
    const left = progress.total - progress.done;
    progress.etaMs = left === 0 ? 0 : ranHere ? (elapsed / ranHere) * left : undefined;
    progress.last = {
      index,
      key,
      label: label(config),
      ok: outcome.ok,
      wallMs: "wallMs" in outcome ? outcome.wallMs : 0,
      ...(outcome.ok ? {} : { error: outcome.error }),
    };
    progress.elapsedMs = elapsed;
    log(formatProgress(progress));
    emit("job");
  };

  const owner = crypto.randomUUID();
  const held = new Set<string>();
  const heartbeat = setInterval(() => store.touchClaims(held), CLAIM_HEARTBEAT_MS);
  Deno.unrefTimer(heartbeat);
  const release = async (key: string) => {
    held.delete(key);
    await store.release(key, owner);
  };

  try {
    let toRun = missing;
    while (toRun.length > 0) {
      const batch = toRun;
      const deferred: string[] = [];
      running.clear();
      await runPool(batch.map((key, id) => ({ id, config: configOf(key) })), {
        job: plan.job,
        size: workers,
        env: options.env,
        jobTimeoutMs: options.jobTimeoutMs,
        startTimeoutMs: options.startTimeoutMs,
        maxJobsPerWorker: options.maxJobsPerWorker,
        signal,
        log,
        describe: (job) => label(job.config) || batch[job.id].slice(0, 12),
        take: async (job) => {
          const key = batch[job.id];
          if (!(await store.claim(key, owner))) {
            deferred.push(key);
            return false;
          }
          held.add(key);
          // Another runner may have stored it since we looked.
          const entry = options.recompute ? undefined : await store.get<R>(key);
          if (!entry) return true;
          await release(key);
          finish(key, { ok: true, cached: true, result: entry.result });
          return false;
        },
        onStart: (job) => {
          running.set(job.id, {
            index: firstIndex.get(batch[job.id])!,
            label: label(job.config),
            epoch: 0,
            epochs: job.config.train?.epochs ?? 0,
          });
        },
        onEpoch: (job, epoch, epochs) => {
          const r = running.get(job.id);
          if (r) Object.assign(r, { epoch, epochs });
          emit("epoch");
        },
        onDone: async (job, outcome) => {
          const key = batch[job.id];
          running.delete(job.id);
          try {
            if (outcome.ok && outcome.gemm != null && outcome.gemm !== plan.gemm) {
              outcome = {
                ok: false,
                error: `computed with GEMM "${outcome.gemm}" but this grid's keys declare ` +
                  `"${plan.gemm}" (the workers' environment differs from this process's, e.g. ` +
                  `QUANTLAB_GEMM or QUANTLAB_OPENBLAS_CORETYPE in the workers' env); not stored`,
                wallMs: outcome.wallMs,
                attempts: outcome.attempts,
              };
            }
            if (outcome.ok) {
              await store.put(
                job.config,
                plan.job.id,
                outcome.result,
                undefined,
                outcome.gemm,
                plan.gemm,
              );
            }
          } finally {
            await release(key);
          }
          finish(key, outcome);
        },
      });
      running.clear();
      if (deferred.length === 0) break;
      log(
        `[grid] ${deferred.length} run${deferred.length > 1 ? "s are" : " is"} being computed ` +
          `by another runner on ${store.dir}; waiting for ${deferred.length > 1 ? "them" : "it"}`,
      );
      toRun = await waitForOthers(
        store,
        deferred,
        signal,
        (key, result) => finish(key, { ok: true, cached: true, result: result as R }),
      );
    }
  } catch (err) {
    if (signal?.aborted) throw aborted();
    throw err;
  } finally {
    clearInterval(heartbeat);
    for (const key of [...held]) await release(key);
  }

  const wallMs = performance.now() - t0;
  failures.sort((a, b) => a.index - b.index);
  log(
    `[grid] finished ${progress.total} runs in ${formatDuration(wallMs)}: ` +
      `${progress.computed} computed, ${progress.cached} cached, ${progress.failed} failed`,
  );
  for (const f of failures) {
    log(`[grid] FAILED #${f.index} ${label(f.config) || f.key.slice(0, 12)}: ${f.error}`);
  }
  return {
    results: keys.map((k) => stored.get(k)),
    configs,
    keys,
    total: progress.total,
    cached: progress.cached,
    computed: progress.computed,
    failures,
    skipped: new Set(keys).size - plan.inScope.size,
    wallMs,
  };
}

/**
 * Wait until each of `keys`, claimed by another runner, is stored (`found` is called) or its
 * claim is gone or stale without a result; return those, for this runner to compute.
 */
async function waitForOthers(
  store: ResultStore,
  keys: readonly string[],
  signal: AbortSignal | undefined,
  found: (key: string, result: unknown) => void,
): Promise<string[]> {
  const pending = new Set(keys);
  const orphaned: string[] = [];
  while (pending.size > 0) {
    if (signal?.aborted) throw signal.reason;
    for (const key of [...pending]) {
      const entry = await store.get(key);
      if (entry) {
        pending.delete(key);
        found(key, entry.result);
        continue;
      }
      const state = await store.claimState(key);
      if (state === "free" || !state.live) {
        pending.delete(key);
        orphaned.push(key);
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return orphaned;
}

/** The rejection of an aborted grid (see {@linkcode GridOptions.signal}). */
function abortError(signal: AbortSignal, p: GridProgress): Error {
  const reason = signal.reason;
  if (reason instanceof Error && !(reason instanceof DOMException)) return reason;
  const err = new Error(
    `grid interrupted: ${p.done} of ${p.total} runs done (${p.computed} computed now, ` +
      `${p.cached} cached, ${p.failed} failed), every finished result is stored; ` +
      `running the same grid again resumes from there`,
    { cause: reason },
  );
  err.name = "AbortError";
  return err;
}

/** What {@linkcode gridStatus} returns. */
export interface GridStatus {
  /** Distinct runs in scope (the shard's share when sharded). */
  total: number;
  done: number;
  missing: number;
  /** Keys of the missing runs, sorted. */
  missingKeys: string[];
}

/** How much of a grid the store already holds. Read-only: corrupt entries are reported, not moved. */
export async function gridStatus(
  inputs: readonly ConfigInput[],
  options: Pick<GridOptions, "store" | "job" | "shard" | "log" | "gemm"> = {},
): Promise<GridStatus> {
  const log = options.log ?? ((line: string) => console.error(line));
  const plan = planGrid(inputs, options);
  const store = openStore(options.store, log);
  const missingKeys: string[] = [];
  for (const key of plan.inScope) {
    if (!(await store.get(key, { repair: false }))) missingKeys.push(key);
  }
  const total = plan.inScope.size;
  return {
    total,
    done: total - missingKeys.length,
    missing: missingKeys.length,
    missingKeys: missingKeys.sort(),
  };
}

function planGrid(
  inputs: readonly ConfigInput[],
  options: Pick<GridOptions, "job" | "shard" | "gemm">,
) {
  const configs = inputs.map((c, i) => {
    try {
      const config = resolveConfig(c);
      checkMemory(config);
      return config;
    } catch (err) {
      throw new Error(`grid: entry ${i}: ${(err as Error).message}`, { cause: err });
    }
  });
  const job = resolveJob(options.job);
  const gemm = options.gemm ?? expectedGemmIdentity();
  const keys = configs.map((c) => resultKey(c, job.id, undefined, keyGemm(gemm)));
  const shard = typeof options.shard === "string" ? parseShard(options.shard) : options.shard;
  const inScope = shard ? shardKeys(keys, shard) : new Set(keys);
  return { configs, keys, job, shard, inScope, gemm };
}

function openStore(
  store: string | ResultStore | undefined,
  log: (line: string) => void,
): ResultStore {
  return store instanceof ResultStore ? store : new ResultStore(store, { warn: log });
}
