/**
 * Micro-benchmark of `lib/nn/conv.ts` at the shapes of issue 8's conv reference step (8 kHz,
 * batch 8 × 4096 samples, channels 16…256, strides 2, 4, 4, 4, k7 at dilations 1 and 3, k1).
 * Prints CPU ms (user + system of this process) per op for forward and backward (gradients of x and w), native kernels
 * against the tf-ops reference on the same (patched) wasm backend, and the sum over one step's
 * convs. Timings on a shared machine: compare ratios within one run.
 *
 *     deno run -A bench/conv_ops.ts [--reps 5] [--only native|tfops] [--conv auto|taps|im2col]
 *
 * @module
 */
import process from "node:process";
import { initBackend, tf } from "../lib/backend.ts";
import { type ConvMethod, installKernels } from "../lib/kernels/mod.ts";
import {
  conv1d,
  conv1dReference,
  convTranspose1d,
  convTranspose1dReference,
} from "../lib/nn/conv.ts";

interface Layer {
  name: string;
  /** How many times one reference step runs this layer. */
  count: number;
  transpose: boolean;
  t: number;
  cin: number;
  cout: number;
  k: number;
  s: number;
  d: number;
  p: number;
}

const B = 8;

function layers(): Layer[] {
  const out: Layer[] = [];
  const add = (l: Omit<Layer, "count">) => {
    const same = out.find((o) =>
      JSON.stringify({ ...o, count: 0 }) === JSON.stringify({ ...l, count: 0 })
    );
    if (same) same.count++;
    else out.push({ ...l, count: 1 });
  };
  const conv = (
    name: string,
    t: number,
    cin: number,
    cout: number,
    k: number,
    s = 1,
    d = 1,
    p = 0,
  ) => add({ name, transpose: false, t, cin, cout, k, s, d, p });
  const resUnits = (t: number, c: number) => {
    conv(`res k7 d1 c${c}`, t, c, c, 7, 1, 1, 3);
    conv(`res k1 c${c}`, t, c, c, 1);
    conv(`res k7 d3 c${c}`, t, c, c, 7, 1, 3, 9);
    conv(`res k1 c${c}`, t, c, c, 1);
  };
  const blocks = [[16, 32, 2], [32, 64, 4], [64, 128, 4], [128, 256, 4]];
  let t = 4096;
  conv("stem k7 1→16", t, 1, 16, 7, 1, 1, 3);
  for (const [cin, cout, s] of blocks) {
    resUnits(t, cin);
    conv(`down k${2 * s} s${s} ${cin}→${cout}`, t, cin, cout, 2 * s, s, 1, s / 2);
    t /= s;
  }
  conv("latent k3 256→64", t, 256, 64, 3, 1, 1, 1);
  conv("dec in k7 64→256", t, 64, 256, 7, 1, 1, 3);
  for (const [cout, cin, s] of [...blocks].reverse()) {
    add({
      name: `up k${2 * s} s${s} ${cin}→${cout}`,
      transpose: true,
      t,
      cin,
      cout,
      k: 2 * s,
      s,
      d: 1,
      p: s / 2,
    });
    t *= s;
    resUnits(t, cout);
  }
  conv("out k7 16→1", t, 16, 1, 7, 1, 1, 3);
  return out;
}

type Op = (x: tf.Tensor3D, w: tf.Tensor3D) => tf.Tensor3D;

function ops(l: Layer, native: boolean): Op {
  if (l.transpose) {
    const f = native ? convTranspose1d : convTranspose1dReference;
    return (x, w) => f(x, w, { stride: l.s, padding: l.p });
  }
  const f = native ? conv1d : conv1dReference;
  return (x, w) => f(x, w, { stride: l.s, dilation: l.d, padding: l.p });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Process CPU time (user + system) in ms: on a shared machine, less distorted than wall time. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function time(f: () => void, reps: number): number {
  f();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = cpuMs();
    f();
    ms.push(cpuMs() - t0);
  }
  return median(ms);
}

function measure(l: Layer, native: boolean, reps: number): { fwd: number; bwd: number } {
  const x = tf.randomNormal([B, l.t, l.cin], 0, 1, "float32", 1) as tf.Tensor3D;
  const w = tf.randomNormal([l.k, l.cin, l.cout], 0, 0.1, "float32", 2) as tf.Tensor3D;
  const op = ops(l, native);
  const y = op(x, w);
  const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3);
  y.dispose();
  const vjp = tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a as tf.Tensor3D, b as tf.Tensor3D));
  // Nothing is returned from tidy: tfjs would walk a returned typed array element by element.
  const fwd = time(() => tf.tidy(() => void op(x, w).dataSync()), reps);
  const both = time(() => tf.tidy(() => vjp([x, w], dy).forEach((t) => void t.dataSync())), reps);
  tf.dispose([x, w, dy]);
  return { fwd, bwd: Math.max(0, both - fwd) };
}

