#!/usr/bin/python3
"""Execute one notebook headlessly on quantlab's Deno kernel and write the executed .ipynb.

Drives the kernel with jupyter_client directly instead of nbclient/nbconvert, because Deno's
kernel sometimes publishes a cell's output *after* it reported `idle`, and nbclient drops those
silently. Here every IOPub message is routed to its cell by `parent_header.msg_id`, and after a
cell reports idle the executor keeps reading IOPub until `--grace` seconds pass without a message.
Outputs that arrive after idle (even during a later cell) still land in the right cell and are
counted as "late" in the summary and in `metadata.quantlab.execution.late_outputs`.

Output-expectation rule (one rule, no tags, indifferent to `;` since deno fmt adds them): a code
cell must produce output (a stream, a display_data or an execute_result with non-empty data) when
its last top-level statement is an expression: `table(rows)`, `chart(...)`, `finding({...})`,
`await run(cfg)`, `console.log(x)`, a bare value. Cells ending in a declaration (`const r = await
run(cfg)`, `function`, `class`, `type` ...), an `import`, an assignment or a control-flow statement
(`if`, `for`, `try` ...) may be silent. To run something silently, assign its result.

Fails (exit 1, message naming the notebook and the cell index) when a cell errors, times out,
the kernel dies, or an expected output is missing. The executed notebook is written even then,
so the failing cell can be inspected. An `--out` that cannot be written (a read-only directory,
a directory at its path) is refused (exit 2) before the kernel starts, so no work is lost.
SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the run: the kernel is shut down (and with it any grid
workers it started, which die with it), the cells that ran so far are written to --out
(`metadata.quantlab.execution.stopped_by` names the signal), one line says so, and the exit
status is 130, 143 or 129. Progress goes to stderr: one line per cell, plus the
cells' own stdout/stderr lines (e.g. training progress) prefixed with the label.

Parameters (papermill's convention): `-p NAME VALUE` (repeatable; also from the environment as
QUANTLAB_PARAMS, a JSON object of name -> value, which `./quantlab reports -p ...` sets) injects a
code cell tagged `injected-parameters` right after the cell tagged `parameters` (at the top when
there is none; an earlier injected cell is replaced), holding `var NAME = VALUE;` per parameter.
A VALUE that parses as JSON (number, true/false, null, quoted string, array, object) is used as
is, anything else as a string. Every parameter is also set for the kernel as QUANTLAB_<NAME>
(`profile`, `recompute`, `seeds`, `epochs`, `steps`: what lib/experiments reads). Parameters are
strict: a name the `parameters` cell does not declare (`var NAME = ...`) is refused (exit 2)
with the list of the notebook's parameters; `profile` and `recompute` are always accepted; a
notebook without a `parameters` cell gets a warning (and only those two).

Trust: the executed notebook is signed with nbformat's notary (after cell ids are added, so the
signature matches what is written) in JUPYTER_DATA_DIR (default `<repo>/.cache/jupyter/data`,
the folder `./quantlab jupyter` uses), so its HTML and charts show when it is opened there.
`--no-sign` skips that. Charts also carry an `image/png` copy that survives untrusted viewers.

Usage:
  execute_notebook.py NOTEBOOK --out OUT.ipynb [--timeout 1800] [--grace 0.75]
                      [--profile quick|full] [--recompute] [--label "nb 02"]
                      [-p NAME VALUE ...] [--no-sign]

QUANTLAB_PROFILE and QUANTLAB_RECOMPUTE are passed to the kernel: from --profile/--recompute when
given, else from this process's environment. JUPYTER_PATH should contain the directory written by
scripts/kernel.ts; when unset, `<repo>/.cache/jupyter` is used.
"""

import argparse
import datetime
import json
import os
import queue
import re
import signal
import sys
import time

import nbformat
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import KernelManager

KERNEL_NAME = "quantlab-deno"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")


class NotebookFailure(Exception):
    """A failure that names the notebook and, when it applies, the cell."""


DECLARATION = re.compile(
    r"(import|export|const|let|var|using|function|async\s+function|class|abstract\s+class"
    r"|interface|enum|declare|namespace|if|for|while|do|try|switch|return|throw|break|continue"
    r"|type\s+[A-Za-z_$])\b"
)
ASSIGNMENT = re.compile(r"[A-Za-z_$][\w$.]*(\[[^\]]*\])?\s*([-+*/%&|^]|\*\*|<<|>>>?|\?\?|&&|\|\|)?=(?![=>])")
CONTINUATION = tuple(".?:)]},+-*/%&|^=<>")


