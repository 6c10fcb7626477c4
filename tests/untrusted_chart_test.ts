/**
 * Issue 21 §5: charts in an untrusted classic notebook. Every chart output carries an
 * `image/png` — one picture of both charts for a cell showing two — and `./quantlab jupyter`
 * draws that PNG when the notebook is not trusted, instead of the sanitised HTML (whose `<svg>`
 * is dropped, leaving the tick labels as one run of text). Checked in headless Chromium.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, ROOT, startNotebookServer } from "./_notebooks.ts";
import { inPage } from "../scripts/browser_check.ts";

Deno.test("untrusted classic notebook: charts show as their PNG, two charts as one composite", async () => {
  const name = `untrusted-${crypto.randomUUID().slice(0, 8)}`;
  const src = join(ROOT, ".cache", "test-notebooks", `${name}.ipynb`);
  await Deno.mkdir(join(ROOT, ".cache", "test-notebooks"), { recursive: true });
  await Deno.writeTextFile(
    src,
    notebook([
      `import { lineChart } from ${JSON.stringify(join(ROOT, "lib/plot.ts"))};
import { chart, group } from ${JSON.stringify(join(ROOT, "lib/display.ts"))};
const line = (label: string) => lineChart({ series: [{ label, x: [1, 2, 3], y: [0.3, 0.1, 0.05] }], x: { label: "epoch" }, y: { label: "MSE" } });`,
      'chart(line("one"), "one chart")',
      'group(chart(line("a"), "first"), chart(line("b"), "second"))',
    ]),
  );
  const out = join(ROOT, "notebooks", `${name}.ipynb`);
  const server = await startNotebookServer();
  try {
    const r = await execute(src, out, ["--no-sign"]);
    assert.equal(r.code, 0, r.stderr);
    for (const cell of [1, 2]) {
      assert.ok(r.nb.cells[cell].outputs![0].data!["image/png"], `cell ${cell} has an image/png`);
    }
    const seen = await inPage<{ img: number[]; svg: number; text: string }[]>(
      `${server.base}/notebooks/${name}.ipynb?token=${server.token}`,
      "document.querySelectorAll('.output_subarea').length >= 2 && " +
        "[...document.querySelectorAll('.output_subarea img')].every((i) => i.complete)",
      `(async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return [...document.querySelectorAll(".output_subarea")].map((e) => ({
          img: [...e.querySelectorAll("img")].map((i) => i.naturalHeight),
          svg: e.querySelectorAll("svg").length,
          text: e.innerText.trim(),
        }));
      })()`,
    );
    assert.equal(seen.length, 2, JSON.stringify(seen));
    for (const [i, o] of seen.entries()) {
      assert.equal(o.img.length, 1, `chart output ${i + 1} shows no picture: ${JSON.stringify(o)}`);
      assert.ok(o.img[0] > 200, `chart output ${i + 1}: picture ${o.img[0]} px high`);
      assert.doesNotMatch(o.text, /0\.05|epoch/, `output ${i + 1} shows raw tick text`);
    }
    const ratio = seen[1].img[0] / seen[0].img[0];
    assert.ok(ratio > 1.8 && ratio < 2.2, `two charts stacked in one picture: ratio ${ratio}`);
  } finally {
    await server.stop();
    await Deno.remove(out).catch(() => {});
    await Deno.remove(src).catch(() => {});
  }
});
