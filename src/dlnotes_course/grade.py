"""``dlnotes-grade``: grade a class's submissions of one chapter.

Data flows one way: **submission** (read once, as bytes) → **plan**
(:mod:`~dlnotes_course.plan`) → **sandboxed answers ⇄ tests**
(:mod:`~dlnotes_course.runner`, in a child process of a worker) → **result**
(:mod:`~dlnotes_course.results`) → **outputs** (this module: ``results/``,
``grades.csv``, ``report.txt``, feedback pages, the gradebook).

Layouts accepted for ``SUBMISSIONS``:

- nbgrader's: ``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb`` (the
  ``submitted/`` folder of a course, or a copy of it);
- flat, as exported by an LMS: ``SUBMISSIONS/<student>.ipynb``.

Symbolic links are never followed. Workers are local processes
(``--workers``) or a Dask cluster (``--dask``); either way they only return
results, and this driver alone writes to ``OUT``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import stat
import sys
import time
from concurrent.futures import Executor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .class_report import write_class_report
from .feedback import write_feedback
from .layout import chapters_dir, repo_root, source_path
from .layout import course_dir as default_course_dir
from .results import Check, Outcome, Result, clean
from .similarity import (
    DEFAULT_MIN_TOKENS,
    DEFAULT_THRESHOLD,
    SimilarityOptions,
    class_similarity,
)
from .source import Chapter

__all__ = ["Check", "Result", "Submission", "collect", "grade_folder", "main"]

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$")
CSV_COLUMNS = ("student", "chapter", "score", "max_score", "status", "reason")
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
# The code whose change changes grades: a stored result graded by other code is stale.
GRADING_MODULES = ("grade", "runner", "plan", "results", "source", "wire", "codec", "policy",
                   "sandbox", "student_process")


# -- submissions --------------------------------------------------------------
@dataclass
class Submission:
    """One student's notebook, read once: what is graded is what was validated."""

    student: str
    label: str                  # where it came from, for the report
    data: bytes = b""
    problem: str = ""           # why it cannot be graded ("" if it can)

    @property
    def valid_id(self) -> bool:
        return bool(STUDENT_ID.match(self.student))


def _read_no_follow(path: Path) -> tuple[bytes, str]:
    """The bytes of a regular file, never through a symbolic link; ``(b"", why)`` if not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if path.is_symlink():
            return b"", "is a symbolic link; links in SUBMISSIONS are never followed"
        return b"", f"unreadable file: {exc.strerror or exc}"
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return b"", "not a regular file"
        if st.st_size > MAX_NOTEBOOK_BYTES:
            return b"", f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
        return fh.read(MAX_NOTEBOOK_BYTES + 1), ""


def _found(submissions: Path, chapter: str):
    """``(student, path, problem)`` for every entry of SUBMISSIONS, links not followed."""
    for entry in sorted(submissions.iterdir()):
        if entry.is_symlink():
            yield entry.name.removesuffix(".ipynb"), entry, \
                "is a symbolic link; links in SUBMISSIONS are never followed"
        elif entry.is_dir():
            folder = entry / chapter
            notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() \
                and not folder.is_symlink() else []
            named = [p for p in notebooks if p.stem == chapter]
            path = named[0] if named else (notebooks[0] if len(notebooks) == 1 else None)
            yield entry.name, path, "" if path else (
                f"no {chapter}.ipynb under {entry.name}/{chapter}/" if not notebooks
                else f"several notebooks under {entry.name}/{chapter}/ and none named {chapter}")
        elif entry.suffix == ".ipynb":
            yield entry.stem, entry, ""


def collect(submissions: Path, chapter: str) -> list[Submission]:
    """Every submission in ``submissions``, read once; problems named, never raised.

    A student id that is not ``[A-Za-z0-9_.@-]+`` (or starts with a dot) or
    appears twice is a problem; an id never becomes a path.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {submissions}")
    found = list(_found(submissions, chapter))
    counts: dict[str, int] = {}
    for student, _, _ in found:
        counts[student] = counts.get(student, 0) + 1
    out = []
    for student, path, problem in found:
        label = str(path) if path else f"{submissions}/{student}"
        if not STUDENT_ID.match(student):
            problem = "student id must match [A-Za-z0-9_.@-]+ and not start with a dot"
        elif counts[student] > 1:
            problem = "this student id appears more than once in SUBMISSIONS"
        data = b""
        if not problem:
            data, problem = _read_no_follow(path)
        out.append(Submission(student, label, data, problem))
    return out


