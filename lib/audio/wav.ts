/**
 * WAV reading and writing with the npm `wavefile` (MIT): PCM 8/16/24/32-bit, 32/64-bit float and
 * µ-law; several channels are downmixed to mono by averaging. Every failure is a
 * {@linkcode WavError} naming the file and the reason.
 *
 * `wavefile` itself throws generic messages and, for a truncated file, silently returns the
 * samples that are present; so the RIFF chunk list is walked here first and a data chunk shorter
 * than it declares is an error ("truncated"), never a short signal.
 *
 * Scaling: PCM integers map to [−1, 1) by dividing by 2^(bits−1) (8-bit is unsigned, centred at
 * 128); so PCM16 → float → PCM16 is bit-exact. Float files are read as they are.
 *
 * @example
 * ```ts
 * import { decodeWav, encodeWav } from "./wav.ts";
 * const bytes = encodeWav(new Float32Array([0, 0.5, -0.5]), 8000, "pcm16");
 * decodeWav(bytes, "tone.wav").sampleRate; // 8000
 * ```
 *
 * @module
 */
import wavefilePkg from "wavefile";

// wavefile ships a UMD bundle: Deno exposes it as the default export only.
const { WaveFile } = wavefilePkg as unknown as typeof import("wavefile");

/** A WAV failure: `file` is the name or path given, `reason` what was wrong. */
export class WavError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`wav: ${file}: ${reason}`);
    this.name = "WavError";
  }
}

/** A decoded WAV file. */
export interface WavAudio {
  /** Mono samples (channels averaged), PCM scaled to [−1, 1). */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file (before the downmix). */
  channels: number;
  /** wavefile's bit-depth code: "8", "16", "24", "32", "32f", "64", "8m" (µ-law), … */
  bitDepth: string;
}

/** Sample formats {@linkcode encodeWav} writes. */
export type WavFormat = "pcm16" | "float32";

interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

/** What a WAV header says, read without decoding the samples. */
export interface WavInfo {
  /** 1 = PCM, 3 = IEEE float, 7 = µ-law, 0xFFFE = extensible, … */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Frames (samples per channel) in the data chunk. */
  frames: number;
  /** Byte offset of the data chunk's payload. */
  dataOffset: number;
  dataBytes: number;
}

/**
 * Walk the RIFF chunks: check the container, read the fmt chunk, check that the data chunk is
 * complete. Throws a {@linkcode WavError} naming `file`.
 */
