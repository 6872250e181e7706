"""What the grading tests look for on the machine: student processes still running."""

from __future__ import annotations

from pathlib import Path


def student_processes() -> list[str]:
    """Pids of sandboxed student processes (``student_process.py``) still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"student_process.py" in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found
