/**
 * Before a candidate passer reaches the worker pool: two training steps in this process on a
 * small proxy, with every value the passer returns checked. A module that throws, returns
 * something that is not a tensor, a tensor of the wrong shape, or non-finite values (or a
 * non-finite gradient) is rejected with a {@linkcode CandidateError} naming it, so no grid job
 * is started and nothing reaches the result cache.
 *
 * A candidate quantizer is built at every requested budget and checked on a batch of latent
 * frames (it reports the requested `bits` and the frames' `dim`; `quantize` returns q shaped like
 * z, int32 codes with one row per frame, finite losses; `decodeCodes(codes)` reproduces q within
 * {@linkcode DECODE_TOLERANCE}; `jointCodes` gives one finite number per frame, one-to-one on
 * code rows; codes lie in [0, 2^bits); and the code entropy measured on
 * {@linkcode ENTROPY_FRAMES} frames does not exceed the declared bits), then trained for two steps
 * with STE at the first budget, guarded as every run is (`lib/custom/guard.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { initBackend, tf } from "../backend.ts";
import { latentDim, resolveConfig } from "../config.ts";
import type { Passer } from "../passers.ts";
import type { Quantizer } from "../quantizers/mod.ts";
import { rngFor } from "../random.ts";
import { createSession } from "../train.ts";
import {
  type Candidate,
  CandidateError,
  loadCandidate,
  type PasserCandidate,
  type QuantizerCandidate,
} from "../custom/candidate.ts";
import { checkCodes, checkJointCodes, ENTROPY_SLACK, guardedBuilder } from "../custom/guard.ts";
import { codeUsage } from "../metrics.ts";

/** Sizes of the preflight run. [choice: small enough to take well under a second] */
export const PREFLIGHT = { steps: 2, batchSize: 64, validationFrames: 256 } as const;

/**
 * Frames the code entropy is measured on at `bits`: 8·2^bits, at most 16384, so a quantizer that
 * codes more than its budget shows an entropy above it (up to about 11 bits). [choice]
 */
export function entropyFrames(bits: number): number {
  return Math.min(8 * 2 ** Math.ceil(bits), 16384);
}
/** {@linkcode entropyFrames} at 8 bits, for the docs. */
export const ENTROPY_FRAMES = entropyFrames(8);

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** Wrap a passer so that each call's result is checked against z. */
function checked(c: PasserCandidate): Passer {
  const forward: Passer["forward"] = (z, hard, ctx) => {
    let out: unknown;
    try {
      out = c.passer.forward(z, hard, ctx);
    } catch (e) {
      throw new CandidateError(c.module, `the passer threw: ${(e as Error).message}`);
    }
    if (!isTensor(out)) {
      throw new CandidateError(
        c.module,
        `the passer returned ${
          out === null ? "null" : typeof out
        }, expected a tf.Tensor shaped like z`,
      );
    }
    if (out.shape.join(",") !== z.shape.join(",")) {
      throw new CandidateError(
        c.module,
        `the passer returned a tensor of shape [${out.shape}], expected [${z.shape}] (the shape of z)`,
      );
    }
    const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(out as tf.Tensor))).dataSync()[0]);
    if (bad) {
      throw new CandidateError(c.module, "the passer returned non-finite values (NaN or ±∞)");
    }
    return out as tf.Tensor2D;
  };
  return { kind: "custom", forward };
}

/**
 * Check a candidate before any grid run (see the module doc): a passer for
 * {@linkcode PREFLIGHT}.steps training steps, a quantizer at every budget in `bits` (default
 * [8]) and then for two steps at the first. Throws a {@linkcode CandidateError}.
 */
export async function preflight(c: Candidate, options: { bits?: number[] } = {}): Promise<void> {
  if (c.kind === "quantizer") return await preflightQuantizer(c, options.bits ?? [8]);
  return await preflightPasser(c);
}

/** How long the preflight may take before it is judged hung. [choice: it takes seconds] */
export const PREFLIGHT_TIMEOUT_MS = 120_000;

