/**
 * A grid worker process: `deno run -A lib/grid/worker.ts <job-module-url> <export>`.
 *
 * It imports the job module once, runs its `setup()` export if it has one (otherwise it
 * initialises the tfjs wasm backend, which `lib/train.ts` needs once per process), reports
 * ready, then runs the jobs it reads from stdin one at a time, answering each on stdout (see
 * `_protocol.ts`). It exits when stdin closes, at once even mid-job, so workers never outlive
 * a parent that was killed.
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

type Job = (config: JobMessage["config"]) => unknown;

const encoder = new TextEncoder();

async function send(msg: WorkerMessage): Promise<void> {
  const bytes = encoder.encode(MARK + encodeJson(msg) + "\n");
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}

async function load(url: string, exportName: string): Promise<Job> {
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
  if (typeof mod.setup === "function") await mod.setup();
  else await (await import("../backend.ts")).initBackend();
  return job as Job;
}

async function main(): Promise<void> {
  const [url, exportName] = Deno.args;
  // Job code may print; stdout belongs to the protocol.
  console.log = console.info = console.debug = console.error;

  let job: Job;
  try {
    job = await load(url, exportName);
  } catch (err) {
    await send({
      type: "fatal",
      message: `cannot load job ${url}#${exportName}: ${describeError(err)}`,
    });
    Deno.exit(1);
  }
  await send({ type: "ready" });

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

  while (true) {
    const msg = inbox.shift();
    if (!msg) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    let reply: WorkerMessage;
    try {
      reply = { type: "result", id: msg.id, result: await job(msg.config) };
    } catch (err) {
      reply = { type: "error", id: msg.id, message: describeError(err) };
    }
    await send(reply);
  }
}

if (import.meta.main) await main();
