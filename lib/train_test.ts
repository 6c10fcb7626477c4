import assert from "node:assert/strict";
import { initBackend, tf } from "./backend.ts";
import { quantizerBits, resolveConfig } from "./config.ts";
import { oracleFloor, SimulatedSource } from "./sources/mod.ts";
import { createSession, train } from "./train.ts";

await initBackend();

/** A small source (B = 4 bits) that trains in seconds. */
const tiny = {
  data: { frameDim: 8, groups: 2, bitsPerGroup: 2, validationFrames: 1024 },
  codec: { hidden: 64, latent: 4 },
  train: { epochs: 4, stepsPerEpoch: 150, batchSize: 128, commitment: 0.25 },
};

Deno.test("with B_q > B a short run reaches near-zero validation MSE", async () => {
  const cfg = resolveConfig({
    ...tiny,
    quantizer: { kind: "vq", bits: 6 },
    passer: { kind: "mste" },
  });
  const result = await train(cfg);
  assert.equal(result.diverged, null);
  assert.ok(result.final!.valMse < 0.02, `valMse ${result.final!.valMse}`);
  assert.ok(result.final!.symbolAccuracy > 0.99, `accuracy ${result.final!.symbolAccuracy}`);
});

Deno.test("with B_q < B validation MSE stays above the oracle floor", async () => {
  const cfg = resolveConfig({ ...tiny, quantizer: { kind: "vq", bits: 2, init: "kmeans" } });
  const floor = oracleFloor(
    new SimulatedSource(cfg.data, cfg.train.seed),
    quantizerBits(cfg.quantizer),
  );
  assert.ok(floor > 0.2, `floor ${floor}`);
  const result = await train(cfg);
  for (const record of result.history) {
    assert.ok(record.valMse >= floor, `${record.valMse} < floor ${floor}`);
  }
  assert.ok(result.final!.valMse < 1, "it did learn something");
});

Deno.test("STE without CL: MA-E grows; with CL, and mSTE without it, it stays bounded", async () => {
  const short = { train: { epochs: 3, stepsPerEpoch: 100 } };
  const run = (input: object) => train(resolveConfig({ ...short, ...input } as never));
  const ste = await run({ passer: { kind: "ste" } });
  const steCl = await run({ passer: { kind: "ste" }, train: { ...short.train, commitment: 0.25 } });
  const mste = await run({ passer: { kind: "mste" } });
  const maE = (r: typeof ste) => r.history.map((h) => h.maE);
  const growth = (r: typeof ste) => maE(r).at(-1)! / maE(r)[0];
  assert.ok(maE(ste).at(-1)! > 100, `STE MA-E ${maE(ste)}`);
  assert.ok(growth(ste) > 3, `STE MA-E ${maE(ste)}`);
  assert.ok(maE(steCl).at(-1)! < 20, `STE+CL MA-E ${maE(steCl)}`);
  assert.ok(maE(mste).at(-1)! < 20, `mSTE MA-E ${maE(mste)}`);
  assert.ok(mste.final!.valMse < ste.final!.valMse, "mSTE reaches lower MSE than STE");
});

Deno.test("a diverging run returns a result with diverged set instead of throwing", async () => {
  const cfg = resolveConfig({
    passer: { kind: "ste" },
    train: { epochs: 5, stepsPerEpoch: 100, divergenceThreshold: 50 },
  });
  const result = await train(cfg);
  assert.ok(result.diverged, "diverged");
  assert.match(result.diverged!.reason, /exceeds train.divergenceThreshold = 50/);
  assert.ok(result.diverged!.step > 0 && result.diverged!.step < 500);
  assert.ok(result.history.every((h) => h.maE <= 50));
  assert.equal(result.final, result.history.at(-1) ?? null);
  JSON.parse(JSON.stringify(result));
});

Deno.test("a non-finite loss is a divergence outcome too", async () => {
  // Weights of 1e30 overflow float32 activations; the MA-E threshold is out of the way.
  const cfg = resolveConfig({
    ...tiny,
    train: { ...tiny.train, learningRate: 10, epochs: 2, divergenceThreshold: Number.MAX_VALUE },
  });
  const result = await train({ ...cfg, train: { ...cfg.train, learningRate: 1e30 } });
  assert.ok(result.diverged, "diverged");
  assert.match(result.diverged!.reason, /non-finite/);
  assert.equal(result.history.length, 0);
  assert.equal(result.final, null);
});

