import assert from "node:assert/strict";
import { Rng } from "../random.ts";
import { kmeans } from "./kmeans.ts";

Deno.test("k-means finds well-separated clusters exactly", () => {
  const pts = new Float32Array([0, 0, 0.1, 0, 10, 10, 10.1, 10, -10, 5, -10.1, 5]);
  const { assignment, distortion } = kmeans(pts, 6, 2, 3, new Rng(1));
  assert.equal(assignment[0], assignment[1]);
  assert.equal(assignment[2], assignment[3]);
  assert.equal(assignment[4], assignment[5]);
  assert.equal(new Set(assignment).size, 3);
  assert.ok(Math.abs(distortion - 0.0025) < 1e-6);
});

Deno.test("k-means weights act as repeated points", () => {
  // Weight 2 equals the point listed twice.
  const pts = new Float32Array([0, 1, 5, 9]);
  const weighted = kmeans(pts, 4, 1, 1, new Rng(1), 10, new Float64Array([2, 1, 1, 1])).distortion;
  const repeated = kmeans(new Float32Array([0, 0, 1, 5, 9]), 5, 1, 1, new Rng(1)).distortion;
  assert.ok(Math.abs(weighted - repeated) < 1e-9, `${weighted} vs ${repeated}`);
});

import { initBackend } from "../backend.ts";
import { _kmeansPlusPlus, _updateCentroids, kmeansFit, nearestCentroids } from "./kmeans.ts";

/** Gaussian blobs: `centres` random centres, points around them with spread `spread`. */
function blobs(count: number, dim: number, centres: number, spread: number, seed: number) {
  const rng = new Rng(seed);
  const c = rng.normals(centres * dim, 3);
  const x = new Float32Array(count * dim);
  for (let p = 0; p < count; p++) {
    const k = rng.int(centres);
    for (let j = 0; j < dim; j++) x[p * dim + j] = c[k * dim + j] + spread * rng.normal();
  }
  return x;
}

Deno.test("kmeansFit lowers its objective every iteration and stops on tolerance", async () => {
  await initBackend();
  const x = blobs(3000, 6, 40, 0.8, 1);
  const fit = kmeansFit(x, 3000, 6, 32, new Rng(7), { iterations: 40, tolerance: 1e-6 });
  assert.ok(fit.objective.length >= 3, `only ${fit.objective.length} iterations`);
  for (let i = 1; i < fit.objective.length; i++) {
    assert.ok(
      fit.objective[i] <= fit.objective[i - 1] * (1 + 1e-9),
      `objective rose at iteration ${i}: ${fit.objective[i - 1]} → ${fit.objective[i]}`,
    );
  }
  assert.ok(fit.objective.at(-1)! < 0.8 * fit.objective[0]);
  const loose = kmeansFit(x, 3000, 6, 32, new Rng(7), { iterations: 40, tolerance: 0.05 });
  assert.ok(loose.objective.length < fit.objective.length, "a looser tolerance stops earlier");
});

Deno.test("kmeansFit is seeded: same seed same centroids, another seed other centroids", async () => {
  await initBackend();
  const x = blobs(2000, 4, 20, 1, 2);
  const a = kmeansFit(x, 2000, 4, 16, new Rng(3));
  const b = kmeansFit(x, 2000, 4, 16, new Rng(3));
  const c = kmeansFit(x, 2000, 4, 16, new Rng(4));
  assert.deepEqual(a.centroids, b.centroids);
  assert.deepEqual(a.assignment, b.assignment);
  assert.notDeepEqual(a.seeds, c.seeds);
});

Deno.test("k-means++ picks distinct points even with many duplicates", () => {
  const x = new Float32Array(400 * 2);
  for (let p = 0; p < 400; p++) x[p * 2] = p % 10; // ten distinct points, each 40 times
  const seeds = _kmeansPlusPlus(x, 400, 2, 10, new Rng(5));
  const values = new Set(Array.from(seeds, (s) => x[s * 2]));
  assert.equal(values.size, 10, `seed values ${[...values]}`);
  assert.throws(() => _kmeansPlusPlus(x, 400, 2, 11, new Rng(5)), /fewer than k = 11 distinct/);
});

Deno.test("an empty cluster is re-seeded at the point farthest from its centroid", () => {
  const x = new Float32Array([0, 0, 0.01, 0, 5, 5, 100, 100]);
  const centroids = new Float32Array([0, 0, 5, 5, -50, -50]);
  const assignment = new Int32Array([0, 0, 1, 1]); // cluster 2 is empty; (100, 100) is farthest
  const perPoint = new Float64Array([0, 1e-4, 0, 95 ** 2 * 2]);
  const moved = _updateCentroids(x, 4, 2, centroids, 3, assignment, perPoint);
  assert.equal(moved, 1);
  assert.deepEqual(Array.from(centroids.subarray(4)), [100, 100]);
  assert.ok(Math.abs(centroids[0] - 0.005) < 1e-7, "non-empty clusters move to their means");
});

Deno.test("nearestCentroids (GEMM) agrees with brute force", async () => {
  await initBackend();
  const x = blobs(1500, 5, 10, 1, 9), c = new Rng(10).normals(64 * 5, 3);
  const got = nearestCentroids(x, 1500, 5, c, 64, 256);
  let disagree = 0;
  for (let p = 0; p < 1500; p++) {
    let best = 0, bestD = Infinity;
    for (let k = 0; k < 64; k++) {
      let s = 0;
      for (let j = 0; j < 5; j++) s += (x[p * 5 + j] - c[k * 5 + j]) ** 2;
      if (s < bestD) bestD = s, best = k;
    }
    if (best !== got[p]) disagree++;
  }
  assert.equal(disagree, 0);
});
