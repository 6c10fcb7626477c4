/**
 * What quantlab's speech corpus is made of: the committed package list (`data/packages.txt`) and
 * checksum list (`data/speech.sha256`), which files of each Debian package are used, whose voice
 * each is, and which split a speaker belongs to. Fetching is `corpus_fetch.ts`, the manifest and
 * loading `corpus.ts`.
 *
 * What is used (see {@linkcode PACKAGE_RULES}):
 * - Asterisk's prompt packages (8 kHz PCM16 WAV, CC-BY-SA-3.0; ru CC-BY-3.0), every `*.wav` under
 *   `usr/share/asterisk/sounds/` except the `silence/` folders.
 * - `pocketsphinx-testdata` (16 kHz, BSD-2): the LibriVox clips and the `cards` clips.
 * - `codec2-examples` (LGPL-2.1): the clean speech clips. Left out: `f2400`/`m2400` (codec2's own
 *   decoded output), `cross` (µ-law), `all` (a 57 s compilation of unknown processing), and the
 *   off-air HF radio recordings `ve9qrp`, `vk5qi`, `vk2tpm_004` (channel noise).
 *
 * Speakers [choice, from the packages' copyright files and folder names]: one speaker per
 * Asterisk voice — `en` and `es` are both Allison Smith (`en_US_f_Allison`, `es_MX_f_Allison`;
 * copyright "Recorded by: Allison Smith"), so they are one speaker in two languages; `fr` June
 * Wallack; `it` Carlo Flora (male); `ru` the ivrvoice.ru voice (female, name not given);
 * `it-menardi` Paola Dal Zot ("the voice" in its copyright). The LibriVox clips are one reader
 * (five consecutive utterances of one chapter); the `cards` clips are assumed one speaker; each
 * codec2 clip is assumed its own speaker (their voices are not documented).
 *
 * Split by speaker, never by file [choice]: validation = the LibriVox and `cards` clips, codec2's
 * clips, and one held-out Asterisk speaker (`heldOutSpeaker`, default June Wallack, fr); the other
 * Asterisk speakers train.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

/** The repository root (lib/audio/ → ../..). */
export const REPO_ROOT: string = resolve(import.meta.dirname ?? ".", "..", "..");
/** Committed list of packages: `package version licence`, one per line. */
export const PACKAGES_FILE: string = join(REPO_ROOT, "data", "packages.txt");
/** Committed checksums: `sha256  package/path`, one per used file (sha256sum's format). */
export const CHECKSUM_FILE: string = join(REPO_ROOT, "data", "speech.sha256");

export type Split = "train" | "validation";

/** One package of data/packages.txt. */
export interface PackageEntry {
  name: string;
  version: string;
  licence: string;
}

/** Which files of a package are used and whose voice they are. */
export interface PackageRule {
  /** Used files (paths inside the package); everything else is ignored. */
  use: (path: string) => boolean;
  /** Speaker id and language of a used file. */
  speaker: (path: string) => { speaker: string; language: string };
}

const _asterisk = (speaker: string, language: string): PackageRule => ({
  use: (p) =>
    p.startsWith("usr/share/asterisk/sounds/") && p.endsWith(".wav") && !p.includes("/silence/"),
  speaker: () => ({ speaker, language }),
});

const CODEC2_CLIPS = [
  "wav/big_dog.wav",
  "wav/david4.wav",
  "wav/forig.wav",
  "wav/hts1a.wav",
  "wav/hts2a.wav",
  "wav/mmt1.wav",
  "wav/morig.wav",
  "wav/wia_16kHz.wav",
  "raw/speech_orig_16k.wav",
].map((p) => `usr/share/codec2/${p}`);

const _base = (p: string) => p.slice(p.lastIndexOf("/") + 1).replace(/\.wav$/, "");

/** Per-package file selection and speaker identity (see the module comment for the sources). */
export const PACKAGE_RULES: Record<string, PackageRule> = {
  "asterisk-core-sounds-en-wav": _asterisk("asterisk:allison-smith", "en"),
  "asterisk-core-sounds-es-wav": _asterisk("asterisk:allison-smith", "es"),
  "asterisk-core-sounds-fr-wav": _asterisk("asterisk:june-wallack", "fr"),
  "asterisk-core-sounds-it-wav": _asterisk("asterisk:carlo-flora", "it"),
  "asterisk-core-sounds-ru-wav": _asterisk("asterisk:ivrvoice-ru", "ru"),
  "asterisk-prompt-it-menardi-wav": _asterisk("asterisk:paola-dal-zot", "it"),
  "pocketsphinx-testdata": {
    use: (p) => /^usr\/share\/pocketsphinx\/test\/data\/(librivox|cards)\/[^/]+\.wav$/.test(p),
    speaker: (p) => ({
      speaker: p.includes("/librivox/")
        ? "librivox:sense-and-sensibility-reader"
        : "pocketsphinx:cards",
      language: "en",
    }),
  },
  "codec2-examples": {
    use: (p) => CODEC2_CLIPS.includes(p),
    speaker: (p) => ({ speaker: `codec2:${_base(p)}`, language: "en" }),
  },
};

/** Default held-out Asterisk speaker of the validation split [choice]. */
export const DEFAULT_HELD_OUT = "asterisk:june-wallack";

/** The split of a speaker: every non-Asterisk voice and the held-out one validate. */
export function splitOf(speaker: string, heldOutSpeaker: string = DEFAULT_HELD_OUT): Split {
  return !speaker.startsWith("asterisk:") || speaker === heldOutSpeaker ? "validation" : "train";
}

/** Parse data/packages.txt (`#` comments, blank lines allowed). */
export function parsePackages(text: string, file = PACKAGES_FILE): PackageEntry[] {
  const out: PackageEntry[] = [];
  text.split("\n").forEach((line, i) => {
    const s = line.replace(/#.*/, "").trim();
    if (!s) return;
    const parts = s.split(/\s+/);
    if (parts.length !== 3) {
      throw new Error(
        `${file}:${i + 1}: expected "package version licence", got ${JSON.stringify(line)}`,
      );
    }
    const [name, version, licence] = parts;
    if (!PACKAGE_RULES[name]) {
      throw new Error(
        `${file}:${
          i + 1
        }: package ${name} has no rule in lib/audio/corpus_packages.ts PACKAGE_RULES`,
      );
    }
    out.push({ name, version, licence });
  });
  return out;
}

/** Parse a sha256sum-style list into path → hash. */
export function parseChecksums(text: string, file = CHECKSUM_FILE): Map<string, string> {
  const out = new Map<string, string>();
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) {
      throw new Error(`${file}:${i + 1}: expected "<sha256>  <path>", got ${JSON.stringify(line)}`);
    }
    out.set(m[2], m[1]);
  });
  return out;
}

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
