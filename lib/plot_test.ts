import assert from "node:assert/strict";
import { join } from "node:path";
import * as Plot from "@observablehq/plot";
import { barChart, dotChart, heatMap, intervalChart } from "./charts.ts";
import { integerTicks, lineChart, logTick, mergeMarkers, renderPlot, seedBand } from "./plot.ts";
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

/** Numbers rounded to 2 decimals and one element per line, for a stable, readable diff. */
function normalise(svg: string): string {
  return svg.replace(/-?\d+\.\d+/g, (n) => String(Math.round(Number(n) * 100) / 100))
    .replace(/></g, ">\n<");
}

/**
 * Compare a chart with `testdata/<name>.svg.snap`. As in Observable Plot's tests, a mismatch
 * writes the new rendering beside it as `testdata/<name>-changed.svg` (open both in a browser);
 * `QUANTLAB_UPDATE_SNAPSHOTS=1` accepts it (never in CI).
 */
async function snapshot(
  name: string,
  svg: string,
  update = Deno.env.get("QUANTLAB_UPDATE_SNAPSHOTS") === "1",
): Promise<void> {
  const dir = join(import.meta.dirname!, "testdata");
  const file = join(dir, `${name}.svg.snap`);
  const changed = join(dir, `${name}-changed.svg`);
  const actual = normalise(svg) + "\n";
  if (update) {
    if (Deno.env.get("CI")) throw new Error("snapshots are never regenerated in CI");
    await Deno.writeTextFile(file, actual);
  }
  const expected = await Deno.readTextFile(file).catch(() => "");
  if (actual === expected) {
    await Deno.remove(changed).catch(() => {});
    return;
  }
  await Deno.writeTextFile(changed, actual);
  assert.fail(
    `${name}: the chart differs from ${file}; the new one is in ${changed}. ` +
      "Rerun with QUANTLAB_UPDATE_SNAPSHOTS=1 after an intended change.",
  );
}

Deno.test("lineChart matches the committed SVG snapshot", async () => {
  await snapshot(
    "line_chart",
    lineChart({
      id: "snapshot",
      series: [seedBand("STE", curves)],
      x: { label: "epoch", integer: true },
      y: { label: "validation MSE", log: true },
      rules: [{ y: 0.005, label: "oracle floor" }],
      markers: [{ x: 4, label: "diverged" }],
      width: 480,
      height: 300,
    }),
  );
});

Deno.test("barChart (horizontal for long labels), dotChart and heatMap match their snapshots", async () => {
  await snapshot(
    "bar_chart",
    barChart({
      id: "snapshot-bar",
      rows: ["STE, no CL", "STE + CL (β = 0.25)", "mSTE, no CL"].map((label, i) => ({
        label,
        value: 10 + i,
      })),
      x: { label: "configuration" },
      y: { label: "ms / step" },
    }),
  );
  await snapshot(
    "dot_chart",
    dotChart({
      id: "snapshot-dot",
      rows: [
        { label: "4", value: 0.1, group: "ste" },
        { label: "4", value: 0.05, group: "mste" },
        { label: "8", value: 0.01, group: "ste" },
      ],
      y: { label: "MSE", log: true },
    }),
  );
  await snapshot(
    "heat_map",
    heatMap({
      id: "snapshot-heat",
      cells: [
        { x: 4, y: "ste", value: -10 },
        { x: 8, y: "ste", value: -20 },
        { x: 4, y: "mste", value: null, text: "diverged 2/2" },
        { x: 8, y: "mste", value: -15 },
      ],
      color: { label: "MSE (dB)" },
      format: (v) => v.toFixed(1),
    }),
  );
});

Deno.test("a failing snapshot comparison writes <name>-changed.svg beside the snapshot", async () => {
  const dir = join(import.meta.dirname!, "testdata");
  const name = "_deliberately_missing";
  await assert.rejects(() => snapshot(name, "<svg></svg>", false), /differs.*-changed\.svg/);
  const changed = join(dir, `${name}-changed.svg`);
  assert.equal(await Deno.readTextFile(changed), "<svg>\n</svg>\n");
  await Deno.remove(changed);
});

Deno.test("every log axis says (log), once", () => {
  const html = lineChart({
    series: [{ label: "a", x: [1, 2], y: [1, 10] }],
    y: { label: "validation MSE", log: true },
  });
  assert.match(html, /validation MSE \(log\)/);
  const already = lineChart({
    series: [{ label: "a", x: [1, 2], y: [1, 10] }],
    y: { label: "τ (log)", log: true },
  });
  assert.doesNotMatch(already, /\(log\) \(log\)/);
  assert.match(dotChart({ rows: [{ label: "a", value: 1 }], y: { log: true } }), /\(log\)/);
});

Deno.test("an integer axis has only whole-number ticks, even over three epochs", () => {
  assert.deepEqual(integerTicks([1, 2, 3]), [1, 2, 3]);
  assert.deepEqual(integerTicks([1, 40]), [1, 5, 9, 13, 17, 21, 25, 29, 33, 37]);
  const html = lineChart({
    series: [{ label: "a", x: [1, 2, 3], y: [3, 2, 1] }],
    x: { label: "epoch", integer: true },
  });
  const xTicks = html.match(/aria-label="x-axis tick label"[\s\S]*?<\/g>/)![0];
  const labels = [...xTicks.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(labels, ["1", "2", "3"]);
});

Deno.test("legends follow the order the series and groups were given, not the alphabet", () => {
  const order = (html: string) =>
    [...html.matchAll(/class="[^"]*swatch[^"]*"[\s\S]*?<\/svg>([^<]+)</g)].map((m) => m[1]);
  const line = lineChart({
    series: ["STE, no CL", "STE + CL", "mSTE, no CL", "a first"].map((label) => ({
      label,
      x: [1, 2],
      y: [1, 2],
    })),
  });
  assert.deepEqual(order(line), ["STE, no CL", "STE + CL", "mSTE, no CL", "a first"]);
  const dots = dotChart({
    rows: [{ label: "x", value: 1, group: "z" }, { label: "x", value: 2, group: "a" }],
  });
  assert.deepEqual(order(dots), ["z", "a"]);
});

Deno.test("divergence markers at one x are drawn once, labels merged and kept inside the chart", () => {
  assert.deepEqual(
    mergeMarkers([{ x: 3, label: "a" }, { x: 3, label: "a" }, { x: 3, label: "b" }, { x: 1 }]),
    [{ x: 3, label: "a\nb" }, { x: 1, label: "" }],
  );
  const html = lineChart({
    series: [{ label: "STE", x: [1, 2, 3], y: [1, 2, 3] }],
    markers: [{ x: 3, label: "STE diverged" }, { x: 3, label: "STE diverged" }],
  });
  assert.equal(count(html, />STE diverged</g), 1, "one label");
  assert.match(
    html,
    /text-anchor="end"[^>]*>[\s\S]*?STE diverged/,
    "runs leftwards at the right edge",
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

Deno.test("a panel of some series keeps each series' colour from the full chart", () => {
  const all = ["STE, no CL", "STE + CL", "mSTE, no CL"];
  const series = (labels: string[]) => labels.map((label) => ({ label, x: [1, 2], y: [1, 2] }));
  const strokes = (html: string) =>
    [...html.matchAll(/<path[^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
  const full = strokes(lineChart({ series: series(all) }));
  const panel = strokes(lineChart({ series: series(all.slice(1)), colorLabels: all }));
  assert.equal(full.length, 3);
  assert.deepEqual(panel, full.slice(1));
});
