import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { fakeRunResult } from "./_testing.ts";
import { PROFILES } from "./profiles.ts";
import {
  ESTIMATORS,
  type LeagueEntry,
  leagueOf,
  type LeagueRuns,
  leagueTable,
  REFERENCE,
  replacementNote,
  type TestBed,
} from "./league.ts";

/** A run of seed `seed` whose validation MSE is `mse` in every epoch (or diverged). */
function run(mse: number, seed: number, diverged = false): RunResult {
  const config = resolveConfig({ train: { seed, epochs: 3, stepsPerEpoch: 10 } });
  const history = [1, 2, 3].map((epoch) => ({
    epoch,
    step: epoch * 10,
    trainLoss: mse,
    valMse: mse,
    valMseDb: 10 * Math.log10(mse),
    maE: 2,
    codeEntropy: 6,
    codePerplexity: 64,
    symbolAccuracy: 0.5,
    wallMs: epoch * 100,
  }));
  return fakeRunResult(config, history, {
    diverged: diverged ? { step: 25, epoch: 3 } : null,
    wallMs: 300,
  });
}

const seeds = [0, 1, 2, 3, 4, 5, 6, 7];
/** An entry whose per-seed MSE is the reference's plus `shift` (plus a little seed noise). */
function entry(label: string, shift: number, divergedSeeds: number[] = []): LeagueEntry {
  const estimator = ESTIMATORS.find((e) => e.label === label) ??
    { label, source: "test", doc: "test" };
  return {
    estimator,
    cells: [],
    focus: {
      label,
      input: {},
      runs: seeds.map((s) =>
        run(1 + 0.1 * s + shift + 0.001 * ((s * 7) % 3), s, divergedSeeds.includes(s))
      ),
    },
  };
}

const bed: TestBed = {
  id: "test",
  title: "test bed",
  description: "synthetic runs",
  run: () => Promise.reject(new Error("not run")),
};

Deno.test("league: rows sorted by the paired difference against STE + CL, verdicts computed, a diverged run sorts last", () => {
  const runs: LeagueRuns = {
    profile: PROFILES.full,
    budgets: [8],
    focusBits: 8,
    cards: [],
    entries: [
      entry("STE", 0.5, [3]),
      entry("mSTE", 0.2),
      entry(REFERENCE, 0),
      entry("DiVeQ", -0.3),
      entry("SimVQ", 0.0005),
    ],
  };
  const x = leagueOf(bed, runs);
  assert.deepEqual(x.rows.map((r) => r.entry.estimator.label), [
    "DiVeQ",
    REFERENCE,
    "SimVQ",
    "mSTE",
    "STE",
  ]);
  const byLabel = new Map(x.rows.map((r) => [r.entry.estimator.label, r]));
  assert.equal(byLabel.get(REFERENCE)!.stats, null);
  assert.equal(byLabel.get("DiVeQ")!.stats!.outcome, "reproduced");
  assert.equal(byLabel.get("mSTE")!.stats!.outcome, "not reproduced");
  assert.equal(byLabel.get("STE")!.diverged, 1);
  assert.equal(byLabel.get("STE")!.stats!.method, "sign test");
  // Cost per step: the run's wall time over its 30 steps.
  assert.equal(byLabel.get("DiVeQ")!.msPerStep, 10);
  // One computed finding per estimator besides the reference, with its id and verdict.
  assert.equal(x.findings.length, 4);
  const f = x.findings.find((f) => f.id === "league-test-diveq-vs-ste-cl");
  assert.equal(f?.verdict, "reproduced");
});

Deno.test("league: refuses estimators without the reference", () => {
  const runs: LeagueRuns = {
    profile: PROFILES.full,
    budgets: [8],
    focusBits: 8,
    cards: [],
    entries: [entry("STE", 0.5)],
  };
  assert.throws(() => leagueOf(bed, runs), /reference "STE \+ CL"/);
});

Deno.test("league: every estimator's config resolves", () => {
  for (const e of ESTIMATORS) resolveConfig(structuredClone(e.input ?? {}));
  assert.ok(ESTIMATORS.some((e) => e.label === REFERENCE));
});

Deno.test("replacementNote: means with and without the replacement; identical seeds are called so; a missing row says nothing", () => {
  const values: Record<string, number[]> = {
    "DiVeQ": [0.01, 0.02],
    "DiVeQ, no replacement": [0.1, 0.2],
    "STE + CL + replacement": [0.5, 0.7],
    "STE + CL": [0.5, 0.7],
  };
  const note = replacementNote((label) => values[label] ?? null, "MSE")!;
  assert.match(note.toString(), /DiVeQ 0\.015 with it, 0\.15 without;/);
  assert.match(note.toString(), /STE \+ CL 0\.6 with it, 0\.6 without \(identical on every seed/);
  assert.doesNotMatch(note.toString(), /without \(identical[^;]*;.*DiVeQ/);
  assert.equal(replacementNote((label) => label === "DiVeQ" ? null : values[label], "MSE"), null);
});

Deno.test("league table: every row's MSE is the compared statistic (mean of the last epochs), the reference's too", () => {
  const varying = (e: LeagueEntry): LeagueEntry => ({
    ...e,
    focus: {
      ...e.focus,
      runs: e.focus.runs.map((r) => {
        // Validation MSE falls by 0.3 over the run: final = value, earlier epochs higher.
        const history = r.history.map((h, i) => ({ ...h, valMse: h.valMse + 0.1 * (2 - i) }));
        return { ...r, history, final: history.at(-1)! };
      }),
    },
  });
  const runs: LeagueRuns = {
    profile: PROFILES.full,
    budgets: [8],
    focusBits: 8,
    cards: [],
    entries: [varying(entry(REFERENCE, 0)), varying(entry("DiVeQ", -0.3))],
  };
  const x = leagueOf(bed, runs);
  const k = PROFILES.full.lastEpochs;
  const ref = x.rows.find((r) => r.stats === null)!;
  const smoothed = ref.entry.focus.runs.map((r) =>
    r.history.slice(-k).reduce((a, h) => a + h.valMse, 0) / k
  );
  const expected = smoothed.reduce((a, v) => a + v, 0) / smoothed.length;
  const finalMean = ref.entry.focus.runs.reduce((a, r) => a + r.final!.valMse, 0) / 8;
  assert.notEqual(expected.toPrecision(4), finalMean.toPrecision(4));
  const html = leagueTable(x).html;
  assert.match(html, new RegExp(`mean of the last ${k} epochs`));
  assert.ok(html.includes(`>${expected.toPrecision(4)}<`), `reference row shows ${expected}`);
  assert.ok(!html.includes(`>${finalMean.toPrecision(4)}<`), "not the final MSE");
  // The difference column is treatment − reference of the same statistic.
  const diveq = x.rows.find((r) => r.entry.estimator.label === "DiVeQ")!;
  assert.ok(Math.abs(diveq.stats!.treatmentMean! - expected - diveq.stats!.mean!) < 1e-9);
});
