/**
 * A pool of worker processes (`worker.ts`), each reused for many jobs because a tfjs start
 * costs about a second. Processes rather than Web Workers: a crash or a leak stays in its
 * process, each has its own heap, and killing the parent kills nothing half-done in the store
 * (the parent writes results, atomically). [choice]
 *
 * - A job that throws comes back as a failure with its message; the pool goes on.
 * - A worker that dies mid-job (crash, OOM kill) is replaced and the job retried once; a second
 *   death makes it a failure.
 * - A job running longer than `jobTimeoutMs` has its worker killed and replaced, and fails
 *   without a retry (a hang is usually deterministic).
 * - A worker that cannot start (job module missing, setup throws, or not ready within
 *   `startTimeoutMs`) aborts the whole pool with a {@linkcode WorkerStartError}: every other job
 *   would fail the same way.
 * - When `signal` aborts, every worker is killed at once and the pool rejects with the reason;
 *   a job whose result was already handed to `onDone` is kept by the caller.
 *
 * @module
 */
import { resolve } from "node:path";
import type { RunConfig } from "../config.ts";
import type { JobRef } from "./job.ts";
import {
  describeError,
  type JobMessage,
  MARK,
  readLines,
  truncate,
  type WorkerMessage,
} from "./_protocol.ts";
import { decodeJson, encodeJson } from "./key.ts";

/** One job for the pool; `id` is the caller's and comes back in {@linkcode PoolOptions.onDone}. */
export interface PoolJob {
  id: number;
  config: RunConfig;
}

/** How a job ended. `attempts` counts runs (2 when a worker died and it was retried). */
export type PoolOutcome =
  | { ok: true; result: unknown; wallMs: number; attempts: number; gemm: string | null }
  | { ok: false; error: string; wallMs: number; attempts: number };

export interface PoolOptions {
  job: JobRef;
  /** Number of worker processes. */
  size: number;
  /** Called as each job ends, in completion order; a throw aborts the pool. */
  onDone: (job: PoolJob, outcome: PoolOutcome) => void | Promise<void>;
  /** Extra environment for the workers (added to this process's). */
  env?: Record<string, string>;
  /** Kill and fail a job running longer than this. Default: no limit. */
  jobTimeoutMs?: number;
  /** Replace a worker after this many jobs, to bound memory growth. Default: no limit. */
  maxJobsPerWorker?: number;
  /** Where worker stderr and pool notes go, a line at a time. Default: stderr. */
  log?: (line: string) => void;
  /** Names a job in pool notes. Default: its id. */
  describe?: (job: PoolJob) => string;
  /** Fail a worker that is not ready this long after it was spawned. Default 120 s. */
  startTimeoutMs?: number;
  /** Stop everything when this aborts; the pool then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Asked before each job is run; false skips it (no `onDone`), e.g. because another process
   * is computing it. Default: run everything.
   */
  take?: (job: PoolJob) => boolean | Promise<boolean>;
  /** Called when a job is handed to a worker. */
  onStart?: (job: PoolJob) => void;
  /** Called when a running job reports a finished epoch. */
  onEpoch?: (job: PoolJob, epoch: number, epochs: number) => void;
}

/** Default of {@linkcode PoolOptions.startTimeoutMs}: a tfjs start takes ~1 s, more under load. */
export const DEFAULT_START_TIMEOUT_MS = 120_000;

/** Longest delay `setTimeout` honours; longer ones fire at once (they overflow an int32). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolve after `ms` (any length: delays beyond the timer limit are chained); `cancel` stops it.
 * Infinity or undefined never resolves.
 */
