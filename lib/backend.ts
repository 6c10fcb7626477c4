/**
 * TensorFlow.js backend selection. quantlab runs on the wasm backend everywhere
 * (library, notebooks, tests); `initBackend` asserts that it really started,
 * because a failed wasm init silently leaves tfjs on `cpu`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-cpu";

export { tf };

/** Backends quantlab can run on. `wasm` is the default and the one results are reported for. */
export type BackendName = "wasm" | "cpu";

/** What a result records about the numeric environment it came from. */
export interface BackendInfo {
  backend: BackendName;
  tfjs: string;
  deno: string;
}

/**
 * Select and initialise a backend, failing loudly when it is not the one asked for.
 *
 * @example
 * ```ts
 * const info = await initBackend(); // { backend: "wasm", tfjs: "4.22.0", ... }
 * ```
 */
export async function initBackend(name: BackendName = "wasm"): Promise<BackendInfo> {
  tf.enableProdMode();
  if (tf.getBackend() !== name) {
    let ok = false;
    try {
      ok = await tf.setBackend(name);
      await tf.ready();
    } catch (err) {
      throw new Error(`backend: could not start tfjs backend "${name}": ${err}`);
    }
    if (!ok || tf.getBackend() !== name) {
      throw new Error(
        `backend: asked for "${name}" but tfjs is running on "${tf.getBackend()}"; ` +
          `the ${name} backend failed to initialise`,
      );
    }
  }
  return backendInfo();
}

/** The backend currently in use, with versions, for stamping results. */
export function backendInfo(): BackendInfo {
  return {
    backend: tf.getBackend() as BackendName,
    tfjs: tf.version_core,
    deno: Deno.version.deno,
  };
}
