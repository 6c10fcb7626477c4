import assert from "node:assert/strict";
import { join } from "node:path";
import { comparePaired } from "../stats.ts";
import { assertFindings, validateFinding, validateFindings, VERDICTS } from "./findings.ts";

const good = {
  id: "A-knee",
  paper: "A",
  claim: "MSE stops falling at B_q = B.",
  metric: "MSE ratio between B_q = B and B_q = B + 2",
  measured: 0.98,
  verdict: "reproduced",
  notebook: "01_data.ipynb",
};

Deno.test("validateFindings accepts valid findings with each kind of measured value", () => {
  const list = [
    good,
    { ...good, id: "b", measured: "no divergence in 5 seeds", verdict: "not reproduced" },
    { ...good, id: "c", measured: { mse: 1e-3, diverged: false, epoch: null, name: "ste" } },
    { ...good, id: "d", verdict: "partially reproduced", detail: "2 of 3 seeds" },
  ];
  assert.deepEqual(validateFindings(list), []);
  assert.equal(assertFindings(list).length, 4);
});

Deno.test("validateFinding names every broken field", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, verdict: "yes" }, /verdict: "yes" is not one of/],
    [{ ...good, id: "" }, /\.id: expected a non-empty string/],
    [{ ...good, id: "a b" }, /\.id: "a b" must match/],
    [{ ...good, measured: Infinity }, /measured: Infinity is not a finite number/],
    [{ ...good, measured: { x: [1] } }, /measured\.x: expected a finite number/],
    [{ ...good, measured: {} }, /measured: empty object/],
    [{ ...good, measured: undefined }, /measured: missing/],
    [{ ...good, notebook: "x.py" }, /notebook: "x.py" must end in .ipynb/],
    [{ ...good, extra: 1 }, /extra: unknown field/],
    [{ ...good, claim: 3 }, /claim: expected a non-empty string/],
  ];
  for (const [f, re] of cases) {
    const errors = validateFinding(f);
    assert.ok(errors.some((e) => re.test(e)), `${JSON.stringify(f)} → ${errors}`);
  }
  const { notebook: _, ...noNotebook } = good;
  assert.ok(validateFinding(noNotebook).some((e) => /notebook: missing/.test(e)));
  assert.deepEqual(validateFinding(noNotebook, false), []);
});

Deno.test("validateFindings rejects non-arrays and repeated ids", () => {
  assert.match(validateFindings({})[0], /expected an array/);
  assert.ok(validateFindings([good, good]).some((e) => /A-knee repeats findings\[0\]/.test(e)));
  assert.throws(() => assertFindings([{ ...good, verdict: "?" }]), /invalid findings/);
});

Deno.test("the JSON schema and the validator agree on fields and verdicts", async () => {
  const schema = JSON.parse(
    await Deno.readTextFile(join(import.meta.dirname!, "findings.schema.json")),
  );
  const def = schema.$defs.finding;
  assert.equal(schema.type, "array");
  assert.deepEqual([...def.properties.verdict.enum].sort(), [...VERDICTS].sort());
  assert.deepEqual(def.required.sort(), Object.keys(good).sort());
  assert.equal(def.additionalProperties, false);
  for (const key of Object.keys(def.properties)) {
    assert.ok(
      !validateFinding({ ...good, [key]: (good as Record<string, unknown>)[key] ?? "x" })
        .some((e) => e.includes("unknown field")),
      `${key} is known to the validator`,
    );
  }
});

Deno.test("a comparison finding carries its paired stats, and its verdict is their outcome", async () => {
  const stats = comparePaired([0.1, 0.12, 0.09], [0.2, 0.21, 0.19], {
    claim: "lower",
    statistic: "validation MSE, mean of the last 3 epochs",
  });
  const f = { ...good, verdict: stats.outcome, stats };
  assert.deepEqual(validateFinding(JSON.parse(JSON.stringify(f))), []);
  assert.ok(
    validateFinding({ ...f, verdict: "not reproduced" }).some((e) =>
      /stats\.outcome: "reproduced" differs from the verdict "not reproduced"/.test(e)
    ),
  );
  const broken: [Record<string, unknown>, RegExp][] = [
    [{ ...stats, ci: [1] }, /stats\.ci: invalid value/],
    [{ ...stats, level: 95 }, /stats\.level: invalid value 95/],
    [{ ...stats, n: undefined }, /stats\.n: missing/],
    [{ ...stats, extra: 1 }, /stats\.extra: unknown field/],
    [{ ...stats, effect: { relative: 1 } }, /stats\.effect: invalid value/],
  ];
  for (const [s, re] of broken) {
    const errors = validateFinding({ ...f, stats: s });
    assert.ok(errors.some((e) => re.test(e)), `${JSON.stringify(s)} → ${errors}`);
  }
  const schema = JSON.parse(
    await Deno.readTextFile(join(import.meta.dirname!, "findings.schema.json")),
  );
  assert.deepEqual([...schema.$defs.stats.required].sort(), Object.keys(stats).sort());
  assert.deepEqual(
    Object.keys(schema.$defs.stats.properties).sort(),
    Object.keys(stats).sort(),
  );
});
