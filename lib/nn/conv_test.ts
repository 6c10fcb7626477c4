import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { CONV1D_KERNEL, installKernels, loadOpenBlas } from "../kernels/mod.ts";
import { convScratchInUse } from "../kernels/conv.ts";
import { conv1d, conv1dLength, convTranspose1d, convTranspose1dLength } from "./conv.ts";

await initBackend("wasm");
const HAVE_OPENBLAS = loadOpenBlas() != null;

/** Each way the ops can run: tfjs's cpu backend, tf ops on stock and patched wasm, native kernels. */
const SETUPS: Record<string, () => Promise<unknown>> = {
  cpu: () => initBackend("cpu"),
  "wasm stock": () => initBackend("wasm", { patched: false }),
  "wasm tf ops": () => initBackend("wasm", { gemm: "wasm" }),
  ...(HAVE_OPENBLAS
    ? {
      "wasm native": () => initBackend("wasm", { gemm: "openblas" }),
      "wasm native taps": async () => {
        await initBackend("wasm");
        installKernels({ gemm: "openblas", conv: "taps" });
      },
      "wasm native im2col": async () => {
        await initBackend("wasm");
        installKernels({ gemm: "openblas", conv: "im2col" });
      },
    }
    : {}),
};

/** A geometry to test: input `[b, t, cin]`, weight `[k, cin, cout]`. */
interface Case {
  b: number;
  t: number;
  cin: number;
  cout: number;
  k: number;
  s: number;
  d: number;
  p: number;
}

/** Shapes, strides, paddings and dilations covering codec layers and the awkward corners. */
const CONV_CASES: Case[] = [
  { b: 2, t: 17, cin: 3, cout: 5, k: 7, s: 1, d: 1, p: 3 }, // residual k7
  { b: 2, t: 19, cin: 3, cout: 4, k: 7, s: 1, d: 3, p: 9 }, // residual k7 dilation 3
  { b: 1, t: 23, cin: 2, cout: 3, k: 3, s: 1, d: 9, p: 0 }, // dilation, no padding
  { b: 2, t: 16, cin: 4, cout: 6, k: 8, s: 4, d: 1, p: 2 }, // downsampling k = 2s
  { b: 2, t: 16, cin: 4, cout: 6, k: 4, s: 2, d: 1, p: 1 },
  { b: 3, t: 12, cin: 4, cout: 2, k: 4, s: 4, d: 1, p: 0 }, // kernel = stride
  { b: 2, t: 13, cin: 3, cout: 3, k: 1, s: 2, d: 1, p: 0 }, // kernel < stride (stock wasm zeros)
  { b: 2, t: 14, cin: 3, cout: 3, k: 2, s: 4, d: 1, p: 1 }, // kernel < stride, padded
  { b: 2, t: 11, cin: 5, cout: 7, k: 1, s: 1, d: 1, p: 0 }, // pointwise
  { b: 1, t: 10, cin: 2, cout: 2, k: 3, s: 3, d: 2, p: 4 }, // stride, dilation and padding at once
  { b: 2, t: 80, cin: 1, cout: 6, k: 20, s: 5, d: 1, p: 0 }, // STFT-like: > 16 taps ("auto" im2col)
];

const TRANSPOSE_CASES: Case[] = [
  { b: 2, t: 5, cin: 6, cout: 4, k: 8, s: 4, d: 1, p: 2 }, // upsampling k = 2s
  { b: 2, t: 7, cin: 4, cout: 3, k: 4, s: 2, d: 1, p: 1 },
  { b: 1, t: 6, cin: 3, cout: 2, k: 3, s: 1, d: 1, p: 1 },
  { b: 2, t: 4, cin: 3, cout: 5, k: 2, s: 3, d: 1, p: 0 }, // kernel < stride: gaps of zeros
  { b: 2, t: 5, cin: 2, cout: 3, k: 5, s: 2, d: 1, p: 4 }, // padding ≥ kernel − 1
];

