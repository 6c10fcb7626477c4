import assert from "node:assert/strict";
import { CODECS } from "./codecs/mod.ts";
import { resolveConfig } from "./config.ts";
import { checkInt, ConfigError } from "./kinds.ts";
import { BUILTIN_PASSER_KINDS, PASSERS } from "./passers.ts";
import { QUANTIZERS } from "./quantizers/mod.ts";
import { SOURCES } from "./sources/mod.ts";

Deno.test("ConfigError names the field, the value and what is allowed", () => {
  assert.throws(
    () => checkInt("train.epochs", 0, 1, 10),
    (e: unknown) =>
      e instanceof ConfigError && e.field === "train.epochs" &&
      e.message === "config.train.epochs = 0 is invalid: expected an integer in [1, 10]",
  );
});

Deno.test("every registered kind: a section naming only its kind resolves to its defaults", () => {
  for (const kind of Object.keys(SOURCES) as (keyof typeof SOURCES)[]) {
    assert.deepEqual(resolveConfig({ data: { kind } }).data, SOURCES[kind].defaults);
  }
  assert.deepEqual(resolveConfig({ codec: { kind: "mlp" } }).codec, CODECS.mlp.defaults);
  assert.deepEqual(
    resolveConfig({ data: { kind: "speech" }, codec: { kind: "conv" } }).codec,
    CODECS.conv.defaults,
  );
  for (const kind of ["vq", "rvq", "fsq", "none"] as const) {
    assert.deepEqual(resolveConfig({ quantizer: { kind } }).quantizer, QUANTIZERS[kind].defaults);
  }
  for (const kind of BUILTIN_PASSER_KINDS) {
    assert.deepEqual(resolveConfig({ passer: { kind } }).passer, PASSERS[kind].defaults);
  }
});

Deno.test("a kind's optional field is refused for another kind, naming the kind it is for", () => {
  assert.throws(
    () => resolveConfig({ data: { kind: "simulated", siSdrWeight: 1 } as never }),
    /config\.data\.siSdrWeight = 1 is invalid: expected a field of data/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", dropout: 0.5 } as never }),
    /no dropout: it is for quantizer\.kind = "rvq"/,
  );
});

Deno.test("data.validationMinActive: optional for speech (absent keeps the old config), a share in (0, 1]", () => {
  const plain = resolveConfig({ data: { kind: "speech" } });
  assert.equal("validationMinActive" in plain.data, false);
  const active = resolveConfig({ data: { kind: "speech", validationMinActive: 0.8 } });
  assert.equal((active.data as { validationMinActive?: number }).validationMinActive, 0.8);
  for (const bad of [0, 1.5, -1]) {
    assert.throws(
      () => resolveConfig({ data: { kind: "speech", validationMinActive: bad } }),
      /data\.validationMinActive/,
    );
  }
  assert.throws(
    () => resolveConfig({ data: { kind: "simulated", validationMinActive: 0.8 } as never }),
    /validationMinActive/,
  );
});
