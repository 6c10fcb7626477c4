/**
 * `./quantlab jupyter` (scripts/jupyter.ts) starts Debian's Jupyter Notebook whose default kernel
 * is the project's Deno kernel, and that kernel starts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PYTHON, ROOT, startNotebookServer } from "./_notebooks.ts";

Deno.test("the notebook server offers and starts the project's Deno kernel", async () => {
  const server = await startNotebookServer();
  const { base, token } = server;
  try {
    const api = (path: string, init?: RequestInit) =>
      fetch(`${base}/api/${path}?token=${token}`, init).then((r) => r.json());
    const specs = await api("kernelspecs");
    assert.equal(specs.default, "quantlab-deno");
    assert.equal(specs.kernelspecs["quantlab-deno"].spec.language, "typescript");
    assert.equal(specs.kernelspecs["quantlab-deno"].spec.argv[0], Deno.execPath());
    const kernel = await api("kernels", {
      method: "POST",
      body: JSON.stringify({ name: "quantlab-deno" }),
    });
    for (let i = 0; i < 80 && !server.log().includes(`Kernel started: ${kernel.id}`); i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(server.log(), new RegExp(`Kernel started: ${kernel.id}, name: quantlab-deno`));
    // Talk to the server's kernel through its connection file: it must evaluate TypeScript.
    const connection = join(ROOT, ".cache", "jupyter", "runtime", `kernel-${kernel.id}.json`);
    // Keep reading after idle: Deno's kernel may publish the result after it (see platform.md).
    const script = `import queue, sys
from jupyter_client import BlockingKernelClient
kc = BlockingKernelClient(connection_file=sys.argv[1])
kc.load_connection_file()
kc.start_channels()
kc.wait_for_ready(timeout=30)
msg_id = kc.execute("const n: number = 6 * 7; n")
idle = False
while True:
    try:
        m = kc.get_iopub_msg(timeout=1 if idle else 30)
    except queue.Empty:
        break
    if m["parent_header"].get("msg_id") != msg_id:
        continue
    if m["msg_type"] == "execute_result":
        print(m["content"]["data"]["text/plain"])
    idle = idle or m["content"].get("execution_state") == "idle"
print(kc.get_shell_msg(timeout=30)["content"]["status"])`;
    const out = await new Deno.Command(PYTHON, { args: ["-c", script, connection] }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      "42\nok",
      new TextDecoder().decode(out.stderr),
    );
    await fetch(`${base}/api/kernels/${kernel.id}?token=${token}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await server.stop();
  }
});
