/**
 * Issue 14, "nothing lost, nothing hung": one test per point, with the fake jobs.
 * Points covered elsewhere: 2 (store_test.ts), 4, 9 (orphans), 10 (two CLIs) and 13 (cli_test.ts),
 * the fuzz test (fuzz_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../config.ts";
import { readLinesOf, seeds, SLEEP_JOB, withTempDir } from "./_test_utils.ts";
import { MAX_GRID_CONFIGS, parseGrid } from "./expand.ts";
import { readLines } from "./_protocol.ts";
import { resultKey } from "./key.ts";
import { MergeSourceError, mergeStores } from "./merge.ts";
import { WorkerStartError } from "./pool.ts";
import type { GridProgress } from "./progress.ts";
import { type GridOptions, gridStatus, runGrid } from "./run.ts";
import { checkEntry, makeEntry, ResultStore } from "./store.ts";
import type { FakeResult } from "../../tests/fixtures/fake_job.ts";

const JOB_ID = "tests/fixtures/fake_job.ts#sleepJob";

function opts(
  dir: string,
  extra: GridOptions & { plan?: Record<number, string>; warnings?: string[] } = {},
): GridOptions {
  const { plan, warnings, ...rest } = extra;
  return {
    store: join(dir, "store"),
    job: SLEEP_JOB,
    workers: 2,
    log: (l) => warnings?.push(l),
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

const ran = async (dir: string) => (await readLinesOf(join(dir, "ledger"))).length;

Deno.test("1: a job printing to stdout without a newline neither hangs the grid nor loses its result", async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    const report = await runGrid<FakeResult>(
      seeds(3),
      opts(dir, { plan: { 0: "print", 2: "print" }, warnings: lines, jobTimeoutMs: 20_000 }),
    );
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.results.map((r) => r?.final), [1 / 2, 1 / 3, 1 / 4]);
    assert.ok(
      lines.some((l) => l.endsWith("] progress 50%")),
      "the fragment is passed on as output",
    );
  });
});

Deno.test("5: a job returning undefined or a function is a failure, never a stored non-result", async () => {
  await withTempDir(async (dir) => {
    const warnings: string[] = [];
    const o = opts(dir, { plan: { 0: "undefined", 1: "function" }, warnings });
    const first = await runGrid(seeds(3), o);
    assert.deepEqual(first.failures.map((f) => f.index), [0, 1]);
    assert.match(first.failures[0].error, /returned undefined; a job must return a JSON value/);
    assert.match(first.failures[1].error, /returned a function/);
    const store = new ResultStore(join(dir, "store"));
    assert.equal((await store.keys()).length, 1, "only the real result is stored");
    const again = await runGrid(seeds(3), o);
    assert.deepEqual([again.cached, again.failures.length], [1, 2]);
    assert.ok(!warnings.some((w) => /corrupt/.test(w)), "nothing is ever flagged corrupt");
  });
});

Deno.test("6: an unserialisable result fails once with its cause; the worker survives, no retry", async () => {
  await withTempDir(async (dir) => {
    const report = await runGrid(seeds(3), opts(dir, { plan: { 0: "cyclic", 1: "bigint" } }));
    assert.deepEqual(report.failures.map((f) => f.index), [0, 1]);
    for (const f of report.failures) {
      assert.match(f.error, /the job's result cannot be stored as JSON \(TypeError: .+\)/s);
    }
    assert.match(report.failures[1].error, /BigInt/i);
    assert.equal(await ran(dir), 3, "each job ran exactly once");
    assert.equal(report.computed, 1);
  });
});

Deno.test("7: a directory at an entry path is a corrupt entry: run and status go on", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(3);
    const store = new ResultStore(join(dir, "store"));
    const key = resultKey(configs[1], JOB_ID);
    await Deno.mkdir(store.path(key), { recursive: true });
    const status = await gridStatus(configs, { store: store.dir, job: SLEEP_JOB, log: () => {} });
    assert.deepEqual([status.done, status.missing], [0, 3]);
    const warnings: string[] = [];
    const report = await runGrid(configs, opts(dir, { warnings }));
    assert.deepEqual([report.computed, report.failures.length], [3, 0]);
    assert.ok(warnings.some((w) => w.includes(store.path(key)) && /unreadable.*moved to/.test(w)));
    assert.ok((await store.get(key)) !== undefined, "recomputed and stored");
  });
});

Deno.test("7: an entry that cannot be moved aside is reported as such and its run fails up front", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(3);
    const store = new ResultStore(join(dir, "store"));
    const key = resultKey(configs[1], JOB_ID);
    // A non-empty directory can be neither renamed into a "corrupt" that is a file, nor removed.
    await Deno.mkdir(join(store.path(key), "inside"), { recursive: true });
    await Deno.writeTextFile(join(store.dir, "corrupt"), "a file, not a directory");
    const warnings: string[] = [];
    const report = await runGrid(configs, opts(dir, { warnings }));
    const warning = warnings.find((w) => w.includes(store.path(key)))!;
    assert.match(warning, /left in place, so this run cannot be stored/);
    assert.doesNotMatch(warning, /deleted/);
    assert.deepEqual(report.failures.map((f) => f.index), [1]);
    assert.match(report.failures[0].error, /cannot store a result at .*remove it and re-run/);
    assert.equal(report.computed, 2, "the other runs are computed and stored");
    assert.equal(await ran(dir), 2, "the run that could not be stored is not computed");
  });
});

Deno.test("7: an unwritable store is refused before any job runs, naming it; a failed write names the path", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "not-a-dir");
    await Deno.writeTextFile(file, "");
    await assert.rejects(
      runGrid(seeds(2), opts(dir, { store: join(file, "store") })),
      new RegExp(`result store ${join(file, "store")} is not writable`),
    );
    assert.equal(await ran(dir), 0);
    const store = new ResultStore(join(file, "store"));
    await assert.rejects(
      store.put(seeds(1)[0], JOB_ID, { x: 1 }),
      (err: Error) => err.message.includes(store.path(resultKey(seeds(1)[0], JOB_ID))),
    );
  });
});

Deno.test("8: a timeout of 2^31 ms or more does not fire at once", async () => {
  await withTempDir(async (dir) => {
    for (const jobTimeoutMs of [2 ** 31, 2 ** 40, 1e300]) {
      const report = await runGrid(
        seeds(2),
        opts(dir, { jobTimeoutMs, recompute: true, workers: 1 }),
      );
      assert.deepEqual(report.failures, [], `timeout ${jobTimeoutMs}`);
    }
  });
});

Deno.test("9: a job module that spins at import fails the grid after the start timeout", async () => {
  await withTempDir(async (dir) => {
    const t0 = performance.now();
    await assert.rejects(
      runGrid(seeds(2), opts(dir, { env: { FAKE_JOB_IMPORT: "spin" }, startTimeoutMs: 1500 })),
      (err: Error) =>
        err instanceof WorkerStartError && /was not ready within 1\.5 s/.test(err.message),
    );
    // The spin lasts 60 s: finishing well before that shows the timeout, not the spin, ended it.
    assert.ok(performance.now() - t0 < 30_000);
  });
});

Deno.test("10: a second runner on the same store leaves claimed runs to their holder and takes stale claims over", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(3);
    const store = new ResultStore(join(dir, "store"));
    const keys = configs.map((c) => resultKey(c, JOB_ID));
    // A live claim (this process, another owner) on seed 0; a stale one (a dead pid) on seed 1.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    await Deno.mkdir(store.dir, { recursive: true });
    const claim = (pid: number) =>
      JSON.stringify({ pid, host: Deno.hostname(), owner: "other", at: new Date().toISOString() });
    await Deno.writeTextFile(store.claimPath(keys[0]), claim(Deno.pid));
    await Deno.writeTextFile(store.claimPath(keys[1]), claim(dead.pid));
    const events: string[] = [];
    const running = runGrid<FakeResult>(configs, opts(dir, { warnings: events }));
    // The holder of seed 0 "finishes": it stores a result and drops its claim.
    while (!events.some((l) => /being computed by another runner/.test(l))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await store.put(configs[0], JOB_ID, { from: "the other runner" });
    await Deno.remove(store.claimPath(keys[0]));
    const report = await running;
    assert.deepEqual([report.computed, report.cached, report.failures.length], [2, 1, 0]);
    assert.deepEqual(report.results[0], { from: "the other runner" });
    const ledger = (await readLinesOf(join(dir, "ledger"))).map((l) => JSON.parse(l).train.seed);
    assert.deepEqual(ledger.sort(), [1, 2], "seed 0 was left to its holder, seed 1 taken over");
    const left = [...Deno.readDirSync(store.dir)].filter((e) => e.name.endsWith(".claim"));
    assert.deepEqual(left, [], "no claim left behind");
  });
});

Deno.test("11: prototype names are not config fields", () => {
  for (const bad of [{ constructor: {} }, { train: { valueOf: 1 } }, { train: { toString: 1 } }]) {
    assert.throws(() => parseGrid([bad]), /entry 0: config\.(constructor|train\.\w+)/);
  }
  assert.throws(
    () => parseGrid({ vary: { "train.valueOf": [1, 2, 3] } }),
    /config\.train\.valueOf/,
  );
  assert.throws(() => parseGrid({ vary: { "__proto__.x": [1] } }), /forbidden segment/);
  assert.equal(({} as Record<string, unknown>).x, undefined, "no prototype pollution");
});

Deno.test("12: a huge grid is refused before expansion, naming its size and the limit", () => {
  const values = (n: number) => Array.from({ length: n }, (_, i) => i);
  for (
    const [vary, size] of [
      [{ "train.seed": values(1000), "train.epochs": values(1000) }, "1,000,000"],
      [
        { a: values(1e4), b: values(1e4), c: values(1e4) },
        "1,000,000,000,000",
      ],
    ] as const
  ) {
    assert.throws(
      () => parseGrid({ vary }),
      (err: Error) =>
        err.message.includes(`expands to ${size} configs`) &&
        err.message.includes(MAX_GRID_CONFIGS.toLocaleString("en")),
    );
  }
  assert.throws(() => parseGrid(Array(MAX_GRID_CONFIGS + 1).fill({})), /more than the limit/);
});

Deno.test("12: a huge value makes a short error message", () => {
  const huge = "x".repeat(5_000_000);
  for (const grid of [{ vary: { "passer.kind": [huge] } }, [{ passer: { kind: huge } }]]) {
    let message = "";
    try {
      parseGrid(grid);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /passer\.kind/);
    assert.ok(message.length < 3000, `${message.length} characters`);
  }
});

Deno.test("12: the line reader is linear: one 16 MB line costs about what eight 2 MB lines do", async () => {
  const chunk = new TextEncoder().encode("y".repeat(65536));
  const newline = new TextEncoder().encode("\n");
  /** Time to read `lines` lines of `bytes` each, fed in 64 kB chunks. */
  const time = async (lines: number, bytes: number) => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let l = 0; l < lines; l++) {
          for (let n = 0; n < bytes; n += chunk.length) c.enqueue(chunk);
          c.enqueue(newline);
        }
        c.close();
      },
    });
    const t0 = performance.now();
    const lengths: number[] = [];
    for await (const line of readLines(stream)) lengths.push(line.length);
    assert.deepEqual(lengths, Array(lines).fill(bytes));
    return performance.now() - t0;
  };
  await time(1, 1 << 20); // warm up
  const best = async (lines: number, bytes: number) =>
    Math.min(await time(lines, bytes), await time(lines, bytes));
  const many = await best(8, 2 << 20);
  const one = await best(1, 16 << 20);
  // The same bytes: equal cost when linear, 8× when quadratic in the line length.
  assert.ok(one / many < 3, `one 16 MB line took ${(one / many).toFixed(1)}× eight 2 MB lines`);
});

