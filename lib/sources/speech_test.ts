/**
 * The speech source through the ordinary trainer: config and registries, one training step with
 * every quantizer and several passers on the conv codec (tiny sizes), no tensor leak, divergence
 * as an outcome, the per-step MA-E trace, and the validation metrics. Uses the real corpus
 * (`prepareSource` fetches it when missing, as `./quantlab data` does).
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import {
  ConfigError,
  type ConfigInput,
  resolveConfig,
  type SpeechSourceConfig,
} from "../config.ts";
import { resultKey } from "../grid/key.ts";
import { createSession, train } from "../train.ts";
import { buildSource, prepareSource } from "./mod.ts";
import { SpeechMeter, SpeechSource } from "./speech.ts";
import { Rng } from "../random.ts";

await initBackend();

/** Tiny sizes: segments of 512 samples, a 2-block codec (hop 8), 4-dimensional latent. */
const TINY: ConfigInput = {
  data: {
    kind: "speech",
    segmentSamples: 512,
    validationSegments: 6,
    validationSamples: 1024,
    validationBatch: 4,
    spectralWindows: [64, 256],
  },
  codec: { kind: "conv", channels: 4, strides: [2, 4], latentDim: 4, dilations: [1] },
  quantizer: { kind: "rvq", stages: 2, bitsPerStage: 3, init: "kmeans" },
  train: { epochs: 1, stepsPerEpoch: 3, batchSize: 4 },
};

function tiny(over: ConfigInput = {}): ConfigInput {
  const out: Record<string, unknown> = { ...TINY };
  for (const [k, v] of Object.entries(over)) {
    // A quantizer replaces the default one whole (its fields differ by kind); others merge.
    out[k] = k === "quantizer" ? v : { ...(TINY as Record<string, object>)[k], ...v };
  }
  return out as ConfigInput;
}

