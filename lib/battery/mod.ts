/**
 * The battery: a gradient passer judged against every baseline on the proxy, with a report card.
 *
 * `battery("path/to/mine.ts#myPasser")` (or a built-in passer kind such as `"rotation"`, or a
 * {@linkcode BatteryEntry}: a built-in estimator given by its config, as notebook 11's league
 * runs DiVeQ, SimVQ, Huh et al.'s and Gumbel straight-through) runs
 * the candidate at every bit budget of the sweep (notebook 05) and compares it with STE,
 * STE + CL, mSTE, NA detached/attached and soft-to-hard, whose runs come from the result cache
 * when the paper-A notebooks have run (the configs are theirs, so the keys match). Only the
 * candidate's runs are computed, over the worker pool, resumable like any grid.
 *
 * What is compared [choice, shown on the card]:
 * - at every budget B_q of the sweep, over the sweep's seeds: final MSE against the oracle floor
 *   of each seed's own source, stability (bounded MA-E, no divergence), code usage;
 * - at the focus budget (default B_q = B, the source's bits), over the profile's comparison
 *   seeds (those of notebooks 02–03): MA-E curves, and a paired comparison of validation MSE
 *   (mean of the last epochs, `compareMse`) with every baseline under the rule of `lib/stats.ts`.
 *
 * A quantizer module (an export with `build(bits, dim, rng, weights)`, see `lib/custom/candidate.ts`) is run
 * at every budget with {@linkcode QUANTIZER_PASSERS} next to the built-in VQ with the same
 * passers (the sweep's and notebooks 02–04's cached runs), with verdicts: stable with each
 * passer at every budget, paired MSE against VQ at the focus budget, code usage against B_q.
 *
 * `speech: true` adds notebook 07's short real-speech check for a passer (`speech.ts`).
 *
 * Every verdict is computed from the runs.
 *
 * @example
 * ```ts ignore
 * import { battery, batteryReport } from "./lib/battery/mod.ts";
 * const card = await battery("rotation");
 * batteryReport(card); // the report card as notebook output
 * ```
 *
 * @module
 */
import { type ConfigInput, resolveConfig, sourceBits } from "../config.ts";
import { oracleFloor, SimulatedSource } from "../sources/mod.ts";
import { BUDGETS as SWEEP_BUDGETS, sweepProfile } from "../experiments/sweep.ts";
import {
  compareMse,
  currentProfile,
  forComparison,
  type GroupRuns,
  overSeeds,
  type Profile,
  runConfigs,
} from "../experiments/common.ts";
import { BUILTIN_PASSER_KINDS, type PasserKind } from "../config.ts";
import {
  type Candidate,
  CandidateError,
  loadCandidate,
  type QuantizerCandidate,
} from "../custom/candidate.ts";
import { speechCheck } from "./speech.ts";
import { batteryFindings } from "./card.ts";
import {
  BASELINES,
  type BatteryCandidate,
  type BatteryCell,
  type BatteryResult,
  candidateLabel,
  QUANTIZER_PASSERS,
  VQ_LABEL,
} from "./result.ts";

export * from "./result.ts";
export { batteryFindings, batteryReport } from "./card.ts";
import { BATTERY_JOB } from "./job.ts";
import { preflightInSubprocess } from "./preflight.ts";
export { PREFLIGHT_TIMEOUT_MS } from "./preflight.ts";

/** Options of {@linkcode battery}. */
export interface BatteryOptions {
  /** Profile (default: `QUANTLAB_PROFILE`, else full). */
  profile?: Profile;
  /** Bit budgets B_q. Default: the sweep's. */
  budgets?: number[];
  /** The budget of the MA-E curves and paired MSE comparisons. Default: the source's B. [choice] */
  focusBits?: number;
  /** Directory relative module references resolve against. Default: `Deno.cwd()`. */
  cwd?: string;
  /**
   * A quantizer candidate runs with these passers (labels of {@linkcode BASELINES}), next to the
   * built-in VQ with the same ones. Default {@linkcode QUANTIZER_PASSERS}.
   */
  passers?: string[];
  /** Add notebook 07's short real-speech check (a passer candidate only; `lib/battery/speech.ts`). */
  speech?: boolean;
  /**
   * Fail a run (its worker killed) that takes longer than this, as the grid's `jobTimeoutMs`
   * does. Default {@linkcode RUN_TIMEOUT_MS}; 0 or Infinity: no limit.
   */
  timeoutMs?: number;
  /**
   * Fail the preflight (run in a subprocess) when it takes longer than this: a `forward` or
   * `quantize` that never returns. Default {@linkcode PREFLIGHT_TIMEOUT_MS}.
   */
  preflightTimeoutMs?: number;
}

