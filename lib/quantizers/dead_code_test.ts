import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { Rng } from "../random.ts";
import { Codebook } from "./codebook.ts";
import { buildQuantizer } from "./mod.ts";

await initBackend();

const rows = (v: tf.Variable) => v.arraySync() as number[][];
const same = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-6);

function book(size: number, every: number, threshold: number, seed = 1): Codebook {
  return new Codebook({
    size,
    dim: 2,
    learning: "loss",
    init: "random",
    emaDecay: 0.99,
    deadCode: { every, threshold },
  }, new Rng(seed));
}

Deno.test("dead-code replacement (DiVeQ's): every `every` steps, codewords used less than `threshold` times per step become copies of used ones; counts restart", () => {
  const b = book(4, 2, 0.5);
  const before = rows(b.embeddings);
  // Step 1 and 2: codeword 0 five times, 1 three times, 3 once (0.5 per step: kept), 2 never.
  assert.equal(b.replaceDead([0, 0, 0, 1, 1]), 0);
  assert.equal(b.replaceDead([0, 0, 1, 3]), 1);
  const after = rows(b.embeddings);
  for (const k of [0, 1, 3]) assert.deepEqual(after[k], before[k], `codeword ${k} kept`);
  assert.ok(
    [0, 1, 3].some((k) => same(after[2], before[k])),
    `codeword 2 is a copy of a used one: ${after[2]}`,
  );
  // Counts restarted: two steps using every codeword replace nothing.
  assert.equal(b.replaceDead([0, 1, 2, 3]), 0);
  assert.equal(b.replaceDead([0, 1, 2, 3]), 0);
  b.dispose();
});

Deno.test("dead-code replacement draws the copied codeword in proportion to its use", () => {
  const b = book(3, 1, 0.5, 7);
  const n = 3000;
  let fromZero = 0;
  for (let i = 0; i < n; i++) {
    const c = rows(b.embeddings);
    // Codeword 0 thrice, codeword 1 once, codeword 2 never: 2 copies 0 with probability 3/4.
    assert.equal(b.replaceDead([0, 0, 0, 1]), 1);
    const now = rows(b.embeddings)[2];
    assert.ok(same(now, c[0]) || same(now, c[1]));
    if (same(now, c[0])) fromZero++;
    b.embeddings.assign(tf.tensor2d([c[0], c[1], [9, 9]]));
  }
  assert.ok(Math.abs(fromZero / n - 0.75) < 0.03, `${fromZero / n}`);
  b.dispose();
});

Deno.test("dead-code replacement in VQ and RVQ: afterStep replaces every stage's unused codewords; the config pair is optional, validated, loss-learned only", () => {
  const vqConfig = resolveConfig({
    quantizer: { kind: "vq", bits: 2, deadCodeEvery: 1, deadCodeThreshold: 0.5 },
  }).quantizer;
  const vq = buildQuantizer(vqConfig, 2, new Rng(1));
  const c0 = rows(vq.variables[0])[0];
  vq.afterStep!(tf.zeros([3, 2]), tf.tensor2d([[0], [0], [0]], undefined, "int32"));
  for (const row of rows(vq.variables[0])) assert.ok(same(row, c0), "every codeword copies 0");
  vq.dispose();

  const rvqConfig = resolveConfig({
    quantizer: {
      kind: "rvq",
      stages: 2,
      bitsPerStage: 2,
      deadCodeEvery: 1,
      deadCodeThreshold: 0.5,
    },
  }).quantizer;
  const rvq = buildQuantizer(rvqConfig, 2, new Rng(1));
  const firsts = rvq.variables.map((v) => rows(v)[1]);
  rvq.afterStep!(tf.zeros([2, 2]), tf.tensor2d([[1, 3], [1, 3]], undefined, "int32"));
  rows(rvq.variables[0]).forEach((row) => assert.ok(same(row, firsts[0]), "stage 0 copies 1"));
  const stage1 = rows(rvq.variables[1]);
  stage1.forEach((row) => assert.ok(same(row, stage1[3]), "stage 1 copies 3"));
  rvq.dispose();

  assert.equal("deadCodeEvery" in resolveConfig({ quantizer: { kind: "vq" } }).quantizer, false);
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", deadCodeEvery: 100 } }),
    /quantizer\.deadCodeEvery/,
  );
  assert.throws(
    () =>
      resolveConfig({
        quantizer: { kind: "rvq", learning: "ema", deadCodeEvery: 100, deadCodeThreshold: 0.01 },
      }),
    /quantizer\.learning/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", deadCodeEvery: 0, deadCodeThreshold: 0.01 } }),
    /quantizer\.deadCodeEvery/,
  );
});
