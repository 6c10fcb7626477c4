/**
 * Executed notebooks (nbformat 4 JSON, as written by scripts/execute_notebook.py) to static,
 * self-contained HTML pages: their outputs, findings and run metadata, the run header and the
 * page shell (the index page that links them is `index_page.ts`).
 *
 * @module
 */
import { type Finding, FINDING_MIME, type FindingInput } from "./findings.ts";
import {
  escapeHtml,
  formatNumber,
  renderMarkdown,
  sanitizeHtml,
  stripAnsi,
  STYLESHEET,
} from "./html.ts";

/** One output of a code cell (nbformat 4). Multi-line strings may be stored as arrays. */
export interface NbOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** One notebook cell (nbformat 4). */
export interface NbCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  outputs?: NbOutput[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

/** What scripts/execute_notebook.py records in `metadata.quantlab.execution`. */
export interface ExecutionInfo {
  started: string;
  wall_seconds: number;
  profile: string;
  recompute: boolean;
  kernel: string;
  code_cells: number;
  late_outputs: number;
  missing_outputs: number[];
  ok: boolean;
  /** The commit the notebook was executed at (stamped by scripts/build_reports.ts). */
  commit?: string;
  /** The builder's probe result: tfjs backend and versions as seen inside the kernel. */
  epilogue?: { backend?: string | null; tfjs?: string | null; deno?: string } | string | null;
}

/** A notebook file's JSON. */
export interface Notebook {
  cells: NbCell[];
  metadata: {
    quantlab?: { execution?: ExecutionInfo; summary?: string };
    [key: string]: unknown;
  };
  nbformat: number;
  nbformat_minor: number;
}

/**
 * MIME type of run information a notebook reports about computations that ran outside its
 * kernel (worker processes, the result cache): `{ backend, tfjs, deno }` or an array of them.
 * Emitted by `runInfo()` in lib/display.ts; it takes precedence over the kernel probe.
 */
export const RUN_MIME = "application/vnd.quantlab.run+json";

/** Backend and versions as a report header shows them; per run, its stored compute time. */
export interface RunInfo {
  backend?: string | null;
  tfjs?: string | null;
  deno?: string | null;
  /** Training wall time of the run when it was computed (from the stored result), ms. */
  computeMs?: number | null;
  /** A fingerprint of the run's config, so a run shown by two pages is counted once. */
  run?: string | null;
}

/**
 * Stored compute time per distinct run a notebook reports ({@linkcode RUN_MIME} entries with
 * `computeMs`): fingerprint → ms. Entries without a fingerprint count separately.
 */
export function computeRuns(infos: RunInfo[], page: string): Record<string, number> {
  const out: Record<string, number> = {};
  infos.forEach((info, i) => {
    if (typeof info.computeMs !== "number" || !Number.isFinite(info.computeMs)) return;
    out[info.run ?? `${page}#${i}`] = info.computeMs;
  });
  return out;
}

/**
 * A duration as a researcher reads it: "42 s", "3.5 min", "2.1 h" ("—" when unknown).
 */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 100) return `${formatNumber(Number(seconds.toFixed(1)))} s`;
  if (seconds < 6000) return `${formatNumber(Number((seconds / 60).toFixed(1)))} min`;
  return `${formatNumber(Number((seconds / 3600).toFixed(1)))} h`;
}

/** Sum of stored compute time of some runs, seconds, and how many runs. */
export function computeTotal(runs: Record<string, number>): { seconds: number; runs: number } {
  const v = Object.values(runs);
  return { seconds: v.reduce((a, b) => a + b, 0) / 1000, runs: v.length };
}

/** Stored compute time of some runs as the run header shows it. */
export function computeText(runs: Record<string, number>): string {
  const { seconds, runs: n } = computeTotal(runs);
  return n === 0
    ? "none reported"
    : `${formatDuration(seconds)} of training in ${n} run(s), from the stored results`;
}

/** Every {@linkcode RUN_MIME} entry in the notebook's outputs. */
export function collectRunInfo(nb: Notebook): RunInfo[] {
  const out: RunInfo[] = [];
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      const v = o.data?.[RUN_MIME];
      if (v !== undefined) out.push(...(Array.isArray(v) ? v : [v]) as RunInfo[]);
    }
  }
  return out;
}

/** Run metadata shown in every page's header. */
export interface RunMeta {
  commit: string;
  /** When the reports were built (ISO 8601). */
  date: string;
}

