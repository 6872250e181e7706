r"""Preparing data: splits, standardisation, k-fold indices, small datasets.

Before any model is trained the data is divided three ways:

* the **training** set fits the parameters,
* the **validation** set chooses hyper-parameters (learning rate, depth, when
  to stop),
* the **test** set is looked at once, at the very end.

A typical split is 8/1/1 (``val_size=0.1, test_size=0.1``). When data is
scarce, **k-fold cross-validation** rotates the validation role over ``k``
folds instead (:func:`kfold_indices`).

Every statistic used to preprocess the data (the mean and standard deviation
of :func:`standardize`) is computed on the **training set only** and then
applied unchanged to the other splits; computing it on all the data leaks
information from the validation and test sets into training.

The loaders wrap datasets that ship inside scikit-learn, so nothing is
downloaded at run time.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validation import (
    as_class_indices,
    as_float_array,
    check_in_range,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "train_val_test_split",
    "standardize",
    "kfold_indices",
    "one_hot",
    "minibatches",
    "load_digits",
    "load_breast_cancer",
    "make_moons",
    "load_text_corpus",
    "TextCorpus",
]


# --------------------------------------------------------------------------
# train / validation / test split
# --------------------------------------------------------------------------

def _check_seed(seed, name: str = "seed") -> int:
    """Check ``seed`` is an int in [0, 2**32) (what numpy's generators accept)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not (
            0 <= seed < 2**32):
        raise ValueError(f"{name} must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)


def _split_sizes(n: int, val_size: float, test_size: float) -> tuple[int, int, int]:
    """Sample counts ``(n_train, n_val, n_test)``, rounding val and test up."""
    n_test = math.ceil(test_size * n)
    n_val = math.ceil(val_size * n)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(
            f"val_size={val_size} and test_size={test_size} leave no training sample "
            f"for n={n} samples (n_val={n_val}, n_test={n_test} after rounding up); "
            f"X needs more samples or the fractions must be smaller"
        )
    return n_train, n_val, n_test


def _round_table(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Round the table ``E[c, s] = counts[c] * sizes[s] / n`` to integers.

    Every entry becomes ``floor(E)`` or ``ceil(E)`` while the row sums stay
    ``counts`` and the column sums stay ``sizes`` (``sum(counts) ==
    sum(sizes) == n``). Such a rounding always exists; it is found here as a
    small max-flow: start from the floors, then hand out the missing units,
    one per fractional cell, with augmenting paths (classes -> splits).
    """
    n = int(counts.sum())
    prod = np.outer(counts, sizes)
    table = prod // n                          # exact integer floors
    fractional = (prod % n) != 0               # cells allowed one more unit
    row_need = counts - table.sum(axis=1)      # units each class still needs
    col_need = sizes - table.sum(axis=0)       # units each split still needs
    up = np.zeros_like(fractional)             # cells rounded up so far

    def augment(c, seen):
        # Find a path class c -> split s (free cell) or -> split s -> class c2
        # (undo c2's unit in s) -> ... ending in a split that still needs units.
        for s in range(len(sizes)):
            if not fractional[c, s] or up[c, s] or s in seen:
                continue
            seen.add(s)
            if col_need[s] > 0:
                col_need[s] -= 1
                up[c, s] = True
                return True
            for c2 in np.flatnonzero(up[:, s]):
                up[c2, s] = False
                if augment(c2, seen):
                    up[c, s] = True
                    return True
                up[c2, s] = True
        return False

    for c in range(len(counts)):
        for _ in range(int(row_need[c])):
            if not augment(c, set()):  # pragma: no cover - impossible by theory
                raise RuntimeError("stratified rounding failed")
    return table + up


def train_val_test_split(X, y, val_size=0.1, test_size=0.1, stratify=False, seed=0):
    r"""Shuffle and split ``(X, y)`` into training, validation and test sets.

    Counts rule (``n = len(X)``):

    .. math:: n_\text{test} = \lceil \text{test\_size} \cdot n \rceil, \quad
              n_\text{val} = \lceil \text{val\_size} \cdot n \rceil, \quad
              n_\text{train} = n - n_\text{val} - n_\text{test}

    i.e. the held-out sets are rounded **up**, as scikit-learn's
    ``train_test_split`` does for ``test_size`` (so a non-empty fraction never
    gives an empty set), and training gets the rest.

    With ``stratify=True`` every split keeps the class proportions of ``y``:
    class :math:`c` with :math:`n_c` samples contributes to split :math:`s`
    either :math:`\lfloor n_c n_s / n \rfloor` or
    :math:`\lceil n_c n_s / n \rceil` samples (within one sample of its exact
    share), while the split sizes stay exactly the ones above.

    Parameters
    ----------
    X : array_like, shape (N, ...)
        Features; rows are samples. Its dtype is kept.
    y : array_like, shape (N,)
        Targets (class labels when ``stratify=True``). Its dtype is kept.
    val_size, test_size : float
        Fractions in the open interval (0, 1) with ``val_size + test_size < 1``.
    stratify : bool, default False
        Keep the class proportions of ``y`` in each split.
    seed : int, default 0
        Seed of the ``numpy.random.default_rng`` that shuffles; the same seed
        gives the same split.

    Returns
    -------
    X_train, X_val, X_test, y_train, y_val, y_test : ndarray
        Rows of ``X`` and ``y``; every index ``0..N-1`` lands in exactly one
        split. Each split is in shuffled order.

    Raises
    ------
    ValueError
        If ``X`` is not at least 1-D, ``y`` is not 1-D, their lengths differ,
        a size is outside (0, 1), ``val_size + test_size >= 1``, the sizes
        leave no training sample, or ``seed`` is not an integer.

    Examples
    --------
    >>> X = np.arange(20).reshape(10, 2)
    >>> y = np.arange(10)
    >>> X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y)
    >>> len(y_tr), len(y_va), len(y_te)
    (8, 1, 1)
    >>> sorted(np.concatenate([y_tr, y_va, y_te]).tolist()) == list(range(10))
    True
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1:
        raise ValueError(f"X must have at least 1 dimension (rows = samples), got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per row of X), got shape {y.shape}")
    check_same_length(X, y, "X", "y")
    val_size = check_in_range(val_size, "val_size", 0, 1, low_inclusive=False, high_inclusive=False)
    test_size = check_in_range(test_size, "test_size", 0, 1, low_inclusive=False,
                               high_inclusive=False)
    if val_size + test_size >= 1:
        raise ValueError(
            f"val_size + test_size must be < 1, got {val_size} + {test_size}"
        )
    seed = _check_seed(seed)

    n = len(X)
    n_train, n_val, n_test = _split_sizes(n, val_size, test_size)
    rng = np.random.default_rng(seed)

    if not stratify:
        perm = rng.permutation(n)
        parts = [perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]]
    else:
        classes, y_idx = np.unique(y, return_inverse=True)
        counts = np.bincount(y_idx, minlength=len(classes))
        table = _round_table(counts, np.array([n_train, n_val, n_test]))
        parts = [[], [], []]
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(y_idx == c))
            stops = np.cumsum(table[c])
            for s, chunk in enumerate(np.split(members, stops[:-1])):
                parts[s].append(chunk)
        # Mix the classes inside each split.
        parts = [rng.permutation(np.concatenate(p)) for p in parts]

    train, val, test = parts
    return X[train], X[val], X[test], y[train], y[val], y[test]