Deno.test("13: merging from a source that does not exist or is a file is an error", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(mergeStores([join(dir, "nope")], join(dir, "all")), MergeSourceError);
    await Deno.writeTextFile(join(dir, "file"), "");
    await assert.rejects(mergeStores([join(dir, "file")], join(dir, "all")), /not a directory/);
  });
});

Deno.test("14: the GEMM is stored with each result, keys of two GEMMs differ and merge says so", async () => {
  await withTempDir(async (dir) => {
    const configs = seeds(2);
    const gemms = ["OpenBLAS 0.3.21 Haswell", "wasm"];
    for (const [i, gemm] of gemms.entries()) {
      const store = join(dir, `s${i}`);
      await runGrid(configs, opts(dir, { store, gemm, env: { FAKE_JOB_GEMM: gemm } }));
      const s = new ResultStore(store);
      for (const key of await s.keys()) assert.equal((await s.get(key))?.gemm, gemm);
    }
    const warnings: string[] = [];
    const into = join(dir, "all");
    const report = await mergeStores([join(dir, "s0"), join(dir, "s1")], into, {
      warn: (w) => warnings.push(w),
    });
    assert.equal(report.copied, 4, "same configs, other GEMM: other keys, nothing mixed");
    assert.deepEqual(report.gemms, ["OpenBLAS 0.3.21 Haswell", "wasm"]);
    assert.equal(report.conflicts.length, 0);
    assert.ok(warnings.some((w) => /different GEMMs \(OpenBLAS 0\.3\.21 Haswell, wasm\)/.test(w)));
  });
});

