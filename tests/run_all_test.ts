/**
 * Issue 21 §1: under Run All (every execute_request sent at once, as Jupyter's frontends do),
 * each output lands under the cell that made it, on the real Deno kernel, for 07's cell pattern:
 * a progress bar while "training", charts with PNG copies, a cell of two charts, a table, a large
 * listening table with audio, verdicts right after it, an async display and a console line.
 *
 * Before the fix, the outputs after the listening table were stamped with a later cell's id
 * (Deno's kernel stamps queued outputs when it publishes them; lib/iopub.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { notebook, PYTHON, ROOT, run, startNotebookServer } from "./_notebooks.ts";
import { inPage } from "../scripts/browser_check.ts";

const lib = (p: string) => JSON.stringify(join(ROOT, "lib", p));

/**
 * 07's cell pattern; `seconds` is the length of each of the listening table's 15 clips at 16 kHz.
 * Both tests use 8 s: a ~5 MB output, which made the old kernel misplace later outputs, and which
 * Deno's kernel corrupted when it wrote it as the cell's result while the next cell started (the
 * Notebook server logged "Invalid Signature" and showed nothing from that cell on, in 3 of 8 runs
 * of the classic test; lib/iopub.ts `kernelBundle`).
 */
const cellsOf = (seconds: number) => [
  `import { progressView } from ${lib("progress.ts")};
import { chart, finding, group, html, table } from ${lib("display.ts")};
import { lineChart } from ${lib("plot.ts")};
import { listeningTable } from ${lib("report/listening.ts")};
const bar = progressView("cell 0 training");
for (let i = 0; i < 4; i++) { bar.update(i, 4, "epoch"); await new Promise((r) => setTimeout(r, 80)); }
await bar.finish("cell 0 done");
const line = (label: string) => lineChart({ series: [{ label, x: [1, 2, 3], y: [3, 1, 2] }] });`,
  `chart(line("a"), "cell 1 chart")`,
  `group(chart(line("a"), "cell 2 chart a"), chart(line("b"), "cell 2 chart b"))`,
  `table([{ cell: "cell 3" }], { caption: "cell 3 table" })`,
  `const tone = (f: number) => Float32Array.from({ length: 16000 * ${seconds} }, (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / 16000));
listeningTable({
  sampleRate: 16000,
  systems: ["reference", "codec A", "codec B"].map((name, k) => ({ name, role: (k === 0 ? "reference" : "ours") as "reference" | "ours", clips: Array.from({ length: 5 }, (_, r) => tone(200 + 100 * k + r)) })),
  utterances: Array.from({ length: 5 }, (_, r) => ({ label: \`u\${r}\`, speaker: "synth" })),
  caption: "cell 4 listening",
})`,
  `group(finding({ id: "cell-5", paper: "A", claim: "cell 5 verdict", metric: "m", measured: { n: 1 }, verdict: "reproduced" }))`,
  `await (async () => { await new Promise((r) => setTimeout(r, 50)); return html("<p>cell 6 async</p>"); })()`,
  `console.log("cell 7 log"); html("<p>cell 7</p>")`,
  `html("<p>cell 8</p>")`,
];
const CELLS = cellsOf(8);

Deno.test("Run All: every output lands under its own cell (real Deno kernel)", async () => {
  const dir = join(ROOT, ".cache", "test-notebooks");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "run_all.ipynb");
  await Deno.writeTextFile(path, notebook(CELLS));
  const r = await run(PYTHON, [join(ROOT, "tests", "fixtures", "run_all.py"), path]);
  assert.equal(r.code, 0, r.stderr);
  const outputs: [string, string][][] = JSON.parse(r.stdout);
  assert.equal(outputs.length, CELLS.length);
  outputs.forEach((outs, i) => {
    assert.ok(outs.length > 0, `cell ${i} has no output: ${JSON.stringify(outputs)}`);
    for (const [kind, text] of outs) {
      assert.ok(
        text.includes(`cell ${i}`) || text.includes(`cell-${i}`),
        `cell ${i} shows another cell's ${kind} ${JSON.stringify(text)}; all: ${
          JSON.stringify(outputs)
        }`,
      );
    }
  });
});

Deno.test("Run All in the classic Notebook (Chromium): every cell shows its own output, errors included", async () => {
  const name = `run-all-${crypto.randomUUID().slice(0, 8)}`;
  const path = join(ROOT, "notebooks", `${name}.ipynb`);
  const cells = [
    ...cellsOf(8),
    `import { run } from ${lib("mod.ts")};
run({ data: { validationFrames: 256 }, train: { epochs: 2, stepsPerEpoch: 20 } });
throw new Error("cell 9 boom");`,
  ];
  await Deno.writeTextFile(path, notebook(cells));
  const server = await startNotebookServer();
  try {
    const seen = await inPage<string[][]>(
      `${server.base}/notebooks/${name}.ipynb?token=${server.token}`,
      "window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && " +
        "Jupyter.notebook.kernel.is_connected()",
      `(async () => {
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        Jupyter.notebook.execute_all_cells();
        const code = () => Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
        for (let i = 0; i < 360; i++) {
          await sleep(500);
          const last = code().at(-1);
          if (last.input_prompt_number && last.input_prompt_number !== "*" &&
              document.querySelector("#kernel_indicator_icon.kernel_idle_icon")) break;
        }
        await sleep(3000); // outputs that come late
        return code().map((c) => [...c.output_area.element[0].querySelectorAll(".output_subarea")]
          .map((e) => (e.querySelector("figcaption") ?? e).innerText.trim().split("\\n")[0]));
      })()`,
      { timeoutMs: 90_000 },
    );
    assert.equal(seen.length, cells.length, JSON.stringify(seen));
    seen.forEach((outs, i) => {
      assert.ok(
        outs.length > 0,
        `cell ${i} shows no output: ${JSON.stringify(seen)}\nserver log:\n${
          server.log().slice(-3000)
        }`,
      );
      if (i === 0) return; // the progress bar's summary line
      for (const text of outs) {
        assert.ok(
          text.includes(`cell ${i}`) || text.includes(`cell-${i}`) || text.startsWith("run ste"),
          `cell ${i} shows ${JSON.stringify(text)}; all: ${JSON.stringify(seen)}`,
        );
      }
    });
    assert.ok(seen[9].some((t) => /cell 9 boom/.test(t)), `the error is shown: ${seen[9]}`);
  } finally {
    await server.stop();
    await Deno.remove(path).catch(() => {});
  }
});
