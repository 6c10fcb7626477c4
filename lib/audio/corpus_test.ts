import assert from "node:assert/strict";
import { join } from "node:path";
import {
  defaultSpeechDir,
  ensureSpeechData,
  loadSplit,
  type Manifest,
  summarize,
} from "./corpus.ts";
import { parsePackages } from "./corpus_packages.ts";
import { encodeWav } from "./wav.ts";
import { SpeechSegments } from "./segments.ts";

/** A fake extracted corpus: one Asterisk package and codec2, each with synthetic WAVs. */
async function fakeCorpus() {
  const root = await Deno.makeTempDir({ prefix: "ql-speech-" });
  const dir = join(root, "speech");
  const files: Record<string, Float32Array> = {
    "asterisk-core-sounds-fr-wav/usr/share/asterisk/sounds/fr_CA_f_June/hello.wav":
      new Float32Array(
        8000,
      ).map((_, i) => 0.3 * Math.sin(i / 5)),
    "asterisk-core-sounds-fr-wav/usr/share/asterisk/sounds/fr_CA_f_June/digits/1.wav":
      new Float32Array(
        4000,
      ).fill(0.1),
    "asterisk-core-sounds-en-wav/usr/share/asterisk/sounds/en_US_f_Allison/one.wav":
      new Float32Array(
        4000,
      ).fill(0.2),
    "codec2-examples/usr/share/codec2/wav/hts1a.wav": new Float32Array(24000).fill(0.05),
  };
  // Files the rules must ignore: silence/ and codec2's decoded output.
  const ignored = [
    "asterisk-core-sounds-fr-wav/usr/share/asterisk/sounds/fr_CA_f_June/silence/1.wav",
    "codec2-examples/usr/share/codec2/wav/f2400.wav",
  ];
  for (const [path, samples] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeFile(join(dir, path), encodeWav(samples, 8000));
  }
  for (const path of ignored) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeFile(join(dir, path), encodeWav(new Float32Array(10), 8000));
  }
  const packages = join(root, "packages.txt");
  await Deno.writeTextFile(
    packages,
    "asterisk-core-sounds-en-wav 1.6.1-1 CC-BY-SA-3.0\n" +
      "asterisk-core-sounds-fr-wav 1.6.1-1 CC-BY-SA-3.0\ncodec2-examples 1.0.5-1 LGPL-2.1\n",
  );
  for (
    const [pkg, v] of [["asterisk-core-sounds-en-wav", "1.6.1-1"], [
      "asterisk-core-sounds-fr-wav",
      "1.6.1-1",
    ], ["codec2-examples", "1.0.5-1"]]
  ) {
    await Deno.writeTextFile(join(dir, pkg, `.extracted-${v}`), "");
  }
  const checksums = join(root, "speech.sha256");
  const opts = { dir, packagesFile: packages, checksumFile: checksums };
  await ensureSpeechData({ ...opts, writeChecksums: true });
  return { root, dir, opts, files };
}

