/**
 * Combine result stores, e.g. the per-shard stores of a batch job, into one.
 *
 * Every source entry is verified first; a corrupt one is reported and skipped (sources are
 * never modified). An entry whose key the target lacks is copied atomically. When the target
 * already holds the key, the two results are compared without their timing fields (`wallMs`,
 * `peakRssMb` at any depth, which differ between any two runs [choice]): equal results count as
 * identical, different ones are a conflict; the target keeps the entry it had (so among sources,
 * the first listed wins) and a warning names both files and the first differing fields.
 *
 * @module
 */
import { resolve } from "node:path";
import { canonicalJson } from "./key.ts";
import { checkEntry, ResultStore } from "./store.ts";

/** Same key, different result. */
export interface MergeConflict {
  key: string;
  /** File whose entry was kept (in the target). */
  kept: string;
  /** Source file whose entry was dropped. */
  dropped: string;
  /** First differing fields of the results, as dotted paths. */
  differences: string[];
}

/** What {@linkcode mergeStores} did. */
export interface MergeReport {
  /** Entries copied into the target. */
  copied: number;
  /** Entries the target already had with an equal result. */
  identical: number;
  conflicts: MergeConflict[];
  /** Source entries skipped because they failed verification. */
  corrupt: { file: string; reason: string }[];
}

const TIMING_FIELDS = new Set(["wallMs", "peakRssMb"]);

/**
 * Merge the stores in `sources` into `into` (created if needed).
 *
 * @example
 * ```ts
 * const report = await mergeStores(["shards/0", "shards/1"], ".cache/results");
 * ```
 */
export async function mergeStores(
  sources: readonly string[],
  into: string,
  options: { warn?: (message: string) => void } = {},
): Promise<MergeReport> {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const target = new ResultStore(into, { warn });
  const report: MergeReport = { copied: 0, identical: 0, conflicts: [], corrupt: [] };
  for (const dir of sources) {
    if (resolve(dir) === target.dir) continue;
    const source = new ResultStore(dir);
    for (const key of await source.keys()) {
      const file = source.path(key);
      const check = checkEntry(await Deno.readTextFile(file), key);
      if (!check.ok) {
        report.corrupt.push({ file, reason: check.reason });
        warn(`merge: skipped corrupt entry ${file}: ${check.reason}`);
        continue;
      }
      const existing = await target.get(key);
      if (!existing) {
        await target.write(check.entry);
        report.copied++;
        continue;
      }
      const differences = diffPaths(existing.result, check.entry.result);
      if (differences.length === 0) {
        report.identical++;
        continue;
      }
      const conflict = { key, kept: target.path(key), dropped: file, differences };
      report.conflicts.push(conflict);
      warn(
        `merge: conflict for key ${key}: ${file} differs from ${conflict.kept} ` +
          `(${differences.join(", ")}); kept ${conflict.kept}`,
      );
    }
  }
  return report;
}

/** Dotted paths where `a` and `b` differ, timing fields ignored; at most `limit`. */
export function diffPaths(a: unknown, b: unknown, limit = 3, prefix = ""): string[] {
  const isObj = (v: unknown) => v !== null && typeof v === "object";
  if (a === undefined || b === undefined) return a === b ? [] : [prefix || "(root)"];
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) {
    return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || "(root)"];
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    if (TIMING_FIELDS.has(k)) continue;
    const path = Array.isArray(a) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k;
    out.push(...diffPaths(ao[k], bo[k], limit - out.length, path));
    if (out.length >= limit) break;
  }
  return out;
}
