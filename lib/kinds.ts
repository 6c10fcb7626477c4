/**
 * What every kind of source, codec, quantizer and passer shares: the registry entry a kind
 * provides ({@linkcode Kind}: its defaults, its validation and its builder), the
 * {@linkcode ConfigError} its validation throws, and the field checks those validations use.
 * This module imports nothing from quantlab, so every kind's module can depend on it and
 * `config.ts` can walk the registries without an import cycle.
 *
 * @module
 */

/** Raised for an invalid configuration; names the field, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly field: string, readonly value: unknown, readonly expected: string) {
    super(`config.${field} = ${describeValue(value)} is invalid: expected ${expected}`);
    this.name = "ConfigError";
  }
}

/** Longest value shown in a {@linkcode ConfigError} message, in characters. [choice] */
export const MAX_SHOWN = 120;

/**
 * A value as a config message shows it: JSON where JSON can say it, else what it is (`10n`,
 * `Symbol(x)`, `a function`, `a Map`, `a Date (…)`), truncated to {@linkcode MAX_SHOWN}
 * characters with the full length said. Never throws.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    if (typeof value === "bigint") text = `${value}n`;
    else if (typeof value === "symbol") text = value.toString();
    else if (typeof value === "function") text = "a function";
    else if (value === undefined) text = "undefined";
    else if (value instanceof Date) text = `a Date (${String(value)})`;
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value);
      text = proto !== Object.prototype && proto !== null
        ? `a ${proto?.constructor?.name ?? "non-plain object"}`
        : JSON.stringify(value, _jsonSafe) ?? String(value);
    } else text = JSON.stringify(value, _jsonSafe) ?? String(value);
  } catch {
    text = `a ${typeof value} that cannot be shown`;
  }
  return text.length > MAX_SHOWN
    ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters)`
    : text;
}

function _jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "function") return "[function]";
  return v;
}

/**
 * One kind's registry entry (one shape for sources, codecs, quantizers and passers). A folder's
 * `mod.ts` maps each `kind` to one of these; `resolveConfig` fills a section from the kind's
 * `defaults`, then calls its `validate`; the trainer calls its `build`.
 *
 * @typeParam C the kind's config (with its `kind` field)
 * @typeParam B the builder's signature, which differs per folder
 * @typeParam X what validation needs from the other sections (quantizers: the latent dimension)
 */
export interface Kind<C, B, X = void> {
  /** The complete config of this kind, `kind` first: what an input naming the kind is filled from. */
  readonly defaults: C;
  /**
   * Fields an input may set although the defaults leave them out (absent from a resolved config
   * unless set, so configs written before they existed keep their cache keys).
   */
  readonly optional?: readonly string[];
  /** Throw a {@linkcode ConfigError} naming the first bad field (as `<section>.<field>`). */
  validate(config: C, context: X): void;
  /** Make the thing the config describes. */
  readonly build: B;
}

/** `one of "a", "b"`: the allowed names in an error message. */
export function oneOfText(names: readonly string[]): string {
  return `one of ${names.map((n) => JSON.stringify(n)).join(", ")}`;
}

/** Check an integer field in [min, max]. */
export function checkInt(
  field: string,
  v: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, v, `an integer in [${min}, ${max}]`);
  }
}

/** Check a finite number field in [min, max], or (min, max] when `open`. */
export function checkNumber(
  field: string,
  v: unknown,
  min: number,
  max: number,
  open = false,
): void {
  const ok = typeof v === "number" && Number.isFinite(v) &&
    (open ? v > min : v >= min) && v <= max;
  if (!ok) throw new ConfigError(field, v, `a finite number in ${open ? "(" : "["}${min}, ${max}]`);
}

/** Check that a field is one of `allowed`. */
export function checkOneOf(field: string, v: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(v as string)) throw new ConfigError(field, v, oneOfText(allowed));
}

/**
 * `<section>.module` and `<section>.moduleSha256`: both required for kind "custom" (a
 * `file:///…#export` reference and 64 hex digits), both absent otherwise.
 */
export function checkModuleFields(
  name: "passer" | "quantizer",
  v: { kind: string; module?: unknown; moduleSha256?: unknown },
  custom: boolean,
): void {
  if (custom !== (v.module !== undefined)) {
    throw new ConfigError(
      `${name}.module`,
      v.module,
      custom
        ? `a module reference "file:///path/module.ts#exportName" (${name}.kind = "custom")`
        : `no module: ${name}.module is only for ${name}.kind = "custom"`,
    );
  }
  if (custom) {
    if (typeof v.module !== "string" || !/^file:\/\/.+#[A-Za-z_$][\w$]*$/.test(v.module)) {
      throw new ConfigError(`${name}.module`, v.module, '"file:///path/module.ts#exportName"');
    }
    if (typeof v.moduleSha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.moduleSha256)) {
      throw new ConfigError(
        `${name}.moduleSha256`,
        v.moduleSha256,
        "the module's SHA-256 (64 hex digits)",
      );
    }
  } else if (v.moduleSha256 !== undefined) {
    throw new ConfigError(
      `${name}.moduleSha256`,
      v.moduleSha256,
      `no value: it is only for ${name}.kind = "custom"`,
    );
  }
}
