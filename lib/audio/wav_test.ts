import assert from "node:assert/strict";
import { decodeWav, encodeWav, muLawRoundTrip, readWav, WavError } from "./wav.ts";
import { siSdr } from "./metrics.ts";
import { resample } from "./resample.ts";
import { Rng } from "../random.ts";
import { spectrumDb } from "./spectrum.ts";

Deno.test("WAV PCM16 round trip is bit-exact (bytes and samples)", () => {
  const ints = new Int16Array(1000);
  const rng = new Rng(1);
  for (let i = 0; i < ints.length; i++) ints[i] = Math.round(rng.uniform() * 65535) - 32768;
  ints[0] = -32768;
  ints[1] = 32767;
  const floats = Float32Array.from(ints, (v) => v / 32768);
  const bytes = encodeWav(floats, 8000, "pcm16");
  const back = decodeWav(bytes, "a.wav");
  assert.equal(back.sampleRate, 8000);
  assert.equal(back.bitDepth, "16");
  assert.deepEqual(back.samples, floats);
  assert.deepEqual(encodeWav(back.samples, 8000, "pcm16"), bytes);
});

Deno.test("WAV float32 round trip is bit-exact", () => {
  const x = new Rng(2).normals(777, 0.3);
  x[5] = 1.5; // floats may exceed full scale
  const back = decodeWav(encodeWav(x, 16000, "float32"), "f.wav");
  assert.equal(back.bitDepth, "32f");
  assert.equal(back.sampleRate, 16000);
  assert.deepEqual(back.samples, x);
});

Deno.test("WAV errors name the file and the reason: empty, random, truncated, not RIFF", async () => {
  const good = encodeWav(new Float32Array(100).fill(0.25), 8000);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /empty\.wav: empty file/],
    [crypto.getRandomValues(new Uint8Array(500)), /empty\.wav: not a RIFF\/WAVE file/],
    [good.slice(0, good.length - 10), /truncated: the data chunk declares 200 bytes but 190/],
    [good.slice(0, 44), /truncated: the data chunk declares 200 bytes but 0/],
    [good.slice(0, 30), /truncated inside the "fmt " chunk|no data chunk/],
    [good.slice(0, 8), /too short for a RIFF header/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodeWav(bytes, "empty.wav"), (err: unknown) => {
      assert.ok(err instanceof WavError, `not a WavError: ${err}`);
      assert.match(err.message, /^wav: empty\.wav: /);
      assert.match(err.message, re);
      return true;
    });
  }
  // Random bytes behind a valid-looking RIFF header still fail with a named error, never hang.
  const fake = new Uint8Array(200);
  fake.set(new TextEncoder().encode("RIFF"), 0);
  fake.set(new TextEncoder().encode("WAVE"), 8);
  fake.set(crypto.getRandomValues(new Uint8Array(188)), 12);
  assert.throws(() => decodeWav(fake, "r.wav"), /^WavError: wav: r\.wav: |wav: r\.wav: /);
  await assert.rejects(readWav("/nonexistent/x.wav"), /wav: \/nonexistent\/x\.wav: cannot read/);
});

Deno.test("WAV: µ-law and 8-bit PCM decode to the right scale; stereo is averaged", async () => {
  const { default: wavefilePkg } = await import("wavefile");
  const { WaveFile } = wavefilePkg as unknown as typeof import("wavefile");
  const mu = new WaveFile();
  mu.fromScratch(1, 8000, "16", new Int16Array([0, 16000, -16000, 8000]));
  mu.toMuLaw();
  const m = decodeWav(mu.toBuffer(), "mu.wav");
  assert.equal(m.bitDepth, "8m");
  assert.ok(
    Math.abs(m.samples[1] - 16000 / 32768) < 0.02 && Math.abs(m.samples[2] + 16000 / 32768) < 0.02,
  );
  const st = new WaveFile();
  st.fromScratch(2, 8000, "8", [new Uint8Array([128, 255]), new Uint8Array([0, 128])]);
  const s = decodeWav(st.toBuffer(), "st.wav");
  assert.equal(s.channels, 2);
  assert.deepEqual(Array.from(s.samples), [-0.5, 127 / 256]);
});

function sine(n: number, rate: number, hz: number, amp: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
}