/** Deterministic values in [−1, 1). */
function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let state = seed >>> 0;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** Naive loops: conv output, and the gradients of `Σ y·g` with respect to x and w. */
function naiveConv(c: Case, x: Float32Array, w: Float32Array, g: Float32Array) {
  const to = conv1dLength(c.t, c.k, c.s, c.d, c.p);
  const y = new Float64Array(c.b * to * c.cout);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < c.b; b++) {
    for (let t = 0; t < to; t++) {
      for (let k = 0; k < c.k; k++) {
        const u = t * c.s + k * c.d - c.p;
        if (u < 0 || u >= c.t) continue;
        for (let i = 0; i < c.cin; i++) {
          const xi = (b * c.t + u) * c.cin + i;
          for (let o = 0; o < c.cout; o++) {
            const wi = (k * c.cin + i) * c.cout + o;
            const yi = (b * to + t) * c.cout + o;
            y[yi] += x[xi] * w[wi];
            dx[xi] += g[yi] * w[wi];
            dw[wi] += g[yi] * x[xi];
          }
        }
      }
    }
  }
  return { shape: [c.b, to, c.cout], y, dx, dw };
}

/** Naive loops for the transposed conv: `y[b, t·s + k − p, o] += x[b, t, i]·w[k, i, o]`. */
function naiveTranspose(c: Case, x: Float32Array, w: Float32Array, g: Float32Array) {
  const to = convTranspose1dLength(c.t, c.k, c.s, c.p);
  const y = new Float64Array(c.b * to * c.cout);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < c.b; b++) {
    for (let t = 0; t < c.t; t++) {
      for (let k = 0; k < c.k; k++) {
        const u = t * c.s + k - c.p;
        if (u < 0 || u >= to) continue;
        for (let i = 0; i < c.cin; i++) {
          const xi = (b * c.t + t) * c.cin + i;
          for (let o = 0; o < c.cout; o++) {
            const wi = (k * c.cin + i) * c.cout + o;
            const yi = (b * to + u) * c.cout + o;
            y[yi] += x[xi] * w[wi];
            dx[xi] += g[yi] * w[wi];
            dw[wi] += g[yi] * x[xi];
          }
        }
      }
    }
  }
  return { shape: [c.b, to, c.cout], y, dx, dw };
}

