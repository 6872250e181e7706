"""``dlnotes-grade``: grade a class's submissions of one chapter.

Layouts accepted for ``SUBMISSIONS``:

- nbgrader's: ``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb`` (the
  ``submitted/`` folder of a course, or a copy of it);
- flat, as exported by an LMS: ``SUBMISSIONS/<student>.ipynb``.

Each submission is graded in a sandbox (:mod:`dlnotes_course.runner`): its
answers run in a sandboxed student process, the instructor's test cells run in
a grader worker next to the reference. Workers are local processes
(``--workers``) or a Dask cluster (``--dask``); either way they only return
results, and this driver alone writes to ``OUT``:

- ``results/<student>.json``: one result per submission, written atomically
  and keyed by the chapter, the hash of the instructor source and the hash of
  the submission, so that a run started again grades only what is missing or
  changed (``--regrade`` forces all);
- ``grades.csv``: ``student,chapter,score,max_score,status,reason``;
- ``feedback/<student>.html``: every check with its teaching message, never
  the code of a test;
- ``report.txt``: one line per problem, naming the student, the notebook and
  the check;

and the gradebook (nbgrader's database; SQLite in the course directory by
default, any SQLAlchemy URL with ``--db``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .class_report import write_class_report
from .feedback import write_feedback
from .layout import chapters_dir, repo_root, source_path
from .layout import course_dir as default_course_dir
from .similarity import (
    DEFAULT_MIN_TOKENS,
    DEFAULT_THRESHOLD,
    SimilarityOptions,
    class_similarity,
)
from .source import load_chapter

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$")
CSV_COLUMNS = ("student", "chapter", "score", "max_score", "status", "reason")
# Bump when grading changes in a way that must invalidate stored results.
GRADER_VERSION = "2"


@dataclass
class Check:
    """One graded cell: its id, points and, if it failed, the message."""

    grade_id: str
    score: float
    max_score: float
    message: str = ""
    mistake: str = ""       # the known mistake the failure matched (dlnotes.checks), or ""
    seconds: float = 0.0    # time the check's cell took

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class Result:
    """The outcome for one submission (one row of ``grades.csv``)."""

    student: str
    chapter: str
    score: float
    max_score: float
    status: str
    reason: str = ""
    notebook: str = ""
    checks: list[Check] = field(default_factory=list)
    warning: str = ""
    seconds: float = 0.0    # grading time of the submission

    @property
    def valid_id(self) -> bool:
        return bool(STUDENT_ID.match(self.student))

    def row(self) -> dict:
        return {"student": self.student, "chapter": self.chapter,
                "score": f"{self.score:g}", "max_score": f"{self.max_score:g}",
                "status": self.status, "reason": self.reason}


def chapter_checks(source_nb) -> dict[str, float]:
    """``{grade_id: points}`` of every graded cell of the instructor notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def collect(submissions: Path, chapter: str) -> list[tuple[str, Path | None, str]]:
    """List ``(student, notebook_path, problem)`` for every submission found.

    ``problem`` is empty for a submission that can be graded. A student id that
    is not ``[A-Za-z0-9_.@-]+`` (or starts with a dot) or appears twice is a
    problem; it never becomes a path.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder, got {submissions}")
    found: list[tuple[str, Path | None, str]] = []
    for entry in sorted(submissions.iterdir()):
        if entry.is_dir():
            notebooks = sorted((entry / chapter).glob("*.ipynb")) if (entry / chapter).is_dir() \
                else []
            named = [p for p in notebooks if p.stem == chapter]
            path = named[0] if named else (notebooks[0] if len(notebooks) == 1 else None)
            problem = "" if path else (
                f"no {chapter}.ipynb under {entry.name}/{chapter}/" if not notebooks
                else f"several notebooks under {entry.name}/{chapter}/ and none named {chapter}")
            found.append((entry.name, path, problem))
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry, ""))
    counts: dict[str, int] = {}
    for student, _, _ in found:
        counts[student] = counts.get(student, 0) + 1
    checked = []
    for student, path, problem in found:
        if not STUDENT_ID.match(student):
            problem = "student id must match [A-Za-z0-9_.@-]+ and not start with a dot"
        elif counts[student] > 1:
            problem = "this student id appears more than once in SUBMISSIONS"
        checked.append((student, path, problem))
    return checked


def read_submission(path: Path, chapter: str, grade_ids) -> tuple[object | None, str]:
    """Parse a submitted notebook; return ``(notebook, "")`` or ``(None, problem)``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable file: {exc}"
    if not text.strip():
        return None, "empty file"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for bad JSON/schema
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"not a valid notebook (invalid JSON or schema): {first[:200]}"
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if not ids & set(grade_ids):
        return None, f"not a notebook of chapter {chapter}: none of its exercise cells found"
    return nb, ""




