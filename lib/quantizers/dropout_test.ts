import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig, type RvqConfig } from "../config.ts";
import { Rng } from "../random.ts";
import { identityQuantizer, residualVq } from "./mod.ts";

const RVQ: RvqConfig = {
  kind: "rvq",
  stages: 4,
  bitsPerStage: 3,
  learning: "loss",
  init: "random",
  emaDecay: 0.99,
};

Deno.test("quantizer dropout: training keeps a prefix of stages per frame, evaluation all", async () => {
  await initBackend();
  const z = tf.tensor2d(new Rng(1).normals(400 * 4), [400, 4]);
  const plain = residualVq(RVQ, 4, new Rng(2));
  const dropped = residualVq({ ...RVQ, dropout: 0.5 }, 4, new Rng(2));
  assert.equal(plain.quantizeTrain, undefined, "no dropout, no training pass of its own");
  const full = dropped.quantize(z);
  assert.deepEqual(
    full.q.dataSync(),
    plain.quantize(z).q.dataSync(),
    "evaluation uses every stage",
  );
  const train = dropped.quantizeTrain!(z, new Rng(3));
  assert.deepEqual(train.codes.dataSync(), full.codes.dataSync(), "codes are the nearest ones");
  // Every frame's training value is the sum of its first n stages' codewords, n in 1..4.
  const codes = full.codes.arraySync() as number[][];
  const q = train.q.arraySync() as number[][];
  const books = dropped.variables.map((v) => v.arraySync() as number[][]);
  let shortened = 0;
  for (let f = 0; f < 400; f++) {
    let acc = [0, 0, 0, 0];
    let n = -1;
    for (let s = 0; s < 4 && n < 0; s++) {
      acc = acc.map((v, j) => v + books[s][codes[f][s]][j]);
      if (acc.every((v, j) => Math.abs(v - q[f][j]) < 1e-5)) n = s;
    }
    assert.ok(n >= 0, `frame ${f}: its value is no prefix sum of its codewords`);
    if (n < 3) shortened++;
  }
  // P(shortened) = 0.5 · 3/4 = 0.375: about 150 of 400 frames.
  assert.ok(shortened > 110 && shortened < 190, `${shortened} of 400 frames shortened`);
  tf.dispose([z, full.q, full.codes, train.q, train.codes]);
  plain.dispose();
  dropped.dispose();
});

Deno.test("dropout and kind none: absent from resolved configs unless set, validated", () => {
  const rvq = resolveConfig({ quantizer: { kind: "rvq" } });
  assert.ok(!("dropout" in rvq.quantizer), "dropout must stay absent so cache keys do not change");
  assert.equal(
    (resolveConfig({ quantizer: { kind: "rvq", dropout: 0.5 } }).quantizer as RvqConfig).dropout,
    0.5,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "rvq", dropout: 1.5 } }),
    /quantizer\.dropout = 1\.5/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", dropout: 0.5 } as never }),
    /quantizer\.dropout/,
  );
  assert.deepEqual(resolveConfig({ quantizer: { kind: "none" } }).quantizer, { kind: "none" });
});

Deno.test("identity quantizer: Q(z) = z, no bits, no losses", async () => {
  await initBackend();
  const q = identityQuantizer(3);
  const z = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const hard = q.quantize(z);
  assert.equal(hard.q, z);
  assert.equal(q.bits, 0);
  assert.deepEqual(Object.keys(hard.losses), []);
  assert.deepEqual(hard.codes.shape, [2, 1]);
  tf.dispose([z, hard.codes]);
});
