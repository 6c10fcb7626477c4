/**
 * The overview notebook: every paper-A finding with its claim, what we measured and the
 * computed verdict. It runs each experiment through the result cache (so after the other
 * notebooks it only reads), and displays the findings without recording them again: each
 * finding is recorded once, by the notebook that owns it.
 *
 * @module
 */
import { chart, type Display, table } from "../display.ts";
import { intervalChart } from "../charts.ts";
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

/**
 * Every comparison finding's paired difference relative to its baseline's mean, with its
 * interval (also divided by the baseline mean), on one axis: −0.1 is "10 % lower than the
 * baseline". A finding decided by the sign test (a run diverged) has no interval and shows
 * only its note.
 */
export function intervalsChart(findings: FindingInput[]): Display {
  const rows = findings.filter((f) => f.stats).map((f) => {
    const s = f.stats!;
    const rel = (v: number | null) => (v === null || !s.baselineMean ? null : v / s.baselineMean);
    return {
      label: f.id,
      value: rel(s.mean),
      lo: rel(s.ci[0]),
      hi: rel(s.ci[1]),
      note: `${s.outcome}, n = ${s.n}${
        s.method === "sign test" ? `, sign test ${s.favourable}/${s.n}` : ""
      }`,
    };
  });
  if (rows.length === 0) return table([{ note: "no comparison findings" }]);
  return chart(intervalChart({
    title: "Comparison findings: paired difference relative to the baseline, with its interval",
    rows,
    x: { label: "(treatment − baseline) / baseline mean" },
  }));
}