/** Default per-run limit of the battery: far above a full-profile proxy run here. [choice] */
export const RUN_TIMEOUT_MS = 3600_000;

/**
 * A built-in estimator given by its config rather than by one passer kind: a passer with its
 * options, a quantizer option (a codebook reparameterisation) or loss weights, as the estimator
 * league (`lib/experiments/league.ts`) runs them. Its `input` is applied at every budget; a
 * `quantizer` section in it keeps its fields and takes the budget's `bits`.
 */
export interface BatteryEntry {
  name: string;
  doc: string;
  input: ConfigInput;
}

/** Resolve what `target` names: a built-in passer kind, a config entry or a module reference. */
async function candidateOf(
  target: string | BatteryEntry,
  cwd: string,
): Promise<{ info: BatteryCandidate; input: ConfigInput; job?: string; loaded?: Candidate }> {
  if (typeof target !== "string") {
    resolveConfig(structuredClone(target.input)); // a bad entry fails here, naming the field
    return {
      info: { name: target.name, doc: target.doc, ref: target.name, builtin: true, kind: "passer" },
      input: target.input,
    };
  }
  if ((BUILTIN_PASSER_KINDS as readonly string[]).includes(target)) {
    const kind = target as PasserKind;
    return {
      info: {
        name: kind,
        doc: `built-in passer "${kind}" (lib/passers.ts)`,
        ref: kind,
        builtin: true,
        kind: "passer",
      },
      input: { passer: { kind } },
    };
  }
  const loaded = await loadCandidate(target, cwd);
  return {
    info: {
      name: loaded.name,
      doc: loaded.doc,
      ref: loaded.module,
      builtin: false,
      kind: loaded.kind,
      sha256: loaded.sha256,
    },
    input: loaded.kind === "passer"
      ? { passer: { kind: "custom", module: loaded.module, moduleSha256: loaded.sha256 } }
      : {},
    job: BATTERY_JOB,
    loaded,
  };
}

/**
 * Run the battery for `target` (`"path.ts#export"` or a built-in passer kind) and return its
 * results and computed verdicts. A module that cannot be loaded, has the wrong shape, throws or
 * returns non-finite values fails here, before any run, with a message naming it.
 */
