/**
 * Notebook 07: paper A's STE / commitment loss / mSTE / noise-approximation verdicts on real
 * speech, with a DAC-style conv codec (`lib/codecs/conv.ts`) trained by the ordinary trainer on
 * the speech source (`lib/sources/speech.ts`), the same passers as the proxy.
 *
 * [paper A] validated on LibriTTS with DAC: plain STE without commitment loss (CL) diverged at
 * once (max |embedding| above 1e15), mSTE trained stably and lowered MA-E, attached noise
 * approximation (NA) beat detached.
 * Here, at CPU scale [choice, every size in {@linkcode BASE} and the profile]: 8 kHz speech, a
 * 3-block conv codec (hop 32, 250 frames/s, 8-dimensional latent), RVQ of 4 stages × 6 bits in
 * two set-ups: DAC's l2-normalised (cosine) code choice, which ignores |z| so nothing but CL
 * bounds it, and a plain Euclidean RVQ. Plain STE is also run at larger learning rates (the
 * "conditions" groups), because at the base learning rate it may not diverge in a run this short.
 *
 * @module
 */
import { type ConfigInput, quantizerBits, type RvqConfig } from "../config.ts";
import { chart, type Display, group, table } from "../display.ts";
import type { FindingInput } from "../report/findings.ts";
import type { EpochRecord, RunResult } from "../result.ts";
import { lineChart, type MarkerSpec, seedBand } from "../plot.ts";
import { comparePaired } from "../stats.ts";
import { convBitrate, convFrameRate, convHopSamples, convParameterCount } from "../codecs/conv.ts";
import { listeningTable } from "../audio/display.ts";
import { ArtifactStore } from "../store/artifacts.ts";
import {
  bandOf,
  currentProfile,
  divergenceMarkers,
  isBounded,
  maeGrowth,
  mean,
  type Profile,
  runConfigs,
  sig,
  verdictOf,
} from "./common.ts";
import { listeningKey, SPEECH_JOB } from "./speech_job.ts";

/** Base learning rate of every group but the "conditions" ones. [choice: the proxy's Adam 1e-3] */
export const BASE_LEARNING_RATE = 1e-3;

/**
 * Data, codec and training shared by every run [choice]: segments of 1024 samples (0.13 s) in
 * batches of 8, loss = waveform L1 + log-magnitude STFT L1 at windows 64/256/1024; codec with stem
 * width 4, strides 2·4·4 (hop 32 → 250 frames/s at 8 kHz), one dilation per block, latent 8.
 * Validation size and steps come from the profile.
 */
export const BASE: ConfigInput = {
  data: {
    kind: "speech",
    sampleRate: 8000,
    segmentSamples: 1024,
    validationBatch: 8,
    waveformWeight: 1,
    spectralWeight: 1,
    spectralWindows: [64, 256, 1024],
    melWeight: 0,
  },
  codec: {
    kind: "conv",
    sampleRate: 8000,
    channels: 4,
    strides: [2, 4, 4],
    latentDim: 8,
    dilations: [1],
  },
  train: { batchSize: 8, learningRate: BASE_LEARNING_RATE, divergenceThreshold: 1e8 },
};

/** [paper]/[choice] labels of this notebook's config fields for `settingsTable`. */
export const SPEECH_LABELS: Record<string, string> = {
  "data.kind": "choice: real speech from Debian packages (paper A: LibriTTS)",
  "data.sampleRate": "choice: 8 kHz (DAC: 44.1 kHz)",
  "codec.kind": "paper A: DAC; here a DAC-shaped conv codec at CPU scale (choice of sizes)",
  "quantizer.kind": "paper A / DAC: RVQ",
  "quantizer.lookup": "DAC: l2-normalised (cosine) code choice; euclidean: choice",
  "passer.kind": "paper A: STE, mSTE, noise approximation",
  "passer.sigma": "choice: σ_E per tensor or per channel",
  "train.commitment": "paper A names commitment loss; β = 0.25 from DAC",
  "quantizer.learning": "paper A / DAC: codebook loss",
};

/** A quantizer set-up. */
export interface Setup {
  id: "dac" | "euclidean";
  label: string;
  quantizer: Partial<RvqConfig> & { kind: "rvq" };
}

/**
 * The two set-ups [choice: 4 stages × 6 bits, k-means init for both]: DAC's l2-normalised code
 * choice [paper A's DAC] (one low-dimensional code space for the whole RVQ rather than DAC's
 * per-stage projections) and a plain Euclidean RVQ.
 */
