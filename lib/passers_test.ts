import assert from "node:assert/strict";
import { initBackend, tf } from "./backend.ts";
import {
  attachedGradient,
  buildPasser,
  diveq,
  gumbel,
  mste,
  naAttached,
  naDetached,
  rotationTrick,
  ste,
  temperature,
} from "./passers.ts";
import { type HardQuantization, type Quantizer, vectorQuantizer } from "./quantizers/mod.ts";
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

/** Per-row dot product and norm of plain arrays. */
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const rowOf = (data: ArrayLike<number>, row: number, cols: number) =>
  Array.from({ length: cols }, (_, j) => data[row * cols + j]);

Deno.test("DiVeQ: forward is z + u·‖q − z‖ (≈ Q(z)); gradients to z and q match g − d̂⟨u,g⟩, d̂⟨u,g⟩ and finite differences", () => {
  const variance = 5e-3;
  const pass = diveq(variance);
  const [rows, cols] = z.shape;
  const zData = z.dataSync(), qData = q.dataSync(), gData = g.dataSync();
  // The direction noise the passer draws from the same seeded stream.
  const eps = new Rng(7).normals(z.size, Math.sqrt(variance));
  const forward = pass.forward(z, hard, ctx(7)).dataSync();
  const [gz, gq] = tf.grads((zz: tf.Tensor, qq: tf.Tensor) =>
    tf.sum(tf.mul(pass.forward(zz as tf.Tensor2D, { ...hard, q: qq as tf.Tensor2D }, ctx(7)), g))
  )([z, q]).map((t) => t.dataSync());
  for (let row = 0; row < rows; row++) {
    const zr = rowOf(zData, row, cols), qr = rowOf(qData, row, cols), gr = rowOf(gData, row, cols);
    const d = qr.map((v, j) => v - zr[j]);
    const dn = Math.hypot(...d);
    const noisy = d.map((v, j) => v + eps[row * cols + j]);
    const u = noisy.map((v) => v / Math.hypot(...noisy));
    // Forward: z + u·‖d‖, within ‖d‖·‖u − d̂‖ of Q(z).
    const expected = zr.map((v, j) => v + u[j] * dn);
    close(rowOf(forward, row, cols), expected, 1e-5, `forward frame ${row}`);
    if (dn === 0) continue;
    const dh = d.map((v) => v / dn);
    const ug = dot(u, gr);
    close(rowOf(gz, row, cols), gr.map((v, j) => v - dh[j] * ug), 1e-4, `dz frame ${row}`);
    close(rowOf(gq, row, cols), dh.map((v) => v * ug), 1e-4, `dq frame ${row}`);
    // Finite differences of h(z, q) = ⟨g, z + u‖q − z‖⟩ with u frozen (the stop-gradient).
    const h = (zv: number[], qv: number[]) =>
      dot(gr, zv.map((v, j) => v + u[j] * Math.hypot(...qv.map((x, i) => x - zv[i]))));
    for (let j = 0; j < cols; j++) {
      const step = 1e-6;
      const zu = [...zr], zd = [...zr], qu = [...qr], qd = [...qr];
      zu[j] += step;
      zd[j] -= step;
      qu[j] += step;
      qd[j] -= step;
      close(
        [gz[row * cols + j]],
        [(h(zu, qr) - h(zd, qr)) / (2 * step)],
        1e-3,
        `fd dz ${row},${j}`,
      );
      close(
        [gq[row * cols + j]],
        [(h(zr, qu) - h(zr, qd)) / (2 * step)],
        1e-3,
        `fd dq ${row},${j}`,
      );
    }
  }
  // Unlike STE, the gradient to z is not g, and Q(z) receives one.
  assert.ok(Array.from(gz).some((v, i) => Math.abs(v - gData[i]) > 1e-3), "differs from STE");
  assert.ok(Array.from(gq).some((v) => Math.abs(v) > 1e-3), "the codeword gets a gradient");
  // A frame already on its codeword passes g to z and nothing to q, without NaN.
  const on: HardQuantization = { ...hard, q: z };
  const [g0z, g0q] = tf.grads((zz: tf.Tensor, qq: tf.Tensor) =>
    tf.sum(tf.mul(pass.forward(zz as tf.Tensor2D, { ...on, q: qq as tf.Tensor2D }, ctx(7)), g))
  )([z, tf.clone(z)]).map((t) => t.dataSync());
  close(g0z, gData, 1e-6, "exact frame: dz");
  close(g0q, new Float32Array(z.size), 0, "exact frame: dq");
});

Deno.test("DiVeQ and the synchronized update resolve from config; variance only for diveq; sync needs a loss-learned codebook", () => {
  const c = resolveConfig({ passer: { kind: "diveq" } });
  assert.equal(c.passer.variance, 5e-3);
  assert.equal("sync" in c.passer, false);
  assert.throws(() => resolveConfig({ passer: { kind: "ste", variance: 1 } as never }), /variance/);
  assert.throws(
    () => resolveConfig({ passer: { kind: "diveq", variance: 0 } }),
    /passer\.variance/,
  );
  assert.throws(
    () =>
      resolveConfig({
        passer: { kind: "ste", sync: 0.2 },
        quantizer: { kind: "vq", learning: "ema" },
      }),
    /passer\.sync/,
  );
  assert.throws(
    () => resolveConfig({ passer: { kind: "gumbel" }, quantizer: { kind: "fsq" } }),
    /gumbel/,
  );
  assert.equal(resolveConfig({ passer: { kind: "ste", sync: 0.2 } }).passer.sync, 0.2);
});

