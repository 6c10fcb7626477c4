/**
 * @deprecated Old import path, kept so code written against it still runs: the simulated source
 * lives in `sources/simulated.ts` (through `sources/mod.ts`), k-means in `cluster/kmeans.ts`.
 *
 * @module
 */
export { kmeans } from "./cluster/kmeans.ts";
export { oracleFloor, randomOrthogonal, SimulatedSource } from "./sources/simulated.ts";
export type { FloorDistribution, FrameBatch } from "./sources/simulated.ts";
export type { Source as FrameSource } from "./sources/mod.ts";
