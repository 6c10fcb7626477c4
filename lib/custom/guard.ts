/**
 * Keep a candidate quantizer honest in every run, not only in the preflight: it must not code
 * more than the bits per frame it declares.
 *
 * {@linkcode guardQuantizer} wraps what a candidate's `build` returns so that
 * - every `quantize` / `quantizeTrain` returns integer codes (int32) in [0, 2^bits): a code
 *   column cannot hold more than the frame's whole budget, and negative codes are not codes;
 * - `jointCodes` (from which the trainer measures the code entropy) is one-to-one on the rows it
 *   is given: a candidate cannot hide codes from the entropy by mapping distinct rows to one value.
 *
 * {@linkcode checkCodeEntropy} then checks each run's measured code entropy (validation, every
 * epoch) against the declared bits: the entropy of the codes actually used can never exceed
 * log2 of the number of codes the budget allows. A violation is a {@linkcode CandidateError}
 * naming the module, so the run fails and nothing is stored. [choice]
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { RunConfig } from "../config.ts";
import type { HardQuantization, Quantizer, QuantizerBuilder } from "../quantizers/mod.ts";
import type { RunResult } from "../result.ts";
import { CandidateError } from "./candidate.ts";

/** Slack for float round-off in the entropy comparison (bits). [choice] */
export const ENTROPY_SLACK = 1e-9;

/** Throw unless `codes` are int32 in [0, 2^bits). */
export function checkCodes(module: string, codes: tf.Tensor, bits: number, where: string): void {
  if (!(codes instanceof tf.Tensor)) {
    throw new CandidateError(module, `${where} returned codes that are not a tf.Tensor`);
  }
  const values = codes.dataSync();
  const limit = 2 ** bits;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) {
      throw new CandidateError(module, `${where} returned codes that are not integers (e.g. ${v})`);
    }
    if (v < 0 || v >= limit) {
      throw new CandidateError(
        module,
        `${where} returned code ${v}, outside [0, 2^${bits}) = [0, ${limit}): a quantizer ` +
          `of ${bits} bits per frame has no such code`,
      );
    }
  }
  if (codes.dtype !== "int32") {
    throw new CandidateError(
      module,
      `${where} returned codes of dtype ${codes.dtype}, expected int32 (tf.cast(codes, "int32"))`,
    );
  }
}

/** Throw unless `joint` gives distinct rows of `codes` distinct values and equal rows equal ones. */
export function checkJointCodes(
  module: string,
  codes: Int32Array,
  frames: number,
  joint: Float64Array,
): void {
  const stages = frames > 0 ? codes.length / frames : 0;
  const byRow = new Map<string, number>();
  const byValue = new Map<number, string>();
  for (let n = 0; n < frames; n++) {
    const row = codes.subarray(n * stages, (n + 1) * stages).join(",");
    const v = joint[n];
    const seenValue = byRow.get(row);
    const seenRow = byValue.get(v);
    if ((seenValue !== undefined && !Object.is(seenValue, v)) || (seenRow ?? row) !== row) {
      throw new CandidateError(
        module,
        `jointCodes is not one-to-one: ${
          seenRow !== undefined && seenRow !== row
            ? `codes [${seenRow}] and [${row}] both map to ${v}`
            : `codes [${row}] map to ${seenValue} and to ${v}`
        }; the code entropy is measured from it`,
      );
    }
    byRow.set(row, v);
    byValue.set(v, row);
  }
}

/** Wrap one built quantizer (see the module doc). */
export function guardQuantizer(module: string, q: Quantizer): Quantizer {
  const checked = (where: string) => (h: HardQuantization) => {
    checkCodes(module, h?.codes, q.bits, where);
    return h;
  };
  const guarded: Quantizer = Object.create(q);
  Object.defineProperties(guarded, {
    quantize: { value: (z: tf.Tensor2D) => checked("quantize")(q.quantize(z)) },
    jointCodes: {
      value: (codes: Int32Array, frames: number) => {
        const joint = q.jointCodes(codes, frames);
        if (joint?.length === frames) checkJointCodes(module, codes, frames, joint);
        return joint;
      },
    },
  });
  if (q.quantizeTrain) {
    const train = q.quantizeTrain.bind(q);
    Object.defineProperty(guarded, "quantizeTrain", {
      value: (z: tf.Tensor2D, rng: Parameters<NonNullable<Quantizer["quantizeTrain"]>>[1]) =>
        checked("quantizeTrain")(train(z, rng)),
    });
  }
  return guarded;
}

/** A builder whose quantizers are guarded. */
export function guardedBuilder(module: string, build: QuantizerBuilder): QuantizerBuilder {
  return (bits, dim, rng, weights) => guardQuantizer(module, build(bits, dim, rng, weights));
}

/**
 * Throw when a run of a custom quantizer measured more code entropy than the bits per frame it
 * declares (any epoch). Built-in quantizers are not checked.
 */
export function checkCodeEntropy(config: RunConfig, result: RunResult): void {
  if (config.quantizer.kind !== "custom") return;
  const bits = config.quantizer.bits;
  for (const rec of result.history) {
    if (rec.codeEntropy > bits + ENTROPY_SLACK) {
      throw new CandidateError(
        config.quantizer.module,
        `the measured code entropy is ${rec.codeEntropy.toFixed(3)} bits per frame at epoch ` +
          `${rec.epoch}, more than the ${bits} bits it declares: it codes more than its budget`,
      );
    }
  }
}
