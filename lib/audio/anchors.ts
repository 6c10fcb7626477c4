/**
 * Real speech codecs as anchors: what a listener's ear already knows, on the same held-out
 * segments and with the same metrics as quantlab's learned codecs, so a table can say "1500 bit/s
 * of ours next to 1600 bit/s of Codec2".
 *
 * - **Codec2** (Rowe; Debian's `codec2`: `c2enc`/`c2dec`, headerless s16le at 8 kHz): a
 *   parametric vocoder at 3200, 2400, 1600 and 700 bit/s (mode 700C). Intelligible, with no
 *   waveform match, so its SI-SDR is at chance while its pitch is kept. Its output is cut or
 *   zero-padded to the input length; its algorithmic delay is not compensated [choice].
 * - **Opus** (Debian's `opus-tools`: `opusenc --raw … --bitrate 6`, `opusdec --rate 8000
 *   --no-dither --float`): narrowband at 6000 bit/s, the decoder removes its pre-skip.
 * - **G.711 µ-law** (`muLawRoundTrip` of `wav.ts`, by `wavefile`): 64,000 bit/s, the telephone
 *   reference.
 * - **The PCA transform code** ({@linkcode PcaTransformCode}): the top `dims` principal
 *   components of non-overlapping frames of `frame` samples of training speech (second moments,
 *   no mean removed [choice]), continuous (2000 floats/s at 32 of 128 samples, 8 kHz), or with
 *   bounded scalar quantization of the coefficients at a bit budget per frame
 *   (`lib/quantizers/offline/scalar.ts`: greedy reverse water-filling, clip at κ(L)σ) of the
 *   coefficients normalised by a coded per-frame gain.
 *
 * Audio crosses to the command-line codecs as s16le (clipped to ±1 first); every codec runs per
 * segment, in a temporary directory removed afterwards. A missing binary is an error that names
 * the Debian package to install.
 *
 * @module
 */
import { principalComponents } from "../cluster/pca.ts";
import { fitBoundedScalar } from "../quantizers/offline/scalar.ts";
import type { OfflineQuantizer } from "../quantizers/offline/types.ts";
import { muLawRoundTrip } from "./wav.ts";

/** Codec2's modes used as anchors, by their bit rate name. */
export type Codec2Mode = "3200" | "2400" | "1600" | "700C";

/** Bits per second of a Codec2 mode. */
export const CODEC2_BITRATE: Record<Codec2Mode, number> = {
  "3200": 3200,
  "2400": 2400,
  "1600": 1600,
  "700C": 700,
};

/** Raised when a codec's program is not installed; names the Debian package. */
export class MissingCodecError extends Error {
  constructor(readonly program: string, readonly debianPackage: string) {
    super(
      `${program} is not installed: the anchor codecs need Debian's ${debianPackage} package ` +
        `(apt-get install ${debianPackage}; scripts/bootstrap.sh installs it)`,
    );
    this.name = "MissingCodecError";
  }
}

function toS16(x: ArrayLike<number>): Uint8Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = Math.round(Math.max(-1, Math.min(1, x[i])) * 32767);
  }
  return new Uint8Array(out.buffer);
}

