/**
 * The parent↔worker protocol, one JSON line per message (non-finite numbers tagged, see
 * `key.ts`). Parent → worker on stdin: a {@linkcode JobMessage} per job, then EOF to stop.
 * Worker → parent on stdout: lines starting with {@linkcode MARK}; any other stdout line is
 * job output and is passed on as a log line.
 *
 * @module
 */
import type { RunConfig } from "../config.ts";

/** Prefix of protocol lines on a worker's stdout. */
export const MARK = "\x1equantlab-grid\x1f";

/** One job for a worker. */
export interface JobMessage {
  id: number;
  config: RunConfig;
}

/** What a worker reports. */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; message: string };

/** Split a byte stream into text lines (without the newline). */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}

/** `Error: message` for an Error, its string form otherwise. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
