import assert from "node:assert/strict";
import { initBackend, tf } from "./backend.ts";
import {
  attachedGradient,
  mste,
  naAttached,
  naDetached,
  rotationTrick,
  ste,
  temperature,
} from "./passers.ts";
import type { HardQuantization, Quantizer } from "./quantizers/mod.ts";
import { Rng } from "./random.ts";
import { resolveConfig } from "./config.ts";

await initBackend();

const rng = new Rng(11);
const z = tf.tensor2d(rng.normals(24, 1.5), [6, 4]);
// A fixed "quantized" value: z rounded to a 0.5 grid.
const q = tf.round(tf.mul(z, 2)).div(2) as tf.Tensor2D;
const g = tf.tensor2d(rng.normals(24), [6, 4]);
const hard: HardQuantization = { q, codes: tf.zeros([6, 1], "int32"), losses: {} };
const ctx = (seed: number) => ({
  quantizer: {} as Quantizer,
  rng: new Rng(seed),
  step: 0,
  totalSteps: 1,
});

/** Gradient of ⟨g, passer(z)⟩ with respect to z. */
function gradOf(pass: (z: tf.Tensor2D) => tf.Tensor2D): Float32Array {
  return tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(pass(zz as tf.Tensor2D), g)))(z)
    .dataSync() as Float32Array;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test("STE: forward is Q(z) exactly, gradient is the identity", () => {
  assert.deepEqual(ste.forward(z, hard, ctx(0)).dataSync(), q.dataSync());
  close(gradOf((zz) => ste.forward(zz, hard, ctx(0))), g.dataSync(), 0, "grad");
});

for (const mode of ["tensor", "channel"] as const) {
  Deno.test(`mSTE (σ per ${mode}): forward is Q(z) exactly`, () => {
    assert.deepEqual(mste(mode).forward(z, hard, ctx(0)).dataSync(), q.dataSync());
  });

  Deno.test(`mSTE (σ per ${mode}): gradient matches g + ⟨g,n⟩(z−z̄)/(Nσ²) and finite differences`, () => {
    const zData = z.dataSync(), qData = q.dataSync(), gData = g.dataSync();
    const [rows, cols] = z.shape;
    // The closed form, computed independently in plain JS.
    const expected = new Float64Array(zData.length);
    const groups = mode === "tensor"
      ? [[...Array(zData.length).keys()]]
      : [...Array(cols).keys()].map((c) => [...Array(rows).keys()].map((r) => r * cols + c));
    for (const idx of groups) {
      const n = idx.length;
      const mean = idx.reduce((s, i) => s + zData[i], 0) / n;
      const variance = idx.reduce((s, i) => s + (zData[i] - mean) ** 2, 0) / n;
      const inner = idx.reduce((s, i) => s + gData[i] * (qData[i] - zData[i]), 0);
      for (const i of idx) expected[i] = gData[i] + inner * (zData[i] - mean) / (n * variance);
    }
    // The passer's gradient, with the hard value held fixed (it does not depend on z's gradient).
    const pass = mste(mode);
    const got = tf.grad((zz: tf.Tensor) => {
      const hz = { ...hard, q: q };
      return tf.sum(tf.mul(pass.forward(zz as tf.Tensor2D, hz, ctx(0)), g));
    })(z).dataSync();
    close(got, expected, 1e-4, "closed form");
    // Finite differences of h(z) = ⟨g, z + c·σ(z)⟩ with c = n/σ frozen at z: the mSTE definition.
    const sigma = (v: Float64Array, idx: number[]) => {
      const m = idx.reduce((s, i) => s + v[i], 0) / idx.length;
      return Math.sqrt(idx.reduce((s, i) => s + (v[i] - m) ** 2, 0) / idx.length);
    };
    const z64 = Float64Array.from(zData);
    const c = new Float64Array(z64.length);
    for (const idx of groups) {
      const s = sigma(z64, idx);
      for (const i of idx) c[i] = (qData[i] - zData[i]) / s;
    }
    const h = (v: Float64Array) => {
      let total = 0;
      for (const idx of groups) {
        const s = sigma(v, idx);
        for (const i of idx) total += gData[i] * (v[i] + c[i] * s);
      }
      return total;
    };
    const eps = 1e-6;
    const numeric = Array.from(z64, (_, i) => {
      const up = Float64Array.from(z64), down = Float64Array.from(z64);
      up[i] += eps;
      down[i] -= eps;
      return (h(up) - h(down)) / (2 * eps);
    });
    close(got, numeric, 1e-3, "finite differences");
  });
}

Deno.test("NA attached and detached: same forward for the same noise, only the gradient differs", () => {
  const attached = naAttached("tensor"), detached = naDetached;
  const fa = attached.forward(z, hard, ctx(5)).dataSync(),
    fd = detached.forward(z, hard, ctx(5)).dataSync();
  assert.deepEqual(fa, fd);
  // The noise has the power of the real quantization noise: s = √12·rms(n), u ~ U(−½,½).
  const noise = Array.from(fa, (v, i) => v - z.dataSync()[i]);
  const bound = Math.sqrt(12) * Math.sqrt(tf.mean(tf.squaredDifference(q, z)).dataSync()[0]) / 2;
  assert.ok(noise.every((v) => Math.abs(v) <= bound + 1e-6));
  assert.notDeepEqual(fa, attached.forward(z, hard, ctx(6)).dataSync(), "fresh noise per rng");
  const gd = gradOf((zz) => detached.forward(zz, hard, ctx(5)));
  const ga = gradOf((zz) => attached.forward(zz, hard, ctx(5)));
  close(gd, g.dataSync(), 0, "detached is the identity");
  const expected = attachedGradient(g, z, tf.tensor2d(noise, z.shape), "tensor").dataSync();
  close(ga, expected, 1e-4, "attached");
  assert.ok(
    ga.some((v, i) => Math.abs(v - gd[i]) > 1e-3),
    "attached gradient differs from detached",
  );
});

