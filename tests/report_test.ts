/**
 * `scripts/build_reports.ts` end to end on the fixture notebook (real Deno kernel, real
 * Chromium): the pages, index and findings.json it writes pass every report check, and it fails
 * loudly, naming the notebook, when a notebook breaks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkPage, checkReportDir, validateFindings } from "../lib/report/mod.ts";
import { DENO, notebook, ROOT, run } from "./_notebooks.ts";

const BUILD = join(ROOT, "scripts", "build_reports.ts");
const tmp = await Deno.makeTempDir({ prefix: "quantlab-report-" });
const out = join(tmp, "reports");

function build(args: string[]) {
  return run(DENO, ["run", "-A", BUILD, "--executed", join(tmp, "executed"), ...args]);
}

Deno.test("build_reports turns the fixture notebook into a checked, self-contained report", async (t) => {
  const r = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--out", out, "--quick"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /1\/1 fixture\.ipynb ok/);
  assert.match(r.stderr, /Chromium rendered 1 chart\(s\) on 2 page\(s\)/);
  assert.match(r.stderr, /total wall time \d+\.\d s/);

  await t.step("the directory passes every check", async () => {
    const c = await checkReportDir(out, ["fixture.html"]);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(c.pages, ["fixture.html"]);
    assert.equal(c.charts["fixture.html"], 1);
  });

  const page = await Deno.readTextFile(join(out, "fixture.html"));
  await t.step("the page shows the chart with real marks, the table and the verdict", () => {
    const c = checkPage(page, { pageLinks: true, minCharts: 1 });
    assert.deepEqual(c.problems, []);
    assert.ok(c.marks[0] >= 3, `line, band and rule marks: ${c.marks}`);
    assert.match(page, /<table class="ql-table">/);
    assert.match(page, /ql-verdict ql-reproduced/);
    assert.match(page, /<h1>Fixture: display, chart and finding<\/h1>/);
    assert.match(page, /<details class="ql-code">/, "code is collapsed");
    assert.doesNotMatch(page, /<script|\bhttps?:\/\/(?!www\.w3\.org\/2000\/svg)|\bfile:/);
  });

  await t.step("the header carries the run's metadata", () => {
    const header = page.match(/<header class="ql-run">([\s\S]*?)<\/header>/)![1];
    for (
      const key of [
        "commit",
        "built",
        "profile",
        "backend",
        "versions",
        "compute time",
        "build time",
      ]
    ) {
      assert.match(header, new RegExp(`<dt>${key}</dt>`));
    }
    assert.match(header, /<dd>quick<\/dd>/);
    assert.match(header, new RegExp(`Deno ${Deno.version.deno.replaceAll(".", "\\.")}`));
    assert.match(header, /<dt>commit<\/dt><dd>[0-9a-f]{12}(-dirty)?<\/dd>/);
  });

  await t.step("the index links the page with its summary and verdicts", async () => {
    const index = await Deno.readTextFile(join(out, "index.html"));
    assert.match(index, /<a href="fixture\.html">Fixture: display, chart and finding<\/a>/);
    assert.match(index, /A tiny notebook the infrastructure tests execute/);
    assert.match(index, /fixture-mse-falls/);
  });

  await t.step("findings.json holds the notebook's finding and validates", async () => {
    const findings = JSON.parse(await Deno.readTextFile(join(out, "findings.json")));
    assert.deepEqual(validateFindings(findings), []);
    assert.equal(findings.length, 1);
    assert.equal(findings[0].id, "fixture-mse-falls");
    assert.equal(findings[0].notebook, "fixture.ipynb");
    assert.equal(findings[0].verdict, "reproduced");
    assert.ok(Math.abs(findings[0].measured.ratio - Math.exp(-5)) < 1e-12);
  });
});

Deno.test("build_reports fails, naming the notebook, when a cell errors", async () => {
  const dir = join(tmp, "broken");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "01_ok.ipynb"), notebook(["# ok", "1 + 1;"]));
  await Deno.writeTextFile(join(dir, "02_bad.ipynb"), notebook(['throw new Error("bad cell");']));
  const r = await build(["--notebooks", dir, "--out", join(tmp, "broken-out")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /02_bad\.ipynb: cell #0 raised Error: bad cell/);
  assert.match(r.stderr, /FAILED: 02_bad\.ipynb did not execute cleanly/);
  assert.ok(
    await Deno.stat(join(tmp, "broken-out", "index.html")).then(() => false, () => true),
    "no report is written from a failed run",
  );
});

Deno.test("build_reports refuses an empty notebook folder and an unknown --only", async () => {
  const empty = join(tmp, "empty");
  await Deno.mkdir(empty);
  const none = await build(["--notebooks", empty, "--out", join(tmp, "x")]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no notebooks in/);
  const only = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--only", "nope"]);
  assert.equal(only.code, 1);
  assert.match(only.stderr, /--only nope: not one of fixture\.ipynb/);
});
