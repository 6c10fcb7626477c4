/**
 * Every notebook in notebooks/ executes in the quick profile on the real Deno kernel with no
 * cell error and no missing output, and the report built from them passes every check
 * (scripts/build_reports.ts does both and exits non-zero otherwise).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkReportDir } from "../lib/report/mod.ts";
import { DENO, ROOT, run } from "./_notebooks.ts";

const NOTEBOOKS = join(ROOT, "notebooks");

Deno.test("every notebook runs in the quick profile and builds a checked report", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(NOTEBOOKS)) {
    if (e.isFile && e.name.endsWith(".ipynb")) names.push(e.name);
  }
  assert.ok(names.length > 0, "notebooks/ holds no notebook");
  const tmp = await Deno.makeTempDir({ prefix: "quantlab-notebooks-" });
  const out = join(tmp, "reports");
  const r = await run(DENO, [
    "run",
    "-A",
    join(ROOT, "scripts", "build_reports.ts"),
    "--quick",
    "--out",
    out,
    "--executed",
    join(tmp, "executed"),
  ]);
  assert.equal(r.code, 0, `build_reports failed:\n${r.stderr.slice(-6000)}`);
  const pages = names.sort().map((n) => n.replace(/\.ipynb$/, ".html"));
  const check = await checkReportDir(out, pages);
  assert.deepEqual(check.problems, []);
  assert.deepEqual(check.pages, pages);
});
