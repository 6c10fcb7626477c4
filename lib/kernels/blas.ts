/**
 * Native single-threaded `cblas_sgemm` from Debian's OpenBLAS, reached through `Deno.dlopen`.
 *
 * The wasm backend's XNNPACK GEMM tops out near 20–30 GFLOP/s on this machine; OpenBLAS on one
 * core does 70+. quantlab's matMul kernels call it directly on the wasm heap (no copies) when the
 * library is installed (`scripts/bootstrap.sh` installs `libopenblas0-serial`) and FFI is allowed,
 * and fall back to pure wasm otherwise.
 *
 * Determinism: the serial build never splits work across threads, and GEMM packs its operands into
 * its own aligned buffers, so a product depends only on the operand values, the shapes and the
 * kernel. If only a threaded OpenBLAS is found, it is pinned to one thread.
 *
 * The kernel is pinned [choice]. Debian's OpenBLAS is a DYNAMIC_ARCH build that picks its SGEMM
 * kernel from the CPU when it loads (Haswell, Zen, SkylakeX, Cooperlake, …), and results differ
 * between kernels in the last float32 bits, which training amplifies. So before opening the library
 * this module sets `OPENBLAS_CORETYPE` to {@linkcode PINNED_CORETYPE} (the kernel the committed
 * fixture, reports and cached results were computed with; any x86-64 CPU with AVX2 and FMA runs it),
 * restores the variable afterwards, and checks `openblas_get_corename()`. The pin wins over a
 * machine's preset `OPENBLAS_CORETYPE` (recorded in {@linkcode OpenBlas.pin}). When it cannot be
 * applied (no AVX2/FMA, not x86-64, a non-dynamic build) or did not take, a warning says so and
 * {@linkcode OpenBlas.identity} names the kernel that runs: results then get cache keys of their
 * own (`lib/grid/key.ts`) and differ from the recorded ones. `QUANTLAB_OPENBLAS_CORETYPE=<kernel>`
 * (or `auto`: OpenBLAS's own choice) overrides the pin, with a warning saying what that means.
 *
 * Two GEMM threads do not pay, and they change the numbers (issue 18, measured 2026-12-05 with
 * `bench/gemm_threads.ts` on this 2-core AMD EPYC, Haswell kernel pinned, cases interleaved step by
 * step in one process, load average 0.7 when it started, 11 rounds, medians). The base model's
 * recipe step (batch 8 × 4096) took 252 ms, of which GEMM 98 ms (39 %, 5 511 calls of 212 shapes
 * per step, most of them thin: 2045×16×16, 4093×8×8, 509×32×32, each called 64 times a step).
 * Debian's threaded OpenBLAS (`libopenblas0-pthread` 0.3.21) at 1 thread: 253 ms, bit-identical to
 * the serial build; at 2 threads: 281 ms (GEMM 126 ms), i.e. 11 % slower, since the thin GEMMs lose
 * more to thread hand-off than they gain; giving 2 threads to exactly the shapes where they were
 * faster (the few large products, 264×514×512 and the like) would save 3 ms per step (1 %). And 2
 * threads are not bit-identical: the first step's loss already differs (0.54601979 vs 0.54601955)
 * and after 3 steps 371 k of 409 k weights do (max |Δ| 5.5e-5); single products with random
 * operands differ in 11 232 of 32 720 elements at 2045×16×16 and in 40 of 262 144 at 32768×8×8 (K
 * of 16 and 8), none at 4093×8×8 or 64×64×64, so it is not only a split of K. Hence no thread
 * option (a second run with another process on the machine, load average 2–3, 15 rounds: 275 ms
 * serial, 275 at 1 thread, 305 at 2). The batch split across two workers pays only when the second
 * core is free: with the main thread and a Worker each running a batch-4 step at once (exchanging
 * an array of 409 k floats both ways), a step took 189 ms against 253 ms for one batch-8 step in
 * the first run, 25 % less (a batch-4 step alone takes ~155 ms: about 48 ms of the step, 18 %, does
 * not shrink with the batch), but 355 ms against 281 ms in the loaded run, 27 % more, since each
 * step waits for the slower half. Idle, that is ~3 of the ~13 minutes of a 3 000-step training,
 * before the costs the estimate leaves out (summing the two gradients, loading weights into the
 * worker); its numbers would differ from the one-process run (gradient sums in another order), so
 * it would need a labelled option in the result key. Not built.
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
  /** The kernel family OpenBLAS runs, e.g. "Haswell". */
  core: string;
  /** Library version from `config`, e.g. "0.3.21". */
  version: string;
  /**
   * What a result computed with this GEMM depends on: `OpenBLAS <version> <core>`, e.g.
   * "OpenBLAS 0.3.21 Haswell" ({@linkcode REFERENCE_GEMM}).
   */
  identity: string;
  /** How the kernel was chosen. */
  pin: PinReport;
}

