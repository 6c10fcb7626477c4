/**
 * Notebook 07's job: a trained speech run keeps its listening utterances (originals and the
 * trained codec's reconstructions) in the artefact store under its own key; a diverged run keeps
 * none. Uses the real corpus (fetched when missing).
 */
import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";
import { type ConfigInput, resolveConfig } from "../config.ts";
import { siSdr } from "../audio/metrics.ts";
import { ArtifactStore } from "../store/artifacts.ts";
import { buildSource, prepareSource } from "../sources/mod.ts";
import type { SpeechSource } from "../sources/speech.ts";
import { listeningKey, listeningPicks, trainSpeech } from "./speech_job.ts";
import { PROFILES } from "./common.ts";
import {
  CONDITION_LEARNING_RATE,
  configOf,
  groupsOf,
  PASSERS,
  profileOf,
  SETUPS,
  type SpeechExperiment,
} from "./speech.ts";
import { findings } from "./speech_findings.ts";
import { referenceCodesSpeech } from "./speech_tables.ts";
import { createSession } from "../train.ts";
import { BASE_MODEL_FILES, baseModelConfig, loadBaseModel } from "./base_model.ts";
import type { EpochRecord, RunResult } from "../result.ts";

await initBackend();

const TINY: ConfigInput = {
  data: {
    kind: "speech",
    segmentSamples: 512,
    validationSegments: 12,
    validationSamples: 1024,
    validationBatch: 6,
    spectralWindows: [64, 256],
  },
  codec: { kind: "conv", channels: 4, strides: [2, 4], latentDim: 4, dilations: [1] },
  quantizer: { kind: "rvq", stages: 2, bitsPerStage: 3, init: "kmeans" },
  train: { epochs: 1, stepsPerEpoch: 3, batchSize: 4, commitment: 0.25 },
};

Deno.test("listening picks: one non-silent segment per held-out speaker, deterministic", async () => {
  const cfg = resolveConfig(TINY);
  await prepareSource(cfg.data);
  const source = buildSource(cfg.data, 0) as SpeechSource;
  const picks = listeningPicks(source, 4);
  assert.equal(picks.length, 4);
  const speakers = picks.map((p) => source.validationSources[p].speaker);
  assert.equal(new Set(speakers).size, 4, "distinct speakers");
  assert.deepEqual(listeningPicks(buildSource(cfg.data, 5) as SpeechSource, 4), picks);
});

Deno.test("trainSpeech keeps a trained run's reconstructions under its key, none when diverged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-speech-artifacts-" });
  const before = Deno.env.get("QUANTLAB_CACHE");
  Deno.env.set("QUANTLAB_CACHE", dir);
  try {
    const cfg = resolveConfig(TINY);
    const result = await trainSpeech(cfg);
    assert.equal(result.diverged, null);
    const stored = await new ArtifactStore().getKeyed(listeningKey(cfg));
    assert.ok(stored, "artefact stored");
    const [n, length] = stored.tensors.original.shape;
    assert.equal(length, 1024);
    assert.ok(n >= 2);
    assert.deepEqual(stored.tensors.decoded.shape, [n, length]);
    const o = stored.tensors.original.data, d = stored.tensors.decoded.data;
    assert.ok(d.some((v) => v !== 0) && Number.isFinite(siSdr(d, o)));
    assert.notDeepEqual(o, d);

    const bad = resolveConfig({ ...TINY, train: { ...TINY.train, divergenceThreshold: 1e-6 } });
    const diverged = await trainSpeech(bad);
    assert.ok(diverged.diverged);
    assert.equal(await new ArtifactStore().getKeyed(listeningKey(bad)), null);
  } finally {
    if (before === undefined) Deno.env.delete("QUANTLAB_CACHE");
    else Deno.env.set("QUANTLAB_CACHE", before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebook 07's configs: the base model's codec with its committed weights, traced every step", () => {
  const sha = JSON.parse(Deno.readTextFileSync(BASE_MODEL_FILES.provenance)).sha256;
  const base = baseModelConfig();
  for (const profile of Object.values(PROFILES)) {
    for (const { setup, passer } of groupsOf()) {
      const cfg = resolveConfig(configOf(profile, setup, passer, profile.speech.seeds[0]));
      assert.equal(cfg.data.kind, "speech");
      assert.equal(cfg.codec.kind, "conv");
      assert.equal(cfg.train.traceEvery, 1);
      assert.equal(
        cfg.train.epochs * cfg.train.stepsPerEpoch,
        profile.speech.epochs * profile.speech.stepsPerEpoch,
      );
      // start = "base": the base model's codec, loaded from the committed, hash-checked file.
      const { weights, ...codec } = cfg.codec as typeof cfg.codec & { weights?: unknown };
      assert.deepEqual(weights, { checkpoint: "data/base/continuous.qlartf", sha256: sha });
      assert.deepEqual(codec, base.codec);
      assert.equal(cfg.train.divergenceThreshold, resolveConfig({}).train.divergenceThreshold);
      if (setup.id === "continuous") assert.equal(cfg.quantizer.kind, "none");
      if (passer.id.endsWith("lr-high")) {
        assert.equal(cfg.train.learningRate, CONDITION_LEARNING_RATE);
      }
    }
    const scratch = resolveConfig(configOf(profile, SETUPS[0], PASSERS[0], 0, "scratch"));
    assert.deepEqual(scratch.codec, base.codec, "from scratch: the recipe, no stored weights");
  }
  assert.ok(PROFILES.full.speech.seeds.length >= 4, "≥ 4 seeds in the full profile");
});

