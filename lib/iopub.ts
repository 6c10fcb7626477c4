/**
 * Wait until Deno's Jupyter kernel has published everything queued so far, so the next output
 * lands under the cell that made it.
 *
 * Why: Deno 2.9's kernel queues a cell's outputs (its result, `Deno.jupyter.broadcast`,
 * console lines) and a separate loop publishes them, stamping each with the *current* request's
 * header when it takes it off the queue, while "idle" is sent directly. After a large output
 * (a listening table with audio, charts with PNG copies) that loop lags — encoding and sending
 * megabytes, or held back by a slow frontend — and under Run All the next cells' results are
 * taken off the queue after later requests started: they are stamped with a later cell's id and
 * the frontend shows them under that cell (measured: an 8 MB output, then three one-line cells
 * sent at once; all three results were stamped with the last cell's id).
 *
 * {@linkcode flushIopub} subscribes to the kernel's own IOPub socket (ZMTP 3.0 over TCP, as any
 * Jupyter frontend does; the address comes from the kernel's connection file), broadcasts a
 * marker that frontends ignore (an `update_display_data` for a display id nobody shows) and
 * waits until the marker comes back: the queue is first in, first out, so everything queued
 * before it has been published, with this cell's header. {@linkcode Display} awaits it before
 * handing its bundle to the kernel, and progress views before their first output. [choice]
 *
 * Outside the kernel, or when the connection file cannot be read, it resolves at once.
 *
 * Large outputs: {@linkcode kernelBundle}. Deno 2.9's kernel (its `cli/js/jupyter_kernel.js`)
 * writes an IOPub message to each subscriber with `await conn.write(...)` in a loop until all
 * bytes are out, and two paths publish concurrently: the queue loop (cell results, displays,
 * console lines) and the shell loop (`status` busy/idle, `execute_input`, `error`). A message
 * larger than the subscriber's socket buffer takes several writes, and a status written between
 * two of them lands in the middle of it: the frontend reads a corrupted stream ("Invalid
 * Signature" in the Notebook server's log, no further output; measured: a `status` message
 * spliced in at byte 3,987,988 of a 5,000,075-byte result, in 3 of 6 Run Alls). A cell's own
 * result is queued only after the cell finished, when the shell loop is about to send "idle" and
 * the next cell's "busy", so a large result must not be left to the kernel: it is published while
 * the cell still runs and waited for (the marker comes back only after it was written whole to
 * every subscriber), and the kernel gets an empty bundle, which frontends show as nothing.
 *
 * Each flush opens its own subscription, deliberately: the kernel writes a message to its
 * subscribers in the order they connected, so a marker seen on the newest connection has been
 * written whole to every frontend before it. A subscription kept for the whole session would stop
 * being the newest once a frontend reconnects, and prove nothing about that frontend. [choice]
 *
 * @example
 * ```ts
 * import { flushIopub } from "./iopub.ts";
 * await flushIopub(); // a no-op outside Deno's Jupyter kernel
 * ```
 *
 * @module
 */
import { inKernel } from "./interrupt.ts";

/** Longest wait for the marker; after it the output is sent anyway. [choice] */
export const FLUSH_TIMEOUT_MS = 30_000;
/**
 * The first marker goes out this long after subscribing (the kernel registers a subscriber a
 * moment after its subscription arrives), then a new one this often until one comes back. [choice]
 */
export const MARKER_DELAY_MS = 10;
export const MARKER_INTERVAL_MS = 100;

interface Connection {
  ip: string;
  iopub_port: number;
}

let connection: Connection | null | undefined;

/** The kernel's connection info from `--conn FILE` on its command line, or null. */
function kernelConnection(): Connection | null {
  if (connection !== undefined) return connection;
  connection = null;
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    const i = argv.indexOf("--conn");
    if (i >= 0 && argv[i + 1]) {
      const info = JSON.parse(Deno.readTextFileSync(argv[i + 1]));
      if (typeof info.iopub_port === "number") {
        connection = { ip: info.ip ?? "127.0.0.1", iopub_port: info.iopub_port };
      }
    }
  } catch {
    // Not Linux, or no readable connection file: no flushing.
  }
  return connection;
}

async function readExact(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await conn.read(buf.subarray(off));
    if (got === null) throw new Error("IOPub connection closed");
    off += got;
  }
  return buf;
}

