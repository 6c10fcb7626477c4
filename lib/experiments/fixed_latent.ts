/**
 * Notebook 09, the fixed latent [paper B]: every offline quantizer (`lib/quantizers/offline/`)
 * at every rung of the ladder on the one latent of the base continuous speech model, evaluated
 * per held-out segment by the trainer's `Session.evaluate`; the standardization ablation and its
 * scalar control; the anchors (Codec2, Opus, the PCA transform code) at the nearest rates. The
 * pipeline is `postrvq_pipeline.ts`.
 *
 * @module
 */
import { initBackend, tf } from "../backend.ts";
import type { Display } from "../display.ts";
import { table } from "../display.ts";
import { foldFrames } from "../codecs/mod.ts";
import {
  bitsPerSecond,
  LADDER,
  OFFLINE_FAMILIES,
  type OfflineFamily,
  type OfflineQuantizer,
} from "../quantizers/offline/mod.ts";
import type { FindingInput } from "../report/findings.ts";
import { anchorResults } from "./postrvq_anchors.ts";
import { COMPARISON_RUNG } from "./postrvq_config.ts";
import { type PipelineContext, pipelineContext, type SystemResult } from "./postrvq_context.ts";
import { baseLatents, evaluateOffline, mean, offlineQuantizer } from "./postrvq_pipeline.ts";
import {
  combinedVerdict as combinedVerdictOf,
  compareSystems,
  fmt,
  interval,
  listening,
  type Metric,
  METRICS,
  rateChart,
  rateSeries,
  systemsTable,
} from "./postrvq_report.ts";
import { type PostRvqProfile, postRvqProfile } from "./profiles.ts";

/** Everything notebook 09 shows. */
export interface FixedLatentExperiment {
  ctx: PipelineContext;
  continuous: SystemResult;
  /** results[family][rung index]. */
  results: Record<OfflineFamily, SystemResult[]>;
  /** Codes of the held-out latents at the top rung, per RVQ variant (scalar control check). */
  topCodes: { rvq: Int32Array; "rvq-scalar": Int32Array };
  anchors: SystemResult[];
  timings: Record<string, { ms: number; cached: boolean }>;
}

/** The held-out latents through the base encoder, [frames, D]. */
function heldOutLatents(ctx: PipelineContext): { data: Float32Array; count: number; dim: number } {
  const parts: Float32Array[] = [];
  let count = 0, dim = 0;
  for (const batch of ctx.source.validationBatches()) {
    const z = tf.tidy(() =>
      foldFrames(ctx.base.parts.codec.encode(tf.tensor(batch.x, [...batch.xShape])))
    );
    parts.push(Float32Array.from(z.dataSync() as Float32Array));
    count += z.shape[0];
    dim = z.shape[1];
    z.dispose();
  }
  const data = new Float32Array(count * dim);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, count, dim };
}

