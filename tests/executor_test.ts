/**
 * scripts/execute_notebook.py on the real Deno kernel: outputs are kept (also when they arrive
 * after the kernel reported idle), cell errors and missing expected outputs fail the run with the
 * notebook and cell named, and the profile switches reach the kernel.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, PYTHON, ROOT, run, streamText } from "./_notebooks.ts";

const tmp = await Deno.makeTempDir({ prefix: "quantlab-exec-" });

Deno.test("the fixture notebook runs on the Deno kernel with every expected output", async () => {
  const r = await execute(
    join(ROOT, "tests", "fixtures", "fixture.ipynb"),
    join(tmp, "fixture.ipynb"),
    ["--profile", "quick"],
  );
  assert.equal(r.code, 0, r.stderr);
  const ex = r.nb.metadata.quantlab!.execution!;
  assert.equal(ex.ok, true);
  assert.deepEqual(ex.missing_outputs, []);
  assert.equal(ex.profile, "quick");
  const outputs = r.nb.cells.flatMap((c) => c.outputs ?? []);
  const mimes = outputs.flatMap((o) => Object.keys(o.data ?? {}));
  assert.ok(mimes.includes("application/vnd.quantlab.finding+json"), "the finding is emitted");
  const html = outputs.map((o) => String(o.data?.["text/html"] ?? "")).join("");
  assert.match(html, /<table/);
  assert.match(html, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*data-chart/);
  assert.match(streamText(r.nb, 2), /profile: quick/, "QUANTLAB_PROFILE reaches the kernel");
  assert.match(r.stderr, /\[fixture\] cell 3\/5/, "progress lines name the notebook and cell");
});

Deno.test("a cell error fails the run and names the notebook and the cell", async () => {
  const path = join(tmp, "error.ipynb");
  await Deno.writeTextFile(path, notebook(["1 + 1", 'throw new Error("boom")', "'never run'"]));
  const r = await execute(path, join(tmp, "error.out.ipynb"));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAILED .*error\.ipynb: cell #1 raised Error: boom/);
  assert.equal(r.nb.metadata.quantlab!.execution!.ok, false);
  assert.equal(r.nb.cells[2].outputs!.length, 0, "execution stops at the failing cell");
});

Deno.test("a cell ending in an expression that shows nothing fails as missing output", async () => {
  const path = join(tmp, "missing.ipynb");
  await Deno.writeTextFile(
    path,
    notebook([
      "# title",
      "const a = 1;",
      "function quiet() {}\nquiet();",
      "a + 1;",
      "// only a comment",
      "for (const x of [1]) {\n  quiet();\n}",
    ]),
  );
  const r = await execute(path, join(tmp, "missing.out.ipynb"));
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /FAILED .*missing\.ipynb: cell #2 produced no output.*'quiet\(\)'/);
  assert.deepEqual(r.nb.metadata.quantlab!.execution!.missing_outputs, [2]);
});

Deno.test("output published after the kernel reported idle is kept in its own cell", async () => {
  const path = join(tmp, "late.ipynb");
  await Deno.writeTextFile(
    path,
    notebook([
      "setTimeout(() => console.log('late line'), 150);\n'now'",
      "'next cell'",
    ]),
  );
  const r = await execute(path, join(tmp, "late.out.ipynb"), ["--grace", "0.5"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamText(r.nb, 0), "late line\n", "late output lands in the cell that caused it");
  assert.equal(streamText(r.nb, 1), "");
  assert.ok(r.nb.metadata.quantlab!.execution!.late_outputs >= 1);
  assert.match(r.stderr, /arrived .* after idle \(kept\)/);
});

Deno.test("--recompute and --profile are passed to the kernel's environment", async () => {
  const path = join(tmp, "env.ipynb");
  await Deno.writeTextFile(
    path,
    notebook([
      'console.log(Deno.env.get("QUANTLAB_PROFILE"), Deno.env.get("QUANTLAB_RECOMPUTE"), Deno.env.get("NO_COLOR"))',
    ]),
  );
  const r = await execute(path, join(tmp, "env.out.ipynb"), ["--profile", "full", "--recompute"], {
    QUANTLAB_PROFILE: "quick",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamText(r.nb, 0), "full 1 1\n");
  assert.equal(r.nb.metadata.quantlab!.execution!.recompute, true);
});

Deno.test("a cell that runs past --timeout fails, naming the cell", async () => {
  const path = join(tmp, "slow.ipynb");
  await Deno.writeTextFile(path, notebook(["await new Promise((r) => setTimeout(r, 20000));"]));
  const r = await execute(path, join(tmp, "slow.out.ipynb"), ["--timeout", "2"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /slow\.ipynb: cell #0 timed out after 2 s/);
});

Deno.test("the output-expectation rule: a cell ending in an expression expects output", async () => {
  const cases: [string, boolean][] = [
    ["table(rows);", true],
    ["table(rows)", true],
    ["chart(\n  lineChart({}),\n);", true],
    ["await run(cfg);", true],
    ["console.log(x); // note", true],
    ['if (a) {\n  b();\n}\nfinding({ id: "x" });', true],
    ['const s = "a;b";\ntable(s)', true],
    ["const x = 1;", false],
    ["const r = await run(cfg)", false],
    ['import { a } from "../lib/a.ts";\nimport { b } from "../lib/b.ts";', false],
    ["results[0] = await run(c);", false],
    ["for (const r of runs) {\n  console.log(r);\n}", false],
    ["type T = { a: number };", false],
    ["const text = `\n${a}\n`;", false],
    ["g();\n/* block\n comment */\nconst y = 2;", false],
    ["", false],
    ["// only a comment", false],
  ];
  const script = `import json, sys
sys.path.insert(0, "scripts")
from execute_notebook import expects_output
print(json.dumps([expects_output(s) for s in json.loads(sys.stdin.read())]))`;
  const child = new Deno.Command(PYTHON, {
    args: ["-c", script],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(cases.map(([s]) => s))));
  await w.close();
  const out = await child.output();
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), cases.map(([, e]) => e));
});

Deno.test("a missing kernelspec gives an actionable message", async () => {
  const path = join(tmp, "k.ipynb");
  await Deno.writeTextFile(path, notebook(["1"]));
  const r = await run(PYTHON, [
    join(ROOT, "scripts", "execute_notebook.py"),
    path,
    "--out",
    join(tmp, "k.out.ipynb"),
    "--kernel",
    "no-such-kernel",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no kernelspec 'no-such-kernel'.*scripts\/kernel\.ts/);
});
