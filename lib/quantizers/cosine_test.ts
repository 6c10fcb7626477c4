/**
 * RVQ with `lookup: "cosine"` (DAC's l2-normalised code choice): codes follow the angle, not the
 * distance, so scaling z leaves them unchanged, while Q(z) adds the raw codewords.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig, type RvqConfig } from "../config.ts";
import { rngFor } from "../random.ts";
import { residualVq } from "./rvq.ts";

await initBackend();

Deno.test("cosine lookup picks by angle and ignores |z|; Euclidean picks by distance", () => {
  const base = resolveConfig({ quantizer: { kind: "rvq", stages: 1, bitsPerStage: 1 } })
    .quantizer as RvqConfig;
  const cosine = residualVq({ ...base, lookup: "cosine" }, 2, rngFor(0, "q"));
  const euclid = residualVq(base, 2, rngFor(0, "q"));
  // Codewords: a short one along x, a long one along y.
  const book = tf.tensor2d([[0.1, 0], [0, 10]]);
  for (const q of [cosine, euclid]) (q.variables[0] as tf.Variable).assign(book);
  // z mostly along y but near the short codeword: cosine says 1, Euclidean says 0.
  const z = tf.tensor2d([[0.2, 0.3], [20, 30], [3, 0.1]]);
  const c = cosine.quantize(z), e = euclid.quantize(z);
  assert.deepEqual(Array.from(c.codes.dataSync()), [1, 1, 0]);
  assert.deepEqual(Array.from(e.codes.dataSync()), [0, 1, 0]);
  // Q(z) is the raw codeword, not a normalised one.
  assert.deepEqual(Array.from(c.q.dataSync()), [0, 10, 0, 10, 0.1, 0].map(Math.fround));
  tf.dispose([book, z, c.q, c.codes, e.q, e.codes]);
  cosine.dispose();
  euclid.dispose();
});