/** |got − want| ≤ tol·(|want| + rms(want)) elementwise. */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol: number) {
  assert.equal(got.length, want.length, `${label}: length`);
  let ss = 0;
  for (let i = 0; i < want.length; i++) ss += want[i] * want[i];
  const rms = Math.sqrt(ss / Math.max(1, want.length));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + rms))) {
      assert.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]} (rms ${rms})`);
    }
  }
}

type Op = (x: tf.Tensor3D, w: tf.Tensor3D, c: Case) => tf.Tensor3D;

/** Output and both gradients of `Σ op(x, w)·g`, computed by tfjs. */
function run(op: Op, c: Case, x: Float32Array, w: Float32Array, g: Float32Array, shape: number[]) {
  return tf.tidy(() => {
    const xt = tf.tensor3d(x, [c.b, c.t, c.cin]);
    const wt = tf.tensor3d(w, [c.k, c.cin, c.cout]);
    const gt = tf.tensor(g, shape);
    const y = op(xt, wt, c);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor3D, b as tf.Tensor3D, c), gt))
    )([xt, wt]);
    return { shape: y.shape, y: y.dataSync(), dx: dx.dataSync(), dw: dw.dataSync() };
  });
}

const TOL = 1e-5; // float32 sums of at most K·C ≤ 40 products, against float64 loops

async function checkAll(
  label: string,
  cases: Case[],
  op: Op,
  naive: typeof naiveConv,
  outLength: (c: Case) => number,
): Promise<void> {
  try {
    for (const [backend, setup] of Object.entries(SETUPS)) {
      await setup();
      const native = tf.getBackend() === "wasm" && tf.getKernel(CONV1D_KERNEL, "wasm") != null;
      assert.equal(native, backend.startsWith("wasm native"), `${backend}: native kernels`);
      for (const [n, c] of cases.entries()) {
        const x = data(c.b * c.t * c.cin, 3 * n + 1);
        const w = data(c.k * c.cin * c.cout, 3 * n + 2);
        const g = data(c.b * outLength(c) * c.cout, 3 * n + 3);
        const ref = naive(c, x, w, g);
        const got = run(op, c, x, w, g, ref.shape);
        const tag = `${label} ${JSON.stringify(c)} on ${backend}`;
        assert.deepEqual(got.shape, ref.shape, `${tag}: shape`);
        assertClose(got.y, ref.y, `${tag}: y`, TOL);
        assertClose(got.dx, ref.dx, `${tag}: dx`, TOL);
        assertClose(got.dw, ref.dw, `${tag}: dw`, TOL);
      }
    }
  } finally {
    await initBackend("wasm");
  }
}

Deno.test("conv1d matches naive loops in value and both gradients on cpu and wasm", async () => {
  await checkAll(
    "conv1d",
    CONV_CASES,
    (x, w, c) => conv1d(x, w, { stride: c.s, dilation: c.d, padding: c.p }),
    naiveConv,
    (c) => conv1dLength(c.t, c.k, c.s, c.d, c.p),
  );
});

Deno.test("convTranspose1d matches naive loops in value and both gradients on cpu and wasm", async () => {
  await checkAll(
    "convTranspose1d",
    TRANSPOSE_CASES,
    (x, w, c) => convTranspose1d(x, w, { stride: c.s, padding: c.p }),
    naiveTranspose,
    (c) => convTranspose1dLength(c.t, c.k, c.s, c.p),
  );
});

Deno.test("conv1d with kernel < stride is not all zeros on wasm (tfjs issues 5907, 8405)", () => {
  const x = tf.ones([1, 8, 1]) as tf.Tensor3D;
  const w = tf.ones([1, 1, 1]) as tf.Tensor3D;
  const y = conv1d(x, w, { stride: 2 });
  assert.deepEqual(Array.from(y.dataSync()), [1, 1, 1, 1]);
  tf.dispose([x, w, y]);
});

Deno.test("conv ops name the bad argument", () => {
  const x = tf.zeros([1, 8, 2]) as tf.Tensor3D;
  const w = tf.zeros([3, 4, 2]) as tf.Tensor3D;
  assert.throws(() => conv1d(x, w), /x has 2 channels but w \[3,4,2\] expects 4/);
  assert.throws(() => conv1d(x, tf.zeros([3, 2, 2]) as tf.Tensor3D, { stride: 0 }), /stride/);
  assert.throws(() => conv1d(x, tf.zeros([9, 2, 2]) as tf.Tensor3D), /shorter than the kernel/);
  tf.dispose([x, w]);
});

Deno.test("a small conv net trains without leaking tensors or wasm heap", async () => {
  await initBackend("wasm");
  const methods = HAVE_OPENBLAS ? (["auto", "taps", "im2col"] as const) : ([undefined] as const);
  try {
    for (const conv of methods) {
      installKernels({ conv });
      leakCheck(conv ?? "tf ops");
    }
  } finally {
    installKernels();
  }
});

function leakCheck(label: string): void {
  const rand = (shape: [number, number, number], seed: number) =>
    tf.variable(tf.randomNormal(shape, 0, 0.3, "float32", seed)) as tf.Variable<tf.Rank.R3>;
  const w1 = rand([7, 1, 8], 1);
  const w2 = rand([4, 8, 16], 2);
  const w3 = rand([4, 16, 8], 3);
  const w4 = rand([7, 8, 1], 4);
  const w5 = rand([3, 16, 16], 6);
  const x = tf.randomNormal([2, 64, 1], 0, 1, "float32", 5) as tf.Tensor3D;
  const optimizer = tf.train.adam(1e-3);
  const step = () => {
    const loss = optimizer.minimize(() => {
      let h = tf.leakyRelu(conv1d(x, w1, { padding: 3 }), 0.1) as tf.Tensor3D;
      h = conv1d(h, w2, { stride: 2, padding: 1 });
      h = tf.leakyRelu(conv1d(h, w5, { dilation: 3, padding: 3 }), 0.1) as tf.Tensor3D;
      h = convTranspose1d(h, w3, { stride: 2, padding: 1 });
      h = conv1d(h, w4, { padding: 3 });
      return tf.mean(tf.abs(tf.sub(h, x))) as tf.Scalar;
    }, true)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const first = step();
  step();
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  let last = first;
  for (let i = 0; i < 50; i++) last = step();
  assert.equal(tf.memory().numTensors, tensors, `${label}: tensor count grew over 50 steps`);
  assert.equal(convScratchInUse(), 0, `${label}: conv scratch buffers left allocated`);
  assert.equal(tf.memory().numBytes, bytes, `${label}: tensor bytes grew over 50 steps`);
  const heapNow = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  assert.equal(heapNow, heap, `${label}: wasm heap grew over 50 steps`);
  assert.ok(Number.isFinite(last) && last < first, `loss went from ${first} to ${last}`);
  tf.dispose([w1, w2, w3, w4, w5, x]);
  optimizer.dispose();
}

Deno.test({
  name: "native kernels match the cpu backend at codec-sized shapes (values and gradients)",
  ignore: !HAVE_OPENBLAS,
  fn: async () => {
    const shapes: { c: Case; transpose: boolean }[] = [
      { c: { b: 3, t: 300, cin: 16, cout: 16, k: 7, s: 1, d: 3, p: 9 }, transpose: false },
      { c: { b: 2, t: 256, cin: 32, cout: 64, k: 8, s: 4, d: 1, p: 2 }, transpose: false },
      { c: { b: 2, t: 96, cin: 64, cout: 64, k: 1, s: 1, d: 1, p: 0 }, transpose: false },
      { c: { b: 2, t: 40, cin: 128, cout: 64, k: 8, s: 4, d: 1, p: 2 }, transpose: true },
      { c: { b: 2, t: 100, cin: 32, cout: 16, k: 4, s: 2, d: 1, p: 1 }, transpose: true },
    ];
    const compute = () =>
      shapes.map(({ c, transpose }, n) => {
        const x = data(c.b * c.t * c.cin, 7 * n + 1);
        const w = data(c.k * c.cin * c.cout, 7 * n + 2);
        const len = transpose
          ? convTranspose1dLength(c.t, c.k, c.s, c.p)
          : conv1dLength(c.t, c.k, c.s, c.d, c.p);
        const shape = [c.b, len, c.cout];
        const g = data(c.b * len * c.cout, 7 * n + 3);
        const op: Op = transpose
          ? (x, w, c) => convTranspose1d(x, w, { stride: c.s, padding: c.p })
          : (x, w, c) => conv1d(x, w, { stride: c.s, dilation: c.d, padding: c.p });
        return run(op, c, x, w, g, shape);
      });
    try {
      await initBackend("cpu");
      const cpu = compute();
      await initBackend("wasm", { gemm: "openblas" });
      assert.ok(tf.getKernel(CONV1D_KERNEL, "wasm") != null);
      const native = compute();
      native.forEach((got, i) => {
        const tag = `${JSON.stringify(shapes[i])}`;
        assert.deepEqual(got.shape, cpu[i].shape, `${tag}: shape`);
        // float32 sums of up to K·C = 1024 products in different orders: 1e-5 of |v| + rms.
        assertClose(got.y, cpu[i].y, `${tag}: y`, 1e-5);
        assertClose(got.dx, cpu[i].dx, `${tag}: dx`, 1e-5);
        assertClose(got.dw, cpu[i].dw, `${tag}: dw`, 1e-5);
      });
    } finally {
      await initBackend("wasm");
    }
  },
});
