/**
 * A hand-assembled WebAssembly SIMD function that runs on the tfjs wasm backend's own memory.
 *
 * There is no C toolchain in this project, and JavaScript loops are scalar (about 10 ns per Adam
 * element here, slower than tfjs's fifteen SIMD kernels together). A few hundred bytes of wasm
 * importing the backend's exported `memory` give SIMD speed on the tensors where they lie.
 * The module is built once from the opcode listing below, so it can be read and checked against
 * the WebAssembly spec (§5.4 instructions; SIMD opcodes follow the 0xfd prefix).
 *
 * @module
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/** Unsigned LEB128. */
function _u(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
function _s(n: number): number[] {
  const out: number[] = [];
  while (true) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function _name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [..._u(bytes.length), ...bytes];
}

function _section(id: number, body: number[]): number[] {
  return [id, ..._u(body.length), ...body];
}

/**
 * A module importing `env.memory` (WebAssembly spec §5.5: type, import, function, export and code
 * sections): `types` are function types, `funcs` are [type index, export name, body] in export
 * order.
 */
function _moduleBytes(
  types: number[][],
  funcs: [number, string, number[]][],
): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ..._section(1, [types.length, ...types.flat()]),
    ..._section(2, [1, ..._name("env"), ..._name("memory"), 0x02, 0x00, 0x00]),
    ..._section(3, [funcs.length, ...funcs.map(([type]) => type)]),
    ..._section(7, [funcs.length, ...funcs.flatMap(([, name], i) => [..._name(name), 0x00, i])]),
    ..._section(10, [funcs.length, ...funcs.flatMap(([, , body]) => body)]),
  ]);
}

/** `bytes()` compiled once and instantiated once per memory; `pick` takes what callers use. */
function _bound<T>(
  bytes: () => Uint8Array<ArrayBuffer>,
  pick: (exports: WebAssembly.Exports) => T,
): (memory: WebAssembly.Memory) => T {
  const cache = new WeakMap<WebAssembly.Memory, T>();
  let module: WebAssembly.Module | null = null;
  return (memory) => {
    let bound = cache.get(memory);
    if (bound == null) {
      module ??= new WebAssembly.Module(bytes());
      bound = pick(new WebAssembly.Instance(module, { env: { memory } }).exports);
      cache.set(memory, bound);
    }
    return bound;
  };
}

const get = (i: number) => [0x20, ..._u(i)];
const set = (i: number) => [0x21, ..._u(i)];
const i32Const = (n: number) => [0x41, ..._s(n)];
const simd = (op: number) => [0xfd, ..._u(op)];
const op = {
  i32Add: [0x6a],
  i32And: [0x71],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Sqrt: [0x91],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32Div: [0x95],
  v128Load: [...simd(0x00), 4, 0],
  v128Store: [...simd(0x0b), 4, 0],
  f32x4Splat: simd(0x13),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  brIf: (depth: number) => [0x0d, ..._u(depth)],
  br: (depth: number) => [0x0c, ..._u(depth)],
  end: [0x0b],
};

/**
 * `adam(g, m, v, x, mo, vo, xo, n, β₁, 1−β₁, β₂, 1−β₂, 1−β₁ᵗ, 1−β₂ᵗ, ε, −η)` with byte offsets:
 * mo = m·β₁ + g·(1−β₁); vo = v·β₂ + (g·g)·(1−β₂);
 * xo = ((mo / (1−β₁ᵗ)) / (√(vo / (1−β₂ᵗ)) + ε))·(−η) + x, every operation in float32 and in
 * tfjs-core's order, four lanes at a time and a scalar tail.
 */
