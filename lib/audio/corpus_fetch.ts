/**
 * Getting the corpus's Debian packages onto disk: `apt-get download` + `dpkg -x` of each listed
 * package (no root needed unless apt's package lists are empty; a version already extracted is
 * skipped), the used files of an extracted package, and the lock that keeps two fetches out of
 * one corpus directory. What is listed and used is `corpus_packages.ts`; verifying and the
 * manifest are `corpus.ts`.
 *
 * @module
 */
import { join, relative } from "node:path";
import { PACKAGE_RULES, type PackageEntry } from "./corpus_packages.ts";

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
