"""Benchmark class grading: dlnotes-grade against serial nbgrader and the floor.

Grades one generated class of the metrics chapter (correct, partly wrong,
blank, one endless loop) in one run, side by side:

- plain nbgrader autograde, serial (the spine's grader: ``NbGraderAPI.autograde``
  per student, demo cells skipped), on the first ``--nbgrader`` submissions;
- ``dlnotes-grade`` with 1 and 2 local workers, and on a 2-worker Dask
  LocalCluster;
- the floor: the instructor notebook's answer and test cells executed once
  with nbclient in a fresh kernel, no grading (median of 3).

Run by ``make bench``; prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dlnotes_course.grade import grade_folder
from dlnotes_course.layout import chapters_dir
from dlnotes_course.nbgrader_setup import nbgrader_api
from dlnotes_course.release import generate
from dlnotes_course.site import ipc_kernels
from dlnotes_course.source import is_demo, load_chapter
from dlnotes_course.submissions import answered

LOOP = "def precision(y_true, y_pred):\n    while True:\n        pass\n"


def make_class(chapter: str, n: int, folder: Path) -> None:
    """``n`` submissions: 40% correct, 40% one exercise wrong, 20% blank, one loop."""
    from planted import mistakes
    source = load_chapter(chapter)
    release = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
    planted = mistakes(chapter)
    folder.mkdir(parents=True)
    for i in range(n):
        if i == n // 2:
            nb = answered(release, source, {"precision": LOOP})
        elif i % 5 in (0, 1):
            nb = answered(release, source)
        elif i % 5 in (2, 3):
            m = planted[i % len(planted)]
            nb = answered(release, source, {m["cell"]: m["source"]})
        else:
            nb = release
        nbformat.write(nb, folder / f"student{i:03d}.ipynb")


def floor(chapter: str, work: Path) -> float:
    """Seconds to execute the answer and test cells once in a fresh kernel."""
    source = load_chapter(chapter)
    nb = nbformat.v4.new_notebook(metadata=source.metadata)
    nb.cells = [c for c in source.cells if c.cell_type == "code" and not is_demo(c)]
    times = []
    for _ in range(3):
        copy = nbformat.reads(nbformat.writes(nb), as_version=4)
        start = time.perf_counter()
        NotebookClient(copy, timeout=60, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(work)}},
                       config=ipc_kernels(work)).execute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def nbgrader_serial(chapter: str, subs: Path, n: int, course: Path, timeout: int) -> float:
    """Seconds per submission for nbgrader's autograde, one student after another."""
    generate(chapter, course)
    api = nbgrader_api(course, timeout)
    api.config.merge(ipc_kernels(course))
    students = sorted(p.stem for p in subs.glob("*.ipynb"))[:n]
    for s in students:
        target = course / "submitted" / s / chapter
        target.mkdir(parents=True)
        shutil.copy(subs / f"{s}.ipynb", target / f"{chapter}.ipynb")
    start = time.perf_counter()
    for s in students:
        api.autograde(chapter, s, force=True, create=True)
    return (time.perf_counter() - start) / len(students)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapter", default="01_metrics")
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--nbgrader", type=int, default=30,
                        help="submissions graded by serial nbgrader (it is slow)")
    parser.add_argument("--timeout", type=int, default=5, help="seconds per cell")
    args = parser.parse_args(argv)
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    work = Path(tempfile.mkdtemp(prefix="dlnotes-bench-grading-"))
    subs = work / "subs"
    make_class(args.chapter, args.submissions, subs)
    n = args.submissions
    rows = []

    floor_s = floor(args.chapter, work)
    nbg = nbgrader_serial(args.chapter, subs, min(args.nbgrader, n), work / "nbgrader",
                          args.timeout)
    rows.append((f"nbgrader autograde, serial ({min(args.nbgrader, n)} subs)", nbg))
    for workers in (1, 2):
        start = time.perf_counter()
        grade_folder(args.chapter, subs, work / f"out{workers}", work / f"course{workers}",
                     cell_timeout=args.timeout, workers=workers)
        rows.append((f"dlnotes-grade --workers {workers}", (time.perf_counter() - start) / n))
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("(dask.distributed not installed: skipping --dask)")
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(lambda: __import__("dlnotes_course.runner"))   # warm the workers
            start = time.perf_counter()
            grade_folder(args.chapter, subs, work / "outdask", work / "coursedask",
                         cell_timeout=args.timeout, dask=client)
            rows.append(("dlnotes-grade --dask (LocalCluster, 2 workers)",
                         (time.perf_counter() - start) / n))

    print(f"grading {n} submissions of {args.chapter} (one endless loop, "
          f"--timeout {args.timeout}); seconds per submission")
    print(f"{'how':<48}{'s/sub':>8}{'throughput vs nbgrader':>24}{'vs floor':>10}")
    print(f"{'floor: answer+test cells, fresh kernel, once':<48}{floor_s:>8.2f}"
          f"{nbg / floor_s:>23.2f}x{1.0:>9.2f}x")
    for name, s in rows:
        print(f"{name:<48}{s:>8.2f}{nbg / s:>23.2f}x{s / floor_s:>9.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
