/**
 * Test helper: make a directory read-only, even for root (who ignores mode bits): `chattr +i`
 * as root, `chmod 555` otherwise. Undone after `fn`.
 *
 * @module
 */

/** Make `path` read-only (`on`) or writable again; false when that is not possible here. */
export async function setReadOnly(path: string, on: boolean): Promise<boolean> {
  const root = Deno.uid() === 0;
  const args = root ? ["chattr", on ? "+i" : "-i", path] : ["chmod", on ? "555" : "755", path];
  return await new Deno.Command(args[0], { args: args.slice(1), stderr: "null" }).output()
    .then((o) => o.success, () => false);
}

/** Run `fn` while `dir` is read-only; `fn` is not run (false returned) when that is not possible. */
export async function withReadOnly(dir: string, fn: () => Promise<void>): Promise<boolean> {
  if (!(await setReadOnly(dir, true))) return false;
  try {
    const probe = `${dir}/.ro-probe`;
    try {
      await Deno.writeTextFile(probe, "");
      await Deno.remove(probe);
      return false; // still writable: the test cannot be made here
    } catch {
      // Read-only, as wanted.
    }
    await fn();
    return true;
  } finally {
    await setReadOnly(dir, false);
  }
}
