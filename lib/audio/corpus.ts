/**
 * Real speech from Debian's packages, ready to use: `ensureSpeechData` fetches what is missing
 * (`corpus_fetch.ts`), verifies every used file against the committed checksum list
 * `data/speech.sha256` and describes the corpus by a manifest, split by speaker (which packages,
 * files, speakers and split: `corpus_packages.ts`); `loadSplit` and `exampleUtterances` read it
 * at a sample rate, `summarize` counts it.
 *
 * A second run is a no-op: packages already extracted are skipped, and a file is re-hashed only
 * when its size or modification time differs from the manifest's record (`verify: "full"`
 * re-hashes everything). The `.deb` files themselves are verified by apt against Debian's signed
 * archive; quantlab verifies every extracted file it uses.
 *
 * @example
 * ```ts ignore
 * import { ensureSpeechData, loadSplit } from "./corpus.ts";
 * const manifest = await ensureSpeechData(); // fetches on first use
 * const train = await loadSplit(manifest, "train", 8000);
 * ```
 *
 * @module
 */
import { dirname, join } from "node:path";
import { decodeWav, wavInfo } from "./wav.ts";
import { resample } from "./resample.ts";
import {
  CHECKSUM_FILE,
  DEFAULT_HELD_OUT,
  PACKAGE_RULES,
  PACKAGES_FILE,
  parseChecksums,
  parsePackages,
  REPO_ROOT,
  sha256,
  type Split,
  splitOf,
} from "./corpus_packages.ts";
import { fetchPackage, LOCK_TIMEOUT_MS, lockCorpus, usedFiles } from "./corpus_fetch.ts";

/** Where the corpus is extracted: `$QUANTLAB_SPEECH_DIR`, else `.cache/speech/` (git-ignored). */
export function defaultSpeechDir(): string {
  return Deno.env.get("QUANTLAB_SPEECH_DIR") ?? join(REPO_ROOT, ".cache", "speech");
}

/** One used file, as the manifest records it. */
export interface ManifestEntry {
  /** Path relative to the corpus directory: `<package>/usr/share/...`. */
  file: string;
  package: string;
  version: string;
  licence: string;
  speaker: string;
  language: string;
  /** Seconds. */
  duration: number;
  /** The file's own sample rate (the loader resamples to the corpus rate). */
  sampleRate: number;
  split: Split;
  sha256: string;
  bytes: number;
  mtimeMs: number;
}

/** The manifest written to `<dir>/manifest.json`. */
export interface Manifest {
  heldOutSpeaker: string;
  files: ManifestEntry[];
}

/**
 * Whether a manifest entry's duration and sample rate fit its file: a usual sample rate, and
 * between 1 and 16 bytes per frame (8-bit mono to 32-bit 4 channels, headers aside), or no frames
 * in a file no larger than a header (Asterisk's Russian package ships a 44-byte `is.wav`). When
 * not, the file is read again, so an edited duration costs a read, never a wrong corpus.
 */
function _plausible(e: ManifestEntry, bytes: number): boolean {
  if (![8000, 16000, 22050, 44100, 48000].includes(e.sampleRate)) return false;
  const frames = e.duration * e.sampleRate;
  if (frames === 0) return bytes <= EMPTY_WAV_BYTES;
  return Number.isFinite(frames) && frames > 0 && frames <= bytes && frames * 16 >= bytes;
}

/** The largest file {@linkcode _plausible} accepts with no frames: a RIFF header with room for extra chunks. */
const EMPTY_WAV_BYTES = 256;

/** Options of {@linkcode ensureSpeechData}. */
export interface SpeechDataOptions {
  /** Corpus directory (default {@linkcode defaultSpeechDir}). */
  dir?: string;
  /** The held-out Asterisk speaker of the validation split (default June Wallack). */
  heldOutSpeaker?: string;
  /** "changed" (default) re-hashes files whose size or mtime changed; "full" re-hashes all. */
  verify?: "changed" | "full";
  /** Write data/speech.sha256 from the extracted files instead of checking (maintainers only). */
  writeChecksums?: boolean;
  packagesFile?: string;
  checksumFile?: string;
  log?: (msg: string) => void;
  /** Run `apt-get update` (as root) when a download fails (default true). */
  allowAptUpdate?: boolean;
  /** How long to wait for another fetch into `dir` (default {@linkcode LOCK_TIMEOUT_MS}). */
  lockTimeoutMs?: number;
}

/**
 * Fetch what is missing, verify every used file against the checksum list, and write
 * `<dir>/manifest.json`. Throws naming the package and file on a missing package, a missing or
 * extra file, or a checksum mismatch.
 */
