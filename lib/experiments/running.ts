/**
 * Running a notebook's configs: through the cached grid runner (worker processes, result
 * store), with one progress bar per cell and Jupyter's interrupt honoured; groups of configs
 * repeated over the profile's seeds.
 *
 * @module
 */
import type { ConfigInput } from "../config.ts";
import { formatDuration, type GridProgress, runGrid } from "../grid/mod.ts";
import { interruptible } from "../interrupt.ts";
import { progressView } from "../progress.ts";
import type { RunResult } from "../result.ts";
import { overSeeds, type Profile } from "./profiles.ts";

/**
 * Run configs through the grid runner: results come from the cache when the config is
 * unchanged (`QUANTLAB_RECOMPUTE=1` recomputes), missing ones are computed over one worker
 * process per core. Progress is one bar that updates in place in the notebook (lib/progress.ts)
 * and ends as a one-line summary. Throws if any run failed (a diverged run is a result, not a
 * failure). Jupyter's interrupt stops the grid (workers killed, finished runs kept in the store)
 * and rejects with an `Interrupted` error saying how far it got (lib/interrupt.ts). `job` names
 * another grid job than training (the battery's, for a researcher's own passer).
 */
export async function runConfigs(
  label: string,
  inputs: ConfigInput[],
  options: { job?: string; jobTimeoutMs?: number } = {},
): Promise<RunResult[]> {
  const recompute = Deno.env.get("QUANTLAB_RECOMPUTE") === "1";
  const bar = progressView(label);
  let last: GridProgress | undefined;
  const report = await interruptible(
    (signal) =>
      runGrid(inputs, {
        job: options.job,
        jobTimeoutMs: options.jobTimeoutMs,
        recompute,
        log: () => {},
        signal,
        onProgress: (p) => {
          last = p;
          bar.update(p.done, p.total, progressDetail(p));
        },
      }),
    () => {
      const done = last ? `${last.done}/${last.total}` : `0/${inputs.length}`;
      bar.finish(`interrupted after ${done} runs`);
      return `${label}: interrupted after ${done} runs; stored results kept; ` +
        "re-run the cell to resume";
    },
  );
  const summary = `${report.total} runs: ${report.cached} from cache, ${report.computed} ` +
    `computed in ${(report.wallMs / 1000).toFixed(1)} s`;
  if (report.failures.length > 0) {
    await bar.finish(`${summary}, ${report.failures.length} FAILED`);
    const lines = report.failures.map((f) => `  #${f.index} (${f.key.slice(0, 12)}): ${f.error}`);
    throw new Error(`${label}: ${report.failures.length} run(s) failed:\n${lines.join("\n")}`);
  }
  await bar.finish(summary);
  return report.results as RunResult[];
}

/** The detail shown next to the bar: counts, times, and the epochs of the runs in flight. */
export function progressDetail(p: GridProgress): string {
  const parts = [
    `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ""}`,
    `${formatDuration(p.elapsedMs)} elapsed, eta ${formatDuration(p.etaMs)}`,
  ];
  const running = p.running;
  if (running.length > 0) {
    parts.push(
      "running " +
        running.map((r) => `${r.label || `#${r.index}`} epoch ${r.epoch}/${r.epochs}`).join("; "),
    );
  }
  return parts.join(" · ");
}

/** A named configuration repeated over the profile's seeds. */
export interface Group {
  label: string;
  input: ConfigInput;
}

/** A group with its runs (one per seed, in seed order). */
export interface GroupRuns extends Group {
  runs: RunResult[];
}

/** An experiment made of groups, each run over the profile's seeds. */
export interface GroupExperiment {
  profile: Profile;
  groups: GroupRuns[];
}

/** Run every group over every seed, in one grid (so the pool stays busy), cached. */
export async function runGroups(
  label: string,
  profile: Profile,
  groups: Group[],
): Promise<GroupRuns[]> {
  const inputs = groups.flatMap((g) => overSeeds(profile, g.input));
  const results = await runConfigs(label, inputs);
  const n = profile.seeds.length;
  return groups.map((g, i) => ({ ...g, runs: results.slice(i * n, (i + 1) * n) }));
}

/** Every run of some groups (for {@linkcode settingsTable}). */
export function runsOf(groups: GroupRuns[]): RunResult[] {
  return groups.flatMap((g) => g.runs);
}
