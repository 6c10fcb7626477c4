import assert from "node:assert/strict";
import FFT from "fft.js";
import { initBackend, tf } from "../backend.ts";
import { Rng } from "../random.ts";
import {
  dacMelScales,
  hannWindow,
  logMagnitudeStftLoss,
  melFilterbank,
  melL1PerSegment,
  melSpectrogramLoss,
  stftFrames,
  stftMagnitude,
} from "./stft.ts";

await initBackend();

/** Reference STFT magnitudes with fft.js in float64, torch.stft(center=True, reflect) framing. */
function referenceStft(x: Float64Array, window: number, hop: number, center: boolean): number[][] {
  const p = center ? window / 2 : 0;
  const n = x.length;
  const padded = new Float64Array(n + 2 * p);
  for (let i = 0; i < padded.length; i++) {
    const j = i - p;
    padded[i] = j < 0 ? x[-j] : j >= n ? x[2 * (n - 1) - j] : x[j];
  }
  const w = hannWindow(window);
  const fft = new FFT(window);
  const out = fft.createComplexArray() as number[];
  const frames: number[][] = [];
  for (let t = 0; t * hop + window <= padded.length; t++) {
    const frame = new Array<number>(window);
    for (let i = 0; i < window; i++) frame[i] = padded[t * hop + i] * w[i];
    fft.realTransform(out, frame);
    const mags: number[] = [];
    for (let k = 0; k <= window / 2; k++) mags.push(Math.hypot(out[2 * k], out[2 * k + 1]));
    frames.push(mags);
  }
  return frames;
}

for (
  const [window, hop, center] of [
    [64, 16, true],
    [256, 64, true],
    [1024, 256, true],
    [
      128,
      48,
      true,
    ],
    [64, 16, false],
    [32, 40, false],
  ] as const
) {
  Deno.test(`stftMagnitude matches fft.js within 1e-4 (window ${window}, hop ${hop}, center ${center})`, () => {
    const rng = new Rng(window + hop);
    const n = 3000;
    const batch = 2;
    const signals = Array.from({ length: batch }, (_, b) => {
      const s = new Float64Array(n);
      // Speech-like mix: a few tones with a varying envelope plus noise.
      for (let i = 0; i < n; i++) {
        s[i] = Math.sin(0.05 * i * (b + 1)) * (0.5 + 0.5 * Math.sin(i / 300)) +
          0.3 * Math.sin(0.7 * i) + 0.1 * rng.normal();
      }
      return s;
    });
    const x = tf.tensor2d(signals.flatMap((s) => Array.from(s)), [batch, n]);
    const mag = stftMagnitude(x, window, hop, { center });
    const frames = stftFrames(n, window, hop, center);
    assert.deepEqual(mag.shape, [batch, frames, window / 2 + 1]);
    const got = mag.arraySync();
    for (let b = 0; b < batch; b++) {
      const ref = referenceStft(signals[b], window, hop, center);
      assert.equal(ref.length, frames);
      let err2 = 0, ref2 = 0, peak = 0, worst = 0;
      for (let t = 0; t < frames; t++) {
        for (let k = 0; k <= window / 2; k++) {
          const d = got[b][t][k] - ref[t][k];
          err2 += d * d;
          ref2 += ref[t][k] ** 2;
          peak = Math.max(peak, ref[t][k]);
          worst = Math.max(worst, Math.abs(d));
        }
      }
      const rel = Math.sqrt(err2 / ref2);
      assert.ok(rel < 1e-4, `relative L2 error ${rel}`);
      assert.ok(worst < 1e-4 * peak, `worst bin error ${worst} vs peak ${peak}`);
    }
    tf.dispose([x, mag]);
  });
}

Deno.test("stftMagnitude: a bin-centred sine peaks in its bin with amplitude·window/4", () => {
  const window = 256, n = 4096, k0 = 20;
  const x = tf.tensor2d(
    Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * k0 * i) / window)),
    [1, n],
  );
  const m = stftMagnitude(x, window, 64).arraySync()[0];
  const mid = m[Math.floor(m.length / 2)];
  assert.equal(mid.indexOf(Math.max(...mid)), k0);
  assert.ok(Math.abs(mid[k0] - window / 4) < 1e-3 * window, `peak ${mid[k0]}`);
  x.dispose();
});

