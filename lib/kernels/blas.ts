/**
 * Native single-threaded `cblas_sgemm` from Debian's OpenBLAS, reached through `Deno.dlopen`.
 *
 * The wasm backend's XNNPACK GEMM tops out near 20–30 GFLOP/s on this machine; OpenBLAS on one
 * core does 70+. quantlab's matMul kernels call it directly on the wasm heap (no copies) when the
 * library is installed (`scripts/bootstrap.sh` installs `libopenblas0-serial`) and FFI is allowed,
 * and fall back to pure wasm otherwise.
 *
 * Determinism: the serial build never splits work across threads, and GEMM packs its operands into
 * its own aligned buffers, so a product depends only on the operand values and shapes. If only a
 * threaded OpenBLAS is found, it is pinned to one thread.
 *
 * @module
 */

/** Row-major single-precision GEMM: `C = alpha·op(A)·op(B) + beta·C`. Views start at element 0. */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** Row-major `y = alpha·op(A)·x + beta·y` with unit strides. */
export type Sgemv = (
  trans: boolean,
  m: number,
  n: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  x: Float32Array,
  beta: number,
  y: Float32Array,
) => void;

/** A loaded OpenBLAS. */
export interface OpenBlas {
  sgemm: Sgemm;
  sgemv: Sgemv;
  /** Path that was opened. */
  path: string;
  /** OpenBLAS's own description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake SINGLE_THREADED". */
  config: string;
  /** The kernel family OpenBLAS picked for this CPU, e.g. "Cooperlake". */
  core: string;
}

/** Where Debian puts the serial build first, then whatever `libopenblas.so.0` resolves to. */
export const OPENBLAS_CANDIDATES: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0",
  "libopenblas.so.0",
];

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_sgemv: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
} as const;

let loaded: OpenBlas | null | undefined;

function _cString(p: Deno.PointerValue): string {
  return p == null ? "" : new Deno.UnsafePointerView(p).getCString();
}

/**
 * Open OpenBLAS once per process; `null` when it is not installed or FFI is not permitted.
 * `QUANTLAB_GEMM=wasm` in the environment disables it (for comparisons and debugging).
 */
export function loadOpenBlas(): OpenBlas | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (Deno.env.get("QUANTLAB_GEMM") === "wasm") return null;
  } catch {
    // No env permission: the switch is simply unavailable.
  }
  for (const path of OPENBLAS_CANDIDATES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch {
      continue;
    }
    const config = _cString(lib.symbols.openblas_get_config());
    if (!config.includes("SINGLE_THREADED")) lib.symbols.openblas_set_num_threads(1);
    const raw = lib.symbols.cblas_sgemm;
    const sgemm: Sgemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      raw(
        CBLAS_ROW_MAJOR,
        transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
        transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
    const rawGemv = lib.symbols.cblas_sgemv;
    const sgemv: Sgemv = (trans, m, n, alpha, a, lda, x, beta, y) =>
      rawGemv(
        CBLAS_ROW_MAJOR,
        trans ? CBLAS_TRANS : CBLAS_NO_TRANS,
        m,
        n,
        alpha,
        a,
        lda,
        x,
        1,
        beta,
        y,
        1,
      );
    loaded = { sgemm, sgemv, path, config, core: _cString(lib.symbols.openblas_get_corename()) };
    break;
  }
  return loaded;
}
