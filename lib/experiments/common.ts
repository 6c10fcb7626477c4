/**
 * What every paper-A notebook shares, by concern: the profiles (`profiles.ts`, PostRVQ's too),
 * running configs through the cached grid (`running.ts`), summaries of runs (`summaries.ts`)
 * and verdicts (`verdicts.ts`). This module re-exports them, so a notebook needs one import.
 *
 * @module
 */
export * from "./profiles.ts";
export * from "./running.ts";
export * from "./summaries.ts";
export * from "./verdicts.ts";
