/**
 * Which PCA frame should the base model's linear path start from? A probe for issue 18 (not part of
 * `deno task bench`): the PCA transform code at 2000 coefficients/s (frames of F samples keeping
 * F/4) for F = 32 … 256, fitted on training-split audio, scored three ways:
 *
 * - `held-out`: the 16 segments every speech table scores on (SI-SDR, mel L1, F0 agreement);
 * - `disjoint`: validation-split segments of files none of those 16 come from, SI-SDR per speaker;
 * - `loso`: leave one training speaker out, fit on the other three, SI-SDR on the one left out;
 *
 * and the mean power spectrum in a few bands (dB relative to the strongest band) of the training
 * audio and of the held-out segments by speaker: what a basis fitted on the training audio sees.
 *
 * ```sh
 * deno run -A scripts/pca_frames.ts [segments per loso speaker, default 32]
 * ```
 *
 * What it printed is in `lib/experiments/base_model.ts`'s module doc. Last line: JSON.
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { ANCHOR_PCA_SEGMENTS, PcaTransformCode } from "../lib/audio/anchors.ts";
import { ensureSpeechData, loadSplit } from "../lib/audio/corpus.ts";
import { siSdr } from "../lib/audio/metrics.ts";
import { meanScores, scoreSegments } from "../lib/audio/score.ts";
import { spectrumDb } from "../lib/audio/spectrum.ts";
import { resolveConfig } from "../lib/config.ts";
import { baseModelInput, heldOutSource } from "../lib/experiments/base_model.ts";
import { Rng } from "../lib/random.ts";

const FRAMES = [32, 64, 128, 256];
const perSpeaker = Number(Deno.args[0] ?? 32);
await initBackend("wasm");
const source = await heldOutSource();
const training = source.trainBatch(-3, ANCHOR_PCA_SEGMENTS).x;
const { count, length, x } = source.validation;
const used = new Set(source.validationSources.map((s) => s.file));
const wide = baseModelInput();
(wide.data as { validationSegments: number }).validationSegments = 128;
const more = await heldOutSource(resolveConfig(wide));
const disjoint = more.validationSources.flatMap((s, i) => used.has(s.file) ? [] : [i]);

const roundTrip = (code: PcaTransformCode, audio: Float32Array, n: number, len: number) => {
  const out = new Float32Array(n * len);
  for (let i = 0; i < n; i++) out.set(code.roundTrip(audio.slice(i * len, (i + 1) * len)), i * len);
  return out;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

// Leave-one-speaker-out material: each training speaker's utterances at −20 dB RMS.
const manifest = await ensureSpeechData({});
const bySpeaker = new Map<string, Float32Array[]>();
for (const u of await loadSplit(manifest, "train", source.sampleRate)) {
  let e = 0;
  for (const v of u.samples) e += v * v;
  const gain = 0.1 / Math.max(Math.sqrt(e / u.samples.length), 1e-9);
  const list = bySpeaker.get(u.speaker) ?? [];
  list.push(u.samples.map((v) => v * gain));
  bySpeaker.set(u.speaker, list);
}
const rng = new Rng(0);
const concat = (list: Float32Array[], limit: number) => {
  const out = new Float32Array(Math.min(limit, list.reduce((a, s) => a + s.length, 0)));
  let at = 0;
  for (const s of list) {
    if (at >= out.length) break;
    out.set(s.subarray(0, out.length - at), at);
    at += Math.min(s.length, out.length - at);
  }
  return out;
};
const tests = new Map<string, Float32Array[]>();
for (const [speaker, list] of bySpeaker) {
  const all = concat(list, Infinity), segs: Float32Array[] = [];
  while (segs.length < perSpeaker) {
    const start = Math.floor(rng.uniform() * (all.length - length) / 256) * 256;
    const seg = all.slice(start, start + length);
    if (Math.sqrt(seg.reduce((a, v) => a + v * v, 0) / length) > 0.03) segs.push(seg);
  }
  tests.set(speaker, segs);
}

const rows = [];
for (const frame of FRAMES) {
  const dims = frame / 4;
  const code = PcaTransformCode.fit(training, frame, dims);
  const held = meanScores(scoreSegments(roundTrip(code, x, count, length), x, count, length, 8000));
  const bySpk = new Map<string, number[]>();
  for (const i of disjoint) {
    const seg = more.validation.x.slice(i * length, (i + 1) * length);
    const s = siSdr(code.roundTrip(seg), seg);
    if (!Number.isFinite(s)) continue;
    const speaker = more.validationSources[i].speaker;
    bySpk.set(speaker, [...(bySpk.get(speaker) ?? []), s]);
  }
  const loso: Record<string, number> = {};
  for (const [speaker, segs] of tests) {
    const others = [...bySpeaker].filter(([s]) => s !== speaker).flatMap(([, l]) => l);
    const fit = PcaTransformCode.fit(concat(others, 1 << 21), frame, dims);
    loso[speaker] = mean(segs.map((seg) => siSdr(fit.roundTrip(seg), seg)));
  }
  const row = {
    frame,
    dims,
    heldOut: { siSdr: held.siSdr, melL1: held.melL1, f0Agreement: held.f0Agreement },
    disjoint: Object.fromEntries([...bySpk].map(([s, v]) => [s, { mean: mean(v), n: v.length }])),
    loso: { ...loso, mean: mean(Object.values(loso)) },
  };
  rows.push(row);
  console.log(
    `frame ${frame} (${dims} kept): held-out ${held.siSdr.toFixed(2)} dB / mel ${
      held.melL1.toFixed(3)
    } / F0 ${held.f0Agreement.toFixed(3)} | disjoint ${
      [...bySpk].map(([s, v]) => `${s} ${mean(v).toFixed(2)} (${v.length})`).join(", ")
    } | loso ${Object.entries(row.loso).map(([s, v]) => `${s} ${v.toFixed(2)}`).join(", ")}`,
  );
}

// Mean power per band, 256-sample Hann frames, dB relative to the strongest band.
const BANDS = [0, 62.5, 125, 250, 500, 1000, 4000];
const bandDb = (audio: Float32Array) => {
  const power = new Float64Array(BANDS.length - 1), bins = new Float64Array(BANDS.length - 1);
  for (let at = 0; at + 256 <= audio.length; at += 256) {
    const { freqs, db } = spectrumDb(audio.subarray(at, at + 256), 8000);
    freqs.forEach((f, k) => {
      const b = BANDS.findIndex((lo, j) => j < BANDS.length - 1 && f >= lo && f < BANDS[j + 1]);
      if (b >= 0) (power[b] += 10 ** (db[k] / 10), bins[b]++);
    });
  }
  const db = Array.from(power, (p, b) => 10 * Math.log10(p / bins[b]));
  const top = Math.max(...db);
  return db.map((v) => Math.round((v - top) * 10) / 10);
};
const spectra: Record<string, number[]> = { training: bandDb(training.subarray(0, 1 << 22)) };
const groups = new Map<string, number[]>();
source.validationSources.forEach((s, i) => {
  const group = s.speaker.startsWith("codec2:") ? "codec2 clips" : s.speaker;
  groups.set(group, [...(groups.get(group) ?? []), i]);
});
for (const [group, idx] of groups) {
  const audio = new Float32Array(idx.length * length);
  idx.forEach((i, j) => audio.set(x.subarray(i * length, (i + 1) * length), j * length));
  spectra[`held-out ${group}`] = bandDb(audio);
}
console.log(`bands (Hz) ${BANDS.slice(0, -1).map((lo, j) => `${lo}–${BANDS[j + 1]}`).join(" | ")}`);
for (const [name, db] of Object.entries(spectra)) console.log(`${name}: ${db.join(" | ")} dB`);
console.log(JSON.stringify({ frames: rows, bands: BANDS, spectra }));
