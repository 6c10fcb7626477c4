import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { PASSER_KINDS, resolveConfig } from "../config.ts";
import { createSession } from "../train.ts";
import { installKernels } from "./mod.ts";
import { PRELU_GRAD_KERNEL } from "./prelu.ts";

await initBackend("wasm");

/**
 * Run `f` with quantlab's kernels as they are, then with the kernels this change added for the
 * proxy taken out (fused PReLU gradient, bias-row `Add`): tfjs-core's gradient formula on the
 * same other kernels, as before.
 */
function withAndWithout<T>(f: () => T): { fused: T; unfused: T } {
  installKernels();
  assert.ok(tf.getKernel(PRELU_GRAD_KERNEL, "wasm") != null, "fused kernel installed");
  const fused = f();
  try {
    installKernels({ elementwise: false });
    assert.equal(tf.getKernel(PRELU_GRAD_KERNEL, "wasm"), undefined, "fused kernel removed");
    return { fused, unfused: f() };
  } finally {
    installKernels();
  }
}

Deno.test("the fused PReLU gradient is bit-identical to tfjs-core's formula", () => {
  const cases: [number[], number[]][] = [
    [[256, 128], [128]],
    [[7, 5], [5]], // scalar tail
    [[2, 3, 4], [3, 4]],
    [[6, 3], [6, 3]], // α as large as x: no sum
  ];
  const { fused, unfused } = withAndWithout(() =>
    cases.map(([xs, as], i) =>
      tf.tidy(() => {
        const x = tf.randomNormal(xs, 0, 1, "float32", i + 1);
        const zeroed = tf.where(tf.less(tf.abs(x), 0.2), tf.zerosLike(x), x); // exact zeros too
        const alpha = tf.randomUniform(as, 0, 0.5, "float32", i + 5);
        const dy = tf.randomNormal(xs, 0, 1, "float32", i + 9);
        const [gx, ga] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.prelu(a, b))(
          [zeroed, alpha],
          dy,
        );
        return [gx.dataSync(), ga.dataSync()] as Float32Array[];
      })
    )
  );
  fused.forEach(([gx, ga], i) => {
    assert.deepEqual(gx, unfused[i][0], `case ${i}: dx`);
    assert.deepEqual(ga, unfused[i][1], `case ${i}: dα`);
    assert.ok(gx.some((v) => v !== 0) && ga.some((v) => v !== 0), `case ${i}: nonzero`);
  });
});

Deno.test("proxy steps are bit-identical with and without the fused PReLU gradient and bias Add", () => {
  for (const kind of PASSER_KINDS) {
    const run = () => {
      const session = createSession(resolveConfig({
        passer: { kind },
        codec: { hidden: 64 },
        train: { batchSize: 256, seed: 3 },
      }));
      try {
        const losses = Array.from({ length: 5 }, () => session.step());
        return { losses, eval: session.evaluate() };
      } finally {
        session.dispose();
      }
    };
    const { fused, unfused } = withAndWithout(run);
    assert.deepEqual(fused, unfused, kind);
  }
});
