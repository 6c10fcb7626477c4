import assert from "node:assert/strict";
import { checkIndex, checkPage } from "./check.ts";
import { lineChart } from "../plot.ts";

const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><style>p{}</style></head><body>${body}</body></html>`;
const chart = () => lineChart({ series: [{ label: "a", x: [1, 2, 3], y: [3, 1, 2] }] });

Deno.test("checkPage passes a self-contained page with real charts", () => {
  const r = checkPage(page(chart() + chart()), { minCharts: 2 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.charts, 2);
  assert.ok(r.marks.every((n) => n >= 1));
});

Deno.test("checkPage flags each way a page stops being self-contained", () => {
  const cases: [string, RegExp][] = [
    [`<script>1</script>`, /forbidden element <script>/],
    [`<link rel="stylesheet" href="x.css">`, /forbidden element <link>/],
    [`<img src="https://x/y.png">`, /loads something other than data:/],
    [`<img src="y.png">`, /loads something other than data:/],
    [`<a href="https://x.org">x</a>`, /points outside the page/],
    [`<a href="other.html">x</a>`, /points outside the page/],
    [`<p>see https://x.org</p>`, /external URL scheme "https:"/],
    [`<p>at file:///root/x.ts</p>`, /external URL scheme "file:"/],
    [`<div style="background:url(x.png)"></div>`, /external url\(\)/],
    [`<style>@font-face{font-family:x}</style>`, /@import or @font-face/],
    [`<p onclick="x()">x</p>`, /event handler onclick/],
    [`<p id="a"></p><p id="a"></p>`, /id "a" is used 2 times/],
    [`<svg><path d="M0,0"/></svg>`, /lacks the SVG xmlns/],
  ];
  for (const [body, re] of cases) {
    const { problems } = checkPage(page(body));
    assert.ok(problems.some((p) => re.test(p)), `${body} → ${problems.join("; ")}`);
  }
  assert.deepEqual(checkPage(page(`<a href="other.html">x</a>`), { pageLinks: true }).problems, []);
});

Deno.test("checkPage flags a chart without data marks and a missing chart", () => {
  const empty = chart().replace(/<g[^>]*aria-label="line"[\s\S]*?<\/g>/, "");
  assert.ok(!empty.includes('aria-label="line"'));
  const r = checkPage(page(empty), { minCharts: 2 });
  assert.ok(r.problems.some((p) => /chart 1 has no data marks/.test(p)), r.problems.join("; "));
  assert.ok(r.problems.some((p) => /at least 2 chart/.test(p)));
});

Deno.test("checkIndex names the pages the index does not link", () => {
  const index = page(`<a href="01_a.html">a</a>`);
  assert.deepEqual(checkIndex(index, ["01_a.html", "02_b.html"]), [
    "index.html does not link 02_b.html",
  ]);
});
