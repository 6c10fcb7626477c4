/**
 * The grid runner's command line (`./quantlab grid …`).
 *
 * ```
 * grid run <grid.json> [--workers N] [--shard i/n] [--store DIR] [--job module#export]
 *                      [--timeout SECONDS] [--start-timeout SECONDS] [--recompute]
 * grid status <grid.json> [--shard i/n] [--store DIR] [--job module#export]
 * grid merge <dir>... --into <dir>
 * grid speedup [<grid.json>] [--jobs N] [--job module#export] [--workers 1,2] [--repeat N]
 * ```
 *
 * Progress and warnings go to stderr; the last stdout line of every command is one JSON object
 * summarising it. Exit status: 0 done, 1 some jobs failed (or a worker could not start, or the
 * store could not be written), 2 bad usage or an invalid grid, 130 interrupted (SIGINT/SIGTERM:
 * the workers are stopped, what finished is stored, and re-running resumes). Relative paths are
 * relative to the current directory (`./quantlab` keeps the caller's). Errors are printed as one
 * message, never a stack trace.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  formatDuration,
  gridStatus,
  loadGrid,
  measureSpeedup,
  MergeSourceError,
  mergeStores,
  parseShard,
  runGrid,
  speedupGrid,
} from "../lib/grid/mod.ts";
import { describeError } from "../lib/grid/_protocol.ts";

const USAGE = `usage:
  grid run <grid.json> [--workers N] [--shard i/n] [--store DIR] [--job module#export]
                       [--timeout SECONDS] [--start-timeout SECONDS] [--recompute]
  grid status <grid.json> [--shard i/n] [--store DIR] [--job module#export]
  grid merge <dir>... --into <dir>
  grid speedup [<grid.json>] [--jobs N] [--job module#export] [--workers 1,2] [--repeat N]

A grid file is a JSON array of partial configs, or {"base": {...}, "vary": {"train.seed": [0, 1]}}.
The store defaults to $QUANTLAB_CACHE, else .cache/results/. Jobs default to lib/train.ts#train.
A --job module runs with full permissions (deno run -A): only name code you trust.`;

/** Bad usage or an invalid grid: exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where the CLI writes: `out` for the JSON summary, `err` for everything else. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborts a `run` (the CLI wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
}

/** A path option: an empty value (an unset variable) is refused rather than meaning ".". */
function pathOption(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") {
    throw new UsageError(
      `--${name} ${JSON.stringify(text)}: expected a directory, got an empty value ` +
        `(an unset variable?)`,
    );
  }
  return text;
}

/** A store directory option: empty or an existing non-directory is a usage error. */
function storeOption(name: string, text: string | undefined): string | undefined {
  const path = pathOption(name, text);
  if (path === undefined) return undefined;
  try {
    if (!Deno.statSync(path).isDirectory) {
      throw new UsageError(`--${name} ${path}: exists and is not a directory`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof Deno.errors.NotADirectory) {
      throw new UsageError(
        `--${name} ${path}: cannot be a directory: a part of the path above it is a regular file`,
      );
    }
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new UsageError(`--${name} ${path}: cannot be used: ${(err as Error).message}`);
    }
  }
  return path;
}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || text.trim() === "") {
    throw new UsageError(`--${name} ${text}: expected a positive integer`);
  }
  return n;
}

