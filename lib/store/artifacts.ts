/**
 * The artefact store: binary artefacts beside the JSON result store — checkpoints (named
 * tensors of a trained codec and quantizer plus JSON metadata) and latent sets (encoder outputs
 * and codes of a dataset, for post-training quantization).
 *
 * An artefact is named tensors (float32 or int32, row-major, with shapes) plus JSON metadata.
 * On disk it is one file: the 8-byte magic `QLARTF01`, the header length (uint32 LE), the
 * header JSON `{meta, tensors: [{name, dtype, shape, offset, length}]}`, the tensor bytes (each
 * 8-byte aligned), and the SHA-256 of everything before it (32 bytes).
 *
 * - Two ways to name one: **content-addressed** (`put` → the SHA-256 hex of the encoded file,
 *   `get(id)` checks that the content still hashes to it) or **keyed** by the caller's hash of
 *   what produced it, e.g. a run's config (`putKeyed`, `getKeyed`, `getOrCompute`).
 * - Writes are atomic: temp file in the same directory, fsync, rename, fsync of the directory.
 *   A failed write throws an {@linkcode ArtifactStoreError} naming the file. Temp files of a
 *   killed writer (`.<name>.<pid>.<8 hex>.tmp`) are swept when their pid is gone from this host or
 *   they are older than an hour ({@linkcode ArtifactStore.sweepTemp}, run once per store before
 *   its first write).
 * - Reads verify the checksum and the structure. A corrupt file, or anything at an artefact's
 *   path that cannot be read as a file (a directory), is reported once through `warn`, moved to
 *   `<dir>/corrupt/` and treated as missing, so `getOrCompute` recomputes it. The report says
 *   what really happened: moved, deleted, or left in place when neither was possible (then
 *   `getOrCompute` refuses before computing, since the result could not be stored).
 * - `getOrCompute` checks that the directory is writable before computing, so a read-only store
 *   fails at once with a message naming it instead of after the computation.
 *
 * Separate from `lib/grid/store.ts` on purpose: results are small JSON documents compared across
 * machines, artefacts are large binaries that a run can always recompute.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { atomicWrite } from "./atomic.ts";

/** The store's own temp files; nothing else is swept. */
const TEMP_RE = /^\.(?:[A-Za-z0-9][A-Za-z0-9._-]{0,199}|probe)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Element types an artefact can hold. */
export type Dtype = "float32" | "int32";

/** One named tensor: row-major data and its shape (product of shape = data.length). */
export interface StoredTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** JSON-serialisable metadata. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What the store keeps: named tensors and JSON metadata (what made them, and how). */
export interface Artifact {
  meta: Json;
  tensors: Record<string, StoredTensor>;
}

/** A file that is not a valid artefact; `reason` says what is wrong. */
export class ArtifactError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`artefact ${file}: ${reason}`);
    this.name = "ArtifactError";
  }
}

/** The store cannot do what was asked (not writable, something in the way); names the path. */
export class ArtifactStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ArtifactStoreError";
  }
}

const MAGIC = new TextEncoder().encode("QLARTF01");
const DIGEST = 32;
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const ID_RE = /^[0-9a-f]{64}$/;
const ROOT = resolve(import.meta.dirname!, "..", "..");

/** The directory used when none is given: `$QUANTLAB_CACHE/artifacts`, else `<repo>/.cache/artifacts`. */
export function defaultArtifactDir(): string {
  const env = Deno.env.get("QUANTLAB_CACHE");
  return env ? join(resolve(env), "artifacts") : join(ROOT, ".cache", "artifacts");
}

/** SHA-256 of bytes, lower-case hex. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Encode an artefact as the file bytes described in the module doc (checksum included). */
export function encodeArtifact(artifact: Artifact): Uint8Array {
  const entries = Object.entries(artifact.tensors);
  let offset = 0;
  const tensors = entries.map(([name, t]) => {
    const dtype: Dtype = t.data instanceof Float32Array
      ? "float32"
      : t.data instanceof Int32Array
      ? "int32"
      : invalid(name, "data must be a Float32Array or an Int32Array");
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || count !== t.data.length) {
      invalid(name, `shape [${t.shape}] does not hold ${t.data.length} values`);
    }
    const entry = { name, dtype, shape: [...t.shape], offset, length: t.data.byteLength };
    offset = align8(offset + t.data.byteLength);
    return entry;
  });
  const header = new TextEncoder().encode(JSON.stringify({ meta: artifact.meta, tensors }));
  const bodyStart = align8(MAGIC.length + 4 + header.length);
  const out = new Uint8Array(bodyStart + offset + DIGEST);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  entries.forEach(([, t], i) => {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, bodyStart + tensors[i].offset);
  });
  const content = out.subarray(0, out.length - DIGEST);
  out.set(createHash("sha256").update(content).digest(), out.length - DIGEST);
  return out;
}

