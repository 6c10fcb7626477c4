/**
 * `./quantlab jupyter`: register the project's Deno kernel (project-local kernelspec, see
 * scripts/kernel.ts) and start Debian's classic Jupyter Notebook on `notebooks/` with it.
 *
 *   deno run -A scripts/jupyter.ts [--port 8888] [--ip 127.0.0.1] [--quick] [--recompute]
 *                                   [-- <extra jupyter-notebook options>]
 *
 * --quick / --recompute set QUANTLAB_PROFILE=quick / QUANTLAB_RECOMPUTE=1 for the kernels this
 * server starts (default: the environment's values; notebooks default to the full profile).
 * Nothing is written outside the repository: JUPYTER_PATH points at `.cache/jupyter`, and the
 * server's runtime, config and data folders (JUPYTER_RUNTIME_DIR, JUPYTER_CONFIG_DIR,
 * JUPYTER_DATA_DIR: `notebook_secret`, `nbsignatures.db`) live under `.cache/jupyter` too.
 * scripts/execute_notebook.py signs executed notebooks in the same data folder, so they open
 * trusted here; the config's pre-save hook keeps a user's saved notebooks trusted.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { jupyterEnv, KERNEL_NAME, ROOT, writeKernelSpec } from "./kernel.ts";

const PYTHON = "/usr/bin/python3";

/** The command line that starts the notebook server (exported for tests). */
export function notebookCommand(opts: { port: number; ip: string; extra: string[] }): string[] {
  return [
    PYTHON,
    "-m",
    "notebook",
    `--notebook-dir=${join(ROOT, "notebooks")}`,
    `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
    `--port=${opts.port}`,
    `--ip=${opts.ip}`,
    "--no-browser",
    // Containers and CI machines often run as root, which the server refuses without this flag.
    ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ...opts.extra,
  ];
}

/**
 * The server config written to `JUPYTER_CONFIG_DIR`: a pre-save hook that gives every cell an id
 * before the notebook is signed. Debian's Notebook 6.4 signs first and lets nbformat add missing
 * ids while writing, so the stored signature never matched the file and a user's own notebook
 * came back untrusted (charts shown as bare tick labels) after every save.
 */
export const SERVER_CONFIG = `# Written by scripts/jupyter.ts (quantlab); rewritten on every start.
import uuid


def _cell_ids_before_signing(model, **kwargs):
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    if (nb.get("nbformat", 0), nb.get("nbformat_minor", 0)) < (4, 5):
        return
    for cell in nb.get("cells", []):
        if not cell.get("id"):
            cell["id"] = uuid.uuid4().hex[:8]


c.FileContentsManager.pre_save_hook = _cell_ids_before_signing
`;

/**
 * The classic Notebook's `custom/custom.js` (under `JUPYTER_CONFIG_DIR`): in an untrusted
 * notebook an output that carries both `text/html` and `image/png` (every quantlab chart) is
 * drawn from its PNG. Untrusted HTML goes through the sanitizer, which drops the `<svg>` and
 * leaves its tick labels as one run of text; the PNG is safe to show. Only the drawing changes:
 * the output itself (saved with the notebook) keeps its HTML.
 */
export const CUSTOM_JS = `// Written by scripts/jupyter.ts (quantlab); rewritten on every start.
require(["notebook/js/outputarea"], function (outputarea) {
  var OutputArea = outputarea.OutputArea;
  var append = OutputArea.prototype.append_mime_type;
  OutputArea.prototype.append_mime_type = function (json, element, handle_inserted) {
    var data = json && json.data;
    if (!this.trusted && data && data["image/png"] !== undefined &&
        data["text/html"] !== undefined) {
      var shown = {};
      for (var k in data) if (k !== "text/html") shown[k] = data[k];
      json = Object.assign({}, json, { data: shown });
    }
    return append.call(this, json, element, handle_inserted);
  };
  // custom.js may load after the notebook drew its outputs: draw those again.
  var nb = window.Jupyter && Jupyter.notebook;
  if (!nb || !nb.get_cells) return;
  nb.get_cells().forEach(function (cell) {
    var area = cell.output_area;
    if (!area || area.trusted) return;
    var outputs = area.toJSON();
    var charts = outputs.some(function (o) {
      return o.data && o.data["image/png"] !== undefined && o.data["text/html"] !== undefined;
    });
    if (!charts) return;
    area.clear_output(false, true);
    area.trusted = false; // clear_output marks the area trusted; it is not
    area.fromJSON(outputs, cell.metadata);
  });
});
`;

/**
 * Write {@linkcode SERVER_CONFIG} as `jupyter_notebook_config.py` and {@linkcode CUSTOM_JS} as
 * `custom/custom.js` under `configDir`; returns the former's path.
 */
export async function writeServerConfig(configDir: string): Promise<string> {
  await Deno.mkdir(join(configDir, "custom"), { recursive: true });
  const file = join(configDir, "jupyter_notebook_config.py");
  await Deno.writeTextFile(file, SERVER_CONFIG);
  await Deno.writeTextFile(join(configDir, "custom", "custom.js"), CUSTOM_JS);
  return file;
}

async function hasNotebook(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import notebook"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8888" },
      ip: { type: "string", default: "127.0.0.1" },
      quick: { type: "boolean", default: false },
      recompute: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (!(await hasNotebook())) {
    console.error(
      "[jupyter] Debian's classic Jupyter Notebook is missing: " +
        "apt-get install --no-install-recommends jupyter-notebook",
    );
    Deno.exit(1);
  }
  const loc = await writeKernelSpec();
  const env = jupyterEnv(loc);
  // Keep the server's runtime files and config inside the repository, not in ~/.local or ~/.jupyter.
  env.JUPYTER_RUNTIME_DIR = join(loc.jupyterPath, "runtime");
  env.JUPYTER_CONFIG_DIR = join(loc.jupyterPath, "config");
  // notebook_secret and nbsignatures.db (trusted-notebook signatures) live in the data dir.
  env.JUPYTER_DATA_DIR = join(loc.jupyterPath, "data");
  // The server's IPython parts create a profile folder (~/.ipython otherwise).
  env.IPYTHONDIR = join(loc.jupyterPath, "ipython");
  await writeServerConfig(env.JUPYTER_CONFIG_DIR);
  if (values.quick) env.QUANTLAB_PROFILE = "quick";
  if (values.recompute) env.QUANTLAB_RECOMPUTE = "1";
  const [cmd, ...args] = notebookCommand({
    port: Number(values.port),
    ip: values.ip!,
    extra: positionals,
  });
  console.error(
    `[jupyter] kernel "${KERNEL_NAME}" from ${loc.specFile}; notebooks in ${
      join(ROOT, "notebooks")
    }`,
  );
  const child = new Deno.Command(cmd, { args, env, cwd: ROOT }).spawn();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => child.kill(sig));
  }
  Deno.exit((await child.status).code);
}

if (import.meta.main) await main();
