/**
 * Real speech from Debian's packages: fetched with `apt-get download` + `dpkg -x` (no root needed
 * unless apt's package lists are empty), verified against the committed checksum list
 * `data/speech.sha256`, described by a manifest, split by speaker.
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
import { createHash } from "node:crypto";
import { dirname, join, relative, resolve } from "node:path";
import { decodeWav, wavInfo } from "./wav.ts";
import { resample } from "./resample.ts";

/** The repository root (lib/audio/ → ../..). */
export const REPO_ROOT: string = resolve(import.meta.dirname ?? ".", "..", "..");
/** Committed list of packages: `package version licence`, one per line. */
export const PACKAGES_FILE: string = join(REPO_ROOT, "data", "packages.txt");
/** Committed checksums: `sha256  package/path`, one per used file (sha256sum's format). */
export const CHECKSUM_FILE: string = join(REPO_ROOT, "data", "speech.sha256");

/** Where the corpus is extracted: `$QUANTLAB_SPEECH_DIR`, else `.cache/speech/` (git-ignored). */
export function defaultSpeechDir(): string {
  return Deno.env.get("QUANTLAB_SPEECH_DIR") ?? join(REPO_ROOT, ".cache", "speech");
}

export type Split = "train" | "validation";

/** One package of data/packages.txt. */
export interface PackageEntry {
  name: string;
  version: string;
  licence: string;
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
        `${file}:${i + 1}: package ${name} has no rule in lib/audio/corpus.ts PACKAGE_RULES`,
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

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function _run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch (err) {
    return { ok: false, out: `${cmd} could not be started: ${(err as Error).message}` };
  }
}

/** Stamp file marking a package version as extracted. */
const _stamp = (dir: string, pkg: PackageEntry) => join(dir, pkg.name, `.extracted-${pkg.version}`);

/**
 * Download and extract a package unless this version is already extracted. Runs `apt-get update`
 * once when apt cannot find the package and the process runs as root (CI); otherwise the error
 * names the package and says what to run.
 */
export async function fetchPackage(
  dir: string,
  pkg: PackageEntry,
  log: (msg: string) => void = () => {},
  state: { updated: boolean } = { updated: false },
  allowAptUpdate = true,
): Promise<boolean> {
  if (await _exists(_stamp(dir, pkg))) return false;
  const tmp = join(dir, ".download");
  await Deno.mkdir(tmp, { recursive: true });
  const spec = `${pkg.name}=${pkg.version}`;
  log(`downloading ${spec}`);
  let dl = await _run("apt-get", ["download", spec], tmp);
  if (!dl.ok && !state.updated && allowAptUpdate && Deno.uid() === 0) {
    log(`apt-get download failed; running apt-get update (package lists may be empty)`);
    const up = await _run("apt-get", ["update", "-qq"], tmp);
    state.updated = true;
    if (!up.ok) throw new Error(`speech data: apt-get update failed:\n${up.out}`);
    dl = await _run("apt-get", ["download", spec], tmp);
  }
  if (!dl.ok) {
    throw new Error(
      `speech data: package ${pkg.name} version ${pkg.version} could not be downloaded ` +
        `(is it in apt's lists? run "apt-get update" as root):\n${dl.out.trim()}`,
    );
  }
  const debs = [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) =>
    n.startsWith(`${pkg.name}_`) && n.endsWith(".deb")
  );
  if (debs.length !== 1) {
    throw new Error(`speech data: package ${pkg.name}: expected one .deb in ${tmp}, found ${debs}`);
  }
  const target = join(dir, pkg.name);
  const partial = `${target}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  const x = await _run("dpkg", ["-x", join(tmp, debs[0]), partial], tmp);
  if (!x.ok) throw new Error(`speech data: package ${pkg.name}: dpkg -x failed:\n${x.out}`);
  await Deno.remove(join(tmp, debs[0]));
  await Deno.remove(target, { recursive: true }).catch(() => {});
  await Deno.rename(partial, target);
  await Deno.writeTextFile(_stamp(dir, pkg), `${pkg.name} ${pkg.version}\n`);
  return true;
}

/** The used files of an extracted package, relative to `dir`, sorted. */
export function usedFiles(dir: string, pkg: string): string[] {
  const rule = PACKAGE_RULES[pkg];
  const root = join(dir, pkg);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const full = join(d, e.name);
      if (e.isDirectory) walk(full);
      else if (e.isFile && rule.use(relative(root, full))) out.push(relative(dir, full));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * Whether a manifest entry's duration and sample rate fit its file: a usual sample rate, and
 * between 1 and 16 bytes per frame (8-bit mono to 32-bit 4 channels, headers aside). When not,
 * the file is read again, so an edited duration costs a read, never a wrong corpus.
 */
function _plausible(e: ManifestEntry, bytes: number): boolean {
  if (![8000, 16000, 22050, 44100, 48000].includes(e.sampleRate)) return false;
  const frames = e.duration * e.sampleRate;
  return Number.isFinite(frames) && frames > 0 && frames <= bytes && frames * 16 >= bytes;
}

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

/** How long {@linkcode ensureSpeechData} waits for another fetch into the same directory. */
export const LOCK_TIMEOUT_MS = 30 * 60_000;

/**
 * Take `<dir>/.lock` (created atomically, holding pid and host), waiting while another live
 * process holds it ("another fetch is running") and taking over a lock whose pid is gone on
 * this host. A directory where no lock can be created (read-only) is used without one.
 * Returns the release.
 */
export async function lockCorpus(
  dir: string,
  log: (msg: string) => void,
  timeoutMs = LOCK_TIMEOUT_MS,
): Promise<() => Promise<void>> {
  const file = join(dir, ".lock");
  const me = `${Deno.pid} ${Deno.hostname()}\n`;
  const deadline = Date.now() + timeoutMs;
  let said = false;
  while (true) {
    try {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(file, me, { createNew: true });
      return async () => {
        const now = await Deno.readTextFile(file).catch(() => "");
        if (now === me) await Deno.remove(file).catch(() => {});
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        log(`cannot lock ${dir} (${(err as Error).message}); going on without a lock`);
        return async () => {};
      }
    }
    const [pid, host] = (await Deno.readTextFile(file).catch(() => "")).trim().split(" ");
    const alive = host !== Deno.hostname() || _pidAlive(Number(pid));
    if (!alive) {
      log(`taking over the lock of ${dir} from process ${pid}, which is gone`);
      await Deno.remove(file).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `speech data: another fetch (process ${pid} on ${host}) has held ${file} for over ` +
          `${Math.round(timeoutMs / 1000)} s; if it is not running, remove ${file}`,
      );
    }
    if (!said) {
      log(`another fetch is running into ${dir} (process ${pid}); waiting for it to finish`);
      said = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a pid is alive on this host (Linux /proc; elsewhere assumed alive). */
function _pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os !== "linux") return true;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
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
  if (opts.verify !== "full" && !opts.writeChecksums && await _exists(manifestPath)) {
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
