/**
 * Issue 21 §2: parameters are strict. `./quantlab run NB -p NAME VALUE` refuses a name the
 * notebook's `parameters` cell does not declare (listing the ones it does), warns when the
 * notebook has no `parameters` cell, and passes seeds / epochs / steps through to the profile
 * lib/experiments reads; notebooks 00–10 expose profile, seeds, epochs, steps and recompute.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execute, notebook, ROOT, streamText } from "./_notebooks.ts";

const dir = join(ROOT, ".cache", "test-notebooks");

async function paramsNotebook(name: string, withCell: boolean): Promise<string> {
  const path = join(dir, name);
  const nb = JSON.parse(notebook([
    'var profile = Deno.env.get("QUANTLAB_PROFILE") || "full"; var epochs = "profile";',
    `import { currentProfile } from ${JSON.stringify(join(ROOT, "lib/experiments/profiles.ts"))};
const p = currentProfile();
console.log(JSON.stringify({ epochs, name: p.name, e: p.epochs, seeds: p.seeds }))`,
  ]));
  if (withCell) nb.cells[0].metadata.tags = ["parameters"];
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(nb));
  return path;
}

Deno.test("an unknown parameter is refused with the notebook's parameters listed", async () => {
  const path = await paramsNotebook("strict.ipynb", true);
  const t0 = Date.now();
  const r = await execute(path, join(dir, "strict.out.ipynb"), ["-p", "epoch", "5"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /unknown parameter epoch; strict\.ipynb's parameters are: profile, epochs, recompute/,
  );
  assert.ok(Date.now() - t0 < 15_000, "refused before the kernel ran anything");
});

Deno.test("declared parameters reach the profile: -p epochs 5 -p seeds 0,3 on the quick profile", async () => {
  const path = await paramsNotebook("declared.ipynb", true);
  const r = await execute(path, join(dir, "declared.out.ipynb"), [
    "-p",
    "profile",
    "quick",
    "-p",
    "epochs",
    "5",
  ], { QUANTLAB_SEEDS: "0,3" });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  assert.deepEqual(JSON.parse(streamText(r.nb, 2)), {
    epochs: 5,
    name: "quick",
    e: 5,
    seeds: [0, 3],
  });
});

Deno.test("a notebook without a parameters cell: a warning; a name other than profile/recompute is refused", async () => {
  const path = await paramsNotebook("noparams.ipynb", false);
  const ok = await execute(path, join(dir, "noparams.out.ipynb"), ["-p", "profile", "quick"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /warning: .*noparams\.ipynb has no cell tagged `parameters`/);
  const bad = await execute(path, join(dir, "noparams.out.ipynb"), ["-p", "epochs", "5"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(
    bad.stderr,
    /-p epochs: .*has no cell tagged `parameters`, so only profile, recompute/,
  );
});

/** What each notebook's parameters cell declares, where it is not the proxy notebooks' five. */
const DECLARED: Record<string, string[]> = {
  "07a_speech_corpus.ipynb": ["profile", "recompute"], // reads the corpus, trains nothing
  "07_real_speech.ipynb": ["profile", "seeds", "steps", "recompute"], // steps per run
  "08_postrvq.ipynb": ["profile", "seed", "steps", "recompute"], // one seed; finetuning steps
  "09_fixed_latent.ipynb": ["profile", "seed", "recompute"], // offline fits only
  "11_estimator_league.ipynb": ["profile", "seeds", "epochs", "steps", "recompute", "extra"],
};

Deno.test("every notebook's first code cell is its parameters cell: profile, seeds, epochs/steps, recompute", () => {
  const names = [...Deno.readDirSync(join(ROOT, "notebooks"))].map((e) => e.name)
    .filter((n) => /^\d\d.*\.ipynb$/.test(n)).sort();
  assert.ok(names.length >= 12, names.join(" "));
  for (const name of names) {
    const nb = JSON.parse(Deno.readTextFileSync(join(ROOT, "notebooks", name)));
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    assert.deepEqual(code[0].metadata.tags, ["parameters"], `${name}: first code cell`);
    const source = [code[0].source].flat().join("");
    const declared = [...source.matchAll(/^var (\w+) =/gm)].map((m) => m[1]);
    const expected = DECLARED[name] ?? ["profile", "seeds", "epochs", "steps", "recompute"];
    assert.deepEqual(declared, expected, name);
  }
});

Deno.test("every notebook is valid nbformat 4.5: each cell has a unique id (nbformat warns, and will refuse, otherwise)", () => {
  const names = [...Deno.readDirSync(join(ROOT, "notebooks"))].map((e) => e.name)
    .filter((n) => n.endsWith(".ipynb"));
  for (const name of names) {
    const nb = JSON.parse(Deno.readTextFileSync(join(ROOT, "notebooks", name)));
    const ids = nb.cells.map((c: { id?: unknown }) => c.id);
    assert.ok(ids.every((id: unknown) => typeof id === "string" && id.length > 0), `${name}: ids`);
    assert.equal(new Set(ids).size, ids.length, `${name}: ids unique`);
  }
});
