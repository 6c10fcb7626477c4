/**
 * Check the import graph of `lib/` against the layer order stated in `lib/mod.ts`'s doc: no
 * import cycle, and no module importing from a later layer. Reads the graph with `deno info
 * --json` (static imports, type-only imports included), tests excluded.
 *
 * ```sh
 * deno run -A scripts/layers.ts    # prints the cycles and upward imports; exit 1 if any
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Layers in order, each a list of path prefixes relative to `lib/` (a folder ends in "/"); the
 * longest matching prefix decides. [choice, stated in lib/mod.ts]
 */
export const LAYERS: readonly (readonly string[])[] = [
  [
    "kinds.ts",
    "arrays.ts",
    "random.ts",
    "version.ts",
    "backend.ts",
    "kernels/",
    "nn/",
    "grad.ts",
    "cluster/",
    "metrics.ts",
    "stats.ts",
    "store/artifacts.ts",
    "store/atomic.ts",
    "audio/",
  ],
  ["sources/", "codecs/", "quantizers/", "passers.ts", "audio/anchors.ts"],
  ["config.ts", "result.ts", "custom/", "store/checkpoint.ts", "memory.ts"],
  ["train.ts"],
  ["grid/"],
  [
    "report/",
    "raster.ts",
    "display.ts",
    "plot.ts",
    "charts.ts",
    "progress.ts",
    "interrupt.ts",
    "iopub.ts",
    "audio/display.ts",
    "audio/mod.ts",
  ],
  ["experiments/"],
  // The estimator league runs every estimator through the battery.
  ["battery/", "experiments/league.ts", "experiments/league_speech.ts"],
  ["mod.ts"],
];

/** The layer index of a path relative to `lib/`, or -1 when no rule matches. */
export function layerOf(path: string): number {
  let best = -1, length = -1;
  LAYERS.forEach((prefixes, i) => {
    for (const p of prefixes) {
      const hit = p.endsWith("/") ? path.startsWith(p) : path === p;
      if (hit && p.length > length) best = i, length = p.length;
    }
  });
  return best;
}

/** What {@linkcode checkLayers} found. */
export interface LayerReport {
  /** Modules of `lib/` in the graph. */
  modules: number;
  /** Strongly connected components with more than one module (or a self-import). */
  cycles: string[][];
  /** `a → b` where b is in a later layer than a, or a module no rule places. */
  violations: string[];
}

/** Read `lib/`'s import graph and check it (see the module doc). */
export async function checkLayers(
  root = join(import.meta.dirname!, ".."),
): Promise<LayerReport> {
  const lib = join(root, "lib");
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory && e.name !== "testdata") walk(p);
      else if (e.isFile && p.endsWith(".ts") && !/(_test|\/_testing|\/_test_utils)\.ts$/.test(p)) {
        files.push(p);
      }
    }
  };
  walk(lib);
  const entry = await Deno.makeTempFile({ dir: root, prefix: ".layers-", suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import "${pathToFileURL(f).href}";`).join("\n"),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string; dependencies?: Record<string, { specifier?: string }>[] }[];
    };
    const prefix = pathToFileURL(lib).href + "/";
    const graph = new Map<string, Set<string>>();
    for (const m of info.modules) {
      if (!m.specifier.startsWith(prefix)) continue;
      const deps = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const k of ["code", "type"]) {
          const s = d[k]?.specifier;
          if (s?.startsWith(prefix)) deps.add(s.slice(prefix.length));
        }
      }
      graph.set(m.specifier.slice(prefix.length), deps);
    }
    const violations: string[] = [];
    for (const [a, deps] of graph) {
      if (layerOf(a) < 0) violations.push(`${a}: no layer`);
      for (const b of deps) {
        if (layerOf(b) > layerOf(a)) violations.push(`${a} → ${b}`);
      }
    }
    return { modules: graph.size, cycles: stronglyConnected(graph), violations: violations.sort() };
  } finally {
    await Deno.remove(entry);
  }
}

/** Tarjan's strongly connected components that form cycles. */
function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next), low.set(v, next), next++;
    stack.push(v), onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do (w = stack.pop()!), onStack.delete(w), component.push(w); while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

if (import.meta.main) {
  const report = await checkLayers();
  console.log(
    `${report.modules} modules, ${report.cycles.length} import cycle(s), ` +
      `${report.violations.length} upward import(s)`,
  );
  for (const c of report.cycles) console.log(`cycle: ${c.join(", ")}`);
  for (const v of report.violations) console.log(`upward: ${v}`);
  if (report.cycles.length > 0 || report.violations.length > 0) Deno.exit(1);
}
