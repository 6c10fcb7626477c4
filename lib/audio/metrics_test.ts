import assert from "node:assert/strict";
import { Rng } from "../random.ts";
import { codeUsagePerStage, latentMse, siSdr, siSdrBatch } from "./metrics.ts";

const rng = new Rng(4);
const speechLike = Float32Array.from(
  { length: 8000 },
  (_, i) => Math.sin(i * 0.03) * Math.sin(i * 0.0011) + 0.2 * rng.normal() + 0.1, // offset: mean removed
);

Deno.test("SI-SDR: a signal with itself is +Infinity (or > 100 dB), scaled copies too", () => {
  const self = siSdr(speechLike, speechLike);
  assert.ok(self > 100, `self: ${self}`);
  for (const scale of [0.01, 0.5, 3]) {
    const v = siSdr(speechLike.map((x) => x * scale), speechLike);
    assert.ok(v > 100, `scale ${scale}: ${v}`);
  }
  // Mean removed: a DC offset does not count as error.
  assert.ok(siSdr(speechLike.map((x) => x + 0.7), speechLike) > 100);
});

Deno.test("SI-SDR of added white noise at a known SNR recovers the SNR (±0.01 dB)", () => {
  const mean = speechLike.reduce((s, v) => s + v, 0) / speechLike.length;
  const power = speechLike.reduce((s, v) => s + (v - mean) ** 2, 0) / speechLike.length;
  for (const snr of [-5, 0, 10, 20, 30]) {
    const noise = new Rng(snr + 100).normals(speechLike.length);
    // Scale the noise exactly, after removing its mean and its projection on the signal.
    const nMean = noise.reduce((s, v) => s + v, 0) / noise.length;
    let dot = 0;
    for (let i = 0; i < noise.length; i++) dot += (noise[i] - nMean) * (speechLike[i] - mean);
    const proj = dot / (power * speechLike.length);
    const clean = Float64Array.from(noise, (v, i) => v - nMean - proj * (speechLike[i] - mean));
    const nPow = clean.reduce((s, v) => s + v * v, 0) / clean.length;
    const g = Math.sqrt(power / nPow / 10 ** (snr / 10));
    const noisy = Float64Array.from(speechLike, (v, i) => v + g * clean[i]);
    const got = siSdr(noisy, speechLike);
    assert.ok(Math.abs(got - snr) < 0.01, `SNR ${snr}: SI-SDR ${got}`);
  }
});

Deno.test("SI-SDR: silent reference is NaN and left out of a batch mean; shape errors are named", () => {
  const batch = new Float32Array(200);
  batch.set(speechLike.subarray(0, 100), 0);
  const est = batch.map((v) => 2 * v);
  const r = siSdrBatch(est, batch, 2, 100);
  assert.equal(r.silent, 1);
  assert.ok(Number.isNaN(r.perSegment[1]));
  assert.ok(r.mean > 100);
  assert.throws(() => siSdr([1, 2], [1, 2, 3]), /siSdr: estimate has 2 samples, reference 3/);
  assert.throws(() => siSdrBatch(est, batch, 3, 100), /expected 3×100 samples/);
});

Deno.test("latentMse and code usage per stage", () => {
  assert.equal(latentMse([1, 2, 3, 4], [1, 2, 3, 6]), 1);
  // Stage 0 uses 4 codes uniformly, stage 1 one code: entropy 2 and 0 bits.
  const codes: number[] = [];
  for (let n = 0; n < 400; n++) codes.push(n % 4, 7);
  const u = codeUsagePerStage(codes, 2, 8);
  assert.equal(u[0].entropy, 2);
  assert.equal(u[0].perplexity, 4);
  assert.equal(u[0].used, 0.5);
  assert.equal(u[1].entropy, 0);
  assert.equal(u[1].perplexity, 1);
  assert.equal(u[1].used, 1 / 8);
  assert.throws(() => codeUsagePerStage([0, 9], 2, 8), /code 9 at frame 0, stage 1/);
  assert.throws(() => codeUsagePerStage([0, 1, 2], 2, 8), /do not split into 2 stages/);
});
