import assert from "node:assert/strict";
import { resolve } from "node:path";
import { resolveConfig } from "../config.ts";
import { type Profile, PROFILES, smoothedMse } from "../experiments/common.ts";
import { battery } from "./mod.ts";
import { CandidateError, loadCandidate } from "../custom/candidate.ts";
import { renderBatteryPage } from "./page.ts";
import { preflight, preflightInSubprocess } from "./preflight.ts";
import { storeEntries, withTempCache } from "./_testing.ts";

const FIXTURES = resolve(import.meta.dirname!, "../../tests/fixtures/passers.ts");
const ref = (name: string) => `${FIXTURES}#${name}`;

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CandidateError, `a CandidateError, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("battery: a broken module is rejected with a message naming it and what is wrong", async () => {
  await rejects(
    loadCandidate("tests/fixtures/passers.ts"),
    /passers\.ts: expected path\/to\/module\.ts#exportName/,
  );
  await rejects(loadCandidate("/nowhere/mine.ts#x"), /mine\.ts#x: cannot read \/nowhere\/mine\.ts/);
  await rejects(
    loadCandidate(ref("missing")),
    /passers\.ts#missing: the module has no export "missing" \(it exports .*"halfSte"/,
  );
  await rejects(
    loadCandidate(ref("notAPasser")),
    /#notAPasser: "notAPasser" is a number, expected a passer/,
  );
  await rejects(
    preflight(await loadCandidate(ref("throwing"))),
    /#throwing: the passer threw: boom/,
  );
  await rejects(
    preflight(await loadCandidate(ref("nanPasser"))),
    /#nanPasser: the passer returned non-finite values/,
  );
  await rejects(
    preflight(await loadCandidate(ref("wrongShape"))),
    /#wrongShape: the passer returned a tensor of shape \[64,1\], expected \[64,8\]/,
  );
  const good = await loadCandidate(ref("halfSte"));
  assert.equal(good.name, "half STE");
  assert.match(good.sha256, /^[0-9a-f]{64}$/);
  await preflight(good);
});

Deno.test("battery: a passer whose forward never returns fails the preflight after its timeout", async () => {
  const t0 = Date.now();
  await rejects(
    preflightInSubprocess(await loadCandidate(ref("hangs")), { timeoutMs: 4000 }),
    /#hangs: the preflight did not finish within 4 s \(a forward or quantize that never returns\?\)/,
  );
  assert.ok(Date.now() - t0 < 30_000);
  await preflightInSubprocess(await loadCandidate(ref("halfSte")));
  await rejects(
    preflightInSubprocess(await loadCandidate(ref("nanPasser"))),
    /#nanPasser: the passer returned non-finite values/,
  );
});

Deno.test({
  name: "battery: a run that never returns in a worker fails after --timeout, like the grid's",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempCache("quantlab-battery-timeout-", async (store) => {
      const profile: Profile = {
        ...PROFILES.quick,
        epochs: 1,
        stepsPerEpoch: 2,
        seeds: [0],
        comparisonSeeds: [0],
        validationFrames: 256,
      };
      await assert.rejects(
        battery(ref("hangsInWorkers"), { profile, budgets: [8], timeoutMs: 8000 }),
        /battery hangsInWorkers: 1 run\(s\) failed:[\s\S]*timed out after 8000 ms; worker killed/,
      );
      const kinds = [];
      for (const name of await storeEntries(store)) {
        kinds.push(JSON.parse(await Deno.readTextFile(`${store}/${name}`)).config.passer.kind);
      }
      assert.ok(
        kinds.length > 0 && !kinds.includes("custom"),
        "baselines stored, the hung run not",
      );
    });
  },
});

Deno.test("battery: the candidate's hash covers every local file it imports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quantlab-candidate-" });
  try {
    const helper = resolve(dir, "helpers", "scale.ts");
    await Deno.mkdir(resolve(dir, "helpers"));
    await Deno.writeTextFile(helper, "export const SCALE = 0.5;\n");
    await Deno.writeTextFile(
      resolve(dir, "mine.ts"),
      'import { SCALE } from "./helpers/scale.ts";\n' +
        "export const scaled = (z: unknown) => (SCALE ? z : z);\n",
    );
    const first = await loadCandidate(`${dir}/mine.ts#scaled`);
    assert.deepEqual(first.imports, [helper]);
    await Deno.writeTextFile(helper, "export const SCALE = 0.25;\n");
    const edited = await loadCandidate(`${dir}/mine.ts#scaled`);
    assert.notEqual(edited.sha256, first.sha256, "editing an imported file changes the hash");
    // A module importing only quantlab's lib/ keeps the hash of its own source (unchanged keys).
    const single = await loadCandidate(ref("halfSte"));
    assert.deepEqual(single.imports, []);
    const own = await crypto.subtle.digest("SHA-256", await Deno.readFile(FIXTURES));
    assert.equal(
      single.sha256,
      Array.from(new Uint8Array(own), (b) => b.toString(16).padStart(2, "0")).join(""),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("battery: a custom passer config needs its module and checksum, a built-in one refuses them", () => {
  assert.throws(
    () => resolveConfig({ passer: { kind: "custom" } }),
    /config\.passer\.module = undefined/,
  );
  assert.throws(
    () => resolveConfig({ passer: { kind: "ste", module: "file:///x.ts#y" } }),
    /config\.passer\.module = "file:\/\/\/x\.ts#y" is invalid: expected no module/,
  );
  assert.throws(
    () =>
      resolveConfig({ passer: { kind: "custom", module: "file:///x.ts#y", moduleSha256: "abc" } }),
    /config\.passer\.moduleSha256/,
  );
  // Built-in passers' resolved configs carry no module fields: their cache keys are unchanged.
  assert.deepEqual(Object.keys(resolveConfig().passer).sort(), [
    "kind",
    "sigma",
    "tauEnd",
    "tauStart",
  ]);
});

Deno.test({
  name:
    "battery: a quick card has every section and computed verdicts; baselines come from the cache",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempCache("quantlab-battery-", async (store) => {
      const profile: Profile = {
        ...PROFILES.quick,
        epochs: 2,
        stepsPerEpoch: 10,
        seeds: [0, 1],
        comparisonSeeds: [0, 1, 2],
        validationFrames: 256,
      };
      const options = { profile, budgets: [4, 8] };
      const card = await battery(ref("halfSte"), options);
      assert.equal(card.cells.length, 7 * 2, "six baselines and the candidate at two budgets");
      assert.equal(card.comparisons.length, 6);
      assert.deepEqual(card.findings.map((f) => f.id), [
        "battery-half-ste-stable-without-cl",
        "battery-half-ste-mse-vs-ste",
        "battery-half-ste-mse-vs-ste-cl",
        "battery-half-ste-mse-vs-mste",
        "battery-half-ste-mse-vs-na-detached",
        "battery-half-ste-mse-vs-na-attached",
        "battery-half-ste-mse-vs-soft-to-hard",
      ]);
      for (const f of card.findings) {
        assert.ok(
          ["reproduced", "partially reproduced", "not reproduced", "inconclusive"].includes(
            f.verdict,
          ),
        );
      }
      // Each comparison's numbers are those of the runs it names: the last epochs' mean MSE.
      const mine = card.focus.at(-1)!.runs.map((r) => smoothedMse(r, profile.lastEpochs));
      assert.equal(mine.length, 3, "the comparison seeds");
      assert.equal(card.comparisons[0].stats.treatmentMean, mine.reduce((a, b) => a + b) / 3);
      const { page, problems } = renderBatteryPage(card, { commit: "test", date: "today" });
      assert.deepEqual(problems, []);
      for (
        const section of [
          "MA-E at B_q = 8",
          "Validation MSE at B_q = 8",
          "oracle floor",
          "bounded MA-E",
          "code entropy",
          "trains stably without commitment loss",
        ]
      ) {
        assert.ok(page.html.includes(section), `the page has "${section}"`);
      }
      assert.equal(page.findings.length, 7);
      assert.ok(page.charts >= 4, `charts: ${page.charts}`);

      // A second candidate computes only its own runs: every baseline is read from the store.
      const files = () => storeEntries(store);
      const first = await files();
      const second = await battery("rotation", options);
      const added = (await files()).filter((n) => !first.includes(n));
      assert.equal(
        added.length,
        2 * 2 + 1,
        "only the rotation trick's runs are new (2 budgets × 2 sweep seeds, and comparison seed 2)",
      );
      assert.equal(second.candidate.name, "rotation");
      // And the same candidate again computes nothing.
      const again = await files();
      await battery(ref("halfSte"), options);
      assert.deepEqual((await files()).sort(), again.sort());
    });
  },
});