export async function battery(
  target: string | BatteryEntry,
  options: BatteryOptions = {},
): Promise<BatteryResult> {
  const profile = options.profile ?? currentProfile();
  const budgets = options.budgets ?? SWEEP_BUDGETS;
  const focusBits = options.focusBits ?? sourceBits(resolveConfig().data);
  const { info, input, job, loaded } = await candidateOf(target, options.cwd ?? Deno.cwd());
  if (loaded?.kind === "quantizer") {
    if (options.speech) {
      throw new CandidateError(
        loaded.module,
        "--speech checks a passer; the speech check of a quantizer is not built yet",
      );
    }
    return await quantizerBattery(loaded, info, profile, budgets, focusBits, options);
  }
  if (loaded) {
    await preflightInSubprocess(loaded, { timeoutMs: options.preflightTimeoutMs });
  }
  const limit = runLimit(options);

  const sweep = sweepProfile(profile);
  const compared = forComparison(profile);
  const specs = [
    ...BASELINES.map((b) => ({ passer: b.label, input: b.input, candidate: false })),
    { passer: candidateLabel(info), input, candidate: true },
  ];
  const atBudget = (s: typeof specs[number], bits: number) => vqAtBits(s.input, bits);
  // Baselines: the sweep's configs (cached by notebook 05) and, at the focus budget, the
  // paper-A notebooks' (02–04) over all seeds. The candidate: the same with its passer.
  const baseInputs = [
    ...specs.filter((s) => !s.candidate).flatMap((s) =>
      budgets.map((bits) => overSeeds(sweep, atBudget(s, bits)))
    ),
    ...specs.filter((s) => !s.candidate).map((s) => overSeeds(compared, s.input)),
  ];
  const candInputs = [
    ...budgets.map((bits) => overSeeds(sweep, atBudget(specs.at(-1)!, bits))),
    overSeeds(compared, focusInput(input, focusBits)),
  ];
  const baseRuns = await runConfigs("battery baselines", baseInputs.flat(), limit);
  const candRuns = await runConfigs(`battery ${info.name}`, candInputs.flat(), {
    job,
    ...limit,
  });

  const perSweep = sweep.seeds.length, perFull = compared.seeds.length;
  const baselines = specs.filter((s) => !s.candidate);
  const cells: BatteryCell[] = [];
  for (const [bi, bits] of budgets.entries()) {
    baselines.forEach((s, si) => {
      const at = (si * budgets.length + bi) * perSweep;
      cells.push({
        label: `${s.passer} @ ${bits}`,
        input: atBudget(s, bits),
        passer: s.passer,
        bits,
        candidate: false,
        runs: baseRuns.slice(at, at + perSweep),
      });
    });
    cells.push({
      label: `${candidateLabel(info)} @ ${bits}`,
      input: atBudget(specs.at(-1)!, bits),
      passer: candidateLabel(info),
      bits,
      candidate: true,
      runs: candRuns.slice(bi * perSweep, (bi + 1) * perSweep),
    });
  }
  const sweepCount = baselines.length * budgets.length * perSweep;
  const focus: GroupRuns[] = [
    ...baselines.map((s, si) => ({
      label: s.passer,
      input: s.input,
      runs: baseRuns.slice(sweepCount + si * perFull, sweepCount + (si + 1) * perFull),
    })),
    { label: candidateLabel(info), input, runs: candRuns.slice(budgets.length * perSweep) },
  ];
  const floors = floorsOf(budgets, sweep.seeds);
  const cand = focus.at(-1)!;
  const comparisons = focus.slice(0, -1).map((b) => ({
    baseline: b.label,
    stats: compareMse(cand, b, "lower", profile),
  }));
  const result: BatteryResult = {
    candidate: info,
    profile,
    budgets,
    focusBits,
    cells,
    focus,
    floors,
    comparisons,
    findings: [],
  };
  if (options.speech) result.speech = await speechCheck(info, input, profile, limit.jobTimeoutMs);
  result.findings = batteryFindings(result);
  return result;
}

/** The grid's per-run limit from the battery's options. */
function runLimit(options: BatteryOptions): { jobTimeoutMs?: number } {
  const ms = options.timeoutMs ?? RUN_TIMEOUT_MS;
  return ms > 0 && Number.isFinite(ms) ? { jobTimeoutMs: ms } : {};
}

/** The input of a candidate quantizer at `bits`. */
function customQuantizer(c: QuantizerCandidate, bits: number): ConfigInput {
  return { quantizer: { kind: "custom", bits, module: c.module, moduleSha256: c.sha256 } };
}

/**
 * The quantizer battery: the candidate with each of `options.passers` at every budget (sweep
 * seeds) and at the focus budget (comparison seeds), next to the built-in VQ with the same
 * passers, whose runs are the sweep's and paper A's (cached).
 */
