import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import {
  CONV_CODEC_DEFAULTS,
  CONV_REFERENCE_CONFIG,
  convBitrate,
  convCodec,
  type ConvCodecConfig,
  convFrameRate,
  convHopSamples,
  convParameterCount,
  resolveConvCodecConfig,
} from "./conv.ts";
import { rngFor } from "../random.ts";

await initBackend("wasm");

/** Small configs covering every option; sizes kept tiny so the file runs in seconds. */
const SMALL: ConvCodecConfig[] = [
  resolveConvCodecConfig({ channels: 2, strides: [2, 4] }),
  resolveConvCodecConfig({ channels: 3, strides: [4], dilations: [1, 3, 9], decoderChannels: 5 }),
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

function size(vs: tf.Variable[]): number {
  return vs.reduce((n, v) => n + v.size, 0);
}

Deno.test("conv codec: latent frames = T/Πstrides at f = sampleRate/Πstrides; decode returns T samples", () => {
  for (const config of [...SMALL, CONV_CODEC_DEFAULTS, CONV_REFERENCE_CONFIG]) {
    const hop = convHopSamples(config);
    const codec = convCodec(config, 7);
    const t = 2 * hop;
    const x = tf.randomNormal([2, t], 0, 0.1, "float32", 1);
    const z = codec.encode(x);
    const y = codec.decode(z);
    const z3 = codec.encode(tf.reshape(x, [2, t, 1]));
    assert.deepEqual(z.shape, [2, t / hop, config.codeDim ?? config.latentDim]);
    assert.equal(codec.latentDim, config.codeDim ?? config.latentDim);
    assert.deepEqual(y.shape, [2, t]);
    assert.deepEqual(Array.from(z3.dataSync()), Array.from(z.dataSync()), "[B, T, 1] = [B, T]");
    assert.equal(convFrameRate(config), config.sampleRate / hop);
    assert.equal(size(codec.variables), convParameterCount(config), "counted = built parameters");
    tf.dispose([x, z, y, z3]);
    codec.dispose();
  }
  assert.equal(convFrameRate(CONV_CODEC_DEFAULTS), 62.5);
  assert.equal(convHopSamples(CONV_REFERENCE_CONFIG), 128);
  // RVQ with 4 stages of 2^10 codewords at 62.5 frames/s.
  assert.equal(convBitrate(CONV_CODEC_DEFAULTS, 4 * 10), 2500);
});

Deno.test("conv codec: factorised codes are l2-normalised frames of codeDim", () => {
  const codec = convCodec(SMALL[2], 3);
  const z = codec.encode(tf.randomNormal([3, 32], 0, 0.1, "float32", 2));
  const norms = tf.sqrt(tf.sum(tf.square(z), -1));
  for (const n of norms.dataSync()) assert.ok(Math.abs(n - 1) < 1e-5, `frame norm ${n}`);
  tf.dispose([z, norms]);
  codec.dispose();
});

Deno.test("conv codec: bad configs and inputs name the field", () => {
  const cases: [Partial<ConvCodecConfig>, string][] = [
    [{ strides: [3] }, "codec.strides"],
    [{ strides: [] }, "codec.strides"],
    [{ channels: 0 }, "codec.channels"],
    [{ kernel: 6 }, "codec.kernel"],
    [{ latentKernel: 2 }, "codec.latentKernel"],
    [{ dilations: [0] }, "codec.dilations"],
    [{ codeDim: 1.5 }, "codec.codeDim"],
    [{ decoderChannels: -1 }, "codec.decoderChannels"],
    [{ activation: "relu" as never }, "codec.activation"],
    [{ leakySlope: 1 }, "codec.leakySlope"],
    [{ init: "xavier" as never }, "codec.init"],
    [{ sampleRate: 0 }, "codec.sampleRate"],
    [{ hidden: 3 } as never, "codec.hidden"],
  ];
  for (const [input, field] of cases) {
    assert.throws(() => resolveConvCodecConfig(input), new RegExp(field.replace(".", "\\.")));
  }
  const codec = convCodec(SMALL[0], 1);
  assert.throws(() => codec.encode(tf.zeros([1, 12])), /multiple of Πcodec\.strides = 8/);
  assert.throws(() => codec.decode(tf.zeros([1, 4, 5])), /latents \[B, frames, 32\]/);
  codec.dispose();
});

Deno.test("conv codec: encoder and decoder variables are disjoint, complete and separate", () => {
  for (const config of SMALL) {
    const codec = convCodec(config, 5);
    const enc = new Set(codec.encoderVariables);
    const dec = new Set(codec.decoderVariables);
    assert.ok(codec.encoderVariables.every((v) => !dec.has(v)), "disjoint");
    assert.equal(enc.size + dec.size, new Set(codec.variables).size, "the union is all");
    assert.deepEqual(codec.variables, [...codec.encoderVariables, ...codec.decoderVariables]);
    assert.equal(new Set(codec.variables.map((v) => v.name)).size, codec.variables.length);

    // Complete: every variable moves the autoencoder's output.
    const x = tf.randomNormal([2, 2 * convHopSamples(config)], 0, 0.1, "float32", 3) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(codec.decode(codec.encode(x)))) as tf.Scalar,
      codec.variables,
    );
    for (const v of codec.variables) {
      const g = tf.max(tf.abs(grads[v.name])).dataSync()[0];
      assert.ok(g > 0 && Number.isFinite(g), `${v.name} ${v.shape} gets gradient ${g}`);
    }
    tf.dispose([value, ...Object.values(grads)]);

    // Separate: the encoder's output ignores decoder weights and vice versa.
    const z = codec.encode(x);
    const y = codec.decode(z);
    const bump = (vs: tf.Variable[]) => vs.forEach((v) => v.assign(tf.add(v, 0.5)));
    bump(codec.decoderVariables);
    const z2 = codec.encode(x);
    assert.deepEqual(Array.from(z2.dataSync()), Array.from(z.dataSync()));
    const y2 = codec.decode(z);
    bump(codec.encoderVariables);
    const y3 = codec.decode(z);
    assert.deepEqual(Array.from(y3.dataSync()), Array.from(y2.dataSync()));
    assert.notDeepEqual(Array.from(y2.dataSync()), Array.from(y.dataSync()));
    tf.dispose([x, z, y, z2, y2, y3]);
    codec.dispose();
  }
});

