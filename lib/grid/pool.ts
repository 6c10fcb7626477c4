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
 * - A worker that cannot start (job module missing, setup throws) aborts the whole pool with a
 *   {@linkcode WorkerStartError}: every other job would fail the same way.
 *
 * @module
 */
import { resolve } from "node:path";
import type { RunConfig } from "../config.ts";
import type { JobRef } from "./job.ts";
import { type JobMessage, MARK, readLines, type WorkerMessage } from "./_protocol.ts";
import { decodeJson, encodeJson } from "./key.ts";

/** One job for the pool; `id` is the caller's and comes back in {@linkcode PoolOptions.onDone}. */
export interface PoolJob {
  id: number;
  config: RunConfig;
}

/** How a job ended. `attempts` counts runs (2 when a worker died and it was retried). */
export type PoolOutcome =
  | { ok: true; result: unknown; wallMs: number; attempts: number }
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

  constructor(
    readonly name: string,
    job: JobRef,
    env: Record<string, string>,
    log: (l: string) => void,
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--config=${ROOT}/deno.json`, WORKER, job.url, job.exportName],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const out = (async () => {
      for await (const line of readLines(child.stdout)) {
        if (line.startsWith(MARK)) this.#push(decodeJson(line.slice(MARK.length)) as WorkerMessage);
        else log(`[${name}] ${line}`);
      }
      this.#push(null);
    })();
    const err = (async () => {
      for await (const line of readLines(child.stderr)) {
        this.#tail.push(line);
        if (this.#tail.length > 8) this.#tail.shift();
        log(`[${name}] ${line}`);
      }
    })();
    this.#finished = Promise.all([child.status, out, err]).then(([s]) => {
      this.#exited = true;
      return s;
    });
  }

  /** Resolves when the worker reports ready; throws WorkerStartError otherwise. */
  async ready(): Promise<void> {
    const msg = await this.#next();
    if (msg?.type === "ready") return;
    if (msg?.type === "fatal") throw new WorkerStartError(msg.message);
    this.kill();
    throw new WorkerStartError(
      `${this.name} exited before it was ready (${await this.#death()})`,
    );
  }

  /** Run one job; never throws. */
  async run(job: PoolJob, timeoutMs: number | undefined): Promise<RunReply> {
    try {
      const msg: JobMessage = { id: job.id, config: job.config };
      await this.#writer.write(new TextEncoder().encode(encodeJson(msg) + "\n"));
    } catch {
      this.kill();
      return { kind: "died", detail: await this.#death() };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => {
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => r("timeout"), timeoutMs);
      }
    });
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
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Close stdin so the worker exits; kill it if it has not after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), graceMs)));
    const how = await Promise.race([this.#finished, late]);
    clearTimeout(timer);
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

  const start = async (lane: number): Promise<WorkerProcess> => {
    const w = new WorkerProcess(`worker ${lane}.${++started}`, options.job, env, log);
    live.add(w);
    try {
      await w.ready();
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
        if (!w || served >= maxJobs) {
          if (w) await retire(w, false);
          w = await start(n);
          served = 0;
        }
        const tries = (attempts.get(job.id) ?? 0) + 1;
        attempts.set(job.id, tries);
        const t0 = performance.now();
        const reply = await w.run(job, options.jobTimeoutMs);
        const wallMs = performance.now() - t0;
        served++;
        if (abort !== undefined) break;
        if (reply.kind === "result") {
          await options.onDone(job, { ok: true, result: reply.result, wallMs, attempts: tries });
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
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i + 1)));
  if (abort !== undefined) throw abort;
}
