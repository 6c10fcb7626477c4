/**
 * `deno task bench`: training-step speed on this machine, in one process.
 *
 * - The reference step (lib/kernels/reference.ts: 64→256→256→16→256→256→64, ReLU, rounding STE,
 *   MSE, Adam, batch 512) on tfjs's `cpu` backend, on stock `wasm`, and on quantlab's wasm
 *   (patched kernels; the pure-wasm GEMM is shown too for comparison).
 * - One training step of the default proxy config for every gradient passer, on quantlab's wasm.
 * - The conv reference step of issue 8 (bench/conv_step.ts: the conv codec at
 *   CONV_REFERENCE_CONFIG, batch 8 × 4096 samples at 8 kHz, rounding STE, L1 + multi-scale
 *   log-magnitude STFT loss, Adam 1e-3) on stock wasm with tfjs's own conv ops, on stock wasm with
 *   quantlab's tf-op convolutions, and on quantlab's wasm. A case that throws is reported with the
 *   missing kernel's name. The conv step's own peak RSS is sampled separately.
 *
 * Each case warms up, then reports the median of timed steps. GFLOP/s is nominal: the reference
 * net's GEMM work (3 × forward) over the step time. Peak RSS is sampled after every step. The last line printed is one JSON object:
 * `{"reference_fps": {"cpu", "wasm_stock", "quantlab"}, "proxy_fps": {passer: fps}, "conv_sps":
 * {"quantlab", "wasm_stock", "wasm_stock_tfjs"}, "conv_ms": {…}, "conv_throws": {case: kernel},
 * "conv_peak_rss_mb": {…}, "peak_rss_mb"}` (samples/s; null where a case threw). Conv rows also
 * show process CPU ms per step, less sensitive than wall time to other processes on the machine.
 * - The base speech model's recipe step (Snake, weight norm, PCA linear path, L1 + mel − SI-SDR
 *   loss, clipping) against the plain conv step at the same batch (`recipe_ms`).
 *
 * Set `QUANTLAB_BENCH_QUICK=1` for fewer steps (a smoke run), `QUANTLAB_BENCH_ONLY=conv` (or a
 * comma list of reference, proxy, conv, recipe) to run only some sections.
 *
 * @module
 */
import { type BackendInfo, type GemmName, initBackend } from "../lib/backend.ts";
import { createReferenceStep } from "../lib/kernels/reference.ts";
import { kernelStatus } from "../lib/kernels/mod.ts";
import { BUILTIN_PASSER_KINDS, resolveConfig } from "../lib/config.ts";
import { createSession } from "../lib/train.ts";
import process from "node:process";
import { tf } from "../lib/backend.ts";
import { type ConvOps, QUANTLAB_CONV_OPS } from "../lib/codecs/conv.ts";
import { createConvStep } from "./conv_step.ts";
import { baseModelConfig } from "../lib/experiments/base_model.ts";
import { prepareSource } from "../lib/sources/mod.ts";
import type { RunConfig } from "../lib/config.ts";

const QUICK = Deno.env.get("QUANTLAB_BENCH_QUICK") === "1";
const SECTIONS = ["reference", "proxy", "conv", "recipe"] as const;
const ONLY = Deno.env.get("QUANTLAB_BENCH_ONLY");
const RUN = new Set(ONLY ? ONLY.split(",").map((s) => s.trim()) : SECTIONS);
for (const s of RUN) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    throw new Error(`QUANTLAB_BENCH_ONLY: unknown section "${s}"; expected ${SECTIONS.join(", ")}`);
  }
}

let peakRss = Deno.memoryUsage().rss;
/**
 * Peak RSS while the current conv case runs: the process's RSS, including what earlier cases left
 * (wasm memory never shrinks), so the quantlab case runs first.
 */
let convPeakRss = 0;
/** OpenBLAS as reported while quantlab's kernels were installed (uninstalling forgets it). */
let blasSeen: string | null = null;
let inConvStep = false;
function sampleRss(): void {
  const rss = Deno.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  if (inConvStep) convPeakRss = Math.max(convPeakRss, rss);
}

/** Mean process CPU ms per timed step of the last {@linkcode timeSteps} call (user + system). */
let lastCpuMs = NaN;

