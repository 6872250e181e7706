"""``dlnotes-check NOTEBOOK``: check my work, in seconds.

Runs what grading runs of a chapter notebook, and nothing else: the provided
cells, the reader's answer cells (and cells the reader added) and the visible
test cells, in order, in one namespace. Demo cells (tagged ``demo``: plots,
widgets, training) are skipped; hidden tests are not in a release, and a test
cell that is not an exercise's visible test (``test_<answer>``) is skipped too.
Cell kinds come from the notebook's nbgrader metadata.

It runs in the reader's own Python, without a Jupyter kernel or a sandbox: it
is the reader's code on the reader's machine. Each exercise (answer cell)
passes when its cell ran, it imports none of the packages an answer may not
use, and its visible test passed; otherwise the test's teaching message says
why. Exit status 0 when every exercise passes.

nbgrader's **Validate** button uses the same engine: :func:`load_server_extension`
replaces nbgrader's ``/assignments/validate`` handler with one that runs this
module on the saved notebook and shows its summary.

Examples
--------
>>> nb = {"cells": [
...     {"cell_type": "code", "source": "def twice(x):\\n    return 2 * x",
...      "metadata": {"nbgrader": {"grade_id": "twice", "solution": True}}},
...     {"cell_type": "code", "source": "assert twice(2) == 4, 'twice(2) must be 4'",
...      "metadata": {"nbgrader": {"grade_id": "test_twice", "grade": True}}}]}
>>> report = check_notebook(nb)
>>> report.summary()
'1 of 1 exercises pass'
>>> report.passed
True
"""

from __future__ import annotations

import ast
import contextlib
import html
import io
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cells import cell_kind, nbgrader_meta
from .policy import FORBIDDEN_PACKAGES as FORBIDDEN  # what grading refuses and flags

NOT_ANSWERED = "not answered yet"


@dataclass
class Exercise:
    """One answer cell: whether it passes and, if not, the teaching message."""

    name: str
    passed: bool
    message: str = ""
    mistake: str = ""


@dataclass
class Report:
    """What checking one notebook found."""

    exercises: list[Exercise] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # provided cells that failed
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.exercises) and all(e.passed for e in self.exercises) \
            and not self.problems

    def summary(self) -> str:
        done = sum(e.passed for e in self.exercises)
        return f"{done} of {len(self.exercises)} exercises pass"

    def lines(self) -> list[str]:
        """The report as text: one line per exercise, then the summary."""
        out = [f"problem: {p}" for p in self.problems]
        for e in self.exercises:
            out.append(f"  pass  {e.name}" if e.passed else f"  FAIL  {e.name}: {e.message}")
        return [*out, self.summary()]


class _CellTimeout(BaseException):
    """A cell ran past its time limit (a BaseException: answers may catch Exception)."""


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def forbidden_imports(code: str) -> list[str]:
    """The packages of :data:`FORBIDDEN` that ``code`` imports.

    >>> forbidden_imports("import numpy as np\\nfrom sklearn.metrics import f1_score")
    ['sklearn']
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        for name in names:
            top = name.split(".")[0]
            if top in FORBIDDEN and top not in found:
                found.append(top)
    return found


def _transform(code: str) -> str:
    """IPython syntax (``%magic``, ``!cmd``) to plain Python, only when there is some."""
    if not any(line.lstrip().startswith(("%", "!")) for line in code.splitlines()):
        return code
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell(code)


def _message(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "a check failed"
    if isinstance(exc, _CellTimeout):
        return str(exc)
    if isinstance(exc, NotImplementedError):
        return f"{NOT_ANSWERED} (it still raises NotImplementedError)"
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


def _run(code: str, ns: dict, label: str, timeout: float) -> BaseException | None:
    """Execute one cell in ``ns``; its output is swallowed. The exception, or None."""
    def expire(signum, frame):
        raise _CellTimeout(f"ran past the {timeout:g} s cell limit")

    alarm = hasattr(signal, "setitimer") and timeout > 0
    if alarm:
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(_transform(code), f"<{label}>", "exec"), ns)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the cell's failure is the result
        return exc
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return None


def check_notebook(nb: dict, timeout: float = 30.0) -> Report:
    """Run a notebook's provided, answer and visible test cells; grade each exercise.

    Parameters
    ----------
    nb : dict
        The notebook (nbformat 4 JSON, as a dict or ``NotebookNode``).
    timeout : float
        Seconds one cell may run (``> 0``).

    Returns
    -------
    Report
        One :class:`Exercise` per answer cell, in notebook order.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError("nb must be a notebook: a dict with a list of 'cells'")
    start = time.perf_counter()
    answers = [nbgrader_meta(c).get("grade_id") for c in cells if cell_kind(c) == "answer"]
    visible = {f"test_{gid}": gid for gid in answers}
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    errors: dict[str, BaseException] = {}     # answer gid -> its cell's exception
    results: dict[str, Exercise] = {}
    report = Report()
    for index, cell in enumerate(cells):
        kind, gid, code = cell_kind(cell), nbgrader_meta(cell).get("grade_id"), _source(cell)
        if kind in ("markdown", "demo") or not code.strip():
            continue
        if kind == "test":
            answer = visible.get(gid)
            if answer is None or answer in results:
                continue    # a hidden test, or not an exercise's visible test
            exc = _run(code, ns, gid, timeout)
            results[answer] = _verdict(answer, cells, errors.get(answer), exc)
            continue
        exc = _run(code, ns, gid or f"cell {index}", timeout)
        if kind == "answer" and gid:
            if exc is not None:
                errors[gid] = exc
        elif exc is not None:
            report.problems.append(f"cell {index} failed: {_message(exc)}")
    for gid in answers:
        report.exercises.append(results.get(gid) or Exercise(
            gid, False, f"{gid}: its visible test cell is missing from the notebook"))
    report.seconds = time.perf_counter() - start
    return report


