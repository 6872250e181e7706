r"""Attention and the Transformer encoder block, in numpy.

Everything here follows one **mask convention**: a mask is a boolean array
and ``True`` means *this query may attend to this key*. That is the meaning of
a boolean ``attn_mask`` in ``torch.nn.functional.scaled_dot_product_attention``.
(``torch.nn.MultiheadAttention`` and ``torch.nn.TransformerEncoderLayer`` use
the opposite meaning, ``True`` = blocked, so pass them ``~mask``.)

Layers follow the CS231n pattern ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``; weight layouts are torch's, so weights
copy across in both directions. One exception: :func:`sdpa_backward` takes
the forward's ``q, k, v`` and attention ``weights`` as plain arrays (the
chapter-9 exercise's signature; ``sdpa_forward``'s cache holds exactly those).
The block and multi-head layers accept the attention forward, the attention
backward and the LayerNorm backward as parameters, so a demo can train them
with a reader's own pieces. float32 inputs stay float32 (fast); anything
else is computed in float64 (the library's dtype rule, ``docs/library.md``).

Shapes: ``B`` batch, ``H`` heads, ``L`` query length, ``S`` key length,
``E`` model width, ``d = E / H`` head width, ``F`` feed-forward width.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dlnotes import activations, regularization
from dlnotes._validation import (
    as_common_float,
    as_float_array,
    check_dout,
    check_flag,
    check_positive_int,
)
from dlnotes.regularization import layer_norm_forward, xavier_uniform

__all__ = [
    "ENCODER_PARAM_NAMES",
    "causal_mask",
    "encoder_block_backward",
    "encoder_block_forward",
    "init_encoder_block_params",
    "merge_heads",
    "multi_head_attention",
    "multi_head_attention_backward",
    "multi_head_attention_forward",
    "scaled_dot_product_attention",
    "sdpa_backward",
    "sdpa_forward",
    "sinusoidal_positional_encoding",
    "split_heads",
]

ENCODER_PARAM_NAMES = (
    "self_attn.in_proj_weight",
    "self_attn.in_proj_bias",
    "self_attn.out_proj.weight",
    "self_attn.out_proj.bias",
    "linear1.weight",
    "linear1.bias",
    "linear2.weight",
    "linear2.bias",
    "norm1.weight",
    "norm1.bias",
    "norm2.weight",
    "norm2.bias",
)
"""The array entries of an encoder-block ``params`` dict (torch ``state_dict()`` keys)."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def _at_least_2d(a, name: str) -> np.ndarray:
    """A float array with at least the two axes (..., rows, features)."""
    arr = as_float_array(a, name)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., n, d), "
                         f"got shape {arr.shape}")
    return arr


def _check_shape(arr: np.ndarray, shape: tuple, name: str, what: str) -> None:
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {what} = {shape}, got {arr.shape}")


def _as_bool_mask(mask, target_shape: tuple, what: str) -> np.ndarray:
    """Check ``mask`` is boolean and broadcasts to ``target_shape`` (without growing it)."""
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(
            f"mask must be a boolean array (True = may attend), got dtype {m.dtype}; "
            "for a 0/1 array use mask.astype(bool)"
        )
    try:
        ok = np.broadcast_shapes(m.shape, target_shape) == tuple(target_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"mask must be broadcastable to {what} = {tuple(target_shape)}, got shape {m.shape}"
        )
    return m


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach its shape."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``x @ w.T + b`` over the last axis, as one 2-D matrix product."""
    y = x.reshape(-1, x.shape[-1]) @ w.T
    if b is not None:
        y += b
    return y.reshape(*x.shape[:-1], w.shape[0])


def _linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, has_bias: bool):
    """Gradients of ``y = x @ w.T + b``: returns ``(dx, dw, db)`` (``db`` None if no bias)."""
    dy2 = dy.reshape(-1, dy.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    dx = (dy2 @ w).reshape(x.shape)
    dw = dy2.T @ x2
    db = dy2.sum(axis=0) if has_bias else None
    return dx, dw, db


def _masked_softmax_t(scores_t: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Softmax over the keys of *transposed* scores (..., S, L); overwrites ``scores_t``.

    The scores are kept key-major, so the softmax normalises over axis -2:
    numpy's max and sum over that axis add whole contiguous rows, several
    times faster than reducing each short row of a (..., L, S) array.
    Masked entries come out exactly 0; a query whose keys are all masked
    gets all-zero weights rather than NaN.
    """
    if mask is not None:                            # 0 where allowed, -inf where masked
        bias = np.where(np.swapaxes(mask, -1, -2), 0.0, -np.inf).astype(scores_t.dtype)
        scores_t += bias
    col_max = scores_t.max(axis=-2, keepdims=True)
    if mask is not None:
        col_max[col_max == -np.inf] = 0.0          # fully masked query: exp(-inf) = 0 everywhere
    np.subtract(scores_t, col_max, out=scores_t)    # max-shift: every exponent <= 0, no overflow
    with np.errstate(under="ignore"):               # exp(-1e4) = 0 is the right answer
        np.exp(scores_t, out=scores_t)
    total = scores_t.sum(axis=-2, keepdims=True)
    if mask is not None:
        total[total == 0] = 1.0                    # 0 / 1 = 0 for fully masked queries
    scores_t *= 1.0 / total
    return scores_t


def _given_piece(fn, name: str, default):
    """``fn`` if given (a forward or backward piece), else the library's ``default``."""
    if fn is None:
        return default
    if not callable(fn):
        raise ValueError(f"{name} must be a function or None, got {type(fn).__name__}")
    return fn


def _run_piece(fn, name: str, args: tuple, outputs: tuple, dtype) -> list:
    """Call a given piece and check it returns one array per ``(label, shape)`` in ``outputs``.

    The results come back as arrays of ``dtype``, so a piece that computes in
    float64 does not change the layer's dtype.
    """
    got = fn(*args)
    if not isinstance(got, (tuple, list)) or len(got) != len(outputs):
        labels = ", ".join(label for label, _ in outputs)
        raise ValueError(f"{name} must return the tuple ({labels}), got {type(got).__name__}"
                         + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""))
    arrays = []
    for value, (label, shape) in zip(got, outputs, strict=True):
        arr = np.asarray(value, dtype=dtype)
        if arr.shape != shape:
            raise ValueError(f"{name} returned {label} of shape {arr.shape}, expected {shape}")
        arrays.append(arr)
    return arrays


# --------------------------------------------------------------------------
# scaled dot-product attention
# --------------------------------------------------------------------------

def _check_qkv(q, k, v):
    """Validate q (..., L, d), k (..., S, d), v (..., S, dv); return them and the batch shape."""
    q, k, v = as_common_float(*(_at_least_2d(a, n) for a, n in ((q, "q"), (k, "k"), (v, "v"))))
    d, S = q.shape[-1], k.shape[-2]
    if k.shape[-1] != d:
        raise ValueError(f"k must have shape (..., S, d) with d={d} to match q, got {k.shape}")
    if v.shape[-2] != S:
        raise ValueError(f"v must have shape (..., S, dv) with S={S} to match k, got {v.shape}")
    if d == 0:
        raise ValueError("q and k must have a non-empty feature axis d, got d=0")
    if S == 0:
        raise ValueError("k and v must hold at least one key (S >= 1), got S=0")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            "q, k and v leading (batch/head) axes must broadcast, got shapes "
            f"{q.shape}, {k.shape}, {v.shape}"
        ) from None
    return q, k, v, batch