if (import.meta.main) {
  const args = Deno.args;
  const reps = Number(args[args.indexOf("--reps") + 1] ?? 5) || 5;
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : null;
  const info = await initBackend("wasm");
  const method = args.includes("--conv") ? args[args.indexOf("--conv") + 1] as ConvMethod : "auto";
  installKernels({ conv: method });
  console.log(`conv method ${method}`);
  console.log(
    `backend ${info.backend}, gemm ${info.gemm}, load ${
      Deno.loadavg().map((v) => v.toFixed(2)).join(" ")
    }`,
  );
  if (args.includes("--step")) {
    for (const native of only == null ? [true, false] : [only === "native"]) {
      const net = referenceConvNet(B, 4096, native);
      net.step();
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        const c0 = cpuMs();
        net.step();
        cpu.push(cpuMs() - c0);
        wall.push(performance.now() - t0);
      }
      console.log(
        `${native ? "native" : "tf-ops"} conv-net step (L1 only): cpu ${
          median(cpu).toFixed(0)
        } ms, ` +
          `wall ${median(wall).toFixed(0)} ms, tensors ${tf.memory().numTensors}, ` +
          `rss ${(Deno.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
      );
      net.dispose();
    }
    Deno.exit(0);
  }
  const modes = only == null ? [true, false] : [only === "native"];
  const totals = new Map<boolean, { fwd: number; bwd: number }>();
  const rows: string[] = [];
  for (const l of layers()) {
    const cells: string[] = [];
    for (const native of modes) {
      const r = measure(l, native, reps);
      const tot = totals.get(native) ?? { fwd: 0, bwd: 0 };
      tot.fwd += l.count * r.fwd;
      tot.bwd += l.count * r.bwd;
      totals.set(native, tot);
      cells.push(`${r.fwd.toFixed(2).padStart(8)} ${r.bwd.toFixed(2).padStart(8)}`);
    }
    rows.push(`${(`${l.name} T${l.t}`).padEnd(28)} ×${l.count} ${cells.join("   ")}`);
  }
  console.log(
    `${"layer".padEnd(31)} ${
      modes.map((m) => (m ? "native fwd  dx+dw" : "tf-ops fwd  dx+dw").padStart(19)).join("   ")
    }`,
  );
  for (const r of rows) console.log(r);
  for (const native of modes) {
    const t = totals.get(native)!;
    console.log(
      `${native ? "native" : "tf-ops"} per step (weighted by count): fwd ${
        t.fwd.toFixed(1)
      } ms, backward (dx + dw) ${t.bwd.toFixed(1)} ms`,
    );
  }
  console.log(`load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
}

/** Weight and bias of one conv layer. */
interface ConvParams {
  w: tf.Variable;
  b: tf.Variable;
}

/**
 * The conv part of issue 8's reference step (no STFT loss: waveform L1 only), to see what the
 * convs and the elementwise ops around them cost in a whole training step.
 */
export function referenceConvNet(batch = B, samples = 4096, native = true) {
  let seed = 10;
  const params: ConvParams[] = [];
  const layer = (k: number, cin: number, cout: number): ConvParams => {
    const scale = 1 / Math.sqrt(k * cin);
    const p = {
      w: tf.variable(tf.randomNormal([k, cin, cout], 0, scale, "float32", seed++)),
      b: tf.variable(tf.zeros([cout])),
    };
    params.push(p);
    return p;
  };
  const c1 = native ? conv1d : conv1dReference;
  const ct = native ? convTranspose1d : convTranspose1dReference;
  const lrelu = (x: tf.Tensor3D) => tf.leakyRelu(x, 0.1) as tf.Tensor3D;
  const conv = (
    p: ConvParams,
    x: tf.Tensor3D,
    o: { stride?: number; dilation?: number; padding?: number } = {},
  ) => tf.add(c1(x, p.w as tf.Tensor3D, o), p.b) as tf.Tensor3D;
  const resUnit = (c: number, d: number) => {
    const a = layer(7, c, c);
    const b = layer(1, c, c);
    return (x: tf.Tensor3D) =>
      tf.add(x, conv(b, lrelu(conv(a, lrelu(x), { dilation: d, padding: 3 * d })))) as tf.Tensor3D;
  };
  const blocks = [[16, 32, 2], [32, 64, 4], [64, 128, 4], [128, 256, 4]];
  const enc: ((x: tf.Tensor3D) => tf.Tensor3D)[] = [];
  const stem = layer(7, 1, 16);
  enc.push((x) => conv(stem, x, { padding: 3 }));
  for (const [cin, cout, s] of blocks) {
    const r1 = resUnit(cin, 1);
    const r3 = resUnit(cin, 3);
    const down = layer(2 * s, cin, cout);
    enc.push((x) => conv(down, lrelu(r3(r1(x))), { stride: s, padding: s / 2 }));
  }
  const latent = layer(3, 256, 64);
  enc.push((x) => conv(latent, lrelu(x), { padding: 1 }));
  const dec: ((x: tf.Tensor3D) => tf.Tensor3D)[] = [];
  const decIn = layer(7, 64, 256);
  dec.push((x) => conv(decIn, x, { padding: 3 }));
  for (const [cout, cin, s] of [...blocks].reverse()) {
    const up = layer(2 * s, cin, cout);
    const r1 = resUnit(cout, 1);
    const r3 = resUnit(cout, 3);
    dec.push((x) =>
      r3(
        r1(
          tf.add(
            ct(lrelu(x), up.w as tf.Tensor3D, { stride: s, padding: s / 2 }),
            up.b,
          ) as tf.Tensor3D,
        ),
      )
    );
  }
  const out = layer(7, 16, 1);
  dec.push((x) => conv(out, lrelu(x), { padding: 3 }));
  const roundSte = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((x: tf.Tensor) => ({ value: tf.round(x), gradFunc: (dy: tf.Tensor) => dy })) as any,
  ) as unknown as (x: tf.Tensor) => tf.Tensor3D;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, samples, 1], 0, 0.3, "float32", 1) as tf.Tensor3D;
  const step = (): number => {
    const loss = optimizer.minimize(() => {
      let h = x;
      for (const f of enc) h = f(h);
      h = roundSte(h);
      for (const f of dec) h = f(h);
      return tf.mean(tf.abs(tf.sub(h, x))) as tf.Scalar;
    }, true)!;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  const dispose = () => {
    for (const p of params) tf.dispose([p.w, p.b]);
    optimizer.dispose();
    x.dispose();
  };
  return { step, dispose, params };
}
