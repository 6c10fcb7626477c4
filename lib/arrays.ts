/**
 * Small helpers on typed arrays and plain records that several layers need.
 *
 * @module
 */

/** The typed arrays quantlab concatenates. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * Concatenate typed arrays of one kind into one (`Kind` makes the result). One part is returned
 * as it is, without a copy.
 *
 * @example
 * ```ts
 * const all = concatArrays([new Int32Array([1, 2]), new Int32Array([3])], Int32Array);
 * console.log(Array.from(all)); // [1, 2, 3]
 * ```
 */
export function concatArrays<T extends TypedArray>(
  parts: readonly T[],
  Kind: { new (length: number): T },
): T {
  if (parts.length === 1) return parts[0];
  const out = new Kind(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/**
 * The leaves of a nested record as `[path, value]` pairs, paths joined with dots (`prefix`
 * first when given); arrays and `null` are leaves. How configs become settings rows and labels.
 *
 * @example
 * ```ts
 * console.log(flattenFields({ train: { seed: 1 }, codec: { strides: [2, 4] } }));
 * // [["train.seed", 1], ["codec.strides", [2, 4]]]
 * ```
 */
export function flattenFields(value: unknown, prefix = ""): [string, unknown][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) =>
      flattenFields(v, prefix ? `${prefix}.${k}` : k)
    );
  }
  return [[prefix, value]];
}
