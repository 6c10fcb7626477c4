import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { kernelStatus, loadOpenBlas } from "./mod.ts";
import { createReferenceStep } from "./reference.ts";

await initBackend("wasm");
const HAVE_OPENBLAS = loadOpenBlas() != null;

Deno.test("initBackend records whether kernels are patched and which GEMM runs", async () => {
  try {
    const stock = await initBackend("wasm", { patched: false });
    assert.equal(stock.patched, false);
    assert.equal(stock.gemm, null);
    assert.equal(kernelStatus().patched, false);
    const wasm = await initBackend("wasm", { gemm: "wasm" });
    assert.deepEqual([wasm.backend, wasm.patched, wasm.gemm], ["wasm", true, "wasm"]);
    const auto = await initBackend("wasm");
    assert.equal(auto.gemm, HAVE_OPENBLAS ? "openblas" : "wasm");
    const cpu = await initBackend("cpu");
    assert.deepEqual([cpu.backend, cpu.patched, cpu.gemm], ["cpu", false, null]);
  } finally {
    await initBackend("wasm");
  }
});

Deno.test("asking for openblas when it cannot load is an error, not a silent fallback", async () => {
  // A fresh process where the library cannot be had (QUANTLAB_GEMM=wasm hides it), so this runs
  // whether or not OpenBLAS is installed here.
  const code = `import { installKernels } from ${
    JSON.stringify(new URL("./mod.ts", import.meta.url).href)
  };
    try { installKernels({ gemm: "openblas" }); console.log("no error"); }
    catch (err) { console.log(String(err)); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { QUANTLAB_GEMM: "wasm", NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /gemm "openblas" requested but libopenblas\.so\.0 could not be opened/);
});

Deno.test("Identity and same-dtype Cast share data, and the copy outlives its source", () => {
  const backend = tf.backend() as unknown as { refCount(id: object): number };
  for (const copy of [tf.clone, (t: tf.Tensor) => tf.cast(t, "float32")]) {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = copy(x);
    assert.equal(backend.refCount(x.dataId), 2);
    x.dispose();
    assert.deepEqual(y.arraySync(), [[1, 2], [3, 4]]);
    y.dispose();
  }
  const i = tf.cast(tf.tensor1d([1.7, -2.2]), "int32");
  assert.deepEqual([i.dtype, i.arraySync()], ["int32", [1, -2]]);
  i.dispose();
});

Deno.test("Sum over leading axes matches stock wasm and cpu", async () => {
  const cases: [number[], number | number[], boolean][] = [
    [[512, 256], 0, false],
    [[7, 5], [0], true],
    [[3, 4, 5], [0, 1], false],
    [[3, 4, 5], [1, 0], true],
    [[3, 4, 5], 0, false],
    [[6, 1], 0, false],
    [[0, 3], 0, false],
  ];
  const run = () =>
    tf.tidy(() =>
      cases.map(([shape, axis, keepDims]) => {
        const s = tf.sum(tf.randomNormal(shape, 0, 1, "float32", shape.length), axis, keepDims);
        return { shape: s.shape, data: s.dataSync() as Float32Array };
      })
    );
  try {
    await initBackend("cpu");
    const cpu = run();
    await initBackend("wasm", { patched: false });
    const stock = run();
    for (const gemm of ["wasm", "auto"] as const) {
      await initBackend("wasm", { gemm });
      run().forEach((got, i) => {
        for (const want of [cpu[i], stock[i]]) {
          assert.deepEqual(got.shape, want.shape);
          got.data.forEach((v, j) => assert.ok(Math.abs(v - want.data[j]) <= 1e-4, `case ${i}`));
        }
      });
    }
  } finally {
    await initBackend("wasm");
  }
});

Deno.test("a reference training step keeps tensors and wasm buffers flat", () => {
  const backend = () => tf.backend() as unknown as { numDataIds(): number };
  const ref = createReferenceStep({ widths: [16, 64, 64, 4, 64, 64, 16], batch: 64 });
  try {
    ref.step();
    const tensors = tf.memory().numTensors;
    const buffers = backend().numDataIds();
    for (let i = 0; i < 3; i++) ref.step();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend().numDataIds(), buffers);
  } finally {
    ref.dispose();
  }
});

Deno.test("reference training follows the same loss curve on stock and patched kernels", async () => {
  const losses = async (patched: boolean, gemm?: "wasm") => {
    await initBackend("wasm", { patched, gemm });
    const ref = createReferenceStep({ widths: [16, 64, 64, 4, 64, 64, 16], batch: 64 });
    try {
      return Array.from({ length: 5 }, () => ref.step());
    } finally {
      ref.dispose();
    }
  };
  try {
    const stock = await losses(false);
    for (const got of [await losses(true), await losses(true, "wasm")]) {
      got.forEach((l, i) => assert.ok(Math.abs(l - stock[i]) <= 1e-4 * stock[i], `step ${i}`));
    }
  } finally {
    await initBackend("wasm");
  }
});
