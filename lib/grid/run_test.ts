import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../config.ts";
import { FAKE, readLinesOf, seeds, SLEEP_JOB, withTempDir } from "./_test_utils.ts";
import { resultKey } from "./key.ts";
import { WorkerStartError } from "./pool.ts";
import type { GridProgress } from "./progress.ts";
import { type GridOptions, gridStatus, runGrid } from "./run.ts";
import { ResultStore } from "./store.ts";
import type { FakeResult } from "../../tests/fixtures/fake_job.ts";

const quiet = () => {};

function opts(
  dir: string,
  extra: GridOptions & { plan?: Record<number, string> } = {},
): GridOptions {
  const { plan, ...rest } = extra;
  return {
    store: join(dir, "store"),
    job: SLEEP_JOB,
    workers: 2,
    log: quiet,
    ...rest,
    env: {
      FAKE_JOB_LEDGER: join(dir, "ledger"),
      FAKE_JOB_STATE: dir,
      FAKE_JOB_SLEEP_MS: "5",
      FAKE_JOB_PLAN: JSON.stringify(plan ?? {}),
      ...rest.env,
    },
  };
}

Deno.test("results come back in input order, equal configs run once, a re-run computes nothing", async () => {
  await withTempDir(async (dir) => {
    const configs = [...seeds(5), resolveConfig({ train: { epochs: 2, seed: 1 } })];
    const first = await runGrid<FakeResult>(configs, opts(dir));
    assert.deepEqual(first.results.map((r) => r?.config.train.seed), [0, 1, 2, 3, 4, 1]);
    assert.ok(first.results.every((r, i) => r?.final === 1 / (2 + configs[i].train.seed)));
    assert.ok(Number.isNaN(first.results[0]!.history[1]), "NaN crosses the process boundary");
    assert.equal(first.total, 5);
    assert.equal(first.computed, 5);
    assert.equal((await readLinesOf(join(dir, "ledger"))).length, 5, "the duplicate ran once");

    const again = await runGrid<FakeResult>(configs.toReversed(), opts(dir));
    assert.equal(again.cached, 5);
    assert.equal(again.computed, 0);
    assert.equal((await readLinesOf(join(dir, "ledger"))).length, 5, "nothing ran again");
    assert.deepEqual(again.results.map((r) => r?.config.train.seed), [1, 4, 3, 2, 1, 0]);
    assert.ok(Number.isNaN(again.results[5]!.history[1]), "NaN survives the store");

    const status = await gridStatus(
      [...configs, resolveConfig({ train: { seed: 99 } })],
      opts(dir),
    );
    assert.deepEqual([status.total, status.done, status.missing], [6, 5, 1]);
  });
});

Deno.test("a job that throws is a failure with its message; the others finish and are stored", async () => {
  await withTempDir(async (dir) => {
    const report = await runGrid(seeds(6), opts(dir, { plan: { 2: "throw" } }));
    assert.equal(report.failures.length, 1);
    assert.equal(report.failures[0].index, 2);
    assert.match(report.failures[0].error, /fake failure for seed 2/);
    assert.equal(report.results[2], undefined);
    assert.equal(report.computed, 5);
    assert.equal(
      (await new ResultStore(join(dir, "store")).keys()).length,
      5,
      "failures are not stored",
    );
    const retry = await runGrid(seeds(6), opts(dir));
    assert.deepEqual(
      [retry.cached, retry.computed, retry.failures.length],
      [5, 1, 0],
      "failures are retried next time",
    );
  });
});

Deno.test("a worker that dies is replaced and its job retried once", async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    const report = await runGrid(
      seeds(6),
      opts(dir, { plan: { 1: "crash-once", 4: "crash" }, log: (l) => lines.push(l) }),
    );
    assert.equal(report.results[1] !== undefined, true, "crash-once succeeded on the retry");
    assert.deepEqual(report.failures.map((f) => f.index), [4]);
    assert.match(report.failures[0].error, /worker died on both attempts \(killed by SIGKILL\)/);
    assert.equal(report.computed, 5);
    const ledger = (await readLinesOf(join(dir, "ledger"))).map((l) => JSON.parse(l).train.seed);
    assert.equal(ledger.filter((s) => s === 1).length, 2);
    assert.equal(ledger.filter((s) => s === 4).length, 2, "retried once, not more");
    assert.equal(lines.filter((l) => /died .* retrying once/.test(l)).length, 2);
  });
});

