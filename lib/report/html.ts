/**
 * HTML building blocks shared by notebook displays and static reports: escaping, markdown,
 * number formatting, the inline stylesheet, and the sanitizer that keeps pages self-contained.
 *
 * @module
 */
import { Marked, type Tokens } from "marked";
import { VERDICT_COLOURS, verdictCss } from "./verdicts.ts";

/** Escape text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Remove ANSI colour/control sequences (kernel tracebacks, coloured logs). */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "");
}

/**
 * A number as a researcher reads it: integers as they are, 4 significant digits otherwise,
 * exponent notation outside [1e-3, 1e5); `null`/NaN as "—" and infinities as "∞"/"−∞".
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "−∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** A URL's text without its scheme, for showing a reference where no link may be. */
function urlText(href: string): string {
  return href.replace(/^[a-z][a-z0-9+.-]*:\/*/i, "");
}

const marked = new Marked({
  gfm: true,
  renderer: {
    // Reports are offline: an external link becomes its text plus the address without scheme.
    link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      if (token.href.startsWith("#")) return `<a href="${escapeHtml(token.href)}">${text}</a>`;
      const shown = urlText(token.href);
      if (token.text === token.href || urlText(token.text) === shown) {
        return `<span class="ql-ref">${escapeHtml(shown)}</span>`;
      }
      return `${text} <span class="ql-ref">(${escapeHtml(shown)})</span>`;
    },
    image(token: Tokens.Image) {
      if (token.href.startsWith("data:")) {
        return `<img src="${escapeHtml(token.href)}" alt="${escapeHtml(token.text)}">`;
      }
      return `<span class="ql-ref">[image: ${
        escapeHtml(token.text || urlText(token.href))
      }]</span>`;
    },
  },
});

/** Markdown (GFM) to HTML; external links and images are turned into plain references. */
export function renderMarkdown(markdown: string): string {
  return marked.parse(markdown, { async: false }) as string;
}

/** What {@linkcode sanitizeHtml} removed, one short description each. */
export interface Sanitized {
  html: string;
  removed: string[];
}

const URL_ATTRS = "href|src|xlink:href|srcset|action|formaction|poster|background|data|ping";

/**
 * Make an HTML fragment self-contained: drop scripts, frames, `<link>`/`<base>`/`<meta>`,
 * event-handler attributes, URL attributes other than `#…`/`data:`, CSS `url()`/`@import` to
 * anything but `#…`/`data:`, and `http(s):`/`file:` schemes in text (absolute `file://<root>/`
 * paths become repository-relative). `xmlns` attributes are left alone. Everything removed is
 * listed so the caller can flag it.
 */
export function sanitizeHtml(fragment: string, root?: string): Sanitized {
  const removed: string[] = [];
  let html = fragment;
  html = html.replace(/<(script|iframe|object|embed)\b[\s\S]*?<\/\1\s*>/gi, (_m, tag) => {
    removed.push(`<${tag.toLowerCase()}> element`);
    return "";
  });
  html = html.replace(/<(script|iframe|object|embed|link|base|meta)\b[^>]*>/gi, (_m, tag) => {
    removed.push(`<${tag.toLowerCase()}> element`);
    return "";
  });
  html = html.replace(/<\/(script|iframe|object|embed)\s*>/gi, "");
  html = html.replace(
    /(<[a-zA-Z][^>]*?)\s(on[a-z]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/g,
    (_m, pre, name) => {
      removed.push(`${name} attribute`);
      return pre;
    },
  );
  html = html.replace(
    new RegExp(`(<[a-zA-Z][^>]*?)\\s(${URL_ATTRS})\\s*=\\s*("[^"]*"|'[^']*'|[^\\s>]+)`, "gi"),
    (m, pre, name: string, quoted: string) => {
      const value = quoted.replace(/^["']|["']$/g, "").trim();
      const lower = name.toLowerCase();
      const ok = value.startsWith("data:") || (value.startsWith("#") && lower.endsWith("href"));
      if (ok) return m;
      removed.push(`${lower}="${value.slice(0, 60)}"`);
      return pre;
    },
  );
  html = html.replace(/url\(\s*(['"]?)(?!#|data:)([^)'"]*)\1\s*\)/gi, (_m, _q, url: string) => {
    removed.push(`url(${url.slice(0, 60)})`);
    return "none";
  });
  html = html.replace(/@import\s+[^;]+;?/gi, (m) => {
    removed.push(m.slice(0, 60));
    return "";
  });
  if (root) html = html.replaceAll(`file://${root.replace(/\/$/, "")}/`, "");
  html = html.replace(
    /(xmlns(?::[\w-]+)?\s*=\s*"[^"]*")|\b(?:https?|file):\/*/gi,
    (m, xmlns) => {
      if (xmlns) return m;
      removed.push(`${m} scheme`);
      return "";
    },
  );
  return { html, removed };
}

/** The inline stylesheet of every report page: system fonts only, readable measure. */
export const STYLESHEET = `
:root { color-scheme: light; --fg: #1d1f21; --muted: #5c6166; --rule: #d9dcdf; --bg-code: #f5f6f7;
  --ok: ${VERDICT_COLOURS.reproduced}; --bad: ${VERDICT_COLOURS["not reproduced"]};
  --partial: ${
  VERDICT_COLOURS["partially reproduced"]
}; --unsure: ${VERDICT_COLOURS.inconclusive}; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--fg); background: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.55; }
main { max-width: 54rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h1 { font-size: 1.9rem; margin-top: 0.4em; }
h2 { font-size: 1.4rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.2em; }
h3 { font-size: 1.15rem; }
p, ul, ol { margin: 0.6em 0; }
a { color: #1a5fb4; }
code, pre, kbd { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 0.86em; }
:not(pre) > code { background: var(--bg-code); padding: 0.1em 0.3em; border-radius: 3px; }
pre { background: var(--bg-code); padding: 0.6em 0.8em; overflow-x: auto; border-radius: 4px;
  line-height: 1.4; margin: 0.4em 0; white-space: pre-wrap; word-break: break-word; }
p, li, dd, figcaption, caption { overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; font-variant-numeric: tabular-nums;
  display: block; max-width: 100%; overflow-x: auto; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid var(--fg); }
td.num, th.num { text-align: right; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: 0.9em; padding-bottom: 0.3em; }
figure { margin: 0.8em 0; }
figcaption { color: var(--muted); font-size: 0.9em; }
figure h2, figure h3 { font-size: 1rem; border: 0; margin: 0.2em 0; padding: 0; }
svg { max-width: 100%; height: auto; }
figure > div, .ql-html > div { max-width: 100%; }
.ql-run { font-size: 0.85em; color: var(--muted); border: 1px solid var(--rule); border-radius: 4px;
  padding: 0.5em 0.8em; margin: 0 0 1.5em; }
.ql-run dl { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 0.1em 1em; margin: 0; }
.ql-run dt { font-weight: 600; } .ql-run dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.ql-glossary { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2em 1em; }
.ql-glossary dt { font-weight: 600; } .ql-glossary dd { margin: 0; }
details.ql-settings { margin: 0.6em 0; } details.ql-settings > summary { cursor: pointer; color: var(--muted); }
@media (max-width: 40rem) {
  main { padding: 1rem 0.75rem 3rem; }
  h1 { font-size: 1.55rem; }
  .ql-run dl { grid-template-columns: max-content minmax(0, 1fr); }
  /* Columns keep a readable width and the table scrolls in its own box instead. */
  th, td { min-width: 6.5em; }
  /* The index's tables become one card per row, the verdict first, each field labelled. */
  table.ql-cards, table.ql-cards tbody, table.ql-cards td { display: block; overflow: visible; }
  table.ql-cards thead { display: none; }
  table.ql-cards tr { display: flex; flex-direction: column; border-bottom: 2px solid var(--rule);
    padding: 0.4em 0; }
  table.ql-cards { width: 100%; }
  table.ql-cards td { border: 0; padding: 0.1em 0; min-width: 0; text-align: left;
    overflow-wrap: anywhere; }
  table.ql-cards td.ql-first { order: -1; }
  table.ql-cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-size: 0.85em; }
}
.ql-nav { font-size: 0.9em; margin-bottom: 1em; }
.ql-cell { margin: 0.8em 0; }
details.ql-code > summary { cursor: pointer; color: var(--muted); font-size: 0.85em;
  font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
details.ql-code > pre { margin-top: 0.2em; }
.ql-output { margin: 0.3em 0 0.3em 0; overflow-x: auto; }
pre.ql-stderr { background: #fff6e5; }
pre.ql-error { background: #fdecea; color: var(--bad); }
.ql-ref { color: var(--muted); font-size: 0.92em; }
.ql-verdict { overflow-wrap: anywhere; border-left: 5px solid var(--unsure); background: #f6f7f9; padding: 0.6em 0.9em;
  margin: 0.8em 0; border-radius: 0 4px 4px 0; }
.ql-verdict .ql-badge { font-weight: 700; text-transform: uppercase; font-size: 0.8em; letter-spacing: 0.04em; }
.ql-badge { display: inline-block; padding: 0.05em 0.45em; border-radius: 3px; color: #fff;
  background: var(--unsure); font-size: 0.8em; font-weight: 600; white-space: nowrap; }
${verdictCss()}
`.trim();