export const SETUPS: Setup[] = [
  {
    id: "dac",
    label: "DAC lookup (cosine)",
    quantizer: { kind: "rvq", stages: 4, bitsPerStage: 6, init: "kmeans", lookup: "cosine" },
  },
  {
    id: "euclidean",
    label: "Euclidean RVQ",
    quantizer: { kind: "rvq", stages: 4, bitsPerStage: 6, init: "kmeans" },
  },
];

/** A passer configuration. */
export interface PasserGroup {
  id: string;
  label: string;
  input: ConfigInput;
}

/** The five passer configurations of paper A [paper A; β = 0.25 from DAC]. */
export const PASSERS: PasserGroup[] = [
  { id: "ste", label: "STE, no CL", input: { passer: { kind: "ste" } } },
  {
    id: "ste-cl",
    label: "STE + CL (β = 0.25)",
    input: { passer: { kind: "ste" }, train: { commitment: 0.25 } },
  },
  { id: "mste", label: "mSTE, no CL", input: { passer: { kind: "mste" } } },
  { id: "na-attached", label: "NA attached", input: { passer: { kind: "na-attached" } } },
  { id: "na-detached", label: "NA detached", input: { passer: { kind: "na-detached" } } },
];

/**
 * Conditions under which plain STE might diverge at this scale, run in the DAC set-up only
 * [choice]: STE without CL at larger learning rates (3e-2, 1e-1), and STE + CL and mSTE at the
 * largest, to tell a passer's divergence from a learning rate that breaks any passer. Chosen
 * after a one-seed probe of 300 steps (2026-11-23, DAC lookup): STE without CL stayed below
 * max |e| = 10 at 1e-3 and 1e-2, peaked near 700 at 3e-2, and passed 1e8 at step 128 at 1e-1.
 */
export const CONDITIONS: PasserGroup[] = [
  {
    id: "ste-lr3e-2",
    label: "STE, no CL, lr 3e-2",
    input: { passer: { kind: "ste" }, train: { learningRate: 3e-2 } },
  },
  {
    id: "ste-lr1e-1",
    label: "STE, no CL, lr 1e-1",
    input: { passer: { kind: "ste" }, train: { learningRate: 1e-1 } },
  },
  {
    id: "ste-cl-lr1e-1",
    label: "STE + CL, lr 1e-1",
    input: { passer: { kind: "ste" }, train: { commitment: 0.25, learningRate: 1e-1 } },
  },
  {
    id: "mste-lr1e-1",
    label: "mSTE, no CL, lr 1e-1",
    input: { passer: { kind: "mste" }, train: { learningRate: 1e-1 } },
  },
];

/** A passer group of one set-up with its runs (one per seed, in seed order). */
export interface SpeechGroup extends PasserGroup {
  setup: Setup;
  runs: RunResult[];
}

/** Everything notebook 07 shows. */
export interface SpeechExperiment {
  profile: Profile;
  groups: SpeechGroup[];
}

function merge(...inputs: ConfigInput[]): ConfigInput {
  const out: Record<string, Record<string, unknown>> = {};
  for (const input of inputs) {
    for (const [k, v] of Object.entries(input)) out[k] = { ...out[k], ...v };
  }
  return out as ConfigInput;
}

/** The config of one group and seed under a profile. */
export function configOf(
  profile: Profile,
  setup: Setup,
  passer: PasserGroup,
  seed: number,
): ConfigInput {
  const p = profile.speech;
  return merge(
    BASE,
    { quantizer: setup.quantizer },
    passer.input,
    {
      data: { validationSegments: p.validationSegments, validationSamples: p.validationSamples },
      train: { epochs: p.epochs, stepsPerEpoch: p.stepsPerEpoch, seed },
    },
  );
}

/** Every group of the notebook: the five passers in both set-ups, then the conditions. */
export function groupsOf(): { setup: Setup; passer: PasserGroup }[] {
  return [
    ...SETUPS.flatMap((setup) => PASSERS.map((passer) => ({ setup, passer }))),
    ...CONDITIONS.map((passer) => ({ setup: SETUPS[0], passer })),
  ];
}

/** Run (or read from the cache) every group over the profile's speech seeds, in one grid. */
export async function run(profile: Profile = currentProfile()): Promise<SpeechExperiment> {
  const seeds = profile.speech.seeds;
  const all = groupsOf();
  const inputs = all.flatMap(({ setup, passer }) =>
    seeds.map((seed) => configOf(profile, setup, passer, seed))
  );
  const results = await runConfigs("07 real speech", inputs, { job: SPEECH_JOB });
  return {
    profile,
    groups: all.map(({ setup, passer }, i) => ({
      ...passer,
      setup,
      runs: results.slice(i * seeds.length, (i + 1) * seeds.length),
    })),
  };
}

