/**
 * The verdict vocabulary and its colours, in one place: the notebook boxes (`lib/display.ts`)
 * and the report stylesheet (`lib/report/html.ts`) both read them from here.
 *
 * `inconclusive` is what a comparison gets when its confidence interval spans zero
 * (`lib/stats.ts`); `partially reproduced` is for "holds in every seed" findings that hold in
 * some seeds only.
 *
 * @module
 */

/** The four verdicts, in the order reports list them. */
export const VERDICTS = [
  "reproduced",
  "partially reproduced",
  "not reproduced",
  "inconclusive",
] as const;
export type Verdict = typeof VERDICTS[number];

/** One colour per verdict (white text on it is readable). */
export const VERDICT_COLOURS: Record<Verdict, string> = {
  "reproduced": "#1e7d32",
  "partially reproduced": "#a15c00",
  "not reproduced": "#b3261e",
  "inconclusive": "#4a5568",
};

/** The CSS class of a verdict: `ql-not-reproduced`. */
export function verdictClass(v: Verdict): string {
  return `ql-${v.replace(/ /g, "-")}`;
}

/** Stylesheet rules colouring verdict boxes' borders and badges, one pair per verdict. */
export function verdictCss(): string {
  return VERDICTS.map((v) =>
    `.${verdictClass(v)} { border-color: ${VERDICT_COLOURS[v]}; } ` +
    `.ql-badge.${verdictClass(v)} { background: ${VERDICT_COLOURS[v]}; }`
  ).join("\n");
}
