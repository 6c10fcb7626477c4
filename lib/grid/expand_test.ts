import assert from "node:assert/strict";
import { expandGrid, parseGrid } from "./expand.ts";

Deno.test("expandGrid is a Cartesian product, first field outermost", () => {
  const configs = expandGrid({
    base: { train: { epochs: 3 } },
    vary: { "passer.kind": ["ste", "mste"], "train.seed": [0, 1, 2] },
  });
  assert.equal(configs.length, 6);
  assert.deepEqual(
    configs.map((c) => `${c.passer.kind}/${c.train.seed}`),
    ["ste/0", "ste/1", "ste/2", "mste/0", "mste/1", "mste/2"],
  );
  assert.ok(configs.every((c) => c.train.epochs === 3), "base kept");
});

Deno.test("expandGrid can vary a whole section", () => {
  const configs = expandGrid({
    vary: { quantizer: [{ kind: "vq", bits: 4 }, { kind: "rvq", stages: 3 }] },
  });
  assert.equal(configs[0].quantizer.kind, "vq");
  assert.equal(configs[1].quantizer.kind, "rvq");
  assert.equal(configs[1].quantizer.kind === "rvq" && configs[1].quantizer.stages, 3);
});

Deno.test("an invalid grid entry is named with its position and assignment", () => {
  assert.throws(
    () => expandGrid({ vary: { "train.seed": [0, -1] } }),
    /entry 1 \(train\.seed=-1\): config\.train\.seed = -1/,
  );
  assert.throws(() => expandGrid({ vary: { "train.sed": [0] } }), /config\.train\.sed/);
  assert.throws(() => expandGrid({ vary: { "train.seed": [] } }), /non-empty array/);
});

Deno.test("parseGrid accepts a list of partial configs or base/vary, nothing else", () => {
  assert.equal(parseGrid([{}, { train: { seed: 2 } }])[1].train.seed, 2);
  assert.equal(parseGrid({ vary: { "train.seed": [5, 6] } }).length, 2);
  assert.equal(parseGrid({ base: {} }).length, 1);
  assert.throws(() => parseGrid({ vari: {} }), /unknown field "vari"/);
  assert.throws(() => parseGrid("x"), /expected an array/);
  assert.throws(() => parseGrid([{ passer: { kind: "nope" } }]), /entry 0: config\.passer\.kind/);
});
