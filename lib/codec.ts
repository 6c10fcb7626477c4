/**
 * @deprecated Old import path, kept so code written against it still runs: codecs live in
 * `codecs/mod.ts` (the `Codec` interface and `buildCodec`) and `codecs/mlp.ts`.
 *
 * @module
 */
export { mlpCodec } from "./codecs/mlp.ts";
export type { Codec } from "./codecs/mod.ts";
