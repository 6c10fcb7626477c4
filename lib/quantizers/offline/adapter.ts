/**
 * An offline quantizer inside the trainer: the adapter from {@linkcode OfflineQuantizer} (fitted
 * on stored latents, plain arrays in and out) to the trainer's {@linkcode Quantizer} (tensors,
 * codes, losses), so decoder finetuning runs through `train()` like any other run. [paper B:
 * finetune the decoder on the frozen quantizer's values]
 *
 * @module
 */
import { tf } from "../../backend.ts";
import type { HardQuantization, Quantizer } from "../types.ts";
import type { OfflineQuantizer } from "./types.ts";

/**
 * An offline quantizer as a trainer {@linkcode Quantizer}: its values are constants (no
 * gradient), its state is not trained. For decoder finetuning, where nothing before it trains.
 */
export function offlineAsQuantizer(q: OfflineQuantizer): Quantizer {
  const columns = q.codeBits.length;
  return {
    bits: q.bitsPerFrame,
    dim: q.dim,
    variables: [],
    prepare: (e) => e,
    quantize(z): HardQuantization {
      const { codes, values } = q.quantize({
        data: z.dataSync() as Float32Array,
        count: z.shape[0],
        dim: q.dim,
      });
      return {
        q: tf.tensor2d(values, [z.shape[0], q.dim]),
        codes: tf.tensor2d(codes, [z.shape[0], columns], "int32"),
        losses: {},
      };
    },
    decodeCodes(codes) {
      return tf.tensor2d(
        q.decode(codes.dataSync() as Int32Array, codes.shape[0]),
        [codes.shape[0], q.dim],
      );
    },
    jointCodes(codes, frames) {
      const out = new Float64Array(frames);
      for (let n = 0; n < frames; n++) {
        let v = 0;
        for (let c = 0; c < columns; c++) v = v * 2 ** q.codeBits[c] + codes[n * columns + c];
        out[n] = v;
      }
      return out;
    },
    dispose() {},
  };
}
