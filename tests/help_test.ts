/**
 * Issue 21 §7: `help()` starts with run, runMany, curves and plot and their examples;
 * `help("RunConfig")` lists the fields with defaults and allowed values; no raw `{@linkcode}`
 * tags; `run({ passer: "mste" })` says the expected shape.
 */
import assert from "node:assert/strict";
import { help, resolveConfig, run } from "../lib/mod.ts";

Deno.test("help() starts with run, runMany, curves and plot, with examples, and no raw tags", async () => {
  const h = await help();
  const text = h.toString();
  const at = ["run", "runMany", "curves", "plot"].map((n) => text.indexOf(`**${n}** — `));
  assert.ok(at.every((i) => i >= 0), text.slice(0, 600));
  assert.deepEqual([...at].sort((a, b) => a - b), at, "in that order");
  assert.ok(at[3] < text.indexOf("everything else"), "before the rest");
  assert.match(text, /```ts\nconst r = await run\(/);
  assert.match(text, /```ts\nconst rs = await runMany\(/);
  assert.doesNotMatch(h.html + text, /\{@link/);
  const one = await help(run);
  assert.doesNotMatch(one.html + one.toString(), /\{@link/);
  assert.match(one.toString(), /```ts/);
});

Deno.test('help("RunConfig") lists every field with its default and allowed values', async () => {
  const t = (await help("RunConfig")).toString();
  assert.match(t, /passer\.kind\s+"ste"\s+"ste", "mste", "na-detached"/);
  assert.match(t, /train\.epochs\s+8\s+a number/);
  assert.match(t, /train\.learningRate\s+0\.001/);
  assert.match(t, /train\.gradClip\s+absent/);
});

Deno.test('run({ passer: "mste" }) says the expected shape', async () => {
  assert.throws(
    () => resolveConfig({ passer: "mste" } as never),
    /config\.passer = "mste" is invalid: expected an object such as \{ kind: "mste" \}/,
  );
  await assert.rejects(() => run({ passer: "mste" } as never), /such as \{ kind: "mste" \}/);
});
