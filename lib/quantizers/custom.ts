/**
 * A researcher's own quantizer (`quantizer.kind = "custom"`): its config, defaults and
 * validation. The module itself is loaded by `lib/custom/mod.ts` and handed to the builder.
 *
 * @module
 */
import { checkModuleFields, checkNumber } from "../kinds.ts";

/**
 * A researcher's own quantizer, from a module (see `lib/custom/candidate.ts`), built at `bits`
 * per frame. Only the battery's job (`lib/battery/job.ts`) loads it; the fields exist only for
 * this kind, so the built-in kinds' resolved configs and cache keys are unchanged.
 */
export interface CustomQuantizerConfig {
  kind: "custom";
  /** Bits B_q per frame the module is asked to build, and must report as its `bits`. */
  bits: number;
  /** The module as `file:///abs/path.ts#exportName`. */
  module: string;
  /** SHA-256 of the module's source, so an edited module is a new run. */
  moduleSha256: string;
}

/** Defaults: 8 bits; `module` and `moduleSha256` have none (they must be given). */
export const CUSTOM_QUANTIZER_DEFAULTS = { kind: "custom", bits: 8 } as CustomQuantizerConfig;

/** Throw a `ConfigError` naming the first bad field (as `quantizer.<field>`). */
export function validateCustomQuantizer(q: CustomQuantizerConfig): void {
  checkNumber("quantizer.bits", q.bits, 0, 64, true);
  checkModuleFields("quantizer", q, true);
}
