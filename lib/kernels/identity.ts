/**
 * `Identity` and same-dtype `Cast` for the wasm backend that share the input's data instead of
 * copying it.
 *
 * tfjs clones every tensor it saves for the backward pass through `Identity` (33 copies per
 * reference step), and ReLU's gradient casts a float32 step to float32; the stock wasm kernels copy
 * the bytes. tfjs tensors are immutable and the wasm backend reference-counts data (its `Reshape`
 * already shares), so sharing is safe; the cpu and webgl backends do the same.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type KernelArgs = Parameters<KernelFunc>[0];

/** `Identity` that increments the reference count of the input's data. */
export function identityKernel(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === "string") return stock.kernelFunc(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}

/** `Cast` that shares data when the dtype does not change. */
export function castKernel(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as { dtype: string };
    if (x.dtype !== dtype || x.dtype === "string") return stock.kernelFunc(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}