Deno.test("no tensor leaks across many steps, for every passer and quantizer", () => {
  const cases = [
    { passer: { kind: "ste" } },
    { passer: { kind: "mste", sigma: "channel" } },
    { passer: { kind: "na-detached" } },
    { passer: { kind: "na-attached" } },
    { passer: { kind: "soft-to-hard" } },
    { quantizer: { kind: "vq", learning: "ema", init: "kmeans" } },
    { quantizer: { kind: "rvq", learning: "ema" } },
    { quantizer: { kind: "rvq" }, train: { ...tiny.train, commitment: 0.25 } },
    { quantizer: { kind: "fsq", levels: [5, 5, 5, 5] } },
  ];
  for (const c of cases) {
    const session = createSession(resolveConfig({ ...tiny, ...c } as never));
    for (let i = 0; i < 3; i++) session.step();
    session.evaluate();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) session.step();
    session.evaluate();
    assert.equal(tf.memory().numTensors, before, JSON.stringify(c));
    session.dispose();
  }
});

Deno.test("a run is bit-identical when repeated with the same seed, and differs with another", async () => {
  const cfg = resolveConfig({
    ...tiny,
    passer: { kind: "na-attached" },
    train: { ...tiny.train, epochs: 2, stepsPerEpoch: 50 },
  });
  const strip = (r: Awaited<ReturnType<typeof train>>) =>
    r.history.map(({ wallMs: _, ...rest }) => rest);
  const a = await train(cfg), b = await train(cfg);
  assert.deepEqual(strip(a), strip(b));
  const c = await train({ ...cfg, train: { ...cfg.train, seed: 1 } });
  assert.notDeepEqual(strip(a), strip(c));
});

/** The flat values of every trainable variable of a session after `steps` steps. */
function weightsAfter(input: Parameters<typeof resolveConfig>[0], steps: number): Float32Array[] {
  const session = createSession(resolveConfig(input));
  for (let i = 0; i < steps; i++) session.step();
  const out = session.codec.variables.map((v) => v.dataSync().slice() as Float32Array);
  session.dispose();
  return out;
}

Deno.test("gradClip above the gradient norm and learningRateEnd = learningRate change nothing (bit-identical)", () => {
  const base = { train: { epochs: 1, stepsPerEpoch: 12, batchSize: 64 } };
  const plain = weightsAfter(base, 12);
  const clipped = weightsAfter({ train: { ...base.train, gradClip: 1e12 } }, 12);
  const flat = weightsAfter({ train: { ...base.train, learningRateEnd: 1e-3 } }, 12);
  plain.forEach((w, i) => {
    assert.deepEqual(clipped[i], w, "clip far above the norm");
    assert.deepEqual(flat[i], w, "decay to the same rate");
  });
});

Deno.test("gradClip bounds the update of a plain-gradient step; learningRateEnd shrinks late updates", () => {
  // Adam with ε = 1 and tiny gradients is a scaled gradient step, so the clip shows in the update.
  const steps = 10;
  const delta = (train: Record<string, number>) => {
    const session = createSession(resolveConfig({
      train: { epochs: 1, stepsPerEpoch: steps, batchSize: 64, epsilon: 1, ...train },
    }));
    for (let i = 0; i < steps - 1; i++) session.step();
    const before = session.codec.variables.map((v) => v.dataSync().slice());
    session.step();
    let sq = 0;
    session.codec.variables.forEach((v, i) => {
      const now = v.dataSync();
      for (let j = 0; j < now.length; j++) sq += (now[j] - before[i][j]) ** 2;
    });
    session.dispose();
    return Math.sqrt(sq);
  };
  const free = delta({});
  const clipped = delta({ gradClip: 1e-3 });
  assert.ok(clipped < 0.1 * free, `clipped update ${clipped} vs ${free}`);
  const decayed = delta({ learningRateEnd: 1e-5 });
  assert.ok(decayed < 0.05 * free, `last update at lr 1e-5: ${decayed} vs ${free} at 1e-3`);
});

Deno.test("train config: learningRateEnd and gradClip are validated and absent by default", () => {
  const c = resolveConfig({});
  assert.ok(!("learningRateEnd" in c.train) && !("gradClip" in c.train), "keys unchanged");
  assert.throws(() => resolveConfig({ train: { learningRateEnd: 1 } }), /train\.learningRateEnd/);
  assert.throws(() => resolveConfig({ train: { gradClip: 0 } }), /train\.gradClip/);
  assert.throws(
    () => resolveConfig({ data: { kind: "simulated", siSdrWeight: 1 } as never }),
    /data\.siSdrWeight/,
  );
  assert.throws(
    () => resolveConfig({ codec: { kind: "mlp", weightNorm: true } as never }),
    /codec\.weightNorm/,
  );
});