/** The groups of one set-up (the conditions belong to the DAC set-up's `conditions` list). */
export function groupsOfSetup(x: SpeechExperiment, id: Setup["id"]): SpeechGroup[] {
  const conditions = new Set(CONDITIONS.map((c) => c.id));
  return x.groups.filter((g) => g.setup.id === id && !conditions.has(g.id));
}

/** The "conditions" groups (larger learning rates, DAC set-up). */
export function conditionGroups(x: SpeechExperiment): SpeechGroup[] {
  const conditions = new Set(CONDITIONS.map((c) => c.id));
  return x.groups.filter((g) => conditions.has(g.id));
}

function find(x: SpeechExperiment, setup: Setup["id"], id: string): SpeechGroup {
  const g = x.groups.find((g) => g.setup.id === setup && g.id === id);
  if (!g) throw new Error(`speech experiment: no group ${id} in set-up ${setup}`);
  return g;
}

/**
 * The set-up table: every size, the sample rate, frame rate and bits per second of each RVQ
 * depth, parameters, steps, and whether each is [paper A] or [choice].
 */
export function setupTable(x: SpeechExperiment): Display {
  const config = x.groups[0].runs[0].config;
  if (config.codec.kind !== "conv" || config.data.kind !== "speech") {
    throw new Error("setupTable: expected conv codec on speech");
  }
  const { codec, data, train } = config;
  const q = config.quantizer as RvqConfig;
  const p = x.profile.speech;
  const frameRate = convFrameRate(codec);
  const depths = Array.from(
    { length: q.stages },
    (_, d) => `${d + 1}: ${convBitrate(codec, (d + 1) * q.bitsPerStage)} b/s`,
  ).join(", ");
  const rows: { setting: string; value: string; source: string }[] = [
    {
      setting: "data",
      value: "real speech, Debian packages (README)",
      source: "choice (paper A: LibriTTS)",
    },
    { setting: "sample rate", value: `${data.sampleRate} Hz`, source: "choice (DAC: 44.1 kHz)" },
    {
      setting: "validation",
      value:
        `${data.validationSegments} segments × ${data.validationSamples} samples, held-out speakers`,
      source: "choice",
    },
    {
      setting: "training segments",
      value: `${train.batchSize} × ${data.segmentSamples} samples per step`,
      source: "choice",
    },
    {
      setting: "codec",
      value: `conv, stem ${codec.channels} ch, strides ${codec.strides.join("·")}, dilations ${
        codec.dilations.join(",")
      }, latent ${codec.latentDim}, ${codec.activation}; ${convParameterCount(codec)} parameters`,
      source: "choice (DAC's shape at CPU scale)",
    },
    {
      setting: "frame rate",
      value: `${frameRate} frames/s (hop ${convHopSamples(codec)})`,
      source: "choice (DAC: 86 frames/s)",
    },
    {
      setting: "quantizer",
      value:
        `RVQ ${q.stages} × ${q.bitsPerStage} bits, ${q.init} init, codebook loss w = ${train.codebookWeight}`,
      source: "paper A: RVQ (sizes: choice)",
    },
    { setting: "bits/s per RVQ depth", value: depths, source: "follows" },
    {
      setting: "lookups",
      value: SETUPS.map((s) => `${s.label}: ${s.quantizer.lookup ?? "euclidean"}`).join("; "),
      source: "paper A / DAC (cosine); choice (Euclidean)",
    },
    {
      setting: "loss",
      value: `${data.waveformWeight}·waveform L1 + ${data.spectralWeight}·log-STFT L1 (windows ${
        data.spectralWindows.join("/")
      }) + ${data.melWeight}·mel L1 + quantizer losses`,
      source: "choice (DAC: mel L1 + GAN)",
    },
    { setting: "commitment loss", value: "β = 0.25 in the +CL groups", source: "paper A / DAC" },
    {
      setting: "passers",
      value: PASSERS.map((g) => g.label).join("; "),
      source: "paper A",
    },
    {
      setting: "optimizer",
      value: `Adam lr ${BASE_LEARNING_RATE} (conditions: ${
        CONDITIONS.map((c) => c.input.train?.learningRate).join(", ")
      })`,
      source: "choice (DAC: AdamW 1e-4)",
    },
    {
      setting: "steps, seeds",
      value: `${p.epochs} × ${p.stepsPerEpoch} steps; seeds ${
        p.seeds.join(", ")
      } (profile ${x.profile.name})`,
      source: "choice",
    },
    {
      setting: "divergence",
      value: `non-finite loss or MA-E above ${train.divergenceThreshold}`,
      source: "choice",
    },
  ];
  return table(rows, { caption: "Set-up of the real-speech runs" });
}

