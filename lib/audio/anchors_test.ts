import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";
import {
  anchorSystems,
  CODEC2_BITRATE,
  codec2RoundTrip,
  MissingCodecError,
  opusRoundTrip,
  PcaTransformCode,
} from "./anchors.ts";
import { siSdr } from "./metrics.ts";
import { pitchAgreement } from "./pitch.ts";
import { muLawRoundTrip } from "./wav.ts";
import { Rng } from "../random.ts";

const SR = 8000;

/** A vowel-like test clip: a 130 Hz harmonic tone with a slow envelope and a little noise, 2 s. */
function clip(seconds = 2): Float32Array {
  const rng = new Rng(11);
  return Float32Array.from({ length: seconds * SR }, (_, i) => {
    const t = i / SR;
    let v = 0;
    for (let h = 1; h <= 20; h++) v += Math.sin(2 * Math.PI * 130 * h * t + h * h) / h;
    return 0.1 * (0.6 + 0.4 * Math.sin(2 * Math.PI * 1.5 * t)) * v + 0.002 * rng.normal();
  });
}

Deno.test("anchors: Codec2 at every mode keeps the length, spends its bit rate and the pitch", async () => {
  const x = clip();
  for (const mode of ["3200", "2400", "1600", "700C"] as const) {
    const { audio, encodedBytes } = await codec2RoundTrip(x, mode);
    assert.equal(audio.length, x.length);
    const bitsPerSecond = (encodedBytes * 8) / (x.length / SR);
    // c2enc stores whole bytes per frame (700C: 28 bits in 4 bytes per 40 ms = 800 bit/s on
    // disk): the stored rate is the nominal one rounded up to bytes, at most 15 % above.
    const nominal = CODEC2_BITRATE[mode];
    assert.ok(
      bitsPerSecond >= nominal * 0.99 && bitsPerSecond <= nominal * 1.15,
      `${mode}: ${bitsPerSecond} bit/s`,
    );
    const { f0Agreement } = pitchAgreement(audio, x, SR);
    assert.ok(f0Agreement > 0.7, `${mode}: F0 agreement ${f0Agreement}`);
  }
});

Deno.test("anchors: Opus at 6 kbit/s keeps the length and the waveform roughly", async () => {
  const x = clip();
  const { audio, encodedBytes } = await opusRoundTrip(x, 6000);
  assert.equal(audio.length, x.length);
  const bitsPerSecond = (encodedBytes * 8) / (x.length / SR);
  // The Ogg container adds pages and headers on top of the 6 kbit/s payload.
  assert.ok(bitsPerSecond > 4000 && bitsPerSecond < 12000, `${bitsPerSecond} bit/s`);
  // A waveform codec: correlated with its input (Codec2 is not; see the module doc).
  assert.ok(siSdr(audio, x) > 2, `SI-SDR ${siSdr(audio, x)}`);
});

Deno.test("anchors: a missing codec binary names its Debian package", async () => {
  const x = clip(0.5);
  await assert.rejects(
    () => codec2RoundTrip(x, "1600", { binDir: "/nonexistent" }),
    (e: Error) => e instanceof MissingCodecError && /codec2/.test(e.message),
  );
  await assert.rejects(
    () => opusRoundTrip(x, 6000, { binDir: "/nonexistent" }),
    (e: Error) => e instanceof MissingCodecError && /opus-tools/.test(e.message),
  );
});

Deno.test("anchors: G.711 µ-law is transparent (≥ 30 dB SI-SDR) and keeps the length", () => {
  const x = clip();
  const y = muLawRoundTrip(x, SR);
  assert.equal(y.length, x.length);
  assert.ok(siSdr(y, x) > 30, `SI-SDR ${siSdr(y, x)}`);
});

Deno.test("anchors: the PCA code is exact with every component, and scalar bits cost quality", async () => {
  await initBackend();
  const rng = new Rng(5);
  // Frames of 8 samples from a 3-dimensional subspace: 3 components reconstruct exactly.
  const basis = Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => rng.normal()));
  const audio = new Float32Array(8 * 400);
  for (let f = 0; f < 400; f++) {
    const c = [rng.normal(), rng.normal(), rng.normal()];
    for (let i = 0; i < 8; i++) {
      audio[f * 8 + i] = c[0] * basis[0][i] + c[1] * basis[1][i] + c[2] * basis[2][i];
    }
  }
  const code = PcaTransformCode.fit(audio, 8, 3);
  assert.ok(siSdr(code.roundTrip(audio), audio) > 60);
  const coarse = code.withScalarQuantizer(audio, 6);
  const fine = code.withScalarQuantizer(audio, 15);
  assert.equal(coarse.bitsPerFrame, 6);
  assert.equal(fine.bitsPerFrame, 15);
  const sdrCoarse = siSdr(coarse.roundTrip(audio), audio);
  const sdrFine = siSdr(fine.roundTrip(audio), audio);
  assert.ok(sdrFine > sdrCoarse + 5, `15 bits ${sdrFine} dB vs 6 bits ${sdrCoarse} dB`);
  assert.throws(() => code.roundTrip(audio.subarray(3)), /frames of 8/);
});

Deno.test("anchors: the table's systems, their rates, and each codes a clip to its length", async () => {
  await initBackend();
  const training = clip(4);
  const systems = anchorSystems(training);
  assert.deepEqual(
    systems.map((s) => [s.name, s.bitsPerSecond]),
    [
      ["G.711 µ-law", 64000],
      ["Opus 6000", 6000],
      ["Codec2 3200", 3200],
      ["Codec2 2400", 2400],
      ["Codec2 1600", 1600],
      ["Codec2 700C", 700],
      ["PCA (continuous)", 0],
      ["PCA + scalar 4000", 4000],
      ["PCA + scalar 2500", 2500],
      ["PCA + scalar 1500", 1500],
      ["PCA + scalar 500", 500],
    ],
  );
  const x = clip(1).subarray(0, 62 * 128);
  for (const s of systems) {
    const y = await s.code(x);
    assert.equal(y.length, x.length, s.name);
    assert.ok(y.every(Number.isFinite), s.name);
  }
});

Deno.test("anchors: further continuous PCA codes at the same coefficient rate, named by their frame", async () => {
  await initBackend();
  const training = clip(4);
  const systems = anchorSystems(training, { codec2Modes: [], continuousPcaFrames: [64] });
  const extra = systems.find((s) => s.name === "PCA 64 (continuous)");
  assert.ok(extra, systems.map((s) => s.name).join(", "));
  assert.equal(extra.bitsPerSecond, 0);
  const x = clip(1).subarray(0, 62 * 128);
  const expected = PcaTransformCode.fit(training, 64, 16).roundTrip(x);
  assert.deepEqual(Array.from(await extra.code(x)), Array.from(expected));
  assert.throws(
    () => anchorSystems(training, { codec2Modes: [], continuousPcaFrames: [2] }),
    /continuousPcaFrames 2/,
  );
});
