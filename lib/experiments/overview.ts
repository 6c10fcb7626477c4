/**
 * The overview notebook: every paper-A finding with its claim, what we measured and the
 * computed verdict. It runs each experiment through the result cache (so after the other
 * notebooks it only reads), and displays the findings without recording them again: each
 * finding is recorded once, by the notebook that owns it.
 *
 * @module
 */
import { type Display, table } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import { formatInterval } from "../stats.ts";
import { currentProfile, type Profile } from "./common.ts";
import * as bits from "./bits.ts";
import * as cost from "./cost.ts";
import * as noise from "./noise.ts";
import * as soft from "./soft.ts";
import * as ste from "./ste.ts";
import * as sweep from "./sweep.ts";

/** Findings per notebook, in notebook order. */
export async function allFindings(
  profile: Profile = currentProfile(),
): Promise<(FindingInput & { notebook: string })[]> {
  const tag = (notebook: string, list: FindingInput[]) => list.map((f) => ({ ...f, notebook }));
  return [
    ...tag("01_bit_budget", bits.findings(await bits.run(profile))),
    ...tag("02_ste_cl_mste", ste.findings(await ste.run(profile))),
    ...tag("03_noise_approximation", noise.findings(await noise.run(profile))),
    ...tag("04_soft_to_hard", soft.findings(await soft.run(profile))),
    ...tag("05_bit_budget_sweep", sweep.findings(await sweep.run(profile))),
    ...tag("06_cost", cost.findings(await cost.run(profile))),
  ];
}

/**
 * Where each finding comes from, with its verdict, how it was decided, and for comparison
 * findings the paired difference with its interval and the number of seeds.
 */
export function sourcesTable(findings: (FindingInput & { notebook: string })[]): Display {
  return table(
    findings.map((f) => ({
      finding: f.id,
      notebook: f.notebook,
      verdict: f.verdict,
      "paired difference (interval, n)": f.stats ? formatInterval(f.stats) : "— (per-seed check)",
      metric: f.metric,
    })),
    {
      caption:
        "Comparison findings carry a paired interval (lib/stats.ts); the others hold or fail per seed",
    },
  );
}
