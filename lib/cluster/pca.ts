/**
 * Principal components by cyclic Jacobi rotations in float64: small, exact enough for the
 * dimensions quantlab needs (latents of ≤ 64 values, audio frames of ≤ 256 samples), and
 * deterministic. Used by the offline PCA-projected quantizers and the conv codec's linear path.
 *
 * @example
 * ```ts
 * import { principalComponents } from "./pca.ts";
 * // Points on the line y = 2x: one component along (1, 2)/√5 carries all the variance.
 * const x = Float32Array.from([1, 2, -1, -2, 2, 4, -2, -4]);
 * const { vectors, values } = principalComponents(x, 4, 2, new Float32Array(2));
 * console.log(values[1] < 1e-9, Math.abs(vectors[0] * 2 - vectors[1]) < 1e-6); // true true
 * ```
 *
 * @module
 */

/**
 * Eigenvectors (rows, by decreasing eigenvalue) and eigenvalues of the covariance of `x` about
 * `mean`, by cyclic Jacobi rotations in float64.
 */
export function principalComponents(
  x: Float32Array,
  count: number,
  D: number,
  mean: Float32Array,
): { vectors: Float32Array; values: Float64Array } {
  const a = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let p = 0; p < count; p++) {
    for (let i = 0; i < D; i++) row[i] = x[p * D + i] - mean[i];
    for (let i = 0; i < D; i++) {
      const ri = row[i];
      for (let j = i; j < D; j++) a[i * D + j] += ri * row[j];
    }
  }
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) a[j * D + i] = a[i * D + j] /= count;
  }
  const v = new Float64Array(D * D);
  for (let i = 0; i < D; i++) v[i * D + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) off += a[i * D + j] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < D; p++) {
      for (let q = p + 1; q < D; q++) {
        const apq = a[p * D + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < D; k++) {
          const akp = a[k * D + p], akq = a[k * D + q];
          a[k * D + p] = c * akp - s * akq;
          a[k * D + q] = s * akp + c * akq;
        }
        for (let k = 0; k < D; k++) {
          const apk = a[p * D + k], aqk = a[q * D + k];
          a[p * D + k] = c * apk - s * aqk;
          a[q * D + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < D; k++) {
          const vkp = v[k * D + p], vkq = v[k * D + q];
          v[k * D + p] = c * vkp - s * vkq;
          v[k * D + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: D }, (_, i) => i).sort((i, j) => a[j * D + j] - a[i * D + i]);
  const vectors = new Float32Array(D * D);
  const values = new Float64Array(D);
  order.forEach((col, r) => {
    values[r] = a[col * D + col];
    for (let k = 0; k < D; k++) vectors[r * D + k] = v[k * D + col];
  });
  return { vectors, values };
}
