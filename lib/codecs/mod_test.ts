import assert from "node:assert/strict";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { rngFor } from "../random.ts";
import { buildCodec, foldFrames, unfoldFrames } from "./mod.ts";

await initBackend();

Deno.test("the registry builds the MLP codec; its variables split into encoder and decoder", () => {
  const codec = buildCodec(
    resolveConfig({ codec: { hidden: 16, latent: 3 } }).codec,
    { inputDim: 5, outputDim: 7 },
    rngFor(0, "codec"),
  );
  assert.equal(codec.latentDim, 3);
  assert.deepEqual(codec.variables, [...codec.encoderVariables, ...codec.decoderVariables]);
  assert.deepEqual(codec.encoderVariables[0].shape, [5, 16]);
  assert.deepEqual(codec.decoderVariables.at(-2)!.shape, [16, 7]);
  const e = codec.encode(tf.zeros([4, 5]));
  assert.deepEqual(e.shape, [4, 3]);
  assert.deepEqual(codec.decode(e).shape, [4, 7]);
  codec.dispose();
});

Deno.test("an unregistered codec kind is refused naming codec.kind", () => {
  assert.throws(
    () => buildCodec({ kind: "video" } as never, { inputDim: 1, outputDim: 1 }, rngFor(0, "c")),
    /codec.kind = "video"/,
  );
});

Deno.test("folding frames: [B, T, D] ↔ [B·T, D], rank 2 untouched", () => {
  const x = tf.range(0, 24).reshape([2, 4, 3]);
  const folded = foldFrames(x);
  assert.deepEqual(folded.shape, [8, 3]);
  assert.deepEqual(unfoldFrames(folded, x.shape).arraySync(), x.arraySync());
  const flat = tf.zeros([5, 3]) as tf.Tensor2D;
  assert.equal(foldFrames(flat), flat);
  assert.equal(unfoldFrames(flat, flat.shape), flat);
});
