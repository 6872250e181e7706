"""Run each chapter once per test session and share the results.

Executing notebooks and grading submissions costs seconds, so the chapter
tests ask this module, which does each piece of work once and caches it.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import nbformat

from dlnotes_course import site
from dlnotes_course.grade import grade_folder
from dlnotes_course.layout import chapters_dir
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered
from planted import mistakes

WORK = Path(tempfile.mkdtemp(prefix="dlnotes-tests-"))
CELL_TIMEOUT = 20


@functools.cache
def executed_instructor(chapter: str):
    """The instructor notebook executed top to bottom, demos included (once per session)."""
    return site.executed_instructor(chapter, cache=WORK / "executed")


@functools.cache
def released(chapter: str):
    return nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)


@functools.cache
def graded_class(chapter: str) -> dict:
    """Grade a class of simulated students once; ``{student: Result}``.

    Students: ``solution`` (all answers right), ``blank`` (the release as
    given), and ``planted_<i>`` (all right but the i-th planted mistake).
    """
    source = load_chapter(chapter)
    release = released(chapter)
    subs = WORK / chapter / "submissions"
    subs.mkdir(parents=True)
    nbformat.write(answered(release, source), subs / "solution.ipynb")
    nbformat.write(release, subs / "blank.ipynb")
    for i, m in enumerate(mistakes(chapter)):
        nbformat.write(answered(release, source, {m["cell"]: m["source"]}),
                       subs / f"planted_{i}.ipynb")
    results = grade_folder(chapter, subs, WORK / chapter / "out", WORK / chapter / "course",
                           cell_timeout=CELL_TIMEOUT)
    return {r.student: r for r in results}


def out_dir(chapter: str) -> Path:
    return WORK / chapter / "out"
