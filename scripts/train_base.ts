/**
 * `./quantlab train-base`: retrain the base continuous speech model (lib/experiments/base_model.ts)
 * and write `data/base/continuous.qlartf` with its provenance `data/base/continuous.json`
 * (config, SHA-256, this command, the GEMM, training time, curve, held-out scores). Prints the
 * progress per epoch and, last, one JSON line with the held-out means.
 *
 * `--out DIR` writes the two files into DIR instead of `data/base/`.
 *
 * @module
 */
import { join } from "node:path";
import { initBackend } from "../lib/backend.ts";
import { meanScores } from "../lib/audio/score.ts";
import {
  BASE_MODEL_FILES,
  baseModelConfig,
  decodeHeldOut,
  heldOutSource,
  scoreHeldOut,
  trainBaseModel,
  writeBaseModel,
} from "../lib/experiments/base_model.ts";
import { buildParts } from "../lib/train.ts";
import { restoreCheckpoint } from "../lib/store/checkpoint.ts";

let files = BASE_MODEL_FILES;
const args = [...Deno.args];
while (args.length) {
  const a = args.shift()!;
  if (a === "--out" && args.length) {
    const dir = args.shift()!;
    files = {
      checkpoint: join(dir, "continuous.qlartf"),
      provenance: join(dir, "continuous.json"),
    };
  } else {
    console.error(`train-base: unknown option ${a} (--out DIR)`);
    Deno.exit(2);
  }
}

await initBackend("wasm");
const config = baseModelConfig();
const steps = config.train.epochs * config.train.stepsPerEpoch;
console.error(
  `training the base model: ${steps} steps of ${config.train.batchSize} × ${
    (config.data as { segmentSamples: number }).segmentSamples
  } samples`,
);
const { artifact, result } = await trainBaseModel(config, (m) => console.error(m));
const source = await heldOutSource(config);
const parts = buildParts(config);
restoreCheckpoint(artifact, parts);
const heldOut = scoreHeldOut(decodeHeldOut(parts, source), source);
const provenance = await writeBaseModel(artifact, result, heldOut, files);
console.error(
  `wrote ${files.checkpoint} (SHA-256 ${provenance.sha256}) and ${files.provenance}; trained in ${
    (provenance.trainMs / 60000).toFixed(1)
  } min`,
);
console.log(JSON.stringify({ steps, trainMs: provenance.trainMs, heldOut: meanScores(heldOut) }));
