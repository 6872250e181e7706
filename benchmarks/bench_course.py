"""Benchmark the course spine: seconds to release a chapter, seconds per graded submission.

Run by ``make bench``; prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat

from dlnotes_course.grade import grade_folder
from dlnotes_course.layout import chapters_dir
from dlnotes_course.release import generate
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapter", default="01_metrics")
    parser.add_argument("--submissions", type=int, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dlnotes-bench-"))

    times = []
    for i in range(3):
        start = time.perf_counter()
        generate(args.chapter, work / f"course-release-{i}")
        times.append(time.perf_counter() - start)
    release_s = sorted(times)[1]

    source = load_chapter(args.chapter)
    release = nbformat.read(chapters_dir() / f"{args.chapter}.ipynb", as_version=4)
    subs = work / "subs"
    subs.mkdir()
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")]
    for i in range(args.submissions):
        kind = i % 3
        nb = (answered(release, source) if kind == 0 else release if kind == 1
              else answered(release, source, blank=tuple(grade_ids[::2])))
        nbformat.write(nb, subs / f"student{i:03d}.ipynb")
    start = time.perf_counter()
    grade_folder(args.chapter, subs, work / "out", work / "course-grade")
    grade_s = time.perf_counter() - start

    print(f"{'measure':<46}{'seconds':>10}")
    print(f"{'release one chapter (' + args.chapter + ', median of 3)':<46}{release_s:>10.2f}")
    print(f"{'autograde, serial, per submission':<46}{grade_s / args.submissions:>10.2f}")
    print(f"{'  (' + str(args.submissions) + ' submissions, total)':<46}{grade_s:>10.2f}")


if __name__ == "__main__":
    main()
