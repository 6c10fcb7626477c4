/**
 * The listening table every speech page shares (notebooks 07, 08, 09): one row per system
 * (ours, the real codecs as anchors, the original as reference), one column per utterance, each
 * cell a player, the clip's level and a small spectrogram.
 *
 * Layout [choice]: players are sized in pixels ({@linkcode PLAYER_SIZE}, ≥ 150 × 32 px: Jupyter's
 * root font is 10 px, so `rem` sizes shrink there), cells have a fixed pixel width, so a table of
 * up to {@linkcode MAX_UTTERANCES} utterances fits 1280 px with every system's row visible (rows
 * scroll down, not sideways); systems are grouped reference → ours → anchors, each row labelled
 * with its role and bit rate. Where the table does not fit (a phone, a report's text column), a
 * container query stacks it ({@linkcode stackedCss}): one block per system, its name first and
 * its players below, as many to a line as fit, each labelled with its utterance, so nothing is
 * off-screen sideways. Levels: the original's active-speech level in dBFS, every other
 * clip's level relative to the original in dB, so a quiet or loud decoder is seen before it is
 * heard. The caption says what to listen for.
 *
 * @example
 * ```ts
 * import { listeningTable } from "./listening.ts";
 * const tone = (f: number) => Float32Array.from({ length: 8000 }, (_, i) => 0.1 * Math.sin(i * f));
 * const html = listeningTable({
 *   systems: [
 *     { name: "original", role: "reference", clips: [tone(0.1)] },
 *     { name: "ours", role: "ours", clips: [tone(0.1)], bitsPerSecond: 1500 },
 *   ],
 *   utterances: [{ label: "a tone", speaker: "synth" }],
 *   sampleRate: 8000,
 *   caption: "Listen for the pitch.",
 * }).html;
 * html.includes("width:180px"); // true
 * ```
 *
 * @module
 */
import { audioElement, PLAYER_HEIGHT_PX, spectrogramImage } from "../audio/display.ts";
import { activeRmsDb } from "../audio/segments.ts";
import { type Display, display } from "../display.ts";
import { escapeHtml } from "./html.ts";

/**
 * Pixel size of each player. [choice: ≥ 150 px wide; as high as `audioElement`'s default, at which
 * Chromium shows its full controls]
 */
export const PLAYER_SIZE = { width: 180, height: PLAYER_HEIGHT_PX } as const;
/** Pixel size of each cell's spectrogram. [choice] */
export const PICTURE_SIZE = { width: 180, height: 40 } as const;
/** Width of the system column, px. [choice] */
export const NAME_WIDTH = 190;
/**
 * Utterances a table may have so that it fits 1280 px: the name column plus one cell (player +
 * padding) per utterance. [choice]
 */
export const MAX_UTTERANCES = 5;

/** One row of a listening table. */
export interface ListeningSystem {
  name: string;
  role: "ours" | "anchor" | "reference";
  /** One clip per utterance (null: missing). */
  clips: (Float32Array | null)[];
  /** Bit rate shown beside the name (absent or 0: not shown / continuous). */
  bitsPerSecond?: number;
}

/**
 * Width the table needs side by side, px, for `n` utterances: the name column and one cell per
 * utterance, each with the padding a report page gives (generous, so the side-by-side layout is
 * only kept where it fits). [choice]
 */
export function tableWidth(n: number): number {
  return NAME_WIDTH + 24 + n * (PLAYER_SIZE.width + 8 + 12);
}

/**
 * The CSS that stacks a table of `n` utterances (class `ql-listening-u<n>`) when its box is
 * narrower than {@linkcode tableWidth}: a `@container` query on the table's wrapper, so it follows
 * the space the table has (a phone, a report's text column, a notebook cell), not the window.
 */
export function stackedCss(n: number): string {
  const c = `.ql-listening-u${n}`;
  return `@container (max-width: ${tableWidth(n) - 1}px) {` +
    `${c} table,${c} tbody,${c} tr,${c} caption{display:block;width:auto!important}` +
    `${c} thead{display:none}` +
    `${c} tr{border-bottom:2px solid #bbb;padding:4px 0}` +
    `${c} th[scope=row]{display:block;width:auto!important;border:0;min-width:0}` +
    `${c} td{display:inline-block;border:0;min-width:0}` +
    `${c} td[data-label]::before{content:attr(data-label);display:block;font-size:12px;color:#555}` +
    `}`;
}

/** Input of {@linkcode listeningTable}. */
export interface ListeningInput {
  systems: ListeningSystem[];
  /** The columns: what is said and who says it. */
  utterances: { label: string; speaker: string }[];
  sampleRate: number;
  /** One line: what the reader should listen for. */
  caption: string;
  /** Show a spectrogram under each player (default true). */
  spectrograms?: boolean;
}

const ROLE_ORDER = { reference: 0, ours: 1, anchor: 2 } as const;
const ROLE_COLOUR = { reference: "#444", ours: "#1f5fa8", anchor: "#8a5a00" } as const;