Deno.test("corpus: manifest lists used files with speaker and split; silence/ and codec outputs are ignored", async () => {
  const { root, opts } = await fakeCorpus();
  const m = await ensureSpeechData(opts);
  assert.equal(m.files.length, 4);
  assert.ok(m.files.every((f) => !f.file.includes("/silence/") && !f.file.includes("f2400")));
  const by = Object.fromEntries(m.files.map((f) => [f.file.split("/").pop(), f]));
  assert.equal(by["hello.wav"].speaker, "asterisk:june-wallack");
  assert.equal(by["hello.wav"].split, "validation"); // the default held-out speaker
  assert.equal(by["one.wav"].split, "train");
  assert.equal(by["hts1a.wav"].split, "validation");
  assert.equal(by["hts1a.wav"].duration, 3);
  assert.equal(by["hello.wav"].licence, "CC-BY-SA-3.0");
  // Another held-out speaker moves June to training and Allison to validation.
  const m2 = await ensureSpeechData({ ...opts, heldOutSpeaker: "asterisk:allison-smith" });
  const by2 = Object.fromEntries(m2.files.map((f) => [f.file.split("/").pop(), f]));
  assert.equal(by2["hello.wav"].split, "train");
  assert.equal(by2["one.wav"].split, "validation");
  await assert.rejects(
    ensureSpeechData({ ...opts, heldOutSpeaker: "codec2:hts1a" }),
    /heldOutSpeaker "codec2:hts1a" is not an Asterisk speaker/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("corpus: a changed, missing or unlisted file is an error naming package and file", async () => {
  const { root, dir, opts } = await fakeCorpus();
  const file = "asterisk-core-sounds-fr-wav/usr/share/asterisk/sounds/fr_CA_f_June/hello.wav";
  const bytes = await Deno.readFile(join(dir, file));
  // Same size, one byte changed: the mtime changes, so the fast path re-hashes it.
  const changed = bytes.slice();
  changed[100] ^= 1;
  await Deno.writeFile(join(dir, file), changed);
  await assert.rejects(
    ensureSpeechData(opts),
    /package asterisk-core-sounds-fr-wav: checksum mismatch for asterisk-core-sounds-fr-wav\/.*hello\.wav/,
  );
  // Even when the mtime is put back, a full verification finds it.
  await Deno.writeFile(join(dir, file), bytes);
  await ensureSpeechData(opts);
  const st = await Deno.stat(join(dir, file));
  await Deno.writeFile(join(dir, file), changed);
  await Deno.utime(join(dir, file), st.atime!, st.mtime!);
  await assert.rejects(ensureSpeechData({ ...opts, verify: "full" }), /checksum mismatch for/);
  await Deno.writeFile(join(dir, file), bytes);
  // Missing file.
  await Deno.remove(join(dir, file));
  await assert.rejects(
    ensureSpeechData(opts),
    /package asterisk-core-sounds-fr-wav: file .*hello\.wav listed in .* is missing/,
  );
  await Deno.writeFile(join(dir, file), bytes);
  // A used file that the checksum list does not know.
  const extra = "codec2-examples/usr/share/codec2/wav/mmt1.wav";
  await Deno.writeFile(join(dir, extra), bytes);
  await assert.rejects(
    ensureSpeechData(opts),
    /package codec2-examples: file codec2-examples\/usr\/share\/codec2\/wav\/mmt1\.wav is not in/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("corpus: a package apt cannot find is an error naming it; bad package lists are named", async () => {
  const root = await Deno.makeTempDir({ prefix: "ql-speech-" });
  const packages = join(root, "packages.txt");
  await Deno.writeTextFile(
    packages,
    "codec2-examples 0.0.0-no-such-version LGPL-2.1\nasterisk-core-sounds-fr-wav 1.6.1-1 CC-BY-SA-3.0\n",
  );
  await assert.rejects(
    ensureSpeechData({
      dir: join(root, "speech"),
      packagesFile: packages,
      checksumFile: join(root, "none.sha256"),
      allowAptUpdate: false,
    }),
    /package codec2-examples version 0\.0\.0-no-such-version could not be downloaded/,
  );
  assert.throws(
    () => parsePackages("no-such-package 1 MIT\n", "p.txt"),
    /p\.txt:1: package no-such-package has no rule/,
  );
  assert.throws(
    () => parsePackages("codec2-examples 1\n", "p.txt"),
    /p\.txt:1: expected "package version licence"/,
  );
  await Deno.remove(root, { recursive: true });
});

// The real corpus: fetched here when missing (./quantlab test fetches it first), never skipped.
let real: Manifest | null = null;
async function realCorpus(): Promise<Manifest> {
  real ??= await ensureSpeechData({ log: (m) => console.error(`[data] ${m}`) });
  return real;
}

Deno.test("real corpus: every file verified; split by speaker; minutes and speakers per split", async () => {
  const m = await realCorpus();
  const summary = summarize(m);
  const [train, validation] = summary;
  const trainSpeakers = new Set(train.speakers.map((s) => s.speaker));
  for (const s of validation.speakers) {
    assert.ok(!trainSpeakers.has(s.speaker), `speaker ${s.speaker} in both splits`);
  }
  assert.equal(train.speakers.length, 4);
  assert.ok(train.minutes > 120, `train minutes ${train.minutes}`);
  assert.ok(validation.minutes > 25, `validation minutes ${validation.minutes}`);
  const validationIds = validation.speakers.map((s) => s.speaker);
  assert.ok(validationIds.includes("librivox:sense-and-sensibility-reader"));
  assert.ok(validationIds.includes("asterisk:june-wallack"));
  assert.ok(validationIds.some((s) => s.startsWith("codec2:")));
  assert.ok(m.files.every((f) => !f.file.includes("/silence/")));
  assert.ok(m.files.every((f) => f.sampleRate === 8000 || f.sampleRate === 16000));
  for (const s of summary) {
    console.log(`${s.split}: ${s.minutes.toFixed(1)} min, ${s.speakers.length} speakers`);
  }
});

Deno.test("real corpus: segments are seeded, normalised, and validation is fixed", async () => {
  const m = await realCorpus();
  const dir = defaultSpeechDir();
  const keep = (s: string) => s === "asterisk:carlo-flora";
  const train = await loadSplit(
    { ...m, files: m.files.filter((f) => keep(f.speaker)) },
    "train",
    8000,
    dir,
  );
  const validation = await loadSplit(
    { ...m, files: m.files.filter((f) => !f.speaker.startsWith("asterisk:")) },
    "validation",
    8000,
    dir,
  );
  // The 16 kHz LibriVox clips are resampled to the corpus rate.
  const libri = m.files.find((f) => f.speaker.startsWith("librivox"))!;
  const loaded = validation.find((u) => u.file === libri.file)!;
  assert.equal(libri.sampleRate, 16000);
  assert.ok(Math.abs(loaded.samples.length - libri.duration * 8000) <= 2);
  const seg = new SpeechSegments(train, validation, {
    length: 4096,
    seed: 3,
    validationSegments: 16,
  });
  const a = seg.trainBatch(5, 8), b = seg.trainBatch(5, 8), c = seg.trainBatch(6, 8);
  assert.deepEqual(a.x, b.x);
  assert.notDeepEqual(a.x, c.x);
  assert.equal(a.x.length, 8 * 4096);
  assert.equal(seg.validation.count, 16);
  assert.ok(seg.validation.x.some((v) => v !== 0));
  let peak = 0;
  for (const v of a.x) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak <= 1 && peak > 0.05, `peak ${peak}`);
});

Deno.test("corpus: an edited manifest field does not survive a run; it is rebuilt from the package list", async () => {
  const { root, dir, opts } = await fakeCorpus();
  const logs: string[] = [];
  const m = await ensureSpeechData(opts);
  const path = join(dir, "manifest.json");
  const edited = JSON.parse(await Deno.readTextFile(path)) as Manifest;
  const i = edited.files.findIndex((f) => f.speaker === "asterisk:allison-smith");
  assert.equal(edited.files[i].split, "train");
  // A training file relabelled as the held-out speaker, and a duration doubled.
  edited.files[i] = {
    ...edited.files[i],
    speaker: "asterisk:june-wallack",
    split: "validation",
  };
  const j = edited.files.findIndex((f) => f.package === "codec2-examples");
  edited.files[j] = { ...edited.files[j], duration: edited.files[j].duration * 100 };
  await Deno.writeTextFile(path, JSON.stringify(edited));
  const again = await ensureSpeechData({ ...opts, log: (l) => logs.push(l) });
  assert.deepEqual(again, m, "the manifest is what the package list and the files say");
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), m);
  assert.ok(logs.some((l) => /allison.*speaker "asterisk:june-wallack" ≠ .*rebuilt/i.test(l)));
  assert.ok(logs.some((l) => /hts1a\.wav: duration or sample rate does not fit/.test(l)));
  await Deno.remove(root, { recursive: true });
});

Deno.test("corpus: a header-only WAV (no frames) is measured once, not re-read on every run", async () => {
  const { root, dir, opts } = await fakeCorpus();
  const empty = "asterisk-core-sounds-fr-wav/usr/share/asterisk/sounds/fr_CA_f_June/is.wav";
  await Deno.writeFile(join(dir, empty), encodeWav(new Float32Array(0), 8000));
  await ensureSpeechData({ ...opts, writeChecksums: true });
  const logs: string[] = [];
  const m = await ensureSpeechData({ ...opts, log: (l) => logs.push(l) });
  assert.equal(m.files.find((f) => f.file === empty)?.duration, 0);
  assert.ok(!logs.some((l) => /does not fit/.test(l)), logs.join("\n"));
  await Deno.remove(root, { recursive: true });
});

Deno.test("corpus: a second fetch into the same directory waits for the first (a lock), and a dead holder's lock is taken over", async () => {
  const { root, dir, opts } = await fakeCorpus();
  const holder = new Deno.Command("sleep", { args: ["1.5"] }).spawn();
  await Deno.writeTextFile(join(dir, ".lock"), `${holder.pid} ${Deno.hostname()}\n`);
  const logs: string[] = [];
  const t0 = Date.now();
  const waiting = ensureSpeechData({ ...opts, log: (l) => logs.push(l) });
  await holder.status;
  await Deno.remove(join(dir, ".lock")); // the first fetch finishes and releases
  await waiting;
  assert.ok(Date.now() - t0 >= 1000, "it waited");
  assert.ok(logs.some((l) => /another fetch is running into .* \(process \d+\); waiting/.test(l)));
  // A lock left by a killed fetch (its pid is gone) is taken over at once.
  await Deno.writeTextFile(join(dir, ".lock"), `${holder.pid} ${Deno.hostname()}\n`);
  await ensureSpeechData({ ...opts, log: (l) => logs.push(l) });
  assert.ok(logs.some((l) => /taking over the lock .* which is gone/.test(l)));
  assert.equal(await Deno.stat(join(dir, ".lock")).then(() => true, () => false), false);
  await Deno.remove(root, { recursive: true });
});
