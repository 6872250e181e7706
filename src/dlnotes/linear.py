r"""Linear models: least squares, logistic and softmax regression.

The simplest models of the course, each a linear map followed (or not) by a
squashing function:

* **linear regression** :math:`\hat y = Xw + b`, fitted in closed form by
  least squares -- :func:`fit_line` for one feature, :func:`normal_equation`
  for many;
* **logistic regression** :math:`p = \sigma(Xw + b)` for two classes, trained
  by gradient descent on the binary cross-entropy
  (:func:`logistic_regression_loss`, :func:`logistic_regression_grad`);
* **softmax regression** :math:`P = \mathrm{softmax}(XW + b)` for C classes,
  trained on the cross-entropy (:func:`softmax_regression_loss`,
  :func:`softmax_regression_grad`).

Despite its name, logistic regression is a *classifier*; fitting a line by
least squares is linear regression.

Both classification losses are computed from the **logits**
:math:`z = Xw + b` (never from probabilities), which keeps them finite and
free of overflow warnings even for logits of :math:`\pm 800`, and both
gradients have the same simple form "prediction minus target":
:math:`\partial L / \partial z = (p - y)/N`.

Shapes: ``X`` is ``(N, D)`` -- N samples in rows, D features in columns.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_class_indices,
    as_float_array,
    check_in_range,
    check_positive_int,
    check_same_length,
)
from .activations import log_softmax, sigmoid, softmax
from .data import standardize

__all__ = [
    "fit_line",
    "normal_equation",
    "logistic_regression_loss",
    "logistic_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_grad",
]


# --------------------------------------------------------------------------
# least squares
# --------------------------------------------------------------------------

def fit_line(x, y):
    r"""Least-squares line :math:`y \approx w x + b` through points :math:`(x_i, y_i)`.

    Minimising :math:`E(w, b) = \sum_i (y_i - w x_i - b)^2` (set both partial
    derivatives to zero) gives

    .. math:: w = \frac{\sum_i (x_i - \bar x)(y_i - \bar y)}{\sum_i (x_i - \bar x)^2},
              \qquad b = \bar y - w \bar x .

    The slope is undetermined when every :math:`x_i` is the same (vertical
    data: the denominator is 0), so that raises instead of dividing by zero.

    Parameters
    ----------
    x : array_like, shape (N,)
        Inputs, finite, N >= 2, not all equal.
    y : array_like, shape (N,)
        Targets, finite.

    Returns
    -------
    w, b : float
        Slope and intercept.

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not 1-D or not finite, their lengths differ,
        there are fewer than 2 points, or ``x`` is constant.

    Examples
    --------
    >>> fit_line([0.0, 1.0, 2.0], [1.0, 3.0, 5.0])
    (2.0, 1.0)
    """
    x = as_float_array(x, "x", ndim=1, finite=True)
    y = as_float_array(y, "y", ndim=1, finite=True)
    check_same_length(x, y, "x", "y")
    if len(x) < 2:
        raise ValueError(f"x and y need at least 2 points to fit a line, got {len(x)}")
    if np.all(x == x[0]):
        raise ValueError(
            f"x is constant (every x_i = {x[0]}): the slope of the line is undetermined"
        )
    dx = x - x.mean()
    dy = y - y.mean()
    # Same ratio as sum(dx * dy) / sum(dx * dx), with dx rescaled to max |u| = 1 first
    # so that squaring it cannot underflow (x ~ 1e-200) or overflow (x ~ 1e200).
    scale = np.max(np.abs(dx))
    u = dx / scale
    w = np.dot(u, dy) / np.dot(u, u) / scale
    b = y.mean() - w * x.mean()
    return float(w), float(b)


def normal_equation(X, y):
    r"""Least-squares weights of :math:`y \approx Xw + b`, bias last.

    Append a column of ones, :math:`A = [X \;\; \mathbf 1]`, and minimise
    :math:`\|A\theta - y\|^2`. The minimiser satisfies the *normal equation*

    .. math:: A^\top A\, \theta = A^\top y, \qquad
              \theta = (A^\top A)^{-1} A^\top y \ \text{ when } A \text{ has full column rank}.

    The inverse is only notation: forming :math:`A^\top A` squares the
    condition number, and inverting it fails when it is singular. The
    solution here is computed by ``np.linalg.lstsq`` (an SVD of :math:`A`).
    If :math:`A` is rank deficient (duplicated or constant columns, fewer
    samples than D + 1), infinitely many :math:`\theta` fit equally well;
    the one returned is the **minimum-norm** solution
    :math:`\theta = A^+ y` (norm taken over all of :math:`\theta`, bias
    included), exactly what ``np.linalg.lstsq(A, y)`` returns. (scikit-learn's
    ``LinearRegression`` centres the data first and so leaves the bias out
    of the norm; the two agree whenever the solution is unique.)

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features, **without** a column of ones; finite, N >= 1.
    y : array_like, shape (N,) or (N, K)
        Targets, finite.

    Returns
    -------
    theta : ndarray, shape (D + 1,) or (D + 1, K)
        ``theta[:D]`` are the weights :math:`w`, ``theta[D]`` the bias :math:`b`.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, ``y`` not 1-D or 2-D, either is not finite or
        empty, or their lengths differ.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> normal_equation(X, [1.0, 3.0, 5.0])
    array([2., 1.])
    """
    X = as_float_array(X, "X", ndim=2, finite=True)
    y = as_float_array(y, "y", ndim=(1, 2), finite=True)
    check_same_length(X, y, "X", "y")
    if X.shape[0] == 0:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta


# --------------------------------------------------------------------------
# logistic regression (two classes)
# --------------------------------------------------------------------------

def _check_logistic(w, b, X, y):
    X = as_float_array(X, "X", ndim=2, finite=True)
    if X.shape[0] == 0:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    D = X.shape[1]
    w = as_float_array(w, "w", ndim=1, finite=True)
    if w.shape != (D,):
        raise ValueError(f"w must have shape (D,) = ({D},) to match X {X.shape}, got {w.shape}")
    b = as_float_array(b, "b", ndim=0, finite=True)
    y = as_float_array(y, "y", ndim=1, finite=True)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (N,) = ({X.shape[0]},) to match X {X.shape}, got {y.shape}"
        )
    if np.any((y < 0) | (y > 1)):
        raise ValueError(
            f"y must be in [0, 1] (labels 0/1 or soft targets), got values in "
            f"[{y.min()}, {y.max()}]"
        )
    return w, float(b), X, y


def logistic_regression_loss(w, b, X, y):
    r"""Mean binary cross-entropy of logistic regression, from the logits.

    With :math:`z = Xw + b` and :math:`p = \sigma(z)`,

    .. math:: L = \frac1N \sum_i -y_i \log p_i - (1 - y_i)\log(1 - p_i)
                = \frac1N \sum_i \max(z_i, 0) - y_i z_i + \log\left(1 + e^{-|z_i|}\right),

    the second form being the stable one computed here (it never takes
    :math:`\log 0` or :math:`e^{800}`). Same value as torch's
    ``binary_cross_entropy_with_logits(z, y)``.

    Parameters
    ----------
    w : array_like, shape (D,)
    b : float
    X : array_like, shape (N, D)
    y : array_like, shape (N,)
        Targets in [0, 1]: hard labels 0/1 or soft probabilities.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a shape does not match ``X``, a value is not finite, or ``y`` is
        outside [0, 1].

    Examples
    --------
    >>> logistic_regression_loss([0.0], 0.0, [[1.0], [2.0]], [0, 1])  # log 2
    0.6931471805599453
    """
    w, b, X, y = _check_logistic(w, b, X, y)
    z = X @ w + b
    with np.errstate(under="ignore"):  # exp(-800) underflowing to 0 is harmless
        softplus_tail = np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(np.maximum(z, 0.0) - y * z + softplus_tail))


def logistic_regression_grad(w, b, X, y):
    r"""Gradient of :func:`logistic_regression_loss` with respect to ``w`` and ``b``.

    Because :math:`\sigma'(z) = \sigma(z)(1-\sigma(z))` cancels against the
    derivative of the cross-entropy, :math:`\partial L / \partial z_i =
    (p_i - y_i)/N`, and so

    .. math:: \frac{\partial L}{\partial w} = \frac1N X^\top (p - y), \qquad
              \frac{\partial L}{\partial b} = \frac1N \sum_i (p_i - y_i),
              \qquad p = \sigma(Xw + b).

    :math:`\sigma` is computed stably, so logits of :math:`\pm 800` are fine.

    Parameters
    ----------
    w : array_like, shape (D,)
    b : float
    X : array_like, shape (N, D)
    y : array_like, shape (N,)
        Targets in [0, 1].

    Returns
    -------
    dw : ndarray, shape (D,)
    db : float

    Raises
    ------
    ValueError
        As :func:`logistic_regression_loss`.

    Examples
    --------
    >>> dw, db = logistic_regression_grad([0.0], 0.0, [[1.0], [2.0]], [0, 1])
    >>> dw, db                     # p = 0.5: ((0.5 - 0) * 1 + (0.5 - 1) * 2) / 2
    (array([-0.25]), 0.0)
    """
    w, b, X, y = _check_logistic(w, b, X, y)
    p = sigmoid(X @ w + b)
    dz = (p - y) / X.shape[0]
    return X.T @ dz, float(np.sum(dz))


# --------------------------------------------------------------------------
# softmax regression (C classes)
# --------------------------------------------------------------------------

def _check_softmax(W, b, X, y):
    X = as_float_array(X, "X", ndim=2, finite=True)
    if X.shape[0] == 0:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    N, D = X.shape
    W = as_float_array(W, "W", ndim=2, finite=True)
    if W.shape[0] != D or W.shape[1] == 0:
        raise ValueError(
            f"W must have shape (D, C) = ({D}, C) with C >= 1 to match X {X.shape}, "
            f"got {W.shape}"
        )
    C = W.shape[1]
    b = as_float_array(b, "b", ndim=1, finite=True)
    if b.shape != (C,):
        raise ValueError(f"b must have shape (C,) = ({C},) to match W {W.shape}, got {b.shape}")
    y = as_class_indices(y, C, "y")
    if y.shape != (N,):
        raise ValueError(f"y must have shape (N,) = ({N},) to match X {X.shape}, got {y.shape}")
    return W, b, X, y


def softmax_regression_loss(W, b, X, y):
    r"""Mean cross-entropy of softmax regression, from the logits.

    With logits :math:`Z = XW + b` (``b`` added to every row),

    .. math:: L = -\frac1N \sum_i \log \mathrm{softmax}(Z_i)_{y_i}
                = \frac1N \sum_i \left(\log\sum_c e^{Z_{ic}} - Z_{i y_i}\right),

    computed with ``log_softmax`` (log-sum-exp), so it is finite for logits
    of any size. Same value as torch's ``cross_entropy(Z, y)``.

    Parameters
    ----------
    W : array_like, shape (D, C)
    b : array_like, shape (C,)
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
        Class indices in ``[0, C)``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a shape does not match ``X``/``W``, a value is not finite, or a
        label is not an integer in ``[0, C)``.

    Examples
    --------
    >>> W = np.zeros((1, 4)); b = np.zeros(4)
    >>> softmax_regression_loss(W, b, [[1.0]], [2])   # log 4
    1.3862943611198906
    """
    W, b, X, y = _check_softmax(W, b, X, y)
    logp = log_softmax(X @ W + b, axis=1)
    return float(-np.mean(logp[np.arange(len(y)), y]))


def softmax_regression_grad(W, b, X, y):
    r"""Gradient of :func:`softmax_regression_loss` with respect to ``W`` and ``b``.

    With :math:`P = \mathrm{softmax}(XW + b)` row by row and :math:`Y` the
    one-hot labels, :math:`\partial L/\partial Z = (P - Y)/N`, so

    .. math:: \frac{\partial L}{\partial W} = \frac1N X^\top (P - Y), \qquad
              \frac{\partial L}{\partial b} = \frac1N \sum_i (P_i - Y_i).

    Parameters
    ----------
    W : array_like, shape (D, C)
    b : array_like, shape (C,)
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
        Class indices in ``[0, C)``.

    Returns
    -------
    dW : ndarray, shape (D, C)
    db : ndarray, shape (C,)

    Raises
    ------
    ValueError
        As :func:`softmax_regression_loss`.

    Examples
    --------
    >>> dW, db = softmax_regression_grad(np.zeros((1, 2)), np.zeros(2), [[2.0]], [1])
    >>> dW, db                     # P = [0.5, 0.5], Y = [0, 1]
    (array([[ 1., -1.]]), array([ 0.5, -0.5]))
    """
    W, b, X, y = _check_softmax(W, b, X, y)
    N = X.shape[0]
    dZ = softmax(X @ W + b, axis=1)
    dZ[np.arange(N), y] -= 1.0
    dZ /= N
    return X.T @ dZ, dZ.sum(axis=0)


# --------------------------------------------------------------------------
# a training loop and choosing a hyper-parameter by k-fold
# --------------------------------------------------------------------------

__all__ += ["train_logistic_regression", "ridge_fit", "kfold_select"]


def _check_real(value, name: str, positive: bool = False) -> float:
    """A finite real number (> 0 with ``positive``)."""
    low = 0.0 if positive else None
    v = check_in_range(value, name, low=low, low_inclusive=not positive)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _check_rows(X, y):
    """Finite ``X`` of shape (N, D), N >= 1, and finite ``y`` of shape (N,)."""
    X = as_float_array(X, "X", ndim=2, finite=True)
    if X.shape[0] == 0:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    y = as_float_array(y, "y", ndim=1, finite=True)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (N,) = ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
    return X, y


def train_logistic_regression(X, y, grad_fn, lr, epochs, batch_size, seed):
    r"""Train logistic regression by mini-batch gradient descent.

    ``w`` (zeros, shape ``(D,)``) and ``b`` (0.0) are updated by

    .. math:: w \leftarrow w - \eta\, \frac{\partial L_B}{\partial w}, \qquad
              b \leftarrow b - \eta\, \frac{\partial L_B}{\partial b},

    where :math:`L_B` is the mean binary cross-entropy on one mini-batch
    :math:`B` and ``(dw, db) = grad_fn(w, b, X[B], y[B])``. The batches are
    fixed by one generator, ``rng = np.random.default_rng(seed)``, created
    once: every epoch draws ``perm = rng.permutation(N)`` and visits the
    batches ``perm[i:i + batch_size]`` for ``i = 0, batch_size, ...`` in order,
    the last, smaller batch included. After epoch :math:`e`,
    ``losses[e]`` is the mean BCE over the **whole** training set
    (:func:`logistic_regression_loss`).

    ``grad_fn`` is a parameter so that any gradient with the signature of
    :func:`logistic_regression_grad` can drive the loop (a reader's own, or
    this module's).

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features, finite, N >= 1.
    y : array_like, shape (N,)
        Targets in [0, 1].
    grad_fn : callable
        ``grad_fn(w, b, Xb, yb) -> (dw, db)`` with ``dw`` of shape ``(D,)``
        and ``db`` a number.
    lr : float
        Learning rate :math:`\eta > 0`.
    epochs : int
        Number of passes over the data, >= 1.
    batch_size : int
        Mini-batch size, >= 1 (larger than N means full batch).
    seed : int
        Seed of ``np.random.default_rng``, >= 0.

    Returns
    -------
    w : ndarray, shape (D,)
    b : float
    losses : ndarray, shape (epochs,)

    Raises
    ------
    ValueError
        If ``X``/``y`` are not as described, ``grad_fn`` is not callable or
        returns a ``dw`` of the wrong shape, or ``lr``, ``epochs``,
        ``batch_size``, ``seed`` are out of range.

    Examples
    --------
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 0.0, 1.0, 1.0])
    >>> w, b, losses = train_logistic_regression(X, y, logistic_regression_grad,
    ...                                          lr=0.5, epochs=20, batch_size=2, seed=0)
    >>> bool(w[0] > 1.0), bool(losses[-1] < losses[0] < np.log(2))
    (True, True)
    """
    X, y = _check_rows(X, y)
    N, D = X.shape
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"y must be in [0, 1], got values in [{y.min()}, {y.max()}]")
    if not callable(grad_fn):
        raise ValueError(f"grad_fn must be callable, got {type(grad_fn).__name__}")
    lr = _check_real(lr, "lr", positive=True)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_positive_int(seed, "seed", minimum=0)

    w, b = np.zeros(D), 0.0
    rng = np.random.default_rng(seed)
    losses = np.empty(epochs)
    for e in range(epochs):
        perm = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = perm[i:i + batch_size]
            dw, db = grad_fn(w, b, X[idx], y[idx])
            dw = np.asarray(dw, dtype=np.float64)
            if dw.shape != (D,):
                raise ValueError(f"grad_fn must return dw of shape (D,) = ({D},), got {dw.shape}")
            w -= lr * dw
            b -= lr * float(db)
        losses[e] = logistic_regression_loss(w, b, X, y)
    return w, b, losses


def ridge_fit(X, y, lam):
    r"""Ridge regression in closed form, with an unpenalised intercept.

    Minimises :math:`\frac1N\|Xw + b - y\|^2 + \lambda\|w\|^2`. Setting the
    derivative in :math:`b` to zero gives :math:`b = \bar y - \bar x^\top w`;
    with the centred data :math:`X_c = X - \bar x`, :math:`y_c = y - \bar y`
    the weights solve

    .. math:: (X_c^\top X_c + N\lambda I)\, w = X_c^\top y_c ,

    computed as the least-squares solution of the stacked system
    :math:`\begin{bmatrix} X_c \\ \sqrt{N\lambda}\, I\end{bmatrix} w \approx
    \begin{bmatrix} y_c \\ 0 \end{bmatrix}` (no :math:`X^\top X` is formed).
    For :math:`\lambda = 0` and a rank-deficient :math:`X_c` this is the
    minimum-norm least-squares :math:`w`. The same minimiser as scikit-learn's
    ``Ridge(alpha=N * lam)``, whose objective is :math:`N` times this one.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features, finite, N >= 1.
    y : array_like, shape (N,)
        Targets, finite.
    lam : float
        Penalty :math:`\lambda \ge 0`.

    Returns
    -------
    w : ndarray, shape (D,)
    b : float

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or empty, ``y`` not of shape ``(N,)``, a value is
        not finite, or ``lam`` is negative.

    Examples
    --------
    >>> w, b = ridge_fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0], lam=0.0)
    >>> np.round(w, 12), round(b, 12)
    (array([2.]), 1.0)
    """
    X, y = _check_rows(X, y)
    N, D = X.shape
    lam = _check_real(lam, "lam")
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    x_mean, y_mean = X.mean(axis=0), y.mean()
    A = np.vstack([X - x_mean, np.sqrt(N * lam) * np.eye(D)])
    rhs = np.concatenate([y - y_mean, np.zeros(D)])
    w, *_ = np.linalg.lstsq(A, rhs, rcond=None)
    return w, float(y_mean - x_mean @ w)


def _check_folds(folds, N: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if isinstance(folds, (str, bytes)) or not hasattr(folds, "__iter__"):
        raise ValueError(f"folds must be a list of (train_idx, val_idx) pairs, got {folds!r}")
    checked = []
    for k, pair in enumerate(folds):
        if not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"folds[{k}] must be a pair (train_idx, val_idx), got {pair!r}")
        idx = []
        for part, name in zip(pair, ("train_idx", "val_idx"), strict=True):
            arr = np.asarray(part)
            if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"folds[{k}] {name} must be a non-empty 1-D array of integer "
                                 f"indices, got {arr.dtype} array of shape {arr.shape}")
            if arr.min() < 0 or arr.max() >= N:
                raise ValueError(f"folds[{k}] {name} must hold indices in [0, {N}), "
                                 f"got values in [{arr.min()}, {arr.max()}]")
            idx.append(arr)
        checked.append((idx[0], idx[1]))
    if not checked:
        raise ValueError("folds must hold at least one (train_idx, val_idx) pair")
    return checked


def kfold_select(X, y, lambdas, folds):
    r"""Choose the ridge penalty :math:`\lambda` by k-fold cross-validation.

    For every :math:`\lambda` and every fold ``(train_idx, val_idx)``:

    1. standardise the features with the mean and standard deviation
       (``ddof=0``) of the **training part only** (:func:`dlnotes.data.standardize`),
       and apply the same statistics to the validation part -- fitting them
       on all of ``X`` would leak the validation rows into training;
    2. fit :func:`ridge_fit` on the training part;
    3. score the mean squared error on the validation part,
       :math:`\mathrm{MSE}_k(\lambda) = \frac{1}{|V_k|}\sum_{i \in V_k}(x_i^\top w + b - y_i)^2`.

    .. math:: \overline{\mathrm{MSE}}(\lambda) = \frac1K \sum_{k=1}^{K} \mathrm{MSE}_k(\lambda),
              \qquad \lambda^\star = \arg\min_\lambda \overline{\mathrm{MSE}}(\lambda)

    (a plain mean over folds, not weighted by fold size). Ties -- means
    equal to a relative :math:`10^{-12}` -- go to the **largest**
    :math:`\lambda`, the simpler model.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features, finite.
    y : array_like, shape (N,)
        Targets, finite.
    lambdas : array_like, shape (L,)
        Candidate penalties, each finite and >= 0, L >= 1.
    folds : iterable of (train_idx, val_idx)
        Integer index arrays into ``X``, e.g. ``list(dlnotes.data.kfold_indices(N, k))``.

    Returns
    -------
    best_lambda : float
    mean_val_mse : ndarray, shape (L,)
        The fold-averaged validation MSE of each entry of ``lambdas``.

    Raises
    ------
    ValueError
        If a shape does not match, a value is not finite, a penalty is
        negative, ``folds`` is empty or holds an empty or out-of-range index
        array.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    >>> folds = [(np.arange(20, 40), np.arange(20)), (np.arange(20), np.arange(20, 40))]
    >>> best, mse = kfold_select(X, y, [0.0, 0.1, 10.0], folds)
    >>> best, bool(mse[0] < mse[2])
    (0.0, True)
    """
    X, y = _check_rows(X, y)
    N = X.shape[0]
    lambdas = as_float_array(lambdas, "lambdas", ndim=1, finite=True)
    if lambdas.size == 0 or np.any(lambdas < 0):
        raise ValueError(f"lambdas must be a non-empty 1-D array of values >= 0, got {lambdas}")
    folds = _check_folds(folds, N)

    fold_mse = np.empty((len(lambdas), len(folds)))
    for k, (tr, va) in enumerate(folds):
        X_tr, X_va = standardize(X[tr], X[va])
        for j, lam in enumerate(lambdas):
            w, b = ridge_fit(X_tr, y[tr], lam)
            fold_mse[j, k] = np.mean((X_va @ w + b - y[va]) ** 2)
    mean_mse = fold_mse.mean(axis=1)
    tied = mean_mse <= mean_mse.min() * (1.0 + 1e-12)
    return float(lambdas[tied].max()), mean_mse