Deno.test("stftMagnitude rejects bad shapes with a message naming the field", () => {
  const x = tf.zeros([1, 100]) as tf.Tensor2D;
  assert.throws(() => stftMagnitude(x, 63, 16), /window must be an even integer/);
  assert.throws(() => stftMagnitude(x, 64, 0), /hop must be a positive integer/);
  assert.throws(() => stftMagnitude(x, 256, 64), /reflect padding needs more than/);
  assert.throws(() => stftMagnitude(tf.zeros([100]) as never, 64, 16), /\[batch, samples\]/);
  x.dispose();
});

/** Loss in float64 from the fft.js reference: Σ_scales mean |log10 max(M·|X|, c) − log10 max(M·|Y|, c)|. */
function referenceLoss(
  x: Float64Array[],
  y: Float64Array[],
  scales: { window: number; fb?: Float32Array; mels?: number }[],
): number {
  let total = 0;
  for (const { window, fb, mels } of scales) {
    let sum = 0, count = 0;
    for (let b = 0; b < x.length; b++) {
      const [a, c] = [x[b], y[b]].map((s) => {
        const frames = referenceStft(s, window, window / 4, true);
        if (!fb || !mels) return frames;
        return frames.map((f) =>
          Array.from(
            { length: mels },
            (_, m) => f.reduce((acc, v, k) => acc + v * fb[k * mels + m], 0),
          )
        );
      });
      for (let t = 0; t < a.length; t++) {
        for (let k = 0; k < a[t].length; k++) {
          sum += Math.abs(
            Math.log10(Math.max(a[t][k], 1e-5)) - Math.log10(Math.max(c[t][k], 1e-5)),
          );
          count++;
        }
      }
    }
    total += sum / count;
  }
  return total;
}

/**
 * The tfjs gradient of a loss against central differences of the float64 reference loss, along
 * random directions and along single samples inside the reflect-padded edges.
 */
function checkGradient(
  name: string,
  f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar,
  scales: { window: number; fb?: Float32Array; mels?: number }[],
) {
  const rng = new Rng(5);
  const n = 400;
  const xs = [0, 1].map(() => Float64Array.from(rng.normals(n)));
  const ys = [0, 1].map(() => Float64Array.from(rng.normals(n)));
  const x = tf.tensor2d(xs.flatMap((s) => Array.from(s)), [2, n]);
  const y = tf.tensor2d(ys.flatMap((s) => Array.from(s)), [2, n]);
  const tfLoss = f(x, y).dataSync()[0];
  const refLoss = referenceLoss(xs, ys, scales);
  assert.ok(Math.abs(tfLoss - refLoss) < 1e-4 * refLoss, `${name}: ${tfLoss} vs ${refLoss}`);
  const grad = tf.grad((xx: tf.Tensor) => f(xx as tf.Tensor2D, y))(x);
  const g = grad.dataSync();
  const h = 1e-6;
  const along = (v: Float64Array[]) => {
    const shift = (s: number) => xs.map((row, b) => row.map((xi, i) => xi + s * v[b][i]));
    return (referenceLoss(shift(h), ys, scales) - referenceLoss(shift(-h), ys, scales)) / (2 * h);
  };
  for (let trial = 0; trial < 3; trial++) {
    const v = [0, 1].map(() => Float64Array.from(rng.normals(n)));
    const analytic = v.reduce(
      (acc, row, b) => acc + row.reduce((a, vi, i) => a + vi * g[b * n + i], 0),
      0,
    );
    const numeric = along(v);
    assert.ok(
      Math.abs(analytic - numeric) <= 1e-3 * Math.abs(numeric) + 1e-6,
      `${name} trial ${trial}: analytic ${analytic} vs finite difference ${numeric}`,
    );
  }
  for (const i of [0, 1, 3, n - 2, n - 1]) {
    const e = [0, 1].map((b) =>
      Float64Array.from({ length: n }, (_, j) => (b === 0 && j === i ? 1 : 0))
    );
    const numeric = along(e);
    assert.ok(
      Math.abs(g[i] - numeric) <= 1e-3 * Math.abs(numeric) + 1e-6,
      `${name} ∂/∂x[${i}]: analytic ${g[i]} vs finite difference ${numeric}`,
    );
  }
  tf.dispose([x, y, grad]);
}

