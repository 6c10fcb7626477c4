/**
 * The result store: one JSON file per finished run, `<dir>/<key>.json`, holding
 * `{key, version, job, config, result, createdAt, checksum}` (see {@linkcode StoreEntry}).
 *
 * - Writes are atomic: a temp file in the same directory is written, fsynced and renamed over
 *   the entry, then the directory is fsynced. A process killed at any point (kill -9 included)
 *   leaves either the old entry, the new one, or none; never half of one. A stray `.tmp` file
 *   may remain; {@linkcode ResultStore.sweepTemp} removes old ones.
 * - Reads verify: invalid JSON, a missing field, a key that is not the file's name or not the
 *   hash of the stored config, or a checksum mismatch makes the entry corrupt. A corrupt entry is
 *   reported once through `warn`, moved to `<dir>/corrupt/` and treated as missing, so the grid
 *   recomputes it instead of crashing.
 *
 * @module
 */
import { join, resolve } from "node:path";
import type { RunConfig } from "../config.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { canonicalJson, encodeJson, resultKey, sha256Hex, untag } from "./key.ts";

/** One stored result. `checksum` is the SHA-256 of the canonical JSON of the other six fields. */
export interface StoreEntry<R = unknown> {
  key: string;
  version: string;
  /** Job identity, `module#export` (e.g. `lib/train.ts#train`). */
  job: string;
  config: RunConfig;
  result: R;
  /** ISO 8601 time the entry was made. */
  createdAt: string;
  checksum: string;
}

/** Outcome of checking one entry file's text. */
export type EntryCheck<R = unknown> =
  | { ok: true; entry: StoreEntry<R> }
  | { ok: false; reason: string };

const KEY_RE = /^[0-9a-f]{64}$/;
const ENTRY_RE = /^[0-9a-f]{64}\.json$/;
const ROOT = resolve(import.meta.dirname!, "..", "..");

/** The store directory used when none is given: `$QUANTLAB_CACHE`, else `<repo>/.cache/results`. */
export function defaultStoreDir(): string {
  const env = Deno.env.get("QUANTLAB_CACHE");
  return env ? resolve(env) : join(ROOT, ".cache", "results");
}

/** Build a complete entry (key and checksum included) for a finished run. */
export function makeEntry<R>(
  config: RunConfig,
  job: string,
  result: R,
  version: string = QUANTLAB_VERSION,
  createdAt: string = new Date().toISOString(),
): StoreEntry<R> {
  const key = resultKey(config, job, version);
  const checksum = sha256Hex(canonicalJson({ key, version, job, config, result, createdAt }));
  return { key, version, job, config, result, createdAt, checksum };
}

/**
 * Verify an entry file's text. `expectedKey` is the key its file name claims.
 * Checks run on the parsed JSON as stored, so non-finite numbers hash the same either way.
 */
export function checkEntry<R = unknown>(text: string, expectedKey?: string): EntryCheck<R> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})` };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, reason: "not a JSON object" };
  }
  const e = raw as Record<string, unknown>;
  for (const field of ["key", "version", "job", "createdAt", "checksum"]) {
    if (typeof e[field] !== "string") return { ok: false, reason: `field "${field}" missing` };
  }
  if (e.config === null || typeof e.config !== "object") {
    return { ok: false, reason: `field "config" missing` };
  }
  if (!("result" in e)) return { ok: false, reason: `field "result" missing` };
  const { key, version, job, config, result, createdAt, checksum } = e;
  if (!KEY_RE.test(key as string)) return { ok: false, reason: `malformed key ${key}` };
  if (expectedKey !== undefined && key !== expectedKey) {
    return { ok: false, reason: `holds key ${key}, not ${expectedKey}` };
  }
  if (sha256Hex(canonicalJson({ config, job, version })) !== key) {
    return { ok: false, reason: "key is not the hash of the stored config, job and version" };
  }
  const sum = sha256Hex(canonicalJson({ key, version, job, config, result, createdAt }));
  if (sum !== checksum) return { ok: false, reason: "checksum mismatch" };
  return { ok: true, entry: untag(raw) as StoreEntry<R> };
}

/** Options of {@linkcode ResultStore}. */
export interface StoreOptions {
  /** Where warnings about corrupt entries go; default `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * A directory of results keyed by {@linkcode resultKey}.
 *
 * @example
 * ```ts
 * const store = new ResultStore(".cache/results");
 * const hit = await store.get(key); // undefined when missing or corrupt
 * ```
 */
