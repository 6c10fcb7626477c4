/**
 * A convolutional speech codec with DAC's shape at CPU scale (Kumar et al. 2023, "High-Fidelity
 * Audio Compression with Improved RVQGAN"; `dac/model/dac.py`), every size a config field:
 *
 * ```text
 * encoder  x [B, T, 1]
 *          → Conv1d(1→C, k7)                                   stem
 *          → per block i (C·2^i → C·2^(i+1), stride s_i):
 *              ResUnit(d) for d in dilations, act, Conv1d(k = 2s_i, stride s_i, padding s_i/2)
 *          → act, Conv1d(C·2^n → D, latentKernel)              latent [B, T/Πs, D]
 *          → [codeDim] Conv1d(D → codeDim, k1), l2-normalise    code space (DAC's factorised codes)
 * decoder  [codeDim] Conv1d(codeDim → D, k1)
 *          → Conv1d(D → C'·2^n, k7)                            C' = decoderChannels ?? C
 *          → per block, mirrored: act, ConvTranspose1d(k = 2s, stride s, padding s/2),
 *              ResUnit(d) for d in dilations
 *          → act, Conv1d(C' → 1, k7)                           audio [B, T]
 * ResUnit(c, d)(x) = x + Conv1d(c→c, k1)(act(Conv1d(c→c, k7, dilation d, padding 3d)(act(x))))
 * ```
 *
 * Every conv has a bias. Latent frames come out channels-last, [B, frames, latentDim], so the
 * trainer can fold batch and time into the quantizer's frame axis. The frame rate is
 * f = sampleRate / Πstrides ({@linkcode convFrameRate}).
 *
 * Differences from DAC, all [choice]: weight normalisation off by default (DAC's
 * `WNConv1d`/`WNConvTranspose1d`, available as `weightNorm: true`); LeakyReLU(0.1) by default
 * (DAC uses Snake, available as `activation: "snake"`); two dilations per block by default (DAC
 * uses 1, 3, 9); no output tanh; strides must be even (DAC pads odd strides with output_padding).
 *
 * Linear path [choice, not DAC's; `linearPath`]: beside the conv stacks, a linear analysis filter
 * bank A (Conv1d(1 → D, k = K_l, stride Πs)) and its synthesis bank S (ConvTranspose1d(D → 1, same
 * k and stride)), initialised from the principal components of training frames of Πs samples
 * (the top D eigenvectors of their second-moment matrix, placed in the K_l-tap filters' middle Πs
 * taps, the rest zero), so that before training the codec is exactly that PCA transform code. The
 * conv stacks are added through learned scalar gates g_e, g_d that start at `gateInit`:
 *
 * ```text
 * z = A∗x + g_e · ConvEncoder(x)        x̂ = S∗ᵀz + g_d · ConvDecoder(z)
 * ```
 *
 * Why: a conv codec trained from scratch on CPU budgets does not learn the waveform (its output
 * is a noise vocoding of the input, SI-SDR ≈ −35 dB), while the PCA code of the same latent rate
 * reaches +8.3 dB; starting from it, training only has to improve on a transform code. With
 * K_l = 2Πs the banks overlap (a lapped transform), which block PCA cannot use.
 *
 * @module
 */
import { tf } from "../backend.ts";
import { ConfigError } from "../kinds.ts";
import * as nnConv from "../nn/conv.ts";
import { snake } from "../kernels/snake.ts";
import { linearBanks, type LinearPathConfig, validateLinearPath } from "./linear_path.ts";
import { Rng, rngFor } from "../random.ts";
import { type CodecWeightsConfig, loadCodecWeights, validateCodecWeights } from "./weights.ts";
import type { Codec } from "./types.ts";

export type { CodecWeightsConfig, LinearPathConfig };

/** Activation between convolutions. [choice: DAC uses Snake; the reference uses LeakyReLU] */
export type ConvActivation = "leakyRelu" | "snake";

