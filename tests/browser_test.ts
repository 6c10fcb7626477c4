/**
 * The real-browser check (scripts/browser_check.ts, Debian's headless Chromium over the DevTools
 * protocol): report pages show charts with a size and visible marks, do not scroll sideways and
 * keep chart text readable at phone (390 px) and laptop (1280 px) width, and it catches pages
 * that do not. `QUANTLAB_SCREENSHOTS=dir` keeps the screenshots it takes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { browserCheck, MIN_CHART_TEXT_PX } from "../scripts/browser_check.ts";
import { chart, finding, folded, table } from "../lib/display.ts";
import { barChart, heatMap } from "../lib/charts.ts";
import { lineChart, seedBand } from "../lib/plot.ts";
import {
  checkPage,
  type Notebook,
  type Page,
  renderIndex,
  renderNotebookPage,
} from "../lib/report/mod.ts";

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

/** A page as wide as the real ones get: every chart kind, a long settings table, long words. */
function widePage(): Page {
  const curves = [0, 1].map((s) => ({ x: [1, 2, 3], y: [1, 100, 1e6].map((v) => v * (1 + s)) }));
  const settings = Array.from({ length: 27 }, (_, i) => ({
    field: `train.someRatherLongFieldName${i}`,
    value: JSON.stringify({ kind: "ste", variants: ["attached", "detached"], i }),
    default: "(quantizer-specific)",
    source: "paper A: Gaussian source, rotated target, bits known by construction",
  }));
  const nb = executed([
    chart(lineChart({
      title: "MA-E: max |encoder output| over the validation set",
      series: ["STE, no CL", "STE + CL (β = 0.25)", "mSTE, no CL"].map((label, i) =>
        seedBand(label, curves.map((c) => ({ ...c, y: c.y.map((v) => v / 10 ** (3 * i)) })))
      ),
      markers: [{ x: 3, label: "STE, no CL: 2/2 diverged (steps 250–290)" }],
      rules: [{ y: 1e5, label: "divergence threshold" }],
      x: { label: "epoch", integer: true },
      y: { label: "MA-E", log: true },
    })),
    chart(barChart({
      rows: ["STE, no CL", "STE + CL (β = 0.25)", "noise approximation, attached"].map((
        label,
        i,
      ) => ({ label, value: 10 + i })),
      x: { label: "configuration" },
      y: { label: "ms / step" },
    })),
    chart(heatMap({
      cells: [4, 5, 6, 7, 8, 9, 10].flatMap((b) =>
        ["ste", "mste", "na-attached", "soft-to-hard"].map((p) => ({ x: b, y: p, value: b }))
      ),
      x: { label: "quantizer bits B_q" },
      y: { label: "gradient passer" },
    })),
    folded("Settings: 27 fields", table(settings)),
    table(settings.slice(0, 3)),
    finding({
      id: "A-a-rather-long-finding-identifier-without-spaces",
      paper: "A",
      claim: "A claim with `aVeryLongIdentifierThatCannotBreakAnywhereAtAllInThisSentence`.",
      metric: "m",
      measured: { "MA-E growth per seed": "1.2e+5, 3.4e+5, 8.9e+6, diverged at step 290" },
      verdict: "reproduced",
    }),
  ]);
  nb.cells.splice(1, 0, {
    cell_type: "markdown",
    source: "Set `QUANTLAB_RECOMPUTE=1` to recompute; `train.divergenceThreshold` stops runs.",
  });
  nb.metadata = {
    quantlab: {
      execution: {
        started: "2026-11-22T19:33:37+00:00",
        wall_seconds: 6.3,
        profile: "full",
        recompute: false,
        kernel: "Deno kernel 2.9.6",
        code_cells: 6,
        late_outputs: 0,
        missing_outputs: [],
        ok: true,
        commit: "6719b86c0ffee-dirty",
        epilogue: { backend: "wasm with quantlab kernels (openblas GEMM)", tfjs: "4.22.0" },
      },
    },
  };
  return renderNotebookPage(nb, {
    notebook: "02_ste_cl_mste.ipynb",
    run: { commit: "6719b86c0ffe", date: "2026-11-22T19:34:10Z" },
  });
}

Deno.test("at 390 px and 1280 px no report page scrolls sideways and chart text stays readable", async () => {
  const page = widePage();
  const index = renderIndex([page], page.findings, {
    commit: "6719b86c0ffe",
    date: "2026-11-22T19:34:10Z",
    profile: "full",
    wallSeconds: 49,
    deno: "2.9.6",
  });
  const dir = join(tmp, "phone");
  await Deno.mkdir(dir);
  const files = [join(dir, page.file), join(dir, "index.html")];
  await Deno.writeTextFile(files[0], page.html);
  await Deno.writeTextFile(files[1], index);
  const shots = Deno.env.get("QUANTLAB_SCREENSHOTS") ?? dir;
  await Deno.mkdir(shots, { recursive: true });
  for (const width of [390, 1280]) {
    const seen = await browserCheck(files, { width, screenshots: shots });
    for (const p of seen) {
      assert.deepEqual(p.problems, [], `${p.file} at ${width} px`);
      assert.ok(p.scrollWidth <= p.viewport, `${p.file}: ${p.scrollWidth} > ${p.viewport} px`);
      for (const c of p.charts) {
        assert.ok(c.width <= p.viewport, `a chart ${c.width} px wide in ${p.viewport} px`);
        assert.ok(
          c.minTextPx !== null && c.minTextPx >= MIN_CHART_TEXT_PX,
          `text ${c.minTextPx} px`,
        );
      }
      const png = await Deno.readFile(p.screenshot!);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], "a PNG screenshot");
    }
    assert.equal(seen[0].charts.length, 3);
  }
});

Deno.test("the browser check catches a page that scrolls sideways and chart text too small", async () => {
  const file = join(tmp, "wide.html");
  await Deno.writeTextFile(
    file,
    `<!doctype html><html><body><div style="width:700px">wide</div>
<svg data-chart="" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 200" width="1000"
 height="200" style="max-width:100%;height:auto;font-size:10px"><text x="10" y="20">tiny</text>
<g aria-label="dot"><circle cx="50" cy="50" r="5"/></g></svg></body></html>`,
  );
  const [seen] = await browserCheck([file], { width: 390 });
  assert.ok(
    seen.problems.some((p) => /scrolls sideways: 7\d\d px wide in a 3\d\d px window/.test(p)),
    seen.problems.join("; "),
  );
  assert.ok(seen.problems.some((p) => /chart 1 has text drawn at \d\.\d px/.test(p)));
});
