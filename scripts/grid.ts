/**
 * The grid runner's command line (`./quantlab grid …`).
 *
 * ```
 * grid run <grid.json> [--workers N] [--shard i/n] [--store DIR] [--job module#export]
 *                      [--timeout SECONDS] [--recompute]
 * grid status <grid.json> [--shard i/n] [--store DIR] [--job module#export]
 * grid merge <dir>... --into <dir>
 * grid speedup [<grid.json>] [--jobs N] [--job module#export] [--workers 1,2] [--repeat N]
 * ```
 *
 * Progress and warnings go to stderr; the last stdout line of every command is one JSON object
 * summarising it. Exit status: 0 done, 1 some jobs failed (or a worker could not start),
 * 2 bad usage or an invalid grid.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  formatDuration,
  gridStatus,
  loadGrid,
  measureSpeedup,
  mergeStores,
  parseShard,
  runGrid,
  speedupGrid,
} from "../lib/grid/mod.ts";

const USAGE = `usage:
  grid run <grid.json> [--workers N] [--shard i/n] [--store DIR] [--job module#export]
                       [--timeout SECONDS] [--recompute]
  grid status <grid.json> [--shard i/n] [--store DIR] [--job module#export]
  grid merge <dir>... --into <dir>
  grid speedup [<grid.json>] [--jobs N] [--job module#export] [--workers 1,2] [--repeat N]

A grid file is a JSON array of partial configs, or {"base": {...}, "vary": {"train.seed": [0, 1]}}.
The store defaults to $QUANTLAB_CACHE, else .cache/results/. Jobs default to lib/train.ts#train.`;

class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
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

async function main(args: string[]): Promise<number> {
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
      recompute: { type: "boolean" },
      into: { type: "string" },
      jobs: { type: "string" },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (opts.help || command === undefined || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case "run": {
      const configs = await grid(positionals);
      const timeout = positiveInt("timeout", opts.timeout);
      const report = await runGrid(configs, {
        workers: positiveInt("workers", opts.workers),
        shard: shard(opts.shard),
        store: opts.store,
        job: opts.job,
        recompute: opts.recompute,
        jobTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
      });
      const { total, cached, computed, skipped, wallMs } = report;
      const failed = report.failures.length;
      console.log(JSON.stringify({ total, cached, computed, failed, skipped, wallMs }));
      return failed > 0 ? 1 : 0;
    }
    case "status": {
      const status = await gridStatus(await grid(positionals), {
        shard: shard(opts.shard),
        store: opts.store,
        job: opts.job,
      });
      console.error(`[grid] ${status.done}/${status.total} done, ${status.missing} missing`);
      const { total, done, missing } = status;
      console.log(JSON.stringify({ total, done, missing }));
      return 0;
    }
    case "merge": {
      if (!opts.into) throw new UsageError("merge needs --into <dir>");
      if (positionals.length === 0) throw new UsageError("merge needs at least one source store");
      const r = await mergeStores(positionals, opts.into, { warn: (m) => console.error(m) });
      console.error(
        `[grid] merged ${positionals.length} stores into ${opts.into}: ${r.copied} copied, ` +
          `${r.identical} already there, ${r.conflicts.length} conflicts, ${r.corrupt.length} corrupt`,
      );
      console.log(JSON.stringify({
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
      const r = await measureSpeedup(configs, { job: opts.job, workers, repeat });
      const times = r.runs.map((x) =>
        `${x.workers}w ${formatDuration(x.wallMs)}` +
        (x.otherCpuS === undefined ? "" : ` (+${x.otherCpuS.toFixed(1)} CPU s by others)`)
      );
      console.error(
        `[speedup] ${r.jobs} jobs of ${r.job}: ${times.join(", ")}; speed-up ${
          r.speedup.toFixed(2)
        }× ` +
          `(load average ${r.loadavg.before} before, ${r.loadavg.after} after)`,
      );
      console.log(JSON.stringify(r));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    const usage = err instanceof UsageError ||
      String((err as { code?: string })?.code).startsWith("ERR_PARSE_ARGS");
    console.error(`grid: ${(err as Error)?.message ?? err}`);
    if (err instanceof UsageError) console.error(USAGE);
    code = usage ? 2 : 1;
  }
  Deno.exit(code);
}
