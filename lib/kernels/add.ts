/**
 * `Add` of a bias row to every row of a matrix (`[…, n] + [n]`) for the wasm backend.
 *
 * The stock kernel takes its generic broadcasting path there, 4–6× slower than a same-shape add;
 * every conv layer's bias is such an add on activations of up to 0.5 M elements. Here the matrix
 * is copied to the output and OpenBLAS adds `1·bias` to each row as a rank-1 GEMM update
 * (`out = ones·bias + out`); each element is `a + b` rounded once, so results are bit-identical to
 * the stock kernel. Other adds, small ones included, go to the stock kernel.
 *
 * @module
 */
import { type KernelConfig, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core";
import type { Sgemm } from "./blas.ts";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";

type KernelArgs = Parameters<KernelFunc>[0];

/** Below this many output elements the stock kernel is as fast (FFI call overhead). */
const MIN_SIZE = 16384;

/** `Add` whose row-bias broadcasts use native GEMM. */
export function addKernel(stock: KernelConfig, sgemm: Sgemm): KernelConfig {
  let ones = new Float32Array(0);
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return stock.kernelFunc(args);
    const [x, bias] = b.shape.length === 1 && a.shape.length >= 2 ? [a, b] : [b, a];
    const n = x.shape[x.shape.length - 1];
    const size = util.sizeFromShape(x.shape);
    if (bias.shape.length !== 1 || x.shape.length < 2 || bias.shape[0] !== n || size < MIN_SIZE) {
      return stock.kernelFunc(args);
    }
    const rows = size / n;
    const out = backend.makeOutput(x.shape, "float32");
    const heap = heapF32(backend);
    const xOff = offsetF32(backend, x);
    const oOff = offsetF32(backend, out);
    heap.copyWithin(oOff, xOff, xOff + size);
    if (ones.length < rows) ones = new Float32Array(rows).fill(1);
    const bOff = offsetF32(backend, bias);
    sgemm(
      false,
      false,
      rows,
      n,
      1,
      1,
      ones,
      1,
      heap.subarray(bOff, bOff + n),
      n,
      1,
      heap.subarray(oOff, oOff + size),
      n,
    );
    return out;
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}
