/**
 * `deno task bench`: training-step speed on this machine, in one process.
 *
 * - The reference step (lib/kernels/reference.ts: 64→256→256→16→256→256→64, ReLU, rounding STE,
 *   MSE, Adam, batch 512) on tfjs's `cpu` backend, on stock `wasm`, and on quantlab's wasm
 *   (patched kernels; the pure-wasm GEMM is shown too for comparison).
 * - One training step of the default proxy config for every gradient passer, on quantlab's wasm.
 *
 * Each case warms up, then reports the median of timed steps. GFLOP/s is nominal: the reference
 * net's GEMM work (3 × forward) over the step time. Peak RSS is sampled after every step. The last line printed is one JSON object:
 * `{"reference_fps": {"cpu", "wasm_stock", "quantlab"}, "proxy_fps": {passer: fps}, "peak_rss_mb"}`.
 * Set `QUANTLAB_BENCH_QUICK=1` for fewer steps (a smoke run).
 *
 * @module
 */
import { type BackendInfo, type GemmName, initBackend } from "../lib/backend.ts";
import { createReferenceStep } from "../lib/kernels/reference.ts";
import { kernelStatus } from "../lib/kernels/mod.ts";
import { PASSER_KINDS, resolveConfig } from "../lib/config.ts";
import { createSession } from "../lib/train.ts";

const QUICK = Deno.env.get("QUANTLAB_BENCH_QUICK") === "1";

let peakRss = Deno.memoryUsage().rss;
function sampleRss(): void {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}

/** Median ms of `steps` calls after `warmup` untimed ones. */
function timeSteps(step: () => unknown, warmup: number, steps: number): number {
  for (let i = 0; i < warmup; i++) step(), sampleRss();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
    sampleRss();
  }
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  return ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
}

interface Row {
  name: string;
  ms: number;
  fps: number;
  gflops: number | null;
  note: string;
}

interface ReferenceCase {
  key: "cpu" | "wasm_stock" | "quantlab" | "quantlab_wasm_gemm";
  backend: "cpu" | "wasm";
  patched: boolean;
  gemm?: GemmName;
  warmup: number;
  steps: number;
}

const REFERENCE_CASES: ReferenceCase[] = [
  { key: "cpu", backend: "cpu", patched: false, warmup: 1, steps: QUICK ? 1 : 3 },
  { key: "wasm_stock", backend: "wasm", patched: false, warmup: 2, steps: QUICK ? 3 : 15 },
  {
    key: "quantlab_wasm_gemm",
    backend: "wasm",
    patched: true,
    gemm: "wasm",
    warmup: 3,
    steps: QUICK ? 5 : 60,
  },
  { key: "quantlab", backend: "wasm", patched: true, warmup: 5, steps: QUICK ? 10 : 200 },
];

function describe(info: BackendInfo): string {
  return info.backend === "cpu"
    ? "tfjs cpu"
    : info.patched
    ? `patched, gemm=${info.gemm}`
    : "stock";
}

async function benchReference(c: ReferenceCase): Promise<Row> {
  const info = await initBackend(c.backend, { patched: c.patched, gemm: c.gemm });
  const ref = createReferenceStep();
  try {
    const ms = timeSteps(() => ref.step(), c.warmup, c.steps);
    return {
      name: `reference ${c.key}`,
      ms,
      fps: ref.batch / (ms / 1000),
      gflops: ref.flops / (ms * 1e6),
      note: `${describe(info)}, median of ${c.steps}`,
    };
  } finally {
    ref.dispose();
  }
}

/** One training step of the default proxy config per gradient passer, on quantlab's wasm. */
async function benchProxy(): Promise<Row[]> {
  const info = await initBackend("wasm");
  const rows: Row[] = [];
  for (const kind of PASSER_KINDS) {
    const config = resolveConfig({ passer: { kind } });
    const session = createSession(config);
    try {
      const steps = QUICK ? 5 : 150;
      const ms = timeSteps(() => session.step(), 10, steps);
      rows.push({
        name: `proxy ${kind}`,
        ms,
        fps: config.train.batchSize / (ms / 1000),
        gflops: null,
        note: `${describe(info)}, batch ${config.train.batchSize}, median of ${steps}`,
      });
    } finally {
      session.dispose();
    }
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const header = ["case", "ms/step", "frames/s", "GFLOP/s", "setup"];
  const lines = rows.map((r) => [
    r.name,
    r.ms.toFixed(2),
    Math.round(r.fps).toString(),
    r.gflops == null ? "-" : r.gflops.toFixed(1),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ");
  console.log(fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(fmt(l));
}

if (import.meta.main) {
  const reference = new Map<string, Row>();
  for (const c of REFERENCE_CASES) reference.set(c.key, await benchReference(c));
  const proxy = await benchProxy();
  const blas = kernelStatus().blas;
  console.log(`quantlab gemm: ${blas ? `openblas (${blas})` : "wasm (OpenBLAS not loadable)"}`);
  const rows = [...reference.values(), ...proxy];
  printTable(rows);
  const stock = reference.get("wasm_stock")!.ms;
  const ours = reference.get("quantlab")!.ms;
  console.log(`quantlab vs stock wasm: ${(stock / ours).toFixed(1)}× faster`);
  console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`);
  const fps = (key: string) => Math.round(reference.get(key)!.fps);
  console.log(JSON.stringify({
    reference_fps: { cpu: fps("cpu"), wasm_stock: fps("wasm_stock"), quantlab: fps("quantlab") },
    proxy_fps: Object.fromEntries(
      proxy.map((r) => [r.name.replace("proxy ", ""), Math.round(r.fps)]),
    ),
    peak_rss_mb: Math.round(peakRss / 2 ** 20),
  }));
}
