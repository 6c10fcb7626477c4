/**
 * One-dimensional convolutions in NWC layout with PyTorch semantics, differentiable with respect to
 * input and weight for every stride, padding and dilation, on every backend.
 *
 * tfjs's own `conv1d` cannot train a codec on the wasm backend: its weight gradient
 * (`Conv2DBackpropFilter`) is not registered there, its input gradient is a naive loop, no backend
 * has a gradient for dilation > 1, and stock wasm `Conv2D` returns zeros for `same` padding with
 * kernel < stride (tfjs issues 5907, 8405). These ops avoid all of that:
 *
 * - the reference path builds the im2col matrix from `pad`, `slice`, `reshape` and `concat` and
 *   multiplies it by the weight with `matMul` — every piece has a gradient on every backend;
 * - on the wasm backend with quantlab's kernels and OpenBLAS installed (float32), forward, input
 *   gradient and filter gradient are native GEMMs on the wasm heap, one strided GEMM per kernel
 *   tap ({@link ../kernels/conv.ts}), wired together with `tf.customGrad`: about 9× faster than
 *   the reference path on the conv part of issue 8's reference step. Their gradients are first
 *   order only (no gradient of a gradient).
 *
 * Both paths agree with naive float64 loops to 1e-5 (relative to |value| + rms), and the reference
 * path runs on `cpu`, stock wasm and patched wasm alike.
 *
 * Layout: activations `[batch, time, channels]`, weights `[kernel, inChannels, outChannels]`
 * (PyTorch's `Conv1d.weight.permute(2, 1, 0)`, `ConvTranspose1d.weight.permute(2, 0, 1)`). Bias is
 * the caller's (`tf.add(y, b)`).
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend.ts";
 * import { conv1d, convTranspose1d } from "./conv.ts";
 * await initBackend();
 * const x = tf.randomNormal([2, 32, 4]) as tf.Tensor3D;
 * const w = tf.randomNormal([7, 4, 8]) as tf.Tensor3D;
 * const y = conv1d(x, w, { dilation: 3, padding: 9 }); // [2, 32, 8]
 * const u = convTranspose1d(y, tf.randomNormal([4, 8, 4]) as tf.Tensor3D, { stride: 2, padding: 1 });
 * console.log(y.shape, u.shape); // [2, 32, 8] [2, 64, 4]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  CONV1D_FILTER_GRAD_KERNEL,
  CONV1D_INPUT_GRAD_KERNEL,
  CONV1D_KERNEL,
  type Conv1dAttrs,
} from "../kernels/conv.ts";

/** Options of {@linkcode conv1d}. */
export interface Conv1dOptions {
  /** Step between output frames (default 1). */
  stride?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Zeros added at each end of the time axis (default 0). */
  padding?: number;
}

/** Options of {@linkcode convTranspose1d}. */
export interface ConvTranspose1dOptions {
  /** Upsampling factor (default 1). */
  stride?: number;
  /** Frames cropped from each end of the full transposed output (default 0), as in PyTorch. */
  padding?: number;
}

