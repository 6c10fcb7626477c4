/**
 * Canonical JSON and the result-cache key.
 *
 * A key is the SHA-256 (hex) of the canonical JSON of `{config, job, version, gemm}`: the
 * resolved config, the job identity (`module#export`), {@linkcode QUANTLAB_VERSION} and the GEMM
 * identity of the process computing it ("OpenBLAS 0.3.21 Zen", "wasm"; `lib/kernels/blas.ts`),
 * because seeded results differ between GEMM kernels. The GEMM is left out when it is the
 * reference one ({@linkcode REFERENCE_GEMM}, the pinned kernel), so keys made before the GEMM was
 * part of them stay valid for exactly the results they hold on machines of this kind. [choice] Canonical JSON
 * sorts object keys recursively (by UTF-16 code unit, as RFC 8785 does), has no whitespace and
 * writes numbers as JavaScript does, so equal configs give equal keys whatever their key order.
 *
 * JSON cannot hold NaN or ±Infinity, yet results do (a diverged epoch, an undefined accuracy).
 * Such numbers are written as `{"$float": "NaN" | "Infinity" | "-Infinity"}` and read back as
 * numbers by {@linkcode decodeJson}, so a result read from the store equals the one computed.
 * [choice]
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RunConfig } from "../config.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { REFERENCE_GEMM } from "../kernels/blas.ts";

const FLOAT_TAG = "$float";

/** Canonical JSON text of a JSON-like value (see the module doc). `undefined` fields are dropped. */
export function canonicalJson(value: unknown): string {
  if (typeof value === "number") {
    return Number.isFinite(value) ? JSON.stringify(value) : `{"${FLOAT_TAG}":"${value}"}`;
  }
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  }
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v === undefined || typeof v === "function") continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
}

/** JSON text with non-finite numbers tagged, indented for people; {@linkcode decodeJson} reads it. */
export function encodeJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? { [FLOAT_TAG]: String(v) } : v),
    indent,
  );
}

/** Parse JSON text, turning `{"$float": …}` tags back into numbers. */
export function decodeJson(text: string): unknown {
  return untag(JSON.parse(text));
}

/** Turn `{"$float": …}` tags in an already parsed value back into numbers. */
export function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === FLOAT_TAG) {
      const tag = obj[FLOAT_TAG];
      if (tag === "NaN") return NaN;
      if (tag === "Infinity") return Infinity;
      if (tag === "-Infinity") return -Infinity;
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = untag(obj[k]);
    return out;
  }
  return value;
}

/** SHA-256 of a UTF-8 string, lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The GEMM identity a key declares: none (undefined) for the reference GEMM or when unknown. */
export function keyGemm(gemm: string | null | undefined): string | undefined {
  return gemm == null || gemm === REFERENCE_GEMM ? undefined : gemm;
}

/**
 * The cache key of one run: SHA-256 of `canonicalJson({config, job, version, gemm})`, `gemm`
 * left out for the reference GEMM (see the module doc). `config` must already be resolved
 * (defaults filled), so `{}` and the defaults share a key.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config.ts";
 * const key = resultKey(resolveConfig({ train: { seed: 1 } }), "lib/train.ts#train");
 * ```
 */
export function resultKey(
  config: RunConfig,
  job: string,
  version: string = QUANTLAB_VERSION,
  gemm?: string | null,
): string {
  return sha256Hex(canonicalJson({ config, job, version, gemm: keyGemm(gemm) }));
}