/**
 * Weight initialisation. [choice]
 * - `"kaimingUniform"`: PyTorch's default for Conv1d/ConvTranspose1d (kaiming-uniform with
 *   a = √5, i.e. weights and biases uniform in ±1/√fanIn; for a transposed conv PyTorch's fanIn is
 *   Cout·K). What the PyTorch timing of the reference step uses.
 * - `"truncNormal"`: DAC's, weights truncated normal (σ = 0.02, cut at ±2σ), biases zero. DAC
 *   pairs it with weight normalisation, which this codec does not have, so activations shrink
 *   through depth; kept for comparison.
 */
export type ConvInit = "kaimingUniform" | "truncNormal";

/** Sizes and choices of {@linkcode convCodec}. JSON-serialisable. */
export interface ConvCodecConfig {
  kind: "conv";
  /** Sample rate the codec is built for, Hz; only sets the frame rate it reports. [choice: 8 kHz speech] */
  sampleRate: number;
  /** Stem width C; block i outputs C·2^(i+1) channels (DAC doubles per block). [choice] */
  channels: number;
  /** Downsampling factor of each encoder block, in order; each even. Πstrides samples per frame. [choice] */
  strides: number[];
  /** Latent dimension D, the encoder's output width. [choice] */
  latentDim: number;
  /** Kernel of the conv into the latent (DAC: 3). [choice] */
  latentKernel: number;
  /** Kernel of the residual units' dilated conv and of stem, decoder input and output convs (DAC: 7). */
  kernel: number;
  /** Dilations of the residual units in each block (DAC: 1, 3, 9). [choice] */
  dilations: number[];
  /** Decoder width at its output end; the decoder's input side has decoderChannels·2^n. null mirrors the encoder (DAC: 1536/2^4 = 96 against 64). [choice] */
  decoderChannels: number | null;
  /**
   * Factorised codes [choice]: when set, the encoder projects the latent D → codeDim with a 1×1
   * conv and l2-normalises each frame, the decoder projects codeDim → D back; latentDim of the
   * codec is then codeDim. DAC does this per quantizer stage inside `VectorQuantize` (in_proj,
   * lookup of l2-normalised codes, out_proj; the residual lives in D-space). Here it is one
   * projection for the whole quantizer, so any quantizer of `lib/quantizers/` sees unit-norm
   * frames; per-stage projections would belong to the RVQ. null = off (the latent is quantized directly).
   */
  codeDim: number | null;
  activation: ConvActivation;
  /** Negative slope of LeakyReLU. [choice: 0.1, the reference step] */
  leakySlope: number;
  init: ConvInit;
  /**
   * Weight normalisation (Salimans & Kingma 2016) of every conv, as DAC's `WNConv1d`: w = g·v/‖v‖
   * with one g per output channel (per input channel for a transposed conv, PyTorch's `dim=0`);
   * g starts at ‖v‖, so the initial weights are those without it. [choice: DAC uses it; absent =
   * off]
   */
  weightNorm?: boolean;
  /** The PCA-initialised linear path with gated conv stacks (module doc). [choice; absent = off] */
  linearPath?: LinearPathConfig;
  /**
   * Start from a stored checkpoint's weights instead of the seeded initialisation (`weights.ts`):
   * loaded by the codec's initialisation hook before training, replacing the linear path's PCA
   * initialisation. [choice; absent = off]
   */
  weights?: CodecWeightsConfig;
}

/**
 * Defaults [choice]: the reference network at half its width (stem 8 → 16 → 32 → 64 → 128
 * channels, ¼ of its multiply-adds, 390 k parameters), 128× downsampling (62.5 frames/s at 8 kHz),
 * a 32-dimensional latent. Measured on a loaded 2-core machine with quantlab's conv kernels of
 * 2026-11-23: about 0.2 s of CPU per step of batch 8 × 4096 samples (the reference network:
 * 0.4 s), so 3000 steps take about 10 minutes on one core.
 */
