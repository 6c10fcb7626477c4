/**
 * DAC's Snake activation, y = x + sin²(αx)/(α + 1e-9) with α per channel (the last axis), as one
 * pass over the wasm heap forward and one backward, with sin and cos from a range-reduced polynomial.
 *
 * Why a kernel: tfjs-wasm's `Sin` and `Cos` cost about 37 ns per element here (a scalar libm call),
 * against 0.4 ns for a multiply, and the op-by-op Snake runs `Mul`, `Sin`, `Mul`, `Add`, `Div`, `Add`
 * forward and twice that backward (with a `Cos`). In the base speech recipe Snake was about two
 * thirds of a training step. Here, when C is a multiple of 4 (every layer of the conv codec), each
 * pass is hand-assembled wasm SIMD (`_wasm_simd.ts`, four float32 lanes): a three-part Cody–Waite
 * reduction by π/2 (cephes' sinf constants), Taylor polynomials to r⁹/r¹⁰, and the gradient
 * `dx = dy·(1 + sin(2αx)·α/(α + 1e-9))`, `dα = Σ dy·(x·sin(2αx)/(α + 1e-9) − sin²(αx)/(α + 1e-9)²)`
 * in the same pass, `dα` summed in float32 in row order. Other C take a float64 TypeScript loop
 * (polynomial error < 2e-9, `dα` summed in float64): a plain JIT loop measured 13–15 ns per element
 * here, SIMD about ten times less. Both are plain IEEE arithmetic without fused multiply-adds, so the
 * result is the same on every machine; neither is bit-identical to the op-by-op form (which rounds
 * αx and sin to float32 between ops and uses the wasm libm). Measured on the base model's recipe step
 * (batch 8 × 4096) in one process, alternating the two: 251–282 ms against 602–634 ms with
 * `Sin`/`Cos` on an idle machine, 340–400 ms against 840–1040 ms with two other processes running.
 *
 * {@linkcode snake} takes this path on the wasm backend when the kernels are registered (by
 * `installKernels`), else the op-by-op formula, so `initBackend("wasm", { patched: false })` and the
 * cpu backend compute exactly what they did before.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend.ts";
 * await initBackend("wasm");
 * const y = snake(tf.tensor3d([[[0.5, -1]]]), tf.tensor1d([1, 2]));
 * const expected = 0.5 + Math.sin(0.5) ** 2;
 * console.assert(Math.abs(y.dataSync()[0] - expected) < 1e-6);
 * ```
 *
 * @module
 */
import {
  add,
  customGrad,
  div,
  engine,
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  mul,
  sin,
  type Tensor,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";
import { snakeSimd } from "./_wasm_simd.ts";

type SimdBackend = WasmBackend & { wasm: { asm: { memory: WebAssembly.Memory } } };

/** `y` from `x` [..., C] and `alpha` [C] (float32, wasm backend). */
export const SNAKE_KERNEL = "QuantlabSnake";
/** `dx` [..., C] and `dα` [C] from `x`, `alpha`, `dy`. */
export const SNAKE_GRAD_KERNEL = "QuantlabSnakeGrad";

/** The ε added to α in the denominator (as the op-by-op form). */
const EPS = 1e-9;
const PIO2_HI = 1.5707963267341256; // first 33 bits of π/2
const PIO2_LO = 6.077100506506192e-11; // π/2 − PIO2_HI
const TWO_OVER_PI = 0.6366197723675814;

/**
 * sin t and cos t for one t, written to `out[0]`, `out[1]`: t = k·π/2 + r with |r| ≤ π/4 (Cody–Waite,
 * exact enough for |t| < 2²⁰), then Taylor polynomials to r¹¹ and r¹⁰ and the quadrant k mod 4.
 */
export function sinCos(t: number, out: Float64Array): void {
  const k = Math.round(t * TWO_OVER_PI);
  const r = (t - k * PIO2_HI) - k * PIO2_LO;
  const r2 = r * r;
  const s = r * (1 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (1 / 362880 +
                    r2 * (-1 / 39916800))))));
  const c = 1 + r2 * (-0.5 + r2 * (1 / 24 + r2 * (-1 / 720 + r2 * (1 / 40320 +
                    r2 * (-1 / 3628800 + r2 * (1 / 479001600))))));
  switch (k & 3) {
    case 0:
      out[0] = s, out[1] = c;
      break;
    case 1:
      out[0] = c, out[1] = -s;
      break;
    case 2:
      out[0] = -s, out[1] = -c;
      break;
    default:
      out[0] = -c, out[1] = s;
  }
}

type KernelArgs = Parameters<KernelFunc>[0];

const _byte = (backend: WasmBackend, t: TensorInfo) =>
  backend.dataIdMap.get(t.dataId)!.memoryOffset;

function _channels(x: TensorInfo, alpha: TensorInfo): number {
  const c = x.shape[x.shape.length - 1];
  if (alpha.shape.length !== 1 || alpha.shape[0] !== c) {
    throw new Error(`snake: alpha has shape [${alpha.shape}], expected [${c}] (x's last axis)`);
  }
  return c;
}

