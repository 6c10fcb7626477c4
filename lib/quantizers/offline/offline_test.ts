import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { Rng } from "../../random.ts";
import { decodeArtifact, encodeArtifact } from "../../store/artifacts.ts";
import {
  bitsPerSecond,
  fitOfflineQuantizer,
  LADDER,
  ladderConfig,
  type Latents,
  OFFLINE_FAMILIES,
  offlineQuantizerFromArtifact,
  type OfflineRvq,
  type OfflineRvqConfig,
} from "./mod.ts";

/** Correlated latents with very different scales per dimension (what standardization is for). */
function latents(count: number, dim: number, seed: number): Latents {
  const rng = new Rng(seed);
  const mix = rng.normals(dim * dim, 1 / Math.sqrt(dim));
  const data = new Float32Array(count * dim);
  const g = new Float64Array(dim);
  for (let p = 0; p < count; p++) {
    for (let j = 0; j < dim; j++) g[j] = rng.normal();
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += mix[j * dim + i] * g[i];
      data[p * dim + j] = s * (0.1 + 3 * (j % 4)) + 0.5 * j;
    }
  }
  return { data, count, dim };
}

function mse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

const KM = { iterations: 15, tolerance: 1e-5 };
const rvq = (
  stages: number,
  standardize: OfflineRvqConfig["standardize"],
  bits = 5,
): OfflineRvqConfig => ({
  kind: "rvq",
  stages,
  bitsPerStage: bits,
  standardize,
  ...KM,
});

Deno.test("RVQ with N stages never does worse than N − 1 on its fitted data", async () => {
  await initBackend();
  const z = latents(1500, 8, 1);
  for (const standardize of ["none", "stage", "global"] as const) {
    let previous = Infinity;
    for (let n = 1; n <= 5; n++) {
      const truncated = fitOfflineQuantizer(rvq(n, standardize), z, new Rng(2));
      const err = mse(truncated.decode(truncated.encode(z), z.count), z.data);
      assert.ok(
        err <= previous,
        `${standardize}: ${n} stages MSE ${err} > ${n - 1} stages ${previous}`,
      );
      previous = err;
    }
  }
});

Deno.test("the scalar standardization control gives identical codes to plain RVQ", async () => {
  await initBackend();
  const z = latents(2500, 6, 3);
  const plain = fitOfflineQuantizer(rvq(4, "none"), z, new Rng(4));
  const scalar = fitOfflineQuantizer(rvq(4, "scalar"), z, new Rng(4));
  const perDim = fitOfflineQuantizer(rvq(4, "stage"), z, new Rng(4));
  const a = plain.encode(z), b = scalar.encode(z);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
  assert.equal(differ, 0, `${differ} of ${a.length} codes differ`);
  assert.ok(mse(plain.decode(a, z.count), scalar.decode(b, z.count)) < 1e-8);
  // Per dimension it does change the codes (else the control would prove nothing).
  const c = perDim.encode(z);
  assert.ok(
    c.some((v, i) => v !== a[i]),
    "per-dimension standardization left every code as it was",
  );
});

Deno.test("standardization round-trips: dequantize(quantize(c)) returns the codebook vectors", async () => {
  await initBackend();
  const z = latents(2000, 6, 5);
  for (const standardize of ["stage", "scalar", "global"] as const) {
    const q = fitOfflineQuantizer(rvq(1, standardize, 4), z, new Rng(6)) as OfflineRvq;
    const K = 16, D = 6;
    const codes = Int32Array.from({ length: K }, (_, i) => i);
    const vectors = q.decode(codes, K); // σ ⊙ C[i] + μ (then the global step's inverse)
    const { codebook, mean, std } = q.stages[0];
    if (standardize !== "global") {
      for (let i = 0; i < K * D; i++) {
        const expected = std[i % D] * codebook[i] + mean[i % D];
        assert.ok(Math.abs(vectors[i] - expected) < 1e-6 * (1 + Math.abs(expected)));
      }
    }
    const again = q.quantize({ data: vectors, count: K, dim: D });
    assert.deepEqual(Array.from(again.codes), Array.from(codes), standardize);
    for (let i = 0; i < K * D; i++) {
      assert.ok(
        Math.abs(again.values[i] - vectors[i]) < 1e-5 * (1 + Math.abs(vectors[i])),
        standardize,
      );
    }
  }
});

Deno.test("every ladder quantizer: bits match the ladder, codes in range, round trips exact", async () => {
  await initBackend();
  const D = 32;
  const z = latents(1200, D, 7);
  const held = latents(300, D, 8);
  assert.deepEqual(LADDER.map((r) => bitsPerSecond(r, 62.5)), [4000, 2500, 1500, 500]);
  for (const rung of LADDER) {
    for (const family of OFFLINE_FAMILIES) {
      const config = ladderConfig(family, rung, D, { iterations: 4, tolerance: 1e-3 });
      const q = fitOfflineQuantizer(config, z, new Rng(9));
      const what = `${family} at ${rung.bitsPerFrame} bits`;
      assert.equal(q.bitsPerFrame, rung.bitsPerFrame, what);
      assert.equal(q.codeBits.reduce((a, b) => a + b, 0), rung.bitsPerFrame, what);
      const { codes, values } = q.quantize(held);
      assert.equal(codes.length, held.count * q.codeBits.length, what);
      for (let i = 0; i < codes.length; i++) {
        const c = codes[i], bits = q.codeBits[i % q.codeBits.length];
        assert.ok(c >= 0 && c < 2 ** bits, `${what}: code ${c} outside ${bits} bits`);
      }
      assert.deepEqual(q.decode(codes, held.count), values, what);
      let energy = 0;
      for (const v of held.data) energy += v * v;
      assert.ok(mse(values, held.data) < energy / held.data.length, `${what} does worse than zero`);
      // The stored state gives the same codes and bit-identical values.
      const restored = offlineQuantizerFromArtifact(decodeArtifact(encodeArtifact(q.toArtifact())));
      assert.deepEqual(restored.encode(held), codes, what);
      assert.deepEqual(restored.decode(codes, held.count), values, what);
      // Single-stage quantizers map their own outputs back to the same codes.
      const stages = new Set(q.codeStage).size;
      if (stages === 1) {
        assert.deepEqual(q.encode({ data: values, count: held.count, dim: D }), codes, what);
      }
    }
  }
});

Deno.test("more bits give lower latent MSE for every family", async () => {
  await initBackend();
  const D = 32;
  const z = latents(1500, D, 11);
  for (const family of OFFLINE_FAMILIES) {
    const errs = LADDER.map((rung) => {
      const q = fitOfflineQuantizer(
        ladderConfig(family, rung, D, { iterations: 6, tolerance: 1e-3 }),
        z,
        new Rng(1),
      );
      return mse(q.decode(q.encode(z), z.count), z.data);
    });
    for (let i = 1; i < errs.length; i++) assert.ok(errs[i] > errs[i - 1], `${family}: ${errs}`);
  }
});

Deno.test("config errors name the field", () => {
  const z = latents(10, 4, 1);
  assert.throws(() => fitOfflineQuantizer(rvq(0, "none"), z, new Rng(1)), /rvq: stages = 0/);
  assert.throws(
    () =>
      fitOfflineQuantizer({ kind: "fsq", stages: 1, dimsPerStage: 2, levels: 3 }, z, new Rng(1)),
    /levels = 3, expected a power of two/,
  );
  assert.throws(
    () => fitOfflineQuantizer({ ...rvq(1, "none"), standardize: "x" as "none" }, z, new Rng(1)),
    /standardize = "x"/,
  );
});