const metricOf = (name: string) => (h: EpochRecord) => h.metrics?.[name];

/** Divergence marks at the step where each run stopped. */
function stepMarkers(g: SpeechGroup): MarkerSpec[] {
  return g.runs.flatMap((r) =>
    r.diverged
      ? [{ x: r.diverged.step, label: `${g.label}: diverged (step ${r.diverged.step})` }]
      : []
  );
}

/** MA-E of the training batch at every step, log axis, band over seeds, divergence marked. */
export function maeChart(groups: SpeechGroup[], title: string): Display {
  return chart(lineChart({
    title,
    series: groups.map((g) =>
      seedBand(
        g.label,
        g.runs.map((r) => {
          const s = r.steps!;
          return {
            x: s.maE.map((_, i) => (i + 1) * s.every),
            y: s.maE.map((v) => v ?? NaN),
          };
        }),
      )
    ),
    markers: groups.flatMap(stepMarkers),
    x: { label: "step", integer: true },
    y: { label: "MA-E (max |e| on the batch)", log: true },
  }));
}

/** SI-SDR and mel L1 on validation against epoch, one band over seeds per passer. */
export function qualityCharts(groups: SpeechGroup[], setup: string): Display {
  const one = (metric: string, title: string, axis: string, log: boolean) =>
    chart(lineChart({
      title: `${title} — ${setup}`,
      series: groups.map((g) => bandOf(g.label, g.runs, metricOf(metric))),
      markers: groups.flatMap((g) => divergenceMarkers(g.label, g.runs)),
      x: { label: "epoch", integer: true },
      y: { label: axis, log },
    }));
  return group(
    one("siSdr", "Validation SI-SDR", "SI-SDR (dB)", false),
    one("melL1", "Validation multi-scale mel L1", "mel L1", true),
  );
}

const fin = (r: RunResult, name: string) => (r.diverged ? NaN : r.final?.metrics?.[name] ?? NaN);

/** Final numbers per set-up and passer: MA-E, SI-SDR, mel L1, latent MSE, code use, divergence. */
export function summaryTable(x: SpeechExperiment): Display {
  return table(
    x.groups.map((g) => {
      const stages = (g.runs[0].config.quantizer as RvqConfig).stages;
      return {
        "set-up": g.setup.label,
        passer: g.label,
        seeds: g.runs.length,
        "final MA-E (max)": sig(Math.max(...g.runs.map((r) => r.final?.maE ?? NaN))),
        "peak step MA-E (max)": sig(Math.max(...g.runs.map(peakStepMaE))),
        "MA-E growth last/first (max)": sig(Math.max(...g.runs.map(maeGrowth))),
        "SI-SDR dB (mean)": sig(mean(g.runs.map((r) => fin(r, "siSdr")))),
        "mel L1 (mean)": sig(mean(g.runs.map((r) => fin(r, "melL1")))),
        "latent MSE (mean)": sig(mean(g.runs.map((r) => fin(r, "latentMse")))),
        "code perplexity per stage (mean)": Array.from(
          { length: stages },
          (_, s) => sig(mean(g.runs.map((r) => fin(r, `codePerplexity.${s}`)))),
        ).join(" / "),
        diverged: `${g.runs.filter((r) => r.diverged).length}/${g.runs.length}`,
      };
    }),
    {
      caption:
        "At the end of training, per set-up and passer (means over seeds; a diverged run is left out of means)",
    },
  );
}

/** Largest training-batch MA-E of a run (from the per-step trace; Infinity if non-finite). */
export function peakStepMaE(r: RunResult): number {
  const m = r.steps?.maE ?? [];
  return m.reduce<number>((a, v) => Math.max(a, v ?? Infinity), 0);
}

/** What "bounded" means in this notebook's verdicts (and the battery's speech check). */
export const BOUNDED =
  "no divergence and validation MA-E within 10× its first-epoch value [choice of threshold, as notebook 02]";

