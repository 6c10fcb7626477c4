/**
 * The notebook experience on the real Deno kernel (issue 13): the three-line experiment with
 * lib/mod.ts, progress that ends as one summary line, docs via help(), and Jupyter's interrupt
 * stopping a run while the kernel keeps its state.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, PYTHON, ROOT, run } from "./_notebooks.ts";

// Inside the repository, so the kernel finds deno.json (its npm imports) from the notebook's folder.
const dir = join(ROOT, ".cache", "test-notebooks");
Deno.mkdirSync(dir, { recursive: true });
const MOD = JSON.stringify(join(ROOT, "lib", "mod.ts"));
const SMALL = "data: { validationFrames: 256 }, train: { epochs: 2, stepsPerEpoch: 20 }";

type Output = { output_type: string; text?: string | string[]; data?: Record<string, unknown> };
const text = (o: Output) => String(o.data?.["text/plain"] ?? o.text ?? "");

Deno.test("a first own experiment in three lines runs on the Deno kernel", async () => {
  const path = join(dir, "three_lines.ipynb");
  await Deno.writeTextFile(
    path,
    notebook([
      `import { curves, help, run } from ${MOD};`,
      `const r = await run({ passer: { kind: "mste" }, ${SMALL} });`,
      "curves(r)",
      "r",
      "await help(run)",
      'await run({ passer: { kind: "nope" } }).catch((e) => e.message)',
    ]),
  );
  const r = await execute(path, join(dir, "three_lines.out.ipynb"));
  assert.equal(r.code, 0, r.stderr);
  const cells = r.nb.cells.map((c) => (c.outputs ?? []) as Output[]);
  // Progress: one display left in the saved cell, the summary line (not a pile of updates).
  assert.equal(cells[1].length, 1, JSON.stringify(cells[1]));
  const progress = cells[1][0].data?.["application/vnd.quantlab.progress+json"] as {
    finished: boolean;
  };
  assert.equal(progress.finished, true);
  assert.match(text(cells[1][0]), /^run mste: 2 epochs, val MSE [0-9.e-]+, [0-9.]+ s$/);
  const chartHtml = String(cells[2][0].data?.["text/html"] ?? "");
  assert.match(chartHtml, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*data-chart/);
  assert.match(chartHtml, /<path/, "the chart has drawn lines");
  assert.match(String(cells[3][0].data?.["text/html"]), /val MSE/, "a result shows a summary");
  assert.match(String(cells[4][0].data?.["text/html"]), /Train one configuration/);
  assert.match(text(cells[5][0]), /config\.passer\.kind = "nope" is invalid/);
});

/** Drive the kernel with jupyter_client: interrupt a running cell, then use the kernel again. */
const DRIVER = `
import json, os, queue, sys, time
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="quantlab-deno")
km.start_kernel(cwd=sys.argv[1])
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=90)
def execute(code, until=None, timeout=120):
    # Deno's kernel sometimes publishes a result after "idle": keep reading 2 s past it.
    mid = kc.execute(code); outs = []; end = time.time() + timeout; idle = False
    while time.time() < end:
        try: m = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty: continue
        if m["parent_header"].get("msg_id") != mid: continue
        t = m["msg_type"]; c = m["content"]
        if t == "status" and c["execution_state"] == "idle":
            idle = True; end = min(end, time.time() + 2.0); continue
        if t in ("stream", "error", "execute_result", "display_data", "update_display_data"):
            outs.append({"type": t, "text": c.get("text") or c.get("data", {}).get("text/plain"),
                         "ename": c.get("ename"), "evalue": c.get("evalue")})
            if until and until(outs): until = None; yield_point(outs)
    if not idle: outs.append({"type": "timeout"})
    return outs
interrupted_at = []
def yield_point(outs):
    interrupted_at.append(time.time()); km.interrupt_kernel()
res = {}
res["setup"] = execute(sys.argv[2])
import re
res["long"] = execute(sys.argv[3], until=lambda o: any(re.search(sys.argv[5], x.get("text") or "") for x in o))
res["seconds_to_stop"] = time.time() - interrupted_at[0] if interrupted_at else None
res["alive"] = km.is_alive()
res["after"] = execute(sys.argv[4]) if km.is_alive() else []
km.shutdown_kernel(now=True)
print(json.dumps(res))
`;