# -- one submission, in a worker --------------------------------------------
_CONTEXTS: dict = {}


def _worker_init() -> None:
    """Local worker processes die with the driver (no orphan sandboxes)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _context(ctx: dict):
    key = ctx["source_hash"]
    if key not in _CONTEXTS:
        from .plan import demo_cell_ids, source_steps
        source = nbformat.reads(ctx["source"], as_version=4)
        release = nbformat.reads(ctx["release"], as_version=4)
        _CONTEXTS.clear()
        _CONTEXTS[key] = (source_steps(source), release, demo_cell_ids(source))
    return _CONTEXTS[key]


def grade_task(ctx: dict, student: str, data: bytes) -> dict:
    """Grade one submission's bytes; runs in a worker (local or Dask)."""
    from .plan import make_plan
    from .runner import Limits, grade_plan
    steps, release, demo_ids = _context(ctx)
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    plan = make_plan(steps, nb, release, demo_ids)
    limits = Limits(cell_timeout=ctx["timeout"], memory_mb=ctx["memory_mb"],
                    sandbox=ctx["sandbox"])
    try:
        outcome = grade_plan(plan, limits, hide=ctx["hide"], notebook=data).to_dict()
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the class
        outcome = _crashed(f"the grader failed on this submission: {type(exc).__name__}: {exc}")
    return outcome


def _crashed(why: str) -> dict:
    """The outcome of a submission the grader itself could not finish."""
    return {"checks": [], "status": "crashed", "flags": [], "warning": "",
            "reasons": [why[:300]], "seconds": 0.0}


def _result(student, chapter, label, checks: dict[str, float], outcome: dict) -> Result:
    got = {c["grade_id"]: c for c in outcome.get("checks", [])}
    rows = []
    for gid, points in checks.items():
        c = got.get(gid, {"score": 0.0, "message": "not graded"})
        rows.append(Check(gid, float(c["score"]), points, c.get("message", ""),
                          c.get("mistake", ""), float(c.get("seconds", 0.0))))
    return Result(student, chapter, sum(c.score for c in rows), sum(checks.values()),
                  outcome.get("status", "crashed"), "; ".join(outcome.get("reasons", [])),
                  label, rows, outcome.get("warning", ""), float(outcome.get("seconds", 0.0)))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _checkout() -> Path:
    """The repository this package runs from (its solutions must stay hidden too)."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "solutions").is_dir() else Path(repo_root()).resolve()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _LocalExecutor:
    """A process pool whose workers die with the driver."""

    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                                        mp_context=multiprocessing.get_context("fork"))

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args)

    def shutdown(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskExecutor:
    """Dask's ``concurrent.futures`` executor on an existing scheduler."""

    def __init__(self, address):
        try:
            from dask.distributed import Client
        except ImportError:
            raise ValueError("--dask needs dask.distributed: pip install 'dlnotes[cluster]'") \
                from None
        self.client = address if not isinstance(address, str) else Client(address, timeout=30)
        self._own = isinstance(address, str)
        self.executor = self.client.get_executor(pure=False)

    def submit(self, fn, *args):
        return self.executor.submit(fn, *args)

    def shutdown(self):
        self.executor.shutdown(wait=True)
        if self._own:
            self.client.close()


