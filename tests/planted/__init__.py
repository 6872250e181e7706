"""Planted mistakes per chapter: wrong answers the grader must catch.

Each chapter module defines ``MISTAKES``: a list of dicts with

- ``name``: what the student did wrong;
- ``cell``: the grade_id of the answer cell that gets the wrong code;
- ``source``: the wrong code;
- ``fails``: grade_ids of the checks that must lose their points (every other
  check must keep its full points);
- ``feedback``: a phrase the feedback must contain (the teaching message);
- ``status`` (optional, default ``graded``): the row's status, ``flagged`` for
  an answer that delegates to dlnotes, scikit-learn or torch.
"""

import importlib

from dlnotes_course.source import load_chapter


def solution(chapter: str, grade_id: str) -> str:
    """The instructor's code of an answer cell, without the solution markers.

    A planted mistake is this code with one change, so the planted file keeps no copy
    of the solution that could drift from it.
    """
    for cell in load_chapter(chapter).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(line for line in cell.source.splitlines(keepends=True)
                           if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    raise ValueError(f"{chapter} has no answer cell {grade_id!r}")


def mistakes(chapter: str) -> list[dict]:
    """The planted mistakes of ``chapter`` (empty if it has none yet)."""
    try:
        module = importlib.import_module(f"planted.ch{chapter}")
    except ModuleNotFoundError:
        return []
    return module.MISTAKES