def parse_submission(data: bytes, chapter: Chapter) -> tuple[object | None, str]:
    """Parse a submitted notebook's bytes; ``(notebook, "")`` or ``(None, problem)``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"unreadable file: {exc}"
    if not text.strip():
        return None, "empty file"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types for bad JSON/schema
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"not a valid notebook (invalid JSON or schema): {first[:200]}"
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if not ids & set(chapter.points):
        return None, f"not a notebook of chapter {chapter.name}: none of its exercise cells found"
    return nb, ""


# -- one submission, in a worker ------------------------------------------------
_CONTEXTS: dict = {}


def _context(ctx: dict):
    """The chapter and release of a task, parsed once per worker."""
    key = ctx["source_hash"]
    if key not in _CONTEXTS:
        chapter = Chapter.from_notebook(nbformat.reads(ctx["source"], as_version=4),
                                        ctx["chapter"])
        _CONTEXTS.clear()
        _CONTEXTS[key] = (chapter, nbformat.reads(ctx["release"], as_version=4))
    return _CONTEXTS[key]


@functools.cache
def grader_hash() -> str:
    """Hash of the grading code and the installed ``dlnotes`` (checks and reference)."""
    import dlnotes
    here = Path(__file__).resolve().parent
    files = [here / f"{m}.py" for m in GRADING_MODULES]
    files += sorted(Path(dlnotes.__file__).resolve().parent.glob("*.py"))
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def _grade_here(ctx: dict, data: bytes, on_check) -> dict:
    """Grade one submission in this process (the child of :func:`grade_task`)."""
    from dlnotes.checks import is_inplace

    from .plan import make_plan
    from .runner import Limits, grade_plan
    chapter, release = _context(ctx)
    nb, problem = parse_submission(data, chapter)
    if nb is None:
        return Outcome.failed(f"the worker could not read the submission: {problem}").to_dict()
    limits = Limits(**ctx["limits"])
    outcome = grade_plan(make_plan(chapter, nb, release), limits, hide=ctx["hide"],
                         notebook=data, writable=is_inplace, on_check=on_check)
    outcome.grader = grader_hash()
    return outcome.to_dict()


def _worker_init() -> None:
    """Local worker processes die with the driver (no orphan sandboxes)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@functools.cache
def _preload() -> None:
    """Import once per worker what every child needs, so that no child pays for it.

    Children are forked from the worker: torch (which hidden tests use as their
    oracle), the reference and IPython's input transformer are already loaded.
    """
    import importlib
    import pkgutil

    import dlnotes
    for mod in pkgutil.iter_modules(dlnotes.__path__):
        importlib.import_module(f"dlnotes.{mod.name}")
    from .runner import _transformer
    _transformer()
    try:
        import torch  # noqa: F401
    except ImportError:
        pass


def grade_task(ctx: dict, student: str, data: bytes) -> dict:
    """Grade one submission's bytes in a child process of this worker; its outcome.

    The child has a memory limit of its own (``grader_memory_mb`` of address
    space), and one wall clock bounds all it does: past the notebook's wall
    limit it is killed. Checks it finished before dying still count; a
    submission can thus never take the worker, or another student, with it.
    """
    from .child import run_in_child
    _preload()
    return run_in_child(_grade_here, ctx, data, student)


# -- the class -------------------------------------------------------------------
def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name[:80]}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def file_name(student: str) -> str:
    """A file name for a (valid) student id, short enough for any file system."""
    if len(student) <= 100:
        return student
    return f"{student[:60]}-{hashlib.sha256(student.encode()).hexdigest()[:16]}"


