/**
 * The real-browser check (scripts/browser_check.ts, Debian's headless Chromium over the DevTools
 * protocol): report pages show charts with a size and visible marks, and it catches pages that
 * do not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { browserCheck } from "../scripts/browser_check.ts";
import { chart, finding, table } from "../lib/display.ts";
import { barChart, heatMap, lineChart, seedBand } from "../lib/plot.ts";
import { checkPage, type Notebook, renderNotebookPage } from "../lib/report/mod.ts";

const tmp = await Deno.makeTempDir({ prefix: "quantlab-browser-" });

/** An executed-notebook JSON whose outputs are the given displays. */
function executed(displays: { bundle: Record<string, unknown> }[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# Browser check\n\nCharts of every helper." },
      ...displays.map((d, i) => ({
        cell_type: "code" as const,
        source: `show(${i});`,
        execution_count: i + 1,
        outputs: [{ output_type: "display_data" as const, data: d.bundle }],
      })),
    ],
  };
}

Deno.test("Chromium renders every chart helper on a report page with size and marks", async () => {
  const curves = [0, 1].map((s) => ({ x: [1, 2, 3], y: [1, 0.5, 0.2].map((v) => v * (1 + s)) }));
  const page = renderNotebookPage(
    executed([
      chart(
        lineChart({
          series: [seedBand("STE", curves)],
          y: { log: true },
          markers: [{ x: 2, label: "div" }],
        }),
      ),
      chart(heatMap({ cells: [{ x: "a", y: 1, value: 1 }, { x: "b", y: 1, value: null }] })),
      chart(barChart({ rows: [{ label: "a", value: 2 }, { label: "b", value: 3 }] })),
      table([{ a: 1 }]),
      finding({
        id: "x",
        paper: "A",
        claim: "c",
        metric: "m",
        measured: 1,
        verdict: "inconclusive",
      }),
    ]),
    { notebook: "browser.ipynb", run: { commit: "test", date: "2026-01-01" } },
  );
  assert.deepEqual(checkPage(page.html, { pageLinks: true }).problems, []);
  const file = join(tmp, page.file);
  await Deno.writeTextFile(file, page.html);
  const [seen] = await browserCheck([file]);
  assert.deepEqual(seen.problems, []);
  assert.equal(seen.charts.length, 3);
  for (const c of seen.charts) {
    assert.ok(c.width > 100 && c.height > 100, `rendered ${c.width}×${c.height}`);
    assert.ok(c.visibleMarks > 0);
  }
  assert.deepEqual(seen.resources, []);
});

Deno.test("the browser check catches hidden charts, charts without marks and fetched resources", async () => {
  const file = join(tmp, "bad.html");
  await Deno.writeTextFile(
    file,
    `<!doctype html><html><body><img src="http://127.0.0.1:9/x.png">
<div style="display:none">${lineChart({ series: [{ label: "a", x: [1, 2], y: [1, 2] }] })}</div>
<svg data-chart="" xmlns="http://www.w3.org/2000/svg" width="100" height="100">
<g aria-label="x-axis tick"><path d="M0,0L10,10" stroke="black"/></g></svg></body></html>`,
  );
  const [seen] = await browserCheck([file]);
  assert.ok(seen.problems.some((p) => /chart 1 renders at 0×0/.test(p)), seen.problems.join("; "));
  assert.ok(seen.problems.some((p) => /chart 2 shows no data marks/.test(p)));
  assert.ok(seen.problems.some((p) => /fetched http:\/\/127\.0\.0\.1:9\/x\.png/.test(p)));
});