Deno.test("logMagnitudeStftLoss: value and gradient match a float64 fft.js reference (edges too)", () => {
  const windows = [32, 64, 128];
  checkGradient(
    "stft loss",
    (x, y) => logMagnitudeStftLoss(x, y, { windows }),
    windows.map((window) => ({ window })),
  );
});

Deno.test("melSpectrogramLoss: value and gradient match a float64 fft.js reference", () => {
  const scales = dacMelScales(8000).slice(0, 5);
  checkGradient(
    "mel loss",
    (x, y) => melSpectrogramLoss(x, y, 8000, { scales }),
    scales.map(({ window, mels }) => ({ window, mels, fb: melFilterbank(8000, window, mels) })),
  );
});

Deno.test("losses are zero for identical inputs, positive otherwise, and leak no tensors", () => {
  const rng = new Rng(3);
  const x = tf.tensor2d(rng.normals(4000), [2, 2000]);
  const y = tf.tensor2d(rng.normals(4000), [2, 2000]);
  let before = 0;
  for (let i = 0; i < 3; i++) {
    const same = logMagnitudeStftLoss(x, x);
    const diff = logMagnitudeStftLoss(x, y);
    const melSame = melSpectrogramLoss(x, x, 8000);
    const melDiff = melSpectrogramLoss(x, y, 8000);
    assert.equal(same.dataSync()[0], 0);
    assert.equal(melSame.dataSync()[0], 0);
    assert.ok(diff.dataSync()[0] > 0.01 && melDiff.dataSync()[0] > 0.01);
    tf.dispose([same, diff, melSame, melDiff]);
    // The first pass caches the DFT and mel bases; later passes allocate nothing that stays.
    if (i === 0) before = tf.memory().numTensors;
    else assert.equal(tf.memory().numTensors, before);
  }
  tf.dispose([x, y]);
});

Deno.test("dacMelScales: DAC's 44.1 kHz scales map to the documented 8 and 16 kHz values", () => {
  assert.deepEqual(dacMelScales(44100).map((s) => s.window), [32, 64, 128, 256, 512, 1024, 2048]);
  assert.deepEqual(dacMelScales(44100).map((s) => s.mels), [5, 10, 20, 40, 80, 160, 320]);
  assert.deepEqual(dacMelScales(8000).map((s) => s.window), [8, 16, 32, 64, 128, 256, 512]);
  assert.deepEqual(dacMelScales(8000).map((s) => s.mels), [3, 6, 12, 23, 47, 94, 188]);
  assert.deepEqual(dacMelScales(16000).map((s) => s.window), [16, 32, 64, 128, 256, 512, 1024]);
  assert.deepEqual(dacMelScales(16000).map((s) => s.mels), [4, 8, 15, 30, 60, 121, 241]);
});

Deno.test("melFilterbank: Slaney-normalised triangles (area 1 in Hz·(2/width)·width/2)", () => {
  const sr = 16000, window = 2048, mels = 40;
  const fb = melFilterbank(sr, window, mels);
  const nb = window / 2 + 1;
  const df = sr / window;
  for (let m = 0; m < mels; m++) {
    let area = 0;
    for (let k = 0; k < nb; k++) area += fb[k * mels + m] * df;
    // A triangle of height 2/(f2−f0) over width f2−f0 has area 1.
    assert.ok(Math.abs(area - 1) < 0.05, `mel ${m}: area ${area}`);
  }
});

Deno.test("melL1PerSegment equals melSpectrogramLoss row by row", async () => {
  await initBackend();
  const rng = new Rng(1);
  const x = tf.tensor2d(rng.normals(3 * 2048, 0.1), [3, 2048]);
  const y = tf.tensor2d(rng.normals(3 * 2048, 0.1), [3, 2048]);
  const batched = melL1PerSegment(x, tf.clone(y), 8000);
  for (let i = 0; i < 3; i++) {
    const one = melSpectrogramLoss(
      tf.slice(x, [i, 0], [1, -1]) as tf.Tensor2D,
      tf.slice(y, [i, 0], [1, -1]) as tf.Tensor2D,
      8000,
    ).dataSync()[0];
    assert.ok(Math.abs(one - batched[i]) < 1e-5 * one, `row ${i}: ${batched[i]} vs ${one}`);
  }
  tf.dispose([x, y]);
});