def sdpa_forward(q, k, v, mask=None):
    r"""Scaled dot-product attention, forward pass with a cache for the backward pass.

    .. math::

        A = \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt{d}} + M\Big), \qquad
        \mathrm{out} = A V,

    where :math:`M_{ij} = 0` if ``mask[i, j]`` is True and :math:`-\infty`
    otherwise; the softmax runs over the keys (last axis).

    Parameters
    ----------
    q : array_like, shape (..., L, d)
        Queries. Leading axes (batch, heads, ...) broadcast against ``k`` and ``v``.
    k : array_like, shape (..., S, d)
        Keys.
    v : array_like, shape (..., S, dv)
        Values.
    mask : bool array_like, broadcastable to (..., L, S), optional
        ``True`` where query ``i`` may attend to key ``j``. ``None`` attends everywhere.

    Returns
    -------
    out : ndarray, shape (..., L, dv)
    cache : dict
        The arguments of :func:`sdpa_backward`: ``"q"``, ``"k"``, ``"v"`` (as
        float arrays) and ``"weights"``, the attention matrix of shape
        (..., L, S) (a transposed view of a key-major array). So the backward
        pass is ``sdpa_backward(dout, **cache)``.

    Raises
    ------
    ValueError
        If ``q``, ``k`` or ``v`` have fewer than 2 axes, mismatched ``d``/``S``,
        leading axes that do not broadcast, ``d == 0`` or ``S == 0``; if ``mask``
        is not boolean or does not broadcast to (..., L, S).

    Notes
    -----
    Masked weights are exactly 0. The softmax is max-shifted, so scores of size
    1e4 neither overflow nor warn. A row with every key masked gets all-zero
    weights, a zero output and zero gradients. That is what
    ``torch.nn.functional.scaled_dot_product_attention`` returns since torch 2.5;
    a plain ``softmax(scores.masked_fill(~mask, -inf))`` gives NaN there.
    float32 inputs are computed in float32, everything else in float64.

    Examples
    --------
    >>> q = np.zeros((1, 2)); k = np.array([[1.0, 0.0], [0.0, 1.0]]); v = np.array([[1.0], [3.0]])
    >>> out, cache = sdpa_forward(q, k, v)
    >>> out
    array([[2.]])
    >>> sdpa_forward(q, k, v, mask=np.array([[True, False]]))[0]
    array([[1.]])
    """
    q, k, v, batch = _check_qkv(q, k, v)
    L, S = q.shape[-2], k.shape[-2]
    if mask is not None:
        mask = _as_bool_mask(mask, (*batch, L, S), "(..., L, S)")

    q_scaled = q * q.dtype.type(1.0 / np.sqrt(q.shape[-1]))   # scale the small q, not the scores
    scores_t = k @ np.swapaxes(q_scaled, -1, -2)    # (..., S, L): key-major, see _masked_softmax_t
    weights_t = _masked_softmax_t(scores_t, mask)
    out = np.swapaxes(weights_t, -1, -2) @ v        # (..., L, dv)
    weights = np.swapaxes(weights_t, -1, -2)        # (..., L, S), a view
    return out, {"q": q, "k": k, "v": v, "weights": weights}