Deno.test("soft-to-hard temperature anneals exponentially from τ_start to τ_end", () => {
  const cfg = resolveConfig({ passer: { kind: "soft-to-hard", tauStart: 1, tauEnd: 0.01 } }).passer;
  assert.equal(temperature(cfg, 0, 101), 1);
  assert.ok(Math.abs(temperature(cfg, 50, 101) - 0.1) < 1e-12);
  assert.ok(Math.abs(temperature(cfg, 100, 101) - 0.01) < 1e-12);
});

Deno.test("rotation trick: forward is Q(z) exactly; gradient is λRᵀg in closed form and by finite differences", () => {
  assert.deepEqual(rotationTrick.forward(z, hard, ctx(0)).dataSync(), q.dataSync());
  const got = gradOf((zz) => rotationTrick.forward(zz, hard, ctx(0)));
  const [rows, cols] = z.shape;
  const zData = z.dataSync(), qData = q.dataSync(), gData = g.dataSync();
  // Per frame, in plain JS: the matrix M = λR = λ(I − 2rrᵀ + 2q̂ẑᵀ), so that M ẑ‖z‖ = q.
  const frameMatrix = (row: number) => {
    const zr = Array.from({ length: cols }, (_, j) => zData[row * cols + j]);
    const qr = Array.from({ length: cols }, (_, j) => qData[row * cols + j]);
    const norm = (v: number[]) => Math.hypot(...v);
    const zh = zr.map((v) => v / norm(zr)), qh = qr.map((v) => v / norm(qr));
    const s = zh.map((v, j) => v + qh[j]);
    const r = s.map((v) => v / norm(s));
    const lambda = norm(qr) / norm(zr);
    return Array.from(
      { length: cols },
      (_, i) =>
        Array.from(
          { length: cols },
          (_, j) => lambda * ((i === j ? 1 : 0) - 2 * r[i] * r[j] + 2 * qh[i] * zh[j]),
        ),
    );
  };
  const closed = new Float64Array(zData.length);
  const numeric = new Float64Array(zData.length);
  for (let row = 0; row < rows; row++) {
    const m = frameMatrix(row);
    const zr = Array.from({ length: cols }, (_, j) => zData[row * cols + j]);
    // The surrogate maps z's frame onto its codeword.
    for (let i = 0; i < cols; i++) {
      const mz = m[i].reduce((acc, v, j) => acc + v * zr[j], 0);
      assert.ok(Math.abs(mz - qData[row * cols + i]) < 1e-5, `λR z = q at frame ${row}`);
    }
    // Closed form Mᵀg, and finite differences of h(v) = ⟨g, M v⟩ with M frozen at z.
    const h = (v: number[]) =>
      m.reduce(
        (acc, mi, i) => acc + gData[row * cols + i] * mi.reduce((a, x, j) => a + x * v[j], 0),
        0,
      );
    for (let j = 0; j < cols; j++) {
      closed[row * cols + j] = m.reduce((acc, mi, i) => acc + mi[j] * gData[row * cols + i], 0);
      const eps = 1e-6;
      const up = [...zr], down = [...zr];
      up[j] += eps;
      down[j] -= eps;
      numeric[row * cols + j] = (h(up) - h(down)) / (2 * eps);
    }
  }
  close(got, closed, 1e-4, "closed form");
  close(got, numeric, 1e-3, "finite differences");
  // Unlike STE, the gradient is not g: the trick rotates it.
  assert.ok(got.some((v, i) => Math.abs(v - gData[i]) > 1e-3), "differs from STE");
});

Deno.test("rotation trick: a gradient along q̂ arrives along ẑ scaled by ‖q‖/‖z‖; a zero frame passes g", () => {
  const zz = tf.tensor2d([[3, 0], [0, 0]]);
  const qq = tf.tensor2d([[0, 2], [1, 1]]);
  const gg = tf.tensor2d([[0, 1], [0.5, -2]]);
  const h2: HardQuantization = { q: qq, codes: tf.zeros([2, 1], "int32"), losses: {} };
  const got = tf.grad((v: tf.Tensor) =>
    tf.sum(tf.mul(rotationTrick.forward(v as tf.Tensor2D, h2, ctx(0)), gg))
  )(zz).dataSync();
  // Frame 0: ẑ = (1,0), q̂ = (0,1), λ = 2/3; g = q̂ → λẑ = (2/3, 0).
  close(Array.from(got.slice(0, 2)), [2 / 3, 0], 1e-6, "frame 0");
  // Frame 1: z = 0, nothing to rotate from: g unchanged.
  close(Array.from(got.slice(2)), [0.5, -2], 0, "zero frame");
});