export const CONV_CODEC_DEFAULTS: ConvCodecConfig = {
  kind: "conv",
  sampleRate: 8000,
  channels: 8,
  strides: [2, 4, 4, 4],
  latentDim: 32,
  latentKernel: 3,
  kernel: 7,
  dilations: [1, 3],
  decoderChannels: null,
  codeDim: null,
  activation: "leakyRelu",
  leakySlope: 0.1,
  init: "kaimingUniform",
};

/**
 * The conv reference step's network of issue 8: 16→32→64→128→256 channels, strides 2, 4, 4, 4,
 * latent 64 (32 frames for 4096 samples at 8 kHz), LeakyReLU(0.1), PyTorch's default init.
 */
export const CONV_REFERENCE_CONFIG: ConvCodecConfig = {
  kind: "conv",
  sampleRate: 8000,
  channels: 16,
  strides: [2, 4, 4, 4],
  latentDim: 64,
  latentKernel: 3,
  kernel: 7,
  dilations: [1, 3],
  decoderChannels: null,
  codeDim: null,
  activation: "leakyRelu",
  leakySlope: 0.1,
  init: "kaimingUniform",
};

/**
 * Fields that are absent unless set (absent = off), so configs written before they existed keep
 * their meaning and their result-cache keys.
 */
export const CONV_CODEC_OPTIONAL: string[] = ["weightNorm", "linearPath", "weights"];

/** Fill defaults and validate; see {@linkcode validateConvCodecConfig}. */
export function resolveConvCodecConfig(input: Partial<ConvCodecConfig> = {}): ConvCodecConfig {
  for (const key of Object.keys(input)) {
    if (!(key in CONV_CODEC_DEFAULTS) && !CONV_CODEC_OPTIONAL.includes(key)) {
      throw new ConfigError(
        `codec.${key}`,
        (input as Record<string, unknown>)[key],
        `no such field; allowed: ${
          [...Object.keys(CONV_CODEC_DEFAULTS), ...CONV_CODEC_OPTIONAL].join(", ")
        }`,
      );
    }
  }
  const config = { ...CONV_CODEC_DEFAULTS, ...input };
  validateConvCodecConfig(config);
  return config;
}

function positiveInt(field: string, v: unknown, max = 1 << 16): void {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
    throw new ConfigError(field, v, `an integer in [1, ${max}]`);
  }
}

function intList(field: string, v: unknown, check: (x: number) => boolean, what: string): void {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && check(x))) {
    throw new ConfigError(field, v, `a non-empty list of ${what}`);
  }
}

/** Throw a {@linkcode ConfigError} naming the first bad field (as `codec.<field>`). */
export function validateConvCodecConfig(c: ConvCodecConfig): void {
  if (c.kind !== "conv") throw new ConfigError("codec.kind", c.kind, '"conv"');
  if (!(Number.isFinite(c.sampleRate) && c.sampleRate > 0)) {
    throw new ConfigError("codec.sampleRate", c.sampleRate, "a positive number of Hz");
  }
  positiveInt("codec.channels", c.channels);
  intList(
    "codec.strides",
    c.strides,
    (s) => s >= 2 && s % 2 === 0,
    "even integers ≥ 2 (kernel 2s with padding s/2 maps T to T/s exactly only for even s)",
  );
  positiveInt("codec.latentDim", c.latentDim);
  positiveInt("codec.latentKernel", c.latentKernel, 255);
  if (c.latentKernel % 2 !== 1) {
    throw new ConfigError("codec.latentKernel", c.latentKernel, "an odd kernel (same padding)");
  }
  positiveInt("codec.kernel", c.kernel, 255);
  if (c.kernel % 2 !== 1) throw new ConfigError("codec.kernel", c.kernel, "an odd kernel");
  intList("codec.dilations", c.dilations, (d) => d >= 1, "integers ≥ 1");
  if (c.decoderChannels !== null) positiveInt("codec.decoderChannels", c.decoderChannels);
  if (c.codeDim !== null) positiveInt("codec.codeDim", c.codeDim);
  if (c.activation !== "leakyRelu" && c.activation !== "snake") {
    throw new ConfigError("codec.activation", c.activation, '"leakyRelu" or "snake"');
  }
  if (!(Number.isFinite(c.leakySlope) && c.leakySlope >= 0 && c.leakySlope < 1)) {
    throw new ConfigError("codec.leakySlope", c.leakySlope, "a number in [0, 1)");
  }
  if (c.init !== "kaimingUniform" && c.init !== "truncNormal") {
    throw new ConfigError("codec.init", c.init, '"kaimingUniform" or "truncNormal"');
  }
  if (c.weightNorm !== undefined && typeof c.weightNorm !== "boolean") {
    throw new ConfigError("codec.weightNorm", c.weightNorm, "true or false");
  }
  if (c.linearPath !== undefined) validateLinearPath(c.linearPath, convHopSamples(c), c.latentDim);
  if (c.weights !== undefined) validateCodecWeights(c.weights);
}

