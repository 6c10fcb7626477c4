import assert from "node:assert/strict";
import { resolve } from "node:path";
import { resolveConfig } from "../config.ts";
import { resultKey } from "../grid/key.ts";
import { type Profile, PROFILES, smoothedMse } from "../experiments/common.ts";
import { buildQuantizer } from "../quantizers/mod.ts";
import { rngFor } from "../random.ts";
import { battery } from "./mod.ts";
import { CandidateError, loadCandidate } from "../custom/candidate.ts";
import { renderBatteryPage } from "./page.ts";
import { preflight } from "./preflight.ts";
import { storeEntries, withTempCache } from "./_testing.ts";
import { batteryJob } from "./job.ts";

const FIXTURES = resolve(import.meta.dirname!, "../../tests/fixtures/quantizers.ts");
const ref = (name: string) => `${FIXTURES}#${name}`;

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CandidateError, `a CandidateError, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("battery: a broken quantizer module is rejected with a message naming it and what is wrong", async () => {
  await rejects(
    loadCandidate(ref("neither")),
    /quantizers\.ts#neither: "neither" is an object with keys name, quantize, expected .*a passer.*or a quantizer, an object \{ name, doc, build\(bits, dim, rng, weights\) \}/,
  );
  const check = async (name: string, pattern: RegExp) =>
    await rejects(preflight(await loadCandidate(ref(name)), { bits: [8, 4] }), pattern);
  await check(
    "wrongBits",
    /#wrongBits: the quantizer built for 8 bits reports bits = 9, expected 8/,
  );
  await check("badDecode", /#badDecode: decodeCodes\(codes\) differs from q by up to 0\.5/);
  await check("floatCodes", /#floatCodes: quantize returned codes that are not integers/);
  await check(
    "wrongShape",
    /#wrongShape: quantize returned q of shape \[64,1\], expected \[64,8\]/,
  );
  await check("nanLoss", /#nanLoss: quantize's loss "commitment" is NaN/);
  const good = await loadCandidate(ref("rounding"));
  assert.equal(good.kind, "quantizer");
  assert.equal(good.name, "scalar rounding");
  await preflight(good, { bits: [8, 4, 6, 10] });
});

Deno.test("battery: a quantizer that codes more than its bits, or outside [0, 2^bits), is refused in the preflight and in every run", async () => {
  const check = async (name: string, pattern: RegExp) =>
    await rejects(preflight(await loadCandidate(ref(name)), { bits: [4] }), pattern);
  await check(
    "doubleBits",
    /#doubleBits: the code entropy measured on 128 frames is [5-7]\.\d+ bits per frame, more than the 4 bits it declares/,
  );
  await check(
    "negativeCodes",
    /#negativeCodes: quantize returned code -(9|10)\d\d, outside \[0, 2\^4\)/,
  );
  await check(
    "hiddenBits",
    /#hiddenBits: jointCodes is not one-to-one: codes \[.*\] and \[.*\] both map to 0/,
  );
  // Every run, with no preflight: the job itself fails and nothing is stored.
  const run = async (name: string) => {
    const c = await loadCandidate(ref(name));
    return batteryJob(resolveConfig({
      data: { validationFrames: 256 },
      quantizer: { kind: "custom", bits: 4, module: c.module, moduleSha256: c.sha256 },
      train: { epochs: 1, stepsPerEpoch: 2, batchSize: 64 },
    }));
  };
  await rejects(
    run("doubleBits"),
    /#doubleBits: the measured code entropy is [5-8]\.\d+ bits per frame at epoch 1, more than the 4 bits/,
  );
  await rejects(
    run("negativeCodes"),
    /#negativeCodes: quantize(Train)? returned code -(9|10)\d\d, outside/,
  );
  await rejects(run("hiddenBits"), /#hiddenBits: jointCodes is not one-to-one/);
  await run("rounding");
});

Deno.test("battery: a custom quantizer config needs module, checksum and bits; built-in kinds keep their keys", () => {
  const module = "file:///x.ts#y", moduleSha256 = "a".repeat(64);
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "custom", moduleSha256 } }),
    /config\.quantizer\.module = undefined is invalid: expected a module reference/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "custom", module, moduleSha256: "abc" } }),
    /config\.quantizer\.moduleSha256 = "abc"/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "custom", module, moduleSha256, bits: 0 } }),
    /config\.quantizer\.bits = 0/,
  );
  assert.throws(
    () => resolveConfig({ quantizer: { kind: "vq", module } as never }),
    /config\.quantizer\.module = "file:\/\/\/x\.ts#y" is invalid: expected no module/,
  );
  const custom = resolveConfig({ quantizer: { kind: "custom", bits: 6, module, moduleSha256 } });
  assert.deepEqual(custom.quantizer, { kind: "custom", bits: 6, module, moduleSha256 });
  assert.throws(
    () => buildQuantizer(custom.quantizer, 8, rngFor(0, "q")),
    /quantizer\.kind = "custom": file:\/\/\/x\.ts#y is not among the custom kinds given/,
  );
  // Keys of built-in kinds as computed before quantizer.kind = "custom" existed.
  const job = "lib/train.ts#train";
  const key = (input: Parameters<typeof resolveConfig>[0]) =>
    resultKey(resolveConfig(input), job, "key-test");
  assert.equal(key({}), "610bd6d6acb98c8dbd3e553b61d6b0af381f57a2592de39e855355409a45f7fc");
  assert.equal(
    key({ quantizer: { kind: "rvq" } }),
    "09579d1a06bca46d2124d30388e47627a4280e4b6559ad458398c9e4329349cd",
  );
  assert.equal(
    key({ quantizer: { kind: "fsq" } }),
    "f12d2b5450af0e2d48f817d93dd9c31d1fa24e517ee1617807bd207708c62ccb",
  );
  assert.equal(
    key({ passer: { kind: "mste" }, quantizer: { kind: "vq", bits: 4 } }),
    "44b667f4790288217f97dd039c781793112c06c0c1aac2934f219dbc7a09503b",
  );
});

Deno.test({
  name:
    "battery: a quick quantizer card has every section and computed verdicts; a second run computes nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempCache("quantlab-battery-q-", async (store) => {
      const profile: Profile = {
        ...PROFILES.quick,
        epochs: 2,
        stepsPerEpoch: 10,
        seeds: [0, 1],
        comparisonSeeds: [0, 1, 2],
        validationFrames: 256,
      };
      const options = { profile, budgets: [4, 8] };
      const card = await battery(ref("rounding"), options);
      assert.equal(card.candidate.kind, "quantizer");
      assert.equal(card.cells.length, 2 * 2 * 2, "VQ and the candidate, two passers, two budgets");
      for (const cell of card.cells.filter((c) => c.candidate)) {
        for (const r of cell.runs) {
          assert.equal(r.config.quantizer.kind, "custom");
          assert.equal((r.config.quantizer as { bits: number }).bits, cell.bits);
          assert.ok(r.final, "the candidate's run trained");
        }
      }
      assert.deepEqual(card.findings.map((f) => f.id), [
        "battery-scalar-rounding-stable-ste-cl",
        "battery-scalar-rounding-stable-mste",
        "battery-scalar-rounding-mse-vs-vq-ste-cl",
        "battery-scalar-rounding-mse-vs-vq-mste",
        "battery-scalar-rounding-code-usage",
      ]);
      for (const f of card.findings) {
        assert.ok(
          ["reproduced", "partially reproduced", "not reproduced", "inconclusive"].includes(
            f.verdict,
          ),
        );
      }
      // The comparison's numbers are those of the runs it names.
      const mine = card.focus[2].runs.map((r) => smoothedMse(r, profile.lastEpochs));
      const vq = card.focus[0].runs.map((r) => smoothedMse(r, profile.lastEpochs));
      assert.equal(card.comparisons[0].baseline, "VQ · STE + CL");
      assert.equal(card.comparisons[0].stats.treatmentMean, mine.reduce((a, b) => a + b) / 3);
      assert.equal(card.comparisons[0].stats.baselineMean, vq.reduce((a, b) => a + b) / 3);
      // Code usage: the verdict follows the entropies it reports.
      const usage = card.cells.filter((c) => c.candidate).map((c) =>
        c.runs.reduce((s, r) => s + r.final!.codeEntropy, 0) / c.runs.length /
        Math.min(c.bits, Math.log2(256))
      );
      const expected = usage.every((u) => u >= 0.5)
        ? "reproduced"
        : usage.some((u) => u >= 0.5)
        ? "partially reproduced"
        : "not reproduced";
      assert.equal(card.findings.at(-1)!.verdict, expected);

      const { page, problems } = renderBatteryPage(card, { commit: "test", date: "today" });
      assert.deepEqual(problems, []);
      assert.equal(page.file, "battery_scalar-rounding.html");
      for (
        const section of [
          "MA-E at B_q = 8",
          "Validation MSE at B_q = 8",
          "oracle floor",
          "bounded MA-E",
          "code entropy",
          "VQ · mSTE",
          "scalar rounding (candidate) · STE + CL",
          "trains stably with mSTE at every bit budget",
          "uses its bits",
        ]
      ) {
        assert.ok(page.html.includes(section), `the page has "${section}"`);
      }
      assert.equal(page.findings.length, 5);
      assert.ok(page.charts >= 4, `charts: ${page.charts}`);

      const files = () => storeEntries(store);
      const first = await files();
      assert.equal(
        first.length,
        2 * 2 * (2 * 2 + 1),
        "VQ and the candidate, two passers: 2 budgets × 2 sweep seeds, and comparison seed 2 at B_q = 8",
      );
      await battery(ref("rounding"), options);
      assert.deepEqual(await files(), first, "a second run computes nothing new");
    });
  },
});