/** A rendered page and what the builder needs to know about it. */
export interface Page {
  /** Output file name, e.g. `02_ste.html`. */
  file: string;
  /** Source notebook file name, e.g. `02_ste.ipynb`. */
  notebook: string;
  title: string;
  summary: string;
  html: string;
  findings: Finding[];
  /** Charts (`data-chart` SVGs) found in the notebook's outputs. */
  charts: number;
  /** What the sanitizer removed (external URLs, scripts …), with the cell index. */
  removed: string[];
  execution?: ExecutionInfo;
  /** Stored compute time per distinct run the page reports (see {@linkcode computeRuns}). */
  compute: Record<string, number>;
}

/** nbformat stores multi-line strings either whole or as a list of lines. */
export function joinText(s: string | string[] | undefined): string {
  return Array.isArray(s) ? s.join("") : s ?? "";
}

/** Markdown inline formatting removed: for titles and one-line summaries. */
function plainText(md: string): string {
  return md
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The first `# ` heading of the notebook, or `fallback`. */
export function notebookTitle(nb: Notebook, fallback: string): string {
  for (const cell of nb.cells) {
    if (cell.cell_type !== "markdown") continue;
    const m = joinText(cell.source).match(/^#\s+(.+)$/m);
    if (m) return plainText(m[1]);
  }
  return fallback;
}

/**
 * One line for the index: `metadata.quantlab.summary` when set, else the first paragraph of the
 * first markdown cell that is not a heading, shortened to about 200 characters.
 */
export function notebookSummary(nb: Notebook): string {
  let text = nb.metadata.quantlab?.summary ?? "";
  if (!text) {
    outer: for (const cell of nb.cells) {
      if (cell.cell_type !== "markdown") continue;
      for (const para of joinText(cell.source).split(/\n\s*\n/)) {
        const p = para.trim();
        if (p && !p.startsWith("#")) {
          text = p;
          break outer;
        }
      }
    }
  }
  text = plainText(text);
  if (text.length <= 200) return text;
  const cut = text.slice(0, 200);
  return cut.slice(0, Math.max(cut.lastIndexOf(" "), 150)) + " …";
}

/**
 * Every finding the notebook emitted (`application/vnd.quantlab.finding+json`, an object or an
 * array of them), with `notebook` set to `notebookName`. Not validated here.
 */
export function collectFindings(nb: Notebook, notebookName: string): Finding[] {
  const out: Finding[] = [];
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      const f = o.data?.[FINDING_MIME];
      if (f === undefined) continue;
      for (const one of (Array.isArray(f) ? f : [f]) as FindingInput[]) {
        out.push({ ...one, notebook: notebookName } as Finding);
      }
    }
  }
  return out;
}

function withXmlns(html: string): string {
  return html.replace(/<svg\b(?![^>]*\sxmlns=)/g, '<svg xmlns="http://www.w3.org/2000/svg"');
}

/** One output as HTML (unsanitized). The finding MIME entry is data, not shown by itself. */
export function renderOutput(o: NbOutput): string {
  switch (o.output_type) {
    case "stream": {
      const cls = o.name === "stderr" ? "ql-stream ql-stderr" : "ql-stream";
      return `<pre class="${cls}">${escapeHtml(stripAnsi(joinText(o.text)))}</pre>`;
    }
    case "error": {
      const tb = (o.traceback ?? []).map(stripAnsi).join("\n") ||
        `${o.ename ?? "Error"}: ${o.evalue ?? ""}`;
      return `<pre class="ql-error">${escapeHtml(tb)}</pre>`;
    }
    default: {
      const d = o.data ?? {};
      if (d["text/html"] !== undefined) {
        return `<div class="ql-html">${withXmlns(joinText(d["text/html"] as string))}</div>`;
      }
      if (d["image/svg+xml"] !== undefined) {
        return `<div class="ql-svg">${withXmlns(joinText(d["image/svg+xml"] as string))}</div>`;
      }
      for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
        if (typeof d[mime] === "string") {
          const b64 = (d[mime] as string).replace(/\s+/g, "");
          return `<img alt="" src="data:${mime};base64,${b64}">`;
        }
      }
      if (d["text/markdown"] !== undefined) {
        return renderMarkdown(joinText(d["text/markdown"] as string));
      }
      if (d["application/json"] !== undefined) {
        return `<pre>${escapeHtml(JSON.stringify(d["application/json"], null, 2))}</pre>`;
      }
      if (d["text/plain"] !== undefined) {
        return `<pre class="ql-result">${
          escapeHtml(stripAnsi(joinText(d["text/plain"] as string)))
        }</pre>`;
      }
      return "";
    }
  }
}

function distinct(values: (string | null | undefined)[]): string | undefined {
  const set = [...new Set(values.filter((v): v is string => typeof v === "string" && v !== ""))];
  return set.length ? set.join(", ") : undefined;
}

