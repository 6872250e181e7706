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
from pathlib import Path

import jupytext
import nbformat

from .layout import source_path

DEMO_TAG = "demo"
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


def is_demo(cell) -> bool:
    """True for a demonstration cell: tagged ``demo`` and neither graded nor an answer.

    Grading skips these. The graded/answer exclusion matters for submissions:
    a student who adds the tag to a test cell must not be able to skip it.
    """
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    if nbg.get("grade") or nbg.get("solution"):
        return False
    return DEMO_TAG in cell.get("metadata", {}).get("tags", [])
