import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { activeShare, listeningPicks } from "../audio/segments.ts";
import { emptyScores } from "../audio/score.ts";
import { REFERENCE_GEMM } from "../kernels/blas.ts";
import { QUANTLAB_VERSION } from "../version.ts";
import { LADDER } from "../quantizers/offline/mod.ts";
import { prepareSource } from "../sources/mod.ts";
import { speechSource } from "../sources/speech.ts";
import { baseModelConfig } from "./base_model.ts";
import { equivalenceVerdict, stageAgreement } from "./fixed_latent.ts";
import { profileOf } from "./postrvq.ts";
import { nearestAnchor } from "./postrvq_anchors.ts";
import { continuousConfig, endToEndConfig, keyOf, MIN_ACTIVE } from "./postrvq_config.ts";
import type { SystemResult } from "./postrvq_context.ts";
import { POSTRVQ_PROFILES, postRvqProfileNamed } from "./profiles.ts";
import { combinedVerdict, compareSystems } from "./postrvq_report.ts";
import { rngFor } from "../random.ts";

Deno.test("stageAgreement counts identical codes per stage", () => {
  const a = new Int32Array([1, 2, 3, 4, 5, 6]), b = new Int32Array([1, 0, 3, 4, 5, 0]);
  assert.deepEqual(stageAgreement(a, b, 2), [1, 1 / 3]);
});

Deno.test("PostRVQ configs: the base model's codec and loss; end-to-end spends the second rung", () => {
  const p = POSTRVQ_PROFILES.quick;
  const c = continuousConfig(p), base = baseModelConfig();
  assert.deepEqual(c.quantizer, { kind: "none" });
  assert.deepEqual(c.codec, base.codec, "same codec, so the base checkpoint restores into it");
  assert.equal(c.data.kind, "speech");
  if (c.data.kind === "speech" && base.data.kind === "speech") {
    assert.equal(c.data.validationMinActive, MIN_ACTIVE);
    assert.equal(c.data.siSdrWeight, base.data.siSdrWeight);
    assert.equal(c.data.melWeight, base.data.melWeight);
  }
  assert.equal(c.train.stepsPerEpoch * c.train.epochs, p.finetuneSteps);
  const e2e = endToEndConfig(p);
  assert.equal(e2e.quantizer.kind, "rvq");
  if (e2e.quantizer.kind === "rvq") {
    assert.equal(e2e.quantizer.stages * e2e.quantizer.bitsPerStage, LADDER[1].bitsPerFrame);
    assert.equal(e2e.quantizer.dropout, 0.5);
  }
  assert.equal(e2e.train.commitment, 0.25);
  assert.equal(e2e.train.stepsPerEpoch, c.train.stepsPerEpoch, "the same step budget");
  assert.equal(profileOf({ profile: p, steps: 3 }).finetuneSteps, 3);
  assert.equal(profileOf({ profile: p, steps: null }).finetuneSteps, p.finetuneSteps);
  assert.throws(() => profileOf({ profile: p, steps: 0 }), /steps must be a positive integer/);
});

Deno.test("artefact keys declare a GEMM other than the reference, and keep the reference's keys", () => {
  const ref = keyOf("model", { a: 1 }, REFERENCE_GEMM);
  assert.match(ref, /^postrvq-model-[0-9a-f]{16}$/);
  assert.equal(
    ref,
    "postrvq-model-" + createHash("sha256").update(
      JSON.stringify({ what: "model", value: { a: 1 }, version: QUANTLAB_VERSION }),
    ).digest("hex").slice(0, 16),
    "the key made before the GEMM was part of it",
  );
  assert.notEqual(keyOf("model", { a: 1 }, "OpenBLAS 0.3.21 Cooperlake"), ref);
});

const system = (label: string, bps: number, mel: number[], f0: number[] = mel): SystemResult => ({
  label,
  role: "ours",
  bps,
  scores: { ...emptyScores(), melL1: mel, siSdr: mel.map((v) => -v), f0Agreement: f0 },
  latentMse: 0,
  usage: [],
  clips: [],
  computed: false,
});

Deno.test("combinedVerdict: every rate, some rates, none", () => {
  assert.equal(combinedVerdict(["reproduced", "reproduced"]), "reproduced");
  assert.equal(combinedVerdict(["reproduced", "inconclusive"]), "partially reproduced");
  assert.equal(combinedVerdict(["reproduced", "not reproduced"]), "partially reproduced");
  assert.equal(combinedVerdict(["inconclusive", "not reproduced"]), "not reproduced");
  assert.equal(combinedVerdict(["inconclusive", "inconclusive"]), "inconclusive");
  assert.equal(combinedVerdict([]), "inconclusive");
});