/** Load a grid file; any problem with it is the caller's to fix, so a usage error. */
async function grid(positionals: string[]) {
  try {
    return await loadGrid(one(positionals, "grid file"));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function shard(text: string | undefined) {
  try {
    return text === undefined ? undefined : parseShard(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(`expected one ${what}, got ${positionals.length}`);
  }
  return positionals[0];
}

/**
 * Run the CLI on `args`; resolves to the exit status and never throws (errors are reported
 * through `io.err` as one message).
 */
export async function main(args: string[], io: CliIO = defaultIO()): Promise<number> {
  try {
    return await command(args, io);
  } catch (err) {
    const usage = err instanceof UsageError || err instanceof MergeSourceError ||
      String((err as { code?: string })?.code).startsWith("ERR_PARSE_ARGS");
    if (io.signal?.aborted && (err as Error)?.name === "AbortError") {
      io.err(`grid: ${describeError(err)}`);
      return 130;
    }
    const message = describeError((err as Error)?.message ?? err, 4000);
    io.err(message.startsWith("grid:") ? message : `grid: ${message}`);
    if (err instanceof UsageError) io.err(USAGE);
    return usage ? 2 : 1;
  }
}

function defaultIO(): CliIO {
  return { out: (l) => console.log(l), err: (l) => console.error(l) };
}

async function command(args: string[], io: CliIO): Promise<number> {
  if (args.some((a) => a === "--help" || a === "-h") || args[0] === "help") {
    io.out(USAGE);
    return 0;
  }
  const [command, ...rest] = args;
  const { values: opts, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      workers: { type: "string" },
      shard: { type: "string" },
      store: { type: "string" },
      job: { type: "string" },
      timeout: { type: "string" },
      "start-timeout": { type: "string" },
      recompute: { type: "boolean" },
      into: { type: "string" },
      jobs: { type: "string" },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (command === undefined) {
    io.err(USAGE);
    return 2;
  }
  const log = io.err;
  switch (command) {
    case "run": {
      const timeout = positiveInt("timeout", opts.timeout);
      const startTimeout = positiveInt("start-timeout", opts["start-timeout"]);
      const workers = positiveInt("workers", opts.workers);
      const store = storeOption("store", opts.store);
      const jobSpec = job(opts.job);
      const configs = await grid(positionals);
      const t0 = performance.now();
      let report;
      try {
        report = await runGrid(configs, {
          workers,
          shard: shard(opts.shard),
          store,
          job: jobSpec,
          recompute: opts.recompute,
          jobTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
          startTimeoutMs: startTimeout === undefined ? undefined : startTimeout * 1000,
          signal: io.signal,
          log,
        });
      } catch (err) {
        // The summary line is always there for scripts: what is unknown is null, and why.
        io.out(JSON.stringify({
          total: null,
          cached: null,
          computed: null,
          failed: null,
          skipped: null,
          wallMs: performance.now() - t0,
          error: describeError((err as Error)?.message ?? err, 4000),
        }));
        throw err;
      }
      const { total, cached, computed, skipped, wallMs } = report;
      const failed = report.failures.length;
      io.out(JSON.stringify({ total, cached, computed, failed, skipped, wallMs }));
      return failed > 0 ? 1 : 0;
    }
    case "status": {
      const store = storeOption("store", opts.store);
      const jobSpec = job(opts.job);
      const status = await gridStatus(await grid(positionals), {
        shard: shard(opts.shard),
        store,
        job: jobSpec,
        log,
      });
      log(`[grid] ${status.done}/${status.total} done, ${status.missing} missing`);
      const { total, done, missing } = status;
      io.out(JSON.stringify({ total, done, missing }));
      return 0;
    }
    case "merge": {
      const into = storeOption("into", opts.into);
      if (!into) throw new UsageError("merge needs --into <dir>");
      if (positionals.length === 0) throw new UsageError("merge needs at least one source store");
      positionals.forEach((p) => pathOption("source store", p));
      const r = await mergeStores(positionals, into, { warn: log });
      log(
        `[grid] merged ${positionals.length} stores into ${into}: ${r.copied} copied, ` +
          `${r.identical} already there, ${r.conflicts.length} conflicts, ${r.corrupt.length} corrupt`,
      );
      io.out(JSON.stringify({
        copied: r.copied,
        identical: r.identical,
        conflicts: r.conflicts.length,
        corrupt: r.corrupt.length,
      }));
      return 0;
    }
    case "speedup": {
      const configs = positionals.length
        ? await grid(positionals)
        : speedupGrid(positiveInt("jobs", opts.jobs));
      const workers = (opts.workers ?? "1,2").split(",").map((w) => positiveInt("workers", w)!);
      const repeat = positiveInt("repeat", opts.repeat);
      const r = await measureSpeedup(configs, { job: job(opts.job), workers, repeat });
      const times = r.runs.map((x) =>
        `${x.workers}w ${formatDuration(x.wallMs)}` +
        (x.otherCpuS === undefined ? "" : ` (+${x.otherCpuS.toFixed(1)} CPU s by others)`)
      );
      log(
        `[speedup] ${r.jobs} jobs of ${r.job}: ${times.join(", ")}; speed-up ${
          r.speedup.toFixed(2)
        }× ` +
          `(load average ${r.loadavg.before} before, ${r.loadavg.after} after)`,
      );
      io.out(JSON.stringify(r));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/** A `--job` value: empty is refused. */
function job(text: string | undefined): string | undefined {
  if (text !== undefined && text.trim() === "") {
    throw new UsageError(`--job "": expected module#export, got an empty value`);
  }
  return text;
}

if (import.meta.main) {
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    // The first signal stops the grid cleanly; a second one exits at once.
    Deno.addSignalListener(sig, () => stop.signal.aborted ? Deno.exit(130) : stop.abort());
  }
  Deno.exit(await main(Deno.args, { ...defaultIO(), signal: stop.signal }));
}
