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
 * assignment (long values cut, so a huge value never makes a huge message). A grid of more than
 * {@linkcode MAX_GRID_CONFIGS} configs is rejected before anything is allocated.
 *
 * @module
 */
import { type ConfigInput, resolveConfig, type RunConfig } from "../config.ts";
import { truncate } from "./_protocol.ts";

/**
 * Most configs one grid may expand to. Far above any grid quantlab runs (hundreds), far below
 * what would exhaust memory (a resolved config is about 1 kB). [choice]
 */
export const MAX_GRID_CONFIGS = 100_000;

/** Longest error message a grid problem produces, in characters. */
const MAX_MESSAGE = 1000;

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
  const vary = spec.vary ?? {};
  if (vary === null || typeof vary !== "object" || Array.isArray(vary)) {
    throw new Error(`grid: "vary" must be an object of dotted path → values, got ${kind(vary)}`);
  }
  const fields = Object.entries(vary);
  for (const [path, values] of fields) {
    const name = preview(path);
    if (!path || path.split(".").some((p) => p === "")) {
      throw new Error(`grid: vary field ${name} is not a dotted path`);
    }
    const bad = path.split(".").find((p) => FORBIDDEN.has(p));
    if (bad) throw new Error(`grid: vary field ${name} has the forbidden segment "${bad}"`);
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`grid: vary[${name}] must be a non-empty array, got ${kind(values)}`);
    }
  }
  // Multiply with an early stop, so even 10^300 configs are refused without overflow or memory.
  let total = 1;
  for (const [, values] of fields) {
    total *= values.length;
    if (total > MAX_GRID_CONFIGS) {
      const size = fields.reduce((n, [, v]) => n * v.length, 1);
      throw new Error(
        `grid: vary expands to ${size.toLocaleString("en")} configs (${
          fields.map(([p, v]) => `${preview(p)}: ${v.length}`).join(" × ")
        }), more than the limit of ${MAX_GRID_CONFIGS.toLocaleString("en")}; split the grid`,
      );
    }
  }
  const out: RunConfig[] = [];
  for (let i = 0; i < total; i++) {
    const cfg = structuredClone(base) as Record<string, unknown>;
    const assignment: string[] = [];
    let rest = i;
    for (let f = fields.length - 1; f >= 0; f--) {
      const [path, values] = fields[f];
      const value = values[rest % values.length];
      rest = Math.floor(rest / values.length);
      setPath(cfg, path, structuredClone(value));
      assignment.unshift(`${path}=${preview(value)}`);
    }
    out.push(resolveAt(cfg as ConfigInput, `entry ${i} (${assignment.join(", ")})`));
  }
  return out;
}

/** Resolve a parsed grid file (either form) into configs. */
export function parseGrid(input: unknown): RunConfig[] {
  if (Array.isArray(input)) {
    if (input.length > MAX_GRID_CONFIGS) {
      throw new Error(
        `grid: ${input.length.toLocaleString("en")} configs, more than the limit of ${
          MAX_GRID_CONFIGS.toLocaleString("en")
        }; split the grid`,
      );
    }
    return input.map((c, i) => resolveAt(c as ConfigInput, `entry ${i}`));
  }
  if (input !== null && typeof input === "object") {
    const unknownKeys = Object.keys(input).filter((k) => k !== "base" && k !== "vary");
    if (unknownKeys.length > 0) {
      throw new Error(
        `grid: unknown field ${preview(unknownKeys[0])}; expected "base", "vary"`,
      );
    }
    return expandGrid(input as GridSpec);
  }
  throw new Error(`grid: expected an array of configs or {"base", "vary"}, got ${kind(input)}`);
}

/** Read and resolve a grid JSON file. */
export async function loadGrid(path: string): Promise<RunConfig[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    const why = truncate((err as Error).message, MAX_MESSAGE);
    throw new Error(`grid: cannot read ${path}: ${why}`, { cause: err });
  }
  try {
    return parseGrid(parsed);
  } catch (err) {
    throw new Error(`${path}: ${truncate((err as Error).message, MAX_MESSAGE)}`, { cause: err });
  }
}

function resolveAt(input: ConfigInput, where: string): RunConfig {
  try {
    return resolveConfig(input);
  } catch (err) {
    const why = truncate(String((err as Error)?.message ?? err), MAX_MESSAGE);
    throw new Error(`grid: ${where}: ${why}`, { cause: err });
  }
}

/** Path segments that would reach an object's prototype. */
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** Short JSON text of a value for messages: strings and long texts cut. */
function preview(value: unknown, max = 80): string {
  if (typeof value === "string" && value.length > max) {
    return `${JSON.stringify(value.slice(0, max))}… (${
      value.length.toLocaleString("en")
    } characters)`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncate(text, max + 40);
}

function kind(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
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