def _checkout() -> Path:
    """The repository this package runs from (its solutions must stay hidden too)."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "solutions").is_dir() else Path(repo_root()).resolve()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Options:
    """How to grade: limits, where workers run, where grades go."""

    course: Path | None = None
    root: Path | None = None
    cell_timeout: float = 30
    memory_mb: int = 2048
    grader_memory_mb: int = 4096
    workers: int | None = None
    db_url: str | None = None
    dask: object = None          # a scheduler address or a dask.distributed Client
    regrade: bool = False
    sandbox: bool = True
    progress: object = None      # called with each Result as it is graded
    similarity: SimilarityOptions | None = None   # adds similar answers to the class report

    def limits(self) -> dict:
        return {"cell_timeout": float(self.cell_timeout), "memory_mb": int(self.memory_mb),
                "grader_memory_mb": int(self.grader_memory_mb), "sandbox": bool(self.sandbox)}


@contextmanager
def _executor(options: Options):
    """A ``concurrent.futures.Executor``: local processes, or Dask's on a scheduler."""
    if options.dask is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        pool = ProcessPoolExecutor(max_workers=max(1, int(options.workers or os.cpu_count() or 1)),
                                   initializer=_worker_init,
                                   mp_context=multiprocessing.get_context("fork"))
        with pool:
            yield pool
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError("--dask needs dask.distributed: pip install 'dlnotes[cluster]'") \
            from None
    own = isinstance(options.dask, str)
    client = Client(options.dask, timeout=30) if own else options.dask
    try:
        with client.get_executor(pure=False) as executor:
            yield executor
    finally:
        if own:
            client.close()


