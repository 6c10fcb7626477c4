/**
 * `./quantlab data [--verify] [--held-out <speaker>] [--write-checksums]`: fetch quantlab's speech
 * corpus from Debian's packages into `.cache/speech/` (or `$QUANTLAB_SPEECH_DIR`), verify it
 * against `data/speech.sha256`, write its manifest, and print minutes and speakers per split.
 * A second run is a no-op. `--verify` re-hashes every file; `--write-checksums` regenerates the
 * checksum list (maintainers, after changing a package version in `data/packages.txt`).
 *
 * @module
 */
import { defaultSpeechDir, ensureSpeechData, summarize } from "../lib/audio/corpus.ts";

const args = [...Deno.args];
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const verify = flag("--verify");
const writeChecksums = flag("--write-checksums");
const quiet = flag("--quiet");
let heldOutSpeaker: string | undefined;
const h = args.indexOf("--held-out");
if (h >= 0) [, heldOutSpeaker] = args.splice(h, 2);
if (args.length > 0) {
  console.error(
    `data: unknown arguments ${args.join(" ")} ` +
      `(expected --verify, --held-out <speaker>, --write-checksums, --quiet)`,
  );
  Deno.exit(2);
}

const t0 = performance.now();
const dir = defaultSpeechDir();
try {
  const manifest = await ensureSpeechData({
    dir,
    heldOutSpeaker,
    verify: verify ? "full" : "changed",
    writeChecksums,
    log: (m) => console.error(`[data] ${m}`),
  });
  if (!quiet) {
    for (const s of summarize(manifest)) {
      console.log(
        `${s.split}: ${s.minutes.toFixed(1)} min, ${s.speakers.length} speakers, ${s.files} files`,
      );
      for (const sp of s.speakers) {
        console.log(
          `  ${sp.speaker.padEnd(40)} ${sp.languages.join(",").padEnd(6)} ` +
            `${sp.minutes.toFixed(2).padStart(6)} min  ${String(sp.files).padStart(4)} files`,
        );
      }
    }
    console.log(
      `manifest: ${dir}/manifest.json (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
} catch (err) {
  console.error(`data: ${(err as Error).message}`);
  Deno.exit(1);
}
