import assert from "node:assert/strict";
import { levelDb, pitchAgreement, trackPitch } from "./pitch.ts";
import { Rng } from "../random.ts";

const SR = 8000;

/** A harmonic tone: `harmonics` partials of falling amplitude at f0, with a little noise. */
function harmonicTone(f0: number, seconds: number, harmonics = 8, seed = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => {
    let v = 0;
    for (let h = 1; h <= harmonics && h * f0 < SR / 2; h++) {
      v += Math.sin((2 * Math.PI * h * f0 * i) / SR + h) / h;
    }
    return v + 0.01 * rng.normal();
  });
}

Deno.test("pitch: YIN finds the F0 of harmonic tones within 1 % across the speech range", () => {
  for (const f0 of [70, 98.5, 120, 155, 210, 260, 333]) {
    const { f0: track, voiced } = trackPitch(harmonicTone(f0, 0.5), SR);
    const hits = track.filter((v, i) => voiced[i] && Math.abs(v - f0) <= 0.01 * f0).length;
    assert.ok(hits / track.length > 0.95, `${f0} Hz: ${hits}/${track.length} frames within 1 %`);
  }
});

Deno.test("pitch: white noise is unvoiced and silence is unvoiced", () => {
  const rng = new Rng(7);
  const noise = Float32Array.from({ length: SR }, () => rng.normal());
  const { voiced } = trackPitch(noise, SR);
  const share = voiced.filter(Boolean).length / voiced.length;
  assert.ok(share < 0.05, `noise voiced in ${(100 * share).toFixed(1)} % of frames`);
  assert.ok(trackPitch(new Float32Array(SR), SR).voiced.every((v) => !v));
});

Deno.test("pitch agreement: 1 for the signal itself, ~0 for noise or a wrong pitch, level in dB", () => {
  const tone = harmonicTone(140, 1);
  const self = pitchAgreement(tone, tone, SR);
  assert.equal(self.f0Agreement, 1);
  assert.equal(self.voicingAgreement, 1);
  const rng = new Rng(3);
  const noise = Float32Array.from(tone, () => 0.5 * rng.normal());
  assert.ok(pitchAgreement(noise, tone, SR).f0Agreement < 0.05);
  // A semitone off (6 %) is outside the 5 % tolerance; 2 % is inside.
  assert.ok(pitchAgreement(harmonicTone(140 * 1.06, 1), tone, SR).f0Agreement < 0.05);
  assert.ok(pitchAgreement(harmonicTone(140 * 1.02, 1), tone, SR).f0Agreement > 0.95);
  assert.ok(Math.abs(levelDb(tone.map((v) => v / 10), tone) + 20) < 1e-5);
  assert.ok(Number.isNaN(pitchAgreement(tone, new Float32Array(tone.length), SR).f0Agreement));
  assert.throws(() => pitchAgreement(tone, tone.subarray(1), SR), /samples/);
});
