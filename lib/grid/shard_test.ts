import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import { resultKey } from "./key.ts";
import { parseShard, shardKeys } from "./shard.ts";

const keys = Array.from(
  { length: 23 },
  (_, i) => resultKey(resolveConfig({ train: { seed: i } }), "j#f"),
);

Deno.test("shards partition the keys: each key exactly once, sizes within one", () => {
  for (let n = 1; n <= 7; n++) {
    const owner = new Map<string, number>();
    const sizes: number[] = [];
    for (let i = 0; i < n; i++) {
      const mine = shardKeys(keys, { index: i, count: n });
      sizes.push(mine.size);
      for (const k of mine) {
        assert.ok(!owner.has(k), `${k} in shards ${owner.get(k)} and ${i} of ${n}`);
        owner.set(k, i);
      }
    }
    assert.equal(owner.size, keys.length, `n=${n} covers every key`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n} sizes ${sizes}`);
  }
});

Deno.test("a shard does not depend on config order or duplicates", () => {
  const shuffled = [...keys].reverse().concat(keys.slice(0, 5));
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(
      [...shardKeys(shuffled, { index: i, count: 3 })].sort(),
      [...shardKeys(keys, { index: i, count: 3 })].sort(),
    );
  }
});

Deno.test("parseShard takes 0-based i/n and rejects the rest", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard(" 3 / 4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "1/0", "-1/2", "1", "a/b", "1/2/3"]) {
    assert.throws(() => parseShard(bad), /0 <= i < n/, bad);
  }
});
