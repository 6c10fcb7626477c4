/**
 * Matrix-product kernels (`BatchMatMul`, `_FusedMatMul`) for the wasm backend.
 *
 * Stock tfjs-backend-wasm 4.22 sends a product to XNNPACK only when neither operand is transposed
 * and the batch is 1; everything else runs a scalar triple loop 5–10× slower. Every backward pass
 * of a dense layer asks for `aᵀ·dy` and `dy·bᵀ`, so training spends most of its time there.
 * quantlab replaces both kernels with one of two GEMMs:
 *
 * - `"openblas"`: native `cblas_sgemm` ({@link ./blas.ts}) reading and writing the wasm heap in
 *   place; transposes are free and batches are a loop of pointer offsets.
 * - `"wasm"`: transpose explicitly (a cheap copy) and call the stock kernel's fast plain path;
 *   batched products become one plain product per batch entry, or a single product with the
 *   batch folded into the rows when `b` is shared.
 *
 * Products outside what either path handles (non-float32, broadcasting between two different
 * batch shapes) go to the stock kernel unchanged.
 *
 * @module
 */
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  Transpose,
  util,
} from "@tensorflow/tfjs-core";
import type { Sgemm } from "./blas.ts";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";

type KernelArgs = Parameters<KernelFunc>[0];

/** Which GEMM quantlab's matMul kernels use. */
export type GemmName = "openblas" | "wasm";

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Shapes of `op(a)·op(b)` with the leading (batch) axes flattened. */
interface Plan {
  batchA: number;
  batchB: number;
  batch: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

/** The product's plan, or `null` when the batch shapes need general broadcasting. */
function _plan(a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs): Plan | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  let outer: number[];
  if (batchB === 1 && outerA.length >= outerB.length) outer = outerA;
  else if (batchA === 1 && outerB.length >= outerA.length) outer = outerB;
  else if (util.arraysEqual(outerA, outerB)) outer = outerA;
  else return null;
  const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const kb = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  if (k !== kb) return null;
  return { batchA, batchB, batch: Math.max(batchA, batchB), m, n, k, outShape: [...outer, m, n] };
}

/**
 * `out[batch·m·n] = op(a)·op(b) (+ bias)` on the heap with native GEMM; `sgemm` may be null when
 * `k` is 0 (the stock kernels return uninitialised memory there).
 */
function _nativeProduct(
  sgemm: Sgemm | null,
  a: TensorInfo,
  b: TensorInfo,
  attrs: MatMulAttrs,
  plan: Plan,
  backend: WasmBackend,
  bias: TensorInfo | null,
): TensorInfo {
  const { batchA, batchB, batch, m, n, k } = plan;
  const out = backend.makeOutput(plan.outShape, "float32");
  if (m * n * batch === 0) return out;
  const heap = heapF32(backend);
  const aOff = offsetF32(backend, a);
  const bOff = offsetF32(backend, b);
  const cOff = offsetF32(backend, out);
  const size = m * n;
  let beta = 0;
  if (bias != null) {
    const bOffBias = offsetF32(backend, bias);
    const nb = util.sizeFromShape(bias.shape);
    const row = heap.subarray(bOffBias, bOffBias + nb);
    for (let r = 0; r < batch * m; r++) {
      if (nb === 1) heap.fill(row[0], cOff + r * n, cOff + (r + 1) * n);
      else heap.set(row, cOff + r * n);
    }
    beta = 1;
  }
  if (k === 0 || sgemm == null) {
    if (bias == null) heap.fill(0, cOff, cOff + batch * size);
    return out;
  }
  const lda = attrs.transposeA ? m : k;
  const ldb = attrs.transposeB ? k : n;
  for (let i = 0; i < batch; i++) {
    const ai = aOff + (batchA === 1 ? 0 : i * m * k);
    const bi = bOff + (batchB === 1 ? 0 : i * k * n);
    const ci = cOff + i * size;
    sgemm(
      attrs.transposeA,
      attrs.transposeB,
      m,
      n,
      k,
      1,
      heap.subarray(ai, ai + m * k),
      lda,
      heap.subarray(bi, bi + k * n),
      ldb,
      beta,
      heap.subarray(ci, ci + size),
      n,
    );
  }
  return out;
}

