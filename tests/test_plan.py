"""The plan: which cells of a submission run, in which order, and what is restored."""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dlnotes_course.plan import make_plan, source_steps
from dlnotes_course.source import Chapter, normalise


def _cell(source, **nbgrader):
    cell = new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


@pytest.fixture
def chapter():
    nb = new_notebook(cells=[
        new_markdown_cell("# Chapter"),
        _cell("import numpy as np"),
        _cell("def helper(x):\n    return x + 1", grade_id="helper", locked=True),
        _cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
              "SCALE = 3", grade_id="f", solution=True),
        _cell("assert f(1) == 2", grade_id="test_f", grade=True, points=1),
        _cell("plot(f)"),
        _cell("assert f(2) == 4", grade_id="test_f_hidden", grade=True, points=2),
    ])
    nb.cells[5].metadata["tags"] = ["demo"]
    return Chapter.from_notebook(normalise(nb, "99_toy.py"), "99_toy")


def _submission(chapter):
    return copy.deepcopy(chapter.notebook)


def _kinds(plan):
    return [(s.kind, s.grade_id) for s in plan.steps]


def test_source_steps_leave_out_markdown_and_demos(chapter):
    steps = source_steps(chapter)
    assert [(s.kind, s.grade_id) for s in steps] == [
        ("setup", None), ("setup", "helper"), ("answer", "f"), ("test", "test_f"),
        ("test", "test_f_hidden")]
    answer = steps[2]
    assert answer.names == {"f", "SCALE"}
    assert steps[0].cell_id and steps[0].label == f"cell {steps[0].cell_id}"


def test_answer_comes_from_the_submission_and_tests_from_the_source(chapter):
    sub = _submission(chapter)
    sub.cells[3].source = "def f(x):\n    return x * 2"
    sub.cells[4].source = "pass"
    plan = make_plan(chapter, sub)
    answer = next(s for s in plan.steps if s.kind == "answer")
    test = next(s for s in plan.steps if s.grade_id == "test_f")
    assert answer.code == "def f(x):\n    return x * 2"
    assert test.code == "assert f(1) == 2"
    assert plan.tampered == ["test_f (edited)"]


def test_added_cells_run_before_the_next_known_cell(chapter):
    sub = _submission(chapter)
    sub.cells.insert(3, new_code_cell("def two():\n    return 2"))
    sub.cells.append(new_code_cell("print('the end')"))
    plan = make_plan(chapter, sub)
    answer = next(s for s in plan.steps if s.kind == "answer")
    assert answer.student_cells == ["def two():\n    return 2"]
    assert plan.steps[-1].student_cells == ["print('the end')"]
    assert plan.steps[-1].grade_id is None


def test_a_duplicated_cell_counts_once(chapter):
    sub = _submission(chapter)
    twin = copy.deepcopy(sub.cells[3])
    twin.source = "def f(x):\n    return 0"
    sub.cells.insert(4, twin)
    plan = make_plan(chapter, sub)
    answer = next(s for s in plan.steps if s.kind == "answer")
    assert "return 2 * x" in answer.code
    assert all("return 0" not in c for s in plan.steps for c in s.student_cells)


def test_edited_locked_and_deleted_test_cells_are_tampering(chapter):
    sub = _submission(chapter)
    sub.cells[2].source = "def helper(x):\n    return 0"
    del sub.cells[6]
    plan = make_plan(chapter, sub)
    assert sorted(plan.tampered) == ["helper (edited)", "test_f_hidden (deleted)"]
    helper = next(s for s in plan.steps if s.grade_id == "helper")
    assert helper.code == "def helper(x):\n    return x + 1"


def test_a_missing_answer_is_named(chapter):
    sub = _submission(chapter)
    del sub.cells[3]
    plan = make_plan(chapter, sub)
    assert plan.missing_answers == ["f"]
    assert next(s for s in plan.steps if s.kind == "answer").missing


def test_demo_tag_on_a_test_does_not_skip_it(chapter):
    sub = _submission(chapter)
    sub.cells[4].metadata["tags"] = ["demo"]
    sub.cells[5].source = "raise SystemExit"    # the source's demo cell stays skipped
    plan = make_plan(chapter, sub)
    assert ("test", "test_f") in _kinds(plan)
    assert all("SystemExit" not in c for s in plan.steps for c in s.student_cells)


def test_an_edited_unlocked_provided_cell_runs_as_the_students(chapter):
    sub = _submission(chapter)
    sub.cells[1].source = "import numpy as np\nEXTRA = 1"
    plan = make_plan(chapter, sub)
    first = plan.steps[0]
    assert first.code == "import numpy as np"
    assert first.student_cells == ["import numpy as np\nEXTRA = 1"]
    assert plan.tampered == []


def test_a_provided_cell_whose_id_starts_like_a_generated_one_is_matched(chapter):
    nb = copy.deepcopy(chapter.notebook)
    nb.cells[1].id = "cell-real-id"
    toy = Chapter.from_notebook(nb, "99_toy")
    sub = copy.deepcopy(nb)
    plan = make_plan(toy, sub)
    assert plan.steps[0].cell_id == "cell-real-id" and plan.steps[0].student_cells == []


def test_release_comparison_ignores_trailing_whitespace(chapter):
    release = copy.deepcopy(chapter.notebook)
    sub = _submission(chapter)
    sub.cells[4].source = "assert f(1) == 2   \n\n"
    assert make_plan(chapter, sub, release).tampered == []
    assert nbformat.validate(sub) is None
