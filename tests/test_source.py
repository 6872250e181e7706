"""The one view of a chapter's cells (``source.Chapter``) and the rules the release enforces.

A small chapter written here (one answer, a visible and a hidden check, a
demo) is the fixture: its cells are known, so every kind, point and name is
asserted exactly. The real chapters are checked against the naming rule too.
(``source.test_ids`` is not imported by name: pytest would collect it.)
"""

from __future__ import annotations

import nbformat
import pytest

from dlnotes_course import release, source
from dlnotes_course.feedback import describe
from dlnotes_course.layout import chapter_ids
from dlnotes_course.source import (
    Chapter,
    ChapterError,
    answer_of_test,
    cell_kind,
    nbgrader_meta,
)

TINY = "00_tiny"
SOURCE = '''# %% [markdown]
# # A tiny chapter

# %%
import numpy as np

# %% nbgrader={"grade_id": "double", "solution": true}
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * np.asarray(x)
    ### END SOLUTION


SCALE = 2

# %% nbgrader={"grade_id": "test_double", "grade": true, "points": 1}
assert double(2) == 4

# %% nbgrader={"grade_id": "test_double_hidden", "grade": true, "points": 2.5}
### BEGIN HIDDEN TESTS
assert double(-3) == -6
### END HIDDEN TESTS

# %% tags=["demo"]
print(double(5))
'''


def _root(tmp_path, source=SOURCE):
    (tmp_path / "solutions").mkdir(exist_ok=True)
    (tmp_path / "solutions" / f"{TINY}.py").write_text(source)
    return tmp_path


def test_cells_have_their_kind_grade_id_and_points(tmp_path):
    chapter = Chapter.load(TINY, _root(tmp_path))
    assert [c.kind for c in chapter.cells] == [
        "markdown", "setup", "answer", "test", "test", "demo"]
    assert [c.grade_id for c in chapter.cells] == [
        None, None, "double", "test_double", "test_double_hidden", None]
    assert chapter.points == {"test_double": 1.0, "test_double_hidden": 2.5}
    assert [c.points for c in chapter.cells if c.kind != "test"] == [0.0] * 4
    assert [c.locked for c in chapter.cells if c.grade_id] == [False, True, True]
    assert [c.index for c in chapter.tests] == [3, 4]
    assert cell_kind(chapter.notebook.cells[2]) == "answer"
    assert nbgrader_meta(chapter.notebook.cells[1]) == {}
    assert nbgrader_meta(chapter.notebook.cells[3])["points"] == 1


def test_tests_of_an_answer_follow_the_naming_rule(tmp_path):
    chapter = Chapter.load(TINY, _root(tmp_path))
    assert [c.grade_id for c in chapter.tests_of("double")] == list(source.test_ids("double"))
    assert chapter.tests_of("triple") == []
    assert answer_of_test("test_double_hidden") == "double"
    assert answer_of_test("test_f1_score") == "f1_score"
    assert answer_of_test("double") == ""
    assert [answer_of_test(t) for t in source.test_ids("roc_curve")] == ["roc_curve"] * 2


def test_answer_names_are_what_the_answer_cell_binds(tmp_path):
    chapter = Chapter.load(TINY, _root(tmp_path))
    assert chapter.answer_names("double") == {"double", "SCALE"}
    assert chapter.answer_names("triple") == frozenset()


def test_of_keeps_a_chapter_and_views_a_notebook(tmp_path):
    chapter = Chapter.load(TINY, _root(tmp_path))
    assert Chapter.of(chapter, "other") is chapter
    assert Chapter.of(chapter.notebook, TINY).cells == chapter.cells


def test_naming_problems_name_the_cell_and_the_answers(tmp_path):
    assert Chapter.load(TINY, _root(tmp_path)).naming_problems() == []
    bad = SOURCE.replace('"test_double_hidden"', '"check_double"').replace(
        '"test_double"', '"test_triple"')
    problems = Chapter.load(TINY, _root(tmp_path, bad)).naming_problems()
    assert len(problems) == 2
    assert "cell 3: check 'test_triple'" in problems[0]
    assert "cell 4: check 'check_double'" in problems[1]
    assert all("(double)" in p for p in problems)


@pytest.mark.parametrize("chapter", chapter_ids())
def test_every_chapter_follows_the_naming_rule(chapter):
    view = Chapter.load(chapter)
    assert view.naming_problems() == []
    assert all(view.tests_of(a.grade_id) for a in view.answers), "every answer has a check"


def test_release_refuses_a_check_named_against_the_rule(tmp_path, monkeypatch, capsys):
    bad = SOURCE.replace('"test_double_hidden"', '"double_extra"')
    root = _root(tmp_path, bad)
    with pytest.raises(ChapterError, match=r"00_tiny, cell 4: check 'double_extra' must be "
                                           r"named test_<answer> or test_<answer>_hidden"):
        release.checked_release(TINY, tmp_path / "course", root)
    assert not (tmp_path / "course").exists(), "refused before nbgrader ran"

    monkeypatch.setenv("DLNOTES_ROOT", str(root))
    assert release.main([TINY]) == 2
    assert "cell 4: check 'double_extra'" in capsys.readouterr().err
    assert not (root / "chapters" / f"{TINY}.ipynb").exists()


def test_a_chapter_that_follows_the_rules_is_released_without_its_secrets(tmp_path):
    root = _root(tmp_path)
    out = release.release_chapter(TINY, root, tmp_path / "course")
    text = out.read_text()
    assert "double(-3)" not in text and "return 2 * np.asarray(x)" not in text
    released = Chapter.of(nbformat.read(out, as_version=4), TINY)
    assert released.points == {"test_double": 1.0, "test_double_hidden": 2.5}


def test_feedback_names_a_check_by_its_answer():
    assert describe("test_precision") == "precision (visible tests)"
    assert describe("test_f1_score_hidden") == "f1_score (hidden tests)"
    assert describe("bonus") == "bonus"


def test_gradebook_records_the_chapters_checks_and_answers(tmp_path):
    from nbgrader.api import Gradebook

    from dlnotes_course.gradebook import record_chapter

    chapter = Chapter.load(TINY, _root(tmp_path))
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        record_chapter(gb, TINY, chapter)
        record_chapter(gb, TINY, chapter.notebook)      # again, from the notebook: no copies
        notebook = gb.find_notebook(TINY, TINY)
        assert {c.name: c.max_score for c in notebook.grade_cells} == chapter.points
        assert [c.name for c in notebook.solution_cells] == ["double"]
        assert sorted(c.name for c in notebook.source_cells) == [
            "double", "test_double", "test_double_hidden"]