export class ResultStore {
  /** Absolute path of the store directory. */
  readonly dir: string;
  #warn: (message: string) => void;
  #warned = new Set<string>();

  constructor(dir: string = defaultStoreDir(), options: StoreOptions = {}) {
    this.dir = resolve(dir);
    this.#warn = options.warn ?? ((m) => console.warn(m));
  }

  /** Path of the entry file for `key`. */
  path(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /**
   * The verified entry for `key`, or undefined when it is missing or corrupt. A corrupt entry
   * is warned about once and, unless `repair` is false, moved to `<dir>/corrupt/`.
   */
  async get<R = unknown>(
    key: string,
    options: { repair?: boolean } = {},
  ): Promise<StoreEntry<R> | undefined> {
    const file = this.path(key);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
    const check = checkEntry<R>(text, key);
    if (check.ok) return check.entry;
    await this.#corrupt(file, check.reason, options.repair ?? true);
    return undefined;
  }

  /** Store a finished run atomically and return its entry. */
  async put<R>(
    config: RunConfig,
    job: string,
    result: R,
    version: string = QUANTLAB_VERSION,
  ): Promise<StoreEntry<R>> {
    const entry = makeEntry(config, job, result, version);
    await this.write(entry);
    return entry;
  }

  /** Write a complete entry atomically (temp file, fsync, rename, fsync of the directory). */
  async write(entry: StoreEntry<unknown>): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const bytes = new TextEncoder().encode(encodeJson(entry, 2) + "\n");
    const rand = crypto.randomUUID().slice(0, 8);
    const tmp = join(this.dir, `.${entry.key}.${Deno.pid}.${rand}.tmp`);
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
      await f.syncData();
    } catch (err) {
      f.close();
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    f.close();
    await Deno.rename(tmp, this.path(entry.key));
    await syncDir(this.dir);
  }

  /** Keys of all entry files (valid or not), sorted. Empty when the directory does not exist. */
  async keys(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (e.isFile && ENTRY_RE.test(e.name)) keys.push(e.name.slice(0, 64));
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    return keys.sort();
  }

  /** Verify every entry without changing anything: valid keys and corrupt files with reasons. */
  async scan(): Promise<{ valid: string[]; corrupt: { file: string; reason: string }[] }> {
    const valid: string[] = [];
    const corrupt: { file: string; reason: string }[] = [];
    for (const key of await this.keys()) {
      const file = this.path(key);
      const check = checkEntry(await Deno.readTextFile(file), key);
      if (check.ok) valid.push(key);
      else corrupt.push({ file, reason: check.reason });
    }
    return { valid, corrupt };
  }

  /** Remove temp files left by killed writers, if older than `maxAgeMs` (default 1 h). */
  async sweepTemp(maxAgeMs = 3600_000): Promise<number> {
    let removed = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (!e.isFile || !e.name.endsWith(".tmp")) continue;
        const file = join(this.dir, e.name);
        const info = await Deno.stat(file).catch(() => null);
        if (info?.mtime && Date.now() - info.mtime.getTime() > maxAgeMs) {
          await Deno.remove(file).catch(() => {});
          removed++;
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return removed;
  }

  async #corrupt(file: string, reason: string, repair: boolean): Promise<void> {
    if (!repair) {
      // Left in place, so a later read would find it again: warn only the first time.
      if (this.#warned.has(file)) return;
      this.#warned.add(file);
      this.#warn(`result store: corrupt entry ${file}: ${reason}; counted as missing`);
      return;
    }
    const aside = join(this.dir, "corrupt");
    const dest = join(aside, `${file.slice(this.dir.length + 1)}.${Date.now()}`);
    let where = `moved to ${dest}`;
    try {
      await Deno.mkdir(aside, { recursive: true });
      await Deno.rename(file, dest);
    } catch {
      await Deno.remove(file).catch(() => {});
      where = "deleted";
    }
    this.#warn(`result store: corrupt entry ${file}: ${reason}; ${where}, will recompute`);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Not every filesystem lets a directory be fsynced; the rename is still atomic.
  }
}
