/**
 * Metrics that expose what the quantizer does to training (method §5).
 *
 * @module
 */

/** Entropy in bits of the empirical distribution of `codes`, and its perplexity 2^H. */
export function codeUsage(codes: ArrayLike<number>): { entropy: number; perplexity: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < codes.length; i++) counts.set(codes[i], (counts.get(codes[i]) ?? 0) + 1);
  let entropy = 0;
  for (const c of counts.values()) {
    const p = c / codes.length;
    entropy -= p * Math.log2(p);
  }
  // -0 from a single code reads badly in tables.
  entropy = Math.max(0, entropy);
  return { entropy, perplexity: 2 ** entropy };
}

/** MSE in dB relative to the target's power: 10·log10(mse / mean(y²)). */
export function mseDb(mse: number, target: Float32Array): number {
  let power = 0;
  for (let i = 0; i < target.length; i++) power += target[i] * target[i];
  return 10 * Math.log10(mse / (power / target.length));
}

/**
 * Largest absolute value: MA-E when applied to the encoder output. [choice] `start` carries the
 * running value of earlier batches, so batch by batch gives what one pass over all gives.
 */
export function maxAbs(values: ArrayLike<number>, start = 0): number {
  let m = start;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (!(a <= m)) m = a; // NaN wins, so a non-finite latent is never hidden
  }
  return m;
}
