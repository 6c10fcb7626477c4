import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { fakeRunResult } from "./_testing.ts";
import { PROFILES } from "./profiles.ts";
import { ESTIMATORS, type LeagueEstimator, REFERENCE } from "./league.ts";
import { speechInputOf, speechLeagueOf } from "./league_speech.ts";
import { codesSpeech } from "./speech_measures.ts";
import {
  CONTINUOUS,
  REFERENCE as CONTINUOUS_REFERENCE,
  SETUPS,
  type SpeechExperiment,
} from "./speech.ts";
import { slug } from "../battery/result.ts";

const profile = {
  ...PROFILES.full,
  speech: { ...PROFILES.full.speech, epochs: 2, stepsPerEpoch: 5 },
};

/** A speech run of `seed` with final held-out metrics (or diverged). */
function run(seed: number, mel: number, siSdr: number, f0: number, diverged = false): RunResult {
  const config = resolveConfig({
    quantizer: { kind: "rvq", stages: 2, bitsPerStage: 4 },
    train: { seed, epochs: 2, stepsPerEpoch: 5 },
  });
  const metrics = {
    melL1: mel,
    siSdr,
    f0Agreement: f0,
    "codePerplexity.0": 10,
    "codePerplexity.1": 12,
  };
  const history = [1, 2].map((epoch) => ({
    epoch,
    step: epoch * 5,
    trainLoss: 1,
    valMse: 1,
    valMseDb: 0,
    maE: 2,
    codeEntropy: 3,
    codePerplexity: 8,
    symbolAccuracy: 0,
    wallMs: epoch * 100,
    metrics,
  }));
  return fakeRunResult(config, history, {
    diverged: diverged ? { step: 7, epoch: 2 } : null,
    wallMs: 500,
  });
}

const seeds = [0, 1, 2, 3];
const estimator = (label: string): LeagueEstimator =>
  ESTIMATORS.find((e) => e.label === label) ?? { label, source: "test", doc: "test", input: {} };

/** An experiment: the continuous reference and one group per label, mel L1 = 3 + shift. */
function experiment(groups: [string, number, number, number[]?][]): SpeechExperiment {
  return {
    profile,
    start: "base",
    groups: [
      {
        ...CONTINUOUS_REFERENCE,
        setup: CONTINUOUS,
        runs: seeds.map((s) => run(s, 1.5, 8, 0.8)),
      },
      ...groups.map(([label, shift, f0, diverged = []]) => ({
        id: slug(label),
        label,
        input: {},
        setup: SETUPS[0],
        runs: seeds.map((s) =>
          run(s, 3 + shift + 0.01 * ((s * 5) % 3), 2, f0, diverged.includes(s))
        ),
      })),
    ],
  };
}

Deno.test("speech league: rows sorted by the paired mel L1 difference against STE + CL; coding computed per system; each finding says whether its systems code speech", () => {
  const x = experiment([
    ["STE", 0.4, 0.1, [2]],
    [REFERENCE, 0, 0.1],
    ["DiVeQ", -0.5, 0.7],
    ["mSTE", 0.2, 0.1],
  ]);
  const league = speechLeagueOf(x, ["STE", REFERENCE, "DiVeQ", "mSTE"].map(estimator));
  assert.deepEqual(league.rows.map((r) => r.estimator.label), ["DiVeQ", REFERENCE, "mSTE", "STE"]);
  const by = new Map(league.rows.map((r) => [r.estimator.label, r]));
  assert.equal(by.get(REFERENCE)!.stats, null);
  assert.equal(by.get("DiVeQ")!.stats!.outcome, "reproduced");
  assert.equal(by.get("mSTE")!.stats!.outcome, "not reproduced");
  assert.equal(by.get("STE")!.stats!.method, "sign test");
  assert.equal(by.get("STE")!.diverged, 1);
  // SI-SDR 2 dB ≥ 0, F0 0.7 ≥ 0.6: DiVeQ codes speech; F0 0.1 does not.
  assert.equal(by.get("DiVeQ")!.codes.ok, true);
  assert.equal(by.get(REFERENCE)!.codes.ok, false);
  assert.deepEqual(by.get("DiVeQ")!.perplexity, [10, 12]);
  assert.equal(by.get("DiVeQ")!.msPerStep, 50);
  const f = league.findings.find((f) => f.id === "league-speech-diveq-vs-ste-cl")!;
  assert.equal(f.verdict, "reproduced");
  assert.match(f.detail!, /STE \+ CL does not code speech/);
  assert.match(
    league.findings.find((f) => f.id === "league-speech-mste-vs-ste-cl")!.detail!,
    /mSTE and STE \+ CL do not code speech/,
  );
});

Deno.test("speech league: codesSpeech is 07's bar on the non-diverged seeds' means", () => {
  assert.equal(codesSpeech([run(0, 1, 0.5, 0.6), run(1, 1, 0.1, 0.7)]).ok, true);
  assert.equal(codesSpeech([run(0, 1, -0.5, 0.9)]).ok, false);
  assert.equal(codesSpeech([run(0, 1, 5, 0.59)]).ok, false);
  assert.equal(codesSpeech([run(0, 1, 5, 0.9), run(1, 1, -50, 0, true)]).ok, true);
});

Deno.test("speech league: an estimator's quantizer options apply to 07's RVQ (kind and bits dropped), every entry resolves there; modules are refused naming the battery", () => {
  const simvq = speechInputOf(estimator("SimVQ"));
  assert.deepEqual(simvq.quantizer, { reparam: "linear" });
  for (const e of ESTIMATORS) {
    const c = resolveConfig({
      ...speechInputOf(e),
      quantizer: { ...SETUPS[0].quantizer, ...speechInputOf(e).quantizer },
    });
    assert.equal(c.quantizer.kind, "rvq", e.label);
  }
  assert.throws(
    () => speechInputOf({ label: "mine", source: "x", doc: "x", ref: "mine.ts#p" }),
    /battery --speech/,
  );
});