function _adamBody(): number[] {
  // params 0..7: g m v x mo vo xo n (i32); 8..15: the eight f32 scalars
  const K = 16, END4 = 17, END = 18; // i32 locals: byte index, vector end, end
  const SPLAT = 19; // 19..26: the scalars splatted to f32x4
  const G = 27, M = 28, V = 29; // v128 temporaries
  const g = 30, m = 31, v = 32; // f32 temporaries
  const at = (base: number) => [...get(base), ...get(K), ...op.i32Add];
  const lanes = (load: number[], mul: number[], add: number[], div: number[], sqrt: number[]) => {
    const scalar = (i: number) => load === op.v128Load ? get(SPLAT + i) : get(8 + i);
    const [tg, tm, tv] = load === op.v128Load ? [G, M, V] : [g, m, v];
    const store = load === op.v128Load ? op.v128Store : op.f32Store;
    // deno-fmt-ignore
    return [
      ...at(0), ...load, ...set(tg),                                          // g
      ...at(1), ...load, ...scalar(0), ...mul,                                // m·β₁
      ...get(tg), ...scalar(1), ...mul, ...add, ...set(tm),                   // + g·(1−β₁)
      ...at(2), ...load, ...scalar(2), ...mul,                                // v·β₂
      ...get(tg), ...get(tg), ...mul, ...scalar(3), ...mul, ...add, ...set(tv), // + g²·(1−β₂)
      ...at(4), ...get(tm), ...store,                                         // mo
      ...at(5), ...get(tv), ...store,                                         // vo
      ...at(6),                                                               // xo =
      ...get(tm), ...scalar(4), ...div,                                       //   m / (1−β₁ᵗ)
      ...get(tv), ...scalar(5), ...div, ...sqrt, ...scalar(6), ...add,        //   √(v / (1−β₂ᵗ)) + ε
      ...div, ...scalar(7), ...mul,                                           //   ÷, · (−η)
      ...at(3), ...load, ...add,                                              //   + x
      ...store,
    ];
  };
  // deno-fmt-ignore
  const loopUntil = (end: number, step: number, body: number[]) => [
    ...op.block, ...op.loop,
    ...get(K), ...get(end), ...op.i32GeU, ...op.brIf(1),                      // while k < end
    ...body,
    ...get(K), ...i32Const(step), ...op.i32Add, ...set(K),                    //   k += step
    ...op.br(0), ...op.end, ...op.end,
  ];
  const splats = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
    ...get(8 + i),
    ...op.f32x4Splat,
    ...set(SPLAT + i),
  ]);
  const vector = lanes(op.v128Load, op.f32x4Mul, op.f32x4Add, op.f32x4Div, op.f32x4Sqrt);
  const scalar = lanes(op.f32Load, op.f32Mul, op.f32Add, op.f32Div, op.f32Sqrt);
  // deno-fmt-ignore
  const code = [
    ...splats,
    ...get(7), ...i32Const(2), ...op.i32Shl, ...set(END),                     // end = 4n bytes
    ...get(END), ...i32Const(-16), ...op.i32And, ...set(END4),                // whole vectors
    ...loopUntil(END4, 16, vector),
    ...loopUntil(END, 4, scalar),
    ...op.end,
  ];
  const locals = [3, ..._u(3), I32, ..._u(11), V128, ..._u(3), F32];
  const body = [...locals, ...code];
  return [..._u(body.length), ...body];
}

/** The Adam update function; arguments as documented on {@linkcode _adamBody}. */
export type AdamSimd = (
  g: number,
  m: number,
  v: number,
  x: number,
  mo: number,
  vo: number,
  xo: number,
  n: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  oneMinusAccBeta1: number,
  oneMinusAccBeta2: number,
  epsilon: number,
  negLearningRate: number,
) => void;

/** The module's bytes: one function `adam` and an imported `env.memory`. */
export function adamModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ..._u(16), ...Array(8).fill(I32), ...Array(8).fill(F32), 0];
  return _moduleBytes([type], [[0, "adam", _adamBody()]]);
}

/** The Adam function bound to `memory` (compiled once per memory). */
export const adamSimd: (memory: WebAssembly.Memory) => AdamSimd = _bound(
  adamModuleBytes,
  (e) => e.adam as AdamSimd,
);

/** Which elementwise function of the leaky-ReLU module. */
type LeakyOp = "forward" | "grad";

