"""The result model and the outputs written from it: grades.csv, report.txt, feedback."""

from __future__ import annotations

import csv

from dlnotes_course.feedback import describe, render
from dlnotes_course.outputs import file_name, write_outputs
from dlnotes_course.results import Check, Result, clean

POINTS = {"test_f": 1.0, "test_f_hidden": 2.0}


def _result(student="ada", **outcome):
    return Result.from_outcome(student, "99_toy", f"{student}.ipynb", POINTS, {
        "checks": [{"grade_id": "test_f", "score": 1.0, "message": ""},
                   {"grade_id": "test_f_hidden", "score": 0.0,
                    "message": "f: expected 4, got 3. Likely mistake: off by one.",
                    "mistake": "off by one", "seconds": 0.25}],
        "status": "graded", "reasons": [], **outcome})


def test_clean_makes_one_line_and_cuts():
    assert clean("a\nb\tc\r") == "a\\nb\\tc\\r"
    assert "\u2028" not in clean("x\u2028y")
    long = clean("x" * 5000, 100)
    assert long.startswith("x" * 100) and "4900 more characters" in long


def test_result_from_outcome_keeps_every_check_in_chapter_order():
    r = _result()
    assert [c.grade_id for c in r.checks] == list(POINTS)
    assert (r.score, r.max_score) == (1.0, 3.0)
    hidden = r.checks[1]
    assert hidden.mistake == "off by one" and hidden.seconds == 0.25 and not hidden.passed


def test_missing_checks_score_zero_and_scores_are_clamped():
    r = Result.from_outcome("bo", "99_toy", "bo.ipynb", POINTS, {
        "checks": [{"grade_id": "test_f", "score": 99.0}], "status": "weird"})
    assert r.checks[0].score == 1.0
    assert (r.checks[1].score, r.checks[1].message) == (0.0, "not graded")
    assert r.status == "crashed"


def test_outputs_cannot_be_forged_by_student_text(tmp_path):
    evil = _result("mallory", status="crashed",
                   reasons=["boom\nada\tada.ipynb\tflagged: copied\r\n"])
    evil.checks[1].message = "x\nada\tada.ipynb\ttest_f: forged"
    write_outputs([_result(), evil], tmp_path)
    lines = (tmp_path / "report.txt").read_text().splitlines()
    assert [ln for ln in lines if ln.startswith("ada\t")] == [
        "ada\tada.ipynb\ttest_f_hidden: f: expected 4, got 3. Likely mistake: off by one."]
    assert len(lines) == 3 and all(ln.count("\t") == 2 for ln in lines)
    with open(tmp_path / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student"] for r in rows] == ["ada", "mallory"]
    assert "\n" not in rows[1]["reason"]


def test_feedback_escapes_markup_and_shows_notes():
    r = _result("ada", reasons=["your cell 'f' raised SystemExit (sys.exit())"])
    r.checks[1].message = "<script>alert(1)</script>"
    page = render(r)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "SystemExit" in page
    assert "1 of 2 checks passed" in page
    assert describe("test_f_hidden") == "f (hidden tests)"


def test_long_student_ids_get_short_file_names():
    assert file_name("ada") == "ada"
    name = file_name("s" * 245)
    assert len(name) < 100 and name != file_name("s" * 244)


def test_check_passed_compares_with_max_score():
    assert Check("t", 2.0, 2.0).passed and not Check("t", 1.0, 2.0).passed


def test_a_child_stopped_at_the_wall_keeps_its_checks_and_its_flags(monkeypatch):
    import time

    from dlnotes_course import child

    monkeypatch.setattr(child, "GRACE", 0.5)

    def stuck(ctx, data, on_progress):
        on_progress("check", {"grade_id": "test_f", "score": 1.0, "max_score": 1.0})
        on_progress("flag", "imported torch (graded answers may not use torch)")
        time.sleep(60)    # the grader's side never finishes: the worker stops it

    ctx = {"limits": {"cell_timeout": 0.1, "memory_mb": 100, "grader_memory_mb": 1024,
                      "sandbox": True}}
    start = time.monotonic()
    out = child.run_in_child(stuck, ctx, b"", "ada")
    assert time.monotonic() - start < 10
    assert out["status"] == "flagged"
    assert out["reasons"][0].startswith("attempt to game the checks: imported torch")
    assert any("wall limit" in r for r in out["reasons"])
    assert [c["grade_id"] for c in out["checks"]] == ["test_f"]
