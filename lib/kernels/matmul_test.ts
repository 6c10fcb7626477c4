import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { installKernels, loadOpenBlas } from "./mod.ts";
import type { GemmName } from "./matmul.ts";
import { referenceForward } from "./reference.ts";

await initBackend("wasm");
const HAVE_OPENBLAS = loadOpenBlas() != null;
const GEMMS: GemmName[] = HAVE_OPENBLAS ? ["wasm", "openblas"] : ["wasm"];

/**
 * Run `f` on the cpu backend (tfjs's reference implementation), on the stock wasm kernels and on
 * each patched GEMM. Tests end on the default install.
 */
async function onEachKernelSet<T>(
  f: () => T,
): Promise<{ cpu: T; stock: T; patched: Map<GemmName, T> }> {
  try {
    await initBackend("cpu");
    const cpu = f();
    await initBackend("wasm", { patched: false });
    const stock = f();
    const patched = new Map<GemmName, T>();
    for (const gemm of GEMMS) {
      installKernels({ gemm });
      patched.set(gemm, f());
    }
    return { cpu, stock, patched };
  } finally {
    await initBackend("wasm");
  }
}

/** |got − want| ≤ tol·(|want| + rms(want)) elementwise: relative, robust to cancellation near 0. */
function assertClose(got: Float32Array, want: Float32Array, label: string, tol = 1e-5): void {
  assert.equal(got.length, want.length, `${label}: length`);
  let ss = 0;
  for (const w of want) ss += w * w;
  const rms = Math.sqrt(ss / Math.max(1, want.length));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (Math.abs(want[i]) + rms))) {
      assert.fail(`${label}: element ${i} is ${got[i]}, stock gives ${want[i]} (rms ${rms})`);
    }
  }
}

function values(f: () => tf.Tensor | tf.Tensor[]): { shapes: number[][]; data: Float32Array[] } {
  return tf.tidy(() => {
    const out = [f()].flat();
    return { shapes: out.map((t) => t.shape), data: out.map((t) => t.dataSync() as Float32Array) };
  });
}

/**
 * Patched results must match the stock wasm kernels and the cpu backend. `stockWrong` names
 * outputs where stock wasm is itself wrong (checked: it disagrees with cpu), compared to cpu only.
 */
async function compareToStock(
  label: string,
  f: () => tf.Tensor | tf.Tensor[],
  stockWrong: number[] = [],
): Promise<void> {
  const { cpu, stock, patched } = await onEachKernelSet(() => values(f));
  for (const i of stockWrong) {
    assert.throws(
      () => assertClose(stock.data[i], cpu.data[i], "stock"),
      `${label} ${i}: stock ok`,
    );
  }
  for (const [gemm, got] of patched) {
    assert.deepEqual(got.shapes, stock.shapes, `${label} [${gemm}]: shapes`);
    got.data.forEach((d, i) => {
      assertClose(d, cpu.data[i], `${label} [${gemm}] output ${i} vs cpu`);
      if (!stockWrong.includes(i)) assertClose(d, stock.data[i], `${label} [${gemm}] output ${i}`);
    });
  }
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);

/** [name, a shape, b shape] for a product with inner 5, outer 7 × 3, in stored (untransposed) form. */
const CASES: [string, number[], number[]][] = [
  ["unbatched", [7, 5], [5, 3]],
  ["batched", [4, 7, 5], [4, 5, 3]],
  ["a batched, b shared", [4, 7, 5], [5, 3]],
  ["a shared, b batched", [7, 5], [4, 5, 3]],
  ["rank 4", [2, 3, 7, 5], [2, 3, 5, 3]],
];

for (const [name, aShape, bShape] of CASES) {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    Deno.test(`matMul ${name} transposeA=${ta} transposeB=${tb} matches stock wasm`, async () => {
      const swap = (s: number[], t: boolean) => t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s;
      await compareToStock(`${name} ${ta}/${tb}`, () => {
        const a = rand(swap(aShape, ta), 1);
        const b = rand(swap(bShape, tb), 2);
        return tf.matMul(a, b, ta, tb);
      });
    });
  }
}

Deno.test("matMul of dense-layer size in all four transpose forms matches stock wasm", async () => {
  await compareToStock("512×256·256×64", () => {
    const x = rand([512, 256], 3);
    const w = rand([256, 64], 4);
    const dy = rand([512, 64], 5);
    return [
      tf.matMul(x, w),
      tf.matMul(dy, w, false, true),
      tf.matMul(x, dy, true, false),
      tf.matMul(w, x, true, true),
    ];
  });
});