/** Audio samples per latent frame, Πstrides. */
export function convHopSamples(c: Pick<ConvCodecConfig, "strides">): number {
  return c.strides.reduce((a, s) => a * s, 1);
}

/** Latent frames per second, f = sampleRate / Πstrides. */
export function convFrameRate(c: ConvCodecConfig): number {
  return c.sampleRate / convHopSamples(c);
}

/** Bits per second of a quantizer spending `bitsPerFrame` on each latent frame: f·B (RVQ: f·N·b). */
export function convBitrate(c: ConvCodecConfig, bitsPerFrame: number): number {
  return convFrameRate(c) * bitsPerFrame;
}

/** Trainable parameters of the codec {@linkcode convCodec} builds from `c` (counted, not built). */
export function convParameterCount(c: ConvCodecConfig): number {
  let n = 0;
  // Weight norm adds one g per output channel (per input channel for a transposed conv).
  const wn = c.weightNorm === true;
  const conv = (
    k: number,
    cin: number,
    cout: number,
  ) => (n += k * cin * cout + cout + (wn ? cout : 0));
  const convT = (
    k: number,
    cin: number,
    cout: number,
  ) => (n += k * cin * cout + cout + (wn ? cin : 0));
  const act = (ch: number) => (n += c.activation === "snake" ? ch : 0);
  const resUnits = (ch: number) => {
    for (const _ of c.dilations) act(ch), conv(c.kernel, ch, ch), act(ch), conv(1, ch, ch);
  };
  const top = c.channels * 2 ** c.strides.length;
  conv(c.kernel, 1, c.channels);
  c.strides.forEach((s, i) => {
    const ch = c.channels * 2 ** i;
    resUnits(ch), act(ch), conv(2 * s, ch, 2 * ch);
  });
  act(top), conv(c.latentKernel, top, c.latentDim);
  if (c.codeDim !== null) conv(1, c.latentDim, c.codeDim), conv(1, c.codeDim, c.latentDim);
  const dc = c.decoderChannels ?? c.channels;
  conv(c.kernel, c.latentDim, dc * 2 ** c.strides.length);
  [...c.strides].reverse().forEach((s, i) => {
    const ch = dc * 2 ** (c.strides.length - i);
    act(ch), convT(2 * s, ch, ch / 2), resUnits(ch / 2);
  });
  act(dc), conv(c.kernel, dc, 1);
  // The linear banks' trained parts (never weight-normalised), their biases and the two gates.
  if (c.linearPath) {
    const banks = c.linearPath.trainScale > 0 ? 2 * c.linearPath.kernel * c.latentDim : 0;
    n += banks + c.latentDim + 1 + 2;
  }
  return n;
}