/** Read one ZMTP frame; its body only when it is small (markers are), else skip it. */
async function readFrame(conn: Deno.Conn): Promise<Uint8Array | null> {
  const [flag] = await readExact(conn, 1);
  let size: number;
  if (flag & 0x02) {
    const b = await readExact(conn, 8);
    size = new DataView(b.buffer).getUint32(4);
  } else {
    size = (await readExact(conn, 1))[0];
  }
  if (size <= 4096) return await readExact(conn, size);
  const chunk = new Uint8Array(Math.min(size, 1 << 20));
  for (let left = size; left > 0;) {
    const got = await conn.read(chunk.subarray(0, Math.min(left, chunk.length)));
    if (got === null) throw new Error("IOPub connection closed");
    left -= got;
  }
  return null;
}

function greeting(): Uint8Array {
  const buf = new Uint8Array(64);
  buf[0] = 0xff;
  buf[9] = 0x7f;
  buf[10] = 3;
  buf.set(new TextEncoder().encode("NULL"), 12);
  return buf;
}

function readyCommand(socketType: string): Uint8Array {
  const enc = new TextEncoder();
  const name = enc.encode("READY");
  const prop = enc.encode("Socket-Type");
  const value = enc.encode(socketType);
  const body = new Uint8Array(1 + name.length + 1 + prop.length + 4 + value.length);
  let o = 0;
  body[o++] = name.length;
  body.set(name, o);
  o += name.length;
  body[o++] = prop.length;
  body.set(prop, o);
  o += prop.length;
  new DataView(body.buffer).setUint32(o, value.length);
  body.set(value, o + 4);
  return new Uint8Array([0x04, body.length, ...body]);
}

type Broadcast = (type: string, content: Record<string, unknown>) => unknown;

/**
 * Bundles larger than this (characters of JSON) are published by {@linkcode kernelBundle} while
 * the cell runs instead of as the cell's result. Far below a loopback socket's buffer (the
 * measured split was at ~4 MB) and above a chart with its PNG copy (~33 kB) or a cell of two
 * (~64 kB), which stay ordinary results. [choice]
 */
export const LARGE_OUTPUT_CHARS = 256 * 1024;

/**
 * The bundle to hand Deno's kernel as a cell's result, once everything queued before it has been
 * published ({@linkcode flushIopub}). A bundle over {@linkcode LARGE_OUTPUT_CHARS} is instead
 * published now as `display_data` and waited for, and the kernel gets `{}` (an empty result,
 * shown as nothing): see the module doc for why. Outside the kernel it returns `bundle`.
 */
export async function kernelBundle(
  bundle: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (!inKernel()) return bundle;
  await flushIopub();
  if (!kernelConnection() || JSON.stringify(bundle).length <= LARGE_OUTPUT_CHARS) return bundle;
  const broadcast = (Deno as unknown as { jupyter: { broadcast: Broadcast } }).jupyter.broadcast;
  try {
    await broadcast("display_data", { data: bundle, metadata: {}, transient: {} });
  } catch {
    return bundle; // the kernel refused: let it show the result itself
  }
  await flushIopub();
  return {};
}

/**
 * Resolve once the kernel has published every output queued before this call (at most
 * `timeoutMs`). A no-op outside Deno's Jupyter kernel.
 */
export async function flushIopub(timeoutMs: number = FLUSH_TIMEOUT_MS): Promise<void> {
  if (!inKernel()) return;
  const info = kernelConnection();
  if (!info) return;
  const broadcast = (Deno as unknown as { jupyter: { broadcast: Broadcast } }).jupyter.broadcast;
  let conn: Deno.Conn | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  try {
    conn = await Deno.connect({ hostname: info.ip, port: info.iopub_port });
    const c = conn;
    await c.write(greeting());
    await readExact(c, 64);
    await c.write(readyCommand("SUB"));
    await readFrame(c);
    await c.write(new Uint8Array([0x00, 0x01, 0x01])); // subscribe to everything
    const markers = new Set<string>();
    const send = () => {
      const id = `ql-flush-${crypto.randomUUID()}`;
      markers.add(id);
      try {
        broadcast("update_display_data", { data: {}, metadata: {}, transient: { display_id: id } });
      } catch {
        // The kernel refused: nothing to wait for.
      }
    };
    await new Promise((r) => setTimeout(r, MARKER_DELAY_MS));
    send();
    timer = setInterval(send, MARKER_INTERVAL_MS);
    const seen = (async () => {
      const dec = new TextDecoder();
      while (true) {
        const body = await readFrame(c);
        if (!body) continue;
        const text = dec.decode(body);
        for (const id of markers) if (text.includes(id)) return;
      }
    })();
    seen.catch(() => {}); // it rejects when the connection closes after a timeout
    const expired = new Promise<void>((done) => {
      deadline = setTimeout(done, timeoutMs);
    });
    await Promise.race([seen, expired]);
  } catch {
    // No IOPub connection: send without waiting, as before.
  } finally {
    clearInterval(timer);
    clearTimeout(deadline);
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  }
}