/**
 * Decode and verify artefact file bytes; throws {@linkcode ArtifactError} naming `file` and
 * what is wrong (truncated, bad magic, checksum mismatch, malformed header or tensor table).
 * Tensor data are copies (aligned, independent of `bytes`). Little-endian hosts only.
 */
export function decodeArtifact(bytes: Uint8Array, file = "<bytes>"): Artifact {
  const fail = (reason: string): never => {
    throw new ArtifactError(file, reason);
  };
  if (bytes.length < MAGIC.length + 4 + DIGEST) fail(`truncated (${bytes.length} bytes)`);
  if (!MAGIC.every((b, i) => bytes[i] === b)) fail("not an artefact file (bad magic)");
  const content = bytes.subarray(0, bytes.length - DIGEST);
  const stored = bytes.subarray(bytes.length - DIGEST);
  const actual = createHash("sha256").update(content).digest();
  if (!stored.every((b, i) => b === actual[i])) fail("checksum mismatch (content changed)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const headerEnd = MAGIC.length + 4 + headerLength;
  if (headerEnd > content.length) fail("header runs past the end of the file");
  let header: {
    meta: Json;
    tensors: { name: string; dtype: Dtype; shape: number[]; offset: number; length: number }[];
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, headerEnd)));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (!header || !Array.isArray(header.tensors)) fail("header has no tensor table");
  const bodyStart = align8(headerEnd);
  const tensors: Record<string, StoredTensor> = {};
  for (const t of header.tensors) {
    const size = t.dtype === "float32" || t.dtype === "int32"
      ? 4
      : fail(`tensor ${t.name}: dtype ${t.dtype}`);
    const count = Array.isArray(t.shape) ? t.shape.reduce((a, b) => a * b, 1) : NaN;
    const start = bodyStart + t.offset;
    if (!(count * size === t.length) || start < bodyStart || start + t.length > content.length) {
      fail(`tensor ${t.name}: shape [${t.shape}] and extent do not fit the file`);
    }
    const copy = bytes.slice(start, start + t.length).buffer;
    tensors[t.name] = {
      shape: t.shape,
      data: t.dtype === "float32" ? new Float32Array(copy) : new Int32Array(copy),
    };
  }
  return { meta: header.meta, tensors };
}

export interface ArtifactStoreOptions {
  /** Where reports about corrupt files go; default `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * Artefacts in one directory, `<dir>/<id or key>.qla`.
 *
 * @example
 * ```ts
 * const store = new ArtifactStore(await Deno.makeTempDir());
 * const { artifact, computed } = await store.getOrCompute("run-0-checkpoint", () => ({
 *   meta: { epochs: 8 },
 *   tensors: { w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 * }));
 * console.log(computed, artifact.tensors.w.data); // true Float32Array [1, 2, 3, 4]
 * ```
 */
export class ArtifactStore {
  readonly dir: string;
  readonly #warn: (message: string) => void;
  #blocked = new Map<string, string>();
  #swept = false;

  constructor(dir: string = defaultArtifactDir(), options: ArtifactStoreOptions = {}) {
    this.dir = resolve(dir);
    this.#warn = options.warn ?? ((m) => console.warn(m));
  }

  /** The file of an id or key. */
  path(name: string): string {
    if (!KEY_RE.test(name)) {
      throw new RangeError(
        `artefact store: key ${
          JSON.stringify(name)
        } is invalid: expected 1–200 of [A-Za-z0-9._-], not starting with . _ or -`,
      );
    }
    return join(this.dir, `${name}.qla`);
  }

  /** Store content-addressed; returns its id, the SHA-256 hex of the encoded file. */
  async put(artifact: Artifact): Promise<string> {
    const bytes = encodeArtifact(artifact);
    const id = sha256Bytes(bytes);
    await this.#write(id, bytes);
    return id;
  }

