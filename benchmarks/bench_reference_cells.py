"""Benchmark fair time limits: the slowest test cell of each chapter's own solution.

Grades the instructor's solution of every chapter once with ``dlnotes-grade``
(sandboxed, one worker) and prints, per chapter, the slowest test cell and its
seconds as a share of the default 30 s cell limit; the target is at most 10%
(3 s) on this machine. A cell that needs more is sped up (channel or test), the
limit is never raised. Prints a table and asserts nothing.

    python benchmarks/bench_reference_cells.py [CHAPTER ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dlnotes_course.grade import grade_folder  # noqa: E402
from dlnotes_course.layout import chapter_ids, chapters_dir  # noqa: E402
from dlnotes_course.source import load_chapter  # noqa: E402
from dlnotes_course.submissions import answered  # noqa: E402

DEFAULT_LIMIT = 30.0


def slowest_cells(chapter: str, work: Path) -> tuple[list, float]:
    """``([(seconds, check), ...] slowest first, total seconds)`` of the solution graded."""
    subs = work / chapter / "subs"
    subs.mkdir(parents=True)
    release = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
    nbformat.write(answered(release, load_chapter(chapter)), subs / "solution.ipynb")
    start = time.perf_counter()
    (result,) = grade_folder(chapter, subs, work / chapter / "out", work / chapter / "course",
                             workers=1)
    total = time.perf_counter() - start
    if result.score != result.max_score:
        print(f"  {chapter}: the solution scored {result.score:g}/{result.max_score:g}",
              file=sys.stderr)
    return sorted(((c.seconds, c.grade_id) for c in result.checks), reverse=True), total


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=None)
    args = parser.parse_args(argv)
    chapters = args.chapters or chapter_ids()
    print(f"{'chapter':<20} {'slowest check':<36} {'s':>6} {'of 30 s':>8} {'2nd':>6} "
          f"{'graded in':>10}")
    worst = (0.0, "", "")
    with tempfile.TemporaryDirectory(prefix="dlnotes-bench-cells-") as tmp:
        for chapter in chapters:
            cells, total = slowest_cells(chapter, Path(tmp))
            (s1, check), s2 = cells[0], (cells[1][0] if len(cells) > 1 else 0.0)
            worst = max(worst, (s1, chapter, check))
            print(f"{chapter:<20} {check:<36} {s1:6.2f} {100 * s1 / DEFAULT_LIMIT:7.1f}% "
                  f"{s2:6.2f} {total:9.1f}s")
    print(f"slowest reference cell: {worst[0]:.2f} s ({worst[1]} {worst[2]}), "
          f"{100 * worst[0] / DEFAULT_LIMIT:.1f}% of the default cell limit (target <= 10%)")


if __name__ == "__main__":
    main()
