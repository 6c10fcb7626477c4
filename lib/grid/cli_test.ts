/**
 * The grid CLI end to end, with real processes and real SIGKILLs (Linux: uses setsid and /proc).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DENO, readLinesOf, ROOT, SLEEP_JOB, withTempDir } from "./_test_utils.ts";
import { resultKey } from "./key.ts";
import { ResultStore } from "./store.ts";
import { withReadOnly } from "../store/_testing.ts";

const CLI = join(ROOT, "scripts/grid.ts");
const JOB_ID = "tests/fixtures/fake_job.ts#sleepJob";

async function writeGrid(dir: string, n: number): Promise<string> {
  const file = join(dir, "grid.json");
  const grid = { base: { train: { epochs: 2 } }, vary: { "train.seed": [...Array(n).keys()] } };
  await Deno.writeTextFile(file, JSON.stringify(grid));
  return file;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(DENO, { args: ["run", "-A", CLI, ...args], env }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
  const stderr = new TextDecoder().decode(out.stderr);
  return { code: out.code, summary: JSON.parse(stdout[stdout.length - 1] || "null"), stderr };
}

/** pid → [ppid, pgrp, state] of every live process. */
function processes(): Map<number, [number, number, string]> {
  const out = new Map<number, [number, number, string]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (f[0] !== "Z") out.set(Number(e.name), [Number(f[1]), Number(f[2]), f[0]]);
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("kill -9 of the grid and its workers mid-way: the re-run computes exactly what is missing", async () => {
  await withTempDir(async (dir) => {
    const n = 30;
    const grid = await writeGrid(dir, n);
    const store = new ResultStore(join(dir, "store"), { warn: (m) => assert.fail(m) });
    const args = ["run", grid, "--store", store.dir, "--job", SLEEP_JOB, "--workers", "2"];

    // setsid puts the CLI and its workers in their own process group, killed at once below.
    const child = new Deno.Command("setsid", {
      args: [DENO, "run", "-A", CLI, ...args],
      env: { FAKE_JOB_SLEEP_MS: "150", FAKE_JOB_LEDGER: join(dir, "ledger1") },
      stdout: "null",
      stderr: "null",
    }).spawn();
    await until("4 stored results", async () => (await store.keys()).length >= 4);
    assert.equal(processes().get(child.pid)?.[1], child.pid, "the CLI leads its process group");
    const group = [...processes()].filter(([, [, pgrp]]) => pgrp === child.pid).map(([pid]) => pid);
    assert.ok(group.length >= 3, `the CLI and its 2 workers are running (${group.length})`);
    Deno.kill(-child.pid, "SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    await until("the group to be gone", () => group.every((pid) => !processes().has(pid)), 5000);

    const afterKill = await store.scan();
    assert.deepEqual(afterKill.corrupt, [], "no half-written entry");
    const k = afterKill.valid.length;
    assert.ok(k > 0 && k < n, `killed mid-way (${k}/${n} stored)`);

    const rerun = await cli(args, {
      FAKE_JOB_SLEEP_MS: "1",
      FAKE_JOB_LEDGER: join(dir, "ledger2"),
    });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(rerun.summary, {
      ...rerun.summary,
      total: n,
      cached: k,
      computed: n - k,
      failed: 0,
    });
    const ran = (await readLinesOf(join(dir, "ledger2"))).map((l) =>
      resultKey(JSON.parse(l), JOB_ID)
    );
    assert.equal(ran.length, n - k, "only the missing runs were executed");
    assert.ok(
      ran.every((key) => !afterKill.valid.includes(key)),
      "no stored run was executed again",
    );
    const final = await store.scan();
    assert.deepEqual([final.valid.length, final.corrupt.length], [n, 0]);
  });
});

Deno.test("kill -9 of the CLI alone: its workers exit by themselves, mid-job", async () => {
  await withTempDir(async (dir) => {
    const grid = await writeGrid(dir, 4);
    const ledger = join(dir, "ledger");
    const child = new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        CLI,
        "run",
        grid,
        "--store",
        join(dir, "store"),
        "--job",
        SLEEP_JOB,
        "--workers",
        "2",
      ],
      env: { FAKE_JOB_SLEEP_MS: "60000", FAKE_JOB_LEDGER: ledger },
      stdout: "null",
      stderr: "null",
    }).spawn();
    let workers: number[] = [];
    try {
      await until(
        "both workers to start a job",
        async () => (await readLinesOf(ledger)).length >= 2,
      );
      workers = [...processes()].filter(([, [ppid]]) => ppid === child.pid).map(([pid]) => pid);
      assert.equal(workers.length, 2);
      child.kill("SIGKILL");
      await child.status;
      await until(
        "orphaned workers to exit",
        () => workers.every((pid) => !processes().has(pid)),
        10_000,
      );
    } finally {
      for (const pid of workers) {
        if (processes().has(pid)) Deno.kill(pid, "SIGKILL");
      }
      await child.status;
    }
  });
});

