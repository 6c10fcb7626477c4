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
  /**
   * CPU seconds other processes used on this machine during the run (Linux; undefined
   * elsewhere). Near 0 means the timing is clean; on a shared machine it often is not.
   */
  otherCpuS: number | undefined;
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
      const cpu0 = cpuTicks();
      const wallMs = await timeGrid(configs, workers, options);
      const cpu1 = cpuTicks();
      const otherCpuS = cpu0 && cpu1
        ? Math.max(0, (cpu1.all - cpu0.all) - (cpu1.self - cpu0.self)) / TICKS_PER_S
        : undefined;
      runs.push({ workers, wallMs, otherCpuS });
      log(
        `[speedup] ${configs.length} jobs on ${workers} worker(s): ${
          (wallMs / 1000).toFixed(2)
        } s` +
          (otherCpuS === undefined ? "" : ` (other processes used ${otherCpuS.toFixed(1)} CPU s)`),
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

/** Linux USER_HZ, the unit of /proc/stat; 100 on every mainstream architecture. */
const TICKS_PER_S = 100;

/**
 * Busy CPU ticks of the whole machine, and of this process plus its reaped children (the
 * workers of finished runs), from /proc.
 */
function cpuTicks(): { all: number; self: number } | undefined {
  try {
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal
    const all = cpu[1] + cpu[2] + cpu[3] + cpu[6] + cpu[7] + cpu[8];
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    // Fields 14–17 of stat (utime stime cutime cstime) are 11–14 after the command name.
    const self = f[11] + f[12] + f[13] + f[14];
    return { all, self };
  } catch {
    return undefined;
  }
}

function loadavg(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}
