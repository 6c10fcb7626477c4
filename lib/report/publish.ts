/**
 * Build a report aside and replace the destination only when every check passed, so a failed
 * or partial build never leaves a half-written or mixed report behind (issues 13.3, 14.3).
 *
 * The dance: the builder writes into a fresh staging directory beside the destination (same
 * parent, so same filesystem and `rename` is cheap and atomic per call), the checks run there,
 * then {@linkcode publishDir} renames the old destination aside, renames the staging directory
 * into place and removes the old one. POSIX has no atomic exchange of two directories that Deno
 * exposes, so there is a window of two `rename` calls in which the destination does not exist;
 * it never holds a mix of old and new files. A failed second rename puts the old one back. When
 * the old copy cannot be removed afterwards, the new report stays in place and the old copy is
 * kept (and named) in `.<name>.old-<pid>`, never reported as "left untouched".
 *
 * @example
 * ```ts
 * const dest = await Deno.makeTempDir() + "/reports";
 * const stage = await stageDir(dest);
 * await Deno.writeTextFile(`${stage}/index.html`, "<!doctype html><p>new</p>");
 * await publishDir(stage, dest);
 * ```
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Files a report directory may hold; anything else means it is not ours to replace. */
function isReportFile(name: string): boolean {
  return name === "findings.json" || name.endsWith(".html") || name.endsWith(".png");
}

/**
 * Why `dest` may not be replaced by a report build, or `null` when it may: it does not exist,
 * or it is a directory holding only report files (`*.html`, `findings.json`, `*.png`).
 * A directory with anything else (a user's `--out ~/Documents`) is refused, naming the entry;
 * so is one that cannot be written (its old files could not be removed after the build).
 */
export async function replaceable(dest: string): Promise<string | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dest);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    return `cannot use ${dest}: ${(err as Error).message}`;
  }
  if (!info.isDirectory) return `${dest} exists and is not a directory`;
  for await (const e of Deno.readDir(dest)) {
    if (!e.isFile || !isReportFile(e.name)) {
      return `${dest} holds ${join(dest, e.name)}, which is not a report file; a build replaces ` +
        `the whole directory, so choose an empty or report-only directory`;
    }
  }
  const probe = join(dest, `.probe-${Deno.pid}`);
  try {
    await Deno.writeTextFile(probe, "", { createNew: true });
    await Deno.remove(probe);
  } catch (err) {
    return `${dest} is not writable (${(err as Error).message}): a build replaces the whole ` +
      `directory and must remove its old files; make it writable or choose another directory`;
  }
  return null;
}

/**
 * Create a fresh, empty staging directory beside `dest` (`.<name>.staging-<pid>` in the same
 * parent, created if missing). Throws an error naming the path when the place is not writable,
 * so the builder can fail before any notebook runs.
 */
export async function stageDir(dest: string): Promise<string> {
  const parent = dirname(dest);
  const stage = join(parent, `.${basename(dest)}.staging-${Deno.pid}`);
  try {
    await Deno.mkdir(parent, { recursive: true });
    await Deno.remove(stage, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    await Deno.mkdir(stage);
    await Deno.writeTextFile(join(stage, ".probe"), "");
    await Deno.remove(join(stage, ".probe"));
  } catch (err) {
    throw new Error(`cannot write the report beside ${dest} (in ${parent}): ${err}`);
  }
  return stage;
}

/** Move a staging directory that failed its checks to `.<name>.failed` beside `dest`. */
export async function keepFailed(stage: string, dest: string): Promise<string> {
  const failed = join(dirname(dest), `.${basename(dest)}.failed`);
  await Deno.remove(failed, { recursive: true }).catch(() => {});
  await Deno.rename(stage, failed);
  return failed;
}

/** What {@linkcode publishDir} did beyond replacing `dest`. */
export interface Published {
  /** The previous report, when it could not be removed (with why); null when it was. */
  leftover: { path: string; reason: string } | null;
}

/**
 * Replace `dest` by `stage` (both in the same parent): rename the old `dest` aside, rename
 * `stage` into place, remove the old one. If the second rename fails the old `dest` is put back
 * and the error rethrown (`dest` untouched, `stage` still there). If the old one cannot be
 * removed, the new report is in place and the old one is returned as `leftover`.
 */
export async function publishDir(stage: string, dest: string): Promise<Published> {
  const why = await replaceable(dest);
  if (why) throw new Error(why);
  const old = join(dirname(dest), `.${basename(dest)}.old-${Deno.pid}`);
  let moved = false;
  try {
    await Deno.rename(dest, old);
    moved = true;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  try {
    await Deno.rename(stage, dest);
  } catch (err) {
    if (moved) await Deno.rename(old, dest);
    throw err;
  }
  if (!moved) return { leftover: null };
  try {
    await Deno.remove(old, { recursive: true });
  } catch (err) {
    return { leftover: { path: old, reason: (err as Error).message } };
  }
  return { leftover: null };
}
