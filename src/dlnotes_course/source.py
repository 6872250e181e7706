"""Read a chapter's instructor source and check its nbgrader metadata.

The source is a jupytext percent file. Cells carry their metadata in the cell
header, e.g.::

    # %% nbgrader={"grade_id": "precision", "solution": true}
    # %% nbgrader={"grade_id": "test_precision", "grade": true, "points": 1}
    # %% tags=["demo"]

Only the keys that matter are written; :func:`load_chapter` fills in the rest
of nbgrader's schema (``locked``, ``schema_version``, ...) so that every
chapter gets the same, complete metadata.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

from .cells import (  # noqa: F401 - the cell rules, re-exported for callers of source
    CELL_KINDS,
    DEMO_TAG,
    answer_of_test,
    cell_kind,
    is_demo,
    nbgrader_meta,
    test_ids,
)
from .layout import source_path

GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
KERNELSPEC = {"display_name": "Python 3 (dlnotes)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("nbgrader", "tags")


class ChapterError(ValueError):
    """The instructor source breaks an authoring rule (see docs/authoring.md)."""


def _cell_id(cell, seen: set[str]) -> str:
    nbg = cell.metadata.get("nbgrader", {})
    base = nbg.get("grade_id") or "c" + hashlib.sha1(cell.source.encode()).hexdigest()[:8]
    cid, n = base, 1
    while cid in seen:
        n += 1
        cid = f"{base}-{n}"
    seen.add(cid)
    return cid


def _normalise_nbgrader(meta: dict, where: str) -> dict:
    gid = meta.get("grade_id")
    if not gid or not GRADE_ID.match(gid):
        raise ChapterError(f"{where}: nbgrader cells need a grade_id of [A-Za-z0-9_-], got {gid!r}")
    grade = bool(meta.get("grade", False))
    solution = bool(meta.get("solution", False))
    task = bool(meta.get("task", False))
    out = {
        "grade": grade,
        "grade_id": gid,
        "locked": bool(meta.get("locked", not solution)),
        "schema_version": 3,
        "solution": solution,
        "task": task,
    }
    if grade:
        points = meta.get("points")
        if not isinstance(points, (int, float)) or points <= 0:
            raise ChapterError(f"{where}: grade cell {gid!r} needs points > 0, got {points!r}")
        out["points"] = points
    unknown = set(meta) - set(out) - {"points"}
    if unknown:
        raise ChapterError(f"{where}: unknown nbgrader keys {sorted(unknown)} in {gid!r}")
    return out


def normalise(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Complete and check the metadata of a notebook read from a source file."""
    nb.metadata = nbformat.from_dict({
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    })
    seen_ids: set[str] = set()
    grade_ids: set[str] = set()
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        meta = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        if "nbgrader" in meta:
            meta["nbgrader"] = _normalise_nbgrader(dict(meta["nbgrader"]), where)
            gid = meta["nbgrader"]["grade_id"]
            if gid in grade_ids:
                raise ChapterError(f"{where}: duplicate grade_id {gid!r}")
            grade_ids.add(gid)
            if DEMO_TAG in meta.get("tags", []):
                raise ChapterError(f"{where}: {gid!r} is graded, so it cannot be a demo cell")
            if meta["nbgrader"]["solution"] and cell.cell_type == "code":
                if "### BEGIN SOLUTION" not in cell.source:
                    raise ChapterError(f"{where}: solution cell {gid!r} has no ### BEGIN SOLUTION")
        cell.metadata = nbformat.from_dict(meta)
        cell.id = _cell_id(cell, seen_ids)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def load_chapter(chapter: str, root: Path | None = None) -> nbformat.NotebookNode:
    """The instructor notebook of ``chapter`` (solutions and hidden tests included)."""
    path = source_path(chapter, root)
    nb = jupytext.read(path, fmt="py:percent")
    return normalise(nb, path.name)


# -- the one view of a chapter's cells -----------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a chapter: where it is, what kind it is, its grade id and points."""

    index: int
    cell_id: str
    kind: str                   # one of CELL_KINDS
    grade_id: str | None        # None for cells without nbgrader metadata
    points: float
    locked: bool
    source: str


@dataclass
class Chapter:
    """A chapter's instructor notebook seen as cells of known kinds.

    The single reader of nbgrader cell metadata for release, grading,
    feedback, gradebook and site.
    """

    name: str
    notebook: nbformat.NotebookNode
    cells: list[Cell] = field(default_factory=list)

    @classmethod
    def from_notebook(cls, nb, name: str) -> Chapter:
        cells = []
        for i, c in enumerate(nb.cells):
            meta = nbgrader_meta(c)
            kind = cell_kind(c)
            cells.append(Cell(i, str(c.get("id", i)), kind, meta.get("grade_id") or None,
                              float(meta.get("points", 0) or 0) if kind == "test" else 0.0,
                              bool(meta.get("locked")), c.get("source", "")))
        return cls(name, nb, cells)

    @classmethod
    def load(cls, chapter: str, root: Path | None = None) -> Chapter:
        return cls.from_notebook(load_chapter(chapter, root), chapter)

    @classmethod
    def of(cls, source, name: str) -> Chapter:
        """``source`` itself if it is a :class:`Chapter`, else the view of that notebook."""
        return source if isinstance(source, Chapter) else cls.from_notebook(source, name)

    def of_kind(self, kind: str) -> list[Cell]:
        return [c for c in self.cells if c.kind == kind]

    @property
    def answers(self) -> list[Cell]:
        return self.of_kind("answer")

    @property
    def tests(self) -> list[Cell]:
        return self.of_kind("test")

    @property
    def points(self) -> dict[str, float]:
        """``{grade_id: points}`` of every check, in notebook order."""
        return {c.grade_id: c.points for c in self.tests}

    def tests_of(self, answer: str) -> list[Cell]:
        """The checks of one answer, by the naming rule."""
        names = test_ids(answer)
        return [c for c in self.tests if c.grade_id in names]

    def answer_names(self, answer: str) -> frozenset[str]:
        """Top-level names the instructor's answer cell binds: what the tests may use."""
        cell = next((c for c in self.answers if c.grade_id == answer), None)
        return frozenset() if cell is None else bound_names(cell.source)

    def naming_problems(self) -> list[str]:
        """Checks whose name does not follow ``test_<answer>[_hidden]`` for an answer here."""
        answers = {c.grade_id for c in self.answers}
        return [f"{self.name}, cell {c.index}: check {c.grade_id!r} must be named "
                f"test_<answer> or test_<answer>_hidden for one of its answers "
                f"({', '.join(sorted(answers))})"
                for c in self.tests if answer_of_test(c.grade_id) not in answers]


def bound_names(code: str) -> frozenset[str]:
    """Names a cell binds at top level (``def``, ``class``, assignment, import)."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return frozenset()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)
