/**
 * A researcher's own gradient passer or quantizer, loaded from their module and checked before
 * it goes near the worker pool or the result cache.
 *
 * A passer export is either a bare function with the built-in passers' `forward` contract
 * (`(z, hard, ctx) => q`, see `Passer` in `lib/passers.ts`) or, better, an object with a name
 * and a short doc for the report card:
 *
 * ```ts ignore
 * import type { PassForward } from "quantlab/lib/passers.ts";
 * export const halfSte = {
 *   name: "half STE",
 *   doc: "STE with the gradient halved.",
 *   forward: ((z, hard) => …) as PassForward,
 * };
 * ```
 *
 * A quantizer export is an object with a `build` function returning a `Quantizer`
 * (`lib/quantizers/types.ts`) that spends exactly `bits` per frame of `dim` dimensions:
 *
 * ```ts ignore
 * import type { QuantizerBuilder } from "quantlab/lib/quantizers/mod.ts";
 * export const rounding = {
 *   name: "scalar rounding",
 *   doc: "Each dimension rounded to 2^(bits/dim) levels.",
 *   build: ((bits, dim, rng, weights) => …) as QuantizerBuilder,
 * };
 * ```
 *
 * Which one a value is, is read from its shape: a function or an object with `forward` is a
 * passer, an object with `build` a quantizer.
 *
 * The reference is `path/to/module.ts#exportName`, resolved against the caller's directory.
 * The SHA-256 of the module's whole local import graph goes into every run's config, so editing
 * the module, or any local file it imports, makes new runs instead of reusing stale ones
 * ({@linkcode moduleGraphSha256}). quantlab's own `lib/` is not hashed (its changes are covered
 * by the quantlab version, as for every built-in run), nor are npm or remote packages (pinned by
 * the lock file). [choice]
 *
 * @module
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Passer, PassForward } from "../passers.ts";
import type { QuantizerBuilder } from "../quantizers/mod.ts";

/** What every loaded candidate carries: where it came from and how it is shown. */
export interface CandidateIdentity {
  /** `file:///abs/path.ts#exportName`, what `passer.module` holds. */
  module: string;
  /** The module file's absolute path. */
  path: string;
  exportName: string;
  /** Display name: the export's `name`, else the export name. */
  name: string;
  /** The export's `doc` ("" when it has none). */
  doc: string;
  /**
   * SHA-256 (hex) of the module's local import graph: of its source alone when it imports no
   * local file outside quantlab's `lib/` (see {@linkcode moduleGraphSha256}).
   */
  sha256: string;
  /** The local files hashed besides the module itself (absolute paths, sorted). */
  imports: string[];
}

/** A loaded, shape-checked candidate passer. */
export interface PasserCandidate extends CandidateIdentity {
  kind: "passer";
  passer: Passer;
}

/** A loaded, shape-checked candidate quantizer (its builder; what it builds is checked by the preflight). */
export interface QuantizerCandidate extends CandidateIdentity {
  kind: "quantizer";
  build: QuantizerBuilder;
}

/** A candidate module's export: a passer or a quantizer. */
export type Candidate = PasserCandidate | QuantizerCandidate;

/** A candidate module that cannot be used; the message names the module and what is wrong. */
export class CandidateError extends Error {
  constructor(readonly ref: string, reason: string) {
    super(`${ref}: ${reason}`);
    this.name = "CandidateError";
  }
}

/** Split `path#export` (or `file:///path#export`) into an absolute path and an export name. */
export function parseReference(
  ref: string,
  cwd = Deno.cwd(),
): { path: string; exportName: string } {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0 || hash === ref.length - 1) {
    throw new CandidateError(ref, "expected path/to/module.ts#exportName");
  }
  const exportName = ref.slice(hash + 1);
  if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new CandidateError(ref, `"${exportName}" is not an export name`);
  }
  const where = ref.slice(0, hash);
  const path = where.startsWith("file://")
    ? fileURLToPath(where)
    : isAbsolute(where)
    ? where
    : resolve(cwd, where);
  return { path, exportName };
}

/** SHA-256 of bytes as hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const ROOT = resolve(import.meta.dirname!, "..", "..");
const LIB = resolve(ROOT, "lib") + sep;

/**
 * The local files `path` imports, directly or not, found with `deno info --json` (static
 * imports and literal dynamic ones), except quantlab's own `lib/` and `node_modules`; sorted,
 * without `path` itself.
 */
