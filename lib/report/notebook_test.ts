import assert from "node:assert/strict";
import { comparePaired } from "../stats.ts";
import { FINDING_MIME } from "./findings.ts";
import {
  collectFindings,
  type NbOutput,
  type Notebook,
  notebookSummary,
  notebookTitle,
  renderNotebookPage,
  RUN_MIME,
} from "./notebook.ts";
import { renderIndex } from "./index_page.ts";
import { checkPage } from "./check.ts";

const execution = {
  started: "2026-01-01T00:00:00+00:00",
  wall_seconds: 12.34,
  profile: "full",
  recompute: false,
  kernel: "Deno kernel 2.9.6",
  code_cells: 2,
  late_outputs: 1,
  missing_outputs: [],
  ok: true,
  commit: "0123456789ab",
  epilogue: { backend: null, tfjs: null, deno: "2.9.6" },
};

function nb(outputs: NbOutput[], extra: Partial<Notebook["metadata"]> = {}): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { quantlab: { execution }, ...extra },
    cells: [
      {
        cell_type: "markdown",
        source: [
          "# 2 · STE, *commitment* loss\n",
          "\n",
          "Does [STE](https://arxiv.org/x) diverge?",
        ],
      },
      { cell_type: "code", source: "const x = 1;\nshow(x);", execution_count: 1, outputs },
    ],
  };
}

const finding = {
  id: "A-1",
  paper: "A",
  claim: "c",
  metric: "m",
  measured: 1,
  verdict: "reproduced",
};

Deno.test("title and summary come from the first heading and paragraph", () => {
  const n = nb([]);
  assert.equal(notebookTitle(n, "fallback"), "2 · STE, commitment loss");
  assert.equal(notebookSummary(n), "Does STE diverge?");
  assert.equal(notebookSummary(nb([], { quantlab: { summary: "Set by hand." } })), "Set by hand.");
  assert.equal(notebookTitle({ ...n, cells: [] }, "fallback"), "fallback");
});

