/**
 * The project-local Jupyter kernelspec for Deno: `.cache/jupyter/kernels/quantlab-deno/kernel.json`.
 * Jupyter finds it when `JUPYTER_PATH` points at `.cache/jupyter`, so nothing is written to the
 * per-user Jupyter folder and the binary path is always this machine's `Deno.execPath()`.
 *
 * Run directly (`deno run -A scripts/kernel.ts`) to (re)write the spec and print `JUPYTER_PATH`.
 *
 * @module
 */
import { join, resolve } from "node:path";

/** Name Jupyter knows the kernel by (`--kernel quantlab-deno`, notebook metadata `kernelspec.name`). */
export const KERNEL_NAME = "quantlab-deno";

/** The repository root (this file lives in `<root>/scripts/`). */
export const ROOT: string = resolve(import.meta.dirname!, "..");

/** Where the kernelspec was written and the environment Jupyter needs to find it. */
export interface KernelSpecLocation {
  /** Directory to put in `JUPYTER_PATH`. */
  jupyterPath: string;
  /** The `kernel.json` that was written. */
  specFile: string;
  name: string;
}

/** The kernelspec contents for the Deno binary at `denoPath`. */
export function kernelSpec(denoPath: string = Deno.execPath()): Record<string, unknown> {
  return {
    argv: [denoPath, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno (quantlab)",
    language: "typescript",
    env: { NO_COLOR: "1" },
  };
}

/**
 * Write the kernelspec under `<root>/.cache/jupyter` (idempotent, atomic) and return where it is.
 *
 * @example
 * ```ts
 * const { jupyterPath } = await writeKernelSpec();
 * // spawn /usr/bin/jupyter with env JUPYTER_PATH=jupyterPath
 * ```
 */
export async function writeKernelSpec(root: string = ROOT): Promise<KernelSpecLocation> {
  const jupyterPath = join(root, ".cache", "jupyter");
  const dir = join(jupyterPath, "kernels", KERNEL_NAME);
  await Deno.mkdir(dir, { recursive: true });
  const specFile = join(dir, "kernel.json");
  const text = JSON.stringify(kernelSpec(), null, 2) + "\n";
  const current = await Deno.readTextFile(specFile).catch(() => "");
  if (current !== text) {
    // Atomic: several engineers and test runs share this checkout and may start kernels meanwhile.
    const tmp = `${specFile}.${Deno.pid}.tmp`;
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, specFile);
  }
  return { jupyterPath, specFile, name: KERNEL_NAME };
}

/** Environment for a Jupyter process: the current one plus `JUPYTER_PATH` (prepended). */
export function jupyterEnv(loc: KernelSpecLocation): Record<string, string> {
  const env = Deno.env.toObject();
  const prev = env.JUPYTER_PATH;
  env.JUPYTER_PATH = prev ? `${loc.jupyterPath}:${prev}` : loc.jupyterPath;
  return env;
}

if (import.meta.main) {
  const loc = await writeKernelSpec();
  console.error(`[kernel] wrote ${loc.specFile}`);
  console.log(`JUPYTER_PATH=${loc.jupyterPath}`);
}
