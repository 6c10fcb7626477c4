/** The paired rule on any per-run statistic (notebook 07's final mel L1), both directions. */
import assert from "node:assert/strict";
import { resolveConfig } from "../config.ts";
import type { RunResult } from "../result.ts";
import { type Scalar, validateFinding } from "../report/findings.ts";
import { compareRuns, metricComparisonFinding, type RunStatistic } from "./verdicts.ts";

function run(seed: number, melL1: number, diverged = false): RunResult {
  return {
    config: resolveConfig({ train: { seed } }),
    history: [],
    final: { metrics: { melL1 } } as unknown as RunResult["final"],
    diverged: diverged ? { step: 5, epoch: 1, reason: "test" } : null,
    versions: {} as RunResult["versions"],
    wallMs: 1,
    peakRssMb: 1,
  };
}

const MEL: RunStatistic = {
  name: "final mel L1",
  of: (r) => (r.diverged ? Infinity : r.final!.metrics!.melL1),
};
const group = (label: string, mels: number[], diverged: number[] = []) => ({
  label,
  runs: mels.map((m, seed) => run(seed, m, diverged.includes(seed))),
});

Deno.test("compareRuns pairs by seed on the given statistic, with a t interval", () => {
  const a = group("a", [1.0, 1.1, 0.9, 1.05]);
  const b = group("b", [1.5, 1.7, 1.4, 1.6]);
  // Seed order differs from run order: pairing is by seed.
  const shuffled = { label: "b", runs: [...b.runs].reverse() };
  const s = compareRuns(a, shuffled, "lower", MEL);
  assert.equal(s.n, 4);
  assert.equal(s.method, "paired t");
  assert.ok(Math.abs(s.mean! - -0.5375) < 1e-9);
  assert.ok(s.ci[1]! < 0);
  assert.equal(s.outcome, "reproduced");
  assert.equal(s.statistic, "final mel L1");
  assert.equal(compareRuns(b, a, "lower", MEL).outcome, "not reproduced");
});

Deno.test("metricComparisonFinding: verdict from the runs, interval recorded; a diverged run → sign test", () => {
  const base = {
    id: "A-x",
    paper: "A",
    claim: "a reconstructs better than b",
    direction: "lower" as const,
    statistic: MEL,
  };
  const f = metricComparisonFinding({
    ...base,
    treatment: group("a", [1.0, 1.1, 0.9, 1.05]),
    baseline: group("b", [1.5, 1.7, 1.4, 1.6]),
  });
  validateFinding(f);
  assert.equal(f.verdict, "reproduced");
  assert.ok(((f.measured as Record<string, Scalar>)["interval high"] as number) < 0);
  assert.equal((f.measured as Record<string, Scalar>)["seeds where a is lower"], "4/4");
  const mixed = metricComparisonFinding({
    ...base,
    treatment: group("a", [1.0, 1.8, 0.9, 1.6]),
    baseline: group("b", [1.5, 1.7, 1.4, 1.5]),
  });
  assert.equal(mixed.verdict, "inconclusive");
  const diverged = metricComparisonFinding({
    ...base,
    treatment: group("a", [1.0, 1.1, 0.9, 1.05]),
    baseline: group("b", [1.5, 1.7, 1.4, 1.6], [2]),
  });
  assert.equal(diverged.stats!.method, "sign test");
  assert.equal((diverged.measured as Record<string, Scalar>)["interval low"], null);
});
