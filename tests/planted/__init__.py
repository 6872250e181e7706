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


def mistakes(chapter: str) -> list[dict]:
    """The planted mistakes of ``chapter`` (empty if it has none yet)."""
    try:
        module = importlib.import_module(f"planted.ch{chapter}")
    except ModuleNotFoundError:
        return []
    return module.MISTAKES
