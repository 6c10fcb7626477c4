import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../config.ts";
import { withTempDir } from "./_test_utils.ts";
import { diffPaths, mergeStores } from "./merge.ts";
import { ResultStore } from "./store.ts";

const JOB = "tests/fixtures/fake_job.ts#sleepJob";
const cfg = (seed: number) => resolveConfig({ train: { seed } });
const res = (v: number, wallMs = 1) => ({
  final: { valMse: v, wallMs },
  history: [v, NaN],
  wallMs,
});

Deno.test("merge copies every entry of every source into the target", async () => {
  await withTempDir(async (dir) => {
    const a = new ResultStore(join(dir, "a"));
    const b = new ResultStore(join(dir, "b"));
    for (const s of [0, 1, 2]) await a.put(cfg(s), JOB, res(s));
    for (const s of [3, 4]) await b.put(cfg(s), JOB, res(s));
    const report = await mergeStores([a.dir, b.dir], join(dir, "all"), {
      warn: (m) => assert.fail(m),
    });
    assert.deepEqual([report.copied, report.identical, report.conflicts.length], [5, 0, 0]);
    const all = new ResultStore(join(dir, "all"));
    assert.deepEqual(await all.keys(), [...(await a.keys()), ...(await b.keys())].sort());
    assert.deepEqual((await all.scan()).corrupt, []);
    const again = await mergeStores([a.dir, b.dir], all.dir);
    assert.deepEqual([again.copied, again.identical], [0, 5], "merging twice changes nothing");
  });
});

Deno.test("same key with a different result: the first is kept and the conflict reported", async () => {
  await withTempDir(async (dir) => {
    const a = new ResultStore(join(dir, "a"));
    const b = new ResultStore(join(dir, "b"));
    const { key } = await a.put(cfg(0), JOB, res(0.5));
    await b.put(cfg(0), JOB, res(0.25));
    const warnings: string[] = [];
    const report = await mergeStores([a.dir, b.dir], join(dir, "all"), {
      warn: (m) => warnings.push(m),
    });
    assert.equal(report.conflicts.length, 1);
    assert.equal(report.conflicts[0].key, key);
    assert.equal(report.conflicts[0].dropped, b.path(key));
    assert.deepEqual(report.conflicts[0].differences, ["final.valMse", "history[0]"]);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(b.path(key)) && warnings[0].includes(key));
    const kept = await new ResultStore(join(dir, "all")).get<ReturnType<typeof res>>(key);
    assert.equal(kept?.result.final.valMse, 0.5);
  });
});

Deno.test("results differing only in timing fields are identical, not a conflict", async () => {
  await withTempDir(async (dir) => {
    const a = new ResultStore(join(dir, "a"));
    const b = new ResultStore(join(dir, "b"));
    await a.put(cfg(0), JOB, res(0.5, 10));
    await b.put(cfg(0), JOB, res(0.5, 99));
    const report = await mergeStores([a.dir, b.dir], join(dir, "all"), {
      warn: (m) => assert.fail(m),
    });
    assert.deepEqual([report.copied, report.identical, report.conflicts.length], [1, 1, 0]);
  });
});

Deno.test("a corrupt source entry is skipped and reported; the source is left as it was", async () => {
  await withTempDir(async (dir) => {
    const a = new ResultStore(join(dir, "a"));
    const { key } = await a.put(cfg(0), JOB, res(0.5));
    await a.put(cfg(1), JOB, res(0.5));
    await Deno.writeTextFile(a.path(key), '{"key":');
    const warnings: string[] = [];
    const report = await mergeStores([a.dir], join(dir, "all"), { warn: (m) => warnings.push(m) });
    assert.deepEqual([report.copied, report.corrupt.length], [1, 1]);
    assert.equal(report.corrupt[0].file, a.path(key));
    assert.ok(warnings[0].includes(a.path(key)));
    assert.equal(await Deno.readTextFile(a.path(key)), '{"key":');
    assert.equal(await new ResultStore(join(dir, "all")).get(key), undefined);
  });
});

Deno.test("diffPaths names differing fields and ignores timings", () => {
  assert.deepEqual(diffPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } }), ["b.c[1]"]);
  assert.deepEqual(diffPaths({ wallMs: 1, x: NaN }, { wallMs: 2, x: NaN }), []);
  assert.deepEqual(diffPaths({ a: 1 }, { a: 1, b: 2 }), ["b"]);
});
