"""Grades land in a real PostgreSQL server exactly as in SQLite.

The test starts Debian's PostgreSQL on loopback in a temporary data directory
(``.ci/run`` installs the ``postgresql`` package when it is missing).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import grade_folder
from dlnotes_course.gradebook import scores
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered
from planted import mistakes

CHAPTER = "01_metrics"
pytestmark = pytest.mark.slow


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (Debian package postgresql) is needed; .ci/run installs it")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="dlnotes-pg-", dir="/tmp"))
    os.chmod(base, 0o755)
    data = base / "data"
    shutil.chown(base, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_postgres(*cmd):
        return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True,
                              capture_output=True, text=True, timeout=120)

    as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "grader")
    as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
                "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base}", "start")
    try:
        yield f"postgresql://grader@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_grades_in_postgresql_match_sqlite(postgres_url, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    nbformat.write(answered(release, source), subs / "ada.ipynb")
    nbformat.write(release, subs / "bob.ipynb")
    m = mistakes(CHAPTER)[0]
    nbformat.write(answered(release, source, {m["cell"]: m["source"]}), subs / "cy.ipynb")

    results = grade_folder(CHAPTER, subs, tmp_path / "out", tmp_path / "course",
                           db_url=postgres_url)
    sqlite_url = f"sqlite:///{tmp_path / 'sqlite.db'}"
    grade_folder(CHAPTER, subs, tmp_path / "out", tmp_path / "course", db_url=sqlite_url)

    expected = {r.student: r.score for r in results}
    assert scores(postgres_url, CHAPTER) == expected == scores(sqlite_url, CHAPTER)
    assert expected["ada"] == results[0].max_score and expected["bob"] == 0

    # grading again replaces the rows instead of adding to them
    grade_folder(CHAPTER, subs, tmp_path / "out", tmp_path / "course", db_url=postgres_url,
                 regrade=True)
    assert scores(postgres_url, CHAPTER) == expected
