/**
 * `scripts/build_reports.ts` end to end on the fixture notebook (real Deno kernel, real
 * Chromium): the pages, index and findings.json it writes pass every report check, and it fails
 * loudly, naming the notebook, when a notebook breaks, without touching the previous report;
 * quick and partial builds never reach the committed reports/ (issues 13.3, 14.3, 14.13).
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
  assert.match(
    r.stderr,
    /Chromium rendered 1 chart\(s\) on 2 page\(s\) at 390 and 1280 px, .* none scrolling sideways/,
  );
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

/** Every file of a directory with its content (a report is flat). */
async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out[e.name] = await Deno.readTextFile(join(dir, e.name));
  }
  return out;
}

/** A report directory as a previous build left it. */
async function previousReport(dir: string): Promise<Record<string, string>> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "index.html"), "<p>previous full build</p>");
  await Deno.writeTextFile(join(dir, "01_other.html"), '<p class="ql-run">other page</p>');
  await Deno.writeTextFile(join(dir, "findings.json"), '[{"id": "kept"}]\n');
  return await snapshotDir(dir);
}

Deno.test("build_reports fails, naming the notebook, when a cell errors, and writes nothing", async () => {
  const dir = join(tmp, "broken");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "01_ok.ipynb"), notebook(["# ok", "1 + 1;"]));
  await Deno.writeTextFile(join(dir, "02_bad.ipynb"), notebook(['throw new Error("bad cell");']));
  const dest = join(tmp, "broken-out");
  const before = await previousReport(dest);
  const r = await build(["--notebooks", dir, "--out", dest]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /02_bad\.ipynb: cell #0 raised Error: bad cell/);
  assert.match(r.stderr, /FAILED: 02_bad\.ipynb did not execute cleanly/);
  assert.match(r.stderr, /broken-out was left untouched/);
  assert.deepEqual(await snapshotDir(dest), before, "the previous report is intact");
});

Deno.test("a build that fails its report checks leaves the destination untouched", async () => {
  const dir = join(tmp, "invalid");
  await Deno.mkdir(dir);
  // Executes cleanly, but emits a finding that fails the schema: caught by the report checks,
  // which used to run only after every page had been overwritten (issue 14.3).
  const badFinding = `({ [Symbol.for("Jupyter.display")]: () => ({ "text/plain": "bad", ` +
    `"application/vnd.quantlab.finding+json": { id: "no-claim" } }) });`;
  await Deno.writeTextFile(join(dir, "01_bad_finding.ipynb"), notebook(["# bad", badFinding]));
  const dest = join(tmp, "checked-out");
  const before = await previousReport(dest);
  const r = await build(["--notebooks", dir, "--out", dest]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /the report fails its checks/);
  assert.match(r.stderr, /findings\.json: /);
  assert.match(
    r.stderr,
    /checked-out was left untouched; this build's files are in .*\.checked-out\.failed/,
  );
  assert.deepEqual(await snapshotDir(dest), before, "no page, index or finding was replaced");
  assert.deepEqual(Object.keys(await snapshotDir(join(tmp, ".checked-out.failed"))).sort(), [
    "01_bad_finding.html",
    "findings.json",
    "index.html",
  ]);
});

Deno.test("a quick build leaves the committed reports untouched and goes to .cache/reports-quick", async () => {
  const committed = join(ROOT, "reports");
  const before = await snapshotDir(committed).catch(() => ({}));
  const r = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--quick"]);
  assert.equal(r.code, 0, r.stderr);
  const preview = join(ROOT, ".cache", "reports-quick");
  assert.match(r.stderr, new RegExp(`report to ${preview}`));
  assert.deepEqual(await snapshotDir(committed).catch(() => ({})), before);
  assert.ok((await snapshotDir(preview))["fixture.html"], "the quick report is in the preview");
});

Deno.test("quick or --only builds into reports/ are refused before any notebook runs", async () => {
  const fixtures = join(ROOT, "tests", "fixtures");
  for (const args of [["--quick"], ["--only", "fixture"]]) {
    const r = await build(["--notebooks", fixtures, "--out", join(ROOT, "reports"), ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /refusing to write a (quick-profile|partial \(--only\)) build into/);
    assert.match(r.stderr, /reports-quick/);
    assert.doesNotMatch(r.stderr, /executing/, "no notebook ran");
  }
});

Deno.test("an unknown flag gives the usage and exit 2, not a stack trace", async () => {
  const r = await build(["--qiuck"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option '--qiuck'/);
  assert.match(r.stderr, /usage: \.\/quantlab reports/);
  assert.doesNotMatch(r.stderr, /^\s+at |Uncaught|error: /m, "no stack trace");
});

Deno.test("an --out that cannot be written fails, naming it, before any notebook runs", async () => {
  const file = join(tmp, "plain-file");
  await Deno.writeTextFile(file, "");
  const out = join(file, "reports");
  const r = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--out", out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`--out ${out}: .*Not a directory`));
  assert.doesNotMatch(r.stderr, /executing/, "no notebook ran");
  const mine = join(tmp, "mine");
  await Deno.mkdir(mine);
  await Deno.writeTextFile(join(mine, "notes.txt"), "keep");
  const foreign = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--out", mine]);
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /notes\.txt, which is not a report file/);
  assert.equal(await Deno.readTextFile(join(mine, "notes.txt")), "keep");
});

Deno.test("build_reports refuses an empty notebook folder and an unknown --only", async () => {
  const empty = join(tmp, "empty");
  await Deno.mkdir(empty);
  const none = await build(["--notebooks", empty, "--out", join(tmp, "x")]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no notebooks in/);
  const only = await build(["--notebooks", join(ROOT, "tests", "fixtures"), "--only", "nope"]);
  assert.equal(only.code, 2);
  assert.match(only.stderr, /--only nope: not one of fixture\.ipynb/);
});
