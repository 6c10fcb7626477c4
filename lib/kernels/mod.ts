/**
 * quantlab's kernels for the tfjs wasm backend, installed over the stock ones at run time.
 *
 * | kernel | what changes | why |
 * | --- | --- | --- |
 * | `BatchMatMul`, `_FusedMatMul` | native OpenBLAS GEMM on the wasm heap, else explicit transposes + XNNPACK | the stock transposed/batched path is a scalar loop |
 * | `Identity`, same-dtype `Cast` | share data instead of copying | tfjs clones every tensor it saves for backprop |
 * | `QuantlabAdam` (new), `AdamOptimizer.applyGradients` | one SIMD pass per variable, bit-identical | thirteen kernel calls per variable |
 * | `Greater`, `Select` (`tf.where`) | plain loops over the heap | stock ones are 5–10× slower than arithmetic; PReLU's gradient uses both |
 * | `Sum` over leading axes | `Xᵀ·1` by OpenBLAS `sgemv`, else row accumulation; no transpose | the bias gradient of every dense layer |
 * | `Add` of a bias row (`[…, n] + [n]`, OpenBLAS only) | copy + rank-1 GEMM update, bit-identical | the stock broadcasting path is 4–6× slower than a plain add |
 * | `LeakyRelu` and its gradient (new kernel `QuantlabLeakyReluGrad`, gradient re-registered) | one SIMD pass each, bit-identical | the stock kernel is a scalar loop, the gradient three kernels |
 * | `Prelu`'s gradient (new kernel `QuantlabPreluGrad`, gradient re-registered) | one SIMD pass for `dx` and the `dα` term, same `sum`; bit-identical | six kernel calls per layer |
 * | `QuantlabSnake`, `QuantlabSnakeGrad` (new; `snake()` in `snake.ts`) | Snake forward, and `dx`, `dα`, in one pass each with a polynomial sin/cos | the stock `Sin`/`Cos` cost ~37 ns per element |
 * | `QuantlabConv1d`, `…BackpropInput`, `…BackpropFilter` (new, OpenBLAS only) | one strided OpenBLAS GEMM per kernel tap (or im2col); used by `lib/nn/conv.ts` | stock wasm has no filter gradient and a naive-loop input gradient |
 *
 * Installation swaps entries in tfjs's global kernel registry (and Adam's update method), so it
 * can be undone: the stock configs are kept and {@linkcode uninstallKernels} puts them back.
 * `initBackend("wasm")` installs; `initBackend("wasm", { patched: false })` uninstalls.
 *
 * @example
 * ```ts
 * import { tf } from "../backend.ts";
 * await tf.setBackend("wasm");
 * const { gemm } = installKernels(); // "openblas" when libopenblas0-serial is installed
 * ```
 *
 * @module
 */
