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

warnings.filterwarnings("ignore", message="Object of type <Submitted", category=SAWarning)


def record_chapter(gb: Gradebook, chapter: str, source_nb) -> None:
    """Create or update the chapter's assignment, notebook and cells."""
    gb.update_or_create_assignment(chapter)
    gb.update_or_create_notebook(chapter, chapter)
    for cell in source_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if not gid:
            continue
        kind = "code" if cell.cell_type == "code" else "markdown"
        if meta.get("grade"):
            gb.update_or_create_grade_cell(gid, chapter, chapter,
                                           max_score=float(meta.get("points", 0)),
                                           cell_type=kind)
        if meta.get("solution"):
            gb.update_or_create_solution_cell(gid, chapter, chapter)
        gb.update_or_create_source_cell(gid, chapter, chapter, cell_type=kind,
                                        locked=bool(meta.get("locked")), source=cell.source)


def record_results(db_url: str, chapter: str, source_nb, results) -> None:
    """Store every result's check scores as nbgrader auto scores."""
    scripts_on_path()
    with Gradebook(db_url) as gb:
        record_chapter(gb, chapter, source_nb)
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
