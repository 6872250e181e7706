"""Benchmark the release: seconds to release a chapter (grading: ``bench_grading.py``).

Run by ``make bench``; prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dlnotes_course.release import generate


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapter", default="01_metrics")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dlnotes-bench-"))

    times = []
    for i in range(3):
        start = time.perf_counter()
        generate(args.chapter, work / f"course-release-{i}")
        times.append(time.perf_counter() - start)
    release_s = sorted(times)[1]

    print(f"{'measure':<46}{'seconds':>10}")
    print(f"{'release one chapter (' + args.chapter + ', median of 3)':<46}{release_s:>10.2f}")


if __name__ == "__main__":
    main()
