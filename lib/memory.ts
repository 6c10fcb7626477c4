/**
 * Memory a training step needs, estimated from the config before anything is allocated, so a
 * config that cannot fit (a batch of 2^20 frames through 8192-wide layers) is refused with a
 * hint instead of crashing the process (the wasm heap cannot grow past 4 GiB; the process dies of
 * SIGSEGV or an abort, and a grid retries it once).
 *
 * The estimate for the MLP codec [choice: an upper-side rough count, within a small factor]:
 * parameters P = 2·(F·H + H·H + H·L + 3·H) (both sides, weights and PReLU slopes), each held 4
 * times (value, gradient, Adam's m and v); activations per frame about 16·H + 4·(F + L) floats
 * (six layers with PReLU kept for the backward pass, their gradients, the quantizer's inputs and
 * outputs), all float32. The conv codec is not estimated (`null`).
 *
 * @module
 */
import type { RunConfig } from "./config.ts";

/** What the wasm backend can address: a 32-bit heap. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Floats of activations kept per frame and hidden unit, and per input/latent value. [choice] */
const PER_HIDDEN = 16, PER_IO = 4;

/** A config whose training step cannot fit in memory; the message says what to reduce. */
export class MemoryEstimateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryEstimateError";
  }
}

/** The estimate's parts, in bytes; null for codecs it does not cover. */
export function estimateTrainingBytes(
  config: RunConfig,
): { parameters: number; activations: number; total: number; perFrame: number } | null {
  if (config.codec.kind !== "mlp" || config.data.kind !== "simulated") return null;
  const F = config.data.frameDim, H = config.codec.hidden, L = config.codec.latent;
  const parameters = 4 * 4 * 2 * (F * H + H * H + H * L + 3 * H);
  const perFrame = 4 * (PER_HIDDEN * H + PER_IO * (F + L));
  const frames = Math.max(config.train.batchSize, Math.min(config.data.validationFrames, 4096));
  const activations = perFrame * frames;
  return { parameters, activations, total: parameters + activations, perFrame };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/**
 * Throw a {@linkcode MemoryEstimateError} when a training step of `config` is estimated to need
 * more than `limit` bytes (default {@linkcode WASM_HEAP_BYTES}); naming the estimate, the
 * limit, and the largest `train.batchSize` that would fit.
 */
export function checkMemory(config: RunConfig, limit: number = WASM_HEAP_BYTES): void {
  const e = estimateTrainingBytes(config);
  if (!e || e.total <= limit) return;
  const fits = Math.floor((limit - e.parameters) / e.perFrame);
  const hint = fits >= 1
    ? `reduce train.batchSize to at most ${fits} (now ${config.train.batchSize})` +
      (config.data.kind === "simulated" && config.data.validationFrames > fits
        ? ` and data.validationFrames likewise`
        : "") +
      `, or codec.hidden (now ${config.codec.kind === "mlp" ? config.codec.hidden : "?"})`
    : `the parameters alone need ${gib(e.parameters)}: reduce codec.hidden`;
  throw new MemoryEstimateError(
    `config needs about ${gib(e.total)} for a training step (parameters ${gib(e.parameters)}, ` +
      `activations ${gib(e.activations)}), more than the ${gib(limit)} the wasm backend can ` +
      `address: ${hint}`,
  );
}
