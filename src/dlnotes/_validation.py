"""Input checks shared by every module.

Each helper raises ``ValueError`` naming the argument and what was expected,
so that bad input fails at the call site with a readable message instead of a
traceback from deep inside numpy.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, ndim: int | tuple[int, ...] | None = None,
                   finite: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 array, checking its number of axes.

    ``ndim`` is an int or a tuple of allowed ints. With ``finite=True`` NaN and
    infinities are rejected.
    """
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be array-like of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be array-like of numbers, got {type(x).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {np.shape(a)} and {np.shape(b)}"
        )


def check_same_length(a, b, name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have the same length along axis 0."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}"
        )


def check_nonempty(a: np.ndarray, name: str) -> None:
    """Raise if ``a`` has no elements."""
    if np.size(a) == 0:
        raise ValueError(f"{name} must not be empty")


def as_binary_labels(y, name: str) -> np.ndarray:
    """Return ``y`` as a 1-D int array, checking every entry is 0 or 1."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must contain the numbers 0 and 1 only, got dtype {arr.dtype}")
    bad = ~np.isin(arr, (0, 1))
    if np.any(bad):
        raise ValueError(
            f"{name} must contain only 0 and 1 (binary labels), found {arr[bad][0]!r}"
        )
    return arr.astype(np.int64)


def as_class_indices(y, n_classes: int, name: str) -> np.ndarray:
    """Return ``y`` as a 1-D int array of class indices in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one class index per row), got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise ValueError(f"{name} must contain integer class indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must contain class indices in [0, {n_classes}), "
            f"got values in [{arr.min()}, {arr.max()}]"
        )
    return arr


def check_in_range(value, name: str, low: float | None = None, high: float | None = None,
                   low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """Check a scalar hyper-parameter lies in a range; return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if np.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    lo_ok = low is None or (v >= low if low_inclusive else v > low)
    hi_ok = high is None or (v <= high if high_inclusive else v < high)
    if not (lo_ok and hi_ok):
        lb = "-inf" if low is None else f"{low}"
        hb = "inf" if high is None else f"{high}"
        interval = ("[" if low_inclusive and low is not None else "(") + f"{lb}, {hb}" + (
            "]" if high_inclusive and high is not None else ")")
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return v


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Check ``value`` is an int >= ``minimum``; return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
