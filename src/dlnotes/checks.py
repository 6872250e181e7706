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

import inspect
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


def _plain(value) -> str:
    """``value`` as a reader would write it: ``0.3034``, never ``np.float64(0.3034)``."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, threshold=12)
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, tuple):
        inner = ", ".join(_plain(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return repr(value)


def _short(value, limit: int = 120) -> str:
    text = " ".join(_plain(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_arg(name: str | None, value) -> str:
    """One argument of a call, by its shape rather than its contents."""
    prefix = f"{name} " if name else "array "
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"{prefix}of shape {value.shape}"
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, np.ndarray) for v in value):
        shapes = ", ".join(str(v.shape) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"{name or 'a'} = {type(value).__name__} of arrays of shapes {shapes}"
    if isinstance(value, (list, tuple)) and value:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.size > 6:
            return f"{prefix}of shape {arr.shape}"
    if callable(value) and not isinstance(value, type):
        fn_name = getattr(value, "__name__", type(value).__name__)
        return f"{name}={fn_name}" if name else fn_name
    text = _short(value, 40)
    if " at 0x" in text:  # a default repr says nothing a reader can use: name the type
        return f"{name or 'an argument'} ({type(value).__name__})"
    return f"{name}={text}" if name else text


def _describe_call(fn, args, kwargs) -> str:
    """``X of shape (7, 5), k=3``: the arguments of a call, named where the signature says.

    Arguments that fill ``*args`` (a grader's proxy has only ``*args``) are
    described without a name.
    """
    try:
        params = inspect.signature(fn).parameters
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
    except Exception:  # no signature (a builtin, a proxy's remote function) or a wrong call
        params, bound = {}, None
    if bound is None:
        pairs = [(None, a) for a in args] + list(kwargs.items())
    else:
        pairs = []
        for name, value in bound.items():
            kind = params[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                pairs += [(None, v) for v in value]
            elif kind is inspect.Parameter.VAR_KEYWORD:
                pairs += list(value.items())
            else:
                pairs.append((name, value))
    parts = []
    for name, value in pairs:
        try:
            parts.append(_describe_arg(name, value))
        except Exception:  # an object whose repr fails: name its type only
            parts.append(f"{name or 'an argument'} ({type(value).__name__})")
    text = ", ".join(parts)
    return text if len(text) <= 200 else text[:197] + "..."


def _exception_text(exc: BaseException) -> str:
    """``ValueError: message``, naming the student's own exception type.

    The grader carries an exception of a type it does not know as its
    ``StudentError`` whose message starts with the original type's name, so
    that message is used as it is.
    """
    if type(exc).__name__ == "StudentError":
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def answer(fn, *args, name: str | None = None, case: str | None = None, **kwargs):
    """Call a student's function, turning its failures into teaching messages.

    A stub is "not answered yet". Any other exception becomes a failed check
    that names its type and the call: ``case`` if given (e.g.
    ``"the 3rd random case"``), else the arguments described by their shapes
    and values, e.g. "fit raised ValueError: ... (called with X of shape (7, 5), k=3)".

    >>> def kth(x, k):
    ...     return sorted(x)[-k]
    >>> answer(kth, [3, 1, 2], k=5)
    Traceback (most recent call last):
    ...
    AssertionError: kth raised IndexError: list index out of range (called with x=[3, 1, 2], k=5)
    """
    label = name or getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"{label} is not answered yet (it still raises NotImplementedError)") from None
    except Exception as exc:  # the student's bug, reported as a failed check
        where = case if case is not None else _describe_call(fn, args, kwargs)
        raise AssertionError(
            f"{label} raised {_exception_text(exc)} (called with {where})") from None


def _check_not_none(got, label: str) -> None:
    """A missing ``return`` gives None: say so instead of comparing it."""
    if got is None:
        raise CheckFailure(f"{label}: expected a value, got None: your function returned "
                           "nothing. Is a `return` statement missing?")
    if isinstance(got, (tuple, list)):
        for i, item in enumerate(got):
            if item is None:
                raise CheckFailure(f"{label}: item {i} of what your function returned is None. "
                                   "Is a value missing from the `return`?")


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


def _largest_difference(got: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> str:
    """Where ``got`` is furthest from ``expected``, absolutely and relatively."""
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(got - expected)
        diff = np.where(np.isnan(got) & np.isnan(expected), 0.0, diff)
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = np.unravel_index(np.argmax(diff), diff.shape)
        rel = diff / np.abs(expected)
    where = f" at index {tuple(int(i) for i in worst)}" if diff.ndim else ""
    rel_worst = float(np.nanmax(np.where(np.isfinite(rel), rel, np.nan))) \
        if np.any(np.isfinite(rel)) else float("inf")
    return (f" Largest absolute difference {float(diff[worst]):.3g}{where}, largest relative "
            f"difference {rel_worst:.3g} (allowed: {atol:g} + {rtol:g} * |expected|).")


def check_close(got, expected, label: str, *, atol: float = 1e-9, rtol: float = 1e-7,
                mistakes: dict | None = None) -> None:
    """Assert ``got`` equals ``expected`` to tolerance, explaining a mismatch.

    Numbers print as a reader writes them (``0.3034``). When ``got`` and
    ``expected`` print alike, the message adds the largest absolute and
    relative difference and where it is; when ``got`` is None, it says the
    function returned nothing.

    Parameters
    ----------
    got, expected : number or array-like
        What the student's code returned and the right answer.
    label : str
        What is being checked, e.g. ``"precision on a table with ties"``.
    atol, rtol : float
        Tolerances as in :func:`numpy.allclose`. NaN never equals a number.
    mistakes : dict, optional
        ``{explanation: wrong_value}``: values a known mistake would produce.
        When ``got`` matches one, the message names that mistake.

    Examples
    --------
    >>> check_close(np.float64(0.3034), 0.25, "loss")
    Traceback (most recent call last):
    ...
    dlnotes.checks.CheckFailure: loss: expected 0.25, got 0.3034.
    """
    _check_not_none(got, label)
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
    elif _short(arr) == _short(exp):
        message += _largest_difference(arr, exp, atol, rtol)
    for explanation, wrong in (mistakes or {}).items():
        if _matches(arr, wrong, atol, rtol):
            raise CheckFailure(f"{message} Likely mistake: {explanation}.", explanation)
    raise CheckFailure(message)


def check_equal(got, expected, label: str, *, mistakes: dict | None = None) -> None:
    """Assert exact equality of integer-like results (counts, indices, shapes).

    ``mistakes`` works as in :func:`check_close`.
    """
    _check_not_none(got, label)
    arr = np.asarray(got)
    exp = np.asarray(expected)
    if arr.shape == exp.shape and np.array_equal(arr, exp):
        return
    message = f"{label}: expected {_short(expected)}, got {_short(got)}."
    for explanation, wrong in (mistakes or {}).items():
        if np.shape(wrong) == arr.shape and np.array_equal(arr, np.asarray(wrong)):
            raise CheckFailure(f"{message} Likely mistake: {explanation}.", explanation)
    raise CheckFailure(message)