Deno.test("07's parameters: profile, seeds and steps checked and applied", () => {
  const p = profileOf("full", { seeds: [3, 4], steps: 30 });
  assert.deepEqual(p.speech.seeds, [3, 4]);
  assert.equal(p.speech.epochs * p.speech.stepsPerEpoch, 30);
  assert.deepEqual(profileOf("quick").speech, PROFILES.quick.speech);
  assert.throws(() => profileOf("fast"), /profile = "fast" is invalid/);
  assert.throws(() => profileOf("quick", { seeds: [] }), /seeds = \[\] is invalid/);
  assert.throws(() => profileOf("quick", { steps: 1.5 }), /steps = 1.5 is invalid/);
});

Deno.test("07's fine-tuning starts from the base model's weights (the trainer's codec initialisation)", async () => {
  const cfg = resolveConfig(configOf(PROFILES.quick, SETUPS[1], PASSERS[0], 0));
  await prepareSource(cfg.data);
  const session = createSession(cfg);
  const base = await loadBaseModel();
  const same = (a: { dataSync(): unknown }[], b: { dataSync(): unknown }[]) =>
    a.length === b.length &&
    a.every((v, i) => {
      const x = v.dataSync() as Float32Array, y = b[i].dataSync() as Float32Array;
      return x.length === y.length && x.every((e, j) => e === y[j]);
    });
  assert.ok(same(session.codec.encoderVariables, base.parts.codec.encoderVariables));
  assert.ok(same(session.codec.decoderVariables, base.parts.codec.decoderVariables));
  const scratch = createSession(
    resolveConfig(configOf(PROFILES.quick, SETUPS[1], PASSERS[0], 0, "scratch")),
  );
  assert.ok(!same(scratch.codec.decoderVariables, base.parts.codec.decoderVariables));
  session.dispose();
  scratch.dispose();
  base.parts.codec.dispose();
});

/** A run of a group with per-epoch MA-E and final metrics, or diverged. */
function fakeRun(
  config: ReturnType<typeof resolveConfig>,
  maE: number[],
  mel: number,
  diverged = false,
): RunResult {
  const history = maE.map((m, i) => ({
    epoch: i + 1,
    step: (i + 1) * 10,
    maE: m,
    metrics: { melL1: mel, siSdr: 9 - mel, f0Agreement: 0.7 },
  })) as unknown as EpochRecord[];
  return {
    config,
    history,
    final: history.at(-1) ?? null,
    diverged: diverged ? { step: 7, epoch: 1, reason: "test" } : null,
    versions: {} as RunResult["versions"],
    wallMs: 1,
    peakRssMb: 1,
    steps: { every: 1, loss: [1], maE: [maE[0] ?? 1] },
  };
}

Deno.test("07's verdicts are computed from the runs: divergence, boundedness, paired comparisons", () => {
  const profile = profileOf("full", { seeds: [0, 1, 2, 3] });
  const x: SpeechExperiment = {
    profile,
    start: "base",
    groups: groupsOf().map(({ setup, passer }) => ({
      ...passer,
      setup,
      runs: profile.speech.seeds.map((seed) => {
        const cfg = resolveConfig(configOf(PROFILES.quick, setup, passer, seed));
        const mel = passer.id === "mste" ? 2 + seed / 100 : passer.id === "ste" ? 3 : 2.5;
        const diverges = passer.id === "ste" && setup.id === "dac" ||
          passer.id === "ste-lr-high";
        return fakeRun(cfg, diverges ? [] : [1, 1.2, 1.1], mel, diverges);
      }),
    })),
  };
  const f = Object.fromEntries(findings(x).map((f) => [f.id, f]));
  assert.equal(f["A-speech-ste-unbounded-dac"].verdict, "reproduced");
  assert.equal(f["A-speech-ste-unbounded-euclidean"].verdict, "not reproduced");
  assert.equal(f["A-speech-mste-bounded-dac"].verdict, "reproduced");
  // mSTE's mel L1 below STE's in every seed; in dac, STE diverged: the sign test decides.
  assert.equal(f["A-speech-mste-beats-ste-euclidean"].verdict, "reproduced");
  assert.equal(f["A-speech-mste-beats-ste-euclidean"].stats!.method, "paired t");
  assert.equal(f["A-speech-mste-beats-ste-dac"].stats!.method, "sign test");
  assert.equal(f["A-speech-mste-beats-ste-cl-dac"].verdict, "reproduced");
  assert.equal(f["A-speech-na-attached-beats-detached-dac"].verdict, "inconclusive");
  assert.equal(f["A-speech-ste-diverges-at-larger-lr"].verdict, "reproduced");
  assert.match(f["A-speech-ste-diverges-at-larger-lr"].detail!, /no run of .* diverged/);
  assert.equal(f["A-speech-cl-mste-bounded-at-larger-lr"].verdict, "reproduced");
  const ref = referenceCodesSpeech(x);
  assert.equal(ref.siSdr, 6.5);
  assert.equal(ref.ok, true);
});
