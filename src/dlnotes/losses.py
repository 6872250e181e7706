r"""Loss functions and their gradients.

A loss turns a prediction and a target into one number to minimise. Every loss
here takes the prediction first and the target second, like
``torch.nn.functional``, averages over the batch (torch's ``reduction="mean"``)
and returns a Python ``float``. Next to each loss ``<name>(...)`` sits
``<name>_grad(...)``, taking the same arguments and returning
:math:`\partial\,\text{loss} / \partial\,\text{input}` with the input's shape,
the array backprop starts from.

* **regression** -- ``mse``, ``mae``, ``rmse``, ``huber``: input and target of
  the same (any) shape, averaged over all elements.
* **binary classification** -- ``binary_cross_entropy`` (from probabilities),
  ``binary_cross_entropy_with_logits`` (from logits, the stable choice),
  ``focal_loss`` and ``hinge``.
* **multi-class** -- ``cross_entropy`` (logits ``(N, C)`` and class indices
  ``(N,)``), ``nll_loss`` (log-probabilities), ``multiclass_hinge``.
* **distributions** -- ``kl_divergence(p, q)``, :math:`\mathrm{KL}(p\,\|\,q)`
  with the target distribution ``p`` first (the one exception to
  input-first).

Where a loss has a kink (``mae`` at a tie, ``hinge`` exactly on the margin,
``rmse`` at zero error) the ``_grad`` returns the subgradient torch autograd
returns, documented on each function.

Bad input raises ``ValueError`` naming the argument: shape mismatches, empty
batches, probabilities outside :math:`[0, 1]`, class indices out of range,
rows of ``p``/``q`` that are not distributions, hyper-parameters out of range.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from ._validation import (
    as_class_indices,
    as_float_array,
    check_finite,
    check_in_range,
    check_nonempty,
    check_same_length,
    check_same_shape,
)
from .activations import log_softmax, sigmoid, softmax

__all__ = [
    "mse",
    "mse_grad",
    "mae",
    "mae_grad",
    "rmse",
    "rmse_grad",
    "huber",
    "huber_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "nll_loss",
    "nll_loss_grad",
    "kl_divergence",
    "kl_divergence_grad",
    "focal_loss",
    "focal_loss_grad",
    "hinge",
    "hinge_grad",
    "multiclass_hinge",
    "multiclass_hinge_grad",
]

# torch clamps log-probabilities in binary_cross_entropy at -100 ...
_BCE_LOG_MIN = -100.0
# ... and its backward divides by max(p (1 - p), 1e-12), the constant being
# the float32 literal 1e-12f (= 9.99999996e-13 in float64).
_BCE_EPS = float(np.float32(1e-12))
# how far a row of p or q may sum away from 1
_SUM_TOL = 1e-6


# --------------------------------------------------------------------------
# private checks
# --------------------------------------------------------------------------

def _pair(input, target, input_name="input", target_name="target"):
    """Float arrays of the same non-empty shape; the target takes the input's dtype."""
    x = as_float_array(input, input_name)
    t = as_float_array(target, target_name)
    check_same_shape(x, t, input_name, target_name)
    check_nonempty(x, input_name)
    return x, t.astype(x.dtype, copy=False)


def _check_unit_interval(a: np.ndarray, name: str) -> None:
    """Every entry in [0, 1] (NaN fails too)."""
    ok = (a >= 0) & (a <= 1)
    if not np.all(ok):
        raise ValueError(f"{name} must contain values in [0, 1], found {a[~ok].flat[0]!r}")


def _logits_and_classes(logits, target, name="logits"):
    """``(N, C)`` float scores and ``(N,)`` integer class indices in ``[0, C)``."""
    z = as_float_array(logits, name, ndim=2)
    check_nonempty(z, name)
    y = as_class_indices(target, z.shape[1], "target")
    check_same_length(z, y, name, "target")
    return z, y


def _one_hot(y: np.ndarray, n_classes: int, dtype=np.float64) -> np.ndarray:
    out = np.zeros((y.size, n_classes), dtype=dtype)
    out[np.arange(y.size), y] = 1.0
    return out


# --------------------------------------------------------------------------
# regression
# --------------------------------------------------------------------------