# --------------------------------------------------------------------------
# standardisation
# --------------------------------------------------------------------------

def standardize(X_train, *others):
    r"""Standardise features with the training set's mean and standard deviation.

    .. math:: \mu_j = \frac{1}{N}\sum_i X_{ij}, \quad
              \sigma_j = \sqrt{\frac{1}{N}\sum_i (X_{ij} - \mu_j)^2}, \quad
              \tilde X_{ij} = \frac{X_{ij} - \mu_j}{\sigma_j}

    :math:`\mu` and :math:`\sigma` come from ``X_train`` **only** and are
    applied unchanged to every array in ``others`` (validation, test), so no
    information leaks from them. :math:`\sigma` is the population standard
    deviation (``ddof=0``), as in scikit-learn's ``StandardScaler``.

    A constant column has :math:`\sigma_j = 0`; it is only centred (divided
    by 1), exactly as ``StandardScaler`` does. "Constant" uses
    ``StandardScaler``'s test :math:`\mathrm{var}_j \le N\varepsilon\,
    \mathrm{var}_j + (N \mu_j \varepsilon)^2` so that a column like
    ``[0.1, 0.1, 0.1]``, whose computed variance is a rounding error, is
    treated as constant too.

    Parameters
    ----------
    X_train : array_like, shape (N, D)
        Training features, finite, N >= 1.
    *others : array_like, shape (M, D)
        Any number of further arrays with the same D columns.

    Returns
    -------
    tuple of ndarray
        ``(X_train_std, *others_std)``, float64, same shapes as the inputs.

    Raises
    ------
    ValueError
        If an array is not 2-D, is not finite, ``X_train`` is empty, or an
        array in ``others`` has a different number of columns.

    Examples
    --------
    >>> X_tr = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> X_te = np.array([[2.0, 6.0]])
    >>> tr, te = standardize(X_tr, X_te)
    >>> tr
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> te
    array([[0., 1.]])
    """
    X_train = as_float_array(X_train, "X_train", ndim=2, finite=True)
    if X_train.shape[0] == 0:
        raise ValueError(f"X_train must have at least one row, got shape {X_train.shape}")
    D = X_train.shape[1]
    checked = []
    for k, X in enumerate(others):
        X = as_float_array(X, f"others[{k}]", ndim=2, finite=True)
        if X.shape[1] != D:
            raise ValueError(
                f"others[{k}] must have shape (M, {D}) to match X_train, got {X.shape}"
            )
        checked.append(X)

    N = X_train.shape[0]
    mu = X_train.mean(axis=0)
    var = ((X_train - mu) ** 2).mean(axis=0)
    eps = np.finfo(np.float64).eps
    constant = var <= N * eps * var + (N * mu * eps) ** 2
    sigma = np.where(constant, 1.0, np.sqrt(var))
    return tuple((X - mu) / sigma for X in (X_train, *checked))


