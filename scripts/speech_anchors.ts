/**
 * `./quantlab speech-anchors`: the base continuous model beside real codecs (Codec2, Opus,
 * G.711) and the PCA transform code, scored on the held-out set with the same metrics (SI-SDR,
 * mel L1, F0 agreement, voicing agreement, level). Prints a table and, last, one JSON line.
 *
 * Options: `--recompute` (retrain the base model instead of reading `data/base/`; cached in the
 * artefact store), `--no-model` (anchors only), `--json-only`, `--listen DIR` (write, for three
 * held-out segments, each system's decoding as a WAV and a spectrogram PNG into DIR: listen to
 * what the numbers describe).
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { ANCHOR_PCA_SEGMENTS, anchorSystems } from "../lib/audio/anchors.ts";
import { spectrogramPng } from "../lib/audio/display.ts";
import { writeWav } from "../lib/audio/wav.ts";
import { meanScores, scoreSegments, type SegmentScores } from "../lib/audio/score.ts";
import {
  BASE_PCA_FRAME,
  baseModelConfig,
  decodeHeldOut,
  heldOutSource,
  loadBaseModel,
  scoreHeldOut,
} from "../lib/experiments/base_model.ts";

const argv = [...Deno.args];
let listenDir: string | null = null;
const listenAt = argv.indexOf("--listen");
if (listenAt >= 0) {
  listenDir = argv[listenAt + 1] ?? null;
  if (!listenDir || listenDir.startsWith("--")) {
    console.error("speech-anchors: --listen needs a directory");
    Deno.exit(2);
  }
  argv.splice(listenAt, 2);
}
const args = new Set(argv);
for (const a of args) {
  if (!["--recompute", "--no-model", "--json-only"].includes(a)) {
    console.error(
      `speech-anchors: unknown option ${a} (--recompute, --no-model, --json-only, --listen DIR)`,
    );
    Deno.exit(2);
  }
}
const log = (msg: string) => args.has("--json-only") || console.error(msg);
await initBackend("wasm");
const config = baseModelConfig();
const source = await heldOutSource(config);
const { count, length, x } = source.validation;
// PCA basis and scalar quantizers fitted on training-split audio no validation segment shares.
const training = source.trainBatch(-3, ANCHOR_PCA_SEGMENTS).x;

const rows: {
  system: string;
  bitsPerSecond: number;
  scores: SegmentScores;
  decoded: Float32Array;
}[] = [];
if (!args.has("--no-model")) {
  const model = await loadBaseModel({ recompute: args.has("--recompute"), log });
  const decoded = decodeHeldOut(model.parts, source);
  rows.push({
    system: `base model (${model.origin})`,
    bitsPerSecond: 0,
    scores: scoreHeldOut(decoded, source),
    decoded,
  });
}
for (const system of anchorSystems(training, { continuousPcaFrames: [BASE_PCA_FRAME] })) {
  const decoded = new Float32Array(x.length);
  for (let i = 0; i < count; i++) {
    decoded.set(await system.code(x.slice(i * length, (i + 1) * length)), i * length);
  }
  rows.push({
    system: system.name,
    bitsPerSecond: system.bitsPerSecond,
    scores: scoreSegments(decoded, x, count, length, source.sampleRate),
    decoded,
  });
  log(`${system.name} done`);
}

const summary = rows.map((r) => ({
  system: r.system,
  bitsPerSecond: r.bitsPerSecond,
  ...meanScores(r.scores),
}));
if (!args.has("--json-only")) {
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(
    `held-out set: ${count} segments of ${length} samples at ${source.sampleRate} Hz (${
      [...new Set(source.validationSources.map((s) => s.speaker))].join(", ")
    })`,
  );
  console.log(
    `${pad("system", 28)}${pad("bit/s", 8)}${pad("SI-SDR dB", 11)}${pad("mel L1", 8)}${
      pad("F0 agr.", 9)
    }${pad("voicing", 9)}level dB`,
  );
  for (const s of summary) {
    console.log(
      `${pad(s.system, 28)}${pad(s.bitsPerSecond ? String(s.bitsPerSecond) : "cont.", 8)}${
        pad(s.siSdr.toFixed(2), 11)
      }${pad(s.melL1.toFixed(3), 8)}${pad(s.f0Agreement.toFixed(3), 9)}${
        pad(s.voicingAgreement.toFixed(3), 9)
      }${s.levelDb.toFixed(2)}`,
    );
  }
}
if (listenDir) {
  await Deno.mkdir(listenDir, { recursive: true });
  const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-$/, "");
  const picks = [0, Math.floor(count / 2), count - 1];
  const systems = [{ system: "original", decoded: x }, ...rows];
  for (const i of picks) {
    for (const r of systems) {
      const clip = r.decoded.slice(i * length, (i + 1) * length);
      const base = `${listenDir}/seg${i}-${slug(r.system)}`;
      await writeWav(`${base}.wav`, clip, source.sampleRate);
      await Deno.writeFile(
        `${base}.png`,
        spectrogramPng(clip, source.sampleRate, { width: 480, height: 128 }).png,
      );
    }
  }
  log(`wrote WAVs and spectrograms of segments ${picks.join(", ")} to ${listenDir}`);
}
console.log(JSON.stringify({ heldOut: { count, length }, systems: summary }));
