/**
 * Notebook 06: what a proxy run costs, against paper A's "under one hour on a GPU, under 400 MB".
 *
 * Measured on the runs of notebooks 02–04 (default proxy config, one worker process per run on
 * this CPU-only machine): wall time of the whole run and peak resident memory of the worker
 * process that ran it. [choice] run length = the profile's epochs × steps.
 *
 * @module
 */
import { chart, type Display, table } from "../display.ts";
import { barChart } from "../charts.ts";
import type { FindingInput } from "../report/findings.ts";
import type { RunResult } from "../result.ts";
import { currentProfile, type GroupRuns, mean, type Profile, sig } from "./common.ts";
import * as noise from "./noise.ts";
import * as soft from "./soft.ts";

export interface CostExperiment {
  profile: Profile;
  /** One group per gradient passer configuration, from notebooks 02–04 (cached). */
  groups: GroupRuns[];
}

export async function run(profile: Profile = currentProfile()): Promise<CostExperiment> {
  const s = await soft.run(profile);
  const n = await noise.run(profile);
  return { profile, groups: [...s.groups, ...n.groups] };
}

function msPerStep(r: RunResult): number {
  const steps = r.final?.step ?? r.diverged?.step ?? 0;
  return steps > 0 ? r.wallMs / steps : NaN;
}

export function costTable(x: CostExperiment): Display {
  return table(
    x.groups.map((g) => ({
      configuration: g.label,
      runs: g.runs.length,
      "wall time per run (s, mean)": sig(mean(g.runs.map((r) => r.wallMs / 1000))),
      "ms per training step (mean, incl. validation)": sig(mean(g.runs.map(msPerStep))),
      "peak RSS (MB, max)": sig(Math.max(...g.runs.map((r) => r.peakRssMb))),
      backend: `${g.runs[0].versions.backend}${
        g.runs[0].versions.gemm ? ` (${g.runs[0].versions.gemm} GEMM)` : ""
      }`,
    })),
    { caption: "Measured cost of the runs behind notebooks 02–04" },
  );
}

export function timeChart(x: CostExperiment): Display {
  return chart(barChart({
    title: "Milliseconds per training step (including per-epoch validation), mean over seeds",
    rows: x.groups.map((g) => ({ label: g.label, value: mean(g.runs.map(msPerStep)) })),
    x: { label: "configuration" },
    y: { label: "ms / step" },
  }));
}

export function findings(x: CostExperiment): FindingInput[] {
  const runs = x.groups.flatMap((g) => g.runs);
  const worstSeconds = Math.max(...runs.map((r) => r.wallMs / 1000));
  const worstRss = Math.max(...runs.map((r) => r.peakRssMb));
  const steps = x.profile.epochs * x.profile.stepsPerEpoch;
  return [
    {
      id: "A-cost-time",
      paper: "A",
      claim: "A proxy training run takes under one hour (on a GPU).",
      metric:
        `slowest single run's wall time, here on one CPU core, ${steps} steps of batch 256 [choice of length]`,
      measured: { "slowest run (s)": sig(worstSeconds), runs: runs.length, "limit (s)": 3600 },
      verdict: worstSeconds < 3600 ? "reproduced" : "not reproduced",
    },
    {
      id: "A-cost-memory",
      paper: "A",
      claim: "A proxy training run needs under 400 MB.",
      metric: "largest peak resident memory (RSS) of a worker process that ran a training run",
      measured: { "peak RSS (MB)": sig(worstRss), "limit (MB)": 400 },
      verdict: worstRss < 400 ? "reproduced" : "not reproduced",
      detail:
        "RSS covers the whole Deno process: runtime, tfjs with its wasm heap, and every tensor.",
    },
  ];
}
