/**
 * The battery's `--speech` check: a researcher's passer trained by notebook 07's speech job (which
 * loads the module itself) next to 07's baselines, with a computed verdict, and a second run that
 * computes nothing. Uses the real corpus (fetched when missing), at tiny sizes.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { type Profile, PROFILES } from "../experiments/common.ts";
import { PASSERS as SPEECH_PASSERS } from "../experiments/speech.ts";
import { listeningKey } from "../experiments/speech_job.ts";
import { ArtifactStore } from "../store/artifacts.ts";
import { battery } from "./mod.ts";
import { renderBatteryPage } from "./page.ts";
import { storeEntries, withTempCache } from "./_testing.ts";

const FIXTURES = resolve(import.meta.dirname!, "../../tests/fixtures/passers.ts");

Deno.test({
  name: "battery --speech: the candidate in 07's DAC set-up next to 07's passers, verdict computed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempCache("quantlab-battery-speech-", async (store) => {
      const profile: Profile = {
        ...PROFILES.quick,
        epochs: 1,
        stepsPerEpoch: 5,
        seeds: [0],
        comparisonSeeds: [0, 1],
        validationFrames: 256,
        speech: {
          epochs: 2,
          stepsPerEpoch: 3,
          seeds: [0],
          validationSegments: 4,
          validationSamples: 2048,
          listen: 2,
        },
      };
      const options = { profile, budgets: [8], speech: true };
      const card = await battery(`${FIXTURES}#halfSte`, options);
      const check = card.speech!;
      assert.ok(check, "the speech check ran");
      assert.equal(check.setup.id, "dac");
      assert.deepEqual(
        check.groups.map((g) => g.label),
        [...SPEECH_PASSERS.map((g) => g.label), "half STE (candidate)"],
      );
      const mine = check.groups.at(-1)!.runs;
      assert.equal(mine.length, 1);
      assert.equal(mine[0].config.passer.kind, "custom");
      assert.equal(mine[0].config.quantizer.kind, "rvq");
      assert.equal(mine[0].history.length, 2, "trained for the profile's speech epochs");
      assert.ok(Number.isFinite(mine[0].final!.metrics!.siSdr));
      if (!mine[0].diverged) {
        assert.ok(
          await new ArtifactStore().getKeyed(listeningKey(mine[0].config)),
          "07's job kept the candidate's listening utterances",
        );
      }
      const finding = card.findings.find((f) => f.id === "battery-half-ste-speech-bounded")!;
      assert.ok(finding, "the speech verdict");
      const bounded = mine.every((r) =>
        !r.diverged && r.history.every((h) => h.maE <= 10 * r.history[0].maE)
      );
      assert.equal(finding.verdict, bounded ? "reproduced" : "not reproduced");
      for (const key of ["SI-SDR dB (mean)", "mel L1 (mean)", "peak batch MA-E"]) {
        assert.ok(key in (finding.measured as Record<string, unknown>), key);
      }
      const { page, problems } = renderBatteryPage(card, { commit: "test", date: "today" });
      assert.deepEqual(problems, []);
      for (
        const section of [
          "Real speech",
          "Validation SI-SDR",
          "mel L1",
          "stays bounded on real speech",
        ]
      ) {
        assert.ok(page.html.includes(section), `the page has "${section}"`);
      }

      const files = () => storeEntries(store);
      const first = await files();
      await battery(`${FIXTURES}#halfSte`, options);
      assert.deepEqual(await files(), first, "a second run computes nothing new");
    });
  },
});
