import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { buildParts, createSession } from "../train.ts";
import { ArtifactStore } from "./artifacts.ts";
import { checkpointOf, latentSetOf, restoreCheckpoint } from "./checkpoint.ts";

await initBackend();

const config = resolveConfig({
  data: { frameDim: 8, groups: 2, bitsPerGroup: 2, validationFrames: 256 },
  codec: { hidden: 16, latent: 4 },
  quantizer: { kind: "rvq", stages: 2, bitsPerStage: 2, learning: "ema" },
  train: { epochs: 1, stepsPerEpoch: 20, batchSize: 32 },
});

Deno.test("a checkpoint restores a trained codec and quantizer exactly, through the store", async () => {
  const session = createSession(config);
  for (let i = 0; i < 20; i++) session.step();
  const trained = session.evaluate();
  const store = new ArtifactStore(await Deno.makeTempDir());
  const id = await store.put(checkpointOf(session, { config: config as never, step: 20 }));
  session.dispose();

  // Fresh parts from the same config start elsewhere; restored, they evaluate identically.
  const fresh = createSession(config);
  assert.notDeepEqual(fresh.evaluate(), trained);
  const artifact = (await store.get(id))!;
  assert.deepEqual(artifact.meta, { config, step: 20 });
  restoreCheckpoint(artifact, fresh);
  assert.deepEqual(fresh.evaluate(), trained);
  fresh.dispose();

  const other = buildParts(resolveConfig({ ...config, codec: { hidden: 8, latent: 4 } }));
  assert.throws(() => restoreCheckpoint(artifact, other), /tensor encoder.0 has shape \[8,16\]/);
  other.codec.dispose();
  other.quantizer.dispose();
});

Deno.test("a latent set holds each frame's quantizer input and its codes", () => {
  const session = createSession(config);
  for (let i = 0; i < 5; i++) session.step();
  const set = latentSetOf(session, session.source.validationBatches(), { step: 5 });
  assert.deepEqual(set.meta, { step: 5 });
  assert.deepEqual(set.tensors.z.shape, [256, 4]);
  assert.deepEqual(set.tensors.codes.shape, [256, 2]);
  assert.ok(set.tensors.codes.data instanceof Int32Array);
  // The codes are the quantizer's codes of z.
  const z = tf.tensor2d(set.tensors.z.data as Float32Array, [256, 4]);
  const hard = session.quantizer.quantize(z);
  assert.deepEqual(hard.codes.dataSync(), set.tensors.codes.data);
  tf.dispose([z, hard.q, hard.codes]);
  session.dispose();
});
