import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { REFERENCE_GEMM } from "../kernels/blas.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { initBackend, tf } from "../backend.ts";
import { melSpectrogramLoss } from "../audio/stft.ts";
import { fitOfflineQuantizer, LADDER, ladderConfig } from "../quantizers/offline/mod.ts";
import { Rng } from "../random.ts";
import {
  continuousConfig,
  endToEndConfig,
  keyOf,
  melL1PerSegment,
  offlineAsQuantizer,
  POSTRVQ_PROFILES,
  stageAgreement,
} from "./postrvq.ts";

Deno.test("melL1PerSegment equals melSpectrogramLoss row by row", async () => {
  await initBackend();
  const rng = new Rng(1);
  const x = tf.tensor2d(rng.normals(3 * 2048, 0.1), [3, 2048]);
  const y = tf.tensor2d(rng.normals(3 * 2048, 0.1), [3, 2048]);
  const batched = melL1PerSegment(x, tf.clone(y), 8000);
  for (let i = 0; i < 3; i++) {
    const one = melSpectrogramLoss(
      tf.slice(x, [i, 0], [1, -1]) as tf.Tensor2D,
      tf.slice(y, [i, 0], [1, -1]) as tf.Tensor2D,
      8000,
    ).dataSync()[0];
    assert.ok(Math.abs(one - batched[i]) < 1e-5 * one, `row ${i}: ${batched[i]} vs ${one}`);
  }
  tf.dispose([x, y]);
});

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

Deno.test("stageAgreement counts identical codes per stage", () => {
  const a = new Int32Array([1, 2, 3, 4, 5, 6]), b = new Int32Array([1, 0, 3, 4, 5, 0]);
  assert.deepEqual(stageAgreement(a, b, 2), [1, 1 / 3]);
});

Deno.test("PostRVQ configs: continuous has no quantizer; end-to-end spends the second rung", () => {
  const p = POSTRVQ_PROFILES.quick;
  assert.deepEqual(continuousConfig(p).quantizer, { kind: "none" });
  const e2e = endToEndConfig(p);
  assert.equal(e2e.quantizer.kind, "rvq");
  if (e2e.quantizer.kind === "rvq") {
    assert.equal(e2e.quantizer.stages * e2e.quantizer.bitsPerStage, LADDER[1].bitsPerFrame);
    assert.equal(e2e.quantizer.dropout, 0.5);
  }
  assert.equal(e2e.train.commitment, 0.25);
});

Deno.test("artefact keys declare a GEMM other than the reference, and keep the reference's keys", () => {
  const ref = keyOf("model", { a: 1 }, REFERENCE_GEMM);
  assert.match(ref, /^postrvq-model-[0-9a-f]{16}$/);
  assert.equal(
    ref,
    "postrvq-model-" + createHash("sha256").update(
      JSON.stringify({ what: "model", value: { a: 1 }, version: QUANTLAB_VERSION }),
    ).digest("hex").slice(0, 16),
    "the key made before the GEMM was part of it",
  );
  assert.notEqual(keyOf("model", { a: 1 }, "OpenBLAS 0.3.21 Cooperlake"), ref);
});
