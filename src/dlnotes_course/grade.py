"""Grade a folder of submissions of one chapter with nbgrader.

Layouts accepted for ``SUBMISSIONS``:

- nbgrader's: ``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb`` (the
  ``submitted/`` folder of a course, or a copy of it);
- flat, as exported by an LMS: ``SUBMISSIONS/<student>.ipynb``.

Each submission is copied into the course directory and autograded through
nbgrader's Python API (demo cells skipped, locked and test cells restored from
the instructor source). The results are written to ``OUT``:

- ``grades.csv``: ``student,chapter,score,max_score,status,reason``;
- ``feedback/<student>.html``: every check with its teaching message, never
  the code of a test;
- ``report.txt``: one line per problem, naming the student, the notebook and
  the check.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .feedback import write_feedback
from .layout import course_dir as default_course_dir
from .nbgrader_setup import nbgrader_api
from .release import generate
from .source import load_chapter

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$")
CSV_COLUMNS = ("student", "chapter", "score", "max_score", "status", "reason")


@dataclass
class Check:
    """One graded cell: its id, points and, if it failed, the message."""

    grade_id: str
    score: float
    max_score: float
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class Result:
    """The outcome for one submission (one row of ``grades.csv``)."""

    student: str
    chapter: str
    score: float
    max_score: float
    status: str
    reason: str = ""
    notebook: str = ""
    checks: list[Check] = field(default_factory=list)

    def row(self) -> dict:
        return {"student": self.student, "chapter": self.chapter,
                "score": f"{self.score:g}", "max_score": f"{self.max_score:g}",
                "status": self.status, "reason": self.reason}


def chapter_checks(source_nb) -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell of the instructor notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def collect(submissions: Path, chapter: str) -> list[tuple[str, Path | None, str]]:
    """List ``(student, notebook_path, problem)`` for every submission found.

    ``problem`` is empty for a submission that can be graded. A student id that
    is not ``[A-Za-z0-9_.@-]+`` (or starts with a dot) or appears twice is a
    problem; it never becomes a path.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {submissions}")
    found: list[tuple[str, Path | None, str]] = []
    for entry in sorted(submissions.iterdir()):
        if entry.is_dir():
            notebooks = sorted((entry / chapter).glob("*.ipynb")) if (entry / chapter).is_dir() \
                else []
            named = [p for p in notebooks if p.stem == chapter]
            path = named[0] if named else (notebooks[0] if len(notebooks) == 1 else None)
            problem = "" if path else (
                f"no {chapter}.ipynb under {entry.name}/{chapter}/" if not notebooks
                else f"several notebooks under {entry.name}/{chapter}/ and none named {chapter}")
            found.append((entry.name, path, problem))
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry, ""))
    counts: dict[str, int] = {}
    for student, _, _ in found:
        counts[student] = counts.get(student, 0) + 1
    checked = []
    for student, path, problem in found:
        if not STUDENT_ID.match(student):
            problem = "student id must match [A-Za-z0-9_.@-]+ and not start with a dot"
        elif counts[student] > 1:
            problem = "this student id appears more than once in SUBMISSIONS"
        checked.append((student, path, problem))
    return checked


