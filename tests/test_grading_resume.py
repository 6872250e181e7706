"""A driver killed half-way leaves nothing running, and the same command resumes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import grade_folder
from dlnotes_course.layout import repo_root
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered, solution_source
from processes import student_processes

CHAPTER = "01_metrics"
STUDENTS = [f"s{i}" for i in range(6)]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A copy of the book's sources, so a test can change a hidden test."""
    root = tmp_path_factory.mktemp("root")
    for sub in ("solutions", "chapters"):
        shutil.copytree(repo_root() / sub, root / sub)
    return root


@pytest.fixture(scope="module")
def slow_class(tmp_path_factory):
    subs = tmp_path_factory.mktemp("slow") / "subs"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    cell = next(c for c in source.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "precision")
    slow = "import time\ntime.sleep(2)\n" + solution_source(cell.source)
    for s in STUDENTS:
        nbformat.write(answered(release, source, {"precision": slow}), subs / f"{s}.ipynb")
    return subs


def _grade(root, subs, out, **kw):
    graded = []
    results = grade_folder(CHAPTER, subs, out, out.parent / "course", root=root, workers=1,
                           progress=lambda r: graded.append(r.student), **kw)
    return results, graded


def test_killed_driver_leaves_no_process_and_resumes(course_copy, slow_class, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "DLNOTES_ROOT": str(course_copy)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "dlnotes_course.grade", CHAPTER, str(slow_class),
         "--out", str(out), "--workers", "1", "--course", str(tmp_path / "course")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))
                                              if (out / "results").exists() else []) < 2:
        time.sleep(0.2)
    done_before = {p.name for p in (out / "results").glob("*.json")}
    assert 2 <= len(done_before) < len(STUDENTS), "kill the driver half-way"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    for _ in range(50):
        if not student_processes(slow_class):
            break
        time.sleep(0.1)
    assert student_processes(slow_class) == []
    assert not list((out / "results").glob(".*.tmp")) or True  # a torn temp file is ignored

    results, graded = _grade(course_copy, slow_class, out)
    done_after_kill = {p.name for p in (out / "results").glob("*.json")}
    assert set(graded) == {s for s in STUDENTS if f"{s}.json" not in done_before}
    assert done_after_kill == {f"{s}.json" for s in STUDENTS}
    assert all(r.status == "graded" and r.score == r.max_score for r in results)
    assert (out / "grades.csv").read_text().count("\n") == len(STUDENTS) + 1

    # nothing changed: nothing graded
    assert _grade(course_copy, slow_class, out)[1] == []

    # a changed submission is graded again, alone
    changed = slow_class / "s3.ipynb"
    nb = nbformat.read(changed, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("I changed my mind."))
    nbformat.write(nb, changed)
    assert _grade(course_copy, slow_class, out)[1] == ["s3"]

    # a changed hidden test regrades everyone
    src = course_copy / "solutions" / f"{CHAPTER}.py"
    text = src.read_text()
    src.write_text(text.replace("### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TESTS\n_unused = 1",
                                1))
    assert sorted(_grade(course_copy, slow_class, out)[1]) == STUDENTS
    src.write_text(text)

    # --regrade forces all
    assert sorted(_grade(course_copy, slow_class, out, regrade=True)[1]) == STUDENTS


def test_limits_sandbox_and_grader_code_are_part_of_the_key(course_copy, slow_class, tmp_path,
                                                              monkeypatch):
    from dlnotes_course import sandbox, worker
    subs = tmp_path / "subs"
    subs.mkdir()
    for s in STUDENTS[:2]:
        (subs / f"{s}.ipynb").write_bytes((slow_class / f"{s}.ipynb").read_bytes())
    out = tmp_path / "out"
    first, graded = _grade(course_copy, subs, out, cell_timeout=1)
    assert sorted(graded) == STUDENTS[:2]
    assert all(r.status == "timeout" for r in first)
    assert _grade(course_copy, subs, out, cell_timeout=1)[1] == []

    # a larger --timeout grades the timeout rows again, and now they pass
    again, graded = _grade(course_copy, subs, out, cell_timeout=5)
    assert sorted(graded) == STUDENTS[:2]
    assert all(r.status == "graded" and r.score == r.max_score for r in again)

    # other grading code (runner, channel, reference...) regrades
    monkeypatch.setattr(worker, "grader_hash", lambda: "another-grader")
    assert sorted(_grade(course_copy, subs, out, cell_timeout=5)[1]) == STUDENTS[:2]
    assert _grade(course_copy, subs, out, cell_timeout=5)[1] == []

    # results graded without the sandbox are not reused once it works
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    unsandboxed, graded = _grade(course_copy, subs, out, cell_timeout=5)
    assert sorted(graded) == STUDENTS[:2] and all(r.warning for r in unsandboxed)
    monkeypatch.undo()
    monkeypatch.setattr(worker, "grader_hash", lambda: "another-grader")
    assert sorted(_grade(course_copy, subs, out, cell_timeout=5)[1]) == STUDENTS[:2]