/**
 * {@linkcode preflight} in a child process, so that a `forward` or `quantize` that never returns
 * (a synchronous loop cannot be interrupted in-process) is killed after `timeoutMs` and reported
 * as a {@linkcode CandidateError}, like the grid reports a run past its `--timeout`.
 */
export async function preflightInSubprocess(
  c: Candidate,
  options: { bits?: number[]; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? PREFLIGHT_TIMEOUT_MS;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(import.meta.url),
      c.module,
      JSON.stringify(options.bits ?? null),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, timeoutMs);
  let out: Deno.CommandOutput;
  try {
    out = await child.output();
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    throw new CandidateError(
      c.module,
      `the preflight did not finish within ${timeoutMs / 1000} s (a forward or quantize that ` +
        `never returns?); preflight killed, no run started`,
    );
  }
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  let reply: { ok: boolean; reason?: string } | undefined;
  try {
    reply = JSON.parse(lines.at(-1) ?? "");
  } catch {
    // No reply: the child crashed; its stderr says why.
  }
  if (reply?.ok) return;
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
  throw new CandidateError(
    c.module,
    reply?.reason ??
      `the preflight process died (exit ${out.code}${
        out.signal ? `, ${out.signal}` : ""
      }): ${stderr}`,
  );
}

/** Train the candidate passer for two steps on a small default proxy, checking what it returns and passes back. */
async function preflightPasser(c: PasserCandidate): Promise<void> {
  await initBackend();
  const config = resolveConfig({
    data: { validationFrames: PREFLIGHT.validationFrames },
    passer: { kind: "custom", module: c.module, moduleSha256: c.sha256 },
    train: { batchSize: PREFLIGHT.batchSize, epochs: 1, stepsPerEpoch: PREFLIGHT.steps },
  });
  const session = createSession(config, {}, "all", {
    passers: new Map([[c.module, checked(c)]]),
    quantizers: new Map(),
  });
  try {
    for (let i = 0; i < PREFLIGHT.steps; i++) {
      const loss = session.step();
      if (!Number.isFinite(loss)) {
        throw new CandidateError(
          c.module,
          `training loss is ${loss} after step ${i + 1} of the preflight`,
        );
      }
    }
    // The gradient the passer hands the encoder must be finite.
    const z = tf.randomNormal(
      [PREFLIGHT.batchSize, session.codec.latentDim],
      0,
      1,
      "float32",
      7,
    ) as tf.Tensor2D;
    const hard = session.quantizer.quantize(z);
    const ctx = {
      quantizer: session.quantizer,
      rng: rngFor(0, "preflight"),
      step: 0,
      totalSteps: 1,
    };
    const g = tf.grad((zz: tf.Tensor) => tf.sum(c.passer.forward(zz as tf.Tensor2D, hard, ctx)))(z);
    const finite = tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]);
    tf.dispose([z, g, hard.q, hard.codes, ...Object.values(hard.losses)]);
    if (!finite) {
      throw new CandidateError(c.module, "the gradient through the passer is not finite");
    }
  } finally {
    session.dispose();
  }
}

/**
 * How closely `decodeCodes(codes)` must reproduce `q`: max |Δ| ≤ 1e-5 + 1e-4·max |q|.
 * [choice: float32 round-off of a sum of a few codewords]
 */
export const DECODE_TOLERANCE = { absolute: 1e-5, relative: 1e-4 } as const;

/**
 * Loss weights the quantizer is checked with, so that its commitment loss is computed and
 * checked too. [choice: DAC's β = 0.25, the default codebook weight]
 */
export const PREFLIGHT_WEIGHTS = { commitment: 0.25, codebook: 1 } as const;

const METHODS = ["prepare", "quantize", "decodeCodes", "jointCodes", "dispose"] as const;