/** Level of `clip` in dB relative to `reference` (power ratio), NaN when either is silent. */
function relativeDb(clip: Float32Array, reference: Float32Array): number {
  let a = 0, b = 0;
  for (let i = 0; i < clip.length; i++) a += clip[i] * clip[i];
  for (let i = 0; i < reference.length; i++) b += reference[i] * reference[i];
  return a > 0 && b > 0 ? 10 * Math.log10((a / clip.length) / (b / reference.length)) : NaN;
}

/** dB with a typographic minus (and a plus when `plus`), "—" when not finite. */
function signed(v: number, plus = true): string {
  if (!Number.isFinite(v)) return "—";
  return `${v >= 0 ? (plus ? "+" : "") : "−"}${Math.abs(v).toFixed(1)}`;
}

/**
 * The listening table (module doc). The first system with role "reference" (the original) gives
 * the levels the others are measured against. Throws naming the system when a row has the wrong
 * number of clips or a clip is not a Float32Array.
 */
export function listeningTable(input: ListeningInput): Display {
  const { utterances, sampleRate } = input;
  if (utterances.length === 0) throw new Error("listeningTable: no utterances");
  if (utterances.length > MAX_UTTERANCES) {
    throw new Error(
      `listeningTable: ${utterances.length} utterances do not fit 1280 px (at most ${MAX_UTTERANCES})`,
    );
  }
  for (const s of input.systems) {
    if (s.clips.length !== utterances.length) {
      throw new Error(
        `listeningTable: system "${s.name}" has ${s.clips.length} clips for ${utterances.length} utterances`,
      );
    }
    s.clips.forEach((c, i) => {
      if (c !== null && !(c instanceof Float32Array)) {
        throw new Error(`listeningTable: system "${s.name}", clip ${i} is not a Float32Array`);
      }
    });
  }
  const systems = [...input.systems].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  const reference = systems.find((s) => s.role === "reference") ?? null;
  const cellWidth = PLAYER_SIZE.width + 8;
  const head = `<tr><th style="width:${NAME_WIDTH}px;text-align:left">system</th>${
    utterances.map((u) =>
      `<th style="width:${cellWidth}px;text-align:left;font-weight:normal">` +
      `<b>${escapeHtml(u.speaker)}</b><br><span style="font-size:12px">${
        escapeHtml(u.label)
      }</span></th>`
    ).join("")
  }</tr>`;
  const body = systems.map((s) => {
    const rate = s.bitsPerSecond ? `${s.bitsPerSecond} bit/s` : "";
    const name =
      `<th scope="row" style="width:${NAME_WIDTH}px;text-align:left;vertical-align:top">` +
      `${escapeHtml(s.name)}<br><span style="font-size:12px;font-weight:normal;color:${
        ROLE_COLOUR[s.role]
      }">${s.role}${rate ? ` · ${rate}` : ""}</span></th>`;
    const cells = s.clips.map((clip, u) => {
      const column = escapeHtml(`${utterances[u].speaker} · ${utterances[u].label}`);
      if (!clip) return `<td data-label="${column}" style="width:${cellWidth}px">—</td>`;
      const label = `${s.name} · ${utterances[u].speaker} · ${utterances[u].label}`;
      const ref = reference?.clips[u] ?? null;
      const level = s === reference || !ref
        ? `level ${signed(activeRmsDb(clip, sampleRate), false)} dBFS`
        : `level ${signed(relativeDb(clip, ref))} dB vs original`;
      const picture = input.spectrograms === false
        ? ""
        : spectrogramImage(clip, sampleRate, label, PICTURE_SIZE);
      return `<td data-label="${column}" ` +
        `style="width:${cellWidth}px;vertical-align:top;padding:2px 4px">` +
        `${audioElement(clip, sampleRate, label, PLAYER_SIZE)}` +
        `<div style="font-size:12px">${level}</div>${picture}</td>`;
    }).join("");
    return `<tr>${name}${cells}</tr>`;
  }).join("\n");
  const plain = [
    input.caption,
    ["system", ...utterances.map((u) => `${u.speaker}: ${u.label}`)].join(" | "),
    ...systems.map((s) =>
      [
        `${s.name} (${s.role})`,
        ...s.clips.map((c) => (c ? `${(c.length / sampleRate).toFixed(2)} s` : "—")),
      ].join(" | ")
    ),
  ].join("\n");
  return display({
    "text/html": `<style>${stackedCss(utterances.length)}</style>` +
      `<div class="ql-listening ql-listening-u${utterances.length}" ` +
      `style="overflow-x:auto;max-width:100%;container-type:inline-size">` +
      `<table class="ql-table" style="table-layout:fixed;border-collapse:collapse">` +
      `<caption style="text-align:left;caption-side:top">${escapeHtml(input.caption)}</caption>` +
      `<thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>`,
    "text/plain": plain,
  });
}
