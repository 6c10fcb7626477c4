/**
 * Clustering for codebook initialisation and oracle floors: Lloyd's k-means with k-means++
 * seeding on flat row-major Float32Array points, seeded by an {@linkcode Rng}. [choice]
 *
 * @module
 */
import type { Rng } from "../random.ts";

/**
 * Lloyd's k-means with k-means++ seeding on row-major points; `distortion` is the (weighted)
 * mean squared distance per point. Optional `weights` count each point that many times.
 */
export function kmeans(
  points: Float32Array,
  count: number,
  dim: number,
  k: number,
  rng: Rng,
  iterations = 50,
  weights?: Float64Array,
): { centroids: Float32Array; assignment: Int32Array; distortion: number } {
  const w = weights ?? new Float64Array(count).fill(1);
  const totalWeight = w.reduce((a, b) => a + b, 0);
  k = Math.min(k, count);
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(count).fill(Infinity);
  const sq = (p: number, c: number, src: Float32Array) => {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const diff = points[p * dim + j] - src[c * dim + j];
      s += diff * diff;
    }
    return s;
  };
  let first = rng.int(count);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(first * dim, (first + 1) * dim), c * dim);
    let total = 0;
    for (let p = 0; p < count; p++) {
      nearest[p] = Math.min(nearest[p], sq(p, c, centroids));
      total += w[p] * nearest[p];
    }
    let target = rng.uniform() * total;
    first = count - 1;
    for (let p = 0; p < count; p++) {
      target -= w[p] * nearest[p];
      if (target < 0) {
        first = p;
        break;
      }
    }
  }
  const assignment = new Int32Array(count);
  let distortion = Infinity;
  for (let it = 0; it < iterations; it++) {
    let total = 0, changed = 0;
    for (let p = 0; p < count; p++) {
      let bestC = 0, bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sq(p, c, centroids);
        if (d < bestD) bestD = d, bestC = c;
      }
      if (assignment[p] !== bestC) changed++;
      assignment[p] = bestC;
      total += w[p] * bestD;
    }
    distortion = total / totalWeight;
    if (it > 0 && changed === 0) break;
    const sums = new Float64Array(k * dim);
    const sizes = new Float64Array(k);
    for (let p = 0; p < count; p++) {
      sizes[assignment[p]] += w[p];
      for (let j = 0; j < dim; j++) sums[assignment[p] * dim + j] += w[p] * points[p * dim + j];
    }
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) continue; // an empty cluster keeps its centroid
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j] / sizes[c];
    }
  }
  return { centroids, assignment, distortion };
}
