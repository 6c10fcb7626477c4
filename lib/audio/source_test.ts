import assert from "node:assert/strict";
import { ConfigError } from "../config.ts";
import { loadSpeechSource, resolveSpeechConfig, SPEECH_DEFAULTS } from "./source.ts";

Deno.test("resolveSpeechConfig: defaults (8 kHz) and errors that name the field", () => {
  assert.deepEqual(resolveSpeechConfig(), SPEECH_DEFAULTS);
  assert.equal(resolveSpeechConfig().sampleRate, 8000);
  assert.equal(resolveSpeechConfig({ sampleRate: 16000 }).sampleRate, 16000);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ sampleRate: 0 }, /config\.data\.sampleRate = 0 is invalid: expected a positive integer/],
    [{ segmentSamples: 1.5 }, /data\.segmentSamples/],
    [
      { normalisation: "loud" },
      /data\.normalisation = "loud".*utterance-rms \| utterance-peak \| none/,
    ],
    [{ targetDb: 3 }, /data\.targetDb/],
    [{ heldOutSpeaker: "codec2:hts1a" }, /data\.heldOutSpeaker/],
    [{ sampleRte: 8000 }, /data\.sampleRte = 8000 is invalid: expected one of kind, sampleRate/],
  ];
  for (const [input, re] of bad) {
    assert.throws(() => resolveSpeechConfig(input as never), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("loadSpeechSource: the real corpus as [batch, samples] Float32Array batches", async () => {
  const cfg = resolveSpeechConfig({ segmentSamples: 2048, validationSegments: 32, seed: 4 });
  const speech = await loadSpeechSource(cfg);
  assert.ok(speech.trainSeconds / 60 > 120, `train minutes ${speech.trainSeconds / 60}`);
  const { x, count, length } = speech.trainBatch(0, 16);
  assert.equal(x.length, 16 * 2048);
  assert.equal(count, 16);
  assert.equal(length, 2048);
  assert.deepEqual(speech.trainBatch(0, 16).x, x);
  assert.equal(speech.validation.count, 32);
  // Validation comes only from held-out voices; none of them trains.
  assert.ok(
    speech.validationSources.every((s) =>
      !["asterisk:allison-smith", "asterisk:carlo-flora"].includes(s.speaker)
    ),
  );
  assert.ok(new Set(speech.validationSources.map((s) => s.speaker)).size >= 5);
});
