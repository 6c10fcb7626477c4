import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { ADAM_KERNEL } from "./adam.ts";
import { adamModuleBytes } from "./_wasm_simd.ts";

await initBackend("wasm");

/** Five Adam steps on variables of awkward sizes (SIMD body and scalar tail), returning values. */
function train(): Float32Array[] {
  const shapes = [[64, 256], [256], [7], [3, 5], [1]];
  const vars = shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", i + 1)));
  const opt = tf.train.adam(0.01, 0.8, 0.95, 1e-6);
  try {
    for (let step = 0; step < 5; step++) {
      const grads = vars.map((v, i) => ({
        name: v.name,
        tensor: tf.randomNormal(v.shape, 0, step + 1, "float32", 100 + 10 * step + i),
      }));
      opt.applyGradients(grads);
      tf.dispose(grads.map((g) => g.tensor));
    }
    return vars.map((v) => v.dataSync() as Float32Array);
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}

Deno.test("the hand-assembled SIMD module is valid WebAssembly", () => {
  assert.ok(WebAssembly.validate(adamModuleBytes()));
});

Deno.test("fused Adam is bit-identical to tfjs-core's Adam on stock wasm", async () => {
  try {
    await initBackend("wasm", { patched: false });
    const stock = train();
    await initBackend("wasm");
    const fused = train();
    fused.forEach((v, i) => assert.deepEqual(v, stock[i], `variable ${i}`));
  } finally {
    await initBackend("wasm");
  }
});

Deno.test("tf.train.adam runs through the fused kernel when patched, and not when stock", async () => {
  const kernelsOf = async () => {
    const v = tf.variable(tf.ones([10]));
    const opt = tf.train.adam(0.1);
    const g = tf.ones([10]);
    const profile = await tf.profile(() => opt.applyGradients([{ name: v.name, tensor: g }]));
    tf.dispose([v, g]);
    opt.dispose();
    return profile.kernels.map((k) => k.name);
  };
  try {
    assert.ok((await kernelsOf()).includes(ADAM_KERNEL));
    await initBackend("wasm", { patched: false });
    assert.ok(!(await kernelsOf()).includes(ADAM_KERNEL));
  } finally {
    await initBackend("wasm");
  }
});

Deno.test("fused Adam keeps tensors and wasm buffers flat and leaves other variables alone", () => {
  const backend = () => tf.backend() as unknown as { numDataIds(): number };
  const a = tf.variable(tf.ones([5]));
  const b = tf.variable(tf.ones([3]));
  const opt = tf.train.adam(0.1);
  const step = () => {
    const g = tf.fill([5], 2);
    opt.applyGradients([{ name: a.name, tensor: g }]);
    g.dispose();
  };
  step();
  const tensors = tf.memory().numTensors;
  const buffers = backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend().numDataIds(), buffers);
  assert.deepEqual(Array.from(b.dataSync()), [1, 1, 1]);
  assert.ok(a.dataSync()[0] < 1);
  opt.dispose();
  tf.dispose([a, b]);
});