def top_level_statements(source: str) -> list:
    """Split TypeScript source into top-level statements (strings and comments blanked out).

    A statement ends at `;` outside brackets, or at a line break outside brackets when the next
    line starts in column 0 with something that cannot continue an expression. This is the
    layout deno fmt writes and people type; regex literals are not recognised.
    """
    out, cur = [], []
    depth = 0
    templates = []  # bracket depth at which each open `${` of a template literal started
    i, n = 0, len(source)

    def end():
        text = "".join(cur).strip()
        if text:
            out.append(text)
        cur.clear()

    def skip_template(i):
        # i is just after a backtick or after the `}` closing a `${`; returns the index after
        # the closing backtick, or after `${` (pushing the template onto the stack).
        while i < n:
            c = source[i]
            if c == "\\":
                i += 2
            elif c == "`":
                return i + 1, False
            elif c == "$" and source.startswith("${", i):
                return i + 2, True
            else:
                i += 1
        return n, False

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            while i < n and source[i] != "\n":
                i += 1
            continue
        if source.startswith("/*", i):
            j = source.find("*/", i + 2)
            i = n if j < 0 else j + 2
            cur.append(" ")
            continue
        if c in "'\"":
            i += 1
            while i < n and source[i] != c and source[i] != "\n":
                i += 2 if source[i] == "\\" else 1
            i += 1
            cur.append("0")
            continue
        if c == "`" or (c == "}" and templates and depth == templates[-1] + 1):
            if c == "}":
                templates.pop()
                depth -= 1
            i, opened = skip_template(i + 1)
            if opened:
                templates.append(depth)
                depth += 1
            else:
                cur.append("0")
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        if depth == 0 and c == ";":
            end()
            i += 1
            continue
        if depth == 0 and c == "\n":
            rest = source[i + 1 :]
            nxt = rest.lstrip("\n")
            if nxt and not nxt[0].isspace() and not nxt.startswith(CONTINUATION):
                end()
                i += 1
                continue
        cur.append(c)
        i += 1
    end()
    return out


def expects_output(source: str) -> bool:
    """The output-expectation rule: the cell's last top-level statement is an expression.

    Declarations (const/let/var/function/class/type/interface/enum), import/export, assignments
    and control flow (if/for/while/try/...) may be silent; anything else (a call such as
    `table(rows)`, `await run(cfg)`, `console.log(x)`, a bare value) must show something.
    """
    statements = top_level_statements(source)
    if not statements:
        return False
    last = statements[-1]
    return not (DECLARATION.match(last) or ASSIGNMENT.match(last))


def has_content(output) -> bool:
    """True when an output shows something (non-empty text or at least one non-empty MIME value)."""
    kind = output["output_type"]
    if kind == "stream":
        return bool(output.get("text", "").strip())
    if kind == "error":
        return True
    data = output.get("data", {})
    return any(v not in ("", None, {}, []) for v in data.values())


class CellState:
    def __init__(self, index: int, cell):
        self.index = index
        self.cell = cell
        self.outputs = []
        self.idle_at = None  # time.monotonic() when the kernel reported idle for this cell
        self.late = 0
        self.error = None
        self.execution_count = None


