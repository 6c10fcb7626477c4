import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { kernelStatus } from "./mod.ts";
import { sinCos, snake } from "./snake.ts";

await initBackend("wasm");

/** Seeded inputs [2, t, c] spanning several periods of sin(αx), and α per channel (some tiny). */
function inputs(t: number, c: number, seed: number) {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: 2 * t * c }, (_, i) => (i % 17 === 0 ? 0 : next() * 6));
  const dy = Float32Array.from({ length: 2 * t * c }, () => next());
  const alpha = Float32Array.from(
    { length: c },
    (_, j) => (j === 0 ? 1 : j === 1 ? 0.05 : 0.5 + 2 * Math.abs(next())),
  );
  return { x, dy, alpha, shape: [2, t, c] as [number, number, number] };
}

/** y, dx and dα through `snake` on the current backend. */
function run(
  x: Float32Array,
  dy: Float32Array,
  alpha: Float32Array,
  shape: [number, number, number],
) {
  return tf.tidy(() => {
    const xt = tf.tensor3d(x, shape);
    const at = tf.tensor1d(alpha);
    const y = snake(xt, at);
    const [dx, da] = tf.grads((a: tf.Tensor, b: tf.Tensor) => snake(a, b))(
      [xt, at],
      tf.tensor3d(dy, shape),
    );
    return {
      y: y.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      da: da.dataSync() as Float32Array,
    };
  });
}

/** The closed forms in float64. */
function exact(x: Float32Array, dy: Float32Array, alpha: Float32Array) {
  const c = alpha.length;
  const y = new Float64Array(x.length), dx = new Float64Array(x.length), da = new Float64Array(c);
  const daAbs = new Float64Array(c); // Σ|term|: the scale of dα's rounding error
  x.forEach((v, i) => {
    const a = alpha[i % c], d = Math.fround(a + 1e-9), s = Math.sin(a * v);
    y[i] = v + (s * s) / d;
    dx[i] = dy[i] * (1 + (Math.sin(2 * a * v) * a) / d);
    const term = dy[i] * ((v * Math.sin(2 * a * v)) / d - (s * s) / (d * d));
    da[i % c] += term;
    daAbs[i % c] += Math.abs(term);
  });
  return { y, dx, da, daAbs };
}

Deno.test("sinCos matches Math.sin/Math.cos to 1e-9 over ±2000 rad", () => {
  const out = new Float64Array(2);
  for (let i = -200000; i <= 200000; i++) {
    const t = i * 0.0100003;
    sinCos(t, out);
    assert.ok(Math.abs(out[0] - Math.sin(t)) < 1e-9, `sin(${t})`);
    assert.ok(Math.abs(out[1] - Math.cos(t)) < 1e-9, `cos(${t})`);
  }
});

Deno.test("fused Snake: value and gradients match the closed form and the op-by-op form", async () => {
  try {
    // C not a multiple of 4 takes the float64 TypeScript loop, else the float32 SIMD loop.
    for (const [t, c] of [[1, 1], [5, 3], [257, 8], [3, 4], [64, 16]] as const) {
      const { x, dy, alpha, shape } = inputs(t, c, 7 * t + c);
      await initBackend("wasm");
      assert.equal(kernelStatus().patched, true);
      const fused = run(x, dy, alpha, shape);
      await initBackend("wasm", { patched: false });
      const ops = run(x, dy, alpha, shape);
      const want = exact(x, dy, alpha);
      const close = (
        got: Float32Array,
        w: Float64Array,
        tol: (i: number) => number,
        what: string,
      ) =>
        w.forEach((v, i) =>
          assert.ok(Math.abs(got[i] - v) <= tol(i), `${what}[${i}]: ${got[i]} vs ${v}`)
        );
      const simd = c % 4 === 0;
      // float64 inside: one rounding to float32. float32 inside: αx is rounded (|αx| ≤ 18 here),
      // which moves sin² by up to ~1e-6.
      const rel = simd ? 4e-6 : 2e-7;
      close(fused.y, want.y, (i) => rel * (1 + Math.abs(want.y[i])), `[${t},${c}] fused y`);
      close(fused.dx, want.dx, (i) => rel * (1 + Math.abs(want.dx[i])), `[${t},${c}] fused dx`);
      // dα sums 2t terms, in float64 (one rounding) or in float32 in row order.
      const daTol = (
        j: number,
      ) => (simd ? 4e-6 * want.daAbs[j] : 2e-7 * (1 + Math.abs(want.da[j])));
      close(fused.da, want.da, daTol, `[${t},${c}] fused dα`);
      // The op-by-op form rounds to float32 between ops: the same function, as loose as SIMD.
      close(ops.y, want.y, (i) => 4e-6 * (1 + Math.abs(want.y[i])), `[${t},${c}] ops y`);
      close(ops.da, want.da, (j) => 4e-6 * want.daAbs[j] + 1e-7, `[${t},${c}] ops dα`);
    }
  } finally {
    await initBackend("wasm");
  }
});

Deno.test("fused Snake's gradients agree with central finite differences in float64", () => {
  const { x, dy, alpha, shape } = inputs(9, 4, 3);
  const got = run(x, dy, alpha, shape);
  const c = alpha.length;
  // L = Σ dy·y; ∂L/∂x_i and ∂L/∂α_j by central differences of the float64 closed form.
  const loss = (xs: Float64Array, as: Float64Array) => {
    let l = 0;
    xs.forEach((v, i) => {
      const a = as[i % c], s = Math.sin(a * v);
      l += dy[i] * (v + (s * s) / (a + 1e-9));
    });
    return l;
  };
  const xs = Float64Array.from(x), as = Float64Array.from(alpha), h = 1e-6;
  for (const i of [0, 1, 5, 17, 40, x.length - 1]) {
    const p = xs.slice(), m = xs.slice();
    p[i] += h, m[i] -= h;
    const fd = (loss(p, as) - loss(m, as)) / (2 * h);
    assert.ok(
      Math.abs(got.dx[i] - fd) < 1e-5 * (1 + Math.abs(fd)),
      `dx[${i}] ${got.dx[i]} vs ${fd}`,
    );
  }
  for (let j = 0; j < c; j++) {
    const p = as.slice(), m = as.slice();
    p[j] += h, m[j] -= h;
    const fd = (loss(xs, p) - loss(xs, m)) / (2 * h);
    assert.ok(
      Math.abs(got.da[j] - fd) < 1e-5 * (1 + Math.abs(fd)),
      `dα[${j}] ${got.da[j]} vs ${fd}`,
    );
  }
});

Deno.test("fused Snake refuses an α that does not match the last axis", () => {
  assert.throws(
    () => snake(tf.zeros([1, 4, 3]), tf.ones([4])),
    /alpha has shape \[4\], expected \[3\]/,
  );
});

Deno.test("on the patched wasm backend snake runs the fused kernels, not Sin", async () => {
  const x = tf.randomNormal([2, 16, 4]);
  const a = tf.ones([4]);
  const forward = await tf.profile(() => snake(x, a));
  // (customGrad records itself as one more, unnamed kernel.)
  assert.deepEqual(forward.kernelNames.filter((k) => k !== ""), ["QuantlabSnake"]);
  const backward = await tf.profile(() =>
    tf.grads((p: tf.Tensor, q: tf.Tensor) => snake(p, q))([x, a])
  );
  assert.ok(backward.kernelNames.includes("QuantlabSnakeGrad"), backward.kernelNames.join(","));
  assert.ok(!backward.kernelNames.includes("Sin") && !backward.kernelNames.includes("Cos"));
  tf.dispose([x, a]);
});