/** Run notebook 09: every offline quantizer at every rung on the base model's latent. */
export async function runFixedLatent(
  options: { profile?: PostRvqProfile; seed?: number; log?: (msg: string) => void } = {},
): Promise<FixedLatentExperiment> {
  await initBackend();
  const log = options.log ?? console.log;
  const ctx = await pipelineContext(options.profile ?? postRvqProfile(), {
    seed: options.seed,
    log,
  });
  const t0 = performance.now();
  const continuous = await evaluateOffline(ctx, "continuous (base model)", null);
  const timings: FixedLatentExperiment["timings"] = {
    "continuous (base model) evaluation": {
      ms: performance.now() - t0,
      cached: !continuous.computed,
    },
  };
  const latents = await baseLatents(ctx);
  const results = {} as Record<OfflineFamily, SystemResult[]>;
  const top: Partial<Record<OfflineFamily, OfflineQuantizer>> = {};
  for (const family of OFFLINE_FAMILIES) {
    results[family] = [];
    let fit = 0, fitCached = true, evalCached = true;
    const t1 = performance.now();
    for (const rung of LADDER) {
      const q = await offlineQuantizer(ctx, family, rung, latents);
      if (rung === LADDER[0]) top[family] = q.q;
      if (q.computed || !family.startsWith("rvq")) fit += q.fitMs;
      fitCached &&= !q.computed;
      const bps = bitsPerSecond(rung, ctx.frameRate);
      // Only the comparison rate is played (fixedLatentListening): no clips decoded for the rest.
      const r = await evaluateOffline(ctx, `${family} ${bps}`, q, {
        clips: rung === COMPARISON_RUNG,
      });
      evalCached &&= !r.computed;
      results[family].push(r);
    }
    timings[`${family}: fits`] = { ms: fit, cached: fitCached };
    timings[`${family}: fits + evaluation`] = {
      ms: performance.now() - t1,
      cached: fitCached && evalCached,
    };
    log(`09: ${family} done`);
  }
  const z = heldOutLatents(ctx);
  const topCodes = {
    rvq: top.rvq!.encode(z),
    "rvq-scalar": top["rvq-scalar"]!.encode(z),
  };
  const t2 = performance.now();
  const anchors = await anchorResults(ctx);
  timings["anchors (Codec2, Opus, PCA)"] = {
    ms: performance.now() - t2,
    cached: anchors.every((a) => !a.computed),
  };
  return { ctx, continuous, results, topCodes, anchors, timings };
}

/** Notebook 09: every quantizer family against bit/s on the one latent, with the anchors. */
export function fixedLatentRateChart(x: FixedLatentExperiment, metric: Metric): Display {
  return rateChart(
    `${METRICS[metric].axis} against bit rate, every quantizer on one latent (means)`,
    metric,
    // Means only: eight overlapping segment-spread bands hide the lines; the paired verdicts and
    // the table carry the uncertainty.
    OFFLINE_FAMILIES.map((family) => rateSeries(family, x.results[family], metric, false)),
    x.anchors,
    [],
    [x.continuous, ...x.anchors.filter((a) => a.bps === 0)],
  );
}

/** The opening table: the base model, every family at the comparison rate, the anchors. */
export function fixedLatentSystems(x: FixedLatentExperiment): Display {
  const i = LADDER.indexOf(COMPARISON_RUNG);
  return systemsTable(
    [x.continuous, ...OFFLINE_FAMILIES.map((f) => x.results[f][i]), ...x.anchors],
    `The base model, every quantizer at ${
      bitsPerSecond(COMPARISON_RUNG, x.ctx.frameRate)
    } bit/s, and the anchors: means over ${x.continuous.scores.siSdr.length} held-out windows of active speech`,
  );
}

/** Every quantizer at every rate: latent MSE, SI-SDR, mel L1, F0, level, code usage per stage. */
export function fixedLatentTable(x: FixedLatentExperiment): Display {
  const rows = OFFLINE_FAMILIES.flatMap((family) =>
    x.results[family].map((r) => ({
      quantizer: family,
      "bit/s": r.bps,
      "latent MSE": r.latentMse,
      "SI-SDR (dB)": mean(r.scores.siSdr),
      "mel L1": mean(r.scores.melL1),
      "F0 agreement": mean(r.scores.f0Agreement),
      "level (dB)": mean(r.scores.levelDb),
      "code usage (entropy / bits per stage)": r.usage.map((u) =>
        `${u.entropy.toFixed(1)}/${u.bits}`
      ).join(" "),
    }))
  );
  return table(rows, {
    caption:
      `Every quantizer at every rate on one fixed latent (n = ${x.continuous.scores.siSdr.length} segments)`,
  });
}

/** The listening table of 09: every family at the comparison rate and the nearest anchors. */
export function fixedLatentListening(x: FixedLatentExperiment): Display {
  const i = LADDER.indexOf(COMPARISON_RUNG);
  const bps = bitsPerSecond(COMPARISON_RUNG, x.ctx.frameRate);
  const near = x.anchors.filter((a) =>
    a.label.startsWith("Opus") || a.label === "Codec2 2400" || a.label === `PCA + scalar ${bps}`
  );
  return listening(
    x.ctx,
    [x.continuous, ...OFFLINE_FAMILIES.map((f) => x.results[f][i]), ...near],
    `Every quantizer at ${bps} bit/s on the same latent: listen for roughness and lost pitch between the families, against Codec2 2400, Opus 6000 and the PCA code at ${bps} bit/s.`,
  );
}

