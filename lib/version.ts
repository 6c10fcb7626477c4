/**
 * quantlab's version. It is part of every result-cache key: bump it whenever a change alters
 * the numbers a run produces, so cached results are recomputed rather than reused.
 */
export const QUANTLAB_VERSION = "0.2.0";
