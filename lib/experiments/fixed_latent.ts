/**
 * Notebook 09, the fixed latent [paper B]: every offline quantizer (`lib/quantizers/offline/`)
 * at every rung of the ladder on the one latent of the continuous model, evaluated per
 * validation segment; the standardization ablation and its scalar control. The pipeline is
 * `postrvq_pipeline.ts`.
 *
 * @module
 */
import { initBackend } from "../backend.ts";
import { chart, type Display, table } from "../display.ts";
import { lineChart } from "../plot.ts";
import {
  bitsPerSecond,
  LADDER,
  OFFLINE_FAMILIES,
  type OfflineFamily,
} from "../quantizers/offline/mod.ts";
import type { FindingInput } from "../report/findings.ts";
import {
  artifactStore,
  COMPARISON_RUNG,
  continuousModel,
  evaluateSystem,
  frameRateOf,
  mean,
  offlineQuantizer,
  type SystemResult,
} from "./postrvq_pipeline.ts";
import { compareSystems, fmt, RATE_METRICS, rateSeries } from "./postrvq_report.ts";
import { type PostRvqProfile, postRvqProfile } from "./profiles.ts";

/** Everything notebook 09 shows. */
export interface FixedLatentExperiment {
  profile: PostRvqProfile;
  frameRate: number;
  /** results[family][rung index]. */
  results: Record<OfflineFamily, SystemResult[]>;
  timings: Record<string, { ms: number; cached: boolean }>;
}

/** Run notebook 09: every offline quantizer at every rung on the continuous model's latent. */
export async function runFixedLatent(
  p: PostRvqProfile = postRvqProfile(),
  log: (msg: string) => void = console.log,
): Promise<FixedLatentExperiment> {
  await initBackend();
  const store = artifactStore();
  const continuous = await continuousModel(p, store, log);
  const frameRate = frameRateOf(continuous.model);
  const timings: FixedLatentExperiment["timings"] = {
    "continuous model (training)": {
      ms: continuous.model.trainMs,
      cached: !continuous.model.computed,
    },
  };
  const results = {} as Record<OfflineFamily, SystemResult[]>;
  for (const family of OFFLINE_FAMILIES) {
    results[family] = [];
    let fit = 0, cached = true;
    const t0 = performance.now();
    for (const rung of LADDER) {
      const { quantizer, fitMs, computed } = await offlineQuantizer(
        family,
        rung,
        continuous,
        p,
        store,
      );
      if (computed || !family.startsWith("rvq")) fit += fitMs;
      cached &&= !computed;
      const bps = bitsPerSecond(rung, frameRate);
      results[family].push(
        evaluateSystem(`${family} ${bps} bit/s`, continuous.model, quantizer, p, bps),
      );
    }
    timings[`${family}: fits`] = { ms: fit, cached };
    timings[`${family}: fits + evaluation`] = { ms: performance.now() - t0, cached: false };
    log(`09: ${family} done`);
  }
  continuous.model.parts.codec.dispose();
  return { profile: p, frameRate, results, timings };
}

/** Notebook 09: every quantizer family against bit/s on the one latent (means over segments). */
export function fixedLatentRateChart(
  x: FixedLatentExperiment,
  metric: keyof typeof RATE_METRICS,
): Display {
  return chart(lineChart({
    title: `${RATE_METRICS[metric]} against bit rate, every quantizer on one latent (means)`,
    // Means only: eight overlapping segment-spread bands hide the lines; the paired verdicts and
    // the table carry the uncertainty.
    series: OFFLINE_FAMILIES.map((family) => {
      const { lo: _lo, hi: _hi, ...line } = rateSeries(family, x.results[family], metric);
      return line;
    }),
    x: { label: "bit/s" },
    y: { label: RATE_METRICS[metric] },
  }));
}

/** Every quantizer at every rate: latent MSE, SI-SDR, mel L1, code usage per stage. */
export function fixedLatentTable(x: FixedLatentExperiment): Display {
  const rows = OFFLINE_FAMILIES.flatMap((family) =>
    x.results[family].map((r) => ({
      quantizer: family,
      "bit/s": r.bps,
      "latent MSE": r.latentMse,
      "SI-SDR (dB)": mean(r.siSdr),
      "mel L1": mean(r.melL1),
      "code usage (entropy / bits per stage)": r.usage.map((u) =>
        `${u.entropy.toFixed(1)}/${u.bits}`
      ).join(" "),
    }))
  );
  return table(rows, {
    caption: `Every quantizer at every rate on one fixed latent (n = ${
      x.results.rvq[0].siSdr.length
    } segments)`,
  });
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
        "SI-SDR (dB)": mean(r.siSdr),
        "mel L1": mean(r.melL1),
        "Δ mel L1 vs none [95% CI]": vsNone
          ? `${fmt(vsNone.mean)} [${fmt(vsNone.ci[0])}, ${fmt(vsNone.ci[1])}]`
          : "—",
      };
    })
  );
  return table(rows, { caption: "Standardization ablation (paired over validation segments)" });
}

