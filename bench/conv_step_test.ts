import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend.ts";
import { resolveConvCodecConfig } from "../lib/codecs/conv.ts";
import { createConvStep } from "./conv_step.ts";

await initBackend("wasm");

/** Two of `lib/codecs/conv_test.ts`'s small configs: LeakyReLU, and Snake with a code space. */
const SMALL = [
  resolveConvCodecConfig({ channels: 2, strides: [2, 4] }),
  resolveConvCodecConfig({
    channels: 2,
    strides: [2, 2, 2],
    latentDim: 6,
    codeDim: 3,
    activation: "snake",
    init: "truncNormal",
    sampleRate: 16000,
  }),
];

Deno.test("conv step: Adam on L1 + STFT loss through a rounding STE stays finite, learns, leaks nothing", () => {
  const snake = { ...SMALL[1], init: "kaimingUniform" as const };
  for (const config of [SMALL[0], snake]) {
    const step = createConvStep({ config, batch: 2, samples: 256, windows: [16, 64], seed: 1 });
    const before = step.codec.variables.map((v) => v.dataSync().slice());
    const losses: number[] = [];
    losses.push(step.step());
    const { numTensors, numBytes } = tf.memory();
    for (let i = 0; i < 15; i++) losses.push(step.step());
    assert.equal(tf.memory().numTensors, numTensors, "no tensor leak over steps");
    assert.equal(tf.memory().numBytes, numBytes, "no byte leak over steps");
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses.at(-1)! < losses[0], `loss decreases: ${losses[0]} → ${losses.at(-1)}`);
    step.codec.variables.forEach((v, i) => {
      const now = v.dataSync();
      assert.ok(now.every(Number.isFinite), `${v.name} finite`);
      // The decoder's input weight sees round(z), which is all zeros at init for these small
      // latents, so it may legitimately not move; every other weight must.
      if (v !== step.codec.decoderVariables[0]) {
        assert.notDeepEqual(now, before[i], `${v.name} ${v.shape} trained`);
      }
    });
    step.dispose();
  }
});
