/**
 * One-dimensional convolution kernels for the wasm backend: forward, input gradient and filter
 * gradient as native OpenBLAS GEMMs on the wasm heap.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (the weight gradient of every conv throws),
 * a naive-loop `Conv2DBackpropInput`, and a `Conv2D` that returns zeros for `same` padding with
 * kernel < stride. These kernels are new names, used only by `lib/nn/conv.ts` through
 * `tf.customGrad`; the stock conv kernels stay as they are.
 *
 * All three describe one convolution: `x [B, T, Ci]` → `y [B, To, Co]`,
 * `y[b, t, o] = Σ_k Σ_i x[b, t·s + k·d − p, i] · w[k, i, o]`, To = ⌊(T + 2p − d(K−1) − 1)/s⌋ + 1.
 * The weight is `[K, Ci, Co]`, or `[K, Co, Ci]` with `transposed: true` (the layout a transposed
 * conv's weight has when its forward pass is this conv's input gradient).
 *
 * Method `"auto"` (the default) picks per call (see {@linkcode _useTaps}).
 *
 * Method `"taps"`: one strided GEMM per kernel tap `k` (and batch entry, unless
 * the batches fold into one run of rows), over the output frames whose tap lies inside `x`, so
 * padding costs nothing and nothing is copied. Input rows `t·s + k·d − p` are a matrix with
 * leading dimension `s·Ci`:
 * - forward `y[t] += x[t·s + k·d − p] · w[k]`;
 * - input gradient `dx[t·s + k·d − p] += dy[t] · w[k]ᵀ` (GEMM writing a strided C);
 * - filter gradient `dw[k] += x[t·s + k·d − p]ᵀ · dy[t]`.
 *
 * Method `"im2col"` (kept for comparison) builds `col [B·To, K·Ci]`, the im2col matrix of `x`
 * (row `(b, t)` = the K taps, zeros off the ends):
 * - forward `y = col · W` (one GEMM; per tap `col_k · w[k]ᵀ` when transposed);
 * - input gradient `dcol = dy · Wᵀ` (per tap `dy · w[k]` when transposed), then col2im adds each
 *   tap back to the frame it came from;
 * - filter gradient `dW = colᵀ · dy` (per tap `dyᵀ · col_k` when transposed).
 * When the taps tile the input exactly (K = s, d = 1, p = 0, T = To·s) `col` is `x` itself and no
 * copy is made. The im2col/col2im buffers are allocated on the wasm heap for the call and freed
 * before it returns ({@linkcode convScratchInUse} counts them).
 *
 * Measured on the conv layers of issue 8's reference step (`bench/conv_ops.ts`, CPU time, same
 * process, machine under load): taps 373 ms against im2col 652 ms for the conv-net step; raw
 * OpenBLAS at the 16-channel shapes, 44 GFLOP/s per-tap against 39 for the im2col GEMM alone.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { Sgemm } from "./blas.ts";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";

type KernelArgs = Parameters<KernelFunc>[0];

/** `x [B, T, Ci], w` → `y [B, To, Co]`. */
export const CONV1D_KERNEL = "QuantlabConv1d";
/** `dy [B, To, Co], w` → `dx [B, T, Ci]` (attr `length` = T). */
export const CONV1D_INPUT_GRAD_KERNEL = "QuantlabConv1dBackpropInput";
/** `x [B, T, Ci], dy [B, To, Co]` → `dw` in the weight's layout (attr `kernel` = K). */
export const CONV1D_FILTER_GRAD_KERNEL = "QuantlabConv1dBackpropFilter";

/** Attributes shared by the three kernels. */
export interface Conv1dAttrs {
  stride: number;
  dilation: number;
  padding: number;
  /** Weight is `[K, Co, Ci]` instead of `[K, Ci, Co]`. */
  transposed: boolean;
}

/** Sizes of one convolution. */
interface Geometry {
  batch: number;
  length: number;
  outLength: number;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  dilation: number;
  padding: number;
  transposed: boolean;
}

