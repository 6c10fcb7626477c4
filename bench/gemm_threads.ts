/**
 * Can the base model's training use both cores? A probe for issue 18 (not part of `deno task
 * bench`): it times the recipe step (`baseModelConfig()`, batch 8 × 4096) on quantlab's wasm and
 * reports, in one process with the cases interleaved step by step:
 *
 * - `share`: the GEMM share of the step (a timer around every `cblas_sgemm` call), with the
 *   costliest GEMM shapes;
 * - `threads`: the step with the serial OpenBLAS (what quantlab uses) against Debian's threaded
 *   OpenBLAS at 1 and at 2 threads, per step and per GEMM shape (what a per-shape choice of thread
 *   count could save at best);
 * - `bits`: the losses of the first steps and the weights after them, serial against threaded at 1
 *   and 2 threads, compared bit for bit;
 * - `split`: the batch split across two workers, as an estimate: the main thread and a Worker each
 *   run a batch-4 step at once and exchange a gradient-sized array both ways, against one batch-8
 *   step (the estimate leaves out summing gradients and moving Adam to one side).
 *
 * The threaded library is not installed by `scripts/bootstrap.sh` (installing it would also move
 * the `libopenblas.so.0` alternative); unpack it anywhere without installing:
 *
 * ```sh
 * apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas-pthread
 * lib=/tmp/openblas-pthread/usr/lib/x86_64-linux-gnu/openblas-pthread
 * QUANTLAB_OPENBLAS_THREADED=$lib/libopenblas.so.0 deno run -A bench/gemm_threads.ts share,threads,bits,split 11
 * ```
 *
 * (sections as a comma list, then the number of timed rounds, 11 by default). Both libraries are
 * opened with the pinned kernel (`OPENBLAS_CORETYPE=Haswell`, see `lib/kernels/blas.ts`). What it
 * measured on this machine is in that module's doc.
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { loadOpenBlas, PINNED_CORETYPE, type Sgemm, SYMBOLS } from "../lib/kernels/blas.ts";
import { createSession } from "../lib/train.ts";
import { baseModelConfig } from "../lib/experiments/base_model.ts";
import { prepareSource } from "../lib/sources/mod.ts";
import type { RunConfig } from "../lib/config.ts";

const SECTIONS = ["share", "threads", "bits", "split"] as const;
type Section = typeof SECTIONS[number];
type Mode = "serial" | "threaded 1" | "threaded 2";

const IN_WORKER = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
  "function";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");

function halfBatch(config: RunConfig): RunConfig {
  return { ...config, train: { ...config.train, batchSize: config.train.batchSize / 2 } };
}

/** The threaded OpenBLAS's `cblas_sgemm` and its thread-count setter, opened with the pinned kernel. */
function openThreaded(path: string): { sgemm: Sgemm; setThreads: (n: number) => void } {
  const before = Deno.env.get("OPENBLAS_CORETYPE");
  Deno.env.set("OPENBLAS_CORETYPE", PINNED_CORETYPE);
  let lib;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (err) {
    throw new Error(
      `QUANTLAB_OPENBLAS_THREADED: cannot open "${path}" (${err}); see this file's doc for how ` +
        `to unpack libopenblas0-pthread`,
    );
  } finally {
    if (before == null) Deno.env.delete("OPENBLAS_CORETYPE");
    else Deno.env.set("OPENBLAS_CORETYPE", before);
  }
  const s = lib.symbols;
  const cString = (p: Deno.PointerValue) =>
    p == null ? "" : new Deno.UnsafePointerView(p).getCString();
  const config = cString(s.openblas_get_config());
  const core = cString(s.openblas_get_corename());
  console.log(`threaded: ${path}: ${config} (kernel ${core})`);
  if (core.toLowerCase() !== PINNED_CORETYPE.toLowerCase() || config.includes("SINGLE_THREADED")) {
    throw new Error(`${path}: wanted a threaded ${PINNED_CORETYPE} OpenBLAS, got ${config}`);
  }
  return {
    sgemm: (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      s.cblas_sgemm(
        101,
        ta ? 112 : 111,
        tb ? 112 : 111,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      ),
    setThreads: (n) => s.openblas_set_num_threads(n),
  };
}

async function main(sections: Set<Section>, rounds: number): Promise<void> {
  const blas = loadOpenBlas();
  if (blas == null) throw new Error("gemm_threads: the serial OpenBLAS could not be loaded");
  console.log(`serial: ${blas.path}: ${blas.config}`);
  const serial = blas.sgemm;
  const needThreaded = sections.has("threads") || sections.has("bits");
  const threaded = needThreaded
    ? openThreaded(
      Deno.env.get("QUANTLAB_OPENBLAS_THREADED") ??
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    )
    : null;
  let mode: Mode = "serial";
  let gemmMs = 0;
  const perShape = new Map<string, { calls: number; ms: number }>();
  // The kernels call the OpenBLAS object's `sgemm` as installed, so wrap it before initBackend.
  blas.sgemm = (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    const t0 = performance.now();
    (mode === "serial" ? serial : threaded!.sgemm)(
      ta,
      tb,
      m,
      n,
      k,
      alpha,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      ldc,
    );
    const dt = performance.now() - t0;
    gemmMs += dt;
    const key = `${mode}|${m}×${n}×${k}${ta ? " Aᵀ" : ""}${tb ? " Bᵀ" : ""}`;
    const s = perShape.get(key) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += dt;
    perShape.set(key, s);
  };
  const setMode = (m: Mode) => {
    mode = m;
    if (m !== "serial") threaded!.setThreads(m === "threaded 2" ? 2 : 1);
  };
  await initBackend("wasm");
  const config = baseModelConfig();
  await prepareSource(config.data);
  const batch = `batch ${config.train.batchSize} × ${
    (config.data as { segmentSamples: number }).segmentSamples
  }`;

  if (sections.has("share") || sections.has("threads")) {
    const modes: Mode[] = sections.has("threads") ? ["serial", "threaded 1", "threaded 2"] : [
      "serial",
    ];
    const session = createSession(config);
    for (const m of modes) setMode(m), session.step(), session.step();
    perShape.clear();
    const wall = new Map<Mode, number[]>(), gemm = new Map<Mode, number[]>();
    for (let r = 0; r < rounds; r++) {
      for (const m of modes) {
        setMode(m);
        gemmMs = 0;
        const t0 = performance.now();
        session.step();
        wall.set(m, [...wall.get(m) ?? [], performance.now() - t0]);
        gemm.set(m, [...gemm.get(m) ?? [], gemmMs]);
      }
    }
    session.dispose();
    console.log(`\nrecipe step, ${batch}, ${rounds} rounds interleaved (median ms):`);
    for (const m of modes) {
      const w = median(wall.get(m)!), g = median(gemm.get(m)!);
      console.log(
        `  ${m.padEnd(10)} step ${w.toFixed(1)}  GEMM ${g.toFixed(1)} (${
          (100 * g / w).toFixed(0)
        } %)  [${fmt(wall.get(m)!)}]`,
      );
    }
    const shapes = [...perShape.entries()].filter(([k]) => k.startsWith("serial|"))
      .map(([k, v]) => ({ shape: k.slice(7), calls: v.calls / rounds, ms: v.ms / rounds }))
      .sort((a, b) => b.ms - a.ms);
    const total = shapes.reduce((a, s) => a + s.ms, 0);
    const calls = shapes.reduce((a, s) => a + s.calls, 0);
    console.log(
      `serial GEMM: ${total.toFixed(1)} ms/step in ${calls} calls of ${shapes.length} shapes; ` +
        `costliest (ms/step${sections.has("threads") ? ", serial → 2 threads" : ""}):`,
    );
    let save = 0;
    for (const s of shapes) {
      const two = perShape.get(`threaded 2|${s.shape}`);
      const twoMs = two ? two.ms / rounds : null;
      if (twoMs != null && twoMs < s.ms) save += s.ms - twoMs;
      if (shapes.indexOf(s) < 12) {
        console.log(
          `  ${s.shape.padEnd(22)} ${String(s.calls).padStart(4)} calls  ${s.ms.toFixed(2)}` +
            (twoMs != null ? ` → ${twoMs.toFixed(2)}` : ""),
        );
      }
    }
    if (sections.has("threads")) {
      console.log(
        `2 threads for exactly the shapes where they were faster would save ${
          save.toFixed(1)
        } ms/step`,
      );
    }
  }

  if (sections.has("bits")) {
    const steps = 3;
    const runs: { mode: Mode; losses: number[]; weights: Float32Array[] }[] = [];
    for (const m of ["serial", "threaded 1", "threaded 2"] as const) {
      setMode(m);
      const session = createSession(config);
      const losses = Array.from({ length: steps }, () => session.step());
      const weights = session.codec.variables.map((v) => v.dataSync() as Float32Array);
      runs.push({ mode: m, losses, weights });
      session.dispose();
    }
    console.log(`\nbits: ${steps} steps from the same seed`);
    for (const r of runs) console.log(`  ${r.mode.padEnd(10)} losses ${r.losses.join(" ")}`);
    const ref = runs[0];
    for (const r of runs.slice(1)) {
      let differ = 0, total = 0, maxAbs = 0;
      r.weights.forEach((w, j) => {
        for (let i = 0; i < w.length; i++) {
          total++;
          if (!Object.is(w[i], ref.weights[j][i])) {
            differ++;
            maxAbs = Math.max(maxAbs, Math.abs(w[i] - ref.weights[j][i]));
          }
        }
      });
      const same = r.losses.every((l, i) => Object.is(l, ref.losses[i]));
      console.log(
        `  ${r.mode} vs serial: losses ${same ? "identical" : "differ"}; ` +
          `${differ} of ${total} weights differ (max |Δ| ${maxAbs.toExponential(2)})`,
      );
    }
    // Single products of the step's shapes, uniform operands in [-0.5, 0.5) from a fixed LCG.
    console.log("  single products, elements differing at 2 threads:");
    threaded!.setThreads(2);
    let seed = 1;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
    const products: [number, number, number, boolean][] = [
      [264, 514, 512, false],
      [2045, 16, 16, true],
      [16, 16, 2045, true],
      [509, 32, 32, false],
      [32768, 8, 8, true],
      [4093, 8, 8, false],
      [64, 64, 64, false],
    ];
    for (const [m, n, k, tb] of products) {
      const a = Float32Array.from({ length: m * k }, rand);
      const b = Float32Array.from({ length: k * n }, rand);
      const one = new Float32Array(m * n), two = new Float32Array(m * n);
      serial(false, tb, m, n, k, 1, a, k, b, tb ? k : n, 0, one, n);
      threaded!.sgemm(false, tb, m, n, k, 1, a, k, b, tb ? k : n, 0, two, n);
      const differ = one.filter((x, i) => !Object.is(x, two[i])).length;
      console.log(`    ${m}×${n}×${k}${tb ? " Bᵀ" : ""}: ${differ} of ${m * n}`);
    }
  }

  if (sections.has("split")) {
    setMode("serial");
    const nParams = createSession(config).codec.variables.reduce((a, v) => a + v.size, 0);
    const worker = new Worker(import.meta.url, { type: "module" });
    let resolve: (v: unknown) => void = () => {};
    worker.onmessage = (e) => resolve(e.data);
    const reply = () => new Promise((r) => (resolve = r));
    const ready = reply();
    worker.postMessage({ nParams });
    await ready;
    const four = createSession(halfBatch(config)), eight = createSession(config);
    const paired = async () => {
      const t0 = performance.now();
      const back = reply();
      worker.postMessage(new Float32Array(nParams)); // the weights going out
      four.step();
      await back; // a gradient-sized array coming back
      return performance.now() - t0;
    };
    const single = () => {
      const t0 = performance.now();
      eight.step();
      return performance.now() - t0;
    };
    await paired(), await paired(), single(), single();
    const two: number[] = [], one: number[] = [];
    for (let r = 0; r < rounds; r++) two.push(await paired()), one.push(single());
    worker.terminate();
    four.dispose(), eight.dispose();
    console.log(`\nsplit (${nParams} parameters, ${rounds} rounds interleaved, median ms):`);
    console.log(`  one process, ${batch}: ${median(one).toFixed(1)}  [${fmt(one)}]`);
    console.log(
      `  two workers × batch ${config.train.batchSize / 2} at once: ${median(two).toFixed(1)}  [${
        fmt(two)
      }]`,
    );
  }
}

/** The split's second worker: one batch-4 step per message, then a gradient-sized reply. */
async function worker(): Promise<void> {
  const scope = globalThis as unknown as Worker;
  let session: ReturnType<typeof createSession> | null = null;
  let nParams = 0;
  const pending: MessageEvent[] = [];
  const handle = (e: MessageEvent) => {
    if (session == null) return void pending.push(e);
    session.step();
    const grads = new Float32Array(nParams);
    scope.postMessage(grads, [grads.buffer]);
  };
  scope.onmessage = (e) => {
    if (nParams === 0) nParams = e.data.nParams;
    else handle(e);
  };
  await initBackend("wasm");
  const config = baseModelConfig();
  await prepareSource(config.data);
  session = createSession(halfBatch(config));
  for (const e of pending.splice(0)) handle(e);
  scope.postMessage("ready");
}

if (IN_WORKER) {
  await worker();
} else if (import.meta.main) {
  const asked = (Deno.args[0] ?? SECTIONS.join(",")).split(",").map((s) => s.trim());
  for (const s of asked) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      throw new Error(`gemm_threads: unknown section "${s}"; expected ${SECTIONS.join(", ")}`);
    }
  }
  const rounds = Number(Deno.args[1] ?? 11);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`gemm_threads: rounds must be a positive integer, got "${Deno.args[1]}"`);
  }
  await main(new Set(asked as Section[]), rounds);
}
