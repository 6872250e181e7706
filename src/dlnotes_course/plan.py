"""What grading one submission runs, cell by cell, and where.

The instructor source says which cells are provided code, answers, tests and
demos. A submission contributes only its answers (and cells the student
added); provided and test cells always come from the instructor source, so an
edited or deleted test changes nothing but the ``tampered`` status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import is_demo


@dataclass
class Step:
    """One cell to run: ``kind`` is ``setup``, ``answer`` or ``test``."""

    kind: str
    gid: str
    code: str
    points: float = 0.0
    locked: bool = False
    # answers: the student's own cells that come before this one in their notebook
    student_cells: list[str] = field(default_factory=list)
    missing: bool = False


@dataclass
class Plan:
    steps: list[Step]
    tampered: list[str]
    missing_answers: list[str]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def source_steps(source_nb) -> list[Step]:
    """The instructor notebook as steps (markdown and demo cells left out)."""
    steps = []
    for i, cell in enumerate(source_nb.cells):
        if cell.cell_type != "code" or is_demo(cell):
            continue
        meta = _meta(cell)
        gid = meta.get("grade_id") or f"cell-{cell.get('id', i)}"
        if meta.get("grade"):
            steps.append(Step("test", gid, cell.source, float(meta.get("points", 0))))
        elif meta.get("solution"):
            steps.append(Step("answer", gid, cell.source))
        else:
            steps.append(Step("setup", gid, cell.source, locked=bool(meta.get("locked"))))
    return steps


def demo_cell_ids(source_nb) -> frozenset:
    """Ids of the instructor notebook's demo cells (skipped in submissions too)."""
    return frozenset(c.get("id") for c in source_nb.cells
                     if c.cell_type == "code" and is_demo(c))


def make_plan(source_steps_: list[Step], submission_nb, release_nb=None,
              demo_ids: frozenset = frozenset()) -> Plan:
    """Pair the instructor's steps with the student's cells.

    Answer cells are found by ``grade_id``; provided cells by ``grade_id`` or
    cell id. A student's extra code cells run just before the next matched
    cell. Locked and test cells that were edited or deleted are listed in
    ``tampered`` (and replaced by the source, like every provided cell):
    they are compared with the student release ``release_nb`` (where hidden
    tests are already removed), or with the source when it is not given.
    """
    released = {}
    for cell in (release_nb.cells if release_nb is not None else []):
        gid = _meta(cell).get("grade_id")
        if gid and cell.get("cell_type") == "code":
            released[gid] = cell.get("source", "")
    by_gid, by_id = {}, {}
    for s in source_steps_:
        by_gid[s.gid] = s
    sub = []
    for cell in submission_nb.cells:
        if cell.get("cell_type") != "code" or cell.get("id") in demo_ids:
            continue
        if is_demo(cell) and not _meta(cell).get("grade_id"):
            continue
        meta = _meta(cell)
        sub.append((meta.get("grade_id"), cell.get("id"), cell.get("source", "")))
    for s in source_steps_:
        if s.gid.startswith("cell-"):
            by_id[s.gid.removeprefix("cell-")] = s
    answers: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    pending: list[str] = []
    for gid, cid, code in sub:
        step = by_gid.get(gid) if gid else None
        if step is None and cid in by_id and not gid:
            step = by_id[cid]
        if step is None:
            if code.strip():
                pending.append(code)
            continue
        if step.gid in seen:   # a duplicated cell: the first one counts
            continue
        seen[step.gid] = code
        extra.setdefault(step.gid, []).extend(pending)
        pending = []
        if step.kind == "answer":
            answers[step.gid] = code
    steps, tampered, missing = [], [], []
    for s in source_steps_:
        if s.kind == "answer":
            code = answers.get(s.gid)
            if code is None:
                missing.append(s.gid)
            steps.append(Step("answer", s.gid, code if code is not None else "", s.points,
                              student_cells=extra.get(s.gid, []), missing=code is None))
            continue
        if (s.kind == "test" or s.locked) and not s.gid.startswith("cell-"):
            if s.gid not in seen:
                tampered.append(f"{s.gid} (deleted)")
            elif _norm(seen[s.gid]) != _norm(released.get(s.gid, s.code)):
                tampered.append(f"{s.gid} (edited)")
        student = extra.get(s.gid, [])
        if s.kind == "setup" and not s.locked and s.gid in seen and _norm(seen[s.gid]) != \
                _norm(s.code):
            student = [*student, seen[s.gid]]   # an edited provided cell: the student's code
        steps.append(Step(s.kind, s.gid, s.code, s.points, s.locked, student_cells=student))
    if pending:
        steps.append(Step("setup", "student-cells-at-end", "", student_cells=pending))
    return Plan(steps, tampered, missing)
