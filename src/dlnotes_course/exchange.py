"""nbgrader's exchange, with permissions that keep students out of each other's work.

nbgrader's default exchange trusts every user of the machine: it makes the
exchange root world-writable (so a student can rename the course folder away
and put their own in its place), each submission folder ``0777`` with files
``0644`` (readable and writable by anyone who learns the folder name), and its
collect only *warns* when a submission folder named ``alice+...`` is owned by
someone else, then collects it as Alice's (nbgrader issue #1225 and others).

Here:

- :func:`prepare_exchange` (run once as root) makes the root ``1777`` and owned
  by root (like ``/tmp``: anyone may create an entry, only its owner may rename
  or delete it), the course folder ``0755`` owned by the instructor, ``inbound``
  ``3733`` (students can create their submission folder but not list the
  folder, and the sticky bit stops them renaming or deleting others' entries;
  set-group-id gives every submission the instructor's group), ``outbound``
  ``0755`` and ``feedback`` ``0711`` (fetchable by exact name only).
- :class:`PrivateSubmit` (the students' submit, set in the hub's nbgrader
  configuration) leaves each submission ``0770`` with files ``0640``: the
  student and the instructor's group, nobody else.
- :class:`OwnerCheckedCollect` (the instructor's collect) skips a submission
  folder that claims a student it is not owned by, and copies regular files
  only: a symbolic link in a submission (pointing at another student's work,
  which the instructor can read) is left behind with a warning.

A student who changes their own nbgrader configuration back to nbgrader's
defaults only loosens their *own* submission; the exchange's folders and the
instructor's collect do not depend on what students run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

ROOT_MODE = 0o1777
COURSE_MODE = 0o755
INBOUND_MODE = 0o3733
OUTBOUND_MODE = 0o755
FEEDBACK_MODE = 0o711
SUBMISSION_DIR_MODE = 0o770
SUBMISSION_FILE_MODE = 0o640
#: nbgrader's ``ExchangeFactory`` settings of every course: the instructor's
#: (``course.course_config``) and every hub user's (``hub.NBGRADER_CONFIG``).
SUBMIT_CLASS = "dlnotes_course.exchange.PrivateSubmit"
COLLECT_CLASS = "dlnotes_course.exchange.OwnerCheckedCollect"


def owner_name(path: str | Path) -> str:
    """The user name owning ``path`` (not following a final symbolic link)."""
    uid = os.lstat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_course_id(course_id: str) -> str:
    """``course_id`` if it is a safe folder name (letters, digits, - and _); else ValueError."""
    if not course_id or not course_id.replace("_", "").replace("-", "").isalnum() \
            or not course_id.isascii():
        raise ValueError(f"course_id must be letters, digits, '-' or '_', got {course_id!r}")
    return course_id


def _layout(root: Path, course_id: str) -> list[tuple[Path, int, bool]]:
    """The exchange's folders: (path, mode, owned by the instructor rather than root)."""
    course = root / course_id
    return [(root, ROOT_MODE, False), (course, COURSE_MODE, True),
            (course / "inbound", INBOUND_MODE, True),
            (course / "outbound", OUTBOUND_MODE, True),
            (course / "feedback", FEEDBACK_MODE, True)]


def prepare_exchange(root: Path, course_id: str, instructor: str) -> list[str]:
    """Create or repair the exchange of ``course_id`` under ``root``; needs root.

    Returns what was changed, one line each. ``ValueError`` for a bad course
    id or an unknown instructor account.
    """
    check_course_id(course_id)
    try:
        account = pwd.getpwnam(instructor)
    except KeyError:
        raise ValueError(f"instructor must be an existing user account, got {instructor!r}") \
            from None
    root = Path(root)
    changes = []

    def ensure(path: Path, mode: int, uid: int, gid: int):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ValueError(f"{path} must be a directory, found something else")
        if not path.exists():
            path.mkdir(parents=True)
            changes.append(f"created {path}")
        st = path.stat()
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.chown(path, uid, gid)
            changes.append(f"{path}: owner set to uid {uid}, gid {gid}")
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
            changes.append(f"{path}: mode {oct(stat.S_IMODE(st.st_mode))} -> {oct(mode)}")

    for path, mode, instructors in _layout(root, course_id):
        ensure(path, mode, *((account.pw_uid, account.pw_gid) if instructors else (0, 0)))
    return changes


def check_exchange(root: Path, course_id: str) -> list[str]:
    """How the exchange of ``course_id`` is less safe than :func:`prepare_exchange` leaves it."""
    problems = []
    root = Path(root)
    for path, mode, _ in _layout(root, course_id):
        if not path.is_dir():
            problems.append(f"{path}: missing")
            continue
        have = stat.S_IMODE(path.stat().st_mode)
        if have != mode:
            problems.append(f"{path}: mode {oct(have)}, expected {oct(mode)}")
    if root.is_dir() and root.stat().st_uid != 0:
        problems.append(f"{root}: owned by {owner_name(root)}, expected root")
    return problems


