"""``dlnotes-course``: run a class on a JupyterHub through nbgrader's exchange.

The loop, and who runs each step (``docs/course.md`` has the whole setup)::

    dlnotes-course exchange --root /srv/nbgrader/exchange --course-id dlnotes \\
                            --instructor teacher                    # root, once
    dlnotes-course init ~/course --exchange /srv/nbgrader/exchange \\
                        --course-id dlnotes                         # instructor, once
    dlnotes-course release 01_metrics     # instructor: a stamped release into the exchange
    #   students: Fetch, work, Submit (nbgrader's Assignments tab)
    dlnotes-course collect 01_metrics     # instructor: latest own submission of each student
    dlnotes-grade 01_metrics ~/course/submitted --out ~/course/grades/01_metrics \\
                  --course ~/course        # wherever bwrap and cgroups are (root, or Dask)
    dlnotes-course feedback 01_metrics    # instructor: our feedback pages into the exchange
    #   students: Fetch Feedback

The course folder's ``nbgrader_config.py`` (written by ``init``) is the one
place the course id and exchange root are kept; nbgrader's own command line
and formgrader read the same file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

CONFIG_TEMPLATE = '''"""this course's nbgrader configuration, by ``dlnotes-course init``."""

from pathlib import Path

from dlnotes_course.course import course_config

c = get_config()  # noqa: F821
c.merge(course_config(Path(__file__).resolve().parent, exchange={exchange!r},
                      course_id={course_id!r}))