def mse(input, target) -> float:
    r"""Mean squared error.

    .. math:: \mathrm{MSE} = \frac{1}{n}\sum_{i=1}^{n} (x_i - y_i)^2

    where :math:`n` is the number of elements (torch's ``mse_loss``).

    Parameters
    ----------
    input : array_like
        Predictions :math:`x`, any shape.
    target : array_like
        Targets :math:`y`, same shape as ``input``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ or ``input`` is empty.

    Examples
    --------
    >>> mse([1.0, 2.0, 3.0], [1.0, 0.0, 0.0])
    4.333333333333333
    """
    x, t = _pair(input, target)
    return float(np.mean((x - t) ** 2))


def mse_grad(input, target) -> np.ndarray:
    r"""Gradient of :func:`mse` with respect to ``input``.

    .. math:: \frac{\partial\,\mathrm{MSE}}{\partial x_i} = \frac{2}{n}(x_i - y_i)

    Returns
    -------
    ndarray
        Same shape as ``input``.

    Raises
    ------
    ValueError
        As :func:`mse`.

    Examples
    --------
    >>> mse_grad([1.0, 2.0], [0.0, 0.0])
    array([1., 2.])
    """
    x, t = _pair(input, target)
    return 2.0 * (x - t) / x.size


def mae(input, target) -> float:
    r"""Mean absolute error (torch's ``l1_loss``).

    .. math:: \mathrm{MAE} = \frac{1}{n}\sum_{i=1}^{n} |x_i - y_i|

    Parameters
    ----------
    input : array_like
        Predictions, any shape.
    target : array_like
        Targets, same shape as ``input``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ or ``input`` is empty.

    Examples
    --------
    >>> mae([1.0, 2.0, 3.0], [1.0, 0.0, 0.0])
    1.6666666666666667
    """
    x, t = _pair(input, target)
    return float(np.mean(np.abs(x - t)))


def mae_grad(input, target) -> np.ndarray:
    r"""(Sub)gradient of :func:`mae` with respect to ``input``.

    .. math:: \frac{\partial\,\mathrm{MAE}}{\partial x_i}
              = \frac{1}{n}\operatorname{sign}(x_i - y_i)

    At a tie :math:`x_i = y_i` the value is ``0`` (``sign(0) = 0``), the
    subgradient torch autograd returns.

    Returns
    -------
    ndarray
        Same shape as ``input``.

    Raises
    ------
    ValueError
        As :func:`mae`.

    Examples
    --------
    >>> mae_grad([1.0, 2.0, -3.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    array([ 0.25,  0.25, -0.25,  0.  ])
    """
    x, t = _pair(input, target)
    return np.sign(x - t) / x.size


def rmse(input, target) -> float:
    r"""Root mean squared error.

    .. math:: \mathrm{RMSE} = \sqrt{\frac{1}{n}\sum_{i=1}^{n} (x_i - y_i)^2}

    Same units as the target, unlike MSE.

    Parameters
    ----------
    input : array_like
        Predictions, any shape.
    target : array_like
        Targets, same shape as ``input``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ or ``input`` is empty.

    Examples
    --------
    >>> rmse([3.0, -4.0], [0.0, 0.0])
    3.5355339059327378
    """
    return float(np.sqrt(mse(input, target)))


def rmse_grad(input, target) -> np.ndarray:
    r"""(Sub)gradient of :func:`rmse` with respect to ``input``.

    .. math:: \frac{\partial\,\mathrm{RMSE}}{\partial x_i} = \frac{x_i - y_i}{n\,\mathrm{RMSE}}

    RMSE is :math:`\|x - y\|_2 / \sqrt{n}`, not differentiable at zero error.
    There the value is ``0`` (a valid subgradient), which is what torch
    autograd returns for ``torch.linalg.vector_norm(x - y) / sqrt(n)``.
    (``torch.sqrt(F.mse_loss(x, y))`` gives NaN there: ``0 * inf``.)

    Returns
    -------
    ndarray
        Same shape as ``input``.

    Raises
    ------
    ValueError
        As :func:`rmse`.

    Examples
    --------
    >>> rmse_grad([3.0, -4.0], [0.0, 0.0])
    array([ 0.42426407, -0.56568542])
    >>> rmse_grad([1.0, 2.0], [1.0, 2.0])
    array([0., 0.])
    """
    x, t = _pair(input, target)
    r = np.sqrt(np.mean((x - t) ** 2))
    if r == 0:
        return np.zeros_like(x)
    return (x - t) / (x.size * r)