Deno.test("compareSystems: paired by segment, segments with an undefined score left out", () => {
  const rng = rngFor(1, "test");
  const base = Array.from({ length: 12 }, () => 2 + rng.uniform());
  const better = system("ours", 1500, base.map((v) => v - 0.5 + 0.01 * rng.uniform()));
  const codec2 = system("Codec2 1600", 1600, base);
  const s = compareSystems(better, codec2, "melL1", "lower");
  assert.equal(s.outcome, "reproduced");
  assert.equal(s.n, 12);
  assert.ok(s.ci[1]! < 0);
  assert.equal(compareSystems(codec2, better, "melL1", "lower").outcome, "not reproduced");
  // A segment without voiced frames has F0 agreement NaN: that pair is dropped, not the verdict.
  const f0a = system("a", 0, base, [0.9, NaN, 0.8, 0.85, 0.9, 0.95]);
  const f0b = system("b", 0, base, [0.5, 0.6, NaN, 0.55, 0.5, 0.6]);
  const f = compareSystems(f0a, f0b, "f0Agreement", "higher");
  assert.equal(f.n, 4);
  assert.equal(f.outcome, "reproduced");
});

Deno.test("nearestAnchor picks the Codec2 mode nearest in bit rate; equivalenceVerdict", () => {
  const anchors = [3200, 2400, 1600, 700].map((b) => system(`Codec2 ${b}`, b, [1]));
  anchors.push(system("PCA (continuous)", 0, [1]));
  assert.deepEqual(
    [4000, 2500, 1500, 500].map((b) => nearestAnchor(anchors, "Codec2", b).label),
    ["Codec2 3200", "Codec2 2400", "Codec2 1600", "Codec2 700"],
  );
  assert.throws(() => nearestAnchor(anchors, "Opus", 6000), /no anchor named "Opus…"/);
  assert.equal(equivalenceVerdict([-0.01, 0.02], 0.03), "reproduced");
  assert.equal(equivalenceVerdict([0.05, 0.1], 0.03), "not reproduced");
  assert.equal(equivalenceVerdict([-0.01, 0.1], 0.03), "inconclusive");
  assert.equal(equivalenceVerdict([null, null], 0.03), "inconclusive");
});

Deno.test("PostRVQ held-out set: windows of ≥ 80 % active speech from ≥ 3 speakers; listening clips 2–3 s from ≥ 3 speakers", async () => {
  for (const p of [POSTRVQ_PROFILES.quick, POSTRVQ_PROFILES.full]) {
    const config = continuousConfig(p);
    if (config.data.kind !== "speech") throw new Error("speech");
    await prepareSource(config.data);
    const source = speechSource(config.data, 0);
    const { count, length, x } = source.validation;
    assert.equal(count, p.validationSegments);
    const speakers = source.validationSources.map((s) => s.speaker);
    assert.ok(new Set(speakers).size >= 3, `${p.name}: ${[...new Set(speakers)]}`);
    for (let i = 0; i < count; i++) {
      const share = activeShare(x.subarray(i * length, (i + 1) * length), source.sampleRate);
      assert.ok(share >= 0.8, `${p.name} segment ${i}: ${share}`);
    }
    const listen = listeningPicks(speakers, p.listenRows);
    assert.ok(new Set(listen.map((i) => speakers[i])).size >= 3);
    const seconds = length / source.sampleRate;
    assert.ok(seconds >= 2 && seconds <= 3, `${seconds} s`);
  }
});

Deno.test("postRvqProfileNamed: the notebooks' profile parameter, refused naming the value", () => {
  assert.equal(postRvqProfileNamed("quick"), POSTRVQ_PROFILES.quick);
  assert.throws(
    () => postRvqProfileNamed("fast"),
    /profile must be one of quick, full, got "fast"/,
  );
});

Deno.test("notebooks 08 and 09: a parameters cell first, then the run, then what the codec reaches", async () => {
  const root = new URL("../../notebooks/", import.meta.url);
  for (
    const [file, table, names] of [
      ["08_postrvq.ipynb", "pr.postRvqTable(x);", ["profile", "seed", "steps", "recompute"]],
      ["09_fixed_latent.ipynb", "pr.fixedLatentSystems(x);", ["profile", "seed", "recompute"]],
    ] as const
  ) {
    const nb = JSON.parse(await Deno.readTextFile(new URL(file, root)));
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    const text = (c: { source: string[] | string }) =>
      Array.isArray(c.source) ? c.source.join("") : c.source;
    assert.deepEqual(code[0].metadata.tags, ["parameters"], file);
    for (const n of names) assert.match(text(code[0]), new RegExp(`var ${n} =`), `${file}: ${n}`);
    assert.match(text(code[1]), /await pr\.run/);
    assert.match(text(code[1]), /postRvqProfileNamed\(profile\)/);
    assert.equal(text(code[2]).trim(), table, `${file}: the first table is the systems table`);
  }
});
