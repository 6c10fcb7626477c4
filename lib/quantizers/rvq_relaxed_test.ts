/**
 * The RVQ's relaxed passes (soft-to-hard's `soft`, Gumbel's `gumbel`, stage by stage on
 * detached residuals) and its per-stage codebook reparameterisation, which notebook 11's speech
 * league needs: checked against a plain-JS re-implementation and finite differences.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { Rng } from "../random.ts";
import { residualVq, RVQ_DEFAULTS, type RvqConfig } from "./mod.ts";

await initBackend();

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

const D = 2, K = 4;
/** Two stages of four 2-D codewords, fixed. */
const BOOKS = [
  [[1, 0], [0, 1], [-1, 0], [0.2, -1.5]],
  [[0.3, 0.1], [-0.2, 0.25], [0.05, -0.3], [-0.35, -0.1]],
];

function rvq(lookup: "euclidean" | "cosine", extra: Partial<RvqConfig> = {}) {
  const q = residualVq(
    { ...RVQ_DEFAULTS, stages: 2, bitsPerStage: 2, lookup, ...extra },
    D,
    new Rng(3),
  );
  q.variables.slice(0, 2).forEach((v, s) => {
    if (v.shape[0] === K) v.assign(tf.tensor2d(BOOKS[s]));
  });
  return q;
}

const unit = (v: number[]) => {
  const n = Math.max(Math.hypot(...v), 1e-12);
  return v.map((x) => x / n);
};
/** The distance a stage relaxes on: squared Euclidean, or between unit vectors (cosine lookup). */
function dist(r: number[], c: number[], cosine: boolean): number {
  const [a, b] = cosine ? [unit(r), unit(c)] : [r, c];
  return a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0);
}
function softmax(ls: number[]): number[] {
  const m = Math.max(...ls), e = ls.map((l) => Math.exp(l - m)), s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
}
/** ⟨g, π(r)·C⟩ of one stage. */
function stageValue(r: number[], g: number[], C: number[][], tau: number, cosine: boolean) {
  const p = softmax(C.map((c) => -dist(r, c, cosine) / tau));
  return p.reduce((s, pk, k) => s + pk * (g[0] * C[k][0] + g[1] * C[k][1]), 0);
}
/** Σ_s ∇_r ⟨g, π_s(r)·C_s⟩ at each stage's residual r_s, by central finite differences. */
function numericGradient(
  residuals: number[][],
  g: number[],
  tau: number,
  cosine: boolean,
): number[] {
  const out = [0, 0];
  residuals.forEach((r, s) => {
    for (let j = 0; j < D; j++) {
      const up = [...r], down = [...r], h = 1e-5;
      up[j] += h;
      down[j] -= h;
      out[j] += (stageValue(up, g, BOOKS[s], tau, cosine) -
        stageValue(down, g, BOOKS[s], tau, cosine)) / (2 * h);
    }
  });
  return out;
}

const frames = [[0.7, 0.45], [-0.4, -0.9], [0.1, 1.3]];
const gs = [[1, -0.5], [0.3, 2], [-1.2, 0.4]];

