import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import type { EpochRecord, RunResult } from "../result.ts";
import { finalMse, isBounded, maeGrowth, PROFILES, verdictOf, withProfile } from "./common.ts";
import * as ste from "./ste.ts";

function fakeRun(maE: number[], mse: number[], diverged = false): RunResult {
  const history: EpochRecord[] = maE.map((m, i) => ({
    epoch: i + 1,
    step: (i + 1) * 10,
    trainLoss: mse[i],
    valMse: mse[i],
    valMseDb: 10 * Math.log10(mse[i]),
    maE: m,
    codeEntropy: 5,
    codePerplexity: 32,
    symbolAccuracy: 0.5,
    wallMs: 1,
  }));
  return {
    config: resolveConfig(),
    history,
    final: history.at(-1) ?? null,
    diverged: diverged ? { step: 99, epoch: maE.length + 1, reason: "test" } : null,
    versions: {
      backend: "wasm",
      tfjs: "4.22.0",
      deno: "2.9.6",
      patched: true,
      gemm: "openblas",
      quantlab: "0",
    },
    wallMs: 1,
    peakRssMb: 1,
  };
}

Deno.test("bounded means no divergence and MA-E within 10× of epoch 1", () => {
  assert.equal(isBounded(fakeRun([3, 5, 9], [1, 1, 1])), true);
  assert.equal(isBounded(fakeRun([3, 5, 31], [1, 1, 1])), false);
  assert.equal(isBounded(fakeRun([3, 4], [1, 1], true)), false);
  assert.equal(maeGrowth(fakeRun([2, 8], [1, 1])), 4);
  assert.equal(maeGrowth(fakeRun([2, 8], [1, 1], true)), Infinity);
  assert.equal(finalMse(fakeRun([2, 8], [1, 0.5])), 0.5);
  assert.equal(finalMse(fakeRun([2, 8], [1, 0.5], true)), Infinity);
});

Deno.test("verdicts: all seeds → reproduced, some → partially, none → not", () => {
  assert.equal(verdictOf([true, true]), "reproduced");
  assert.equal(verdictOf([true, false]), "partially reproduced");
  assert.equal(verdictOf([false, false]), "not reproduced");
});

Deno.test("STE findings are computed from the runs, in both directions", () => {
  const profile = PROFILES.quick;
  const growing = [
    fakeRun([10, 1e3, 1e5], [0.5, 0.5, 0.5]),
    fakeRun([10, 20, 1e4], [0.6, 0.6, 0.6]),
  ];
  const flat = [fakeRun([4, 5, 5], [0.3, 0.2, 0.1]), fakeRun([4, 4, 6], [0.3, 0.2, 0.15])];
  const groups = (steRuns: RunResult[], clRuns: RunResult[], msteRuns: RunResult[]) =>
    ste.GROUPS.map((g, i) => ({ ...g, runs: [steRuns, clRuns, msteRuns][i] }));
  const paperLike = ste.findings({ profile, groups: groups(growing, flat, flat) });
  const byId = Object.fromEntries(paperLike.map((f) => [f.id, f.verdict]));
  assert.equal(byId["A-ste-unbounded"], "reproduced");
  assert.equal(byId["A-ste-cl-bounded"], "reproduced");
  assert.equal(byId["A-mste-stable"], "reproduced");
  assert.equal(byId["A-mste-lower-mse-than-ste"], "reproduced");
  const opposite = ste.findings({ profile, groups: groups(flat, growing, growing) });
  for (const f of opposite) assert.equal(f.verdict, "not reproduced", f.id);
});

Deno.test("profiles set epochs, steps and validation size but keep explicit train fields", () => {
  const input = withProfile(PROFILES.quick, { train: { commitment: 0.25, epochs: 7 } });
  const cfg = resolveConfig(input);
  assert.equal(cfg.train.epochs, 7);
  assert.equal(cfg.train.stepsPerEpoch, PROFILES.quick.stepsPerEpoch);
  assert.equal(cfg.train.commitment, 0.25);
  assert.equal(
    cfg.data.kind === "simulated" && cfg.data.validationFrames,
    PROFILES.quick.validationFrames,
  );
});
