/**
 * Bar, dot, heat-map and interval charts, on the frame, axes and rendering of `plot.ts` (see its
 * module doc for what every chart guarantees); line charts are in `plot.ts`.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import {
  axisLabel,
  axisScale,
  type AxisSpec,
  CHART_FONT_PX,
  CHART_WIDTH,
  type ChartCommon,
  chartFrame,
  drawable,
  renderPlot,
  type RuleSpec,
} from "./plot.ts";

/** One bar or dot: a value for a category, optionally within a group (grouped bars). */
export interface BarRow {
  label: string;
  value: number;
  group?: string;
}

/** Options of {@linkcode barChart} and {@linkcode dotChart}. */
export interface BarChartOptions extends ChartCommon {
  rows: BarRow[];
  x?: { label?: string };
  y?: AxisSpec;
  rules?: RuleSpec[];
}

/** Groups in order of first appearance (legend order = the order the caller chose). */
function groupOrder(rows: BarRow[]): string[] {
  return [...new Set(rows.flatMap((r) => (r.group === undefined ? [] : [r.group])))];
}

/** Labels longer than this many characters turn an ungrouped bar chart horizontal. */
const LONG_LABEL = 8;

/**
 * Vertical bars per label; with `group` set, bars are grouped within each label and coloured by
 * group. Ungrouped bars whose labels are long are drawn horizontally, labels on the left, so
 * labels never collide with each other or with the axis label. Bars start at zero, so a log
 * axis is refused: use {@linkcode dotChart} for that.
 */
export function barChart(o: BarChartOptions): string {
  if (o.y?.log) throw new Error("barChart: bars cannot use a log axis; use dotChart");
  const grouped = o.rows.some((r) => r.group !== undefined);
  const rows = o.rows.filter((r) => Number.isFinite(r.value));
  const labels = [...new Set(o.rows.map((r) => r.label))];
  const longest = Math.max(0, ...labels.map((l) => l.length));
  if (!grouped && longest > LONG_LABEL) {
    return renderPlot({
      ...chartFrame(o),
      // [choice] about 0.55 em per character of the system font, capped at half the chart.
      marginLeft: Math.min(
        Math.ceil(longest * CHART_FONT_PX * 0.6) + 12,
        (o.width ?? CHART_WIDTH) / 2,
      ),
      height: o.height ?? Math.max(160, 74 + labels.length * 30),
      // The category labels speak for themselves; a rotated axis label would collide with them.
      y: { label: null, domain: labels },
      x: { ...axisScale(o.y), label: axisLabel(o.y) },
      marks: [
        Plot.barX(rows, { y: "label", x: "value", fill: "steelblue" }),
        Plot.ruleX([0]),
        ...ruleMarks(o.rules, false, "x"),
      ],
    });
  }
  return renderPlot({
    ...chartFrame(o),
    x: grouped ? { axis: null } : { label: o.x?.label, domain: labels },
    fx: grouped ? { label: o.x?.label, domain: labels } : undefined,
    y: axisScale(o.y),
    color: grouped ? { legend: true, domain: groupOrder(o.rows) } : undefined,
    marks: [
      Plot.barY(rows, {
        x: grouped ? "group" : "label",
        fx: grouped ? "label" : undefined,
        y: "value",
        fill: grouped ? "group" : "steelblue",
      }),
      Plot.ruleY([0]),
      ...ruleMarks(o.rules, o.y?.log),
    ],
  });
}

/** Dots per label (coloured by `group` when given); works on a log axis. */
export function dotChart(o: BarChartOptions): string {
  const grouped = o.rows.some((r) => r.group !== undefined);
  const rows = o.rows.filter((r) => drawable(r.value, o.y?.log));
  return renderPlot({
    ...chartFrame(o),
    x: { label: o.x?.label ?? null, domain: [...new Set(o.rows.map((r) => r.label))] },
    y: axisScale(o.y),
    color: grouped ? { legend: true, domain: groupOrder(o.rows) } : undefined,
    marks: [
      Plot.dot(rows, {
        x: "label",
        y: "value",
        fill: grouped ? "group" : "steelblue",
        r: 4,
      }),
      ...ruleMarks(o.rules, o.y?.log),
    ],
  });
}