export async function ensureSpeechData(opts: SpeechDataOptions = {}): Promise<Manifest> {
  const dir = opts.dir ?? defaultSpeechDir();
  const log = opts.log ?? (() => {});
  const unlock = await lockCorpus(dir, log, opts.lockTimeoutMs ?? LOCK_TIMEOUT_MS);
  try {
    return await _ensureSpeechData(dir, log, opts);
  } finally {
    await unlock();
  }
}

async function _ensureSpeechData(
  dir: string,
  log: (msg: string) => void,
  opts: SpeechDataOptions,
): Promise<Manifest> {
  const heldOutSpeaker = opts.heldOutSpeaker ?? DEFAULT_HELD_OUT;
  const packagesFile = opts.packagesFile ?? PACKAGES_FILE;
  const checksumFile = opts.checksumFile ?? CHECKSUM_FILE;
  const packages = parsePackages(await Deno.readTextFile(packagesFile), packagesFile);
  const asteriskSpeakers = new Set(
    packages.flatMap((p) => {
      const s = PACKAGE_RULES[p.name].speaker("").speaker;
      return s.startsWith("asterisk:") ? [s] : [];
    }),
  );
  if (!asteriskSpeakers.has(heldOutSpeaker)) {
    throw new Error(
      `speech data: heldOutSpeaker ${JSON.stringify(heldOutSpeaker)} is not an Asterisk speaker; ` +
        `expected one of ${[...asteriskSpeakers].join(", ")}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const state = { updated: false };
  for (const pkg of packages) {
    await fetchPackage(dir, pkg, log, state, opts.allowAptUpdate ?? true);
  }
  await Deno.remove(join(dir, ".download"), { recursive: true }).catch(() => {});

  const manifestPath = join(dir, "manifest.json");
  const previous = new Map<string, ManifestEntry>();
  if (
    opts.verify !== "full" && !opts.writeChecksums &&
    await Deno.stat(manifestPath).then(() => true, () => false)
  ) {
    try {
      const old = JSON.parse(await Deno.readTextFile(manifestPath)) as Manifest;
      for (const e of old.files) previous.set(e.file, e);
    } catch {
      // An unreadable manifest is rebuilt from scratch.
    }
  }
  const checksums = opts.writeChecksums
    ? new Map<string, string>()
    : parseChecksums(await Deno.readTextFile(checksumFile), checksumFile);
  const files: ManifestEntry[] = [];
  const seen = new Set<string>();
  let hashed = 0;
  for (const pkg of packages) {
    const rule = PACKAGE_RULES[pkg.name];
    for (const file of usedFiles(dir, pkg.name)) {
      seen.add(file);
      const full = join(dir, file);
      const st = await Deno.stat(full);
      const mtimeMs = st.mtime?.getTime() ?? 0;
      const old = previous.get(file);
      const expected = checksums.get(file);
      if (!opts.writeChecksums && expected === undefined) {
        throw new Error(
          `speech data: package ${pkg.name}: file ${file} is not in ${checksumFile} ` +
            `(the package's content changed?)`,
        );
      }
      // What the package list and rules say is always recomputed, so an edited manifest field
      // (a speaker relabelled into the held-out split) cannot survive; only measurements are
      // reused.
      const { speaker, language } = rule.speaker(file.slice(pkg.name.length + 1));
      const derived = {
        file,
        package: pkg.name,
        version: pkg.version,
        licence: pkg.licence,
        speaker,
        language,
        split: splitOf(speaker, heldOutSpeaker),
      };
      let entry: ManifestEntry | undefined;
      if (old && old.bytes === st.size && old.mtimeMs === mtimeMs && old.sha256 === expected) {
        // A duration that does not fit the file's size re-reads the file.
        const edited = (Object.keys(derived) as (keyof typeof derived)[]).filter((k) =>
          k !== "split" && old[k] !== derived[k]
        );
        if (edited.length > 0) {
          log(
            `manifest: ${file}: ${
              edited.map((k) => `${k} ${JSON.stringify(old[k])} ≠ ${JSON.stringify(derived[k])}`)
                .join(", ")
            } (not what the package list says); rebuilt`,
          );
        }
        if (_plausible(old, st.size)) {
          entry = {
            ...derived,
            duration: old.duration,
            sampleRate: old.sampleRate,
            sha256: old.sha256,
            bytes: st.size,
            mtimeMs,
          };
        } else log(`manifest: ${file}: duration or sample rate does not fit the file; re-read`);
      }
      if (!entry) {
        const bytes = await Deno.readFile(full);
        const hash = sha256(bytes);
        hashed++;
        if (!opts.writeChecksums && hash !== expected) {
          throw new Error(
            `speech data: package ${pkg.name}: checksum mismatch for ${file} ` +
              `(sha256 ${hash}, expected ${expected} from ${checksumFile})`,
          );
        }
        const wav = wavInfo(bytes, full);
        entry = {
          ...derived,
          duration: wav.frames / wav.sampleRate,
          sampleRate: wav.sampleRate,
          sha256: hash,
          bytes: st.size,
          mtimeMs,
        };
      }
      files.push(entry);
    }
  }
  for (const file of checksums.keys()) {
    if (!seen.has(file)) {
      const pkg = file.slice(0, file.indexOf("/"));
      throw new Error(
        `speech data: package ${pkg}: file ${file} listed in ${checksumFile} is missing`,
      );
    }
  }
  if (opts.writeChecksums) {
    await Deno.mkdir(dirname(checksumFile), { recursive: true });
    await Deno.writeTextFile(checksumFile, files.map((f) => `${f.sha256}  ${f.file}\n`).join(""));
    log(`wrote ${files.length} checksums to ${checksumFile}`);
  }
  const manifest: Manifest = { heldOutSpeaker, files };
  const text = JSON.stringify(manifest, null, 1) + "\n";
  const oldText = await Deno.readTextFile(manifestPath).catch(() => "");
  if (text !== oldText) await Deno.writeTextFile(manifestPath, text);
  log(`verified ${files.length} files (${hashed} hashed now)`);
  return manifest;
}