export function wavInfo(bytes: Uint8Array, file = "<bytes>"): WavInfo {
  if (bytes.length === 0) throw new WavError(file, "empty file (0 bytes)");
  if (bytes.length < 12) {
    throw new WavError(file, `too short for a RIFF header (${bytes.length} bytes)`);
  }
  const tag = String.fromCharCode(...bytes.subarray(0, 4));
  const wave = String.fromCharCode(...bytes.subarray(8, 12));
  if (tag !== "RIFF" || wave !== "WAVE") {
    throw new WavError(file, `not a RIFF/WAVE file (starts with ${JSON.stringify(tag)})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 12;
  let fmt: Omit<WavInfo, "frames" | "dataOffset" | "dataBytes"> | null = null;
  let blockAlign = 0;
  while (pos + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(pos, pos + 4));
    const size = view.getUint32(pos + 4, true);
    const present = bytes.length - (pos + 8);
    if (id === "fmt " && size >= 16 && present >= 16) {
      fmt = {
        audioFormat: view.getUint16(pos + 8, true),
        channels: view.getUint16(pos + 10, true),
        sampleRate: view.getUint32(pos + 12, true),
        bitsPerSample: view.getUint16(pos + 22, true),
      };
      blockAlign = view.getUint16(pos + 20, true);
    }
    if (id === "data") {
      if (!fmt) throw new WavError(file, "data chunk before the fmt chunk");
      if (size > present) {
        throw new WavError(
          file,
          `truncated: the data chunk declares ${size} bytes but ${present} are present`,
        );
      }
      if (fmt.channels < 1) throw new WavError(file, `bad channel count ${fmt.channels}`);
      if (!(fmt.sampleRate > 0)) throw new WavError(file, `bad sample rate ${fmt.sampleRate}`);
      const pcmBlock = fmt.channels * fmt.bitsPerSample / 8;
      if (fmt.audioFormat === 1 && fmt.bitsPerSample % 8 === 0 && blockAlign !== pcmBlock) {
        throw new WavError(
          file,
          `block size (blockAlign) ${blockAlign} does not match ${fmt.channels} channel(s) × ` +
            `${fmt.bitsPerSample} bits = ${pcmBlock} bytes per frame`,
        );
      }
      if (!(blockAlign > 0) || size % blockAlign !== 0) {
        throw new WavError(
          file,
          `data chunk of ${size} bytes is not a whole number of ${blockAlign}-byte frames`,
        );
      }
      return { ...fmt, frames: size / blockAlign, dataOffset: pos + 8, dataBytes: size };
    }
    if (size > present) {
      throw new WavError(file, `truncated inside the ${JSON.stringify(id)} chunk`);
    }
    pos += 8 + size + (size % 2);
  }
  throw new WavError(file, fmt ? "no data chunk" : "no fmt chunk");
}

/** Decode WAV bytes; `file` names the source in errors. */
export function decodeWav(bytes: Uint8Array, file = "<bytes>"): WavAudio {
  const info = wavInfo(bytes, file);
  if (info.audioFormat === 1 && info.bitsPerSample === 16) return _decodePcm16(bytes, info);
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(bytes);
  } catch (err) {
    throw new WavError(file, `wavefile could not parse it: ${(err as Error).message}`);
  }
  const fmt = wav.fmt as FmtChunk;
  const sampleRate = fmt.sampleRate;
  const bitDepth = wav.bitDepth;
  try {
    if (bitDepth === "8m") wav.fromMuLaw(); // → PCM16
    else if (bitDepth === "8a") wav.fromALaw();
  } catch (err) {
    throw new WavError(file, `could not expand ${bitDepth}: ${(err as Error).message}`);
  }
  const depth = wav.bitDepth;
  const channelCount = (wav.fmt as FmtChunk).numChannels; // µ-law expansion rebuilds fmt
  let scale: number, offset = 0;
  if (depth === "32f" || depth === "64") scale = 1;
  else if (["8", "16", "24", "32"].includes(depth)) {
    const bits = Number(depth);
    scale = 2 ** (bits - 1);
    if (bits === 8) offset = 128;
  } else {
    throw new WavError(
      file,
      `unsupported sample format (bit depth ${depth}, audio format ${fmt.audioFormat})`,
    );
  }
  let channels: Float64Array[];
  try {
    const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
    channels = channelCount === 1 ? [raw as Float64Array] : raw as Float64Array[];
  } catch (err) {
    throw new WavError(file, `could not read samples: ${(err as Error).message}`);
  }
  const n = channels[0].length;
  const samples = new Float32Array(n);
  for (const ch of channels) {
    for (let i = 0; i < n; i++) samples[i] += (ch[i] - offset) / scale / channels.length;
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(samples[i])) throw new WavError(file, `non-finite sample at ${i}`);
  }
  return { samples, sampleRate, channels: channelCount, bitDepth };
}

/** PCM16 without wavefile (its per-sample unpacking is ~50× slower): same scaling, same downmix. */
function _decodePcm16(bytes: Uint8Array, info: WavInfo): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset + info.dataOffset, info.dataBytes);
  const { channels, frames } = info;
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += view.getInt16(2 * (i * channels + c), true);
    samples[i] = s / 32768 / channels;
  }
  return { samples, sampleRate: info.sampleRate, channels, bitDepth: "16" };
}

/** Read and decode a WAV file; errors name the path. */
export async function readWav(path: string): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new WavError(path, `cannot read: ${(err as Error).message}`);
  }
  return decodeWav(bytes, path);
}

/**
 * Encode mono samples as WAV. `pcm16` rounds `x·32768` to the nearest integer and clips to
 * [−32768, 32767]; `float32` stores the values as they are.
 */
export function encodeWav(
  samples: Float32Array,
  sampleRate: number,
  format: WavFormat = "pcm16",
): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new WavError("<encode>", `sampleRate must be a positive integer, got ${sampleRate}`);
  }
  const wav = new WaveFile();
  if (format === "pcm16") {
    const ints = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      ints[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768)));
    }
    wav.fromScratch(1, sampleRate, "16", ints);
  } else if (format === "float32") {
    wav.fromScratch(1, sampleRate, "32f", samples);
  } else {
    throw new WavError("<encode>", `format must be "pcm16" or "float32", got ${format}`);
  }
  return wav.toBuffer();
}

/** Encode and write a WAV file. */
export async function writeWav(
  path: string,
  samples: Float32Array,
  sampleRate: number,
  format: WavFormat = "pcm16",
): Promise<void> {
  await Deno.writeFile(path, encodeWav(samples, sampleRate, format));
}

/**
 * G.711 µ-law round trip (PCM16 → 8-bit µ-law → PCM16, via wavefile): the telephone baseline at
 * 8 bits per sample (64 kbit/s at 8 kHz).
 */
export function muLawRoundTrip(samples: Float32Array, sampleRate: number): Float32Array {
  const wav = new WaveFile();
  const ints = Int16Array.from(
    samples,
    (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))),
  );
  wav.fromScratch(1, sampleRate, "16", ints);
  wav.toMuLaw();
  // wavefile pads an odd number of µ-law bytes to an even chunk: drop the pad sample.
  return decodeWav(wav.toBuffer(), "<µ-law>").samples.slice(0, samples.length);
}
