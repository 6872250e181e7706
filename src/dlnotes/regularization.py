"""Regularization, normalization and initialization.

Everything a network needs besides its layers to train well:

* weight penalties (L1, L2) and their gradients,
* inverted dropout,
* batch normalization and layer normalization (forward and backward),
* Xavier/Glorot and Kaiming/He initialization,
* gradient-norm clipping, early stopping and label smoothing.

Layers follow the CS231n convention ``*_forward(x, ...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``; shapes and weight layouts match torch so
parameters copy across.
"""

from __future__ import annotations

import math

import numpy as np

from dlnotes._validation import (
    as_array_list,
    as_class_indices,
    as_common_float,
    as_float_array,
    check_dout,
    check_finite,
    check_flag,
    check_in_range,
    check_inplace_array,
    check_positive_int,
)

__all__ = [
    "l1_penalty",
    "l1_penalty_grad",
    "l2_penalty",
    "l2_penalty_grad",
    "l1_proximal_step",
    "dropout",
    "dropout_backward",
    "batch_norm_forward",
    "batch_norm_backward",
    "layer_norm_forward",
    "layer_norm_backward",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "clip_grad_norm",
    "EarlyStopping",
    "label_smoothing",
]


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    return rng


def _check_eps(eps) -> float:
    return check_in_range(eps, "eps", low=0.0, low_inclusive=False)


def _check_vector(v, name: str, D: int) -> np.ndarray:
    """Return ``v`` as a float array of shape ``(D,)``."""
    arr = as_float_array(v, name)
    if arr.shape != (D,):
        raise ValueError(f"{name} must have shape (D,) = ({D},) to match x, got {arr.shape}")
    return arr


