import assert from "node:assert/strict";
import { join } from "node:path";
import { keepFailed, publishDir, replaceable, stageDir } from "./publish.ts";
import { setReadOnly, withReadOnly } from "../store/_testing.ts";

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) out[e.name] = await Deno.readTextFile(join(dir, e.name));
  return out;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("publishDir replaces a report directory whole, leaving no old page and no temp dir", async () => {
  const parent = await Deno.makeTempDir();
  const dest = join(parent, "reports");
  await Deno.mkdir(dest);
  await Deno.writeTextFile(join(dest, "index.html"), "old index");
  await Deno.writeTextFile(join(dest, "07_gone.html"), "old page");
  const stage = await stageDir(dest);
  assert.equal(stage, join(parent, `.reports.staging-${Deno.pid}`));
  assert.deepEqual(await names(stage), [], "a fresh, empty staging directory");
  await Deno.writeTextFile(join(stage, "index.html"), "new index");
  await Deno.writeTextFile(join(stage, "findings.json"), "[]");
  assert.deepEqual(await tree(dest), { "index.html": "old index", "07_gone.html": "old page" });
  await publishDir(stage, dest);
  assert.deepEqual(await tree(dest), { "index.html": "new index", "findings.json": "[]" });
  assert.deepEqual(await names(parent), ["reports"], "no staging or old directory left behind");
});

Deno.test("publishDir creates the destination when there was none", async () => {
  const parent = await Deno.makeTempDir();
  const dest = join(parent, "out");
  const stage = await stageDir(dest);
  await Deno.writeTextFile(join(stage, "index.html"), "x");
  await publishDir(stage, dest);
  assert.deepEqual(await tree(dest), { "index.html": "x" });
});

Deno.test("a directory holding anything but report files is never replaced", async () => {
  const parent = await Deno.makeTempDir();
  const dest = join(parent, "Documents");
  await Deno.mkdir(dest);
  await Deno.writeTextFile(join(dest, "thesis.tex"), "mine");
  assert.match((await replaceable(dest))!, /thesis\.tex, which is not a report file/);
  const stage = await stageDir(dest);
  await assert.rejects(() => publishDir(stage, dest), /thesis\.tex/);
  assert.deepEqual(await tree(dest), { "thesis.tex": "mine" });
  await Deno.writeTextFile(join(parent, "file"), "");
  assert.match((await replaceable(join(parent, "file")))!, /not a directory/);
  assert.equal(await replaceable(join(parent, "missing")), null);
});

Deno.test("stageDir names the path when the place cannot be written", async () => {
  const parent = await Deno.makeTempDir();
  await Deno.writeTextFile(join(parent, "a-file"), "");
  const dest = join(parent, "a-file", "reports");
  await assert.rejects(() => stageDir(dest), (err: Error) => {
    assert.match(err.message, new RegExp(`cannot write the report beside ${dest}`));
    return true;
  });
});

Deno.test("keepFailed moves a failed build aside and leaves the destination as it was", async () => {
  const parent = await Deno.makeTempDir();
  const dest = join(parent, "reports");
  await Deno.mkdir(dest);
  await Deno.writeTextFile(join(dest, "index.html"), "good");
  const stage = await stageDir(dest);
  await Deno.writeTextFile(join(stage, "index.html"), "broken");
  const kept = await keepFailed(stage, dest);
  assert.equal(kept, join(parent, ".reports.failed"));
  assert.deepEqual(await tree(dest), { "index.html": "good" });
  assert.deepEqual(await tree(kept), { "index.html": "broken" });
});

Deno.test("a read-only report directory is refused before the build; an old copy that cannot be removed is kept and named", async () => {
  const parent = await Deno.makeTempDir();
  const dest = join(parent, "reports");
  await Deno.mkdir(dest);
  await Deno.writeTextFile(join(dest, "index.html"), "old index");
  const ran = await withReadOnly(dest, async () => {
    assert.match((await replaceable(dest))!, /reports is not writable .*must remove its old files/);
  });
  // A page that cannot be deleted (immutable as root; a read-only copy otherwise).
  const old = join(parent, `.reports.old-${Deno.pid}`);
  const ranFile = Deno.uid() === 0 && await setReadOnly(join(dest, "index.html"), true);
  if (ranFile) {
    try {
      const stage = await stageDir(dest);
      await Deno.writeTextFile(join(stage, "index.html"), "new index");
      const { leftover } = await publishDir(stage, dest);
      assert.deepEqual(await tree(dest), { "index.html": "new index" }, "new report in place");
      assert.equal(leftover?.path, old);
      assert.deepEqual(await tree(old), { "index.html": "old index" }, "old copy whole");
    } finally {
      await setReadOnly(join(old, "index.html"), false);
      await setReadOnly(join(dest, "index.html"), false);
    }
  }
  if (!ran || !ranFile) console.warn("skipped in part: cannot make files read-only here");
  await Deno.remove(parent, { recursive: true });
});
