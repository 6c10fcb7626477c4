import assert from "node:assert/strict";
import { type ConfigInput, resolveConfig } from "../config.ts";
import { resultKey } from "../grid/key.ts";
import { vqAtBits } from "./mod.ts";

Deno.test("vqAtBits keeps a VQ's own options (a reparameterisation) and gives the sweep's config otherwise", () => {
  const plain = vqAtBits({ passer: { kind: "ste" }, train: { commitment: 0.25 } }, 6);
  assert.deepEqual(plain.quantizer, { kind: "vq", bits: 6 });
  // The same key as the sweep's own input (notebook 05), so the baselines come from its cache.
  const sweep: ConfigInput = {
    passer: { kind: "ste" },
    train: { commitment: 0.25 },
    quantizer: { kind: "vq", bits: 6 },
  };
  assert.equal(
    resultKey(resolveConfig(plain), "lib/train.ts#train", "v"),
    resultKey(resolveConfig(sweep), "lib/train.ts#train", "v"),
  );
  const simvq = vqAtBits({ quantizer: { kind: "vq", reparam: "linear", reparamLrScale: 2 } }, 4);
  assert.deepEqual(simvq.quantizer, { kind: "vq", reparam: "linear", reparamLrScale: 2, bits: 4 });
});
