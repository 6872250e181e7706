"""nbgrader's exchange with safe permissions (``dlnotes_course.exchange``), without a hub.

Folders owned by other users need root; the whole loop on a real JupyterHub,
with real student accounts, is ``tests/test_hub.py``.
"""

from __future__ import annotations

import os
import pwd
import stat

import pytest

from dlnotes_course import course
from dlnotes_course.exchange import check_exchange, prepare_exchange

root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="sets owners of the exchange folders: needs root")


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@root_only
def test_prepare_exchange_sets_safe_modes_and_repairs_a_loose_one(tmp_path):
    root = tmp_path / "exchange"
    root.mkdir()
    os.chmod(root, 0o777)   # as nbgrader's documentation leaves it
    assert check_exchange(root, "c1")   # missing folders, loose root
    changes = prepare_exchange(root, "c1", "nobody")
    assert any("0o777 -> 0o1777" in line for line in changes)
    assert _mode(root) == 0o1777 and root.stat().st_uid == 0
    assert _mode(root / "c1" / "inbound") == 0o3733
    assert _mode(root / "c1" / "feedback") == 0o711
    assert _mode(root / "c1" / "outbound") == 0o755
    import pwd
    assert (root / "c1" / "inbound").stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert check_exchange(root, "c1") == []
    assert prepare_exchange(root, "c1", "nobody") == []   # idempotent
    os.chmod(root / "c1" / "inbound", 0o777)
    assert check_exchange(root, "c1") == [
        f"{root / 'c1' / 'inbound'}: mode 0o777, expected 0o3733"]


@pytest.mark.parametrize("course_id, instructor, what", [
    ("../x", "nobody", "course_id"), ("", "nobody", "course_id"),
    ("c1", "no-such-user-dlnotes", "instructor")])
def test_prepare_exchange_rejects_bad_arguments(tmp_path, course_id, instructor, what):
    with pytest.raises(ValueError, match=what):
        prepare_exchange(tmp_path / "ex", course_id, instructor)


def _submission(inbound, student, when, owner, text, suffix):
    folder = inbound / f"{student}+01_metrics+{when}+{suffix}"
    folder.mkdir()
    (folder / "01_metrics.ipynb").write_text(text)
    (folder / "timestamp.txt").write_text(when)
    uid = pwd.getpwnam(owner).pw_uid
    for path in (folder, *folder.iterdir()):
        os.chown(path, uid, -1, follow_symlinks=False)
    return folder


@root_only
def test_collect_takes_each_students_own_latest_and_skips_the_rest(tmp_path):
    """Forged, unparsable and oversized folders and links never reach submitted/."""
    a, b = "daemon", "bin"   # two accounts every Debian system has
    ex = tmp_path / "exchange"
    prepare_exchange(ex, "c1", "root")
    inbound = ex / "c1" / "inbound"
    home = tmp_path / "course"
    course.init(home, ex, "c1")
    with open(home / "nbgrader_config.py", "a") as fh:
        fh.write("c.CourseDirectory.max_dir_size = 1000  # kB\n")

    _submission(inbound, a, "2026-01-01 10:00:00.000000 UTC", a, "A's work", "r1")
    _submission(inbound, a, "2026-01-01 11:00:00.000000 UTC", b, "forged by B", "r2")
    mine = _submission(inbound, b, "2026-01-01 10:30:00.000000 UTC", b, "B's work", "r3")
    os.symlink(inbound / f"{a}+01_metrics+2026-01-01 10:00:00.000000 UTC+r1" /
               "01_metrics.ipynb", mine / "steal.ipynb")
    (inbound / f"{b}+01_metrics+not a date").mkdir()
    big = _submission(inbound, b, "2026-01-01 12:00:00.000000 UTC", b, "B, too big", "r4")
    (big / "data.bin").write_bytes(b"\0" * 1_500_000)

    warnings = course.collect("01_metrics", home)
    got = {s: (home / "submitted" / s / "01_metrics" / "01_metrics.ipynb").read_text()
           for s in (a, b)}
    assert got == {a: "A's work", b: "B's work"}
    assert sorted(os.listdir(home / "submitted" / b / "01_metrics")) == [
        "01_metrics.ipynb", "timestamp.txt"]
    text = "\n".join(warnings)
    assert f"student {a}, notebook 01_metrics: skipped {a}+01_metrics+2026-01-01 11:00" in text
    assert f"owned by {b}, not by the student it names" in text
    assert "not a date: not a submission folder name" in text
    assert "more than the 1000000 allowed" in text
    assert "steal.ipynb: not a regular file" in text
    assert len(warnings) == 4, warnings
