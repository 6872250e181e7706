"""The class report (issue 22): what the class got wrong, at a glance.

A small class of the metrics chapter is graded with ``grade_folder``: the
solution, the blank release, every planted mistake (the first one three
times), an answer that never ends (at a 2 s cell limit) and a file that is no
notebook. ``class_summary.csv`` must count them right and name each planted
mistake's explanation with the students who made it; Chromium opens
``class_report.html`` and finds the histogram and the per-exercise table.

A second class, of students who wrote their answers alone and one who copied
(``similar_answers.py``), is graded with ``--similarity``.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from dlnotes_course.class_report import histogram_bins, summarize
from dlnotes_course.grade import Check, Result, grade_folder, main
from dlnotes_course.layout import chapters_dir
from dlnotes_course.similarity import DEFAULT_THRESHOLD, SimilarityOptions
from dlnotes_course.source import Chapter, load_chapter
from dlnotes_course.submissions import answered
from planted import mistakes

CHAPTER = "01_metrics"
REPEATED = 3          # copies of the first planted mistake
ENDLESS = "def precision(y_true, y_pred):\n    while True:\n        pass\n"
WORK = Path(tempfile.mkdtemp(prefix="dlnotes-class-report-"))


def _release():
    return nbformat.read(chapters_dir() / f"{CHAPTER}.ipynb", as_version=4)


def planted_students() -> dict[str, dict]:
    """``{student: planted mistake}``; the first mistake is made by several students."""
    found = {}
    for i, m in enumerate(mistakes(CHAPTER)):
        for copy in range(REPEATED if i == 0 else 1):
            found[f"planted_{i}" + (f"_{copy}" if copy else "")] = m
    return found


@functools.cache
def graded_small_class() -> Path:
    source, release = load_chapter(CHAPTER), _release()
    subs = WORK / "class"
    subs.mkdir(parents=True)
    nbformat.write(answered(release, source), subs / "solution.ipynb")
    nbformat.write(release, subs / "blank.ipynb")
    for student, m in planted_students().items():
        nbformat.write(answered(release, source, {m["cell"]: m["source"]}),
                       subs / f"{student}.ipynb")
    nbformat.write(answered(release, source, {"precision": ENDLESS}), subs / "endless.ipynb")
    (subs / "broken.ipynb").write_text("{ this is not a notebook")
    out = WORK / "class-out"
    grade_folder(CHAPTER, subs, out, WORK / "course", cell_timeout=2, workers=2)
    return out


def summary_rows(out: Path) -> list[dict]:
    with open(out / "class_summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _value(rows, kind, name, detail="", column="count"):
    found = [r[column] for r in rows if r["kind"] == kind and r["name"] == name
             and r["detail"] == detail]
    assert len(found) == 1, (kind, name, detail, found)
    return found[0]


# ---------------------------------------------------------------------------- no grading

def _result(student, checks, status="graded", seconds=1.0):
    cs = [Check(gid, score, top, msg, mistake) for gid, score, top, msg, mistake in checks]
    return Result(student, "ch", sum(c.score for c in cs), sum(c.max_score for c in cs),
                  status, checks=cs, seconds=seconds)


def test_summary_counts_by_hand():
    wrong = ("test_f", 0.0, 1.0, "f: expected 1, got 2. Likely mistake: off by one.",
             "off by one")
    blank = ("test_f", 0.0, 1.0, "f is not answered yet (it still raises NotImplementedError)",
             "")
    odd = ("test_f", 0.0, 1.0, "f: expected 1, got 7", "")
    right, hidden_ok = ("test_f", 1.0, 1.0, "", ""), ("test_f_hidden", 2.0, 2.0, "", "")
    results = [_result("a", [right, hidden_ok], seconds=3.0),
               _result("b", [wrong, hidden_ok], seconds=1.0),
               _result("c", [wrong, ("test_f_hidden", 0.0, 2.0, "x", "")], seconds=2.0),
               _result("d", [blank, ("test_f_hidden", 0.0, 2.0, "not answered yet", "")]),
               _result("e", [odd, hidden_ok], status="timeout", seconds=9.0),
               _result("z", [("test_f", 0.0, 1.0, "not graded", "")], status="invalid")]
    s = summarize(results)
    assert s["statuses"]["graded"] == 4 and s["statuses"]["timeout"] == 1
    assert s["statuses"]["invalid"] == 1 and s["statuses"]["flagged"] == 0
    f = s["exercises"]["f"]
    assert f["points"] == 3.0
    assert f["mean"] == pytest.approx((3 + 2 + 0 + 0 + 2) / 5)    # the invalid row left out
    assert f["full"] == pytest.approx(1 / 5) and f["not_answered"] == pytest.approx(1 / 5)
    check = s["checks"]["test_f"]
    assert check["failed"] == 4
    assert check["mistakes"] == {"off by one": ["b", "c"]}
    assert check["not_answered"] == ["d"] and check["unexplained"] == ["e"]
    assert s["median_s"] == 2.0 and s["max_s"] == 9.0
    assert [r.student for r in s["slowest"]][:2] == ["e", "a"]


def test_histogram_bins_cover_every_score():
    scores = [0, 0.5, 1, 7.5, 15, 15, 30]
    bins = histogram_bins(scores, 30)
    assert sum(n for *_, n in bins) == len(scores)
    assert bins[-1] == (30.0, 30.0, 1)           # full marks get a bar of their own
    assert bins[0] == (0.0, 3.0, 3)


def test_report_escapes_what_students_control(tmp_path):
    from dlnotes_course.class_report import write_class_report
    evil = "<script>alert(1)</script>"
    results = [_result("s1", [("test_f", 0.0, 1.0, evil, evil)]),
               _result("s2", [("test_f", 0.0, 1.0, evil, "")])]
    write_class_report(results, tmp_path, chapter="ch")
    page = (tmp_path / "class_report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


# ---------------------------------------------------------------------------- graded class

@pytest.mark.slow
def test_class_summary_counts_statuses_and_planted_mistakes():
    out = graded_small_class()
    rows = summary_rows(out)
    planted = planted_students()
    flagged = [s for s, m in planted.items() if m.get("status") == "flagged"]
    assert int(_value(rows, "status", "invalid")) == 1
    assert int(_value(rows, "status", "timeout")) == 1
    assert int(_value(rows, "status", "flagged")) == len(flagged)
    assert int(_value(rows, "status", "graded")) == 2 + len(planted) - len(flagged)
    # the blank student and no one else left the exercises unanswered (an exercise whose
    # stub raises nothing says "set ... to numbers" instead: not counted as unanswered)
    graded = 1 + 1 + len(planted) + 1
    blank = json.loads((out / "results" / "blank.json").read_text())["outcome"]["checks"]
    stubs = {c["grade_id"].removeprefix("test_") for c in blank
             if not c["grade_id"].endswith("_hidden") and "not answered yet" in c["message"]}
    assert len(stubs) >= 7
    answers = [c.metadata["nbgrader"]["grade_id"] for c in load_chapter(CHAPTER).cells
               if c.metadata.get("nbgrader", {}).get("solution")]
    for gid in answers:
        share = float(_value(rows, "exercise", gid, "not_answered_share", "value"))
        want = 1 if gid in stubs else 0
        assert share == pytest.approx(want / graded, abs=1e-4), gid
        assert int(_value(rows, "check", f"test_{gid}", "not_answered")) == want
        assert float(_value(rows, "exercise", gid, "full_marks_share", "value")) < 1
    # each planted mistake: its explanation, counted once per student who made it
    explained = 0
    for mistake in {m["name"]: m for m in planted.values()}.values():
        if mistake.get("status") == "flagged":
            continue
        who = sorted(s for s, m in planted.items() if m is mistake)
        for gid in mistake["fails"]:
            named = [r for r in rows if r["kind"] == "mistake" and r["name"] == gid
                     and mistake["feedback"] in r["detail"]]
            if named:
                explained += 1
                assert len(named) == 1
                assert int(named[0]["count"]) == len(who), (gid, mistake["name"])
                assert sorted(named[0]["students"].split()) == who
            else:   # the check's message names it, but no `mistakes=` entry: unexplained
                unexplained = _value(rows, "check", gid, "unexplained", "students").split()
                assert set(who) <= set(unexplained), (gid, mistake["name"])
    assert explained >= 6
    # the endless answer was cut at the cell limit: the slowest submission
    assert _value(rows, "slowest", "endless", "timeout", "value")
    assert float(_value(rows, "time", "max_seconds", column="value")) >= 2


@pytest.mark.slow
def test_class_report_opens_in_chromium():
    from browser import chromium, require_browser, shot

    require_browser()
    out = graded_small_class()
    page_text = (out / "class_report.html").read_text()
    assert "<img" not in page_text and "<link" not in page_text and "<script" not in page_text
    with chromium() as ctx:
        page = ctx.new_page()
        page.goto((out / "class_report.html").as_uri())
        histogram = page.locator("svg#histogram")
        histogram.wait_for()
        assert histogram.bounding_box()["height"] > 100
        with open(out / "grades.csv", newline="") as fh:
            top = max(float(r["max_score"]) for r in csv.DictReader(fh))
        bins = histogram_bins([0], top)
        assert histogram.locator("rect").count() == len(bins)
        counts = [int(t) for t in histogram.locator("text").all_text_contents()[0:-1:2]]
        assert len(counts) == len(bins)
        assert sum(counts) == len(list((WORK / "class").iterdir()))
        table = page.locator("table#exercises")
        headers = table.locator("th").all_inner_texts()
        assert headers[:5] == ["exercise", "points", "mean score", "full marks", "not answered"]
        answers = [c for c in load_chapter(CHAPTER).cells
                   if c.metadata.get("nbgrader", {}).get("solution")]
        assert table.locator("tr").count() == 1 + len(answers)
        assert "precision and recall look swapped" in page.locator("table#checks").inner_text()
        page.set_viewport_size({"width": 1280, "height": 1500})
        shot(page, "class_report", doc_name="class_report")
        page.close()


# ---------------------------------------------------------------------------- similarity

@functools.cache
def graded_similar_class() -> Path:
    from similar_answers import STUDENTS

    source, release = load_chapter(CHAPTER), _release()
    subs = WORK / "similar"
    subs.mkdir(parents=True)
    for student, answers in STUDENTS.items():
        nbformat.write(answered(release, source, answers), subs / f"{student}.ipynb")
    nbformat.write(release, subs / "blank.ipynb")
    out = WORK / "similar-out"
    code = main([CHAPTER, str(subs), "--out", str(out), "--course", str(WORK / "course2"),
                 "--workers", "2", "--similarity"])
    assert code == 0
    return out


@pytest.mark.slow
def test_copied_pair_ranks_first_and_alone_above_the_threshold():
    from similar_answers import COPIED, STUDENTS

    out = graded_similar_class()
    rows = [r for r in summary_rows(out) if r["kind"] == "similar"]
    assert [r["name"] for r in rows] == [" ".join(COPIED)]
    assert float(rows[0]["value"]) >= DEFAULT_THRESHOLD
    page = (out / "class_report.html").read_text()
    assert "ada – ben" in page and "<mark>" in page        # the side-by-side view
    assert f"of {len(STUDENTS)} submissions" in page     # the blank one is too short
    # every pair, with a threshold low enough to list them all: the copy far ahead
    from dlnotes_course.similarity import class_similarity

    notebooks = {p.stem: p.read_bytes() for p in sorted((WORK / "similar").glob("*.ipynb"))}
    every = class_similarity(notebooks, Chapter.load(CHAPTER),
                             (chapters_dir() / f"{CHAPTER}.ipynb").read_text(),
                             SimilarityOptions(threshold=0.001))
    scores = {(p.first, p.second): p.score for p in every.pairs}
    independent = max(s for pair, s in scores.items() if pair != COPIED)
    assert scores[COPIED] >= DEFAULT_THRESHOLD > independent
    assert every.too_short == ["blank"]
    print(f"\nsimilarity: copied pair {scores[COPIED]:.3f}; independent pairs "
          + ", ".join(f"{a}-{b} {s:.3f}" for (a, b), s in sorted(
              scores.items(), key=lambda kv: -kv[1]) if (a, b) != COPIED))


def test_similarity_options_are_checked():
    with pytest.raises(ValueError, match="similarity-threshold"):
        SimilarityOptions(threshold=0)
    with pytest.raises(ValueError, match="similarity-min-tokens"):
        SimilarityOptions(min_tokens=3)


def teardown_module():
    shutil.rmtree(WORK, ignore_errors=True)