/** The B- findings of notebook 09. */
export function fixedLatentFindings(x: FixedLatentExperiment): FindingInput[] {
  const i = LADDER.indexOf(COMPARISON_RUNG);
  const stage = x.results["rvq-stage"][i], none = x.results.rvq[i];
  const mel = compareSystems(stage, none, "melL1", "lower");
  const sdr = compareSystems(stage, none, "siSdr", "higher");
  const agreement = stageAgreement(
    x.results["rvq-scalar"][0].codes,
    x.results.rvq[0].codes,
    LADDER[0].stages,
  );
  const control = compareSystems(x.results["rvq-scalar"][i], none, "melL1", "lower");
  const margin = SCALAR_CONTROL_MARGIN * (control.baselineMean ?? 0);
  const [lo, hi] = control.ci;
  const controlVerdict = lo === null || hi === null
    ? "inconclusive"
    : lo >= -margin && hi <= margin
    ? "reproduced"
    : lo > 0 || hi < 0
    ? "not reproduced"
    : "inconclusive";
  const perRung = LADDER.map((_, k) =>
    compareSystems(x.results["rvq-stage"][k], x.results.rvq[k], "melL1", "lower").outcome
  );
  return [
    {
      id: "B-standardization-helps",
      paper: "B",
      claim:
        "The standardization step in RVQ improves mel L1 (paper B's demo: 1.46 → 1.37) and leaves SI-SDR unchanged.",
      metric: `mel L1 per validation segment at ${
        bitsPerSecond(COMPARISON_RUNG, x.frameRate)
      } bit/s, per-stage per-dimension standardization vs none, same k-means seeds; paired t. SI-SDR compared the same way.`,
      measured: {
        "mel L1 none": mel.baselineMean,
        "mel L1 standardized": mel.treatmentMean,
        "SI-SDR none": sdr.baselineMean,
        "SI-SDR standardized": sdr.treatmentMean,
        "SI-SDR outcome (higher)": sdr.outcome,
        "mel outcome per rung (high → low)": perRung.join(", "),
      },
      verdict: mel.outcome,
      detail: `mel L1 difference ${fmt(mel.mean)} [${fmt(mel.ci[0])}, ${
        fmt(mel.ci[1])
      }]; SI-SDR difference ${fmt(sdr.mean)} [${fmt(sdr.ci[0])}, ${fmt(sdr.ci[1])}]`,
      stats: mel,
    },
    {
      id: "B-scalar-standardization-is-a-no-op",
      paper: "B",
      claim:
        "A single scalar standardization per stage changes nothing for k-means (scale- and shift-equivariance); only the per-dimension step can matter.",
      metric: `mel L1 per validation segment at ${
        bitsPerSecond(COMPARISON_RUNG, x.frameRate)
      } bit/s, scalar control vs plain RVQ (same seeds): reproduced when the 95 % interval of the paired difference lies within ±${
        SCALAR_CONTROL_MARGIN * 100
      } % of plain RVQ's mean, not reproduced when it excludes 0 outside that band. Also the share of identical codes per stage at the top rate (k-means is equivariant in exact arithmetic; float rounding can flip a k-means++ draw or a near-tie, and a flip in one stage changes the later ones).`,
      measured: {
        "mel L1 plain": control.baselineMean,
        "mel L1 scalar control": control.treatmentMean,
        "Δ mel L1 CI low": lo,
        "Δ mel L1 CI high": hi,
        "paired-t outcome (lower)": control.outcome,
        "identical codes per stage (top rate)": agreement.map((a) => a.toFixed(3)).join(" "),
      },
      verdict: controlVerdict,
      detail: `mel L1 difference ${fmt(control.mean)} [${fmt(lo)}, ${fmt(hi)}], equivalence band ±${
        fmt(margin)
      }`,
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