/** Sampled initial values of one conv's weight [K, Cin, Cout] and bias [Cout]. */
function initConv(
  rng: Rng,
  init: ConvInit,
  shape: [number, number, number],
  fanIn: number,
): { w: tf.Tensor3D; b: tf.Tensor1D } {
  const [k, cin, cout] = shape;
  if (init === "kaimingUniform") {
    const bound = 1 / Math.sqrt(fanIn);
    return {
      w: tf.tensor3d(rng.uniforms(k * cin * cout, -bound, bound), shape),
      b: tf.tensor1d(rng.uniforms(cout, -bound, bound)),
    };
  }
  const w = new Float32Array(k * cin * cout);
  for (let i = 0; i < w.length; i++) {
    let v = rng.normal();
    while (Math.abs(v) > 2) v = rng.normal();
    w[i] = 0.02 * v;
  }
  return { w: tf.tensor3d(w, shape), b: tf.zeros([cout]) };
}

/**
 * The convolution ops a codec runs on, with `lib/nn/conv.ts`'s signatures and PyTorch semantics.
 * Defaults to quantlab's ({@linkcode QUANTLAB_CONV_OPS}); the bench swaps in tfjs's own to
 * time (or see fail) the stock path on the same network.
 */
export interface ConvOps {
  conv1d(
    x: tf.Tensor3D,
    w: tf.Tensor3D,
    opts: { stride?: number; dilation?: number; padding?: number },
  ): tf.Tensor3D;
  convTranspose1d(
    x: tf.Tensor3D,
    w: tf.Tensor3D,
    opts: { stride: number; padding: number },
  ): tf.Tensor3D;
}

/** `lib/nn/conv.ts`: differentiable everywhere, native GEMM kernels on quantlab's wasm. */
export const QUANTLAB_CONV_OPS: ConvOps = {
  conv1d: nnConv.conv1d,
  convTranspose1d: nnConv.convTranspose1d,
};

/** Builds layers from one seeded stream and collects their variables in creation order. */
class Builder {
  readonly variables: tf.Variable[] = [];
  constructor(readonly config: ConvCodecConfig, readonly rng: Rng, readonly ops: ConvOps) {}

  #variable(t: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(t, trainable);
    t.dispose();
    this.variables.push(v);
    return v;
  }

  /**
   * A conv weight as a function giving its current value: the variable itself, or with
   * `weightNorm` the product g·v/‖v‖ with ‖v‖ over `normAxes` (variables v then g, g = ‖v₀‖).
   */
  #weight(init: tf.Tensor3D, normAxes: [number, number]): () => tf.Tensor3D {
    if (this.config.weightNorm !== true) {
      const w = this.#variable(init) as tf.Variable<tf.Rank.R3>;
      return () => w;
    }
    const norm = (t: tf.Tensor3D) => tf.sqrt(tf.sum(tf.square(t), normAxes, true));
    const g0 = tf.tidy(() => norm(init));
    const v = this.#variable(init);
    const g = this.#variable(g0);
    return () => tf.mul(v, tf.div(g, norm(v as tf.Tensor3D))) as tf.Tensor3D;
  }

  /**
   * A variable of the given value, created in this builder's order (for the linear path); a
   * non-trainable one is a codec state that checkpoints keep but training never updates.
   */
  variable(t: tf.Tensor, trainable = true): tf.Variable {
    return this.#variable(t, trainable);
  }

  /** Conv1d(cin → cout, k) with `padding` zeros each side; k = 1 runs as one matMul. */
  conv(
    k: number,
    cin: number,
    cout: number,
    opts: { stride?: number; dilation?: number; padding?: number } = {},
  ): (x: tf.Tensor3D) => tf.Tensor3D {
    const init = initConv(this.rng, this.config.init, [k, cin, cout], cin * k);
    const w = this.#weight(init.w, [0, 1]);
    const b = this.#variable(init.b);
    if (k === 1 && (opts.stride ?? 1) === 1 && (opts.padding ?? 0) === 0) {
      return (x) => {
        const [batch, t] = x.shape;
        const y = tf.matMul(tf.reshape(x, [batch * t, cin]), tf.reshape(w(), [cin, cout]));
        return tf.reshape(tf.add(y, b), [batch, t, cout]);
      };
    }
    return (x) => tf.add(this.ops.conv1d(x, w(), opts), b);
  }

  /** ConvTranspose1d(cin → cout, k = 2s, stride s, padding s/2). */
  upsample(cin: number, cout: number, stride: number): (x: tf.Tensor3D) => tf.Tensor3D {
    const k = 2 * stride;
    // PyTorch stores a transposed conv's weight as [Cin, Cout, K] and takes fanIn = Cout·K.
    const init = initConv(this.rng, this.config.init, [k, cin, cout], cout * k);
    // PyTorch's weight_norm(dim=0) on a transposed conv's [Cin, Cout, K] weight: one g per Cin.
    const w = this.#weight(init.w, [0, 2]);
    const b = this.#variable(init.b);
    return (x) => tf.add(this.ops.convTranspose1d(x, w(), { stride, padding: stride / 2 }), b);
  }

  act(channels: number): (x: tf.Tensor3D) => tf.Tensor3D {
    if (this.config.activation === "leakyRelu") {
      const slope = this.config.leakySlope;
      return (x) => tf.leakyRelu(x, slope);
    }
    // Snake (DAC): x + sin²(αx)/α, α learned per channel, initialised to 1.
    const alpha = this.#variable(tf.ones([channels]));
    return (x) => snake(x, alpha);
  }

  resUnit(channels: number, dilation: number): (x: tf.Tensor3D) => tf.Tensor3D {
    const k = this.config.kernel;
    const act1 = this.act(channels);
    const dilated = this.conv(k, channels, channels, {
      dilation,
      padding: (dilation * (k - 1)) / 2,
    });
    const act2 = this.act(channels);
    const pointwise = this.conv(1, channels, channels);
    return (x) => tf.add(x, pointwise(act2(dilated(act1(x)))));
  }
}