/** Minutes, speakers and files per split (and per speaker), for printing. */
export interface SplitSummary {
  split: Split;
  minutes: number;
  files: number;
  speakers: { speaker: string; languages: string[]; minutes: number; files: number }[];
}

/** Summarise a manifest per split. */
export function summarize(manifest: Manifest): SplitSummary[] {
  return (["train", "validation"] as const).map((split) => {
    const files = manifest.files.filter((f) => f.split === split);
    const bySpeaker = new Map<string, ManifestEntry[]>();
    for (const f of files) bySpeaker.set(f.speaker, [...(bySpeaker.get(f.speaker) ?? []), f]);
    return {
      split,
      minutes: files.reduce((s, f) => s + f.duration, 0) / 60,
      files: files.length,
      speakers: [...bySpeaker].map(([speaker, fs]) => ({
        speaker,
        languages: [...new Set(fs.map((f) => f.language))],
        minutes: fs.reduce((s, f) => s + f.duration, 0) / 60,
        files: fs.length,
      })),
    };
  });
}

/** One utterance at the corpus rate. */
export interface Utterance {
  file: string;
  speaker: string;
  language: string;
  sampleRate: number;
  samples: Float32Array;
}

/**
 * Read a split's files, resampled to `sampleRate` (libsamplerate's best sinc; files already at the
 * rate are used as they are). `dir` defaults to {@linkcode defaultSpeechDir}.
 */
export async function loadSplit(
  manifest: Manifest,
  split: Split,
  sampleRate: number,
  dir: string = defaultSpeechDir(),
): Promise<Utterance[]> {
  const out: Utterance[] = [];
  for (const f of manifest.files) {
    if (f.split !== split) continue;
    const wav = decodeWav(await Deno.readFile(join(dir, f.file)), join(dir, f.file));
    out.push({
      file: f.file,
      speaker: f.speaker,
      language: f.language,
      sampleRate,
      samples: await resample(wav.samples, wav.sampleRate, sampleRate),
    });
  }
  return out;
}

/**
 * One example utterance per listed speaker (default: every speaker, manifest order): the longest
 * file of at most `maxSeconds` (default 4), loaded at `sampleRate`. For listening tables.
 */
export async function exampleUtterances(
  manifest: Manifest,
  sampleRate: number,
  opts: { speakers?: string[]; maxSeconds?: number; dir?: string } = {},
): Promise<(Utterance & { split: Split })[]> {
  const maxSeconds = opts.maxSeconds ?? 4;
  const speakers = opts.speakers ?? [...new Set(manifest.files.map((f) => f.speaker))];
  const out: (Utterance & { split: Split })[] = [];
  for (const speaker of speakers) {
    const files = manifest.files.filter((f) => f.speaker === speaker);
    if (files.length === 0) {
      throw new Error(
        `exampleUtterances: no files of speaker ${JSON.stringify(speaker)} in the manifest`,
      );
    }
    const fitting = files.filter((f) => f.duration <= maxSeconds);
    const pick = (fitting.length ? fitting : files).reduce((a, b) =>
      (fitting.length ? b.duration > a.duration : b.duration < a.duration) ? b : a
    );
    const [u] = await loadSplit({ ...manifest, files: [pick] }, pick.split, sampleRate, opts.dir);
    out.push({ ...u, split: pick.split });
  }
  return out;
}
