import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { quantizerBits, resolveConfig } from "../config.ts";
import { Rng } from "../random.ts";
import { buildQuantizer, Codebook, finiteScalarQuantizer } from "./mod.ts";

await initBackend();

function bruteNearest(points: Float32Array, book: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < points.length / dim; p++) {
    let best = -1, bestD = Infinity;
    for (let k = 0; k < book.length / dim; k++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (points[p * dim + j] - book[k * dim + j]) ** 2;
      if (d < bestD) bestD = d, best = k;
    }
    out.push(best);
  }
  return out;
}

Deno.test("VQ: nearest neighbour and Q(z) match a brute-force search", () => {
  const cfg = resolveConfig({ quantizer: { kind: "vq", bits: 5 }, codec: { latent: 3 } });
  const quantizer = buildQuantizer(cfg.quantizer, 3, new Rng(1));
  const points = new Rng(2).normals(200 * 3, 1.2);
  const hard = quantizer.quantize(tf.tensor2d(points, [200, 3]));
  const book = quantizer.variables[0].dataSync() as Float32Array;
  const expected = bruteNearest(points, book, 3);
  assert.deepEqual(Array.from(hard.codes.dataSync()), expected);
  const qData = hard.q.dataSync();
  expected.forEach((k, p) => {
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(qData[p * 3 + j] - book[k * 3 + j]) < 1e-6);
  });
  assert.equal(quantizer.bits, 5);
});

Deno.test("RVQ: each stage is the nearest codeword to the previous residual, Q(z) is their sum", () => {
  const cfg = resolveConfig({
    quantizer: { kind: "rvq", stages: 3, bitsPerStage: 3 },
    codec: { latent: 2 },
  });
  const rng = new Rng(4);
  const quantizer = buildQuantizer(cfg.quantizer, 2, rng);
  assert.equal(quantizer.bits, 9);
  assert.equal(quantizerBits(cfg.quantizer), 9);
  const points = new Rng(5).normals(100 * 2);
  const hard = quantizer.quantize(tf.tensor2d(points, [100, 2]));
  const codes = hard.codes.dataSync();
  let residual = Float32Array.from(points);
  const sum = new Float32Array(points.length);
  quantizer.variables.forEach((v, s) => {
    const book = v.dataSync() as Float32Array;
    const nearest = bruteNearest(residual, book, 2);
    nearest.forEach((k, p) => assert.equal(codes[p * 3 + s], k, `stage ${s}, frame ${p}`));
    residual = residual.map((r, i) => r - book[nearest[Math.floor(i / 2)] * 2 + (i % 2)]);
    nearest.forEach((k, p) => {
      for (let j = 0; j < 2; j++) sum[p * 2 + j] += book[k * 2 + j];
    });
  });
  const qData = hard.q.dataSync();
  sum.forEach((v, i) => assert.ok(Math.abs(v - qData[i]) < 1e-5));
});

Deno.test("FSQ: bits are Σ log2 levels and values lie on each dimension's grid", () => {
  const levels = [3, 4, 5, 8];
  const quantizer = finiteScalarQuantizer({ kind: "fsq", levels });
  assert.equal(quantizer.bits, Math.log2(3) + 2 + Math.log2(5) + 3);
  const e = tf.tensor2d(new Rng(6).normals(400 * 4, 3), [400, 4]);
  const hard = quantizer.quantize(quantizer.prepare(e));
  const q = hard.q.dataSync(), codes = hard.codes.dataSync();
  const seen = levels.map(() => new Set<number>());
  for (let i = 0; i < q.length; i++) {
    const L = levels[i % 4], h = (L - 1) / 2;
    assert.ok(codes[i] >= 0 && codes[i] < L);
    assert.ok(Math.abs(q[i] - (codes[i] - h) / h) < 1e-6, `value ${q[i]} code ${codes[i]}`);
    seen[i % 4].add(codes[i]);
  }
  levels.forEach((L, d) => assert.equal(seen[d].size, L, `dimension ${d} uses all ${L} levels`));
  const joint = quantizer.jointCodes(codes as Int32Array, 400);
  assert.ok(joint.every((v) => v >= 0 && v < 3 * 4 * 5 * 8));
});

Deno.test("VQ codebook loss moves codewords towards their inputs; EMA does too", () => {
  for (const learning of ["loss", "ema"] as const) {
    const book = new Codebook(
      { size: 4, dim: 2, learning, init: "random", emaDecay: 0.5 },
      new Rng(1),
    );
    const points = tf.tensor2d(new Rng(2).normals(64 * 2, 0.1).map((v) => v + 3), [64, 2]);
    const distance = () => tf.tidy(() => tf.mean(tf.min(book.distances(points), 1)).dataSync()[0]);
    const before = distance();
    const opt = tf.train.sgd(0.5);
    for (let i = 0; i < 20; i++) {
      const codes = book.nearest(points);
      if (learning === "loss") {
        opt.minimize(() => book.loss(points, book.lookup(codes))!, false, [book.embeddings]);
      } else book.emaUpdate(points, codes);
      codes.dispose();
    }
    assert.ok(distance() < before / 10, `${learning}: ${before} → ${distance()}`);
  }
});

