"""Generate the student release of a chapter with nbgrader.

``solutions/<chapter>.py`` → (jupytext) → ``autograder/course/source/<chapter>/``
→ (nbgrader ``generate_assignment``: stubs for solutions, hidden tests
removed, outputs cleared, checksums) → ``chapters/<chapter>.ipynb``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from .layout import chapter_ids, chapters_dir, source_path
from .layout import course_dir as default_course_dir
from .nbgrader_setup import nbgrader_api
from .source import Chapter, ChapterError, load_chapter, nbgrader_meta

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
_BLOCK = {
    "solution": re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S),
    "hidden test": re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S),
}
# Lines too generic to count as leaked when they appear elsewhere.
_GENERIC = re.compile(r"^(return|pass|else:|\)|\]|\}|try:|finally:)?$")


class ReleaseError(RuntimeError):
    """nbgrader could not generate the release; the message carries its log."""


def write_course_source(chapter: str, course: Path, root: Path | None = None, nb=None):
    """Write the instructor notebook (``nb``, or the one loaded) where nbgrader expects it."""
    nb = nb if nb is not None else load_chapter(chapter, root)
    target = Path(course) / "source" / chapter
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{chapter}.ipynb")
    return nb


def generate(chapter: str, course: Path | None = None, root: Path | None = None,
             source_nb=None):
    """Run nbgrader's ``generate_assignment`` for ``chapter`` in ``course``.

    Also records the chapter's cells in the course gradebook, which autograding
    needs. Returns the released notebook. Use :func:`checked_release` unless
    the release is only compared with another one.
    """
    course = Path(course or default_course_dir(root))
    write_course_source(chapter, course, root, source_nb)
    result = nbgrader_api(course).generate_assignment(chapter, force=True, create=True)
    if not result.get("success"):
        raise ReleaseError(f"nbgrader generate_assignment failed for {chapter}:\n"
                           f"{result.get('error') or result.get('log')}")
    released = nbformat.read(course / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    released.metadata = nbformat.from_dict(
        {k: v for k, v in released.metadata.items() if k in ("kernelspec", "language_info")})
    return released


def release_text(nb) -> str:
    """The exact bytes written to ``chapters/`` (stable across runs)."""
    return nbformat.writes(nb) + "\n"


def checked_release(chapter: str, course: Path | None = None, root: Path | None = None):
    """The student release of ``chapter``, generated in ``course`` once the rules hold.

    Raises :class:`~dlnotes_course.source.ChapterError` naming the cell when a
    check is not named ``test_<answer>`` or ``test_<answer>_hidden`` for an
    answer of the chapter (the grader finds an answer's checks by that name),
    and :class:`ReleaseError` when the release would leak a solution or a
    hidden test.
    """
    view = Chapter.load(chapter, root)
    problems = view.naming_problems()
    if problems:
        raise ChapterError("\n".join(problems))
    released = generate(chapter, course, root, view.notebook)
    leaks = find_leaks(released, view.notebook)
    if leaks:
        raise ReleaseError(f"{chapter}: the release would leak:\n  " + "\n  ".join(leaks))
    return released


def release_chapter(chapter: str, root: Path | None = None, course: Path | None = None) -> Path:
    """Regenerate ``chapters/<chapter>.ipynb`` (see :func:`checked_release`)."""
    released = checked_release(chapter, course, root)
    out = chapters_dir(root) / f"{chapter}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(release_text(released), encoding="utf-8")
    return out


def release_all(root: Path | None = None, course: Path | None = None) -> list[Path]:
    return [release_chapter(ch, root, course) for ch in chapter_ids(root)]


def _secret_lines(source_nb) -> dict[str, str]:
    """Non-trivial lines of solution and hidden-test code, mapped to their kind."""
    secrets = {}
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        for kind, block in _BLOCK.items():
            for body in block.findall(cell.source):
                for line in body.splitlines():
                    text = line.strip()
                    if len(text) >= 8 and not text.startswith("#") and not _GENERIC.match(text):
                        secrets[text] = kind
    return secrets


def find_leaks(released_nb, source_nb) -> list[str]:
    """Every way ``released_nb`` gives away solutions or hidden tests.

    Scans every cell of the release for nbgrader's markers, for any line of a
    solution or hidden-test block of the source, and for outputs.
    """
    secrets = _secret_lines(source_nb)
    leaks = []
    for index, cell in enumerate(released_nb.cells):
        gid = nbgrader_meta(cell).get("grade_id", cell.cell_type)
        where = f"cell {index} ({gid})"
        for marker in MARKERS:
            if marker in cell.source:
                leaks.append(f"{where}: contains the marker {marker!r}")
        for line in cell.source.splitlines():
            kind = secrets.get(line.strip())
            if kind:
                leaks.append(f"{where}: {kind} line {line.strip()!r}")
        if cell.cell_type == "code" and cell.get("outputs"):
            leaks.append(f"{where}: has outputs")
    return leaks


VERSION_KEY = "dlnotes_release"


def release_version(chapter: str, root: Path | None = None, when=None) -> dict:
    """What identifies one release of ``chapter``: date, source commit, source hash.

    ``commit`` is the checkout's ``git`` commit (with ``+changes`` when the
    chapter source differs from it), or ``None`` outside a git checkout.
    """
    import datetime
    import hashlib
    import subprocess

    path = source_path(chapter, root)
    when = when or datetime.datetime.now(datetime.timezone.utc)
    commit = None
    try:
        git = ["git", "-C", str(path.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short=10", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=30).stdout.strip() or None
        changed = subprocess.run([*git, "status", "--porcelain", "--", path.name],
                                 capture_output=True, text=True, check=True,
                                 timeout=30).stdout.strip()
        if commit and changed:
            commit += "+changes"
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"chapter": chapter, "date": when.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "commit": commit, "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def version_label(version: dict) -> str:
    """``2026-11-23 19:05:12 UTC, source commit 16163ea1f2`` (or the source hash)."""
    what = (f"source commit {version['commit']}" if version.get("commit")
            else f"source sha256 {version['source_sha256'][:12]}")
    return f"{version['date']}, {what}"


def stamp_version(nb, version: dict):
    """Put the release version in the notebook's first cell (replacing an older stamp).

    The cell is markdown with the version in ``metadata.dlnotes_release``; the
    grader ignores markdown, so a stamped submission grades like any other.
    """
    text = (f"*Release of {version['chapter']}: {version_label(version)}.* "
            "Fetching a newer release never overwrites this copy; see the course page "
            "for how to get the new one next to it.")
    cell = nbformat.v4.new_markdown_cell(text, metadata={VERSION_KEY: dict(version)})
    cells = [c for c in nb.cells if VERSION_KEY not in c.get("metadata", {})]
    nb.cells = [cell, *cells]
    return nb


def main(argv=None) -> int:
    """``dlnotes-release [CHAPTER ...]``: regenerate the student release (all by default)."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(prog="dlnotes-release", description=main.__doc__)
    parser.add_argument("chapters", nargs="*", help="chapter ids (default: every chapter)")
    args = parser.parse_args(argv)
    try:
        for chapter in args.chapters or chapter_ids():
            start = time.perf_counter()
            path = release_chapter(chapter)
            print(f"released {path} in {time.perf_counter() - start:.1f} s")
    except (ValueError, ReleaseError) as exc:
        print(f"dlnotes-release: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