Deno.test("conv codec: same seed, same weights; the decoder's init ignores encoder sizes", () => {
  const a = convCodec(SMALL[0], 11);
  const b = convCodec(SMALL[0], 11);
  const c = convCodec({ ...SMALL[0], dilations: [1, 3, 9] }, 11);
  for (let i = 0; i < a.variables.length; i++) {
    assert.deepEqual(a.variables[i].dataSync(), b.variables[i].dataSync());
  }
  // One more encoder residual unit per block: the decoder's first weights are unchanged.
  assert.deepEqual(a.decoderVariables[0].dataSync(), c.decoderVariables[0].dataSync());
  // Seeded by an Rng (a registry's builder): deterministic, and the same split.
  const d = convCodec(SMALL[0], rngFor(11, "codec"));
  const e = convCodec(SMALL[0], rngFor(11, "codec"));
  const f = convCodec({ ...SMALL[0], dilations: [1, 3, 9] }, rngFor(11, "codec"));
  assert.deepEqual(d.encoderVariables[0].dataSync(), e.encoderVariables[0].dataSync());
  assert.deepEqual(d.decoderVariables[0].dataSync(), f.decoderVariables[0].dataSync());
  assert.notDeepEqual(d.decoderVariables[0].dataSync(), a.decoderVariables[0].dataSync());
  [a, b, c, d, e, f].forEach((k) => k.dispose());
});
