/**
 * quantlab for notebooks: one import, a first own experiment in three lines.
 *
 * ```ts
 * import { curves, run } from "../lib/mod.ts";
 * const r = await run({ passer: { kind: "mste" }, train: { epochs: 3 } });
 * curves(r)
 * ```
 *
 * - {@linkcode run} validates a partial config (`resolveConfig`: unknown or bad fields are named),
 *   starts the wasm backend when needed, trains in the kernel with a progress bar that updates in
 *   place, honours Jupyter's interrupt (lib/interrupt.ts) and returns the plain-JSON
 *   {@linkcode RunResult}, which shows itself as a summary table when it is a cell's value.
 * - {@linkcode runMany} runs many configs through the cached grid runner (worker processes).
 * - {@linkcode curves} charts one run, a list of runs, or named groups of runs.
 * - {@linkcode plot} renders any Observable Plot spec with the project's headless document;
 *   `Plot` and {@linkcode document} are exported for `Plot.plot({ document, ... })`.
 * - {@linkcode help} shows the doc comment of anything exported here (Deno's kernel answers
 *   Shift-Tab / `inspect_request` with nothing, so this is the way to read the docs in a cell).
 *
 * ## Layers of `lib/`
 *
 * A module imports only from its own layer or the ones before it, and there are no import cycles
 * (`scripts/layers.ts` checks both; `tests/layers_test.ts` runs it):
 *
 * 1. foundations: `kinds.ts` (the registry shape, `ConfigError`), `random.ts`, `version.ts`,
 *    `backend.ts` with `kernels/` and `nn/`, `grad.ts`, `cluster/`, `metrics.ts`, `stats.ts`,
 *    `store/artifacts.ts`, the signal side of `audio/` (corpus, segments, STFT, metrics);
 * 2. kinds: `sources/`, `codecs/`, `quantizers/`, `passers.ts`, each kind with its config,
 *    defaults, validation and builder, registered in its folder's `mod.ts`; and the real codecs
 *    of `audio/anchors.ts` (they use the offline quantizers);
 * 3. `config.ts` (`RunConfig`, `resolveConfig` walking the registries), `result.ts`, `custom/`
 *    (a researcher's passers and quantizers, loaded into an explicit registry and guarded),
 *    `store/checkpoint.ts`, `memory.ts` (a step's memory estimate);
 * 4. `train.ts`, the trainer;
 * 5. `grid/` (worker processes and the result store);
 * 6. presentation: `report/`, `display.ts`, `plot.ts`, `charts.ts`, `progress.ts`, `interrupt.ts`, `iopub.ts`,
 *    `audio/display.ts` (and `audio/mod.ts`, which re-exports it for notebooks);
 * 7. `experiments/` (one module per notebook);
 * 8. `battery/` (imports `experiments/`, never the reverse) and `experiments/league.ts` with
 *    `experiments/league_speech.ts` (notebook 11, which runs every estimator through the battery);
 * 9. this module.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { backendInfo, type BackendName, initBackend, tf } from "./backend.ts";
import { type ConfigInput, DEFAULTS, resolveConfig, type RunConfig } from "./config.ts";
import { CODECS } from "./codecs/mod.ts";
import { PASSERS } from "./passers.ts";
import { QUANTIZERS } from "./quantizers/mod.ts";
import { SOURCES } from "./sources/mod.ts";
import {
  chart,
  type Display,
  display,
  finding,
  group,
  html,
  JUPYTER_DISPLAY,
  markdown,
  type MimeBundle,
  notAPromise,
  stopWhenMisused,
  table,
  verdict,
} from "./display.ts";
import {
  EPOCH_METRICS,
  epochChart,
  type GroupRuns,
  PROFILES,
  runConfigs,
} from "./experiments/common.ts";
import { formatDuration } from "./grid/mod.ts";
import { currentSignal, Interrupted, interruptible } from "./interrupt.ts";
import { heatMap } from "./charts.ts";
import { lineChart, type PlotOptions, renderPlot } from "./plot.ts";
import { progressView } from "./progress.ts";
import type { EpochRecord, RunResult } from "./result.ts";
import { train } from "./train.ts";

export { Plot };
export {
  chart,
  display,
  finding,
  group,
  heatMap,
  html,
  Interrupted,
  lineChart,
  markdown,
  renderPlot,
  resolveConfig,
  table,
  verdict,
};
export { currentSignal, initBackend, runConfigs, train };
export type { ConfigInput, Display, EpochRecord, MimeBundle, PlotOptions, RunConfig, RunResult };

/**
 * The headless (linkedom) document charts are drawn into: `Plot.plot({ document, ... })` works
 * with it; {@linkcode plot} passes it for you.
 */
