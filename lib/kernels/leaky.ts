/**
 * Leaky ReLU and its gradient for the wasm backend as one SIMD pass each.
 *
 * The stock wasm `LeakyRelu` is a scalar loop (about 18× slower than `Relu` here), and tfjs-core's
 * gradient `where(x > 0, dy, dy·α)` is three kernel calls (`Greater`, `Multiply`, `Select`) with
 * two temporaries. A DAC-style conv codec runs ~40 leaky ReLUs per step on activations of up to
 * 0.5 M elements; together they cost as much as its convolutions. Both here are bit-identical to
 * what they replace (one float32 multiply, the same comparison).
 *
 * @module
 */
import {
  engine,
  getBackend,
  getKernel,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import type { WasmBackend } from "./_heap.ts";
import { leakySimd } from "./_wasm_simd.ts";

type KernelArgs = Parameters<KernelFunc>[0];
type SimdBackend = WasmBackend & { wasm: { asm: { memory: WebAssembly.Memory } } };

/** `dx` from `x`, `dy` (same shape, float32), attr `alpha` (wasm backend only). */
export const LEAKY_RELU_GRAD_KERNEL = "QuantlabLeakyReluGrad";

const _byte = (backend: WasmBackend, t: TensorInfo) =>
  backend.dataIdMap.get(t.dataId)!.memoryOffset;

/** `LeakyRelu` as one SIMD pass for float32 (other dtypes go to the stock kernel). */
export function leakyReluKernel(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as SimdBackend;
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return stock.kernelFunc(args);
    const { alpha } = args.attrs as unknown as { alpha: number };
    const out = backend.makeOutput(x.shape, "float32");
    const n = util.sizeFromShape(x.shape);
    const a = _byte(backend, x);
    leakySimd(backend.wasm.asm.memory).forward(a, a, _byte(backend, out), n, alpha);
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}

/** The fused gradient kernel, registered under {@linkcode LEAKY_RELU_GRAD_KERNEL}. */
export function leakyReluGradKernel(): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as SimdBackend;
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const { alpha } = args.attrs as unknown as { alpha: number };
    const out = backend.makeOutput(x.shape, "float32");
    const n = util.sizeFromShape(x.shape);
    leakySimd(backend.wasm.asm.memory).grad(
      _byte(backend, x),
      _byte(backend, dy),
      _byte(backend, out),
      n,
      alpha,
    );
    return out;
  };
  return {
    kernelName: LEAKY_RELU_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: kernelFunc as KernelFunc,
  };
}

/**
 * `LeakyRelu`'s gradient through {@linkcode LEAKY_RELU_GRAD_KERNEL} when it can run (wasm backend,
 * kernel registered, float32), else `original` (tfjs-core's own).
 */
export function leakyReluGradConfig(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved;
      const g = dy as Tensor;
      const alpha = attrs.alpha as number;
      const fused = getBackend() === "wasm" && getKernel(LEAKY_RELU_GRAD_KERNEL, "wasm") != null &&
        x.dtype === "float32" && g.dtype === "float32" && util.arraysEqual(x.shape, g.shape);
      if (fused) {
        return {
          x: () => engine().runKernel(LEAKY_RELU_GRAD_KERNEL, { x, dy: g }, { alpha }) as Tensor,
        };
      }
      return original.gradFunc(dy, saved, attrs);
    },
  };
}