/** A VQ of 4 codewords in 2-D with known codewords, for the codebook-aware passers. */
function smallVq() {
  const vq = vectorQuantizer(
    { kind: "vq", bits: 2, learning: "loss", init: "random", emaDecay: 0.99 },
    2,
    new Rng(3),
  );
  const book = vq.variables[0];
  book.assign(tf.tensor2d([[1, 0], [0, 1], [-1, 0], [0.2, -1.5]]));
  return { vq, book };
}

Deno.test("synchronized update: forward unchanged; the codewords get v·g, z still gets g", () => {
  const { vq, book } = smallVq();
  const zz = tf.tensor2d([[0.9, 0.2], [-0.4, 0.8], [0.1, -1]]);
  const gg = tf.tensor2d([[1, -2], [0.5, 0.25], [-1, 3]]);
  const v = 0.2;
  const pass = buildPasser({ ...resolveConfig({ passer: { kind: "ste", sync: v } }).passer });
  const c = { ...ctx(0), quantizer: vq };
  const plain = ste.forward(zz, vq.quantize(zz), c).dataSync();
  assert.deepEqual(pass.forward(zz, vq.quantize(zz), c).dataSync(), plain);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(pass.forward(zz, vq.quantize(zz), c), gg)),
    [book],
  );
  const codes = Array.from(vq.quantize(zz).codes.dataSync());
  const expected = new Float64Array(8);
  codes.forEach((k, row) => {
    for (let j = 0; j < 2; j++) expected[k * 2 + j] += v * gg.dataSync()[row * 2 + j];
  });
  close(grads[book.name].dataSync(), expected, 1e-6, "codebook gradient");
  const gz = tf.grad((x: tf.Tensor) =>
    tf.sum(tf.mul(pass.forward(x as tf.Tensor2D, vq.quantize(x as tf.Tensor2D), c), gg))
  )(zz);
  close(gz.dataSync(), gg.dataSync(), 0, "z gradient");
});

Deno.test("Gumbel straight-through: samples follow softmax(−‖z−c‖²/τ); the gradient is that of π·C in closed form and by finite differences", () => {
  const { vq } = smallVq();
  const C = [[1, 0], [0, 1], [-1, 0], [0.2, -1.5]];
  const tau = 0.5;
  const pass = gumbel({ tauStart: tau, tauEnd: tau });
  const c = (seed: number) => ({ ...ctx(seed), quantizer: vq, totalSteps: 10 });
  const frame = [0.3, 0.4];
  const logits = C.map((ck) => -((frame[0] - ck[0]) ** 2 + (frame[1] - ck[1]) ** 2) / tau);
  const pi = (ls: number[]) => {
    const m = Math.max(...ls), e = ls.map((l) => Math.exp(l - m)), s = e.reduce((a, b) => a + b);
    return e.map((v) => v / s);
  };
  // Sampling: 4000 copies of one frame, every row a codeword, frequencies within 0.03 of π.
  const n = 4000;
  const zs = tf.tensor2d(Array.from({ length: n }, () => frame).flat(), [n, 2]);
  const out = pass.forward(zs, vq.quantize(zs), c(1)).dataSync();
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const k = C.findIndex((ck) =>
      Math.abs(ck[0] - out[2 * i]) < 1e-5 && Math.abs(ck[1] - out[2 * i + 1]) < 1e-5
    );
    assert.ok(k >= 0, `row ${i} is a codeword`);
    counts[k]++;
  }
  pi(logits).forEach((p, k) =>
    assert.ok(Math.abs(counts[k] / n - p) < 0.03, `codeword ${k}: ${counts[k] / n} vs ${p}`)
  );
  // Gradient to z: that of ⟨g, π(z)·C⟩, the sampled codeword contributing none.
  const zz = tf.tensor2d([frame, [-0.5, -0.7]]);
  const gg = tf.tensor2d([[1, -0.5], [0.3, 2]]);
  const got = tf.grad((x: tf.Tensor) =>
    tf.sum(tf.mul(pass.forward(x as tf.Tensor2D, vq.quantize(x as tf.Tensor2D), c(2)), gg))
  )(zz).dataSync();
  const h = (zv: number[], gv: number[]) => {
    const p = pi(C.map((ck) => -((zv[0] - ck[0]) ** 2 + (zv[1] - ck[1]) ** 2) / tau));
    return p.reduce((s, pk, k) => s + pk * dot(C[k], gv), 0);
  };
  for (let row = 0; row < 2; row++) {
    const zr = rowOf(zz.dataSync(), row, 2), gr = rowOf(gg.dataSync(), row, 2);
    const p = pi(C.map((ck) => -((zr[0] - ck[0]) ** 2 + (zr[1] - ck[1]) ** 2) / tau));
    const cbar = [0, 1].map((j) => p.reduce((s, pk, k) => s + pk * C[k][j], 0));
    // ∂⟨g, πC⟩/∂z = Σ_k π_k (⟨g,c_k⟩ − ⟨g,c̄⟩)·(−2(z − c_k)/τ)
    const closed = [0, 1].map((j) =>
      p.reduce(
        (s, pk, k) => s + pk * (dot(gr, C[k]) - dot(gr, cbar)) * (-2 * (zr[j] - C[k][j]) / tau),
        0,
      )
    );
    close(rowOf(got, row, 2), closed, 1e-4, `closed form frame ${row}`);
    const numeric = [0, 1].map((j) => {
      const up = [...zr], down = [...zr], step = 1e-6;
      up[j] += step;
      down[j] -= step;
      return (h(up, gr) - h(down, gr)) / (2 * step);
    });
    close(rowOf(got, row, 2), numeric, 1e-3, `finite differences frame ${row}`);
  }
});
