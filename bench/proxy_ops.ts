/**
 * The default proxy step (batch 256, H = 128, L = 8, VQ 256) per gradient passer, with and without
 * quantlab's elementwise kernels (bias-row `Add`, fused PReLU gradient; all bit-identical), in one
 * process and interleaved so both see the same machine load. Prints CPU ms (user + system of this
 * process) and wall ms per step, medians over rounds, and the kernel calls per step.
 *
 *     deno run -A bench/proxy_ops.ts [--rounds 6] [--steps 40]
 *
 * @module
 */
import process from "node:process";
import { initBackend, tf } from "../lib/backend.ts";
import { PASSER_KINDS, resolveConfig } from "../lib/config.ts";
import { installKernels } from "../lib/kernels/mod.ts";
import { createSession } from "../lib/train.ts";

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) =>
    Deno.args.includes(name) ? Number(Deno.args[Deno.args.indexOf(name) + 1]) : fallback;
  const rounds = arg("--rounds", 6);
  const steps = arg("--steps", 40);
  await initBackend("wasm");
  const load = () => Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  console.log(`load ${load()}`);
  console.log("passer        before cpu/wall ms   after cpu/wall ms   kernel calls before→after");
  for (const kind of PASSER_KINDS) {
    const session = createSession(resolveConfig({ passer: { kind } }));
    const result = {
      before: { cpu: [] as number[], wall: [] as number[], calls: 0 },
      after: { cpu: [] as number[], wall: [] as number[], calls: 0 },
    };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ["before", "after"] as const) {
        installKernels({ elementwise: mode === "after" });
        for (let i = 0; i < 5; i++) session.step();
        const c0 = cpuMs();
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) session.step();
        result[mode].cpu.push((cpuMs() - c0) / steps);
        result[mode].wall.push((performance.now() - t0) / steps);
        if (r === 0) {
          result[mode].calls = (await tf.profile(() => void session.step())).kernels.length;
        }
      }
    }
    session.dispose();
    const f = (m: { cpu: number[]; wall: number[] }) =>
      `${median(m.cpu).toFixed(2).padStart(6)} / ${median(m.wall).toFixed(2).padStart(6)}`;
    console.log(
      `${kind.padEnd(13)} ${f(result.before).padStart(19)} ${f(result.after).padStart(19)}   ` +
        `${result.before.calls}→${result.after.calls}`,
    );
  }
  installKernels();
  console.log(`load ${load()}`);
}
