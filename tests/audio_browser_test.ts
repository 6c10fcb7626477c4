/**
 * Real speech in a static report page: a listening table of corpus utterances (fetched when
 * missing) rendered by the report builder, checked by the page checks and in headless Chromium:
 * every `<audio>` loads with its clip's duration and every spectrogram renders. The page is kept
 * at `.cache/audio-report/speech.html` for a listener.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { browserCheck } from "../scripts/browser_check.ts";
import { audio } from "../lib/audio/display.ts";
import { listeningTable } from "../lib/report/listening.ts";
import { ensureSpeechData, loadSplit } from "../lib/audio/corpus.ts";
import { REPO_ROOT } from "../lib/audio/corpus_packages.ts";
import { resample } from "../lib/audio/resample.ts";
import { checkPage, type Notebook, renderNotebookPage } from "../lib/report/mod.ts";

Deno.test("real speech plays in a report page in Chromium, with its spectrograms", async () => {
  const manifest = await ensureSpeechData();
  const pick = (speaker: string) => {
    const of = manifest.files.filter((f) => f.speaker === speaker);
    assert.ok(of.length > 0, `no files of ${speaker}`);
    return of[Math.min(3, of.length - 1)];
  };
  const files = [
    "librivox:sense-and-sensibility-reader",
    "asterisk:june-wallack",
    "codec2:hts1a",
  ].map(pick);
  const utterances = await loadSplit({ ...manifest, files }, "validation", 8000);
  assert.equal(utterances.length, 3);
  // Two "systems" as rows: the 8 kHz clip, and the same band-limited to 2 kHz.
  const banded = await Promise.all(
    utterances.map(async (u) => await resample(await resample(u.samples, 8000, 4000), 4000, 8000)),
  );
  const table = listeningTable({
    sampleRate: 8000,
    systems: [
      { name: "8 kHz", role: "reference", clips: utterances.map((u) => u.samples) },
      { name: "2 kHz band", role: "ours", clips: banded },
    ],
    utterances: utterances.map((u) => ({ label: u.file.split("/").pop()!, speaker: u.speaker })),
    caption: "the 8 kHz clip and the same band-limited to 2 kHz",
  });
  const first = utterances[0];
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# Real speech\n\nFrom `./quantlab data`." },
      {
        cell_type: "code",
        source: "audio(x, 8000, label, { spectrogram: true });",
        execution_count: 1,
        outputs: [{
          output_type: "display_data",
          data: audio(first.samples, 8000, first.file, { spectrogram: true }).bundle,
        }],
      },
      {
        cell_type: "code",
        source: "listeningTable(...);",
        execution_count: 2,
        outputs: [{
          output_type: "display_data",
          data: table.bundle,
        }],
      },
    ],
  };
  const page = renderNotebookPage(nb, {
    notebook: "speech.ipynb",
    run: { commit: "test", date: "2026-01-01" },
  });
  assert.deepEqual(checkPage(page.html, { pageLinks: true }).problems, []);
  const dir = join(REPO_ROOT, ".cache", "audio-report");
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "speech.html");
  await Deno.writeTextFile(file, page.html);
  const [seen] = await browserCheck([file]);
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.resources, []);
  // Players in page order: the single clip, then the table row by row (system by system).
  const expected = [first.samples, ...utterances.map((u) => u.samples), ...banded].map((c) =>
    c.length / 8000
  );
  assert.equal(seen.audio.length, expected.length);
  seen.audio.forEach((a, i) =>
    assert.ok(
      Math.abs(a.duration - expected[i]) < 0.01,
      `audio ${i}: ${a.duration} s vs ${expected[i]} s`,
    )
  );
  assert.equal(seen.spectrograms.length, 1 + 2 * utterances.length);
  for (const g of seen.spectrograms) assert.ok(g.naturalWidth > 0 && g.width > 50 && g.height > 10);
});

Deno.test("the browser check catches a broken clip and a broken spectrogram", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-audio-browser-" });
  const file = join(dir, "bad.html");
  await Deno.writeTextFile(
    file,
    `<!doctype html><html><body>
<audio controls preload="metadata" src="data:audio/wav;base64,UklGRgAAAABXQVZF"></audio>
<img class="ql-spectrogram" width="100" height="40" src="data:image/png;base64,iVBORw0KGgo=">
</body></html>`,
  );
  const [seen] = await browserCheck([file]);
  assert.ok(
    seen.problems.some((p) => /audio 1 (failed to load|has duration 0)/.test(p)),
    seen.problems.join("; "),
  );
  assert.ok(
    seen.problems.some((p) => /spectrogram 1 does not render \(decoded width 0/.test(p)),
    seen.problems.join("; "),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a five-utterance listening table keeps every player on screen at 390 px and 1280 px", async () => {
  // Issue 21 §8: at 390 px the players sat off-screen in the table's own sideways scroll box.
  const rate = 8000;
  const tone = (f: number) =>
    Float32Array.from({ length: rate / 2 }, (_, t) => 0.2 * Math.sin(2 * Math.PI * f * t / rate));
  const names = ["original", "ours", "Codec 2 1300"];
  const roles = ["reference", "ours", "anchor"] as const;
  const table = listeningTable({
    sampleRate: rate,
    systems: names.map((name, k) => ({
      name,
      role: roles[k],
      clips: Array.from({ length: 5 }, (_, u) => tone(300 + 50 * k + 20 * u)),
      bitsPerSecond: k === 0 ? undefined : 1300,
    })),
    utterances: Array.from(
      { length: 5 },
      (_, u) => ({ label: `utterance ${u}`, speaker: `s${u}` }),
    ),
    caption: "five utterances, three systems",
  });
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# Listening" },
      {
        cell_type: "code",
        source: "listeningTable(...);",
        execution_count: 1,
        outputs: [{ output_type: "display_data", data: table.bundle }],
      },
    ],
  };
  const page = renderNotebookPage(nb, {
    notebook: "listening.ipynb",
    run: { commit: "test", date: "2026-01-01" },
  });
  const dir = await Deno.makeTempDir({ prefix: "quantlab-listening-" });
  const file = join(dir, "listening.html");
  await Deno.writeTextFile(file, page.html);
  const shots = Deno.env.get("QUANTLAB_SCREENSHOTS");
  if (shots) await Deno.mkdir(shots, { recursive: true });
  for (const width of [390, 1280]) {
    const [seen] = await browserCheck([file], { width, screenshots: shots });
    assert.deepEqual(seen.problems, [], `at ${width} px`);
    assert.equal(seen.audio.length, 15, `at ${width} px`);
    assert.deepEqual(seen.offscreen, [], `at ${width} px`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the browser check catches a player hidden in a sideways scroll box", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-offscreen-" });
  const file = join(dir, "hidden.html");
  await Deno.writeTextFile(
    file,
    `<!doctype html><html><body><div style="overflow-x:auto;width:300px">
<div style="width:900px"><audio controls style="width:180px;margin-left:600px"></audio></div>
</div></body></html>`,
  );
  const [seen] = await browserCheck([file], { width: 390 });
  assert.equal(seen.scrollWidth <= seen.viewport, true, "the page itself does not scroll");
  assert.ok(
    seen.problems.some((p) => /1 player\(s\)\/spectrogram\(s\) are off-screen sideways/.test(p)),
    seen.problems.join("; "),
  );
  await Deno.remove(dir, { recursive: true });
});