/** Build the candidate at `bits` and check what it returns on a batch of frames. */
function checkQuantizer(c: QuantizerCandidate, bits: number, dim: number): void {
  const fail = (reason: string): never => {
    throw new CandidateError(c.module, reason);
  };
  let q: Quantizer;
  try {
    q = c.build(bits, dim, rngFor(0, "preflight"), PREFLIGHT_WEIGHTS);
  } catch (e) {
    if (e instanceof CandidateError) throw e;
    return fail(`build(${bits}, ${dim}, rng, weights) threw: ${(e as Error).message}`);
  }
  if (!q || typeof q !== "object") {
    return fail(
      `build(${bits}, ${dim}, …) returned ${q === null ? "null" : typeof q}, expected a Quantizer`,
    );
  }
  const missing = METHODS.filter((m) =>
    typeof (q as unknown as Record<string, unknown>)[m] !== "function"
  );
  if (missing.length || !Array.isArray(q.variables)) {
    return fail(
      `build(${bits}, ${dim}, …) returned an object without ${
        [...missing, ...(Array.isArray(q.variables) ? [] : ["variables (an array)"])].join(", ")
      }: expected a Quantizer (lib/quantizers/types.ts)`,
    );
  }
  const z = tf.tidy(() =>
    q.prepare(tf.randomNormal([PREFLIGHT.batchSize, dim], 0, 1, "float32", 7))
  );
  const tensors: tf.Tensor[] = [z];
  try {
    if (Math.abs(q.bits - bits) > 1e-9) {
      fail(`the quantizer built for ${bits} bits reports bits = ${q.bits}, expected ${bits}`);
    }
    if (q.dim !== dim) fail(`the quantizer built for dim ${dim} reports dim = ${q.dim}`);
    if (!isTensor(z) || z.shape.join(",") !== `${PREFLIGHT.batchSize},${dim}`) {
      fail(`prepare(e) must return a tensor shaped like e, [${PREFLIGHT.batchSize},${dim}]`);
    }
    let hard;
    try {
      hard = q.quantize(z);
    } catch (e) {
      return fail(`quantize threw: ${(e as Error).message}`);
    }
    if (!hard || !isTensor(hard.q) || !isTensor(hard.codes)) {
      return fail("quantize must return { q, codes, losses } with q and codes tf.Tensors");
    }
    tensors.push(hard.q, hard.codes);
    if (hard.q.shape.join(",") !== z.shape.join(",")) {
      fail(
        `quantize returned q of shape [${hard.q.shape}], expected [${z.shape}] (the shape of z)`,
      );
    }
    if (!tf.tidy(() => tf.all(tf.isFinite(hard.q)).dataSync()[0])) {
      fail("quantize returned non-finite q (NaN or ±∞)");
    }
    const codes = hard.codes;
    if (codes.rank !== 2 || codes.shape[0] !== PREFLIGHT.batchSize) {
      fail(
        `quantize returned codes of shape [${codes.shape}], expected [${PREFLIGHT.batchSize}, stages]`,
      );
    }
    if (codes.dtype !== "int32") {
      const values = codes.dataSync();
      const frac = Array.from(values).find((v) => !Number.isInteger(v));
      fail(
        frac !== undefined
          ? `quantize returned codes that are not integers (e.g. ${frac})`
          : `quantize returned codes of dtype ${codes.dtype}, expected int32 (tf.cast(codes, "int32"))`,
      );
    }
    let decoded: tf.Tensor;
    try {
      decoded = q.decodeCodes(codes as tf.Tensor2D);
    } catch (e) {
      return fail(`decodeCodes threw: ${(e as Error).message}`);
    }
    tensors.push(decoded);
    if (!isTensor(decoded) || decoded.shape.join(",") !== hard.q.shape.join(",")) {
      fail(`decodeCodes(codes) must return a tensor shaped like q, [${hard.q.shape}]`);
    }
    const [gap, scale] = tf.tidy(() => [
      tf.max(tf.abs(tf.sub(decoded, hard.q))).dataSync()[0],
      tf.max(tf.abs(hard.q)).dataSync()[0],
    ]);
    const tol = DECODE_TOLERANCE.absolute + DECODE_TOLERANCE.relative * scale;
    if (!(gap <= tol)) {
      fail(`decodeCodes(codes) differs from q by up to ${gap} (tolerance ${tol.toPrecision(3)})`);
    }
    for (const [name, loss] of Object.entries(hard.losses ?? {})) {
      const v = isTensor(loss) ? loss.dataSync()[0] : NaN;
      if (!Number.isFinite(v)) {
        fail(`quantize's loss "${name}" is ${v}, expected a finite tf.Scalar`);
      }
      tensors.push(loss);
    }
    checkCodes(c.module, codes, bits, "quantize");
    const joint = q.jointCodes(codes.dataSync() as Int32Array, PREFLIGHT.batchSize);
    if (joint?.length !== PREFLIGHT.batchSize || !Array.from(joint).every(Number.isFinite)) {
      fail(
        `jointCodes(codes, ${PREFLIGHT.batchSize}) must return ${PREFLIGHT.batchSize} finite numbers, one per frame`,
      );
    }
    checkJointCodes(c.module, codes.dataSync() as Int32Array, PREFLIGHT.batchSize, joint);
    checkEntropy(c, q, bits, dim);
  } finally {
    tf.dispose(tensors);
    q.dispose();
  }
}