/**
 * `leakyRelu(a, _, o, n, α)`: o = a < 0 ? a·α : a (the stock wasm kernel's formula).
 * `leakyReluGrad(a, b, o, n, α)`: o = a > 0 ? b : b·α (tfjs-core's gradient,
 * `where(x > 0, dy, dy·α)`, with a = x, b = dy). Byte offsets; one float32 multiply per element,
 * so results are bit-identical to the kernels they replace.
 */
function _leakyBody(which: LeakyOp): number[] {
  // params 0..4: a b o n (i32), α (f32)
  const K = 5, END4 = 6, END = 7; // i32 locals
  const ALPHA = 8, ZERO = 9, VA = 10, VB = 11; // v128 locals
  const SA = 12, SB = 13; // f32 locals
  const at = (base: number) => [...get(base), ...get(K), ...op.i32Add];
  const f32x4Lt = simd(0x43);
  const f32x4Gt = simd(0x44);
  const bitselect = simd(0x52);
  const f32Lt = [0x5d];
  const f32Gt = [0x5e];
  const select = [0x1b];
  // deno-fmt-ignore
  const vector = [
    ...at(0), ...op.v128Load, ...set(VA),
    ...at(1), ...op.v128Load, ...set(VB),
    ...at(2),
    ...(which === "forward"
      ? [...get(VA), ...get(ALPHA), ...op.f32x4Mul, ...get(VA), ...get(VA), ...get(ZERO), ...f32x4Lt]
      : [...get(VB), ...get(VB), ...get(ALPHA), ...op.f32x4Mul, ...get(VA), ...get(ZERO), ...f32x4Gt]),
    ...bitselect, ...op.v128Store,
  ];
  // deno-fmt-ignore
  const scalar = [
    ...at(0), ...op.f32Load, ...set(SA),
    ...at(1), ...op.f32Load, ...set(SB),
    ...at(2),
    ...(which === "forward"
      ? [...get(SA), ...get(4), ...op.f32Mul, ...get(SA), ...get(SA), 0x43, 0, 0, 0, 0, ...f32Lt]
      : [...get(SB), ...get(SB), ...get(4), ...op.f32Mul, ...get(SA), 0x43, 0, 0, 0, 0, ...f32Gt]),
    ...select, ...op.f32Store,
  ];
  // deno-fmt-ignore
  const loopUntil = (end: number, step: number, body: number[]) => [
    ...op.block, ...op.loop,
    ...get(K), ...get(end), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...get(K), ...i32Const(step), ...op.i32Add, ...set(K),
    ...op.br(0), ...op.end, ...op.end,
  ];
  // deno-fmt-ignore
  const code = [
    ...get(4), ...op.f32x4Splat, ...set(ALPHA),
    0x43, 0, 0, 0, 0, ...op.f32x4Splat, ...set(ZERO),
    ...get(3), ...i32Const(2), ...op.i32Shl, ...set(END),
    ...get(END), ...i32Const(-16), ...op.i32And, ...set(END4),
    ...loopUntil(END4, 16, vector),
    ...loopUntil(END, 4, scalar),
    ...op.end,
  ];
  const locals = [3, ..._u(3), I32, ..._u(4), V128, ..._u(2), F32];
  const body = [...locals, ...code];
  return [..._u(body.length), ...body];
}

/** `(a, b, o, n, α)` with byte offsets `a, b, o` and element count `n`. */
export type LeakySimd = (a: number, b: number, o: number, n: number, alpha: number) => void;

/** The module's bytes: `leakyRelu` and `leakyReluGrad` over an imported `env.memory`. */
export function leakyModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ..._u(5), I32, I32, I32, I32, F32, 0];
  return _moduleBytes([type], [
    [0, "leakyRelu", _leakyBody("forward")],
    [0, "leakyReluGrad", _leakyBody("grad")],
  ]);
}

/** The leaky-ReLU functions bound to `memory` (compiled once per memory). */
export const leakySimd: (memory: WebAssembly.Memory) => Record<LeakyOp, LeakySimd> = _bound(
  leakyModuleBytes,
  (e) => ({ forward: e.leakyRelu as LeakySimd, grad: e.leakyReluGrad as LeakySimd }),
);