/** Output length of {@linkcode conv1d}: `floor((T + 2p − d(K−1) − 1)/s) + 1`. */
export function conv1dLength(
  length: number,
  kernel: number,
  stride = 1,
  dilation = 1,
  padding = 0,
): number {
  return Math.floor((length + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Output length of {@linkcode convTranspose1d}: `(T − 1)s − 2p + K`. */
export function convTranspose1dLength(
  length: number,
  kernel: number,
  stride = 1,
  padding = 0,
): number {
  return (length - 1) * stride - 2 * padding + kernel;
}

function _positiveInt(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`conv: ${field} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

function _checkShapes(op: string, x: tf.Tensor, w: tf.Tensor): void {
  if (x.rank !== 3) throw new Error(`${op}: x must be [batch, time, channels], got [${x.shape}]`);
  if (w.rank !== 3) throw new Error(`${op}: w must be [kernel, in, out], got [${w.shape}]`);
  if (x.shape[2] !== w.shape[1]) {
    throw new Error(
      `${op}: x has ${x.shape[2]} channels but w [${w.shape}] expects ${
        w.shape[1]
      } (w is [kernel, in, out])`,
    );
  }
}

/**
 * `[B, Tout, K·C]` im2col matrix of `x` from tf ops: row `(b, t)` holds the taps
 * `x[b, t·s + k·d − p, :]` for `k = 0…K−1` (zeros outside `x`).
 */
function _im2col(
  x: tf.Tensor3D,
  kernel: number,
  stride: number,
  dilation: number,
  padding: number,
  outLength: number,
): tf.Tensor3D {
  const [batch, length, channels] = x.shape;
  // Tap k reads padded positions k·d + t·s, t < Tout: a window of Tout·s frames, every s-th kept.
  const need = (kernel - 1) * dilation + outLength * stride;
  const right = Math.max(padding, need - length - padding);
  const xp = padding > 0 || right > 0 ? tf.pad(x, [[0, 0], [padding, right], [0, 0]]) : x;
  const taps: tf.Tensor3D[] = [];
  for (let k = 0; k < kernel; k++) {
    const window = tf.slice(xp, [0, k * dilation, 0], [batch, outLength * stride, channels]);
    if (stride === 1) {
      taps.push(window);
    } else {
      const frames = tf.reshape(window, [batch, outLength, stride, channels]);
      taps.push(tf.reshape(tf.slice(frames, [0, 0, 0, 0], [batch, outLength, 1, channels]), [
        batch,
        outLength,
        channels,
      ]));
    }
  }
  return taps.length === 1 ? taps[0] : tf.concat(taps, 2);
}

/** {@linkcode conv1d} from differentiable tf ops only: any backend, any dilation. */
export function conv1dReference(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  opts: Conv1dOptions = {},
): tf.Tensor3D {
  _checkShapes("conv1d", x, w);
  const stride = _positiveInt(opts.stride ?? 1, "stride", 1);
  const dilation = _positiveInt(opts.dilation ?? 1, "dilation", 1);
  const padding = _positiveInt(opts.padding ?? 0, "padding", 0);
  const [batch, length, inChannels] = x.shape;
  const [kernel, , outChannels] = w.shape;
  const outLength = conv1dLength(length, kernel, stride, dilation, padding);
  if (outLength < 1) {
    throw new Error(
      `conv1d: input of ${length} frames is shorter than the kernel's span ` +
        `${dilation * (kernel - 1) + 1} plus padding ${padding}·2`,
    );
  }
  return tf.tidy(() => {
    const col = _im2col(x, kernel, stride, dilation, padding, outLength);
    const y = tf.matMul(
      tf.reshape(col, [batch * outLength, kernel * inChannels]),
      tf.reshape(w, [kernel * inChannels, outChannels]),
    );
    return tf.reshape(y, [batch, outLength, outChannels]);
  });
}

/** {@linkcode convTranspose1d} from differentiable tf ops only: zero-stuffing, then a conv. */
export function convTranspose1dReference(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  opts: ConvTranspose1dOptions = {},
): tf.Tensor3D {
  _checkShapes("convTranspose1d", x, w);
  const stride = _positiveInt(opts.stride ?? 1, "stride", 1);
  const padding = _positiveInt(opts.padding ?? 0, "padding", 0);
  const [batch, length, channels] = x.shape;
  const kernel = w.shape[0];
  const outLength = convTranspose1dLength(length, kernel, stride, padding);
  if (outLength < 1) {
    throw new Error(
      `convTranspose1d: padding ${padding} crops away all ${outLength + 2 * padding} frames`,
    );
  }
  return tf.tidy(() => {
    let up: tf.Tensor3D = x;
    if (stride > 1) {
      const spread = tf.pad(tf.reshape(x, [batch, length, 1, channels]), [
        [0, 0],
        [0, 0],
        [0, stride - 1],
        [0, 0],
      ]);
      const flat = tf.reshape(spread, [batch, length * stride, channels]) as tf.Tensor3D;
      up = tf.slice(flat, [0, 0, 0], [batch, (length - 1) * stride + 1, channels]);
    }
    // The full transposed output ((T−1)s + K frames) is a correlation with the flipped kernel.
    const full = conv1dReference(up, tf.reverse(w, 0), { padding: kernel - 1 });
    return padding === 0
      ? full
      : tf.slice(full, [0, padding, 0], [batch, outLength, full.shape[2]]);
  });
}

/**
 * `y[b, t, o] = Σ_k Σ_i x[b, t·s + k·d − p, i] · w[k, i, o]` (PyTorch `Conv1d` without bias).
 *
 * @param x `[batch, time, inChannels]`
 * @param w `[kernel, inChannels, outChannels]`
 * @returns `[batch, floor((T + 2p − d(K−1) − 1)/s) + 1, outChannels]`
 */
export function conv1d(x: tf.Tensor3D, w: tf.Tensor3D, opts: Conv1dOptions = {}): tf.Tensor3D {
  if (!_nativeKernels(x, w)) return conv1dReference(x, w, opts);
  _checkShapes("conv1d", x, w);
  const attrs: Conv1dAttrs = {
    stride: _positiveInt(opts.stride ?? 1, "stride", 1),
    dilation: _positiveInt(opts.dilation ?? 1, "dilation", 1),
    padding: _positiveInt(opts.padding ?? 0, "padding", 0),
    transposed: false,
  };
  const [, length] = x.shape;
  const kernel = w.shape[0];
  if (conv1dLength(length, kernel, attrs.stride, attrs.dilation, attrs.padding) < 1) {
    return conv1dReference(x, w, opts); // throws the shape error
  }
  return _nativeConv(x, w, attrs, false);
}

/** Whether the native conv kernels can take `x` and `w`: float32 on wasm with OpenBLAS kernels. */
function _nativeKernels(x: tf.Tensor, w: tf.Tensor): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(CONV1D_KERNEL, "wasm") != null &&
    x.dtype === "float32" && w.dtype === "float32" && x.size > 0 && w.size > 0;
}

