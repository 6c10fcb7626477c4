import assert from "node:assert/strict";
import {
  activeRmsDb,
  activeShare,
  activeValidationPicks,
  frameEnergies,
  listeningPicks,
  normalise,
  SpeechSegments,
} from "./segments.ts";
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

// Bursts of a tone: `on` of every 0.1 s active, the rest silence.
const bursts = (seconds: number, on: number, seedShift = 0) =>
  Float32Array.from(
    { length: seconds * 8000 },
    (_, i) => (i % 800) < on * 800 ? 0.2 * Math.sin((i + seedShift) / 4) : 0,
  );

Deno.test("activeValidationPicks: only windows ≥ minActive active, equal share over speakers, no overlap", () => {
  const utterances = [
    bursts(6, 1), // speaker a: fully active
    bursts(6, 0.5), // speaker b: half active, never eligible at 0.8
    bursts(3, 1, 7), // speaker c: active
    bursts(1, 1).subarray(0, 4000), // speaker d: shorter than a window
    Float32Array.from({ length: 24000 }, (_, i) => (i < 8000 ? 0 : 0.2 * Math.sin(i / 5))), // e
  ];
  const speakers = ["a", "b", "c", "d", "e"];
  const picks = activeValidationPicks(utterances, speakers, {
    wanted: 6,
    length: 8000,
    sampleRate: 8000,
    minActive: 0.8,
  });
  const who = picks.map((p) => speakers[p.utterance]);
  assert.deepEqual([...new Set(who)].sort(), ["a", "c", "e"]);
  for (const p of picks) {
    const x = utterances[p.utterance];
    const window = x.subarray(p.start, p.start + 8000);
    assert.equal(window.length, 8000);
    assert.ok(activeShare(window, 8000, undefined, Math.max(...frameEnergies(x, 8000))) >= 0.8);
  }
  // e's first second is silence: its windows start at or after 6000 (≥ 80 % of the window active).
  for (const p of picks.filter((p) => speakers[p.utterance] === "e")) assert.ok(p.start >= 6000);
  // Per speaker, windows do not overlap.
  for (const s of ["a", "c", "e"]) {
    const starts = picks.filter((p) => speakers[p.utterance] === s).map((p) => p.start);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= 8000);
  }
  // a has 6 windows, c 3, e 2 (its first second is silence): 2 each.
  for (const s of ["a", "c", "e"]) assert.equal(who.filter((w) => w === s).length, 2, s);
  assert.equal(picks.length, 6);
  assert.throws(
    () =>
      activeValidationPicks(utterances, speakers, {
        wanted: 1,
        length: 8,
        sampleRate: 8000,
        minActive: 0,
      }),
    /minActive must be in \(0, 1\]/,
  );
});

Deno.test("SpeechSegments with minActive: validation windows of active speech, sources with start", () => {
  const u = (file: string, speaker: string, x: Float32Array): Utterance => ({
    file,
    speaker,
    language: "en",
    sampleRate: 8000,
    samples: x,
  });
  // Half padding at the start: the old selection (first samples) is half silence.
  const padded = Float32Array.from(
    { length: 16000 },
    (_, i) => (i < 4000 ? 0 : 0.1 * Math.sin(i / 3)),
  );
  const val = [u("p", "x", padded), u("q", "y", bursts(2, 1)), u("r", "z", bursts(2, 1, 3))];
  const old = new SpeechSegments([val[1]], val, { length: 8000, validationSegments: 3 });
  assert.ok(activeShare(old.validation.x.subarray(0, 8000), 8000) < 0.8);
  const seg = new SpeechSegments([val[1]], val, {
    length: 8000,
    validationSegments: 3,
    minActive: 0.8,
  });
  assert.equal(seg.validation.count, 3);
  assert.deepEqual(seg.validationSources.map((s) => s.speaker), ["x", "y", "z"]);
  for (let i = 0; i < 3; i++) {
    assert.ok(activeShare(seg.validation.x.subarray(i * 8000, (i + 1) * 8000), 8000) >= 0.8);
  }
  assert.ok(seg.validationSources[0].start >= 2000);
});

Deno.test("listeningPicks: one segment per speaker in turn", () => {
  assert.deepEqual(listeningPicks(["a", "a", "a", "b", "c", "c"], 4), [0, 3, 4, 1]);
  assert.deepEqual(listeningPicks(["a"], 3), [0]);
});
