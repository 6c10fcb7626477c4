/**
 * Pinned result-cache keys: resolving these inputs must give exactly the configs (hence keys)
 * it gave when they were recorded, so a refactor of the configs or the kind registries cannot
 * silently re-key stored results. The version is pinned too ("pinned", not QUANTLAB_VERSION):
 * these keys change only when a resolved config does. A change that means to alter a resolved
 * config bumps `QUANTLAB_VERSION` and updates the pins in the same commit.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { type ConfigInput, resolveConfig } from "./config.ts";
import { resultKey } from "./grid/key.ts";

const SHA = "a".repeat(64);

const PINS: [string, ConfigInput, string][] = [
  ["defaults", {}, "2911654950ec7b3bf48589170df2da26059c2bda660959c227f59ac39c7a253c"],
  [
    "mSTE, seed 3",
    { passer: { kind: "mste" }, train: { seed: 3 } },
    "1d632fc207e034551cc64b7e734db6ad02ad6116673555d78b41d0883868ddab",
  ],
  [
    "RVQ, cosine lookup, dropout, EMA",
    { quantizer: { kind: "rvq", lookup: "cosine", dropout: 0.5, learning: "ema" } },
    "325209d6817c267cb12d2b9338d8d3fbd2a9130e354bfdb54085dfcd43ee9a3e",
  ],
  [
    "FSQ with CL",
    { quantizer: { kind: "fsq" }, train: { commitment: 0.25 } },
    "3a6077c210df0ae12222335de8f98949651f7ed01a67b772b35ebee7333bbd15",
  ],
  [
    "custom quantizer and passer",
    {
      quantizer: { kind: "custom", bits: 6, module: "file:///x.ts#q", moduleSha256: SHA },
      passer: { kind: "custom", module: "file:///x.ts#p", moduleSha256: SHA },
    },
    "cde432accab9d0a19756b2430e550242d540db811105886fbb16fbb8ff611725",
  ],
  [
    "speech defaults",
    { data: { kind: "speech" } },
    "edefe55b13cbb0e885653b03d8a910ec74367782cf578ab002b7aa5f3541a243",
  ],
  [
    "speech, code space, Snake, RVQ",
    {
      data: { kind: "speech" },
      codec: { codeDim: 8, activation: "snake" },
      quantizer: { kind: "rvq", stages: 4 },
    },
    "c8884e2685456b1bf5d97dc9366768e8ebfa1a92f4793bd1dd1cf590d63e7b7a",
  ],
  [
    "PostRVQ continuous model (quick profile)",
    {
      data: { kind: "speech", validationSegments: 8, validationSamples: 8192 },
      codec: { kind: "conv" },
      quantizer: { kind: "none" },
      train: { epochs: 1, stepsPerEpoch: 30, batchSize: 4, seed: 0 },
    },
    "25782b8c3bdb261d0f0918c28bc96ec777bdcf0addea3722db19ae5932206b49",
  ],
  [
    "PostRVQ end-to-end baseline (full profile)",
    {
      data: { kind: "speech", validationSegments: 16 },
      quantizer: {
        kind: "rvq",
        stages: 5,
        bitsPerStage: 8,
        learning: "loss",
        init: "kmeans",
        dropout: 0.5,
      },
      train: { epochs: 1, stepsPerEpoch: 1000, batchSize: 4, commitment: 0.25 },
    },
    "ac191d1bae84b5e386cf649de812f1a58395eee459878300f73703a4f1c22b6a",
  ],
];

for (const [name, input, key] of PINS) {
  Deno.test(`resolveConfig keeps the pinned key: ${name}`, () => {
    const config = resolveConfig(structuredClone(input));
    strictEqual(resultKey(config, "lib/train.ts#train", "pinned"), key);
    deepStrictEqual(resolveConfig(structuredClone(config)), config, "resolving is idempotent");
  });
}