def huber(input, target, delta=1.0) -> float:
    r"""Huber loss (torch's ``huber_loss``): quadratic near 0, linear beyond ``delta``.

    .. math:: \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
              \delta\,\bigl(|d_i| - \tfrac12\delta\bigr) & |d_i| \ge \delta \end{cases},
              \qquad d_i = x_i - y_i, \qquad \text{loss} = \frac1n\sum_i \ell_i

    The two pieces meet with equal value and slope at :math:`|d| = \delta`,
    so the loss is continuously differentiable; large errors count only
    linearly (robust to outliers, like MAE) while small ones are smooth
    (like MSE). ``huber = delta * smooth_l1(beta=delta)``.

    Parameters
    ----------
    input : array_like
        Predictions, any shape.
    target : array_like
        Targets, same shape as ``input``.
    delta : float, default 1.0
        Threshold between the two regimes, finite and > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, ``input`` is empty or ``delta <= 0``.

    Examples
    --------
    >>> huber([0.5, 3.0], [0.0, 0.0])
    1.3125
    """
    x, t = _pair(input, target)
    delta = check_finite(delta, "delta", low=0.0, low_inclusive=False)
    a = np.abs(x - t)
    return float(np.mean(np.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))))


def huber_grad(input, target, delta=1.0) -> np.ndarray:
    r"""Gradient of :func:`huber` with respect to ``input``.

    .. math:: \frac{\partial\,\text{loss}}{\partial x_i}
              = \frac1n \operatorname{clip}(x_i - y_i, -\delta, \delta)

    Returns
    -------
    ndarray
        Same shape as ``input``.

    Raises
    ------
    ValueError
        As :func:`huber`.

    Examples
    --------
    >>> huber_grad([0.5, 3.0], [0.0, 0.0])
    array([0.25, 0.5 ])
    """
    x, t = _pair(input, target)
    delta = check_finite(delta, "delta", low=0.0, low_inclusive=False)
    return np.clip(x - t, -delta, delta) / x.size


# --------------------------------------------------------------------------
# binary classification
# --------------------------------------------------------------------------

def _bce_inputs(probs, target):
    p, t = _pair(probs, target, "probs", "target")
    _check_unit_interval(p, "probs")
    _check_unit_interval(t, "target")
    return p, t


def binary_cross_entropy(probs, target) -> float:
    r"""Binary cross-entropy of predicted probabilities (torch's ``binary_cross_entropy``).

    .. math:: \text{loss} = -\frac1n\sum_{i=1}^{n}\Bigl[y_i \log p_i + (1 - y_i)\log(1 - p_i)\Bigr]

    Each :math:`\log` is clamped below at :math:`-100`, as torch does, so a
    confidently wrong probability of exactly 0 or 1 costs 100 instead of
    infinity. Prefer :func:`binary_cross_entropy_with_logits` when the model
    outputs logits: going through ``sigmoid`` first loses precision.

    Parameters
    ----------
    probs : array_like
        Predicted probabilities :math:`p \in [0, 1]`, any shape.
    target : array_like
        Targets in :math:`[0, 1]` (usually 0/1; soft labels allowed as in
        torch), same shape as ``probs``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, ``probs`` is empty, or ``probs`` / ``target``
        has a value outside :math:`[0, 1]`.

    Examples
    --------
    >>> binary_cross_entropy([0.9, 0.2], [1, 0])
    0.164252033486018
    >>> binary_cross_entropy([0.0], [1])
    100.0
    """
    p, t = _bce_inputs(probs, target)
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped right away
        log_p = np.maximum(np.log(p), _BCE_LOG_MIN)
        log_1mp = np.maximum(np.log(1.0 - p), _BCE_LOG_MIN)
    return float(-np.mean(t * log_p + (1.0 - t) * log_1mp))