def sdpa_backward(dout, q, k, v, weights):
    r"""Backward pass of scaled dot-product attention, from the forward's weights.

    With :math:`Z = QK^\top/\sqrt d + M`, :math:`A = \operatorname{softmax}(Z)`
    row by row, :math:`O = AV` and :math:`\bar X = \partial \ell / \partial X`:

    .. math::

        \bar V = A^\top \bar O, \quad \bar A = \bar O V^\top, \quad
        \bar Z_{ij} = A_{ij}\Big(\bar A_{ij} - \textstyle\sum_{j'} \bar A_{ij'} A_{ij'}\Big),
        \quad
        \bar Q = \tfrac{1}{\sqrt d}\, \bar Z K, \quad \bar K = \tfrac{1}{\sqrt d}\, \bar Z^\top Q.

    Parameters
    ----------
    dout : array_like, shape (..., L, dv)
        Upstream gradient, same shape as the forward's ``out``.
    q : array_like, shape (..., L, d)
    k : array_like, shape (..., S, d)
    v : array_like, shape (..., S, dv)
        The forward's inputs; leading axes broadcast as in :func:`sdpa_forward`.
    weights : array_like, shape (..., L, S)
        The forward's attention weights, over the broadcast leading axes:
        masked entries exactly 0, a fully masked row all 0. The mask needs no
        passing: a masked entry has zero weight, hence zero gradient.

    Returns
    -------
    dq, dk, dv : ndarray
        Same shapes as ``q``, ``k``, ``v`` (gradients summed over broadcast axes).
        A fully masked query row gets ``dq = 0`` and gives nothing to ``dk``, ``dv``.

    Raises
    ------
    ValueError
        If ``q``, ``k``, ``v`` are mis-shaped (as in :func:`sdpa_forward`), or
        ``weights`` or ``dout`` do not have the forward's (..., L, S) and
        (..., L, dv) shapes.

    Notes
    -----
    The softmax's Jacobian, :math:`\partial A_{ij}/\partial Z_{ik}
    = A_{ij}(\delta_{jk} - A_{ik})`, is a full matrix per row: its diagonal
    alone, :math:`A(1 - A)`, is not the gradient. Computed in float32 if
    every input is float32, else float64.

    Examples
    --------
    >>> q = np.zeros((1, 2)); k = np.eye(2); v = np.array([[1.0], [3.0]])
    >>> out, cache = sdpa_forward(q, k, v)
    >>> dq, dk, dv = sdpa_backward(np.ones((1, 1)), **cache)
    >>> dv
    array([[0.5],
           [0.5]])
    >>> dq   # moving q towards key 2 (value 3) raises the output
    array([[-0.35355339,  0.35355339]])
    """
    q, k, v, batch = _check_qkv(q, k, v)
    L, S = q.shape[-2], k.shape[-2]
    weights = as_float_array(weights, "weights")
    _check_shape(weights, (*batch, L, S), "weights", "(..., L, S)")
    q, k, v, weights = as_common_float(q, k, v, weights)
    dout = check_dout(dout, (*batch, L, v.shape[-1]), dtype=weights.dtype)

    scale = weights.dtype.type(1.0 / np.sqrt(q.shape[-1]))
    weights_t = np.swapaxes(weights, -1, -2)        # (..., S, L), contiguous from sdpa_forward
    with np.errstate(under="ignore"):               # tiny weights times gradients may underflow
        dv = weights_t @ dout                       # (..., S, dv)
        dscores_t = v @ np.swapaxes(dout, -1, -2)   # dA transposed, (..., S, L)
        # softmax backward, fused in place: dZ = A * (dA - rowsum(dA * A)), key-major
        dscores_t -= np.einsum("...ji,...ji->...i", dscores_t, weights_t)[..., None, :]
        dscores_t *= weights_t
        dq = np.swapaxes(dscores_t, -1, -2) @ k     # (..., L, d)
        dq *= scale
        dk = dscores_t @ q                          # (..., S, d)
        dk *= scale
    return _unbroadcast(dq, q.shape), _unbroadcast(dk, k.shape), _unbroadcast(dv, v.shape)


_SDPA_BACKWARD = sdpa_backward   # the default where a parameter named sdpa_backward shadows it


def scaled_dot_product_attention(q, k, v, mask=None):
    r"""Scaled dot-product attention :math:`\operatorname{softmax}(QK^\top/\sqrt d + M)\,V`.

    The same computation as :func:`sdpa_forward`, returning the weights instead
    of the cache. Equal to ``torch.nn.functional.scaled_dot_product_attention``
    given the same boolean ``attn_mask`` (True = may attend).

    Parameters
    ----------
    q : array_like, shape (..., L, d)
    k : array_like, shape (..., S, d)
    v : array_like, shape (..., S, dv)
    mask : bool array_like, broadcastable to (..., L, S), optional
        ``True`` where query ``i`` may attend to key ``j``.

    Returns
    -------
    out : ndarray, shape (..., L, dv)
    weights : ndarray, shape (..., L, S)
        Each row sums to 1, except fully masked rows, which are all 0 (their
        ``out`` row is 0 as well, as in torch's SDPA; a plain masked softmax
        gives NaN there).

    Raises
    ------
    ValueError
        As :func:`sdpa_forward`: mismatched shapes, or ``mask`` not boolean or
        not broadcastable to (..., L, S).

    Examples
    --------
    >>> q = k = np.eye(2)
    >>> v = np.array([[0.0], [1.0]])
    >>> out, w = scaled_dot_product_attention(q, k, v, mask=causal_mask(2))
    >>> w.round(3)
    array([[1.  , 0.  ],
           [0.33, 0.67]])
    >>> out.round(3)
    array([[0.  ],
           [0.67]])
    """
    out, cache = sdpa_forward(q, k, v, mask)
    return out, cache["weights"]


def causal_mask(T):
    r"""Boolean causal mask: position :math:`i` may attend to :math:`j` iff :math:`j \le i`.

    Parameters
    ----------
    T : int
        Sequence length, ``T >= 1``.

    Returns
    -------
    mask : ndarray of bool, shape (T, T)
        Lower triangular, diagonal included, ``True`` = may attend.

    Raises
    ------
    ValueError
        If ``T`` is not an integer >= 1.

    Examples
    --------
    >>> causal_mask(3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
    """
    T = check_positive_int(T, "T")
    return np.tril(np.ones((T, T), dtype=bool))


# --------------------------------------------------------------------------
# heads
# --------------------------------------------------------------------------

