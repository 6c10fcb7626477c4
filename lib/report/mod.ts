/**
 * Static HTML reports from executed notebooks: one self-contained page per notebook,
 * `index.html` linking them, and `findings.json` (see `findings.schema.json`).
 *
 * @example
 * ```ts
 * // Not run by `deno test --doc`: it needs executed notebooks (scripts/build_reports.ts has them).
 * async function build(executed: string, outDir: string) {
 *   const built = await writeReports({
 *     notebooks: [{ name: "01_data.ipynb", executed }],
 *     outDir, run: { commit: "abc1234", date: new Date().toISOString() },
 *     profile: "full", wallSeconds: 120, deno: Deno.version.deno,
 *   });
 *   if (built.problems.length) throw new Error(built.problems.join("\n"));
 * }
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { checkPage, checkReportDir } from "./check.ts";
import { type Finding, validateFindings } from "./findings.ts";
import { type Notebook, type Page, renderNotebookPage, type RunMeta } from "./notebook.ts";
import { renderIndex } from "./index_page.ts";

export * from "./check.ts";
export * from "./findings.ts";
export * from "./html.ts";
export * from "./index_page.ts";
export * from "./notebook.ts";
export * from "./publish.ts";

/** Input of {@linkcode writeReports}. */
export interface ReportInput {
  /** Notebooks in report order: file name and path of the executed copy. */
  notebooks: { name: string; executed: string }[];
  outDir: string;
  run: RunMeta;
  profile: string;
  /** Wall time of the whole build, seconds. */
  wallSeconds: number;
  deno: string;
  /** Repository root, to turn `file://<root>/…` in outputs into relative paths. */
  root?: string;
}

/** The profiles the pages were executed in: "full", or e.g. "full (5), quick (2)" when mixed. */
function profiles(pages: Page[], fallback: string): string {
  const counts = new Map<string, number>();
  for (const p of pages) {
    const name = p.execution?.profile ?? fallback;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (counts.size <= 1) return [...counts.keys()][0] ?? fallback;
  return [...counts].map(([name, n]) => `${name} (${n})`).join(", ");
}

/** What {@linkcode writeReports} wrote and every problem found (empty when the report is good). */
export interface ReportOutput {
  pages: Page[];
  findings: Finding[];
  problems: string[];
  /** Sanitizer removals per page (external URLs, scripts …): flagged, not fatal. */
  removed: Record<string, string[]>;
}

/**
 * Render every executed notebook, write pages, index and findings.json into `outDir`, then check
 * the written directory. Older pages this builder wrote for notebooks no longer listed are
 * removed. Problems are returned, not thrown, so the caller can list them all.
 */
export async function writeReports(input: ReportInput): Promise<ReportOutput> {
  await Deno.mkdir(input.outDir, { recursive: true });
  const problems: string[] = [];
  const pages: Page[] = [];
  const removed: Record<string, string[]> = {};
  for (const nb of input.notebooks) {
    const json = JSON.parse(await Deno.readTextFile(nb.executed)) as Notebook;
    const page = renderNotebookPage(json, { notebook: nb.name, run: input.run, root: input.root });
    const check = checkPage(page.html, { pageLinks: true });
    problems.push(...check.problems.map((p) => `${page.file}: ${p}`));
    if (check.charts !== page.charts) {
      problems.push(
        `${page.file}: the notebook has ${page.charts} chart(s) but the page shows ${check.charts}`,
      );
    }
    const ex = json.metadata.quantlab?.execution;
    if (!ex) problems.push(`${nb.name}: not executed by execute_notebook.py (no metadata)`);
    else if (!ex.ok) problems.push(`${nb.name}: its execution failed (metadata says ok: false)`);
    if (page.removed.length > 0) removed[page.file] = page.removed;
    pages.push(page);
  }
  const findings = pages.flatMap((p) => p.findings);
  const seen = new Map<string, string>();
  for (const f of findings) {
    const first = seen.get(f.id);
    if (first) problems.push(`finding ${f.id} is emitted by ${first} and again by ${f.notebook}`);
    else seen.set(f.id, f.notebook);
  }
  problems.push(...validateFindings(findings).map((p) => `findings.json: ${p}`));
  const keep = new Set(pages.map((p) => p.file));
  for await (const e of Deno.readDir(input.outDir)) {
    if (!e.isFile || !e.name.endsWith(".html") || e.name === "index.html" || keep.has(e.name)) {
      continue;
    }
    const path = join(input.outDir, e.name);
    if ((await Deno.readTextFile(path)).includes('class="ql-run"')) await Deno.remove(path);
  }
  for (const p of pages) await Deno.writeTextFile(join(input.outDir, p.file), p.html);
  await Deno.writeTextFile(
    join(input.outDir, "index.html"),
    renderIndex(pages, findings, {
      ...input.run,
      ...input,
      profile: profiles(pages, input.profile),
    }),
  );
  await Deno.writeTextFile(
    join(input.outDir, "findings.json"),
    JSON.stringify(findings, null, 2) + "\n",
  );
  const dir = await checkReportDir(input.outDir, pages.map((p) => p.file));
  for (const p of dir.problems) if (!problems.includes(p)) problems.push(p);
  return { pages, findings, problems, removed };
}