Deno.test("CLI shards into separate stores, merge combines them, status reports all done", async () => {
  await withTempDir(async (dir) => {
    const grid = await writeGrid(dir, 7);
    const env = { FAKE_JOB_SLEEP_MS: "1" };
    let total = 0;
    for (let i = 0; i < 3; i++) {
      const r = await cli([
        "run",
        grid,
        "--shard",
        `${i}/3`,
        "--store",
        join(dir, `s${i}`),
        "--job",
        SLEEP_JOB,
      ], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.summary.total + r.summary.skipped, 7);
      total += r.summary.computed;
    }
    assert.equal(total, 7);
    const before = await cli(["status", grid, "--store", join(dir, "all"), "--job", SLEEP_JOB]);
    assert.deepEqual(before.summary, { total: 7, done: 0, missing: 7 });
    const merged = await cli([
      "merge",
      join(dir, "s0"),
      join(dir, "s1"),
      join(dir, "s2"),
      "--into",
      join(dir, "all"),
    ]);
    assert.deepEqual(merged.summary, { copied: 7, identical: 0, conflicts: 0, corrupt: 0 });
    const after = await cli(["status", grid, "--store", join(dir, "all"), "--job", SLEEP_JOB]);
    assert.deepEqual(after.summary, { total: 7, done: 7, missing: 0 });
    const rerun = await cli(["run", grid, "--store", join(dir, "all"), "--job", SLEEP_JOB], env);
    assert.deepEqual([rerun.summary.cached, rerun.summary.computed], [7, 0]);
  });
});

