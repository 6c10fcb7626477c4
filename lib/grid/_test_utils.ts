/** Shared bits of the grid tests. @module */
import { resolve } from "node:path";
import { expandGrid } from "./expand.ts";
import type { RunConfig } from "../config.ts";

export const ROOT = resolve(import.meta.dirname!, "..", "..");
export const FAKE = resolve(ROOT, "tests/fixtures/fake_job.ts");
/** The sleeping fake job, as a job spec. */
export const SLEEP_JOB = `${FAKE}#sleepJob`;
export const DENO = Deno.execPath();

/** `n` configs differing in seed, with a short training so fake results stay small. */
export function seeds(n: number, first = 0): RunConfig[] {
  return expandGrid({
    base: { train: { epochs: 2 } },
    vary: { "train.seed": Array.from({ length: n }, (_, i) => first + i) },
  });
}

/** A temp directory removed after `fn`. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-grid-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Lines of a text file, [] when it does not exist. */
export async function readLinesOf(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}