function executionRows(
  ex: ExecutionInfo | undefined,
  reported: RunInfo[],
  compute: Record<string, number>,
): [string, string][] {
  if (!ex) return [["execution", "not recorded (notebook was not run by execute_notebook.py)"]];
  const probe: RunInfo = typeof ex.epilogue === "object" && ex.epilogue !== null ? ex.epilogue : {};
  const infos = reported.length > 0 ? reported : [probe];
  const backend = distinct(infos.map((i) => i.backend)) ??
    "not recorded (no tfjs in the kernel and no runInfo output)";
  const deno = distinct(infos.map((i) => i.deno)) ??
    (ex.kernel.replace(/^Deno kernel\s*/i, "") || "?");
  return [
    ["profile", ex.profile + (ex.recompute ? " (recomputed)" : "")],
    ["backend", backend],
    ["versions", `Deno ${deno} · tfjs ${distinct(infos.map((i) => i.tfjs)) ?? "—"}`],
    ["executed", ex.started],
    ["compute time", computeText(compute)],
    ["build time", `${formatDuration(ex.wall_seconds)} to execute the notebook in this build`],
  ];
}

/** The run header of a page: its rows as a definition list. */
export function runHeader(rows: [string, string][]): string {
  return `<header class="ql-run"><dl>${
    rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")
  }</dl></header>`;
}

/** A self-contained page: `body` inside the HTML shell with the report stylesheet. */
export function pageDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${STYLESHEET}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** Options of {@linkcode renderNotebookPage}. */
export interface PageOptions {
  /** Notebook file name, e.g. `02_ste.ipynb`. */
  notebook: string;
  run: RunMeta;
  /** Repository root: `file://<root>/` prefixes in outputs become relative paths. */
  root?: string;
  /** Link back to `index.html` (default true; false for a page that stands alone). */
  indexLink?: boolean;
}

/**
 * Render one executed notebook as a self-contained page: header with run metadata, markdown
 * cells rendered, code collapsed, outputs inline (sanitized: see `sanitizeHtml`).
 */
export function renderNotebookPage(nb: Notebook, opts: PageOptions): Page {
  const base = opts.notebook.replace(/\.ipynb$/, "");
  const title = notebookTitle(nb, base);
  const removed: string[] = [];
  const clean = (html: string, where: string) => {
    const s = sanitizeHtml(html, opts.root);
    removed.push(...s.removed.map((r) => `${where}: ${r}`));
    return s.html;
  };
  let charts = 0;
  const parts = nb.cells.map((cell, i) => {
    const src = joinText(cell.source);
    if (cell.cell_type === "markdown") {
      return `<section class="ql-cell ql-md">${clean(renderMarkdown(src), `cell #${i}`)}</section>`;
    }
    if (cell.cell_type === "raw") return "";
    const first = src.split("\n").find((l) => l.trim()) ?? "";
    const lines = src.split("\n").length;
    const code = src.trim()
      ? `<details class="ql-code"><summary>[${cell.execution_count ?? " "}] ${
        escapeHtml(first.trim())
      }${lines > 1 ? ` … (${lines} lines)` : ""}</summary><pre><code>${
        escapeHtml(src)
      }</code></pre></details>`
      : "";
    const outs = (cell.outputs ?? []).map((o) => {
      const html = renderOutput(o);
      charts += (html.match(/<svg\b[^>]*\sdata-chart\b/g) ?? []).length;
      return html ? `<div class="ql-output">${html}</div>` : "";
    }).join("\n");
    return `<section class="ql-cell">${clean(code + outs, `cell #${i}`)}</section>`;
  });
  const ex = nb.metadata.quantlab?.execution;
  const reported = collectRunInfo(nb);
  const compute = computeRuns(reported, opts.notebook);
  const header = runHeader([
    ["notebook", opts.notebook],
    ["commit", commitText(ex?.commit ?? opts.run.commit)],
    ["built", opts.run.date],
    ...executionRows(ex, reported, compute),
  ]);
  const nav = opts.indexLink === false
    ? ""
    : `<nav class="ql-nav"><a href="index.html">← all reports</a></nav>\n`;
  const body = `${nav}${header}\n` +
    parts.filter(Boolean).join("\n");
  return {
    file: `${base}.html`,
    notebook: opts.notebook,
    title,
    summary: notebookSummary(nb),
    html: pageDocument(title, body),
    findings: collectFindings(nb, opts.notebook),
    charts,
    removed,
    execution: ex,
    compute,
  };
}

/**
 * The commit a build ran at, as the header shows it: `abc123 (the working tree had uncommitted
 * changes)` for `abc123-dirty` (scripts/build_reports.ts).
 */
export function commitText(commit: string): string {
  return commit.endsWith("-dirty")
    ? `${commit.slice(0, -6)} (built with uncommitted changes in the working tree)`
    : commit;
}
