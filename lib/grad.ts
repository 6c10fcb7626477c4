/**
 * Gradient utilities tfjs-core does not ship.
 *
 * @module
 */
import { tf } from "./backend.ts";

/** sg(x): the identity forward, a zero gradient backward. */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as any,
) as never;