async function quantizerBattery(
  c: QuantizerCandidate,
  info: BatteryCandidate,
  profile: Profile,
  budgets: number[],
  focusBits: number,
  options: BatteryOptions,
): Promise<BatteryResult> {
  const labels = options.passers ?? QUANTIZER_PASSERS;
  const passers = labels.map((l) => {
    const b = BASELINES.find((b) => b.label === l);
    if (!b) {
      throw new Error(
        `battery: passer "${l}" is not a baseline (${BASELINES.map((b) => b.label).join(", ")})`,
      );
    }
    return b;
  });
  await preflightInSubprocess(c, {
    bits: [focusBits, ...budgets.filter((b) => b !== focusBits)],
    timeoutMs: options.preflightTimeoutMs,
  });
  const limit = runLimit(options);
  const sweep = sweepProfile(profile);
  const compared = forComparison(profile);
  const vqAt = (p: typeof passers[number], bits: number): ConfigInput => ({
    ...p.input,
    quantizer: { kind: "vq", bits },
  });
  const mineAt = (p: typeof passers[number], bits: number): ConfigInput => ({
    ...p.input,
    ...customQuantizer(c, bits),
  });
  const baseInputs = [
    ...passers.flatMap((p) => budgets.map((bits) => overSeeds(sweep, vqAt(p, bits)))),
    ...passers.map((p) => overSeeds(compared, focusInput(p.input, focusBits))),
  ];
  const candInputs = [
    ...passers.flatMap((p) => budgets.map((bits) => overSeeds(sweep, mineAt(p, bits)))),
    ...passers.map((p) => overSeeds(compared, mineAt(p, focusBits))),
  ];
  const baseRuns = await runConfigs("battery baselines", baseInputs.flat(), limit);
  const candRuns = await runConfigs(`battery ${info.name}`, candInputs.flat(), {
    job: BATTERY_JOB,
    ...limit,
  });
  const perSweep = sweep.seeds.length, perFull = compared.seeds.length;
  const row = (quantizer: string, p: typeof passers[number]) => `${quantizer} · ${p.label}`;
  const mine = candidateLabel(info);
  const cells: BatteryCell[] = [];
  for (const [bi, bits] of budgets.entries()) {
    for (const [pi, p] of passers.entries()) {
      const at = (pi * budgets.length + bi) * perSweep;
      for (
        const [candidate, runs, input] of [
          [false, baseRuns, vqAt(p, bits)],
          [true, candRuns, mineAt(p, bits)],
        ] as const
      ) {
        const passer = row(candidate ? mine : VQ_LABEL, p);
        cells.push({
          label: `${passer} @ ${bits}`,
          input,
          passer,
          bits,
          candidate,
          runs: runs.slice(at, at + perSweep),
        });
      }
    }
  }
  const sweepCount = passers.length * budgets.length * perSweep;
  const focusOf = (runs: typeof baseRuns, pi: number) =>
    runs.slice(sweepCount + pi * perFull, sweepCount + (pi + 1) * perFull);
  const focus: GroupRuns[] = [
    ...passers.map((p, pi) => ({
      label: row(VQ_LABEL, p),
      input: focusInput(p.input, focusBits),
      runs: focusOf(baseRuns, pi),
    })),
    ...passers.map((p, pi) => ({
      label: row(mine, p),
      input: mineAt(p, focusBits),
      runs: focusOf(candRuns, pi),
    })),
  ];
  const comparisons = passers.map((p, pi) => ({
    baseline: row(VQ_LABEL, p),
    stats: compareMse(focus[passers.length + pi], focus[pi], "lower", profile),
  }));
  const result: BatteryResult = {
    candidate: info,
    profile,
    budgets,
    focusBits,
    cells,
    focus,
    floors: floorsOf(budgets, sweep.seeds),
    comparisons,
    passers: labels,
    findings: [],
  };
  result.findings = batteryFindings(result);
  return result;
}

/** Oracle floor per budget, per seed (each seed's own source). */
function floorsOf(budgets: number[], seeds: number[]): Map<number, number[]> {
  return new Map(budgets.map((bits) => [
    bits,
    seeds.map((seed) => {
      const cfg = resolveConfig({ train: { seed } });
      return oracleFloor(new SimulatedSource(cfg.data, seed), bits, { distribution: "validation" });
    }),
  ]));
}

function focusInput(input: ConfigInput, bits: number): ConfigInput {
  return bits === sourceBits(resolveConfig().data) ? input : vqAtBits(input, bits);
}

/**
 * `input` with a VQ of `bits`: its own VQ options (a codebook reparameterisation) kept. An input
 * without a quantizer section gives `{kind: "vq", bits}`, the sweep's config exactly.
 */
export function vqAtBits(input: ConfigInput, bits: number): ConfigInput {
  const own = input.quantizer?.kind === "vq" ? input.quantizer : {};
  return { ...input, quantizer: { ...own, kind: "vq", bits } };
}
