"""Input checks shared by every module: the one place they are written.

Each helper raises ``ValueError`` naming the argument and what was expected,
so that bad input fails at the call site with a readable message instead of a
traceback from deep inside numpy.

The dtype rule of the layers, activations and losses lives here too
(:func:`as_float_array`, :func:`common_float_dtype`): float32 stays float32,
float64 stays float64, and everything else (integers, bools, Python numbers,
lists) becomes float64. A function of several arrays computes in float32
only when all of them are float32.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

_KEPT_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   finite: bool = False, layout: str | None = None) -> np.ndarray:
    """Return ``x`` as a float array under the library's dtype rule.

    float32 and float64 arrays come back as they are (no copy); integers,
    bools and other real numbers become float64. ``ndim`` is an int or a
    tuple of allowed ints; ``layout`` (e.g. ``"(N, C, H, W)"``) fixes the
    number of axes from its commas and is quoted in the error. With
    ``finite=True`` NaN and infinities are rejected.

    Raises
    ------
    ValueError
        If ``x`` is None, a string, not numeric (object, complex) or ragged,
        or has a wrong number of axes, or holds NaN/inf with ``finite=True``.
    """
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be array-like of real numbers, got {type(x).__name__}")
    arr = x if isinstance(x, np.ndarray) else _asarray(x, name)
    if arr.dtype not in _KEPT_FLOATS:
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be array-like of real numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if layout is not None:
        ndim = layout.count(",") + 1
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            noun = "dimension" if allowed == (1,) else "dimensions"
            where = f" {layout}" if layout else ""
            raise ValueError(f"{name} must have {want} {noun}{where}, got shape {arr.shape}")
    if finite:
        check_finite_array(arr, name)
    return arr


def _asarray(x, name: str) -> np.ndarray:
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:     # ragged nested lists
        raise ValueError(f"{name} must be array-like of real numbers, "
                         f"got {type(x).__name__}") from exc


def common_float_dtype(*arrays) -> np.dtype:
    """float32 if every given array (None skipped) is float32, else float64."""
    dtypes = {a.dtype for a in arrays if a is not None}
    return np.dtype(np.float32) if dtypes == {np.dtype(np.float32)} else np.dtype(np.float64)


def as_common_float(*arrays):
    """Cast the float arrays ``arrays`` (None kept) to :func:`common_float_dtype`."""
    dtype = common_float_dtype(*arrays)
    return tuple(None if a is None else a.astype(dtype, copy=False) for a in arrays)


def check_finite_array(arr: np.ndarray, name: str) -> None:
    """Raise if the array ``arr`` holds NaN or an infinity."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")


def check_dout(dout, expected_shape: tuple, name: str = "dout", dtype=None) -> np.ndarray:
    """An upstream gradient: a float array of the forward output's shape.

    Returned in ``dtype`` (the layer's, from its cache) when given, so a
    float32 layer's backward pass stays float32.
    """
    arr = as_float_array(dout, name)
    expected = tuple(expected_shape)
    if arr.shape != expected:
        raise ValueError(f"{name} must have the forward output's shape {expected}, "
                         f"got {arr.shape}")
    return arr if dtype is None else arr.astype(dtype, copy=False)


def as_array_list(items, name: str) -> list:
    """``items`` (a list, tuple or other iterable of arrays, not one ndarray) as a list."""
    if isinstance(items, np.ndarray):
        raise ValueError(f"{name} must be a list of arrays, got a single ndarray; "
                         f"pass [a] instead of a")
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise ValueError(f"{name} must be a list of numpy arrays, got {type(items).__name__}")
    return list(items)


def check_inplace_array(arr, name: str, action: str = "updated in place") -> np.ndarray:
    """A writeable float ndarray: an argument the function changes in place."""
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name} must be a float numpy array (it is {action}), "
                         f"got {type(arr).__name__}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} must be a float numpy array (it is {action}), got dtype "
                         f"{arr.dtype}; convert it first, e.g. a = a.astype(float)")
    if not arr.flags.writeable:
        raise ValueError(f"{name} must be writeable (it is {action})")
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


def check_finite(value, name: str, low: float | None = None, high: float | None = None,
                 low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """A finite real hyper-parameter in a range (see :func:`check_in_range`); a float."""
    v = check_in_range(value, name, low, high, low_inclusive, high_inclusive)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_flag(value, name: str) -> bool:
    """A True/False option (a Python or numpy bool, nothing else); a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Check ``value`` is an int >= ``minimum``; return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