export const document: Plot.PlotOptions["document"] = (parseHTML(
  "<!doctype html><html><body></body></html>",
) as unknown as { document: Plot.PlotOptions["document"] }).document;

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** tfjs backend (default `wasm`, started when not already running). */
  backend?: BackendName;
  /** Label of the progress bar (default: the passer kind). */
  label?: string;
}

/** Summary rows of runs: final metrics per run. */
function summaryRows(runs: RunResult[]): Record<string, string | number | null>[] {
  return runs.map((r) => ({
    passer: r.config.passer.kind,
    quantizer: r.config.quantizer.kind,
    seed: r.config.train.seed,
    epochs: r.history.length,
    "val MSE": r.final?.valMse ?? null,
    "val MSE dB": r.final?.valMseDb ?? null,
    "MA-E": r.final?.maE ?? null,
    diverged: r.diverged ? `epoch ${r.diverged.epoch}: ${r.diverged.reason}` : "no",
  }));
}

/** Give a result a notebook view (a summary table) without changing its JSON. */
function withView(result: RunResult): RunResult {
  Object.defineProperty(result, JUPYTER_DISPLAY, {
    value: () => table(summaryRows([result]), { caption: "run result" })[JUPYTER_DISPLAY](),
    enumerable: false,
  });
  return result;
}

/**
 * Train one configuration in this kernel and return its result.
 *
 * `input` is a partial config: defaults fill the rest, and an unknown or invalid field throws a
 * `ConfigError` naming it. The backend is started when needed. A progress bar updates in place
 * each epoch and ends as one summary line. Jupyter's interrupt stops the run within one epoch
 * (a step is synchronous) and throws {@linkcode Interrupted}; the kernel keeps its state.
 *
 * @example
 * ```ts ignore
 * const r = await run({ passer: { kind: "mste" }, train: { epochs: 3, stepsPerEpoch: 50 } });
 * r.final?.valMse
 * ```
 */
export function run(input: ConfigInput = {}, options: RunOptions = {}): Promise<RunResult> {
  const own = new AbortController();
  return stopWhenMisused(runInKernel(input, options, own.signal), () => {
    own.abort(new Error("its result was passed on without await"));
    return "the run it came from was stopped";
  });
}

async function runInKernel(
  input: ConfigInput,
  options: RunOptions,
  stop: AbortSignal,
): Promise<RunResult> {
  notAPromise(input, "run", "run(await config)");
  const config = resolveConfig(input);
  // Start training only in a later task. Deno 2.9.6's kernel waits for a cell's settled value
  // through the inspector, which holds it weakly: training's allocations in the same microtask
  // run (backend already started) let V8 collect it first, and `run({...}); throw …` then showed
  // no error at all ("Promise was collected", reply "Execution failed"). [measured, 4 of 4]
  await new Promise((done) => setTimeout(done, 0));
  const backend = options.backend ?? "wasm";
  if (tf.getBackend() !== backend || backendInfo().backend !== backend) await initBackend(backend);
  const label = options.label ?? `run ${config.passer.kind}`;
  const bar = progressView(label, { signal: stop });
  const { epochs } = config.train;
  let epoch = 0;
  const t0 = performance.now();
  bar.update(0, epochs, `starting on ${backend}`);
  let result: RunResult;
  try {
    result = await interruptible(
      (signal) =>
        train(config, {
          signal: AbortSignal.any([signal, stop]),
          onEpoch: (rec) => {
            epoch = rec.epoch;
            bar.update(rec.epoch, epochs, runDetail(rec, epochs, performance.now() - t0));
          },
        }),
      () => {
        bar.finish(`interrupted after epoch ${epoch}/${epochs}`);
        return `${label}: interrupted after epoch ${epoch}/${epochs}; nothing was stored ` +
          "(an in-kernel run is not cached); re-run the cell to start again";
      },
    );
  } catch (err) {
    // The bar must not look alive above the error: it ends saying what happened.
    const why = stop.aborted ? String(stop.reason?.message ?? stop.reason) : (err as Error).message;
    await bar.finish(`stopped after epoch ${epoch}/${epochs}: ${why}`);
    throw err;
  }
  await bar.finish(
    result.diverged
      ? `diverged at epoch ${result.diverged.epoch}`
      : `${result.history.length} epochs, val MSE ${result.final?.valMse.toPrecision(4)}, ` +
        `${(result.wallMs / 1000).toFixed(1)} s`,
  );
  return withView(result);
}

/**
 * The detail next to an in-kernel run's bar after an epoch: validation MSE, elapsed time and
 * the ETA from the mean epoch time so far.
 */
export function runDetail(rec: EpochRecord, epochs: number, elapsedMs: number): string {
  const eta = rec.epoch > 0 ? (elapsedMs / rec.epoch) * (epochs - rec.epoch) : undefined;
  return `val MSE ${rec.valMse.toPrecision(3)} · ${formatDuration(elapsedMs)} elapsed, eta ${
    formatDuration(eta)
  }`;
}