function _geometry(
  batch: number,
  length: number,
  inC: number,
  outC: number,
  kernel: number,
  attrs: Conv1dAttrs,
): Geometry {
  const { stride, dilation, padding, transposed } = attrs;
  const outLength = Math.floor((length + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
  return { batch, length, outLength, inC, outC, kernel, stride, dilation, padding, transposed };
}

/** `x` is its own im2col matrix: the taps tile the input without gaps, overlaps or padding. */
function _colIsInput(g: Geometry): boolean {
  return g.kernel === g.stride && g.dilation === 1 && g.padding === 0 &&
    g.length === g.outLength * g.stride;
}

/** Write the im2col matrix `[B·To, K·Ci]` of `x` (at `xOff`) to `colOff`. */
function _im2col(heap: Float32Array, xOff: number, colOff: number, g: Geometry): void {
  const { batch, length, outLength, inC: c, kernel, stride, dilation, padding } = g;
  let dst = colOff;
  for (let b = 0; b < batch; b++) {
    const xb = xOff + b * length * c;
    for (let t = 0; t < outLength; t++) {
      const u0 = t * stride - padding;
      for (let k = 0; k < kernel; k++, dst += c) {
        const u = u0 + k * dilation;
        if (u < 0 || u >= length) {
          heap.fill(0, dst, dst + c);
        } else if (c >= 64) {
          heap.copyWithin(dst, xb + u * c, xb + (u + 1) * c);
        } else {
          const src = xb + u * c;
          for (let i = 0; i < c; i++) heap[dst + i] = heap[src + i];
        }
      }
    }
  }
}

/** `dx (at dxOff) = col2im(dcol)`: every tap of row `(b, t)` added to the frame it read. */
function _col2im(heap: Float32Array, colOff: number, dxOff: number, g: Geometry): void {
  const { batch, length, outLength, inC: c, kernel, stride, dilation, padding } = g;
  heap.fill(0, dxOff, dxOff + batch * length * c);
  let src = colOff;
  for (let b = 0; b < batch; b++) {
    const xb = dxOff + b * length * c;
    for (let t = 0; t < outLength; t++) {
      const u0 = t * stride - padding;
      for (let k = 0; k < kernel; k++, src += c) {
        const u = u0 + k * dilation;
        if (u < 0 || u >= length) continue;
        const dst = xb + u * c;
        for (let i = 0; i < c; i++) heap[dst + i] += heap[src + i];
      }
    }
  }
}

let scratchLive = 0;

/** A float32 scratch buffer on the heap; the caller frees it with {@linkcode _free}. */
function _scratch(backend: WasmBackend, n: number): TensorInfo {
  scratchLive++;
  return backend.makeOutput([n], "float32");
}

function _free(backend: WasmBackend, scratch: TensorInfo): void {
  backend.disposeData(scratch.dataId);
  scratchLive--;
}

/** Scratch buffers allocated by the conv kernels and not yet freed (0 between calls). */
export function convScratchInUse(): number {
  return scratchLive;
}

/** Heap view `[off, off + n)`. */
const _at = (heap: Float32Array, off: number, n: number) => heap.subarray(off, off + n);

/** im2col of `x`, or `x` itself when it already is one; returns the offset and what to free. */
function _colOf(
  backend: WasmBackend,
  x: TensorInfo,
  g: Geometry,
): { off: number; scratch: TensorInfo | null } {
  if (_colIsInput(g)) return { off: offsetF32(backend, x), scratch: null };
  const scratch = _scratch(backend, g.batch * g.outLength * g.kernel * g.inC);
  const heap = heapF32(backend);
  _im2col(heap, offsetF32(backend, x), offsetF32(backend, scratch), g);
  return { off: offsetF32(backend, scratch), scratch };
}

function _forward(sgemm: Sgemm, method: ConvMethod, args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, w } = args.inputs as { x: TensorInfo; w: TensorInfo };
  const attrs = args.attrs as unknown as Conv1dAttrs;
  const [batch, length, inC] = x.shape;
  const kernel = w.shape[0];
  const outC = attrs.transposed ? w.shape[1] : w.shape[2];
  const g = _geometry(batch, length, inC, outC, kernel, attrs);
  const y = backend.makeOutput([batch, g.outLength, outC], "float32");
  if (_useTaps(method, g)) {
    const off = (t: TensorInfo) => offsetF32(backend, t);
    _forwardTaps(sgemm, heapF32(backend), off(x), off(w), off(y), g);
    return y;
  }
  const col = _colOf(backend, x, g);
  try {
    const heap = heapF32(backend);
    const m = batch * g.outLength;
    const kc = kernel * inC;
    const wOff = offsetF32(backend, w);
    const yOut = _at(heap, offsetF32(backend, y), m * outC);
    if (!attrs.transposed) {
      sgemm(
        false,
        false,
        m,
        outC,
        kc,
        1,
        _at(heap, col.off, m * kc),
        kc,
        _at(heap, wOff, kc * outC),
        outC,
        0,
        yOut,
        outC,
      );
    } else {
      for (let k = 0; k < kernel; k++) {
        const a = _at(heap, col.off + k * inC, m * kc - k * inC);
        const wk = _at(heap, wOff + k * outC * inC, outC * inC);
        sgemm(false, true, m, outC, inC, 1, a, kc, wk, inC, k === 0 ? 0 : 1, yOut, outC);
      }
    }
  } finally {
    if (col.scratch) _free(backend, col.scratch);
  }
  return y;
}

function _inputGrad(sgemm: Sgemm, method: ConvMethod, args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, w } = args.inputs as { dy: TensorInfo; w: TensorInfo };
  const attrs = args.attrs as unknown as Conv1dAttrs & { length: number };
  const [batch, outLength, outC] = dy.shape;
  const kernel = w.shape[0];
  const inC = attrs.transposed ? w.shape[2] : w.shape[1];
  const g = _geometry(batch, attrs.length, inC, outC, kernel, attrs);
  if (g.outLength !== outLength) {
    throw new Error(
      `${CONV1D_INPUT_GRAD_KERNEL}: dy has ${outLength} frames, a conv of ${attrs.length} gives ${g.outLength}`,
    );
  }
  const dx = backend.makeOutput([batch, attrs.length, inC], "float32");
  if (_useTaps(method, g)) {
    const off = (t: TensorInfo) => offsetF32(backend, t);
    _inputGradTaps(sgemm, heapF32(backend), off(dy), off(w), off(dx), g);
    return dx;
  }
  const m = batch * outLength;
  const kc = kernel * inC;
  const direct = _colIsInput(g);
  const dcol = direct ? dx : _scratch(backend, m * kc);
  try {
    const heap = heapF32(backend);
    const dyIn = _at(heap, offsetF32(backend, dy), m * outC);
    const wOff = offsetF32(backend, w);
    const colOff = offsetF32(backend, dcol);
    if (!attrs.transposed) {
      sgemm(
        false,
        true,
        m,
        kc,
        outC,
        1,
        dyIn,
        outC,
        _at(heap, wOff, kc * outC),
        outC,
        0,
        _at(heap, colOff, m * kc),
        kc,
      );
    } else {
      for (let k = 0; k < kernel; k++) {
        const wk = _at(heap, wOff + k * outC * inC, outC * inC);
        const c = _at(heap, colOff + k * inC, m * kc - k * inC);
        sgemm(false, false, m, inC, outC, 1, dyIn, outC, wk, inC, 0, c, kc);
      }
    }
    if (!direct) _col2im(heap, colOff, offsetF32(backend, dx), g);
  } finally {
    if (!direct) _free(backend, dcol);
  }
  return dx;
}

