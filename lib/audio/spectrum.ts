/**
 * Spectra for metrics and pictures (not differentiable; the losses use `stft.ts`), with the npm
 * `fft.js` (MIT, power-of-two sizes). Hann-windowed, magnitudes in dB re full scale (a full-scale
 * sine at a bin centre reads ≈ 0 dB).
 *
 * @example
 * ```ts
 * import { spectrogramDb } from "./spectrum.ts";
 * const s = spectrogramDb(new Float32Array(8000), 8000);
 * [s.frames, s.bins]; // [61, 129]
 * ```
 *
 * @module
 */
import FFT from "fft.js";
import { hannWindow } from "./stft.ts";

const _ffts = new Map<number, FFT>();
function _fft(n: number): FFT {
  let f = _ffts.get(n);
  if (!f) _ffts.set(n, f = new FFT(n));
  return f;
}

function _checkPow2(where: string, n: number) {
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) {
    throw new Error(`${where}: size must be a power of two ≥ 2, got ${n}`);
  }
}

/** dB magnitudes of one Hann-windowed frame (`x.length` a power of two), 0 dB = full-scale sine. */
export function spectrumDb(x: Float32Array, sampleRate: number): { freqs: number[]; db: number[] } {
  const n = x.length;
  _checkPow2("spectrumDb", n);
  const w = hannWindow(n);
  const frame = Array.from(x, (v, i) => v * w[i]);
  const fft = _fft(n);
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, frame);
  const freqs: number[] = [], db: number[] = [];
  for (let k = 0; k <= n / 2; k++) {
    freqs.push((k * sampleRate) / n);
    // Hann's coherent gain is 1/2; a sine of amplitude A gives |X| = A·n/4.
    db.push(20 * Math.log10(Math.hypot(out[2 * k], out[2 * k + 1]) / (n / 4) + 1e-12));
  }
  return { freqs, db };
}

/** A spectrogram: `db[t * bins + k]`, frame t, bin k (0 … sampleRate/2). */
export interface Spectrogram {
  db: Float32Array;
  frames: number;
  bins: number;
  sampleRate: number;
  hop: number;
}

/**
 * Hann-windowed spectrogram in dB (no centring: frame t covers `[t·hop, t·hop + window)`).
 * Defaults: window 256, hop 128 [choice: for pictures only].
 */
export function spectrogramDb(
  x: Float32Array,
  sampleRate: number,
  window = 256,
  hop = window / 2,
): Spectrogram {
  _checkPow2("spectrogramDb", window);
  const frames = x.length < window ? 0 : 1 + Math.floor((x.length - window) / hop);
  const bins = window / 2 + 1;
  const db = new Float32Array(frames * bins);
  const w = hannWindow(window);
  const fft = _fft(window);
  const out = fft.createComplexArray() as number[];
  const frame = new Array<number>(window);
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < window; i++) frame[i] = x[t * hop + i] * w[i];
    fft.realTransform(out, frame);
    for (let k = 0; k < bins; k++) {
      db[t * bins + k] = 20 *
        Math.log10(Math.hypot(out[2 * k], out[2 * k + 1]) / (window / 4) + 1e-12);
    }
  }
  return { db, frames, bins, sampleRate, hop };
}
