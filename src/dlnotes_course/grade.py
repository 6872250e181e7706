"""``dlnotes-grade``: grade a class's submissions of one chapter.

Data flows one way, a module per step: **submission** (:mod:`~dlnotes_course.collect`,
read once, as bytes) → **plan** (:mod:`~dlnotes_course.plan`) → **sandboxed answers
⇄ tests** (:mod:`~dlnotes_course.worker` forks a :mod:`~dlnotes_course.child` per
submission, which runs :mod:`~dlnotes_course.runner`) → **result**
(:mod:`~dlnotes_course.results`) → **outputs** (:mod:`~dlnotes_course.outputs`, the
gradebook and the class report). This module is the driver: what to grade, what is
stored for resume, which executor runs the workers, and the command line.

Layouts accepted for ``SUBMISSIONS``:

- nbgrader's: ``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb`` (the
  ``submitted/`` folder of a course, or a copy of it);
- flat, as exported by an LMS: ``SUBMISSIONS/<student>.ipynb``.

Symbolic links are never followed. Workers are local processes
(``--workers``) or a Dask cluster (``--dask``); either way they only return
results, and this driver alone writes to ``OUT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import Executor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import worker
from .class_report import write_class_report
from .collect import STUDENT_ID, Submission, collect, parse_submission
from .layout import chapters_dir, repo_root, source_path
from .layout import course_dir as default_course_dir
from .outputs import file_name, hand_back, write_atomic, write_outputs
from .results import Check, Outcome, Result
from .sandbox import sandboxed
from .similarity import (
    DEFAULT_MIN_TOKENS,
    DEFAULT_THRESHOLD,
    SimilarityOptions,
    class_similarity,
)
from .source import Chapter

__all__ = ["STUDENT_ID", "Check", "Result", "Submission", "collect", "file_name",
           "grade_folder", "main", "write_outputs"]


# -- the class -------------------------------------------------------------------
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
                                   initializer=worker.worker_init,
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
        self.grader = worker.grader_hash()
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

    def stored(self, sub: Submission) -> dict | None:
        path = self.out / "results" / f"{file_name(sub.student)}.json"
        if self.o.regrade or not path.exists():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            outcome = saved["outcome"]
            if saved.get("student") == sub.student \
                    and saved.get("key") == self.key(sub, self.grader) \
                    and outcome.get("sandboxed") == sandboxed(self.o.sandbox):
                return outcome
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return None

    def store(self, sub: Submission, outcome: dict) -> None:
        if outcome.get("grader_error"):
            return   # the grader's own failure: grade it again next time
        key = self.key(sub, outcome.get("grader") or self.grader)
        write_atomic(self.out / "results" / f"{file_name(sub.student)}.json",
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
                futures = {executor.submit(worker.grade_task, self.ctx, s.student, s.data): s
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
        hand_back(self.course, [self.out] + ([Path(sqlite)] if sqlite else []))


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


def _progress_bar(total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="submission", file=sys.stderr)


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
