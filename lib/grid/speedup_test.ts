import assert from "node:assert/strict";
import { join } from "node:path";
import { readLinesOf, seeds, SLEEP_JOB, withTempDir } from "./_test_utils.ts";
import { measureSpeedup } from "./speedup.ts";

Deno.test("every timed run computes the whole grid from an empty store", async () => {
  await withTempDir(async (dir) => {
    const ledger = join(dir, "ledger");
    const r = await measureSpeedup(seeds(3), {
      job: SLEEP_JOB,
      workers: [1, 2],
      repeat: 2,
      env: { FAKE_JOB_LEDGER: ledger, FAKE_JOB_SLEEP_MS: "1" },
      log: () => {},
    });
    assert.deepEqual(r.runs.map((x) => x.workers), [1, 2, 1, 2], "worker counts alternate");
    assert.equal((await readLinesOf(ledger)).length, 4 * 3, "no run found a cached result");
    assert.ok(Number.isFinite(r.speedup) && r.speedup > 0);
  });
});