'''


def course_config(course: Path, exchange: str, course_id: str):
    """nbgrader's configuration for ``course`` on the exchange at ``exchange``."""
    from .exchange import COLLECT_CLASS, SUBMIT_CLASS
    from .nbgrader_setup import nbgrader_config

    c = nbgrader_config(Path(course))
    c.CourseDirectory.course_id = course_id
    c.Exchange.root = str(exchange)
    c.ExchangeFactory.collect = COLLECT_CLASS
    c.ExchangeFactory.submit = SUBMIT_CLASS
    return c


def load_course(course: Path):
    """The configuration in ``course/nbgrader_config.py``; ``ValueError`` if it is not a course."""
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course).expanduser().resolve()
    if not (course / "nbgrader_config.py").is_file():
        raise ValueError(f"--course must be a folder made by `dlnotes-course init`; "
                         f"{course} has no nbgrader_config.py")
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def _api(course: Path, **extra):
    from nbgrader.apps import NbGraderAPI

    from .nbgrader_setup import scripts_on_path

    config = load_course(course)
    for section, values in extra.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    scripts_on_path()
    return NbGraderAPI(config=config)


def _check(result: dict, what: str) -> str:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")
    return result.get("log", "")


def init(course: Path, exchange: Path, course_id: str) -> Path:
    """Create the course folder and its ``nbgrader_config.py``; return the config path."""
    from .exchange import check_course_id, check_exchange

    check_course_id(course_id)
    course = Path(course).expanduser().resolve()
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    config.write_text(CONFIG_TEMPLATE.format(exchange=str(exchange), course_id=course_id))
    for problem in check_exchange(Path(exchange), course_id):
        print(f"WARNING: exchange {problem} (run `dlnotes-course exchange` as root)",
              file=sys.stderr)
    return config


def release(chapter: str, course: Path, root: Path | None = None) -> dict:
    """Generate ``chapter``'s student version in ``course``, stamp it, publish it.

    Refuses a source that breaks the test-naming rule and a release that leaks
    solutions or hidden tests (:func:`~dlnotes_course.release.checked_release`).
    Returns the version.
    Publishing again replaces the exchange's copy; students who already fetched
    keep theirs (nbgrader's fetch never overwrites).
    """
    from .release import checked_release, release_version, stamp_version

    course = Path(course).expanduser().resolve()
    load_course(course)  # a clear error before any work
    checked_release(chapter, course, root)
    version = release_version(chapter, root)
    path = course / "release" / chapter / f"{chapter}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.write(stamp_version(nb, version), path)
    _check(_api(course, ExchangeReleaseAssignment={"force": True}).release_assignment(chapter),
           "release_assignment")
    return version


def collect(chapter: str, course: Path) -> list[str]:
    """Collect the latest submission of ``chapter`` each student owns; return warnings.

    Each warning names the student, the notebook and what was skipped (a
    forged or oversized folder, a link or unreadable file left out).
    """
    from nbgrader.exchange import ExchangeError

    api = _api(course)
    api.coursedir.assignment_id = chapter
    app = api.exchange.Collect(coursedir=api.coursedir, authenticator=api.authenticator,
                               parent=api)
    app.update = True
    try:
        app.start()
    except ExchangeError as exc:
        raise RuntimeError(f"nbgrader collect failed: {exc}") from None
    return list(getattr(app, "skipped", []))


def feedback(chapter: str, course: Path, grades: Path) -> list[str]:
    """Release the feedback pages ``dlnotes-grade`` wrote in ``grades/feedback``.

    Each page goes to ``course/feedback/<student>/<chapter>/<chapter>.html`` beside
    the submission's timestamp and secret (how nbgrader's exchange names it so
    that only that student's fetch finds it), then into the exchange. Returns
    the students whose feedback was released.
    """
    from .collect import STUDENT_ID

    course = Path(course).expanduser().resolve()
    load_course(course)
    pages = Path(grades) / "feedback"
    if not pages.is_dir():
        raise ValueError(f"--grades must be the --out folder of dlnotes-grade; "
                         f"{pages} does not exist")
    released = []
    for page in sorted(pages.glob("*.html")):
        student = page.stem
        submitted = course / "submitted" / student / chapter
        if not STUDENT_ID.match(student) or not (submitted / "timestamp.txt").is_file():
            print(f"feedback: student {student}, notebook {chapter}: no collected submission "
                  f"in {submitted}; not released", file=sys.stderr)
            continue
        target = course / "feedback" / student / chapter
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target / f"{chapter}.html")
        for name in ("timestamp.txt", "submission_secret.txt"):
            if (submitted / name).is_file():
                shutil.copyfile(submitted / name, target / name)
        released.append(student)
    if released:
        _check(_api(course).release_feedback(chapter), "release_feedback")
    return released


def main(argv=None) -> int:
    """``dlnotes-course``: publish chapters, collect submissions, return feedback."""
    parser = argparse.ArgumentParser(prog="dlnotes-course", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("exchange", help="create or repair the exchange (as root)")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--course-id", required=True)
    p.add_argument("--instructor", required=True, help="the instructor's user name")
    p = sub.add_parser("init", help="create a course folder")
    p.add_argument("course", type=Path)
    p.add_argument("--exchange", type=Path, required=True)
    p.add_argument("--course-id", required=True)
    for name, text in (("release", "publish a chapter"), ("collect", "collect submissions"),
                       ("feedback", "release feedback pages")):
        p = sub.add_parser(name, help=text)
        p.add_argument("chapter")
        p.add_argument("--course", type=Path, default=Path("~/course"),
                       help="course folder (default ~/course)")
        if name == "feedback":
            p.add_argument("--grades", type=Path, default=None,
                           help="dlnotes-grade's --out (default COURSE/grades/CHAPTER)")
    args = parser.parse_args(argv)
    try:
        if args.command == "exchange":
            from .exchange import prepare_exchange

            for line in prepare_exchange(args.root, args.course_id, args.instructor):
                print(line)
            print(f"exchange {args.root}/{args.course_id} ready")
        elif args.command == "init":
            print(f"wrote {init(args.course, args.exchange, args.course_id)}")
        elif args.command == "release":
            from .release import version_label

            version = release(args.chapter, args.course)
            print(f"released {args.chapter}: {version_label(version)}")
        elif args.command == "collect":
            for line in collect(args.chapter, args.course):
                print(f"WARNING: {line}")
            print(f"collected {args.chapter} into {args.course.expanduser()}/submitted")
        elif args.command == "feedback":
            grades = args.grades or args.course.expanduser() / "grades" / args.chapter
            students = feedback(args.chapter, args.course, grades)
            print(f"released feedback of {args.chapter} to {len(students)} students")
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"dlnotes-course {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
