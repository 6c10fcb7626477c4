import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";

await initBackend("wasm");

Deno.test("bias-row Add is bit-identical to the stock wasm kernel", async () => {
  const cases: [number[], number[], boolean][] = [
    [[8, 512, 16], [16], false],
    [[3000, 7], [7], false],
    [[2, 4096, 3], [3], true], // bias first
    [[4, 5], [5], false], // small: stock path
  ];
  const run = () =>
    cases.map(([xs, bs, biasFirst], i) =>
      tf.tidy(() => {
        const x = tf.randomNormal(xs, 0, 10, "float32", i + 1);
        const b = tf.randomNormal(bs, 0, 1, "float32", i + 11);
        return (biasFirst ? tf.add(b, x) : tf.add(x, b)).dataSync() as Float32Array;
      })
    );
  try {
    await initBackend("wasm", { patched: false });
    const stock = run();
    await initBackend("wasm");
    const patched = run();
    patched.forEach((got, i) => assert.deepEqual(got, stock[i], `case ${i}`));
    // The sums are not trivially equal to x (the bias was added).
    assert.notDeepEqual(
      patched[0].slice(0, 16),
      tf.tidy(() => tf.randomNormal([8, 512, 16], 0, 10, "float32", 1).dataSync().slice(0, 16)),
    );
  } finally {
    await initBackend("wasm");
  }
});