class ClassGrading:
    """One run of ``dlnotes-grade``: what to grade, what is stored, what to write."""

    def __init__(self, chapter: str, submissions: Path, out: Path, options: Options):
        self.name, self.submissions, self.out, self.o = chapter, Path(submissions), Path(out), \
            options
        self.chapter = Chapter.load(chapter, options.root)
        release_path = chapters_dir(options.root) / f"{chapter}.ipynb"
        if not release_path.exists():
            raise ValueError(f"no release {release_path}: run dlnotes-release {chapter}")
        release_text = self.release_text = release_path.read_text(encoding="utf-8")
        self.points = self.chapter.points
        self.course = Path(options.course or default_course_dir(options.root)).resolve()
        self.db_url = options.db_url or f"sqlite:///{self.course / 'gradebook.db'}"
        try:
            from sqlalchemy.engine import make_url
            make_url(self.db_url)
        except Exception as exc:  # noqa: BLE001 - ArgumentError and friends
            raise ValueError(f"--db must be an SQLAlchemy URL, got {self.db_url!r} ({exc})") \
                from None
        source_hash = _sha(source_path(chapter, options.root).read_bytes()
                           + release_text.encode())
        self.grader = grader_hash()
        self.ctx = {"chapter": chapter, "source": nbformat.writes(self.chapter.notebook),
                    "release": release_text, "source_hash": source_hash,
                    "limits": options.limits(),
                    "hide": sorted({str(p) for p in (Path(options.root or repo_root()).resolve(),
                                                     _checkout(), self.course,
                                                     self.submissions.resolve(),
                                                     self.out.resolve())})}
        self.results: dict[str, Result] = {}
        self.graded_bytes: dict[str, bytes] = {}   # valid submissions, as read

    # -- resume -------------------------------------------------------------------
    def key(self, sub: Submission, grader: str) -> str:
        """What a stored result must match to be reused."""
        return _sha(json.dumps([self.name, self.ctx["source_hash"], _sha(sub.data),
                                self.ctx["limits"], grader]).encode())

    def _sandbox_expected(self) -> bool:
        from .sandbox import bwrap_problem
        return bool(self.o.sandbox) and not bwrap_problem()

    def stored(self, sub: Submission) -> dict | None:
        path = self.out / "results" / f"{file_name(sub.student)}.json"
        if self.o.regrade or not path.exists():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            outcome = saved["outcome"]
            if saved.get("student") == sub.student \
                    and saved.get("key") == self.key(sub, self.grader) \
                    and outcome.get("sandboxed") == self._sandbox_expected():
                return outcome
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return None

    def store(self, sub: Submission, outcome: dict) -> None:
        if outcome.get("grader_error"):
            return   # the grader's own failure: grade it again next time
        key = self.key(sub, outcome.get("grader") or self.grader)
        _write_atomic(self.out / "results" / f"{file_name(sub.student)}.json",
                      json.dumps({"key": key, "student": sub.student, "outcome": outcome}))

    # -- grading --------------------------------------------------------------------
    def run(self) -> list[Result]:
        jobs = []
        for sub in collect(self.submissions, self.name):
            if not sub.problem:
                _, sub.problem = parse_submission(sub.data, self.chapter)
            if sub.problem:
                self.results[sub.student + "\0" + sub.label] = Result.invalid(
                    sub.student, self.name, sub.label, self.points, sub.problem)
                continue
            self.graded_bytes[sub.student] = sub.data
            outcome = self.stored(sub)
            if outcome is not None:
                self._record(sub, outcome, graded_now=False)
            else:
                jobs.append(sub)
        for _ in range(3):    # a broken pool is replaced, and what it held graded again
            if not jobs:
                break
            jobs = self._grade(jobs)
        for sub in jobs:
            self._record(sub, Outcome.failed("the grading worker died twice on a fresh pool; "
                                             "run the same command again").to_dict())
        return [self.results[k] for k in sorted(self.results)]

    def _grade(self, jobs: list[Submission]) -> list[Submission]:
        """Grade ``jobs``; return those a broken worker pool lost."""
        lost = []
        bar = _progress_bar(len(jobs))
        try:
            with _executor(self.o) as executor:
                executor: Executor
                futures = {executor.submit(grade_task, self.ctx, s.student, s.data): s
                           for s in jobs}
                for fut in as_completed(futures):
                    sub = futures[fut]
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        lost.append(sub)
                        continue
                    except Exception as exc:  # noqa: BLE001 - that row, not the run
                        outcome = Outcome.failed("the grading worker failed: "
                                                 f"{type(exc).__name__}: {exc}").to_dict()
                    self.store(sub, outcome)
                    self._record(sub, outcome)
                    if bar is not None:
                        bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return lost

    def _record(self, sub: Submission, outcome: dict, graded_now: bool = True) -> None:
        result = Result.from_outcome(sub.student, self.name, sub.label, self.points, outcome)
        self.results[sub.student] = result
        if self.o.progress and graded_now:
            self.o.progress(result)

    # -- outputs --------------------------------------------------------------------
    def write(self, results: list[Result]) -> None:
        write_outputs(results, self.out)
        similar = None if self.o.similarity is None else class_similarity(
            self.graded_bytes, self.chapter, self.release_text, self.o.similarity)
        write_class_report(results, self.out, chapter=self.name, similarity=similar)
        from .gradebook import record_results
        sqlite = self.db_url.removeprefix("sqlite:///") if self.db_url.startswith("sqlite:///") \
            else None
        if sqlite:
            Path(sqlite).parent.mkdir(parents=True, exist_ok=True)
        record_results(self.db_url, self.name, self.chapter, results)
        _hand_back(self.course, [self.out] + ([Path(sqlite)] if sqlite else []))


def grade_folder(chapter: str, submissions: Path, out: Path, course: Path | None = None,
                 **options) -> list[Result]:
    """Grade every submission of ``chapter`` in ``submissions``; write ``out``.

    ``options`` are the fields of :class:`Options`. Returns one :class:`Result`
    per submission found, in student order.
    """
    grading = ClassGrading(chapter, submissions, out, Options(course=course, **options))
    results = grading.run()
    grading.write(results)
    return results