Deno.test("14: two entries of one key from different GEMMs are a conflict; legacy 'openblas' is not", async () => {
  await withTempDir(async (dir) => {
    const config = resolveConfig({ train: { seed: 3 } });
    const put = (name: string, gemm: string) =>
      new ResultStore(join(dir, name)).write(
        makeEntry(config, JOB_ID, { v: 1 }, "0", "2026-01-01T00:00:00Z", gemm, null),
      );
    await put("a", "OpenBLAS 0.3.21 Haswell");
    await put("b", "OpenBLAS 0.3.21 Cooperlake");
    await put("c", "openblas");
    const warnings: string[] = [];
    const report = await mergeStores(
      [join(dir, "a"), join(dir, "b"), join(dir, "c")],
      join(dir, "all"),
      {
        warn: (w) => warnings.push(w),
      },
    );
    assert.equal(report.conflicts.length, 1);
    assert.equal(
      report.conflicts[0].differences[0],
      "gemm (OpenBLAS 0.3.21 Haswell vs OpenBLAS 0.3.21 Cooperlake)",
    );
    assert.equal(report.identical, 1, "the legacy entry agrees and may be the same kernel");
    assert.deepEqual(report.gemms, ["OpenBLAS 0.3.21 Cooperlake", "OpenBLAS 0.3.21 Haswell"]);
  });
});

