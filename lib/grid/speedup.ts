/**
 * Measure how much faster a grid finishes on more workers: the same configs are run once per
 * worker count, each into a fresh temporary store (nothing cached), and wall times compared.
 * Wall time includes starting the workers, as a real grid pays it. [choice]
 *
 * @module
 */
import type { ConfigInput, RunConfig } from "../config.ts";
import { expandGrid } from "./expand.ts";
import { resolveJob } from "./job.ts";
import { runGrid } from "./run.ts";

/** One timed run of the grid. */
export interface SpeedupRun {
  workers: number;
  wallMs: number;
}

/** What {@linkcode measureSpeedup} returns. */
export interface SpeedupReport {
  job: string;
  jobs: number;
  runs: SpeedupRun[];
  /** Median wall time with the first worker count over that with the last. */
  speedup: number;
  /** 1-minute load average before and after (Linux), since other processes skew the timing. */
  loadavg: { before: number | undefined; after: number | undefined };
}

/** The default speed-up grid: `jobs` short runs differing only in seed. */
export function speedupGrid(jobs = 8): RunConfig[] {
  return expandGrid({
    base: { train: { epochs: 2, stepsPerEpoch: 100 } },
    vary: { "train.seed": Array.from({ length: jobs }, (_, i) => i) },
  });
}

/**
 * Run `configs` with each worker count in `workers` (default 1 then 2), `repeat` rounds
 * (default 1) alternating the counts so that load from other processes falls on all of them,
 * and report the speed-up of the medians. Throws if any job fails, since a failure would make
 * the timing meaningless.
 *
 * @example
 * ```ts
 * const r = await measureSpeedup(speedupGrid(8), { job: "tests/fixtures/fake_job.ts#cpuJob" });
 * console.log(r.speedup);
 * ```
 */
export async function measureSpeedup(
  configs: readonly ConfigInput[],
  options: {
    job?: string;
    workers?: readonly number[];
    repeat?: number;
    env?: Record<string, string>;
    log?: (line: string) => void;
  } = {},
): Promise<SpeedupReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const counts = options.workers ?? [1, 2];
  const job = resolveJob(options.job).id;
  const before = loadavg();
  const runs: SpeedupRun[] = [];
  for (let round = 0; round < (options.repeat ?? 1); round++) {
    for (const workers of counts) {
      const wallMs = await timeGrid(configs, workers, options);
      runs.push({ workers, wallMs });
      log(
        `[speedup] ${configs.length} jobs on ${workers} worker(s): ${(wallMs / 1000).toFixed(2)} s`,
      );
    }
  }
  const median = (w: number) => {
    const t = runs.filter((r) => r.workers === w).map((r) => r.wallMs).sort((a, b) => a - b);
    return t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
  };
  return {
    job,
    jobs: configs.length,
    runs,
    speedup: median(counts[0]) / median(counts[counts.length - 1]),
    loadavg: { before, after: loadavg() },
  };
}

async function timeGrid(
  configs: readonly ConfigInput[],
  workers: number,
  options: { job?: string; env?: Record<string, string> },
): Promise<number> {
  const store = await Deno.makeTempDir({ prefix: "quantlab-speedup-" });
  try {
    const t0 = performance.now();
    const report = await runGrid(configs, {
      store,
      workers,
      job: options.job,
      env: options.env,
      log: () => {},
    });
    const wallMs = performance.now() - t0;
    if (report.failures.length > 0) {
      throw new Error(
        `speedup: ${report.failures.length} jobs failed: ${report.failures[0].error}`,
      );
    }
    return wallMs;
  } finally {
    await Deno.remove(store, { recursive: true });
  }
}

function loadavg(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}
