r"""Activation functions and their derivatives.

An activation function is the non-linearity applied after an affine layer;
without it a stack of layers collapses into a single linear map. This module
gives each activation as a plain numpy function together with its elementwise
derivative ``<name>_grad(x)`` evaluated at the *input* ``x``, so backprop reads
``dx = dout * relu_grad(x)``.

Two families:

* **elementwise** -- ``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``,
  ``prelu``, ``elu``, ``gelu``, ``swish``. The output has the input's shape.
* **over an axis** -- ``softmax`` and ``log_softmax`` turn a vector of scores
  (logits) into a probability distribution. Their Jacobian is not diagonal,
  so instead of a ``_grad`` there is ``softmax_backward(dout, y)``.

Numerical stability (inputs of magnitude 1e3 give no overflow warning):

* ``sigmoid`` never evaluates ``exp`` of a positive number: for ``x < 0`` it
  uses the equivalent form :math:`e^{x} / (1 + e^{x})`.
* ``softmax`` subtracts the row maximum first (softmax is shift invariant),
  and ``log_softmax`` is the log-sum-exp trick
  :math:`x_i - m - \log \sum_j e^{x_j - m}`.

Derivatives at kinks follow torch autograd: ``relu'(0) = 0``,
``leaky_relu'(0) = negative_slope``, ``prelu'(0) = a``, ``elu'(0) = alpha``.

Every function accepts scalars and array-likes, never modifies its input and
returns a new ``ndarray`` (0-d for a scalar input): float32 for float32 input,
float64 for everything else (the library's dtype rule, ``docs/library.md``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import erf

from ._validation import as_float_array, check_in_range, check_same_shape

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "swish",
    "swish_grad",
    "softmax",
    "log_softmax",
    "softmax_backward",
]


_LOG_FLOAT_MAX = float(np.log(np.finfo(np.float64).max))  # 709.78: e^x overflows beyond


# --------------------------------------------------------------------------
# sigmoid and tanh
# --------------------------------------------------------------------------

def sigmoid(x) -> np.ndarray:
    r"""Logistic sigmoid, computed without overflow.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}}
              = \begin{cases} \frac{1}{1+e^{-x}} & x \ge 0 \\
                              \frac{e^{x}}{1+e^{x}} & x < 0 \end{cases}

    Both branches only exponentiate :math:`-|x| \le 0`, so ``sigmoid(-1000)``
    is ``0.0`` with no overflow warning (the naive form computes
    ``exp(1000) = inf``). Results below the smallest normal float
    (:math:`x < -709.78`) are returned as ``0.0``, as torch and scipy do.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        :math:`\sigma(x)` in :math:`[0, 1]`, same shape as ``x``.

    Examples
    --------
    >>> sigmoid([0.0, 2.0, -1000.0])
    array([0.5       , 0.88079708, 0.        ])
    """
    x = as_float_array(x, "x")
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    # Below x = -709.78 the true value is subnormal (< 2.2e-308). torch and scipy
    # return exactly 0 there (1 / (1 + inf)); do the same so the values agree.
    return np.where(x < -_LOG_FLOAT_MAX, 0.0, s)


def sigmoid_grad(x) -> np.ndarray:
    r"""Derivative of the sigmoid at ``x``.

    .. math:: \sigma'(x) = \sigma(x)\,(1 - \sigma(x))

    Computed from the output, as torch does; for :math:`|x| \gtrsim 37`
    this rounds to ``0`` (the exact value is below :math:`10^{-16}`).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``, values in :math:`[0, 1/4]`.

    Examples
    --------
    >>> sigmoid_grad([0.0, 1000.0])
    array([0.25, 0.  ])
    """
    s = sigmoid(x)
    return np.asarray(s * (1.0 - s))


def tanh(x) -> np.ndarray:
    r"""Hyperbolic tangent.

    .. math:: \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Values in :math:`[-1, 1]`, same shape as ``x``.

    Examples
    --------
    >>> tanh([0.0, 1.0, -1000.0])
    array([ 0.        ,  0.76159416, -1.        ])
    """
    return np.asarray(np.tanh(as_float_array(x, "x")))


def tanh_grad(x) -> np.ndarray:
    r"""Derivative of tanh at ``x``.

    .. math:: \tanh'(x) = 1 - \tanh^2(x)

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``, values in :math:`[0, 1]`.

    Examples
    --------
    >>> tanh_grad([0.0, 1000.0])
    array([1., 0.])
    """
    t = tanh(x)
    return np.asarray(1.0 - t * t)


# --------------------------------------------------------------------------
# ReLU family
# --------------------------------------------------------------------------

def relu(x) -> np.ndarray:
    r"""Rectified linear unit.

    .. math:: \mathrm{ReLU}(x) = \max(0, x)

    Parameters
    ----------
    x : array_like
        Any shape. NaN propagates.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> relu([-2.0, 0.0, 3.0])
    array([0., 0., 3.])
    """
    return np.asarray(np.maximum(as_float_array(x, "x"), 0.0))


def relu_grad(x) -> np.ndarray:
    r"""Derivative of ReLU at ``x``.

    .. math:: \mathrm{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}

    At the kink :math:`x = 0` the value is ``0``, as torch autograd returns
    (any value in :math:`[0, 1]` is a valid subgradient).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Zeros and ones, same shape as ``x``.

    Examples
    --------
    >>> relu_grad([-2.0, 0.0, 3.0])
    array([0., 0., 1.])
    """
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def leaky_relu(x, negative_slope=0.01) -> np.ndarray:
    r"""Leaky ReLU: a small slope instead of zero for negative inputs.

    .. math:: \mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\
              \text{negative\_slope}\cdot x & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Any shape.
    negative_slope : float, default 0.01
        Slope for :math:`x \le 0` (any real number, as in torch).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``negative_slope`` is not a real number.

    Examples
    --------
    >>> leaky_relu([-2.0, 0.0, 3.0], negative_slope=0.1)
    array([-0.2,  0. ,  3. ])
    """
    x = as_float_array(x, "x")
    slope = check_in_range(negative_slope, "negative_slope")
    return np.where(x > 0, x, slope * x)


def leaky_relu_grad(x, negative_slope=0.01) -> np.ndarray:
    r"""Derivative of leaky ReLU at ``x``.

    .. math:: \mathrm{LeakyReLU}'(x) = \begin{cases} 1 & x > 0 \\
              \text{negative\_slope} & x \le 0 \end{cases}

    At :math:`x = 0` the value is ``negative_slope``, as torch autograd
    returns.

    Parameters
    ----------
    x : array_like
        Any shape.
    negative_slope : float, default 0.01
        Slope for :math:`x \le 0`.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``negative_slope`` is not a real number.

    Examples
    --------
    >>> leaky_relu_grad([-2.0, 0.0, 3.0], negative_slope=0.1)
    array([0.1, 0.1, 1. ])
    """
    x = as_float_array(x, "x")
    slope = check_in_range(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


def _prelu_weight(x: np.ndarray, a) -> np.ndarray:
    """Reshape the PReLU weight ``a`` to broadcast like torch's ``F.prelu``."""
    a = as_float_array(a, "a", ndim=(0, 1)).astype(x.dtype, copy=False)
    if a.size == 1:
        return a.reshape(())
    channels = x.shape[1] if x.ndim >= 2 else 1
    if a.size != channels:
        raise ValueError(
            f"a must be a scalar or have one slope per channel (axis 1 of x, "
            f"size {channels}), got {a.size} values for x of shape {x.shape}"
        )
    # put the C slopes on axis 1: shape (C, 1, 1, ...) broadcasts against (N, C, ...)
    return a.reshape((channels,) + (1,) * (x.ndim - 2))