/** MA-E growth last/first epoch per seed, or where a seed diverged. */
export function growth(g: SpeechGroup): string {
  return g.runs.map((r) =>
    r.diverged ? `diverged at step ${r.diverged.step}` : `×${sig(maeGrowth(r))}`
  ).join(", ");
}

/**
 * Per-utterance values of a final metric (`siSdr` or `melL1`), paired by (seed, segment): from
 * `EpochRecord.segments`, or from the `<name>.seg.<i>` metric keys of results stored before
 * per-segment scores became arrays (same key, same numbers).
 */
function perUtterance(r: RunResult, name: string, bad: number): number[] {
  const n = (r.config.data as { validationSegments: number }).validationSegments;
  return Array.from({ length: n }, (_, i) => {
    const v = r.diverged
      ? bad
      : r.final?.segments?.[name]?.[i] ?? r.final?.metrics?.[`${name}.seg.${i}`];
    return v === undefined || v === null ? NaN : v;
  });
}

/**
 * The verdicts, per set-up: STE without CL unbounded (every seed), STE + CL bounded, mSTE bounded
 * (every seed), and NA attached's mel L1 lower than NA detached's (`comparePaired`, paired by
 * validation utterance within seed: n = seeds × segments).
 */
export function findings(x: SpeechExperiment): FindingInput[] {
  const out: FindingInput[] = [];
  for (const setup of SETUPS) {
    const ste = find(x, setup.id, "ste");
    const cl = find(x, setup.id, "ste-cl");
    const mste = find(x, setup.id, "mste");
    const att = find(x, setup.id, "na-attached");
    const det = find(x, setup.id, "na-detached");
    const where = `${setup.label}; ${
      x.profile.speech.epochs * x.profile.speech.stepsPerEpoch
    } steps, lr ${BASE_LEARNING_RATE}`;
    out.push({
      id: `A-speech-ste-unbounded-${setup.id}`,
      paper: "A",
      claim: "On speech, STE without commitment loss lets MA-E grow without bound (diverges).",
      metric: `per seed: not bounded, bounded = ${BOUNDED}; ${where}`,
      measured: {
        seeds: ste.runs.length,
        unbounded: ste.runs.filter((r) => !isBounded(r)).length,
        diverged: ste.runs.filter((r) => r.diverged).length,
        "MA-E growth per seed": growth(ste),
        "peak batch MA-E": sig(Math.max(...ste.runs.map(peakStepMaE))),
      },
      verdict: verdictOf(ste.runs.map((r) => !isBounded(r))),
    });
    out.push({
      id: `A-speech-cl-bounded-${setup.id}`,
      paper: "A",
      claim: "Commitment loss keeps STE's MA-E bounded on speech.",
      metric: `per seed: ${BOUNDED}; ${where}`,
      measured: {
        seeds: cl.runs.length,
        bounded: cl.runs.filter((r) => isBounded(r)).length,
        "MA-E growth per seed": growth(cl),
      },
      verdict: verdictOf(cl.runs.map((r) => isBounded(r))),
    });
    out.push({
      id: `A-speech-mste-bounded-${setup.id}`,
      paper: "A",
      claim: "mSTE stays bounded without commitment loss on speech.",
      metric: `per seed: ${BOUNDED}; ${where}`,
      measured: {
        seeds: mste.runs.length,
        bounded: mste.runs.filter((r) => isBounded(r)).length,
        "MA-E growth per seed": growth(mste),
      },
      verdict: verdictOf(mste.runs.map((r) => isBounded(r))),
    });
    const a = att.runs.flatMap((r) => perUtterance(r, "melL1", Infinity));
    const d = det.runs.flatMap((r) => perUtterance(r, "melL1", Infinity));
    const keep = a.map((_, i) => !Number.isNaN(a[i]) && !Number.isNaN(d[i]));
    const stats = comparePaired(a.filter((_, i) => keep[i]), d.filter((_, i) => keep[i]), {
      claim: "lower",
      statistic: "final validation mel L1 of one utterance",
      unit: "utterance (validation segment × seed)",
    });
    out.push({
      id: `A-speech-na-attached-beats-detached-${setup.id}`,
      paper: "A",
      claim: "Attached noise approximation reconstructs better than detached on speech.",
      metric:
        `paired by utterance (validation segment, within seed): final mel L1, attached − detached < 0; ${where}`,
      measured: {
        "attached mel L1": sig(mean(att.runs.map((r) => fin(r, "melL1")))),
        "detached mel L1": sig(mean(det.runs.map((r) => fin(r, "melL1")))),
        "attached SI-SDR dB": sig(mean(att.runs.map((r) => fin(r, "siSdr")))),
        "detached SI-SDR dB": sig(mean(det.runs.map((r) => fin(r, "siSdr")))),
        pairs: stats.n,
      },
      verdict: stats.outcome,
      stats,
      detail:
        "Utterances of one run share its training, so they are not independent replicates of " +
        "training: the interval speaks for these validation utterances, not for new training runs.",
    });
  }
  const conditions = conditionGroups(x);
  if (conditions.length) {
    out.push({
      id: "A-speech-ste-diverges-at-larger-lr",
      paper: "A",
      claim:
        "STE without commitment loss diverges on speech (checked at larger learning rates, DAC lookup).",
      metric:
        "per seed of every larger-learning-rate STE-without-CL group: diverged (non-finite loss or MA-E above the threshold)",
      measured: Object.fromEntries(
        conditions.map((g) => [
          g.label,
          `${g.runs.filter((r) => r.diverged).length}/${g.runs.length} diverged; growth ${
            growth(g)
          }; peak batch MA-E ${sig(Math.max(...g.runs.map(peakStepMaE)))}`,
        ]),
      ),
      verdict: verdictOf(
        plainSte(conditions).flatMap((g) => g.runs.map((r) => r.diverged !== null)),
      ),
    });
    const others = conditions.filter((g) => !plainSte([g]).length);
    out.push({
      id: "A-speech-cl-mste-bounded-at-larger-lr",
      paper: "A",
      claim:
        "Where plain STE diverges, commitment loss or mSTE keeps MA-E bounded (larger learning rate, DAC lookup).",
      metric: `per seed of ${others.map((g) => g.label).join(", ")}: ${BOUNDED}`,
      measured: Object.fromEntries(
        others.map((g) => [
          g.label,
          `${g.runs.filter((r) => isBounded(r)).length}/${g.runs.length} bounded; growth ${
            growth(g)
          }`,
        ]),
      ),
      verdict: verdictOf(others.flatMap((g) => g.runs.map((r) => isBounded(r)))),
    });
  }
  return out;
}

