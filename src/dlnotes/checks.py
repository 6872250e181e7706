"""Assertions with teaching messages, used by the chapters' test cells.

A failed check raises ``AssertionError`` whose message says what was
expected, what came back and, where a known mistake explains the difference,
what the mistake probably is. nbgrader records that message; the feedback a
student receives shows the message, never the test's code.

Examples
--------
>>> check_close(0.5, 0.5, "precision")
>>> check_close(0.25, 0.5, "precision", mistakes={"recall": 0.25})
Traceback (most recent call last):
...
dlnotes.checks.CheckFailure: precision: expected 0.5, got 0.25. Likely mistake: recall.
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = ["CheckFailure", "answer", "check_close", "check_equal", "inplace", "is_inplace"]


class CheckFailure(AssertionError):
    """A failed check; ``mistake`` is the explanation of the known mistake it matched.

    The grader records ``mistake`` per check (the class report counts them);
    it is ``""`` when the wrong answer matched no known mistake.
    """

    def __init__(self, message: str, mistake: str = ""):
        super().__init__(message)
        self.mistake = mistake


_INPLACE: dict[int, weakref.ref] = {}


def inplace(*arrays):
    """Hand ``arrays`` to an answer for in-place update (optimizer parameters, running stats).

    In a notebook this changes nothing. When grading, an answer's changes to an
    array reach the test only for arrays marked here: every other array a test
    passes in stays as the test made it, whatever the answer does to its copy.
    Returns the array itself (one argument) or the tuple of arrays.

    >>> import numpy as np
    >>> w = inplace(np.zeros(3))
    >>> is_inplace(w), is_inplace(np.zeros(3))
    (True, False)
    """
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise TypeError(f"inplace takes numpy arrays, got {type(a).__name__}")
        key = id(a)
        _INPLACE[key] = weakref.ref(a, lambda _, key=key: _INPLACE.pop(key, None))
    return arrays[0] if len(arrays) == 1 else arrays


def is_inplace(a) -> bool:
    """True if ``a`` was handed over with :func:`inplace` and is still alive."""
    ref = _INPLACE.get(id(a))
    return ref is not None and ref() is a


def _short(value, limit: int = 120) -> str:
    text = np.array2string(value, precision=6, threshold=12) if isinstance(
        value, np.ndarray) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def answer(fn, *args, name: str | None = None, **kwargs):
    """Call a student's function, turning its failures into teaching messages."""
    label = name or getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"{label} is not answered yet (it still raises NotImplementedError)") from None
    except Exception as exc:  # the student's bug, reported as a failed check
        raise AssertionError(
            f"{label} raised {type(exc).__name__}: {exc}") from None


def _as_array(value, label: str) -> np.ndarray:
    if isinstance(value, (tuple, list)):
        value = [np.asarray(v, dtype=float) if not isinstance(v, np.ndarray) else v for v in value]
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{label}: expected numbers, got {type(value).__name__} "
                             f"{_short(value)}") from None
    return arr


def _matches(got: np.ndarray, candidate, atol: float, rtol: float) -> bool:
    try:
        cand = np.asarray(candidate, dtype=float)
    except (TypeError, ValueError):
        return False
    return cand.shape == got.shape and bool(
        np.allclose(got, cand, atol=atol, rtol=rtol, equal_nan=True))


def check_close(got, expected, label: str, *, atol: float = 1e-9, rtol: float = 1e-7,
                mistakes: dict | None = None) -> None:
    """Assert ``got`` equals ``expected`` to tolerance, explaining a mismatch.

    Parameters
    ----------
    got, expected : number or array-like
        What the student's code returned and the right answer.
    label : str
        What is being checked, e.g. ``"precision on the seed's table"``.
    atol, rtol : float
        Tolerances as in :func:`numpy.allclose`. NaN never equals a number.
    mistakes : dict, optional
        ``{explanation: wrong_value}``: values a known mistake would produce.
        When ``got`` matches one, the message names that mistake.
    """
    exp = np.asarray(expected, dtype=float)
    arr = _as_array(got, label)
    if arr.shape != exp.shape:
        raise AssertionError(
            f"{label}: expected shape {exp.shape}, got shape {arr.shape} ({_short(got)})")
    if np.allclose(arr, exp, atol=atol, rtol=rtol, equal_nan=True):
        return
    message = f"{label}: expected {_short(expected)}, got {_short(got)}."
    if np.any(np.isnan(arr) & ~np.isnan(exp)):
        message += " Your answer contains NaN: a 0/0 or log(0) that should have been handled?"
    for explanation, wrong in (mistakes or {}).items():
        if _matches(arr, wrong, atol, rtol):
            raise CheckFailure(f"{message} Likely mistake: {explanation}.", explanation)
    raise CheckFailure(message)


def check_equal(got, expected, label: str, *, mistakes: dict | None = None) -> None:
    """Assert exact equality of integer-like results (counts, indices, shapes).

    ``mistakes`` works as in :func:`check_close`.
    """
    arr = np.asarray(got)
    exp = np.asarray(expected)
    if arr.shape == exp.shape and np.array_equal(arr, exp):
        return
    message = f"{label}: expected {_short(expected)}, got {_short(got)}."
    for explanation, wrong in (mistakes or {}).items():
        if np.shape(wrong) == arr.shape and np.array_equal(arr, np.asarray(wrong)):
            raise CheckFailure(f"{message} Likely mistake: {explanation}.", explanation)
    raise CheckFailure(message)