class Executor:
    def __init__(self, nb, path: str, args):
        self.nb = nb
        self.path = path
        self.args = args
        self.label = args.label or os.path.splitext(os.path.basename(path))[0]
        self.by_msg = {}  # execute_request msg_id -> CellState
        self.display_ids = {}  # display_id -> list of (CellState, output index)
        self.late_total = 0
        self.max_late_delay = 0.0
        self.language_info = {}
        self.implementation = ""
        self.epilogue = None
        env = dict(os.environ)
        params = getattr(args, "params", {}) or {}
        if "profile" in params:
            env["QUANTLAB_PROFILE"] = str(params["profile"])
        for name, value in params.items():
            if name not in ("profile", "recompute"):
                env[f"QUANTLAB_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
        if "recompute" in params:
            env["QUANTLAB_RECOMPUTE"] = "1" if params["recompute"] not in (False, 0, "0", "", None, "false") else ""
        if args.profile:
            env["QUANTLAB_PROFILE"] = args.profile
        if args.recompute:
            env["QUANTLAB_RECOMPUTE"] = "1"
        if not env.get("JUPYTER_PATH"):
            env["JUPYTER_PATH"] = os.path.join(ROOT, ".cache", "jupyter")
            os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]
        self.env = env
        self.profile = env.get("QUANTLAB_PROFILE", "")
        self.recompute = env.get("QUANTLAB_RECOMPUTE", "") == "1"

    def log(self, text: str) -> None:
        print(f"[{self.label}] {text}", file=sys.stderr, flush=True)

    def start(self) -> None:
        env = self.env
        self.km = KernelManager(kernel_name=self.args.kernel)
        try:
            # The kernel finds deno.json by walking up from its cwd, like Jupyter's own frontends.
            self.km.start_kernel(cwd=os.path.dirname(os.path.abspath(self.path)), env=env)
        except NoSuchKernel:
            raise NotebookFailure(
                f"{self.path}: no kernelspec {self.args.kernel!r} on JUPYTER_PATH="
                f"{env['JUPYTER_PATH']}; run `deno run -A scripts/kernel.ts` first"
            )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=self.args.startup_timeout)
            info = self.kc.kernel_info(reply=True, timeout=30)["content"]
        except (RuntimeError, queue.Empty) as err:
            self.stop()
            raise NotebookFailure(f"{self.path}: the Deno kernel did not start: {err!r}")
        self.language_info = info.get("language_info", {})
        self.implementation = f"{info.get('implementation', '')} {info.get('implementation_version', '')}".strip()

    def stop(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=True)

    def handle(self, msg) -> None:
        """Route one IOPub message to the cell that caused it."""
        parent = msg.get("parent_header", {}).get("msg_id")
        state = self.by_msg.get(parent)
        kind = msg["msg_type"]
        content = msg["content"]
        if state is None:
            return
        if kind == "status":
            if content.get("execution_state") == "idle" and state.idle_at is None:
                state.idle_at = time.monotonic()
            return
        if kind == "execute_input":
            state.execution_count = content.get("execution_count")
            return
        if kind == "clear_output":
            state.outputs.clear()
            return
        if kind == "execute_result" and not content.get("data"):
            return  # an empty result shows nothing (a large one went out as display_data: lib/iopub.ts)
        if kind == "update_display_data":
            did = content.get("transient", {}).get("display_id")
            text = content.get("data", {}).get("text/plain", "")
            if not self.args.quiet and text and did in self.display_ids:
                self.log(f"  | {text.splitlines()[0]}")
            for owner, i in self.display_ids.get(did, []):
                owner.outputs[i]["data"] = content.get("data", {})
                owner.outputs[i]["metadata"] = content.get("metadata", {})
            return
        if kind not in OUTPUT_TYPES:
            return
        if state.idle_at is not None and state.index >= 0:
            state.late += 1
            self.late_total += 1
            delay = time.monotonic() - state.idle_at
            self.max_late_delay = max(self.max_late_delay, delay)
            self.log(f"cell #{state.index}: {kind} arrived {delay:.2f} s after idle (kept)")
        if kind == "stream":
            text = content.get("text", "")
            if not self.args.quiet:
                for line in text.splitlines():
                    self.log(f"  | {line}")
            last = state.outputs[-1] if state.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == content["name"]:
                last["text"] += text
            else:
                state.outputs.append(nbformat.v4.new_output("stream", name=content["name"], text=text))
        elif kind == "error":
            out = nbformat.v4.new_output(
                "error",
                ename=content.get("ename", ""),
                evalue=content.get("evalue", ""),
                traceback=content.get("traceback", []),
            )
            state.outputs.append(out)
            state.error = state.error or f"{out.ename}: {out.evalue}"
        else:
            kwargs = {"data": content.get("data", {}), "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                kwargs["execution_count"] = content.get("execution_count")
            state.outputs.append(nbformat.v4.new_output(kind, **kwargs))
            did = content.get("transient", {}).get("display_id")
            if did:
                self.display_ids.setdefault(did, []).append((state, len(state.outputs) - 1))

    def pump(self, until, deadline: float) -> None:
        """Read IOPub until `until()` holds (streams are echoed as they come)."""
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                self.handle(self.kc.get_iopub_msg(timeout=min(1.0, remaining)))
            except queue.Empty:
                if not self.km.is_alive():
                    raise NotebookFailure(f"{self.path}: the kernel died")

    def drain(self) -> None:
        """Read IOPub until `grace` seconds pass with no message: catches outputs sent after idle."""
        while True:
            try:
                self.handle(self.kc.get_iopub_msg(timeout=self.args.grace))
            except queue.Empty:
                return

    def wait_reply(self, msg_id: str, deadline: float):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                reply = self.kc.get_shell_msg(timeout=min(1.0, remaining))
            except queue.Empty:
                if not self.km.is_alive():
                    raise NotebookFailure(f"{self.path}: the kernel died")
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply

    def run_cell(self, state: CellState, n_code: int, ordinal: int) -> None:
        source = state.cell.source
        first = next((l.strip() for l in source.splitlines() if l.strip()), "")
        self.log(f"cell {ordinal}/{n_code} (#{state.index}) {first[:60]}")
        t0 = time.monotonic()
        msg_id = self.kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=True)
        self.by_msg[msg_id] = state
        deadline = t0 + self.args.timeout
        try:
            self.pump(lambda: state.idle_at is not None, deadline)
            reply = self.wait_reply(msg_id, deadline)
            self.drain()
        except TimeoutError:
            self.km.interrupt_kernel()
            raise NotebookFailure(
                f"{self.path}: cell #{state.index} timed out after {self.args.timeout:g} s "
                f"(--timeout): {first[:80]}"
            )
        content = reply["content"]
        if state.execution_count is None:
            state.execution_count = content.get("execution_count")
        if content.get("status") == "error" and state.error is None:
            state.error = f"{content.get('ename', 'error')}: {content.get('evalue', '')}"
        self.log(
            f"cell {ordinal}/{n_code} done in {time.monotonic() - t0:.1f} s, "
            f"{len(state.outputs)} output(s)"
        )

    def run(self) -> int:
        cells = [CellState(i, c) for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]
        t0 = time.monotonic()
        started = datetime.datetime.now(datetime.timezone.utc)
        self.log(
            f"executing {self.path} ({len(cells)} code cells, profile "
            f"{self.profile or 'default'}{', recompute' if self.recompute else ''})"
        )
        try:
            self.start()
        except Terminated:
            if getattr(self, "km", None) is not None:
                self.km.shutdown_kernel(now=True)
            raise
        failure = None
        terminated = None
        try:
            for ordinal, state in enumerate(cells, 1):
                self.run_cell(state, len(cells), ordinal)
                self.store(state)
                if state.error:
                    failure = f"{self.path}: cell #{state.index} raised {state.error}"
                    break
            # A last grace read for anything still in flight from earlier cells.
            self.drain()
            if failure is None and self.args.epilogue:
                self.epilogue = self.run_epilogue(self.args.epilogue)
        except NotebookFailure as err:
            failure = str(err)
        except Terminated as sig:
            # Stop here, shut the kernel (and its grid workers) down, then write what ran.
            terminated = sig
            failure = f"{self.path}: {sig} received"
        finally:
            for state in cells:
                self.store(state)
            self.stop()
        wall = time.monotonic() - t0
        missing = [
            s.index
            for s in cells
            if s.execution_count is not None
            and expects_output(s.cell.source)
            and not any(has_content(o) for o in s.outputs)
        ]
        errors = [s for s in cells if s.error]
        self.nb.metadata["kernelspec"] = {
            "name": KERNEL_NAME,
            "display_name": "Deno (quantlab)",
            "language": "typescript",
        }
        if self.language_info:
            self.nb.metadata["language_info"] = self.language_info
        self.nb.metadata.setdefault("quantlab", {})["execution"] = {
            "started": started.isoformat(timespec="seconds"),
            "wall_seconds": round(wall, 2),
            "profile": self.profile or "full",
            "recompute": self.recompute,
            "kernel": self.implementation,
            "code_cells": len(cells),
            "late_outputs": self.late_total,
            "max_late_delay_seconds": round(self.max_late_delay, 3),
            "grace_seconds": self.args.grace,
            "missing_outputs": missing,
            "epilogue": self.epilogue,
            "parameters": getattr(self.args, "params", {}) or {},
            "stopped_by": terminated.name if terminated else None,
            "ok": failure is None and not missing and not errors,
        }
        self.write()
        if terminated:
            ran = sum(1 for s in cells if s.execution_count is not None)
            terminated.detail = f"{ran} of {len(cells)} cells ran; partial notebook written to {self.args.out}"
            raise terminated
        self.log(
            f"{len(cells)} cells in {wall:.1f} s; {self.late_total} output(s) arrived after idle "
            f"(max {self.max_late_delay:.2f} s) and were kept"
        )
        problems = []
        if failure:
            problems.append(failure)
        for s in errors:
            msg = f"{self.path}: cell #{s.index} raised {s.error}"
            if msg not in problems:
                problems.append(msg)
        for i in missing:
            last = top_level_statements(self.nb.cells[i].source)[-1].splitlines()[0]
            problems.append(
                f"{self.path}: cell #{i} produced no output, but its last statement "
                f"({last[:60]!r}) is an expression, so output is expected; assign the result "
                "(`const x = ...`) if the cell should be silent"
            )
        for p in problems:
            print(f"FAILED {p}", file=sys.stderr, flush=True)
        return 1 if problems else 0

    def run_epilogue(self, code: str):
        """Run `code` after the last cell, outside the notebook; return its JSON (or text) value."""
        state = CellState(-1, nbformat.v4.new_code_cell(code))
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False)
        self.by_msg[msg_id] = state
        deadline = time.monotonic() + 120
        try:
            self.pump(lambda: state.idle_at is not None, deadline)
            self.wait_reply(msg_id, deadline)
            self.drain()
        except TimeoutError:
            self.log("epilogue timed out")
            return None
        if state.error:
            self.log(f"epilogue failed: {state.error}")
            return {"error": state.error}
        for out in state.outputs:
            data = out.get("data", {})
            if "application/json" in data:
                return data["application/json"]
            if "text/plain" in data:
                return data["text/plain"]
        return None

    def store(self, state: CellState) -> None:
        state.cell.outputs = state.outputs
        state.cell.execution_count = state.execution_count

    def write(self) -> None:
        out = self.args.out
        if not self.args.no_sign:
            sign(self.nb)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            nbformat.write(self.nb, f)
        os.replace(tmp, out)


