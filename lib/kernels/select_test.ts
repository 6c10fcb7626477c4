import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";

await initBackend("wasm");

/** Results on cpu, stock wasm and patched wasm for the same computation. */
async function onEachBackend<T>(f: () => T): Promise<T[]> {
  try {
    await initBackend("cpu");
    const cpu = f();
    await initBackend("wasm", { patched: false });
    const stock = f();
    await initBackend("wasm");
    return [cpu, stock, f()];
  } finally {
    await initBackend("wasm");
  }
}

const read = (t: tf.Tensor) => ({
  shape: t.shape,
  dtype: t.dtype,
  values: Array.from(t.dataSync()),
});

Deno.test("Greater matches stock wasm and cpu for equal shapes, scalars and broadcasting", async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const x = tf.tensor2d([[-1, 0, 2.5], [3, -0.5, 0]]);
      const y = tf.tensor2d([[0, 0, 3], [-3, -1, 1]]);
      return [
        tf.greater(x, y),
        tf.greater(x, 0),
        tf.greater(tf.scalar(0.1), x),
        tf.greater(x, tf.tensor1d([0, 1, 2])),
        tf.greater(tf.tensor1d([1, 2, 3], "int32"), tf.scalar(2, "int32")),
      ].map(read);
    })
  );
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
});

Deno.test("Select (tf.where) matches stock wasm and cpu", async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const c = tf.tensor2d([[true, false, true], [false, false, true]], undefined, "bool");
      const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const e = tf.tensor2d([[-1, -2, -3], [-4, -5, -6]]);
      return [
        tf.where(c, t, e),
        tf.where(c, tf.cast(t, "int32"), tf.cast(e, "int32")),
        tf.where(tf.tensor1d([true, false], "bool"), tf.tensor1d([1, 2]), tf.tensor1d([3, 4])),
      ].map(read);
    })
  );
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
});

Deno.test("PReLU's gradient (greater + where) matches stock wasm", async () => {
  const [, stock, patched] = await onEachBackend(() =>
    tf.tidy(() => {
      const x = tf.randomNormal([64, 16], 0, 1, "float32", 3);
      const alpha = tf.fill([16], 0.2);
      const dy = tf.randomNormal([64, 16], 0, 1, "float32", 4);
      const [gx, ga] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.prelu(a, b), dy)))(
        [x, alpha],
      );
      return [read(gx), read(ga)];
    })
  );
  assert.deepEqual(patched[0], stock[0]);
  patched[1].values.forEach((v, i) => assert.ok(Math.abs(v - stock[1].values[i]) < 1e-5));
});
