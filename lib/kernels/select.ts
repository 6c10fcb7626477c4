/**
 * `Greater` and `Select` (`tf.where`) for the wasm backend as straight loops over the heap.
 *
 * The stock wasm kernels index through a generic broadcasting path and take 3–7 ns per element,
 * against under 1 ns for its arithmetic kernels. PReLU's gradient is `where(x > 0, dy, α·dy)`
 * twice per layer, so on the proxy codec those two kernels were most of a training step. Handled
 * here: equal shapes, or a single-element operand of `Greater` (x > 0); anything else goes to the
 * stock kernel.
 *
 * @module
 */
import { type KernelConfig, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core";
import type { WasmBackend } from "./_heap.ts";

type KernelArgs = Parameters<KernelFunc>[0];

const NUMERIC = new Set(["float32", "int32"]);

function _view(backend: WasmBackend, x: TensorInfo): Float32Array | Int32Array | Uint8Array {
  const { buffer } = backend.wasm.HEAPU8;
  const offset = backend.dataIdMap.get(x.dataId)!.memoryOffset;
  const size = util.sizeFromShape(x.shape);
  if (x.dtype === "float32") return new Float32Array(buffer, offset, size);
  if (x.dtype === "int32") return new Int32Array(buffer, offset, size);
  return new Uint8Array(buffer, offset, size);
}

/** `Greater` (a > b → bool) for equal shapes or a single-element `b` or `a`. */
export function greaterKernel(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!NUMERIC.has(a.dtype) || a.dtype !== b.dtype) return stock.kernelFunc(args);
    const na = util.sizeFromShape(a.shape);
    const nb = util.sizeFromShape(b.shape);
    const same = util.arraysEqual(a.shape, b.shape);
    if (!same && nb !== 1 && na !== 1) return stock.kernelFunc(args);
    const shape = same || nb === 1 && a.shape.length >= b.shape.length
      ? a.shape
      : na === 1 && b.shape.length >= a.shape.length
      ? b.shape
      : null;
    if (shape == null) return stock.kernelFunc(args);
    const out = backend.makeOutput(shape, "bool");
    const o = _view(backend, out);
    const x = _view(backend, a);
    const y = _view(backend, b);
    const n = o.length;
    if (same) { for (let i = 0; i < n; i++) o[i] = x[i] > y[i] ? 1 : 0; }
    else if (nb === 1) {
      const s = y[0];
      for (let i = 0; i < n; i++) o[i] = x[i] > s ? 1 : 0;
    } else {
      const s = x[0];
      for (let i = 0; i < n; i++) o[i] = s > y[i] ? 1 : 0;
    }
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}

/** `Select` (condition ? t : e) when condition, t and e have one shape. */
export function selectKernel(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { condition, t, e } = args.inputs as {
      condition: TensorInfo;
      t: TensorInfo;
      e: TensorInfo;
    };
    const shapes = util.arraysEqual(condition.shape, t.shape) &&
      util.arraysEqual(t.shape, e.shape);
    if (!shapes || !NUMERIC.has(t.dtype) || t.dtype !== e.dtype || condition.dtype !== "bool") {
      return stock.kernelFunc(args);
    }
    const out = backend.makeOutput(t.shape, t.dtype);
    const o = _view(backend, out);
    const c = _view(backend, condition);
    const x = _view(backend, t);
    const y = _view(backend, e);
    for (let i = 0, n = o.length; i < n; i++) o[i] = c[i] ? x[i] : y[i];
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}
