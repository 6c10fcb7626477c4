import assert from "node:assert/strict";
import { join } from "node:path";
import * as Plot from "@observablehq/plot";
import {
  barChart,
  dotChart,
  heatMap,
  intervalChart,
  lineChart,
  logTick,
  renderPlot,
  seedBand,
} from "./plot.ts";
import { checkPage } from "./report/check.ts";

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

/** Real data marks of the first chart, counted the way report checks count them. */
function marks(html: string): number {
  return checkPage(`<!doctype html><html><body>${html}</body></html>`).marks[0] ?? 0;
}

const curves = [0, 1, 2].map((s) => ({
  x: [1, 2, 3, 4, 5],
  y: [1, 2, 3, 4, 5].map((e) => Math.exp(-e) * (1 + 0.1 * s)),
}));

Deno.test("renderPlot adds the SVG xmlns to every svg and marks the main one", () => {
  const html = renderPlot({ marks: [Plot.dot([1, 2, 3], { x: (d: number) => d, y: (d) => d })] });
  assert.equal(
    count(html, /<svg\b/g),
    count(html, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g),
  );
  assert.equal(count(html, /\sdata-chart=/g), 1);
  assert.equal(count(html, /<circle\b/g), 3);
});

Deno.test("renderPlot gives two charts on one page no shared id or class", () => {
  const opts = {
    marks: [Plot.lineY([1, 3, 2], { clip: true })],
    y: { type: "log" as const },
  };
  const a = renderPlot(opts);
  const b = renderPlot(opts);
  const ids = [...(a + b).matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(ids.length >= 2, "clip paths have ids");
  assert.equal(new Set(ids).size, ids.length, `ids collide: ${ids}`);
  for (const html of [a, b]) {
    for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) {
      assert.ok(html.includes(`id="${ref[1]}"`), `url(#${ref[1]}) points at an id in its chart`);
    }
    assert.ok(!/plot-d6a7b5|plot-clip-/.test(html), "Plot's shared names are rewritten");
  }
  const classA = a.match(/class="(qlplot-[^"]+)"/)![1];
  assert.ok(!b.includes(classA));
  assert.ok(checkPage(`<html><body>${a}${b}</body></html>`).problems.length === 0);
});

Deno.test("renderPlot explains that continuous colour legends need a canvas", () => {
  assert.throws(
    () =>
      renderPlot({
        color: { type: "linear", legend: true },
        marks: [
          Plot.cell([{ x: 1, y: 1, v: 1 }, { x: 2, y: 1, v: 2 }], { x: "x", y: "y", fill: "v" }),
        ],
      }),
    /needs a canvas.*quantize\/threshold/,
  );
});

Deno.test("renderPlot rejects an id that is not a CSS identifier", () => {
  assert.throws(() => renderPlot({ id: "1 bad", marks: [] }), /not a CSS identifier/);
});

Deno.test("seedBand averages finite values and bands them by min-max or sd", () => {
  const s = seedBand("a", [{ x: [1, 2], y: [1, 4] }, { x: [1, 2], y: [3, Infinity] }]);
  assert.deepEqual(s.x, [1, 2]);
  assert.deepEqual(s.y, [2, 4]);
  assert.deepEqual(s.lo, [1, 4]);
  assert.deepEqual(s.hi, [3, 4]);
  const sd = seedBand("a", [{ x: [1], y: [1] }, { x: [1], y: [3] }], "sd");
  assert.deepEqual([sd.lo![0], sd.y[0], sd.hi![0]], [1, 2, 3]);
  assert.throws(() => seedBand("bad", [{ x: [1, 2], y: [1] }]), /2 x but 1 y/);
});

Deno.test("lineChart draws lines, band, rule and divergence marker with real marks", () => {
  const html = lineChart({
    series: [
      seedBand("STE", curves),
      seedBand("mSTE", curves.map((c) => ({ ...c, y: c.y.map((v) => v / 2) }))),
    ],
    x: { label: "epoch" },
    y: { label: "validation MSE", log: true },
    rules: [{ y: 0.005, label: "oracle floor" }],
    markers: [{ x: 4, label: "diverged" }, { x: 2, y: 0.1, label: "peak" }],
  });
  assert.match(html, /aria-label="line"/);
  assert.match(html, /aria-label="area"/);
  assert.equal(count(html, /aria-label="rule"/g), 2, "oracle floor and the vertical marker");
  assert.match(html, /oracle floor/);
  assert.match(html, /diverged/);
  assert.match(html, /aria-label="dot"/);
  assert.ok(marks(html) >= 2 + 2 + 2 + 1, `marks: ${marks(html)}`);
  assert.equal(count(html, /class="[^"]*swatch\b/g), 2, "a legend swatch per series");
});

