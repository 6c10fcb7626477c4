/**
 * The mean-squared-error loss and validation meter shared by sources whose loss is MSE.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { concatArrays } from "../arrays.ts";
import type { ValidationMeter } from "./types.ts";

/** MSE, the proxy's loss: mean over every value of (ŷ − y)². [paper A] */
export function mseLoss(yhat: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.squaredDifference(yhat, y)) as tf.Scalar;
}

/**
 * A meter for MSE and MSE in dB, summed value by value over the batches in order (so one
 * batch or many give the same numbers). `symbolAccuracy` gets every ŷ concatenated at the end.
 */
export function mseMeter(symbolAccuracy?: (yhat: Float32Array) => number): ValidationMeter {
  let squaredError = 0, power = 0, count = 0;
  const parts: Float32Array[] = [];
  return {
    add(yhat, batch) {
      const y = batch.y;
      if (yhat.length !== y.length) {
        throw new RangeError(`mseMeter: ŷ has ${yhat.length} values, y has ${y.length}`);
      }
      for (let i = 0; i < yhat.length; i++) {
        const d = yhat[i] - y[i];
        squaredError += d * d;
      }
      for (let i = 0; i < y.length; i++) power += y[i] * y[i];
      count += y.length;
      if (symbolAccuracy) parts.push(yhat);
    },
    result() {
      const valMse = squaredError / count;
      return {
        valMse,
        valMseDb: 10 * Math.log10(valMse / (power / count)),
        symbolAccuracy: symbolAccuracy ? symbolAccuracy(concatArrays(parts, Float32Array)) : NaN,
      };
    },
  };
}