for (const lookup of ["euclidean", "cosine"] as const) {
  const cosine = lookup === "cosine";
  Deno.test(`RVQ soft (${lookup} lookup): sharpens to the hard Q(z) as τ → 0; stage values chain on detached residuals; gradient by finite differences`, () => {
    const q = rvq(lookup);
    const z = tf.tensor2d(frames);
    close(q.soft!(z, 1e-4).dataSync(), q.quantize(z).q.dataSync(), 1e-4, "τ → 0");
    const tau = 0.7;
    const value = q.soft!(z, tau).dataSync();
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(q.soft!(x as tf.Tensor2D, tau), gs)))(z)
      .dataSync();
    frames.forEach((f, n) => {
      // Plain JS: r₁ = z, q₁ = π₁·C₁, r₂ = r₁ − q₁, q₂ = π₂·C₂.
      const residuals: number[][] = [f];
      const sum = [0, 0];
      BOOKS.forEach((C, s) => {
        const r = residuals[s];
        const p = softmax(C.map((c) => -dist(r, c, cosine) / tau));
        const qs = [0, 1].map((j) => p.reduce((t, pk, k) => t + pk * C[k][j], 0));
        sum[0] += qs[0];
        sum[1] += qs[1];
        residuals.push([r[0] - qs[0], r[1] - qs[1]]);
      });
      close(value.subarray(2 * n, 2 * n + 2), sum, 1e-5, `value frame ${n}`);
      close(
        grad.subarray(2 * n, 2 * n + 2),
        numericGradient(residuals.slice(0, 2), gs[n], tau, cosine),
        2e-3,
        `gradient frame ${n}`,
      );
    });
    q.dispose();
  });

  Deno.test(`RVQ Gumbel ST (${lookup} lookup): one sampled codeword per stage, stage 1 sampled by softmax(−d/τ); gradient that of Σ_s π_s(r_s)·C_s at the sampled residuals`, () => {
    const q = rvq(lookup);
    const tau = 0.5;
    // Sampling: 3000 copies of one frame; the forward is C₁[k₁] + C₂[k₂] for some pair.
    const n = 3000, f = frames[0];
    const out = q.gumbel!(tf.tensor2d(Array(n).fill(f).flat(), [n, D]), tau, new Rng(1))
      .dataSync();
    const pairOf = (v: ArrayLike<number>) => {
      for (let a = 0; a < K; a++) {
        for (let b = 0; b < K; b++) {
          const s = [0, 1].map((j) => BOOKS[0][a][j] + BOOKS[1][b][j]);
          if (Math.abs(s[0] - v[0]) < 1e-5 && Math.abs(s[1] - v[1]) < 1e-5) return [a, b];
        }
      }
      return null;
    };
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const pair = pairOf(out.subarray(2 * i, 2 * i + 2));
      assert.ok(pair, `row ${i} is a sum of one codeword per stage`);
      counts[pair[0]]++;
    }
    softmax(BOOKS[0].map((c) => -dist(f, c, cosine) / tau)).forEach((p, k) =>
      assert.ok(
        Math.abs(counts[k] / n - p) < 0.035,
        `stage 1 codeword ${k}: ${counts[k] / n} vs ${p}`,
      )
    );
    // Gradient: the same seed samples the same codewords in the forward and the gradient pass.
    const z = tf.tensor2d(frames);
    const value = q.gumbel!(z, tau, new Rng(7)).dataSync();
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(q.gumbel!(x as tf.Tensor2D, tau, new Rng(7)), gs))
    )(z).dataSync();
    frames.forEach((fr, i) => {
      const [a] = pairOf(value.subarray(2 * i, 2 * i + 2))!;
      const residuals = [fr, [fr[0] - BOOKS[0][a][0], fr[1] - BOOKS[0][a][1]]];
      close(
        grad.subarray(2 * i, 2 * i + 2),
        numericGradient(residuals, gs[i], tau, cosine),
        2e-3,
        `gradient frame ${i}`,
      );
    });
    q.dispose();
  });
}

Deno.test("RVQ with reparam: one map per stage, trained (SimVQ: not C̃); codes picked on the mapped codewords; decodeCodes inverts quantize", () => {
  for (const reparam of ["affine", "linear"] as const) {
    const q = residualVq(
      { ...RVQ_DEFAULTS, stages: 3, bitsPerStage: 3, reparam, reparamLrScale: 2 },
      D,
      new Rng(1),
    );
    // Affine: C̃, â, b̂ per stage; linear: Ŵ per stage.
    assert.equal(q.variables.length, reparam === "affine" ? 9 : 3, reparam);
    const maps = q.variables.filter((v) => v.shape[0] !== 8);
    for (const v of maps) v.assign(tf.tensor(new Rng(9).normals(v.size, 0.3), v.shape));
    const z = tf.tensor2d(new Rng(2).normals(20 * D), [20, D]);
    const hard = q.quantize(z);
    close(q.decodeCodes(hard.codes).dataSync(), hard.q.dataSync(), 1e-6, `${reparam} decode`);
    // The map moved the codewords: the same RVQ without reparam quantizes differently.
    const plain = residualVq({ ...RVQ_DEFAULTS, stages: 3, bitsPerStage: 3 }, D, new Rng(1));
    assert.notDeepEqual(
      Array.from(plain.quantize(z).q.dataSync()),
      Array.from(hard.q.dataSync()),
      reparam,
    );
    // A gradient step reaches every map.
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.square(q.quantize(z).q)) as tf.Scalar,
      q.variables,
    );
    for (const v of maps) assert.ok(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0, v.name);
    q.dispose();
    plain.dispose();
  }
});

Deno.test("RVQ config: reparam, soft-to-hard and Gumbel accepted; FSQ still refuses them", () => {
  const c = resolveConfig({
    quantizer: { kind: "rvq", reparam: "linear", lookup: "cosine" },
    passer: { kind: "gumbel" },
  });
  assert.equal(c.quantizer.kind === "rvq" && c.quantizer.reparam, "linear");
  assert.equal("reparam" in resolveConfig({ quantizer: { kind: "rvq" } }).quantizer, false);
  resolveConfig({ quantizer: { kind: "rvq" }, passer: { kind: "soft-to-hard" } });
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "fsq", reparam: "affine" } as never }),
    /quantizer\.reparam/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "rvq", reparam: "affine", learning: "ema" } }),
    /quantizer\.learning/,
  );
  assert.throws(
    () => resolveConfig({ passer: { kind: "soft-to-hard" }, quantizer: { kind: "fsq" } }),
    /soft-to-hard/,
  );
});
