/**
 * Pitch and level: the metrics that tell a speech codec from a noise vocoder. A noise vocoding
 * keeps the spectral envelope (mel L1 and STOI look fair) but has no pitch; SI-SDR says
 * "uncorrelated" without saying why. F0 agreement says it directly.
 *
 * - **F0 by YIN** (de Cheveigné & Kawahara 2002), per frame of `window` samples every `hop`:
 *   difference function d(τ) = Σ_j (x_j − x_{j+τ})², cumulative-mean-normalised
 *   d'(τ) = d(τ)·τ / Σ_{k≤τ} d(k); the first τ in [sr/maxF0, sr/minF0] where d' dips below
 *   `threshold` (then down to its local minimum), refined by parabolic interpolation; F0 = sr/τ.
 *   A frame is voiced when such a τ exists and its RMS is within `silenceDb` of the loudest frame
 *   of the signal. The signal is low-passed at 1 kHz first. Parameters [choice]: 40 ms window,
 *   10 ms hop, 60–400 Hz, threshold 0.15, silence −35 dB, low-pass 1 kHz.
 * - **F0 agreement** of a decoded signal with its original: the share of the original's voiced
 *   frames where the decoded frame is voiced with |F0 − F0_ref| ≤ 5 % of F0_ref (the issue's
 *   definition). **Voicing agreement**: the share of all frames where the two voicing decisions
 *   agree.
 * - **Level**: 10·log10(Σŷ² / Σy²) dB, the decoded signal's power relative to the original.
 *
 * @example
 * ```ts
 * import { trackPitch } from "./pitch.ts";
 * const sr = 8000;
 * const tone = Float32Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * 150 * i) / sr));
 * const { f0, voiced } = trackPitch(tone, sr);
 * console.log(voiced[50], Math.round(f0[50])); // true 150
 * ```
 *
 * @module
 */

/** Options of {@linkcode trackPitch}; every field is a [choice] with the default in its doc. */
export interface PitchOptions {
  /** Analysis window, s (default 0.04). */
  window?: number;
  /** Frame hop, s (default 0.01). */
  hop?: number;
  /** Lowest F0 searched, Hz (default 60). */
  minF0?: number;
  /** Highest F0 searched, Hz (default 400). */
  maxF0?: number;
  /** YIN's absolute threshold on d'(τ) (default 0.15). */
  threshold?: number;
  /** Frames quieter than the loudest frame by more than this are unvoiced, dB (default 35). */
  silenceDb?: number;
  /**
   * Low-pass the signal at this frequency first, Hz (default 1000; 0 = off): a windowed-sinc FIR
   * of 10 ms (Hann). Coded speech carries noise-like high bands (Opus's, a vocoder's) that raise
   * d'(τ) above the threshold in frames whose pitch is plainly audible.
   */
  lowpassHz?: number;
}

/** Per frame: F0 in Hz (NaN where unvoiced) and the voicing decision. */
export interface PitchTrack {
  f0: Float64Array;
  voiced: boolean[];
  /** Samples between frame starts. */
  hop: number;
}

