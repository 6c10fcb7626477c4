import assert from "node:assert/strict";
import { ConfigError, type ConfigInput, DEFAULTS, quantizerBits, resolveConfig } from "./config.ts";

function rejects(input: unknown, field: string, valueText: string) {
  assert.throws(
    () => resolveConfig(input as never),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
      assert.equal(err.field, field);
      assert.ok(err.message.includes(`config.${field}`), err.message);
      assert.ok(err.message.includes(valueText), err.message);
      assert.ok(err.message.includes("expected"), err.message);
      return true;
    },
  );
}

Deno.test("defaults resolve to the documented paper-A proxy", () => {
  const cfg = resolveConfig();
  assert.deepEqual(cfg, DEFAULTS);
  assert.equal(quantizerBits(cfg.quantizer), 8);
});

Deno.test("partial input overrides only what it names", () => {
  const cfg = resolveConfig({ passer: { kind: "mste" }, train: { seed: 3 } });
  assert.equal(cfg.passer.kind, "mste");
  assert.equal(cfg.passer.sigma, "tensor");
  assert.equal(cfg.train.seed, 3);
  assert.equal(cfg.train.learningRate, 1e-3);
});

Deno.test("quantizer defaults follow the quantizer kind", () => {
  assert.equal(quantizerBits(resolveConfig({ quantizer: { kind: "rvq" } }).quantizer), 8);
  assert.equal(quantizerBits(resolveConfig({ quantizer: { kind: "fsq" } }).quantizer), 12);
});

Deno.test("invalid configs name the field, the value and what is allowed", () => {
  rejects({ quantizer: { kind: "lfq" } }, "quantizer.kind", '"lfq"');
  rejects({ data: { kind: "speech2" } }, "data.kind", '"speech2"');
  rejects({ codec: { kind: "transformer" } }, "codec.kind", '"transformer"');
  rejects({ codec: { kind: "constructor" } }, "codec.kind", '"constructor"');
  rejects({ data: { kind: 3 } }, "data.kind", "3");
  rejects({ passer: { kind: "ste2" } }, "passer.kind", '"ste2"');
  rejects({ quantizer: { bits: 0 } }, "quantizer.bits", "0");
  rejects({ quantizer: { bits: -3 } }, "quantizer.bits", "-3");
  rejects({ data: { bitsPerGroup: 0 } }, "data.bitsPerGroup", "0");
  rejects({ data: { frameDim: 16, groups: 3 } }, "data.frameDim", "16");
  rejects({ train: { learningRate: NaN } }, "train.learningRate", "null");
  rejects({ train: { learningRate: -1 } }, "train.learningRate", "-1");
  rejects({ train: { batchSize: 2.5 } }, "train.batchSize", "2.5");
  rejects(
    { codec: { latent: 8 }, quantizer: { kind: "fsq", levels: [4, 4] } },
    "quantizer.levels",
    "[4,4]",
  );
  rejects(
    { quantizer: { kind: "fsq", levels: [4, 4, 4, 4, 1, 2, 2, 2] } },
    "quantizer.levels[4]",
    "1",
  );
  rejects(
    { quantizer: { kind: "fsq" }, passer: { kind: "soft-to-hard" } },
    "passer.kind",
    '"soft-to-hard"',
  );
  rejects({ train: { lr: 0.1 } }, "train.lr", "0.1");
  rejects({ optimiser: {} }, "optimiser", "{}");
  rejects({ passer: { tauStart: 0.1, tauEnd: 1 } }, "passer.tauEnd", "1");
});

Deno.test("values a config cannot hold are ConfigErrors naming the path, with short messages", () => {
  const refused: [unknown, RegExp][] = [
    [{ train: { seed: 10n } }, /^config\.train\.seed = 10n is invalid: expected a JSON value/],
    [{ train: { seed: Symbol("s") } }, /^config\.train\.seed = Symbol\(s\) is invalid/],
    [{ passer: { kind: "ste", sigma: () => 1 } }, /^config\.passer\.sigma = a function is invalid/],
    [
      { quantizer: { kind: undefined } },
      /^config\.quantizer\.kind = undefined is invalid: expected a kind name/,
    ],
    [
      { data: new Map([["kind", "simulated"]]) },
      /^config\.data = a Map is invalid: expected a plain object/,
    ],
    [{ train: new Date(0) }, /^config\.train = a Date \(.*\) is invalid: expected a plain object/],
    // deno-lint-ignore no-sparse-arrays
    [
      { quantizer: { kind: "fsq", levels: [8, , 8] } },
      /^config\.quantizer\.levels\[1\] = undefined is invalid: expected a value \(an array without holes\)/,
    ],
    [10n, /^config\. = 10n is invalid: expected an object/],
  ];
  for (const [input, pattern] of refused) {
    assert.throws(() => resolveConfig(input as ConfigInput), (e: unknown) => {
      assert.ok(e instanceof ConfigError, `a ConfigError for ${String(pattern)}, got ${e}`);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
  const huge = "x".repeat(1 << 20);
  assert.throws(() => resolveConfig({ passer: { kind: huge } as never }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const message = (e as Error).message;
    assert.ok(message.length < 600, `message of ${message.length} characters`);
    assert.match(message, /… \(1048578 characters\)/);
    return true;
  });
});