function ruleMarks(
  rules: RuleSpec[] | undefined,
  log: boolean | undefined,
  axis: "x" | "y" = "y",
): Plot.Markish[] {
  const ok = (rules ?? []).filter((r) => drawable(r.y, log));
  if (ok.length === 0) return [];
  if (axis === "x") {
    return [
      Plot.ruleX(ok, { x: "y", stroke: "#555", strokeDasharray: "4,3" }),
      Plot.text(ok, {
        x: "y",
        text: (r: RuleSpec) => r.label ?? "",
        frameAnchor: "top",
        textAnchor: "start",
        dx: 4,
        fill: "#555",
      }),
    ];
  }
  return [
    Plot.ruleY(ok, { y: "y", stroke: "#555", strokeDasharray: "4,3" }),
    Plot.text(ok, {
      y: "y",
      text: (r: RuleSpec) => r.label ?? "",
      frameAnchor: "right",
      textAnchor: "end",
      dy: -6,
      fill: "#555",
    }),
  ];
}

/** One heat-map cell. A `null`/non-finite value is drawn grey with its `text` (e.g. "diverged"). */
export interface HeatCell {
  x: string | number;
  y: string | number;
  value: number | null;
  text?: string;
}

/** Options of {@linkcode heatMap}. */
export interface HeatMapOptions extends ChartCommon {
  cells: HeatCell[];
  x?: { label?: string };
  y?: { label?: string };
  color?: {
    label?: string;
    /** Explicit class boundaries (a threshold scale). Default: 6 classes over the data. */
    thresholds?: number[];
    /** Space the default boundaries logarithmically (for MSE-like values spanning decades). */
    log?: boolean;
    /** A Plot colour scheme name, e.g. "viridis", "blues", "rdylbu". */
    scheme?: string;
    reverse?: boolean;
  };
  /** How values are printed in the cells (default: 3 significant digits); null hides them. */
  format?: ((v: number) => string) | null;
}

/**
 * Heat map of a value over two categorical axes (e.g. final MSE per gradient passer × B_q),
 * with a discrete (threshold) colour scale and legend, so no canvas is needed.
 */
export function heatMap(o: HeatMapOptions): string {
  const finite = o.cells.filter((c) =>
    c.value !== null && Number.isFinite(c.value)
  ) as (HeatCell & { value: number })[];
  const missing = o.cells.filter((c) => !(c.value !== null && Number.isFinite(c.value)));
  const thresholds = o.color?.thresholds ?? defaultThresholds(
    finite.map((c) => c.value),
    o.color?.log ?? false,
  );
  const fmt = o.format === undefined ? (v: number) => v.toPrecision(3) : o.format;
  const xs = [...new Set(o.cells.map((c) => c.x))];
  const ys = [...new Set(o.cells.map((c) => c.y))];
  const n = thresholds.length + 1;
  return renderPlot({
    ...chartFrame(o),
    marginLeft: heatMarginLeft(ys),
    x: { label: o.x?.label, domain: xs },
    y: { label: o.y?.label, domain: ys },
    color: {
      type: "threshold",
      domain: thresholds,
      scheme: (o.color?.scheme ?? "viridis") as Plot.ColorScheme,
      reverse: o.color?.reverse,
      label: o.color?.label,
      legend: n > 1,
      tickFormat: (v: number) => Number(v).toPrecision(2),
    },
    marks: [
      Plot.cell(finite, { x: "x", y: "y", fill: "value", inset: 0.5 }),
      missing.length > 0 ? Plot.cell(missing, { x: "x", y: "y", fill: "#ddd", inset: 0.5 }) : null,
      fmt
        ? Plot.text(finite, {
          x: "x",
          y: "y",
          text: (c: HeatCell & { value: number }) => c.text ?? fmt(c.value),
          // Black on a white halo reads on every colour of every scheme.
          fill: "black",
          stroke: "white",
          strokeWidth: 3,
          paintOrder: "stroke",
        })
        : null,
      missing.length > 0
        ? Plot.text(missing, { x: "x", y: "y", text: (c: HeatCell) => c.text ?? "n/a" })
        : null,
    ],
  });
}

