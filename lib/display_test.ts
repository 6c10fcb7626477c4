import assert from "node:assert/strict";
import {
  chart,
  Display,
  finding,
  FINDING_MIME,
  findingsTable,
  folded,
  group,
  html,
  JUPYTER_DISPLAY,
  markdown,
  runInfo,
  table,
  verdict,
} from "./display.ts";
import { RUN_MIME } from "./report/notebook.ts";
import { lineChart } from "./plot.ts";

const valid = {
  id: "A-ste-diverges",
  paper: "A",
  claim: "STE without commitment loss diverges.",
  metric: "seeds whose max |e| exceeds 1e8",
  measured: { diverged: 3, seeds: 3 },
  verdict: "reproduced" as const,
};

Deno.test("a Display answers Deno's kernel through Symbol.for('Jupyter.display')", () => {
  const d = html("<b>x</b>");
  assert.ok(d instanceof Display);
  const method = (d as unknown as Record<symbol, () => unknown>)[Symbol.for("Jupyter.display")];
  assert.equal(typeof method, "function");
  assert.deepEqual(method.call(d), { "text/html": "<b>x</b>", "text/plain": "x" });
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
});

Deno.test("table renders escaped cells, right-aligned numbers and a plain-text fallback", () => {
  const t = table([{ name: "<ste>", mse: 0.01234567 }, { name: "mste", mse: null }], {
    caption: "final MSE",
  });
  assert.match(t.html, /<td style="text-align:left">&#60;ste&#62;<\/td>/);
  assert.match(t.html, /<td class="num" style="text-align:right">0.01235<\/td>/);
  assert.match(t.html, /<td class="num" style="text-align:right">—<\/td>/);
  assert.equal(
    t.toString(),
    ["final MSE", "name       mse", "-----  -------", "<ste>  0.01235", "mste         —"].join(
      "\n",
    ),
  );
});

Deno.test("markdown renders to HTML and keeps the source as text", () => {
  const d = markdown("**B** = 8 bits");
  assert.match(d.html, /<strong>B<\/strong> = 8 bits/);
  assert.equal(d.toString(), "**B** = 8 bits");
});

Deno.test("chart wraps rendered SVG as text/html and refuses anything else", () => {
  const d = chart(lineChart({ series: [{ label: "a", x: [1, 2], y: [1, 2] }] }), "MSE");
  assert.match(d.html, /^<figure class="ql-chart"><svg xmlns=/);
  assert.match(d.html, /<figcaption>MSE<\/figcaption><\/figure>$/);
  assert.equal(d.bundle["image/svg+xml"], undefined, "never bare SVG (nbconvert mangled it)");
  assert.throws(() => chart("<div></div>"), /no <svg>/);
});

Deno.test("finding shows a verdict box and carries the machine-readable finding", () => {
  const d = finding(valid);
  assert.deepEqual(d.bundle[FINDING_MIME], valid);
  assert.match(d.html, /reproduced/);
  assert.match(d.html, /diverged = 3, seeds = 3/);
  assert.match(d.toString(), /^\[reproduced\] A-ste-diverges/);
});

Deno.test("finding refuses an invalid finding, naming the field", () => {
  assert.throws(() => finding({ ...valid, verdict: "kind of" as never }), /verdict/);
  assert.throws(() => finding({ ...valid, measured: { mse: NaN } }), /measured\.mse/);
  assert.throws(() => finding({ ...valid, id: "has space" }), /\.id/);
});

Deno.test("group merges displays and keeps every finding; findingsTable emits none", () => {
  const g = group(
    verdict("inconclusive", "too few seeds"),
    finding(valid),
    finding({ ...valid, id: "b" }),
  );
  assert.deepEqual((g.bundle[FINDING_MIME] as { id: string }[]).map((f) => f.id), [
    "A-ste-diverges",
    "b",
  ]);
  assert.match(g.html, /too few seeds/);
  const t = findingsTable([{ ...valid, notebook: "02.ipynb" }]);
  assert.equal(t.bundle[FINDING_MIME], undefined);
  assert.match(t.html, /A-ste-diverges/);
});

Deno.test("runInfo reports the backend of out-of-kernel runs once per distinct setup", () => {
  const wasm = { backend: "wasm", tfjs: "4.22.0", deno: "2.9.6" };
  const d = runInfo([wasm, { ...wasm }, { ...wasm, backend: "cpu" }]);
  assert.equal(
    d.toString(),
    "Ran on wasm backend · tfjs 4.22.0 · Deno 2.9.6; cpu backend · tfjs 4.22.0 · Deno 2.9.6",
  );
  assert.equal((d.bundle[RUN_MIME] as unknown[]).length, 3);
  assert.deepEqual(group(d, html("x")).bundle[RUN_MIME], d.bundle[RUN_MIME]);
  assert.throws(() => runInfo([]), /no run information/);
});

Deno.test("table cells carry their alignment inline, so Jupyter does not right-align text", () => {
  const t = table([{ passer: "ste", mse: 0.5 }]);
  assert.match(t.html, /<th style="text-align:left">passer<\/th>/);
  assert.match(t.html, /<td style="text-align:left">ste<\/td>/);
  assert.match(t.html, /<th class="num" style="text-align:right">mse<\/th>/);
  assert.doesNotMatch(t.html, /<t[dh]>/, "no cell left to Jupyter's default alignment");
});

Deno.test("folded puts a display behind a summary and keeps its machine-readable parts", () => {
  const inner = group(table([{ a: 1 }]), runInfo({ backend: "wasm", tfjs: "4", deno: "2" }));
  const f = folded("Settings: 1 field", inner);
  assert.match(f.html, /^<details class="ql-settings"><summary>Settings: 1 field<\/summary><table/);
  assert.match(f.html, /<\/details>$/);
  assert.deepEqual(f.bundle[RUN_MIME], inner.bundle[RUN_MIME]);
  assert.match(f.toString(), /^Settings: 1 field\n/);
});