def _hand_back(course: Path, paths) -> None:
    """Run as root on an instructor's course, leave what was written to the instructor.

    (The sandbox needs root for its cgroups; the instructor must still be able
    to release the feedback and update the gradebook afterwards.)
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not course.is_dir():
        return
    st = course.stat()
    if st.st_uid == 0:
        return
    for top in paths:
        if not top.exists() or not top.resolve().is_relative_to(course):
            continue
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            if not path.is_symlink():
                os.chown(path, st.st_uid, st.st_gid)


def _progress_bar(total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="submission", file=sys.stderr)


def write_outputs(results: list[Result], out: Path) -> None:
    """Write ``grades.csv``, ``report.txt`` and one feedback page per student.

    Every student-controlled text is cleaned (:func:`~dlnotes_course.results.clean`):
    it can never start a line of the report or a row or column of the CSV.
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in results:
            writer.writerow(r.row())
    lines = [f"WARNING\t{clean(w)}" for w in sorted({r.warning for r in results if r.warning})]
    for r in results:
        who = f"{clean(r.student)}\t{clean(r.notebook)}"
        if r.status != "graded":
            lines.append(f"{who}\t{r.status}: {clean(r.reason)}")
        lines += [f"{who}\t{c.grade_id}: {clean(c.message)}" for c in r.checks
                  if not c.passed and r.status != "invalid"]
    (out / "report.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    for r in results:
        if STUDENT_ID.match(r.student):
            write_feedback(r, out / "feedback" / f"{file_name(r.student)}.html")


def _parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="dlnotes-grade",
        description="Grade a folder of submissions of one chapter, sandboxed, in parallel.")
    parser.add_argument("chapter", help="chapter id, e.g. 01_metrics")
    parser.add_argument("submissions", type=Path, help="folder of submissions (see layouts)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--workers", type=int, default=None,
                        help="grading processes on this machine (default: number of cores)")
    parser.add_argument("--timeout", type=float, default=30,
                        help="seconds per cell (default 30); a notebook may run 10x that")
    parser.add_argument("--memory", type=int, default=2048,
                        help="memory of one submission's process and children, MB (default 2048)")
    parser.add_argument("--db", default=None,
                        help="gradebook SQLAlchemy URL (default: sqlite in the course directory)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="grade on a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--regrade", action="store_true",
                        help="grade everything again, ignoring stored results")
    parser.add_argument("--course", type=Path, default=None,
                        help="nbgrader course directory (default autograder/course)")
    parser.add_argument("--similarity", action="store_true",
                        help="add pairs of students with similar answers to class_report.html")
    parser.add_argument("--similarity-threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="share of one student's answers found in the other's that makes "
                             f"a pair (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--similarity-min-tokens", type=int, default=DEFAULT_MIN_TOKENS,
                        help="answers shorter than this (token characters) are not compared "
                             f"(default {DEFAULT_MIN_TOKENS})")
    return parser


def main(argv=None) -> int:
    """``dlnotes-grade CHAPTER SUBMISSIONS --out DIR [options]``.

    Exit status: 0 when every submission got a row; 1 when the gradebook could
    not be written (the results are kept: run the same command again); 2 with a
    one-line error when the grader cannot run.
    """
    args = _parser().parse_args(argv)
    for name in ("timeout", "memory"):
        if getattr(args, name) <= 0:
            print(f"dlnotes-grade: --{name} must be positive", file=sys.stderr)
            return 2
    if args.workers is not None and args.workers < 1:
        print("dlnotes-grade: --workers must be at least 1", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        results = grade_folder(args.chapter, args.submissions, args.out, args.course,
                               cell_timeout=args.timeout, workers=args.workers,
                               memory_mb=args.memory, db_url=args.db, dask=args.dask,
                               regrade=args.regrade,
                               similarity=SimilarityOptions(args.similarity_threshold,
                                                            args.similarity_min_tokens)
                               if args.similarity else None)
    except (ValueError, OSError) as exc:
        print(f"dlnotes-grade: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - e.g. the gradebook server refused us
        from sqlalchemy.exc import SQLAlchemyError
        if not isinstance(exc, SQLAlchemyError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"dlnotes-grade: could not write the gradebook ({first}); the results are "
              f"kept in {args.out / 'results'}: run the same command again", file=sys.stderr)
        return 1
    failed = sum(r.status != "graded" for r in results)
    for w in sorted({r.warning for r in results if r.warning}):
        print(f"dlnotes-grade: WARNING: {w}", file=sys.stderr)
    print(f"graded {len(results) - failed}, failed {failed}, "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