function _filterGrad(sgemm: Sgemm, method: ConvMethod, args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv1dAttrs & { kernel: number };
  const [batch, length, inC] = x.shape;
  const [, outLength, outC] = dy.shape;
  const kernel = attrs.kernel;
  const g = _geometry(batch, length, inC, outC, kernel, attrs);
  if (g.outLength !== outLength || dy.shape[0] !== batch) {
    throw new Error(
      `${CONV1D_FILTER_GRAD_KERNEL}: dy [${dy.shape}] does not match a conv of x [${x.shape}] (${g.outLength} frames)`,
    );
  }
  const dw = backend.makeOutput(
    attrs.transposed ? [kernel, outC, inC] : [kernel, inC, outC],
    "float32",
  );
  if (_useTaps(method, g)) {
    const off = (t: TensorInfo) => offsetF32(backend, t);
    _filterGradTaps(sgemm, heapF32(backend), off(x), off(dy), off(dw), g);
    return dw;
  }
  const col = _colOf(backend, x, g);
  try {
    const heap = heapF32(backend);
    const m = batch * outLength;
    const kc = kernel * inC;
    const dyIn = _at(heap, offsetF32(backend, dy), m * outC);
    const dwOff = offsetF32(backend, dw);
    if (!attrs.transposed) {
      sgemm(
        true,
        false,
        kc,
        outC,
        m,
        1,
        _at(heap, col.off, m * kc),
        kc,
        dyIn,
        outC,
        0,
        _at(heap, dwOff, kc * outC),
        outC,
      );
    } else {
      for (let k = 0; k < kernel; k++) {
        const a = _at(heap, col.off + k * inC, m * kc - k * inC);
        const out = _at(heap, dwOff + k * outC * inC, outC * inC);
        sgemm(true, false, outC, inC, m, 1, dyIn, outC, a, kc, 0, out, inC);
      }
    }
  } finally {
    if (col.scratch) _free(backend, col.scratch);
  }
  return dw;
}

/**
 * Visit, for each tap `k` (and batch entry, unless the batches fold into one run of rows), the
 * run of output frames whose tap lies inside `x`: `m` output rows from `yRow`, reading input rows
 * `xRow, xRow + s, …`. Batches fold when there is no padding and `T = To·s`, so that output row
 * `b·To + t` reads input row `(b·To + t)·s + k·d` for every `b`.
 */
function _taps(g: Geometry, visit: (k: number, xRow: number, yRow: number, m: number) => void) {
  const { batch, length, outLength, kernel, stride, dilation, padding } = g;
  const fold = padding === 0 && length === outLength * stride;
  for (let b = 0; b < (fold ? 1 : batch); b++) {
    for (let k = 0; k < kernel; k++) {
      const shift = k * dilation - padding;
      const t0 = Math.max(0, Math.ceil(-shift / stride));
      const t1 = Math.min(outLength, Math.floor((length - 1 - shift) / stride) + 1);
      if (t1 <= t0) continue;
      const m = fold ? batch * outLength : t1 - t0;
      visit(k, b * length + t0 * stride + shift, b * outLength + t0, m);
    }
  }
}

