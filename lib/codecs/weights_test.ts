/**
 * `codec.weights`: validation names the bad field; the initialisation hook assigns a stored
 * checkpoint's tensors to the codec's variables (the committed base model's, read directly from
 * `data/base/`), and refuses a file of another hash or another codec config, naming the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { ConfigError } from "../kinds.ts";
import { decodeArtifact, sha256Bytes } from "../store/artifacts.ts";
import { convCodec, type ConvCodecConfig, resolveConvCodecConfig } from "./conv.ts";
import { weightsPath } from "./weights.ts";

await initBackend("wasm");

const BASE = {
  checkpoint: "data/base/continuous.qlartf",
  provenance: "data/base/continuous.json",
};
const provenance = JSON.parse(Deno.readTextFileSync(weightsPath({
  checkpoint: BASE.provenance,
  sha256: "",
}))) as { sha256: string; config: { codec: ConvCodecConfig } };
const WEIGHTS = { checkpoint: BASE.checkpoint, sha256: provenance.sha256 };

Deno.test("codec.weights: absent by default; a bad or unknown field is named", () => {
  assert.equal(resolveConvCodecConfig({}).weights, undefined);
  assert.deepEqual(resolveConvCodecConfig({ weights: WEIGHTS }).weights, WEIGHTS);
  const bad = (weights: unknown, field: string) =>
    assert.throws(
      () => resolveConfig({ data: { kind: "speech" }, codec: { kind: "conv", weights } as never }),
      (e: Error) => e instanceof ConfigError && e.field === field,
    );
  bad("data/base/continuous.qlartf", "codec.weights");
  bad({ ...WEIGHTS, sha256: "abc" }, "codec.weights.sha256");
  bad({ ...WEIGHTS, checkpoint: "" }, "codec.weights.checkpoint");
  bad({ ...WEIGHTS, seed: 1 }, "codec.weights.seed");
});

Deno.test("codec.weights: the initialisation loads every stored encoder and decoder tensor", () => {
  const config = { ...provenance.config.codec, weights: WEIGHTS };
  const codec = convCodec(config, 7);
  const artifact = decodeArtifact(Deno.readFileSync(weightsPath(WEIGHTS)));
  const differs = (prefix: string, vs: tf.Variable[]) =>
    vs.filter((v, i) =>
      (v.dataSync() as Float32Array).some((x, j) =>
        x !== artifact.tensors[`${prefix}.${i}`].data[j]
      )
    ).length;
  assert.ok(differs("encoder", codec.encoderVariables) > 0, "seeded weights differ before");
  assert.ok(codec.initialization, "the codec asks for its initialisation");
  codec.initialization!.run(new Float32Array(4096), 1, 4096);
  assert.equal(differs("encoder", codec.encoderVariables), 0);
  assert.equal(differs("decoder", codec.decoderVariables), 0);
  codec.dispose();
});

Deno.test("codec.weights: another hash or another codec config is refused naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "w.qlartf");
    const bytes = Deno.readFileSync(weightsPath(WEIGHTS));
    Deno.writeFileSync(file, bytes);
    const wrongHash = convCodec({
      ...provenance.config.codec,
      weights: { ...WEIGHTS, checkpoint: file, sha256: "0".repeat(64) },
    }, 1);
    assert.throws(
      () => wrongHash.initialization!.run(new Float32Array(128), 1, 128),
      (e: Error) => e.message.includes(file) && /SHA-256/.test(e.message),
    );
    const other = convCodec(
      resolveConvCodecConfig({
        channels: 4,
        weights: { checkpoint: file, sha256: sha256Bytes(bytes) },
      }),
      1,
    );
    assert.throws(
      () => other.initialization!.run(new Float32Array(128), 1, 128),
      (e: Error) => e.message.includes(file) && /another codec config|shape/.test(e.message),
    );
    wrongHash.dispose();
    other.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
