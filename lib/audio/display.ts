/**
 * Audio in notebooks and reports: {@linkcode audio} shows one player with a small spectrogram; the
 * speech pages' listening table (systems × utterances) is `lib/report/listening.ts`, built on
 * {@linkcode audioElement} and {@linkcode spectrogramImage}.
 *
 * Everything is embedded as data URIs [choice]: a WAV (PCM16 at the clip's rate) in
 * `<audio src="data:audio/wav;base64,…">` and the spectrogram as a PNG (`lib/audio/png.ts`, no
 * canvas needed). Pages stay single self-contained files that pass `lib/report/check.ts` as they
 * are. Weight: base64 of PCM16 is 2.67 bytes per sample, so a 3 s clip at 8 kHz is ≈ 64 KB and a
 * 7 × 6 listening table of 3 s clips ≈ 2.8 MB (measured in `display_test.ts`) — acceptable for a
 * report page; files next to the page would save a third but need the report builder to copy
 * and the checks to allow them.
 *
 * Bundles carry `text/html` (what Jupyter and the report render) and `audio/wav` (base64, the
 * machine-readable clip) for single players.
 *
 * @example
 * ```ts
 * import { audio } from "./display.ts";
 * const tone = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i / 3));
 * audio(tone, 8000, "a tone").html.includes("<audio"); // true
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Display, display, table } from "../display.ts";
import { type Manifest, summarize } from "./corpus.ts";
import { escapeHtml } from "../report/html.ts";
import { encodeWav } from "./wav.ts";
import { encodePng } from "./png.ts";

const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
import { spectrogramDb } from "./spectrum.ts";

/**
 * Player size in CSS pixels, not `rem`: Jupyter's root font is 10 px, where `9rem × 2rem` drew
 * a 97 × 20 px player with no play button; Chromium shows its full controls from about 40 px
 * high. [choice]
 */
export const PLAYER_MIN_WIDTH_PX = 200;
export const PLAYER_HEIGHT_PX = 40;

/**
 * The `<audio>` element for a clip (PCM16 WAV data URI). `size` (pixels) fixes its width and
 * height, as the listening tables need; else it fills its cell from
 * {@linkcode PLAYER_MIN_WIDTH_PX} × {@linkcode PLAYER_HEIGHT_PX}.
 */
export function audioElement(
  samples: Float32Array,
  sampleRate: number,
  label = "",
  size?: { width: number; height: number },
): string {
  const b64 = encodeBase64(encodeWav(samples, sampleRate, "pcm16"));
  const style = size
    ? `width:${size.width}px;min-width:${size.width}px;height:${size.height}px`
    : `width:100%;min-width:${PLAYER_MIN_WIDTH_PX}px;height:${PLAYER_HEIGHT_PX}px`;
  return `<audio class="ql-audio" controls preload="metadata" title="${escapeHtml(label)}" ` +
    `style="${style}" src="data:audio/wav;base64,${b64}"></audio>`;
}

/** Options of {@linkcode spectrogramImage}. */
export interface SpectrogramPictureOptions {
  /** Picture width in pixels (frames are resampled to it; default 240). */
  width?: number;
  /** Picture height in pixels (bins are averaged into it; default 64). */
  height?: number;
  /** dB range shown below the clip's loudest cell (default 80). [choice: pictures only] */
  rangeDb?: number;
}

// Magma-like colour stops (dark = quiet).
const STOPS = [[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [
  252,
  253,
  191,
]];

function _colour(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c]))) as [
    number,
    number,
    number,
  ];
}

/**
 * A spectrogram picture as PNG bytes: Hann window of ~32 ms (a power of two: 256 at 8 kHz),
 * hop window/4, low frequencies at the bottom, colour from `rangeDb` below the peak to the peak.
 */
