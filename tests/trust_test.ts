/**
 * Issue 13, points 2, 6 and 10: charts survive untrusted viewing (a PNG copy in the bundle),
 * executed notebooks are signed, the classic server keeps a saved notebook trusted and writes
 * nothing per-user, and `-p NAME VALUE` injects a cell after the `parameters` cell.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import {
  DENO,
  execute,
  notebook,
  PYTHON,
  ROOT,
  run,
  startNotebookServer,
  streamText,
} from "./_notebooks.ts";

const dir = join(ROOT, ".cache", "test-notebooks");
Deno.mkdirSync(dir, { recursive: true });
const DATA_DIR = join(ROOT, ".cache", "jupyter", "data");

/** Decode an 8-bit RGB/RGBA, non-interlaced PNG (what resvg writes) into its pixel bytes. */
function decodePng(
  bytes: Uint8Array,
): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], "PNG signature");
  let pos = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  while (pos < bytes.length) {
    const len = view.getUint32(pos);
    const type = new TextDecoder().decode(bytes.subarray(pos + 4, pos + 8));
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      assert.equal(data[8], 8, "8-bit depth");
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]] ?? 0;
      assert.ok(channels, `colour type ${data[9]}`);
      assert.equal(data[12], 0, "not interlaced");
    } else if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  const raw = new Uint8Array(inflateSync(new Uint8Array(idat.flatMap((d) => [...d]))));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const pred = [0, a, b, (a + b) >> 1][filter] ??
        (Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
          ? b
          : c);
      pixels[y * stride + x] = (src[x] + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

async function isTrusted(path: string): Promise<boolean> {
  const r = await run(PYTHON, [
    "-c",
    `import sys, nbformat
from nbformat.sign import NotebookNotary
nb = nbformat.read(sys.argv[1], as_version=4)
print(NotebookNotary(data_dir=sys.argv[2]).check_signature(nb))`,
    path,
    DATA_DIR,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim() === "True";
}

Deno.test("an executed notebook's chart carries a non-blank PNG and the notebook is signed", async () => {
  const path = join(dir, "chart.ipynb");
  await Deno.writeTextFile(
    path,
    notebook([
      `import { lineChart } from ${JSON.stringify(join(ROOT, "lib", "plot.ts"))};
import { chart } from ${JSON.stringify(join(ROOT, "lib", "display.ts"))};`,
      'chart(lineChart({ title: "t", series: [{ label: "STE", x: [1, 2, 3], y: [0.3, 0.1, 0.05] }], x: { label: "epoch" }, y: { label: "MSE", log: true } }))',
    ]),
  );
  const out = join(dir, "chart.out.ipynb");
  const r = await execute(path, out);
  assert.equal(r.code, 0, r.stderr);
  const data = r.nb.cells[1].outputs![0].data!;
  assert.match(String(data["text/html"]), /<svg[^>]*data-chart/, "the SVG stays for trusted views");
  const png = decodePng(Uint8Array.from(atob(String(data["image/png"])), (c) => c.charCodeAt(0)));
  assert.ok(png.width >= 640 && png.width <= 2000, `width ${png.width}`);
  assert.ok(png.height >= 300 && png.height <= 1200, `height ${png.height}`);
  // Non-blank: a white background with a share of dark pixels (line, ticks, labels).
  let dark = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    if (png.pixels[i] + png.pixels[i + 1] + png.pixels[i + 2] < 3 * 160) dark++;
  }
  const share = dark / (png.width * png.height);
  assert.ok(share > 0.002 && share < 0.3, `share of dark pixels ${share}`);
  assert.equal(await isTrusted(out), true, "the executed notebook is signed");
  const unsigned = join(dir, "chart.unsigned.ipynb");
  assert.equal((await execute(path, unsigned, ["--no-sign"])).code, 0);
  assert.equal(await isTrusted(unsigned), false, "--no-sign leaves it untrusted");
});

Deno.test("-p NAME VALUE injects a cell after the parameters cell (papermill's convention)", async () => {
  const path = join(dir, "params.ipynb");
  const nb = JSON.parse(notebook([
    'var before = "first"',
    'var profile = Deno.env.get("QUANTLAB_PROFILE") ?? "full"; var n = 1; var label = "x";',
    "console.log(JSON.stringify({ profile, n, label, env: Deno.env.get('QUANTLAB_PROFILE') }))",
  ]));
  nb.cells[1].metadata.tags = ["parameters"];
  await Deno.writeTextFile(path, JSON.stringify(nb));
  const r = await execute(join(dir, "params.ipynb"), join(dir, "params.out.ipynb"), [
    "-p",
    "profile",
    "quick",
    "-p",
    "n",
    "3",
    "-p",
    "label",
    "hello world",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const cells = r.nb.cells as {
    source: string;
    metadata?: { tags?: string[] };
    outputs?: { data?: Record<string, unknown> }[];
  }[];
  assert.equal(cells.length, 4);
  assert.deepEqual(cells[2].metadata?.tags, ["injected-parameters"]);
  const value = JSON.parse(streamText(r.nb, 3));
  assert.deepEqual(value, { profile: "quick", n: 3, label: "hello world", env: "quick" });
  // The wrapper's `run` command reaches the same executor with the same flags.
  const w = await run("bash", [
    join(ROOT, "quantlab"),
    "run",
    path,
    "--out",
    join(dir, "params.w.ipynb"),
    "--quiet",
    "-p",
    "n",
    "5",
  ], { PATH: Deno.env.get("PATH")! });
  assert.equal(w.code, 0, w.stderr);
  const wnb = JSON.parse(await Deno.readTextFile(join(dir, "params.w.ipynb")));
  assert.equal(JSON.parse(streamText(wnb, 3)).n, 5);
});

Deno.test("the notebook server keeps a saved notebook trusted and writes nothing per-user", async () => {
  const home = await Deno.makeTempDir({ prefix: "quantlab-home-" });
  // Deno's own module cache is per-user by design; keep using the current one.
  const info = await new Deno.Command(DENO, { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  const name = `trust-${crypto.randomUUID().slice(0, 8)}.ipynb`;
  const server = await startNotebookServer({
    DENO_DIR: denoDir,
    HOME: home,
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_RUNTIME_DIR: join(home, "run"),
  });
  const { base, token } = server;
  try {
    // What the browser sends on save: a notebook whose cells have no ids yet.
    const content = JSON.parse(notebook(["1 + 1"]));
    const res = await fetch(`${base}/api/contents/${name}?token=${token}`, {
      method: "PUT",
      body: JSON.stringify({ type: "notebook", content }),
    });
    assert.equal(res.status < 300, true, await res.text());
    assert.equal(await isTrusted(join(ROOT, "notebooks", name)), true, "saved and still trusted");
    const perUser: string[] = [];
    for await (const e of Deno.readDir(home)) perUser.push(e.name);
    assert.deepEqual(perUser, [], "nothing written under HOME");
  } finally {
    await Deno.remove(join(ROOT, "notebooks", name)).catch(() => {});
    await Deno.remove(
      join(ROOT, "notebooks", ".ipynb_checkpoints", name.replace(".ipynb", "-checkpoint.ipynb")),
    )
      .catch(() => {});
    await server.stop();
  }
});