def prelu(x, a) -> np.ndarray:
    r"""Parametric ReLU: leaky ReLU whose negative slope ``a`` is learned.

    .. math:: \mathrm{PReLU}(x) = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}

    ``a`` broadcasts like torch's ``F.prelu(x, weight)``: either a single
    slope shared by every element, or one slope per *channel*, the channel
    axis being axis 1 of ``x`` (``x`` of shape ``(N, C, ...)``). A 0-d or 1-d
    ``x`` has a single channel.

    Parameters
    ----------
    x : array_like
        Any shape; ``(N, C, ...)`` for per-channel slopes.
    a : float or array_like of shape (1,) or (C,)
        Negative slope(s).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``a`` is not a scalar, shape ``(1,)`` or shape ``(C,)`` with
        ``C = x.shape[1]``.

    Examples
    --------
    >>> prelu([[-1.0, -1.0], [2.0, -4.0]], a=[0.1, 0.5])
    array([[-0.1, -0.5],
           [ 2. , -2. ]])
    """
    x = as_float_array(x, "x")
    a = _prelu_weight(x, a)
    return np.where(x > 0, x, a * x)


def prelu_grad(x, a) -> np.ndarray:
    r"""Derivative of PReLU with respect to ``x`` (elementwise), at ``x``.

    .. math:: \frac{\partial\,\mathrm{PReLU}}{\partial x} =
              \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}

    At :math:`x = 0` the value is ``a``, as torch autograd returns. (The
    gradient with respect to ``a`` is :math:`\sum \mathrm{dout}\cdot
    \min(x, 0)` over the elements sharing that slope.)

    Parameters
    ----------
    x : array_like
        Any shape; ``(N, C, ...)`` for per-channel slopes.
    a : float or array_like of shape (1,) or (C,)
        Negative slope(s), broadcast as in :func:`prelu`.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``a`` has the wrong shape (see :func:`prelu`).

    Examples
    --------
    >>> prelu_grad([-1.0, 0.0, 2.0], a=0.25)
    array([0.25, 0.25, 1.  ])
    """
    x = as_float_array(x, "x")
    a = _prelu_weight(x, a)
    return np.where(x > 0, 1.0, a * np.ones_like(x))


