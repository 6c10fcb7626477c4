/**
 * Gradient utilities tfjs-core does not ship.
 *
 * @module
 */
import { tf } from "./backend.ts";

/** What a custom-gradient function returns: its value and how to turn dy into input gradients. */
export interface CustomGradResult<R extends tf.Tensor> {
  value: R;
  gradFunc: (dy: R, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * `tf.customGrad` with the argument and result types kept (tfjs types them loosely).
 * The last parameter of `f` is tfjs's save function for tensors the gradient needs.
 */
export function customGrad<A extends tf.Tensor[], R extends tf.Tensor>(
  f: (...args: [...A, tf.GradSaveFunc]) => CustomGradResult<R>,
): (...args: A) => R {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    ...args: A
  ) => R;
}

/** sg(x): the identity forward, a zero gradient backward. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return _stop(x) as T;
}

const _stop = customGrad((x: tf.Tensor, _save: tf.GradSaveFunc) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));
