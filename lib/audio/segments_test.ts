import assert from "node:assert/strict";
import { activeRmsDb, normalise, SpeechSegments } from "./segments.ts";
import type { Utterance } from "./corpus.ts";

const utt = (file: string, samples: Float32Array): Utterance => ({
  file,
  speaker: "s",
  language: "en",
  sampleRate: 8000,
  samples,
});

// 0.5 s of a sine at amplitude a, then 1.5 s of silence.
const speech = (a: number) =>
  Float32Array.from({ length: 16000 }, (_, i) => (i < 4000 ? a * Math.sin(i / 3) : 0));

Deno.test("utterance-rms normalisation sets active-speech RMS to the target, ignoring pauses", () => {
  for (const a of [0.01, 0.3]) {
    const x = normalise(speech(a), 8000, "utterance-rms", -20);
    assert.ok(Math.abs(activeRmsDb(x, 8000) + 20) < 0.01, `a=${a}: ${activeRmsDb(x, 8000)}`);
    // Plain RMS over the whole file would be 6 dB lower (1/4 of the time active).
  }
  const p = normalise(speech(0.1), 8000, "utterance-peak", -6);
  assert.ok(Math.abs(Math.max(...p) - 10 ** (-6 / 20)) < 1e-3);
  assert.deepEqual(normalise(speech(0.1), 8000, "none"), speech(0.1));
  assert.throws(() => normalise(speech(0.1), 8000, "loud" as never), /normalisation must be/);
});

Deno.test("trainBatch: deterministic per (seed, step), draws ∝ length, pads short utterances", () => {
  const long = utt("long", Float32Array.from({ length: 30000 }, (_, i) => 0.1 + (i % 100) / 1000));
  const short = utt("short", new Float32Array(100).fill(0.5));
  const seg = new SpeechSegments([long, short], [short, long], {
    length: 1000,
    seed: 7,
    normalisation: "none",
  });
  assert.deepEqual(seg.trainBatch(3, 16).x, seg.trainBatch(3, 16).x);
  assert.notDeepEqual(seg.trainBatch(3, 16).x, seg.trainBatch(4, 16).x);
  assert.notDeepEqual(
    seg.trainBatch(3, 16).x,
    new SpeechSegments([long, short], [], { length: 1000, seed: 8, normalisation: "none" })
      .trainBatch(3, 16).x,
  );
  // The short utterance holds 100 / 30100 of the audio: about 0.3% of 2000 segments.
  const { x, count, length } = seg.trainBatch(0, 2000);
  let shortOnes = 0;
  for (let b = 0; b < count; b++) {
    const row = x.subarray(b * length, (b + 1) * length);
    if (row.includes(0.5)) {
      shortOnes++;
      assert.equal(row.filter((v) => v === 0.5).length, 100); // whole, zero-padded
      assert.equal(row.filter((v) => v === 0).length, 900);
    }
  }
  assert.ok(shortOnes >= 1 && shortOnes <= 20, `short utterance drawn ${shortOnes} times`);
  // Validation: fixed, from the start of each utterance, zero-padded.
  assert.equal(seg.validation.count, 2);
  assert.deepEqual(Array.from(seg.validation.x.subarray(0, 3)), [0.5, 0.5, 0.5]);
  assert.equal(seg.validation.x[100], 0);
  assert.deepEqual(seg.validationSources.map((s) => s.file), ["short", "long"]);
  assert.throws(() => seg.trainBatch(-1, 2), /step must be a non-negative integer/);
  assert.throws(
    () => new SpeechSegments([], [], { length: 10 }),
    /training split has no utterances/,
  );
});

Deno.test("validation set: every speaker gets an equal share, files evenly spaced", () => {
  const mk = (speaker: string, i: number): Utterance => ({
    ...utt(`${speaker}${i}`, new Float32Array(10).fill(0.1)),
    speaker,
  });
  const big = Array.from({ length: 10 }, (_, i) => mk("big", i));
  const validation = [...big, mk("one", 0), mk("two", 0), mk("two", 1)];
  const seg = new SpeechSegments([mk("t", 0)], validation, {
    length: 10,
    validationSegments: 6,
    normalisation: "none",
  });
  const files = seg.validationSources.map((s) => s.file);
  // Quotas 3 / 1 / 2: "one" and "two" give all they have; "big" gets files 0, 3, 6.
  assert.deepEqual(files, ["big0", "big3", "big6", "one0", "two0", "two1"]);
});