/** How the OpenBLAS kernel was chosen (see the module doc). */
export interface PinReport {
  /** The kernel asked for through `OPENBLAS_CORETYPE`; null when OpenBLAS chose by CPU. */
  wanted: string | null;
  /** Why: the project's pin, the user's override, or the pin could not be applied. */
  source: "pin" | "override" | "unpinned";
  /** Whether OpenBLAS runs the kernel asked for. */
  took: boolean;
  /** `OPENBLAS_CORETYPE` as the process found it (a machine may preset it), or null. */
  preset: string | null;
  /** What a reader of the result should know (also printed as a warning when it matters). */
  notes: string[];
}

/** The OpenBLAS kernel quantlab pins, so results are the same on every x86-64 machine. [choice] */
export const PINNED_CORETYPE = "Haswell";

/** Environment variable overriding the pin: a kernel name, or `auto` for OpenBLAS's own choice. */
export const CORETYPE_OVERRIDE = "QUANTLAB_OPENBLAS_CORETYPE";

/**
 * The GEMM the committed fixture, reports and cached results were computed with. A result key
 * declares its GEMM only when it differs from this one, so existing keys stay valid for it.
 */
export const REFERENCE_GEMM = `OpenBLAS 0.3.21 ${PINNED_CORETYPE}`;

/** CPU flags (from /proc/cpuinfo) a kernel needs; running it without them is SIGILL. */
const KERNEL_FLAGS: Record<string, string[]> = {
  haswell: ["avx2", "fma"],
  zen: ["avx2", "fma"],
  skylakex: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"],
  cooperlake: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"],
  sapphirerapids: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"],
};

