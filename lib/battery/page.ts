/**
 * The battery's report card as a self-contained HTML page, rendered by the same code as the
 * notebook reports (`lib/report`), so it is sanitized and checked the same way.
 *
 * @module
 */
import { join } from "node:path";
import type { Display } from "../display.ts";
import { checkPage, type Notebook, type Page, renderNotebookPage } from "../report/mod.ts";
import { batteryReport, type BatteryResult, slug } from "./mod.ts";

/** The card as a one-cell executed notebook (what the report renderer takes). */
function asNotebook(x: BatteryResult, card: Display): Notebook {
  return {
    cells: [
      { cell_type: "markdown", source: `# Battery: ${x.candidate.name}`, metadata: {} },
      {
        cell_type: "code",
        source: `battery(${JSON.stringify(x.candidate.ref)}${
          x.speech ? ", { speech: true }" : ""
        })`,
        execution_count: 1,
        metadata: {},
        outputs: [{ output_type: "display_data", data: card.bundle }],
      },
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Render the card; `problems` lists what the page check found (empty when it is good). */
export function renderBatteryPage(
  x: BatteryResult,
  run: { commit: string; date: string },
): { page: Page; problems: string[] } {
  const file = `battery_${slug(x.candidate.name)}.ipynb`;
  const page = renderNotebookPage(asNotebook(x, batteryReport(x)), {
    notebook: file,
    run,
    indexLink: false,
  });
  const check = checkPage(page.html);
  const problems = [...check.problems];
  if (check.charts !== page.charts) {
    problems.push(`the card has ${page.charts} chart(s) but the page shows ${check.charts}`);
  }
  return { page, problems };
}

/** Write the card into `dir` (created); returns the page's path. Throws listing any problem. */
export async function writeBatteryPage(
  x: BatteryResult,
  dir: string,
  run: { commit: string; date: string },
): Promise<string> {
  const { page, problems } = renderBatteryPage(x, run);
  if (problems.length > 0) {
    throw new Error(`battery page for ${x.candidate.name}: ${problems.join("; ")}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, page.file);
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, page.html);
  await Deno.rename(tmp, path);
  return path;
}