/**
 * Left margin that fits the longest row label at the chart's font (about 0.6 em per character
 * plus the tick), so labels are never cut: a fixed 110 px cut "rotation (yours) + CL". [choice]
 */
export function heatMarginLeft(rows: (string | number)[]): number {
  const longest = Math.max(0, ...rows.map((r) => String(r).length));
  return Math.max(60, Math.ceil(longest * 0.6 * CHART_FONT_PX) + 16);
}

function defaultThresholds(values: number[], log: boolean): number[] {
  const v = log ? values.filter((a) => a > 0) : values;
  if (v.length === 0) return [];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (lo === hi) return [];
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
  }
  const k = 6;
  return Array.from({ length: k - 1 }, (_, i) => {
    const t = lo + ((i + 1) * (hi - lo)) / k;
    return log ? 10 ** t : t;
  });
}

/** One row of {@linkcode intervalChart}: an estimate with its interval (nulls: not drawable). */
export interface IntervalRow {
  label: string;
  value: number | null;
  lo: number | null;
  hi: number | null;
  /** Text beside the row, e.g. the verdict and n. */
  note?: string;
}

/** Options of {@linkcode intervalChart}. */
export interface IntervalChartOptions extends ChartCommon {
  rows: IntervalRow[];
  x?: { label?: string };
}

/**
 * Dot-and-whisker chart: one row per estimate, the dot at the estimate, the whisker across its
 * confidence interval, a dashed line at zero (no difference), and the row's note at the right.
 * A row without a finite estimate shows only its label and note.
 *
 * @example
 * ```ts
 * import { intervalChart } from "./charts.ts";
 * const svg = intervalChart({
 *   rows: [{ label: "mSTE − STE+CL", value: 0.004, lo: -0.002, hi: 0.01, note: "inconclusive" }],
 *   x: { label: "MSE difference" },
 * });
 * console.assert(svg.includes("<svg"));
 * ```
 */
export function intervalChart(o: IntervalChartOptions): string {
  if (o.rows.length === 0) throw new Error("intervalChart: no rows");
  const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
  const dots = o.rows.filter((r) => finite(r.value));
  const whiskers = o.rows.filter((r) => finite(r.lo) && finite(r.hi));
  const labels = o.rows.map((r) => r.label);
  const span = [0, ...dots.map((r) => r.value!), ...whiskers.flatMap((r) => [r.lo!, r.hi!])];
  const lo = Math.min(...span);
  const hi = Math.max(...span);
  const pad = (hi - lo || 1) * 0.08;
  return renderPlot({
    ...chartFrame(o),
    height: o.height ?? 60 + 44 * o.rows.length,
    marginLeft: 12 + 6.5 * Math.max(...labels.map((l) => l.length)),
    marginRight: 12 + 6 * Math.max(0, ...o.rows.map((r) => (r.note ?? "").length)),
    x: { label: o.x?.label, domain: [lo - pad, hi + pad], grid: true },
    y: { label: null, domain: labels },
    marks: [
      Plot.ruleX([0], { stroke: "#555", strokeDasharray: "4,3" }),
      Plot.ruleY(whiskers, { y: "label", x1: "lo", x2: "hi", stroke: "steelblue", strokeWidth: 2 }),
      Plot.tickX(whiskers, { y: "label", x: "lo", stroke: "steelblue" }),
      Plot.tickX(whiskers, { y: "label", x: "hi", stroke: "steelblue" }),
      Plot.dot(dots, { y: "label", x: "value", fill: "steelblue", r: 4 }),
      Plot.text(o.rows, {
        y: "label",
        text: (r: IntervalRow) => r.note ?? "",
        frameAnchor: "right",
        textAnchor: "start",
        dx: 8,
        fill: "#333",
      }),
    ],
  });
}
