/**
 * Atomic file writes for the stores: write a temp file in the same directory, fsync it, rename
 * it over the target, fsync the directory. A reader sees the old file or the new one, never half
 * of one, whatever kills the writer. Temp files are named `.<stem>.<pid>.<8 hex>.tmp`, so a
 * store can sweep its own leftovers and nobody else's.
 *
 * @module
 */
import { join } from "node:path";

/** A fresh temp-file name for `stem` in this process. */
export function tempName(stem: string): string {
  return `.${stem}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
}

/**
 * Write `bytes` to `dir/name` atomically (creating `dir`). The temp file is named after
 * `stem` (default `name`): the result store names its temps after the key alone.
 */
export async function atomicWrite(
  dir: string,
  name: string,
  bytes: Uint8Array,
  stem = name,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const tmp = join(dir, tempName(stem));
  const f = await Deno.open(tmp, { write: true, createNew: true });
  try {
    for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
    await f.syncData();
  } catch (err) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  f.close();
  await Deno.rename(tmp, join(dir, name));
  await syncDir(dir);
}

/** fsync a directory (so a rename in it is durable), where the filesystem allows it. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Not every filesystem lets a directory be fsynced; the rename is still atomic.
  }
}