Deno.test("CLI: a failing job gives exit 1; bad usage and invalid grids give exit 2", async () => {
  await withTempDir(async (dir) => {
    const grid = await writeGrid(dir, 2);
    const failing = await cli(["run", grid, "--store", join(dir, "s"), "--job", SLEEP_JOB], {
      FAKE_JOB_PLAN: JSON.stringify({ 1: "throw" }),
    });
    assert.equal(failing.code, 1);
    assert.equal(failing.summary.failed, 1);
    assert.match(failing.stderr, /FAILED #1 train\.seed=1: Error: fake failure for seed 1/);
    assert.equal((await cli(["run", grid, "--shard", "2/2"])).code, 2);
    assert.equal((await cli(["frobnicate"])).code, 2);
    await Deno.writeTextFile(join(dir, "bad.json"), JSON.stringify([{ train: { seed: -1 } }]));
    const bad = await cli(["run", join(dir, "bad.json")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /entry 0: config\.train\.seed = -1/);
  });
});

Deno.test('4: ./quantlab grid resolves relative paths against the caller\'s directory; --store "" is refused', async () => {
  await withTempDir(async (dir) => {
    await writeGrid(dir, 2);
    const wrapper = join(ROOT, "quantlab");
    const run = async (args: string[]) => {
      const out = await new Deno.Command(wrapper, {
        args: ["grid", ...args],
        cwd: dir,
        env: { FAKE_JOB_SLEEP_MS: "1" },
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const ok = await run(["run", "grid.json", "--store", "rel-store", "--job", SLEEP_JOB]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await new ResultStore(join(dir, "rel-store")).keys()).length, 2);
    assert.equal(
      await Deno.stat(join(ROOT, "rel-store")).then(() => true, () => false),
      false,
      "nothing written under the repository",
    );
    const empty = await run(["run", "grid.json", "--store", "", "--job", SLEEP_JOB]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--store "": expected a directory, got an empty value/);
    const into = await run(["merge", "rel-store", "--into", ""]);
    assert.equal(into.code, 2);
    assert.match(into.stderr, /--into "": expected a directory/);
  });
});

Deno.test("9: kill -9 of the CLI while its workers are inside a blocking job: they exit within 2 s", async () => {
  await withTempDir(async (dir) => {
    const grid = await writeGrid(dir, 4);
    const ledger = join(dir, "ledger");
    const child = new Deno.Command(DENO, {
      args: ["run", "-A", CLI, "run", grid, "--store", join(dir, "s"), "--job", SLEEP_JOB],
      // Every job spins for 60 s without yielding: the event loop of the worker never turns.
      env: {
        FAKE_JOB_LEDGER: ledger,
        FAKE_JOB_PLAN: JSON.stringify({ 0: "hang", 1: "hang", 2: "hang", 3: "hang" }),
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    let workers: number[] = [];
    try {
      await until(
        "workers to enter the blocking job",
        async () => (await readLinesOf(ledger)).length >= 1,
      );
      workers = [...processes()].filter(([, [ppid]]) => ppid === child.pid).map(([pid]) => pid);
      assert.ok(workers.length >= 1);
      child.kill("SIGKILL");
      await child.status;
      const t0 = performance.now();
      await until(
        "orphaned workers to exit",
        () => workers.every((pid) => !processes().has(pid)),
        10_000,
      );
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `orphans took ${ms.toFixed(0)} ms to exit`);
    } finally {
      for (const pid of workers) {
        if (processes().has(pid)) Deno.kill(pid, "SIGKILL");
      }
      await child.status;
    }
  });
});

Deno.test("10: two CLI runners on one store compute every run once between them", async () => {
  await withTempDir(async (dir) => {
    const n = 8;
    const grid = await writeGrid(dir, n);
    const ledger = join(dir, "ledger");
    const args = ["run", grid, "--store", join(dir, "s"), "--job", SLEEP_JOB, "--workers", "1"];
    const env = { FAKE_JOB_SLEEP_MS: "300", FAKE_JOB_LEDGER: ledger };
    const [a, b] = await Promise.all([cli(args, env), cli(args, env)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.summary.computed + b.summary.computed, n, "each run computed by one of them");
    assert.deepEqual([a.summary.failed, b.summary.failed], [0, 0]);
    assert.equal(a.summary.cached + a.summary.computed, n, "the first sees every result");
    assert.equal(b.summary.cached + b.summary.computed, n, "the second sees every result");
    assert.equal((await readLinesOf(ledger)).length, n, "no run executed twice");
  });
});

Deno.test("13: grid --help is help; merge from a missing source is a usage error", async () => {
  for (const args of [["--help"], ["run", "--help"], ["-h"]]) {
    const out = await new Deno.Command(DENO, { args: ["run", "-A", CLI, ...args] }).output();
    assert.equal(out.code, 0, args.join(" "));
    assert.match(new TextDecoder().decode(out.stdout), /^usage:/);
  }
  await withTempDir(async (dir) => {
    const r = await cli(["merge", join(dir, "missing"), "--into", join(dir, "all")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /merge: source store .*missing cannot be read/);
  });
});

Deno.test("interrupt: SIGINT stops the CLI with exit 130, keeps what finished, and a re-run resumes", async () => {
  await withTempDir(async (dir) => {
    const n = 12;
    const grid = await writeGrid(dir, n);
    const store = new ResultStore(join(dir, "s"));
    const args = ["run", grid, "--store", store.dir, "--job", SLEEP_JOB, "--workers", "2"];
    const child = new Deno.Command(DENO, {
      args: ["run", "-A", CLI, ...args],
      env: { FAKE_JOB_SLEEP_MS: "300" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    await until("2 stored results", async () => (await store.keys()).length >= 2);
    child.kill("SIGINT");
    const status = await child.status;
    assert.equal(status.code, 130);
    assert.match(await stderr, /grid: AbortError: grid interrupted: \d+ of 12 runs done/);
    const k = (await store.scan()).valid.length;
    const rerun = await cli(args, { FAKE_JOB_SLEEP_MS: "1" });
    assert.deepEqual([rerun.summary.cached, rerun.summary.computed], [k, n - k]);
  });
});

Deno.test("--store under a regular file names the option; an unwritable store or a worker that cannot start still prints the JSON summary", async () => {
  const { main } = await import("../../scripts/grid.ts");
  await withTempDir(async (dir) => {
    const grid = await writeGrid(dir, 2);
    const capture = async (args: string[]) => {
      const out: string[] = [], err: string[] = [];
      const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err: err.join("\n") };
    };
    await Deno.writeTextFile(join(dir, "afile"), "");
    const under = await capture(["run", grid, "--store", join(dir, "afile", "store")]);
    assert.equal(under.code, 2);
    assert.match(
      under.err,
      /--store .*afile\/store: cannot be a directory: a part of the path above it is a regular file/,
    );

    const ro = join(dir, "ro");
    await Deno.mkdir(ro);
    const ran = await withReadOnly(ro, async () => {
      const r = await capture(["run", grid, "--store", ro, "--job", SLEEP_JOB]);
      assert.equal(r.code, 1);
      const summary = JSON.parse(r.out.at(-1)!);
      assert.equal(summary.computed, null);
      assert.match(summary.error, /result store .*ro is not writable/);
    });
    if (!ran) console.warn("skipped in part: cannot make a directory read-only here");

    Deno.env.set("FAKE_JOB_IMPORT", "spin");
    try {
      const r = await capture([
        "run",
        grid,
        "--store",
        join(dir, "s"),
        "--job",
        SLEEP_JOB,
        "--start-timeout",
        "1",
      ]);
      assert.equal(r.code, 1);
      const summary = JSON.parse(r.out.at(-1)!);
      assert.match(summary.error, /worker|start/i);
    } finally {
      Deno.env.delete("FAKE_JOB_IMPORT");
    }
  });
});