/** Median ms of `steps` calls after `warmup` untimed ones. */
function timeSteps(step: () => unknown, warmup: number, steps: number): number {
  for (let i = 0; i < warmup; i++) step(), sampleRss();
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
    sampleRss();
  }
  const cpu = process.cpuUsage(cpu0);
  lastCpuMs = (cpu.user + cpu.system) / 1000 / steps;
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
  for (const kind of BUILTIN_PASSER_KINDS) {
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

/**
 * tfjs's own convolutions with the same semantics as `lib/nn/conv.ts`: `tf.conv1d` after explicit
 * zero padding, and `tf.conv2dTranspose` over a height-1 image cropped by `padding` each side.
 */
const TFJS_CONV_OPS: ConvOps = {
  conv1d(x, w, { stride = 1, dilation = 1, padding = 0 }) {
    const xp = padding ? tf.pad(x, [[0, 0], [padding, padding], [0, 0]]) : x;
    return tf.conv1d(xp, w, stride, "valid", "NWC", dilation);
  },
  convTranspose1d(x, w, { stride, padding }) {
    const [b, t, cin] = x.shape;
    const [k, , cout] = w.shape;
    const full = (t - 1) * stride + k;
    const filter = tf.reshape(tf.transpose(w, [0, 2, 1]), [1, k, cout, cin]) as tf.Tensor4D;
    const y = tf.conv2dTranspose(
      tf.reshape(x, [b, 1, t, cin]) as tf.Tensor4D,
      filter,
      [b, 1, full, cout],
      [1, stride],
      "valid",
    );
    return tf.reshape(
      tf.slice(y, [0, 0, padding, 0], [b, 1, full - 2 * padding, cout]),
      [b, full - 2 * padding, cout],
    );
  },
};

interface ConvCase {
  key: "wasm_stock_tfjs" | "wasm_stock" | "quantlab";
  patched: boolean;
  ops: ConvOps;
  label: string;
  warmup: number;
  steps: number;
}

const CONV_CASES: ConvCase[] = [
  {
    key: "quantlab",
    patched: true,
    ops: QUANTLAB_CONV_OPS,
    label: "lib/nn/conv",
    warmup: 2,
    steps: QUICK ? 3 : 20,
  },
  {
    key: "wasm_stock",
    patched: false,
    ops: QUANTLAB_CONV_OPS,
    label: "lib/nn/conv tf-op path",
    warmup: QUICK ? 0 : 1,
    steps: QUICK ? 1 : 3,
  },
  {
    key: "wasm_stock_tfjs",
    patched: false,
    ops: TFJS_CONV_OPS,
    label: "tfjs conv1d/conv2dTranspose",
    warmup: 0,
    steps: QUICK ? 1 : 3,
  },
];

/** The conv reference step, or the kernel it needs and the backend lacks. */
async function benchConv(
  c: ConvCase,
): Promise<(Row & { peakRssMb: number }) | { name: string; throws: string }> {
  const info = await initBackend("wasm", { patched: c.patched });
  blasSeen = kernelStatus().blas ?? blasSeen;
  const step = createConvStep({ ops: c.ops });
  convPeakRss = 0;
  inConvStep = true;
  try {
    const ms = timeSteps(() => step.step(), c.warmup, c.steps);
    const samples = step.batch * step.samples;
    return {
      name: `conv ${c.key}`,
      ms,
      fps: samples / (ms / 1000),
      gflops: null,
      note: `${describe(info)}, ${c.label}, samples/s, batch ${step.batch} × ${step.samples}, ` +
        `median of ${c.steps}, CPU ${lastCpuMs.toFixed(0)} ms/step, ` +
        `peak RSS ${(convPeakRss / 2 ** 20).toFixed(0)} MB`,
      peakRssMb: Math.round(convPeakRss / 2 ** 20),
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const kernel = /Kernel '(\w+)' not registered/.exec(message)?.[1];
    return { name: `conv ${c.key}`, throws: kernel ?? message.split("\n")[0] };
  } finally {
    inConvStep = false;
    step.dispose();
  }
}

/**
 * One training step of the base speech model's recipe (issue 18: Snake, weight norm, the linear
 * path, L1 + mel − SI-SDR loss, clipping) on real speech at its batch, beside the same codec and
 * batch with the plain recipe (LeakyReLU, no weight norm or linear path, L1 + log-STFT): what the
 * recipe costs per step.
 */
async function benchRecipe(): Promise<Row[]> {
  await initBackend("wasm");
  const recipe = baseModelConfig();
  const data = recipe.data as Extract<RunConfig["data"], { kind: "speech" }>;
  const { siSdrWeight: _s, ...plainData } = data;
  const { weightNorm: _w, linearPath: _l, ...plainCodec } = recipe.codec as Extract<
    RunConfig["codec"],
    { kind: "conv" }
  >;
  const { learningRateEnd: _e, gradClip: _g, ...plainTrain } = recipe.train;
  const plain = resolveConfig({
    data: { ...plainData, spectralWeight: 1, melWeight: 0 },
    codec: { ...plainCodec, activation: "leakyRelu" },
    quantizer: { kind: "none" },
    train: plainTrain,
  });
  await prepareSource(recipe.data);
  const rows: Row[] = [];
  const quick = Deno.env.get("QUANTLAB_BENCH_QUICK") === "1";
  for (const [name, config] of [["recipe base", recipe], ["recipe plain", plain]] as const) {
    const session = createSession(config);
    const ms = timeSteps(() => session.step(), quick ? 1 : 3, quick ? 3 : 15);
    const samples = config.train.batchSize * data.segmentSamples;
    rows.push({
      name,
      ms,
      fps: samples / (ms / 1000),
      gflops: null,
      note: `samples/s, batch ${config.train.batchSize} × ${data.segmentSamples}, CPU ${
        lastCpuMs.toFixed(0)
      } ms/step`,
    });
    session.dispose();
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
  if (RUN.has("reference")) {
    for (const c of REFERENCE_CASES) reference.set(c.key, await benchReference(c));
  }
  const proxy = RUN.has("proxy") ? await benchProxy() : [];
  const conv = new Map<string, Row & { peakRssMb: number }>();
  const convThrows: Record<string, string> = {};
  if (RUN.has("conv")) {
    for (const c of CONV_CASES) {
      const r = await benchConv(c);
      if ("throws" in r) convThrows[c.key] = r.throws;
      else conv.set(c.key, r);
    }
  }
  const recipe = RUN.has("recipe") ? await benchRecipe() : [];
  const blas = kernelStatus().blas ?? blasSeen;
  console.log(`quantlab gemm: ${blas ? `openblas (${blas})` : "wasm (OpenBLAS not loadable)"}`);
  printTable([...reference.values(), ...proxy, ...conv.values(), ...recipe]);
  for (const [key, kernel] of Object.entries(convThrows)) {
    console.log(`conv ${key}: throws (${kernel})`);
  }
  if (reference.size) {
    const stock = reference.get("wasm_stock")!.ms;
    const ours = reference.get("quantlab")!.ms;
    console.log(`quantlab vs stock wasm: ${(stock / ours).toFixed(1)}× faster`);
  }
  if (conv.has("quantlab") && conv.has("wasm_stock")) {
    const ratio = conv.get("wasm_stock")!.ms / conv.get("quantlab")!.ms;
    console.log(`conv step, quantlab vs stock wasm: ${ratio.toFixed(1)}× faster`);
  }
  console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`);
  const fps = (key: string) => Math.round(reference.get(key)!.fps);
  const convValue = (key: string, f: (r: Row & { peakRssMb: number }) => number) =>
    conv.has(key) ? f(conv.get(key)!) : null;
  const convKeys = CONV_CASES.map((c) => c.key);
  console.log(JSON.stringify({
    ...(reference.size
      ? {
        reference_fps: {
          cpu: fps("cpu"),
          wasm_stock: fps("wasm_stock"),
          quantlab: fps("quantlab"),
        },
      }
      : {}),
    ...(RUN.has("proxy")
      ? {
        proxy_fps: Object.fromEntries(
          proxy.map((r) => [r.name.replace("proxy ", ""), Math.round(r.fps)]),
        ),
      }
      : {}),
    ...(RUN.has("conv")
      ? {
        conv_sps: Object.fromEntries(
          convKeys.map((k) => [k, convValue(k, (r) => Math.round(r.fps))]),
        ),
        conv_ms: Object.fromEntries(
          convKeys.map((k) => [k, convValue(k, (r) => Math.round(r.ms))]),
        ),
        conv_throws: convThrows,
        conv_peak_rss_mb: Object.fromEntries(
          convKeys.map((k) => [k, convValue(k, (r) => r.peakRssMb)]),
        ),
      }
      : {}),
    ...(recipe.length
      ? {
        recipe_ms: Object.fromEntries(
          recipe.map((r) => [r.name.replace("recipe ", ""), Math.round(r.ms)]),
        ),
      }
      : {}),
    peak_rss_mb: Math.round(peakRss / 2 ** 20),
  }));
}
