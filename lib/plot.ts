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
 * threshold colour scales (as `heatMap` in `charts.ts` does) or ordinal swatches.
 *
 * Notebooks show a chart with `chart(lineChart({...}))` from `lib/display.ts` (`text/html`:
 * nbconvert mangled bare `image/svg+xml` Plot output). Line charts and the shared chart frame
 * are here; bar, dot, heat-map and interval charts are in `charts.ts`.
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
  /** What the shaded band between `lo` and `hi` is, for the caption (e.g. "min–max over 4 seeds"). */
  band?: string;
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
  /** What the red mark means, for the caption (e.g. "a run diverged there"). */
  meaning?: string;
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
  const seeds = curves.length;
  const out: LineSeries = {
    label,
    x: xs,
    y: [],
    lo: [],
    hi: [],
    band: band === "minmax"
      ? `min–max over the ${seeds} seed${seeds === 1 ? "" : "s"}`
      : `mean ± 1 sd over the ${seeds} seed${seeds === 1 ? "" : "s"}`,
  };
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
export function drawable(v: number | undefined, log: boolean | undefined): v is number {
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

/** Plot scale options of an axis spec (log or linear, integer ticks, label, domain of `values`). */
export function axisScale(spec: AxisSpec | undefined, values: number[] = []): Plot.ScaleOptions {
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

/** The options every chart shares: size, font, title and legend style, id (charts.ts uses it too). */
export function chartFrame(o: ChartCommon): Partial<PlotOptions> {
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
 * The caption with a key to what is not labelled on the chart: what each shaded band is (lines
 * whose band is not described are said to show "an interval around the line") and what the red
 * dashed lines and crosses mark.
 */
export function withKey(o: LineChartOptions, banded = true): string | undefined {
  const bands = [
    ...new Set(
      o.series.filter((s) => s.lo && s.hi).map((s) => s.band ?? "an interval around the line"),
    ),
  ];
  const meanings = [
    ...new Set((o.markers ?? []).map((m) => m.meaning).filter((m): m is string => !!m)),
  ];
  const key = [
    banded && bands.length > 0 ? `Shaded band: ${bands.join("; ")}.` : "",
    meanings.length > 0 ? `Red dashed line or ×: ${meanings.join("; ")}.` : "",
  ].filter(Boolean).join(" ");
  return [o.caption, key].filter(Boolean).join(" ") || undefined;
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
    ...chartFrame({ ...o, caption: withKey(o, banded.length > 0) }),
    x: axisScale(o.x, points.map((p) => p.x)),
    y: axisScale(o.y),
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