/** The standardization ablation at every rung: none, per stage per dimension, global, scalar. */
export function ablationTable(x: FixedLatentExperiment): Display {
  const rows = LADDER.flatMap((_rung, i) =>
    (["rvq", "rvq-stage", "rvq-global", "rvq-scalar"] as const).map((family) => {
      const r = x.results[family][i];
      const vsNone = family === "rvq"
        ? null
        : compareSystems(r, x.results.rvq[i], "melL1", "lower");
      return {
        "bit/s": r.bps,
        standardization: {
          rvq: "none",
          "rvq-stage": "per stage, per dimension",
          "rvq-global": "global, per dimension",
          "rvq-scalar": "per stage, scalar (control)",
        }[family],
        "latent MSE": r.latentMse,
        "SI-SDR (dB)": mean(r.scores.siSdr),
        "mel L1": mean(r.scores.melL1),
        "Δ mel L1 vs none [95% CI]": vsNone ? interval(vsNone) : "—",
      };
    })
  );
  return table(rows, { caption: "Standardization ablation (paired over held-out segments)" });
}

/**
 * The scalar control's verdict [choice]: reproduced when the 95 % interval of the paired mel L1
 * difference lies within ±`margin` (absolute), not reproduced when it excludes 0 outside that
 * band, else inconclusive.
 */
export function equivalenceVerdict(
  ci: [number | null, number | null],
  margin: number,
): "reproduced" | "not reproduced" | "inconclusive" {
  const [lo, hi] = ci;
  if (lo === null || hi === null) return "inconclusive";
  if (lo >= -margin && hi <= margin) return "reproduced";
  if (lo > margin || hi < -margin) return "not reproduced";
  return "inconclusive";
}

