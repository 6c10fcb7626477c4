import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { checkMemory, estimateTrainingBytes, MemoryEstimateError } from "./memory.ts";
import { createSession } from "./train.ts";
import { runGrid } from "./grid/run.ts";

const HUGE = { train: { batchSize: 2 ** 20 }, codec: { kind: "mlp" as const, hidden: 8192 } };

Deno.test("a config whose training step cannot fit is refused before training, with a hint", async () => {
  const config = resolveConfig(HUGE); // valid field by field
  assert.throws(() => checkMemory(config), (e: unknown) => {
    assert.ok(e instanceof MemoryEstimateError);
    assert.match(
      (e as Error).message,
      /needs about \d+(\.\d)? GiB for a training step .* more than the 4\.0 GiB .*reduce train\.batchSize to at most \d+ \(now 1048576\)/,
    );
    return true;
  });
  // The trainer refuses before allocating anything, and the grid before starting a worker.
  assert.throws(() => createSession(config), MemoryEstimateError);
  await assert.rejects(
    runGrid([{}, HUGE], { job: "tests/fixtures/fake_job.ts#sleepJob", log: () => {} }),
    /grid: entry 1: config needs about/,
  );
});

Deno.test("the estimate passes the project's configs and grows with batch and width", () => {
  const small = estimateTrainingBytes(resolveConfig({}))!;
  assert.ok(small.total < 64 * 2 ** 20, `default proxy: ${small.total} bytes`);
  checkMemory(resolveConfig({}));
  checkMemory(resolveConfig({ train: { batchSize: 4096 }, codec: { kind: "mlp", hidden: 1024 } }));
  const wide = estimateTrainingBytes(resolveConfig({ codec: { kind: "mlp", hidden: 1024 } }))!;
  assert.ok(wide.total > small.total);
  assert.equal(estimateTrainingBytes(resolveConfig({ data: { kind: "speech" } })), null);
});
