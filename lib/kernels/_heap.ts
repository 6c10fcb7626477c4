/**
 * Access to the wasm backend's heap for kernels written in TypeScript.
 *
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** The wasm backend with the Emscripten heap view its typings leave out. */
export type WasmBackend = BackendWasm & { wasm: { HEAPU8: Uint8Array } };

/** The whole heap as float32; fetch it per call, because a heap growth replaces the buffer. */
export function heapF32(backend: WasmBackend): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer);
}

/** Index of a tensor's first element in {@linkcode heapF32}. */
export function offsetF32(backend: WasmBackend, x: TensorInfo): number {
  return backend.dataIdMap.get(x.dataId)!.memoryOffset >>> 2;
}
