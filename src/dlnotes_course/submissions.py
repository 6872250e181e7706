"""Make submissions from a chapter's release: for tests, benchmarks and demos.

A simulated student starts from the released notebook, as a real one does,
and writes answers into the answer cells.
"""

from __future__ import annotations

import re

import nbformat

from .source import Chapter, nbgrader_meta

_SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def solution_source(cell_source: str) -> str:
    """An answer cell of the instructor source with the solution markers removed."""
    return _SOLUTION.sub(lambda m: m.group(1), cell_source)


def solution_of(source_nb, grade_id: str) -> str:
    """The instructor's answer of one answer cell, markers removed."""
    for cell in Chapter.of(source_nb, "source").answers:
        if cell.grade_id == grade_id:
            return solution_source(cell.source)
    raise KeyError(f"no answer cell {grade_id!r}")


def answered(release_nb, source_nb, overrides: dict[str, str] | None = None,
             blank: tuple[str, ...] = ()):
    """A copy of ``release_nb`` with the instructor's answers filled in.

    ``overrides`` maps an answer cell's grade_id to the source a student wrote
    instead (a planted mistake); grade_ids in ``blank`` keep the stub.
    """
    overrides = overrides or {}
    answers = {c.grade_id: solution_source(c.source)
               for c in Chapter.of(source_nb, "source").answers}
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(release_nb), as_version=4))
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in overrides:
            cell.source = overrides[gid]
        elif gid in answers and gid not in blank:
            cell.source = answers[gid]
    unknown = set(overrides) - set(answers)
    if unknown:
        raise ValueError(f"overrides name cells that are not answer cells: {sorted(unknown)}")
    return nb