export async function localImports(path: string, ref = path): Promise<string[]> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", resolve(ROOT, "deno.json"), path],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
  } catch (e) {
    throw new CandidateError(ref, `cannot list the module's imports: ${(e as Error).message}`);
  }
  if (!out.success) {
    throw new CandidateError(
      ref,
      `cannot list the module's imports (deno info): ${
        new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ")
      }`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules?: { specifier?: string; error?: string }[];
  };
  const files = new Set<string>();
  for (const m of info.modules ?? []) {
    if (!m.specifier?.startsWith("file://")) continue;
    const file = fileURLToPath(m.specifier);
    if (m.error) throw new CandidateError(ref, `its import ${file} cannot be loaded: ${m.error}`);
    if (file === path || file.startsWith(LIB) || file.includes(`${sep}node_modules${sep}`)) {
      continue;
    }
    files.add(file);
  }
  return [...files].sort();
}

/**
 * SHA-256 of a module and the local files it imports: the module's own source hash when it
 * imports none (so keys of single-file candidates are those of before), else the hash of one
 * line per file, `<path relative to the module's directory>\0<sha256 of its bytes>`, the module
 * first and the imports in path order.
 */
export async function moduleGraphSha256(
  path: string,
  source: Uint8Array,
  imports: readonly string[],
  ref = path,
): Promise<string> {
  const own = await sha256Hex(source);
  if (imports.length === 0) return own;
  const lines = [`${relative(resolve(path, ".."), path)}\0${own}`];
  for (const file of imports) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      throw new CandidateError(ref, `cannot read its import ${file}: ${(e as Error).message}`);
    }
    lines.push(`${relative(resolve(path, ".."), file)}\0${await sha256Hex(bytes)}`);
  }
  return await sha256Hex(new TextEncoder().encode(lines.join("\n")));
}

/**
 * Load `path#export`, check that the export is a passer or a quantizer, and return it with its
 * identity.
 * Every failure is a {@linkcode CandidateError} naming the module: a missing file, an import
 * that throws, a missing export (the module's exports are listed), a value of the wrong shape.
 */
export async function loadCandidate(ref: string, cwd = Deno.cwd()): Promise<Candidate> {
  const { path, exportName } = parseReference(ref, cwd);
  let source: Uint8Array;
  try {
    source = await Deno.readFile(path);
  } catch (e) {
    throw new CandidateError(ref, `cannot read ${path}: ${(e as Error).message}`);
  }
  const url = pathToFileURL(path).href;
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (e) {
    throw new CandidateError(ref, `importing ${path} failed: ${(e as Error).message}`);
  }
  if (!(exportName in mod)) {
    const names = Object.keys(mod);
    throw new CandidateError(
      ref,
      `the module has no export "${exportName}" (it exports ${
        names.length ? names.map((n) => `"${n}"`).join(", ") : "nothing"
      })`,
    );
  }
  const value = mod[exportName];
  const imports = await localImports(path, ref);
  const identity = {
    module: `${url}#${exportName}`,
    path,
    exportName,
    sha256: await moduleGraphSha256(path, source, imports, ref),
    imports,
  };
  if (typeof value === "function") {
    return {
      ...identity,
      kind: "passer",
      name: exportName,
      doc: "",
      passer: { kind: "custom", forward: value as PassForward },
    };
  }
  const v = (value && typeof value === "object" ? value : {}) as {
    forward?: unknown;
    build?: unknown;
    name?: unknown;
    doc?: unknown;
  };
  const isPasser = typeof v.forward === "function", isQuantizer = typeof v.build === "function";
  if (isPasser === isQuantizer) {
    throw new CandidateError(
      ref,
      `"${exportName}" is ${describe(value)}, expected ${
        isPasser ? "either `forward` (a passer) or `build` (a quantizer), not both: " : ""
      }a passer, a function (z, hard, ctx) => q or an object { name, doc, forward(z, hard, ctx) }, ` +
        "or a quantizer, an object { name, doc, build(bits, dim, rng, weights) } whose build " +
        "returns a Quantizer (lib/quantizers/types.ts)",
    );
  }
  let name = exportName, doc = "";
  if (v.name !== undefined) {
    if (typeof v.name !== "string" || !v.name.trim()) {
      throw new CandidateError(ref, "its `name` must be a non-empty string");
    }
    name = v.name;
  }
  if (v.doc !== undefined) {
    if (typeof v.doc !== "string") throw new CandidateError(ref, "its `doc` must be a string");
    doc = v.doc;
  }
  if (isPasser) {
    const forward = (v.forward as PassForward).bind(v);
    return { ...identity, kind: "passer", name, doc, passer: { kind: "custom", forward } };
  }
  return {
    ...identity,
    kind: "quantizer",
    name,
    doc,
    build: (v.build as QuantizerBuilder).bind(v),
  };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") {
    return `an object with keys ${Object.keys(v as object).join(", ") || "(none)"}`;
  }
  return `a ${typeof v}`;
}