/**
 * `preluGrad(x, dy, α, dx, r, n)` with byte offsets and `α` already laid out like `x`:
 * dx = x > 0 ? dy : dy·α and r = x > 0 ? 0 : dy·x — tfjs-core's PReLU gradient
 * (`where(x > 0, dy, dy·α)` and `where(x > 0, 0, dy·x)`) in one pass, one float32 multiply each.
 */
function _preluGradBody(): number[] {
  // params 0..5: x dy α dx r n (i32)
  const K = 6, END4 = 7, END = 8; // i32
  const VX = 9, VD = 10, VA = 11, ZERO = 12; // v128
  const SX = 13, SD = 14, SA = 15; // f32
  const at = (base: number) => [...get(base), ...get(K), ...op.i32Add];
  const f32x4Gt = simd(0x44);
  const bitselect = simd(0x52);
  const f32Gt = [0x5e];
  const select = [0x1b];
  const f32Zero = [0x43, 0, 0, 0, 0];
  // deno-fmt-ignore
  const vector = [
    ...at(0), ...op.v128Load, ...set(VX),
    ...at(1), ...op.v128Load, ...set(VD),
    ...at(2), ...op.v128Load, ...set(VA),
    ...at(3), ...get(VD), ...get(VD), ...get(VA), ...op.f32x4Mul,
    ...get(VX), ...get(ZERO), ...f32x4Gt, ...bitselect, ...op.v128Store,
    ...at(4), ...get(ZERO), ...get(VD), ...get(VX), ...op.f32x4Mul,
    ...get(VX), ...get(ZERO), ...f32x4Gt, ...bitselect, ...op.v128Store,
  ];
  // deno-fmt-ignore
  const scalar = [
    ...at(0), ...op.f32Load, ...set(SX),
    ...at(1), ...op.f32Load, ...set(SD),
    ...at(2), ...op.f32Load, ...set(SA),
    ...at(3), ...get(SD), ...get(SD), ...get(SA), ...op.f32Mul,
    ...get(SX), ...f32Zero, ...f32Gt, ...select, ...op.f32Store,
    ...at(4), ...f32Zero, ...get(SD), ...get(SX), ...op.f32Mul,
    ...get(SX), ...f32Zero, ...f32Gt, ...select, ...op.f32Store,
  ];
  // deno-fmt-ignore
  const loopUntil = (end: number, step: number, body: number[]) => [
    ...op.block, ...op.loop,
    ...get(K), ...get(end), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...get(K), ...i32Const(step), ...op.i32Add, ...set(K),
    ...op.br(0), ...op.end, ...op.end,
  ];
  // deno-fmt-ignore
  const code = [
    ...f32Zero, ...op.f32x4Splat, ...set(ZERO),
    ...get(5), ...i32Const(2), ...op.i32Shl, ...set(END),
    ...get(END), ...i32Const(-16), ...op.i32And, ...set(END4),
    ...loopUntil(END4, 16, vector),
    ...loopUntil(END, 4, scalar),
    ...op.end,
  ];
  const locals = [3, ..._u(3), I32, ..._u(4), V128, ..._u(3), F32];
  const body = [...locals, ...code];
  return [..._u(body.length), ...body];
}

/** `(x, dy, α, dx, r, n)`: byte offsets and element count. */
export type PreluGradSimd = (
  x: number,
  dy: number,
  alpha: number,
  dx: number,
  r: number,
  n: number,
) => void;

/** The module's bytes: `preluGrad` over an imported `env.memory`. */
export function preluModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ..._u(6), I32, I32, I32, I32, I32, I32, 0];
  return _moduleBytes([type], [[0, "preluGrad", _preluGradBody()]]);
}

/** The PReLU gradient function bound to `memory` (compiled once per memory). */
export const preluGradSimd: (memory: WebAssembly.Memory) => PreluGradSimd = _bound(
  preluModuleBytes,
  (e) => e.preluGrad as PreluGradSimd,
);

/** `f32.const v` (v rounded to float32), little-endian. */
function _f32Const(v: number): number[] {
  const bytes = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...bytes];
}