def elu(x, alpha=1.0) -> np.ndarray:
    r"""Exponential linear unit.

    .. math:: \mathrm{ELU}(x) = \begin{cases} x & x > 0 \\
              \alpha\,(e^{x} - 1) & x \le 0 \end{cases}

    ``expm1`` is used for :math:`e^x - 1` (accurate for small :math:`|x|`),
    and only on :math:`\min(x, 0)`, so large positive ``x`` cannot overflow.

    Parameters
    ----------
    x : array_like
        Any shape.
    alpha : float, default 1.0
        Saturation value :math:`-\alpha` for :math:`x \to -\infty`.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``alpha`` is not a real number.

    Examples
    --------
    >>> elu([-1000.0, 0.0, 2.0])
    array([-1.,  0.,  2.])
    """
    x = as_float_array(x, "x")
    alpha = check_in_range(alpha, "alpha")
    with np.errstate(under="ignore"):
        neg = alpha * np.expm1(np.minimum(x, 0.0))
    return np.where(x > 0, x, neg)


def elu_grad(x, alpha=1.0) -> np.ndarray:
    r"""Derivative of ELU at ``x``.

    .. math:: \mathrm{ELU}'(x) = \begin{cases} 1 & x > 0 \\
              \alpha\,e^{x} & x \le 0 \end{cases}

    At :math:`x = 0` the value is :math:`\alpha` (the left derivative), as
    torch autograd returns; for ``alpha=1`` ELU is differentiable there.

    Parameters
    ----------
    x : array_like
        Any shape.
    alpha : float, default 1.0
        As in :func:`elu`.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``alpha`` is not a real number.

    Examples
    --------
    >>> elu_grad([-1.0, 0.0, 2.0], alpha=0.5)
    array([0.18393972, 0.5       , 1.        ])
    """
    x = as_float_array(x, "x")
    alpha = check_in_range(alpha, "alpha")
    with np.errstate(under="ignore"):
        neg = alpha * np.exp(np.minimum(x, 0.0))
    return np.where(x > 0, 1.0, neg)


# --------------------------------------------------------------------------
# smooth ReLU-like: GELU and swish
# --------------------------------------------------------------------------

_SQRT1_2 = 1.0 / math.sqrt(2.0)      # Python floats: they keep float32 arrays float32
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu(x) -> np.ndarray:
    r"""Gaussian error linear unit (exact form, with erf).

    .. math:: \mathrm{GELU}(x) = x\,\Phi(x)
              = \frac{x}{2}\left(1 + \operatorname{erf}\!\left(\frac{x}{\sqrt 2}\right)\right)

    where :math:`\Phi` is the standard normal CDF. This is torch's
    ``F.gelu(x)`` (``approximate="none"``), not the tanh approximation.
    Like torch, it evaluates :math:`1 + \operatorname{erf}`, so for
    :math:`x \lesssim -6` the tiny result has absolute error below
    :math:`10^{-15}` but no relative accuracy (it rounds to ``-0.0``).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> gelu([-1.0, 0.0, 1.0])
    array([-0.15865525,  0.        ,  0.84134475])
    """
    x = as_float_array(x, "x")
    return np.asarray(x * 0.5 * (1.0 + erf(x * _SQRT1_2)))


