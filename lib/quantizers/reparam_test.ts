import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { Rng } from "../random.ts";
import { codebookReparam } from "./reparam.ts";
import { vectorQuantizer, VQ_DEFAULTS } from "./mod.ts";

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

const K = 5, D = 3, s = 10;
const rng = new Rng(4);
const base = tf.variable(tf.tensor2d(rng.normals(K * D), [K, D]));
const G = tf.tensor2d(rng.normals(K * D), [K, D]);
const b = base.dataSync(), gv = G.dataSync();

/** Central finite differences of f over every entry of `v`, f reading v's values. */
function numeric(v: tf.Variable, f: () => number): number[] {
  const x = Float32Array.from(v.dataSync());
  return Array.from(x, (_, i) => {
    const step = 1e-2;
    const at = (d: number) => {
      const y = Float32Array.from(x);
      y[i] += d;
      v.assign(tf.tensor(y, v.shape));
      return f();
    };
    const r = (at(step) - at(-step)) / (2 * step);
    v.assign(tf.tensor(x, v.shape));
    return r;
  });
}

Deno.test("affine reparam (Huh et al.): C = C̃⊙(1 + s·â) + s·b̂; gradients in closed form and by finite differences", () => {
  const r = codebookReparam("affine", D, s);
  const [a, sh] = r.variables;
  a.assign(tf.tensor2d(rng.normals(D, 0.05), [1, D]));
  sh.assign(tf.tensor2d(rng.normals(D, 0.05), [1, D]));
  const av = a.dataSync(), shv = sh.dataSync();
  const c = r.apply(base).dataSync();
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < D; j++) {
      const i = k * D + j;
      assert.ok(Math.abs(c[i] - (b[i] * (1 + s * av[j]) + s * shv[j])) < 1e-5);
    }
  }
  const loss = () => tf.sum(tf.mul(r.apply(base), G)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, [base, a, sh]);
  const gA = Array.from(
    { length: D },
    (_, j) => s * [...Array(K).keys()].reduce((t, k) => t + gv[k * D + j] * b[k * D + j], 0),
  );
  const gB = Array.from(
    { length: D },
    (_, j) => s * [...Array(K).keys()].reduce((t, k) => t + gv[k * D + j], 0),
  );
  const gC = Array.from(gv, (g, i) => g * (1 + s * av[i % D]));
  close(grads[a.name].dataSync(), gA, 1e-4, "dâ closed form");
  close(grads[sh.name].dataSync(), gB, 1e-4, "db̂ closed form");
  close(grads[base.name].dataSync(), gC, 1e-4, "dC̃ closed form");
  const value = () => loss().dataSync()[0];
  close(grads[a.name].dataSync(), numeric(a, value), 2e-2, "dâ finite differences");
  close(grads[sh.name].dataSync(), numeric(sh, value), 2e-2, "db̂ finite differences");
  r.dispose();
});

Deno.test("linear reparam (SimVQ): C = C̃(I + s·Ŵ), C̃ frozen; dŴ = s·C̃ᵀG in closed form and by finite differences", () => {
  const r = codebookReparam("linear", D, s);
  const [w] = r.variables;
  close(r.apply(base).dataSync(), b, 0, "starts as C̃");
  w.assign(tf.tensor2d(rng.normals(D * D, 0.05), [D, D]));
  const loss = () => tf.sum(tf.mul(r.apply(base), G)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, [w]);
  const closed = Array.from({ length: D * D }, (_, i) => {
    const [p, q] = [Math.floor(i / D), i % D];
    return s * [...Array(K).keys()].reduce((t, k) => t + b[k * D + p] * gv[k * D + q], 0);
  });
  close(grads[w.name].dataSync(), closed, 1e-4, "dŴ closed form");
  close(
    grads[w.name].dataSync(),
    numeric(w, () => loss().dataSync()[0]),
    2e-2,
    "dŴ finite differences",
  );
  assert.equal(r.trainsBase, false);
  r.dispose();
});

Deno.test("VQ with reparam: trains the map's variables (SimVQ: not C̃), quantizes to the mapped codewords, decodes its codes", () => {
  for (const reparam of ["affine", "linear"] as const) {
    const vq = vectorQuantizer(
      { ...VQ_DEFAULTS, bits: 3, reparam, reparamLrScale: 2 },
      D,
      new Rng(1),
    );
    assert.equal(vq.variables.length, reparam === "affine" ? 3 : 1, reparam);
    // Move the map off the identity, then check nearest neighbour against the mapped codewords.
    for (const v of vq.variables.slice(reparam === "affine" ? 1 : 0)) {
      v.assign(tf.tensor(new Rng(9).normals(v.size, 0.2), v.shape));
    }
    const z = tf.tensor2d(new Rng(2).normals(12 * D), [12, D]);
    const hard = vq.quantize(z);
    const d = vq.distances!(z).arraySync() as number[][];
    const codes = hard.codes.dataSync();
    d.forEach((row, i) =>
      assert.equal(codes[i], row.indexOf(Math.min(...row)), `${reparam} row ${i}`)
    );
    close(vq.decodeCodes(hard.codes).dataSync(), hard.q.dataSync(), 0, `${reparam} decode`);
    vq.dispose();
  }
});

Deno.test("reparam config: optional for VQ (keys unchanged without it), refused for FSQ and with EMA", () => {
  const plain = resolveConfig({ quantizer: { kind: "vq" } }).quantizer;
  assert.equal("reparam" in plain, false);
  assert.equal(
    resolveConfig({ quantizer: { kind: "vq", reparam: "linear" } }).quantizer.kind,
    "vq",
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "fsq", reparam: "affine" } as never }),
    /quantizer\.reparam/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", reparam: "affine", learning: "ema" } }),
    /quantizer\.learning/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", reparamLrScale: 2 } }),
    /quantizer\.reparamLrScale/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", reparam: "cubic" } as never }),
    /quantizer\.reparam/,
  );
});
