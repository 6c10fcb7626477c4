import assert from "node:assert/strict";
import { PROGRESS_MIME, progressView, textBar, UPDATE_INTERVAL_MS } from "./progress.ts";
import { progressDetail, shortLabel } from "./experiments/common.ts";
import { runDetail } from "./mod.ts";
import type { EpochRecord } from "./result.ts";

type Sent = {
  type: string;
  content: { data: Record<string, unknown>; transient: { display_id: string } };
};

Deno.test("a progress view updates one display in place, throttled, and ends as one summary", async () => {
  const sent: Sent[] = [];
  const bar = progressView("grid", {
    broadcast: (type, content) => {
      sent.push({ type, content: content as Sent["content"] });
    },
  });
  for (let i = 1; i <= 50; i++) bar.update(i, 50, `job ${i}`);
  await new Promise((r) => setTimeout(r, UPDATE_INTERVAL_MS + 50));
  await bar.finish("50 runs: 50 from cache");
  bar.update(1, 2); // ignored after finish
  assert.equal(sent[0].type, "display_data");
  assert.ok(sent.slice(1).every((s) => s.type === "update_display_data"));
  const ids = new Set(sent.map((s) => s.content.transient.display_id));
  assert.equal(ids.size, 1, "every message addresses the same display");
  assert.ok(sent.length <= 4, `throttled: ${sent.length} messages for 50 updates`);
  assert.match(String(sent.at(-2)!.content.data["text/plain"]), /50\/50 · job 50/);
  const last = sent.at(-1)!.content.data;
  assert.equal(last["text/plain"], "grid: 50 runs: 50 from cache");
  assert.deepEqual(last[PROGRESS_MIME], {
    label: "grid",
    summary: "50 runs: 50 from cache",
    finished: true,
  });
});

Deno.test("outside the kernel a progress view neither throws nor touches Deno.jupyter", async () => {
  const bar = progressView("x", { quiet: true });
  bar.update(1, 3);
  await bar.finish("done");
  assert.equal(textBar(1, 4, 8), "[##------]");
});

Deno.test("the grid's progress detail names the epochs of the runs in flight", () => {
  const detail = progressDetail({
    event: "epoch",
    running: [{ index: 2, label: "train.seed=2", epoch: 3, epochs: 10 }],
    done: 1,
    total: 4,
    cached: 1,
    computed: 0,
    failed: 0,
    elapsedMs: 12_300,
    etaMs: undefined,
  });
  assert.match(detail, /1 cached/);
  assert.match(detail, /running seed=2 epoch 3\/10/);
});

Deno.test("grid progress: 'starting workers…' first, then elapsed and ETA, short job labels", () => {
  const base = { done: 0, total: 4, cached: 0, computed: 0, failed: 0, etaMs: undefined };
  const start = progressDetail({ ...base, event: "start", running: [], elapsedMs: 0 });
  assert.equal(start, "0 cached · starting workers…");
  assert.doesNotMatch(start, /eta \?/);
  const label = 'passer.kind="mste" quantizer.kind="vq" train.seed=3 data.bits=8 codec.hidden=128';
  const mid = progressDetail({
    ...base,
    event: "epoch",
    running: [{ index: 0, label, epoch: 2, epochs: 10 }, { index: 1, label, epoch: 3, epochs: 10 }],
    elapsedMs: 10_000,
  });
  // 5 epochs in 10 s over 2 workers: 15 epochs left in flight + 2 runs × 10 queued → 35 s.
  assert.match(mid, /10\.0s elapsed, eta 35\.0s/);
  assert.match(mid, /running mste vq seed=3 bits=8 hidde… epoch 2\/10; /);
  assert.ok(mid.length < 130, mid);
  assert.equal(shortLabel("train.seed=2"), "seed=2");
});

Deno.test("in-kernel run progress shows elapsed time and the ETA", () => {
  const rec = { epoch: 2, valMse: 0.01234 } as EpochRecord;
  assert.equal(runDetail(rec, 10, 4_000), "val MSE 0.0123 · 4.0s elapsed, eta 16.0s");
});
