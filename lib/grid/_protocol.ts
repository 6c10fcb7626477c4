/**
 * The parent↔worker protocol, one JSON line per message (non-finite numbers tagged, see
 * `key.ts`). Parent → worker on stdin: a {@linkcode JobMessage} per job, then EOF to stop.
 * Worker → parent on stdout: messages introduced by {@linkcode MARK}; everything else on stdout
 * is job output and is passed on as a log line. A mark is recognised anywhere in a line, so job
 * output without a trailing newline cannot hide the message glued after it.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";

/** Introduces a protocol message on a worker's stdout. */
export const MARK = "\x1equantlab-grid\x1f";

/** One job for a worker. */
export interface JobMessage {
  id: number;
  config: RunConfig;
}

/** What a worker reports. `gemm` is the matMul GEMM its results come from (null: none/unknown). */
export type WorkerMessage =
  | { type: "ready"; gemm: string | null }
  | { type: "fatal"; message: string }
  | { type: "epoch"; id: number; epoch: number; epochs: number }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; message: string };

/**
 * Split a byte stream into text lines (without the newline). Linear in the input: each chunk is
 * searched once, and a long line is joined once, when its newline arrives.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let parts: string[] = [];
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    let start = 0;
    for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", start)) {
      parts.push(chunk.slice(start, i));
      yield parts.length === 1 ? parts[0] : parts.join("");
      parts = [];
      start = i + 1;
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  }
  if (parts.length) yield parts.join("");
}

/** `Error: message` for an Error, its string form otherwise; cut to `max` characters. */
export function describeError(err: unknown, max = 2000): string {
  let text: string;
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    text = Object.prototype.toString.call(err);
  }
  return truncate(text, max);
}

/** `text` cut in the middle to at most about `max` characters, saying how much was cut. */
export function truncate(text: string, max = 2000): string {
  if (text.length <= max) return text;
  const keep = Math.max(0, Math.floor((max - 40) / 2));
  return `${text.slice(0, keep)}… [${text.length - 2 * keep} characters cut] …${
    text.slice(text.length - keep)
  }`;
}
