"""Each reader's working copy of the chapters, which no release overwrites.

``make lab`` calls :func:`sync` before starting JupyterLab: a chapter missing
from the working copy is copied from ``chapters/``; a chapter already there is
never touched. When its release has changed since it was copied, the reader
is told, and the new release is available next to their copy as
``<chapter>.new-release.ipynb`` to compare or start over from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

RECORD = ".releases.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync(chapters: Path, workspace: Path) -> list[str]:
    """Bring ``workspace`` up to date with ``chapters``; return messages for the reader."""
    workspace.mkdir(parents=True, exist_ok=True)
    record_path = workspace / RECORD
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    messages = []
    for release in sorted(chapters.glob("*.ipynb")):
        copy = workspace / release.name
        digest = _digest(release)
        if not copy.exists():
            shutil.copyfile(release, copy)
            record[release.stem] = digest
            messages.append(f"new chapter: {copy}")
        elif record.get(release.stem) != digest:
            newer = workspace / f"{release.stem}.new-release.ipynb"
            shutil.copyfile(release, newer)
            messages.append(
                f"{release.stem} has a new release. Your copy {copy.name} is unchanged; "
                f"the new release is {newer.name} (delete your copy and rerun make lab to "
                "start from it).")
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True))
    return messages


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="dlnotes-workspace", description=sync.__doc__)
    parser.add_argument("chapters", type=Path)
    parser.add_argument("workspace", type=Path)
    args = parser.parse_args(argv)
    for line in sync(args.chapters, args.workspace):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
