import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import { oracleFloor, randomOrthogonal, SimulatedSource } from "./simulated.ts";
import { Rng } from "../random.ts";

const small =
  resolveConfig({ data: { frameDim: 6, groups: 3, bitsPerGroup: 2, validationFrames: 512 } }).data;

Deno.test("a source with B bits has exactly 2^B distinct frames", () => {
  const source = new SimulatedSource(small, 1);
  assert.equal(source.bits, 6);
  const all = source.allFrames();
  assert.equal(all.count, 64);
  const distinct = new Set<string>();
  for (let n = 0; n < all.count; n++) distinct.add(all.x.subarray(n * 6, n * 6 + 6).join(","));
  assert.equal(distinct.size, 64);
  // Every training frame is one of them.
  const batch = source.trainBatch(5, 300);
  for (let n = 0; n < batch.count; n++) {
    assert.ok(distinct.has(batch.x.subarray(n * 6, n * 6 + 6).join(",")));
  }
});

Deno.test("the same seed gives the same data; another seed does not", () => {
  const a = new SimulatedSource(small, 7),
    b = new SimulatedSource(small, 7),
    c = new SimulatedSource(small, 8);
  assert.deepEqual(a.validation.y, b.validation.y);
  assert.deepEqual(a.trainBatch(3, 64).x, b.trainBatch(3, 64).x);
  assert.deepEqual(a.rotation, b.rotation);
  assert.notDeepEqual(a.validation.y, c.validation.y);
  assert.notDeepEqual(a.trainBatch(3, 64).x, a.trainBatch(4, 64).x);
});

Deno.test("the rotation is orthogonal and the target is R·x", () => {
  const n = 8;
  const r = randomOrthogonal(n, new Rng(3));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += r[k * n + i] * r[k * n + j];
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-5, `RᵀR[${i},${j}] = ${dot}`);
    }
  }
  const source = new SimulatedSource(small, 2);
  const { x, y } = source.trainBatch(0, 1);
  for (let i = 0; i < 6; i++) {
    let s = 0;
    for (let j = 0; j < 6; j++) s += source.rotation[i * 6 + j] * x[j];
    assert.ok(Math.abs(s - y[i]) < 1e-5);
  }
});

Deno.test("symbol accuracy is 1 for a perfect reconstruction and 0 for silence", () => {
  const source = new SimulatedSource(small, 4);
  assert.equal(source.symbolAccuracy(source.validation.y), 1);
  const zero = new Float32Array(source.validation.y.length);
  assert.ok(source.symbolAccuracy(zero) < 0.2);
});

Deno.test("oracle floor: zero with enough bits, decreasing in B_q, below the source variance", () => {
  const source = new SimulatedSource(small, 0);
  assert.equal(oracleFloor(source, 6), 0);
  assert.equal(oracleFloor(source, 8), 0);
  const floors = [0, 2, 4, 5].map((b) => oracleFloor(source, b));
  for (let i = 1; i < floors.length; i++) assert.ok(floors[i] < floors[i - 1], `floors ${floors}`);
  // With 0 bits the best guess is the mean: the floor is the per-element variance of the frames.
  const { x } = source.allFrames();
  const mean = new Float64Array(6);
  for (let n = 0; n < 64; n++) for (let j = 0; j < 6; j++) mean[j] += x[n * 6 + j] / 64;
  let variance = 0;
  for (let n = 0; n < 64; n++) {
    for (let j = 0; j < 6; j++) variance += (x[n * 6 + j] - mean[j]) ** 2;
  }
  assert.ok(Math.abs(floors[0] - variance / 64 / 6) < 1e-6);
});

Deno.test("the validation floor weighs frames by their validation counts", () => {
  // 3 validation frames can show at most 3 distinct frames: 2 bits (4 clusters) fit them exactly.
  const cfg =
    resolveConfig({ data: { frameDim: 4, groups: 2, bitsPerGroup: 2, validationFrames: 3 } }).data;
  const source = new SimulatedSource(cfg, 5);
  assert.equal(oracleFloor(source, 2, { distribution: "validation" }), 0);
  assert.ok(oracleFloor(source, 2, { distribution: "population" }) > 0);
});
