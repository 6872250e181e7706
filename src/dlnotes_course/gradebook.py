"""Write grades into nbgrader's gradebook (SQLite or any SQLAlchemy URL).

Only the driver of ``dlnotes-grade`` calls this, after every submission has
a result: workers never touch the database. The chapter's structure
(assignment, notebook, graded cells and their points) is recorded from the
instructor source, so a fresh database (for example PostgreSQL) needs no
``nbgrader generate_assignment`` first.
"""

from __future__ import annotations

import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .nbgrader_setup import scripts_on_path
from .source import Chapter

warnings.filterwarnings("ignore", message="Object of type <Submitted", category=SAWarning)


def record_chapter(gb: Gradebook, chapter: str, source) -> None:
    """Create or update the chapter's assignment, notebook and cells.

    ``source`` is the instructor notebook or its :class:`~dlnotes_course.source.Chapter`.
    """
    gb.update_or_create_assignment(chapter)
    gb.update_or_create_notebook(chapter, chapter)
    for cell in Chapter.of(source, chapter).cells:
        if cell.grade_id is None:
            continue
        cell_type = "markdown" if cell.kind == "markdown" else "code"
        if cell.kind == "test":
            gb.update_or_create_grade_cell(cell.grade_id, chapter, chapter,
                                           max_score=cell.points, cell_type=cell_type)
        if cell.kind == "answer":
            gb.update_or_create_solution_cell(cell.grade_id, chapter, chapter)
        gb.update_or_create_source_cell(cell.grade_id, chapter, chapter, cell_type=cell_type,
                                        locked=cell.locked, source=cell.source)


def record_results(db_url: str, chapter: str, source, results) -> None:
    """Store every result's check scores as nbgrader auto scores (``source`` as above)."""
    scripts_on_path()
    with Gradebook(db_url) as gb:
        record_chapter(gb, chapter, source)
        for r in results:
            if not r.valid_id:
                continue
            gb.update_or_create_student(r.student)
            try:
                gb.find_submission(chapter, r.student)
                gb.remove_submission(chapter, r.student)
            except MissingEntry:
                pass
            gb.add_submission(chapter, r.student)
            by_id = {c.grade_id: c.score for c in r.checks}
            for cell in gb.find_notebook(chapter, chapter).grade_cells:
                grade = gb.find_grade(cell.name, chapter, chapter, r.student)
                grade.auto_score = float(by_id.get(cell.name, 0.0))
                grade.needs_manual_grade = False
            gb.db.commit()


def scores(db_url: str, chapter: str) -> dict[str, float]:
    """``{student: total score}`` of ``chapter`` as the gradebook has it."""
    with Gradebook(db_url) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(chapter)}
