"""Measures of docs/authoring.md's "What makes a good exercise" rules, on chapter sources.

Rule 1 (points follow difficulty): :func:`exercise_table` lists each answer with
its points and the length of its solution; :func:`one_liner_share` is the
share of a chapter's points on answers of at most 2 code lines.
Rule 6 (no internal references): :func:`internal_references` finds mentions of
the study notes in student-facing text: a release's cells and the strings of the
test cells (the feedback messages).

The unit tests below run the measures on small synthetic chapters, then hold
every chapter of ``solutions/`` and ``chapters/`` to rules 1 and 6.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

#: The most a chapter may put on answers of at most ONE_LINER_LINES lines (rule 1).
MAX_ONE_LINER_SHARE = 0.20
ONE_LINER_LINES = 2

INTERNAL_REFERENCE = re.compile(
    r"source notes?|seed notes?|the seed's|\bseeds? 0\d\d\b", re.IGNORECASE)


@dataclass(frozen=True)
class Exercise:
    name: str
    points: float
    lines: int | None  # None for a written (markdown) answer: not counted as code


def solution_lines(source: str) -> int:
    """Non-blank, non-comment lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.

    Every solution block of the cell counts; a docstring line counts as code.
    """
    count, inside = 0, False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            inside = True
        elif stripped.startswith(END):
            inside = False
        elif inside and stripped and not stripped.startswith("#"):
            count += 1
    return count


def _grading(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def exercise_table(notebook) -> tuple[list[Exercise], list[str]]:
    """Each answer cell with its points and solution lines; and the test cells of no answer.

    A test cell ``test_<answer>`` or ``test_<answer>_hidden`` gives its points to
    ``<answer>``; an answer cell that is graded itself (a written answer) keeps
    its own points.
    """
    answers: dict[str, list] = {}
    tests: list[tuple[str, float]] = []
    for cell in notebook.cells:
        grading = _grading(cell)
        gid = grading.get("grade_id", "")
        if grading.get("solution"):
            own = float(grading.get("points", 0)) if grading.get("grade") else 0.0
            lines = solution_lines(cell.source) if cell.cell_type == "code" else None
            answers[gid] = [own, lines]
        elif grading.get("grade"):
            tests.append((gid, float(grading.get("points", 0))))
    orphans = []
    for gid, points in tests:
        name = re.sub(r"_hidden$", "", gid.removeprefix("test_"))
        if gid.startswith("test_") and name in answers:
            answers[name][0] += points
        else:
            orphans.append(gid)
    table = [Exercise(name, points, lines) for name, (points, lines) in answers.items()]
    return table, orphans


def one_liner_share(table: list[Exercise], max_lines: int = ONE_LINER_LINES) -> float:
    """Share of the points on code answers whose solution has at most ``max_lines`` lines."""
    total = sum(e.points for e in table)
    small = sum(e.points for e in table if e.lines is not None and e.lines <= max_lines)
    return small / total if total else 0.0


def internal_references(text: str) -> list[str]:
    """Every mention of the study notes in ``text`` (rule 6), as matched."""
    return [m.group(0) for m in INTERNAL_REFERENCE.finditer(text)]


def _strings(source: str) -> list[str]:
    """The string literals of a cell (f-strings' literal parts included)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source]
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def student_facing_text(release, source=None) -> str:
    """What a reader can see: every cell of the release, and the strings of the
    source's test cells (visible and hidden), which become feedback messages."""
    parts = [cell.source for cell in release.cells]
    if source is not None:
        for cell in source.cells:
            if _grading(cell).get("grade") and not _grading(cell).get("solution"):
                parts += _strings(cell.source)
    return "\n".join(parts)


def read_source(path: Path):
    return jupytext.read(path, fmt="py:percent")


def chapter_from_text(text: str):
    return jupytext.reads(textwrap.dedent(text), fmt="py:percent")


# --------------------------------------------------------------------------
# unit tests on synthetic chapters
# --------------------------------------------------------------------------

SYNTHETIC = '''
# %% [markdown]
# # A chapter

# %%
import numpy as np

# %% nbgrader={"grade_id": "precision", "solution": true}
def precision(t, p):
    """Precision."""
    ### BEGIN SOLUTION
    # a comment does not count

    return np.sum(t * p) / np.sum(p)
    ### END SOLUTION

# %% nbgrader={"grade_id": "test_precision", "grade": true, "points": 1}
assert precision([1], [1]) == 1.0

# %% nbgrader={"grade_id": "test_precision_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
check_close(precision([1, 0], [1, 1]), 0.5, "precision on two labels")
### END HIDDEN TESTS

# %% nbgrader={"grade_id": "roc_curve", "solution": true}
def roc_curve(t, s):
    ### BEGIN SOLUTION
    order = np.argsort(-s)
    t = np.asarray(t)[order]
    tps = np.cumsum(t)
    fps = np.cumsum(1 - t)
    return fps / fps[-1], tps / tps[-1]
    ### END SOLUTION

# %% nbgrader={"grade_id": "test_roc_curve_hidden", "grade": true, "points": 5}
assert True

# %% nbgrader={"grade_id": "q_two_numbers", "solution": true}
a = None
### BEGIN SOLUTION
a = 1
### END SOLUTION
b = 2
### BEGIN SOLUTION
b = 3
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_two_numbers", "grade": true, "points": 2}
assert a == 1, "see the seed's table"

# %% nbgrader={"grade_id": "test_something_else", "grade": true, "points": 1}
assert True
'''


def test_solution_lines_counts_code_only():
    source = f"x = 1\n{BEGIN}\n  # comment\n\n  y = 2\n  '''doc'''\n{END}\nz = 3"
    assert solution_lines(source) == 2
    assert solution_lines("x = 1") == 0
    two_blocks = f"{BEGIN}\na = 1\n{END}\nb = 0\n{BEGIN}\nb = 1\nc = 2\n{END}"
    assert solution_lines(two_blocks) == 3


def test_exercise_table_maps_visible_and_hidden_tests():
    table, orphans = exercise_table(chapter_from_text(SYNTHETIC))
    assert table == [Exercise("precision", 3.0, 1), Exercise("roc_curve", 5.0, 5),
                     Exercise("q_two_numbers", 2.0, 2)]
    assert orphans == ["test_something_else"]


def test_exercise_table_keeps_a_graded_answers_own_points():
    text = '''
    # %% [markdown] nbgrader={"grade_id": "q_why", "solution": true, "grade": true, "points": 2}
    # ### BEGIN SOLUTION
    # Because.
    # ### END SOLUTION
    '''
    table, orphans = exercise_table(chapter_from_text(text))
    assert table == [Exercise("q_why", 2.0, None)] and orphans == []
    assert one_liner_share(table) == 0.0


def test_one_liner_share():
    table, _ = exercise_table(chapter_from_text(SYNTHETIC))
    # precision (1 line, 3 points) and q_two_numbers (2 lines, 2 points) of 10 points
    assert one_liner_share(table) == pytest.approx(0.5)
    assert one_liner_share(table, max_lines=1) == pytest.approx(0.3)
    assert one_liner_share(table, max_lines=0) == 0.0
    assert one_liner_share(table, max_lines=5) == 1.0
    assert one_liner_share([]) == 0.0


@pytest.mark.parametrize("text, found", [
    ("as seed 004 says", ["seed 004"]),
    ("Seed 012 and seeds 003", ["Seed 012", "seeds 003"]),
    ("the source note writes", ["source note"]),
    ("two seed notes disagree", ["seed notes"]),
    ("The seed's line", ["The seed's"]),
    ("np.random.default_rng(seed=0); seed 0; seed 42; seed 2024", []),
    ("the seeds in shared/seeds", []),
])
def test_internal_references(text, found):
    assert internal_references(text) == found


def test_student_facing_text_includes_feedback_strings_only_from_tests():
    source = chapter_from_text(SYNTHETIC)
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Intro, seed 7.")])
    text = student_facing_text(release, source)
    assert internal_references(text) == ["the seed's"]   # from a test cell's message
    assert "check_close" not in text                      # code is not shown, strings are
    assert "precision on two labels" in text
    assert internal_references(student_facing_text(release)) == []


# --------------------------------------------------------------------------
# the real chapters: rules 1 and 6 hold
# --------------------------------------------------------------------------

CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_can_be_measured(chapter):
    table, orphans = exercise_table(read_source(ROOT / "solutions" / f"{chapter}.py"))
    assert table and orphans == []
    assert all(e.points > 0 for e in table), [e for e in table if e.points == 0]
    assert 0.0 <= one_liner_share(table) <= 1.0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_puts_at_most_a_fifth_of_its_points_on_one_liners(chapter):
    """Rule 1: <= 20% of the points on answers of <= 2 lines; a 1-line answer earns <= 1."""
    table, _ = exercise_table(read_source(ROOT / "solutions" / f"{chapter}.py"))
    share = one_liner_share(table)
    assert share <= MAX_ONE_LINER_SHARE, (
        f"{chapter}: {share:.0%} of the points on answers of at most {ONE_LINER_LINES} lines: "
        + ", ".join(f"{e.name} ({e.points:g} points, {e.lines} lines)" for e in table
                    if e.lines is not None and e.lines <= ONE_LINER_LINES))
    heavy = [e for e in table if e.lines == 1 and e.points > 1]
    assert heavy == [], f"{chapter}: one-line answers worth more than 1 point: {heavy}"


def report() -> str:
    """The current tables and one-liner shares of every chapter (for the closing notes)."""
    lines = []
    for chapter in CHAPTERS:
        source = read_source(ROOT / "solutions" / f"{chapter}.py")
        table, _ = exercise_table(source)
        release = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
        refs = internal_references(student_facing_text(release, source))
        total = sum(e.points for e in table)
        lines.append(f"{chapter}: one-liner share {one_liner_share(table):.0%} of {total:g} "
                     f"points; internal references: {len(refs)}")
        lines += [f"  {e.name:32s} {e.points:4g} points {e.lines!s:>4} lines" for e in table]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_student_facing_text_names_the_study_notes(chapter):
    """Rule 6 holds for every chapter: the release and the feedback strings of its tests."""
    source = read_source(ROOT / "solutions" / f"{chapter}.py")
    release = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    assert internal_references(student_facing_text(release, source)) == []
