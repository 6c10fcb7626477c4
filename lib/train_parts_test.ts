/**
 * The trainer as an open frame: parts handed in instead of built, latents with a time axis,
 * validation in several batches, decoder-only training, cancellation.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "./backend.ts";
import { buildCodec, type Codec } from "./codecs/mod.ts";
import { resolveConfig } from "./config.ts";
import { rngFor } from "./random.ts";
import { type Batch, SimulatedSource, type Source } from "./sources/mod.ts";
import { createSession, train } from "./train.ts";

await initBackend();

const T = 8;
const config = resolveConfig({
  data: { frameDim: 8, groups: 2, bitsPerGroup: 2, validationFrames: 512 },
  codec: { hidden: 32, latent: 4 },
  quantizer: { kind: "rvq", stages: 2, bitsPerStage: 2 },
  passer: { kind: "mste" },
  train: { epochs: 2, stepsPerEpoch: 15, batchSize: 16 * T, commitment: 0.25 },
});

/** The simulated frames as sequences: x [B, T, F], B·T frames per batch; validation in `parts` batches. */
function sequenceSource(parts: number): Source {
  const frames = new SimulatedSource(config.data, config.train.seed);
  const F = frames.inputDim;
  const seq = (b: Batch): Batch => {
    const n = b.x.length / F / T;
    return { x: b.x, xShape: [n, T, F], y: b.y, yShape: [n, T, F] };
  };
  return {
    inputDim: F,
    outputDim: F,
    trainBatch: (step, size) => seq(frames.trainBatch(step, size * T)),
    *validationBatches() {
      const v = frames.validation, per = v.x.length / parts;
      for (let i = 0; i < parts; i++) {
        const slice = (a: Float32Array) => a.subarray(i * per, (i + 1) * per);
        yield seq({ x: slice(v.x), xShape: [], y: slice(v.y), yShape: [] });
      }
    },
    loss: (yhat, y) => frames.loss(yhat, y),
    validationMeter: () => frames.validationMeter(),
  };
}

/** The MLP applied per time step: [B, T, F] → [B, T, L], like a conv codec's [B, T', D]. */
function sequenceCodec(): Codec {
  const mlp = buildCodec(config.codec, { inputDim: 8, outputDim: 8 }, rngFor(0, "codec"));
  const perStep = (f: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor) => {
    const [b, t, d] = x.shape;
    const out = f(tf.reshape(x, [b * t, d]));
    return tf.reshape(out, [b, t, out.shape[1]!]);
  };
  return { ...mlp, encode: perStep(mlp.encode), decode: perStep(mlp.decode) };
}

const strip = (r: Awaited<ReturnType<typeof train>>) =>
  r.history.map(({ wallMs: _, ...rest }) => rest);

Deno.test("latents with a time axis are folded into frames: training matches the frame-wise run", async () => {
  const frameWise = await train(config);
  const oneBatch = await train(
    { ...config, train: { ...config.train, batchSize: 16 } },
    { parts: { source: sequenceSource(1), codec: sequenceCodec() } },
  );
  // The same frames through the same layers: identical training and validation.
  assert.deepEqual(strip(oneBatch), strip(frameWise));
  // Validation in 4 batches gives the same metrics (up to GEMM rounding on fewer rows).
  const fourBatches = await train(
    { ...config, train: { ...config.train, batchSize: 16 } },
    { parts: { source: sequenceSource(4), codec: sequenceCodec() } },
  );
  strip(fourBatches).forEach((r, i) => {
    const ref = strip(frameWise)[i];
    assert.equal(r.trainLoss, ref.trainLoss);
    for (const key of ["valMse", "valMseDb", "maE", "symbolAccuracy", "codeEntropy"] as const) {
      assert.ok(
        Math.abs(r[key] - ref[key]) <= 1e-5 * Math.abs(ref[key]),
        `${key} ${r[key]} ${ref[key]}`,
      );
    }
  });
});

Deno.test("a time-axis codec does not leak tensors over many steps, k-means init included", () => {
  const cfg = {
    ...config,
    quantizer: { ...config.quantizer, init: "kmeans" as const },
    train: { ...config.train, batchSize: 4 },
  };
  const session = createSession(cfg, { source: sequenceSource(2), codec: sequenceCodec() });
  for (let i = 0; i < 3; i++) session.step();
  session.evaluate();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) session.step();
  session.evaluate();
  assert.equal(tf.memory().numTensors, before);
  session.dispose();
});

Deno.test("decoder finetuning trains only the decoder; EMA codebooks stay too", () => {
  const ema = { ...config, quantizer: { ...config.quantizer, learning: "ema" as const } };
  const session = createSession(ema, {}, "decoder");
  const snapshot = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
  const enc = snapshot(session.codec.encoderVariables);
  const dec = snapshot(session.codec.decoderVariables);
  const books = snapshot(session.quantizer.state!);
  for (let i = 0; i < 5; i++) session.step();
  assert.deepEqual(snapshot(session.codec.encoderVariables), enc);
  assert.deepEqual(snapshot(session.quantizer.state!), books);
  assert.notDeepEqual(snapshot(session.codec.decoderVariables), dec);
  assert.deepEqual(
    session.codec.variables,
    [...session.codec.encoderVariables, ...session.codec.decoderVariables],
  );
  session.dispose();
});

Deno.test("an aborted signal stops training between steps with its reason, leaking nothing", async () => {
  // A finished run frees every tensor it made (the initial values of variables included).
  const before = tf.memory().numTensors;
  await train({ ...config, train: { ...config.train, epochs: 1, stepsPerEpoch: 1 } });
  assert.equal(tf.memory().numTensors, before);
  const controller = new AbortController();
  const reason = new Error("stop here");
  let epochs = 0;
  await assert.rejects(
    train(config, {
      signal: controller.signal,
      onEpoch: () => {
        epochs++;
        controller.abort(reason);
      },
    }),
    (err) => err === reason,
  );
  assert.equal(epochs, 1);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a quantizer handed in is not initialised again", () => {
  const kmeans = { ...config, quantizer: { ...config.quantizer, init: "kmeans" as const } };
  const first = createSession(kmeans);
  for (let i = 0; i < 3; i++) first.step(); // trained away from its k-means values
  const books = first.quantizer.variables.map((v) => Array.from(v.dataSync()));
  const second = createSession(kmeans, { quantizer: first.quantizer });
  assert.deepEqual(second.quantizer.variables.map((v) => Array.from(v.dataSync())), books);
  // Built here, the same quantizer config is k-means initialised on this session's data.
  const third = createSession({ ...kmeans, train: { ...kmeans.train, seed: 1 } });
  assert.notDeepEqual(third.quantizer.variables.map((v) => Array.from(v.dataSync())), books);
  third.dispose();
  second.dispose();
  first.codec.dispose();
});