def binary_cross_entropy_grad(probs, target) -> np.ndarray:
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``probs``.

    .. math:: \frac{\partial\,\text{loss}}{\partial p_i}
              = \frac1n \frac{p_i - y_i}{\max\bigl(p_i (1 - p_i), \varepsilon\bigr)},
              \qquad \varepsilon = 10^{-12}

    This is torch's formula (its :math:`\varepsilon` is the float32
    ``1e-12``): at :math:`p \in \{0, 1\}` it stays finite, about
    :math:`\pm 10^{12}/n` where the prediction is wrong and 0 where it is
    right. (It is not the derivative of the clamped loss, which would be 0.)

    Returns
    -------
    ndarray
        Same shape as ``probs``.

    Raises
    ------
    ValueError
        As :func:`binary_cross_entropy`.

    Examples
    --------
    >>> binary_cross_entropy_grad([0.5, 0.8], [1, 0])
    array([-1. ,  2.5])
    """
    p, t = _bce_inputs(probs, target)
    return (p - t) / np.maximum(p * (1.0 - p), _BCE_EPS) / p.size


def _bce_logits_inputs(logits, target):
    z, t = _pair(logits, target, "logits", "target")
    _check_unit_interval(t, "target")
    return z, t


def _softplus_bce(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Elementwise :math:`-[t\log\sigma(z) + (1-t)\log(1-\sigma(z))]`, stably."""
    with np.errstate(under="ignore"):
        return np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_with_logits(logits, target) -> float:
    r"""Binary cross-entropy from logits, computed stably.

    With :math:`p = \sigma(z)`, :math:`-\log p = \log(1 + e^{-z})` and
    :math:`-\log(1-p) = \log(1 + e^{z})`, which combine into

    .. math:: \ell_i = \max(z_i, 0) - z_i y_i + \log\bigl(1 + e^{-|z_i|}\bigr),
              \qquad \text{loss} = \frac1n\sum_i \ell_i

    Only :math:`e^{-|z|} \le 1` is ever computed, so logits of
    :math:`\pm 1000` give exact, finite losses (no clamping needed, unlike
    :func:`binary_cross_entropy`). Same as torch's
    ``binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array_like
        Logits :math:`z`, any shape.
    target : array_like
        Targets in :math:`[0, 1]`, same shape as ``logits``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, ``logits`` is empty or ``target`` is outside
        :math:`[0, 1]`.

    Examples
    --------
    >>> binary_cross_entropy_with_logits([1000.0, -1000.0], [0, 0])
    500.0
    """
    z, t = _bce_logits_inputs(logits, target)
    return float(np.mean(_softplus_bce(z, t)))