Deno.test("a page renders every output kind inline and stays self-contained", () => {
  const page = renderNotebookPage(
    nb([
      { output_type: "stream", name: "stdout", text: ["epoch 1 <ok>\n"] },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "execute_result", data: { "text/plain": "\x1b[33m42\x1b[0m" } },
      { output_type: "display_data", data: { "image/png": "iVBORw0KGgo=\n" } },
      {
        output_type: "display_data",
        data: { "text/html": '<b>bold</b><img src="https://x/y.png">' },
      },
      {
        output_type: "error",
        ename: "Error",
        evalue: "boom",
        traceback: ["\x1b[31mError: boom\x1b[0m", "    at file:///repo/lib/a.ts:1:1"],
      },
    ]),
    { notebook: "02_ste.ipynb", run: { commit: "build", date: "2026-01-02" }, root: "/repo" },
  );
  assert.equal(page.file, "02_ste.html");
  assert.match(page.html, /<pre class="ql-stream">epoch 1 &#60;ok&#62;\n<\/pre>/);
  assert.match(page.html, /<pre class="ql-stream ql-stderr">warn/);
  assert.match(page.html, /<pre class="ql-result">42<\/pre>/);
  assert.match(page.html, /<img alt="" src="data:image\/png;base64,iVBORw0KGgo=">/);
  assert.match(page.html, /<b>bold<\/b><img>/, "the external image source is removed");
  assert.match(page.html, /<pre class="ql-error">Error: boom\n {4}at lib\/a\.ts:1:1<\/pre>/);
  assert.match(page.html, /<details class="ql-code"><summary>\[1\] const x = 1; … \(2 lines\)/);
  assert.match(page.html, /Does STE <span class="ql-ref">\(arxiv\.org\/x\)<\/span> diverge/);
  assert.ok(
    page.removed.some((r) => /cell #1: src="https:\/\/x\/y\.png"/.test(r)),
    page.removed.join(),
  );
  assert.deepEqual(checkPage(page.html, { pageLinks: true }).problems, []);
});

Deno.test("the header shows commit, profile, backend, versions, compute and build time", () => {
  const header = (n: Notebook) =>
    renderNotebookPage(n, { notebook: "a.ipynb", run: { commit: "build", date: "d" } }).html
      .match(/<header class="ql-run">([\s\S]*?)<\/header>/)![1];
  const probeOnly = header(nb([]));
  assert.match(probeOnly, /<dt>commit<\/dt><dd>0123456789ab<\/dd>/);
  assert.match(probeOnly, /<dt>profile<\/dt><dd>full<\/dd>/);
  assert.match(probeOnly, /<dt>backend<\/dt><dd>not recorded/);
  assert.match(probeOnly, /<dt>build time<\/dt><dd>12\.3 s to execute the notebook in this build/);
  assert.match(probeOnly, /<dt>compute time<\/dt><dd>none reported<\/dd>/);
  const reported = header(
    nb([{
      output_type: "display_data",
      data: { [RUN_MIME]: [{ backend: "wasm", tfjs: "4.22.0", deno: "2.9.6" }] },
    }]),
  );
  assert.match(reported, /<dt>backend<\/dt><dd>wasm<\/dd>/);
  assert.match(reported, /<dt>versions<\/dt><dd>Deno 2\.9\.6 · tfjs 4\.22\.0<\/dd>/);
  const computed = header(
    nb([{
      output_type: "display_data",
      data: {
        [RUN_MIME]: [
          { backend: "wasm", computeMs: 90_000, run: "a" },
          { backend: "wasm", computeMs: 60_000, run: "b" },
        ],
      },
    }]),
  );
  assert.match(
    computed,
    /<dt>compute time<\/dt><dd>2\.5 min of training in 2 run\(s\), from the stored results/,
  );
  assert.match(computed, /<dt>build time<\/dt><dd>12\.3 s/, "build time kept apart from compute");
});

Deno.test("findings are collected from outputs, one or many per output, named by notebook", () => {
  const n = nb([
    { output_type: "execute_result", data: { [FINDING_MIME]: finding, "text/html": "<p>v</p>" } },
    { output_type: "display_data", data: { [FINDING_MIME]: [{ ...finding, id: "A-2" }] } },
  ]);
  const found = collectFindings(n, "02_ste.ipynb");
  assert.deepEqual(found.map((f) => [f.id, f.notebook]), [["A-1", "02_ste.ipynb"], [
    "A-2",
    "02_ste.ipynb",
  ]]);
});

Deno.test("the index links every page and lists every finding with its verdict", () => {
  const a = renderNotebookPage(
    nb([{ output_type: "display_data", data: { [FINDING_MIME]: finding } }]),
    {
      notebook: "01_a.ipynb",
      run: { commit: "c", date: "d" },
    },
  );
  const b = renderNotebookPage(nb([]), { notebook: "02_b.ipynb", run: { commit: "c", date: "d" } });
  const html = renderIndex([a, b], a.findings, {
    commit: "c",
    date: "d",
    profile: "full",
    wallSeconds: 99,
    deno: "2.9.6",
  });
  assert.match(html, /<a href="01_a\.html">/);
  assert.match(html, /<a href="02_b\.html">/);
  assert.match(
    html,
    /<td data-label="id">A-1<\/td>.*ql-badge ql-reproduced.*<a href="01_a\.html">01_a<\/a>/,
  );
  assert.deepEqual(checkPage(html, { pageLinks: true }).problems, []);
});

Deno.test("the index says what quantlab is, explains its terms and keeps build and compute time apart", () => {
  const withRuns = (name: string, runs: { computeMs: number; run: string }[]) =>
    renderNotebookPage(nb([{ output_type: "display_data", data: { [RUN_MIME]: runs } }]), {
      notebook: name,
      run: { commit: "c", date: "d" },
    });
  // Run "shared" appears on both pages (as notebook 06 reuses the runs of 02-04): counted once.
  const a = withRuns("01_a.ipynb", [{ computeMs: 100_000, run: "x" }, {
    computeMs: 20_000,
    run: "shared",
  }]);
  const b = withRuns("02_b.ipynb", [{ computeMs: 20_000, run: "shared" }]);
  const html = renderIndex([a, b], [], {
    commit: "c",
    date: "d",
    profile: "full",
    wallSeconds: 7,
    deno: "2.9.6",
  });
  const visible = html.replace(/<!--[\s\S]*?-->/g, "");
  assert.match(visible, /quantlab is a test bed/);
  for (const term of ["STE", "mSTE", "CL", "MA-E", "B, B_q", "NA"]) {
    assert.match(visible, new RegExp(`<dt>${term}</dt><dd>[^<]{20,}</dd>`), term);
  }
  assert.doesNotMatch(visible, /by hand/i, "no instructions for developers in the visible text");
  assert.match(html, /<!-- Generated by \.\/quantlab reports/);
  assert.match(visible, /<dt>compute time<\/dt><dd>2 min of training in 2 run\(s\)/);
  assert.match(visible, /<dt>build time<\/dt><dd>7 s to execute the notebooks in this build/);
  assert.deepEqual(checkPage(html, { pageLinks: true }).problems, []);
});

Deno.test("the index shows a comparison finding's paired interval", () => {
  const stats = comparePaired([0.1, 0.11, 0.09], [0.2, 0.2, 0.21], {
    claim: "lower",
    statistic: "MSE",
  });
  const compared = { ...finding, id: "A-cmp", verdict: stats.outcome, stats };
  const page = renderNotebookPage(
    nb([{ output_type: "display_data", data: { [FINDING_MIME]: compared } }]),
    { notebook: "01_a.ipynb", run: { commit: "c", date: "d" } },
  );
  const html = renderIndex([page], page.findings, {
    commit: "c",
    date: "d",
    profile: "full",
    wallSeconds: 1,
    deno: "2.9.6",
  });
  assert.match(html, /paired: -0\.103 \[-0\.1\d*, -0\.0\d*\] \(95 % paired t, n = 3 seeds\)/);
});
