"""Grading one submission, in a worker (a local process or a Dask worker).

:func:`grade_task` is what the driver submits: it forks a child for the
submission (:mod:`~dlnotes_course.child`), which plans it
(:mod:`~dlnotes_course.plan`) and runs it (:mod:`~dlnotes_course.runner`), and
returns the :class:`~dlnotes_course.results.Outcome` as a dict.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import nbformat

from .collect import parse_submission
from .results import Outcome
from .source import Chapter

# The code whose change changes grades: a stored result graded by other code is stale.
GRADING_MODULES = ("collect", "worker", "child", "runner", "plan", "results", "source", "cells",
                   "wire", "codec", "policy", "sandbox", "student_process")
_CONTEXTS: dict = {}


def _context(ctx: dict):
    """The chapter and release of a task, parsed once per worker."""
    key = ctx["source_hash"]
    if key not in _CONTEXTS:
        chapter = Chapter.from_notebook(nbformat.reads(ctx["source"], as_version=4),
                                        ctx["chapter"])
        _CONTEXTS.clear()
        _CONTEXTS[key] = (chapter, nbformat.reads(ctx["release"], as_version=4))
    return _CONTEXTS[key]


@functools.cache
def grader_hash() -> str:
    """Hash of the grading code and the installed ``dlnotes`` (checks and reference)."""
    import dlnotes
    here = Path(__file__).resolve().parent
    files = [here / f"{m}.py" for m in GRADING_MODULES]
    files += sorted(Path(dlnotes.__file__).resolve().parent.glob("*.py"))
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def _grade_here(ctx: dict, data: bytes, on_progress) -> dict:
    """Grade one submission in this process (the child of :func:`grade_task`)."""
    from dlnotes.checks import is_inplace

    from .plan import make_plan
    from .runner import Limits, grade_plan
    chapter, release = _context(ctx)
    nb, problem = parse_submission(data, chapter)
    if nb is None:
        return Outcome.failed(f"the worker could not read the submission: {problem}").to_dict()
    limits = Limits(**ctx["limits"])
    outcome = grade_plan(make_plan(chapter, nb, release), limits, hide=ctx["hide"],
                         notebook=data, writable=is_inplace, on_progress=on_progress)
    outcome.grader = grader_hash()
    return outcome.to_dict()


def worker_init() -> None:
    """Local worker processes die with the driver (no orphan sandboxes)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@functools.cache
def _preload() -> None:
    """Import once per worker what every child needs, so that no child pays for it.

    Children are forked from the worker: torch (which hidden tests use as their
    oracle), the reference and IPython's input transformer are already loaded.
    Tests run on one thread (torch and BLAS): the parallelism is one submission
    per worker, and a child's address-space limit must not be spent on thread
    pools the size of a big machine.
    """
    import importlib
    import pkgutil

    from threadpoolctl import threadpool_limits

    import dlnotes
    for mod in pkgutil.iter_modules(dlnotes.__path__):
        importlib.import_module(f"dlnotes.{mod.name}")
    from .runner import _transformer
    _transformer()
    try:
        import torch
        torch.set_num_threads(1)
        # the first optimizer built imports torch._dynamo: ~1 s per submission, 4 s when busy
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    except ImportError:
        pass
    try:   # the oracles of chapters 00 and 01's hidden tests: ~1 s to import per child
        import sklearn.datasets
        import sklearn.linear_model
        import sklearn.metrics
        import sklearn.pipeline
        import sklearn.preprocessing  # noqa: F401
    except ImportError:
        pass
    threadpool_limits(limits=1)


def grade_task(ctx: dict, student: str, data: bytes) -> dict:
    """Grade one submission's bytes in a child process of this worker; its outcome.

    The child has a memory limit of its own (``grader_memory_mb`` of address
    space), and one wall clock bounds all it does: past the notebook's wall
    limit it is killed. Checks it finished before dying still count; a
    submission can thus never take the worker, or another student, with it.
    """
    from .child import run_in_child
    _preload()
    return run_in_child(_grade_here, ctx, data, student)
