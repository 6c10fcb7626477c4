import assert from "node:assert/strict";
import { resolveConfig, type RunConfig } from "../config.ts";
import { canonicalJson, decodeJson, encodeJson, resultKey } from "./key.ts";

Deno.test("canonicalJson sorts keys at every depth and drops undefined", () => {
  const a = { b: 1, a: { d: [1, { y: 2, x: 1 }], c: "s" }, u: undefined };
  const b = { a: { c: "s", d: [1, { x: 1, y: 2 }] }, b: 1 };
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(canonicalJson(a), '{"a":{"c":"s","d":[1,{"x":1,"y":2}]},"b":1}');
});

Deno.test("non-finite numbers survive encode/decode and hash like their tags", () => {
  const value = { h: [1, NaN, Infinity, -Infinity], z: -0 };
  const back = decodeJson(encodeJson(value)) as typeof value;
  assert.ok(Number.isNaN(back.h[1]));
  assert.deepEqual(back.h.slice(2), [Infinity, -Infinity]);
  assert.equal(canonicalJson(value), canonicalJson(JSON.parse(encodeJson(value))));
});

Deno.test("resultKey depends on the resolved config, the job and the version only", () => {
  const job = "lib/train.ts#train";
  const k = resultKey(resolveConfig({}), job);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(resultKey(resolveConfig({ train: { seed: 0 } }), job), k, "defaults share a key");
  const reversed = (v: unknown): unknown =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).reverse().map(([key, x]) => [key, reversed(x)]))
      : v;
  const reordered = reversed(resolveConfig({})) as RunConfig;
  assert.notEqual(JSON.stringify(reordered), JSON.stringify(resolveConfig({})));
  assert.equal(resultKey(reordered, job), k, "key order does not matter");
  assert.notEqual(resultKey(resolveConfig({ train: { seed: 1 } }), job), k);
  assert.notEqual(resultKey(resolveConfig({}), "tests/fixtures/fake_job.ts#sleepJob"), k);
  assert.notEqual(resultKey(resolveConfig({}), job, "0.0.0-other"), k);
});