  /** The verified artefact with this id, or null when missing or corrupt (reported, moved aside). */
  async get(id: string): Promise<Artifact | null> {
    if (!ID_RE.test(id)) {
      throw new RangeError(`artefact store: id ${id} is not a SHA-256 hex digest`);
    }
    return await this.#read(
      id,
      (bytes) => sha256Bytes(bytes) === id ? null : "content does not hash to its id",
    );
  }

  /** Store under the caller's key (e.g. a hash of the config that produced it). */
  async putKeyed(key: string, artifact: Artifact): Promise<void> {
    await this.#write(key, encodeArtifact(artifact));
  }

  /** The verified artefact under `key`, or null when missing or corrupt (reported, moved aside). */
  async getKeyed(key: string): Promise<Artifact | null> {
    return await this.#read(key, () => null);
  }

  /**
   * The artefact under `key`, computing and storing it when it is missing or corrupt.
   * `computed` says which happened.
   */
  async getOrCompute(
    key: string,
    compute: () => Artifact | Promise<Artifact>,
  ): Promise<{ artifact: Artifact; computed: boolean }> {
    const hit = await this.getKeyed(key);
    if (hit) return { artifact: hit, computed: false };
    const blocked = this.#blocked.get(key);
    if (blocked) {
      throw new ArtifactStoreError(
        `artefact store: cannot store ${this.path(key)}: ${blocked}; remove it and re-run ` +
          `(nothing was computed)`,
      );
    }
    await this.probe();
    const artifact = await compute();
    await this.putKeyed(key, artifact);
    return { artifact, computed: true };
  }

  /** Throw an {@linkcode ArtifactStoreError} naming the directory unless files can be written there. */
  async probe(): Promise<void> {
    const tmp = join(this.dir, `.probe.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
    try {
      await Deno.mkdir(this.dir, { recursive: true });
      await Deno.writeTextFile(tmp, "", { createNew: true });
      await Deno.remove(tmp);
    } catch (err) {
      throw new ArtifactStoreError(
        `artefact store ${this.dir} is not writable: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Remove the store's own temp files left by killed writers: those whose pid (in the name) is
   * not alive on this host, or older than `maxAgeMs` (default 1 h). Returns how many.
   */
  async sweepTemp(maxAgeMs = 3600_000): Promise<number> {
    let removed = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        const m = TEMP_RE.exec(e.name);
        if (!e.isFile || !m) continue;
        const file = join(this.dir, e.name);
        const info = await Deno.stat(file).catch(() => null);
        const old = info?.mtime != null && Date.now() - info.mtime.getTime() > maxAgeMs;
        if (old || pidGone(Number(m[1]))) {
          await Deno.remove(file).then(() => removed++, () => {});
        }
      }
    } catch {
      // Nothing to sweep in a missing or unreadable directory; writes report their problems.
    }
    return removed;
  }

  async #read(name: string, extra: (bytes: Uint8Array) => string | null): Promise<Artifact | null> {
    const file = this.path(name);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
        return null;
      }
      // A directory (or anything else unreadable) where the artefact should be.
      await this.#corrupt(name, file, `unreadable (${(err as Error).message})`);
      return null;
    }
    try {
      const artifact = decodeArtifact(bytes, file);
      const problem = extra(bytes);
      if (problem) throw new ArtifactError(file, problem);
      return artifact;
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      await this.#corrupt(name, file, err.reason);
      return null;
    }
  }

  async #write(name: string, bytes: Uint8Array): Promise<void> {
    const file = this.path(name); // validates the name
    if (!this.#swept) {
      this.#swept = true;
      await this.sweepTemp();
    }
    try {
      await atomicWrite(this.dir, `${name}.qla`, bytes, name);
    } catch (err) {
      throw new ArtifactStoreError(
        `artefact store: cannot write ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#blocked.delete(name);
  }

  async #corrupt(name: string, file: string, reason: string): Promise<void> {
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
        const what = `could not move it aside (${(moveErr as Error).message}) nor delete it (${
          (removeErr as Error).message
        }); left in place`;
        this.#blocked.set(name, `something corrupt or unreadable is there (${what})`);
        where = `${what}, so a recomputed artefact cannot be stored there`;
      }
    }
    this.#warn(`artefact store: corrupt ${file}: ${reason}; ${where}`);
  }
}

/** Whether a local pid is certainly gone (Linux /proc); false when it cannot be told. */
function pidGone(pid: number): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function invalid(name: string, why: string): never {
  throw new TypeError(`artefact tensor ${name}: ${why}`);
}
