/**
 * The OpenBLAS kernel pin (issue 20 §1): what is asked for, whether it took, and what a user is
 * told when the numbers will not be the reference's. Loading happens once per process, so the
 * environment cases run in subprocesses.
 */
import assert from "node:assert/strict";
import {
  CORETYPE_OVERRIDE,
  loadOpenBlas,
  missingCpuFlags,
  PINNED_CORETYPE,
  planCoretype,
  REFERENCE_GEMM,
} from "./blas.ts";

const HAVE_OPENBLAS = loadOpenBlas() != null;
const AVX2 = new Set(["sse2", "avx", "avx2", "fma"]);
const AVX512 = new Set([...AVX2, "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]);
const X86 = (flags: Set<string> | null) => ({ arch: "x86_64", flags });

Deno.test("the pin asks for Haswell and wins over a preset OPENBLAS_CORETYPE", () => {
  const plain = planCoretype({ override: null, preset: null }, X86(AVX512));
  assert.deepEqual([plain.wanted, plain.source, plain.notes], [PINNED_CORETYPE, "pin", []]);
  const preset = planCoretype({ override: null, preset: "SkylakeX" }, X86(AVX512));
  assert.equal(preset.wanted, PINNED_CORETYPE);
  assert.equal(preset.preset, "SkylakeX");
  assert.match(preset.notes[0], /OPENBLAS_CORETYPE=SkylakeX .* overridden by quantlab's pin/);
});

Deno.test("a CPU that cannot run the pinned kernel is not pinned, and says so", () => {
  const old = planCoretype({ override: null, preset: null }, X86(new Set(["sse2", "avx"])));
  assert.deepEqual([old.wanted, old.source], [null, "unpinned"]);
  assert.match(old.notes[0], /lacks avx2, fma.*differ from the recorded ones/);
  const arm = planCoretype({ override: null, preset: null }, { arch: "aarch64", flags: null });
  assert.deepEqual([arm.wanted, arm.source], [null, "unpinned"]);
  assert.match(arm.notes[0], /x86-64 only/);
});

Deno.test("the override says what it means, and a kernel the CPU lacks is refused", () => {
  const zen = planCoretype({ override: "Zen", preset: null }, X86(AVX2));
  assert.deepEqual([zen.wanted, zen.source], ["Zen", "override"]);
  assert.match(zen.notes[0], /QUANTLAB_OPENBLAS_CORETYPE=Zen replaces .*cached under keys of/);
  const sk = planCoretype({ override: "SkylakeX", preset: null }, X86(AVX2));
  assert.deepEqual([sk.wanted, sk.source], [PINNED_CORETYPE, "pin"]);
  assert.match(sk.notes[0], /SkylakeX ignored: this CPU lacks avx512f/);
  const auto = planCoretype({ override: "auto", preset: "Zen" }, X86(AVX2));
  assert.deepEqual([auto.wanted, auto.source], ["Zen", "override"]);
  assert.deepEqual(missingCpuFlags("Cooperlake", AVX512), []);
});

/** Load OpenBLAS in a fresh process with `env`; its report and stderr. */
async function loadIn(env: Record<string, string>) {
  const code = `import { loadOpenBlas } from ${
    JSON.stringify(new URL("./blas.ts", import.meta.url).href)
  };
    const b = loadOpenBlas();
    console.log(JSON.stringify({ core: b?.core, identity: b?.identity, pin: b?.pin,
      after: Deno.env.get("OPENBLAS_CORETYPE") ?? null }));`;
  const clean = { OPENBLAS_CORETYPE: "", [CORETYPE_OVERRIDE]: "" };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { NO_COLOR: "1", ...clean, ...env },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return {
    ...JSON.parse(new TextDecoder().decode(out.stdout)),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: "OpenBLAS runs the pinned kernel whatever OPENBLAS_CORETYPE asks, and the env is restored",
  ignore: !HAVE_OPENBLAS || Deno.build.arch !== "x86_64" || missingCpuFlags("Haswell").length > 0,
  async fn() {
    for (const asked of ["SkylakeX", "Cooperlake", "Zen"]) {
      const r = await loadIn({ OPENBLAS_CORETYPE: asked });
      assert.equal(r.core, PINNED_CORETYPE, `OPENBLAS_CORETYPE=${asked}`);
      assert.equal(r.identity, REFERENCE_GEMM);
      assert.equal(r.pin.took, true);
      assert.equal(r.pin.preset, asked);
      assert.equal(r.after, asked, "the process environment is as it was");
      assert.equal(r.stderr, "", "the pin won: nothing to warn about");
    }
  },
});

Deno.test({
  name: "QUANTLAB_OPENBLAS_CORETYPE overrides the pin and warns about reproducibility",
  ignore: !HAVE_OPENBLAS || Deno.build.arch !== "x86_64" || missingCpuFlags("Zen").length > 0,
  async fn() {
    const r = await loadIn({ [CORETYPE_OVERRIDE]: "Zen" });
    assert.equal(r.core, "Zen");
    assert.equal(r.identity, REFERENCE_GEMM.replace(PINNED_CORETYPE, "Zen"));
    assert.equal(r.pin.source, "override");
    assert.match(r.stderr, /QUANTLAB_OPENBLAS_CORETYPE=Zen replaces quantlab's pin/);
    assert.match(r.stderr, /results differ from the recorded ones/);
  },
});
