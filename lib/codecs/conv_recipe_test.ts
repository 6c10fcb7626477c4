/**
 * The conv codec's recipe options of issue 18: weight normalisation, Snake, the PCA-initialised
 * linear path; gradients against finite differences (float64 central differences on the cpu
 * backend's float32 would be too coarse, so the functions are smooth and the steps large).
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import {
  convCodec,
  type ConvCodecConfig,
  convParameterCount,
  resolveConvCodecConfig,
} from "./conv.ts";
import { PcaTransformCode } from "../audio/anchors.ts";
import { Rng } from "../random.ts";

await initBackend("wasm");

function size(vs: tf.Variable[]): number {
  return vs.reduce((n, v) => n + (v.trainable ? v.size : 0), 0);
}

/** Central finite difference of f along variable v's element i. */
function numericGrad(f: () => number, v: tf.Variable, i: number, h = 1e-2): number {
  const base = v.dataSync().slice();
  const at = (d: number) => {
    const w = base.slice();
    w[i] += d;
    v.assign(tf.tensor(w, v.shape));
    return f();
  };
  const g = (at(h) - at(-h)) / (2 * h);
  v.assign(tf.tensor(base, v.shape));
  return g;
}

const TINY: ConvCodecConfig = resolveConvCodecConfig({
  channels: 2,
  strides: [2, 2],
  latentDim: 3,
});

Deno.test("weight norm: same initial function as without it, g = ‖v‖ per output channel, counted", () => {
  const plain = convCodec(TINY, 4);
  const wn = convCodec({ ...TINY, weightNorm: true }, 4);
  const x = tf.randomNormal([2, 16], 0, 0.3, "float32", 2);
  const a = plain.decode(plain.encode(x)), b = wn.decode(wn.encode(x));
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.ok(diff < 1e-5, `outputs differ by ${diff}`);
  assert.equal(size(wn.variables), convParameterCount({ ...TINY, weightNorm: true }));
  assert.ok(convParameterCount({ ...TINY, weightNorm: true }) > convParameterCount(TINY));
  tf.dispose([x, a, b]);
  plain.dispose();
  wn.dispose();
});

Deno.test("weight norm and Snake: gradients of v, g and α match finite differences", () => {
  const config = { ...TINY, weightNorm: true, activation: "snake" as const };
  const codec = convCodec(config, 9);
  const x = tf.randomNormal([1, 16], 0, 0.5, "float32", 3);
  const loss = () => tf.sum(tf.square(codec.decode(codec.encode(x)))) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, codec.variables);
  const value = () => tf.tidy(() => loss().dataSync()[0]);
  // Snake's α (a [C] vector initialised to 1), a weight-norm g ([1, 1, C]) and v ([K, Cin, C]).
  const alpha = codec.encoderVariables.find((v) =>
    v.rank === 1 && v.dataSync().every((a) => a === 1)
  )!;
  const g = codec.encoderVariables.find((v) =>
    v.rank === 3 && v.shape[0] === 1 && v.shape[1] === 1
  )!;
  const w = codec.encoderVariables.find((v) => v.rank === 3 && v.shape[0] === 7)!;
  for (
    const [v, i] of [[alpha, 0], [alpha, 1], [g, 0], [w, 3], [w, 5]] as [tf.Variable, number][]
  ) {
    const analytic = grads[v.name].dataSync()[i];
    const numeric = numericGrad(value, v, i);
    const scale = Math.max(1e-3, Math.abs(numeric));
    assert.ok(
      Math.abs(analytic - numeric) / scale < 2e-2,
      `${v.name}[${i}]: analytic ${analytic}, numeric ${numeric}`,
    );
  }
  tf.dispose([x, ...Object.values(grads)]);
  codec.dispose();
});

/** Training "audio" for the linear path's PCA: `length` samples of a random AR(2) process. */
function arAudio(seed: number, length: number): Float32Array {
  const rng = new Rng(seed);
  const audio = new Float32Array(length);
  for (let i = 2; i < audio.length; i++) {
    audio[i] = 1.2 * audio[i - 1] - 0.5 * audio[i - 2] + rng.normal();
  }
  return audio;
}