/**
 * Snake over rows of C channels (C a multiple of 4), four lanes at a time in float32:
 * `snake(x, a, y, xEnd, cBytes)`: y = x + sin²(αx)/(α + 1e-9);
 * `snakeGrad(x, dy, a, dx, da, xEnd, cBytes)`: dx = dy·(1 + sin(2αx)·α/(α + 1e-9)) and
 * da += dy·(x·sin(2αx)/(α + 1e-9) − sin²(αx)/(α + 1e-9)²), summed over rows in row order.
 * Byte offsets; `x` advances by `cBytes` per row until `xEnd`. sin and cos of t = αx: k = nearest(2t/π),
 * r = t − k·π/2 in three Cody–Waite parts (cephes' sinf constants), Taylor polynomials to r⁹ and r¹⁰
 * (error < 3e-8 on |r| ≤ π/4), and k's parity picks sin² = s² or c² and the sign of sin t·cos t.
 */
function _snakeBody(which: "forward" | "grad"): number[] {
  const fwd = which === "forward";
  // forward params: x a y xEnd cBytes; grad params: x dy a dx da xEnd cBytes (all i32)
  const [X, DYP, A, OUT, DA, XEND, CB] = fwd ? [0, -1, 1, 2, -1, 3, 4] : [0, 1, 2, 3, 4, 5, 6];
  const J = fwd ? 5 : 7; // i32 local: byte index within the row
  let next = J + 1;
  const v = () => next++;
  const [VA, INV, VX, T, K, R, R2, S, C, P, SSQ, H] = Array.from({ length: 12 }, v);
  const consts = [
    2 / Math.PI, // TWO_OVER_PI
    1.5703125, // π/2, first part
    4.837512969970703125e-4, // second part
    7.54978995489188216e-8, // third part
    -1 / 6,
    1 / 120,
    -1 / 5040,
    1 / 362880, // sin
    -0.5,
    1 / 24,
    -1 / 720,
    1 / 40320,
    -1 / 3628800, // cos
    0.5,
    1,
    2,
    1e-9,
  ];
  const CONST = next;
  next += consts.length;
  const [TWO_OVER_PI, P1, P2, P3, S1, S2, S3, S4, C1, C2, C3, C4, C5, HALF, ONE, TWO, EPS] = consts
    .map((_, i) => CONST + i);
  const vLocals = next - (J + 1);
  const add = simd(0xe4), sub = simd(0xe5), mul = simd(0xe6), div = simd(0xe7);
  const floor = simd(0x68), nearest = simd(0x6a);
  const g = (i: number) => get(i);
  const at = (base: number) => [...get(base), ...get(J), ...op.i32Add];
  // Horner: c0 + r2·(c1 + r2·(…)) for locals cs = [c0, c1, …].
  const horner = (cs: number[]): number[] =>
    cs.length === 1 ? g(cs[0]) : [...g(cs[0]), ...g(R2), ...horner(cs.slice(1)), ...mul, ...add];
  // deno-fmt-ignore
  const common = [
    ...get(A), ...get(J), ...op.i32Add, ...op.v128Load, ...set(VA),
    ...g(ONE), ...g(VA), ...g(EPS), ...add, ...div, ...set(INV),                   // 1/(α + ε)
    ...at(X), ...op.v128Load, ...set(VX),
    ...g(VA), ...g(VX), ...mul, ...set(T),                                           // t = αx
    ...g(T), ...g(TWO_OVER_PI), ...mul, ...nearest, ...set(K),
    ...g(T), ...g(K), ...g(P1), ...mul, ...sub, ...g(K), ...g(P2), ...mul, ...sub,
    ...g(K), ...g(P3), ...mul, ...sub, ...set(R),                                    // r = t − kπ/2
    ...g(R), ...g(R), ...mul, ...set(R2),
    ...g(R), ...g(R), ...g(R2), ...mul, ...horner([S1, S2, S3, S4]), ...mul, ...add, ...set(S),
    ...g(ONE), ...g(R2), ...horner([C1, C2, C3, C4, C5]), ...mul, ...add, ...set(C),
    ...g(K), ...g(HALF), ...mul, ...set(H),
    ...g(H), ...g(H), ...floor, ...sub, ...g(TWO), ...mul, ...set(P),                 // k mod 2
    ...g(S), ...g(S), ...mul,
    ...g(P), ...g(C), ...g(C), ...mul, ...g(S), ...g(S), ...mul, ...sub, ...mul, ...add,
    ...set(SSQ),                                                                      // sin²(t)
  ];
  // deno-fmt-ignore
  const tail = fwd
    ? [
      ...at(OUT), ...g(VX), ...g(SSQ), ...g(INV), ...mul, ...add, ...op.v128Store,
    ]
    : [
      // S ← sin(2t) = 2·(1 − 2p)·s·c
      ...g(TWO), ...g(ONE), ...g(TWO), ...g(P), ...mul, ...sub, ...mul, ...g(S), ...mul, ...g(C),
      ...mul, ...set(S),
      ...at(DYP), ...op.v128Load, ...set(C),                                          // C ← dy
      ...at(OUT), ...g(C), ...g(ONE), ...g(S), ...g(VA), ...mul, ...g(INV), ...mul, ...add, ...mul,
      ...op.v128Store,
      ...get(DA), ...get(J), ...op.i32Add,
      ...get(DA), ...get(J), ...op.i32Add, ...op.v128Load,
      ...g(C), ...g(VX), ...g(S), ...mul, ...g(INV), ...mul, ...g(SSQ), ...g(INV), ...mul, ...g(INV),
      ...mul, ...sub, ...mul, ...add, ...op.v128Store,
    ];
  const advance = (p: number) => [...get(p), ...get(CB), ...op.i32Add, ...set(p)];
  // deno-fmt-ignore
  const code = [
    ...consts.flatMap((c, i) => [..._f32Const(c), ...op.f32x4Splat, ...set(CONST + i)]),
    ...op.block, ...op.loop,                                                          // rows
    ...get(X), ...get(XEND), ...op.i32GeU, ...op.brIf(1),
    ...i32Const(0), ...set(J),
    ...op.block, ...op.loop,                                                          // channels
    ...get(J), ...get(CB), ...op.i32GeU, ...op.brIf(1),
    ...common, ...tail,
    ...get(J), ...i32Const(16), ...op.i32Add, ...set(J),
    ...op.br(0), ...op.end, ...op.end,
    ...advance(X), ...advance(OUT), ...(fwd ? [] : advance(DYP)),
    ...op.br(0), ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = [2, 1, I32, ..._u(vLocals), V128];
  const body = [...locals, ...code];
  return [..._u(body.length), ...body];
}

/** `(x, a, y, xEnd, cBytes)`: byte offsets, see {@linkcode _snakeBody}. */
export type SnakeSimd = (x: number, a: number, y: number, xEnd: number, cBytes: number) => void;
/** `(x, dy, a, dx, da, xEnd, cBytes)`: byte offsets; `da` must hold zeros (it accumulates). */
export type SnakeGradSimd = (
  x: number,
  dy: number,
  a: number,
  dx: number,
  da: number,
  xEnd: number,
  cBytes: number,
) => void;

/** The module's bytes: `snake` and `snakeGrad` over an imported `env.memory`. */
export function snakeModuleBytes(): Uint8Array<ArrayBuffer> {
  const forward = [0x60, ..._u(5), I32, I32, I32, I32, I32, 0];
  const grad = [0x60, ..._u(7), I32, I32, I32, I32, I32, I32, I32, 0];
  return _moduleBytes([forward, grad], [
    [0, "snake", _snakeBody("forward")],
    [1, "snakeGrad", _snakeBody("grad")],
  ]);
}

/** The Snake functions bound to `memory` (compiled once per memory). */
export const snakeSimd: (
  memory: WebAssembly.Memory,
) => { forward: SnakeSimd; grad: SnakeGradSimd } = _bound(
  snakeModuleBytes,
  (e) => ({ forward: e.snake as SnakeSimd, grad: e.snakeGrad as SnakeGradSimd }),
);
