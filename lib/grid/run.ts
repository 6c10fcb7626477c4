/**
 * `runGrid`: run a list of configs over a pool of worker processes, computing only what the
 * store lacks, and return the results in input order.
 *
 * @module
 */
import { type ConfigInput, resolveConfig, type RunConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { resolveJob } from "./job.ts";
import { resultKey } from "./key.ts";
import { runPool } from "./pool.ts";
import { formatDuration, formatProgress, type GridProgress, varyingLabeller } from "./progress.ts";
import { parseShard, type Shard, shardKeys } from "./shard.ts";
import { ResultStore } from "./store.ts";

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
  /** Replace a worker after this many jobs (bounds memory growth). Default: no limit. */
  maxJobsPerWorker?: number;
  /** Extra environment variables for the workers. */
  env?: Record<string, string>;
  /** Called once at the start and after every finished job (for notebooks). */
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
  cached: number;
  computed: number;
  failures: GridFailure[];
  /** Distinct runs left to other shards. */
  skipped: number;
  wallMs: number;
}

/**
 * Run a grid. Missing results are computed over worker processes and stored atomically as
 * each finishes, so an interrupted grid resumes where it stopped; a failed job is reported,
 * not stored, and does not stop the others.
 *
 * @example
 * ```ts
 * const configs = expandGrid({ vary: { "passer.kind": ["ste", "mste"], "train.seed": [0, 1] } });
 * const { results, failures } = await runGrid(configs, { onProgress: (p) => show(p) });
 * ```
 */
export async function runGrid<R = RunResult>(
  inputs: readonly ConfigInput[],
  options: GridOptions = {},
): Promise<GridReport<R>> {
  const t0 = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const plan = planGrid(inputs, options);
  const store = openStore(options.store, log);
  const { configs, keys } = plan;
  const label = varyingLabeller(configs);

  await store.sweepTemp();
  const stored = new Map<string, R>();
  if (!options.recompute) {
    for (const key of plan.inScope) {
      const entry = await store.get<R>(key);
      if (entry) stored.set(key, entry.result);
    }
  }
  const firstIndex = new Map<string, number>();
  keys.forEach((k, i) => firstIndex.has(k) || firstIndex.set(k, i));
  const missing = [...plan.inScope].filter((k) => !stored.has(k));

  const progress: GridProgress = {
    done: stored.size,
    total: plan.inScope.size,
    cached: stored.size,
    computed: 0,
    failed: 0,
    elapsedMs: 0,
    etaMs: missing.length === 0 ? 0 : undefined,
  };
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
  options.onProgress?.({ ...progress });

  const failures: GridFailure[] = [];
  await runPool(
    missing.map((key, id) => ({ id, config: configs[firstIndex.get(key)!] })),
    {
      job: plan.job,
      size: workers,
      env: options.env,
      jobTimeoutMs: options.jobTimeoutMs,
      maxJobsPerWorker: options.maxJobsPerWorker,
      log,
      describe: (job) => label(job.config) || missing[job.id].slice(0, 12),
      onDone: async (job, outcome) => {
        const key = missing[job.id];
        const index = firstIndex.get(key)!;
        if (outcome.ok) {
          await store.put(job.config, plan.job.id, outcome.result);
          stored.set(key, outcome.result as R);
          progress.computed++;
        } else {
          failures.push({ index, key, config: job.config, error: outcome.error });
          progress.failed++;
        }
        progress.done++;
        progress.elapsedMs = performance.now() - t0;
        const ran = progress.computed + progress.failed;
        progress.etaMs = (progress.elapsedMs / ran) * (missing.length - ran);
        progress.last = {
          index,
          key,
          label: label(job.config),
          ok: outcome.ok,
          wallMs: outcome.wallMs,
          ...(outcome.ok ? {} : { error: outcome.error }),
        };
        log(formatProgress(progress));
        options.onProgress?.({ ...progress, last: { ...progress.last } });
      },
    },
  );

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
  options: Pick<GridOptions, "store" | "job" | "shard" | "log"> = {},
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

function planGrid(inputs: readonly ConfigInput[], options: Pick<GridOptions, "job" | "shard">) {
  const configs = inputs.map((c, i) => {
    try {
      return resolveConfig(c);
    } catch (err) {
      throw new Error(`grid: entry ${i}: ${(err as Error).message}`, { cause: err });
    }
  });
  const job = resolveJob(options.job);
  const keys = configs.map((c) => resultKey(c, job.id));
  const shard = typeof options.shard === "string" ? parseShard(options.shard) : options.shard;
  const inScope = shard ? shardKeys(keys, shard) : new Set(keys);
  return { configs, keys, job, shard, inScope };
}

function openStore(
  store: string | ResultStore | undefined,
  log: (line: string) => void,
): ResultStore {
  return store instanceof ResultStore ? store : new ResultStore(store, { warn: log });
}