def grade_folder(chapter: str, submissions: Path, out: Path, course: Path | None = None,
                 cell_timeout: float = 30, root: Path | None = None, progress=None,
                 workers: int | None = None, memory_mb: int = 2048, db_url: str | None = None,
                 dask=None, regrade: bool = False, sandbox: bool = True,
                 similarity: SimilarityOptions | None = None) -> list[Result]:
    """Grade every submission of ``chapter`` in ``submissions``; write ``out``.

    Returns one :class:`Result` per submission found, in student order.
    ``dask`` is a scheduler address (or a ``dask.distributed.Client``).
    ``similarity`` adds the similar-answers section to the class report.
    """
    out = Path(out)
    submissions = Path(submissions)
    source_nb = load_chapter(chapter, root)
    release_path = chapters_dir(root) / f"{chapter}.ipynb"
    if not release_path.exists():
        raise ValueError(f"no release {release_path}: run dlnotes-release {chapter}")
    release_text = release_path.read_text(encoding="utf-8")
    checks = chapter_checks(source_nb)
    max_score = sum(checks.values())
    course = Path(course or default_course_dir(root)).resolve()
    db_url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    try:
        from sqlalchemy.engine import make_url
        make_url(db_url)
    except Exception as exc:  # noqa: BLE001 - ArgumentError and friends
        raise ValueError(f"--db must be an SQLAlchemy URL, got {db_url!r} ({exc})") from None
    source_text = source_path(chapter, root).read_bytes()
    source_hash = _sha(GRADER_VERSION.encode() + source_text + release_text.encode())
    ctx = {"source": nbformat.writes(source_nb), "release": release_text,
           "source_hash": source_hash, "timeout": float(cell_timeout),
           "memory_mb": int(memory_mb), "sandbox": bool(sandbox),
           "hide": sorted({str(p) for p in (Path(root or repo_root()).resolve(), _checkout(),
                                             course, submissions.resolve(), out.resolve())})}
    results: dict[str, Result] = {}
    jobs = []
    for student, path, problem in collect(submissions, chapter):
        label = str(path) if path else f"{submissions}/{student}"
        data = b""
        if not problem:
            try:
                data = path.read_bytes()
            except OSError as exc:
                problem = f"unreadable file: {exc.strerror or exc}"
        if not problem:
            nb, problem = read_submission(path, chapter, checks)
        if problem:
            results[student + "\0" + label] = Result(
                student, chapter, 0.0, max_score, "invalid", problem, label,
                [Check(g, 0.0, p, "not graded") for g, p in checks.items()])
            continue
        key = f"{chapter}:{source_hash}:{_sha(data)}"
        stored = out / "results" / f"{student}.json"
        if not regrade and stored.exists():
            try:
                saved = json.loads(stored.read_text(encoding="utf-8"))
                if saved.get("key") == key:
                    results[student] = _result(student, chapter, label, checks,
                                               saved["outcome"])
                    continue
            except (OSError, ValueError, KeyError, TypeError):
                pass
        jobs.append((student, label, key, data))

    if jobs:
        if dask is not None:
            executor = _DaskExecutor(dask)
        else:
            executor = _LocalExecutor(max(1, int(workers or os.cpu_count() or 1)))
        bar = _progress_bar(len(jobs))
        try:
            futures = {executor.submit(grade_task, ctx, s, d): (s, label, key)
                       for s, label, key, d in jobs}
            for fut in as_completed(futures):
                student, label, key = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker died: that row, not the run
                    outcome = _crashed(f"the grading worker failed: {type(exc).__name__}: {exc}")
                if outcome.get("status") != "crashed" or outcome.get("checks"):
                    _write_atomic(out / "results" / f"{student}.json",
                                  json.dumps({"key": key, "student": student,
                                              "outcome": outcome}))
                results[student] = _result(student, chapter, label, checks, outcome)
                if bar is not None:
                    bar.update(1)
                if progress:
                    progress(results[student])
        finally:
            if bar is not None:
                bar.close()
            executor.shutdown()

    ordered = [results[k] for k in sorted(results)]
    write_outputs(ordered, out)
    write_class_report(ordered, out, chapter=chapter, similarity=None if similarity is None
                       else class_similarity(ordered, source_nb, release_text, similarity))
    from .gradebook import record_results
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    record_results(db_url, chapter, source_nb, ordered)
    if db_url.startswith("sqlite:///"):
        _hand_back(course, [out, Path(db_url.removeprefix("sqlite:///"))])
    else:
        _hand_back(course, [out])
    return ordered


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
    """Write ``grades.csv``, ``report.txt`` and one feedback page per student."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in results:
            writer.writerow(r.row())
    lines = []
    warnings_ = sorted({r.warning for r in results if r.warning})
    lines += [f"WARNING\t{w}" for w in warnings_]
    for r in results:
        if r.status != "graded":
            lines.append(f"{r.student}\t{r.notebook}\t{r.status}: {r.reason}")
        for c in r.checks:
            if not c.passed and r.status != "invalid":
                lines.append(f"{r.student}\t{r.notebook}\t{c.grade_id}: {c.message}")
    (out / "report.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    for r in results:
        if STUDENT_ID.match(r.student):
            write_feedback(r, out / "feedback" / f"{r.student}.html")




def main(argv=None) -> int:
    """``dlnotes-grade CHAPTER SUBMISSIONS --out DIR [options]``."""
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
    args = parser.parse_args(argv)
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
                               args.timeout, workers=args.workers, memory_mb=args.memory,
                               db_url=args.db, dask=args.dask, regrade=args.regrade,
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