class Terminated(BaseException):
    """SIGINT, SIGTERM or SIGHUP: stop at once, shut the kernel down on the way out."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.detail = "kernel shut down before any cell ran; nothing written"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _terminate(signum, _frame):
    # Once: the shutdown on the way out must not be interrupted by a second signal.
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Terminated(signum)


def check_out(out: str):
    """Why `out` cannot be written, or None: checked before any cell runs."""
    path = os.path.abspath(out)
    if os.path.isdir(path):
        return f"{out} is a directory"
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        probe = os.path.join(parent, f".{os.path.basename(path)}.probe-{os.getpid()}")
        with open(probe, "x", encoding="utf-8"):
            pass
        os.remove(probe)
        if os.path.exists(path):
            with open(path, "a", encoding="utf-8"):
                pass
    except OSError as err:
        return f"cannot write {out}: {err.strerror or err} ({err.filename or parent})"
    return None


IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")


def parse_params(pairs, environ) -> dict:
    """Parameters from QUANTLAB_PARAMS (JSON object) and `-p NAME VALUE` pairs (later wins)."""
    params = {}
    raw = environ.get("QUANTLAB_PARAMS", "")
    if raw:
        try:
            given = json.loads(raw)
        except ValueError as err:
            raise NotebookFailure(f"QUANTLAB_PARAMS is not JSON: {err}")
        if not isinstance(given, dict):
            raise NotebookFailure("QUANTLAB_PARAMS must be a JSON object of name -> value")
        params.update(given)
    for name, value in pairs or []:
        params[name] = value
    out = {}
    for name, value in params.items():
        if not IDENT.match(name):
            raise NotebookFailure(f"parameter name {name!r} is not an identifier")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # a bare word: the string itself
        out[name] = value
    if "profile" in out and out["profile"] not in ("quick", "full"):
        raise NotebookFailure(f"parameter profile = {out['profile']!r} is invalid: expected quick or full")
    return out


ALWAYS_ACCEPTED = ("profile", "recompute")  # the executor itself acts on these
DECLARED = re.compile(r"^(?:var|let|const)\s+([A-Za-z_$][\w$]*)")


def declared_parameters(nb):
    """Names declared (`var NAME = ...`) in the cell tagged `parameters`; None when there is none."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            names = []
            for statement in top_level_statements(cell.source):
                m = DECLARED.match(statement)
                if m:
                    names.append(m.group(1))
            return names
    return None