/**
 * Run many configurations through the cached grid runner (worker processes; unchanged configs
 * come from the store). Interrupt stops it and keeps finished runs.
 *
 * @example
 * ```ts ignore
 * const rs = await runMany([{ passer: { kind: "ste" } }, { passer: { kind: "mste" } }]);
 * curves(rs)
 * ```
 */
export async function runMany(inputs: ConfigInput[], label = "runs"): Promise<RunResult[]> {
  notAPromise(inputs, "runMany", "runMany(await configs)");
  for (const [i, input] of inputs.entries()) {
    try {
      resolveConfig(input);
    } catch (err) {
      throw new Error(`runMany: config #${i}: ${(err as Error).message}`);
    }
  }
  return (await runConfigs(label, inputs)).map(withView);
}

/** What {@linkcode curves} accepts: one run, a list of runs, or named groups of runs. */
export type RunsInput = RunResult | RunResult[] | Record<string, RunResult | RunResult[]>;

function isRun(x: unknown): x is RunResult {
  return !!x && typeof x === "object" && "history" in x && "config" in x;
}

/** Name runs by what differs between them (passer kind, seed ...). */
function autoLabel(run: RunResult, all: RunResult[]): string {
  const kinds = new Set(all.map((r) => r.config.passer.kind));
  const qs = new Set(all.map((r) => r.config.quantizer.kind));
  const parts: string[] = [run.config.passer.kind];
  if (qs.size > 1) parts.push(run.config.quantizer.kind);
  if (kinds.size === all.length || all.length === 1) return parts.join(" ");
  return `${parts.join(" ")} seed ${run.config.train.seed}`;
}

/**
 * Chart a per-epoch metric (`"mse"` validation MSE, `"maE"` max |encoder output|) for one run,
 * several runs (one line each), or named groups (a band over the runs of each group).
 *
 * @example
 * ```ts ignore
 * curves(r)                          // one run
 * curves([a, b], "maE")              // two runs
 * curves({ STE: steRuns, mSTE: msteRuns })
 * ```
 */
export function curves(
  runs: RunsInput,
  metric: keyof typeof EPOCH_METRICS = "mse",
  options: { title?: string } = {},
): Display {
  notAPromise(runs, "curves", "curves(await run({...}))");
  if (!(metric in EPOCH_METRICS)) {
    throw new Error(
      `curves: metric ${JSON.stringify(metric)} is invalid: expected ${
        Object.keys(EPOCH_METRICS).join(" or ")
      }`,
    );
  }
  let groups: GroupRuns[];
  if (isRun(runs) || Array.isArray(runs)) {
    const list = isRun(runs) ? [runs] : runs;
    if (list.length === 0 || !list.every(isRun)) {
      throw new Error("curves: expected a RunResult, a non-empty array of them, or named groups");
    }
    groups = list.map((r) => ({ label: autoLabel(r, list), input: {}, runs: [r] }));
  } else {
    groups = Object.entries(runs).map(([label, v]) => {
      const list = isRun(v) ? [v] : v;
      if (!Array.isArray(list) || list.length === 0 || !list.every(isRun)) {
        throw new Error(`curves: group ${JSON.stringify(label)} holds no RunResult`);
      }
      return { label, input: {}, runs: list };
    });
  }
  return epochChart(groups, metric, options);
}

/**
 * Render an Observable Plot spec (the project's headless document is injected) and display it.
 *
 * @example
 * ```ts ignore
 * plot({ marks: [Plot.lineY([1, 3, 2])], caption: "a line" })
 * ```
 */
export function plot(options: PlotOptions & { caption?: string }): Display {
  notAPromise(options, "plot", "plot({ marks: [Plot.lineY(await values)] })");
  const { caption, ...rest } = options;
  return chart(renderPlot(rest), caption);
}

/** The profiles notebooks run at (quick / full), for sizing one's own runs alike. */
export { PROFILES };

interface DocNode {
  name: string;
  kind: string;
  doc: string;
  examples: string[];
}

let docCache: Promise<DocNode[]> | undefined;

async function docNodes(): Promise<DocNode[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", new URL("./mod.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`help: deno doc failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  // deno 2.9: { nodes: { <module url>: { module_doc, symbols: [{ name, declarations }] } } }
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, {
      symbols: {
        name: string;
        declarations: {
          kind: string;
          jsDoc?: { doc?: string; tags?: { kind: string; doc?: string }[] };
        }[];
      }[];
    }>;
  };
  return Object.values(json.nodes).flatMap((m) =>
    m.symbols.flatMap((sym) =>
      sym.declarations.map((d) => ({
        name: sym.name,
        kind: d.kind,
        doc: plainDoc(d.jsDoc?.doc ?? ""),
        examples: (d.jsDoc?.tags ?? []).filter((t) => t.kind === "example" && t.doc)
          .map((t) => t.doc!.replace(/^```ts[^\n]*/, "```ts")),
      }))
    )
  );
}

