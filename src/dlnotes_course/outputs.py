"""The last step of grading: the files written from the results.

``grades.csv``, ``report.txt``, one feedback page per student, the stored
results (atomically), and, run as root on an instructor's course, handing the
files back to the course's owner. Every student-controlled text is cleaned
(:func:`~dlnotes_course.results.clean`): it can never start a line of the
report or a row or column of the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

from .collect import STUDENT_ID
from .feedback import write_feedback
from .results import Result, clean

CSV_COLUMNS = ("student", "chapter", "score", "max_score", "status", "reason")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name[:80]}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def file_name(student: str) -> str:
    """A file name for a (valid) student id, short enough for any file system."""
    if len(student) <= 100:
        return student
    return f"{student[:60]}-{hashlib.sha256(student.encode()).hexdigest()[:16]}"


def write_outputs(results: list[Result], out: Path) -> None:
    """Write ``grades.csv``, ``report.txt`` and one feedback page per student.

    Every student-controlled text is cleaned (:func:`~dlnotes_course.results.clean`):
    it can never start a line of the report or a row or column of the CSV.
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in results:
            writer.writerow(r.row())
    lines = [f"WARNING\t{clean(w)}" for w in sorted({r.warning for r in results if r.warning})]
    for r in results:
        who = f"{clean(r.student)}\t{clean(r.notebook)}"
        if r.status != "graded":
            lines.append(f"{who}\t{r.status}: {clean(r.reason)}")
        lines += [f"{who}\t{c.grade_id}: {clean(c.message)}" for c in r.checks
                  if not c.passed and r.status != "invalid"]
    (out / "report.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    for r in results:
        if STUDENT_ID.match(r.student):
            write_feedback(r, out / "feedback" / f"{file_name(r.student)}.html")


def hand_back(course: Path, paths) -> None:
    """Run as root on an instructor's course, leave what was written to the instructor.

    (The sandbox needs root for its cgroups; the instructor must still be able
    to release the feedback and update the gradebook afterwards.)
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not course.is_dir():
        return
    st = course.stat()
    if st.st_uid == 0:
        return
    for top in paths:
        if not top.exists() or not top.resolve().is_relative_to(course):
            continue
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            if not path.is_symlink():
                os.chown(path, st.st_uid, st.st_gid)
