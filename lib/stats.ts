/**
 * Verdicts that carry their uncertainty: one rule for every comparison finding (paper A's proxy
 * now, the speech and PostRVQ notebooks as they land).
 *
 * A comparison claims that a treatment's statistic is lower (or higher) than a baseline's. The
 * evidence is paired: one difference `treatment − baseline` per unit (a seed, an utterance),
 * both measured on the same unit. The rule:
 *
 * - **paired t interval** [choice] on the mean difference at `level` (default 95 %): exact when
 *   the differences are normal, and close to nominal for the moderately skewed differences of
 *   MSEs at n ≥ 8. A percentile bootstrap was the alternative; at n = 8 it undercovers
 *   (≈ 90 % for a nominal 95 %, because the resampled spread is biased low by (n−1)/n and the
 *   t tails are missing), so we chose t. `lib/stats_test.ts` checks the t interval's coverage.
 * - **sign test** when a difference is not finite (a run diverged, its statistic is ∞): the
 *   interval of a mean with an infinite term is meaningless, but the direction of each pair is
 *   still known. Pairs where both sides are ∞ are ties and dropped. Exact two-sided binomial
 *   p-value against ½; "excludes zero" means p < 1 − level.
 * - **outcome**: `reproduced` (the claimed direction, interval excludes 0), `not reproduced`
 *   (the opposite direction, interval excludes 0), `inconclusive` (interval spans 0).
 * - **effect size**: the mean difference relative to the baseline's mean, and Cohen's d_z
 *   (mean difference / standard deviation of the differences).
 *
 * What the statistic per unit is (e.g. the mean validation MSE of the last k epochs, which
 * smooths epoch-to-epoch jitter) is the caller's choice and is recorded in `statistic`.
 *
 * @example
 * ```ts
 * import { comparePaired } from "./stats.ts";
 * const s = comparePaired([0.10, 0.11, 0.09, 0.10], [0.20, 0.22, 0.19, 0.21], {
 *   claim: "lower",
 *   statistic: "validation MSE, mean of the last 3 epochs",
 * });
 * console.assert(s.outcome === "reproduced");
 * ```
 *
 * @module
 */

/** Which way the claim goes: the treatment's statistic is lower, or higher, than the baseline's. */
export type Direction = "lower" | "higher";

/** The three outcomes of a comparison; they are also finding verdicts. */
export type Outcome = "reproduced" | "not reproduced" | "inconclusive";

/** How the interval / test was computed. */
export type Method = "paired t" | "sign test";

/** A paired comparison with its uncertainty: what a finding's `stats` field records. */
export interface PairedStats {
  /** Number of pairs (seeds or utterances) used. */
  n: number;
  /** What a pair's values are, e.g. "validation MSE, mean of the last 3 epochs". */
  statistic: string;
  /** What one pair is: "seed" or "utterance". */
  unit: string;
  /** The claimed direction of treatment − baseline. */
  claim: Direction;
  method: Method;
  /** Confidence level of the interval, e.g. 0.95. */
  level: number;
  /** Mean difference treatment − baseline (null when a difference is not finite). */
  mean: number | null;
  /** Confidence interval of the mean difference (nulls under the sign test). */
  ci: [number | null, number | null];
  /** Mean of the baseline's values (null when one is not finite). */
  baselineMean: number | null;
  /** Mean of the treatment's values (null when one is not finite). */
  treatmentMean: number | null;
  effect: {
    /** Mean difference / baseline mean (null when either is not finite). */
    relative: number | null;
    /** Cohen's d_z: mean difference / SD of the differences (null when undefined). */
    dz: number | null;
  };
  /** Pairs whose difference goes the claimed way (ties count for neither). */
  favourable: number;
  /** Pairs whose difference goes the other way. */
  unfavourable: number;
  /** Two-sided p-value of "mean difference = 0" (t test) or "P(favourable) = ½" (sign test). */
  p: number;
  outcome: Outcome;
}

/** Options of {@linkcode comparePaired}. */
export interface CompareOptions {
  claim: Direction;
  /** Recorded as {@linkcode PairedStats.statistic}. */
  statistic: string;
  /** Confidence level. [choice] 0.95, the conventional level. */
  level?: number;
  /** What a pair is. Default "seed". */
  unit?: string;
}

