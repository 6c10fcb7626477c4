/**
 * Issue 21 §4: a missing `await` is not silent. A library entry point given a Promise throws
 * "got a Promise — add await" (and stops the run behind it), and a run's progress bar never
 * outlives the error: it ends saying the run stopped. On the real Deno kernel.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, ROOT } from "./_notebooks.ts";
import { curves, run, runMany } from "../lib/mod.ts";
import { group, html, table } from "../lib/display.ts";

Deno.test("entry points given a Promise say: add await", async () => {
  const pending = Promise.resolve([{ a: 1 }]);
  assert.throws(() => table(pending as never), /table: got a Promise — add await/);
  assert.throws(
    () => group(html("a"), Promise.resolve(html("b")) as never),
    /group: got a Promise — add await/,
  );
  assert.throws(
    () => curves(Promise.resolve({}) as never),
    /curves: got a Promise — add await: curves\(await run\(\{\.\.\.\}\)\)/,
  );
  assert.throws(
    () => curves({ STE: Promise.resolve([]) } as never),
    /curves: got a Promise — add await/,
  );
  await assert.rejects(() => run(Promise.resolve({}) as never), /run: got a Promise — add await/);
  await assert.rejects(
    () => runMany(Promise.resolve([]) as never),
    /runMany: got a Promise — add await/,
  );
});

Deno.test("curves(run({...})) on the kernel: the error names the missing await, the run stops, no live bar", async () => {
  const dir = join(ROOT, ".cache", "test-notebooks");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "await.ipynb");
  const mod = JSON.stringify(join(ROOT, "lib", "mod.ts"));
  await Deno.writeTextFile(
    path,
    notebook([
      `import { curves, run } from ${mod};`,
      // Backend started first, so the run below starts training at once.
      "const warm = await run({ data: { validationFrames: 256 }, train: { epochs: 1, stepsPerEpoch: 5 } });",
      "curves(run({ data: { validationFrames: 256 }, train: { epochs: 200, stepsPerEpoch: 50 } }))",
    ]),
  );
  const t0 = Date.now();
  const r = await execute(path, join(dir, "await.out.ipynb"));
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /cell #2 raised TypeError: curves: got a Promise — add await: curves\(await run\(\{\.\.\.\}\)\); the run it came from was stopped/,
  );
  const outs = r.nb.cells[2].outputs ?? [];
  assert.ok(outs.some((o) => o.output_type === "error"), JSON.stringify(outs));
  for (const o of outs) {
    const state = o.data?.["application/vnd.quantlab.progress+json"] as
      | { finished: boolean }
      | undefined;
    assert.ok(
      !state || state.finished,
      `a live progress bar under the error: ${JSON.stringify(o)}`,
    );
  }
  assert.ok(Date.now() - t0 < 90_000, "the 10 000-step run did not train on in the background");
});

Deno.test("run({...}); throw … on the kernel with a warm backend: the cell shows its error", async () => {
  // Reproduced on Deno 2.9.6: after an earlier `await run(...)`, the cell's error was lost —
  // the kernel logged 'CDP response has null result … "Promise was collected"', replied
  // "Execution failed" and published no error, so the frontend showed nothing.
  const dir = join(ROOT, ".cache", "test-notebooks");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "throw_after_run.ipynb");
  const mod = JSON.stringify(join(ROOT, "lib", "mod.ts"));
  const cfg = "{ data: { validationFrames: 256 }, train: { epochs: 2, stepsPerEpoch: 20 } }";
  await Deno.writeTextFile(
    path,
    notebook([
      `import { run } from ${mod};`,
      `const warm = await run(${cfg});`,
      `run(${cfg});\nthrow new Error("boom after run");`,
    ]),
  );
  const r = await execute(path, join(dir, "throw_after_run.out.ipynb"));
  assert.equal(r.code, 1, r.stderr);
  const errors = (r.nb.cells[2].outputs ?? []).filter((o) => o.output_type === "error");
  assert.ok(
    errors.some((o) => JSON.stringify(o).includes("boom after run")),
    `cell 2 shows no error: ${JSON.stringify(r.nb.cells[2].outputs)}\n${r.stderr.slice(-1500)}`,
  );
});