/** Where Debian puts the serial build first, then whatever `libopenblas.so.0` resolves to. */
export const OPENBLAS_CANDIDATES: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0",
  "libopenblas.so.0",
];

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** The OpenBLAS symbols quantlab opens (here and in `bench/gemm_threads.ts`). */
export const SYMBOLS = {
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

function _env(name: string): string | null {
  try {
    return Deno.env.get(name) ?? null;
  } catch {
    return null;
  }
}

/** The CPU's flags, or null when they cannot be read (not Linux, no permission). */
function _cpuFlags(): Set<string> | null {
  try {
    const text = Deno.readTextFileSync("/proc/cpuinfo");
    const line = text.split("\n").find((l) => /^flags\s*:/.test(l));
    return line ? new Set(line.replace(/^flags\s*:/, "").trim().split(/\s+/)) : null;
  } catch {
    return null;
  }
}

/** Flags `core` needs that this CPU lacks; empty when it has them or they cannot be told. */
export function missingCpuFlags(core: string, flags: Set<string> | null = _cpuFlags()): string[] {
  const need = KERNEL_FLAGS[core.toLowerCase()];
  if (!need || !flags) return [];
  return need.filter((f) => !flags.has(f));
}

/**
 * Decide which kernel to ask OpenBLAS for (see the module doc): the pin, the user's override, or
 * none (with the reason in `notes`). Pure in its inputs, for tests.
 */
export function planCoretype(
  env: { override: string | null; preset: string | null },
  cpu: { arch: string; flags: Set<string> | null },
): Omit<PinReport, "took"> {
  const { override, preset } = env;
  const notes: string[] = [];
  const refNote = `results differ from the recorded ones (${REFERENCE_GEMM}) in the last bits ` +
    `and are cached under keys of their own`;
  if (override) {
    if (override.toLowerCase() === "auto") {
      notes.push(
        `${CORETYPE_OVERRIDE}=auto: OpenBLAS picks its kernel by CPU` +
          (preset ? ` (OPENBLAS_CORETYPE=${preset} from the environment)` : "") +
          `; ${refNote} unless it picks ${PINNED_CORETYPE}`,
      );
      return { wanted: preset, source: "override", preset, notes };
    }
    const missing = missingCpuFlags(override, cpu.flags);
    if (missing.length === 0) {
      if (override.toLowerCase() !== PINNED_CORETYPE.toLowerCase()) {
        notes.push(
          `${CORETYPE_OVERRIDE}=${override} replaces quantlab's pin (${PINNED_CORETYPE}): ${refNote}`,
        );
      }
      return { wanted: override, source: "override", preset, notes };
    }
    notes.push(
      `${CORETYPE_OVERRIDE}=${override} ignored: this CPU lacks ${missing.join(", ")}, ` +
        `so that kernel would crash; using the pin (${PINNED_CORETYPE})`,
    );
  }
  if (cpu.arch !== "x86_64") {
    notes.push(`the OpenBLAS kernel pin applies to x86-64 only (this is ${cpu.arch}); ${refNote}`);
    return { wanted: null, source: "unpinned", preset, notes };
  }
  const missing = missingCpuFlags(PINNED_CORETYPE, cpu.flags);
  if (missing.length > 0) {
    notes.push(
      `this CPU lacks ${missing.join(", ")}, so OpenBLAS's ${PINNED_CORETYPE} kernel (quantlab's ` +
        `pin) cannot run here; OpenBLAS picks its own kernel: ${refNote}`,
    );
    return { wanted: null, source: "unpinned", preset, notes };
  }
  if (preset && preset.toLowerCase() !== PINNED_CORETYPE.toLowerCase()) {
    notes.push(
      `OPENBLAS_CORETYPE=${preset} from the environment is overridden by quantlab's pin ` +
        `(${PINNED_CORETYPE}); ${CORETYPE_OVERRIDE}=${preset} would use it`,
    );
  }
  return { wanted: PINNED_CORETYPE, source: "pin", preset, notes };
}

/** Open `path` with `OPENBLAS_CORETYPE` set to `wanted` for the load only (OpenBLAS reads it then). */
function _openPinned(path: string, wanted: string | null): Deno.DynamicLibrary<typeof SYMBOLS> {
  const before = _env("OPENBLAS_CORETYPE");
  let set = false;
  try {
    if (wanted != null && wanted !== before) {
      Deno.env.set("OPENBLAS_CORETYPE", wanted);
      set = true;
    }
  } catch {
    // No env permission: OpenBLAS chooses; the corename check below reports it.
  }
  try {
    return Deno.dlopen(path, SYMBOLS);
  } finally {
    if (set) {
      if (before == null) Deno.env.delete("OPENBLAS_CORETYPE");
      else Deno.env.set("OPENBLAS_CORETYPE", before);
    }
  }
}

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
  if (_env("QUANTLAB_GEMM") === "wasm") return null;
  const override = _env(CORETYPE_OVERRIDE)?.trim() || null;
  const plan = planCoretype(
    { override, preset: _env("OPENBLAS_CORETYPE") },
    { arch: Deno.build.arch, flags: _cpuFlags() },
  );
  for (const path of OPENBLAS_CANDIDATES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = _openPinned(path, plan.wanted);
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
    const core = _cString(lib.symbols.openblas_get_corename());
    const version = /^OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? "unknown";
    const took = plan.wanted == null || core.toLowerCase() === plan.wanted.toLowerCase();
    const notes = [...plan.notes];
    if (!took) {
      notes.push(
        `OpenBLAS was asked for the ${plan.wanted} kernel but runs ${core} (${path}: ${config}); ` +
          `results differ from the recorded ones (${REFERENCE_GEMM}) and are cached under keys ` +
          `of their own`,
      );
    }
    const identity = `OpenBLAS ${version} ${core}`;
    if (version !== "0.3.21" && plan.source === "pin" && took) {
      notes.push(
        `OpenBLAS ${version} (the reference is ${REFERENCE_GEMM}): results may differ from the ` +
          `recorded ones and are cached under keys of their own`,
      );
    }
    const pin: PinReport = { ...plan, took, notes };
    // Loud when the numbers will not be the reference's; a preset that the pin beat is only noted.
    if (identity !== REFERENCE_GEMM || override != null) {
      for (const note of notes) console.warn(`quantlab: ${note}`);
    }
    loaded = { sgemm, sgemv, path, config, core, version, identity, pin };
    break;
  }
  return loaded;
}

/**
 * The GEMM identity results computed in this process will have, without starting tfjs: the
 * OpenBLAS identity when the library loads (pinned, see the module doc), else "wasm". What
 * `initBackend()` with default options reports as `gemmIdentity`.
 */
export function expectedGemmIdentity(): string {
  return loadOpenBlas()?.identity ?? "wasm";
}