export function spectrogramPng(
  samples: Float32Array,
  sampleRate: number,
  opts: SpectrogramPictureOptions = {},
): { png: Uint8Array; width: number; height: number } {
  const width = opts.width ?? 240, height = opts.height ?? 64, range = opts.rangeDb ?? 80;
  const window = 2 ** Math.round(Math.log2(0.032 * sampleRate));
  const padded = samples.length >= window ? samples : new Float32Array(window);
  if (padded !== samples) padded.set(samples);
  const s = spectrogramDb(padded, sampleRate, window, window / 4);
  let peak = -Infinity;
  for (const v of s.db) peak = Math.max(peak, v);
  const rgb = new Uint8Array(width * height * 3);
  for (let px = 0; px < width; px++) {
    const t = Math.min(s.frames - 1, Math.floor((px * s.frames) / width));
    for (let py = 0; py < height; py++) {
      // Row py (top = high frequency) averages the bins that fall into it, in dB.
      const k0 = Math.floor(((height - 1 - py) * s.bins) / height);
      const k1 = Math.max(k0 + 1, Math.floor(((height - py) * s.bins) / height));
      let sum = 0;
      for (let k = k0; k < k1; k++) sum += s.db[t * s.bins + k];
      const level = (sum / (k1 - k0) - (peak - range)) / range;
      rgb.set(_colour(level), (py * width + px) * 3);
    }
  }
  return { png: encodePng(width, height, rgb), width, height };
}

/** The `<img>` of a spectrogram picture (PNG data URI). */
export function spectrogramImage(
  samples: Float32Array,
  sampleRate: number,
  label = "",
  opts: SpectrogramPictureOptions = {},
): string {
  const { png, width, height } = spectrogramPng(samples, sampleRate, opts);
  return `<img class="ql-spectrogram" alt="spectrogram ${escapeHtml(label)}" width="${width}" ` +
    `height="${height}" style="display:block;width:100%;max-width:${width}px;height:auto" ` +
    `src="data:image/png;base64,${encodeBase64(png)}">`;
}

function _checkClip(where: string, samples: Float32Array, sampleRate: number) {
  if (!(samples instanceof Float32Array)) {
    throw new Error(`${where}: samples must be a Float32Array`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new Error(`${where}: sampleRate must be a positive integer, got ${sampleRate}`);
  }
}

/**
 * One inline player (and, with `spectrogram: true`, its spectrogram below). Plays in Jupyter via
 * `text/html`; the bundle's `audio/wav` holds the same WAV in base64.
 */
export function audio(
  samples: Float32Array,
  sampleRate: number,
  label = "",
  opts: { spectrogram?: boolean } = {},
): Display {
  _checkClip("audio", samples, sampleRate);
  const wav = encodeWav(samples, sampleRate, "pcm16");
  const seconds = samples.length / sampleRate;
  const caption = label ? `<figcaption>${escapeHtml(label)}</figcaption>` : "";
  const picture = opts.spectrogram ? spectrogramImage(samples, sampleRate, label) : "";
  return display({
    "text/html": `<figure class="ql-clip" style="max-width:20rem;margin:0.5em 0">` +
      `${audioElement(samples, sampleRate, label)}${picture}${caption}</figure>`,
    "text/plain": `[audio${label ? `: ${label}` : ""}, ${
      seconds.toFixed(2)
    } s at ${sampleRate} Hz]`,
    "audio/wav": encodeBase64(wav),
  });
}

/** The corpus per split and speaker: languages, minutes, files (for notebooks and reports). */
export function corpusTable(manifest: Manifest): Display {
  const rows = summarize(manifest).flatMap((s) =>
    s.speakers.map((sp) => ({
      split: s.split,
      speaker: sp.speaker,
      languages: sp.languages.join(", "),
      minutes: Number(sp.minutes.toFixed(2)),
      files: sp.files,
    }))
  );
  const totals = summarize(manifest).map((s) =>
    `${s.split} ${s.minutes.toFixed(1)} min from ${s.speakers.length} speakers`
  ).join("; ");
  return table(rows, { caption: `Speech corpus: ${totals}` });
}
