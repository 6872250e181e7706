"""Hostile submissions: each gets its row and status; the rest of the class is unharmed.

One class of the metrics chapter is graded once (two workers, sandboxed) with a
good student at the start, in the middle and at the end, and one submission
per fault or gaming attempt.
"""

from __future__ import annotations

import csv
import os
import time

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import grade_folder
from dlnotes_course.layout import repo_root
from dlnotes_course.sandbox import bwrap_problem
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered, solution_of
from processes import student_processes

CHAPTER = "01_metrics"
pytestmark = pytest.mark.slow


def _cells(nb, gid):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid]


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "subs", base / "out"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    precision = solution_of(source, "precision")
    recall = solution_of(source, "recall")
    wrong_precision = "def precision(y_true, y_pred):\n    return 0.123\n"
    gradebook = base / "course" / "gradebook.db"

    def write(name, overrides=None, nb=None):
        nbformat.write(nb if nb is not None else answered(release, source, overrides or {}),
                       subs / f"{name}.ipynb")

    write("aa_good")
    write("mm_good")
    write("zz_good")
    # -- faults
    write("memory_bomb", {"precision": "import numpy as np\n"
                                       "def precision(y_true, y_pred):\n"
                                       "    big = np.ones((900, 1024, 1024), dtype=np.uint8)\n"
                                       "    return float(big.sum())\n"})
    write("fork_storm", {"f1_score": solution_of(source, "f1_score") + (
        "\nimport os, time\n"
        "for _ in range(300):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(120)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n")})
    write("sys_exit", {"recall": recall + "\nimport sys\nsys.exit()\n"})
    write("os_exit", {"precision": "import os\ndef precision(y_true, y_pred):\n    os._exit(1)\n"})
    write("keyboard", {"recall": recall + "\nraise KeyboardInterrupt\n"})
    write("kill_self", {"roc_auc_score": "import os, signal\n"
                                         "os.kill(os.getpid(), signal.SIGKILL)\n"})
    write("prints", {"confusion_matrix": solution_of(source, "confusion_matrix") + (
        "\nimport sys\nfor _ in range(1024):\n    sys.stdout.write('x' * (1 << 20))\n")})
    write("files", {"precision": precision + (
        "\nimport os\n"
        f"for target in [{str(subs / 'aa_good.ipynb')!r}, {str(gradebook)!r}, '/etc/dlnotes',\n"
        f"               {str(repo_root() / 'pwned.txt')!r}]:\n"
        "    try:\n"
        "        open(target, 'w').write('pwned')\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        "    os.remove('submission.ipynb')\n"
        "except OSError:\n"
        "    pass\n")})
    # -- cells changed
    tampered = answered(release, source)
    _cells(tampered, "test_precision")[0].source = "pass"
    tampered.cells.remove(_cells(tampered, "helper_counts")[0])
    write("tampered", nb=tampered)
    missing = answered(release, source)
    missing.cells.remove(_cells(missing, "precision")[0])
    _cells(missing, "recall")[0].metadata["nbgrader"]["grade_id"] = "my_recall"
    write("missing_answer", nb=missing)
    # -- gaming
    write("patch_numpy", {"precision": wrong_precision + (
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n")})
    write("patch_math", {"recall": "import math\nmath.isclose = lambda *a, **k: True\n"
                                   "def recall(y_true, y_pred):\n    return 0.5\n"})
    write("patch_builtins", {"precision": wrong_precision + (
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\n")})
    write("patch_helper", {"precision": precision + (
        "\ndef tp_fp_fn_tn(y_true, y_pred):\n    return 1, 0, 0, 1\n")})
    write("patch_checks", {"precision": wrong_precision + (
        "def check_close(*args, **kwargs):\n    return None\n"
        "def answer(fn, *args, **kwargs):\n    return 0.123\n")})
    write("equal_anything", {"precision": "class Anything(float):\n"
                                           "    def __eq__(self, other):\n        return True\n"
                                           "    __hash__ = float.__hash__\n"
                                           "def precision(y_true, y_pred):\n"
                                           "    return Anything(0.0)\n"})
    write("import_torch", {"precision": "import torch\n" + precision})
    write("read_solutions", {"precision": precision + (
        f"\ntry:\n    SECRET = open({str(repo_root() / 'solutions' / '01_metrics.py')!r}).read()\n"
        "except OSError:\n    SECRET = ''\n")})

    before = {p.name: p.read_bytes() for p in subs.iterdir()}
    start = time.monotonic()
    results = grade_folder(CHAPTER, subs, out, base / "course", cell_timeout=8,
                           memory_mb=400, workers=2)
    elapsed = time.monotonic() - start
    return {r.student: r for r in results}, out, subs, before, base, elapsed


def _row(hostile_class, student):
    return hostile_class[0][student]


def _check(result, gid):
    return next(c for c in result.checks if c.grade_id == gid)


def _worth(result, answer):
    """The points of an answer's visible and hidden checks (what a fault there costs)."""
    return sum(c.max_score for c in result.checks
               if c.grade_id in (f"test_{answer}", f"test_{answer}_hidden"))


def test_sandbox_is_available_here():
    assert bwrap_problem() == "", "bubblewrap must start on this machine (make installs it)"


def test_every_submission_has_one_row_under_its_own_name(hostile_class):
    results, out, subs, *_ = hostile_class
    with open(out / "grades.csv", newline="") as fh:
        rows = [r["student"] for r in csv.DictReader(fh)]
    assert sorted(rows) == sorted(p.stem for p in subs.glob("*.ipynb"))
    assert all(r.notebook.endswith(f"{r.student}.ipynb") for r in results.values())


@pytest.mark.parametrize("student", ["aa_good", "mm_good", "zz_good"])
def test_good_students_are_unharmed(hostile_class, student):
    r = _row(hostile_class, student)
    assert (r.status, r.score) == ("graded", r.max_score), r.reason


def test_memory_bomb_is_stopped_and_the_rest_counts(hostile_class):
    r = _row(hostile_class, "memory_bomb")
    assert r.status == "memory", r.reason
    assert "test_precision" in r.reason and "400 MB" in r.reason
    assert _check(r, "test_precision").score == 0
    assert r.score == r.max_score - _worth(r, "precision")


def test_fork_storm_hits_the_process_limit(hostile_class):
    r = _row(hostile_class, "fork_storm")
    assert r.status in ("graded", "crashed"), r.reason
    assert _check(r, "test_precision").passed


def test_no_student_process_outlives_grading(hostile_class):
    assert student_processes(hostile_class[2]) == []


def test_sys_exit_and_keyboard_interrupt_only_end_their_cell(hostile_class):
    for student in ("sys_exit", "keyboard"):
        r = _row(hostile_class, student)
        assert r.status == "graded", r.reason
        assert r.score == r.max_score


def test_os_exit_is_a_crash_named_by_cell(hostile_class):
    r = _row(hostile_class, "os_exit")
    assert r.status == "crashed"
    assert "test_precision" in r.reason and "exited with status 1" in r.reason
    assert r.score == r.max_score - _worth(r, "precision")


def test_killing_its_own_process_is_a_crash(hostile_class):
    r = _row(hostile_class, "kill_self")
    assert r.status == "crashed" and "roc_auc_score" in r.reason
    assert "SIGKILL" in r.reason
    assert r.score == r.max_score - _worth(r, "roc_auc_score")


def test_a_gigabyte_of_output_is_counted_not_kept(hostile_class):
    r = _row(hostile_class, "prints")
    assert r.score == r.max_score
    assert "printed 1073.7 MB of output (output is not kept)" in r.reason
    out = hostile_class[1]
    stored = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert stored < 2_000_000


def test_writes_outside_its_directory_fail_and_are_flagged(hostile_class):
    _, out, subs, before, base, _ = hostile_class
    r = _row(hostile_class, "files")
    assert r.status == "flagged" and "outside its own directory" in r.reason
    assert {p.name: p.read_bytes() for p in subs.iterdir()} == before
    assert not (repo_root() / "pwned.txt").exists()
    assert not os.path.exists("/etc/dlnotes")
    assert (base / "course" / "gradebook.db").read_bytes()[:15] == b"SQLite format 3"


def test_edited_and_deleted_locked_cells_are_restored(hostile_class):
    r = _row(hostile_class, "tampered")
    assert r.status == "tampered"
    assert "test_precision (edited)" in r.reason and "helper_counts (deleted)" in r.reason
    assert r.score == r.max_score


def test_missing_or_renamed_answer_cell_is_named(hostile_class):
    r = _row(hostile_class, "missing_answer")
    assert r.status == "graded"
    assert "answer cells missing: precision, recall" in r.reason
    assert not _check(r, "test_precision").passed
    assert "precision' is missing" in _check(r, "test_precision").message
    assert _check(r, "test_recall_hidden").passed   # the renamed cell still ran


@pytest.mark.parametrize(("student", "seen", "zeroed"), [
    ("patch_numpy", "replaced numpy.allclose", ["test_precision", "test_precision_hidden"]),
    ("patch_math", "replaced math.isclose", ["test_recall", "test_recall_hidden"]),
    ("patch_builtins", "replaced builtins.abs", ["test_precision", "test_precision_hidden"]),
    ("patch_helper", "redefined the provided", ["test_precision", "test_precision_hidden"]),
    ("patch_checks", "redefined the provided name check_close",
     ["test_precision", "test_precision_hidden"]),
    ("equal_anything", "redefines __eq__", ["test_precision", "test_precision_hidden"]),
    ("import_torch", "graded answers may not use torch",
     ["test_precision", "test_precision_hidden"]),
    ("read_solutions", "tried to open", ["test_precision", "test_precision_hidden"]),
])
def test_gaming_attempts_are_flagged_and_earn_nothing(hostile_class, student, seen, zeroed):
    r = _row(hostile_class, student)
    assert r.status == "flagged", r.reason
    assert seen in r.reason
    lost = sorted(c.grade_id for c in r.checks if not c.passed)
    assert lost == sorted(zeroed)
    feedback = (hostile_class[1] / "feedback" / f"{student}.html").read_text()
    assert "flagged" in feedback


def test_report_names_student_and_notebook(hostile_class):
    report = (hostile_class[1] / "report.txt").read_text()
    line = next(ln for ln in report.splitlines() if ln.startswith("os_exit\t"))
    assert "os_exit.ipynb" in line and "crashed" in line
