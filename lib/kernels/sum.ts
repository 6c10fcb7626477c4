/**
 * `Sum` over leading axes for the wasm backend without a transpose.
 *
 * The stock kernel moves the reduced axes innermost with a full transpose before summing. The
 * bias gradient of every dense layer is exactly that case (`[batch, n] → [n]`), and the transpose
 * costs more than the sum. Here the sum is `Xᵀ·1` with OpenBLAS's `sgemv` on the heap when it is
 * loaded, else the rows are accumulated in place in float64 and rounded once.
 *
 * @module
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";
import type { Sgemv } from "./blas.ts";

type KernelArgs = Parameters<KernelFunc>[0];

/** `Sum` whose float32 reductions over a leading block of axes avoid the transpose. */
export function sumKernel(stock: KernelConfig, sgemv: Sgemv | null): KernelConfig {
  let acc = new Float64Array(0);
  let ones = new Float32Array(0);
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    if (x.dtype !== "float32") return stock.kernelFunc(args);
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.every((ax, i) => ax === i);
    if (!leading || axes.length === 0 || axes.length === rank) return stock.kernelFunc(args);
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const cols = util.sizeFromShape(x.shape.slice(axes.length));
    const outShape = keepDims
      ? backend_util.expandShapeToKeepDim(x.shape.slice(axes.length), axes)
      : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, "float32");
    const heap = heapF32(backend);
    const xOff = offsetF32(backend, x);
    const oOff = offsetF32(backend, out);
    if (rows === 0 || cols === 0) {
      heap.fill(0, oOff, oOff + cols);
      return out;
    }
    if (sgemv != null) {
      if (ones.length < rows) ones = new Float32Array(rows).fill(1);
      const a = heap.subarray(xOff, xOff + rows * cols);
      sgemv(true, rows, cols, 1, a, cols, ones, 0, heap.subarray(oOff, oOff + cols));
      return out;
    }
    if (acc.length < cols) acc = new Float64Array(cols);
    acc.fill(0, 0, cols);
    for (let r = 0; r < rows; r++) {
      const base = xOff + r * cols;
      for (let c = 0; c < cols; c++) acc[c] += heap[base + c];
    }
    for (let c = 0; c < cols; c++) heap[oOff + c] = acc[c];
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}
