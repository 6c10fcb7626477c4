import assert from "node:assert/strict";
import { initBackend, tf } from "../../backend.ts";
import { Rng } from "../../random.ts";
import { fitOfflineQuantizer, LADDER, ladderConfig, offlineAsQuantizer } from "./mod.ts";

Deno.test("an offline quantizer inside the trainer gives its own values and codes", async () => {
  await initBackend();
  const data = new Rng(2).normals(600 * 32);
  const q = fitOfflineQuantizer(
    ladderConfig("rvq-stage", LADDER[3], 32, { iterations: 3, tolerance: 1e-3 }),
    { data, count: 600, dim: 32 },
    new Rng(3),
  );
  const wrapped = offlineAsQuantizer(q);
  const z = tf.tensor2d(data.subarray(0, 50 * 32), [50, 32]);
  const hard = wrapped.quantize(z);
  const direct = q.quantize({ data: data.subarray(0, 50 * 32), count: 50, dim: 32 });
  assert.deepEqual(hard.q.dataSync(), direct.values);
  assert.deepEqual(hard.codes.dataSync(), direct.codes);
  assert.deepEqual(wrapped.decodeCodes(hard.codes).dataSync(), direct.values);
  assert.equal(wrapped.bits, 8);
  tf.dispose([z, hard.q, hard.codes]);
});
