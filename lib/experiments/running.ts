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

/**
 * The detail shown next to the bar: counts, times, and a short label and the epoch of each run
 * in flight. Before any run has reported an epoch it says "starting workers…" (not "0.0s
 * elapsed, eta ?"); until one run has finished, the ETA is extrapolated from the epochs done.
 */
export function progressDetail(p: GridProgress): string {
  const parts = [`${p.cached} cached${p.failed ? `, ${p.failed} failed` : ""}`];
  const running = p.running;
  const started = running.some((r) => r.epoch > 0) || p.done > p.cached;
  if (!started && p.done < p.total) {
    parts.push("starting workers…");
    return parts.join(" · ");
  }
  parts.push(`${formatDuration(p.elapsedMs)} elapsed, eta ${formatDuration(etaOf(p))}`);
  if (running.length > 0) {
    parts.push(
      "running " +
        running.map((r) => `${shortLabel(r.label) || `#${r.index}`} epoch ${r.epoch}/${r.epochs}`)
          .join("; "),
    );
  }
  return parts.join(" · ");
}

/**
 * The grid's ETA when it has one; else, from the epochs the runs in flight have done: each
 * remaining run is assumed to take as long per epoch as they do (a rough first guess).
 */
function etaOf(p: GridProgress): number | undefined {
  if (p.etaMs !== undefined || p.done >= p.total) return p.etaMs;
  const done = p.running.reduce((s, r) => s + r.epoch, 0);
  if (done === 0) return undefined;
  const perEpoch = p.elapsedMs / done;
  const epochs = p.running[0].epochs;
  const remaining = p.running.reduce((s, r) => s + (r.epochs - r.epoch), 0) +
    Math.max(0, p.total - p.done - p.running.length) * epochs;
  return (perEpoch * remaining) / Math.max(1, p.running.length);
}

/** Max characters of one running job's label. [choice] */
export const SHORT_LABEL_CHARS = 28;

/**
 * A running job's label, short: `passer.kind="mste" train.seed=3` → `mste seed=3` (a `kind`
 * shows its value only, other fields their last name), cut to {@linkcode SHORT_LABEL_CHARS}.
 */
export function shortLabel(label: string): string {
  const parts = [...label.matchAll(/([\w.$\[\]]+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map(
    ([, path, raw]) => {
      const value = raw.startsWith('"') ? raw.slice(1, -1) : raw;
      const name = path.split(".").at(-1)!;
      return name === "kind" ? value : `${name}=${value}`;
    },
  );
  const text = parts.length > 0 ? parts.join(" ") : label;
  return text.length > SHORT_LABEL_CHARS ? text.slice(0, SHORT_LABEL_CHARS - 1) + "…" : text;
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
