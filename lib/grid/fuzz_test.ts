/**
 * Fuzz the grid CLI (issue 14): random grid files, configs and options, from a fixed seed. Each
 * case must end, within a few seconds, in success (exit 0 and a JSON summary) or a named
 * rejection (exit 2, one `grid: …` message, no stack trace). Most cases run `status` and the
 * CLI in this process (cheap); a few valid ones really `run` the sleeping fake job.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../random.ts";
import { SLEEP_JOB, withTempDir } from "./_test_utils.ts";
import { main } from "../../scripts/grid.ts";
import { DEFAULTS } from "../config.ts";

/** A real section.field and a value that is often valid (its default, or a nearby number). */
function plausible(rng: Rng): [string, string, unknown] {
  const sections = ["train", "passer", "codec", "data"] as const;
  const section = sections[rng.int(sections.length)];
  const fields = Object.entries(DEFAULTS[section]).filter(([k]) => k !== "kind");
  const [field, def] = fields[rng.int(fields.length)];
  let v: unknown = def;
  if (typeof def === "number" && rng.int(2) === 0) v = [def * 2, def / 2, 1, -def][rng.int(4)];
  if (section === "train" && field === "epochs") v = 1 + rng.int(2);
  if (section === "train" && field === "stepsPerEpoch") v = 1 + rng.int(50);
  return [section, field, v];
}

const SECTIONS = ["data", "codec", "quantizer", "passer", "train", "constructor", "x", ""];
const FIELDS = [
  "epochs",
  "seed",
  "stepsPerEpoch",
  "kind",
  "bits",
  "levels",
  "valueOf",
  "__proto__",
  "hidden",
  "learningRate",
  "sigma",
];
const KINDS = ["ste", "mste", "vq", "fsq", "rvq", "simulated", "mlp", "toString", ""];

function value(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 1 ? 7 : 10)) {
    case 0:
      return rng.int(5);
    case 1:
      return [-1, 0, 0.5, 1e308, -1e-9, 2 ** 53, 3][rng.int(7)];
    case 2:
      return KINDS[rng.int(KINDS.length)];
    case 3:
      return null;
    case 4:
      return rng.int(2) === 0;
    case 5:
      return "z".repeat(rng.int(3) === 0 ? 20_000 : 3);
    case 6:
      return rng.int(2);
    case 7:
      return Array.from({ length: rng.int(4) }, () => value(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(3); i > 0; i--) {
        o[FIELDS[rng.int(FIELDS.length)]] = value(rng, depth + 1);
      }
      return o;
    }
  }
}

function partialConfig(rng: Rng): unknown {
  if (rng.int(8) === 0) return value(rng);
  const c: Record<string, Record<string, unknown>> = {};
  for (let i = rng.int(3); i > 0; i--) {
    const [section, field, v] = plausible(rng);
    c[section] ??= {};
    c[section][field] = v;
  }
  for (let i = rng.int(4) === 0 ? 1 : 0; i > 0; i--) {
    const section = SECTIONS[rng.int(SECTIONS.length)];
    c[section] ??= {};
    c[section][FIELDS[rng.int(FIELDS.length)]] = value(rng, 1);
  }
  if (rng.int(2) === 0) c.train = { ...c.train, epochs: 1 + rng.int(2) };
  return c;
}

function gridText(rng: Rng): string {
  switch (rng.int(8)) {
    case 0:
      return [
        "",
        "{",
        "[1,",
        "nul",
        "\u0000",
        '{"vary": {"train.seed": [1]}} trailing',
      ][rng.int(6)];
    case 1:
      return JSON.stringify(value(rng));
    case 2:
    case 3:
      return JSON.stringify(Array.from({ length: rng.int(4) }, () => partialConfig(rng)));
    default: {
      const spec: Record<string, unknown> = {};
      if (rng.int(3) > 0) spec.base = partialConfig(rng);
      const vary: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) {
        const r = rng.int(6);
        if (r < 3) {
          const [section, field, v] = plausible(rng);
          vary[`${section}.${field}`] = Array.from(
            { length: 1 + rng.int(3) },
            (_, j) => field === "seed" ? j : j === 0 ? v : plausible(rng)[2],
          );
          continue;
        }
        const path = r === 3
          ? ["", "a..b", ".x", "__proto__.y", "train.constructor", "train"][rng.int(6)]
          : `${SECTIONS[rng.int(SECTIONS.length)]}.${FIELDS[rng.int(FIELDS.length)]}`;
        vary[path] = rng.int(6) === 0
          ? value(rng)
          : Array.from({ length: rng.int(5) }, () => value(rng, 1));
      }
      if (rng.int(10) > 0) spec.vary = rng.int(12) === 0 ? value(rng) : vary;
      if (rng.int(12) === 0) spec.extra = 1;
      if (rng.int(15) === 0) spec.vary = { a: Array(1000).fill(1), b: Array(1000).fill(2) };
      return JSON.stringify(spec);
    }
  }
}

function options(rng: Rng): string[] {
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const out: string[] = [];
  if (rng.int(4) === 0) out.push("--shard", pick(["0/2", "1/2", "2/2", "-1/3", "a/b", "", "0/0"]));
  if (rng.int(5) === 0) out.push("--store", pick(["", " ", "store2"]));
  if (rng.int(6) === 0) {
    out.push(
      pick(["--workers", "--timeout", "--start-timeout"]),
      pick(["0", "-1", "abc", "1e3", "", "1.5", "2"]),
    );
  }
  if (rng.int(10) === 0) out.push(pick(["--bogus", "-x", "--job"]));
  return out;
}

Deno.test("fuzz: random grid files and options end in success or a named rejection (exit 2), never a hang or a stack trace", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(20261123);
    let runs = 0;
    const codes = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const file = join(dir, `grid-${i}.json`);
      await Deno.writeTextFile(file, gridText(rng));
      const command = rng.int(4) === 0 ? "run" : "status";
      const args = [
        command,
        file,
        "--store",
        join(dir, "store"),
        "--job",
        SLEEP_JOB,
        ...options(rng),
      ];
      const out: string[] = [];
      const err: string[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = new AbortController();
      const code = await Promise.race([
        main(args, {
          out: (l) => out.push(l),
          err: (l) => err.push(l),
          signal: stop.signal,
        }),
        new Promise<"hang">((r) => (timer = setTimeout(() => r("hang"), 15_000))),
      ]);
      clearTimeout(timer);
      const what = `case ${i}: ${args.join(" ")}\n${err.join("\n").slice(0, 2000)}`;
      if (code === "hang") {
        stop.abort();
        assert.fail(`hung: ${what}`);
      }
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const text = err.join("\n");
      assert.doesNotMatch(text, /^\s+at .*:\d+:\d+\)?$/m, `no stack trace: ${what}`);
      assert.ok(text.length < 20_000, `a short message: ${what}`);
      if (code === 0) {
        const summary = JSON.parse(out.at(-1)!);
        assert.equal(typeof summary.total, "number", what);
        if (command === "run") runs++;
      } else {
        assert.equal(code, 2, `exit 0 or 2: ${what}`);
        assert.match(err[0], /^grid: \S/, `a named rejection: ${what}`);
      }
    }
    // The generator must exercise both outcomes, and real runs, to mean anything.
    assert.ok((codes.get(0) ?? 0) >= 10 && (codes.get(2) ?? 0) >= 10, JSON.stringify([...codes]));
    assert.ok(runs >= 3, `${runs} real runs`);
    console.log(`fuzz: exit codes ${JSON.stringify([...codes])}, ${runs} real runs`);
  });
});