def read_submission(path: Path, chapter: str, grade_ids) -> tuple[object | None, str]:
    """Parse a submitted notebook; return ``(notebook, "")`` or ``(None, problem)``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable file: {exc}"
    if not text.strip():
        return None, "empty file"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for bad JSON/schema
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"not a valid notebook (invalid JSON or schema): {first[:200]}"
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if not ids & set(grade_ids):
        return None, f"not a notebook of chapter {chapter}: none of its exercise cells found"
    return nb, ""


def _errors(autograded_nb) -> dict[str, tuple[str, str]]:
    """``{grade_id: (ename, evalue)}`` of every nbgrader cell that raised."""
    errors = {}
    for cell in autograded_nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and gid:
                errors[gid] = (out.get("ename", ""), out.get("evalue", ""))
    return errors


def _message(ename: str, evalue: str) -> str:
    if ename == "AssertionError":
        return evalue or "a check failed"
    if ename == "CellTimeoutError":
        return "the cell ran past the time limit"
    return f"{ename}: {evalue}".strip()


def grade_one(chapter: str, student: str, nb, course: Path, api, checks: dict[str, float],
              label: str) -> Result:
    """Autograde one parsed submission already known to be valid."""
    max_score = sum(checks.values())
    target = course / "submitted" / student / chapter
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{chapter}.ipynb")
    outcome = api.autograde(chapter, student, force=True, create=True)
    if not outcome.get("success"):
        lines = [ln.strip() for ln in (outcome.get("error") or outcome.get("log") or "")
                 .splitlines() if ln.strip()]
        why = next((ln for ln in reversed(lines) if "Error" in ln or "error" in ln),
                   lines[-1] if lines else "unknown error")
        return Result(student, chapter, 0.0, max_score, "crashed",
                      f"nbgrader could not grade it: {why[:300]}", label,
                      [Check(g, 0.0, p, "not graded") for g, p in checks.items()])
    autograded = nbformat.read(course / "autograded" / student / chapter / f"{chapter}.ipynb",
                               as_version=4)
    errors = _errors(autograded)
    results = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for gid, points in checks.items():
            try:
                score = float(gb.find_grade(gid, chapter, chapter, student).score or 0.0)
            except MissingEntry:
                score = 0.0
            ename, evalue = errors.get(gid, ("", ""))
            message = _message(ename, evalue) if score < points else ""
            results.append(Check(gid, score, points, message or ("" if score >= points else
                                                                 "no credit")))
    timeouts = [gid for gid, (ename, _) in errors.items() if ename == "CellTimeoutError"]
    status, reason = "graded", ""
    if timeouts:
        status = "timeout"
        reason = "cell(s) ran past the time limit: " + ", ".join(timeouts)
    score = sum(c.score for c in results)
    return Result(student, chapter, score, max_score, status, reason, label, results)


def grade_folder(chapter: str, submissions: Path, out: Path, course: Path | None = None,
                 cell_timeout: int = 30, root: Path | None = None, progress=None) -> list[Result]:
    """Grade every submission of ``chapter`` in ``submissions``; write ``out``.

    Returns one :class:`Result` per submission found, in student order.
    """
    course = Path(course or default_course_dir(root)).resolve()
    out = Path(out)
    source_nb = load_chapter(chapter, root)
    checks = chapter_checks(source_nb)
    max_score = sum(checks.values())
    generate(chapter, course, root)  # records the chapter's cells in the gradebook
    api = nbgrader_api(course, cell_timeout)
    results = []
    found = collect(submissions, chapter)
    for student, path, problem in found:
        label = str(path) if path else f"{submissions}/{student}"
        nb = None
        if not problem:
            nb, problem = read_submission(path, chapter, checks)
        if problem:
            results.append(Result(student, chapter, 0.0, max_score, "invalid", problem, label,
                                  [Check(g, 0.0, p, "not graded") for g, p in checks.items()]))
        else:
            results.append(grade_one(chapter, student, nb, course, api, checks, label))
        if progress:
            progress(results[-1])
    write_outputs(results, out)
    return results


def write_outputs(results: list[Result], out: Path) -> None:
    """Write ``grades.csv``, ``report.txt`` and one feedback page per student."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in results:
            writer.writerow(r.row())
    lines = []
    for r in results:
        if r.status != "graded":
            lines.append(f"{r.student}\t{r.notebook}\t{r.status}: {r.reason}")
        for c in r.checks:
            if not c.passed and r.status != "invalid":
                lines.append(f"{r.student}\t{r.notebook}\t{c.grade_id}: {c.message}")
    (out / "report.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    for r in results:
        if STUDENT_ID.match(r.student):
            write_feedback(r, out / "feedback" / f"{r.student}.html")


def main(argv=None) -> int:
    """``dlnotes-grade CHAPTER SUBMISSIONS --out DIR [--timeout S]``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="dlnotes-grade", description=__doc__.split("\n")[0])
    parser.add_argument("chapter", help="chapter id, e.g. 01_metrics")
    parser.add_argument("submissions", type=Path, help="folder of submissions (see layouts)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    parser.add_argument("--course", type=Path, default=None,
                        help="nbgrader course directory (default autograder/course)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        results = grade_folder(args.chapter, args.submissions, args.out, args.course,
                               args.timeout,
                               progress=lambda r: print(f"{r.student}: {r.status} "
                                                        f"{r.score:g}/{r.max_score:g}",
                                                        file=sys.stderr))
    except ValueError as exc:
        print(f"dlnotes-grade: {exc}", file=sys.stderr)
        return 2
    failed = sum(r.status != "graded" for r in results)
    print(f"graded {len(results) - failed}, failed {failed}, "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
