/**
 * Charts for notebooks and reports: Observable Plot rendered headlessly (a `linkedom` document,
 * no browser, no canvas) to an HTML string that is safe to put many times on one static page.
 *
 * Every chart that {@linkcode renderPlot} returns
 * - has `xmlns="http://www.w3.org/2000/svg"` on each `<svg>` (blank in `<img>`/files otherwise);
 * - uses page-unique names: Plot's shared class name (`plot-d6a7b5`) is replaced by the chart's
 *   id, and every element id (`plot-clip-N`) with its `url(#…)`/`href="#…"` references is
 *   prefixed by it, so charts from different kernels can share a page;
 * - marks its main `<svg>` with `data-chart` so report checks can find it and count real marks.
 *
 * Continuous colour legends and the raster mark need a canvas and throw here: use quantize or
 * threshold colour scales (as {@linkcode heatMap} does) or ordinal swatches.
 *
 * Notebooks show a chart with `chart(lineChart({...}))` from `lib/display.ts` (`text/html`:
 * nbconvert mangled bare `image/svg+xml` Plot output).
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

/** Plot's options plus an optional chart id (a CSS identifier); one is generated when absent. */
export type PlotOptions = Plot.PlotOptions & { id?: string };

const SVG_NS = "http://www.w3.org/2000/svg";

/** The part of linkedom's DOM this module uses (Deno's type library has no DOM). */
interface DomElement {
  tagName: string;
  outerHTML: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}
// Unique per process, so charts rendered by different kernels onto one page do not collide.
const PROCESS_TOKEN = crypto.randomUUID().slice(0, 6);
let chartCounter = 0;

/** A fresh page-unique chart id (`qlplot-<process token>-<n>`). */
export function nextChartId(): string {
  return `qlplot-${PROCESS_TOKEN}-${++chartCounter}`;
}

/**
 * Render a Plot specification to an HTML string (an `<svg>` or, with legends/titles, a
 * `<figure>` holding it). See the module doc for the guarantees.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * const html = renderPlot({ marks: [Plot.lineY([1, 3, 2])], id: "demo" });
 * ```
 */