/** YIN pitch track of `x` at `sampleRate` (module doc). */
export function trackPitch(
  x: ArrayLike<number>,
  sampleRate: number,
  options: PitchOptions = {},
): PitchTrack {
  const cutoff = options.lowpassHz ?? 1000;
  if (cutoff > 0 && cutoff < sampleRate / 2) x = lowpass(x, sampleRate, cutoff);
  const window = Math.round((options.window ?? 0.04) * sampleRate);
  const hop = Math.max(1, Math.round((options.hop ?? 0.01) * sampleRate));
  const tauMin = Math.max(2, Math.floor(sampleRate / (options.maxF0 ?? 400)));
  const tauMax = Math.ceil(sampleRate / (options.minF0 ?? 60));
  const threshold = options.threshold ?? 0.15;
  const silence = 10 ** (-(options.silenceDb ?? 35) / 10);
  const span = window + tauMax;
  const frames = x.length >= span ? Math.floor((x.length - span) / hop) + 1 : 0;
  const energy = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let e = 0;
    for (let j = f * hop; j < f * hop + window; j++) e += x[j] * x[j];
    energy[f] = e / window;
  }
  const loudest = energy.reduce((m, e) => Math.max(m, e), 0);
  const f0 = new Float64Array(frames).fill(NaN);
  const voiced: boolean[] = new Array(frames).fill(false);
  const d = new Float64Array(tauMax + 2);
  for (let f = 0; f < frames; f++) {
    if (!(energy[f] > 0) || energy[f] < silence * loudest) continue;
    const start = f * hop;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      let s = 0;
      for (let j = start; j < start + window; j++) {
        const diff = x[j] - x[j + tau];
        s += diff * diff;
      }
      d[tau] = s;
    }
    // Cumulative-mean-normalised difference, in place (d'(0) = 1 is never read).
    let running = 0;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      running += d[tau];
      d[tau] = running > 0 ? (d[tau] * tau) / running : 1;
    }
    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (d[tau] < threshold) {
        while (tau + 1 <= tauMax && d[tau + 1] < d[tau]) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) continue;
    const a = d[best - 1], b = d[best], c = d[best + 1];
    const denom = a - 2 * b + c;
    const shift = denom > 0 ? Math.max(-0.5, Math.min(0.5, (a - c) / (2 * denom))) : 0;
    f0[f] = sampleRate / (best + shift);
    voiced[f] = true;
  }
  return { f0, voiced, hop };
}

/** F0 and voicing agreement of a decoded signal with its original (module doc). */
export interface PitchAgreement {
  /** Share of the original's voiced frames where the decoded F0 is within `tolerance`; NaN when the original has none. */
  f0Agreement: number;
  /** Share of frames whose voicing decisions agree. */
  voicingAgreement: number;
  /** Voiced frames of the original. */
  voicedFrames: number;
}

/** Compare the pitch of `decoded` with that of `original` (same length and rate). */
export function pitchAgreement(
  decoded: ArrayLike<number>,
  original: ArrayLike<number>,
  sampleRate: number,
  options: PitchOptions & { tolerance?: number } = {},
): PitchAgreement {
  if (decoded.length !== original.length) {
    throw new Error(
      `pitchAgreement: decoded has ${decoded.length} samples, original ${original.length}`,
    );
  }
  const tolerance = options.tolerance ?? 0.05;
  const ref = trackPitch(original, sampleRate, options);
  const dec = trackPitch(decoded, sampleRate, options);
  let voicedFrames = 0, hits = 0, same = 0;
  for (let f = 0; f < ref.f0.length; f++) {
    if (ref.voiced[f] === dec.voiced[f]) same++;
    if (!ref.voiced[f]) continue;
    voicedFrames++;
    if (dec.voiced[f] && Math.abs(dec.f0[f] - ref.f0[f]) <= tolerance * ref.f0[f]) hits++;
  }
  return {
    f0Agreement: voicedFrames > 0 ? hits / voicedFrames : NaN,
    voicingAgreement: ref.f0.length > 0 ? same / ref.f0.length : NaN,
    voicedFrames,
  };
}

/** Power of `decoded` relative to `original`, dB (−Infinity for silence, NaN for a silent original). */
export function levelDb(decoded: ArrayLike<number>, original: ArrayLike<number>): number {
  let a = 0, b = 0;
  for (let i = 0; i < decoded.length; i++) a += decoded[i] * decoded[i];
  for (let i = 0; i < original.length; i++) b += original[i] * original[i];
  return b > 0 ? 10 * Math.log10(a / b) : NaN;
}

/** Zero-phase windowed-sinc low-pass (Hann window of 10 ms, odd length), edges zero-padded. */
function lowpass(x: ArrayLike<number>, sampleRate: number, cutoff: number): Float64Array {
  const half = Math.max(1, Math.round(0.005 * sampleRate));
  const taps = new Float64Array(2 * half + 1);
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const w = 0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1));
    const arg = (2 * cutoff * k) / sampleRate;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
    taps[k + half] = w * sinc;
    sum += taps[k + half];
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let v = 0;
    for (let k = -half; k <= half; k++) {
      const j = i + k;
      if (j >= 0 && j < x.length) v += taps[k + half] * x[j];
    }
    out[i] = v / sum;
  }
  return out;
}
