import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import { oracleFloor, SimulatedSource } from "../sources/mod.ts";
import type { RunResult } from "../result.ts";
import { fakeRunResult } from "./_testing.ts";
import { type BitsExperiment, defaultSource, findings, runFloor } from "./bits.ts";
import { PROFILES } from "./common.ts";

function run(seed: number, bits: number, mse: number): RunResult {
  const config = resolveConfig({ quantizer: { kind: "vq", bits }, train: { seed } });
  const h = {
    epoch: 1,
    step: 10,
    trainLoss: mse,
    valMse: mse,
    valMseDb: 10 * Math.log10(mse),
    maE: 1,
    codeEntropy: bits,
    codePerplexity: 2 ** bits,
    symbolAccuracy: 1,
    wallMs: 1,
  };
  return fakeRunResult(config, [h]);
}

Deno.test("the oracle floor used for a run is the floor of that run's own seed's source", () => {
  const runs = [run(0, 7, 1), run(1, 7, 1)];
  const floors = runs.map((r) => runFloor(r, 3));
  for (const [i, r] of runs.entries()) {
    const own = new SimulatedSource(r.config.data, r.config.train.seed);
    assert.equal(floors[i], oracleFloor(own, 7, { distribution: "validation", restarts: 3 }));
  }
  assert.notEqual(floors[0], floors[1], "sources (and floors) differ by seed");
});

Deno.test("the closest approach compares each run with its own seed's floor", () => {
  const probe = [run(0, 7, 1), run(1, 7, 1)].map((r) => runFloor(r, 3));
  // Seed 1's run sits 1 % above its own floor; against seed 0's floor the ratio would differ.
  const runs = [run(0, 7, probe[0] * 1.2), run(1, 7, probe[1] * 1.01)];
  const x: BitsExperiment = {
    profile: PROFILES.quick,
    source: defaultSource(),
    groups: [
      { label: "B_q = 7", input: {}, runs, bits: 7, floors: probe },
      {
        label: "B_q = 8",
        input: {},
        runs: [run(0, 8, 0.001), run(1, 8, 0.001)],
        bits: 8,
        floors: [0, 0],
      },
    ],
  };
  const [f] = findings(x);
  const measured = f.measured as Record<string, unknown>;
  assert.equal(measured["closest approach to the floor below B (MSE / own seed's floor)"], 1.01);
  assert.equal(measured["(a) all runs below B at or above the floor"], true);
  assert.equal(f.verdict, "reproduced");
  assert.notEqual(probe[1] * 1.01 / probe[0], 1.01);
});
