"""Where the book's files live, and which chapters exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

CHAPTER_ID = re.compile(r"^\d\d_[a-z0-9_]+$")


def repo_root() -> Path:
    """The repository root: ``$DLNOTES_ROOT`` if set, else the checkout holding this file."""
    env = os.environ.get("DLNOTES_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def solutions_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "solutions"


def chapters_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "chapters"


def course_dir(root: Path | None = None) -> Path:
    """The nbgrader course directory (``autograder/course``)."""
    return (root or repo_root()) / "autograder" / "course"


def chapter_ids(root: Path | None = None) -> list[str]:
    """Every chapter with an instructor source, in book order."""
    return sorted(p.stem for p in solutions_dir(root).glob("*.py") if CHAPTER_ID.match(p.stem))


def source_path(chapter: str, root: Path | None = None) -> Path:
    """The instructor source of ``chapter``; ``ValueError`` if there is none."""
    if not CHAPTER_ID.match(chapter or ""):
        raise ValueError(f"chapter must look like '01_metrics', got {chapter!r}")
    path = solutions_dir(root) / f"{chapter}.py"
    if not path.is_file():
        known = ", ".join(chapter_ids(root)) or "none"
        raise ValueError(f"no chapter {chapter!r} in {solutions_dir(root)} (known: {known})")
    return path
