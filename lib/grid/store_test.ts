import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { resolveConfig } from "../config.ts";
import { DENO, ROOT, withTempDir } from "./_test_utils.ts";
import { canonicalJson, encodeJson } from "./key.ts";
import { checkEntry, makeEntry, ResultStore } from "./store.ts";

const JOB = "tests/fixtures/fake_job.ts#sleepJob";
const config = resolveConfig({ train: { seed: 7 } });
const result = { history: [0.5, NaN], final: Infinity, note: "x" };

function collect(): { warn: (m: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m) };
}

Deno.test("put then get returns the same result, NaN and Infinity included", async () => {
  await withTempDir(async (dir) => {
    const store = new ResultStore(dir);
    const entry = await store.put(config, JOB, result);
    const back = await store.get<typeof result>(entry.key);
    assert.ok(back);
    assert.equal(canonicalJson(back.result), canonicalJson(result));
    assert.ok(Number.isNaN(back.result.history[1]));
    assert.equal(back.result.final, Infinity);
    assert.deepEqual(back.config, config);
    assert.deepEqual(await store.keys(), [entry.key]);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, [`${entry.key}.json`], "no temp file left behind");
  });
});

Deno.test("each kind of corrupt entry is warned about once, moved aside and treated as missing", async () => {
  const corruptions: [string, (text: string, other: string) => string, RegExp][] = [
    ["truncated", (t) => t.slice(0, Math.floor(t.length / 2)), /invalid JSON/],
    ["empty", () => "", /invalid JSON/],
    ["another key's entry", (_t, other) => other, /holds key/],
    ["edited result", (t) => t.replace('"note": "x"', '"note": "y"'), /checksum mismatch/],
    ["edited config", (t) => t.replace('"seed": 7', '"seed": 8'), /not the hash/],
    ["not an object", () => "[1, 2]", /not a JSON object/],
  ];
  for (const [what, corrupt, reason] of corruptions) {
    await withTempDir(async (dir) => {
      const { warn, warnings } = collect();
      const store = new ResultStore(dir, { warn });
      const { key } = await store.put(config, JOB, result);
      const other = await store.put(resolveConfig({ train: { seed: 8 } }), JOB, result);
      const file = store.path(key);
      await Deno.writeTextFile(
        file,
        corrupt(await Deno.readTextFile(file), await Deno.readTextFile(store.path(other.key))),
      );

      const scanned = await store.scan();
      assert.deepEqual(scanned.corrupt.map((c) => c.file), [file], `${what}: scan finds it`);
      assert.match(scanned.corrupt[0].reason, reason, what);
      assert.equal(warnings.length, 0, `${what}: scan changes nothing and says nothing`);

      assert.equal(await store.get(key), undefined, `${what}: read as missing`);
      assert.equal(await store.get(key), undefined);
      assert.equal(warnings.length, 1, `${what}: warned once`);
      assert.ok(warnings[0].includes(file), `${what}: warning names the file`);
      assert.match(warnings[0], reason);
      const aside = [...Deno.readDirSync(join(dir, "corrupt"))].map((e) => e.name);
      assert.equal(aside.length, 1, `${what}: moved aside`);
      assert.ok(aside[0].startsWith(`${key}.json.`));
      assert.ok(await store.get(other.key), `${what}: other entries untouched`);
    });
  }
});

Deno.test("get without repair leaves a corrupt entry in place and warns only once", async () => {
  await withTempDir(async (dir) => {
    const { warn, warnings } = collect();
    const store = new ResultStore(dir, { warn });
    const { key } = await store.put(config, JOB, result);
    await Deno.writeTextFile(store.path(key), "{");
    assert.equal(await store.get(key, { repair: false }), undefined);
    assert.equal(await store.get(key, { repair: false }), undefined);
    assert.equal(warnings.length, 1);
    assert.equal(await Deno.readTextFile(store.path(key)), "{");
  });
});

Deno.test("checkEntry accepts what makeEntry builds, once non-finite numbers are tagged", () => {
  const entry = makeEntry(config, JOB, result);
  assert.ok(checkEntry(encodeJson(entry), entry.key).ok);
  assert.ok(!checkEntry(encodeJson(entry), "0".repeat(64)).ok, "wrong expected key");
  const plain = checkEntry(JSON.stringify(entry), entry.key);
  assert.ok(!plain.ok && /checksum/.test(plain.reason), "plain JSON turns NaN into null");
});

Deno.test("sweepTemp removes only the store's own old temp files, never a user's *.tmp", async () => {
  await withTempDir(async (dir) => {
    const store = new ResultStore(dir);
    const key = "a".repeat(64);
    const own = (pid: number) => `.${key}.${pid}.0123abcd.tmp`;
    const names = [own(1), own(2), "notes.tmp", ".old.tmp", `${key}.tmp`, ".probe.7.deadbeef.tmp"];
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const name of names) {
      await Deno.writeTextFile(join(dir, name), "x");
      if (name !== own(2)) await Deno.utime(join(dir, name), old, old);
    }
    assert.equal(await store.sweepTemp(), 2, "the old entry temp file and the old probe");
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [own(2), "notes.tmp", ".old.tmp", `${key}.tmp`].sort(),
      "a fresh temp file of the store and every other file stay",
    );
  });
});

Deno.test("readers never see a partial entry, even while a writer overwrites it and is killed -9", async () => {
  await withTempDir(async (dir) => {
    // A separate process rewrites one key over and over with results of alternating size.
    const storeUrl = pathToFileURL(join(ROOT, "lib/grid/store.ts")).href;
    const configUrl = pathToFileURL(join(ROOT, "lib/config.ts")).href;
    const code = `
      import { ResultStore } from "${storeUrl}";
      import { resolveConfig } from "${configUrl}";
      const store = new ResultStore(${JSON.stringify(dir)});
      const config = resolveConfig({ train: { seed: 7 } });
      for (let i = 0; ; i++) {
        await store.put(config, "w#w", { i, pad: "x".repeat(i % 2 ? 2_000_000 : 10) });
      }`;
    const writer = new Deno.Command(DENO, { args: ["eval", code], stdout: "null", stderr: "null" })
      .spawn();
    const store = new ResultStore(dir, { warn: (m) => assert.fail(m) });
    const key = makeEntry(config, "w#w", null).key;
    let reads = 0;
    const seen = new Set<number>();
    while (seen.size < 6) {
      const text = await Deno.readTextFile(store.path(key)).catch(() => undefined);
      if (text === undefined) continue;
      const check = checkEntry<{ i: number }>(text, key);
      assert.ok(check.ok, `read ${reads}: ${!check.ok && check.reason}`);
      seen.add(check.entry.result.i);
      reads++;
    }
    writer.kill("SIGKILL");
    await writer.status;
    assert.deepEqual((await store.scan()).corrupt, []);
    assert.ok(await store.get(key), "the last complete entry is there");
  });
});
