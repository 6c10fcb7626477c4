/**
 * Checks a built report must pass before it is declared done (run by scripts/build_reports.ts
 * and by the tests): pages are self-contained, charts have real marks, ids are page-unique, the
 * index links every page and findings.json validates.
 *
 * @module
 */
import { join } from "node:path";
import { parseHTML } from "linkedom";
import { validateFindings } from "./findings.ts";

interface El {
  tagName: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  textContent: string | null;
}

function parse(html: string): { querySelectorAll(s: string): ArrayLike<El> } {
  return (parseHTML(html) as unknown as {
    document: { querySelectorAll(s: string): ArrayLike<El> };
  })
    .document;
}

const FORBIDDEN_TAGS = ["script", "iframe", "object", "embed", "link", "base", "frame", "applet"];
const SRC_ATTRS = new Set(["src", "srcset", "poster", "data", "background"]);
const HREF_ATTRS = new Set(["href", "xlink:href", "action", "formaction", "ping"]);
/** Plot's non-data groups: axes, grids, frames, labels. */
const DECORATION = /axis|grid|frame|tick|label/i;
const MARK_TAGS = "path, circle, rect, line, polyline, polygon, ellipse";

/** Options of {@linkcode checkPage}. */
export interface PageCheckOptions {
  /** Allow links to sibling pages (`02_ste.html`), as the index and the page nav do. */
  pageLinks?: boolean;
  /** Fail unless the page has at least this many charts. */
  minCharts?: number;
}

/** What {@linkcode checkPage} found. */
export interface PageCheck {
  problems: string[];
  charts: number;
  /** Data-mark elements per chart, in page order. */
  marks: number[];
}

/**
 * Check one page: no scripts/frames/external links or resources (`src` only `data:`, `href` only
 * `#…`, `data:` or a sibling page), no `http:`/`https:`/`file:` anywhere except `xmlns`, no CSS
 * `url()`/`@import`/`@font-face`, no event handlers, unique ids, every `<svg>` with the SVG
 * `xmlns`, and every chart (`svg[data-chart]`) with data marks (paths, circles, rects … inside a
 * Plot mark group, not just axes).
 */
