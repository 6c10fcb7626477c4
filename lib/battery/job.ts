/**
 * The grid job that trains with a researcher's passer or quantizer: it loads the modules named in
 * `passer.module` / `quantizer.module`, checks that their sources still have the SHA-256 the run
 * was keyed with, and trains with them (`lib/custom/mod.ts`; a quantizer guarded:
 * `lib/custom/guard.ts`), and fails a run whose measured code entropy exceeds the declared bits
 * per frame. A distinct job
 * identity, so a candidate's results can never stand in for a built-in's in the cache (or the
 * reverse).
 *
 * @module
 */
import type { RunConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { train, type TrainOptions } from "../train.ts";
import { loadCustomKinds } from "../custom/mod.ts";
import { checkCodeEntropy } from "../custom/guard.ts";

/** This job as a grid reference. */
export const BATTERY_JOB = "lib/battery/job.ts#batteryJob";

/** Train one run with the candidate passer or quantizer (grid job). */
export async function batteryJob(
  config: RunConfig,
  options: TrainOptions = {},
): Promise<RunResult> {
  const custom = await loadCustomKinds(config);
  if (custom.candidates.length === 0) {
    throw new Error(
      'the battery job trains passer.kind = "custom" or quantizer.kind = "custom", got ' +
        `passer "${config.passer.kind}" and quantizer "${config.quantizer.kind}"`,
    );
  }
  const result = await train(config, { ...options, custom });
  // A quantizer that codes more than it declares fails the run (nothing is stored).
  checkCodeEntropy(config, result);
  return result;
}