/** The B- findings of notebook 09. */
export function fixedLatentFindings(x: FixedLatentExperiment): FindingInput[] {
  const i = LADDER.indexOf(COMPARISON_RUNG);
  const bps = bitsPerSecond(COMPARISON_RUNG, x.ctx.frameRate);
  const stage = x.results["rvq-stage"][i], none = x.results.rvq[i];
  const mel = compareSystems(stage, none, "melL1", "lower");
  const sdr = compareSystems(stage, none, "siSdr", "higher");
  const agreement = stageAgreement(x.topCodes["rvq-scalar"], x.topCodes.rvq, LADDER[0].stages);
  const control = compareSystems(x.results["rvq-scalar"][i], none, "melL1", "lower");
  const margin = SCALAR_CONTROL_MARGIN * (control.baselineMean ?? 0);
  const controlVerdict = equivalenceVerdict(control.ci, margin);
  const perRung = LADDER.map((_, k) =>
    compareSystems(x.results["rvq-stage"][k], x.results.rvq[k], "melL1", "lower").outcome
  );
  // Beyond paper B: the best learned quantizer at each rate against the linear code at equal bits.
  const best = LADDER.map((_, k) =>
    OFFLINE_FAMILIES.map((f) => x.results[f][k]).reduce((a, b) =>
      mean(b.scores.melL1) < mean(a.scores.melL1) ? b : a
    )
  );
  const linear = best.map((b) => {
    const pca = x.anchors.find((a) => a.label === `PCA + scalar ${b.bps}`);
    if (!pca) throw new Error(`fixedLatentFindings: no PCA + scalar anchor at ${b.bps} bit/s`);
    return { ours: b, pca, stats: compareSystems(b, pca, "melL1", "lower") };
  });
  return [
    {
      id: "B-standardization-helps",
      paper: "B",
      claim:
        "The standardization step in RVQ improves mel L1 (paper B's demo: 1.46 → 1.37) and leaves SI-SDR unchanged.",
      metric:
        `mel L1 per held-out segment at ${bps} bit/s, per-stage per-dimension standardization vs none, same k-means seeds; paired t. SI-SDR compared the same way.`,
      measured: {
        "mel L1 none": mel.baselineMean,
        "mel L1 standardized": mel.treatmentMean,
        "SI-SDR none": sdr.baselineMean,
        "SI-SDR standardized": sdr.treatmentMean,
        "SI-SDR outcome (higher)": sdr.outcome,
        "mel outcome per rung (high → low)": perRung.join(", "),
      },
      verdict: mel.outcome,
      detail: `mel L1 difference ${interval(mel)}; SI-SDR difference ${interval(sdr)}`,
      stats: mel,
    },
    {
      id: "B-scalar-standardization-is-a-no-op",
      paper: "B",
      claim:
        "A single scalar standardization per stage changes nothing for k-means (scale- and shift-equivariance); only the per-dimension step can matter.",
      metric:
        `mel L1 per held-out segment at ${bps} bit/s, scalar control vs plain RVQ (same seeds): reproduced when the 95 % interval of the paired difference lies within ±${
          SCALAR_CONTROL_MARGIN * 100
        } % of plain RVQ's mean, not reproduced when it excludes that band. Also the share of identical codes per stage at the top rate on the held-out latents (k-means is equivariant in exact arithmetic; float rounding can flip a k-means++ draw or a near-tie, and a flip in one stage changes the later ones).`,
      measured: {
        "mel L1 plain": control.baselineMean,
        "mel L1 scalar control": control.treatmentMean,
        "Δ mel L1 CI low": control.ci[0],
        "Δ mel L1 CI high": control.ci[1],
        "paired-t outcome (lower)": control.outcome,
        "identical codes per stage (top rate)": agreement.map((a) => a.toFixed(3)).join(" "),
      },
      verdict: controlVerdict,
      detail: `mel L1 difference ${interval(control)}, equivalence band ±${fmt(margin)}`,
    },
    {
      id: "B-new-best-quantizer-beats-linear",
      paper: "B",
      claim:
        "Beyond paper B: at every rate, the best offline quantizer on the learned latent beats the linear transform code (PCA + scalar quantization) at equal bits (tested: lower mel L1).",
      metric:
        "Per rung, the family with the lowest mean mel L1 against PCA + scalar at the same bit rate, mel L1 per held-out segment, paired t; combined over rungs (reproduced: every rung; partially: some). Picking the best family first favours ours; the per-rung intervals are in the detail.",
      measured: Object.fromEntries(linear.flatMap((l) => [
        [`${l.ours.label} vs ${l.pca.label}: Δ mel L1 [95 % CI]`, interval(l.stats)],
        [`${l.ours.label} vs ${l.pca.label}: outcome`, l.stats.outcome],
      ])),
      verdict: combinedVerdictOf(linear.map((l) => l.stats.outcome)),
      detail: linear.map((l) =>
        `${l.ours.label} ${fmt(l.stats.treatmentMean)} vs ${l.pca.label} ${
          fmt(l.stats.baselineMean)
        } (n = ${l.stats.n})`
      ).join("; "),
    },
  ];
}

/** Share of frames whose code agrees, per stage, between two code arrays [frames, stages]. */
export function stageAgreement(a: Int32Array, b: Int32Array, stages: number): number[] {
  if (a.length !== b.length) throw new Error(`stageAgreement: ${a.length} vs ${b.length} codes`);
  const frames = a.length / stages;
  return Array.from({ length: stages }, (_, s) => {
    let same = 0;
    for (let f = 0; f < frames; f++) if (a[f * stages + s] === b[f * stages + s]) same++;
    return frames ? same / frames : 1;
  });
}

/** Equivalence band of the scalar control, as a fraction of plain RVQ's mel L1. [choice] */
export const SCALAR_CONTROL_MARGIN = 0.01;
