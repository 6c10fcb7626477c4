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
import { configOf, groupsOf } from "./speech.ts";

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

Deno.test("notebook 07's configs resolve in both profiles, speech and conv, traced every step", () => {
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
    }
  }
});
