/**
 * The proxy's numbers do not change under refactoring: seeded runs of every passer and
 * quantizer, recorded before the library was opened for other codecs and sources
 * (`tests/fixtures/proxy_reference.json`), must come out bit-identical (timings excluded), and
 * their configs must resolve to the same objects (so result-cache keys stay the same).
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend.ts";
import { loadOpenBlas, REFERENCE_GEMM } from "../lib/kernels/mod.ts";
import { resolveConfig } from "../lib/config.ts";
import { train } from "../lib/train.ts";
import { CASES, untagFloats } from "./fixtures/proxy_reference_cases.ts";

const backend = await initBackend();

interface Reference {
  defaults: unknown;
  runs: Record<string, { config: unknown; history: unknown[]; diverged: unknown }>;
}
const reference: Reference = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/proxy_reference.json", import.meta.url)),
  untagFloats,
);

Deno.test({
  name: "runs compute with the reference GEMM (the pinned OpenBLAS kernel)",
  ignore: loadOpenBlas() == null,
  fn() {
    assert.equal(backend.gemmIdentity, REFERENCE_GEMM, JSON.stringify(backend.blas));
  },
});

Deno.test("the default config resolves to the recorded one", () => {
  assert.deepEqual(resolveConfig({}), reference.defaults);
});

for (const [name, input] of Object.entries(CASES)) {
  Deno.test(`proxy reference: ${name} is bit-identical to the recorded run`, async () => {
    const expected = reference.runs[name];
    assert.ok(expected, `no recorded run "${name}": regenerate the fixture`);
    const config = resolveConfig(input);
    assert.deepEqual(config, expected.config, "resolved config");
    const result = await train(config);
    assert.deepEqual(result.history.map(({ wallMs: _, ...rest }) => rest), expected.history);
    assert.deepEqual(result.diverged, expected.diverged);
  });
}
