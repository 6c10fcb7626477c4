/**
 * Progress of a grid: counts, elapsed time and ETA, as a value for callbacks and as one
 * terminal line per finished job.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import { flattenFields } from "../arrays.ts";
import { canonicalJson } from "./key.ts";

/**
 * What {@linkcode GridOptions.onProgress} receives: a `"start"` event, an `"epoch"` event each
 * time a running job reports a finished epoch, and a `"job"` event after every finished job.
 */
export interface GridProgress {
  event: "start" | "epoch" | "job";
  /** The jobs in flight and how far each is (`epoch` 0 until its first epoch is reported). */
  running: { index: number; label: string; epoch: number; epochs: number }[];
  /** Distinct runs finished so far (cached + computed + failed). */
  done: number;
  /** Distinct runs this call handles (the shard's share when sharded). */
  total: number;
  cached: number;
  computed: number;
  failed: number;
  elapsedMs: number;
  /** Estimated time to finish, from the rate of jobs finished so far; undefined before the first. */
  etaMs: number | undefined;
  /** The job that just ended (absent in the start event). */
  last?: {
    /** Position of its (first) config in the input. */
    index: number;
    key: string;
    /** The fields that vary across the grid, with this run's values. */
    label: string;
    ok: boolean;
    wallMs: number;
    error?: string;
  };
}

/** `12.3s`, `4m05s`, `2h07m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One terminal line for a progress event. */
export function formatProgress(p: GridProgress): string {
  const counts = `${p.done}/${p.total} done (${p.cached} cached, ${p.failed} failed)`;
  const times = `${formatDuration(p.elapsedMs)} elapsed, eta ${formatDuration(p.etaMs)}`;
  if (!p.last) return `[grid] ${counts} · ${times}`;
  const what = p.last.ok ? "ok" : "FAILED";
  const label = p.last.label || p.last.key.slice(0, 12);
  return `[grid] ${counts} · ${times} · ${what} ${label} (${formatDuration(p.last.wallMs)})`;
}

/**
 * A labeller naming each config by the fields that differ across `configs`, e.g.
 * `passer.kind="mste" train.seed=3`. Labels longer than `maxLength` are cut.
 */
export function varyingLabeller(
  configs: readonly RunConfig[],
  maxLength = 100,
): (config: RunConfig) => string {
  const seen = new Map<string, Set<string>>();
  for (const c of configs) {
    for (const [path, value] of flatten(c)) {
      if (!seen.has(path)) seen.set(path, new Set());
      seen.get(path)!.add(value);
    }
  }
  const varying = [...seen].filter(([, v]) => v.size > 1).map(([p]) => p);
  return (config) => {
    const flat = new Map(flatten(config));
    const label = varying.filter((p) => flat.has(p)).map((p) => `${p}=${flat.get(p)}`).join(" ");
    return label.length > maxLength ? label.slice(0, maxLength - 1) + "…" : label;
  };
}

/** The config's fields as `[path, canonical JSON of the value]`. */
function flatten(value: unknown): [string, string][] {
  return flattenFields(value).map(([path, v]) => [path, canonicalJson(v)]);
}
