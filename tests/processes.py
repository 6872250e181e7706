"""What the grading tests look for on the machine: student processes still running."""

from __future__ import annotations

from pathlib import Path


def student_processes(marker: str | Path) -> list[str]:
    """Pids of sandboxes still alive that were started to grade ``marker``'s folder.

    A sandbox's ``bwrap`` command line names the submissions folder it hides, so
    ``marker`` (that folder) tells one test's sandboxes from those of tests running
    beside it. The student process inside dies with its ``bwrap``.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
                if b"student_process.py" in cmd and str(marker).encode() in cmd:
                    found.append(entry.name)
            except OSError:
                pass
    return found