class RegularFilesCopy:
    """An exchange step's ``do_copy`` that copies folders and regular files only.

    nbgrader copies with ``shutil.copytree``, which follows symbolic links and
    copies each folder's mode last. Here a link (or device, fifo, socket) is
    left out with a warning naming the student and the notebook, and folders
    are made with ``mkdir``, so they keep the set-group-id inherited from
    ``inbound``: every file of a submission, including the ``timestamp.txt``
    nbgrader writes afterwards, belongs to the instructor's group.
    """

    def do_copy(self, src, dest, log=None):
        student = self._student_of(src)
        size = self.get_size(src)
        if size > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"student {student}, notebook {self.coursedir.assignment_id}: "
                               f"{src} holds {size} bytes, more than the "
                               f"{1000 * self.coursedir.max_dir_size} allowed")
        ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                 max_file_size=self.coursedir.max_file_size, log=self.log)
        os.makedirs(dest)
        for folder, dirs, files in os.walk(src):
            target = os.path.join(dest, os.path.relpath(folder, src))
            ignored = set(ignore(folder, dirs + files))
            for name in sorted(dirs):
                path = os.path.join(folder, name)
                if name in ignored or os.path.islink(path):
                    dirs.remove(name)
                    if name not in ignored:
                        self._left_out(student, path)
                    continue
                os.mkdir(os.path.join(target, name))
            for name in files:
                path = os.path.join(folder, name)
                if name in ignored:
                    continue
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    self._left_out(student, path)
                    continue
                try:
                    shutil.copyfile(path, os.path.join(target, name), follow_symlinks=False)
                except OSError as exc:
                    self._left_out(student, path, f"unreadable ({exc.strerror})")

    def _left_out(self, student, path, why="not a regular file"):
        self._warn(student, f"left out {path}: {why}")

    def _warn(self, student, what):
        """Log a line naming the student and the notebook; keep it in ``skipped``."""
        line = f"student {student}, notebook {self.coursedir.assignment_id}: {what}"
        self.log.warning(line)
        getattr(self, "skipped", []).append(line)

    def _student_of(self, src) -> str:
        return os.path.basename(src).split("+", 1)[0]


class PrivateSubmit(RegularFilesCopy, ExchangeSubmit):
    """nbgrader's submit: the submission readable by its student and the instructors only."""

    def _student_of(self, src) -> str:
        return self.assignment_filename.split("+", 1)[0]

    def copy_files(self):
        # the student cannot list inbound; the new folder's name is known from init_dest
        path = os.path.join(self.inbound_path, self.assignment_filename)
        try:
            super().copy_files()
        finally:
            # nbgrader has just made the new folder 0777 and its files 0644.
            if os.path.isdir(path) and not os.path.islink(path) and \
                    os.lstat(path).st_uid == os.geteuid():
                self.set_perms(path, fileperms=SUBMISSION_FILE_MODE,
                               dirperms=SUBMISSION_DIR_MODE)


class OwnerCheckedCollect(RegularFilesCopy, ExchangeCollect):
    """nbgrader's collect, taking each student's latest submission *that they own*."""

    def init_src(self):
        """nbgrader's choice of submissions, minus unreadable names and forged folders.

        A folder whose name does not parse (nbgrader stops the whole collect on
        it), that is not owned by the student it names, or that is larger than
        ``max_dir_size`` is skipped with a warning; the student's latest other
        submission counts instead.
        """
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        self.skipped = []
        wanted = self.coursedir.student_id
        student = glob.escape(wanted) if wanted and wanted != "*" else "*"
        assignment = glob.escape(self.coursedir.assignment_id)
        pattern = os.path.join(self.inbound_path, f"{student}+{assignment}+*")
        records = []
        for path in glob.glob(pattern):
            try:
                rec = self._path_to_record(path)
            except Exception:  # noqa: BLE001 - nbgrader raises on a bad name or date
                self._skip(os.path.basename(path).split("+", 1)[0], os.path.basename(path),
                           "not a submission folder name")
                continue
            if not self._owned(rec):
                continue
            size = self.get_size(path)
            if size > 1000 * self.coursedir.max_dir_size:
                self._skip(rec["username"], rec["filename"], f"{size} bytes, more than the "
                           f"{1000 * self.coursedir.max_dir_size} allowed")
                continue
            records.append(rec)
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                duedate = None
        self.src_records = []
        for recs in groupby(records, lambda r: r["username"]).values():
            recs = self._sort_by_timestamp(recs)
            if duedate is not None and self.before_duedate:
                recs = [r for r in recs if r["timestamp"] <= duedate] or recs
            self.src_records.append(recs[0])

    def _skip(self, student, name, why):
        self._warn(student, f"skipped {name}: {why}")

    def _owned(self, rec) -> bool:
        path = os.path.join(self.inbound_path, rec["filename"])
        owner = owner_name(path)
        if owner == rec["username"] and os.path.isdir(path) and not os.path.islink(path):
            return True
        self._skip(rec["username"], rec["filename"],
                   f"owned by {owner}, not by the student it names")
        return False