Deno.test("speech config: defaults, conv codec by default, proxy configs unchanged", () => {
  const cfg = resolveConfig({ data: { kind: "speech" } });
  assert.equal(cfg.codec.kind, "conv");
  assert.equal(cfg.train.traceEvery, 1, "speech runs trace every step by default");
  assert.equal(cfg.data.kind === "speech" && cfg.data.segmentSamples, 4096);
  // The proxy's resolved config has none of the new optional fields, so its cache keys stay.
  const proxy = resolveConfig({});
  assert.ok(!("traceEvery" in proxy.train));
  assert.ok(!("lookup" in resolveConfig({ quantizer: { kind: "rvq" } }).quantizer));
  assert.equal(
    resultKey(proxy, "lib/train.ts#train"),
    resultKey(JSON.parse(JSON.stringify(proxy)), "lib/train.ts#train"),
  );
  const bad: [ConfigInput, RegExp][] = [
    [
      { data: { kind: "speech", segmentSamples: 1000, spectralWindows: [64] } },
      /data\.segmentSamples = 1000.*128/,
    ],
    [{ quantizer: { kind: "vq", lookup: "cosine" } as never }, /quantizer\.lookup.*rvq/],
    [{ data: { kind: "speech", validationSamples: 100 } }, /data\.validationSamples/],
    [{ codec: { kind: "conv" } }, /codec\.kind = "conv".*data\.kind = "simulated"/],
    [{ data: { kind: "speech" }, codec: { kind: "mlp" } }, /codec\.kind = "mlp"/],
    [{ data: { kind: "speech", spectralWindows: [2] } }, /data\.spectralWindows/],
    [{ data: { kind: "speech", waveformWeight: 0, spectralWeight: 0 } }, /at least one/],
    [{ data: { kind: "speech" }, codec: { strides: [3] } }, /codec\.strides/],
    [{ data: { kind: "speech" }, codec: { sampleRate: 16000 } }, /codec\.sampleRate/],
    [{ quantizer: { kind: "rvq", lookup: "manhattan" as never } }, /quantizer\.lookup/],
    [{ data: { kind: "speech" }, train: { traceEvery: -1 } }, /train\.traceEvery/],
  ];
  for (const [input, re] of bad) {
    assert.throws(() => resolveConfig(input), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("speech source: building it before its corpus is loaded names the fix", () => {
  // A level no other test loads, so its corpus is not in memory.
  const cfg = resolveConfig(tiny({ data: { targetDb: -33 } }));
  assert.throws(() => buildSource(cfg.data, 0), /data\.kind = "speech".*await prepareSource/);
});

Deno.test("speech source: seeded segments, fixed validation in batches, loss", async () => {
  const cfg = resolveConfig(tiny());
  await prepareSource(cfg.data);
  const a = buildSource(cfg.data, 3) as SpeechSource;
  const b = buildSource(cfg.data, 3) as SpeechSource;
  const c = buildSource(cfg.data, 4) as SpeechSource;
  const batch = a.trainBatch(5, 4);
  assert.deepEqual(batch.xShape, [4, 512]);
  assert.deepEqual(batch.x, b.trainBatch(5, 4).x, "same seed and step, same batch");
  assert.notDeepEqual(batch.x, c.trainBatch(5, 4).x, "train.seed changes the draws");
  assert.notDeepEqual(batch.x, a.trainBatch(6, 4).x, "each step its own batch");
  assert.ok(batch.x.some((v) => v !== 0));
  const sizes = [...a.validationBatches()].map((v) => v.xShape);
  assert.deepEqual(sizes, [[4, 1024], [2, 1024]]);
  assert.deepEqual(a.validation.x, c.validation.x, "validation does not depend on the seed");
  const speakers = new Set(a.validationSources.map((s) => s.speaker));
  assert.ok(!speakers.has("asterisk:allison-smith"), "validation speakers are held out");
  // Loss: zero for a perfect reconstruction, positive otherwise.
  const y = tf.tensor2d(batch.x, [4, 512]);
  const zero = a.loss(y, y);
  const half = a.loss(tf.mul(y, 0.5), y);
  assert.ok(Math.abs(zero.dataSync()[0]) < 1e-6);
  assert.ok(half.dataSync()[0] > 0.1);
  tf.dispose([y, zero, half]);
});

Deno.test("speech meter: SI-SDR, spectral and latent metrics, code usage per column", async () => {
  const cfg = resolveConfig(tiny());
  await prepareSource(cfg.data);
  const source = buildSource(cfg.data, 0) as SpeechSource;
  const perfect = new SpeechMeter(cfg.data as SpeechSourceConfig);
  const scaled = new SpeechMeter(cfg.data as SpeechSourceConfig);
  for (const v of source.validationBatches()) {
    perfect.add(v.y, v);
    scaled.add(v.y.map((s) => 0.5 * s), v);
  }
  scaled.addQuantization(
    new Float32Array([1, 2, 3, 4]),
    new Float32Array([1, 2, 3, 2]),
    new Int32Array([0, 1, 0, 0]),
    2,
  );
  const p = perfect.result(), s = scaled.result();
  assert.equal(p.valMse, 0);
  assert.equal(p.extra!.melL1, 0);
  assert.equal(s.extra!.siSdr, Infinity, "SI-SDR is scale-invariant");
  assert.ok(s.extra!.stftL1 > 0 && s.extra!.melL1 > 0 && s.extra!.waveformL1 > 0);
  assert.equal(s.extra!.latentMse, 1);
  assert.equal(s.extra!["codeEntropy.0"], 0);
  assert.equal(s.extra!["codeEntropy.1"], 1);
  assert.ok(!("latentMse" in p.extra!));
  // Pitch and level: the original itself agrees fully; half the amplitude is −6.02 dB.
  assert.equal(p.extra!.f0Agreement, 1);
  assert.equal(p.extra!.voicingAgreement, 1);
  assert.equal(p.extra!.levelDb, 0);
  assert.ok(Math.abs(s.extra!.levelDb - 20 * Math.log10(0.5)) < 1e-4);
  // Per segment, as named arrays in validation order.
  const n = source.validation.count;
  for (const name of ["siSdr", "melL1", "f0Agreement", "voicingAgreement", "levelDb"]) {
    assert.equal(s.segments![name].length, n, name);
  }
  assert.deepEqual(p.segments!.melL1, new Array(n).fill(0));
});

Deno.test("speech meter: white noise in place of speech has no F0 agreement", async () => {
  const cfg = resolveConfig(tiny());
  await prepareSource(cfg.data);
  const source = buildSource(cfg.data, 0) as SpeechSource;
  const meter = new SpeechMeter(cfg.data as SpeechSourceConfig);
  const rng = new Rng(2);
  for (const v of source.validationBatches()) meter.add(v.y.map(() => 0.1 * rng.normal()), v);
  const r = meter.result();
  assert.ok(r.extra!.f0Agreement < 0.05, `noise F0 agreement ${r.extra!.f0Agreement}`);
  assert.ok(r.extra!.siSdr < -20, `noise SI-SDR ${r.extra!.siSdr}`);
});

const QUANTIZERS: ConfigInput["quantizer"][] = [
  { kind: "vq", bits: 3, init: "kmeans" },
  { kind: "rvq", stages: 2, bitsPerStage: 3, init: "kmeans" },
  { kind: "rvq", stages: 2, bitsPerStage: 3, lookup: "cosine" },
  { kind: "fsq", levels: [3, 3, 3, 3] },
];
const PASSERS = ["ste", "mste", "na-attached", "na-detached"] as const;

for (const quantizer of QUANTIZERS) {
  Deno.test(`conv codec + speech: one step of every passer, ${JSON.stringify(quantizer)}`, async () => {
    for (const kind of PASSERS) {
      const cfg = resolveConfig(
        tiny({ quantizer, passer: { kind }, train: { commitment: 0.25 } }),
      );
      await prepareSource(cfg.data);
      const session = createSession(cfg);
      const before = session.codec.variables.map((v) => v.dataSync().slice());
      const loss = session.step();
      assert.ok(Number.isFinite(loss) && loss > 0, `${kind}: loss ${loss}`);
      assert.ok(session.lastBatchMaxAbs > 0 && Number.isFinite(session.lastBatchMaxAbs));
      // The gradient reaches every encoder variable through the passer, and the decoder's output.
      // (Not every decoder variable: FSQ may round a fresh latent to all zeros, and the first
      // decoder conv's weights then get no gradient.)
      const moved = (i: number) => {
        const now = session.codec.variables[i].dataSync();
        return before[i].some((x, j) => x !== now[j]);
      };
      const enc = session.codec.encoderVariables.length;
      for (let i = 0; i < enc; i++) assert.ok(moved(i), `${kind}: encoder variable ${i} moved`);
      const all = session.codec.variables.length;
      assert.ok(moved(all - 1) && moved(all - 2), `${kind}: the decoder's output conv moved`);
      const ev = session.evaluate();
      assert.ok(Number.isFinite(ev.valMse) && Number.isFinite(ev.metrics!.siSdr));
      assert.ok(Number.isFinite(ev.metrics!.melL1) && Number.isFinite(ev.metrics!.latentMse));
      const columns = quantizer!.kind === "rvq" ? 2 : quantizer!.kind === "vq" ? 1 : 4;
      for (let s = 0; s < columns; s++) assert.ok(`codePerplexity.${s}` in ev.metrics!);
      assert.ok(!(`codePerplexity.${columns}` in ev.metrics!));
      session.dispose();
    }
  });
}

Deno.test("conv codec + speech: no tensor leak over many steps and evaluations", async () => {
  const cfg = resolveConfig(tiny({ passer: { kind: "na-attached" }, train: { commitment: 0.25 } }));
  await prepareSource(cfg.data);
  const session = createSession(cfg);
  session.step();
  session.evaluate();
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  for (let i = 0; i < 20; i++) session.step();
  session.evaluate();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.memory().numBytes, bytes);
  session.dispose();
});

Deno.test("train on speech: MA-E and loss recorded every step (or every k-th)", async () => {
  const r = await train(resolveConfig(tiny({ train: { epochs: 2, stepsPerEpoch: 3 } })));
  assert.equal(r.diverged, null);
  assert.equal(r.steps!.every, 1);
  assert.equal(r.steps!.maE.length, 6);
  assert.equal(r.steps!.loss.length, 6);
  assert.ok(r.steps!.maE.every((m) => m !== null && m > 0));
  // The epoch's mean training loss is the mean of its steps' losses.
  const first = r.steps!.loss.slice(0, 3) as number[];
  assert.ok(Math.abs(first.reduce((s, v) => s + v, 0) / 3 - r.history[0].trainLoss) < 1e-9);
  assert.ok(Number.isFinite(r.final!.metrics!.siSdr));
  const k = await train(
    resolveConfig(tiny({ train: { epochs: 2, stepsPerEpoch: 3, traceEvery: 2 } })),
  );
  assert.equal(k.steps!.every, 2);
  assert.deepEqual(k.steps!.maE, [r.steps!.maE[1], r.steps!.maE[3], r.steps!.maE[5]]);
  const none = await train(resolveConfig(tiny({ train: { traceEvery: 0 } })));
  assert.ok(!("steps" in none));
});

Deno.test("train on speech: a diverging run returns a result with diverged set", async () => {
  // A tiny threshold: the first batch's max |e| exceeds it.
  const small = await train(
    resolveConfig(tiny({ train: { epochs: 2, divergenceThreshold: 1e-6 } })),
  );
  assert.ok(small.diverged, "diverged");
  assert.equal(small.diverged.step, 1);
  assert.match(small.diverged.reason, /max \|e\| on the training batch/);
  assert.equal(small.final, null);
  assert.equal(small.steps!.maE.length, 1, "the diverging step is traced");
  // A huge learning rate without commitment loss: the latent blows up or the loss goes non-finite.
  const wild = await train(
    resolveConfig(
      tiny({
        quantizer: { kind: "rvq", stages: 2, bitsPerStage: 3, lookup: "cosine" },
        train: { epochs: 3, stepsPerEpoch: 10, learningRate: 5, divergenceThreshold: 1e4 },
      }),
    ),
  );
  assert.ok(wild.diverged, `diverged (final MA-E ${wild.final?.maE})`);
  assert.ok(wild.diverged.step <= 30);
  assert.equal(wild.steps!.maE.length, wild.diverged.step);
});

Deno.test("SI-SDR loss term: siSdrTensor equals the metric per row and its gradient matches finite differences", async () => {
  const { siSdrTensor } = await import("./speech.ts");
  const { siSdr } = await import("../audio/metrics.ts");
  const rng = new Rng(21);
  const y = Float32Array.from({ length: 2 * 64 }, () => rng.normal());
  const yhat = Float32Array.from(y, (v) => 0.8 * v + 0.5 * rng.normal());
  const got = tf.tidy(() =>
    siSdrTensor(tf.tensor2d(yhat, [2, 64]), tf.tensor2d(y, [2, 64])).dataSync()
  );
  for (let r = 0; r < 2; r++) {
    const want = siSdr(yhat.subarray(r * 64, (r + 1) * 64), y.subarray(r * 64, (r + 1) * 64));
    assert.ok(Math.abs(got[r] - want) < 1e-3, `row ${r}: ${got[r]} vs ${want}`);
  }
  const f = (a: Float32Array) =>
    tf.tidy(() =>
      tf.sum(siSdrTensor(tf.tensor2d(a, [2, 64]), tf.tensor2d(y, [2, 64]))).dataSync()[0]
    );
  const grad = tf.tidy(() =>
    tf.grad((a: tf.Tensor) => tf.sum(siSdrTensor(a as tf.Tensor2D, tf.tensor2d(y, [2, 64]))))(
      tf.tensor2d(yhat, [2, 64]),
    ).dataSync()
  );
  for (const i of [0, 7, 70, 127]) {
    const h = 1e-2, plus = yhat.slice(), minus = yhat.slice();
    plus[i] += h, minus[i] -= h;
    const numeric = (f(plus) - f(minus)) / (2 * h);
    assert.ok(
      Math.abs(grad[i] - numeric) < 2e-2 * Math.max(1, Math.abs(numeric)),
      `∂/∂ŷ[${i}]: ${grad[i]} vs ${numeric}`,
    );
  }
});