Deno.test("k-means initialisation places codewords on the clusters of the inputs", () => {
  const centres = [[5, 5], [-5, 5], [0, -5]];
  const rng = new Rng(3);
  const pts = new Float32Array(300 * 2);
  for (let i = 0; i < 300; i++) {
    pts[2 * i] = centres[i % 3][0] + 0.01 * rng.normal();
    pts[2 * i + 1] = centres[i % 3][1] + 0.01 * rng.normal();
  }
  const book = new Codebook(
    { size: 3, dim: 2, learning: "loss", init: "kmeans", emaDecay: 0.9 },
    new Rng(9),
  );
  book.initialize(pts, 300);
  const words = book.embeddings.arraySync() as number[][];
  for (const c of centres) {
    assert.ok(
      words.some((w) => Math.hypot(w[0] - c[0], w[1] - c[1]) < 0.05),
      `centre ${c} in ${words}`,
    );
  }
});

Deno.test("codeword lookup is exact on wasm (guards the OneHot float32 bug)", () => {
  const book = new Codebook(
    { size: 8, dim: 3, learning: "loss", init: "random", emaDecay: 0.9 },
    new Rng(1),
  );
  const words = book.embeddings.dataSync();
  const looked = book.lookup(tf.tensor1d([7, 0, 3], "int32")).dataSync();
  [7, 0, 3].forEach((k, p) => {
    for (let j = 0; j < 3; j++) assert.equal(looked[p * 3 + j], words[k * 3 + j]);
  });
});

Deno.test("decodeCodes inverts the codes of quantize exactly, for every quantizer", () => {
  const cases = [
    resolveConfig({ quantizer: { kind: "vq", bits: 4 }, codec: { latent: 3 } }).quantizer,
    resolveConfig({ quantizer: { kind: "rvq", stages: 3, bitsPerStage: 3 }, codec: { latent: 3 } })
      .quantizer,
    resolveConfig({ quantizer: { kind: "fsq", levels: [3, 4, 5] }, codec: { latent: 3 } })
      .quantizer,
  ];
  for (const config of cases) {
    const quantizer = buildQuantizer(config, 3, new Rng(7));
    const z = quantizer.prepare(tf.tensor2d(new Rng(8).normals(50 * 3, 1.5), [50, 3]));
    const hard = quantizer.quantize(z);
    const back = quantizer.decodeCodes(hard.codes);
    assert.deepEqual(back.shape, [50, 3]);
    assert.deepEqual(back.dataSync(), hard.q.dataSync(), config.kind);
    quantizer.dispose();
  }
});

Deno.test("a quantizer reports its own weighted losses: commitment β·mean(z − Q)², codebook w·loss", () => {
  const config = { kind: "vq", bits: 3, learning: "loss", init: "random", emaDecay: 0.9 } as const;
  const z = tf.tensor2d(new Rng(3).normals(40 * 2), [40, 2]);
  const plain = buildQuantizer(config, 2, new Rng(1), { commitment: 0, codebook: 1 });
  const hard = plain.quantize(z);
  const mse = tf.mean(tf.squaredDifference(z, hard.q)).dataSync()[0];
  assert.deepEqual(Object.keys(hard.losses), ["codebook"]);
  assert.ok(Math.abs(hard.losses.codebook.dataSync()[0] - mse) < 1e-6);
  const weighted = buildQuantizer(config, 2, new Rng(1), { commitment: 0.25, codebook: 2 });
  const both = weighted.quantize(z);
  assert.deepEqual(Object.keys(both.losses), ["commitment", "codebook"], "the trainer's order");
  assert.ok(Math.abs(both.losses.commitment.dataSync()[0] - 0.25 * mse) < 1e-6);
  assert.ok(Math.abs(both.losses.codebook.dataSync()[0] - 2 * mse) < 1e-6);
  const ema = buildQuantizer({ ...config, learning: "ema" }, 2, new Rng(1));
  assert.deepEqual(Object.keys(ema.quantize(z).losses), [], "EMA codebooks learn without a loss");
  // The commitment gradient reaches z; the codebook loss's does not.
  const gz = tf.grad((zz: tf.Tensor) => {
    const h = weighted.quantize(zz as tf.Tensor2D);
    return tf.add(h.losses.commitment, h.losses.codebook);
  })(z).dataSync();
  const expected = tf.mul(tf.sub(z, hard.q), 0.25 * 2 / z.size).dataSync();
  gz.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-6, `${g} vs ${expected[i]}`));
});

Deno.test("the quantizer owns its init policy: k-means init asks for 4 × codebook size frames", () => {
  const vq = { kind: "vq", bits: 5, learning: "loss", init: "kmeans", emaDecay: 0.9 } as const;
  assert.equal(buildQuantizer(vq, 8, new Rng(1)).initialization?.frames, 128);
  assert.equal(buildQuantizer({ ...vq, init: "random" }, 8, new Rng(1)).initialization, undefined);
  const rvq = resolveConfig({ quantizer: { kind: "rvq", bitsPerStage: 3, init: "kmeans" } })
    .quantizer;
  assert.equal(buildQuantizer(rvq, 8, new Rng(1)).initialization?.frames, 32);
  const fsq = resolveConfig({ quantizer: { kind: "fsq" } }).quantizer;
  assert.equal(buildQuantizer(fsq, 8, new Rng(1)).initialization, undefined);
});
