/**
 * The bitrate ladder: four rates playing the roles of paper B's 24 / 16 / 10 / 3 kbps, scaled to
 * our frame rate, and every offline quantizer laid out to spend exactly each rate's bits.
 *
 * Paper B's rates stand in the ratios 8 : 5.3 : 3.3 : 1. With 8-bit stages (K = 256 codebooks,
 * k-means cheap enough to fit on this machine) the nearest whole-stage ladder is 8 / 5 / 3 / 1
 * stages = 64 / 40 / 24 / 8 bits per frame [choice]; at the conv codec's default 62.5 frames/s
 * (8 kHz / 128) that is 4000 / 2500 / 1500 / 500 bit/s.
 *
 * @module
 */
import type { OfflineQuantizerConfig } from "./types.ts";

/** One rung: its role in paper B, its bits per frame, and its RVQ stage count. */
export interface Rung {
  /** Paper B's rate this one plays, kbit/s. [paper B] */
  paperKbps: number;
  bitsPerFrame: number;
  /** Stages of 8 bits (RVQ, residual FSQ, LFQ). */
  stages: number;
}

/** Bits per stage of the ladder's residual quantizers. [choice] */
export const LADDER_BITS_PER_STAGE = 8;

/** The four rungs, highest rate first. [choice, scaled from paper B] */
export const LADDER: readonly Rung[] = [
  { paperKbps: 24, bitsPerFrame: 64, stages: 8 },
  { paperKbps: 16, bitsPerFrame: 40, stages: 5 },
  { paperKbps: 10, bitsPerFrame: 24, stages: 3 },
  { paperKbps: 3, bitsPerFrame: 8, stages: 1 },
];

/** A rung's rate in bit/s at `frameRate` frames per second. */
export function bitsPerSecond(rung: Rung, frameRate: number): number {
  return rung.bitsPerFrame * frameRate;
}

/** The quantizer families compared on the fixed latent. */
export type OfflineFamily =
  | "rvq"
  | "rvq-stage"
  | "rvq-global"
  | "rvq-scalar"
  | "fsq"
  | "rfsq"
  | "lfq"
  | "scalar";

export const OFFLINE_FAMILIES: readonly OfflineFamily[] = [
  "rvq",
  "rvq-stage",
  "rvq-global",
  "rvq-scalar",
  "fsq",
  "rfsq",
  "lfq",
  "scalar",
];

/** k-means settings of the ladder's RVQs. [choice] */
export interface KmeansSettings {
  iterations: number;
  tolerance: number;
}

/**
 * The config of `family` at `rung`, spending exactly `rung.bitsPerFrame`:
 * RVQ: `stages` × 8 bits; FSQ: bits/2 PCA components at 4 levels (≤ `dim`); residual FSQ:
 * `stages` × (4 components × 4 levels); LFQ: `stages` × 8 signs; scalar: the bits over all
 * dimensions, at most 8 per dimension.
 */
export function ladderConfig(
  family: OfflineFamily,
  rung: Rung,
  dim: number,
  kmeans: KmeansSettings = { iterations: 25, tolerance: 1e-4 },
): OfflineQuantizerConfig {
  const b = LADDER_BITS_PER_STAGE;
  switch (family) {
    case "rvq":
    case "rvq-stage":
    case "rvq-global":
    case "rvq-scalar": {
      const standardize = family === "rvq"
        ? "none"
        : family.slice(4) as "stage" | "global" | "scalar";
      return { kind: "rvq", stages: rung.stages, bitsPerStage: b, standardize, ...kmeans };
    }
    case "fsq":
      if (rung.bitsPerFrame / 2 > dim) {
        throw new Error(
          `ladderConfig fsq: ${rung.bitsPerFrame} bits need ${
            rung.bitsPerFrame / 2
          } components, the latent has ${dim}`,
        );
      }
      return { kind: "fsq", stages: 1, dimsPerStage: rung.bitsPerFrame / 2, levels: 4 };
    case "rfsq":
      return { kind: "rfsq", stages: rung.stages, dimsPerStage: b / 2, levels: 4 };
    case "lfq":
      return { kind: "lfq", stages: rung.stages, dimsPerStage: b, levels: 2 };
    case "scalar":
      return { kind: "scalar", bits: rung.bitsPerFrame, maxBitsPerDim: 8 };
  }
}
