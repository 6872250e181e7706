"""Every chapter, end to end: source → release → execution → grading → feedback.

Parametrised over the chapters in ``solutions/``, so a new chapter is covered
as soon as it exists. Planted mistakes live in ``tests/planted/``.
"""

from __future__ import annotations

import pytest

from chapter_runs import executed_instructor, graded_class, out_dir, released
from dlnotes_course.layout import chapter_ids, chapters_dir
from dlnotes_course.release import find_leaks, generate, release_text
from dlnotes_course.source import load_chapter
from planted import mistakes

CHAPTERS = chapter_ids()
PLANTED = [(ch, i) for ch in CHAPTERS for i in range(len(mistakes(ch)))]

pytestmark = pytest.mark.slow


def _errors(nb):
    return [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def test_there_are_chapters():
    assert "01_metrics" in CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_instructor_notebook_runs_clean(chapter):
    nb = executed_instructor(chapter)
    assert _errors(nb) == []
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "a chapter shows at least one plot"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_scores_full_marks(chapter):
    result = graded_class(chapter)["solution"]
    assert result.status == "graded", result.reason
    assert result.max_score > 0
    failed = [(c.grade_id, c.message) for c in result.checks if not c.passed]
    assert failed == []
    assert result.score == result.max_score


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_untouched_release_scores_zero_without_crash(chapter):
    result = graded_class(chapter)["blank"]
    assert result.status == "graded", result.reason
    assert result.score == 0
    assert len(result.checks) == len(graded_class(chapter)["solution"].checks)
    assert all("not answered yet" in c.message or "set " in c.message for c in result.checks)


@pytest.mark.parametrize(("chapter", "index"), PLANTED)
def test_planted_mistake_loses_the_right_points(chapter, index):
    mistake = mistakes(chapter)[index]
    result = graded_class(chapter)[f"planted_{index}"]
    assert result.status == mistake.get("status", "graded"), result.reason
    lost = sorted(c.grade_id for c in result.checks if not c.passed)
    assert lost == sorted(mistake["fails"]), mistake["name"]
    feedback = (out_dir(chapter) / "feedback" / f"planted_{index}.html").read_text()
    assert mistake["feedback"] in feedback, mistake["name"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_has_no_solutions_or_hidden_tests(chapter):
    assert find_leaks(released(chapter), load_chapter(chapter)) == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_feedback_never_shows_test_code(chapter):
    from dlnotes_course.release import _secret_lines

    secrets = [s for s, kind in _secret_lines(load_chapter(chapter)).items()
               if kind == "hidden test"]
    assert secrets, "every chapter has hidden tests"
    for page in (out_dir(chapter) / "feedback").glob("*.html"):
        text = page.read_text()
        assert "BEGIN HIDDEN" not in text and "Traceback" not in text
        leaked = [s for s in secrets if s in text]
        assert leaked == [], page.name


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_is_in_sync_with_source(chapter, tmp_path):
    fresh = release_text(generate(chapter, tmp_path / "course"))
    on_disk = (chapters_dir() / f"{chapter}.ipynb").read_text(encoding="utf-8")
    assert fresh == on_disk, f"chapters/{chapter}.ipynb is stale: run `make release`"