export function checkPage(html: string, opts: PageCheckOptions = {}): PageCheck {
  const problems: string[] = [];
  const doc = parse(html);
  const all = Array.from(doc.querySelectorAll("*"));
  const ids = new Map<string, number>();
  for (const el of all) {
    const tag = el.tagName.toLowerCase();
    if (FORBIDDEN_TAGS.includes(tag)) problems.push(`forbidden element <${tag}>`);
    if (tag === "meta" && el.getAttribute("http-equiv")) {
      problems.push(`forbidden <meta http-equiv="${el.getAttribute("http-equiv")}">`);
    }
    for (const { name, value } of Array.from(el.attributes)) {
      const n = name.toLowerCase();
      const v = value.trim();
      if (n.startsWith("on")) problems.push(`<${tag}> has event handler ${n}`);
      if (n === "id") ids.set(v, (ids.get(v) ?? 0) + 1);
      if (SRC_ATTRS.has(n) && !v.startsWith("data:")) {
        problems.push(`<${tag} ${n}="${v.slice(0, 80)}"> loads something other than data:`);
      }
      if (HREF_ATTRS.has(n)) {
        const ok = v.startsWith("#") || v.startsWith("data:") ||
          (opts.pageLinks && /^[\w.-]+\.(html|json)(#[\w-]*)?$/.test(v));
        if (!ok) problems.push(`<${tag} ${n}="${v.slice(0, 80)}"> points outside the page`);
      }
      if (n === "style" && /url\(\s*['"]?(?!#|data:)/i.test(v)) {
        problems.push(`<${tag}> style loads an external url()`);
      }
    }
    if (tag === "style") {
      const css = el.textContent ?? "";
      if (/@import|@font-face/i.test(css)) problems.push("stylesheet uses @import or @font-face");
      if (/url\(\s*['"]?(?!#|data:)/i.test(css)) {
        problems.push("stylesheet loads an external url()");
      }
    }
    if (tag === "svg" && el.getAttribute("xmlns") !== "http://www.w3.org/2000/svg") {
      problems.push(`<svg class="${el.getAttribute("class") ?? ""}"> lacks the SVG xmlns`);
    }
  }
  for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" is used ${n} times`);
  const withoutXmlns = html.replace(/\sxmlns(?::[\w-]+)?\s*=\s*"[^"]*"/g, "");
  for (const m of withoutXmlns.matchAll(/\b(https?|file):(?!\s)/gi)) {
    const at = m.index ?? 0;
    problems.push(`external URL scheme "${m[1]}:" in "${withoutXmlns.slice(at, at + 60)}"`);
  }
  const marks = Array.from(doc.querySelectorAll("svg[data-chart]")).map((svg) =>
    Array.from(svg.querySelectorAll("g[aria-label]"))
      .filter((g) => !DECORATION.test(g.getAttribute("aria-label") ?? ""))
      .reduce((n, g) => n + g.querySelectorAll(MARK_TAGS).length, 0)
  );
  marks.forEach((n, i) => {
    if (n === 0) problems.push(`chart ${i + 1} has no data marks (an empty chart)`);
  });
  if (opts.minCharts !== undefined && marks.length < opts.minCharts) {
    problems.push(`expected at least ${opts.minCharts} chart(s), found ${marks.length}`);
  }
  return { problems, charts: marks.length, marks };
}

/** Pages the index does not link (`files` are page file names like `02_ste.html`). */
export function checkIndex(html: string, files: string[]): string[] {
  const hrefs = new Set(
    Array.from(parse(html).querySelectorAll("a[href]")).map((a) => a.getAttribute("href")),
  );
  return files.filter((f) => !hrefs.has(f)).map((f) => `index.html does not link ${f}`);
}

/** Result of {@linkcode checkReportDir}. */
export interface ReportCheck {
  problems: string[];
  pages: string[];
  charts: Record<string, number>;
}

/**
 * Check a whole report directory: every `*.html` page (see {@linkcode checkPage}), the index
 * linking all of them, and `findings.json` against the schema. `expectedPages` (file names) must
 * all exist when given.
 */
export async function checkReportDir(dir: string, expectedPages?: string[]): Promise<ReportCheck> {
  const problems: string[] = [];
  const pages: string[] = [];
  const charts: Record<string, number> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".html") && e.name !== "index.html") pages.push(e.name);
  }
  pages.sort();
  for (const name of expectedPages ?? []) {
    if (!pages.includes(name)) problems.push(`${name}: missing from ${dir}`);
  }
  for (const name of pages) {
    const r = checkPage(await Deno.readTextFile(join(dir, name)), { pageLinks: true });
    charts[name] = r.charts;
    problems.push(...r.problems.map((p) => `${name}: ${p}`));
  }
  try {
    const index = await Deno.readTextFile(join(dir, "index.html"));
    problems.push(...checkPage(index, { pageLinks: true }).problems.map((p) => `index.html: ${p}`));
    problems.push(...checkIndex(index, pages));
  } catch (err) {
    problems.push(`index.html: cannot read: ${err}`);
  }
  try {
    const findings = JSON.parse(await Deno.readTextFile(join(dir, "findings.json")));
    problems.push(...validateFindings(findings).map((p) => `findings.json: ${p}`));
    for (const f of findings as { notebook?: string; id?: string }[]) {
      const page = f.notebook?.replace(/\.ipynb$/, ".html");
      if (page && !pages.includes(page)) {
        problems.push(`findings.json: ${f.id} names ${f.notebook}, which has no page`);
      }
    }
  } catch (err) {
    problems.push(`findings.json: cannot read or parse: ${err}`);
  }
  return { problems, pages, charts };
}
