/**
 * `Identity` for the wasm backend that shares the input's data instead of copying it.
 *
 * tfjs clones every tensor it saves for the backward pass through `Identity`; the stock wasm
 * kernel copies the bytes (33 copies per reference step). tfjs tensors are immutable and the wasm
 * backend reference-counts data (its `Reshape` already shares), so sharing is safe; the cpu and
 * webgl backends do the same.
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
