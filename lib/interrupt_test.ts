import assert from "node:assert/strict";
import { currentSignal, interrupt, Interrupted, interruptible } from "./interrupt.ts";

Deno.test("an interrupt aborts the calls in flight with Interrupted and not later ones", async () => {
  const running = interruptible(
    (signal) =>
      new Promise<never>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
    () => "interrupted after 3/28 runs; stored results kept; re-run the cell to resume",
  );
  interrupt();
  await assert.rejects(running, (err: Error) => {
    assert.ok(err instanceof Interrupted);
    assert.equal(
      err.message,
      "interrupted after 3/28 runs; stored results kept; re-run the cell to resume",
    );
    return true;
  });
  assert.equal(currentSignal().aborted, false, "a fresh signal for the next cell");
  assert.equal(await interruptible(() => Promise.resolve(7)), 7);
  await assert.rejects(interruptible(() => Promise.reject(new Error("other"))), /other/);
});