/** The default confidence level of every verdict. [choice] */
export const DEFAULT_LEVEL = 0.95;

/**
 * Compare paired values: `treatment[i]` and `baseline[i]` are measured on the same unit.
 * Non-finite values are allowed (a diverged run's MSE is ∞) and switch to the sign test.
 * Throws when the arrays differ in length or hold a NaN, naming the field.
 */
export function comparePaired(
  treatment: number[],
  baseline: number[],
  options: CompareOptions,
): PairedStats {
  const level = options.level ?? DEFAULT_LEVEL;
  if (!(level > 0 && level < 1)) {
    throw new Error(`comparePaired: level = ${level} is invalid: expected 0 < level < 1`);
  }
  if (treatment.length !== baseline.length) {
    throw new Error(
      `comparePaired: treatment has ${treatment.length} values and baseline ${baseline.length}: ` +
        "expected one pair per unit",
    );
  }
  for (const [name, values] of [["treatment", treatment], ["baseline", baseline]] as const) {
    const i = values.findIndex(Number.isNaN);
    if (i >= 0) throw new Error(`comparePaired: ${name}[${i}] is NaN: expected a number or ±∞`);
  }
  const sign = options.claim === "lower" ? -1 : 1;
  const diffs = treatment.map((t, i) => (t === baseline[i] ? 0 : t - baseline[i]));
  const favourable = diffs.filter((d) => d * sign > 0).length;
  const unfavourable = diffs.filter((d) => d * sign < 0).length;
  const finiteMean = (v: number[]) => (v.every(Number.isFinite) ? meanOf(v) : null);
  const common = {
    n: treatment.length,
    statistic: options.statistic,
    unit: options.unit ?? "seed",
    claim: options.claim,
    level,
    baselineMean: finiteMean(baseline),
    treatmentMean: finiteMean(treatment),
    favourable,
    unfavourable,
  };
  if (treatment.length < 2) {
    return {
      ...common,
      method: "paired t",
      mean: finiteMean(diffs),
      ci: [null, null],
      effect: { relative: null, dz: null },
      p: 1,
      outcome: "inconclusive",
    };
  }
  if (!diffs.every(Number.isFinite)) {
    const p = signTestP(favourable, favourable + unfavourable);
    const significant = p < 1 - level;
    return {
      ...common,
      method: "sign test",
      mean: null,
      ci: [null, null],
      effect: { relative: null, dz: null },
      p,
      outcome: !significant
        ? "inconclusive"
        : favourable > unfavourable
        ? "reproduced"
        : "not reproduced",
    };
  }
  const t = pairedT(diffs, level);
  const [lo, hi] = t.ci;
  const excludesZero = lo > 0 || hi < 0;
  const claimed = sign * t.mean > 0;
  const baselineMean = common.baselineMean;
  return {
    ...common,
    method: "paired t",
    mean: t.mean,
    ci: [lo, hi],
    effect: {
      relative: baselineMean ? t.mean / baselineMean : null,
      dz: t.sd > 0 ? t.mean / t.sd : null,
    },
    p: t.p,
    outcome: !excludesZero ? "inconclusive" : claimed ? "reproduced" : "not reproduced",
  };
}

/** Mean, SD, standard error, interval and two-sided p of paired differences (Student t). */
export function pairedT(
  diffs: number[],
  level = DEFAULT_LEVEL,
): { mean: number; sd: number; se: number; ci: [number, number]; p: number; df: number } {
  const n = diffs.length;
  if (n < 2) throw new Error(`pairedT: ${n} difference(s): expected at least 2`);
  const mean = meanOf(diffs);
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const df = n - 1;
  if (se === 0) {
    return { mean, sd, se, ci: [mean, mean], p: mean === 0 ? 1 : 0, df };
  }
  const q = tQuantile(1 - (1 - level) / 2, df);
  const p = 2 * (1 - tCdf(Math.abs(mean / se), df));
  return { mean, sd, se, ci: [mean - q * se, mean + q * se], p, df };
}

