"""The grader on a folder with bad submissions: each is reported, the rest graded."""

from __future__ import annotations

import csv

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import collect, grade_folder, main
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered

CHAPTER = "01_metrics"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faulty_class(tmp_path_factory):
    """Flat folder: a good student, invalid JSON, an empty file, an endless loop."""
    base = tmp_path_factory.mktemp("faulty")
    subs = base / "subs"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    nbformat.write(answered(release, source), subs / "good.ipynb")
    (subs / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    (subs / "empty.ipynb").write_text("", encoding="utf-8")
    loop = "def precision(y_true, y_pred):\n    while True:\n        pass\n"
    nbformat.write(answered(release, source, {"precision": loop}), subs / "loop.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), subs / "other.ipynb")
    results = grade_folder(CHAPTER, subs, base / "out", base / "course", cell_timeout=3)
    return {r.student: r for r in results}, base / "out"


def test_every_submission_gets_a_row(faulty_class):
    results, out = faulty_class
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"good", "broken", "empty", "loop", "other"}
    assert all(float(r["max_score"]) == results["good"].max_score for r in rows.values())


def test_good_submission_still_graded_fully(faulty_class):
    good = faulty_class[0]["good"]
    assert good.status == "graded" and good.score == good.max_score


def test_invalid_notebooks_are_named_with_reason(faulty_class):
    results, out = faulty_class
    assert results["broken"].status == "invalid"
    assert "invalid JSON" in results["broken"].reason
    assert results["empty"].status == "invalid" and "empty" in results["empty"].reason
    assert results["other"].status == "invalid" and "chapter" in results["other"].reason
    report = (out / "report.txt").read_text()
    for student in ("broken", "empty", "other"):
        line = next(ln for ln in report.splitlines() if ln.startswith(student + "\t"))
        assert f"{student}.ipynb" in line and "invalid" in line


def test_endless_loop_times_out_and_keeps_other_points(faulty_class):
    loop = faulty_class[0]["loop"]
    assert loop.status == "timeout"
    assert "precision" in loop.reason
    lost = {c.grade_id for c in loop.checks if not c.passed}
    assert lost == {"test_precision", "test_precision_hidden"}
    lost_points = sum(c.max_score for c in loop.checks if c.grade_id in lost)
    assert lost_points > 0 and loop.score == loop.max_score - lost_points


def test_collect_rejects_bad_and_duplicate_ids(tmp_path):
    (tmp_path / "ok.ipynb").write_text("{}")
    (tmp_path / "bad id.ipynb").write_text("{}")
    (tmp_path / "twice.ipynb").write_text("{}")
    (tmp_path / "twice" / CHAPTER).mkdir(parents=True)
    (tmp_path / "twice" / CHAPTER / f"{CHAPTER}.ipynb").write_text("{}")
    found = {s.student: s.problem for s in collect(tmp_path, CHAPTER)}
    assert found["ok"] == ""
    assert "student id" in found["bad id"]
    assert "more than once" in found["twice"]


def test_nbgrader_layout_is_read(tmp_path):
    nb_dir = tmp_path / "alice" / CHAPTER
    nb_dir.mkdir(parents=True)
    (nb_dir / f"{CHAPTER}.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    found = {s.student: s for s in collect(tmp_path, CHAPTER)}
    assert found["alice"].label == str(nb_dir / f"{CHAPTER}.ipynb")
    assert found["alice"].problem == "" and found["alice"].data == b"{}"
    assert "no 01_metrics.ipynb" in found["bob"].problem


def test_cli_reports_bad_chapter_without_traceback(tmp_path, capsys):
    assert main(["99_nope", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no chapter '99_nope'" in err and "Traceback" not in err


def test_without_the_sandbox_the_report_warns(tmp_path, monkeypatch):
    from dlnotes_course import sandbox
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(answered(released(CHAPTER), load_chapter(CHAPTER)), subs / "ada.ipynb")
    (result,) = grade_folder(CHAPTER, subs, tmp_path / "out", tmp_path / "course", workers=1)
    assert result.score == result.max_score
    assert "sandbox unavailable: bubblewrap (bwrap) is not installed" in result.warning
    first = (tmp_path / "out" / "report.txt").read_text().splitlines()[0]
    assert first.startswith("WARNING\t") and "sandbox unavailable" in first


def test_cli_rejects_bad_options_in_one_line(tmp_path, capsys):
    assert main([CHAPTER, str(tmp_path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert main([CHAPTER, str(tmp_path), "--out", str(tmp_path / "o"), "--db", "not a url"]) == 2
    assert main([CHAPTER, str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("dlnotes-grade: ") for line in err)
