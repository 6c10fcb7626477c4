/**
 * Same numbers on every machine of this kind (issue 20 §1). The proxy reference must pass when
 * the environment asks OpenBLAS for another kernel (the pin wins), and a result computed under
 * another GEMM identity must not be served from the cache as if it were the same.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend.ts";
import { resolveConfig } from "../lib/config.ts";
import { runGrid } from "../lib/grid/run.ts";
import { resultKey } from "../lib/grid/key.ts";
import { ResultStore } from "../lib/grid/store.ts";
import { CORETYPE_OVERRIDE, loadOpenBlas, REFERENCE_GEMM } from "../lib/kernels/mod.ts";
import { missingCpuFlags } from "../lib/kernels/blas.ts";
import { train } from "../lib/train.ts";

const ROOT = join(import.meta.dirname!, "..");
const FAKE = join(ROOT, "tests/fixtures/fake_job.ts");
const HAVE_OPENBLAS = loadOpenBlas() != null;
const X86_AVX2 = Deno.build.arch === "x86_64" && missingCpuFlags("Haswell").length === 0;
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

for (const kernel of ["SkylakeX", "Cooperlake", "Zen"]) {
  Deno.test({
    name: `proxy reference passes with OPENBLAS_CORETYPE=${kernel} in the environment`,
    ignore: !HAVE_OPENBLAS || !X86_AVX2,
    async fn() {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", join(ROOT, "tests/proxy_reference_test.ts")],
        env: { OPENBLAS_CORETYPE: kernel, [CORETYPE_OVERRIDE]: "", NO_COLOR: "1" },
      }).output();
      const text = decode(out.stdout) + decode(out.stderr);
      assert.equal(out.code, 0, `OPENBLAS_CORETYPE=${kernel}:\n${text.slice(-3000)}`);
      assert.match(text, /ok \| 17 passed \| 0 failed/);
    },
  });
}

Deno.test({
  name: "every run records the OpenBLAS library and kernel it was computed with",
  ignore: !HAVE_OPENBLAS || !X86_AVX2,
  async fn() {
    await initBackend();
    const r = await train(resolveConfig({ train: { epochs: 1, stepsPerEpoch: 2 } }));
    assert.equal(r.versions.gemmIdentity, REFERENCE_GEMM);
    assert.equal(r.versions.blas?.core, "Haswell");
    assert.equal(r.versions.blas?.pin, "pin");
    assert.match(r.versions.blas?.path ?? "", /libopenblas/);
  },
});

Deno.test("a result key declares a GEMM other than the reference; the reference's keys are unchanged", () => {
  const config = resolveConfig({ train: { seed: 1 } });
  const job = "lib/train.ts#train";
  const plain = resultKey(config, job);
  assert.equal(resultKey(config, job, undefined, REFERENCE_GEMM), plain);
  assert.notEqual(resultKey(config, job, undefined, "OpenBLAS 0.3.21 Cooperlake"), plain);
  assert.notEqual(resultKey(config, job, undefined, "wasm"), plain);
});

Deno.test({
  name: "a result computed under another GEMM identity is not served from the cache",
  ignore: !HAVE_OPENBLAS || !X86_AVX2 || missingCpuFlags("Zen").length > 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "quantlab-gemm-" });
    try {
      const grid = join(dir, "grid.json");
      await Deno.writeTextFile(grid, JSON.stringify({ vary: { "train.seed": [0, 1] } }));
      const cli = async (env: Record<string, string>) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            join(ROOT, "scripts/grid.ts"),
            "run",
            grid,
            "--store",
            join(dir, "store"),
            "--job",
            `${FAKE}#sleepJob`,
            "--workers",
            "1",
          ],
          env: { NO_COLOR: "1", FAKE_JOB_SLEEP_MS: "1", [CORETYPE_OVERRIDE]: "", ...env },
        }).output();
        assert.equal(out.code, 0, decode(out.stderr));
        const lines = decode(out.stdout).trim().split("\n");
        return { summary: JSON.parse(lines[lines.length - 1]), stderr: decode(out.stderr) };
      };
      const first = await cli({});
      assert.deepEqual([first.summary.computed, first.summary.cached], [2, 0]);
      const zen = await cli({ [CORETYPE_OVERRIDE]: "Zen" });
      assert.deepEqual([zen.summary.computed, zen.summary.cached], [2, 0], zen.stderr);
      const again = await cli({ OPENBLAS_CORETYPE: "Zen" }); // the pin wins: the reference again
      assert.deepEqual([again.summary.computed, again.summary.cached], [0, 2]);
      const store = new ResultStore(join(dir, "store"));
      const declared = [];
      for (const key of await store.keys()) declared.push((await store.get(key))?.keyGemm ?? null);
      const zenKey = "OpenBLAS 0.3.21 Zen";
      assert.deepEqual(declared.map(String).sort(), [zenKey, zenKey, "null", "null"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a worker computing with another GEMM than the keys declare has its result refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-gemm-" });
  try {
    const report = await runGrid([{ train: { seed: 0, epochs: 1 } }], {
      store: join(dir, "store"),
      job: `${FAKE}#sleepJob`,
      workers: 1,
      gemm: REFERENCE_GEMM,
      env: { FAKE_JOB_GEMM: "OpenBLAS 0.3.21 SkylakeX", FAKE_JOB_SLEEP_MS: "1" },
      log: () => {},
    });
    assert.equal(report.failures.length, 1);
    assert.match(report.failures[0].error, /computed with GEMM "OpenBLAS 0\.3\.21 SkylakeX" but/);
    assert.deepEqual(await new ResultStore(join(dir, "store")).keys(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