Deno.test("14: entries written before the GEMM was recorded still verify", () => {
  const config = resolveConfig({ train: { seed: 1 } });
  // makeEntry without a gemm gives no gemm field, and its checksum is the old one.
  const old = makeEntry(config, JOB_ID, { v: 1 }, "0", "2026-01-01T00:00:00Z");
  assert.equal("gemm" in old, false);
  assert.ok(checkEntry(JSON.stringify(old), old.key).ok);
  const withGemm = makeEntry(config, JOB_ID, { v: 1 }, "0", "2026-01-01T00:00:00Z", "wasm");
  assert.notEqual(withGemm.checksum, old.checksum);
  const forged = { ...withGemm, gemm: "openblas" };
  assert.deepEqual(checkEntry(JSON.stringify(forged), old.key), {
    ok: false,
    reason: "checksum mismatch",
  });
});

Deno.test("interrupt: an aborted grid stops at once, keeps what was stored, and a re-run computes only the rest", async () => {
  await withTempDir(async (dir) => {
    const n = 12;
    const configs = seeds(n);
    const stop = new AbortController();
    let stoppedAt = 0;
    const o = opts(dir, {
      env: { FAKE_JOB_SLEEP_MS: "200" },
      onProgress: (p) => {
        if (p.event === "job" && p.computed === 3 && !stop.signal.aborted) {
          stoppedAt = performance.now();
          stop.abort();
        }
      },
      signal: stop.signal,
    });
    const err = await runGrid(configs, o).then(() => undefined, (e) => e as Error);
    const stopMs = performance.now() - stoppedAt;
    assert.ok(err, "runGrid rejects");
    assert.equal(err.name, "AbortError");
    assert.match(err.message, /\d+ of 12 runs done .*running the same grid again resumes/);
    assert.ok(stopMs < 3000, `stopped ${stopMs.toFixed(0)} ms after the abort`);
    const store = new ResultStore(join(dir, "store"));
    const scan = await store.scan();
    assert.deepEqual(scan.corrupt, []);
    const k = scan.valid.length;
    assert.ok(k >= 3 && k < n, `${k} stored`);
    assert.deepEqual(
      [...Deno.readDirSync(store.dir)].map((e) => e.name).filter((f) => !f.endsWith(".json")),
      [],
      "no temp file or claim left",
    );
    await Deno.remove(join(dir, "ledger"));
    const rerun = await runGrid(configs, opts(dir));
    assert.deepEqual([rerun.cached, rerun.computed], [k, n - k]);
    assert.equal(await ran(dir), n - k, "only the missing runs ran");

    const reason = new Error("my reason");
    const already = new AbortController();
    already.abort(reason);
    await assert.rejects(runGrid(configs, opts(dir, { signal: already.signal })), reason);
  });
});

Deno.test("progress: epoch events show the running jobs and their epochs; the log has one line per job", async () => {
  await withTempDir(async (dir) => {
    const events: GridProgress[] = [];
    const lines: string[] = [];
    const configs = parseGrid({
      base: { train: { epochs: 4 } },
      vary: { "train.seed": [0, 1, 2] },
    });
    await runGrid(configs, {
      ...opts(dir, { warnings: lines, env: { FAKE_JOB_SLEEP_MS: "80" } }),
      onProgress: (p) => events.push(p),
    });
    assert.equal(events[0].event, "start");
    assert.deepEqual(events[0].running, []);
    const epochs = events.filter((e) => e.event === "epoch");
    assert.equal(epochs.length, 3 * 4, "one event per epoch of every job");
    for (const e of epochs) {
      assert.ok(e.running.length >= 1 && e.running.length <= 2, "at most one job per worker");
      assert.ok(e.running.every((r) => r.epochs === 4 && r.epoch >= 0 && r.epoch <= 4));
      assert.ok(e.running.every((r) => /^train\.seed=[012]$/.test(r.label)));
    }
    assert.ok(epochs.some((e) => e.running.some((r) => r.epoch === 4)));
    const jobs = events.filter((e) => e.event === "job");
    assert.equal(jobs.length, 3);
    assert.deepEqual(jobs.at(-1)!.running, []);
    assert.equal(lines.filter((l) => /^\[grid\] \d\/3 done/.test(l)).length, 3, "no epoch lines");
  });
});
