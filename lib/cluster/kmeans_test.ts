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
