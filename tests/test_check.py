"""``dlnotes-check``: the reader's check runs what grading runs, and teaches (issue 22).

Every chapter's release (blank) and solved notebook get the verdicts they must;
planted mistakes fail their exercise with the test's teaching message when the
visible test can see them; what grading would fail for a reason the reader can
see (a stub, an exception, an endless loop, a forbidden import) never passes.
The "fast checks" rule both ways in rely on is checked over every chapter
source: provided non-demo cells and visible tests import no torch,
scikit-learn or matplotlib and train nothing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import tomllib

from dlnotes_course.check import cell_kind, check_notebook, validate_reply
from dlnotes_course.layout import chapter_ids, chapters_dir, repo_root
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered
from planted import mistakes

CHAPTERS = chapter_ids()
HEAVY = ("torch", "sklearn", "matplotlib")


def _release(chapter):
    return nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)


def _answers(nb) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if cell_kind(c) == "answer"]


def run_check(path: Path, *args) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dlnotes_course.check", str(path), *args],
                          capture_output=True, text=True, timeout=120)
    return done, time.perf_counter() - start


def test_console_script_is_declared():
    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["dlnotes-check"] == "dlnotes_course.check:main"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_blank_and_solved_release_verdicts(tmp_path, chapter):
    release = _release(chapter)
    n = len(_answers(release))
    blank, solved = tmp_path / f"{chapter}.ipynb", tmp_path / "solved" / f"{chapter}.ipynb"
    solved.parent.mkdir()
    nbformat.write(release, blank)
    nbformat.write(answered(release, load_chapter(chapter)), solved)

    done, blank_s = run_check(blank)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"0 of {n} exercises pass")
    assert "not answered" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr

    done, solved_s = run_check(solved)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"{n} of {n} exercises pass")
    assert "FAIL" not in done.stdout
    print(f"\n{chapter}: dlnotes-check blank {blank_s:.2f} s, solved {solved_s:.2f} s")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_planted_mistakes_fail_where_the_visible_test_sees_them(chapter):
    source, release = load_chapter(chapter), _release(chapter)
    # a visible test cell may end in hidden tests, cut from the release
    partly_hidden = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
                     if cell_kind(c) == "test" and "BEGIN HIDDEN TESTS" in c.source}
    for m in mistakes(chapter):
        if f"test_{m['cell']}" in partly_hidden and m.get("status") != "flagged":
            continue
        report = check_notebook(answered(release, source, {m["cell"]: m["source"]}), timeout=20)
        verdict = {e.name: e for e in report.exercises}
        failed = [name for name, e in verdict.items() if not e.passed]
        if m.get("status") == "flagged":   # delegation: imports a forbidden package
            assert failed == [m["cell"]], (m["name"], failed)
            assert "numpy only" in verdict[m["cell"]].message
        elif f"test_{m['cell']}" in m["fails"]:
            # an answer another exercise builds on (chapter 04's Value under train_moons)
            # fails that exercise's visible test too, as its planted entry says
            seen = [name for name in verdict if f"test_{name}" in m["fails"]]
            assert failed == seen, (m["name"], failed)
            assert verdict[m["cell"]].message, m["name"]
        else:   # only the hidden tests see it: the reader's check cannot
            assert failed == [], (m["name"], failed)


def _nb(*cells):
    def cell(kind, gid, code, tags=()):
        meta = {"tags": list(tags)}
        if kind == "answer":
            meta["nbgrader"] = {"grade_id": gid, "solution": True}
        elif kind == "test":
            meta["nbgrader"] = {"grade_id": gid, "grade": True, "points": 1}
        return {"cell_type": "code", "source": code, "metadata": meta}
    return {"cells": [cell(*c) for c in cells]}


def test_what_grading_fails_visibly_never_passes():
    stub = "value = None\nraise NotImplementedError()"
    report = check_notebook(_nb(
        ("provided", None, "import math"),
        ("answer", "value", stub),
        ("test", "test_value", "assert True"),          # a test that cannot see the stub
        ("answer", "half", "def half(x):\n    return x / 2\nraise ValueError('oops')"),
        ("test", "test_half", "assert half(4) == 2"),
        ("answer", "spin", "def spin():\n    while True:\n        pass"),
        ("test", "test_spin", "spin()"),
        ("answer", "sk", "from sklearn.metrics import f1_score as sk"),
        ("test", "test_sk", "assert callable(sk)"),
        ("answer", "ok", "def ok():\n    return 1"),
        ("test", "test_ok", "assert ok() == 1"),
    ), timeout=1)
    verdict = {e.name: e for e in report.exercises}
    assert not verdict["value"].passed and "not answered yet" in verdict["value"].message
    assert not verdict["half"].passed and "ValueError: oops" in verdict["half"].message
    assert not verdict["spin"].passed and "1 s cell limit" in verdict["spin"].message
    assert not verdict["sk"].passed and "sklearn" in verdict["sk"].message
    assert verdict["ok"].passed
    assert report.summary() == "1 of 5 exercises pass" and not report.passed


def test_demos_and_hidden_tests_are_skipped_and_outputs_swallowed(capsys):
    report = check_notebook(_nb(
        ("provided", None, "raise RuntimeError('a demo')", ["demo"]),
        ("answer", "f", "def f():\n    print('noise')\n    return 3"),
        ("test", "test_f", "assert f() == 3, 'f() must be 3'"),
        ("test", "test_f_hidden", "raise AssertionError('hidden')"),
    ))
    assert report.passed and report.problems == []
    assert "noise" not in capsys.readouterr().out


def test_teaching_message_reaches_the_validate_dialog_escaped():
    report = check_notebook(_nb(
        ("answer", "f", "def f():\n    return '<b>'"),
        ("test", "test_f", "assert f() == 1, f'f() returned {f()}, expected 1'"),
    ))
    reply = validate_reply(report)
    failed = reply["value"]["failed"][0]
    assert failed["source"] == "Check my work: 0 of 1 exercises pass"
    assert "f() returned &lt;b&gt;, expected 1" in failed["error"]
    assert "<b>" not in failed["error"]
    assert validate_reply(check_notebook(_nb(("answer", "g", "g = 1"),
                                             ("test", "test_g", "assert g == 1")))) == \
        {"success": True, "value": {}}


def test_bad_notebook_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.ipynb"
    bad.write_text("{ not json")
    done, _ = run_check(bad)
    assert done.returncode == 2 and "NOTEBOOK must be a readable .ipynb" in done.stderr
    with pytest.raises(ValueError, match="timeout"):
        check_notebook({"cells": []}, timeout=0)


# ------------------------------------------------------------------ the "fast checks" rule

def _imports(code: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_provided_cells_and_visible_tests_are_light(tmp_path, chapter):
    """No torch, scikit-learn or matplotlib, and no training, outside demos and hidden tests."""
    source = load_chapter(chapter)
    answers = set(_answers(source))
    for cell in source.cells:
        kind, gid = cell_kind(cell), cell.metadata.get("nbgrader", {}).get("grade_id")
        if kind == "provided" or (kind == "test" and gid.removeprefix("test_") in answers):
            heavy = _imports(cell.source) & set(HEAVY)
            assert not heavy, f"{chapter} {kind} cell {gid or cell.id} imports {heavy}"
    # run them, solved: nothing heavy gets imported indirectly, no cell takes long
    solved = tmp_path / f"{chapter}.ipynb"
    nbformat.write(answered(_release(chapter), source), solved)
    probe = ("import json, sys, time\n"
             "from dlnotes_course import check\n"
             "times = {}\n"
             "run = check._run\n"
             "def timed(code, ns, label, timeout):\n"
             "    t = time.process_time(); exc = run(code, ns, label, timeout)\n"
             "    times[label] = time.process_time() - t; return exc\n"
             "check._run = timed\n"
             f"report = check.check_path({str(solved)!r})\n"
             f"print(json.dumps({{'passed': report.passed, 'times': times, 'heavy': "
             f"sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})}}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["passed"]
    assert data["heavy"] == [], f"{chapter}: the check imported {data['heavy'][:5]}"
    slow = {label: t for label, t in data["times"].items() if t > 2.0}
    assert slow == {}, f"{chapter}: cells that train or compute too long: {slow}"

