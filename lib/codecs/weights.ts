/**
 * Starting a codec from stored weights [choice]: `codec.weights = {checkpoint, sha256}` names a
 * checkpoint file (quantlab's artefact format, `lib/store/artifacts.ts`, as the committed base
 * model `data/base/continuous.qlartf`) whose tensors `encoder.<i>` and `decoder.<i>` are assigned,
 * in order, to the codec's encoder and decoder variables before training. It is the codec's
 * data-dependent initialisation hook (`Codec.initialization`), so the trainer runs it where it
 * would run the PCA initialisation of the linear path, which the loaded weights replace. The
 * checkpoint must come from a codec of the same config (without `weights`); the file's SHA-256
 * is part of the config, so a retrained checkpoint changes every result-cache key that uses it.
 *
 * Why: notebook 07 asks what a gradient passer does to a codec that already codes speech, so its
 * runs insert the quantizer into the trained base model and fine-tune. [choice]
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { tf } from "../backend.ts";
import { ConfigError } from "../kinds.ts";
import { decodeArtifact, sha256Bytes } from "../store/artifacts.ts";

/** Where a codec's starting weights come from. */
export interface CodecWeightsConfig {
  /** Checkpoint file, relative to the repository root (or absolute). */
  checkpoint: string;
  /** Its SHA-256 (64 lowercase hex digits); a file with another hash is refused. */
  sha256: string;
}

const ROOT = resolve(import.meta.dirname!, "..", "..");

/** The checkpoint's path on this machine. */
export function weightsPath(w: CodecWeightsConfig): string {
  return isAbsolute(w.checkpoint) ? w.checkpoint : join(ROOT, w.checkpoint);
}

/** Throw a {@linkcode ConfigError} naming the first bad field of `codec.weights`. */
export function validateCodecWeights(w: CodecWeightsConfig): void {
  if (w === null || typeof w !== "object" || Array.isArray(w)) {
    throw new ConfigError("codec.weights", w, "an object {checkpoint, sha256}");
  }
  for (const key of Object.keys(w)) {
    if (key !== "checkpoint" && key !== "sha256") {
      throw new ConfigError(
        `codec.weights.${key}`,
        (w as unknown as Record<string, unknown>)[key],
        "no such field; allowed: checkpoint, sha256",
      );
    }
  }
  if (typeof w.checkpoint !== "string" || w.checkpoint.length === 0) {
    throw new ConfigError("codec.weights.checkpoint", w.checkpoint, "a non-empty file path");
  }
  if (typeof w.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(w.sha256)) {
    throw new ConfigError("codec.weights.sha256", w.sha256, "64 lowercase hex digits");
  }
}

/**
 * Assign the checkpoint's `encoder.<i>` and `decoder.<i>` tensors to `encoder` and `decoder`
 * (in order). Throws naming the file when it cannot be read, its hash differs, or its tensors do
 * not match the variables in number or shape (a checkpoint of another codec config).
 */
export function loadCodecWeights(
  w: CodecWeightsConfig,
  encoder: tf.Variable[],
  decoder: tf.Variable[],
): void {
  const file = weightsPath(w);
  const fail = (reason: string): never => {
    throw new Error(`codec.weights: ${file} ${reason}`);
  };
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch (e) {
    return fail(`cannot be read (${(e as Error).message})`);
  }
  const hash = sha256Bytes(bytes);
  if (hash !== w.sha256) fail(`has SHA-256 ${hash}, codec.weights.sha256 says ${w.sha256}`);
  const artifact = decodeArtifact(bytes, file);
  for (const [prefix, variables] of [["encoder", encoder], ["decoder", decoder]] as const) {
    const stored = Object.keys(artifact.tensors).filter((k) => k.startsWith(`${prefix}.`)).length;
    if (stored !== variables.length) {
      fail(
        `holds ${stored} ${prefix} tensors, the codec has ${variables.length} ${prefix} ` +
          "variables: a checkpoint of another codec config",
      );
    }
    variables.forEach((v, i) => {
      const t = artifact.tensors[`${prefix}.${i}`];
      if (!t) fail(`has no tensor ${prefix}.${i}`);
      if (t.shape.join() !== v.shape.join()) {
        fail(`tensor ${prefix}.${i} has shape [${t.shape}], the codec's variable [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, v.dtype)));
    });
  }
}