def split_heads(x, num_heads):
    r"""Split the feature axis into heads: (..., L, E) -> (..., H, L, E/H).

    Head :math:`h` gets features :math:`h d, \dots, (h+1) d - 1` with
    :math:`d = E / H`, the layout ``torch.nn.MultiheadAttention`` uses.

    Parameters
    ----------
    x : array_like, shape (B, L, E) (any leading axes allowed)
    num_heads : int
        ``H``; must divide ``E``.

    Returns
    -------
    ndarray, shape (B, H, L, E/H)
        A view of ``x`` when possible (no copy).

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 axes, or ``num_heads`` is not a positive
        integer dividing ``E``.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 4)
    >>> split_heads(x, 2)[0, 1]
    array([[2., 3.],
           [6., 7.]])
    >>> np.array_equal(merge_heads(split_heads(x, 2)), x)
    True
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (B, L, E), got {x.shape}")
    num_heads = check_positive_int(num_heads, "num_heads")
    *lead, L, E = x.shape
    if E % num_heads:
        raise ValueError(f"num_heads={num_heads} must divide the feature size E={E} of x")
    return np.swapaxes(x.reshape(*lead, L, num_heads, E // num_heads), -2, -3)


def merge_heads(x, num_heads=None):
    r"""Concatenate heads back: (..., H, L, d) -> (..., L, H d); inverse of :func:`split_heads`.

    Parameters
    ----------
    x : array_like, shape (B, H, L, d) (any leading axes allowed)
    num_heads : int, optional
        If given, checked against ``x.shape[-3]``.

    Returns
    -------
    ndarray, shape (B, L, H d)

    Raises
    ------
    ValueError
        If ``x`` has fewer than 3 axes, or ``num_heads`` is given and differs
        from ``x.shape[-3]``.

    Examples
    --------
    >>> merge_heads(np.zeros((2, 4, 5, 3))).shape
    (2, 5, 12)
    """
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"x must have shape (B, H, L, d), got {x.shape}")
    *lead, H, L, d = x.shape
    if num_heads is not None and check_positive_int(num_heads, "num_heads") != H:
        raise ValueError(f"num_heads={num_heads} does not match x.shape[-3]={H}")
    return np.swapaxes(x, -2, -3).reshape(*lead, L, H * d)


# --------------------------------------------------------------------------
# multi-head attention
# --------------------------------------------------------------------------

def _mha_mask(mask, B, H, L, S):
    """Turn a (L, S), (B, L, S) or (B, H, L, S) mask into one broadcastable to (B, H, L, S)."""
    m = np.asarray(mask)
    if m.ndim == 3:
        m = _as_bool_mask(m, (B, L, S), "(B, L, S)")
        return m[:, None]
    if m.ndim in (2, 4):
        return _as_bool_mask(m, (B, H, L, S), "(L, S), (B, L, S) or (B, H, L, S)")
    raise ValueError(f"mask must have shape (L, S), (B, L, S) or (B, H, L, S), got {m.shape}")


def multi_head_attention_forward(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                                 out_proj_weight, out_proj_bias, mask=None, attention=None):
    r"""Multi-head attention, forward pass (``torch.nn.MultiheadAttention``, batch_first).

    .. math::

        \mathrm{head}_h = \operatorname{softmax}\!\Big(
            \frac{(X_q W_q^\top + b_q)_h\,(X_k W_k^\top + b_k)_h^\top}{\sqrt d} + M\Big)
            (X_v W_v^\top + b_v)_h, \qquad
        \mathrm{out} = [\mathrm{head}_1, \dots, \mathrm{head}_H]\, W_o^\top + b_o,

    where subscript :math:`h` takes the :math:`h`-th block of :math:`d = E/H` columns.

    Parameters
    ----------
    query : array_like, shape (B, L, E)
    key : array_like, shape (B, S, E)
    value : array_like, shape (B, S, E)
        For self-attention pass the same array three times.
    num_heads : int
        ``H``; must divide ``E``.
    in_proj_weight : array_like, shape (3E, E)
        :math:`W_q, W_k, W_v` stacked in that order, as torch's ``in_proj_weight``.
    in_proj_bias : array_like, shape (3E,), or None
    out_proj_weight : array_like, shape (E, E)
        torch's ``out_proj.weight``.
    out_proj_bias : array_like, shape (E,), or None
    mask : bool array_like, optional
        Shape (L, S), (B, L, S) or (B, H, L, S), size-1 axes broadcast (so a
        key-padding mask is (B, 1, S)). ``True`` = may attend, i.e. the
        *negation* of torch's ``attn_mask``/``key_padding_mask``.
    attention : callable, optional
        ``attention(q, k, v, mask) -> (out, weights)``, the scaled dot-product
        attention of the heads (q (B, H, L, d), k and v (B, H, S, d), mask
        broadcastable to (B, H, L, S) or None); None uses :func:`sdpa_forward`.
        A demo passes the reader's own; its weights go into the cache.

    Returns
    -------
    out : ndarray, shape (B, L, E)
    cache : dict
        For :func:`multi_head_attention_backward`; ``cache["weights"]`` holds the
        per-head attention weights, shape (B, H, L, S), and ``cache["sdpa"]``
        the per-head ``q``, ``k``, ``v`` and ``weights`` (the arguments of
        :func:`sdpa_backward`).

    Raises
    ------
    ValueError
        If the inputs are not 3-D with matching ``B``/``E`` (and ``S`` for key and
        value), ``num_heads`` does not divide ``E``, a weight or bias has the wrong
        shape, or ``mask`` is not boolean or has a wrong shape; if ``attention``
        is not callable or returns arrays of the wrong shapes.

    Notes
    -----
    No dropout. A query row with every key masked gets zero weights, so its
    output is ``out_proj_bias``; torch agrees with ``need_weights=False`` and
    gives NaN with ``need_weights=True``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 8))
    >>> w_in, w_out = rng.normal(size=(24, 8)), rng.normal(size=(8, 8))
    >>> out, cache = multi_head_attention_forward(x, x, x, 2, w_in, None, w_out, None)
    >>> out.shape, cache["weights"].shape
    ((2, 5, 8), (2, 2, 5, 5))
    """
    query = as_float_array(query, "query")
    key = as_float_array(key, "key")
    value = as_float_array(value, "value")
    if query.ndim != 3:
        raise ValueError(f"query must have shape (B, L, E), got {query.shape}")
    B, L, E = query.shape
    if key.ndim != 3 or key.shape[0] != B or key.shape[2] != E:
        raise ValueError(f"key must have shape (B, S, E) with B={B}, E={E}, got {key.shape}")
    S = key.shape[1]
    _check_shape(value, (B, S, E), "value", "(B, S, E)")
    if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) \
            or num_heads < 1 or E % num_heads:
        raise ValueError(f"num_heads must be a positive integer dividing E={E}, got {num_heads!r}")
    H = int(num_heads)
    w_in = as_float_array(in_proj_weight, "in_proj_weight")
    _check_shape(w_in, (3 * E, E), "in_proj_weight", "(3E, E)")
    w_out = as_float_array(out_proj_weight, "out_proj_weight")
    _check_shape(w_out, (E, E), "out_proj_weight", "(E, E)")
    b_in = b_out = None
    if in_proj_bias is not None:
        b_in = as_float_array(in_proj_bias, "in_proj_bias")
        _check_shape(b_in, (3 * E,), "in_proj_bias", "(3E,)")
    if out_proj_bias is not None:
        b_out = as_float_array(out_proj_bias, "out_proj_bias")
        _check_shape(b_out, (E,), "out_proj_bias", "(E,)")
    if mask is not None:
        mask = _mha_mask(mask, B, H, L, S)
    query, key, value, w_in, w_out, b_in, b_out = as_common_float(
        query, key, value, w_in, w_out, b_in, b_out)

    w_q, w_k, w_v = w_in[:E], w_in[E:2 * E], w_in[2 * E:]
    b_q, b_k, b_v = (None, None, None) if b_in is None else (b_in[:E], b_in[E:2 * E], b_in[2 * E:])
    q = split_heads(_linear(query, w_q, b_q), H)    # (B, H, L, d)
    k = split_heads(_linear(key, w_k, b_k), H)      # (B, H, S, d)
    v = split_heads(_linear(value, w_v, b_v), H)    # (B, H, S, d)
    if attention is None:
        heads, sdpa_cache = sdpa_forward(q, k, v, mask)
    else:
        attention = _given_piece(attention, "attention", None)
        heads, weights = _run_piece(attention, "attention", (q, k, v, mask),
                                    (("out", v.shape), ("weights", (B, H, L, S))), q.dtype)
        sdpa_cache = {"q": q, "k": k, "v": v, "weights": weights}
    concat = merge_heads(heads)                     # (B, L, E)
    out = _linear(concat, w_out, b_out)
    cache = {
        "query": query, "key": key, "value": value, "num_heads": H,
        "in_proj_weight": w_in, "out_proj_weight": w_out,
        "has_in_bias": b_in is not None, "has_out_bias": b_out is not None,
        "concat": concat, "sdpa": sdpa_cache, "weights": sdpa_cache["weights"],
    }
    return out, cache


def multi_head_attention_backward(dout, cache, sdpa_backward=None):
    r"""Backward pass of :func:`multi_head_attention_forward`.

    Parameters
    ----------
    dout : array_like, shape (B, L, E)
    cache : dict
        From :func:`multi_head_attention_forward`.
    sdpa_backward : callable, optional
        ``sdpa_backward(dout, q, k, v, weights) -> (dq, dk, dv)`` for the
        per-head attention (arrays of shape (B, H, ., .)); None uses this
        module's :func:`sdpa_backward`. A demo passes the reader's own.

    Returns
    -------
    dquery : ndarray, shape (B, L, E)
    dkey, dvalue : ndarray, shape (B, S, E)
        For self-attention the input's gradient is ``dquery + dkey + dvalue``.
    grads : dict
        ``"in_proj_weight"`` (3E, E), ``"in_proj_bias"`` (3E,),
        ``"out_proj.weight"`` (E, E), ``"out_proj.bias"`` (E,) -- torch's
        parameter names; a bias entry is None if the forward had no bias.

    Raises
    ------
    ValueError
        If ``dout`` does not have the shape of ``out``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 8))
    >>> w_in, b_in = rng.normal(size=(24, 8)), np.zeros(24)
    >>> out, cache = multi_head_attention_forward(x, x, x, 2, w_in, b_in, np.eye(8), None)
    >>> dq, dk, dv, grads = multi_head_attention_backward(np.ones_like(out), cache)
    >>> grads["in_proj_weight"].shape, grads["out_proj.bias"] is None
    ((24, 8), True)
    """
    query, key, value, concat = cache["query"], cache["key"], cache["value"], cache["concat"]
    w_in, w_out, H = cache["in_proj_weight"], cache["out_proj_weight"], cache["num_heads"]
    E = query.shape[-1]
    dout = check_dout(dout, query.shape, dtype=query.dtype)

    attn_backward = _given_piece(sdpa_backward, "sdpa_backward", _SDPA_BACKWARD)

    dconcat, dw_out, db_out = _linear_backward(dout, concat, w_out, cache["has_out_bias"])
    c = cache["sdpa"]
    dq, dk, dv = _run_piece(
        attn_backward, "sdpa_backward",
        (split_heads(dconcat, H), c["q"], c["k"], c["v"], c["weights"]),
        (("dq", c["q"].shape), ("dk", c["k"].shape), ("dv", c["v"].shape)), query.dtype)
    has_b = cache["has_in_bias"]
    dquery, dw_q, db_q = _linear_backward(merge_heads(dq), query, w_in[:E], has_b)
    dkey, dw_k, db_k = _linear_backward(merge_heads(dk), key, w_in[E:2 * E], has_b)
    dvalue, dw_v, db_v = _linear_backward(merge_heads(dv), value, w_in[2 * E:], has_b)
    grads = {
        "in_proj_weight": np.concatenate([dw_q, dw_k, dw_v]),
        "in_proj_bias": np.concatenate([db_q, db_k, db_v]) if has_b else None,
        "out_proj.weight": dw_out,
        "out_proj.bias": db_out,
    }
    return dquery, dkey, dvalue, grads


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    r"""Multi-head attention: :func:`multi_head_attention_forward` returning the weights.

    ``out`` equals ``torch.nn.MultiheadAttention(E, num_heads, batch_first=True)``
    with the same ``in_proj_weight``/``in_proj_bias``/``out_proj`` and
    ``attn_mask=~mask``; ``weights`` equals its ``average_attn_weights=False``
    weights.

    .. math::

        \mathrm{out} = \big[\operatorname{softmax}(Q_h K_h^\top/\sqrt d + M) V_h\big]_{h=1}^{H}
        W_o^\top + b_o

    Parameters
    ----------
    query : array_like, shape (B, L, E)
    key, value : array_like, shape (B, S, E)
    num_heads : int
    in_proj_weight : array_like, shape (3E, E)
    in_proj_bias : array_like, shape (3E,), or None
    out_proj_weight : array_like, shape (E, E)
    out_proj_bias : array_like, shape (E,), or None
    mask : bool array_like, shape (L, S), (B, L, S) or (B, H, L, S), optional
        ``True`` = may attend.

    Returns
    -------
    out : ndarray, shape (B, L, E)
    weights : ndarray, shape (B, H, L, S)
        Per-head attention weights.

    Raises
    ------
    ValueError
        As :func:`multi_head_attention_forward`.

    Examples
    --------
    >>> x = np.ones((1, 3, 4))
    >>> out, w = multi_head_attention(x, x, x, 2, np.ones((12, 4)), None, np.eye(4), None,
    ...                               mask=causal_mask(3))
    >>> w[0, 0]
    array([[1.        , 0.        , 0.        ],
           [0.5       , 0.5       , 0.        ],
           [0.33333333, 0.33333333, 0.33333333]])
    """
    out, cache = multi_head_attention_forward(query, key, value, num_heads, in_proj_weight,
                                              in_proj_bias, out_proj_weight, out_proj_bias, mask)
    return out, cache["weights"]


# --------------------------------------------------------------------------
# positional encoding
# --------------------------------------------------------------------------

def sinusoidal_positional_encoding(seq_len, d_model):
    r"""Sinusoidal positional encoding of Vaswani et al. (2017).

    .. math::

        PE_{p,\,2i} = \sin\!\big(p / 10000^{2i/d}\big), \qquad
        PE_{p,\,2i+1} = \cos\!\big(p / 10000^{2i/d}\big),

    with :math:`d` = ``d_model``, positions :math:`p = 0, \dots,` ``seq_len`` - 1.

    Parameters
    ----------
    seq_len : int
        Number of positions, >= 1.
    d_model : int
        Feature size, >= 1. An odd ``d_model`` is allowed: the last column
        ``d_model - 1`` is even, so it is a sine (with exponent
        :math:`(d-1)/d`) that has no cosine partner.

    Returns
    -------
    pe : ndarray, shape (seq_len, d_model), float64
        Values in [-1, 1]; row 0 alternates 0, 1, 0, 1, ...

    Raises
    ------
    ValueError
        If ``seq_len`` or ``d_model`` is not an integer >= 1.

    Examples
    --------
    >>> sinusoidal_positional_encoding(2, 4).round(4)
    array([[0.    , 1.    , 0.    , 1.    ],
           [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    seq_len = check_positive_int(seq_len, "seq_len")
    d_model = check_positive_int(d_model, "d_model")
    pos = np.arange(seq_len, dtype=np.float64)[:, None]             # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)              # 0, 2, 4, ...
    angle = pos / 10000.0 ** (two_i / d_model)                      # (T, ceil(d/2))
    pe = np.empty((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe


# --------------------------------------------------------------------------
# Transformer encoder block
# --------------------------------------------------------------------------

_ACTIVATIONS = {
    "relu": (activations.relu, activations.relu_grad),
    "gelu": (activations.gelu, activations.gelu_grad),
}


def _resolve_num_heads(params, num_heads) -> int:
    stored = params.get("num_heads") if isinstance(params, Mapping) else None
    if num_heads is None and stored is None:
        raise ValueError("num_heads must be given, as the keyword num_heads= "
                         "or as the int params['num_heads']")
    if num_heads is not None and stored is not None and num_heads != stored:
        raise ValueError(f"num_heads={num_heads!r} contradicts params['num_heads']={stored!r}")
    value = num_heads if num_heads is not None else stored
    return check_positive_int(value, "num_heads")


def _check_encoder_params(params, E: int) -> dict:
    """Return the twelve parameter arrays as floats, checking names and shapes."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict keyed like TransformerEncoderLayer.state_dict(), "
                         f"got {type(params).__name__}")
    missing = [n for n in ENCODER_PARAM_NAMES if n not in params]
    if missing:
        raise ValueError(f"params is missing {missing}")
    p = {n: as_float_array(params[n], f"params['{n}']") for n in ENCODER_PARAM_NAMES}
    w1 = p["linear1.weight"]
    if w1.ndim != 2 or w1.shape[0] < 1:
        raise ValueError(f"params['linear1.weight'] must have shape (F, E) with F >= 1, "
                         f"got {w1.shape}")
    F = w1.shape[0]
    expected = {
        "self_attn.in_proj_weight": ((3 * E, E), "(3E, E)"),
        "self_attn.in_proj_bias": ((3 * E,), "(3E,)"),
        "self_attn.out_proj.weight": ((E, E), "(E, E)"),
        "self_attn.out_proj.bias": ((E,), "(E,)"),
        "linear1.weight": ((F, E), "(F, E)"),
        "linear1.bias": ((F,), "(F,)"),
        "linear2.weight": ((E, F), "(E, F)"),
        "linear2.bias": ((E,), "(E,)"),
        "norm1.weight": ((E,), "(E,)"),
        "norm1.bias": ((E,), "(E,)"),
        "norm2.weight": ((E,), "(E,)"),
        "norm2.bias": ((E,), "(E,)"),
    }
    for n, (shape, what) in expected.items():
        if p[n].shape != shape:
            raise ValueError(f"params['{n}'] must have shape {what} with E={E} (from x) "
                             f"and F={F} (from linear1.weight), got {p[n].shape}")
    return p


def encoder_block_forward(x, params, mask=None, *, num_heads=None, norm_first=False,
                          activation="relu", eps=1e-5, attention=None):
    r"""Transformer encoder block, forward pass (``torch.nn.TransformerEncoderLayer``).

    Post-norm (``norm_first=False``, torch's default and the original paper):

    .. math::

        h = \mathrm{LN}_1\big(x + \mathrm{MHA}(x, x, x)\big), \qquad
        \mathrm{out} = \mathrm{LN}_2\big(h + \mathrm{FF}(h)\big),

    pre-norm (``norm_first=True``, easier to train deep):

    .. math::

        h = x + \mathrm{MHA}(\mathrm{LN}_1 x), \qquad
        \mathrm{out} = h + \mathrm{FF}(\mathrm{LN}_2 h),

    with :math:`\mathrm{FF}(h) = \phi(h W_1^\top + b_1) W_2^\top + b_2` and
    :math:`\phi` ReLU (default) or GELU (exact, erf).

    Parameters
    ----------
    x : array_like, shape (B, L, E)
    params : dict
        Arrays named like ``TransformerEncoderLayer.state_dict()`` (see
        ``ENCODER_PARAM_NAMES``): ``self_attn.in_proj_weight`` (3E, E),
        ``self_attn.in_proj_bias`` (3E,), ``self_attn.out_proj.weight`` (E, E),
        ``self_attn.out_proj.bias`` (E,), ``linear1.weight`` (F, E),
        ``linear1.bias`` (F,), ``linear2.weight`` (E, F), ``linear2.bias`` (E,),
        ``norm1.weight``, ``norm1.bias``, ``norm2.weight``, ``norm2.bias`` (E,).
        May also hold the int ``"num_heads"`` (as :func:`init_encoder_block_params`
        does); other keys are ignored.
    mask : bool array_like, shape (L, L), (B, L, L) or (B, H, L, L), optional
        ``True`` = may attend (torch's ``src_mask`` is the negation).
    num_heads : int, keyword-only, optional
        Number of heads; if omitted, ``params["num_heads"]`` is used.
    norm_first : bool, keyword-only, default False
        Post-norm (False, torch default) or pre-norm (True).
    activation : {"relu", "gelu"}, keyword-only, default "relu"
    eps : float, keyword-only, default 1e-5
        LayerNorm epsilon (torch's ``layer_norm_eps``).
    attention : callable, keyword-only, optional
        ``attention(q, k, v, mask) -> (out, weights)`` for the heads, as in
        :func:`multi_head_attention_forward`; None uses :func:`sdpa_forward`.

    Returns
    -------
    out : ndarray, shape (B, L, E)
        float32 if ``x`` and every parameter are float32, else float64.
    cache : dict
        For :func:`encoder_block_backward`; ``cache["attn"]["weights"]`` holds
        the per-head attention weights (B, H, L, L).

    Raises
    ------
    ValueError
        If ``x`` is not (B, L, E); a parameter is missing or mis-shaped;
        ``num_heads`` is missing, contradicts ``params["num_heads"]`` or does not
        divide ``E``; ``activation`` is unknown; ``mask`` is not boolean or
        mis-shaped.

    Notes
    -----
    No dropout (torch's ``dropout=0``). float32 ``x`` and parameters give a
    float32 output, cache and gradients; anything else is computed in float64.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = init_encoder_block_params(8, 2, 16, rng)
    >>> x = rng.normal(size=(3, 5, 8))
    >>> out, cache = encoder_block_forward(x, params, mask=causal_mask(5))
    >>> out.shape
    (3, 5, 8)
    >>> np.allclose(out.mean(axis=-1), 0.0)   # post-norm: each position ends in a LayerNorm
    True
    """
    x = as_float_array(x, "x")
    if x.ndim != 3:
        raise ValueError(f"x must have shape (B, L, E), got {x.shape}")
    E = x.shape[-1]
    H = _resolve_num_heads(params, num_heads)
    p = _check_encoder_params(params, E)
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
    norm_first = check_flag(norm_first, "norm_first")
    act = _ACTIVATIONS[activation][0]
    x, *arrays = as_common_float(x, *p.values())
    p = dict(zip(p, arrays, strict=True))

    def self_attention(h):
        return multi_head_attention_forward(
            h, h, h, H, p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"],
            p["self_attn.out_proj.weight"], p["self_attn.out_proj.bias"], mask, attention)

    def feed_forward(h):
        z = _linear(h, p["linear1.weight"], p["linear1.bias"])
        r = act(z)
        return _linear(r, p["linear2.weight"], p["linear2.bias"]), (h, z, r)

    if norm_first:
        n1, c_n1 = layer_norm_forward(x, p["norm1.weight"], p["norm1.bias"], eps)
        a, c_attn = self_attention(n1)
        h = x + a
        n2, c_n2 = layer_norm_forward(h, p["norm2.weight"], p["norm2.bias"], eps)
        f, c_ff = feed_forward(n2)
        out = h + f
    else:
        a, c_attn = self_attention(x)
        h, c_n1 = layer_norm_forward(x + a, p["norm1.weight"], p["norm1.bias"], eps)
        f, c_ff = feed_forward(h)
        out, c_n2 = layer_norm_forward(h + f, p["norm2.weight"], p["norm2.bias"], eps)
    cache = {"params": p, "norm_first": bool(norm_first), "activation": activation,
             "attn": c_attn, "ff": c_ff, "norm1": c_n1, "norm2": c_n2}
    return out, cache


def encoder_block_backward(dout, cache, layer_norm_backward=None, sdpa_backward=None):
    r"""Backward pass of :func:`encoder_block_forward`.

    Residual connections copy the gradient to both branches and sum it
    back; LayerNorm, feed-forward and attention use their own backward passes.
    The two LayerNorms' and the attention's backward passes can be handed in,
    so that a model trains with the reader's own (chapters 6 and 9).

    Parameters
    ----------
    dout : array_like, shape (B, L, E)
    cache : dict
        From :func:`encoder_block_forward`. ``cache["norm1"]`` and
        ``cache["norm2"]`` are exactly the caches of
        :func:`dlnotes.regularization.layer_norm_forward`; ``cache["attn"]["sdpa"]``
        holds the per-head ``q``, ``k``, ``v`` (B, H, L, d) and ``weights`` (B, H, L, L).
    layer_norm_backward : callable, optional
        ``layer_norm_backward(dout, cache) -> (dx, dgamma, dbeta)``, used for both
        LayerNorms; None uses :func:`dlnotes.regularization.layer_norm_backward`.
    sdpa_backward : callable, optional
        ``sdpa_backward(dout, q, k, v, weights) -> (dq, dk, dv)``, used for the
        attention of every head; None uses :func:`sdpa_backward`.

    Returns
    -------
    dx : ndarray, shape (B, L, E)
    grads : dict
        One gradient per parameter array, keyed like ``params``
        (``ENCODER_PARAM_NAMES``; no ``"num_heads"``). A training step is
        ``for name, g in grads.items(): params[name] -= lr * g``.

    Raises
    ------
    ValueError
        If ``dout`` does not have the shape of ``out``; if a given backward piece
        is not callable or does not return arrays of its inputs' shapes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = init_encoder_block_params(8, 2, 16, rng)
    >>> x = rng.normal(size=(3, 5, 8))
    >>> out, cache = encoder_block_forward(x, params, norm_first=True, activation="gelu")
    >>> dx, grads = encoder_block_backward(np.ones_like(out), cache)
    >>> dx.shape, grads["linear1.weight"].shape
    ((3, 5, 8), (16, 8))
    """
    ln_backward = _given_piece(layer_norm_backward, "layer_norm_backward",
                                  regularization.layer_norm_backward)
    attn_backward = _given_piece(sdpa_backward, "sdpa_backward", _SDPA_BACKWARD)
    p = cache["params"]
    act_grad = _ACTIVATIONS[cache["activation"]][1]
    h_ff, z, r = cache["ff"]
    dout = check_dout(dout, h_ff.shape, dtype=h_ff.dtype)
    E = h_ff.shape[-1]
    grads = {}

    def norm_backward(dy, name):
        dx, grads[name + ".weight"], grads[name + ".bias"] = _run_piece(
            ln_backward, "layer_norm_backward", (dy, cache[name]),
            (("dx", dy.shape), ("dgamma", (E,)), ("dbeta", (E,))), dy.dtype)
        return dx

    def feed_forward_backward(df):
        dr, grads["linear2.weight"], grads["linear2.bias"] = _linear_backward(
            df, r, p["linear2.weight"], True)
        dz = dr * act_grad(z)
        dh, grads["linear1.weight"], grads["linear1.bias"] = _linear_backward(
            dz, h_ff, p["linear1.weight"], True)
        return dh

    def self_attention_backward(da):
        dq, dk, dv, g = multi_head_attention_backward(da, cache["attn"], attn_backward)
        for name in ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"):
            grads["self_attn." + name] = g[name]
        return dq + dk + dv

    if cache["norm_first"]:
        # out = h + FF(LN2 h);  h = x + MHA(LN1 x)
        dh = dout + norm_backward(feed_forward_backward(dout), "norm2")
        dx = dh + norm_backward(self_attention_backward(dh), "norm1")
    else:
        # out = LN2(h + FF(h));  h = LN1(x + MHA(x))
        ds2 = norm_backward(dout, "norm2")
        dh = ds2 + feed_forward_backward(ds2)
        ds1 = norm_backward(dh, "norm1")
        dx = ds1 + self_attention_backward(ds1)
    return dx, {n: grads[n] for n in ENCODER_PARAM_NAMES}


def init_encoder_block_params(d_model, num_heads, dim_feedforward, rng):
    r"""Random encoder-block parameters, initialised as torch does.

    ``self_attn.in_proj_weight`` is Xavier-uniform, the linear layers'
    weights and biases are :math:`U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`
    (``nn.Linear``'s default), the attention biases are 0 and the LayerNorms
    start as the identity (weight 1, bias 0).

    Parameters
    ----------
    d_model : int
        ``E``.
    num_heads : int
        ``H``; must divide ``d_model``.
    dim_feedforward : int
        ``F``.
    rng : numpy.random.Generator

    Returns
    -------
    params : dict
        The twelve float64 arrays of ``ENCODER_PARAM_NAMES`` plus
        ``"num_heads"`` (an int), ready for :func:`encoder_block_forward`.
        For torch, ``load_state_dict`` the array entries only.

    Raises
    ------
    ValueError
        If a size is not a positive int, ``num_heads`` does not divide
        ``d_model``, or ``rng`` is not a Generator.

    Examples
    --------
    >>> params = init_encoder_block_params(8, 2, 32, np.random.default_rng(0))
    >>> params["linear1.weight"].shape, params["num_heads"]
    ((32, 8), 2)
    """
    E = check_positive_int(d_model, "d_model")
    H = check_positive_int(num_heads, "num_heads")
    F = check_positive_int(dim_feedforward, "dim_feedforward")
    if E % H:
        raise ValueError(f"num_heads={H} must divide d_model={E}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")

    def uniform(bound, shape):
        return rng.uniform(-bound, bound, size=shape)

    return {
        "self_attn.in_proj_weight": xavier_uniform(E, 3 * E, rng),
        "self_attn.in_proj_bias": np.zeros(3 * E),
        "self_attn.out_proj.weight": uniform(1 / np.sqrt(E), (E, E)),
        "self_attn.out_proj.bias": np.zeros(E),
        "linear1.weight": uniform(1 / np.sqrt(E), (F, E)),
        "linear1.bias": uniform(1 / np.sqrt(E), (F,)),
        "linear2.weight": uniform(1 / np.sqrt(F), (E, F)),
        "linear2.bias": uniform(1 / np.sqrt(F), (E,)),
        "norm1.weight": np.ones(E),
        "norm1.bias": np.zeros(E),
        "norm2.weight": np.ones(E),
        "norm2.bias": np.zeros(E),
        "num_heads": H,
    }