const _run = (name: string, inputs: tf.NamedTensorMap, attrs: object) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor3D;

/**
 * The conv `x → y` of `attrs` (`upward = false`: `conv1d(a, w)`), or its adjoint
 * (`upward = true`: `convTranspose1d(a, w)` with `w` in the conv's transposed layout `[K, Co, Ci]`),
 * with gradients from the input- and filter-gradient kernels.
 */
function _nativeConv(a: tf.Tensor3D, w: tf.Tensor3D, attrs: Conv1dAttrs, upward: boolean) {
  const kernel = w.shape[0];
  const op = tf.customGrad(
    ((a: tf.Tensor3D, w: tf.Tensor3D, save: tf.GradSaveFunc) => {
      save([a, w]);
      if (!upward) {
        return {
          value: _run(CONV1D_KERNEL, { x: a, w }, attrs),
          gradFunc: (dy: tf.Tensor3D, [x, w]: tf.Tensor[]) => [
            _run(CONV1D_INPUT_GRAD_KERNEL, { dy, w }, { ...attrs, length: x.shape[1] }),
            _run(CONV1D_FILTER_GRAD_KERNEL, { x, dy }, { ...attrs, kernel }),
          ],
        };
      }
      // Upward, `a` plays the conv's dy and the output its dx; the output's gradient `dy` is the
      // conv's input.
      const length = convTranspose1dLength(a.shape[1], kernel, attrs.stride, attrs.padding);
      return {
        value: _run(CONV1D_INPUT_GRAD_KERNEL, { dy: a, w }, { ...attrs, length }),
        gradFunc: (dy: tf.Tensor3D, [x, w]: tf.Tensor[]) => [
          _run(CONV1D_KERNEL, { x: dy, w }, attrs),
          _run(CONV1D_FILTER_GRAD_KERNEL, { x: dy, dy: x }, { ...attrs, kernel }),
        ],
      };
      // deno-lint-ignore no-explicit-any
    }) as any,
  ) as unknown as (a: tf.Tensor3D, w: tf.Tensor3D) => tf.Tensor3D;
  return op(a, w);
}

/**
 * `y[b, t·s + k − p, o] += x[b, t, i] · w[k, i, o]` (PyTorch `ConvTranspose1d` without bias and
 * output padding; its weight `[in, out, K]` is ours permuted by `(2, 0, 1)`). The adjoint of
 * `conv1d` with the same stride and padding and weight `w` transposed to `[K, out, in]`.
 *
 * @param x `[batch, time, inChannels]`
 * @param w `[kernel, inChannels, outChannels]`
 * @returns `[batch, (T − 1)s − 2p + K, outChannels]`
 */
export function convTranspose1d(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  opts: ConvTranspose1dOptions = {},
): tf.Tensor3D {
  if (!_nativeKernels(x, w)) return convTranspose1dReference(x, w, opts);
  _checkShapes("convTranspose1d", x, w);
  const attrs: Conv1dAttrs = {
    stride: _positiveInt(opts.stride ?? 1, "stride", 1),
    dilation: 1,
    padding: _positiveInt(opts.padding ?? 0, "padding", 0),
    transposed: true,
  };
  if (convTranspose1dLength(x.shape[1], w.shape[0], attrs.stride, attrs.padding) < 1) {
    return convTranspose1dReference(x, w, opts); // throws the shape error
  }
  return _nativeConv(x, w, attrs, true);
}
