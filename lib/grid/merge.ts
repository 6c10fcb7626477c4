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
 * The GEMM that produced each result (`gemm`, stored provenance) is checked too: two entries of
 * one key from different GEMMs are a conflict even when their results happen to agree, and a
 * merge that brings together results of more than one GEMM says so (`gemms`). Entries from
 * before the kernel was recorded say only "openblas"; that matches any "OpenBLAS …" identity
 * (their results are still compared) and is not counted as a GEMM of its own beside one. Since
 * the GEMM became part of the key (`key.ts`), entries of two GEMMs rarely share a key. A source that
 * does not exist or is not a directory is an error, not an empty store.
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
  /** Distinct GEMMs of the entries merged (copied or compared); more than one is a warning. */
  gemms: string[];
}

/** A merge source that is missing or not a directory. */
export class MergeSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeSourceError";
  }
}

const TIMING_FIELDS = new Set(["wallMs", "peakRssMb"]);

/**
 * Merge the stores in `sources` into `into` (created if needed).
 *
 * @example
 * ```ts
 * // Stores of two shards of one grid (`./quantlab grid run … --shard i/2 --store …`).
 * const shards = [await Deno.makeTempDir(), await Deno.makeTempDir()];
 * const report = await mergeStores(shards, await Deno.makeTempDir());
 * console.log(report.copied); // 0: the shards are empty here
 * ```
 */
export async function mergeStores(
  sources: readonly string[],
  into: string,
  options: { warn?: (message: string) => void } = {},
): Promise<MergeReport> {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const target = new ResultStore(into, { warn });
  const report: MergeReport = { copied: 0, identical: 0, conflicts: [], corrupt: [], gemms: [] };
  for (const dir of sources) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(dir);
    } catch (err) {
      throw new MergeSourceError(
        `merge: source store ${dir} cannot be read: ${(err as Error).message}`,
      );
    }
    if (!info.isDirectory) {
      throw new MergeSourceError(`merge: source store ${dir} is not a directory`);
    }
  }
  const gemms = new Set<string>();
  const note = (gemm: string | null | undefined) => gemm && gemms.add(gemm);
  for (const dir of sources) {
    if (resolve(dir) === target.dir) continue;
    const source = new ResultStore(dir);
    for (const key of await source.keys()) {
      const file = source.path(key);
      let text: string;
      try {
        text = await Deno.readTextFile(file);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        report.corrupt.push({ file, reason: `unreadable (${(err as Error).message})` });
        warn(`merge: skipped unreadable entry ${file}: ${(err as Error).message}`);
        continue;
      }
      const check = checkEntry(text, key);
      if (!check.ok) {
        report.corrupt.push({ file, reason: check.reason });
        warn(`merge: skipped corrupt entry ${file}: ${check.reason}`);
        continue;
      }
      note(check.entry.gemm);
      const existing = await target.get(key);
      if (!existing) {
        await target.write(check.entry);
        report.copied++;
        continue;
      }
      note(existing.gemm);
      const differences = diffPaths(existing.result, check.entry.result);
      const [g1, g2] = [existing.gemm ?? null, check.entry.gemm ?? null];
      if (g1 !== null && g2 !== null && !sameGemm(g1, g2)) {
        differences.unshift(`gemm (${g1} vs ${g2})`);
      }
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
  if (gemms.has(LEGACY_OPENBLAS) && [...gemms].some((g) => g.startsWith("OpenBLAS "))) {
    gemms.delete(LEGACY_OPENBLAS);
  }
  report.gemms = [...gemms].sort();
  if (report.gemms.length > 1) {
    warn(
      `merge: the merged entries come from different GEMMs (${report.gemms.join(", ")}); ` +
        `their results differ, so compare runs of one GEMM only`,
    );
  }
  return report;
}

/** What entries recorded before the OpenBLAS kernel was part of the GEMM identity. */
const LEGACY_OPENBLAS = "openblas";

/** Whether two recorded GEMMs may be the same: equal, or one is the legacy "openblas". */
export function sameGemm(a: string, b: string): boolean {
  if (a === b) return true;
  const legacy = (x: string, y: string) => x === LEGACY_OPENBLAS && y.startsWith("OpenBLAS ");
  return legacy(a, b) || legacy(b, a);
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
