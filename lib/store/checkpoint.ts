/**
 * Checkpoints and latent sets as {@linkcode Artifact}s for the artefact store. A checkpoint holds
 * a run's trained variables (tensors `encoder.<i>`, `decoder.<i>`, `quantizer.<i>` (its whole state, EMA statistics included) in each part's
 * variable order, plus JSON metadata) and restores into parts built from the same config; a
 * latent set holds the quantizer inputs and codes of a dataset.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { concatArrays } from "../arrays.ts";
import { type Codec, foldFrames } from "../codecs/mod.ts";
import type { Quantizer } from "../quantizers/mod.ts";
import type { Batch } from "../sources/mod.ts";
import type { Artifact, Json, StoredTensor } from "./artifacts.ts";

/** The parts whose variables a checkpoint holds. */
export interface CheckpointParts {
  codec: Codec;
  quantizer: Quantizer;
}

function groups(parts: CheckpointParts): [string, tf.Variable[]][] {
  return [
    ["encoder", parts.codec.encoderVariables],
    ["decoder", parts.codec.decoderVariables],
    ["quantizer", parts.quantizer.state ?? parts.quantizer.variables],
  ];
}

/** Copy every trainable variable of `parts` into an artefact with `meta`. */
export function checkpointOf(parts: CheckpointParts, meta: Json): Artifact {
  const tensors: Record<string, StoredTensor> = {};
  for (const [prefix, variables] of groups(parts)) {
    variables.forEach((v, i) => {
      tensors[`${prefix}.${i}`] = {
        shape: [...v.shape],
        data: Float32Array.from(v.dataSync() as Float32Array),
      };
    });
  }
  return { meta, tensors };
}

/**
 * Assign a checkpoint's tensors to the variables of `parts` (built from the same config).
 * Throws naming the tensor when one is missing or its shape differs.
 */
export function restoreCheckpoint(artifact: Artifact, parts: CheckpointParts): void {
  for (const [prefix, variables] of groups(parts)) {
    variables.forEach((v, i) => {
      const name = `${prefix}.${i}`;
      const t = artifact.tensors[name];
      if (!t) throw new Error(`restoreCheckpoint: the checkpoint has no tensor ${name}`);
      if (t.shape.join() !== v.shape.join()) {
        throw new Error(
          `restoreCheckpoint: tensor ${name} has shape [${t.shape}], the variable [${v.shape}]`,
        );
      }
      const value = tf.tensor(t.data, v.shape, v.dtype);
      v.assign(value);
      value.dispose();
    });
  }
}

/**
 * A latent set: the quantizer inputs z of every frame of `batches` (the encoder output, folded
 * into frames and prepared) as `z` [N, D], and their codes as `codes` [N, S] (int32), with
 * `meta`. What post-training quantization fits a new quantizer to.
 */
export function latentSetOf(
  parts: CheckpointParts,
  batches: Iterable<Batch>,
  meta: Json,
): Artifact {
  const zs: Float32Array[] = [], codes: Int32Array[] = [];
  let frames = 0, stages = 0;
  for (const batch of batches) {
    const [z, c] = tf.tidy(() => {
      const e = parts.codec.encode(tf.tensor(batch.x, [...batch.xShape]));
      const z = parts.quantizer.prepare(foldFrames(e));
      return [z, parts.quantizer.quantize(z).codes];
    });
    zs.push(z.dataSync() as Float32Array);
    codes.push(c.dataSync() as Int32Array);
    frames += z.shape[0];
    stages = c.shape[1]!;
    tf.dispose([z, c]);
  }
  const dim = parts.quantizer.dim;
  return {
    meta,
    tensors: {
      z: { shape: [frames, dim], data: concatArrays(zs, Float32Array) },
      codes: { shape: [frames, stages], data: concatArrays(codes, Int32Array) },
    },
  };
}