export function delay(ms: number | undefined): { done: Promise<void>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const done = new Promise<void>((resolve) => {
    if (ms === undefined || !(ms < Infinity)) return;
    const end = performance.now() + Math.max(0, ms);
    const arm = () => {
      if (cancelled) return;
      const left = end - performance.now();
      if (left <= 0) return resolve();
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  });
  return {
    done,
    cancel: () => {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

/** A worker process could not start; the message says why (with its last stderr lines). */
export class WorkerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerStartError";
  }
}

const ROOT = resolve(import.meta.dirname!, "..", "..");
const WORKER = resolve(import.meta.dirname!, "worker.ts");

type RunReply =
  | { kind: "result"; result: unknown }
  | { kind: "error"; message: string }
  | { kind: "died"; detail: string }
  | { kind: "timeout" };

class WorkerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #inbox: (WorkerMessage | null)[] = [];
  #wake: (() => void) | undefined;
  readonly #tail: string[] = [];
  readonly #finished: Promise<Deno.CommandStatus>;
  #exited = false;
  /** The GEMM this worker computes with, from its ready message. */
  gemm: string | null = null;

  constructor(
    readonly name: string,
    job: JobRef,
    env: Record<string, string>,
    log: (l: string) => void,
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--config=${ROOT}/deno.json`, WORKER, job.url, job.exportName],
      env: { ...env, QUANTLAB_GRID_PARENT: String(Deno.pid) },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const out = (async () => {
      for await (const line of readLines(child.stdout)) {
        const at = line.indexOf(MARK);
        if (at !== 0) log(`[${name}] ${truncate(at < 0 ? line : line.slice(0, at))}`);
        if (at < 0) continue;
        let msg: WorkerMessage;
        try {
          msg = decodeJson(line.slice(at + MARK.length)) as WorkerMessage;
        } catch (err) {
          log(`[${name}] unreadable protocol message (${describeError(err, 200)})`);
          continue;
        }
        this.#push(msg);
      }
      this.#push(null);
    })();
    const err = (async () => {
      for await (const line of readLines(child.stderr)) {
        this.#tail.push(line);
        if (this.#tail.length > 8) this.#tail.shift();
        log(`[${name}] ${truncate(line)}`);
      }
    })();
    this.#finished = Promise.all([child.status, out, err]).then(([s]) => {
      this.#exited = true;
      return s;
    });
  }

  /** Resolves when the worker reports ready; throws WorkerStartError otherwise. */
  async ready(timeoutMs: number): Promise<void> {
    const timer = delay(timeoutMs);
    const msg = await Promise.race([this.#next(), timer.done.then(() => "timeout" as const)]);
    timer.cancel();
    if (msg === "timeout") {
      this.kill();
      await this.#finished;
      throw new WorkerStartError(
        `${this.name} was not ready within ${timeoutMs / 1000} s (the job module's import or ` +
          `setup() did not finish); killed it`,
      );
    }
    if (msg?.type === "ready") {
      this.gemm = msg.gemm ?? null;
      return;
    }
    if (msg?.type === "fatal") throw new WorkerStartError(msg.message);
    this.kill();
    throw new WorkerStartError(
      `${this.name} exited before it was ready (${await this.#death()})`,
    );
  }

  /** Run one job; never throws. */
  async run(
    job: PoolJob,
    timeoutMs: number | undefined,
    onEpoch?: (epoch: number, epochs: number) => void,
  ): Promise<RunReply> {
    try {
      const msg: JobMessage = { id: job.id, config: job.config };
      await this.#writer.write(new TextEncoder().encode(encodeJson(msg) + "\n"));
    } catch {
      this.kill();
      return { kind: "died", detail: await this.#death() };
    }
    const timer = delay(timeoutMs);
    const timeout = timer.done.then(() => "timeout" as const);
    try {
      while (true) {
        const msg = await Promise.race([this.#next(), timeout]);
        if (msg === "timeout") {
          this.kill();
          await this.#finished;
          return { kind: "timeout" };
        }
        if (msg === null) return { kind: "died", detail: await this.#death() };
        if (msg.type === "result" && msg.id === job.id) {
          return { kind: "result", result: msg.result };
        }
        if (msg.type === "error" && msg.id === job.id) {
          return { kind: "error", message: msg.message };
        }
        if (msg.type === "epoch" && msg.id === job.id) onEpoch?.(msg.epoch, msg.epochs);
      }
    } finally {
      timer.cancel();
    }
  }

  /** Close stdin so the worker exits; kill it if it has not after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = delay(graceMs);
    const how = await Promise.race([this.#finished, timer.done.then(() => "late" as const)]);
    timer.cancel();
    if (how === "late") this.kill();
    await this.#finished;
  }

  /** SIGKILL the worker (no-op once it has exited). Await {@linkcode close} to reap it. */
  kill(): void {
    if (this.#exited) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async #death(): Promise<string> {
    await this.#writer.close().catch(() => {});
    const s = await this.#finished;
    const how = s.signal ? `killed by ${s.signal}` : `exit code ${s.code}`;
    const tail = this.#tail.length ? `; last stderr: ${this.#tail.slice(-3).join(" | ")}` : "";
    return how + tail;
  }

  #push(msg: WorkerMessage | null): void {
    this.#inbox.push(msg);
    this.#wake?.();
  }

  async #next(): Promise<WorkerMessage | null> {
    while (this.#inbox.length === 0) await new Promise<void>((r) => (this.#wake = r));
    const msg = this.#inbox.shift()!;
    if (msg === null) this.#inbox.unshift(null);
    return msg;
  }
}

/**
 * Run `jobs` over `options.size` worker processes, calling `onDone` as each ends. Resolves when
 * all are done and every worker has exited.
 */
export async function runPool(jobs: readonly PoolJob[], options: PoolOptions): Promise<void> {
  const log = options.log ?? ((l: string) => console.error(l));
  const env = options.env ?? {};
  const maxJobs = options.maxJobsPerWorker ?? Infinity;
  const queue = [...jobs];
  const attempts = new Map<number, number>();
  const live = new Set<WorkerProcess>();
  let abort: unknown;
  let started = 0;

  const stopAll = (err: unknown) => {
    abort ??= err;
    for (const w of live) w.kill();
  };
  const signal = options.signal;
  const onAbort = () => stopAll(signal!.reason);
  if (signal?.aborted) throw signal.reason;
  signal?.addEventListener("abort", onAbort, { once: true });

  const start = async (lane: number): Promise<WorkerProcess> => {
    const w = new WorkerProcess(`worker ${lane}.${++started}`, options.job, env, log);
    live.add(w);
    if (abort !== undefined) w.kill();
    try {
      await w.ready(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      return w;
    } catch (err) {
      await retire(w, true);
      throw err;
    }
  };
  const retire = async (w: WorkerProcess, kill: boolean) => {
    if (kill) w.kill();
    live.delete(w);
    await w.close();
  };

  const lane = async (n: number): Promise<void> => {
    let w: WorkerProcess | undefined;
    let served = 0;
    try {
      while (abort === undefined) {
        const job = queue.shift();
        if (!job) break;
        if (options.take && !(await options.take(job))) continue;
        if (abort !== undefined) break;
        if (!w || served >= maxJobs) {
          if (w) await retire(w, false);
          w = await start(n);
          served = 0;
        }
        const tries = (attempts.get(job.id) ?? 0) + 1;
        attempts.set(job.id, tries);
        const t0 = performance.now();
        options.onStart?.(job);
        const reply = await w.run(
          job,
          options.jobTimeoutMs,
          options.onEpoch && ((epoch, epochs) => options.onEpoch!(job, epoch, epochs)),
        );
        const wallMs = performance.now() - t0;
        served++;
        if (abort !== undefined) break;
        if (reply.kind === "result") {
          const gemm = w.gemm;
          await options.onDone(job, {
            ok: true,
            result: reply.result,
            wallMs,
            attempts: tries,
            gemm,
          });
          continue;
        }
        if (reply.kind === "error") {
          await options.onDone(job, { ok: false, error: reply.message, wallMs, attempts: tries });
          continue;
        }
        await retire(w, true);
        w = undefined;
        if (reply.kind === "died" && tries < 2) {
          const what = options.describe?.(job) ?? `job ${job.id}`;
          log(
            `[grid] worker ${n} died (${reply.detail}) running ${what}; restarting it, retrying once`,
          );
          queue.unshift(job);
          continue;
        }
        const error = reply.kind === "timeout"
          ? `timed out after ${options.jobTimeoutMs} ms; worker killed`
          : `worker died on both attempts (${reply.detail})`;
        await options.onDone(job, { ok: false, error, wallMs, attempts: tries });
      }
    } catch (err) {
      stopAll(err);
    } finally {
      if (w) await retire(w, abort !== undefined);
    }
  };

  const lanes = Math.max(1, Math.min(options.size, jobs.length));
  try {
    await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i + 1)));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (abort !== undefined) throw abort;
}