/** RMS level in dB over the middle of a signal (away from the filter's edge transients). */
function midRmsDb(x: Float32Array): number {
  const a = Math.floor(x.length / 4), b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return 10 * Math.log10(s / (b - a));
}

Deno.test("resample keeps a sine's frequency and level (0.1 dB) and removes content above the new Nyquist", async () => {
  for (
    const [from, to, hz] of [[16000, 8000, 1000], [8000, 16000, 1000], [16000, 8000, 3000], [
      44100,
      16000,
      440,
    ]]
  ) {
    const x = sine(from, from, hz, 0.5);
    const y = await resample(x, from, to);
    assert.ok(Math.abs(y.length - to) <= 2, `${from}→${to}: length ${y.length}`);
    assert.ok(
      Math.abs(midRmsDb(y) - midRmsDb(x)) < 0.1,
      `${from}→${to} level ${midRmsDb(y)} vs ${midRmsDb(x)}`,
    );
    const spec = spectrumDb(
      y.subarray(Math.floor(y.length / 4), Math.floor(y.length / 4) + 2048),
      to,
    );
    const peak = spec.freqs[spec.db.indexOf(Math.max(...spec.db))];
    assert.ok(
      Math.abs(peak - hz) <= to / 2048,
      `${from}→${to}: peak at ${peak} Hz, expected ${hz}`,
    );
  }
  // 6 kHz (above 8 kHz's Nyquist) plus 1 kHz: after 16→8 kHz, only the 1 kHz tone's energy is left.
  const mix = sine(32000, 16000, 1000, 0.3).map((v, i) =>
    v + 0.3 * Math.sin((2 * Math.PI * 6000 * i) / 16000)
  );
  const y = await resample(mix, 16000, 8000);
  const only = await resample(sine(32000, 16000, 1000, 0.3), 16000, 8000);
  assert.ok(
    Math.abs(midRmsDb(y) - midRmsDb(only)) < 0.01,
    `6 kHz leaked: ${midRmsDb(y)} vs ${midRmsDb(only)}`,
  );
  // Aliased 6 kHz would land at 2 kHz: at least 80 dB below the 1 kHz tone.
  const spec = spectrumDb(y.subarray(4000, 4000 + 4096), 8000);
  const at = (hz: number) => spec.db[Math.round((hz / 8000) * 4096)];
  assert.ok(at(1000) - at(2000) > 80, `alias at 2 kHz: ${at(2000)} dB vs tone ${at(1000)} dB`);
  await assert.rejects(resample(mix, 0, 8000), /resample: fromRate must be a positive integer/);
});

Deno.test("µ-law round trip: G.711's ~38 dB SNR on a speech-level sine, and a PCM16 stereo downmix", () => {
  const x = sine(8001, 8000, 440, 0.3); // odd length: wavefile pads the µ-law chunk
  const y = muLawRoundTrip(x, 8000);
  assert.equal(y.length, x.length);
  const sdr = siSdr(y, x);
  assert.ok(sdr > 33 && sdr < 42, `µ-law SI-SDR ${sdr} dB`);
  const st = encodeWav(new Float32Array(4), 8000); // header to patch into stereo
  const view = new DataView(st.buffer);
  view.setUint16(22, 2, true); // channels
  view.setUint16(32, 4, true); // block align
  view.setUint32(28, 8000 * 4, true);
  const pcm = new Int16Array([1000, 3000, -2000, 0]); // frames (1000, 3000), (−2000, 0)
  st.set(new Uint8Array(pcm.buffer), 44);
  const d = decodeWav(st, "stereo.wav");
  assert.equal(d.channels, 2);
  assert.deepEqual(Array.from(d.samples), [2000 / 32768, -1000 / 32768]);
});

Deno.test("WAV: a PCM16 block size that does not match the channel count is a WavError naming the file", () => {
  const bytes = encodeWav(new Float32Array(100).fill(0.25), 8000, "pcm16");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint16(22, 2, true); // two channels, but blockAlign still 2 (one 16-bit sample)
  assert.throws(() => decodeWav(bytes, "two-channels.wav"), (e: unknown) => {
    assert.ok(e instanceof WavError, `a WavError, got ${(e as Error).name}`);
    assert.match(
      (e as Error).message,
      /two-channels\.wav: block size \(blockAlign\) 2 does not match 2 channel\(s\) × 16 bits = 4 bytes/,
    );
    return true;
  });
});