def check_parameters(nb, params: dict, path: str):
    """Unknown parameter names are an error naming the notebook's parameters; returns a warning
    (or None) when the notebook has no `parameters` cell."""
    declared = declared_parameters(nb)
    known = list(declared or []) + [n for n in ALWAYS_ACCEPTED if n not in (declared or [])]
    unknown = [n for n in params if n not in known]
    if declared is None:
        if unknown:
            raise NotebookFailure(
                f"-p {', '.join(unknown)}: {path} has no cell tagged `parameters`, so only "
                f"{', '.join(ALWAYS_ACCEPTED)} can be set"
            )
        return (f"warning: {path} has no cell tagged `parameters`; -p values are injected at the "
                "top and only profile and recompute take effect")
    if unknown:
        raise NotebookFailure(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"{os.path.basename(path)}'s parameters are: {', '.join(known)}"
        )
    return None


def inject_parameters(nb, params: dict) -> int:
    """Insert (or replace) the injected-parameters cell after the `parameters` cell; its index."""
    tags = lambda c: c.get("metadata", {}).get("tags", [])
    nb.cells = [c for c in nb.cells if "injected-parameters" not in tags(c)]
    at = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in tags(c)), 0)
    lines = ["// Injected parameters (-p), after the cell tagged `parameters`"]
    lines += [f"var {k} = {json.dumps(v)};" for k, v in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    cell["id"] = "injected-parameters"
    nb.cells.insert(at, cell)
    return at


def sign(nb) -> None:
    """Sign the notebook in JUPYTER_DATA_DIR's nbsignatures.db (what `./quantlab jupyter` reads)."""
    from nbformat.sign import NotebookNotary

    data_dir = os.environ.get("JUPYTER_DATA_DIR") or os.path.join(ROOT, ".cache", "jupyter", "data")
    os.makedirs(data_dir, exist_ok=True)
    notary = NotebookNotary(data_dir=data_dir)
    try:
        notary.sign(nb)
    finally:
        notary.store.close() if hasattr(notary.store, "close") else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("notebook")
    p.add_argument("--out", required=True, help="where to write the executed notebook")
    p.add_argument("--timeout", type=float, default=1800, help="per-cell timeout in seconds")
    p.add_argument("--startup-timeout", type=float, default=60)
    p.add_argument(
        "--grace",
        type=float,
        default=0.75,
        help="seconds of IOPub silence to wait for after a cell reports idle",
    )
    p.add_argument("--profile", choices=["quick", "full"])
    p.add_argument("--recompute", action="store_true")
    p.add_argument("--label", help="progress prefix (default: the notebook's name)")
    p.add_argument("--kernel", default=KERNEL_NAME)
    p.add_argument("--quiet", action="store_true", help="do not echo cells' stream output")
    p.add_argument(
        "--epilogue",
        help="code run after the last cell, outside the notebook; its application/json (or "
        "text/plain) result is stored in metadata.quantlab.execution.epilogue",
    )
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        dest="param_pairs",
        help="set a parameter (injected after the cell tagged `parameters`)",
    )
    p.add_argument("--no-sign", action="store_true", help="do not mark the output trusted")
    args = p.parse_args(argv)
    try:
        args.params = parse_params(args.param_pairs, os.environ)
    except NotebookFailure as err:
        print(f"FAILED {args.notebook}: {err}", file=sys.stderr)
        return 2
    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except (OSError, nbformat.reader.NotJSONError) as err:
        print(f"FAILED {args.notebook}: cannot read notebook: {err}", file=sys.stderr)
        return 1
    why = check_out(args.out)
    if why:
        print(f"FAILED {args.notebook}: --out: {why}; nothing was executed", file=sys.stderr)
        return 2
    if args.params:
        try:
            warning = check_parameters(nb, args.params, args.notebook)
        except NotebookFailure as err:
            print(f"FAILED {args.notebook}: {err}", file=sys.stderr)
            return 2
        if warning:
            print(warning, file=sys.stderr)
        inject_parameters(nb, args.params)
    # nbformat 4.5 wants cell ids; hand-written notebooks often lack them (nbformat warns).
    if (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        for i, cell in enumerate(nb.cells):
            cell.setdefault("id", f"cell-{i}")
    for s in STOP_SIGNALS:
        signal.signal(s, _terminate)
    try:
        return Executor(nb, args.notebook, args).run()
    except NotebookFailure as err:
        print(f"FAILED {err}", file=sys.stderr)
        return 1
    except Terminated as sig:
        # One line, no traceback: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP.
        print(f"STOPPED {args.notebook}: {sig.name} received; kernel and its workers shut down; "
              f"{sig.detail}", file=sys.stderr, flush=True)
        return 128 + sig.signum


if __name__ == "__main__":
    sys.exit(main())
