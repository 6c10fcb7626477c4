import assert from "node:assert/strict";
import type { FindingInput } from "../report/findings.ts";
import { comparePaired } from "../stats.ts";
import { intervalsChart, sourcesTable } from "./overview.ts";

const base = { paper: "A", claim: "c", metric: "m", measured: 1, notebook: "x.ipynb" };

function compared(id: string, treatment: number[], baseline: number[]) {
  const stats = comparePaired(treatment, baseline, { claim: "lower", statistic: "MSE" });
  return { ...base, id, verdict: stats.outcome, stats } as FindingInput & { notebook: string };
}

Deno.test("the overview shows each comparison's interval and leaves per-seed checks without one", () => {
  const findings = [
    compared("a", [0.1, 0.11, 0.09], [0.2, 0.2, 0.2]),
    compared("b", [0.1, 0.1, 0.1, 0.1], [Infinity, 0.2, 0.3, 0.2]),
    { ...base, id: "c", verdict: "reproduced" as const },
  ];
  const html = intervalsChart(findings).html;
  assert.equal((html.match(/<circle\b/g) ?? []).length, 1, "only the t-interval finding has a dot");
  assert.match(html, /sign test 4\/4/);
  const text = sourcesTable(findings).html;
  assert.match(text, /-0\.1 \[-0\.1\d*, -0\.0\d*\] \(95 % paired t, n = 3 seeds\)/);
  assert.match(text, /4 of 4 untied seeds/);
  assert.match(text, /per-seed check/);
});