# --------------------------------------------------------------------------
# k-fold cross-validation
# --------------------------------------------------------------------------

def kfold_indices(n, k, shuffle=False, seed=None):
    r"""Indices of k-fold cross-validation, identical to scikit-learn's ``KFold``.

    The samples ``0..n-1`` (shuffled first if ``shuffle``) are cut into ``k``
    consecutive folds; the first ``n mod k`` folds get
    :math:`\lfloor n/k \rfloor + 1` samples, the others
    :math:`\lfloor n/k \rfloor`. Fold :math:`i` is the validation set of
    round :math:`i` and the other folds are its training set. Both index
    arrays are returned **sorted**, as ``KFold.split`` does.

    With ``shuffle=True`` the order is
    ``np.random.RandomState(seed).permutation(n)``, the same permutation
    ``KFold(n_splits=k, shuffle=True, random_state=seed)`` draws, so the folds
    are equal for an integer ``seed``. ``seed=None`` gives a fresh random
    shuffle each call.

    Parameters
    ----------
    n : int
        Number of samples, ``n >= k``.
    k : int
        Number of folds, ``2 <= k <= n``.
    shuffle : bool, default False
        Shuffle before cutting into folds.
    seed : int or None, default None
        Seed of the shuffle. Like ``KFold``, setting it with ``shuffle=False``
        is an error (it would have no effect).

    Yields
    ------
    train_idx : ndarray of int, shape (n - fold_size,)
    val_idx : ndarray of int, shape (fold_size,)

    Raises
    ------
    ValueError
        If ``n`` or ``k`` is not an integer, ``k < 2``, ``k > n``, ``shuffle``
        is not a bool, or ``seed`` is given with ``shuffle=False``. The checks
        run when the function is called, before the first fold is yielded.

    Examples
    --------
    >>> for train_idx, val_idx in kfold_indices(5, 2):
    ...     print(train_idx, val_idx)
    [3 4] [0 1 2]
    [0 1 2] [3 4]
    """
    n = check_positive_int(n, "n", minimum=1)
    k = check_positive_int(k, "k", minimum=2)
    if k > n:
        raise ValueError(f"k must be <= n (each fold needs a sample), got k={k} > n={n}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    if seed is not None:
        if not shuffle:
            raise ValueError(
                "seed has no effect when shuffle=False; leave seed=None or set shuffle=True "
                "(scikit-learn's KFold raises here too)"
            )
        seed = _check_seed(seed)
    return _kfold(n, k, bool(shuffle), seed)


def _kfold(n, k, shuffle, seed):
    order = np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n)
    fold_sizes = np.full(k, n // k)
    fold_sizes[: n % k] += 1
    start = 0
    for size in fold_sizes:
        in_val = np.zeros(n, dtype=bool)
        in_val[order[start:start + size]] = True
        yield np.flatnonzero(~in_val), np.flatnonzero(in_val)
        start += size


# --------------------------------------------------------------------------
# labels and batches
# --------------------------------------------------------------------------

def one_hot(y, n_classes=None):
    r"""One-hot encode integer class labels.

    .. math:: Y_{ic} = [\,y_i = c\,]

    Parameters
    ----------
    y : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int, optional
        Number of classes C; default ``max(y) + 1``.

    Returns
    -------
    ndarray, shape (N, C), float64

    Raises
    ------
    ValueError
        If ``y`` is not 1-D integer labels in range, or ``n_classes < 1``.

    Examples
    --------
    >>> one_hot([0, 2, 1], 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if n_classes is None:
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise ValueError(f"y must be 1-D (one class index per row), got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError("y is empty: pass n_classes to encode an empty label vector")
        y = as_class_indices(arr, np.iinfo(np.int64).max, "y")
        n_classes = int(y.max()) + 1
    else:
        n_classes = check_positive_int(n_classes, "n_classes", minimum=1)
        y = as_class_indices(y, n_classes, "y")
    Y = np.zeros((len(y), n_classes))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def minibatches(X, y, batch_size, rng=None):
    r"""Yield ``(X_batch, y_batch)`` mini-batches covering the data once (one epoch).

    The last batch is smaller when ``batch_size`` does not divide N (like
    torch's ``DataLoader`` with ``drop_last=False``).

    Parameters
    ----------
    X : array_like, shape (N, ...)
    y : array_like, shape (N, ...)
    batch_size : int
        Rows per batch, >= 1.
    rng : numpy.random.Generator, int or None, default None
        ``None`` keeps the original order; a Generator (or a seed for one)
        shuffles the rows first.

    Yields
    ------
    X_batch, y_batch : ndarray
        Consecutive slices of the (shuffled) data.

    Raises
    ------
    ValueError
        If the lengths of ``X`` and ``y`` differ, ``batch_size < 1`` or ``rng``
        is of the wrong type (checked at call time).

    Examples
    --------
    >>> X = np.arange(5)
    >>> [xb.tolist() for xb, yb in minibatches(X, X, 2)]
    [[0, 1], [2, 3], [4]]
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1:
        raise ValueError(f"X must have at least 1 dimension, got shape {X.shape}")
    if y.ndim < 1:
        raise ValueError(f"y must have at least 1 dimension, got shape {y.shape}")
    check_same_length(X, y, "X", "y")
    batch_size = check_positive_int(batch_size, "batch_size", minimum=1)
    if rng is None:
        order = np.arange(len(X))
    elif isinstance(rng, np.random.Generator):
        order = rng.permutation(len(X))
    elif isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        order = np.random.default_rng(rng).permutation(len(X))
    else:
        raise ValueError(f"rng must be a numpy Generator, an int seed or None, got {rng!r}")
    return _batches(X, y, order, batch_size)


def _batches(X, y, order, batch_size):
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


# --------------------------------------------------------------------------
# small datasets (shipped inside scikit-learn, nothing is downloaded)
# --------------------------------------------------------------------------

def load_digits():
    """The 8x8 handwritten digits (1797 images, 10 classes).

    Returns
    -------
    X : ndarray, shape (1797, 64), float64
        Pixel intensities 0..16, one flattened image per row.
    y : ndarray, shape (1797,), int64
        Digit 0..9.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y.shape, int(y.max())
    ((1797, 64), (1797,), 9)
    """
    from sklearn import datasets

    bunch = datasets.load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def load_breast_cancer():
    """The Wisconsin breast-cancer data (569 samples, 30 features, binary).

    Returns
    -------
    X : ndarray, shape (569, 30), float64
    y : ndarray, shape (569,), int64
        1 = benign, 0 = malignant (scikit-learn's coding).

    Examples
    --------
    >>> X, y = load_breast_cancer()
    >>> X.shape, sorted(set(y.tolist()))
    ((569, 30), [0, 1])
    """
    from sklearn import datasets

    bunch = datasets.load_breast_cancer()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def make_moons(n=100, noise=0.0, seed=0):
    """Two interleaving half circles, a small non-linearly-separable 2-D problem.

    Parameters
    ----------
    n : int, default 100
        Number of points (``n // 2`` in class 0 -- rounded as scikit-learn does).
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to the points, >= 0.
    seed : int, default 0
        Random seed (``random_state`` of ``sklearn.datasets.make_moons``).

    Returns
    -------
    X : ndarray, shape (n, 2), float64
    y : ndarray, shape (n,), int64
        Labels 0 and 1.

    Raises
    ------
    ValueError
        If ``n < 1``, ``noise < 0`` or ``seed`` is not an integer.

    Examples
    --------
    >>> X, y = make_moons(10, noise=0.1, seed=0)
    >>> X.shape, y.shape
    ((10, 2), (10,))
    """
    from sklearn import datasets

    n = check_positive_int(n, "n", minimum=1)
    noise = check_in_range(noise, "noise", low=0.0)
    seed = _check_seed(seed)
    X, y = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


# --------------------------------------------------------------------------
# a text corpus for character-level language models
# --------------------------------------------------------------------------
class TextCorpus:
    """A character corpus split once into training and validation text.

    Attributes
    ----------
    vocab : list of str
        The distinct characters of the whole text, sorted (ids are indices).
    train, val : ndarray of int64
        The two parts as token ids: the first ``1 - val_fraction`` of the text
        and the rest, contiguous (no character of the validation text is seen
        while training).
    source : str
        Where the text comes from, and its licence.
    """

    def __init__(self, text: str, val_fraction: float, source: str):
        self.vocab = sorted(set(text))
        self._stoi = {ch: i for i, ch in enumerate(self.vocab)}
        ids = self.encode(text)
        cut = len(ids) - max(1, int(round(val_fraction * len(ids))))
        self.train, self.val = ids[:cut], ids[cut:]
        self.source = source

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text``; ``ValueError`` names a character not in the vocabulary."""
        try:
            return np.fromiter((self._stoi[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise ValueError(f"text contains {exc.args[0]!r}, which is not in the "
                             "corpus vocabulary") from None

    def decode(self, ids) -> str:
        """The text of token ids (each in ``[0, vocab_size)``)."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):
            raise ValueError(f"ids must lie in [0, {len(self.vocab)}), got "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self.vocab[i] for i in ids.reshape(-1).tolist())


def load_text_corpus(val_fraction=0.1, max_chars=None):
    """English prose about Python that ships with every CPython: ``pydoc_data.topics``.

    The help topics of the Python documentation (``help("assert")`` and
    friends: about 79 topics, 465,000 characters, 103 distinct characters on
    CPython 3.11; PSF licence), joined in sorted topic order. Nothing is
    downloaded. This is the one home of the corpus's split and vocabulary; the
    RNN and GPT chapters both use it.

    Parameters
    ----------
    val_fraction : float
        Share of the text, at its end, kept for validation; in ``(0, 0.5]``.
    max_chars : int, optional
        Use only the first ``max_chars`` characters (quick runs); the
        vocabulary is that of the text used.

    Returns
    -------
    TextCorpus

    Examples
    --------
    >>> corpus = load_text_corpus()
    >>> corpus.decode(corpus.encode("assert")) == "assert"
    True
    >>> len(corpus.val) / (len(corpus.train) + len(corpus.val))   # doctest: +ELLIPSIS
    0.1...
    """
    import pydoc_data.topics

    val_fraction = check_in_range(val_fraction, "val_fraction", 0.0, 0.5, low_inclusive=False)
    text = "\n\n".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    if max_chars is not None:
        text = text[:check_positive_int(max_chars, "max_chars", 2)]
    return TextCorpus(text, val_fraction,
                      "pydoc_data.topics (Python's help topics), PSF licence")