Deno.test("linear path: initialised from PCA the codec is the PCA transform code; gates open the conv stacks", () => {
  // Frames of Πs = 4 samples, 3 kept components.
  const audio = arAudio(3, 4 * 2000);
  const config = resolveConvCodecConfig({
    channels: 2,
    strides: [2, 2],
    latentDim: 3,
    linearPath: { kernel: 8, gateInit: 0, pcaSegments: 4, trainScale: 0.1 },
  });
  const codec = convCodec(config, 1);
  assert.ok(codec.initialization, "the codec asks for a data-dependent initialisation");
  assert.equal(codec.initialization!.examples, 4);
  codec.initialization!.run(audio, 4, audio.length / 4);
  const pca = PcaTransformCode.fit(audio, 4, 3);
  const x = audio.slice(0, 64);
  const y = tf.tidy(() => codec.decode(codec.encode(tf.tensor2d(x, [1, 64]))).dataSync());
  const expected = pca.roundTrip(x);
  // Eigenvector signs may differ between the two fits' orderings: compare reconstructions.
  const err = Math.max(...Array.from(y, (v, i) => Math.abs(v - expected[i])));
  assert.ok(err < 1e-4, `linear path vs PCA code: max difference ${err}`);
  assert.equal(size(codec.variables), convParameterCount(config), "counted = trainable parameters");
  // The PCA banks are codec state (checkpointed) but not trained; the trained Δ starts at 0.
  const frozen = codec.variables.filter((v) => !v.trainable);
  assert.equal(frozen.length, 2);
  // With gates at 0 only the gates among the conv stacks' parameters get a gradient.
  const xs = tf.tensor2d(x, [1, 64]);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.square(codec.decode(codec.encode(xs)))) as tf.Scalar,
    codec.variables.filter((v) => v.trainable),
  );
  const gates = codec.variables.filter((v) => v.rank === 0);
  assert.equal(gates.length, 2);
  for (const gate of gates) {
    assert.ok(Math.abs(grads[gate.name].dataSync()[0]) > 0, "gate gradient");
  }
  tf.dispose([xs, ...Object.values(grads)]);
  codec.dispose();
  // trainScale 0: no trained bank parameters at all.
  const fixed = { ...config, linearPath: { ...config.linearPath!, trainScale: 0 } };
  const c2 = convCodec(fixed, 1);
  assert.equal(size(c2.variables), convParameterCount(fixed));
  assert.equal(convParameterCount(config) - convParameterCount(fixed), 2 * 8 * 3);
  c2.dispose();
});

Deno.test("linear path: pcaFrame below the hop is the PCA code of the shorter frames", () => {
  const audio = arAudio(5, 8 * 2000);
  // Πs = 8, latent 4: two sub-frames of 4 samples, 2 components each.
  const config = resolveConvCodecConfig({
    channels: 2,
    strides: [2, 4],
    latentDim: 4,
    linearPath: { kernel: 12, gateInit: 0, pcaSegments: 4, trainScale: 0, pcaFrame: 4 },
  });
  const codec = convCodec(config, 1);
  codec.initialization!.run(audio, 4, audio.length / 4);
  const x = audio.slice(0, 64);
  const y = tf.tidy(() => codec.decode(codec.encode(tf.tensor2d(x, [1, 64]))).dataSync());
  const short = PcaTransformCode.fit(audio, 4, 2).roundTrip(x);
  const long = PcaTransformCode.fit(audio, 8, 4).roundTrip(x);
  const err = Math.max(...Array.from(y, (v, i) => Math.abs(v - short[i])));
  assert.ok(err < 1e-4, `linear path vs PCA code of 4-sample frames: max difference ${err}`);
  const fromLong = Math.max(...Array.from(y, (v, i) => Math.abs(v - long[i])));
  assert.ok(fromLong > 1e-2, `differs from the 8-sample-frame code (${fromLong})`);
  codec.dispose();
});

Deno.test("linear path and weight norm: bad values name the field", () => {
  const cases: [Partial<ConvCodecConfig>, RegExp][] = [
    [{ weightNorm: 1 as never }, /codec\.weightNorm/],
    [
      { linearPath: { kernel: 100, gateInit: 0, pcaSegments: 4, trainScale: 1 } },
      /codec\.linearPath\.kernel/,
    ],
    [
      { linearPath: { kernel: 128, gateInit: NaN, pcaSegments: 4, trainScale: 1 } },
      /codec\.linearPath\.gateInit/,
    ],
    [
      { linearPath: { kernel: 128, gateInit: 0, pcaSegments: 0, trainScale: 1 } },
      /codec\.linearPath\.pcaSegments/,
    ],
    [
      { linearPath: { kernel: 128, gateInit: 0, pcaSegments: 4, trainScale: 2 } },
      /codec\.linearPath\.trainScale/,
    ],
    [
      { linearPath: { kernel: 128, gateInit: 0, pcaSegments: 4, trainScale: 1, x: 1 } as never },
      /codec\.linearPath\.x/,
    ],
    [
      { linearPath: { kernel: 128, gateInit: 0, pcaSegments: 4, trainScale: 1, pcaFrame: 48 } },
      /codec\.linearPath\.pcaFrame/,
    ],
    [
      // 128/2 sub-frames do not divide a latent of 33 (strides default to Πs = 128).
      {
        latentDim: 33,
        linearPath: { kernel: 128, gateInit: 0, pcaSegments: 4, trainScale: 1, pcaFrame: 64 },
      },
      /codec\.linearPath\.pcaFrame/,
    ],
    [{ linearPath: "pca" as never }, /codec\.linearPath/],
  ];
  for (const [input, field] of cases) assert.throws(() => resolveConvCodecConfig(input), field);
});