function chain(layers: ((x: tf.Tensor3D) => tf.Tensor3D)[]): (x: tf.Tensor3D) => tf.Tensor3D {
  return (x) => layers.reduce((h, layer) => layer(h), x);
}

/** l2-normalise each frame along the last axis: z / √(Σz² + 1e-24) ≈ torch's z / max(‖z‖, 1e-12), with a finite gradient at 0. */
function l2Normalize(z: tf.Tensor3D): tf.Tensor3D {
  return tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-24)));
}

/**
 * Build the conv codec with seeded weights: the encoder from `rngFor(seed, "codec.conv.encoder")`,
 * the decoder from `rngFor(seed, "codec.conv.decoder")`, so resizing one side leaves the other's
 * initial weights unchanged. Given an {@linkcode Rng} instead (a codec registry's builder), the two
 * streams are seeded by its first two draws, with the same independence.
 *
 * `encode` takes audio [B, T] or [B, T, 1] (T a multiple of Πstrides) and returns latents
 * [B, T/Πstrides, latentDim]; `decode` takes [B, frames, latentDim] and returns audio
 * [B, frames·Πstrides].
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend.ts";
 * await initBackend();
 * const codec = convCodec(resolveConvCodecConfig({ channels: 4, strides: [2, 2] }), 1);
 * const z = codec.encode(tf.zeros([2, 64])); // [2, 16, 32]
 * const y = codec.decode(z); // [2, 64]
 * tf.dispose([z, y]);
 * codec.dispose();
 * ```
 */
