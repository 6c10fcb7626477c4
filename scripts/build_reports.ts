/**
 * `./quantlab reports`: execute notebooks headlessly on the Deno kernel and write the static
 * reports: `<out>/<name>.html` per notebook, `<out>/index.html`, `<out>/findings.json`.
 *
 *   deno run -A scripts/build_reports.ts [--quick] [--recompute] [--only <name>] [--out <dir>]
 *                                        [--jobs <n>] [--timeout <s>] [--notebooks <dir>]
 *                                        [--executed <dir>]
 *
 * --quick      QUANTLAB_PROFILE=quick (default: full, the profile committed reports come from)
 * --recompute  QUANTLAB_RECOMPUTE=1: ignore the result cache
 * --only NAME  execute only this notebook (`02_ste` or `02_ste.ipynb`); the report then holds
 *              only its page
 * --out DIR    report directory (default: `reports` for a full build of every notebook,
 *              `.cache/reports-quick` for a quick or `--only` build)
 * --jobs N     notebooks executed at once (default 1: later notebooks may read earlier results)
 * --timeout S  per-cell timeout in seconds (default 3600)
 * --notebooks DIR, --executed DIR   where notebooks are read and executed copies written
 *              (default: notebooks, .cache/executed)
 *
 * The committed `reports/` is one consistent full-profile build of every notebook at one commit,
 * so a quick or `--only` build never writes there: by default it goes to `.cache/reports-quick`
 * (git-ignored), and `--out reports` with `--quick`/`--only` is refused (exit 2).
 *
 * The report is built aside (`.<out>.staging-<pid>` beside `<out>`, see lib/report/publish.ts)
 * and every check runs there; only a build that passes all of them replaces `<out>`. A failed
 * build leaves `<out>` untouched and keeps what it wrote in `.<out>.failed` for inspection.
 *
 * SIGTERM, SIGINT or SIGHUP stop the build: each running executor gets SIGTERM (it shuts its
 * Deno kernel down, and the kernel's grid workers die with it) and a headless Chromium checking
 * the pages SIGKILL, the builder waits for them, removes its staging directory and exits 143
 * (130, 129); `<out>` is untouched. From the signal on no further notebook is started, also when
 * the signal lands while a notebook is finishing (its executor exiting, its commit being
 * recorded) or while the next executor is being spawned; and nothing the stop interrupts is
 * reported as a failure (the stop's exit status stands).
 *
 * Exits 2 on a usage error (unknown flag, bad value, an `--out` that cannot be written, named
 * before any notebook runs). Exits 1, naming the notebook, when any cell errors or misses its
 * expected output (see scripts/execute_notebook.py), when the report fails its checks
 * (lib/report/check.ts), or when headless Chromium, at phone (390 px) and laptop (1280 px)
 * width, shows a chart without size or marks or a page that scrolls sideways
 * (scripts/browser_check.ts).
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { jupyterEnv, ROOT, writeKernelSpec } from "./kernel.ts";
import { keepFailed, publishDir, replaceable, stageDir, writeReports } from "../lib/report/mod.ts";
import { browserCheck, killBrowsers } from "./browser_check.ts";

/** Viewport widths every page is checked at: a phone and a laptop. */
const VIEWPORTS = [390, 1280];

const PYTHON = "/usr/bin/python3";
const EXECUTOR = join(ROOT, "scripts", "execute_notebook.py");

/**
 * Run after a notebook's last cell, outside it: the tfjs backend and versions as the kernel saw
 * them (tfjs is not imported when the notebook did not use it).
 */
const PROBE = `await (async () => {
  const engine = (globalThis as { _tfengine?: { backendName?: string } })._tfengine;
  const tfjs = engine ? (await import("@tensorflow/tfjs-core")).version_core : null;
  const info = { deno: Deno.version.deno, backend: engine?.backendName ?? null, tfjs };
  return { [Symbol.for("Jupyter.display")]: () => ({ "application/json": info }) };
})()`;

function log(msg: string): void {
  console.error(`[reports] ${msg}`);
}

function fail(msg: string): never {
  console.error(`[reports] FAILED: ${msg}`);
  Deno.exit(1);
}

