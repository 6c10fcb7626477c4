import assert from "node:assert/strict";
import { Rng } from "./random.ts";
import {
  caveats,
  comparePaired,
  incompleteBeta,
  pairedT,
  signTestP,
  slope,
  tCdf,
  tQuantile,
} from "./stats.ts";

const near = (a: number, b: number, tol: number) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} is not within ${tol} of ${b}`);

/** n paired values: baseline ~ base + N(0, spread), treatment = baseline + effect + N(0, noise). */
function pairs(rng: Rng, n: number, effect: number, noise: number, base = 1, spread = 0.2) {
  const baseline = Array.from({ length: n }, () => base + spread * rng.normal());
  const treatment = baseline.map((b) => b + effect + noise * rng.normal());
  return { treatment, baseline };
}

Deno.test("t quantiles and CDF match tables", () => {
  near(tQuantile(0.975, 7), 2.364624, 1e-5);
  near(tQuantile(0.975, 1), 12.7062, 1e-3);
  near(tQuantile(0.975, 2), 4.302653, 1e-5);
  near(tQuantile(0.95, 30), 1.697261, 1e-5);
  near(tQuantile(0.025, 7), -2.364624, 1e-5);
  near(tCdf(0, 5), 0.5, 1e-12);
  near(tCdf(2.015048, 5), 0.95, 1e-6);
  near(incompleteBeta(0.3, 2, 3), 0.3483, 1e-4);
});

Deno.test("sign test p-values are exact binomial tails", () => {
  near(signTestP(8, 8), 2 / 256, 1e-15);
  near(signTestP(7, 8), (2 * 9) / 256, 1e-12);
  assert.equal(signTestP(2, 4), 1);
  assert.equal(signTestP(0, 0), 1);
});

Deno.test("a clear effect in the claimed direction is reproduced", () => {
  const { treatment, baseline } = pairs(new Rng(1), 8, -0.2, 0.05);
  const s = comparePaired(treatment, baseline, { claim: "lower", statistic: "MSE" });
  assert.equal(s.outcome, "reproduced");
  assert.equal(s.method, "paired t");
  assert.ok(s.ci[1]! < 0 && s.ci[0]! < s.mean! && s.mean! < s.ci[1]!);
  assert.ok(s.effect.relative! < -0.1 && s.effect.dz! < -2);
  assert.equal(s.favourable, 8);
  assert.ok(s.p < 0.001);
});

Deno.test("a clear effect against the claim is not reproduced", () => {
  const { treatment, baseline } = pairs(new Rng(2), 8, 0.2, 0.05);
  const s = comparePaired(treatment, baseline, { claim: "lower", statistic: "MSE" });
  assert.equal(s.outcome, "not reproduced");
  assert.ok(s.ci[0]! > 0);
  // The same data, the claim turned round, is reproduced.
  assert.equal(
    comparePaired(treatment, baseline, { claim: "higher", statistic: "MSE" }).outcome,
    "reproduced",
  );
});

Deno.test("noise around zero is inconclusive, most of the time", () => {
  const rng = new Rng(3);
  let inconclusive = 0;
  for (let i = 0; i < 200; i++) {
    const { treatment, baseline } = pairs(rng, 8, 0, 0.05);
    const s = comparePaired(treatment, baseline, { claim: "lower", statistic: "MSE" });
    if (s.outcome === "inconclusive") {
      inconclusive++;
      assert.ok(s.ci[0]! <= 0 && s.ci[1]! >= 0);
    }
  }
  // A 95 % interval excludes 0 in ~5 % of null draws.
  assert.ok(inconclusive >= 180, `${inconclusive}/200 inconclusive`);
  const one = pairs(new Rng(4), 8, 0, 0.05);
  const s = comparePaired(one.treatment, one.baseline, { claim: "lower", statistic: "MSE" });
  assert.equal(s.outcome, "inconclusive");
  assert.match(caveats(s), /spans 0/);
});

Deno.test("the 95 % interval covers the true mean difference in 93–97 % of 2000 draws", () => {
  const rng = new Rng(20261123);
  for (const n of [8, 3]) {
    let covered = 0;
    const sims = 2000;
    for (let i = 0; i < sims; i++) {
      const { treatment, baseline } = pairs(rng, n, 0.03, 0.05);
      const { ci } = pairedT(treatment.map((t, j) => t - baseline[j]), 0.95);
      if (ci[0] <= 0.03 && 0.03 <= ci[1]) covered++;
    }
    const rate = covered / sims;
    assert.ok(rate >= 0.93 && rate <= 0.97, `n = ${n}: coverage ${rate}`);
  }
});

Deno.test("a 90 % interval is narrower and covers ~90 %", () => {
  const rng = new Rng(7);
  let covered = 0;
  for (let i = 0; i < 2000; i++) {
    const { treatment, baseline } = pairs(rng, 8, 0, 0.05);
    const d = treatment.map((t, j) => t - baseline[j]);
    const a = pairedT(d, 0.9).ci;
    const b = pairedT(d, 0.95).ci;
    assert.ok(a[1] - a[0] < b[1] - b[0]);
    if (a[0] <= 0 && 0 <= a[1]) covered++;
  }
  assert.ok(covered / 2000 >= 0.88 && covered / 2000 <= 0.92, `coverage ${covered / 2000}`);
});

Deno.test("diverged runs (∞) switch to the sign test", () => {
  const inf = Infinity;
  const all = comparePaired(
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    [inf, 0.5, inf, 0.4, 0.6, inf, 0.3, 0.5],
    { claim: "lower", statistic: "MSE" },
  );
  assert.equal(all.method, "sign test");
  assert.equal(all.outcome, "reproduced");
  assert.deepEqual(all.ci, [null, null]);
  assert.equal(all.mean, null);
  assert.equal(all.baselineMean, null);
  // 4 of 4 is the most a sign test can see with 4 units: never below 0.05.
  const few = comparePaired([0.1, 0.1, 0.1, 0.1], [inf, 0.5, inf, 0.4], {
    claim: "lower",
    statistic: "MSE",
  });
  assert.equal(few.outcome, "inconclusive");
  assert.match(caveats(few), /at least 6/);
  // Both diverged: a tie, dropped.
  const tie = comparePaired([inf, 0.1], [inf, 0.2], { claim: "lower", statistic: "MSE" });
  assert.equal(tie.favourable, 1);
  assert.equal(tie.unfavourable, 0);
});

Deno.test("bad input names the field", () => {
  assert.throws(
    () => comparePaired([1, 2], [1], { claim: "lower", statistic: "x" }),
    /treatment has 2 values and baseline 1/,
  );
  assert.throws(
    () => comparePaired([1, NaN], [1, 2], { claim: "lower", statistic: "x" }),
    /treatment\[1\] is NaN/,
  );
  assert.throws(
    () => comparePaired([1, 2], [1, 2], { claim: "lower", statistic: "x", level: 95 }),
    /level = 95/,
  );
});

Deno.test("one pair gives no interval and is inconclusive", () => {
  const s = comparePaired([0.1], [0.2], { claim: "lower", statistic: "MSE" });
  assert.equal(s.outcome, "inconclusive");
  assert.deepEqual(s.ci, [null, null]);
});

Deno.test("slope is the least-squares slope", () => {
  assert.equal(slope([0, 1, 2, 3], [3, 1, -1, -3]), -2);
  near(slope([0, 1, 2], [0, 1, 0]), 0, 1e-15);
  assert.ok(Number.isNaN(slope([1], [1])));
});

Deno.test("caveats: few seeds are called few seeds, not a quick profile (4-seed full-profile speech runs read it too)", () => {
  const s = comparePaired([1.1, 1.3, 1.2, 1.4], [1.0, 1.0, 1.1, 1.2], {
    claim: "lower",
    statistic: "mel L1",
  });
  assert.match(caveats(s), /Only 4 seeds: the interval is wide/);
  assert.doesNotMatch(caveats(s), /quick profile/);
});
