/**
 * Progress that updates in place in a notebook (like `tqdm.notebook`) and leaves one summary line.
 *
 * Inside Deno's Jupyter kernel a {@linkcode ProgressView} sends one `display_data` output with a
 * transient `display_id`, then `update_display_data` messages for that id (through
 * `Deno.jupyter.broadcast`, at most {@linkcode UPDATE_INTERVAL_MS} apart), and at the end
 * replaces it with a one-line summary: the saved notebook and the reports hold that line only.
 * Outside the kernel (scripts, tests) it prints a line to the console every few seconds and the
 * summary at the end; it never touches `Deno.jupyter` there (which throws).
 *
 * @example
 * ```ts
 * import { progressView } from "./progress.ts";
 * const bar = progressView("demo", { quiet: true });
 * bar.update(1, 2, "first half");
 * bar.finish("2 runs done");
 * ```
 *
 * @module
 */
import { escapeHtml } from "./report/html.ts";
import { inKernel } from "./interrupt.ts";
import { flushIopub } from "./iopub.ts";

/** Minimum time between two in-place updates (the last one is always sent). [choice] */
export const UPDATE_INTERVAL_MS = 250;
/** Minimum time between two console lines outside the kernel. [choice] */
export const CONSOLE_INTERVAL_MS = 2000;

/** MIME type of the machine-readable progress state carried in each update. */
export const PROGRESS_MIME = "application/vnd.quantlab.progress+json";

type Broadcast = (
  msgType: string,
  content: Record<string, unknown>,
) => Promise<void> | void;

function kernelBroadcast(): Broadcast | undefined {
  if (!inKernel()) return undefined;
  const jupyter = (Deno as unknown as { jupyter: { broadcast: Broadcast } }).jupyter;
  return (type, content) => jupyter.broadcast(type, content);
}

/** Options of {@linkcode progressView}. */
export interface ProgressOptions {
  /** Print nothing outside the kernel (tests). */
  quiet?: boolean;
  /** Send display messages here instead of the kernel (tests). */
  broadcast?: Broadcast;
  /**
   * The work this bar shows was stopped: once aborted, a bar not yet shown never appears (it
   * would land under a later cell) and a shown one only takes its final line.
   */
  signal?: AbortSignal;
}

/** A progress bar that updates in place; {@linkcode finish} leaves one summary line. */
export interface ProgressView {
  /** Show `done` of `total` with a detail line (throttled). */
  update(done: number, total: number, detail?: string): void;
  /** Replace the bar by a one-line summary (always sent; await it before the cell ends). */
  finish(summary: string): Promise<void>;
}

/** A text bar: `[########------------]`. */
export function textBar(done: number, total: number, width = 20): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const n = Math.round(f * width);
  return `[${"#".repeat(n)}${"-".repeat(width - n)}]`;
}

function barHtml(label: string, done: number, total: number, detail: string): string {
  const pct = total > 0 ? Math.min(100, Math.max(0, (100 * done) / total)) : 0;
  return `<div class="ql-progress" style="font-family:monospace;font-size:0.9em">` +
    `<span>${escapeHtml(label)}</span> ` +
    `<progress value="${pct.toFixed(1)}" max="100" style="width:16em;vertical-align:middle">` +
    `</progress> <span>${escapeHtml(detail)}</span></div>`;
}

let viewCounter = 0;

/** A progress view labelled `label` (e.g. the notebook's experiment name). */
export function progressView(label: string, options: ProgressOptions = {}): ProgressView {
  const broadcast = options.broadcast ?? kernelBroadcast();
  const displayId = `ql-progress-${crypto.randomUUID().slice(0, 8)}-${++viewCounter}`;
  let shown = false;
  let lastSent = -Infinity;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let latest: { data: Record<string, unknown> } | undefined;
  let finished = false;

  // The first output waits until earlier outputs are published (lib/iopub.ts), so it is
  // stamped with this cell; later ones follow it in order.
  let chain: Promise<void> | undefined;
  const send = (): Promise<void> => {
    if (!broadcast || !latest) return Promise.resolve();
    const type = shown ? "update_display_data" : "display_data";
    shown = true;
    lastSent = performance.now();
    const data = latest.data;
    const go = () => {
      if (options.signal?.aborted && !finished) return Promise.resolve();
      try {
        // Deno 2.9.6's broadcast returns undefined (measured), later versions a promise.
        return Promise.resolve(
          broadcast(type, { data, metadata: {}, transient: { display_id: displayId } }),
        ).catch(() => {});
      } catch {
        return Promise.resolve();
      }
    };
    chain = (chain ?? (options.broadcast ? Promise.resolve() : flushIopub())).then(go);
    return chain;
  };

  return {
    update(done, total, detail = "") {
      if (finished) return;
      const line = `${label} ${textBar(done, total)} ${done}/${total}${
        detail ? ` · ${detail}` : ""
      }`;
      if (!broadcast) {
        const now = performance.now();
        if (!options.quiet && now - lastSent >= CONSOLE_INTERVAL_MS) {
          lastSent = now;
          console.log(line);
        }
        return;
      }
      latest = {
        data: {
          "text/plain": line,
          "text/html": barHtml(
            label,
            done,
            total,
            `${done}/${total}${detail ? ` · ${detail}` : ""}`,
          ),
          [PROGRESS_MIME]: { label, done, total, detail, finished: false },
        },
      };
      const wait = UPDATE_INTERVAL_MS - (performance.now() - lastSent);
      if (!shown || wait <= 0) {
        clearTimeout(pending);
        pending = undefined;
        send();
      } else if (pending === undefined) {
        pending = setTimeout(() => {
          pending = undefined;
          if (!finished) send();
        }, wait);
      }
    },
    finish(summary) {
      if (finished) return Promise.resolve();
      finished = true;
      clearTimeout(pending);
      pending = undefined;
      const text = `${label}: ${summary}`;
      if (!broadcast) {
        if (!options.quiet) console.log(text);
        return Promise.resolve();
      }
      latest = {
        data: {
          "text/plain": text,
          "text/html": `<div class="ql-progress ql-done" style="font-family:monospace;` +
            `font-size:0.9em;color:#5c6166">${escapeHtml(text)}</div>`,
          [PROGRESS_MIME]: { label, summary, finished: true },
        },
      };
      return send();
    },
  };
}
