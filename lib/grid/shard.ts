/**
 * Deterministic slices of a grid for batch schedulers. Shard `i/n` (0-based, as Slurm's
 * `--array=0-<n-1>` and Kubernetes' `JOB_COMPLETION_INDEX` count) owns the keys at positions
 * `p` with `p mod n = i` in the sorted list of the grid's distinct keys. The slice depends only
 * on the set of keys, never on the order of the configs, the n slices cover every key exactly
 * once, and their sizes differ by at most one. Adding configs to a grid moves keys between
 * shards, so every shard of one batch must run the same grid file. [choice]
 *
 * @module
 */

/** Shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

/** Parse `"i/n"`, e.g. `"0/4"`; throws a message naming the expected form. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new Error(
      `shard ${
        JSON.stringify(text)
      } is invalid: expected "i/n" with 0 <= i < n (0-based), e.g. "0/4"`,
    );
  }
  return { index, count };
}

/** The keys shard `shard` owns among `keys` (duplicates allowed in the input). */
export function shardKeys(keys: Iterable<string>, shard: Shard): Set<string> {
  const sorted = [...new Set(keys)].sort();
  return new Set(sorted.filter((_, p) => p % shard.count === shard.index));
}