/** The forward kernel, registered under {@linkcode SNAKE_KERNEL} for the wasm backend. */
export function snakeKernel(): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as SimdBackend;
    const { x, alpha } = args.inputs as { x: TensorInfo; alpha: TensorInfo };
    const c = _channels(x, alpha);
    const n = util.sizeFromShape(x.shape);
    const out = backend.makeOutput(x.shape, "float32");
    if (c % 4 === 0) {
      const xb = _byte(backend, x);
      snakeSimd(backend.wasm.asm.memory).forward(
        xb,
        _byte(backend, alpha),
        _byte(backend, out),
        xb + 4 * n,
        4 * c,
      );
      return out;
    }
    const heap = heapF32(backend); // after makeOutput: a heap growth replaces the buffer
    const xo = offsetF32(backend, x), yo = offsetF32(backend, out), ao = offsetF32(backend, alpha);
    const a = Float64Array.from(heap.subarray(ao, ao + c));
    const inv = a.map((v) => 1 / Math.fround(v + EPS));
    const sc = new Float64Array(2);
    for (let base = 0; base < n; base += c) {
      for (let j = 0; j < c; j++) {
        const v = heap[xo + base + j];
        sinCos(a[j] * v, sc);
        heap[yo + base + j] = v + sc[0] * sc[0] * inv[j];
      }
    }
    return out;
  };
  return { kernelName: SNAKE_KERNEL, backendName: "wasm", kernelFunc: kernelFunc as KernelFunc };
}

/** The gradient kernel, registered under {@linkcode SNAKE_GRAD_KERNEL} for the wasm backend. */
export function snakeGradKernel(): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as SimdBackend;
    const { x, alpha, dy } = args.inputs as { x: TensorInfo; alpha: TensorInfo; dy: TensorInfo };
    const c = _channels(x, alpha);
    const n = util.sizeFromShape(x.shape);
    const dx = backend.makeOutput(x.shape, "float32");
    const da = backend.makeOutput([c], "float32");
    const heap = heapF32(backend);
    if (c % 4 === 0) {
      const dab = _byte(backend, da), xb = _byte(backend, x);
      heap.fill(0, dab >>> 2, (dab >>> 2) + c);
      snakeSimd(backend.wasm.asm.memory).grad(
        xb,
        _byte(backend, dy),
        _byte(backend, alpha),
        _byte(backend, dx),
        dab,
        xb + 4 * n,
        4 * c,
      );
      return [dx, da];
    }
    const xo = offsetF32(backend, x), go = offsetF32(backend, dy), ao = offsetF32(backend, alpha);
    const dxo = offsetF32(backend, dx), dao = offsetF32(backend, da);
    const a = Float64Array.from(heap.subarray(ao, ao + c));
    const inv = a.map((v) => 1 / Math.fround(v + EPS));
    const acc = new Float64Array(c);
    const sc = new Float64Array(2);
    for (let base = 0; base < n; base += c) {
      for (let j = 0; j < c; j++) {
        const v = heap[xo + base + j], g = heap[go + base + j];
        sinCos(a[j] * v, sc);
        const sin2 = 2 * sc[0] * sc[1]; // sin(2αx)
        heap[dxo + base + j] = g * (1 + sin2 * a[j] * inv[j]);
        acc[j] += g * (v * sin2 * inv[j] - sc[0] * sc[0] * inv[j] * inv[j]);
      }
    }
    for (let j = 0; j < c; j++) heap[dao + j] = acc[j];
    return [dx, da];
  };
  return {
    kernelName: SNAKE_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** The op-by-op form (any backend; what the conv codec computed before the kernel). */
function snakeOps<T extends Tensor>(x: T, alpha: Tensor): T {
  const s = sin(mul(x, alpha));
  return add(x, div(mul(s, s), add(alpha, EPS))) as T;
}

const snakeFused = customGrad(
  ((x: Tensor, alpha: Tensor, save: (t: Tensor[]) => void) => {
    save([x, alpha]);
    return {
      value: engine().runKernel(SNAKE_KERNEL, { x, alpha }) as Tensor,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [sx, sa] = saved;
        const [dx, da] = engine().runKernel(SNAKE_GRAD_KERNEL, {
          x: sx,
          alpha: sa,
          dy: dy as Tensor,
        }) as Tensor[];
        return [dx, da];
      },
    };
    // tfjs types customGrad's function loosely (inputs and the save function in one rest parameter).
  }) as unknown as Parameters<typeof customGrad>[0],
) as unknown as (x: Tensor, alpha: Tensor) => Tensor;

/**
 * Snake over the last axis: `x + sin²(αx)/(α + 1e-9)`, `alpha` of shape [C]. One kernel forward and
 * one backward on the patched wasm backend (see the module doc), the op-by-op form elsewhere.
 */
export function snake<T extends Tensor>(x: T, alpha: Tensor): T {
  const fused = getBackend() === "wasm" && getKernel(SNAKE_KERNEL, "wasm") != null &&
    getKernel(SNAKE_GRAD_KERNEL, "wasm") != null && x.dtype === "float32" &&
    alpha.dtype === "float32" && alpha.rank === 1;
  return fused ? snakeFused(x, alpha) as T : snakeOps(x, alpha);
}
