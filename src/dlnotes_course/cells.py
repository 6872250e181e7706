"""What kind of cell a notebook cell is: the one rule, by nbgrader's metadata and tags.

Standard library only, so that light tools (``dlnotes-check``) use the same rule
as release and grading without loading jupytext.
"""

from __future__ import annotations

DEMO_TAG = "demo"


def is_demo(cell) -> bool:
    """True for a demonstration cell: tagged ``demo`` and neither graded nor an answer.

    Grading skips these. The graded/answer exclusion matters for submissions:
    a student who adds the tag to a test cell must not be able to skip it.
    """
    nbg = nbgrader_meta(cell)
    if nbg.get("grade") or nbg.get("solution"):
        return False
    return DEMO_TAG in ((cell.get("metadata") or {}).get("tags") or [])


CELL_KINDS = ("markdown", "setup", "answer", "test", "demo")


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata (``{}`` when it has none)."""
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def cell_kind(cell) -> str:
    """``markdown``, ``demo``, ``test`` (graded), ``answer`` (solution) or ``setup``."""
    if cell.get("cell_type") != "code":
        return "markdown"
    if is_demo(cell):
        return "demo"
    meta = nbgrader_meta(cell)
    if meta.get("grade"):
        return "test"
    if meta.get("solution"):
        return "answer"
    return "setup"


def test_ids(answer: str) -> tuple[str, str]:
    """The checks of an answer, by the naming rule: ``test_<answer>``, ``test_<answer>_hidden``."""
    return f"test_{answer}", f"test_{answer}_hidden"


def answer_of_test(test_id: str) -> str:
    """The answer a check belongs to by the naming rule (``""`` if the name breaks it)."""
    if not test_id.startswith("test_"):
        return ""
    return test_id.removeprefix("test_").removesuffix("_hidden")
