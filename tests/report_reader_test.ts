/**
 * Issue 21 §8, reports as a reader: on a 390 px phone the index shows each page and finding as
 * a card with its verdict first and nothing off-screen; every shaded band and red mark is
 * explained in the chart's caption; "measured" never shows a raw null; the index defines
 * "reproduced" by the paired rule; a heat map's row labels are never cut; the header names the
 * build commit and says when the tree was dirty.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { inPage } from "../scripts/browser_check.ts";
import { commitText, type Notebook, renderIndex, renderNotebookPage } from "../lib/report/mod.ts";
import { FINDING_MIME, formatMeasured } from "../lib/report/findings.ts";
import { lineChart, seedBand } from "../lib/plot.ts";
import { heatMap } from "../lib/charts.ts";
import { divergenceMarkers } from "../lib/experiments/summaries.ts";
import { ROOT } from "./_notebooks.ts";
import type { RunResult } from "../lib/result.ts";

const CLAIM = "mSTE reaches a lower validation MSE than STE with commitment loss, long runs " +
  "included, in the full profile over eight seeds";

function page(name: string, verdicts: string[]) {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: `# ${name} · a page\n\nWhat it tests, in one sentence.` },
      {
        cell_type: "code",
        source: "showFindings(x)",
        execution_count: 1,
        outputs: verdicts.map((verdict, i) => ({
          output_type: "display_data",
          data: {
            [FINDING_MIME]: {
              id: `A-${name}-${i}-a-rather-long-finding-identifier`,
              paper: "A",
              claim: CLAIM,
              metric: "paired difference of the mean validation MSE over the last 3 epochs",
              measured: { "mean difference": -0.00123, "seeds diverged": null, n: 8 },
              verdict,
            },
            "text/plain": "f",
          },
        })),
      },
    ],
  };
  return renderNotebookPage(nb, { notebook: `${name}.ipynb`, run: { commit: "c", date: "d" } });
}

Deno.test("index at 390 px: cards with the verdict first, nothing off-screen", async () => {
  const pages = [page("02_ste", ["reproduced", "not reproduced"]), page("03_na", ["inconclusive"])];
  const html = renderIndex(pages, pages.flatMap((p) => p.findings), {
    commit: "0123456789ab-dirty",
    date: "2026-12-05",
    profile: "full",
    wallSeconds: 60,
    deno: "2.9.6",
  });
  const dir = join(ROOT, ".cache", "report-reader");
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "index.html");
  await Deno.writeTextFile(file, html);
  const seen = await inPage<
    { rows: { verdictTop: number; firstTop: number; right: number }[]; scroll: number[] }
  >(
    pathToFileURL(file).href,
    "document.readyState === 'complete'",
    `(() => {
      const rows = [...document.querySelectorAll("tbody tr")].map((tr) => {
        const badge = tr.querySelector(".ql-badge").getBoundingClientRect();
        const tops = [...tr.children].filter((td) => !td.querySelector(".ql-badge"))
          .map((td) => td.getBoundingClientRect().top);
        return { verdictTop: badge.top, firstTop: Math.min(...tops), right: badge.right };
      });
      const scroll = [...document.querySelectorAll("table")].map((t) => t.scrollWidth - t.clientWidth);
      return { rows, scroll: [...scroll, document.documentElement.scrollWidth - innerWidth] };
    })()`,
    { width: 390 },
  );
  assert.equal(seen.rows.length, 2 + 3, JSON.stringify(seen));
  for (const r of seen.rows) {
    assert.ok(r.verdictTop < r.firstTop, `verdict not first: ${JSON.stringify(r)}`);
    assert.ok(r.right <= 390, `verdict off-screen at x = ${r.right}`);
  }
  assert.ok(seen.scroll.every((s) => s <= 0), `something scrolls sideways: ${seen.scroll}`);
  assert.match(html, /0123456789ab \(built with uncommitted changes in the working tree\)/);
  assert.doesNotMatch(html.replace(/<script[\s\S]*?<\/script>/g, ""), /\bnull\b/);
  // The index's definition of the verdicts is the paired rule for comparisons.
  assert.match(
    html,
    /paired rule.*95 % paired t interval.*reproduced when the interval excludes 0 on the claimed side/s,
  );
});

Deno.test("measured values that are null read n/a; the commit text says dirty", () => {
  assert.equal(formatMeasured({ a: 1, b: null } as never), "a = 1, b = n/a");
  assert.equal(commitText("abc"), "abc");
  assert.match(commitText("abc-dirty"), /^abc \(built with uncommitted changes/);
});

Deno.test("captions say what every shaded band and red mark is", () => {
  const curve = (k: number) => ({ x: [1, 2, 3], y: [3 * k, 2 * k, k] });
  const runs = [0, 1].map((seed) => ({
    config: { train: { seed } },
    history: [],
    diverged: { epoch: 2, step: 180, reason: "max |e|" },
  })) as unknown as RunResult[];
  const svg = lineChart({
    series: [seedBand("STE", [curve(1), curve(2), curve(3)])],
    markers: divergenceMarkers("STE", runs),
    caption: "Validation MSE.",
  });
  assert.match(svg, /Validation MSE\. Shaded band: min–max over the 3 seeds\./);
  assert.match(svg, /Red dashed line or ×: the epoch in which runs diverged/);
  const plain = lineChart({ series: [{ label: "a", x: [1, 2], y: [1, 2] }] });
  assert.doesNotMatch(plain, /Shaded band/);
});

Deno.test("a heat map's row labels fit its left margin", () => {
  const rows = ["rotation (yours) + CL", "ste"];
  const svg = heatMap({
    cells: rows.flatMap((y) => [4, 8].map((x) => ({ x, y, value: x }))),
  });
  // The first cell starts right of the longest label (≈ 0.6 em per character at 15 px).
  const cells = svg.match(/<g aria-label="cell"[\s\S]*?<\/g>/)![0];
  const firstX = Math.min(...[...cells.matchAll(/<rect[^>]*\sx="([\d.]+)"/g)].map((m) => +m[1]));
  assert.ok(firstX >= rows[0].length * 0.6 * 15, `cells start at x = ${firstX}`);
});
