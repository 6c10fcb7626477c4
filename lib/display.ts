/**
 * Rich output for notebooks, without `Deno.jupyter` (which throws outside the kernel): every
 * helper returns a {@linkcode Display}, an object whose `Symbol.for("Jupyter.display")` method
 * returns a MIME bundle. Deno's kernel renders it when it is a cell's last value; elsewhere it is
 * a plain object (tests read `.bundle`). Every bundle has `text/html` and `text/plain`; charts are
 * `text/html` (nbconvert mangled bare `image/svg+xml`).
 *
 * Findings: {@linkcode finding} shows a verdict box and carries the finding, machine-readable, as
 * `application/vnd.quantlab.finding+json` in the same output; `scripts/build_reports.ts` collects
 * those into `reports/findings.json`.
 *
 * Output-expectation rule (scripts/execute_notebook.py): a cell whose last top-level statement is
 * an expression must show something, so end display cells with the call, e.g. `table(rows);`.
 * Cells ending in a declaration, import, assignment or control flow may be silent.
 *
 * @example
 * ```ts
 * import { chart, finding, table } from "../lib/display.ts";
 * import { lineChart } from "../lib/plot.ts";
 * chart(lineChart({ series: [{ label: "STE", x: [1, 2], y: [0.3, 0.1] }] }), "Validation MSE")
 * ```
 *
 * @module
 */
import { escapeHtml, formatNumber, renderMarkdown } from "./report/html.ts";
import { RUN_MIME } from "./report/notebook.ts";
import { chartPngBase64, chartsPngBase64 } from "./raster.ts";
import { inKernel } from "./interrupt.ts";
import { kernelBundle } from "./iopub.ts";
import { VERDICT_COLOURS, verdictClass } from "./report/verdicts.ts";
import { formatInterval } from "./stats.ts";
import {
  type Finding,
  FINDING_MIME,
  type FindingInput,
  formatMeasured,
  validateFinding,
  type Verdict,
  VERDICTS,
} from "./report/findings.ts";

export { type Finding, FINDING_MIME, type FindingInput, type Verdict, VERDICTS };

/** A Jupyter MIME bundle: MIME type → data. */
export type MimeBundle = Record<string, unknown>;

/** The well-known symbol Deno's kernel looks for on a cell's value. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/**
 * A displayable value: Deno's kernel shows `bundle`; `toString()` gives its plain text. In the
 * kernel the bundle is handed over only once everything queued before it has been published
 * (lib/iopub.ts), so it lands under the cell that made it also under Run All; a large bundle
 * (a listening table with audio) is published before the cell ends and the kernel gets an empty
 * result, because the kernel corrupts a large result sent while the next cell starts
 * ({@linkcode kernelBundle}).
 */
export class Display {
  constructor(readonly bundle: MimeBundle) {}
  [JUPYTER_DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return inKernel() ? kernelBundle(this.bundle) : this.bundle;
  }
  /** The `text/html` part ("" when there is none). */
  get html(): string {
    return String(this.bundle["text/html"] ?? "");
  }
  toString(): string {
    return String(this.bundle["text/plain"] ?? "");
  }
}

/** What stops the work behind a Promise when it is passed on without `await` (see below). */
const stoppers = new WeakMap<object, () => string>();

/**
 * Register how to stop the work behind `promise` (a run training in the background) when a
 * library call receives the promise itself instead of its value; `stop` returns what it did.
 */
export function stopWhenMisused<T>(promise: Promise<T>, stop: () => string): Promise<T> {
  stoppers.set(promise, stop);
  return promise;
}

/**
 * Throw `<where>: got a Promise — add await (<example>)` when `value` is a Promise (or holds
 * one, for arrays and plain objects one level deep): a missing `await` otherwise goes unnoticed
 * while the work trains on in the background. A registered run behind it is stopped first.
 *
 * @example
 * ```ts
 * import { notAPromise } from "./display.ts";
 * notAPromise([1, 2], "table", "table(await rows())"); // fine: not a Promise
 * ```
 */
