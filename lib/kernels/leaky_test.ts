import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { kernelStatus } from "./mod.ts";

await initBackend("wasm");

/** Values with every sign case: negatives, positives, ±0, and a length that is not a multiple of 4. */
function inputs(n: number, seed: number): { x: Float32Array; dy: Float32Array } {
  const x = new Float32Array(n);
  const dy = new Float32Array(n);
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
  for (let i = 0; i < n; i++) {
    x[i] = i % 11 === 0 ? 0 : i % 13 === 0 ? -0 : next() * 3;
    dy[i] = next();
  }
  return { x, dy };
}

function run(x: Float32Array, dy: Float32Array, alpha: number) {
  return tf.tidy(() => {
    const xt = tf.tensor(x, [x.length]);
    const y = tf.leakyRelu(xt, alpha);
    const dx = tf.grad((a: tf.Tensor) => tf.leakyRelu(a, alpha))(xt, tf.tensor(dy, [dy.length]));
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

Deno.test("leaky ReLU and its gradient are bit-identical to stock wasm, within 1 ulp of cpu", async () => {
  try {
    for (const [n, alpha] of [[1, 0.1], [7, 0.1], [1027, 0.2], [4096 * 3 + 3, 0.1]] as const) {
      const { x, dy } = inputs(n, n);
      await initBackend("cpu");
      const cpu = run(x, dy, alpha);
      await initBackend("wasm", { patched: false });
      const stock = run(x, dy, alpha);
      await initBackend("wasm");
      assert.equal(kernelStatus().patched, true);
      const patched = run(x, dy, alpha);
      assert.deepEqual(patched.y, stock.y, `n=${n}: forward vs stock`);
      assert.deepEqual(patched.dx, stock.dx, `n=${n}: gradient vs stock`);
      // cpu multiplies by α in float64 before rounding, wasm by float32(α): 1 ulp apart at most.
      for (
        const [got, want, what] of [[patched.y, cpu.y, "y"], [patched.dx, cpu.dx, "dx"]] as const
      ) {
        want.forEach((w, i) => {
          assert.ok(Math.abs(got[i] - w) <= 1.2e-7 * Math.abs(w), `n=${n}: ${what}[${i}] vs cpu`);
        });
      }
      // The slope really is applied below zero (the comparison is not vacuous).
      const neg = x.findIndex((v) => v < 0);
      if (neg >= 0) assert.equal(patched.y[neg], Math.fround(x[neg] * Math.fround(alpha)));
    }
  } finally {
    await initBackend("wasm");
  }
});
