"""Step one of grading: the class's submissions, each read once, as bytes.

Symbolic links are never followed; a student id is checked and never becomes a
path; what is validated here is exactly what is graded.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .source import Chapter

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$")
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


@dataclass
class Submission:
    """One student's notebook, read once: what is graded is what was validated."""

    student: str
    label: str                  # where it came from, for the report
    data: bytes = b""
    problem: str = ""           # why it cannot be graded ("" if it can)

    @property
    def valid_id(self) -> bool:
        return bool(STUDENT_ID.match(self.student))


def _read_no_follow(path: Path) -> tuple[bytes, str]:
    """The bytes of a regular file, never through a symbolic link; ``(b"", why)`` if not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if path.is_symlink():
            return b"", "is a symbolic link; links in SUBMISSIONS are never followed"
        return b"", f"unreadable file: {exc.strerror or exc}"
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return b"", "not a regular file"
        if st.st_size > MAX_NOTEBOOK_BYTES:
            return b"", f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
        return fh.read(MAX_NOTEBOOK_BYTES + 1), ""


def _found(submissions: Path, chapter: str):
    """``(student, path, problem)`` for every entry of SUBMISSIONS, links not followed."""
    for entry in sorted(submissions.iterdir()):
        if entry.is_symlink():
            yield entry.name.removesuffix(".ipynb"), entry, \
                "is a symbolic link; links in SUBMISSIONS are never followed"
        elif entry.is_dir():
            folder = entry / chapter
            notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() \
                and not folder.is_symlink() else []
            named = [p for p in notebooks if p.stem == chapter]
            path = named[0] if named else (notebooks[0] if len(notebooks) == 1 else None)
            yield entry.name, path, "" if path else (
                f"no {chapter}.ipynb under {entry.name}/{chapter}/" if not notebooks
                else f"several notebooks under {entry.name}/{chapter}/ and none named {chapter}")
        elif entry.suffix == ".ipynb":
            yield entry.stem, entry, ""


def collect(submissions: Path, chapter: str) -> list[Submission]:
    """Every submission in ``submissions``, read once; problems named, never raised.

    A student id that is not ``[A-Za-z0-9_.@-]+`` (or starts with a dot) or
    appears twice is a problem; an id never becomes a path.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {submissions}")
    found = list(_found(submissions, chapter))
    counts: dict[str, int] = {}
    for student, _, _ in found:
        counts[student] = counts.get(student, 0) + 1
    out = []
    for student, path, problem in found:
        label = str(path) if path else f"{submissions}/{student}"
        if not STUDENT_ID.match(student):
            problem = "student id must match [A-Za-z0-9_.@-]+ and not start with a dot"
        elif counts[student] > 1:
            problem = "this student id appears more than once in SUBMISSIONS"
        data = b""
        if not problem:
            data, problem = _read_no_follow(path)
        out.append(Submission(student, label, data, problem))
    return out


def parse_submission(data: bytes, chapter: Chapter) -> tuple[object | None, str]:
    """Parse a submitted notebook's bytes; ``(notebook, "")`` or ``(None, problem)``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"unreadable file: {exc}"
    if not text.strip():
        return None, "empty file"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types for bad JSON/schema
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"not a valid notebook (invalid JSON or schema): {first[:200]}"
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if not ids & set(chapter.points):
        return None, f"not a notebook of chapter {chapter.name}: none of its exercise cells found"
    return nb, ""