/** The groups that are plain STE without commitment loss. */
function plainSte(groups: SpeechGroup[]): SpeechGroup[] {
  return groups.filter((g) => g.input.passer?.kind === "ste" && !g.input.train?.commitment);
}

/**
 * The listening table of one set-up: the listening utterances (validation speakers the codec
 * never heard) as originals and as each stable passer's reconstruction (seed 0's run, decoded
 * when it was trained and kept in the artefact store under its key). A passer whose seed-0 run
 * diverged has no column.
 */
export async function listening(x: SpeechExperiment, setup: Setup["id"]): Promise<Display> {
  const store = new ArtifactStore();
  const groups = groupsOfSetup(x, setup).filter((g) => !g.runs[0].diverged);
  const artifacts = await Promise.all(
    groups.map((g) => store.getKeyed(listeningKey(g.runs[0].config))),
  );
  const missing = groups.filter((_, i) => !artifacts[i]).map((g) => g.label);
  if (missing.length) {
    throw new Error(
      `listening(${setup}): no stored reconstructions for ${missing.join(", ")}: ` +
        "recompute those runs (QUANTLAB_RECOMPUTE=1)",
    );
  }
  if (artifacts.length === 0) return table([{ note: `every passer diverged in ${setup}` }]);
  const first = artifacts[0]!;
  const meta = first.meta as { sampleRate: number; speakers: string[]; files: string[] };
  const [n, length] = first.tensors.original.shape;
  const rows = Array.from({ length: Math.min(n, x.profile.speech.listen) }, (_, i) => ({
    label: `${meta.speakers[i]} (${meta.files[i].split("/").at(-1)})`,
    clips: [first.tensors.original, ...artifacts.map((a) => a!.tensors.decoded)].map((t) =>
      (t.data as Float32Array).slice(i * length, (i + 1) * length)
    ),
  }));
  const label = SETUPS.find((s) => s.id === setup)!.label;
  return listeningTable({
    sampleRate: meta.sampleRate,
    systems: ["original", ...groups.map((g) => g.label)],
    rows,
    caption: `${label}: validation utterances of held-out speakers, original and each stable ` +
      `passer's reconstruction (seed ${groups[0].runs[0].config.train.seed}, hard quantizer, all ${
        quantizerBits(groups[0].runs[0].config.quantizer)
      } bits per frame)`,
  });
}