export function convCodec(
  config: ConvCodecConfig,
  seed: number | Rng,
  ops: ConvOps = QUANTLAB_CONV_OPS,
): Codec {
  validateConvCodecConfig(config);
  const c = config;
  const n = c.strides.length;
  const hop = convHopSamples(c);

  const [encRng, decRng] = typeof seed === "number"
    ? [rngFor(seed, "codec.conv.encoder"), rngFor(seed, "codec.conv.decoder")]
    : [new Rng(seed.int(2 ** 32)), new Rng(seed.int(2 ** 32))];
  const enc = new Builder(c, encRng, ops);
  const pad = (k: number) => (k - 1) / 2;
  const encoderLayers = [enc.conv(c.kernel, 1, c.channels, { padding: pad(c.kernel) })];
  c.strides.forEach((s, i) => {
    const ch = c.channels * 2 ** i;
    for (const d of c.dilations) encoderLayers.push(enc.resUnit(ch, d));
    encoderLayers.push(enc.act(ch), enc.conv(2 * s, ch, 2 * ch, { stride: s, padding: s / 2 }));
  });
  const top = c.channels * 2 ** n;
  encoderLayers.push(
    enc.act(top),
    enc.conv(c.latentKernel, top, c.latentDim, { padding: pad(c.latentKernel) }),
  );
  const convEncoder = chain(encoderLayers);
  const linear = c.linearPath ? linearBanks(hop, c.latentDim, c.linearPath, enc, ops) : null;
  const toLatent = linear ? (x: tf.Tensor3D) => linear.encode(x, convEncoder(x)) : convEncoder;
  const encoder = c.codeDim === null
    ? toLatent
    : chain([toLatent, enc.conv(1, c.latentDim, c.codeDim), l2Normalize]);

  const dec = new Builder(c, decRng, ops);
  const fromCode = c.codeDim === null ? null : dec.conv(1, c.codeDim, c.latentDim);
  const decoderLayers: ((x: tf.Tensor3D) => tf.Tensor3D)[] = [];
  const dc = c.decoderChannels ?? c.channels;
  decoderLayers.push(dec.conv(c.kernel, c.latentDim, dc * 2 ** n, { padding: pad(c.kernel) }));
  [...c.strides].reverse().forEach((s, i) => {
    const ch = dc * 2 ** (n - i);
    decoderLayers.push(dec.act(ch), dec.upsample(ch, ch / 2, s));
    for (const d of c.dilations) decoderLayers.push(dec.resUnit(ch / 2, d));
  });
  decoderLayers.push(dec.act(dc), dec.conv(c.kernel, dc, 1, { padding: pad(c.kernel) }));
  const convDecoder = chain(decoderLayers);
  const synthesis = linear ? linear.synthesis(dec) : null;
  const fromLatent = synthesis ? (z: tf.Tensor3D) => synthesis(z, convDecoder(z)) : convDecoder;
  const decoder = fromCode ? chain([fromCode, fromLatent]) : fromLatent;

  const latentDim = c.codeDim ?? c.latentDim;
  const encoderVariables = enc.variables;
  const decoderVariables = dec.variables;
  const variables = [...encoderVariables, ...decoderVariables];
  // Stored weights replace every seeded or data-dependent initialisation (weights.ts).
  const weights = c.weights;
  const initialization = weights
    ? {
      examples: 1,
      run: () => loadCodecWeights(weights, encoderVariables, decoderVariables),
    }
    : linear?.initialization;
  return {
    latentDim,
    encoderVariables,
    decoderVariables,
    variables,
    ...(initialization ? { initialization } : {}),
    encode(x) {
      const rank3 = x.rank === 3 && x.shape[2] === 1;
      if (!(x.rank === 2 || rank3)) {
        throw new Error(`convCodec.encode: expected audio [B, T] or [B, T, 1], got [${x.shape}]`);
      }
      const t = x.shape[1]!;
      if (t % hop !== 0) {
        throw new Error(
          `convCodec.encode: T = ${t} samples is not a multiple of Πcodec.strides = ${hop}`,
        );
      }
      return tf.tidy(() => encoder(tf.reshape(x, [x.shape[0], t, 1])));
    },
    decode(q) {
      if (q.rank !== 3 || q.shape[2] !== latentDim) {
        throw new Error(
          `convCodec.decode: expected latents [B, frames, ${latentDim}], got [${q.shape}]`,
        );
      }
      return tf.tidy(() => {
        const y = decoder(q as tf.Tensor3D);
        return tf.reshape(y, [y.shape[0], y.shape[1]]);
      });
    },
    dispose: () => variables.forEach((v) => v.dispose()),
  };
}
