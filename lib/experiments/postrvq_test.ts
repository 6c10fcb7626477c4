import assert from "node:assert/strict";
import { LADDER } from "../quantizers/offline/mod.ts";
import { stageAgreement } from "./fixed_latent.ts";
import { continuousConfig, endToEndConfig, POSTRVQ_PROFILES } from "./postrvq_pipeline.ts";

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