/** Doc text for reading: `{@linkcode X}` / `{@link X label}` become `X`. */
export function plainDoc(doc: string): string {
  return doc.replace(/\{@link(?:code|plain)?\s+([^}\s|]+)[^}]*\}/g, "`$1`");
}

/** What `help()` shows first: the four calls of a first experiment. [choice] */
export const START_HERE = ["run", "runMany", "curves", "plot"] as const;

/** Every RunConfig field: its default (of the section's default kind) and what is allowed. */
export function configFields(): Record<string, string>[] {
  const registries: Record<string, Record<string, { defaults: object }>> = {
    data: SOURCES,
    codec: CODECS,
    quantizer: QUANTIZERS,
    passer: PASSERS,
  };
  const allowed = (v: unknown) =>
    typeof v === "number"
      ? (Number.isInteger(v) ? "a number (integer here)" : "a number")
      : typeof v === "boolean"
      ? "true or false"
      : Array.isArray(v)
      ? "an array"
      : typeof v;
  const rows: Record<string, string>[] = [];
  for (const [section, value] of Object.entries(DEFAULTS)) {
    const registry = registries[section];
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      rows.push({
        field: `${section}.${field}`,
        default: JSON.stringify(v),
        allowed: field === "kind" && registry
          ? Object.keys(registry).map((k) => JSON.stringify(k)).join(", ") +
            ' (each kind has its own fields: help("RunConfig") shows the default kind\'s)'
          : allowed(v),
      });
    }
  }
  for (const field of ["traceEvery", "learningRateEnd", "gradClip"]) {
    rows.push({ field: `train.${field}`, default: "absent", allowed: "a number (optional)" });
  }
  return rows;
}

/**
 * Show help. `help()` starts with {@linkcode run}, {@linkcode runMany}, {@linkcode curves} and
 * {@linkcode plot} and their examples, then lists everything else exported here;
 * `help(run)` / `help("curves")` shows one doc comment with its examples; `help("RunConfig")`
 * lists every config field with its default and allowed values. Reads the docs with `deno doc`
 * (a second or two the first time).
 *
 * @example
 * ```ts ignore
 * await help()
 * await help("RunConfig")
 * ```
 */
export async function help(what?: unknown): Promise<Display> {
  docCache ??= docNodes();
  const nodes = (await docCache).filter((n) => n.kind !== "import");
  const first = (d: string) => d.split("\n\n")[0].replace(/\n/g, " ");
  const full = (n: DocNode) =>
    `**${n.name}** (${n.kind})\n\n${n.doc}${
      n.examples.length ? `\n\n${n.examples.join("\n\n")}` : ""
    }`;
  if (what === undefined) {
    const start = START_HERE.map((name) => nodes.find((n) => n.name === name && n.doc)!)
      .filter(Boolean);
    const intro = markdown(
      "**Start here**: a first experiment is `const r = await run({...})`, then `curves(r)`.\n\n" +
        start.map((n) =>
          `**${n.name}** — ${first(n.doc)}${n.examples.length ? `\n\n${n.examples[0]}` : ""}`
        ).join("\n\n") +
        '\n\n`help("RunConfig")` lists every config field with its default and allowed values.',
    );
    const rows = [...new Map(nodes.map((n) => [n.name, n])).values()]
      .filter((n) => !(START_HERE as readonly string[]).includes(n.name))
      .map((n) => ({ name: n.name, kind: n.kind, doc: first(n.doc) }));
    return group(intro, table(rows, { caption: "everything else in quantlab (lib/mod.ts)" }));
  }
  const name = typeof what === "string"
    ? what
    : typeof what === "function"
    ? what.name
    : what === Plot
    ? "Plot"
    : "";
  if (name === "RunConfig" || name === "ConfigInput") {
    return table(configFields(), {
      caption: "RunConfig: run({...}) takes any part of it, e.g. " +
        '{ passer: { kind: "mste" }, train: { epochs: 3 } }; the rest are these defaults',
    });
  }
  const matches = nodes.filter((n) => n.name === name && n.doc);
  if (matches.length === 0) {
    return markdown(
      `No documentation found for \`${name || String(what)}\` in lib/mod.ts's exports; ` +
        "`help()` lists them.",
    );
  }
  return markdown(matches.map(full).join("\n\n"));
}

/** The current cell's interrupt signal, for one's own long loops: `if (signal().aborted) break`. */
export function signal(): AbortSignal {
  return currentSignal();
}