def gelu_grad(x) -> np.ndarray:
    r"""Derivative of the exact GELU at ``x``.

    .. math:: \mathrm{GELU}'(x) = \Phi(x) + x\,\varphi(x), \qquad
              \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> gelu_grad([-1000.0, 0.0, 1.0])
    array([0.        , 0.5       , 1.08331547])
    """
    x = as_float_array(x, "x")
    cdf = 0.5 * (1.0 + erf(x * _SQRT1_2))
    # phi(x) is exactly 0.0 in float64 beyond |x| = 40; clipping keeps x*x finite
    xc = np.clip(x, -40.0, 40.0)
    with np.errstate(under="ignore"):
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * xc * xc)
    return np.asarray(cdf + x * pdf)


def swish(x, beta=1.0) -> np.ndarray:
    r"""Swish: :math:`x` gated by a sigmoid; ``beta=1`` is SiLU.

    .. math:: \mathrm{swish}_\beta(x) = x\,\sigma(\beta x)

    With ``beta=1`` this equals torch's ``F.silu``.

    Parameters
    ----------
    x : array_like
        Any shape.
    beta : float, default 1.0
        Sharpness (``beta -> inf`` tends to ReLU, ``beta = 0`` gives ``x/2``).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``beta`` is not a real number.

    Examples
    --------
    >>> swish([-1000.0, 0.0, 1.0])
    array([-0.        ,  0.        ,  0.73105858])
    """
    x = as_float_array(x, "x")
    beta = check_in_range(beta, "beta")
    return np.asarray(x * sigmoid(beta * x))


def swish_grad(x, beta=1.0) -> np.ndarray:
    r"""Derivative of swish at ``x``.

    .. math:: \mathrm{swish}_\beta'(x) = \sigma(\beta x)
              \bigl(1 + \beta x\,(1 - \sigma(\beta x))\bigr)

    Parameters
    ----------
    x : array_like
        Any shape.
    beta : float, default 1.0
        As in :func:`swish`.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        If ``beta`` is not a real number.

    Examples
    --------
    >>> swish_grad([0.0, 1000.0])
    array([0.5, 1. ])
    """
    x = as_float_array(x, "x")
    beta = check_in_range(beta, "beta")
    s = sigmoid(beta * x)
    return np.asarray(s * (1.0 + beta * x * (1.0 - s)))


# --------------------------------------------------------------------------
# softmax family
# --------------------------------------------------------------------------

