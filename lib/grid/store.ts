/**
 * The result store: one JSON file per finished run, `<dir>/<key>.json`, holding
 * `{key, version, job, config, result, createdAt, gemm, keyGemm?, checksum}` (see
 * {@linkcode StoreEntry}).
 *
 * - Writes are atomic: a temp file `.<key>.<pid>.<random>.tmp` in the same directory is
 *   written, fsynced and renamed over the entry, then the directory is fsynced. A process killed
 *   at any point (kill -9 included) leaves either the old entry, the new one, or none; never half
 *   of one. A stray temp file may remain; {@linkcode ResultStore.sweepTemp} removes old ones of
 *   exactly that name pattern (nothing else in the directory is touched). A failed write names
 *   the entry's path.
 * - Reads verify: invalid JSON, a missing field, a key that is not the file's name or not the
 *   hash of the stored config, or a checksum mismatch makes the entry corrupt; so does anything
 *   at the entry's path that cannot be read as a file (a directory, a permission error). A
 *   corrupt entry is reported once through `warn`, moved to `<dir>/corrupt/` and treated as
 *   missing, so the grid recomputes it instead of crashing. When it cannot be moved or deleted
 *   the warning says so and {@linkcode ResultStore.blocked} names the key: the grid then reports
 *   that run as failed up front instead of computing a result it could not store.
 * - Claims: `.<key>.claim` files (see {@linkcode ResultStore.claim}) let several runners share
 *   a store without computing the same run twice.
 *
 * @module
 */
import { join, resolve } from "node:path";
import type { RunConfig } from "../config.ts";
import { atomicWrite } from "../store/atomic.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { canonicalJson, encodeJson, keyGemm, resultKey, sha256Hex, untag } from "./key.ts";

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
  /**
   * The GEMM behind matMul in the process that computed it (`backendInfo().gemmIdentity`, e.g.
   * "OpenBLAS 0.3.21 Haswell"; "openblas" without the kernel in older entries): results of two
   * GEMMs differ. null when the job reports none; absent in entries from before it was recorded.
   */
  gemm?: string | null;
  /**
   * The GEMM identity the key declares (`lib/grid/key.ts`), present only when it is not the
   * reference GEMM: results of another kernel live under other keys.
   */
  keyGemm?: string;
  checksum: string;
}

/** Who holds a claim on a key (the content of its claim file). */
export interface ClaimHolder {
  pid: number;
  host: string;
  /** Token of the runner (one per `runGrid` call). */
  owner: string;
  /** ISO 8601 time the claim was taken. */
  at: string;
}

/** A claim whose file has not been touched for this long is stale when its holder's liveness
 * cannot be checked (another host). Runners touch their claims every {@linkcode CLAIM_HEARTBEAT_MS}. */
export const CLAIM_STALE_MS = 120_000;
/** How often a runner refreshes the claims it holds. */
export const CLAIM_HEARTBEAT_MS = 30_000;

/** Outcome of checking one entry file's text. */
export type EntryCheck<R = unknown> =
  | { ok: true; entry: StoreEntry<R> }
  | { ok: false; reason: string };