/** Mean of the values (NaN for none). */
export function meanOf(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/**
 * Least-squares slope of `y` against `x` (NaN with fewer than two points or no spread in x).
 *
 * @example
 * ```ts
 * import { slope } from "./stats.ts";
 * console.assert(slope([0, 1, 2], [1, 3, 5]) === 2);
 * ```
 */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2 || y.length !== n) return NaN;
  const mx = meanOf(x);
  const my = meanOf(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/** Exact two-sided sign-test p-value: `k` of `n` untied pairs went one way, H0 P = ½. */
export function signTestP(k: number, n: number): number {
  if (n === 0) return 1;
  const tail = (m: number) => {
    let s = 0;
    for (let i = 0; i <= m; i++) s += Math.exp(logChoose(n, i) - n * Math.LN2);
    return s;
  };
  return Math.min(1, 2 * tail(Math.min(k, n - k)));
}

/** Student t cumulative distribution function with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The `p` quantile of Student t with `df` degrees of freedom (bisection on {@linkcode tCdf}). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`tQuantile: p = ${p}: expected 0 < p < 1`);
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function logGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), |error| < 1e-13 for z > 0.
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  ) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const num = i === 0
      ? 1
      : i % 2 === 0
      ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
      : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return front * (f - 1);
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  return Number(v.toPrecision(3)).toString();
}

/** The interval as text: "−0.012 [−0.020, −0.004] (95 % paired t, n = 8 seeds)". */
export function formatInterval(s: PairedStats): string {
  const pct = `${Math.round(s.level * 1000) / 10} %`;
  const units = `n = ${s.n} ${s.unit}${s.n === 1 ? "" : "s"}`;
  if (s.method === "sign test") {
    return `${s.favourable} of ${s.favourable + s.unfavourable} untied ${s.unit}s in the claimed ` +
      `direction (sign test, p = ${fmt(s.p)}, ${units})`;
  }
  return `${fmt(s.mean)} [${fmt(s.ci[0])}, ${fmt(s.ci[1])}] (${pct} paired t, ${units})`;
}

/**
 * The caveats the numbers imply, as sentences for a finding's `detail`: what the interval
 * says, the effect size, and the limits of the evidence (few units, a sign test, an
 * interval that spans zero, a small effect).
 */
export function caveats(s: PairedStats): string {
  const pct = `${Math.round(s.level * 1000) / 10} %`;
  const out: string[] = [];
  const way = s.claim === "lower" ? "lower" : "higher";
  if (s.method === "sign test") {
    out.push(
      `Some ${s.unit}s' statistic is not finite (a diverged run), so the mean difference has no ` +
        `interval; the sign test on ${s.favourable + s.unfavourable} untied ${s.unit}s gives ` +
        `p = ${fmt(s.p)} (two-sided) against the ${pct} level.`,
    );
    if (s.outcome === "inconclusive" && s.unfavourable === 0) {
      const needed = Math.ceil(Math.log2(2 / (1 - s.level)));
      out.push(
        `Every untied ${s.unit} goes the claimed way, but a sign test needs at least ${needed} ` +
          `such ${s.unit}s to reach the ${pct} level.`,
      );
    }
  } else if (s.ci[0] === null) {
    out.push(`With ${s.n} ${s.unit} there is no interval: more ${s.unit}s are needed.`);
  } else {
    out.push(
      `Mean difference (treatment − baseline) ${formatInterval(s)}; the claim needs it ${way} ` +
        `than 0.`,
    );
    if (s.effect.relative !== null) {
      out.push(
        `Effect: ${fmt(100 * s.effect.relative)} % of the baseline, d_z = ${fmt(s.effect.dz)}.`,
      );
    }
    if (s.outcome === "inconclusive") {
      out.push(
        `The interval spans 0: at this number of ${s.unit}s the data cannot tell the two apart ` +
          `(neither the claim nor its opposite is shown).`,
      );
    }
  }
  if (s.n < 8) {
    out.push(
      `Only ${s.n} ${s.unit}s: the interval is wide, so only a large difference can show; ` +
        `more ${s.unit}s narrow it.`,
    );
  }
  return out.join(" ");
}
