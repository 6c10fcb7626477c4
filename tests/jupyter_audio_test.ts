/**
 * Issue 21 §6: an audio player in Jupyter's classic Notebook is big enough to use (≥ 150 × 32 px,
 * sized in pixels: Jupyter's root font is 10 px, so `rem` sizes shrank it to 97 × 20 px with no
 * play button) and plays: in headless Chromium, inside the notebook page served by
 * `./quantlab jupyter`, its currentTime advances.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, ROOT, startNotebookServer } from "./_notebooks.ts";
import { inPage } from "../scripts/browser_check.ts";

Deno.test("an audio player inside Jupyter is at least 150 × 32 px and plays", async () => {
  const name = `audio-${crypto.randomUUID().slice(0, 8)}`;
  const src = join(ROOT, ".cache", "test-notebooks", `${name}.ipynb`);
  await Deno.mkdir(join(ROOT, ".cache", "test-notebooks"), { recursive: true });
  await Deno.writeTextFile(
    src,
    notebook([
      `import { audio } from ${JSON.stringify(join(ROOT, "lib", "audio", "display.ts"))};
audio(Float32Array.from({ length: 8000 * 3 }, (_, t) => 0.2 * Math.sin(t / 5)), 8000, "a tone")`,
    ]),
  );
  // Executed and signed, so the classic Notebook trusts its HTML; served from notebooks/.
  const out = join(ROOT, "notebooks", `${name}.ipynb`);
  const server = await startNotebookServer();
  try {
    const r = await execute(src, out);
    assert.equal(r.code, 0, r.stderr);
    const url = `${server.base}/notebooks/${name}.ipynb?token=${server.token}`;
    const seen = await inPage<{ width: number; height: number; t0: number; t1: number }>(
      url,
      "document.querySelector('.output_area audio')",
      `(async () => {
        const a = document.querySelector(".output_area audio");
        const box = a.getBoundingClientRect();
        a.muted = true;
        await a.play();
        const t0 = a.currentTime;
        await new Promise((r) => setTimeout(r, 1200));
        return { width: box.width, height: box.height, t0, t1: a.currentTime };
      })()`,
    );
    assert.ok(seen.width >= 150 && seen.height >= 32, `player ${seen.width} × ${seen.height} px`);
    assert.ok(seen.t1 - seen.t0 > 0.5, `currentTime ${seen.t0} → ${seen.t1}: it does not play`);
  } finally {
    await server.stop();
    await Deno.remove(out).catch(() => {});
    await Deno.remove(src).catch(() => {});
  }
});
