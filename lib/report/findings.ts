/**
 * Findings: the machine-readable verdicts notebooks emit and `reports/findings.json` collects.
 *
 * Flow: a notebook cell calls `finding({...})` (lib/display.ts), which shows a verdict box and
 * carries the finding as a {@linkcode FINDING_MIME} entry of the same output. The report builder
 * reads those entries from the executed notebooks, sets `notebook` to the notebook's file name,
 * validates them with {@linkcode validateFindings} and writes `reports/findings.json`.
 * The schema is `findings.schema.json` beside this file; this validator implements it by hand.
 *
 * @module
 */
import { formatNumber } from "./html.ts";
import type { PairedStats } from "../stats.ts";
import { type Verdict, VERDICTS } from "./verdicts.ts";

/** MIME type of a finding inside a notebook output's data bundle. */
export const FINDING_MIME = "application/vnd.quantlab.finding+json";

export { type Verdict, VERDICTS } from "./verdicts.ts";

/** A value in a measured record. `null` stands for "not measurable" (e.g. a diverged run). */
export type Scalar = number | string | boolean | null;

/** One checked claim. */
export interface Finding {
  /** Stable slug, unique across all notebooks, e.g. `"A-ste-diverges"`. */
  id: string;
  /** Which paper makes the claim, e.g. `"A"`. */
  paper: string;
  /** The paper's claim in one sentence. */
  claim: string;
  /** What was measured and how it decides the verdict. */
  metric: string;
  /** The measured value(s). */
  measured: number | string | Record<string, Scalar>;
  verdict: Verdict;
  /** File name of the notebook that computed it (set by the report builder). */
  notebook: string;
  /** Optional: how the verdict follows from the numbers. */
  detail?: string;
  /**
   * Optional, for comparison findings: the paired statistics the verdict was computed from
   * (`comparePaired` in `lib/stats.ts`); the verdict then equals `stats.outcome`.
   */
  stats?: PairedStats;
}

/** What a notebook passes to `finding()`: `notebook` is filled in by the report builder. */
export type FindingInput = Omit<Finding, "notebook"> & { notebook?: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const KEYS = new Set([
  "id",
  "paper",
  "claim",
  "metric",
  "measured",
  "verdict",
  "notebook",
  "detail",
  "stats",
]);

const STATS_KEYS: Record<keyof PairedStats, (v: unknown) => boolean> = {
  n: (v) => Number.isInteger(v) && (v as number) >= 1,
  statistic: (v) => typeof v === "string" && v !== "",
  unit: (v) => typeof v === "string" && v !== "",
  claim: (v) => v === "lower" || v === "higher",
  method: (v) => v === "paired t" || v === "sign test",
  level: (v) => typeof v === "number" && v > 0 && v < 1,
  mean: numberOrNull,
  ci: (v) => Array.isArray(v) && v.length === 2 && v.every(numberOrNull),
  baselineMean: numberOrNull,
  treatmentMean: numberOrNull,
  effect: (v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) &&
    Object.keys(v).every((k) => k === "relative" || k === "dz") &&
    numberOrNull((v as Record<string, unknown>).relative) &&
    numberOrNull((v as Record<string, unknown>).dz),
  favourable: (v) => Number.isInteger(v) && (v as number) >= 0,
  unfavourable: (v) => Number.isInteger(v) && (v as number) >= 0,
  p: (v) => typeof v === "number" && v >= 0 && v <= 1,
  outcome: (v) => v === "reproduced" || v === "not reproduced" || v === "inconclusive",
};

function numberOrNull(v: unknown): boolean {
  return v === null || (typeof v === "number" && Number.isFinite(v));
}

function validateStats(value: unknown, verdict: unknown, at: string): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [`${at}: expected an object, got ${JSON.stringify(value)}`];
  }
  const s = value as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(s)) {
    if (!(key in STATS_KEYS)) errors.push(`${at}.${key}: unknown field`);
  }
  for (const [key, ok] of Object.entries(STATS_KEYS)) {
    if (s[key] === undefined) errors.push(`${at}.${key}: missing`);
    else if (!ok(s[key])) errors.push(`${at}.${key}: invalid value ${JSON.stringify(s[key])}`);
  }
  if (s.outcome !== undefined && verdict !== s.outcome) {
    errors.push(
      `${at}.outcome: ${JSON.stringify(s.outcome)} differs from the verdict ${
        JSON.stringify(verdict)
      }: a comparison's verdict is its outcome`,
    );
  }
  return errors;
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
}

