import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { inflateSync } from "node:zlib";
import { audio, spectrogramPng } from "./display.ts";
import { listeningTable } from "../report/listening.ts";
import { crc32, encodePng } from "./png.ts";
import { decodeWav } from "./wav.ts";
import { checkPage, renderNotebookPage } from "../report/mod.ts";
import { Rng } from "../random.ts";

const speechy = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from(
    { length: n },
    (_, i) =>
      0.3 * Math.sin(i * 0.2 + 3 * Math.sin(i / 700)) * Math.sin(i / 900) ** 2 +
      0.01 * rng.normal(),
  );
};

/** Decode our own PNG: check signature, chunk CRCs, and return size and RGB rows. */
function readPng(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  assert.deepEqual(Array.from(png.subarray(0, 8)), [
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
  ]);
  const view = new DataView(png.buffer, png.byteOffset);
  let pos = 8, width = 0, height = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = view.getUint32(pos);
    const type = new TextDecoder().decode(png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + len);
    assert.equal(
      view.getUint32(pos + 8 + len),
      crc32(png.subarray(pos + 4, pos + 8 + len)),
      `${type} CRC`,
    );
    if (type === "IHDR") [width, height] = [view.getUint32(pos + 8), view.getUint32(pos + 12)];
    if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  assert.equal(raw.length, height * (1 + 3 * width));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (1 + 3 * width)], 0);
    rgb.set(raw.subarray(y * (1 + 3 * width) + 1, (y + 1) * (1 + 3 * width)), y * width * 3);
  }
  return { width, height, rgb };
}

Deno.test("PNG encoder: valid chunks, the pixels come back", () => {
  const rgb = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256);
  const back = readPng(encodePng(5, 3, rgb));
  assert.equal(back.width, 5);
  assert.equal(back.height, 3);
  assert.deepEqual(back.rgb, rgb);
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.throws(() => encodePng(2, 2, new Uint8Array(3)), /expected 12 RGB bytes/);
});

Deno.test("spectrogram picture: a rising tone draws a rising bright line", () => {
  const sr = 8000, n = 16000;
  let phase = 0;
  const chirp = Float32Array.from({ length: n }, (_, i) => {
    phase += (2 * Math.PI * (300 + (3000 * i) / n)) / sr;
    return 0.5 * Math.sin(phase);
  });
  const { png, width, height } = spectrogramPng(chirp, sr, { width: 100, height: 50 });
  const { rgb } = readPng(png);
  const brightestRow = (x: number) => {
    let best = 0, row = 0;
    for (let y = 0; y < height; y++) {
      const v = rgb[(y * width + x) * 3] + rgb[(y * width + x) * 3 + 1] +
        rgb[(y * width + x) * 3 + 2];
      if (v > best) [best, row] = [v, y];
    }
    return row;
  };
  // Rows count from the top (high frequencies): the line climbs, so the row index falls.
  const early = brightestRow(10), late = brightestRow(90);
  assert.ok(early > late + 20, `brightest row at x=10: ${early}, at x=90: ${late}`);
  // 300 + 3000·0.1 = 600 Hz at x=10 → row ≈ (1 − 600/4000)·50 = 42.5.
  assert.ok(Math.abs(early - 42.5) <= 2, `row ${early}`);
});

Deno.test("audio(): a text/html player and an audio/wav bundle holding the clip (PCM16)", () => {
  const x = Float32Array.from(speechy(4000, 1), (v) => Math.round(v * 32768) / 32768);
  const d = audio(x, 8000, "clip <1>", { spectrogram: true });
  const wav = decodeWav(new Uint8Array(Buffer.from(d.bundle["audio/wav"] as string, "base64")));
  assert.deepEqual(wav.samples, x);
  assert.equal(wav.sampleRate, 8000);
  const src = /<audio[^>]* src="data:audio\/wav;base64,([^"]+)"/.exec(d.html);
  assert.ok(src, "no <audio> with a data URI");
  assert.equal(src[1], d.bundle["audio/wav"]);
  assert.match(d.html, /<img class="ql-spectrogram"[^>]* src="data:image\/png;base64,/);
  assert.match(d.html, /clip &#60;1&#62;/);
  assert.equal(d.toString(), "[audio: clip <1>, 0.50 s at 8000 Hz]");
  assert.throws(() => audio(x, 0), /audio: sampleRate must be a positive integer/);
});

Deno.test("the speech pages' listening table, 5 utterances × 6 systems, passes the page checks; its page weight is stated", () => {
  const names = ["original", "A", "B", "C", "D", "E"];
  const systems = names.map((name, c) => ({
    name,
    role: (c === 0 ? "reference" : c < 4 ? "ours" : "anchor") as "reference" | "ours" | "anchor",
    clips: Array.from({ length: 5 }, (_, r) => speechy(24000, r * 10 + c)), // 3 s at 8 kHz
    bitsPerSecond: c === 0 ? 0 : 1500,
  }));
  const utterances = Array.from({ length: 5 }, (_, r) => ({ label: `utt ${r}`, speaker: `s${r}` }));
  const t = listeningTable({ sampleRate: 8000, systems, utterances, caption: "5 × 6" });
  assert.equal((t.html.match(/<audio\b/g) ?? []).length, 30);
  const page = renderNotebookPage({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{
      cell_type: "code",
      source: "listeningTable(x);",
      execution_count: 1,
      outputs: [{ output_type: "display_data", data: t.bundle }],
    }],
  }, { notebook: "listen.ipynb", run: { commit: "test", date: "2026-01-01" } });
  assert.deepEqual(checkPage(page.html, { pageLinks: true }).problems, []);
  assert.equal((page.html.match(/<audio\b/g) ?? []).length, 30);
  const mb = new TextEncoder().encode(page.html).length / 1e6;
  console.log(`5 × 6 listening table page (3 s clips at 8 kHz): ${mb.toFixed(2)} MB`);
  assert.ok(mb > 1.4 && mb < 4, `page weight ${mb} MB`);
  assert.throws(
    () =>
      listeningTable({
        sampleRate: 8000,
        systems: [{ ...systems[1], clips: [] }],
        utterances,
        caption: "",
      }),
    /system "A" has 0 clips for 5 utterances/,
  );
});
