/**
 * Interrupting long library calls from Jupyter's stop button, without losing the kernel.
 *
 * How Deno 2.9.6's kernel is interrupted (measured with jupyter_client on this machine): the
 * kernelspec has no `interrupt_mode`, so Jupyter uses `signal` and sends SIGINT to the kernel's
 * process group. With no SIGINT listener the Deno kernel process dies (its state is lost, as in
 * denoland/deno#24491). With a listener registered through `Deno.addSignalListener("SIGINT")`
 * the kernel stays alive, keeps its variables, and the listener runs as soon as the event loop
 * is free; the cell itself goes on unless something checks for the interrupt.
 *
 * So this module registers one SIGINT listener (only inside the Jupyter kernel) and keeps a
 * process-wide {@linkcode AbortSignal} for "what is running now": {@linkcode currentSignal}. An
 * interrupt aborts it with an {@linkcode Interrupted} error and starts a fresh one, so calls made
 * after the interrupt run normally. Library calls that honour it: `run()` (lib/mod.ts),
 * `runConfigs()`/`runGroups()` (lib/experiments/common.ts, via the grid runner, whose workers are
 * killed and whose stored results are kept) and `train()` given `signal` (checked between steps;
 * a synchronous training step cannot be cut short, so an in-kernel run stops within one epoch,
 * when the trainer yields to the event loop). Plain user code (`await sleep(…)`, loops) is not
 * stopped: a note says so, and Restart stops it.
 *
 * @example
 * ```ts
 * import { currentSignal, Interrupted } from "./interrupt.ts";
 * const signal = currentSignal();
 * console.log(signal.aborted, new Interrupted("stopped").name); // false Interrupted
 * ```
 *
 * @module
 */

/** The error an interrupted library call rejects with. Its message says what was kept. */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor(message = "interrupted") {
    super(message);
  }
}

let controller = new AbortController();
let listening = false;
let active = 0;

/** True inside Deno's Jupyter kernel (`Deno.jupyter` exists only there). */
export function inKernel(): boolean {
  try {
    const jupyter = (Deno as unknown as { jupyter?: { broadcast?: unknown } }).jupyter;
    return typeof jupyter?.broadcast === "function";
  } catch {
    return false;
  }
}

/**
 * Interrupt whatever honours {@linkcode currentSignal} now: abort it with an
 * {@linkcode Interrupted} error and start a fresh signal for later calls. The SIGINT listener
 * calls this; tests may call it directly.
 */
export function interrupt(): void {
  const old = controller;
  controller = new AbortController();
  old.abort(new Interrupted("interrupted"));
}

/**
 * Register the SIGINT listener once, when running inside Jupyter's kernel (elsewhere Ctrl-C
 * keeps its usual meaning: the process ends). Returns whether it is registered.
 */
export function listenForInterrupts(force = false): boolean {
  if (listening) return true;
  if (!force && !inKernel()) return false;
  Deno.addSignalListener("SIGINT", () => {
    if (active === 0) {
      console.error(
        "[quantlab] interrupt received, but no quantlab call (run, runConfigs, train) is " +
          "running: plain code cannot be stopped in Deno's kernel and runs to its end " +
          "(Kernel → Restart stops it, losing the kernel's state).",
      );
    }
    interrupt();
  });
  listening = true;
  return true;
}

/**
 * The signal of "the current cell": aborted (with an {@linkcode Interrupted} reason) when the
 * user interrupts the kernel. Registers the SIGINT listener on first use inside the kernel.
 */
export function currentSignal(): AbortSignal {
  listenForInterrupts();
  return controller.signal;
}

/**
 * Run `body` with the current signal, counted as a library call in flight (so an interrupt
 * during it is not reported as unhandled). A rejection caused by the interrupt is turned into
 * an {@linkcode Interrupted} error with `describe()`'s message.
 */
export async function interruptible<T>(
  body: (signal: AbortSignal) => Promise<T>,
  describe: () => string = () => "interrupted",
): Promise<T> {
  const signal = currentSignal();
  active++;
  try {
    return await body(signal);
  } catch (err) {
    if (signal.aborted) throw new Interrupted(describe());
    throw err;
  } finally {
    active--;
  }
}

// Importing quantlab inside the kernel makes the stop button safe at once: without a listener a
// SIGINT ends Deno's kernel process and its state.
listenForInterrupts();
