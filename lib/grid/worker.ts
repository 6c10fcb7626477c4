/**
 * A grid worker process: `deno run -A lib/grid/worker.ts <job-module-url> <export>`.
 *
 * It imports the job module once, runs its `setup()` export if it has one (otherwise it
 * initialises the tfjs wasm backend, which `lib/train.ts` needs once per process), reports
 * ready (with the GEMM its results will come from), then runs the jobs it reads from stdin one
 * at a time as `job(config, { onEpoch })`, answering each on stdout (see `_protocol.ts`).
 *
 * Workers never outlive the grid process. On Linux the worker asks the kernel to SIGKILL it when
 * its parent dies (`prctl(PR_SET_PDEATHSIG)`), which works even while a long synchronous job
 * blocks the event loop; everywhere it also exits as soon as it sees EOF on stdin, which needs
 * the event loop to turn (between epochs of `train`, which yields after each).
 *
 * @module
 */
import {
  describeError,
  type JobMessage,
  MARK,
  readLines,
  type WorkerMessage,
} from "./_protocol.ts";
import { decodeJson, encodeJson } from "./key.ts";

/** What a job is called with besides its config. */
export interface JobOptions {
  /** Report that `record.epoch` of `epochs` epochs is done. */
  onEpoch(record: { epoch: number }, epochs: number): void;
}

type Job = (config: JobMessage["config"], options: JobOptions) => unknown;

const encoder = new TextEncoder();

/** Write one protocol message synchronously, so it goes out even from inside a blocking job. */
function send(msg: WorkerMessage): void {
  const bytes = encoder.encode(MARK + encodeJson(msg) + "\n");
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Linux: be SIGKILLed by the kernel when the parent dies. False where that is not available. */
function dieWithParent(): boolean {
  const parent = Number(Deno.env.get("QUANTLAB_GRID_PARENT"));
  if (Deno.build.os !== "linux" || !Number.isInteger(parent)) return false;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
      getppid: { parameters: [], result: "i32" },
    });
    const PR_SET_PDEATHSIG = 1, SIGKILL = 9n;
    const ok = libc.symbols.prctl(PR_SET_PDEATHSIG, SIGKILL, 0n, 0n, 0n) === 0;
    // The parent may have died before the request took effect: then we were re-parented.
    if (libc.symbols.getppid() !== parent) Deno.exit(0);
    return ok;
  } catch {
    return false;
  }
}

async function load(url: string, exportName: string): Promise<{ job: Job; gemm: string | null }> {
  const mod = await import(url);
  const job = mod[exportName];
  if (typeof job !== "function") {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === "function");
    throw new Error(
      `${url} has no exported function "${exportName}" (exported functions: ${
        names.join(", ") || "none"
      })`,
    );
  }
  let gemm: string | null = null;
  if (typeof mod.setup === "function") await mod.setup();
  else gemm = (await (await import("../backend.ts")).initBackend()).gemmIdentity ?? null;
  // A module with its own setup may say which GEMM it computes with.
  if (typeof mod.provenance === "function") gemm = (await mod.provenance())?.gemm ?? gemm;
  return { job: job as Job, gemm };
}

/** The reply for a job's return value: a result, or an error when it cannot be one. */
function replyFor(id: number, result: unknown): string {
  const kind = typeof result;
  if (result === undefined || kind === "function" || kind === "symbol") {
    return encodeJson(
      {
        type: "error",
        id,
        message: `the job returned ${
          kind === "undefined" ? "undefined" : `a ${kind}`
        }; a job must return a JSON value (object, array, string, number, boolean or null)`,
      } satisfies WorkerMessage,
    );
  }
  try {
    return encodeJson({ type: "result", id, result } satisfies WorkerMessage);
  } catch (err) {
    return encodeJson(
      {
        type: "error",
        id,
        message: `the job's result cannot be stored as JSON (${describeError(err)})`,
      } satisfies WorkerMessage,
    );
  }
}

async function main(): Promise<void> {
  const [url, exportName] = Deno.args;
  dieWithParent();
  // Job code may print; stdout belongs to the protocol.
  console.log = console.info = console.debug = console.error;

  const inbox: JobMessage[] = [];
  let wake: (() => void) | undefined;
  (async () => {
    for await (const line of readLines(Deno.stdin.readable)) {
      if (!line.trim()) continue;
      inbox.push(decodeJson(line) as JobMessage);
      wake?.();
    }
    Deno.exit(0);
  })();

  let loaded: Awaited<ReturnType<typeof load>>;
  try {
    loaded = await load(url, exportName);
  } catch (err) {
    send({ type: "fatal", message: `cannot load job ${url}#${exportName}: ${describeError(err)}` });
    Deno.exit(1);
  }
  send({ type: "ready", gemm: loaded.gemm });

  while (true) {
    const msg = inbox.shift();
    if (!msg) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    const onEpoch = (record: { epoch: number }, epochs: number) => {
      const epoch = Number(record?.epoch);
      send({ type: "epoch", id: msg.id, epoch, epochs: Number(epochs) });
    };
    let line: string;
    try {
      line = replyFor(msg.id, await loaded.job(msg.config, { onEpoch }));
    } catch (err) {
      line = encodeJson({ type: "error", id: msg.id, message: describeError(err) });
    }
    const bytes = encoder.encode(MARK + line + "\n");
    for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
  }
}

if (import.meta.main) await main();
