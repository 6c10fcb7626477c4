/**
 * Test helper: make a directory read-only, even for root (who ignores mode bits): `chattr +i`
 * as root, `chmod 555` otherwise. Undone after `fn`.
 *
 * @module
 */

/** Run `fn` while `dir` is read-only; `fn` is not run (false returned) when that is not possible. */
export async function withReadOnly(dir: string, fn: () => Promise<void>): Promise<boolean> {
  const root = Deno.uid() === 0;
  const run = async (args: string[]) =>
    await new Deno.Command(args[0], { args: args.slice(1), stderr: "null" }).output()
      .then((o) => o.success, () => false);
  const lock = root ? ["chattr", "+i", dir] : ["chmod", "555", dir];
  const unlock = root ? ["chattr", "-i", dir] : ["chmod", "755", dir];
  if (!(await run(lock))) return false;
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
    await run(unlock);
  }
}