export function renderPlot(options: PlotOptions): string {
  const { id = nextChartId(), ...plotOptions } = options;
  if (!/^[A-Za-z][\w-]*$/.test(id)) {
    throw new Error(`renderPlot: id ${JSON.stringify(id)} is not a CSS identifier`);
  }
  const { document } = parseHTML("<!doctype html><html><body></body></html>") as unknown as {
    document: Plot.PlotOptions["document"];
  };
  let root: DomElement;
  try {
    root = Plot.plot({ ...plotOptions, className: id, document }) as unknown as DomElement;
  } catch (err) {
    if (String(err).includes("fillStyle") || String(err).includes("getContext")) {
      throw new Error(
        "renderPlot: this chart needs a canvas (continuous colour legend or raster mark); " +
          "use a quantize/threshold colour scale or swatches instead",
      );
    }
    throw err;
  }
  const main = root.tagName.toLowerCase() === "svg" ? root : root.querySelector(`svg.${id}`);
  if (!main) throw new Error("renderPlot: Plot produced no <svg>");
  main.setAttribute("data-chart", "");
  // plot-clip-3 → <id>-clip-3: scoped to this chart, still readable.
  const rename = (old: string) => `${id}-${old.replace(/^plot-/, "")}`;
  for (const el of [root, ...Array.from(root.querySelectorAll("*"))]) {
    if (el.tagName.toLowerCase() === "svg") el.setAttribute("xmlns", SVG_NS);
    if ((el.getAttribute("class") ?? "").split(" ").includes(`${id}-swatches`)) {
      el.setAttribute("style", LEGEND_FONT);
    }
    const own = el.getAttribute("id");
    if (own) el.setAttribute("id", rename(own));
    for (const attr of Array.from(el.attributes)) {
      const v = attr.value;
      if (v.includes("url(#")) {
        el.setAttribute(
          attr.name,
          v.replace(/url\(#([^)]+)\)/g, (_m, ref) => `url(#${rename(ref)})`),
        );
      }
      if ((attr.name === "href" || attr.name === "xlink:href") && v.startsWith("#")) {
        el.setAttribute(attr.name, `#${rename(v.slice(1))}`);
      }
    }
  }
  return root.outerHTML;
}

/** One curve: y against x (e.g. validation MSE against epoch for one seed). */
export interface Curve {
  x: number[];
  y: number[];
}

/** A named line, optionally with a band `lo`..`hi` (same length as `x`). */
export interface LineSeries extends Curve {
  label: string;
  lo?: number[];
  hi?: number[];
}

/** A horizontal reference line, e.g. the oracle MSE floor. */
export interface RuleSpec {
  y: number;
  label?: string;
}

/**
 * A marked point, e.g. where a run diverged. Without a finite `y` it is drawn as a dashed
 * vertical line at `x` (a diverged value is often infinite or off the chart).
 */
export interface MarkerSpec {
  x: number;
  y?: number;
  label?: string;
}

/** Axis options shared by the chart helpers. */
export interface AxisSpec {
  /** Axis label; " (log)" is appended on a log axis unless the label already says "log". */
  label?: string;
  log?: boolean;
  domain?: [number, number];
  /** Ticks only at whole numbers (epochs, bit counts): no 0.5 ticks on a short axis. */
  integer?: boolean;
}

/** Options common to every chart helper. */
export interface ChartCommon {
  title?: string;
  subtitle?: string;
  caption?: string;
  width?: number;
  height?: number;
  id?: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions extends ChartCommon {
  series: LineSeries[];
  /**
   * Every label colours are assigned over, in order (default: the series' labels). A panel
   * showing a subset of another chart's series passes the full list, so a series keeps its colour.
   */
  colorLabels?: string[];
  x?: AxisSpec;
  y?: AxisSpec;
  rules?: RuleSpec[];
  markers?: MarkerSpec[];
}

/**
 * Summarise several seeds' curves into one series with a band: the line is the mean of the
 * finite values at each x, the band is min–max (`"minmax"`) or mean ± one standard deviation
 * (`"sd"`). Curves may have different lengths (a diverged run stops early).
 *
 * @example
 * ```ts
 * const seeds = [{ x: [1, 2, 3], y: [0.5, 0.3, 0.2] }, { x: [1, 2], y: [0.6, 0.4] }];
 * const s = seedBand("STE", seeds); // a diverged seed may stop early
 * ```
 */
export function seedBand(
  label: string,
  curves: Curve[],
  band: "minmax" | "sd" = "minmax",
): LineSeries {
  const byX = new Map<number, number[]>();
  for (const c of curves) {
    if (c.x.length !== c.y.length) {
      throw new Error(`seedBand(${label}): a curve has ${c.x.length} x but ${c.y.length} y values`);
    }
    c.x.forEach((x, i) => {
      if (!Number.isFinite(c.y[i])) return;
      byX.set(x, [...(byX.get(x) ?? []), c.y[i]]);
    });
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const out: LineSeries = { label, x: xs, y: [], lo: [], hi: [] };
  for (const x of xs) {
    const v = byX.get(x)!;
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    out.y.push(mean);
    if (band === "minmax") {
      out.lo!.push(Math.min(...v));
      out.hi!.push(Math.max(...v));
    } else {
      const sd = Math.sqrt(v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length);
      out.lo!.push(mean - sd);
      out.hi!.push(mean + sd);
    }
  }
  return out;
}

/** Whether a value can be drawn on an axis (finite, and positive on a log axis). */
function drawable(v: number | undefined, log: boolean | undefined): v is number {
  return v !== undefined && Number.isFinite(v) && (!log || v > 0);
}

/** An axis label that says when the axis is logarithmic. */
export function axisLabel(spec: AxisSpec | undefined): string | undefined {
  if (!spec?.log) return spec?.label;
  const label = spec.label ?? "";
  return /\blog\b/i.test(label) ? label : `${label} (log)`.trim();
}

/** Whole-number ticks over `values` (at most about 10 of them), for an integer axis. */
export function integerTicks(values: number[]): number[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [];
  const lo = Math.ceil(Math.min(...finite));
  const hi = Math.floor(Math.max(...finite));
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 10));
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function scale(spec: AxisSpec | undefined, values: number[] = []): Plot.ScaleOptions {
  return {
    label: axisLabel(spec),
    type: spec?.log ? "log" : "linear",
    domain: spec?.domain,
    grid: true,
    tickFormat: spec?.log ? logTick : spec?.integer ? "d" : undefined,
    ticks: spec?.integer && !spec.log ? integerTicks(spec.domain ?? values) : undefined,
  };
}

/**
 * Log-axis tick labels: 0.01, 0.5, 200, and 1e-4 / 1e5 outside [1e-3, 1e4), instead of Plot's SI
 * prefixes ("1m" reads wrongly for an MSE) or long digit strings that overflow the margin.
 */
export function logTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) {
    const [m, e] = v.toExponential().split("e");
    return `${Number(Number(m).toPrecision(2))}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

/**
 * Chart text size in the chart's own units. [choice] Charts are drawn 520 units wide with 15 px
 * text and scale down with the page (`max-width: 100%` and the viewBox), so on a 390 px phone
 * (a 366 px column) the text is still drawn at about 10 px; on a laptop it is 15 px.
 */
export const CHART_FONT_PX = 15;
/** Default chart size (units of the viewBox): see {@linkcode CHART_FONT_PX}. */
export const CHART_WIDTH = 520;
export const CHART_HEIGHT = 340;
/** Swatch legends are HTML beside the chart and do not scale with it: 13 px, not Plot's 10. */
const LEGEND_FONT = "font-size: 13px";

function common(o: ChartCommon): Partial<PlotOptions> {
  return {
    marginLeft: 66,
    marginRight: 24,
    marginTop: 30,
    marginBottom: 44,
    style: { fontSize: `${CHART_FONT_PX}px` },
    title: o.title,
    subtitle: o.subtitle,
    caption: o.caption,
    width: o.width ?? CHART_WIDTH,
    height: o.height ?? CHART_HEIGHT,
    id: o.id,
  };
}

/**
 * Vertical markers at the same x merged into one, their labels joined one per line: several
 * seeds diverging in the same epoch get one line and one label, not overprinted copies.
 */
export function mergeMarkers(markers: MarkerSpec[]): MarkerSpec[] {
  const byX = new Map<number, string[]>();
  for (const m of markers) {
    const labels = byX.get(m.x) ?? [];
    if (m.label && !labels.includes(m.label)) labels.push(m.label);
    byX.set(m.x, labels);
  }
  return [...byX].map(([x, labels]) => ({ x, label: labels.join("\n") }));
}

/**
 * Line chart of one or more series (colour legend when there are several), with optional bands,
 * horizontal rules and markers. Points that cannot be drawn (non-finite, or ≤ 0 on a log axis)
 * leave a gap instead of breaking the chart.
 *
 * @example
 * ```ts
 * const curves = [{ x: [1, 2, 3], y: [0.5, 0.3, 0.2] }, { x: [1, 2, 3], y: [0.6, 0.4, 0.3] }];
 * const oracleFloor = 0.05;
 * lineChart({
 *   series: [seedBand("STE", curves)],
 *   x: { label: "epoch" }, y: { label: "validation MSE", log: true },
 *   rules: [{ y: oracleFloor, label: "oracle floor" }],
 *   markers: [{ x: 3, label: "diverged" }],
 * });
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  if (o.series.length === 0) throw new Error("lineChart: no series");
  const logY = o.y?.log;
  const points = o.series.flatMap((s) =>
    s.x.map((x, i) => ({
      series: s.label,
      x,
      y: drawable(s.y[i], logY) ? s.y[i] : NaN,
      lo: drawable(s.lo?.[i], logY) ? s.lo![i] : NaN,
      hi: drawable(s.hi?.[i], logY) ? s.hi![i] : NaN,
    }))
  );
  const banded = points.filter((p) => !Number.isNaN(p.lo) && !Number.isNaN(p.hi));
  const rules = (o.rules ?? []).filter((r) => drawable(r.y, logY));
  const dotted = (o.markers ?? []).filter((m) => drawable(m.y, logY));
  const vertical = mergeMarkers((o.markers ?? []).filter((m) => !drawable(m.y, logY)));
  const several = o.series.length > 1;
  const xs = o.x?.domain ?? points.map((p) => p.x);
  // A marker label in the right half of the chart runs leftwards, so it is never cut off.
  const mid = (Math.min(...xs) + Math.max(...xs)) / 2;
  const leftward = (m: MarkerSpec) => m.x > mid;
  const rulesLeft = vertical.some(leftward);
  const marks: Plot.Markish[] = [
    banded.length > 0
      ? Plot.areaY(points, {
        x: "x",
        y1: "lo",
        y2: "hi",
        z: "series",
        fill: several ? "series" : "steelblue",
        fillOpacity: 0.18,
      })
      : null,
    Plot.lineY(points, {
      x: "x",
      y: "y",
      z: "series",
      stroke: several ? "series" : "steelblue",
      strokeWidth: 1.6,
    }),
    rules.length > 0 ? Plot.ruleY(rules, { y: "y", stroke: "#555", strokeDasharray: "4,3" }) : null,
    rules.length > 0
      ? Plot.text(rules, {
        y: "y",
        text: (r: RuleSpec) => r.label ?? "",
        // Rule labels go to the side the marker labels leave free.
        frameAnchor: rulesLeft ? "left" : "right",
        textAnchor: rulesLeft ? "start" : "end",
        dy: -6,
        dx: rulesLeft ? 4 : -4,
        fill: "#555",
        stroke: "white",
        strokeWidth: 3,
        paintOrder: "stroke",
      })
      : null,
    vertical.length > 0
      ? Plot.ruleX(vertical, { x: "x", stroke: "#c0392b", strokeDasharray: "3,3" })
      : null,
    ...[false, true].map((left) => {
      const these = vertical.filter((m) => leftward(m) === left);
      return these.length > 0
        ? Plot.text(these, {
          x: "x",
          text: (m: MarkerSpec) => m.label ?? "",
          frameAnchor: "top",
          textAnchor: left ? "end" : "start",
          lineAnchor: "top",
          dx: left ? -4 : 4,
          dy: 4,
          fill: "#c0392b",
          stroke: "white",
          strokeWidth: 3,
          paintOrder: "stroke",
        })
        : null;
    }),
    dotted.length > 0
      ? Plot.dot(dotted, { x: "x", y: "y", symbol: "times", r: 5, stroke: "#c0392b" })
      : null,
    dotted.length > 0
      ? Plot.text(dotted, {
        x: "x",
        y: "y",
        text: (m: MarkerSpec) => m.label ?? "",
        dy: -10,
        fill: "#c0392b",
      })
      : null,
  ];
  return renderPlot({
    ...common(o),
    x: scale(o.x, points.map((p) => p.x)),
    y: scale(o.y),
    // Legend in the order the series were given (the experiment's group order).
    color: several ? seriesColors(o.series.map((s) => s.label), o.colorLabels) : undefined,
    marks,
  });
}

/** Plot's default categorical colours ("observable10"), assigned by position in a label list. */
const PALETTE = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

/** A colour scale over `labels` (legend in that order), coloured by position in `all`. */
function seriesColors(labels: string[], all: string[] = labels): Plot.ScaleOptions {
  const at = (l: string) => Math.max(0, all.indexOf(l)) % PALETTE.length;
  return { legend: true, domain: labels, range: labels.map((l) => PALETTE[at(l)]) };
}

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
      ...common(o),
      // [choice] about 0.55 em per character of the system font, capped at half the chart.
      marginLeft: Math.min(
        Math.ceil(longest * CHART_FONT_PX * 0.6) + 12,
        (o.width ?? CHART_WIDTH) / 2,
      ),
      height: o.height ?? Math.max(160, 74 + labels.length * 30),
      // The category labels speak for themselves; a rotated axis label would collide with them.
      y: { label: null, domain: labels },
      x: { ...scale(o.y), label: axisLabel(o.y) },
      marks: [
        Plot.barX(rows, { y: "label", x: "value", fill: "steelblue" }),
        Plot.ruleX([0]),
        ...ruleMarks(o.rules, false, "x"),
      ],
    });
  }
  return renderPlot({
    ...common(o),
    x: grouped ? { axis: null } : { label: o.x?.label, domain: labels },
    fx: grouped ? { label: o.x?.label, domain: labels } : undefined,
    y: scale(o.y),
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
    ...common(o),
    x: { label: o.x?.label ?? null, domain: [...new Set(o.rows.map((r) => r.label))] },
    y: scale(o.y),
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
    ...common(o),
    marginLeft: 110,
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
 * import { intervalChart } from "./plot.ts";
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
    ...common(o),
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
