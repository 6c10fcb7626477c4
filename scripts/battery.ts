/**
 * `./quantlab battery <module.ts#export | built-in passer> [--quick] [--speech] [--out DIR]
 * [--timeout S] [--preflight-timeout S]`:
 * judge a gradient passer (or a quantizer) against every baseline on the proxy and write its
 * report card; `--speech` adds notebook 07's short real-speech check for a passer.
 *
 * Relative module paths resolve against the directory the command was run from
 * (`$QUANTLAB_CWD`, set by the wrapper). The page goes to `--out` (default `.cache/battery/`
 * under the repository); the last stdout line is a JSON summary with the page's path and the
 * verdicts. Exit status: 0 done, 1 the battery failed (a bad module, a failed run), 2 bad usage.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { battery, RUN_TIMEOUT_MS } from "../lib/battery/mod.ts";
import { PREFLIGHT_TIMEOUT_MS } from "../lib/battery/preflight.ts";
import { CandidateError } from "../lib/custom/candidate.ts";
import { writeBatteryPage } from "../lib/battery/page.ts";
import { PROFILES } from "../lib/experiments/common.ts";

const ROOT = resolve(import.meta.dirname!, "..");
const USAGE =
  `usage: ./quantlab battery <path/to/module.ts#export | passer kind> [--quick] [--speech] [--out DIR]
                         [--timeout SECONDS] [--preflight-timeout SECONDS]

Runs a passer at every bit budget of the sweep next to STE, STE + CL, mSTE, NA detached and
attached and soft-to-hard (read from the result cache when the paper-A notebooks have run), or a
quantizer (an export with build(bits, dim, rng, weights)) with STE + CL and mSTE next to the
built-in VQ with the same passers, and writes a self-contained report card.
--quick uses the quick profile (seconds to a minute). --speech adds notebook 07's short
real-speech check (a passer only): the candidate next to 07's passers in the DAC set-up.
--timeout fails a run (its worker killed) after SECONDS (default ${RUN_TIMEOUT_MS / 1000}; 0: no
limit); --preflight-timeout fails the preflight, run in its own process, after SECONDS (default
${PREFLIGHT_TIMEOUT_MS / 1000}): a forward or quantize that never returns.`;

function usage(message: string): never {
  console.error(`battery: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

async function commit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short=12", "HEAD"],
      cwd: ROOT,
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

if (import.meta.main) {
  let args;
  try {
    args = parseArgs({
      args: Deno.args,
      options: {
        quick: { type: "boolean", default: false },
        speech: { type: "boolean", default: false },
        out: { type: "string" },
        timeout: { type: "string" },
        "preflight-timeout": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    usage((e as Error).message);
  }
  if (args.values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (args.positionals.length !== 1) {
    usage("expected one candidate: module.ts#export or a built-in passer kind");
  }
  const cwd = Deno.env.get("QUANTLAB_CWD") ?? Deno.cwd();
  const out = args.values.out !== undefined
    ? resolve(cwd, args.values.out)
    : resolve(ROOT, ".cache", "battery");
  if (args.values.out === "") usage("--out is empty");
  const profile = args.values.quick ? PROFILES.quick : PROFILES.full;
  const seconds = (name: string, v: string | undefined, zero: boolean): number | undefined => {
    if (v === undefined) return undefined;
    const s = Number(v);
    if (v.trim() === "" || !Number.isFinite(s) || s < 0 || (!zero && s === 0)) {
      usage(
        `--${name} ${JSON.stringify(v)}: expected a number of seconds${
          zero ? " (0: no limit)" : " > 0"
        }`,
      );
    }
    return s * 1000;
  };
  const timeoutMs = seconds("timeout", args.values.timeout, true);
  const preflightTimeoutMs = seconds("preflight-timeout", args.values["preflight-timeout"], false);
  try {
    const card = await battery(args.positionals[0], {
      profile,
      cwd,
      speech: args.values.speech,
      timeoutMs,
      preflightTimeoutMs,
    });
    const path = await writeBatteryPage(card, out, {
      commit: await commit(),
      date: new Date().toISOString(),
    });
    for (const f of card.findings) console.error(`[${f.verdict}] ${f.claim}`);
    console.error(`report card: ${path}`);
    console.log(JSON.stringify({
      page: path,
      profile: profile.name,
      verdicts: Object.fromEntries(card.findings.map((f) => [f.id, f.verdict])),
    }));
  } catch (e) {
    console.error(`battery: ${e instanceof CandidateError ? e.message : (e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}
