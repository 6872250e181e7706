"""Hostile submissions, round two: each attack costs only its author.

One class of the metrics chapter is graded once (sandboxed, two workers,
short limits) beside honest students; each attack is one submission and one
test. The attacks are this project's own cases of the classes the grader must
withstand: shadowed builtins, inputs rewritten under the reference, time spent
outside the cell limits, flag floods, memory held by the grader, malformed
channel traffic, forged report lines, links and odd student ids.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import grade_folder
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered, solution_of
from processes import student_processes

CHAPTER = "01_metrics"
TIMEOUT = 2.0           # seconds per cell: the wall limit is 20 s
LONG_ID = "s" * 245
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile2")
    subs, out = base / "subs", base / "out"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    precision, recall = solution_of(source, "precision"), solution_of(source, "recall")

    def write(name, overrides=None, nb=None):
        nbformat.write(nb if nb is not None else answered(release, source, overrides or {}),
                       subs / f"{name}.ipynb")

    write("aa_good")
    write("zz_good")
    write("blank", nb=release)
    # every name an answer defines reached the tests: defining range/enumerate/len to
    # answer "nothing" made failing checks pass
    write("shadow_builtins", {"precision": (
        "def precision(y_true, y_pred):\n    return 0.123\n"
        "def range(*a, **k):\n    return []\n"
        "def enumerate(*a, **k):\n    return []\n"
        "def round(*a, **k):\n    return 0\n"
        "def isinstance(*a):\n    return True\n")})
    # zeroing the inputs under the reference: the hidden tests call it after the student
    write("zero_inputs", {"precision": (
        "def precision(y_true, y_pred):\n"
        "    for a in (y_true, y_pred):\n"
        "        try:\n"
        "            a[...] = 0\n"
        "        except (TypeError, ValueError):\n"
        "            pass\n"
        "    return 0.0\n")})
    # time outside the cell limit: many added cells, each just under it
    nb = answered(release, source)
    for _ in range(16):
        nb.cells.insert(3, nbformat.v4.new_code_cell(f"import time\ntime.sleep({TIMEOUT * 0.9})"))
    write("many_slow_cells", nb=nb)
    # a flood of flags: new ones with every message, as many as one message may carry
    write("flag_flood", {"precision": precision + (
        "\nimport sys\n"
        "_ch = sys.modules['__main__'].channel\n"
        "_n = [0]\n"
        "def _flood(msg):\n"
        "    msg['flags'] = [f'flag {_n[0] + i} ' + 'x' * 400 for i in range(20)]\n"
        "    _n[0] += 20\n"
        "_ch._outgoing_flags = _flood\n")})
    # a reply the grader must hold: millions of Python ints
    write("huge_list", {"recall": recall + (
        "\n_real_recall = recall\n"
        "def recall(y_true, y_pred):\n"
        "    return list(range(3_000_000))\n")})
    # garbage on the channel from a second thread
    write("garbage_thread", {"f1_score": solution_of(source, "f1_score") + (
        "\nimport os, socket, sys, threading\n"
        "def _garbage():\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            s = socket.socket(fileno=os.dup(fd))\n"
        "            s.sendall(b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x10' + b'{not json at all')\n"
        "        except OSError:\n"
        "            pass\n"
        "_real_f1 = f1_score\n"
        "def f1_score(y_true, y_pred):\n"
        "    threading.Thread(target=_garbage).start()\n"
        "    return _real_f1(y_true, y_pred)\n")})
    # a message that reads like another student's flagged row
    write("forger", {"precision": (
        "def precision(y_true, y_pred):\n"
        "    raise ValueError('oops\\naa_good\\taa_good.ipynb\\tflagged: copied\\r\\n')\n")})
    # an answer that ends with sys.exit()
    write("exits", {"recall": recall + "\nimport sys\nsys.exit(0)\n"})
    # delegation however reached
    write("import_module", {"precision": precision + (
        "\nimport importlib\n"
        "try:\n"
        "    _m = importlib.import_module('dlnotes.metrics')\n"
        "except ImportError:\n"
        "    _m = None\n")})
    write("walk_dlnotes", {"recall": recall + (
        "\nimport pkgutil\n"
        "try:\n"
        "    import dlnotes as _d\n"
        "    _names = [m.name for m in pkgutil.walk_packages(_d.__path__)]\n"
        "except ImportError:\n"
        "    _names = []\n")})
    # links and odd ids
    (subs / "link_to_source.ipynb").symlink_to(
        base / "target.ipynb")
    nbformat.write(answered(release, source), base / "target.ipynb")
    (subs / "link_to_passwd.ipynb").symlink_to("/etc/passwd")
    write(LONG_ID)

    start = time.monotonic()
    results = grade_folder(CHAPTER, subs, out, base / "course", cell_timeout=TIMEOUT,
                           memory_mb=1024, grader_memory_mb=1024, workers=2)
    return {r.student: r for r in results}, out, time.monotonic() - start


def _row(attacked, student):
    return attacked[0][student]


def _lost(result):
    return sorted(c.grade_id for c in result.checks if not c.passed)


def test_every_submission_has_one_row(attacked):
    rows, out, _ = attacked
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert sorted(r["student"] for r in csv_rows) == sorted(rows)
    assert len(rows) == 16


@pytest.mark.parametrize("student", ["aa_good", "zz_good"])
def test_honest_students_keep_full_marks(attacked, student):
    r = _row(attacked, student)
    assert (r.status, r.score) == ("graded", r.max_score), r.reason


def test_shadowed_builtins_never_reach_the_tests(attacked):
    blank, shadow = _row(attacked, "blank"), _row(attacked, "shadow_builtins")
    assert shadow.status == "graded", shadow.reason
    # everything but precision is answered correctly; precision's checks fail as they should
    assert _lost(shadow) == ["test_precision", "test_precision_hidden"]
    assert "expected" in next(c for c in shadow.checks if c.grade_id == "test_precision").message
    assert blank.score == 0


def test_inputs_cannot_be_changed_under_the_reference(attacked):
    r = _row(attacked, "zero_inputs")
    assert _lost(r) == ["test_precision", "test_precision_hidden"], [
        (c.grade_id, c.message) for c in r.checks if not c.passed]


def test_one_wall_clock_covers_the_students_own_cells(attacked):
    r = _row(attacked, "many_slow_cells")
    assert r.status == "timeout", r.reason
    assert "wall limit" in r.reason
    assert r.seconds <= 10 * TIMEOUT + 5


def test_a_flood_of_flags_is_capped(attacked):
    r = _row(attacked, "flag_flood")
    assert r.status == "flagged", r.reason
    assert r.reason.count("flag ") <= 50 and len(r.reason) < 30_000
    assert r.seconds < 60


def test_a_huge_reply_costs_only_its_author(attacked):
    r = _row(attacked, "huge_list")
    assert not next(c for c in r.checks if c.grade_id == "test_recall").passed
    assert r.seconds < 60
    passed = {c.grade_id for c in r.checks if c.passed}
    assert {"test_precision", "test_f1_score"} <= passed


def test_garbage_on_the_channel_is_a_crash_of_the_student_process(attacked):
    r = _row(attacked, "garbage_thread")
    assert r.status in ("crashed", "graded"), r.reason
    passed = {c.grade_id for c in r.checks if c.passed}
    assert {"test_precision", "test_recall", "test_confusion_matrix"} <= passed


def test_report_lines_cannot_be_forged(attacked):
    _, out, _ = attacked
    lines = (out / "report.txt").read_text(encoding="utf-8").splitlines()
    assert not [ln for ln in lines if ln.startswith("aa_good")]
    forged = [ln for ln in lines if ln.startswith("forger\t")]
    assert forged and all(ln.count("\t") == 2 for ln in forged)
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        text = fh.read()
    assert text.count("\n") == len(attacked[0]) + 1


def test_sys_exit_is_named_in_reason_and_feedback(attacked):
    r = _row(attacked, "exits")
    assert "SystemExit" in r.reason
    feedback = (attacked[1] / "feedback" / "exits.html").read_text()
    assert "SystemExit" in feedback


@pytest.mark.parametrize("student", ["import_module", "walk_dlnotes"])
def test_delegation_however_reached_is_flagged(attacked, student):
    r = _row(attacked, student)
    assert r.status == "flagged", r.reason
    assert "dlnotes" in r.reason


@pytest.mark.parametrize("student", ["link_to_source", "link_to_passwd"])
def test_links_are_never_followed(attacked, student):
    r = _row(attacked, student)
    assert r.status == "invalid" and "symbolic link" in r.reason
    _, out, _ = attacked
    for name in ("grades.csv", "report.txt"):
        assert "root:" not in (out / name).read_text()


def test_a_long_student_id_gets_its_row(attacked):
    r = _row(attacked, LONG_ID)
    assert (r.status, r.score) == ("graded", r.max_score), r.reason
    assert list((attacked[1] / "feedback").glob("sss*.html"))


def test_no_student_process_outlives_grading(attacked):
    assert student_processes(attacked[1].parent / "subs") == []



def _small_class(tmp_path, overrides: dict) -> Path:
    subs = tmp_path / "subs"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    for name in ("aa_good", *overrides, "zz_good"):
        nbformat.write(answered(release, source, overrides.get(name, {})), subs / f"{name}.ipynb")
    return subs


def test_a_submission_that_fills_the_graders_memory_costs_only_its_author(tmp_path):
    hog = {"precision": ("import numpy as np\n"
                         "def precision(y_true, y_pred):\n"
                         "    return np.zeros(300 * 2**20, dtype=np.uint8)\n")}
    subs = _small_class(tmp_path, {"mm_hog": hog})
    results = {r.student: r for r in grade_folder(
        CHAPTER, subs, tmp_path / "out", tmp_path / "course", cell_timeout=10,
        memory_mb=1536, grader_memory_mb=200, workers=1)}
    for good in ("aa_good", "zz_good"):
        assert (results[good].status, results[good].score) == ("graded",
                                                               results[good].max_score)
    lost = _lost(results["mm_hog"])
    assert "test_precision" in lost and "test_recall" not in lost, results["mm_hog"].reason


def _dies_once(ctx, student, data):
    """grade_task, except that the first worker to get mm_victim dies on the spot."""
    from dlnotes_course.child import run_in_child
    from dlnotes_course.worker import _grade_here, _preload
    marker = Path(os.environ["DLNOTES_TEST_MARKER"])
    if student == "mm_victim" and not marker.exists():
        marker.write_text("x")
        os._exit(1)          # the worker process itself dies: its pool breaks
    _preload()
    return run_in_child(_grade_here, ctx, data, student)


def test_a_dying_worker_costs_nobody_anything(tmp_path, monkeypatch):
    from dlnotes_course import worker
    subs = _small_class(tmp_path, {"mm_victim": {}})
    monkeypatch.setenv("DLNOTES_TEST_MARKER", str(tmp_path / "died-once"))
    monkeypatch.setattr(worker, "grade_task", _dies_once)
    results = grade_folder(CHAPTER, subs, tmp_path / "out", tmp_path / "course", workers=2)
    assert (tmp_path / "died-once").exists()
    assert [(r.student, r.status, r.score == r.max_score) for r in results] == [
        ("aa_good", "graded", True), ("mm_victim", "graded", True), ("zz_good", "graded", True)]