export function notAPromise(value: unknown, where: string, example: string): void {
  const isThenable = (v: unknown): v is Promise<unknown> =>
    !!v && (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
  const inner = Array.isArray(value)
    ? value
    : value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype
    ? Object.values(value)
    : [];
  const found = isThenable(value) ? value : inner.find(isThenable);
  if (!found) return;
  const stop = stoppers.get(found as object);
  const note = stop ? `; ${stop()}` : "";
  found.then(undefined, () => {}); // its rejection (if stopped) is reported here, not unhandled
  throw new TypeError(`${where}: got a Promise — add await: ${example}${note}`);
}

/** Wrap a MIME bundle for display. */
export function display(bundle: MimeBundle): Display {
  return new Display(bundle);
}

/** Show an HTML snippet (`plain` is the text/plain fallback; default: the tags stripped). */
export function html(snippet: string, plain?: string): Display {
  return display({
    "text/html": snippet,
    "text/plain": plain ?? snippet.replace(/<[^>]*>/g, "").trim(),
  });
}

/** Show markdown, rendered to HTML here so reports and notebooks look the same. */
export function markdown(source: string): Display {
  return display({ "text/html": renderMarkdown(source), "text/plain": source });
}

/** A table cell value; numbers are formatted with {@linkcode formatNumber}. */
export type Cell = string | number | boolean | null | undefined;

/** Options of {@linkcode table}. */
export interface TableOptions {
  /** Columns to show, in order (default: the keys of the first row). */
  columns?: string[];
  /** Header text per column key (default: the key). */
  headers?: Record<string, string>;
  /** Per-column formatter, overriding the default number formatting. */
  format?: Record<string, (value: Cell) => string>;
  caption?: string;
}

/**
 * Inline alignment, because Jupyter's stylesheet right-aligns every table cell: text columns
 * read left-aligned, numeric columns right-aligned, in the notebook as in the report.
 */
function align(numeric: boolean): string {
  return numeric ? ' class="num" style="text-align:right"' : ' style="text-align:left"';
}

/**
 * Show rows as a table. Text columns are left-aligned, numeric columns right-aligned (also in
 * Jupyter, whose own stylesheet right-aligns everything).
 *
 * @example
 * ```ts
 * table([{ passer: "ste", mse: 0.012 }, { passer: "mste", mse: 0.0041 }], { caption: "final MSE" })
 * ```
 */
export function table(rows: Record<string, Cell>[], opts: TableOptions = {}): Display {
  notAPromise(rows, "table", "table(await rows)");
  const columns = opts.columns ?? Object.keys(rows[0] ?? {});
  const text = (key: string, v: Cell): string => {
    const f = opts.format?.[key];
    if (f) return f(v);
    if (typeof v === "number") return formatNumber(v);
    if (v === null || v === undefined) return "—";
    return String(v);
  };
  const numeric = columns.map((c) =>
    rows.length > 0 && rows.every((r) => typeof r[c] === "number" || r[c] == null)
  );
  const head = columns.map((c, i) =>
    `<th${align(numeric[i])}>${escapeHtml(opts.headers?.[c] ?? c)}</th>`
  ).join("");
  const body = rows.map((r) =>
    "<tr>" + columns.map((c, i) =>
      `<td${align(numeric[i])}>${escapeHtml(text(c, r[c]))}</td>`
    ).join("") + "</tr>"
  ).join("\n");
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  const cells = [
    columns.map((c) => opts.headers?.[c] ?? c),
    ...rows.map((r) => columns.map((c) => text(c, r[c]))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const plain = cells.map((row) =>
    row.map((s, i) => numeric[i] ? s.padStart(widths[i]) : s.padEnd(widths[i])).join("  ")
      .trimEnd()
  );
  plain.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  if (opts.caption) plain.unshift(opts.caption);
  return display({
    "text/html": `<table class="ql-table">${caption}<thead><tr>${head}</tr></thead>` +
      `<tbody>\n${body}\n</tbody></table>`,
    "text/plain": plain.join("\n"),
  });
}

/**
 * A display folded behind a one-line summary (`<details>`), open on a click, in the notebook and
 * the report alike; its machine-readable entries (findings, run info) are kept.
 *
 * @example
 * ```ts
 * folded("Settings (27 fields)", table([{ field: "train.epochs", value: 10 }]))
 * ```
 */
export function folded(summary: string, item: Display): Display {
  return display({
    ...item.bundle,
    "text/html": `<details class="ql-settings"><summary>${
      escapeHtml(summary)
    }</summary>${item.html}</details>`,
    "text/plain": `${summary}\n${item.toString()}`,
  });
}

/**
 * Show a chart rendered by `lib/plot.ts` (an HTML/SVG string) as `text/html`, with an optional
 * caption below it, plus an `image/png` copy of its main SVG (lib/raster.ts) that viewers show
 * when they do not trust the notebook's HTML.
 */
export function chart(svg: string, caption?: string): Display {
  notAPromise(svg, "chart", "chart(await svg)");
  if (!/<svg\b/.test(svg)) {
    throw new Error("chart: expected the HTML of a rendered chart (no <svg>)");
  }
  const cap = caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : "";
  const png = chartPngBase64(svg);
  return display({
    "text/html": `<figure class="ql-chart">${svg}${cap}</figure>`,
    ...(png ? { "image/png": png } : {}),
    "text/plain": `[chart${caption ? `: ${caption}` : ""}]`,
  });
}

/** A coloured badge for a verdict (inline styles, so it looks the same in Jupyter). */
export function verdictBadge(v: Verdict): string {
  return `<span class="ql-badge ${verdictClass(v)}" style="background:${
    VERDICT_COLOURS[v]
  };color:#fff;padding:0.05em 0.45em;border-radius:3px;font-weight:600">${escapeHtml(v)}</span>`;
}

function box(v: Verdict, inner: string): string {
  return `<div class="ql-verdict ${verdictClass(v)}" style="border-left:5px solid ${
    VERDICT_COLOURS[v]
  };background:#f6f7f9;padding:0.6em 0.9em;margin:0.8em 0">${inner}</div>`;
}

/** A verdict box with a title and optional detail (markdown), not recorded as a finding. */
export function verdict(v: Verdict, title: string, detail?: string): Display {
  if (!VERDICTS.includes(v)) throw new Error(`verdict: ${JSON.stringify(v)} is not a verdict`);
  const body = detail ? renderMarkdown(detail) : "";
  return display({
    "text/html": box(v, `${verdictBadge(v)} <strong>${escapeHtml(title)}</strong>${body}`),
    "text/plain": `[${v}] ${title}${detail ? `\n${detail}` : ""}`,
  });
}

/**
 * Record a finding: shows its verdict box and emits it as `application/vnd.quantlab.finding+json`
 * for `reports/findings.json`. Throws when the finding is invalid (see `findings.schema.json`),
 * so a notebook cannot publish a malformed one. `notebook` is filled in by the report builder.
 *
 * @example
 * ```ts
 * finding({
 *   id: "A-ste-diverges", paper: "A", claim: "STE without commitment loss diverges",
 *   metric: "share of seeds whose max |e| exceeds 1e8", measured: { diverged: 3, seeds: 3 },
 *   verdict: "reproduced",
 * })
 * ```
 */
export function finding(f: FindingInput): Display {
  notAPromise(f, "finding", "finding(await f)");
  const errors = validateFinding(f, false);
  if (errors.length > 0) throw new Error(`finding: invalid:\n  ${errors.join("\n  ")}`);
  const data: FindingInput = JSON.parse(JSON.stringify(f));
  const detail = f.detail ? renderMarkdown(f.detail) : "";
  const inner = `${verdictBadge(f.verdict)} <strong>${escapeHtml(f.claim)}</strong> ` +
    `<span style="color:#5c6166">[paper ${escapeHtml(f.paper)} · ${escapeHtml(f.id)}]</span>` +
    `<div><em>Metric:</em> ${escapeHtml(f.metric)}</div>` +
    `<div><em>Measured:</em> ${escapeHtml(formatMeasured(f.measured))}</div>` +
    (f.stats
      ? `<div><em>Paired difference:</em> ${escapeHtml(formatInterval(f.stats))}</div>`
      : "") +
    detail;
  return display({
    "text/html": box(f.verdict, inner),
    "text/plain": `[${f.verdict}] ${f.id}: ${f.claim}\n  metric: ${f.metric}\n  measured: ${
      formatMeasured(f.measured)
    }${f.stats ? `\n  paired difference: ${formatInterval(f.stats)}` : ""}`,
    [FINDING_MIME]: data,
  });
}

/**
 * A table of findings (e.g. for the overview notebook). Display only: it does not emit the
 * findings again, so each finding is recorded once, by the notebook that computed it.
 */
export function findingsTable(findings: (Finding | FindingInput)[]): Display {
  const td = `<td${align(false)}>`;
  const th = `<th${align(false)}>`;
  const rows = findings.map((f) =>
    `<tr>${td}${escapeHtml(f.id)}</td>${td}${escapeHtml(f.claim)}</td>${td}${
      escapeHtml(formatMeasured(f.measured))
    }</td>${td}${verdictBadge(f.verdict)}</td></tr>`
  ).join("\n");
  return display({
    "text/html": `<table class="ql-table"><thead><tr>${th}finding</th>${th}claim</th>` +
      `${th}measured</th>${th}verdict</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
    "text/plain": findings.map((f) => `[${f.verdict}] ${f.id}: ${formatMeasured(f.measured)}`)
      .join("\n"),
  });
}

/** Backend and versions of computations, as `lib/backend.ts`'s `BackendInfo` records them. */
export interface RunInfo {
  backend: string;
  tfjs: string;
  deno: string;
  /** Training wall time of the run when it was computed (stored result), ms: the report's compute time. */
  computeMs?: number;
  /** A fingerprint of the run's config, so a run shown on two pages counts once. */
  run?: string;
}

/**
 * Report which backend and versions a notebook's computations ran on when they ran outside the
 * kernel (worker processes, cached results): shows one muted line and emits
 * `application/vnd.quantlab.run+json`, which the report header prefers over the kernel's own.
 *
 * @example
 * ```ts
 * runInfo({ backend: "wasm", tfjs: "4.22.0", deno: Deno.version.deno, computeMs: 81_000 });
 * ```
 */
export function runInfo(infos: RunInfo | RunInfo[]): Display {
  const list = (Array.isArray(infos) ? infos : [infos]).map((
    { backend, tfjs, deno, computeMs, run },
  ) => ({ backend, tfjs, deno, ...(computeMs === undefined ? {} : { computeMs, run }) }));
  if (list.length === 0) throw new Error("runInfo: no run information");
  const text = [
    ...new Set(list.map((i) => `${i.backend} backend · tfjs ${i.tfjs} · Deno ${i.deno}`)),
  ].join("; ");
  return display({
    "text/html": `<p class="ql-ref" style="color:#5c6166;font-size:0.9em">Ran on ${
      escapeHtml(text)
    }</p>`,
    "text/plain": `Ran on ${text}`,
    [RUN_MIME]: list,
  });
}

/**
 * Several displays as one output (a cell shows only its last value). Findings and run info inside
 * are kept: their entries are merged into one array per MIME type.
 */
export function group(...items: Display[]): Display {
  notAPromise(items, "group", "group(a, await listening(...))");
  const bundle: MimeBundle = {
    "text/html": items.map((d) => d.html).join("\n"),
    "text/plain": items.map((d) => d.toString()).join("\n\n"),
  };
  // Charts inside keep a PNG copy: one picture of all of them, stacked.
  const charts = items.filter((d) => d.bundle["image/png"] !== undefined);
  const png = charts.length === 1
    ? charts[0].bundle["image/png"]
    : charts.length > 1
    ? chartsPngBase64(charts.map((d) => d.html))
    : undefined;
  if (png) bundle["image/png"] = png;
  for (const mime of [FINDING_MIME, RUN_MIME]) {
    const all = items.flatMap((d) => {
      const v = d.bundle[mime];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    });
    if (all.length > 0) bundle[mime] = all;
  }
  return display(bundle);
}