function fromS16(bytes: Uint8Array, length: number): Float32Array {
  const n = Math.floor(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  const out = new Float32Array(length);
  for (let i = 0; i < Math.min(n, length); i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

async function run(program: string, debianPackage: string, args: string[]): Promise<Uint8Array> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new MissingCodecError(program, debianPackage);
    throw e;
  }
  if (!output.success) {
    const err = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${program} ${args.join(" ")} failed (exit ${output.code}): ${err}`);
  }
  return output.stdout;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-anchor-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A codec's output and what its bitstream cost. */
export interface RoundTrip {
  /** Decoded audio, the input's length. */
  audio: Float32Array;
  /** Size of the encoded stream, bytes (Opus: the Ogg file, container included). */
  encodedBytes: number;
}

/** Where the codec programs are looked up: a directory, else the PATH. */
export interface CodecOptions {
  binDir?: string;
}

const program = (name: string, o: CodecOptions) => o.binDir ? `${o.binDir}/${name}` : name;

/** Codec2 at `mode` on 8 kHz audio. */
export function codec2RoundTrip(
  x: Float32Array,
  mode: Codec2Mode,
  options: CodecOptions = {},
): Promise<RoundTrip> {
  return withTempDir(async (dir) => {
    const raw = `${dir}/in.raw`, bits = `${dir}/out.bit`, out = `${dir}/out.raw`;
    await Deno.writeFile(raw, toS16(x));
    await run(program("c2enc", options), "codec2", [mode, raw, bits]);
    await run(program("c2dec", options), "codec2", [mode, bits, out]);
    return {
      audio: fromS16(await Deno.readFile(out), x.length),
      encodedBytes: (await Deno.stat(bits)).size,
    };
  });
}

/** Opus at `bitsPerSecond` (narrowband at 8 kHz). */
export function opusRoundTrip(
  x: Float32Array,
  bitsPerSecond = 6000,
  options: CodecOptions = {},
): Promise<RoundTrip> {
  return withTempDir(async (dir) => {
    const raw = `${dir}/in.raw`, packed = `${dir}/out.opus`;
    await Deno.writeFile(raw, toS16(x));
    await run(program("opusenc", options), "opus-tools", [
      "--quiet",
      "--raw",
      "--raw-rate",
      "8000",
      "--raw-chan",
      "1",
      "--raw-bits",
      "16",
      "--bitrate",
      String(bitsPerSecond / 1000),
      raw,
      packed,
    ]);
    const bytes = await run(program("opusdec", options), "opus-tools", [
      "--quiet",
      "--rate",
      "8000",
      "--no-dither",
      "--float",
      packed,
      "-",
    ]);
    const n = Math.floor(bytes.byteLength / 4);
    const decoded = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * n),
    );
    const audio = new Float32Array(x.length);
    audio.set(decoded.subarray(0, Math.min(n, x.length)));
    return { audio, encodedBytes: (await Deno.stat(packed)).size };
  });
}

/**
 * The PCA transform code of non-overlapping frames (module doc): `roundTrip` encodes and decodes.
 * With a quantizer ({@linkcode PcaTransformCode.withScalarQuantizer}) it is forward-adaptive
 * [choice]: each frame's gain g = rms of its coefficients is coded in `gainBits` bits (uniform in
 * log g between the 0.5th and 99.9th percentile of the training frames), and the coefficients
 * divided by the coded gain get the remaining bits by bounded scalar quantization. Without the
 * gain, one fixed step per coefficient turns speech's quiet frames (40 dB below the loud ones)
 * into silence: measured here at 4000 bit/s, mel L1 5.6 and no pitch left.
 */
export class PcaTransformCode {
  private constructor(
    readonly frame: number,
    readonly dims: number,
    /** Basis rows (dims × frame), by decreasing eigenvalue. */
    readonly basis: Float32Array,
    readonly quantizer: OfflineQuantizer | null = null,
    readonly gain: { bits: number; low: number; high: number } | null = null,
  ) {}

  /** Fit the basis on `audio` (concatenated training speech), cut into frames of `frame`. */
  static fit(audio: Float32Array, frame = 128, dims = 32): PcaTransformCode {
    const count = Math.floor(audio.length / frame);
    if (count < dims) throw new Error(`PcaTransformCode.fit: ${count} frames < ${dims} dims`);
    const { vectors } = principalComponents(
      audio.subarray(0, count * frame),
      count,
      frame,
      new Float32Array(frame),
    );
    return new PcaTransformCode(frame, dims, vectors.slice(0, dims * frame));
  }

  /**
   * This code quantized at `bitsPerFrame` (gain included), the quantizers fitted on `audio`'s
   * frames. `gainBits` 0 quantizes the coefficients directly with one fixed step each.
   */
  withScalarQuantizer(
    audio: Float32Array,
    bitsPerFrame: number,
    { gainBits = 5, maxBitsPerDim = 8 }: { gainBits?: number; maxBitsPerDim?: number } = {},
  ): PcaTransformCode {
    if (!(Number.isInteger(gainBits) && gainBits >= 0 && gainBits < bitsPerFrame)) {
      throw new Error(`PcaTransformCode: gainBits = ${gainBits} must be in [0, ${bitsPerFrame})`);
    }
    const coefficients = this.#project(audio);
    const count = coefficients.length / this.dims;
    let gain: { bits: number; low: number; high: number } | null = null;
    if (gainBits > 0) {
      const logs = Float64Array.from({ length: count }, (_, f) => this.#logGain(coefficients, f))
        .sort();
      const at = (q: number) => logs[Math.min(count - 1, Math.floor(q * count))];
      gain = { bits: gainBits, low: at(0.005), high: at(0.999) };
      this.#normalise(coefficients, gain);
    }
    const quantizer = fitBoundedScalar(
      { kind: "scalar", bits: bitsPerFrame - gainBits, maxBitsPerDim },
      { data: coefficients, count, dim: this.dims },
    );
    return new PcaTransformCode(this.frame, this.dims, this.basis, quantizer, gain);
  }

  /** Bits per frame the code spends (0: continuous). */
  get bitsPerFrame(): number {
    return this.quantizer ? this.quantizer.bitsPerFrame + (this.gain?.bits ?? 0) : 0;
  }

  /** Encode and decode `x` (its length a multiple of `frame`). */
  roundTrip(x: Float32Array): Float32Array {
    if (x.length % this.frame !== 0) {
      throw new Error(`PcaTransformCode: ${x.length} samples are not frames of ${this.frame}`);
    }
    let c = this.#project(x);
    if (this.quantizer) {
      const count = c.length / this.dims;
      const gains = this.gain ? this.#normalise(c, this.gain) : null;
      c = this.quantizer.decode(this.quantizer.encode({ data: c, count, dim: this.dims }), count);
      if (gains) {
        for (let f = 0; f < count; f++) {
          for (let k = 0; k < this.dims; k++) c[f * this.dims + k] *= gains[f];
        }
      }
    }
    const { frame, dims, basis } = this;
    const out = new Float32Array(x.length);
    for (let f = 0; f < x.length / frame; f++) {
      for (let k = 0; k < dims; k++) {
        const v = c[f * dims + k];
        for (let i = 0; i < frame; i++) out[f * frame + i] += v * basis[k * frame + i];
      }
    }
    return out;
  }

  #logGain(c: Float32Array, f: number): number {
    let s = 0;
    for (let k = 0; k < this.dims; k++) s += c[f * this.dims + k] ** 2;
    return Math.log(Math.sqrt(s / this.dims) + 1e-9);
  }

  /** Divide each frame by its coded gain, in place; returns the coded gains. */
  #normalise(c: Float32Array, g: { bits: number; low: number; high: number }): Float64Array {
    const count = c.length / this.dims, levels = 2 ** g.bits;
    const step = (g.high - g.low) / (levels - 1 || 1);
    const gains = new Float64Array(count);
    for (let f = 0; f < count; f++) {
      const i = Math.max(0, Math.min(levels - 1, Math.round((this.#logGain(c, f) - g.low) / step)));
      gains[f] = Math.exp(g.low + i * step);
      for (let k = 0; k < this.dims; k++) c[f * this.dims + k] /= gains[f];
    }
    return gains;
  }

  #project(x: Float32Array): Float32Array {
    const { frame, dims, basis } = this;
    const frames = Math.floor(x.length / frame);
    const c = new Float32Array(frames * dims);
    for (let f = 0; f < frames; f++) {
      for (let k = 0; k < dims; k++) {
        let s = 0;
        for (let i = 0; i < frame; i++) s += basis[k * frame + i] * x[f * frame + i];
        c[f * dims + k] = s;
      }
    }
    return c;
  }
}

/** One anchor system of the table: its name, its bit rate and how it codes one segment. */
export interface AnchorSystem {
  name: string;
  /** Nominal bit rate; 0 for the continuous PCA code (2000 floats/s). */
  bitsPerSecond: number;
  /** What the system is, for captions. */
  description: string;
  code(segment: Float32Array): Promise<Float32Array> | Float32Array;
}

/** Which anchors {@linkcode anchorSystems} builds; every field [choice] with its default. */
export interface AnchorOptions extends CodecOptions {
  /** Codec2 modes (default all four). */
  codec2Modes?: Codec2Mode[];
  /** Opus bit rate (default 6000). */
  opusBitsPerSecond?: number;
  /** Bits per PCA frame of the scalar-quantized PCA code (default the ladder's 64, 40, 24, 8). */
  pcaBits?: number[];
  /** PCA frame and kept components (default 128 and 32: 2000 coefficients/s at 8 kHz). */
  pcaFrame?: number;
  pcaDims?: number;
  /**
   * Further continuous PCA codes of the same coefficient rate at other frame lengths, a row
   * `PCA <frame> (continuous)` each (default none; the speech pages add the base model's linear
   * path, 64-sample frames).
   */
  continuousPcaFrames?: number[];
}

/**
 * How many training-split segments the PCA anchor (its basis and scalar quantizers) is fitted on,
 * the `count` of `trainBatch(-3, count)` at the base model's 4096 samples [choice]. Measured on the
 * held-out set (continuous PCA code, SI-SDR dB / mel L1 / F0 agreement): 256 segments (2 min of
 * speech) 8.04 / 2.03 / 0.807, 1024 segments 8.28 / 2.13 / 0.767, 4096 segments (35 min) 8.29 /
 * 2.23 / 0.764. The 256 used before gave the linear code a basis 0.25 dB short of what it reaches.
 */
export const ANCHOR_PCA_SEGMENTS = 4096;

/**
 * The anchor systems at 8 kHz: G.711, Opus, Codec2's modes, the continuous PCA code and the PCA
 * code with bounded scalar quantization, the PCA fitted on `trainingAudio`
 * ({@linkcode ANCHOR_PCA_SEGMENTS} training segments where quantlab uses them).
 */
export function anchorSystems(
  trainingAudio: Float32Array,
  options: AnchorOptions = {},
): AnchorSystem[] {
  const frame = options.pcaFrame ?? 128, dims = options.pcaDims ?? 32;
  const frameRate = 8000 / frame;
  const pca = PcaTransformCode.fit(trainingAudio, frame, dims);
  const systems: AnchorSystem[] = [
    {
      name: "G.711 µ-law",
      bitsPerSecond: 64000,
      description: "ITU-T G.711 µ-law, 8 bits per sample",
      code: (x) => muLawRoundTrip(x, 8000),
    },
  ];
  const opusRate = options.opusBitsPerSecond ?? 6000;
  systems.push({
    name: `Opus ${opusRate}`,
    bitsPerSecond: opusRate,
    description: `Opus (opus-tools), narrowband, ${opusRate} bit/s`,
    code: async (x) => (await opusRoundTrip(x, opusRate, options)).audio,
  });
  for (const mode of options.codec2Modes ?? ["3200", "2400", "1600", "700C"] as Codec2Mode[]) {
    systems.push({
      name: `Codec2 ${mode}`,
      bitsPerSecond: CODEC2_BITRATE[mode],
      description: `Codec2 (c2enc/c2dec) mode ${mode}, a parametric vocoder`,
      code: async (x) => (await codec2RoundTrip(x, mode, options)).audio,
    });
  }
  systems.push({
    name: "PCA (continuous)",
    bitsPerSecond: 0,
    description: `PCA of ${frame}-sample frames, ${dims} coefficients per frame, unquantized`,
    code: (x) => pca.roundTrip(x),
  });
  for (const other of options.continuousPcaFrames ?? []) {
    const kept = (dims * other) / frame;
    if (!Number.isInteger(kept) || kept < 1) {
      throw new Error(
        `anchorSystems: continuousPcaFrames ${other} keeps no whole number of coefficients ` +
          `at ${dims} per ${frame} samples`,
      );
    }
    const code = PcaTransformCode.fit(trainingAudio, other, kept);
    systems.push({
      name: `PCA ${other} (continuous)`,
      bitsPerSecond: 0,
      description:
        `PCA of ${other}-sample frames, ${kept} coefficients per frame (the same rate), unquantized`,
      code: (x) => code.roundTrip(x),
    });
  }
  for (const bits of options.pcaBits ?? [64, 40, 24, 8]) {
    const quantized = pca.withScalarQuantizer(trainingAudio, bits);
    systems.push({
      name: `PCA + scalar ${bits * frameRate}`,
      bitsPerSecond: bits * frameRate,
      description:
        `the PCA code, ${bits} bits per frame: a 5-bit gain and bounded scalar quantization`,
      code: (x) => quantized.roundTrip(x),
    });
  }
  return systems;
}
