"""nbgrader's configuration for the book, in one place.

``autograder/nbgrader_config.py`` (used by the ``nbgrader`` command line and
the lab extension) and the Python API calls of :mod:`release` and
:mod:`grade` all take their settings from :func:`nbgrader_config`.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
)
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from .source import is_demo

# nbgrader 0.9's gradebook trips SQLAlchemy 2's autoflush warnings on every
# autograde; they are harmless and would bury the grader's own output.
warnings.filterwarnings("ignore", message="Object of type <Submitted", category=SAWarning)

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
SKIPPED_DEMO = "# (demo cell: not run while grading)"


class SkipDemoCells(NbGraderPreprocessor):
    """Blank demo cells before a submission is executed for grading.

    Runs after nbgrader's ``OverwriteCells`` so graded cells already carry the
    instructor's metadata; :func:`dlnotes_course.source.is_demo` never treats a
    graded or answer cell as a demo, whatever tags a submission adds.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_demo(cell):
            cell.source = SKIPPED_DEMO
            cell.outputs = []
        return cell, resources


def nbgrader_config(course_dir: Path, cell_timeout: int = 30) -> Config:
    """The nbgrader configuration for a course directory."""
    course_dir = Path(course_dir).resolve()
    c = Config()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    c.Exchange.root = str(course_dir / "exchange")
    c.ClearSolutions.code_stub = {"python": STUB}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    c.Execute.timeout = int(cell_timeout)
    c.Execute.interrupt_on_timeout = True
    c.OverwriteCells.add_missing_cells = True
    c.Autograde.sanitize_preprocessors = [
        ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
        CheckCellMetadata, SkipDemoCells,
    ]
    c.NbGraderAPI.log_level = logging.INFO
    return c


def scripts_on_path() -> None:
    """Make this interpreter's scripts findable even when the venv is not activated.

    nbgrader runs the ``alembic`` executable when it creates a gradebook.
    """
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(course_dir: Path, cell_timeout: int = 30) -> NbGraderAPI:
    """An ``NbGraderAPI`` on ``course_dir`` (created if missing)."""
    course_dir = Path(course_dir)
    (course_dir / "exchange").mkdir(parents=True, exist_ok=True)
    scripts_on_path()
    return NbGraderAPI(config=nbgrader_config(course_dir, cell_timeout))
