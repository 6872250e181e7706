"""nbgrader configuration for the `nbgrader` command line and the lab extension.

Run nbgrader commands from this folder (``cd autograder && nbgrader ...``).
Every setting comes from dlnotes_course.nbgrader_setup, the one place the
book's nbgrader configuration is written.
"""

from pathlib import Path

from dlnotes_course.nbgrader_setup import nbgrader_config

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)
c.merge(nbgrader_config(Path(__file__).resolve().parent / "course"))