Deno.test("matMul with an empty inner dimension gives zeros (stock wasm: garbage)", async () => {
  try {
    for (const gemm of GEMMS) {
      installKernels({ gemm });
      const got = values(() => [
        tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 2])),
        tf.fused.matMul({ a: tf.zeros([3, 0]), b: tf.zeros([0, 2]), bias: tf.tensor1d([1, -1]) }),
      ]);
      assert.deepEqual([...got.data[0]], [0, 0, 0, 0, 0, 0]);
      assert.deepEqual([...got.data[1]], [1, -1, 1, -1, 1, -1]);
    }
  } finally {
    await initBackend("wasm");
  }
});

// Stock wasm adds bias[min(i·n + j, n − 1)] on its transposed path: wrong from the second row on.
for (const activation of ["linear", "relu", "relu6", "leakyrelu", "prelu", "sigmoid"] as const) {
  Deno.test(`fused matMul with bias and ${activation} matches stock wasm in all transpose forms`, async () => {
    await compareToStock(`fused ${activation}`, () => {
      const a = rand([9, 6], 6);
      const b = rand([6, 4], 7);
      const bias = rand([4], 8);
      const preluActivationWeights = activation === "prelu" ? tf.fill([4], 0.25) : undefined;
      return [[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) =>
        tf.fused.matMul({
          a: ta ? tf.transpose(a) : a,
          b: tb ? tf.transpose(b) : b,
          transposeA: ta,
          transposeB: tb,
          bias,
          activation,
          preluActivationWeights,
          leakyreluAlpha: 0.1,
        })
      );
    }, [1, 2, 3]);
  });
}

Deno.test("fused matMul with a length-1 bias and batched operands matches cpu", async () => {
  await compareToStock("fused batched", () => {
    const a = rand([3, 5, 6], 9);
    const b = rand([6, 4], 10);
    return [
      tf.fused.matMul({ a, b, bias: tf.tensor1d([0.5]), activation: "relu" }),
      tf.fused.matMul({ a, b: rand([3, 4, 6], 11), transposeB: true, bias: rand([4], 12) }),
    ];
  }, [1]);
});

Deno.test("gradients of a small dense net with STE match stock wasm", async () => {
  const widths = [8, 32, 32, 4, 32, 32, 8];
  await compareToStock("dense net grads", () => {
    const vars: tf.Tensor[] = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      vars.push(rand([widths[i], widths[i + 1]], 20 + i), rand([widths[i + 1]], 40 + i));
    }
    const x = rand([64, widths[0]], 99) as tf.Tensor2D;
    const loss = (...v: tf.Tensor[]) =>
      tf.losses.meanSquaredError(x, referenceForward(x, v as tf.Variable[], 2)) as tf.Scalar;
    return tf.grads(loss)(vars);
  });
});

Deno.test("patched kernels leave no tensors or wasm buffers behind", async () => {
  const backend = () => tf.backend() as unknown as { numDataIds(): number };
  await onEachKernelSet(() => {
    const a = rand([4, 7, 5], 1);
    const b = rand([4, 3, 7], 2);
    const bias = rand([4], 3);
    const run = () =>
      tf.tidy(() => {
        tf.matMul(a, b, true, true).dataSync();
        tf.matMul(a, rand([4, 5, 3], 4)).dataSync();
        tf.fused.matMul({ a, b: rand([5, 4], 5), bias, activation: "relu" }).dataSync();
        tf.fused.matMul({ a, b, transposeA: true, transposeB: true, bias: tf.tensor1d([1]) })
          .dataSync();
        tf.sum(a, [0, 1]).dataSync();
        tf.clone(a).dataSync();
      });
    run();
    const tensors = tf.memory().numTensors;
    const dataIds = backend().numDataIds();
    for (let i = 0; i < 3; i++) run();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend().numDataIds(), dataIds);
    tf.dispose([a, b, bias]);
  });
});

Deno.test({
  name: "openblas products are bit-identical from run to run",
  ignore: !HAVE_OPENBLAS,
  async fn() {
    installKernels({ gemm: "openblas" });
    try {
      const run = () =>
        values(() => {
          const x = rand([300, 257], 7);
          const w = rand([257, 129], 8);
          return [tf.matMul(x, w), tf.matMul(x, rand([300, 129], 9), true, false)];
        }).data;
      const first = run();
      const second = run();
      first.forEach((d, i) => assert.deepEqual(second[i], d));
    } finally {
      await initBackend("wasm");
    }
  },
});