/** Transpose the last two axes through the backend's own Transpose kernel. */
function _transposeLast2(x: TensorInfo, backend: WasmBackend): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  const transpose = getKernel(Transpose, "wasm");
  if (transpose == null) throw new Error("kernels: wasm Transpose kernel is not registered");
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
}

/** A tensor on `base`'s heap memory from element `offset` on; released with {@linkcode _dropView}. */
function _view(
  base: TensorInfo,
  offset: number,
  shape: number[],
  backend: WasmBackend,
): TensorInfo {
  return backend.makeOutput(shape, base.dtype, 4 * (offsetF32(backend, base) + offset));
}

/** Forget a view without freeing memory it does not own (`disposeData` would free it). */
function _dropView(view: TensorInfo, backend: WasmBackend): void {
  const data = backend.dataIdMap.get(view.dataId)!;
  backend.dataIdMap.delete(view.dataId);
  backend.wasm.tfjs.disposeData(data.id);
}

/** A length-`n` copy of the single value of `x`. */
function _widen(x: TensorInfo, n: number, backend: WasmBackend): TensorInfo {
  const out = backend.makeOutput([n], "float32");
  const heap = heapF32(backend);
  const off = offsetF32(backend, out);
  heap.fill(heap[offsetF32(backend, x)], off, off + n);
  return out;
}

/** Same data under another shape; the caller disposes it like any output. */
function _relabel(x: TensorInfo, shape: number[], backend: WasmBackend): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/**
 * `op(a)·op(b)` through `plain`, a stock kernel called on rank-3 operands with both transposes
 * false and batch 1 (its XNNPACK path).
 */
function _wasmProduct(
  a: TensorInfo,
  b: TensorInfo,
  attrs: MatMulAttrs,
  plan: Plan,
  backend: WasmBackend,
  plain: (a: TensorInfo, b: TensorInfo) => TensorInfo,
): TensorInfo {
  const { batchA, batchB, batch, m, n, k } = plan;
  const rowsA = attrs.transposeA ? k : m;
  const rowsB = attrs.transposeB ? n : k;
  const owned: TensorInfo[] = [];
  const own = (t: TensorInfo) => (owned.push(t), t);
  try {
    let a3 = own(_relabel(a, [batchA, rowsA, a.shape[a.shape.length - 1]], backend));
    let b3 = own(_relabel(b, [batchB, rowsB, b.shape[b.shape.length - 1]], backend));
    if (attrs.transposeA) a3 = own(_transposeLast2(a3, backend));
    if (attrs.transposeB) b3 = own(_transposeLast2(b3, backend));
    let out: TensorInfo;
    if (batch === 1) {
      out = plain(a3, b3);
    } else if (batchB === 1) {
      out = plain(own(_relabel(a3, [1, batchA * m, k], backend)), b3);
    } else {
      out = backend.makeOutput(plan.outShape, a.dtype);
      const heap = heapF32(backend);
      const outOff = offsetF32(backend, out);
      for (let i = 0; i < batch; i++) {
        const ai = _view(a3, batchA === 1 ? 0 : i * m * k, [1, m, k], backend);
        const bi = _view(b3, i * k * n, [1, k, n], backend);
        const oi = plain(ai, bi);
        const src = offsetF32(backend, oi);
        heap.copyWithin(outOff + i * m * n, src, src + m * n);
        backend.disposeData(oi.dataId);
        _dropView(ai, backend);
        _dropView(bi, backend);
      }
    }
    out.shape = plan.outShape;
    return out;
  } finally {
    for (const t of owned) backend.disposeData(t.dataId);
  }
}

/**
 * `BatchMatMul` that never takes the wasm backend's transposed or batched slow path.
 *
 * @param stock the wasm backend's own kernel, used for the cases it handles fast and as fallback
 * @param sgemm native GEMM, or `null` for the pure-wasm path
 */