async function git(...args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command("git", { args, cwd: ROOT, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

/**
 * `abc123def456` or `abc123def456-dirty` (tracked files changed, the build's own output
 * `reports/` aside: a rebuild over an uncommitted build is not "dirty"); "unknown" outside a git
 * checkout. Pages show it as the commit they were built from (lib/report `commitText`).
 */
async function commitId(): Promise<string> {
  const head = await git("rev-parse", "--short=12", "HEAD");
  if (!head) return "unknown";
  const dirty = await git(
    "status",
    "--porcelain",
    "--untracked-files=no",
    "--",
    ".",
    ":(exclude)reports",
  );
  return dirty ? `${head}-dirty` : head;
}

function label(name: string): string {
  const m = name.match(/^(\d+)/);
  return m ? `nb ${m[1]}` : name.replace(/\.ipynb$/, "");
}

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  code: number;
}

/** Executors running now, so a signal can stop them (see the module doc). */
const running = new Set<Deno.ChildProcess>();

/**
 * Set by a stop signal (the stop in progress, which exits the process): from then on no executor
 * is started. `execute` checks it and registers its child in {@linkcode running} in the same
 * synchronous step as the spawn, so a signal either finds the child there or stops the spawn.
 */
let stopping: Promise<never> | null = null;

/** Execute one notebook; null when the build is stopping (nothing was started). */
async function execute(
  path: string,
  out: string,
  env: Record<string, string>,
  timeout: number,
): Promise<Outcome | null> {
  const name = basename(path);
  const t0 = performance.now();
  if (stopping) return null;
  const child = new Deno.Command(PYTHON, {
    args: [
      EXECUTOR,
      path,
      "--out",
      out,
      "--timeout",
      String(timeout),
      "--label",
      label(name),
      "--epilogue",
      PROBE,
    ],
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  running.add(child);
  const status = await child.status.finally(() => running.delete(child));
  return { name, ok: status.success, seconds: (performance.now() - t0) / 1000, code: status.code };
}

/** Stamp the commit a notebook was executed at into its executed copy (shown in its page). */
async function recordCommit(path: string, commit: string): Promise<void> {
  const nb = JSON.parse(await Deno.readTextFile(path));
  nb.metadata.quantlab.execution.commit = commit;
  await Deno.writeTextFile(path, JSON.stringify(nb, null, 1) + "\n");
}

const USAGE = `usage: ./quantlab reports [--quick] [--recompute] [--only NAME] [--out DIR]
                         [--jobs N] [--timeout S] [--notebooks DIR] [--executed DIR]
  --quick      quick profile (default: full); output defaults to .cache/reports-quick
  --recompute  ignore the result cache
  --only NAME  execute only this notebook; output defaults to .cache/reports-quick
  --out DIR    report directory (default: reports for a full build of every notebook)
  --jobs N     notebooks executed at once (default 1)
  --timeout S  per-cell timeout in seconds (default 3600)`;

/** A usage error: the message, the usage text, exit 2 (nothing has run). */
function usage(msg: string): never {
  console.error(`[reports] ${msg}\n${USAGE}`);
  Deno.exit(2);
}

/** The committed report directory: only a full build of every notebook may replace it. */
const COMMITTED = join(ROOT, "reports");
/** Where quick and `--only` builds go unless `--out` says otherwise (git-ignored). */
const PREVIEW = join(ROOT, ".cache", "reports-quick");

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        help: { type: "boolean", short: "h", default: false },
        quick: { type: "boolean", default: false },
        recompute: { type: "boolean", default: false },
        only: { type: "string" },
        out: { type: "string" },
        jobs: { type: "string", default: "1" },
        timeout: { type: "string", default: "3600" },
        notebooks: { type: "string", default: join(ROOT, "notebooks") },
        executed: { type: "string", default: join(ROOT, ".cache", "executed") },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) usage(`--jobs ${values.jobs}: expected an integer ≥ 1`);
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) usage(`--timeout ${values.timeout}: expected seconds > 0`);
  if (values.out === "") usage(`--out is empty: expected a directory`);
  const profile = values.quick ? "quick" : Deno.env.get("QUANTLAB_PROFILE") || "full";
  if (profile !== "quick" && profile !== "full") {
    usage(`QUANTLAB_PROFILE=${profile}: expected quick or full`);
  }
  const partial = profile !== "full" || values.only !== undefined;
  const nbDir = resolve(values.notebooks!);
  const outDir = resolve(values.out ?? (partial ? PREVIEW : COMMITTED));
  const executedDir = resolve(values.executed!);
  if (partial && outDir === COMMITTED) {
    usage(
      `refusing to write a ${profile !== "full" ? "quick-profile" : "partial (--only)"} build ` +
        `into ${COMMITTED}: it holds the committed full-profile reports of every notebook. ` +
        `Leave out --out (the build goes to ${PREVIEW}) or choose another directory.`,
    );
  }
  try {
    await Deno.stat(PYTHON);
  } catch {
    fail(`${PYTHON} not found; run scripts/bootstrap.sh --jupyter (installs Debian's Jupyter)`);
  }

  const all: string[] = [];
  try {
    for await (const e of Deno.readDir(nbDir)) {
      if (e.isFile && e.name.endsWith(".ipynb")) all.push(e.name);
    }
  } catch (err) {
    usage(`--notebooks ${nbDir}: cannot read: ${(err as Error).message}`);
  }
  all.sort();
  if (all.length === 0) usage(`no notebooks in ${nbDir}`);
  let run = all;
  if (values.only) {
    const want = values.only.endsWith(".ipynb") ? values.only : `${values.only}.ipynb`;
    if (!all.includes(want)) usage(`--only ${values.only}: not one of ${all.join(", ")}`);
    run = [want];
  }

  // Before any notebook runs: the destination must be ours to replace and its place writable.
  const why = await replaceable(outDir);
  if (why) usage(`--out ${outDir}: ${why}`);
  let stage: string;
  try {
    stage = await stageDir(outDir);
  } catch (err) {
    usage(`--out ${outDir}: ${(err as Error).message}`);
  }
  try {
    await Deno.mkdir(executedDir, { recursive: true });
  } catch (err) {
    usage(`--executed ${executedDir}: cannot create: ${(err as Error).message}`);
  }
  const abandon = async (msg: string): Promise<never> => {
    // What a stop interrupted is not a failure: the stop removes the staging directory and exits.
    if (stopping) await stopping;
    const kept = await keepFailed(stage, outDir).catch(async () =>
      (await Deno.stat(stage).then(() => true, () => false)) ? stage : null
    );
    fail(
      `${msg}\n  ${outDir} was left untouched; ` +
        (kept ? `this build's files are in ${kept}` : "this build's files were not kept"),
    );
  };

  const stop = (sig: "SIGTERM" | "SIGINT" | "SIGHUP", code: number) => {
    if (stopping) return;
    stopping = (async () => {
      log(`${sig} received: stopping ${running.size} notebook execution(s) and their kernels`);
      for (const child of running) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already exited.
        }
      }
      const browsersGone = killBrowsers(); // and no Chromium starts from here on
      await Promise.all([...running].map((c) => c.status.catch(() => {})));
      await browsersGone;
      await Deno.remove(stage, { recursive: true }).catch(() => {});
      log(`stopped: ${outDir} untouched, staging directory ${stage} removed`);
      Deno.exit(code);
    })();
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM", 143));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT", 130));
  Deno.addSignalListener("SIGHUP", () => stop("SIGHUP", 129));

  const loc = await writeKernelSpec();
  const env = jupyterEnv(loc);
  env.QUANTLAB_PROFILE = profile;
  if (values.recompute) env.QUANTLAB_RECOMPUTE = "1";

  log(
    `executing ${run.length} notebook(s) from ${nbDir}, profile ${profile}` +
      `${values.recompute ? ", recompute" : ""}, ${jobs} at a time, report to ${outDir}`,
  );
  const t0 = performance.now();
  const commit = await commitId();
  const outcomes: Outcome[] = [];
  const queue = [...run];
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      while (queue.length > 0 && !stopping) {
        const name = queue.shift()!;
        const o = await execute(join(nbDir, name), join(executedDir, name), env, timeout);
        // Stopped (before the spawn, or while this notebook ran): the stop reports and exits.
        if (o === null || stopping) return;
        if (o.ok) await recordCommit(join(executedDir, name), commit);
        outcomes.push(o);
        done++;
        log(
          `${done}/${run.length} ${name} ${o.ok ? "ok" : `FAILED (exit ${o.code})`} in ` +
            `${o.seconds.toFixed(1)} s`,
        );
      }
    }),
  );
  // A stop that arrived while the last notebooks finished: it exits; nothing more is done here.
  if (stopping) await stopping;
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) {
    await abandon(
      `${failed.map((o) => o.name).join(", ")} did not execute cleanly (see the FAILED lines ` +
        `above; partial outputs in ${executedDir})`,
    );
  }

  const notebooks = run.map((name) => ({ name, executed: join(executedDir, name) }));
  const wallSeconds = (performance.now() - t0) / 1000;
  let built: Awaited<ReturnType<typeof writeReports>>;
  try {
    built = await writeReports({
      notebooks,
      outDir: stage,
      run: { commit, date: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
      profile,
      wallSeconds,
      deno: Deno.version.deno,
      root: ROOT,
    });
  } catch (err) {
    return await abandon(`cannot render the report: ${(err as Error).stack ?? err}`);
  }
  for (const [page, items] of Object.entries(built.removed)) {
    log(`warning: ${page}: removed ${items.length} external reference(s): ${items.join("; ")}`);
  }
  if (built.problems.length > 0) {
    await abandon(`the report fails its checks:\n  ${built.problems.join("\n  ")}`);
  }
  const files = [...built.pages.map((p) => p.file), "index.html"];
  const browserProblems: string[] = [];
  let charts = 0, clips = 0, pictures = 0;
  for (const width of VIEWPORTS) {
    const seen = await browserCheck(files.map((f) => join(stage, f)), { width });
    browserProblems.push(...seen.flatMap((p, i) => {
      const expected = built.pages[i]?.charts ?? 0;
      const extra = p.charts.length === expected
        ? []
        : [`Chromium shows ${p.charts.length} chart(s), the notebook has ${expected}`];
      return [...p.problems, ...extra].map((problem) => `${files[i]} at ${width} px: ${problem}`);
    }));
    charts = seen.reduce((n, p) => n + p.charts.length, 0);
    clips = seen.reduce((n, p) => n + p.audio.length, 0);
    pictures = seen.reduce((n, p) => n + p.spectrograms.length, 0);
  }
  if (browserProblems.length > 0) {
    await abandon(`headless Chromium sees broken pages:\n  ${browserProblems.join("\n  ")}`);
  }
  log(
    `Chromium rendered ${charts} chart(s) on ${files.length} page(s) at ` +
      `${VIEWPORTS.join(" and ")} px, all with a size and marks, none scrolling sideways`,
  );
  let published;
  try {
    published = await publishDir(stage, outDir);
  } catch (err) {
    return await abandon(`cannot replace ${outDir}: ${(err as Error).message}`);
  }
  if (published.leftover) {
    log(
      `warning: the new report is in ${outDir}; the previous one could not be removed ` +
        `(${published.leftover.reason}) and is kept in ${published.leftover.path}: remove it ` +
        `when you no longer need it`,
    );
  }
  if (clips + pictures > 0) {
    log(`Chromium loaded ${clips} audio clip(s) with a duration and ${pictures} spectrogram(s)`);
  }
  const verdicts = new Map<string, number>();
  for (const f of built.findings) verdicts.set(f.verdict, (verdicts.get(f.verdict) ?? 0) + 1);
  log(
    `wrote ${built.pages.length} page(s), index.html and findings.json (${built.findings.length} ` +
      `finding(s)${
        verdicts.size ? ": " + [...verdicts].map(([v, n]) => `${n} ${v}`).join(", ") : ""
      }) to ${outDir}`,
  );
  log(`total wall time ${wallSeconds.toFixed(1)} s`);
}

if (import.meta.main) {
  // An error from what a stop interrupted (e.g. the browser check losing its Chromium) waits for
  // the stop, which exits with its own status.
  await main().catch(async (err) => {
    if (stopping) await stopping;
    throw err;
  });
}
