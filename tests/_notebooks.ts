/** Helpers shared by the tests that run notebooks on the real Deno kernel. */
import { join, resolve } from "node:path";
import { writeKernelSpec } from "../scripts/kernel.ts";

export const ROOT = resolve(import.meta.dirname!, "..");
export const DENO = Deno.execPath();
export const PYTHON = "/usr/bin/python3";
export const EXECUTOR = join(ROOT, "scripts", "execute_notebook.py");

/** A minimal nbformat-4 notebook from cell sources (markdown when a source starts with "#"). */
export function notebook(sources: string[]): string {
  return JSON.stringify({
    cells: sources.map((s) =>
      s.startsWith("#")
        ? { cell_type: "markdown", metadata: {}, source: s }
        : { cell_type: "code", metadata: {}, source: s, outputs: [], execution_count: null }
    ),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** Result of running a command to completion. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command with the project-local kernelspec on JUPYTER_PATH. */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const loc = await writeKernelSpec();
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { JUPYTER_PATH: loc.jupyterPath, ...env },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Execute a notebook with scripts/execute_notebook.py; returns the run and the executed JSON. */
export async function execute(
  path: string,
  out: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Run & { nb: NotebookJson }> {
  const r = await run(PYTHON, [EXECUTOR, path, "--out", out, "--quiet", ...extra], env);
  let nb: NotebookJson = { cells: [], metadata: {} };
  try {
    nb = JSON.parse(await Deno.readTextFile(out));
  } catch { /* no output written */ }
  return { ...r, nb };
}

/** The parts of an executed notebook the tests read. */
export interface NotebookJson {
  cells: {
    cell_type: string;
    source: string | string[];
    outputs?: { output_type: string; text?: string | string[]; data?: Record<string, unknown> }[];
  }[];
  metadata: {
    quantlab?: {
      execution?: {
        ok: boolean;
        late_outputs: number;
        missing_outputs: number[];
        profile: string;
        recompute: boolean;
        epilogue?: unknown;
      };
    };
  };
}

/** The concatenated stream text of one cell. */
export function streamText(nb: NotebookJson, cell: number): string {
  return (nb.cells[cell].outputs ?? [])
    .filter((o) => o.output_type === "stream")
    .map((o) => Array.isArray(o.text) ? o.text.join("") : o.text ?? "")
    .join("");
}

/** A running `./quantlab jupyter` server (scripts/jupyter.ts) on a random port. */
export interface NotebookServer {
  /** `http://127.0.0.1:<port>` once it listens. */
  base: string;
  token: string;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Start the project's notebook server and wait (60 s at most) until it listens; throws with its
 * log when it does not. `env` is added to the server's environment.
 */
export async function startNotebookServer(
  env: Record<string, string> = {},
): Promise<NotebookServer> {
  const token = crypto.randomUUID();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      join(ROOT, "scripts", "jupyter.ts"),
      "--port",
      String(port),
      "--",
      `--NotebookApp.token=${token}`,
      "--NotebookApp.port_retries=50",
    ],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  let base = "";
  const deadline = Date.now() + 60_000;
  while (!base && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    log += value;
    base = log.match(/(http:\/\/127\.0\.0\.1:\d+)\//)?.[1] ?? "";
  }
  if (!base) {
    await stop();
    throw new Error(`the server did not start:\n${log}`);
  }
  (async () => {
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) log += r.value;
    } catch { /* closed */ }
  })();
  return { base, token, log: () => log, stop };
}
