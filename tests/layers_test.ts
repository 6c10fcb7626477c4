import assert from "node:assert/strict";
import { checkLayers, layerOf } from "../scripts/layers.ts";

Deno.test("lib/ has no import cycle and no import from a later layer (lib/mod.ts's order)", async () => {
  const report = await checkLayers();
  assert.ok(report.modules > 50, `read the graph (${report.modules} modules)`);
  assert.deepEqual(report.cycles, []);
  assert.deepEqual(report.violations, []);
});

Deno.test("layerOf: the longest rule wins, battery above experiments above the trainer", () => {
  assert.ok(layerOf("audio/display.ts") > layerOf("audio/stft.ts"));
  assert.ok(layerOf("battery/mod.ts") > layerOf("experiments/common.ts"));
  assert.ok(layerOf("experiments/common.ts") > layerOf("train.ts"));
  assert.ok(layerOf("train.ts") > layerOf("custom/mod.ts"));
  assert.equal(layerOf("nowhere.ts"), -1);
});