def binary_cross_entropy_with_logits_grad(logits, target) -> np.ndarray:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` w.r.t. ``logits``.

    .. math:: \frac{\partial\,\text{loss}}{\partial z_i} = \frac1n\bigl(\sigma(z_i) - y_i\bigr)

    Returns
    -------
    ndarray
        Same shape as ``logits``.

    Raises
    ------
    ValueError
        As :func:`binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad([0.0, 1000.0], [1, 0])
    array([-0.25,  0.5 ])
    """
    z, t = _bce_logits_inputs(logits, target)
    return (sigmoid(z) - t) / z.size


def _focal_inputs(logits, target, alpha, gamma):
    z, t = _bce_logits_inputs(logits, target)
    if not (isinstance(alpha, (int, float, np.number)) and alpha == -1):
        alpha = check_finite(alpha, "alpha", low=0.0, high=1.0)
    gamma = check_finite(gamma, "gamma", low=0.0)
    return z, t, float(alpha), gamma


def _alpha_t(t: np.ndarray, alpha: float):
    """Class weight alpha for positives, 1 - alpha for negatives (1 if alpha = -1)."""
    if alpha < 0:
        return 1.0
    return alpha * t + (1.0 - alpha) * (1.0 - t)


def focal_loss(logits, target, alpha=0.25, gamma=2.0) -> float:
    r"""Binary sigmoid focal loss (RetinaNet), mean over elements.

    With :math:`p = \sigma(z)`, the probability of the true class
    :math:`p_t = p\,y + (1 - p)(1 - y)` and the class weight
    :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)`:

    .. math:: \ell_i = -\alpha_t\,(1 - p_t)^{\gamma}\,\log p_t,
              \qquad \text{loss} = \frac1n\sum_i \ell_i

    :math:`-\log p_t` is the binary cross-entropy, computed from the logits
    as in :func:`binary_cross_entropy_with_logits`. The factor
    :math:`(1 - p_t)^\gamma` down-weights easy, well-classified examples.
    ``gamma=0`` and ``alpha=-1`` give plain BCE. Same as
    ``torchvision.ops.sigmoid_focal_loss(..., reduction="mean")``.

    Parameters
    ----------
    logits : array_like
        Logits :math:`z`, any shape.
    target : array_like
        Targets in :math:`[0, 1]` (usually 0/1), same shape as ``logits``.
    alpha : float, default 0.25
        Weight of the positive class, in :math:`[0, 1]`; ``-1`` means no
        weighting (:math:`\alpha_t = 1`), as torchvision's negative alpha.
    gamma : float, default 2.0
        Focusing parameter, finite and :math:`\ge 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, ``logits`` is empty, ``target`` is outside
        :math:`[0, 1]`, ``alpha`` is neither in :math:`[0, 1]` nor ``-1``, or
        ``gamma < 0``.

    Examples
    --------
    >>> focal_loss([0.0], [1], alpha=-1, gamma=0.0)  # = BCE = log 2
    0.6931471805599453
    >>> focal_loss([0.0], [1])  # 0.25 * 0.5**2 * log 2
    0.04332169878499658
    """
    z, t, alpha, gamma = _focal_inputs(logits, target, alpha, gamma)
    ce = _softplus_bce(z, t)
    p = sigmoid(z)
    p_t = p * t + (1.0 - p) * (1.0 - t)
    return float(np.mean(_alpha_t(t, alpha) * (1.0 - p_t) ** gamma * ce))


def focal_loss_grad(logits, target, alpha=0.25, gamma=2.0) -> np.ndarray:
    r"""Gradient of :func:`focal_loss` with respect to ``logits``.

    With :math:`m = 1 - p_t`, :math:`\mathrm{ce} = -\log p_t` and
    :math:`\partial p_t/\partial z = (2y - 1)\,p(1 - p)`:

    .. math:: \frac{\partial\,\text{loss}}{\partial z_i} = \frac{\alpha_t}{n}
              \Bigl[m^{\gamma}\,(p - y)
              - \gamma\,m^{\gamma - 1}(2y - 1)\,p(1 - p)\,\mathrm{ce}\Bigr]

    Where :math:`m = 0` (a saturated, perfectly classified example) the
    second term is taken as its limit 0; torch autograd agrees for
    :math:`\gamma \ge 1` and gives NaN (``0 * inf``) for
    :math:`0 < \gamma < 1`.

    Returns
    -------
    ndarray
        Same shape as ``logits``.

    Raises
    ------
    ValueError
        As :func:`focal_loss`.

    Examples
    --------
    >>> focal_loss_grad([0.0], [1], alpha=-1, gamma=0.0)  # = sigmoid(0) - 1
    array([-0.5])
    """
    z, t, alpha, gamma = _focal_inputs(logits, target, alpha, gamma)
    ce = _softplus_bce(z, t)
    p = sigmoid(z)
    m = 1.0 - (p * t + (1.0 - p) * (1.0 - t))
    dce = m ** gamma * (p - t)
    m_safe = np.where(m > 0, m, 1.0)
    dmod = np.where(m > 0, gamma * m_safe ** (gamma - 1.0) * (2.0 * t - 1.0) * p * (1.0 - p) * ce,
                    0.0)
    return _alpha_t(t, alpha) * (dce - dmod) / z.size


def _hinge_inputs(scores, target):
    s, y = _pair(scores, target, "scores", "target")
    bad = (y != 1) & (y != -1)
    if np.any(bad):
        raise ValueError(f"target must contain only -1 and +1, found {y[bad].flat[0]!r}")
    return s, y


def hinge(scores, target) -> float:
    r"""Binary hinge loss (the SVM loss), target in :math:`\{-1, +1\}`.

    .. math:: \text{loss} = \frac1n\sum_{i=1}^{n}\max(0,\ 1 - y_i s_i)

    Zero once an example is on the right side with margin at least 1. Same
    as ``sklearn.metrics.hinge_loss``.

    Parameters
    ----------
    scores : array_like
        Raw scores :math:`s` (not probabilities), any shape.
    target : array_like
        Labels :math:`y \in \{-1, +1\}`, same shape as ``scores``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, ``scores`` is empty or ``target`` has a value
        other than -1 and +1 (0/1 labels must be mapped to -1/+1 first).

    Examples
    --------
    >>> hinge([2.0, 0.5, -1.0], [1, 1, 1])
    0.8333333333333334
    """
    s, y = _hinge_inputs(scores, target)
    return float(np.mean(np.maximum(0.0, 1.0 - y * s)))


def hinge_grad(scores, target) -> np.ndarray:
    r"""(Sub)gradient of :func:`hinge` with respect to ``scores``.

    .. math:: \frac{\partial\,\text{loss}}{\partial s_i}
              = -\frac{y_i}{n}\,[\,1 - y_i s_i > 0\,]

    Exactly on the margin (:math:`y_i s_i = 1`) the value is 0, the
    subgradient torch autograd returns for ``F.relu(1 - y * s).mean()`` and
    the one ``F.multi_margin_loss`` uses. (``torch.clamp(..., min=0)`` would
    give :math:`-y_i/n` there; both are valid subgradients.)

    Returns
    -------
    ndarray
        Same shape as ``scores``.

    Raises
    ------
    ValueError
        As :func:`hinge`.

    Examples
    --------
    >>> hinge_grad([2.0, 0.5, 1.0], [1, 1, 1])
    array([ 0.        , -0.33333333,  0.        ])
    """
    s, y = _hinge_inputs(scores, target)
    return np.where(1.0 - y * s > 0, -y, 0.0) / s.size


# --------------------------------------------------------------------------
# multi-class classification
# --------------------------------------------------------------------------

def cross_entropy(logits, target, label_smoothing=0.0) -> float:
    r"""Softmax cross-entropy from logits and class indices (torch's ``cross_entropy``).

    With :math:`\log p = \mathrm{log\_softmax}(z)` over the :math:`C`
    classes and smoothed targets
    :math:`q_{ic} = (1 - \varepsilon)[c = y_i] + \varepsilon / C`:

    .. math:: \text{loss} = -\frac1N\sum_{i=1}^{N}\sum_{c=1}^{C} q_{ic}\log p_{ic}
              = \frac1N\sum_{i=1}^{N}\Bigl[-(1-\varepsilon)\log p_{i y_i}
                - \frac{\varepsilon}{C}\sum_{c=1}^{C}\log p_{ic}\Bigr]

    With :math:`\varepsilon = 0` this is ``nll_loss(log_softmax(z), y)``.
    Label smoothing spreads :math:`\varepsilon` uniformly over *all*
    :math:`C` classes, the true one included (torch's definition). The log
    probabilities come from the log-sum-exp trick, so logits of
    :math:`\pm 1000` are fine.

    Parameters
    ----------
    logits : array_like, shape (N, C)
        Unnormalised class scores.
    target : array_like of int, shape (N,)
        Class indices in :math:`[0, C)`.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``logits`` is not 2-D or is empty, ``target`` is not a 1-D array of
        integer indices in :math:`[0, C)` of length N, or
        ``label_smoothing`` is outside :math:`[0, 1]`.

    Examples
    --------
    >>> cross_entropy([[2.0, 0.0, 0.0]], [0])
    0.2395447662218847
    >>> cross_entropy([[1000.0, -1000.0]], [1])
    2000.0
    """
    z, y = _logits_and_classes(logits, target)
    eps = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    log_p = log_softmax(z, axis=1)
    nll = -log_p[np.arange(len(y)), y]
    if eps == 0.0:
        return float(np.mean(nll))
    smooth = -np.mean(log_p, axis=1)  # (1/C) sum_c -log p_c
    return float(np.mean((1.0 - eps) * nll + eps * smooth))


def cross_entropy_grad(logits, target, label_smoothing=0.0) -> np.ndarray:
    r"""Gradient of :func:`cross_entropy` with respect to ``logits``.

    .. math:: \frac{\partial\,\text{loss}}{\partial z_{ic}} = \frac1N\bigl(p_{ic} - q_{ic}\bigr),
              \qquad p = \mathrm{softmax}(z)

    (predicted minus smoothed target distribution; each row sums to 0).

    Returns
    -------
    ndarray, shape (N, C)

    Raises
    ------
    ValueError
        As :func:`cross_entropy`.

    Examples
    --------
    >>> cross_entropy_grad([[0.0, 0.0]], [0])
    array([[-0.5,  0.5]])
    """
    z, y = _logits_and_classes(logits, target)
    eps = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    n, c = z.shape
    q = (1.0 - eps) * _one_hot(y, c, z.dtype) + eps / c
    return (softmax(z, axis=1) - q) / n


def nll_loss(log_probs, target) -> float:
    r"""Negative log-likelihood of the true classes (torch's ``nll_loss``).

    .. math:: \text{loss} = -\frac1N\sum_{i=1}^{N} \log p_{i y_i}

    ``log_probs`` is usually ``log_softmax(logits)``; the values are used as
    given (as in torch they are not checked to be log-probabilities).

    Parameters
    ----------
    log_probs : array_like, shape (N, C)
        Log-probabilities.
    target : array_like of int, shape (N,)
        Class indices in :math:`[0, C)`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``log_probs`` is not 2-D or is empty, or ``target`` is not a 1-D
        array of N integer indices in :math:`[0, C)`.

    Examples
    --------
    >>> nll_loss(np.log([[0.5, 0.5], [0.9, 0.1]]), [0, 0])
    0.39925384810
    """
    lp, y = _logits_and_classes(log_probs, target, "log_probs")
    return float(-np.mean(lp[np.arange(len(y)), y]))


def nll_loss_grad(log_probs, target) -> np.ndarray:
    r"""Gradient of :func:`nll_loss` with respect to ``log_probs``.

    .. math:: \frac{\partial\,\text{loss}}{\partial \log p_{ic}} = -\frac1N[c = y_i]

    Returns
    -------
    ndarray, shape (N, C)

    Raises
    ------
    ValueError
        As :func:`nll_loss`.

    Examples
    --------
    >>> nll_loss_grad(np.log([[0.5, 0.5], [0.9, 0.1]]), [0, 1])
    array([[-0.5,  0. ],
           [ 0. , -0.5]])
    """
    lp, y = _logits_and_classes(log_probs, target, "log_probs")
    grad = np.zeros_like(lp)
    grad[np.arange(len(y)), y] = -1.0 / len(y)
    return grad


def _multi_margin_terms(scores, target, margin):
    s, y = _logits_and_classes(scores, target, "scores")
    margin = check_finite(margin, "margin")
    rows = np.arange(len(y))
    z = margin - s[rows, y][:, None] + s  # z_ij = margin - s_{i,y_i} + s_ij
    z[rows, y] = 0.0  # the true class is not compared with itself
    return s, y, z


def multiclass_hinge(scores, target, margin=1.0) -> float:
    r"""Multi-class hinge loss (torch's ``multi_margin_loss``, ``p=1``).

    .. math:: \ell_i = \frac1C\sum_{j \ne y_i}
              \max\bigl(0,\ \text{margin} - s_{i y_i} + s_{ij}\bigr),
              \qquad \text{loss} = \frac1N\sum_{i=1}^{N}\ell_i

    Each wrong class is penalised if its score comes within ``margin`` of the
    true class's score. Note torch's division by :math:`C` (the CS231n SVM
    loss omits it).

    Parameters
    ----------
    scores : array_like, shape (N, C)
        Class scores.
    target : array_like of int, shape (N,)
        Class indices in :math:`[0, C)`.
    margin : float, default 1.0
        Required gap between the true and each other score (finite).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D or is empty, ``target`` is not a 1-D array
        of N integer indices in :math:`[0, C)`, or ``margin`` is not finite.

    Examples
    --------
    >>> multiclass_hinge([[3.0, 2.5, 0.0]], [0])  # (0.5 + 0) / 3
    0.16666666666666666
    """
    s, _, z = _multi_margin_terms(scores, target, margin)
    return float(np.mean(np.sum(np.maximum(z, 0.0), axis=1) / s.shape[1]))


def multiclass_hinge_grad(scores, target, margin=1.0) -> np.ndarray:
    r"""(Sub)gradient of :func:`multiclass_hinge` with respect to ``scores``.

    With the indicator :math:`a_{ij} = [\,\text{margin} - s_{i y_i} + s_{ij} > 0\,]`
    for :math:`j \ne y_i`:

    .. math:: \frac{\partial\,\text{loss}}{\partial s_{ij}} = \frac{a_{ij}}{NC}\ (j \ne y_i),
              \qquad \frac{\partial\,\text{loss}}{\partial s_{i y_i}}
              = -\frac{1}{NC}\sum_{j\ne y_i} a_{ij}

    A term exactly at the margin (argument 0) contributes 0, as in torch.

    Returns
    -------
    ndarray, shape (N, C)

    Raises
    ------
    ValueError
        As :func:`multiclass_hinge`.

    Examples
    --------
    >>> multiclass_hinge_grad([[3.0, 2.5, 0.0]], [0])
    array([[-0.33333333,  0.33333333,  0.        ]])
    """
    s, y, z = _multi_margin_terms(scores, target, margin)
    n, c = s.shape
    active = (z > 0).astype(s.dtype)  # z = 0 on the true class, so it is never active
    active[np.arange(n), y] = -active.sum(axis=1)
    return active / (n * c)


# --------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------

def _distributions(p, q):
    """Validated 1-D or 2-D arrays whose last axis holds distributions."""
    p = as_float_array(p, "p", ndim=(1, 2))
    q = as_float_array(q, "q", ndim=(1, 2))
    check_same_shape(p, q, "p", "q")
    check_nonempty(p, "p")
    for a, name in ((p, "p"), (q, "q")):
        if not np.all(a >= 0) or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must contain finite, non-negative probabilities")
        sums = a.sum(axis=-1, dtype=np.float64)
        tol = max(_SUM_TOL, a.shape[-1] * float(np.finfo(a.dtype).eps))   # float32 rounds more
        if np.any(np.abs(sums - 1.0) > tol):
            bad = sums[np.abs(sums - 1.0) > tol].flat[0]
            raise ValueError(
                f"every row of {name} must sum to 1 (within {tol:.3g}), "
                f"found a row summing to {bad}"
            )
    n_rows = 1 if p.ndim == 1 else p.shape[0]
    return p.astype(q.dtype, copy=False), q, n_rows   # the target takes the input's dtype


def kl_divergence(p, q) -> float:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p\,\|\,q)`, averaged over rows.

    .. math:: \mathrm{KL}(p\,\|\,q) = \sum_{c} p_c \log\frac{p_c}{q_c},
              \qquad \text{loss} = \frac1N\sum_{i=1}^{N}\mathrm{KL}(p_i\,\|\,q_i)

    ``p`` is the target ("true") distribution and ``q`` the model's. Terms
    with :math:`p_c = 0` are 0 (:math:`0 \log 0 = 0`); a class with
    :math:`p_c > 0` but :math:`q_c = 0` makes the divergence ``inf``. KL is
    :math:`\ge 0`, zero only when :math:`p = q`, and not symmetric.

    For ``(N, C)`` inputs this is torch's
    ``F.kl_div(q.log(), p, reduction="batchmean")`` (except that torch gives
    NaN where :math:`p_c = q_c = 0`). A 1-D input is one distribution and
    gives the plain sum, whereas torch's ``batchmean`` would divide it by
    :math:`C`.

    Parameters
    ----------
    p : array_like, shape (C,) or (N, C)
        Target distribution(s): non-negative, each row summing to 1.
    q : array_like, same shape as ``p``
        Model distribution(s): non-negative, each row summing to 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not 1-D/2-D, the shapes differ, ``p`` is empty,
        or a row is not a distribution (negative entries, or a sum further
        than 1e-6 from 1).

    Examples
    --------
    >>> kl_divergence([0.5, 0.5], [0.25, 0.75])
    0.14384103622589
    >>> kl_divergence([1.0, 0.0], [1.0, 0.0])
    0.0
    """
    p, q, n_rows = _distributions(p, q)
    return float(np.sum(rel_entr(p, q)) / n_rows)  # rel_entr = p log(p/q), 0 where p = 0


def kl_divergence_grad(p, q) -> np.ndarray:
    r"""Gradient of :func:`kl_divergence` with respect to ``q``.

    .. math:: \frac{\partial\,\text{loss}}{\partial q_{ic}} = -\frac{1}{N}\frac{p_{ic}}{q_{ic}}

    The plain partial derivatives, ignoring the constraint that ``q`` sums
    to 1 (as autograd does). Where :math:`p_{ic} = 0` the value is 0 (that
    term does not depend on :math:`q_{ic}`; torch gives NaN when also
    :math:`q_{ic} = 0`); where :math:`p_{ic} > 0 = q_{ic}` it is ``-inf``.

    Returns
    -------
    ndarray
        Same shape as ``q``.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> kl_divergence_grad([0.5, 0.5], [0.25, 0.75])
    array([-2.        , -0.66666667])
    """
    p, q, n_rows = _distributions(p, q)
    ratio = np.zeros_like(p)
    with np.errstate(divide="ignore"):  # p > 0 = q gives -inf, on purpose
        np.divide(p, q, out=ratio, where=p > 0)
    return -ratio / n_rows