const KEY_RE = /^[0-9a-f]{64}$/;
const ENTRY_RE = /^[0-9a-f]{64}\.json$/;
/** The store's own temp files (entry writes and writability probes); nothing else is swept. */
const TEMP_RE = /^\.(?:[0-9a-f]{64}|probe)\.\d+\.[0-9a-f]{8}\.tmp$/;
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
  gemm?: string | null,
  declaredGemm?: string | null,
): StoreEntry<R> {
  const keyGemmField = keyGemm(declaredGemm);
  const key = resultKey(config, job, version, keyGemmField);
  // canonicalJson drops undefined fields, so entries written before they existed still verify.
  const checksum = sha256Hex(
    canonicalJson({ key, version, job, config, result, createdAt, gemm, keyGemm: keyGemmField }),
  );
  return {
    key,
    version,
    job,
    config,
    result,
    createdAt,
    ...(gemm === undefined ? {} : { gemm }),
    ...(keyGemmField === undefined ? {} : { keyGemm: keyGemmField }),
    checksum,
  };
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
  if (!Object.hasOwn(e, "result")) return { ok: false, reason: `field "result" missing` };
  if (e.gemm !== undefined && e.gemm !== null && typeof e.gemm !== "string") {
    return { ok: false, reason: `field "gemm" is neither a string nor null` };
  }
  if (e.keyGemm !== undefined && typeof e.keyGemm !== "string") {
    return { ok: false, reason: `field "keyGemm" is not a string` };
  }
  const { key, version, job, config, result, createdAt, gemm, keyGemm: declared, checksum } = e;
  if (!KEY_RE.test(key as string)) return { ok: false, reason: `malformed key ${key}` };
  if (expectedKey !== undefined && key !== expectedKey) {
    return { ok: false, reason: `holds key ${key}, not ${expectedKey}` };
  }
  if (sha256Hex(canonicalJson({ config, job, version, gemm: declared })) !== key) {
    return {
      ok: false,
      reason: "key is not the hash of the stored config, job, version and key GEMM",
    };
  }
  const sum = sha256Hex(
    canonicalJson({ key, version, job, config, result, createdAt, gemm, keyGemm: declared }),
  );
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
 * const hit = await store.get("0".repeat(64)); // undefined when missing or corrupt
 * ```
 */
export class ResultStore {
  /** Absolute path of the store directory. */
  readonly dir: string;
  #warn: (message: string) => void;
  #warned = new Set<string>();
  #blocked = new Set<string>();

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
    const read = await readEntry(file);
    if (read === undefined) return undefined;
    const check = "unreadable" in read
      ? { ok: false as const, reason: read.unreadable }
      : checkEntry<R>(read.text, key);
    if (check.ok) return check.entry;
    await this.#corrupt(key, file, check.reason, options.repair ?? true);
    return undefined;
  }

  /**
   * Whether a corrupt entry for `key` could not be moved aside or deleted, so a result for it
   * could not be stored either.
   */
  blocked(key: string): boolean {
    return this.#blocked.has(key);
  }

  /** Throw an error naming the directory unless entries can be written there. */
  async probe(): Promise<void> {
    const rand = crypto.randomUUID().slice(0, 8);
    const tmp = join(this.dir, `.probe.${Deno.pid}.${rand}.tmp`);
    try {
      await Deno.mkdir(this.dir, { recursive: true });
      await Deno.writeTextFile(tmp, "", { createNew: true });
      await Deno.remove(tmp);
    } catch (err) {
      throw new Error(`result store ${this.dir} is not writable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Store a finished run atomically and return its entry. `gemm` is the GEMM that computed it
   * (provenance), `declaredGemm` the one its key declares (default: the same).
   */
  async put<R>(
    config: RunConfig,
    job: string,
    result: R,
    version: string = QUANTLAB_VERSION,
    gemm?: string | null,
    declaredGemm: string | null | undefined = gemm,
  ): Promise<StoreEntry<R>> {
    const entry = makeEntry(config, job, result, version, undefined, gemm, declaredGemm);
    await this.write(entry);
    return entry;
  }

  /**
   * Write a complete entry atomically (temp file, fsync, rename, fsync of the directory).
   * A failure (full disk, read-only store) throws an error naming the entry's path.
   */
  async write(entry: StoreEntry<unknown>): Promise<void> {
    try {
      await this.#write(entry);
    } catch (err) {
      throw new Error(
        `result store: cannot write ${this.path(entry.key)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #write(entry: StoreEntry<unknown>): Promise<void> {
    const bytes = new TextEncoder().encode(encodeJson(entry, 2) + "\n");
    await atomicWrite(this.dir, `${entry.key}.json`, bytes, entry.key);
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
      const read = await readEntry(file);
      if (read === undefined) continue; // removed meanwhile
      const check = "unreadable" in read
        ? { ok: false as const, reason: read.unreadable }
        : checkEntry(read.text, key);
      if (check.ok) valid.push(key);
      else corrupt.push({ file, reason: check.reason });
    }
    return { valid, corrupt };
  }

  /**
   * Remove the store's own temp files (`.<key>.<pid>.<random>.tmp`) left by killed writers, if
   * older than `maxAgeMs` (default 1 h). Other files, `*.tmp` or not, are never touched.
   */
  async sweepTemp(maxAgeMs = 3600_000): Promise<number> {
    let removed = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (!e.isFile || !TEMP_RE.test(e.name)) continue;
        const file = join(this.dir, e.name);
        const info = await Deno.stat(file).catch(() => null);
        if (info?.mtime && Date.now() - info.mtime.getTime() > maxAgeMs) {
          await Deno.remove(file).catch(() => {});
          removed++;
        }
      }
    } catch {
      // Best effort: a missing or unreadable store has nothing to sweep; writes report problems.
    }
    return removed;
  }

  /** Path of the claim file for `key`. */
  claimPath(key: string): string {
    return join(this.dir, `.${key}.claim`);
  }

  /**
   * Claim `key` for `owner` (created atomically with this process's pid and host). True when
   * the claim is ours; false when a live runner holds it. A stale claim (its holder's pid is
   * gone on this host, or, from another host, untouched for {@linkcode CLAIM_STALE_MS}) is taken
   * over. Two runners taking over the same stale claim at once may both compute the run (double
   * work, never a corrupt entry).
   */
  async claim(key: string, owner: string): Promise<boolean> {
    const file = this.claimPath(key);
    const holder: ClaimHolder = {
      pid: Deno.pid,
      host: Deno.hostname(),
      owner,
      at: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await Deno.mkdir(this.dir, { recursive: true });
        await Deno.writeTextFile(file, JSON.stringify(holder), { createNew: true });
        return true;
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          throw new Error(`result store: cannot claim ${file}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      const state = await this.claimState(key);
      if (state === "free") continue;
      if (state.live) return state.holder?.owner === owner;
      await Deno.remove(file).catch(() => {});
    }
    return false;
  }

  /** Who holds `key` and whether they are alive; "free" when nobody does. */
  async claimState(key: string): Promise<"free" | { holder?: ClaimHolder; live: boolean }> {
    const file = this.claimPath(key);
    let text: string, mtime: Date | null;
    try {
      [text, mtime] = await Promise.all([
        Deno.readTextFile(file),
        Deno.stat(file).then((i) => i.mtime),
      ]);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "free";
      return { live: true }; // unreadable: assume held rather than compute twice
    }
    let holder: ClaimHolder | undefined;
    try {
      holder = JSON.parse(text);
    } catch {
      // Half-written by a killed runner, or garbage: judged by age alone.
    }
    const fresh = mtime !== null && Date.now() - mtime.getTime() < CLAIM_STALE_MS;
    if (holder && typeof holder.pid === "number" && holder.host === Deno.hostname()) {
      return { holder, live: pidAlive(holder.pid) ?? fresh };
    }
    return { holder, live: fresh };
  }

  /** Drop our claim on `key` (no-op when it is not ours). */
  async release(key: string, owner: string): Promise<void> {
    const state = await this.claimState(key);
    if (state !== "free" && state.holder?.owner === owner) {
      await Deno.remove(this.claimPath(key)).catch(() => {});
    }
  }

  /** Refresh the modification time of our claims (a heartbeat for other hosts). */
  async touchClaims(keys: Iterable<string>): Promise<void> {
    const now = new Date();
    for (const key of keys) await Deno.utime(this.claimPath(key), now, now).catch(() => {});
  }

  async #corrupt(key: string, file: string, reason: string, repair: boolean): Promise<void> {
    if (!repair) {
      // Left in place, so a later read would find it again: warn only the first time.
      if (this.#warned.has(file)) return;
      this.#warned.add(file);
      this.#warn(`result store: corrupt entry ${file}: ${reason}; counted as missing`);
      return;
    }
    const aside = join(this.dir, "corrupt");
    const dest = join(aside, `${file.slice(this.dir.length + 1)}.${Date.now()}`);
    let where = `moved to ${dest}, will recompute`;
    try {
      await Deno.mkdir(aside, { recursive: true });
      await Deno.rename(file, dest);
    } catch (moveErr) {
      try {
        await Deno.remove(file);
        where = `could not move it aside (${(moveErr as Error).message}); deleted, will recompute`;
      } catch (removeErr) {
        this.#blocked.add(key);
        where = `could not move it aside (${(moveErr as Error).message}) nor delete it (${
          (removeErr as Error).message
        }); left in place, so this run cannot be stored`;
      }
    }
    this.#warn(`result store: corrupt entry ${file}: ${reason}; ${where}`);
  }
}

/** An entry file's text; `unreadable` with the reason when something else is there. */
async function readEntry(
  file: string,
): Promise<{ text: string } | { unreadable: string } | undefined> {
  try {
    return { text: await Deno.readTextFile(file) };
  } catch (err) {
    // No entry there: nothing at the path, or a file where the store directory should be.
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    return { unreadable: `unreadable (${(err as Error).message})` };
  }
}

/** Whether a local pid is alive; undefined when that cannot be told (no /proc). */
function pidAlive(pid: number): boolean | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
