/**
 * Grid descriptions. A grid is either a list of partial configs or a base config with fields to
 * vary, expanded as a Cartesian product:
 *
 * ```json
 * { "base": { "train": { "epochs": 4 } },
 *   "vary": { "passer.kind": ["ste", "mste"], "train.seed": [0, 1, 2] } }
 * ```
 *
 * gives 6 configs. The first `vary` field is the outermost loop (changes slowest), the last the
 * innermost. A value replaces whatever is at its dotted path, so a whole section can vary too
 * (`"quantizer": [{"kind": "vq"}, {"kind": "fsq", "levels": [...]}]`). Every config goes
 * through {@linkcode resolveConfig}, and an invalid one is reported with its position and
 * assignment.
 *
 * @module
 */
import { type ConfigInput, resolveConfig, type RunConfig } from "../config.ts";

/** A base config plus the fields to vary (dotted path → values). */
export interface GridSpec {
  base?: ConfigInput;
  vary?: Record<string, readonly unknown[]>;
}

/** What a grid file holds: a list of partial configs, or a {@linkcode GridSpec}. */
export type GridInput = readonly ConfigInput[] | GridSpec;

/**
 * Expand `base × vary` into resolved configs, in nested-loop order.
 *
 * @example
 * ```ts
 * const configs = expandGrid({
 *   base: { train: { epochs: 2 } },
 *   vary: { "passer.kind": ["ste", "mste"], "train.seed": [0, 1] },
 * }); // 4 configs: ste/0, ste/1, mste/0, mste/1
 * ```
 */
export function expandGrid(spec: GridSpec): RunConfig[] {
  const base = spec.base ?? {};
  const fields = Object.entries(spec.vary ?? {});
  for (const [path, values] of fields) {
    if (!path || path.split(".").some((p) => p === "")) {
      throw new Error(`grid: vary field ${JSON.stringify(path)} is not a dotted path`);
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`grid: vary[${JSON.stringify(path)}] must be a non-empty array`);
    }
  }
  const out: RunConfig[] = [];
  const total = fields.reduce((n, [, v]) => n * v.length, 1);
  for (let i = 0; i < total; i++) {
    const cfg = structuredClone(base) as Record<string, unknown>;
    const assignment: string[] = [];
    let rest = i;
    for (let f = fields.length - 1; f >= 0; f--) {
      const [path, values] = fields[f];
      const value = values[rest % values.length];
      rest = Math.floor(rest / values.length);
      setPath(cfg, path, structuredClone(value));
      assignment.unshift(`${path}=${JSON.stringify(value)}`);
    }
    out.push(resolveAt(cfg as ConfigInput, `entry ${i} (${assignment.join(", ")})`));
  }
  return out;
}

/** Resolve a parsed grid file (either form) into configs. */
export function parseGrid(input: unknown): RunConfig[] {
  if (Array.isArray(input)) {
    return input.map((c, i) => resolveAt(c as ConfigInput, `entry ${i}`));
  }
  if (input !== null && typeof input === "object") {
    const unknownKeys = Object.keys(input).filter((k) => k !== "base" && k !== "vary");
    if (unknownKeys.length > 0) {
      throw new Error(
        `grid: unknown field ${JSON.stringify(unknownKeys[0])}; expected "base", "vary"`,
      );
    }
    return expandGrid(input as GridSpec);
  }
  throw new Error(`grid: expected an array of configs or {"base", "vary"}, got ${typeof input}`);
}

/** Read and resolve a grid JSON file. */
export async function loadGrid(path: string): Promise<RunConfig[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Error(`grid: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseGrid(parsed);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

function resolveAt(input: ConfigInput, where: string): RunConfig {
  try {
    return resolveConfig(input);
  } catch (err) {
    throw new Error(`grid: ${where}: ${(err as Error).message}`, { cause: err });
  }
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = obj;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}
