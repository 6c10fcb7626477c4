/**
 * TensorFlow.js backend selection. quantlab runs on the wasm backend everywhere
 * (library, notebooks, tests); `initBackend` asserts that it really started,
 * because a failed wasm init silently leaves tfjs on `cpu`. On wasm it also installs
 * quantlab's kernels (`lib/kernels/`): matMul without the stock transposed slow path, on
 * native OpenBLAS when it is installed.
 *
 * @module
 */
// The @tensorflow/tfjs bundle, unlike tfjs-core alone, registers every op's gradient.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  type BlasProvenance,
  type GemmName,
  installKernels,
  kernelStatus,
  uninstallKernels,
} from "./kernels/mod.ts";

export { tf };
export type { BlasProvenance, GemmName };

/** Backends quantlab can run on. `wasm` is the default and the one results are reported for. */
export type BackendName = "wasm" | "cpu";

/** What a result records about the numeric environment it came from. */
export interface BackendInfo {
  backend: BackendName;
  tfjs: string;
  deno: string;
  /** Whether quantlab's wasm kernels are installed (false on cpu and for the stock comparison). */
  patched: boolean;
  /** The GEMM behind matMul: native OpenBLAS or XNNPACK in wasm; null when not patched. */
  gemm: GemmName | null;
  /**
   * What the numbers depend on: "OpenBLAS 0.3.21 Haswell" (library version and kernel; the
   * kernel is pinned, `lib/kernels/blas.ts`) or "wasm"; null when not patched. Part of a result
   * key when it is not the reference GEMM (`lib/grid/key.ts`). Absent in results from before
   * it was recorded.
   */
  gemmIdentity?: string | null;
  /** Library file, build and kernel of OpenBLAS, and how the kernel was chosen; null without it. */
  blas?: BlasProvenance | null;
}

/** How {@linkcode initBackend} sets up the wasm backend. */
export interface BackendOptions {
  /** Install quantlab's kernels (default true); false gives the stock wasm backend. */
  patched?: boolean;
  /** GEMM for the patched matMul: "auto" (default) takes OpenBLAS when present, else wasm. */
  gemm?: GemmName | "auto";
}

/**
 * Select and initialise a backend, failing loudly when it is not the one asked for.
 *
 * @example
 * ```ts
 * const info = await initBackend(); // { backend: "wasm", patched: true, gemm: "openblas", ... }
 * await initBackend("wasm", { patched: false }); // stock kernels, for comparison
 * ```
 */
export async function initBackend(
  name: BackendName = "wasm",
  options: BackendOptions = {},
): Promise<BackendInfo> {
  tf.enableProdMode();
  if (tf.getBackend() !== name) {
    let ok = false;
    try {
      ok = await tf.setBackend(name);
      await tf.ready();
    } catch (err) {
      throw new Error(`backend: could not start tfjs backend "${name}": ${err}`);
    }
    if (!ok || tf.getBackend() !== name) {
      throw new Error(
        `backend: asked for "${name}" but tfjs is running on "${tf.getBackend()}"; ` +
          `the ${name} backend failed to initialise`,
      );
    }
  }
  if (name === "wasm") {
    if (options.patched ?? true) installKernels({ gemm: options.gemm });
    else uninstallKernels();
  }
  return backendInfo();
}

/** The backend currently in use, with versions, for stamping results. */
export function backendInfo(): BackendInfo {
  const backend = tf.getBackend() as BackendName;
  const kernels = kernelStatus();
  const patched = backend === "wasm" && kernels.patched;
  return {
    backend,
    tfjs: tf.version_core,
    deno: Deno.version.deno,
    patched,
    gemm: patched ? kernels.gemm : null,
    gemmIdentity: patched ? kernels.gemmIdentity : null,
    blas: patched ? kernels.library : null,
  };
}