Deno.test("interrupt stops a run, says so, and the kernel keeps its state", async () => {
  const r = await run(PYTHON, [
    "-c",
    DRIVER,
    dir,
    `import { run } from ${MOD}; var keep = 42; "ready"`,
    // Long enough that only the interrupt can end it in time: 200 epochs.
    `await run({ passer: { kind: "mste" }, data: { validationFrames: 256 }, ` +
    `train: { epochs: 200, stepsPerEpoch: 20 } })`,
    `[keep, (await run({ passer: { kind: "mste" }, ${SMALL} })).history.length]`,
    // Interrupt after a few epochs (updates are throttled, so any count from 2 on).
    String.raw`run mste \[.*\] ([2-9]|\d\d+)/200 `,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(res.alive, true, "the kernel survives the interrupt");
  const error = res.long.find((o: { type: string }) => o.type === "error");
  assert.ok(error, `the interrupted cell ends with an error: ${JSON.stringify(res.long)}`);
  assert.equal(error.ename, "Interrupted");
  assert.match(error.evalue, /interrupted after epoch \d+\/200/);
  assert.ok(res.seconds_to_stop < 30, `stopped ${res.seconds_to_stop} s after the interrupt`);
  console.log(`stopped ${res.seconds_to_stop.toFixed(2)} s after the interrupt`);
  const after = res.after.find((o: { type: string }) => o.type === "execute_result");
  assert.ok(after, JSON.stringify(res.after));
  assert.equal(after.text.replace(/\s/g, ""), "[42,2]", "state kept and the kernel runs again");
});

Deno.test("interrupt stops a grid cell, keeps the stored runs, and a re-run resumes", async () => {
  const cache = await Deno.makeTempDir({ dir: join(ROOT, ".cache"), prefix: "interrupt-store-" });
  const grid = `await runMany([0, 1, 2, 3, 4, 5].map((seed) => ({ passer: { kind: "mste" }, ` +
    `data: { validationFrames: 256 }, train: { seed, epochs: 4, stepsPerEpoch: 40 } })), "grid")`;
  try {
    const r = await run(PYTHON, [
      "-c",
      DRIVER,
      dir,
      `import { runMany } from ${MOD}; var keep = 42; "ready"`,
      grid,
      `[keep, (${grid}).length]`,
      // Interrupt once some but not all runs are done (updates are throttled: any of 1..5).
      String.raw`grid \[.*\] [1-5]/6 `,
    ], { QUANTLAB_CACHE: cache });
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(res.alive, true, "the kernel survives the interrupt");
    const error = res.long.find((o: { type: string }) => o.type === "error");
    assert.ok(error, `the interrupted cell ends with an error: ${JSON.stringify(res.long)}`);
    assert.equal(error.ename, "Interrupted");
    const m = error.evalue.match(
      /grid: interrupted after (\d+)\/6 runs; stored results kept; re-run the cell to resume/,
    );
    assert.ok(m, error.evalue);
    const doneAtInterrupt = Number(m[1]);
    assert.ok(doneAtInterrupt >= 1 && doneAtInterrupt < 6, error.evalue);
    assert.ok(res.seconds_to_stop < 30, `stopped ${res.seconds_to_stop} s after the interrupt`);
    console.log(`stopped ${res.seconds_to_stop.toFixed(2)} s after the interrupt`);
    // The re-run takes the stored runs from the store and computes only the rest.
    const summary = res.after.map((o: { text?: string }) => o.text ?? "").join("\n");
    const cached = Number(summary.match(/grid: 6 runs: (\d+) from cache/)?.[1] ?? -1);
    assert.ok(cached >= doneAtInterrupt, `re-run summary: ${summary}`);
    const after = res.after.find((o: { type: string }) => o.type === "execute_result");
    assert.equal(after.text.replace(/\s/g, ""), "[42,6]");
  } finally {
    await Deno.remove(cache, { recursive: true }).catch(() => {});
  }
});