/**
 * Problems with one finding, each naming the field (`[]` when valid). With `requireNotebook`
 * false, a missing `notebook` is accepted (a notebook emits findings before the builder names it).
 */
export function validateFinding(value: unknown, requireNotebook = true, at = "finding"): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [`${at}: expected an object, got ${JSON.stringify(value)}`];
  }
  const f = value as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(f)) {
    if (!KEYS.has(key)) errors.push(`${at}.${key}: unknown field`);
  }
  const text = (key: string, required = true) => {
    const v = f[key];
    if (v === undefined) {
      if (required) errors.push(`${at}.${key}: missing`);
    } else if (typeof v !== "string" || v.trim() === "") {
      errors.push(`${at}.${key}: expected a non-empty string, got ${JSON.stringify(v)}`);
    }
  };
  text("id");
  if (typeof f.id === "string" && f.id !== "" && !ID.test(f.id)) {
    errors.push(`${at}.id: ${JSON.stringify(f.id)} must match ${ID}`);
  }
  text("paper");
  text("claim");
  text("metric");
  text("notebook", requireNotebook);
  if (typeof f.notebook === "string" && f.notebook !== "" && !f.notebook.endsWith(".ipynb")) {
    errors.push(`${at}.notebook: ${JSON.stringify(f.notebook)} must end in .ipynb`);
  }
  if (f.detail !== undefined && typeof f.detail !== "string") {
    errors.push(`${at}.detail: expected a string`);
  }
  if (f.stats !== undefined) errors.push(...validateStats(f.stats, f.verdict, `${at}.stats`));
  if (!VERDICTS.includes(f.verdict as Verdict)) {
    errors.push(
      `${at}.verdict: ${JSON.stringify(f.verdict)} is not one of ${
        VERDICTS.map((v) => JSON.stringify(v)).join(", ")
      }`,
    );
  }
  const m = f.measured;
  if (m === undefined) errors.push(`${at}.measured: missing`);
  else if (typeof m === "number") {
    if (!Number.isFinite(m)) errors.push(`${at}.measured: ${m} is not a finite number`);
  } else if (typeof m === "string") {
    if (m === "") errors.push(`${at}.measured: empty string`);
  } else if (m !== null && typeof m === "object" && !Array.isArray(m)) {
    const entries = Object.entries(m);
    if (entries.length === 0) errors.push(`${at}.measured: empty object`);
    for (const [k, v] of entries) {
      if (!isScalar(v)) {
        errors.push(
          `${at}.measured.${k}: expected a finite number, string, boolean or null, got ${
            typeof v === "number" ? String(v) : JSON.stringify(v)
          }`,
        );
      }
    }
  } else {
    errors.push(
      `${at}.measured: expected a number, a string or an object of named values, got ${
        JSON.stringify(m)
      }`,
    );
  }
  return errors;
}

/** Problems with a whole findings.json array: each finding, plus ids unique across notebooks. */
export function validateFindings(value: unknown): string[] {
  if (!Array.isArray(value)) return [`findings: expected an array, got ${typeof value}`];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  value.forEach((f, i) => {
    errors.push(...validateFinding(f, true, `findings[${i}]`));
    const id = (f as { id?: unknown })?.id;
    if (typeof id === "string") {
      if (seen.has(id)) errors.push(`findings[${i}].id: ${id} repeats findings[${seen.get(id)}]`);
      else seen.set(id, i);
    }
  });
  return errors;
}

/** Throw one error listing every problem, or return the value typed. */
export function assertFindings(value: unknown): Finding[] {
  const errors = validateFindings(value);
  if (errors.length > 0) throw new Error(`invalid findings:\n  ${errors.join("\n  ")}`);
  return value as Finding[];
}

/** Measured value(s) as short text: `0.0123` or `mse = 0.0123, diverged = true`. */
export function formatMeasured(m: Finding["measured"]): string {
  if (typeof m === "number") return formatNumber(m);
  if (typeof m === "string") return m;
  if (m === null || m === undefined) return "—";
  // A value that could not be measured (null, e.g. no run finished) reads "n/a", not "null".
  const show = (v: unknown): string =>
    v === null || v === undefined
      ? "n/a"
      : typeof v === "number"
      ? formatNumber(v)
      : Array.isArray(v)
      ? `[${v.map(show).join(", ")}]`
      : typeof v === "object"
      ? JSON.stringify(v)
      : String(v);
  return Object.entries(m).map(([k, v]) => `${k} = ${show(v)}`).join(", ");
}
