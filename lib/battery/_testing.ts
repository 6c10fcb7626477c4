/**
 * Helpers for the battery's tests: a throw-away result store, and what it holds.
 *
 * @module
 */

/** Run `fn` with `$QUANTLAB_CACHE` pointing at a fresh temporary store; restore and remove after. */
export async function withTempCache(
  prefix: string,
  fn: (store: string) => Promise<void>,
): Promise<void> {
  const store = await Deno.makeTempDir({ prefix });
  const before = Deno.env.get("QUANTLAB_CACHE");
  Deno.env.set("QUANTLAB_CACHE", store);
  try {
    await fn(store);
  } finally {
    if (before === undefined) Deno.env.delete("QUANTLAB_CACHE");
    else Deno.env.set("QUANTLAB_CACHE", before);
    await Deno.remove(store, { recursive: true });
  }
}

/** The result entries (`*.json`) in a store directory, sorted. */
export async function storeEntries(store: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(store)) {
    if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
  }
  return names.sort();
}
