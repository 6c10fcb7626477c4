/**
 * PReLU's gradient for the wasm backend as one SIMD pass.
 *
 * tfjs-core's gradient is `dx = where(x > 0, dy, dy·α)` and `dα = Σ where(x > 0, 0, dy·x)`: six
 * kernel calls (`Greater`, two `Multiply`, `ZerosLike`, two `Select`) and five temporaries per
 * layer, with the proxy codec's four PReLU layers a large share of a small training step. The
 * `QuantlabPreluGrad` kernel computes `dx` and the `where(…, dy·x)` term in one pass; the sum over
 * the broadcast axes is the same `sum` call as tfjs-core's, so the gradients are bit-identical.
 * `α` is tiled to the shape of `x` on the heap by doubling memcpys when it is smaller.
 *
 * @module
 */
import {
  backend_util,
  engine,
  getBackend,
  getKernel,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  reshape,
  sum,
  type Tensor,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";
import { preluGradSimd } from "./_wasm_simd.ts";

type KernelArgs = Parameters<KernelFunc>[0];
type SimdBackend = WasmBackend & { wasm: { asm: { memory: WebAssembly.Memory } } };

/** Inputs `x, alpha, dy`; outputs `[dx, r]` with `r = where(x > 0, 0, dy·x)` (wasm only). */
export const PRELU_GRAD_KERNEL = "QuantlabPreluGrad";

/** `α` broadcasts onto `x` as a trailing block (the layout a per-channel slope has). */
function _trailing(x: readonly number[], alpha: readonly number[]): boolean {
  return alpha.length >= 1 && alpha.length <= x.length &&
    alpha.every((d, i) => d >= 1 && d === x[x.length - alpha.length + i]);
}

/** The fused kernel, registered under {@linkcode PRELU_GRAD_KERNEL}. */
export function preluGradKernel(): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as SimdBackend;
    const { x, alpha, dy } = args.inputs as { x: TensorInfo; alpha: TensorInfo; dy: TensorInfo };
    const n = util.sizeFromShape(x.shape);
    const na = util.sizeFromShape(alpha.shape);
    const dx = backend.makeOutput(x.shape, "float32");
    const r = backend.makeOutput(x.shape, "float32");
    const tiled = na === n ? null : backend.makeOutput([n], "float32");
    try {
      let aOff = offsetF32(backend, alpha);
      if (tiled != null) {
        const heap = heapF32(backend);
        const t = offsetF32(backend, tiled);
        heap.copyWithin(t, aOff, aOff + na);
        for (let filled = na; filled < n; filled *= 2) {
          heap.copyWithin(t + filled, t, t + Math.min(filled, n - filled));
        }
        aOff = t;
      }
      const byte = (info: TensorInfo) => backend.dataIdMap.get(info.dataId)!.memoryOffset;
      preluGradSimd(backend.wasm.asm.memory)(byte(x), byte(dy), aOff * 4, byte(dx), byte(r), n);
    } finally {
      if (tiled != null) backend.disposeData(tiled.dataId);
    }
    return [dx, r];
  };
  return {
    kernelName: PRELU_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: kernelFunc as KernelFunc,
  };
}

/**
 * `Prelu`'s gradient through {@linkcode PRELU_GRAD_KERNEL} when it can run (wasm backend, kernel
 * registered, float32, same shapes for x and dy, α a trailing block of x's shape), else `original`.
 */
export function preluGradConfig(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, alpha] = saved;
      const g = dy as Tensor;
      const fused = getBackend() === "wasm" && getKernel(PRELU_GRAD_KERNEL, "wasm") != null &&
        x.dtype === "float32" && alpha.dtype === "float32" && g.dtype === "float32" &&
        util.arraysEqual(x.shape, g.shape) && _trailing(x.shape, alpha.shape);
      if (!fused) return original.gradFunc(dy, saved, attrs);
      const [dx, r] = engine().runKernel(PRELU_GRAD_KERNEL, { x, alpha, dy: g }) as Tensor[];
      return {
        x: () => dx,
        alpha: () => {
          const axes = backend_util.getReductionAxes(alpha.shape, g.shape);
          return reshape(axes.length > 0 ? sum(r, axes) : r, alpha.shape);
        },
      };
    },
  };
}