import {
  _FusedMatMul,
  Add,
  BatchMatMul,
  Cast,
  getGradient,
  getKernel,
  type GradConfig,
  Greater,
  Identity,
  type KernelConfig,
  LeakyRelu,
  Prelu,
  registerGradient,
  registerKernel,
  Select,
  Sum,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { loadOpenBlas, type OpenBlas } from "./blas.ts";
import { batchMatMulKernel, fusedMatMulKernel, type GemmName } from "./matmul.ts";
import { castKernel, identityKernel } from "./identity.ts";
import { greaterKernel, selectKernel } from "./select.ts";
import { ADAM_KERNEL, adamKernel, patchAdam } from "./adam.ts";
import { sumKernel } from "./sum.ts";
import { addKernel } from "./add.ts";
import { PRELU_GRAD_KERNEL, preluGradConfig, preluGradKernel } from "./prelu.ts";
import {
  LEAKY_RELU_GRAD_KERNEL,
  leakyReluGradConfig,
  leakyReluGradKernel,
  leakyReluKernel,
} from "./leaky.ts";
import { SNAKE_GRAD_KERNEL, SNAKE_KERNEL, snakeGradKernel, snakeKernel } from "./snake.ts";
import {
  CONV1D_FILTER_GRAD_KERNEL,
  CONV1D_INPUT_GRAD_KERNEL,
  CONV1D_KERNEL,
  conv1dKernels,
  type ConvMethod,
} from "./conv.ts";

export type { GemmName } from "./matmul.ts";
export {
  CONV1D_FILTER_GRAD_KERNEL,
  CONV1D_INPUT_GRAD_KERNEL,
  CONV1D_KERNEL,
  type Conv1dAttrs,
  type ConvMethod,
} from "./conv.ts";
export {
  CORETYPE_OVERRIDE,
  expectedGemmIdentity,
  loadOpenBlas,
  type OpenBlas,
  PINNED_CORETYPE,
  REFERENCE_GEMM,
} from "./blas.ts";

/** How to install: `gemm: "auto"` takes OpenBLAS when it loads, else wasm. */
export interface KernelOptions {
  gemm?: GemmName | "auto";
  /** How the native conv kernels reach GEMM (default "auto": per-tap up to 16 taps; `conv.ts`). */
  conv?: ConvMethod;
  /**
   * Install the elementwise kernels (default true): bias-row `Add`, `LeakyRelu` and the fused
   * LeakyRelu and PReLU gradients. All are bit-identical to what they replace; `false` is for
   * before/after comparisons.
   */
  elementwise?: boolean;
}

/** What is installed. */
export interface KernelStatus {
  patched: boolean;
  /** The GEMM behind matMul; `null` when the stock kernels are in place. */
  gemm: GemmName | null;
  /** OpenBLAS's build description when `gemm` is "openblas". */
  blas: string | null;
  /**
   * What results depend on: the OpenBLAS identity with its kernel ("OpenBLAS 0.3.21 Haswell",
   * see `blas.ts`) or "wasm" for the pure-wasm GEMM; null when the stock kernels are in place.
   */
  gemmIdentity: string | null;
  /** Which library and kernel computed, and how the kernel was chosen, when `gemm` is "openblas". */
  library: BlasProvenance | null;
}

/** The OpenBLAS behind a result: file, build, kernel and how the kernel was chosen. */
export interface BlasProvenance {
  path: string;
  config: string;
  core: string;
  /** "pin" (the project's kernel), "override" (`QUANTLAB_OPENBLAS_CORETYPE`) or "unpinned". */
  pin: string;
  /** Whether OpenBLAS runs the kernel that was asked for. */
  took: boolean;
  /** `OPENBLAS_CORETYPE` as preset in the environment (the pin overrides it), or null. */
  preset: string | null;
}

const BACKEND = "wasm";
const stock = new Map<string, KernelConfig>();
const UNPATCHED: KernelStatus = {
  patched: false,
  gemm: null,
  blas: null,
  gemmIdentity: null,
  library: null,
};
let status: KernelStatus = { ...UNPATCHED };
let restoreAdam: (() => void) | null = null;
let stockLeakyGrad: GradConfig | null = null;
let stockPreluGrad: GradConfig | null = null;

function _swap(name: string, make: (stock: KernelConfig) => KernelConfig): void {
  const original = stock.get(name) ?? getKernel(name, BACKEND);
  if (original == null) throw new Error(`kernels: wasm kernel ${name} is not registered`);
  stock.set(name, original);
  unregisterKernel(name, BACKEND);
  registerKernel(make(original));
}

/** Put one stock kernel back (when an install no longer replaces it). */
function _restore(name: string): void {
  const original = stock.get(name);
  if (original == null) return;
  unregisterKernel(name, BACKEND);
  registerKernel(original);
  stock.delete(name);
}

/** Undo the `elementwise` kernels: stock `Add` and `LeakyRelu`, no fused gradient kernels. */
function _unregisterElementwise(): void {
  _restore(Add);
  _restore(LeakyRelu);
  for (const name of [LEAKY_RELU_GRAD_KERNEL, PRELU_GRAD_KERNEL, SNAKE_KERNEL, SNAKE_GRAD_KERNEL]) {
    if (getKernel(name, BACKEND) != null) unregisterKernel(name, BACKEND);
  }
}

/** Remove the conv kernels (they exist only with OpenBLAS; `lib/nn/conv.ts` then uses tf ops). */
function _unregisterConv(): void {
  for (const name of [CONV1D_KERNEL, CONV1D_INPUT_GRAD_KERNEL, CONV1D_FILTER_GRAD_KERNEL]) {
    if (getKernel(name, BACKEND) != null) unregisterKernel(name, BACKEND);
  }
}

/**
 * Replace the wasm backend's kernels with quantlab's. Idempotent; calling again with another
 * `gemm` switches GEMMs. Throws when `gemm: "openblas"` is asked for and cannot be loaded.
 * Call after the wasm backend is initialised (the stock kernels' setup must have run).
 */
export function installKernels(options: KernelOptions = {}): KernelStatus {
  const want = options.gemm ?? "auto";
  let blas: OpenBlas | null = null;
  if (want !== "wasm") {
    blas = loadOpenBlas();
    if (blas == null && want === "openblas") {
      throw new Error(
        'kernels: gemm "openblas" requested but libopenblas.so.0 could not be opened ' +
          '(install libopenblas0-serial and allow FFI, or use gemm: "auto")',
      );
    }
  }
  const sgemm = blas?.sgemm ?? null;
  _swap(BatchMatMul, (s) => batchMatMulKernel(s, sgemm));
  _swap(_FusedMatMul, (s) => fusedMatMulKernel(s, sgemm));
  _swap(Identity, identityKernel);
  _swap(Cast, castKernel);
  _swap(Greater, greaterKernel);
  _swap(Select, selectKernel);
  _swap(Sum, (s) => sumKernel(s, blas?.sgemv ?? null));
  if (getKernel(ADAM_KERNEL, BACKEND) == null) registerKernel(adamKernel());
  _unregisterElementwise();
  if (options.elementwise ?? true) {
    if (blas != null) _swap(Add, (s) => addKernel(s, blas.sgemm));
    _swap(LeakyRelu, leakyReluKernel);
    registerKernel(leakyReluGradKernel());
    registerKernel(preluGradKernel());
    registerKernel(snakeKernel());
    registerKernel(snakeGradKernel());
  }
  // The gradients fall back to tfjs-core's own formulas while their kernels are not registered.
  if (stockLeakyGrad == null) {
    stockLeakyGrad = getGradient(LeakyRelu) ?? null;
    if (stockLeakyGrad != null) registerGradient(leakyReluGradConfig(stockLeakyGrad));
  }
  if (stockPreluGrad == null) {
    stockPreluGrad = getGradient(Prelu) ?? null;
    if (stockPreluGrad != null) registerGradient(preluGradConfig(stockPreluGrad));
  }
  _unregisterConv();
  if (blas != null) {
    for (const config of conv1dKernels(blas.sgemm, options.conv)) registerKernel(config);
  }
  restoreAdam ??= patchAdam();
  status = {
    patched: true,
    gemm: blas ? "openblas" : "wasm",
    blas: blas?.config ?? null,
    gemmIdentity: blas?.identity ?? "wasm",
    library: blas
      ? {
        path: blas.path,
        config: blas.config,
        core: blas.core,
        pin: blas.pin.source,
        took: blas.pin.took,
        preset: blas.pin.preset,
      }
      : null,
  };
  return kernelStatus();
}

/** Put the stock wasm kernels back. */
export function uninstallKernels(): KernelStatus {
  for (const [name, config] of stock) {
    unregisterKernel(name, BACKEND);
    registerKernel(config);
  }
  stock.clear();
  if (getKernel(ADAM_KERNEL, BACKEND) != null) unregisterKernel(ADAM_KERNEL, BACKEND);
  _unregisterConv();
  _unregisterElementwise();
  if (stockLeakyGrad != null) registerGradient(stockLeakyGrad);
  stockLeakyGrad = null;
  if (stockPreluGrad != null) registerGradient(stockPreluGrad);
  stockPreluGrad = null;
  restoreAdam?.();
  restoreAdam = null;
  status = { ...UNPATCHED };
  return kernelStatus();
}

/** What {@linkcode installKernels} last did. */
export function kernelStatus(): KernelStatus {
  return { ...status };
}
