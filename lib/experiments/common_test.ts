import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import type { EpochRecord, RunResult } from "../result.ts";
import { fakeRunResult } from "./_testing.ts";
import { validateFinding } from "../report/findings.ts";
import {
  compareMse,
  convergenceOf,
  finalMse,
  isBounded,
  maeGrowth,
  mseSlope,
  PROFILES,
  settingsTable,
  smoothedMse,
  verdictOf,
  withProfile,
} from "./common.ts";
import * as ste from "./ste.ts";

function fakeRun(maE: number[], mse: number[], diverged = false, seed = 0): RunResult {
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
  return fakeRunResult(resolveConfig({ train: { seed } }), history, {
    diverged: diverged ? { step: 99, epoch: maE.length + 1 } : null,
  });
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
  const seeds = [0, 1, 2];
  const growing = seeds.map((s) =>
    fakeRun([10, 1e3, 1e5], [0.5, 0.5 + 0.01 * s, 0.5 + 0.01 * s], false, s)
  );
  const flat = seeds.map((s) =>
    fakeRun([4, 5, 5], [0.3, 0.2 + 0.01 * s, 0.1 + 0.02 * s], false, s)
  );
  const experiment = (steRuns: RunResult[], clRuns: RunResult[], msteRuns: RunResult[]) => ({
    profile,
    groups: ste.GROUPS.map((g, i) => ({ ...g, runs: [steRuns, clRuns, msteRuns][i] })),
    long: ste.longGroups(profile).map((g, i) => ({ ...g, runs: [clRuns, msteRuns][i] })),
  });
  const paperLike = ste.findings(experiment(growing, flat, flat));
  const byId = Object.fromEntries(paperLike.map((f) => [f.id, f]));
  assert.equal(byId["A-ste-unbounded"].verdict, "reproduced");
  assert.equal(byId["A-ste-cl-bounded"].verdict, "reproduced");
  assert.equal(byId["A-mste-stable"].verdict, "reproduced");
  assert.equal(byId["A-mste-lower-mse-than-ste"].verdict, "reproduced");
  assert.equal(byId["A-mste-lower-mse-than-ste"].stats?.n, 3);
  // mSTE and STE + CL identical: the interval is a point at 0, which it does not exclude.
  assert.equal(byId["A-mste-lower-mse-than-ste-cl"].verdict, "inconclusive");
  assert.equal(byId["A-mste-lower-mse-than-ste-cl-long"].verdict, "inconclusive");
  assert.match(
    byId["A-mste-lower-mse-than-ste-cl"].detail!,
    /At \d+ steps \(A-mste-lower-mse-than-ste-cl-long\): inconclusive\.$/,
  );
  for (const f of paperLike) assert.deepEqual(validateFinding(f, false), [], f.id);
  const opposite = ste.findings(experiment(flat, growing, growing));
  for (const f of opposite.filter((f) => !f.id.includes("ste-cl"))) {
    assert.equal(f.verdict, "not reproduced", f.id);
  }
});

Deno.test("the comparison statistic is the mean of the last epochs, paired by seed", () => {
  const profile = { ...PROFILES.quick, lastEpochs: 2 };
  assert.equal(smoothedMse(fakeRun([1, 1, 1], [0.9, 0.3, 0.1]), 2), 0.2);
  assert.equal(smoothedMse(fakeRun([1, 1], [0.9, 0.3], true), 2), Infinity);
  // Baseline runs listed in another order are still paired with their own seed.
  const treatment = {
    label: "t",
    input: {},
    runs: [0, 1, 2].map((s) => fakeRun([1, 1], [1, 0.1 + s], false, s)),
  };
  const baseline = {
    label: "b",
    input: {},
    runs: [2, 0, 1].map((s) => fakeRun([1, 1], [1, 0.2 + s], false, s)),
  };
  const stats = compareMse(treatment, baseline, "lower", profile);
  // Differences are −0.05 for every seed when paired by seed.
  assert.ok(Math.abs(stats.mean! + 0.05) < 1e-12);
  assert.equal(stats.favourable, 3);
  assert.equal(stats.outcome, "reproduced");
});

Deno.test("convergence: the slope of ln MSE over the last epochs labels still falling / flat", () => {
  const profile = { ...PROFILES.quick, slopeFraction: 0.75, flatSlope: 0.05 };
  // fakeRun steps are 10 apart: a 10 % drop per epoch is ln(0.9)/10 per step.
  const falling = [0, 1].map((s) => fakeRun([1, 1, 1, 1], [1, 0.9, 0.81, 0.729], false, s));
  const flat = [0, 1].map((s) => fakeRun([1, 1, 1, 1], [1, 0.5, 0.5, 0.5], false, s));
  const slope = mseSlope(falling[0], 0.75);
  assert.ok(Math.abs(slope - (1000 * Math.log(0.9)) / 10) < 1e-9, String(slope));
  assert.equal(
    convergenceOf({ label: "a", input: {}, runs: falling }, profile).state,
    "still falling",
  );
  assert.equal(convergenceOf({ label: "b", input: {}, runs: flat }, profile).state, "flat");
  const diverged = [fakeRun([1, 1], [1, 1], true)];
  assert.equal(convergenceOf({ label: "c", input: {}, runs: diverged }, profile).state, "diverged");
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

Deno.test("settingsTable compares a run's fields with the defaults of its own kinds", () => {
  const defaultOf = (run: RunResult, field: string) => {
    const row = settingsTable([run]).html.match(
      new RegExp(
        `<td[^>]*>${field.replace(/\./g, "\\.")}</td><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>`,
      ),
    );
    return row?.[1];
  };
  const proxy = fakeRun([1, 1], [0.1, 0.1]);
  assert.equal(defaultOf(proxy, "codec.hidden"), "128");
  const speech = { ...proxy, config: resolveConfig({ data: { kind: "speech" } }) };
  assert.equal(defaultOf(speech, "data.sampleRate"), "8000");
  assert.equal(defaultOf(speech, "codec.kind"), "&#34;conv&#34;");
});

Deno.test("profile overrides: seeds, epochs and steps replace the profile's; bad values are named", async () => {
  const { PROFILES, withOverrides } = await import("./profiles.ts");
  const p = withOverrides(PROFILES.full, { seeds: "[0, 5]", epochs: "2", steps: "30" });
  assert.deepEqual([p.seeds, p.comparisonSeeds, p.speech.seeds], [[0, 5], [0, 5], [0, 5]]);
  assert.deepEqual([p.epochs, p.lastEpochs, p.speech.epochs], [2, 2, 2]);
  assert.deepEqual([p.stepsPerEpoch, p.speech.stepsPerEpoch], [30, 30]);
  assert.deepEqual(withOverrides(PROFILES.quick, { seeds: "", epochs: undefined }), PROFILES.quick);
  assert.throws(
    () => withOverrides(PROFILES.quick, { epochs: "five" }),
    /parameter epochs = "five"/,
  );
  assert.throws(() => withOverrides(PROFILES.quick, { seeds: "a,b" }), /parameter seeds = "a,b"/);
});

Deno.test("settingsTable lists a field only some runs have (a kind's own), absent where missing", () => {
  const base = fakeRun([1, 1], [0.1, 0.1]);
  const diveq = { ...base, config: resolveConfig({ passer: { kind: "diveq" } }) };
  const html = settingsTable([base, diveq]).html;
  const row = html.match(/<td[^>]*>passer\.variance<\/td><td[^>]*>([^<]*)<\/td>/);
  assert.ok(row, "passer.variance has a row although the first run lacks it");
  assert.equal(row[1], "varies: absent, 0.005");
});
