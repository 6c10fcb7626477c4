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
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ..._section(1, [1, ...type]),
    ..._section(2, [1, ..._name("env"), ..._name("memory"), 0x02, 0x00, 0x00]),
    ..._section(3, [1, 0]),
    ..._section(7, [1, ..._name("adam"), 0x00, 0]),
    ..._section(10, [1, ..._adamBody()]),
  ]);
}

const instances = new WeakMap<WebAssembly.Memory, AdamSimd>();

/** The Adam function bound to `memory` (compiled once per memory). */
export function adamSimd(memory: WebAssembly.Memory): AdamSimd {
  let fn = instances.get(memory);
  if (fn == null) {
    const module = new WebAssembly.Module(adamModuleBytes());
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    fn = instance.exports.adam as AdamSimd;
    instances.set(memory, fn);
  }
  return fn;
}