def _verdict(answer: str, cells, cell_error, test_error) -> Exercise:
    """One exercise's result from its answer cell's and its visible test's exceptions."""
    code = next(_source(c) for c in cells if nbgrader_meta(c).get("grade_id") == answer)
    if isinstance(cell_error, NotImplementedError) or (
            test_error is not None and NOT_ANSWERED in _message(test_error)):
        return Exercise(answer, False, f"{NOT_ANSWERED}: replace the stub (it still raises "
                                       "NotImplementedError) with your code")
    if cell_error is not None:
        return Exercise(answer, False, f"your cell '{answer}' raised {_message(cell_error)}")
    banned = forbidden_imports(code)
    if banned:
        return Exercise(answer, False, f"your cell '{answer}' imports {', '.join(banned)}: "
                                       "answers may use numpy only, and grading scores this "
                                       "exercise zero")
    if test_error is not None:
        return Exercise(answer, False, _message(test_error), getattr(test_error, "mistake", ""))
    return Exercise(answer, True)


def check_path(path: Path, timeout: float = 30.0) -> Report:
    """Check the notebook at ``path``, run from its folder as a kernel would."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"NOTEBOOK must be a readable .ipynb file, got {path}: {exc}") from None
    folder = str(path.resolve().parent)
    here = os.getcwd()
    sys.path.insert(0, folder)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        os.chdir(folder)
        return check_notebook(nb, timeout)
    finally:
        os.chdir(here)
        sys.path.remove(folder)


# -- nbgrader's Validate button ---------------------------------------------------------

# nbgrader's dialog titles a failure "The following cell failed:"; the summary is not a
# cell, so that heading is hidden, and long messages wrap.
_STYLE = ("<style>#validation-message > div:first-child > p {display: none}"
          " #validation-message pre {white-space: pre-wrap}</style>")


def validate_reply(report: Report) -> dict:
    """The ``/assignments/validate`` reply nbgrader's lab extension shows for ``report``.

    All exercises pass: nbgrader's own "Success!" reply. Otherwise one "failed"
    entry whose source is the summary and whose error (shown as HTML by the
    extension, so every text is escaped here) lists each exercise.
    """
    if report.passed:
        return {"success": True, "value": {}}
    rows = [html.escape(line) for line in report.lines()[:-1]]
    body = _STYLE + "\n".join(rows)
    return {"success": True, "value": {"failed": [
        {"source": f"Check my work: {report.summary()}", "error": body}]}}


def _handler_class():
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    class CheckHandler(JupyterHandler):
        """``POST /assignments/validate?path=...``: :mod:`dlnotes_course.check` on a notebook."""

        @web.authenticated
        async def post(self):
            import asyncio

            path = self.get_argument("path", None) or (self.get_json_body() or {}).get("path")
            root = Path(self.settings["dlnotes_check_root"]).expanduser().resolve()
            target = (root / str(path or "")).resolve()
            if not path or not target.is_relative_to(root) or not target.is_file():
                raise web.HTTPError(403 if path else 400, "path must name a notebook")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "dlnotes_course.check", "--json", str(target),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
            except asyncio.TimeoutError:
                proc.kill()
                out, err = b"", b"the check ran past 600 s"
            try:
                reply = validate_reply(Report(**_report_fields(json.loads(out))))
            except ValueError:
                reply = {"success": False,
                         "value": err.decode("utf-8", "replace")[-2000:] or "the check failed"}
            self.finish(json.dumps(reply))

    return CheckHandler


def _report_fields(data: dict) -> dict:
    return {"exercises": [Exercise(**e) for e in data["exercises"]],
            "problems": list(data["problems"]), "seconds": float(data["seconds"])}


def _jupyter_server_extension_points():
    return [{"module": "dlnotes_course.check"}]


def _load_jupyter_server_extension(serverapp):
    """Serve nbgrader's Validate button with this check (and nbgrader's version probe)."""
    from jupyter_server.utils import url_path_join
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler

    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    web_app.settings["dlnotes_check_root"] = serverapp.root_dir
    web_app.add_handlers(".*$", [
        (url_path_join(base, "/assignments/validate"), _handler_class()),
        (url_path_join(base, "/nbgrader_version"), NbGraderVersionHandler)])
    serverapp.log.info("dlnotes: Validate runs dlnotes-check")


load_server_extension = _load_jupyter_server_extension


def main(argv=None) -> int:
    """``dlnotes-check NOTEBOOK [--timeout S] [--json]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="dlnotes-check",
        description="Run a chapter notebook's provided cells, your answers and the visible "
                    "tests (demos skipped); print each exercise's result.")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=float, default=30, help="seconds per cell (30)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = check_path(args.notebook, args.timeout)
    except ValueError as exc:
        print(f"dlnotes-check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"{args.notebook.name}:")
        print("\n".join(report.lines()))
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
