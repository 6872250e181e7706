"""The grading rules both ends share: what a notebook's namespace holds while grading.

Shipped into the sandbox beside the channel: standard library only.
"""

from __future__ import annotations


class Shell:
    """Enough of ``get_ipython()`` for magics in a cell to do nothing."""

    def __getattr__(self, attr):
        return lambda *a, **k: None


def notebook_namespace() -> dict:
    """A fresh notebook namespace with the stand-ins grading provides."""
    return {"__name__": "__main__", "get_ipython": lambda: Shell(),
            "display": lambda *a, **k: None}
