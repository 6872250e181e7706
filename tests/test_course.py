"""The course commands without a hub: release versions and command-line errors.

The whole loop on a real JupyterHub is ``tests/test_hub.py``.
"""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest

from dlnotes_course import course
from dlnotes_course.layout import chapters_dir, repo_root
from dlnotes_course.plan import make_plan
from dlnotes_course.release import VERSION_KEY, release_version, stamp_version, version_label
from dlnotes_course.source import Chapter, load_chapter
from dlnotes_course.submissions import answered

CHAPTER = "01_metrics"


def _git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_version_names_the_source_commit_and_marks_uncommitted_changes(tmp_path):
    (tmp_path / "solutions").mkdir()
    src = tmp_path / "solutions" / f"{CHAPTER}.py"
    shutil.copyfile(repo_root() / "solutions" / f"{CHAPTER}.py", src)
    v = release_version(CHAPTER, tmp_path)            # not a git checkout
    assert v["commit"] is None and v["source_sha256"][:12] in version_label(v)

    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    head = _git(tmp_path, "rev-parse", "--short=10", "HEAD")
    v = release_version(CHAPTER, tmp_path)
    assert v["commit"] == head and f"source commit {head}" in version_label(v)
    src.write_text(src.read_text() + "\n# an edit\n")
    changed = release_version(CHAPTER, tmp_path)
    assert changed["commit"] == head + "+changes"
    assert changed["source_sha256"] != v["source_sha256"]


def test_stamp_goes_first_replaces_an_older_one_and_grading_ignores_it():
    release = nbformat.read(chapters_dir() / f"{CHAPTER}.ipynb", as_version=4)
    first = release_version(CHAPTER)
    nb = stamp_version(nbformat.from_dict(release), first)
    assert nb.cells[0].metadata[VERSION_KEY] == first
    assert first["date"] in nb.cells[0].source
    later = dict(first, date="2999-01-01 00:00:00 UTC")
    nb = stamp_version(nb, later)
    stamps = [c for c in nb.cells if VERSION_KEY in c.metadata]
    assert len(stamps) == 1 and nb.cells[0].metadata[VERSION_KEY] == later
    assert len(nb.cells) == len(release.cells) + 1

    source = load_chapter(CHAPTER)
    chapter = Chapter.from_notebook(source, CHAPTER)
    plain = make_plan(chapter, answered(release, source), release)
    stamped = make_plan(chapter, answered(nb, source), release)
    assert stamped.tampered == plain.tampered == []
    assert [(s.grade_id, s.code) for s in stamped.steps] == \
        [(s.grade_id, s.code) for s in plain.steps]


def test_commands_on_a_folder_that_is_not_a_course_fail_clearly(tmp_path, capsys):
    for command in ("release", "collect", "feedback"):
        assert course.main([command, CHAPTER, "--course", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"dlnotes-course {command}:" in err and "--course" in err, err


def test_init_writes_a_config_nbgrader_reads(tmp_path, capsys):
    ex = tmp_path / "ex"
    assert course.main(["init", str(tmp_path / "c"), "--exchange", str(ex),
                        "--course-id", "c1"]) == 0
    assert "WARNING: exchange" in capsys.readouterr().err   # the exchange is not prepared
    config = course.load_course(tmp_path / "c")
    assert config.CourseDirectory.course_id == "c1"
    assert config.Exchange.root == str(ex)
    assert config.CourseDirectory.root == str((tmp_path / "c").resolve())


def test_the_course_and_the_hub_use_our_exchange_classes(tmp_path):
    from traitlets.config import Config
    from traitlets.utils.importstring import import_item

    from dlnotes_course import exchange, hub

    course.init(tmp_path / "c", tmp_path / "ex", "c1")
    config = course.load_course(tmp_path / "c")
    assert import_item(config.ExchangeFactory.collect) is exchange.OwnerCheckedCollect
    assert import_item(config.ExchangeFactory.submit) is exchange.PrivateSubmit
    shared = Config()
    exec(hub.NBGRADER_CONFIG.format(course_id="c1", exchange="/x", submit=exchange.SUBMIT_CLASS),
         {"get_config": lambda: shared})
    assert import_item(shared.ExchangeFactory.submit) is exchange.PrivateSubmit


def test_init_rejects_a_course_id_that_is_not_a_folder_name(tmp_path, capsys):
    assert course.main(["init", str(tmp_path / "c"), "--exchange", str(tmp_path / "ex"),
                        "--course-id", "a/../b"]) == 2
    assert "course_id must be" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_feedback_without_grades_names_the_option(tmp_path):
    course.init(tmp_path / "c", tmp_path / "ex", "c1")
    with pytest.raises(ValueError, match="--grades"):
        course.feedback(CHAPTER, tmp_path / "c", tmp_path / "nowhere")


def test_release_of_an_unknown_chapter_is_a_clear_error(tmp_path, capsys):
    course.init(tmp_path / "c", tmp_path / "ex", "c1")
    capsys.readouterr()
    assert course.main(["release", "99_nothing", "--course", str(tmp_path / "c")]) == 2
    assert "no chapter '99_nothing'" in capsys.readouterr().err


def test_feedback_never_turns_a_page_name_into_a_path_outside_submitted(tmp_path, capsys):
    course.init(tmp_path / "c", tmp_path / "ex", "c1")
    pages = tmp_path / "grades" / "feedback"
    pages.mkdir(parents=True)
    (pages / "...html").write_text("<p>not a student</p>")   # student id ".."
    assert course.feedback(CHAPTER, tmp_path / "c", tmp_path / "grades") == []
    assert "student .., notebook 01_metrics: no collected submission" in capsys.readouterr().err
    assert not (tmp_path / "c" / "feedback").exists()