Deno.test("a hanging job is killed after the timeout and fails without a retry", async () => {
  await withTempDir(async (dir) => {
    const report = await runGrid(seeds(4), opts(dir, { plan: { 0: "hang" }, jobTimeoutMs: 500 }));
    assert.deepEqual(report.failures.map((f) => f.index), [0]);
    assert.match(report.failures[0].error, /timed out after 500 ms/);
    assert.equal(report.computed, 3);
    const ledger = await readLinesOf(join(dir, "ledger"));
    assert.equal(ledger.length, 4);
  });
});

Deno.test("a job module that cannot load aborts the grid with WorkerStartError", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      runGrid(seeds(3), opts(dir, { job: `${FAKE}#noSuchExport` })),
      (err) =>
        err instanceof WorkerStartError && /no exported function "noSuchExport"/.test(err.message),
    );
    await assert.rejects(
      runGrid(seeds(3), opts(dir, { job: join(dir, "missing.ts#job") })),
      WorkerStartError,
    );
  });
});

Deno.test("a corrupt entry is warned about once and recomputed; the grid does not crash", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(4);
    await runGrid(configs, opts(dir));
    const store = new ResultStore(join(dir, "store"));
    const key = resultKey(configs[2], "tests/fixtures/fake_job.ts#sleepJob");
    const text = await Deno.readTextFile(store.path(key));
    await Deno.writeTextFile(store.path(key), text.slice(0, 100));

    const lines: string[] = [];
    const report = await runGrid(configs, opts(dir, { log: (l) => lines.push(l) }));
    assert.deepEqual([report.cached, report.computed, report.failures.length], [3, 1, 0]);
    const warnings = lines.filter((l) => l.includes("corrupt entry"));
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(store.path(key)));
    assert.deepEqual((await store.scan()).corrupt, []);
    assert.equal((await store.scan()).valid.length, 4);
  });
});

Deno.test("a sharded run computes only its slice; the shards together cover the grid once", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(7);
    const owner = new Map<number, number>();
    for (let i = 0; i < 3; i++) {
      const report = await runGrid(
        configs,
        opts(dir, { shard: `${i}/3`, store: join(dir, `s${i}`) }),
      );
      assert.equal(report.total + report.skipped, 7);
      report.results.forEach((r, j) => {
        if (r === undefined) return;
        assert.ok(!owner.has(j), `config ${j} in shards ${owner.get(j)} and ${i}`);
        owner.set(j, i);
      });
      assert.equal((await new ResultStore(join(dir, `s${i}`)).keys()).length, report.total);
    }
    assert.equal(owner.size, 7);
    assert.equal((await readLinesOf(join(dir, "ledger"))).length, 7);
  });
});

Deno.test("onProgress sees a start event, then one per job, ending with done = total and eta 0", async () => {
  await withTempDir(async (dir) => {
    await runGrid(seeds(2), opts(dir));
    const all: GridProgress[] = [];
    const lines: string[] = [];
    await runGrid(
      seeds(5),
      opts(dir, { onProgress: (p) => all.push(p), log: (l) => lines.push(l) }),
    );
    const events = all.filter((e) => e.event !== "epoch");
    assert.deepEqual(events.map((e) => e.event), ["start", "job", "job", "job"]);
    assert.deepEqual([events[0].done, events[0].cached, events[0].last], [2, 2, undefined]);
    assert.deepEqual(events.slice(1).map((e) => e.done), [3, 4, 5]);
    const last = events[3];
    assert.deepEqual([last.total, last.computed, last.etaMs], [5, 3, 0]);
    assert.match(last.last!.label, /^train\.seed=[234]$/);
    assert.equal(lines.filter((l) => /^\[grid\] \d\/5 done .* elapsed, eta /.test(l)).length, 3);
  });
});