def _check_axis(x: np.ndarray, axis) -> int:
    """Return ``axis`` normalised to ``[0, x.ndim)``; the axis must be non-empty."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {x.shape}")
    axis = int(axis) % x.ndim
    if x.shape[axis] == 0:
        raise ValueError(f"axis {axis} of x is empty (shape {x.shape}); softmax needs >= 1 entry")
    return axis


def _with_axis(x, axis):
    """``x`` as a float array with at least one dimension, and the checked axis.

    A scalar is treated as a vector of length 1 (softmax of a scalar is 1).
    """
    x = as_float_array(x, "x")
    scalar = x.ndim == 0
    x = np.atleast_1d(x)
    return x, _check_axis(x, axis), scalar


def softmax(x, axis=-1) -> np.ndarray:
    r"""Softmax along ``axis``, shifted by the maximum for stability.

    .. math:: \mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}
              = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j

    Subtracting :math:`m` changes nothing mathematically (softmax is
    invariant to adding a constant to every logit) but makes every exponent
    :math:`\le 0`, so nothing overflows and the denominator is :math:`\ge 1`.
    ``-inf`` logits (masked entries) get probability 0; a slice of all
    ``-inf`` or one containing ``+inf`` gives NaN, as in torch.

    Parameters
    ----------
    x : array_like
        Logits, any shape (a scalar counts as a vector of length 1).
    axis : int, default -1
        The axis along which the probabilities sum to 1.

    Returns
    -------
    ndarray
        Same shape as ``x``, non-negative, summing to 1 along ``axis``.

    Raises
    ------
    ValueError
        If ``axis`` is not an integer, is out of range, or has length 0.

    Examples
    --------
    >>> softmax([1.0, 2.0, 3.0])
    array([0.09003057, 0.24472847, 0.66524096])
    >>> softmax([1000.0, 0.0])
    array([1., 0.])
    """
    x, axis, scalar = _with_axis(x, axis)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    y = e / np.sum(e, axis=axis, keepdims=True)
    return y.reshape(()) if scalar else y


def log_softmax(x, axis=-1) -> np.ndarray:
    r"""Logarithm of the softmax, by the log-sum-exp trick.

    .. math:: \log\mathrm{softmax}(x)_i = x_i - m - \log\sum_j e^{x_j - m},
              \quad m = \max_j x_j

    Never computes ``log(softmax(x))``, which would give ``log(0) = -inf``
    once a probability underflows: ``log_softmax([1000, 0])`` is
    ``[0, -1000]`` exactly.

    Parameters
    ----------
    x : array_like
        Logits, any shape (a scalar counts as a vector of length 1).
    axis : int, default -1
        The axis along which to normalise.

    Returns
    -------
    ndarray
        Same shape as ``x``, values :math:`\le 0`.

    Raises
    ------
    ValueError
        If ``axis`` is not an integer, is out of range, or has length 0.

    Examples
    --------
    >>> log_softmax([1000.0, 0.0])
    array([    0., -1000.])
    """
    x, axis, scalar = _with_axis(x, axis)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    out = shifted - lse
    return out.reshape(()) if scalar else out


def softmax_backward(dout, y, axis=-1) -> np.ndarray:
    r"""Backward pass of softmax: :math:`\partial L/\partial x` from ``dout``.

    With :math:`y = \mathrm{softmax}(x)` and upstream gradient
    :math:`g = \partial L / \partial y`, the Jacobian
    :math:`\partial y_i / \partial x_j = y_i(\delta_{ij} - y_j)` gives

    .. math:: \frac{\partial L}{\partial x_i} = y_i\Bigl(g_i - \sum_j g_j\,y_j\Bigr)

    (the sum runs along ``axis``), an :math:`O(C)` product instead of
    building the :math:`C \times C` Jacobian.

    Parameters
    ----------
    dout : array_like
        Upstream gradient :math:`\partial L/\partial y`, same shape as ``y``.
    y : array_like
        The softmax *output* ``softmax(x, axis)``.
    axis : int, default -1
        The axis the softmax was taken over.

    Returns
    -------
    ndarray
        :math:`\partial L/\partial x`, same shape as ``y``; sums to 0 along
        ``axis``.

    Raises
    ------
    ValueError
        If ``dout`` and ``y`` differ in shape, or ``axis`` is invalid.

    Examples
    --------
    >>> y = softmax([1.0, 2.0, 3.0])
    >>> softmax_backward([1.0, 0.0, 0.0], y)
    array([ 0.08192507, -0.02203304, -0.05989202])
    """
    dout = as_float_array(dout, "dout")
    y = as_float_array(y, "y")
    check_same_shape(dout, y, "dout", "y")
    scalar = y.ndim == 0
    dout, y = np.atleast_1d(dout), np.atleast_1d(y)
    axis = _check_axis(y, axis)
    dx = y * (dout - np.sum(dout * y, axis=axis, keepdims=True))
    return dx.reshape(()) if scalar else dx


# --------------------------------------------------------------------------
# backward passes with a learned parameter, and GELU's tanh approximation
# --------------------------------------------------------------------------

__all__ += ["prelu_backward", "gelu_tanh", "gelu_tanh_grad"]


def prelu_backward(dout, x, a):
    r"""Backward pass of PReLU: gradients with respect to the input *and* the slope.

    With :math:`y = \max(x, 0) + a \min(x, 0)` elementwise, and
    :math:`g = \partial L / \partial y` (``dout``):

    .. math:: \frac{\partial L}{\partial x} = g \cdot
              \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}, \qquad
              \frac{\partial L}{\partial a_c} = \sum_{i \,:\, \text{channel}(i) = c}
              g_i \min(x_i, 0).

    The slope gradient **sums** over every element that shares the slope:
    all elements for a single ``a``, and for per-channel slopes every batch
    item and position of channel :math:`c` (axis 1 of ``x``, as torch's
    ``F.prelu``). At :math:`x = 0`, :math:`\partial L/\partial x = g\,a` as
    in torch, and the slope gets :math:`g \cdot 0 = 0`.

    Parameters
    ----------
    dout : array_like
        Upstream gradient, same shape as ``x``.
    x : array_like
        The forward input; ``(N, C, ...)`` for per-channel slopes.
    a : float or array_like of shape (1,) or (C,)
        The slope(s) used in the forward pass (see :func:`prelu`).

    Returns
    -------
    dx : ndarray
        Same shape as ``x``.
    da : float or ndarray
        A float for a scalar ``a``, else an array of ``a``'s shape.

    Raises
    ------
    ValueError
        If ``dout`` and ``x`` differ in shape or ``a`` has the wrong shape.

    Examples
    --------
    >>> dx, da = prelu_backward([1.0, 1.0, 2.0], [-2.0, 0.0, 3.0], a=0.25)
    >>> dx, da                 # da = 1 * (-2) + 1 * 0 + 2 * 0
    (array([0.25, 0.25, 2.  ]), -2.0)
    """
    x = as_float_array(x, "x")
    dout = as_float_array(dout, "dout")
    check_same_shape(dout, x, "dout", "x")
    a_shape = np.shape(a)
    slope = _prelu_weight(x, a)
    dx = np.where(x > 0, dout, slope * dout)
    contrib = dout * np.minimum(x, 0.0)
    if slope.ndim == 0:
        da = contrib.sum()
        return dx, float(da) if a_shape == () else np.full(a_shape, da)
    axes = tuple(i for i in range(x.ndim) if i != 1)
    return dx, contrib.sum(axis=axes).reshape(a_shape)


_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_GELU_TANH_C = 0.044715


def _gelu_tanh_inner(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u = sqrt(2/pi) (x + 0.044715 x^3), and x clipped to [-20, 20]."""
    # beyond |x| = 20 tanh(u) is exactly +-1 in float64; clipping keeps x**3 finite
    xc = np.clip(x, -20.0, 20.0)
    return _SQRT_2_OVER_PI * (xc + _GELU_TANH_C * xc**3), xc


