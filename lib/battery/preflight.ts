/**
 * Before a candidate passer reaches the worker pool: two training steps in this process on a
 * small proxy, with every value the passer returns checked. A module that throws, returns
 * something that is not a tensor, a tensor of the wrong shape, or non-finite values (or a
 * non-finite gradient) is rejected with a {@linkcode CandidateError} naming it, so no grid job
 * is started and nothing reaches the result cache.
 *
 * @module
 */
import { initBackend, tf } from "../backend.ts";
import { resolveConfig } from "../config.ts";
import { type Passer, registerCustomPasser } from "../passers.ts";
import { rngFor } from "../random.ts";
import { createSession } from "../train.ts";
import { type Candidate, CandidateError } from "./candidate.ts";

/** Sizes of the preflight run. [choice: small enough to take well under a second] */
export const PREFLIGHT = { steps: 2, batchSize: 64, validationFrames: 256 } as const;

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** Wrap a passer so that each call's result is checked against z. */
function checked(c: Candidate): Passer {
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
 * Train the candidate for {@linkcode PREFLIGHT}.steps steps on a small default proxy and check
 * what it returns and the gradient it passes. Throws a {@linkcode CandidateError}.
 */
export async function preflight(c: Candidate): Promise<void> {
  await initBackend();
  const config = resolveConfig({
    data: { validationFrames: PREFLIGHT.validationFrames },
    passer: { kind: "custom", module: c.module, moduleSha256: c.sha256 },
    train: { batchSize: PREFLIGHT.batchSize, epochs: 1, stepsPerEpoch: PREFLIGHT.steps },
  });
  registerCustomPasser(c.module, checked(c));
  const session = createSession(config);
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
    registerCustomPasser(c.module, c.passer);
  }
}
