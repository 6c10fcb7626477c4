import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { REFERENCE_GEMM } from "../kernels/blas.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { LADDER } from "../quantizers/offline/mod.ts";
import { stageAgreement } from "./fixed_latent.ts";
import { continuousConfig, endToEndConfig, keyOf, POSTRVQ_PROFILES } from "./postrvq_pipeline.ts";

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