/** Forward by one strided GEMM per tap: `y[rows] += x[rows·s + k·d − p] · w[k]`. */
function _forwardTaps(
  sgemm: Sgemm,
  heap: Float32Array,
  x: number,
  w: number,
  y: number,
  g: Geometry,
) {
  const { inC, outC, stride, transposed } = g;
  heap.fill(0, y, y + g.batch * g.outLength * outC);
  _taps(g, (k, xRow, yRow, m) => {
    const a = _at(heap, x + xRow * inC, (m - 1) * stride * inC + inC);
    const wk = _at(heap, w + k * inC * outC, inC * outC);
    const c = _at(heap, y + yRow * outC, m * outC);
    if (!transposed) sgemm(false, false, m, outC, inC, 1, a, stride * inC, wk, outC, 1, c, outC);
    else sgemm(false, true, m, outC, inC, 1, a, stride * inC, wk, inC, 1, c, outC);
  });
}

/** Input gradient by one strided GEMM per tap: `dx[rows·s + k·d − p] += dy[rows] · w[k]ᵀ`. */
function _inputGradTaps(
  sgemm: Sgemm,
  heap: Float32Array,
  dy: number,
  w: number,
  dx: number,
  g: Geometry,
) {
  const { inC, outC, stride, transposed } = g;
  heap.fill(0, dx, dx + g.batch * g.length * inC);
  _taps(g, (k, xRow, yRow, m) => {
    const a = _at(heap, dy + yRow * outC, m * outC);
    const wk = _at(heap, w + k * inC * outC, inC * outC);
    const c = _at(heap, dx + xRow * inC, (m - 1) * stride * inC + inC);
    if (!transposed) sgemm(false, true, m, inC, outC, 1, a, outC, wk, outC, 1, c, stride * inC);
    else sgemm(false, false, m, inC, outC, 1, a, outC, wk, inC, 1, c, stride * inC);
  });
}

/** Filter gradient by one strided GEMM per tap: `dw[k] += x[rows·s + k·d − p]ᵀ · dy[rows]`. */
function _filterGradTaps(
  sgemm: Sgemm,
  heap: Float32Array,
  x: number,
  dy: number,
  dw: number,
  g: Geometry,
) {
  const { inC, outC, stride, transposed } = g;
  heap.fill(0, dw, dw + g.kernel * inC * outC);
  _taps(g, (k, xRow, yRow, m) => {
    const a = _at(heap, x + xRow * inC, (m - 1) * stride * inC + inC);
    const d = _at(heap, dy + yRow * outC, m * outC);
    const c = _at(heap, dw + k * inC * outC, inC * outC);
    if (!transposed) sgemm(true, false, inC, outC, m, 1, a, stride * inC, d, outC, 1, c, outC);
    else sgemm(true, false, outC, inC, m, 1, d, outC, a, stride * inC, 1, c, inC);
  });
}

/** How the kernels reach GEMM: an im2col matrix, or one strided GEMM per kernel tap. */
export type ConvMethod = "im2col" | "taps" | "auto";

/** Largest im2col matrix `"auto"` builds (floats; 256 MB). */
const AUTO_IM2COL_MAX = 64 * 2 ** 20;

/**
 * `"auto"`: per-tap GEMMs up to 16 taps, im2col above (an STFT as a conv: K = 1024, Ci = 1 is one
 * GEMM instead of B·K rank-1 updates; measured 10× faster there, and 2–3× slower at K = 7,
 * Ci = 16), unless the im2col matrix would exceed {@linkcode AUTO_IM2COL_MAX}.
 */
function _useTaps(method: ConvMethod, g: Geometry): boolean {
  if (method !== "auto") return method === "taps";
  const colSize = g.batch * g.outLength * g.kernel * g.inC;
  return g.kernel <= 16 || colSize > AUTO_IM2COL_MAX;
}

/** The three conv kernels over native `sgemm`, for `registerKernel`. */
export function conv1dKernels(sgemm: Sgemm, method: ConvMethod = "auto"): KernelConfig[] {
  const config = (
    kernelName: string,
    f: (s: Sgemm, method: ConvMethod, a: KernelArgs) => TensorInfo,
  ) => ({
    kernelName,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => f(sgemm, method, args)) as KernelFunc,
  });
  return [
    config(CONV1D_KERNEL, _forward),
    config(CONV1D_INPUT_GRAD_KERNEL, _inputGrad),
    config(CONV1D_FILTER_GRAD_KERNEL, _filterGrad),
  ];
}