export function batchMatMulKernel(stock: KernelConfig, sgemm: Sgemm | null): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as unknown as MatMulAttrs;
    if (a.dtype !== "float32" || b.dtype !== "float32") return stock.kernelFunc(args);
    const plan = _plan(a, b, attrs);
    if (plan == null) return stock.kernelFunc(args);
    if (sgemm != null || plan.k === 0) {
      return _nativeProduct(sgemm, a, b, attrs, plan, backend, null);
    }
    if (!attrs.transposeA && !attrs.transposeB && plan.batch === 1) return stock.kernelFunc(args);
    const plainAttrs = { transposeA: false, transposeB: false };
    return _wasmProduct(
      a,
      b,
      attrs,
      plan,
      backend,
      (x, y) =>
        stock.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: plainAttrs }) as TensorInfo,
    );
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}

interface FusedAttrs extends MatMulAttrs {
  activation: string;
  leakyreluAlpha?: number;
}

/** Activations applied in place after a native product. */
const NATIVE_ACTIVATIONS: Record<string, ((x: number, alpha: number) => number) | null> = {
  linear: null,
  relu: (x) => (x > 0 ? x : 0),
  relu6: (x) => (x > 0 ? (x < 6 ? x : 6) : 0),
  leakyrelu: (x, alpha) => (x < 0 ? alpha * x : x),
};

/**
 * `_FusedMatMul` (matMul + rank-1 bias + activation) without the transposed or batched slow path.
 * With native GEMM, the bias initialises the output (GEMM's `beta = 1`) and linear, relu, relu6
 * and leakyrelu are applied in place; prelu, elu and sigmoid take the wasm path.
 */
export function fusedMatMulKernel(stock: KernelConfig, sgemm: Sgemm | null): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { a, b, bias } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const attrs = args.attrs as unknown as FusedAttrs;
    if (a.dtype !== "float32" || b.dtype !== "float32") return stock.kernelFunc(args);
    if (bias != null && bias.shape.length !== 1) return stock.kernelFunc(args);
    const plan = _plan(a, b, attrs);
    if (plan == null) return stock.kernelFunc(args);
    if (bias != null && bias.shape[0] !== plan.n && bias.shape[0] !== 1) {
      return stock.kernelFunc(args);
    }
    const act = NATIVE_ACTIVATIONS[attrs.activation];
    if ((sgemm != null || plan.k === 0) && act !== undefined) {
      const out = _nativeProduct(sgemm, a, b, attrs, plan, backend, bias ?? null);
      if (act != null) {
        const heap = heapF32(backend);
        const off = offsetF32(backend, out);
        const alpha = attrs.leakyreluAlpha ?? 0;
        for (let i = off, end = off + plan.batch * plan.m * plan.n; i < end; i++) {
          heap[i] = act(heap[i], alpha);
        }
      }
      return out;
    }
    const prelu = (args.inputs as { preluActivationWeights?: TensorInfo }).preluActivationWeights;
    if (plan.batch !== 1 && prelu != null) return stock.kernelFunc(args);
    // XNNPACK reads a bias of length n: widen a length-1 bias (the stock kernel reads past it).
    const wideBias = bias != null && bias.shape[0] !== plan.n
      ? _widen(bias, plan.n, backend)
      : null;
    const inputs = wideBias ? { ...args.inputs, bias: wideBias } : args.inputs;
    try {
      if (!attrs.transposeA && !attrs.transposeB && plan.batch === 1) {
        return stock.kernelFunc({ ...args, inputs });
      }
      const plainAttrs = { ...attrs, transposeA: false, transposeB: false };
      return _wasmProduct(a, b, attrs, plan, backend, (x, y) =>
        stock.kernelFunc({
          inputs: { ...inputs, a: x, b: y },
          backend,
          attrs: plainAttrs as unknown as KernelArgs["attrs"],
        }) as TensorInfo);
    } finally {
      if (wideBias) backend.disposeData(wideBias.dataId);
    }
  };
  return { ...stock, kernelFunc: kernelFunc as KernelFunc };
}