Deno.test("lineChart leaves a gap for values a log axis cannot show", () => {
  const html = lineChart({
    series: [{ label: "a", x: [1, 2, 3, 4], y: [1, 0, NaN, 0.5] }],
    y: { log: true },
  });
  assert.ok(!/NaN/.test(html), "no NaN coordinates in the SVG");
  assert.match(html, /aria-label="line"/);
});

Deno.test("barChart, dotChart and heatMap produce bars, dots and cells", () => {
  const bars = barChart({
    rows: [{ label: "ste", value: 1, group: "B=4" }, { label: "ste", value: 2, group: "B=8" }],
  });
  assert.equal(count(bars, /<rect\b/g) - count(bars, /<rect height="100%"/g), 2);
  assert.throws(() => barChart({ rows: [], y: { log: true } }), /dotChart/);
  const dots = dotChart({
    rows: [{ label: "a", value: 1e-3 }, { label: "b", value: 2 }],
    y: { log: true },
  });
  assert.equal(count(dots, /<circle\b/g), 2);
  const heat = heatMap({
    cells: [
      { x: "ste", y: 4, value: 0.1 },
      { x: "ste", y: 8, value: 0.001 },
      { x: "mste", y: 4, value: null, text: "diverged" },
      { x: "mste", y: 8, value: 0.01 },
    ],
    color: { log: true, label: "final MSE" },
  });
  assert.equal(count(heat, /aria-label="cell"/g), 2, "finite and missing cells");
  assert.match(heat, />diverged</);
  assert.ok(marks(heat) >= 4);
  assert.match(heat, /fill="#ddd"/);
});

/** Numbers rounded to 2 decimals and the process-specific id fixed, for a stable comparison. */
function normalise(svg: string): string {
  return svg.replace(/-?\d+\.\d+/g, (n) => String(Math.round(Number(n) * 100) / 100))
    .replace(/></g, ">\n<");
}

Deno.test("lineChart matches the committed SVG snapshot", async () => {
  const svg = lineChart({
    id: "snapshot",
    series: [seedBand("STE", curves)],
    x: { label: "epoch" },
    y: { label: "validation MSE", log: true },
    rules: [{ y: 0.005, label: "oracle floor" }],
    markers: [{ x: 4, label: "diverged" }],
    width: 480,
    height: 300,
  });
  const file = join(import.meta.dirname!, "testdata", "line_chart.svg.snap");
  const actual = normalise(svg) + "\n";
  if (Deno.env.get("QUANTLAB_UPDATE_SNAPSHOTS") === "1") {
    if (Deno.env.get("CI")) throw new Error("snapshots are never regenerated in CI");
    await Deno.writeTextFile(file, actual);
  }
  assert.equal(
    actual,
    await Deno.readTextFile(file),
    "rerun with QUANTLAB_UPDATE_SNAPSHOTS=1 after an intended change",
  );
});

Deno.test("log-axis ticks are short and never SI-prefixed", () => {
  assert.deepEqual(
    [1e-5, 2e-4, 0.001, 0.05, 1, 200, 5000, 1e4, 3e7].map(logTick),
    ["1e-5", "2e-4", "0.001", "0.05", "1", "200", "5000", "1e4", "3e7"],
  );
});

Deno.test("intervalChart draws a dot and whisker per estimate, zero line and notes", () => {
  const svg = intervalChart({
    rows: [
      { label: "mSTE − STE+CL", value: 0.004, lo: -0.002, hi: 0.01, note: "inconclusive" },
      { label: "attached − detached", value: -0.9, lo: -1.2, hi: -0.6, note: "reproduced" },
      { label: "mSTE − STE", value: null, lo: null, hi: null, note: "sign test: no interval" },
    ],
    x: { label: "MSE difference" },
  });
  assert.equal(count(svg, /<circle\b/g), 2, "one dot per finite estimate");
  assert.equal(count(svg, /aria-label="rule"/g), 2, "zero line and whiskers");
  assert.match(svg, />sign test: no interval</);
  assert.match(svg, />mSTE − STE</);
  assert.throws(() => intervalChart({ rows: [] }), /no rows/);
});
