"""What grading one submission runs, cell by cell, and where.

The instructor source (a :class:`~dlnotes_course.source.Chapter`) says which
cells are provided code, answers, tests and demos. A submission contributes
only its answers (and cells the student added); provided and test cells always
come from the instructor source, so an edited or deleted test changes nothing
but the ``tampered`` status.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from .source import Chapter, cell_kind, nbgrader_meta


@dataclass
class Step:
    """One cell to run.

    ``kind`` is ``setup`` (provided code), ``answer`` or ``test``; ``grade_id``
    is ``None`` for provided cells without one, which are known by ``cell_id``.
    """

    kind: str
    grade_id: str | None
    cell_id: str
    code: str
    points: float = 0.0
    locked: bool = False
    # the student's own cells that come before this one in their notebook
    student_cells: list[str] = field(default_factory=list)
    missing: bool = False
    # answers: the names the tests may take from the student (what the source's cell binds)
    names: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return self.grade_id or f"cell {self.cell_id}"


@dataclass
class Plan:
    steps: list[Step]
    tampered: list[str]
    missing_answers: list[str]

    def tests_of(self, answer: str) -> list[str]:
        from .source import test_ids
        names = test_ids(answer)
        return [s.grade_id for s in self.steps if s.kind == "test" and s.grade_id in names]


_BUILTINS = frozenset(dir(builtins))


def source_steps(chapter: Chapter) -> list[Step]:
    """The instructor notebook as steps (markdown and demo cells left out)."""
    steps = []
    for c in chapter.cells:
        if c.kind in ("markdown", "demo"):
            continue
        names = chapter.answer_names(c.grade_id) - _BUILTINS if c.kind == "answer" else frozenset()
        steps.append(Step(c.kind, c.grade_id, c.cell_id, c.source, c.points, c.locked,
                          names=names))
    return steps


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _released_code(release_nb) -> dict[str, str]:
    """``{grade_id: source}`` of the release's code cells (hidden tests already removed)."""
    if release_nb is None:
        return {}
    return {nbgrader_meta(c)["grade_id"]: c.get("source", "") for c in release_nb.cells
            if c.get("cell_type") == "code" and nbgrader_meta(c).get("grade_id")}


def _submitted_cells(submission_nb, demo_ids: frozenset) -> list[tuple[str | None, str, str]]:
    """``(grade_id, cell_id, source)`` of the submission's code cells, demos left out.

    A cell counts as a demo if the source has a demo with its id, or if it carries the
    demo tag and no grade id (a student cannot skip a test by tagging it).
    """
    cells = []
    for cell in submission_nb.cells:
        if cell.get("cell_type") != "code" or cell.get("id") in demo_ids:
            continue
        gid = nbgrader_meta(cell).get("grade_id") or None
        if cell_kind(cell) == "demo" and not gid:
            continue
        cells.append((gid, cell.get("id"), cell.get("source", "")))
    return cells


def make_plan(chapter: Chapter, submission_nb, release_nb=None) -> Plan:
    """Pair the instructor's steps with the student's cells.

    Answer cells are found by ``grade_id``; provided cells by ``grade_id`` or
    cell id. A student's extra code cells run just before the next matched
    cell; of a duplicated cell, the first copy counts. Locked and test cells
    that were edited or deleted are listed in ``tampered`` (and replaced by the
    source, like every provided cell): they
    are compared with the student release ``release_nb`` (where hidden tests
    are already removed), or with the source when it is not given.
    """
    source = source_steps(chapter)
    by_gid = {s.grade_id: s for s in source if s.grade_id}
    by_id = {s.cell_id: s for s in source if not s.grade_id}
    demo_ids = frozenset(c.cell_id for c in chapter.of_kind("demo"))
    seen: dict[int, str] = {}            # id(step) -> the student's code for it
    extra: dict[int, list[str]] = {}     # id(step) -> student cells just before it
    pending: list[str] = []
    for gid, cid, code in _submitted_cells(submission_nb, demo_ids):
        step = by_gid.get(gid) if gid else by_id.get(cid)
        if step is not None and id(step) in seen:
            continue     # a duplicated cell: the first copy counts
        if step is None:
            if code.strip():
                pending.append(code)
            continue
        seen[id(step)] = code
        extra[id(step)] = pending
        pending = []
    released = _released_code(release_nb)
    steps, tampered, missing = [], [], []
    for s in source:
        code, before = seen.get(id(s)), extra.get(id(s), [])
        if s.kind == "answer":
            if code is None:
                missing.append(s.grade_id)
            steps.append(Step("answer", s.grade_id, s.cell_id, code or "", s.points,
                              student_cells=before, missing=code is None, names=s.names))
            continue
        if (s.kind == "test" or s.locked) and s.grade_id:
            if code is None:
                tampered.append(f"{s.grade_id} (deleted)")
            elif _norm(code) != _norm(released.get(s.grade_id, s.code)):
                tampered.append(f"{s.grade_id} (edited)")
        elif s.kind == "setup" and not s.locked and code is not None \
                and _norm(code) != _norm(s.code):
            before = [*before, code]   # an edited provided cell: the student's code runs too
        steps.append(Step(s.kind, s.grade_id, s.cell_id, s.code, s.points, s.locked,
                          student_cells=before))
    if pending:
        steps.append(Step("setup", None, "student-cells-at-end", "", student_cells=pending))
    return Plan(steps, tampered, missing)
