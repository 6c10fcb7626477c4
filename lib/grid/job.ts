/**
 * Job references. A job is an exported function `(config, options?) => Promise<result>` named
 * as `module#export`, e.g. `lib/train.ts#train` (the default) or
 * `tests/fixtures/fake_job.ts#sleepJob`. The job's identity, part of every cache key, is the
 * module path relative to the repository root (or its URL when outside it) plus the export, so
 * results of a fake job never answer for the real one.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The job a grid runs unless told otherwise. */
export const DEFAULT_JOB = "lib/train.ts#train";

/** A resolved job reference. */
export interface JobRef {
  /** Stable identity for cache keys: `lib/train.ts#train`. */
  id: string;
  /** Module URL a worker imports. */
  url: string;
  /** Name of the exported job function. */
  exportName: string;
}

const ROOT = resolve(import.meta.dirname!, "..", "..");

/**
 * Resolve `module#export` (export defaults to `default`). A relative path is looked up in `cwd`
 * first, then in the repository root, so `lib/train.ts#train` works from `notebooks/` too.
 */
export function resolveJob(spec: string = DEFAULT_JOB, cwd: string = Deno.cwd()): JobRef {
  const hash = spec.lastIndexOf("#");
  const mod = hash >= 0 ? spec.slice(0, hash) : spec;
  const exportName = hash >= 0 ? spec.slice(hash + 1) : "default";
  if (!mod || !exportName) {
    throw new Error(`job ${JSON.stringify(spec)} is invalid: expected "module#export"`);
  }
  let path: string;
  if (mod.startsWith("file:")) path = fileURLToPath(mod);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(mod)) {
    return { id: `${mod}#${exportName}`, url: mod, exportName };
  } else if (isAbsolute(mod)) path = mod;
  else {
    const fromCwd = resolve(cwd, mod);
    path = existsSync(fromCwd) ? fromCwd : resolve(ROOT, mod);
  }
  const rel = relative(ROOT, path);
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  const url = pathToFileURL(path).href;
  return { id: `${inside ? rel.split("\\").join("/") : url}#${exportName}`, url, exportName };
}