def gelu_tanh(x) -> np.ndarray:
    r"""GELU's tanh approximation (torch's ``F.gelu(x, approximate="tanh")``).

    .. math:: \mathrm{GELU}_{\tanh}(x) = \frac{x}{2}\bigl(1 + \tanh u\bigr), \qquad
              u = \sqrt{2/\pi}\,\bigl(x + 0.044715\,x^3\bigr)

    It differs from the exact :func:`gelu` by at most :math:`4.8 \cdot 10^{-4}`
    (near :math:`x \approx \pm 2.7`), and its derivative from :func:`gelu_grad` by
    at most :math:`8.7 \cdot 10^{-4}`.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> gelu_tanh([-1.0, 0.0, 1.0])
    array([-0.15880801,  0.        ,  0.84119199])
    """
    x = as_float_array(x, "x")
    u, _ = _gelu_tanh_inner(x)
    return np.asarray(0.5 * x * (1.0 + np.tanh(u)))


def gelu_tanh_grad(x) -> np.ndarray:
    r"""Derivative of :func:`gelu_tanh` at ``x``.

    By the product and chain rules, with :math:`t = \tanh u`,

    .. math:: \frac{d}{dx}\mathrm{GELU}_{\tanh}(x) = \frac12(1 + t)
              + \frac{x}{2}\,(1 - t^2)\,\sqrt{2/\pi}\,\bigl(1 + 3 \cdot 0.044715\,x^2\bigr).

    For large :math:`|x|` the second term is :math:`x \cdot 0`, taken as 0
    (the limit), so the result tends to 1 and 0 without overflow.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> gelu_tanh_grad([-1000.0, 0.0, 1.0])
    array([0.        , 0.5       , 1.08296408])
    """
    x = as_float_array(x, "x")
    u, xc = _gelu_tanh_inner(x)
    t = np.tanh(u)
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_C * xc * xc)
    return np.asarray(0.5 * (1.0 + t) + 0.5 * xc * (1.0 - t * t) * du)
