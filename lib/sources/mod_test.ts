import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import { mseDb } from "../metrics.ts";
import { buildSource, mseMeter, SimulatedSource, splitBatch } from "./mod.ts";

Deno.test("the registry builds the simulated source from data.kind", () => {
  const config = resolveConfig({ data: { validationFrames: 64 } });
  const source = buildSource(config.data, 3);
  assert.ok(source instanceof SimulatedSource);
  assert.equal(source.inputDim, 16);
  const batches = [...source.validationBatches()];
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0].xShape, [64, 16]);
  assert.throws(() => buildSource({ kind: "video" } as never, 0), /data.kind = "video"/);
});

Deno.test("the MSE meter gives the same numbers for one batch or many", () => {
  const source = new SimulatedSource(resolveConfig({ data: { validationFrames: 300 } }).data, 1);
  const v = source.validation;
  const yhat = v.y.map((y, i) => y + Math.sin(i) * 0.3);
  const one = source.validationMeter();
  one.add(yhat, v);
  const many = source.validationMeter();
  for (const [a, b] of [[0, 100], [100, 250], [250, 300]]) {
    const slice = (t: Float32Array) => t.subarray(a * 16, b * 16);
    many.add(slice(yhat), { x: slice(v.x), xShape: [], y: slice(v.y), yShape: [] });
  }
  assert.deepEqual(many.result(), one.result());
  const { valMse, valMseDb } = one.result();
  let sum = 0;
  for (let i = 0; i < yhat.length; i++) sum += (yhat[i] - v.y[i]) ** 2;
  assert.ok(Math.abs(valMse - sum / yhat.length) <= 1e-12 * valMse);
  assert.equal(valMseDb, mseDb(valMse, v.y));
  assert.equal(one.result().symbolAccuracy, source.symbolAccuracy(yhat));
  assert.throws(() => mseMeter().add(new Float32Array(2), v), /ŷ has 2 values, y has 4800/);
});

Deno.test("splitBatch cuts along the leading axis, views in order, the last one short", () => {
  const x = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => i);
  const y = Float32Array.from({ length: 5 * 6 }, (_, i) => -i);
  const parts = splitBatch({ x, xShape: [5, 2, 3], y, yShape: [5, 6] }, 2);
  assert.deepEqual(parts.map((b) => b.xShape), [[2, 2, 3], [2, 2, 3], [1, 2, 3]]);
  assert.deepEqual(parts.map((b) => b.yShape), [[2, 6], [2, 6], [1, 6]]);
  assert.deepEqual(parts.flatMap((b) => [...b.x]), [...x]);
  assert.deepEqual(parts.flatMap((b) => [...b.y]), [...y]);
  assert.equal(parts[1].x.buffer, x.buffer, "views, not copies");
  assert.throws(() => splitBatch({ x, xShape: [5, 6], y, yShape: [4, 6] }, 2), /y has 4/);
  assert.throws(() => splitBatch({ x, xShape: [5, 6], y, yShape: [5, 6] }, 0), /size 0/);
});
