"""Benchmark the reader's check: ``dlnotes-check`` beside ``nbgrader validate``, per chapter.

For every chapter, on the student release as given (blank) and on a solved
copy, in one run: the seconds of ``dlnotes-check NOTEBOOK`` (a new Python
process), of the JupyterLab **Validate** button as ``make lab`` serves it
(``POST /assignments/validate``, which runs the same check in a new process),
and of stock ``nbgrader validate NOTEBOOK`` (which executes every cell in a
kernel, demos and training included). ``--stock-button`` adds nbgrader's own
Validate handler (the button before this book replaced it).

Run by ``make bench``; prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

import nbformat

from dlnotes_course.layout import chapter_ids, chapters_dir
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered


def seconds(cmd, cwd) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=1800)
    return time.perf_counter() - start, done.returncode


def button(lab, name: str) -> float:
    start = time.perf_counter()
    lab.post(f"/assignments/validate?path={urllib.parse.quote(name)}")
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapters", nargs="*", default=chapter_ids())
    parser.add_argument("--notebooks", nargs="*", default=["blank", "solved"],
                        choices=["blank", "solved"])
    parser.add_argument("--stock-button", action="store_true",
                        help="also time nbgrader's own Validate handler")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import jupyterlab

    root = Path(tempfile.mkdtemp(prefix="dlnotes-bench-check-"))
    for chapter in args.chapters:
        release = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
        nbformat.write(release, root / f"{chapter}.blank.ipynb")
        nbformat.write(answered(release, load_chapter(chapter)), root / f"{chapter}.solved.ipynb")

    columns = ["dlnotes-check", "Validate button", "nbgrader validate"]
    if args.stock_button:
        columns.append("stock Validate button")
    print(f"{'chapter':<20}{'notebook':<10}" + "".join(f"{c:>24}" for c in columns))
    with ExitStack() as stack:
        ours = stack.enter_context(jupyterlab(root))
        stock = stack.enter_context(jupyterlab(root, stock_validate=True)) \
            if args.stock_button else None
        for chapter in args.chapters:
            for kind in args.notebooks:
                name = f"{chapter}.{kind}.ipynb"
                check_s, code = seconds([sys.executable, "-m", "dlnotes_course.check", name],
                                        root)
                row = [f"{check_s:.2f} (exit {code})", f"{button(ours, name):.2f}"]
                nbg_s, code = seconds([sys.executable, "-m", "nbgrader", "validate", name], root)
                row.append(f"{nbg_s:.2f} (exit {code})")
                if stock is not None:
                    row.append(f"{button(stock, name):.2f}")
                print(f"{chapter:<20}{kind:<10}" + "".join(f"{c:>24}" for c in row), flush=True)


if __name__ == "__main__":
    main()