/** Measure the entropy of the code rows on many frames; throw when it exceeds `bits`. */
function checkEntropy(c: QuantizerCandidate, q: Quantizer, bits: number, dim: number): void {
  const frames = entropyFrames(bits);
  const { codes, stages } = tf.tidy(() => {
    const z = q.prepare(tf.randomNormal([frames, dim], 0, 1, "float32", 11));
    const h = q.quantize(z);
    return { codes: h.codes.dataSync() as Int32Array, stages: h.codes.shape[1] ?? 1 };
  });
  const ids = new Map<string, number>();
  const rows = new Float64Array(frames);
  for (let n = 0; n < frames; n++) {
    const key = codes.subarray(n * stages, (n + 1) * stages).join(",");
    if (!ids.has(key)) ids.set(key, ids.size);
    rows[n] = ids.get(key)!;
  }
  const { entropy } = codeUsage(rows);
  if (entropy > bits + ENTROPY_SLACK) {
    throw new CandidateError(
      c.module,
      `the code entropy measured on ${frames} frames is ${entropy.toFixed(3)} bits per frame, ` +
        `more than the ${bits} bits it declares: it codes more than its budget`,
    );
  }
}

/** Check the candidate quantizer at every budget, then train it for two steps with STE at the first. */
async function preflightQuantizer(c: QuantizerCandidate, budgets: number[]): Promise<void> {
  await initBackend();
  const config = resolveConfig({
    data: { validationFrames: PREFLIGHT.validationFrames },
    quantizer: { kind: "custom", bits: budgets[0], module: c.module, moduleSha256: c.sha256 },
    train: { batchSize: PREFLIGHT.batchSize, epochs: 1, stepsPerEpoch: PREFLIGHT.steps },
  });
  const dim = latentDim(config.codec);
  for (const bits of budgets) checkQuantizer(c, bits, dim);
  let session;
  try {
    session = createSession(config, {}, "all", {
      passers: new Map(),
      quantizers: new Map([[c.module, guardedBuilder(c.module, c.build)]]),
    });
  } catch (e) {
    throw new CandidateError(
      c.module,
      `building a training session failed: ${(e as Error).message}`,
    );
  }
  try {
    for (let i = 0; i < PREFLIGHT.steps; i++) {
      let loss;
      try {
        loss = session.step();
      } catch (e) {
        throw new CandidateError(
          c.module,
          `training step ${i + 1} of the preflight threw: ${(e as Error).message}`,
        );
      }
      if (!Number.isFinite(loss)) {
        throw new CandidateError(
          c.module,
          `training loss is ${loss} after step ${i + 1} of the preflight`,
        );
      }
    }
  } finally {
    session.dispose();
  }
}

if (import.meta.main) {
  // The child of preflightInSubprocess: one JSON line on stdout, the last one.
  console.log = console.info = console.debug = console.error;
  const [module, bits] = Deno.args;
  let reply: { ok: boolean; reason?: string };
  try {
    const c = await loadCandidate(module);
    await preflight(c, { bits: JSON.parse(bits) ?? undefined });
    reply = { ok: true };
  } catch (e) {
    reply = e instanceof CandidateError
      ? { ok: false, reason: e.message.slice(e.ref.length + 2) }
      : { ok: false, reason: `the preflight failed: ${(e as Error).stack ?? e}` };
  }
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(reply) + "\n"));
  Deno.exit(0);
}