def _mean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean of a 2-D array over ``axis`` (0 or 1), as a product with a vector of 1/m.

    A matrix-vector product reads ``a`` once at memory speed; numpy's
    ``mean`` over an axis is several times slower on these shapes.
    """
    m = a.shape[axis]
    weights = np.full(m, 1.0 / m, dtype=a.dtype)
    return weights @ a if axis == 0 else a @ weights


def _mean_of_product(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    """Mean of ``a * b`` over ``axis`` (0 or 1) of 2-D arrays, without the temporary."""
    total = np.einsum("ij,ij->j" if axis == 0 else "ij,ij->i", a, b)
    return total / a.shape[axis]


def _expand(v: np.ndarray, axis: int) -> np.ndarray:
    """A statistic over ``axis`` as a row (axis 0) or a column (axis 1) that broadcasts."""
    return v[None, :] if axis == 0 else v[:, None]


def _normalize(x: np.ndarray, axis: int, eps: float, mu=None, var=None):
    r""":math:`\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}` over ``axis`` of a 2-D ``x``.

    ``mu`` and ``var`` default to the statistics of ``x`` (the biased
    variance). Returns ``(xhat, inv_std, mu, var)``, ``xhat`` a new array.
    """
    if mu is None:
        mu = _mean(x, axis)
    xhat = np.subtract(x, _expand(mu, axis))
    if var is None:
        var = _mean_of_product(xhat, xhat, axis)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= _expand(inv_std, axis)
    return xhat, inv_std, mu, var


def _scale_shift_grads(dout: np.ndarray, xhat: np.ndarray):
    """``(dgamma, dbeta)`` of ``out = gamma * xhat + beta``: column sums of 2-D arrays."""
    n = dout.shape[0]
    return (np.einsum("ij,ij->j", dout, xhat),
            np.ones(n, dtype=dout.dtype) @ dout)


def _normalize_backward(dxhat, xhat, inv_std, axis):
    r"""Gradient through :math:`\hat x = (x - \mu) / \sigma` when
    :math:`\mu` and :math:`\sigma^2` (biased) are taken over ``axis`` (0 or 1, 2-D).

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{\sigma}\Big(\hat g
        - \operatorname{mean} \hat g - \hat x \operatorname{mean}(\hat g\,\hat x)\Big)

    where :math:`\hat g = \partial L / \partial \hat x` and the means run over
    the entries that share one :math:`\mu`.
    """
    dx = xhat * _expand(_mean_of_product(dxhat, xhat, axis), axis)
    dx += _expand(_mean(dxhat, axis), axis)
    np.subtract(dxhat, dx, out=dx)
    dx *= _expand(inv_std, axis)
    return dx


# ---------------------------------------------------------------------------
# weight penalties
# ---------------------------------------------------------------------------

def _as_params(w):
    """Return ``(list_of_arrays, is_list)``.

    A list or tuple is a collection of parameter arrays (possibly of different
    shapes, like ``model.parameters()``); anything else is one array.
    """
    if isinstance(w, (list, tuple)):
        return [as_float_array(wi, f"w[{i}]") for i, wi in enumerate(w)], True
    return [as_float_array(w, "w")], False


def _check_lam(lam) -> float:
    return check_in_range(lam, "lam", low=0.0)


def l1_penalty(w, lam):
    r"""L1 penalty :math:`\lambda \sum_i |w_i|`.

    Parameters
    ----------
    w : array_like or list of array_like
        One parameter array, or a list/tuple of arrays (of any shapes) whose
        entries are all summed, like the parameters of a model.
    lam : float
        Penalty strength :math:`\lambda \ge 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN, or ``w`` is not numeric.

    Examples
    --------
    >>> l1_penalty(np.array([1.0, -2.0, 0.0]), 0.5)
    1.5
    >>> l1_penalty([np.array([1.0]), np.array([[-1.0, 3.0]])], 1.0)
    5.0
    """
    lam = _check_lam(lam)
    ws, _ = _as_params(w)
    return lam * float(sum(np.abs(wi).sum() for wi in ws))


def l1_penalty_grad(w, lam):
    r"""Gradient of :func:`l1_penalty`: :math:`\lambda\,\mathrm{sign}(w)`.

    :math:`|w|` has no derivative at 0; like torch's ``abs`` backward we use
    the subgradient :math:`\mathrm{sign}(0) = 0`.

    Parameters
    ----------
    w : array_like or list of array_like
        As in :func:`l1_penalty`.
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    ndarray or list of ndarray
        Same shape as ``w``; a list (one gradient per array) if ``w`` is a
        list or tuple.

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN.

    Examples
    --------
    >>> l1_penalty_grad(np.array([3.0, -0.5, 0.0]), 0.1)
    array([ 0.1, -0.1,  0. ])
    """
    lam = _check_lam(lam)
    ws, is_list = _as_params(w)
    grads = [lam * np.sign(wi) for wi in ws]
    return grads if is_list else grads[0]


def l2_penalty(w, lam):
    r"""L2 penalty :math:`\lambda \sum_i w_i^2` (no factor 1/2).

    Its gradient is :math:`2\lambda w`. torch's ``weight_decay=wd`` in
    ``torch.optim.SGD`` adds :math:`wd \cdot w` to the gradient, which is the
    gradient of :math:`\tfrac{wd}{2}\sum_i w_i^2`: **SGD weight_decay ``wd``
    equals this penalty with ``lam = wd / 2``**. (For Adam the two differ,
    and AdamW's decoupled decay is not a penalty at all.)

    Parameters
    ----------
    w : array_like or list of array_like
        One parameter array, or a list/tuple of arrays whose squared entries
        are all summed.
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN, or ``w`` is not numeric.

    Examples
    --------
    >>> l2_penalty(np.array([1.0, -2.0]), 0.5)
    2.5
    """
    lam = _check_lam(lam)
    ws, _ = _as_params(w)
    return lam * float(sum((wi ** 2).sum() for wi in ws))


def l2_penalty_grad(w, lam):
    r"""Gradient of :func:`l2_penalty`: :math:`2\lambda w`.

    Parameters
    ----------
    w : array_like or list of array_like
        As in :func:`l2_penalty`.
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    ndarray or list of ndarray
        Same shape as ``w``; a list if ``w`` is a list or tuple.

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN.

    Examples
    --------
    >>> l2_penalty_grad(np.array([1.0, -2.0]), 0.5)
    array([ 1., -2.])
    """
    lam = _check_lam(lam)
    ws, is_list = _as_params(w)
    grads = [2.0 * lam * wi for wi in ws]
    return grads if is_list else grads[0]


def l1_proximal_step(w, grad, lr, lam):
    r"""One proximal-gradient step for :math:`L_0(w) + \lambda\sum_i |w_i|` (ISTA).

    A plain gradient step on the data loss :math:`L_0`, then the proximal
    operator of :math:`\eta\lambda|\cdot|`, which is **soft-thresholding**:

    .. math::
        z = w - \eta\,\nabla L_0(w),\qquad
        w_\text{new} = \arg\min_v \tfrac12 (v - z)^2 + \eta\lambda |v|
                    = \mathrm{sign}(z)\,\max(|z| - \eta\lambda,\ 0)

    (elementwise). Unlike the subgradient step
    :math:`w - \eta(\nabla L_0 + \lambda\,\mathrm{sign}\,w)`, it returns
    exact zeros: every :math:`|z_i| \le \eta\lambda` becomes 0. It is
    ``torch.nn.functional.softshrink(z, lr * lam)``; iterated with
    :math:`\eta \le 1/L` it converges to the Lasso solution.

    Parameters
    ----------
    w : array_like
        Current weights (not modified).
    grad : array_like, same shape as ``w``
        :math:`\nabla L_0(w)`, the gradient of the data loss only.
    lr : float
        Step size :math:`\eta > 0`.
    lam : float
        L1 strength :math:`\lambda \ge 0`.

    Returns
    -------
    ndarray
        The new weights, of ``w``'s shape.

    Raises
    ------
    ValueError
        If ``grad`` does not have ``w``'s shape, ``lr <= 0`` or ``lam < 0``.

    Examples
    --------
    >>> l1_proximal_step(np.array([1.0, 0.05, -0.3]), np.zeros(3), lr=0.5, lam=0.2)
    array([ 0.9,  0. , -0.2])
    """
    w = as_float_array(w, "w")
    grad = as_float_array(grad, "grad")
    if grad.shape != w.shape:
        raise ValueError(f"grad must have the shape of w {w.shape}, got {grad.shape}")
    lr = check_in_range(lr, "lr", low=0.0, low_inclusive=False)
    lam = _check_lam(lam)
    w, grad = as_common_float(w, grad)
    z = w - lr * grad
    return np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0).astype(z.dtype)


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------

def _check_p(p) -> float:
    return check_in_range(p, "p", low=0.0, high=1.0, high_inclusive=False)


def dropout(x, p, rng, training=True):
    r"""Inverted dropout: zero each entry with probability ``p``, rescale the rest.

    .. math::
        m_i \sim \mathrm{Bernoulli}(1 - p),\qquad
        y_i = \frac{m_i\, x_i}{1 - p},\qquad
        \mathbb{E}[y_i] = x_i

    Scaling at training time (rather than multiplying by :math:`1-p` at test
    time) means evaluation is the identity. Matches
    ``torch.nn.functional.dropout`` in distribution, not draw for draw: the
    random numbers come from ``rng``.

    Parameters
    ----------
    x : array_like, any shape
    p : float
        Drop probability in ``[0, 1)``. ``p = 1`` is rejected: every unit would
        be dropped and the scale :math:`1/(1-p)` is undefined (torch returns
        zeros, a layer that passes neither signal nor gradient).
    rng : numpy.random.Generator
        Source of randomness; the same seed gives the same mask.
    training : bool, default True
        At evaluation (``False``) the output is ``x`` unchanged, the mask is
        all True and ``rng`` is not used.

    Returns
    -------
    out : ndarray, same shape as x
    mask : ndarray of bool, same shape as x
        True where the entry was kept.

    Raises
    ------
    ValueError
        If ``p`` is outside ``[0, 1)``, ``rng`` is not a Generator or
        ``training`` is not a bool.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out, mask = dropout(np.ones(6), 0.5, rng)
    >>> bool(np.all(out == 2.0 * mask))
    True
    >>> dropout(np.ones(3), 0.5, rng, training=False)[0]
    array([1., 1., 1.])
    """
    x = as_float_array(x, "x")
    p = _check_p(p)
    rng = _check_rng(rng)
    if not check_flag(training, "training"):
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = rng.random(x.shape) >= p          # P(keep) = 1 - p
    out = np.where(mask, x / (1.0 - p), 0.0)
    return out, mask


def dropout_backward(dout, mask, p, training=True):
    r"""Backward pass of :func:`dropout`: :math:`\partial L/\partial x = m \odot g / (1-p)`.

    Parameters
    ----------
    dout : array_like
        Upstream gradient, same shape as the forward input.
    mask : ndarray of bool
        The mask returned by :func:`dropout`.
    p : float
        The same drop probability, in ``[0, 1)``.
    training : bool, default True
        Pass the value used in the forward pass; at evaluation dropout is the
        identity so ``dout`` is returned unchanged.

    Returns
    -------
    dx : ndarray, same shape as dout

    Raises
    ------
    ValueError
        If ``mask`` is not boolean or its shape differs from ``dout``, or
        ``p`` is outside ``[0, 1)``.

    Examples
    --------
    >>> dropout_backward(np.ones(3), np.array([True, False, True]), 0.5)
    array([2., 0., 2.])
    """
    dout = as_float_array(dout, "dout")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = kept), got dtype {mask.dtype}")
    if mask.shape != dout.shape:
        raise ValueError(f"mask must have the shape of dout {dout.shape}, got {mask.shape}")
    p = _check_p(p)
    if not check_flag(training, "training"):
        return dout.copy()
    return np.where(mask, dout / (1.0 - p), 0.0)


# ---------------------------------------------------------------------------
# batch normalization
# ---------------------------------------------------------------------------

def _check_running(arr, name: str, D: int) -> np.ndarray:
    """The running statistics are updated in place, so they must be float ndarrays."""
    check_inplace_array(arr, name)
    if arr.shape != (D,):
        raise ValueError(f"{name} must have shape (D,) = ({D},) to match x, got {arr.shape}")
    return arr


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training,
                       momentum=0.1, eps=1e-5):
    r"""Batch normalization of ``x`` of shape (N, D), like ``torch.nn.BatchNorm1d``.

    Training mode normalises each feature with the statistics of the batch
    and updates the running statistics **in place**:

    .. math::
        \mu = \frac{1}{N}\sum_n x_n,\qquad
        \sigma^2 = \frac{1}{N}\sum_n (x_n - \mu)^2,\qquad
        y_n = \gamma\,\frac{x_n - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta

    .. math::
        \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu,\qquad
        \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{N}{N-1}\sigma^2

    Note the two variances: the output uses the *biased* batch variance
    :math:`\sigma^2`, the running estimate the *unbiased* one. Evaluation mode
    uses :math:`\hat\mu, \hat\sigma^2` instead of batch statistics and updates
    nothing. ``m`` is torch's ``momentum`` (the weight of the *new* value,
    the opposite of an optimizer's momentum).

    Parameters
    ----------
    x : array_like, shape (N, D)
    gamma, beta : array_like, shape (D,)
        Scale and shift (torch's ``weight`` and ``bias``).
    running_mean, running_var : ndarray of float, shape (D,), or None
        Running statistics, modified in place in training mode (start them at
        zeros and ones as torch does). Pass ``None`` for both to use batch
        statistics in both modes (torch's ``track_running_stats=False``).
    training : bool
    momentum : float in [0, 1], default 0.1
    eps : float > 0, default 1e-5

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : tuple
        For :func:`batch_norm_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D; if ``gamma``, ``beta``, ``running_mean`` or
        ``running_var`` is not of shape ``(D,)``; if the running statistics
        are not writeable float arrays, only one of them is None, or
        ``running_var`` is negative; if ``momentum`` is outside ``[0, 1]`` or
        ``eps <= 0``; if batch statistics are needed and ``N < 2`` (torch:
        "Expected more than 1 value per channel when training").

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> rm, rv = np.zeros(2), np.ones(2)
    >>> out, _ = batch_norm_forward(x, np.ones(2), np.zeros(2), rm, rv, training=True)
    >>> np.round(out, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> rm                      # 0.9 * 0 + 0.1 * batch mean
    array([0.2, 2. ])
    >>> rv                      # 0.9 * 1 + 0.1 * unbiased batch variance
    array([ 1.1, 20.9])
    """
    x = as_float_array(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got {x.shape}")
    N, D = x.shape
    x, gamma, beta = as_common_float(x, _check_vector(gamma, "gamma", D),
                                     _check_vector(beta, "beta", D))
    training = check_flag(training, "training")
    momentum = check_in_range(momentum, "momentum", low=0.0, high=1.0)
    eps = _check_eps(eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must both be arrays or both be None")
    track = running_mean is not None
    if track:
        running_mean = _check_running(running_mean, "running_mean", D)
        running_var = _check_running(running_var, "running_var", D)
        if np.any(running_var < 0):
            raise ValueError("running_var must be non-negative")

    use_batch_stats = training or not track
    if use_batch_stats:
        if N < 2:
            raise ValueError(f"x must have N >= 2 rows to compute batch statistics "
                             f"(expected more than 1 value per channel when training), "
                             f"got shape {x.shape}")
        xhat, inv_std, mu, var = _normalize(x, 0, eps)   # biased variance normalises
        if training and track:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mu
            running_var *= 1.0 - momentum
            running_var += momentum * var * N / (N - 1)   # unbiased
    else:
        xhat, inv_std, _, _ = _normalize(x, 0, eps, running_mean.astype(x.dtype),
                                         running_var.astype(x.dtype))
    out = xhat * gamma
    out += beta
    return out, (xhat, gamma, inv_std, use_batch_stats)


def batch_norm_backward(dout, cache):
    r"""Backward pass of :func:`batch_norm_forward`.

    With :math:`g` = ``dout`` and :math:`\hat g = g\odot\gamma`:

    .. math::
        \frac{\partial L}{\partial \gamma} = \sum_n g_n \odot \hat x_n,\qquad
        \frac{\partial L}{\partial \beta} = \sum_n g_n

    In training mode :math:`\mu` and :math:`\sigma^2` depend on every row:

    .. math::
        \frac{\partial L}{\partial x_n} = \frac{1}{N\sqrt{\sigma^2+\epsilon}}
        \Big(N \hat g_n - \textstyle\sum_k \hat g_k
        - \hat x_n \sum_k \hat g_k \odot \hat x_k\Big)

    In evaluation mode the running statistics are constants and
    :math:`\partial L/\partial x_n = \hat g_n / \sqrt{\hat\sigma^2 + \epsilon}`.

    Parameters
    ----------
    dout : array_like, shape (N, D)
    cache : tuple
        From :func:`batch_norm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)

    Raises
    ------
    ValueError
        If ``dout`` does not have the shape of the forward input.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 5.0]])
    >>> out, cache = batch_norm_forward(x, np.ones(2), np.zeros(2),
    ...                                 np.zeros(2), np.ones(2), training=True)
    >>> dx, dgamma, dbeta = batch_norm_backward(np.ones_like(x), cache)
    >>> np.allclose(dx, 0.0), dbeta
    (True, array([3., 3.]))
    """
    xhat, gamma, inv_std, use_batch_stats = cache
    dout = check_dout(dout, xhat.shape, dtype=xhat.dtype)
    dgamma, dbeta = _scale_shift_grads(dout, xhat)
    if use_batch_stats:
        dx = _normalize_backward(dout * gamma, xhat, inv_std, axis=0)
    else:
        dx = dout * gamma * inv_std
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------
# layer normalization
# ---------------------------------------------------------------------------

def layer_norm_forward(x, gamma, beta, eps=1e-5):
    r"""Layer normalization over the last axis (``torch.nn.functional.layer_norm``).

    Each row (the last axis, of length ``D``) is standardised with its own
    mean and *biased* variance, then scaled and shifted:

    .. math::
        \mu = \frac{1}{D}\sum_{d} x_d,\qquad
        \sigma^2 = \frac{1}{D}\sum_{d} (x_d - \mu)^2,\qquad
        y_d = \gamma_d \frac{x_d - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_d

    Unlike batch norm the statistics do not depend on the other examples, so
    training and evaluation behave identically and ``N = 1`` is fine.

    Parameters
    ----------
    x : array_like, shape (..., D)
        Input of any rank >= 1; the last axis is normalised.
    gamma, beta : array_like, shape (D,)
        Scale and shift (torch's ``weight`` and ``bias``).
    eps : float, default 1e-5
        Added to the variance; must be > 0.

    Returns
    -------
    out : ndarray, shape (..., D)
    cache : tuple
        ``(xhat, gamma, inv_std)`` for :func:`layer_norm_backward`.

    Raises
    ------
    ValueError
        If ``x`` is a scalar or has ``D = 0``, if ``gamma`` or ``beta`` is not
        of shape ``(D,)``, or if ``eps <= 0``.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0]])
    >>> out, _ = layer_norm_forward(x, np.ones(3), np.zeros(3))
    >>> np.round(out, 4)
    array([[-1.2247,  0.    ,  1.2247]])
    """
    x = as_float_array(x, "x")
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"x must have shape (..., D) with D >= 1, got {x.shape}")
    D = x.shape[-1]
    x, gamma, beta = as_common_float(x, _check_vector(gamma, "gamma", D),
                                     _check_vector(beta, "beta", D))
    eps = _check_eps(eps)

    xhat, inv_std, _, _ = _normalize(x.reshape(-1, D), 1, eps)
    out = xhat * gamma
    out += beta
    lead = x.shape[:-1]
    return out.reshape(x.shape), (xhat.reshape(x.shape), gamma, inv_std.reshape(*lead, 1))


def layer_norm_backward(dout, cache):
    r"""Backward pass of :func:`layer_norm_forward`.

    .. math::
        \frac{\partial L}{\partial \gamma} = \sum_{\text{rows}} g \odot \hat x,\qquad
        \frac{\partial L}{\partial \beta} = \sum_{\text{rows}} g,\qquad
        \frac{\partial L}{\partial x} = \frac{1}{D\sigma}\Big(D\,\hat g
        - \textstyle\sum_d \hat g_d - \hat x \sum_d \hat g_d \hat x_d\Big)

    with :math:`g` = ``dout``, :math:`\hat g = g \odot \gamma` and the inner
    sums over the last axis of each row.

    Parameters
    ----------
    dout : array_like, shape (..., D)
        Upstream gradient, same shape as the forward input.
    cache : tuple
        From :func:`layer_norm_forward`.

    Returns
    -------
    dx : ndarray, shape (..., D)
    dgamma, dbeta : ndarray, shape (D,)

    Raises
    ------
    ValueError
        If ``dout`` does not have the forward input's shape.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    >>> out, cache = layer_norm_forward(x, np.ones(3), np.zeros(3))
    >>> dx, dgamma, dbeta = layer_norm_backward(np.ones_like(x), cache)
    >>> np.allclose(dx, 0.0)   # shifting every output equally changes nothing upstream
    True
    >>> dbeta
    array([2., 2., 2.])
    """
    xhat, gamma, inv_std = cache
    dout = check_dout(dout, xhat.shape, dtype=xhat.dtype)
    D = xhat.shape[-1]
    dout2, xhat2 = dout.reshape(-1, D), xhat.reshape(-1, D)
    dgamma, dbeta = _scale_shift_grads(dout2, xhat2)
    dx = _normalize_backward(dout2 * gamma, xhat2, inv_std.reshape(-1), axis=1)
    return dx.reshape(xhat.shape), dgamma, dbeta


# ---------------------------------------------------------------------------
# initialization
# ---------------------------------------------------------------------------

def _check_fans(fan_in, fan_out):
    return check_positive_int(fan_in, "fan_in"), check_positive_int(fan_out, "fan_out")


def _check_gain(gain) -> float:
    return check_finite(gain, "gain", low=0.0)


def xavier_uniform(fan_in, fan_out, rng, gain=1.0):
    r"""Xavier/Glorot uniform initialization (``torch.nn.init.xavier_uniform_``).

    Keeping the variance of activations (forward) and of gradients (backward)
    as a compromise :math:`\tfrac12(n_\text{in} + n_\text{out})\sigma^2 = 1`,
    and :math:`\mathrm{Var}\,U(-a, a) = a^2/3`:

    .. math::
        W_{ij} \sim U(-a, a),\qquad
        a = \text{gain}\cdot\sqrt{\frac{6}{n_\text{in} + n_\text{out}}}

    Parameters
    ----------
    fan_in, fan_out : int >= 1
        Number of inputs and outputs of the layer.
    rng : numpy.random.Generator
    gain : float >= 0, default 1.0
        E.g. ``5/3`` for tanh (torch's ``calculate_gain('tanh')``).

    Returns
    -------
    W : ndarray, shape (fan_out, fan_in)
        torch's ``nn.Linear.weight`` layout.

    Raises
    ------
    ValueError
        If a fan is not a positive int, ``gain`` is negative or ``rng`` is not
        a Generator.

    Examples
    --------
    >>> W = xavier_uniform(300, 100, np.random.default_rng(0))
    >>> W.shape, bool(np.abs(W).max() <= np.sqrt(6 / 400))
    ((100, 300), True)
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    rng, gain = _check_rng(rng), _check_gain(gain)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_out, fan_in))


def xavier_normal(fan_in, fan_out, rng, gain=1.0):
    r"""Xavier/Glorot normal initialization (``torch.nn.init.xavier_normal_``).

    .. math::
        W_{ij} \sim \mathcal N(0, \sigma^2),\qquad
        \sigma = \text{gain}\cdot\sqrt{\frac{2}{n_\text{in} + n_\text{out}}}

    Parameters, returns and errors as in :func:`xavier_uniform`.

    Examples
    --------
    >>> W = xavier_normal(2000, 2000, np.random.default_rng(0))
    >>> W.shape, round(float(W.std()), 3)          # sqrt(2 / 4000) = 0.0224
    ((2000, 2000), 0.022)
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    rng, gain = _check_rng(rng), _check_gain(gain)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=(fan_out, fan_in))


def _kaiming_std(fan_in, fan_out, a, mode):
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    a = check_in_range(a, "a")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    gain = math.sqrt(2.0 / (1.0 + a * a))
    return fan_in, fan_out, gain / math.sqrt(fan)


def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    r"""Kaiming/He normal initialization (``torch.nn.init.kaiming_normal_``).

    A ReLU zeroes half of its input, halving the second moment, so the
    variance-preserving choice doubles Xavier's forward condition
    :math:`n_\text{in}\sigma^2 = 1`:

    .. math::
        W_{ij} \sim \mathcal N(0, \sigma^2),\qquad
        \sigma = \frac{\text{gain}}{\sqrt{n_\text{in}}},\qquad
        \text{gain} = \sqrt{\frac{2}{1 + a^2}}

    The defaults (``a = 0``, ``mode='fan_in'``) are torch's ReLU setting,
    gain :math:`\sqrt 2`; ``a`` is the negative slope of a leaky ReLU
    (``a = 1`` gives gain 1, the linear case).

    Parameters
    ----------
    fan_in, fan_out : int >= 1
    rng : numpy.random.Generator
    a : float, default 0.0
        Negative slope of the leaky ReLU that follows the layer.
    mode : {'fan_in', 'fan_out'}, default 'fan_in'
        Preserve the variance of activations (fan_in) or of gradients (fan_out).

    Returns
    -------
    W : ndarray, shape (fan_out, fan_in)

    Raises
    ------
    ValueError
        If a fan is not a positive int, ``a`` is NaN, ``mode`` is unknown or
        ``rng`` is not a Generator.

    Examples
    --------
    >>> W = kaiming_normal(500, 4000, np.random.default_rng(0))
    >>> W.shape, round(float(W.std()), 3)          # sqrt(2 / 500) = 0.0632
    ((4000, 500), 0.063)
    """
    rng = _check_rng(rng)
    fan_in, fan_out, std = _kaiming_std(fan_in, fan_out, a, mode)
    return rng.normal(0.0, std, size=(fan_out, fan_in))


def kaiming_uniform(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    r"""Kaiming/He uniform initialization (``torch.nn.init.kaiming_uniform_``).

    Same variance as :func:`kaiming_normal`, from a uniform distribution:

    .. math::
        W_{ij} \sim U(-b, b),\qquad
        b = \text{gain}\cdot\sqrt{\frac{3}{n_\text{in}}},\qquad
        \text{gain} = \sqrt{\frac{2}{1 + a^2}}

    Note that ``torch.nn.Linear`` does *not* use this default: it calls
    ``kaiming_uniform_(a=sqrt(5))``, i.e. :math:`b = 1/\sqrt{n_\text{in}}`.

    Parameters, returns and errors as in :func:`kaiming_normal`.

    Examples
    --------
    >>> W = kaiming_uniform(6, 4, np.random.default_rng(0))
    >>> W.shape, bool(np.abs(W).max() <= 1.0)      # bound sqrt(2) * sqrt(3 / 6) = 1
    ((4, 6), True)
    """
    rng = _check_rng(rng)
    fan_in, fan_out, std = _kaiming_std(fan_in, fan_out, a, mode)
    b = math.sqrt(3.0) * std
    return rng.uniform(-b, b, size=(fan_out, fan_in))


# ---------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------

def clip_grad_norm(grads, max_norm, norm_type=2.0):
    r"""Rescale gradients in place so their joint norm is at most ``max_norm``.

    Same rule as ``torch.nn.utils.clip_grad_norm_``: the norm is taken over
    all the gradients together, as if concatenated into one vector, and every
    gradient is multiplied by the same clamped coefficient

    .. math::
        \|g\| = \Big(\sum_k \|g_k\|_p^p\Big)^{1/p},\qquad
        g_k \leftarrow g_k \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big)

    The :math:`10^{-6}` avoids dividing by zero when all gradients are zero,
    and means a norm just above ``max_norm`` ends slightly *below* it. The
    direction of the update is unchanged, only its length. As in torch, a
    NaN or infinite total norm makes the gradients NaN (check the return
    value).

    Parameters
    ----------
    grads : ndarray or iterable of ndarray
        Float arrays (any shapes), modified in place.
    max_norm : float >= 0
    norm_type : float in [1, inf], default 2.0
        ``p`` of the p-norm; ``np.inf`` for the largest absolute entry.

    Returns
    -------
    float
        The total norm *before* clipping.

    Raises
    ------
    ValueError
        If an entry of ``grads`` is not a writeable float ndarray, or
        ``max_norm`` or ``norm_type`` is out of range.

    Examples
    --------
    >>> g = [np.array([3.0]), np.array([4.0])]
    >>> clip_grad_norm(g, max_norm=1.0)
    5.0
    >>> np.round(np.concatenate(g), 6)
    array([0.6, 0.8])
    """
    grads = as_array_list([grads] if isinstance(grads, np.ndarray) else grads, "grads")
    for i, g in enumerate(grads):
        check_inplace_array(g, f"grads[{i}]", "scaled in place")
    max_norm = check_in_range(max_norm, "max_norm", low=0.0)
    p = check_in_range(norm_type, "norm_type", low=1.0)

    norms = [np.linalg.norm(g.ravel(), ord=p) for g in grads if g.size]
    if not norms:
        return 0.0
    total = float(np.linalg.norm(np.array(norms), ord=p))
    with np.errstate(invalid="ignore", divide="ignore"):
        coef = np.minimum(max_norm / (total + 1e-6), 1.0)   # NaN propagates, as in torch
        for g in grads:
            g *= coef
    return total


# ---------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------

class EarlyStopping:
    r"""Stop training when the validation loss stops improving.

    A step *improves* when :math:`\text{val\_loss} < \text{best} - \text{min\_delta}`;
    then ``best`` is updated and the counter resets, otherwise the counter
    grows. :meth:`step` returns True once ``patience`` consecutive steps
    have failed to improve. A NaN loss counts as no improvement.

    Parameters
    ----------
    patience : int >= 1
        Number of non-improving steps tolerated.
    min_delta : float >= 0 (finite), default 0.0
        Minimum decrease that counts as an improvement.

    Attributes
    ----------
    best : float
        Lowest loss seen so far (``inf`` before the first step).
    best_step : int or None
        0-based index of the step that set ``best`` (restore that checkpoint).
    counter : int
        Consecutive non-improving steps.
    n_steps : int
        Number of calls to :meth:`step`.

    Raises
    ------
    ValueError
        If ``patience`` is not an int >= 1 or ``min_delta`` is negative or
        infinite.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.step(loss) for loss in [1.0, 0.8, 0.9, 0.85, 0.7]]
    [False, False, False, True, False]
    >>> stopper.best, stopper.best_step
    (0.7, 4)
    """

    def __init__(self, patience, min_delta=0.0):
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_finite(min_delta, "min_delta", low=0.0)
        self.best = math.inf
        self.best_step = None
        self.counter = 0
        self.n_steps = 0

    def step(self, val_loss) -> bool:
        """Record one validation loss; return True if training should stop.

        Raises
        ------
        ValueError
            If ``val_loss`` is not a single real number.
        """
        arr = as_float_array(val_loss, "val_loss")
        if isinstance(val_loss, (bool, np.bool_)) or arr.size != 1:
            raise ValueError(f"val_loss must be a single number, got {val_loss!r}")
        loss = float(arr.reshape(()))
        if loss < self.best - self.min_delta:
            self.best, self.best_step, self.counter = loss, self.n_steps, 0
        else:
            self.counter += 1
        self.n_steps += 1
        return self.counter >= self.patience

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"best={self.best}, counter={self.counter})")


# ---------------------------------------------------------------------------
# label smoothing
# ---------------------------------------------------------------------------

def label_smoothing(y_onehot, epsilon, n_classes=None):
    r"""Smoothed targets, torch's definition (``cross_entropy(label_smoothing=ε)``).

    .. math::
        \tilde y = (1 - \varepsilon)\, y + \frac{\varepsilon}{C}

    The true class gets :math:`1 - \varepsilon + \varepsilon/C`, every other
    class :math:`\varepsilon/C`; rows still sum to 1. Cross-entropy with these
    targets equals ``F.cross_entropy(logits, labels, label_smoothing=ε)``.

    Parameters
    ----------
    y_onehot : array_like, shape (..., C)
        One-hot (or already soft) targets: non-negative rows summing to 1,
        classes on the last axis. If ``n_classes`` is given, ``y_onehot``
        is instead a 1-D array of integer class labels.
    epsilon : float in [0, 1]
    n_classes : int >= 1, optional
        Number of classes C when passing integer labels.

    Returns
    -------
    ndarray, shape (..., C) (``(N, n_classes)`` for labels)

    Raises
    ------
    ValueError
        If ``epsilon`` is outside ``[0, 1]``, rows of ``y_onehot`` are not
        probability vectors, or labels are out of ``[0, n_classes)``.

    Examples
    --------
    >>> label_smoothing(np.array([[0.0, 1.0, 0.0, 0.0]]), 0.2)
    array([[0.05, 0.85, 0.05, 0.05]])
    >>> label_smoothing([1, 0], 0.2, n_classes=2)
    array([[0.1, 0.9],
           [0.9, 0.1]])
    """
    epsilon = check_in_range(epsilon, "epsilon", low=0.0, high=1.0)
    if n_classes is not None:
        C = check_positive_int(n_classes, "n_classes")
        labels = as_class_indices(y_onehot, C, "y_onehot")
        y = np.eye(C)[labels]
    else:
        y = as_float_array(y_onehot, "y_onehot")
        if y.ndim < 1 or y.shape[-1] == 0:
            raise ValueError(f"y_onehot must have shape (..., C) with C >= 1, got {y.shape}")
        if np.any(~(y >= 0)) or not np.allclose(y.sum(axis=-1), 1.0, atol=1e-6):
            raise ValueError("y_onehot must contain one-hot rows (non-negative, summing to 1); "
                             "for integer class labels pass n_classes")
        C = y.shape[-1]
    return (1.0 - epsilon) * y + epsilon / C
