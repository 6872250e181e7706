r"""Recurrent layers: vanilla RNN, LSTM and GRU, with backprop through time.

Every layer comes three ways:

* ``*_step`` -- one time step of the cell, the equations the chapter shows;
* ``*_forward(x, h0, ...) -> (hs, ..., cache)`` -- the cell unrolled over a
  whole sequence (it calls the same cell code as ``*_step``);
* ``*_backward(dhs, cache) -> grads`` -- backpropagation through time (BPTT).

Layout (identical to torch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with one
layer, ``batch_first=False``, so weights copy across unchanged):

=========  ==============  ==============================================
name       shape           meaning
=========  ==============  ==============================================
``x``      ``(T, N, I)``   input sequence: time first, then batch
``h0``     ``(N, H)``      initial hidden state (torch has an extra
                           leading layer axis of size 1; here there is none)
``hs``     ``(T, N, H)``   every hidden state :math:`h_1, \dots, h_T`
``W_ih``   ``(G*H, I)``    ``weight_ih_l0``: the G gate blocks stacked
``W_hh``   ``(G*H, H)``    ``weight_hh_l0``
``b_ih``   ``(G*H,)``      ``bias_ih_l0``
``b_hh``   ``(G*H,)``      ``bias_hh_l0``
=========  ==============  ==============================================

with ``G = 1`` for the RNN, ``G = 4`` for the LSTM (gates in torch's order
``i, f, g, o``) and ``G = 3`` for the GRU (``r, z, n``). Row block ``k`` of a
weight, ``W[k*H:(k+1)*H]``, belongs to gate ``k``.

Biases may be ``None`` (torch's ``bias=False``): a missing bias is treated as
zero and its gradient is returned as ``None``. An initial state given as ``None``
is zeros (as in torch).

dtype: float32 inputs give float32 outputs, caches and gradients (fast
training); anything else is computed in float64 (the library's dtype rule).
Inside the unrolled loops the sigmoid gates use
:math:`\sigma(z) = \tfrac12 + \tfrac12\tanh(z/2)` (exact, no overflow, one
``tanh`` call for all gates).

Speed: the input term :math:`x_t W_{ih}^\top + b_{ih}` does not depend on the
recurrence, so ``*_forward`` computes it for all T steps in one matrix
product before the loop, and ``*_backward`` accumulates ``dx``, ``dW_ih``,
``dW_hh`` and the bias gradients in one product each after the loop. Only
the truly sequential part, :math:`h_{t-1} W_{hh}^\top`, stays in the loop.
The gates are stored gate-major, ``(G, T, N, H)``, so that every
elementwise operation of a step works on contiguous ``(N, H)`` blocks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_dout, common_float_dtype
from .activations import tanh

__all__ = [
    "rnn_step",
    "rnn_forward",
    "rnn_backward",
    "lstm_step",
    "lstm_forward",
    "lstm_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "sample_next",
    "lstm_steps_forward",
    "lstm_steps_backward",
    "init_char_lstm",
    "char_lstm_forward_backward",
    "char_lstm_loss",
    "unigram_val_loss",
    "train_char_lstm",
    "sample_char_lstm",
    "CharLSTMHistory",
    "CHAR_LSTM_PARAMS",
    "gru_step",
    "gru_forward",
    "gru_backward",
    "RNNCache",
    "LSTMCache",
    "GRUCache",
]

_NONLINEARITIES = ("tanh", "relu")


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------

def _check_nonlinearity(nonlinearity) -> str:
    if not isinstance(nonlinearity, str) or nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _prepare(x, states, W_ih, W_hh, b_ih, b_hh, gates: str, x_name: str):
    """Check shapes and cast everything to one float dtype.

    ``gates`` lists the gate letters (``"h"`` for the RNN, ``"ifgo"``,
    ``"rzn"``), ``states`` is a dict ``{name: array or None}`` of (N, H)
    states, ``x_name`` is ``"x"`` (a (T, N, I) sequence) or ``"x_t"`` (one
    (N, I) step). Returns ``(x, [states...], W_ih, W_hh, b_ih, b_hh)``.
    """
    G = len(gates)
    blocks = "" if G == 1 else f" (gates {', '.join(gates)} stacked)"
    gh = "H" if G == 1 else f"{G}*H"

    x = as_float_array(x, x_name)
    want_x, ndim = ("(T, N, I)", 3) if x_name == "x" else ("(N, I)", 2)
    if x.ndim != ndim:
        raise ValueError(f"{x_name} must have shape {want_x}, got shape {x.shape}")
    if 0 in x.shape:
        raise ValueError(f"{x_name} must have shape {want_x} with every size >= 1, "
                         f"got {x.shape}")
    N, I = x.shape[-2:]

    W_hh = as_float_array(W_hh, "W_hh")
    if W_hh.ndim != 2 or W_hh.shape[1] == 0 or W_hh.shape[0] != G * W_hh.shape[1]:
        raise ValueError(f"W_hh must have shape ({gh}, H){blocks} with H >= 1, "
                         f"got shape {W_hh.shape}")
    H = W_hh.shape[1]

    W_ih = as_float_array(W_ih, "W_ih")
    if W_ih.shape != (G * H, I):
        raise ValueError(f"W_ih must have shape ({gh}, I) = {(G * H, I)} with H={H} from "
                         f"W_hh and I={I} from {x_name}, got shape {W_ih.shape}")

    biases = {"b_ih": b_ih, "b_hh": b_hh}
    for name, b in biases.items():
        if b is None:
            continue
        b = biases[name] = as_float_array(b, name)
        if b.shape != (G * H,):
            raise ValueError(f"{name} must be None or have shape ({gh},) = {(G * H,)} "
                             f"with H={H} from W_hh, got shape {b.shape}")

    checked = {}
    for name, s in states.items():
        if s is None:
            checked[name] = None
            continue
        s = checked[name] = as_float_array(s, name)
        if s.shape != (N, H):
            raise ValueError(f"{name} must have shape (N, H) = {(N, H)} with N={N} from "
                             f"{x_name} and H={H} from W_hh, got shape {s.shape}")

    dtype = common_float_dtype(x, W_ih, W_hh, *biases.values(), *checked.values())

    def cast(a):
        return None if a is None else a.astype(dtype, copy=False)

    states_out = [np.zeros((N, H), dtype) if s is None else cast(s) for s in checked.values()]
    return (cast(x), states_out, cast(W_ih), cast(W_hh),
            cast(biases["b_ih"]), cast(biases["b_hh"]))


def _input_term(x, W_ih, bias, G: int):
    """:math:`x W_{ih}^\top + b` for every row of ``x``, gate-major: (G, ..., H).

    Block ``g`` is gate ``g``'s ``x W_{ih,g}^\top + b_g``, all rows and gates
    in one (batched) matrix product. A bias enters the product as a column of
    ``W_ih`` against a column of ones in ``x``: adding a (H,) vector to every
    row afterwards costs numpy far more than the extra column.
    """
    H = W_ih.shape[0] // G
    x2 = x.reshape(-1, x.shape[-1])
    if bias is not None:
        x2 = np.concatenate([x2, np.ones((len(x2), 1), dtype=x2.dtype)], axis=1)
        W_ih = np.concatenate([W_ih, bias[:, None]], axis=1)
    ax = np.matmul(x2, W_ih.reshape(G, H, -1).transpose(0, 2, 1))
    return ax.reshape(G, *x.shape[:-1], H)


def _unroll(x, W_ih, W_hh, b_ih, b_hh, fold_b_hh: bool, gate_scale=None):
    """What every ``*_forward`` computes before its time loop, gate-major.

    Gate-major arrays (``(G, T, N, H)``, block ``g`` for gate ``g``) keep each
    gate of each step contiguous, so the elementwise work of a step runs on
    whole blocks instead of on column slices of an ``(N, G*H)`` array.

    Returns ``ax`` (G, T, N, H), the input term of all steps in one product
    (with ``b_hh`` folded in when ``fold_b_hh``: it is added at every step),
    ``W_T`` (G, H, H) with block ``g`` = ``W_hh[g]^T`` (contiguous) for the
    products in the loop, and the hidden states ``h`` (T+1, N, H) to fill.
    ``gate_scale`` (G, 1, 1) multiplies each gate's block of ``ax`` and
    ``W_T`` (the LSTM halves its sigmoid gates).
    """
    T, N, _ = x.shape
    H = W_hh.shape[1]
    G = W_hh.shape[0] // H
    bias = b_ih
    if fold_b_hh and b_hh is not None:
        bias = b_hh if bias is None else bias + b_hh
    W_T = W_hh.reshape(G, H, H).transpose(0, 2, 1)
    if gate_scale is None:
        W_T = np.ascontiguousarray(W_T)
    else:
        rows = np.repeat(gate_scale.ravel(), H)            # (G*H,): the scale of each row
        W_ih = W_ih * rows[:, None]
        bias = None if bias is None else bias * rows
        W_T = np.multiply(W_T, gate_scale, order="C")
    ax = _input_term(x, W_ih, bias, G)
    return ax, W_T, np.empty((T + 1, N, H), dtype=x.dtype)


def _sigmoid_(a):
    r"""Sigmoid in place, as :math:`\sigma(z) = \tfrac12 + \tfrac12 \tanh(z/2)`.

    Exact up to rounding, cannot overflow, and three calls on a contiguous
    block (the stable :func:`dlnotes.activations.sigmoid` takes several more).
    """
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _check_cache(cache, cls):
    if not isinstance(cache, cls):
        raise ValueError(f"cache must be the {cls.__name__} returned by the matching "
                         f"forward function, got {type(cache).__name__}")
    return cache


def _finish(dax, dah, dh0, cache):
    """Gradients that are sums over time, each in one (batched) matrix product.

    ``dax`` (G, T, N, H), gate-major, is the gradient of the input term
    x_t W_ih^T + b_ih and ``dah`` that of the hidden term h_{t-1} W_hh^T + b_hh
    (the same array except in the GRU).
    Returns ``(dx, dh0, dW_ih, dW_hh, db_ih, db_hh)``.
    """
    x, h = cache.x, cache.h
    G, T, N, H = dax.shape
    dax2, dah2 = dax.reshape(G, T * N, H), dah.reshape(G, T * N, H)
    dx = np.matmul(dax2, cache.W_ih.reshape(G, H, -1)).sum(axis=0).reshape(x.shape)
    dW_ih = np.matmul(dax2.transpose(0, 2, 1), x.reshape(T * N, -1)).reshape(G * H, -1)
    # h_{t-1} for t = 1..T
    dW_hh = np.matmul(dah2.transpose(0, 2, 1), h[:-1].reshape(T * N, H)).reshape(G * H, H)
    ones = np.ones(T * N, dtype=dax.dtype)     # column sums as products: one pass each
    db_ih = np.matmul(ones, dax2).reshape(-1) if cache.has_b_ih else None
    if not cache.has_b_hh:
        db_hh = None
    elif dah is dax and db_ih is not None:
        db_hh = db_ih.copy()
    else:
        db_hh = np.matmul(ones, dah2).reshape(-1)
    return dx, dh0, dW_ih, dW_hh, db_ih, db_hh


# --------------------------------------------------------------------------
# vanilla RNN
# --------------------------------------------------------------------------

class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs from :func:`rnn_forward`."""

    x: np.ndarray        #: (T, N, I) input
    h: np.ndarray        #: (T+1, N, H) hidden states h_0 (= h0), h_1, ..., h_T
    W_ih: np.ndarray
    W_hh: np.ndarray
    nonlinearity: str
    has_b_ih: bool
    has_b_hh: bool


def _rnn_cell(ax_t, h, W_hhT, b_hh, nonlinearity):
    """One RNN step given the input term ``ax_t`` = x_t W_ih^T + b_ih and W_hhT = W_hh^T."""
    a = ax_t + h @ W_hhT
    if b_hh is not None:
        a += b_hh
    if nonlinearity == "tanh":
        return tanh(a)
    return np.maximum(a, 0, out=a)


def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    r"""One step of an Elman RNN cell (torch's ``nn.RNNCell``).

    .. math:: h' = \phi\left(x_t W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}\right),
              \qquad \phi = \tanh \text{ or } \mathrm{ReLU}

    Parameters
    ----------
    x_t : array_like, shape (N, I)
        Input at this time step.
    h : array_like, shape (N, H), or None
        Previous hidden state; ``None`` means zeros.
    W_ih : array_like, shape (H, I)
    W_hh : array_like, shape (H, H)
    b_ih, b_hh : array_like, shape (H,), or None
        ``None`` means no bias.
    nonlinearity : {"tanh", "relu"}, default "tanh"

    Returns
    -------
    ndarray, shape (N, H)
        The next hidden state :math:`h'`.

    Raises
    ------
    ValueError
        If ``nonlinearity`` is not ``"tanh"`` or ``"relu"``, or any shape
        disagrees with the ones above (the message names the argument).

    Examples
    --------
    With no recurrence and an identity input map the cell is just
    :math:`\tanh(x)`:

    >>> import numpy as np
    >>> x_t = np.array([[0.0, 1.0]])
    >>> rnn_step(x_t, np.zeros((1, 2)), np.eye(2), np.zeros((2, 2)), None, None)
    array([[0.        , 0.76159416]])
    """
    nonlinearity = _check_nonlinearity(nonlinearity)
    x_t, (h,), W_ih, W_hh, b_ih, b_hh = _prepare(
        x_t, {"h": h}, W_ih, W_hh, b_ih, b_hh, "h", "x_t")
    return _rnn_cell(_input_term(x_t, W_ih, b_ih, 1)[0], h, W_hh.T, b_hh, nonlinearity)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    r"""Run an Elman RNN over a whole sequence (torch's ``nn.RNN``, one layer).

    .. math:: h_t = \phi\left(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}\right),
              \qquad t = 1, \dots, T

    Parameters
    ----------
    x : array_like, shape (T, N, I)
        Input sequence, time first.
    h0 : array_like, shape (N, H), or None
        Initial hidden state; ``None`` means zeros (as in torch).
    W_ih : array_like, shape (H, I)
    W_hh : array_like, shape (H, H)
    b_ih, b_hh : array_like, shape (H,), or None
        ``None`` means no bias.
    nonlinearity : {"tanh", "relu"}, default "tanh"

    Returns
    -------
    hs : ndarray, shape (T, N, H)
        Every hidden state :math:`h_1, \dots, h_T` (torch's ``output``;
        ``hs[-1]`` is the final state).
    cache : RNNCache
        For :func:`rnn_backward`.

    Raises
    ------
    ValueError
        If ``nonlinearity`` is unknown, ``x`` is not 3-D with non-empty
        axes, or a weight, bias or ``h0`` has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T, N, I, H = 5, 2, 3, 4
    >>> x = rng.standard_normal((T, N, I))
    >>> W_ih, W_hh = rng.standard_normal((H, I)), rng.standard_normal((H, H))
    >>> hs, cache = rnn_forward(x, np.zeros((N, H)), W_ih, W_hh, None, None)
    >>> hs.shape
    (5, 2, 4)
    >>> bool(np.abs(hs).max() < 1)   # tanh keeps every state in (-1, 1)
    True
    """
    nonlinearity = _check_nonlinearity(nonlinearity)
    x, (h0,), W_ih, W_hh, b_ih, b_hh = _prepare(
        x, {"h0": h0}, W_ih, W_hh, b_ih, b_hh, "h", "x")
    ax, W_T, h = _unroll(x, W_ih, W_hh, b_ih, b_hh, fold_b_hh=True)
    h[0] = h0
    for t in range(len(x)):
        h[t + 1] = _rnn_cell(ax[0, t], h[t], W_T[0], None, nonlinearity)
    cache = RNNCache(x, h, W_ih, W_hh, nonlinearity, b_ih is not None, b_hh is not None)
    return h[1:].copy(), cache


def rnn_backward(dhs, cache):
    r"""Backpropagation through time for :func:`rnn_forward`.

    With :math:`a_t` the pre-activation and :math:`\delta_t = \partial L/\partial a_t`,
    going backwards from :math:`t = T`:

    .. math::
        \frac{\partial L}{\partial h_t} = \mathrm{dhs}_t + \delta_{t+1} W_{hh},
        \qquad
        \delta_t = \frac{\partial L}{\partial h_t} \odot \phi'(a_t),

    with :math:`\phi'(a_t) = 1 - h_t^2` for tanh and :math:`[h_t > 0]` for
    ReLU. Then :math:`\partial L/\partial x_t = \delta_t W_{ih}`,
    :math:`\partial L/\partial h_0 = \delta_1 W_{hh}`,
    :math:`\partial L/\partial W_{ih} = \sum_t \delta_t^\top x_t`,
    :math:`\partial L/\partial W_{hh} = \sum_t \delta_t^\top h_{t-1}` and
    both bias gradients are :math:`\sum_t \sum_n \delta_t`.

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
        :math:`\partial L/\partial h_t` for every output hidden state (zeros
        where the loss does not use a step; put the gradient of the final
        state in ``dhs[-1]``).
    cache : RNNCache
        From :func:`rnn_forward`.

    Returns
    -------
    dx : ndarray, shape (T, N, I)
    dh0 : ndarray, shape (N, H)
    dW_ih : ndarray, shape (H, I)
    dW_hh : ndarray, shape (H, H)
    db_ih, db_hh : ndarray, shape (H,), or None
        ``None`` when that bias was ``None`` in the forward pass.

    Raises
    ------
    ValueError
        If ``dhs`` does not have the shape of ``hs``, or ``cache`` is not an
        :class:`RNNCache`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, h0 = rng.standard_normal((4, 2, 3)), np.zeros((2, 5))
    >>> W_ih, W_hh, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 5)), np.zeros(5)
    >>> hs, cache = rnn_forward(x, h0, W_ih, W_hh, b, b)
    >>> dx, dh0, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(np.ones_like(hs), cache)
    >>> dx.shape, dW_hh.shape
    ((4, 2, 3), (5, 5))
    """
    cache = _check_cache(cache, RNNCache)
    h, W_hh = cache.h, cache.W_hh
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dhs = check_dout(dhs, (T, N, H), "dhs", h.dtype)

    # phi'(a_t) for every step at once, from the outputs h_1..h_T
    slope = 1 - h[1:] ** 2 if cache.nonlinearity == "tanh" else (h[1:] > 0).astype(h.dtype)
    da = np.empty_like(dhs)                # delta_t = dL/da_t
    dh_next = np.zeros((N, H), dtype=h.dtype)   # gradient reaching h_t from step t+1
    for t in reversed(range(T)):
        dh = dhs[t] + dh_next
        np.multiply(dh, slope[t], out=da[t])
        dh_next = da[t] @ W_hh

    return _finish(da[None], da[None], dh_next, cache)


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------

class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs from :func:`lstm_forward`."""

    x: np.ndarray        #: (T, N, I) input
    h: np.ndarray        #: (T+1, N, H) hidden states h_0 (= h0), ..., h_T
    c: np.ndarray        #: (T+1, N, H) cell states c_0 (= c0), ..., c_T
    gates: np.ndarray    #: (4, T, N, H) activated gates i, f, g, o of every step
    tanh_c: np.ndarray   #: (T, N, H) tanh(c_t), t = 1..T
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_b_ih: bool
    has_b_hh: bool


def _gate_scale(dtype) -> np.ndarray:
    r"""(4, 1, 1) scale of the gates ``i, f, g, o``: 1/2 for the sigmoid ones, 1 for g.

    Since :math:`\sigma(z) = \tfrac12 + \tfrac12 \tanh(z/2)`, one ``tanh``
    of the pre-activations times this scale, then times the scale again plus
    1/2 on the sigmoid gates, activates all four gates at once
    (:func:`_lstm_cell`). That is exact up to rounding and cannot overflow.
    """
    return np.array([0.5, 0.5, 1.0, 0.5], dtype=dtype).reshape(4, 1, 1)


def _lstm_cell(a, c, scale, c_next, tanh_c, h_next):
    r"""One LSTM step, in place; returns nothing.

    ``a`` (4, N, H) holds the gate-major pre-activations times ``scale``
    (:func:`_gate_scale`); it is overwritten by the activated gates ``i, f,
    g, o``. Writes :math:`c' = f c + i g` into ``c_next``, ``tanh(c')`` into
    ``tanh_c`` and :math:`h' = o \tanh(c')` into ``h_next``.
    """
    np.tanh(a, out=a)
    a *= scale                              # sigma(z) = 1/2 + tanh(z/2) / 2 for i, f, o;
    a += 1 - scale                          # g = tanh(z) as it is (shift 1/2, 1/2, 0, 1/2)
    i, f, g, o = a
    np.multiply(f, c, out=c_next)
    np.multiply(i, g, out=h_next)           # h_next as scratch for i * g
    c_next += h_next
    np.tanh(c_next, out=tanh_c)
    np.multiply(o, tanh_c, out=h_next)


def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    r"""One step of an LSTM cell (torch's ``nn.LSTMCell``).

    .. math::
        \begin{aligned}
        i &= \sigma(x_t W_{ii}^\top + b_{ii} + h W_{hi}^\top + b_{hi}) \\
        f &= \sigma(x_t W_{if}^\top + b_{if} + h W_{hf}^\top + b_{hf}) \\
        g &= \tanh(x_t W_{ig}^\top + b_{ig} + h W_{hg}^\top + b_{hg}) \\
        o &= \sigma(x_t W_{io}^\top + b_{io} + h W_{ho}^\top + b_{ho}) \\
        c' &= f \odot c + i \odot g \\
        h' &= o \odot \tanh(c')
        \end{aligned}

    ``W_ih`` stacks :math:`W_{ii}, W_{if}, W_{ig}, W_{io}` row-wise (torch's
    order), likewise ``W_hh`` and the biases.

    Parameters
    ----------
    x_t : array_like, shape (N, I)
        Input at this time step.
    h, c : array_like, shape (N, H), or None
        Previous hidden and cell state; ``None`` means zeros.
    W_ih : array_like, shape (4*H, I)
    W_hh : array_like, shape (4*H, H)
    b_ih, b_hh : array_like, shape (4*H,), or None
        ``None`` means no bias.

    Returns
    -------
    h, c : ndarray, shape (N, H)
        The next hidden and cell state.

    Raises
    ------
    ValueError
        If any shape disagrees with the ones above (the message names the
        argument).

    Examples
    --------
    With all weights zero every sigmoid gate is 1/2 and g = 0, so the cell
    halves c and outputs :math:`h' = \tfrac12 \tanh(c')`:

    >>> import numpy as np
    >>> W_ih, W_hh = np.zeros((4, 1)), np.zeros((4, 1))
    >>> lstm_step([[3.0]], [[0.0]], [[2.0]], W_ih, W_hh, None, None)
    (array([[0.38079708]]), array([[1.]]))
    """
    h_next, c_next, _ = _lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
    return h_next, c_next


def _lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """One checked LSTM step: ``(h', c', (x, h, c, gates, W_ih, W_hh))``, gates (4, N, H)."""
    x_t, (h, c), W_ih, W_hh, b_ih, b_hh = _prepare(
        x_t, {"h": h, "c": c}, W_ih, W_hh, b_ih, b_hh, "ifgo", "x_t")
    scale = _gate_scale(x_t.dtype)
    a = _input_term(x_t, W_ih, b_ih, 4) + np.matmul(h, W_hh.reshape(4, -1, h.shape[1]).mT)
    if b_hh is not None:
        a += b_hh.reshape(4, 1, -1)
    a *= scale
    c_next, h_next = np.empty_like(c), np.empty_like(h)
    _lstm_cell(a, c, scale, c_next, np.empty_like(c), h_next)
    return h_next, c_next, (x_t, h, c, a, W_ih, W_hh)


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    r"""Run an LSTM over a whole sequence (torch's ``nn.LSTM``, one layer).

    Applies :func:`lstm_step` for :math:`t = 1, \dots, T`:

    .. math::
        (h_t, c_t) = \mathrm{LSTMCell}(x_t, h_{t-1}, c_{t-1}),
        \qquad c_t = f_t \odot c_{t-1} + i_t \odot g_t,
        \quad h_t = o_t \odot \tanh(c_t)

    Parameters
    ----------
    x : array_like, shape (T, N, I)
        Input sequence, time first.
    h0, c0 : array_like, shape (N, H), or None
        Initial hidden and cell state; ``None`` means zeros (as in torch).
    W_ih : array_like, shape (4*H, I)
        Gates ``i, f, g, o`` stacked row-wise (torch's ``weight_ih_l0``).
    W_hh : array_like, shape (4*H, H)
    b_ih, b_hh : array_like, shape (4*H,), or None
        ``None`` means no bias.

    Returns
    -------
    hs : ndarray, shape (T, N, H)
        Every hidden state :math:`h_1, \dots, h_T` (torch's ``output``).
    (h_T, c_T) : tuple of ndarray, shape (N, H)
        The final hidden and cell state (torch's ``(h_n, c_n)`` without the
        layer axis).
    cache : LSTMCache
        For :func:`lstm_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D with non-empty axes, or a weight, bias, ``h0`` or
        ``c0`` has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T, N, I, H = 5, 2, 3, 4
    >>> x = rng.standard_normal((T, N, I))
    >>> W_ih, W_hh = rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H))
    >>> hs, (h_T, c_T), cache = lstm_forward(x, None, None, W_ih, W_hh, None, None)
    >>> hs.shape, c_T.shape
    ((5, 2, 4), (2, 4))
    >>> bool(np.array_equal(hs[-1], h_T))
    True
    """
    x, (h0, c0), W_ih, W_hh, b_ih, b_hh = _prepare(
        x, {"h0": h0, "c0": c0}, W_ih, W_hh, b_ih, b_hh, "ifgo", "x")
    T, N, _ = x.shape
    H = W_hh.shape[1]
    scale = _gate_scale(x.dtype)
    # gates: the scaled pre-activations of all steps, activated in place step by step
    gates, W_T, h = _unroll(x, W_ih, W_hh, b_ih, b_hh, fold_b_hh=True, gate_scale=scale)
    c = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_c = np.empty((T, N, H), dtype=x.dtype)
    recurrent = np.empty((4, N, H), dtype=x.dtype)
    h[0], c[0] = h0, c0
    for t in range(T):
        a = gates[:, t]
        a += np.matmul(h[t], W_T, out=recurrent)
        _lstm_cell(a, c[t], scale, c[t + 1], tanh_c[t], h[t + 1])
    cache = LSTMCache(x, h, c, gates, tanh_c, W_ih, W_hh, b_ih is not None, b_hh is not None)
    return h[1:].copy(), (h[T].copy(), c[T].copy()), cache


def lstm_backward(dhs, cache, dhT=None, dcT=None):
    r"""Backpropagation through time for :func:`lstm_forward`.

    Going backwards from :math:`t = T`, with :math:`\bar h_t = \partial L/\partial h_t`
    (the output gradient ``dhs[t]`` plus what flows back from step t+1) and
    :math:`\bar c_t` likewise:

    .. math::
        \begin{aligned}
        \bar c_t &\mathrel{+}= \bar h_t \odot o_t \odot (1 - \tanh^2 c_t) \\
        \bar o_t &= \bar h_t \odot \tanh c_t, \quad
        \bar i_t = \bar c_t \odot g_t, \quad
        \bar g_t = \bar c_t \odot i_t, \quad
        \bar f_t = \bar c_t \odot c_{t-1} \\
        \delta_t &= [\bar i_t \odot i_t(1-i_t),\ \bar f_t \odot f_t(1-f_t),\
                     \bar g_t \odot (1-g_t^2),\ \bar o_t \odot o_t(1-o_t)] \\
        \bar c_{t-1} &= \bar c_t \odot f_t, \qquad
        \bar h_{t-1} = \mathrm{dhs}_{t-1} + \delta_t W_{hh}
        \end{aligned}

    Then :math:`\partial L/\partial x_t = \delta_t W_{ih}`,
    :math:`\partial L/\partial W_{ih} = \sum_t \delta_t^\top x_t`,
    :math:`\partial L/\partial W_{hh} = \sum_t \delta_t^\top h_{t-1}` and both
    bias gradients are :math:`\sum_{t,n} \delta_t`.

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
        :math:`\partial L/\partial h_t` for every output hidden state.
    cache : LSTMCache
        From :func:`lstm_forward`.
    dhT, dcT : array_like, shape (N, H), optional
        Extra gradient with respect to the returned final states ``h_T`` and
        ``c_T``, for a loss that uses them (``dhT`` is simply added to
        ``dhs[-1]``, since ``h_T`` is ``hs[-1]``).

    Returns
    -------
    dx : ndarray, shape (T, N, I)
    dh0, dc0 : ndarray, shape (N, H)
    dW_ih : ndarray, shape (4*H, I)
    dW_hh : ndarray, shape (4*H, H)
    db_ih, db_hh : ndarray, shape (4*H,), or None
        ``None`` when that bias was ``None`` in the forward pass.

    Raises
    ------
    ValueError
        If ``dhs`` does not have the shape of ``hs``, ``dhT`` or ``dcT`` not
        that of ``h_T``, or ``cache`` is not an :class:`LSTMCache`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, H = rng.standard_normal((4, 2, 3)), 5
    >>> W_ih, W_hh = rng.standard_normal((4 * H, 3)), rng.standard_normal((4 * H, H))
    >>> hs, (h_T, c_T), cache = lstm_forward(x, None, None, W_ih, W_hh, None, None)
    >>> grads = lstm_backward(np.ones_like(hs), cache, dcT=np.ones_like(c_T))
    >>> [g.shape for g in grads[:5]]
    [(4, 2, 3), (2, 5), (2, 5), (20, 3), (20, 5)]
    """
    cache = _check_cache(cache, LSTMCache)
    h, c, gates, W_hh = cache.h, cache.c, cache.gates, cache.W_hh
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dhs = check_dout(dhs, (T, N, H), "dhs", h.dtype)
    dh_next, dc_next = np.zeros((N, H), h.dtype), np.zeros((N, H), h.dtype)
    if dhT is not None:
        dh_next += check_dout(dhT, (N, H), "dhT", h.dtype)
    if dcT is not None:
        dc_next += check_dout(dcT, (N, H), "dcT", h.dtype)

    # Everything that does not depend on the recurrence, for all steps at once:
    # dL/da of the gates i, f, g is dc times P, that of o is dh times Q.
    i, f, g, o = gates
    tanh_c = cache.tanh_c
    dh_to_dc = o * (1 - tanh_c * tanh_c)     # d h_t / d c_t, as h_t = o_t tanh(c_t)
    P = np.empty((3, T, N, H), dtype=h.dtype)
    np.multiply(g, i * (1 - i), out=P[0])                 # i: sigma' = i (1 - i)
    np.multiply(c[:-1], f * (1 - f), out=P[1])            # f  (c[t] is c_{t-1})
    np.multiply(i, 1 - g * g, out=P[2])                   # g: tanh' = 1 - g^2
    Q = tanh_c * o * (1 - o)                              # o

    W = W_hh.reshape(4, H, H)                # block k: gate k's rows of W_hh
    da = np.empty_like(gates)                # delta_t: gradient of the pre-activations
    dh, dc = np.empty((N, H), h.dtype), np.empty((N, H), h.dtype)
    back = np.empty((4, N, H), h.dtype)
    for t in reversed(range(T)):
        np.add(dhs[t], dh_next, out=dh)
        np.multiply(dh, dh_to_dc[t], out=dc)
        dc += dc_next
        np.multiply(dc, P[:, t], out=da[:3, t])
        np.multiply(dh, Q[t], out=da[3, t])
        np.multiply(dc, f[t], out=dc_next)
        np.add.reduce(np.matmul(da[:, t], W, out=back), axis=0, out=dh_next)

    dx, dh0, dW_ih, dW_hh, db_ih, db_hh = _finish(da, da, dh_next, cache)
    return dx, dh0, dc_next, dW_ih, dW_hh, db_ih, db_hh


# --------------------------------------------------------------------------
# GRU
# --------------------------------------------------------------------------

class GRUCache(NamedTuple):
    """What :func:`gru_backward` needs from :func:`gru_forward`."""

    x: np.ndarray        #: (T, N, I) input
    h: np.ndarray        #: (T+1, N, H) hidden states h_0 (= h0), ..., h_T
    gates: np.ndarray    #: (3, T, N, H) activated gates r, z, n of every step
    hn: np.ndarray       #: (T, N, H) h_{t-1} W_hn^T + b_hn of every step
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_b_ih: bool
    has_b_hh: bool


def _gru_cell(ax_t, h, W_T, b_hh, gates, hn):
    """One GRU step; returns ``h'``.

    ``ax_t`` (3, N, H) is the gate-major input term x_t W_ih^T + b_ih,
    ``W_T`` (3, H, H) holds ``W_hh[g]^T`` and ``b_hh`` is gate-major too,
    (3, N, H) or (3, 1, H), or None. Writes the activated ``r, z, n``
    into ``gates`` (3, N, H) and ``hn`` = h W_hn^T + b_hn (the part ``r``
    multiplies) into ``hn`` (N, H).
    """
    ah = np.matmul(h, W_T)                 # (3, N, H)
    if b_hh is not None:
        ah += b_hh                         # (3, N, H) or (3, 1, H)
    np.add(ax_t[:2], ah[:2], out=gates[:2])
    r, z = _sigmoid_(gates[:2])
    hn[...] = ah[2]
    n = gates[2]
    np.multiply(r, hn, out=n)
    n += ax_t[2]
    np.tanh(n, out=n)
    return n + z * (h - n)                 # = (1 - z) * n + z * h


def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    r"""One step of a GRU cell (torch's ``nn.GRUCell``).

    .. math::
        \begin{aligned}
        r &= \sigma(x_t W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}) \\
        z &= \sigma(x_t W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz}) \\
        n &= \tanh\bigl(x_t W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\bigr) \\
        h' &= (1 - z) \odot n + z \odot h
        \end{aligned}

    The reset gate multiplies :math:`h W_{hn}^\top + b_{hn}` *including its
    bias* (torch's convention; the original paper applies :math:`r` to
    :math:`h` before the product). ``W_ih`` stacks
    :math:`W_{ir}, W_{iz}, W_{in}` row-wise, likewise ``W_hh`` and the biases.

    Parameters
    ----------
    x_t : array_like, shape (N, I)
        Input at this time step.
    h : array_like, shape (N, H), or None
        Previous hidden state; ``None`` means zeros.
    W_ih : array_like, shape (3*H, I)
    W_hh : array_like, shape (3*H, H)
    b_ih, b_hh : array_like, shape (3*H,), or None
        ``None`` means no bias.

    Returns
    -------
    ndarray, shape (N, H)
        The next hidden state :math:`h'`.

    Raises
    ------
    ValueError
        If any shape disagrees with the ones above (the message names the
        argument).

    Examples
    --------
    With all weights zero, r = z = 1/2 and n = 0, so :math:`h' = h / 2`:

    >>> import numpy as np
    >>> gru_step([[5.0]], [[1.0, -2.0]], np.zeros((6, 1)), np.zeros((6, 2)), None, None)
    array([[ 0.5, -1. ]])
    """
    x_t, (h,), W_ih, W_hh, b_ih, b_hh = _prepare(
        x_t, {"h": h}, W_ih, W_hh, b_ih, b_hh, "rzn", "x_t")
    H = h.shape[1]
    b_hh = None if b_hh is None else b_hh.reshape(3, 1, H)
    return _gru_cell(_input_term(x_t, W_ih, b_ih, 3), h, W_hh.reshape(3, H, H).mT, b_hh,
                     np.empty((3, *h.shape), h.dtype), np.empty_like(h))


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    r"""Run a GRU over a whole sequence (torch's ``nn.GRU``, one layer).

    Applies :func:`gru_step` for :math:`t = 1, \dots, T`:

    .. math::
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Parameters
    ----------
    x : array_like, shape (T, N, I)
        Input sequence, time first.
    h0 : array_like, shape (N, H), or None
        Initial hidden state; ``None`` means zeros (as in torch).
    W_ih : array_like, shape (3*H, I)
        Gates ``r, z, n`` stacked row-wise (torch's ``weight_ih_l0``).
    W_hh : array_like, shape (3*H, H)
    b_ih, b_hh : array_like, shape (3*H,), or None
        ``None`` means no bias.

    Returns
    -------
    hs : ndarray, shape (T, N, H)
        Every hidden state :math:`h_1, \dots, h_T` (torch's ``output``).
    cache : GRUCache
        For :func:`gru_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D with non-empty axes, or a weight, bias or ``h0``
        has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T, N, I, H = 5, 2, 3, 4
    >>> x = rng.standard_normal((T, N, I))
    >>> W_ih, W_hh = rng.standard_normal((3 * H, I)), rng.standard_normal((3 * H, H))
    >>> hs, cache = gru_forward(x, np.zeros((N, H)), W_ih, W_hh, None, None)
    >>> hs.shape
    (5, 2, 4)
    """
    x, (h0,), W_ih, W_hh, b_ih, b_hh = _prepare(
        x, {"h0": h0}, W_ih, W_hh, b_ih, b_hh, "rzn", "x")
    T, N, _ = x.shape
    H = W_hh.shape[1]

    ax, W_T, h = _unroll(x, W_ih, W_hh, b_ih, b_hh, fold_b_hh=False)   # (3, T, N, H)
    if b_hh is not None:                   # one contiguous block: a fast add at every step
        b_hh = np.ascontiguousarray(np.broadcast_to(b_hh.reshape(3, 1, H), (3, N, H)))
    gates = np.empty((3, T, N, H), dtype=x.dtype)
    hn = np.empty((T, N, H), dtype=x.dtype)
    h[0] = h0
    for t in range(T):
        h[t + 1] = _gru_cell(ax[:, t], h[t], W_T, b_hh, gates[:, t], hn[t])
    cache = GRUCache(x, h, gates, hn, W_ih, W_hh, b_ih is not None, b_hh is not None)
    return h[1:].copy(), cache


def gru_backward(dhs, cache):
    r"""Backpropagation through time for :func:`gru_forward`.

    Going backwards from :math:`t = T`, with :math:`\bar h_t = \partial L/\partial h_t`
    (``dhs[t]`` plus what flows back from step t+1) and
    :math:`\hat h_t = h_{t-1} W_{hn}^\top + b_{hn}`:

    .. math::
        \begin{aligned}
        \delta^n_t &= \bar h_t \odot (1 - z_t) \odot (1 - n_t^2) \\
        \delta^z_t &= \bar h_t \odot (h_{t-1} - n_t) \odot z_t (1 - z_t) \\
        \delta^r_t &= \delta^n_t \odot \hat h_t \odot r_t (1 - r_t) \\
        \bar h_{t-1} &= \mathrm{dhs}_{t-1} + \bar h_t \odot z_t
            + [\delta^r_t,\ \delta^z_t,\ r_t \odot \delta^n_t]\, W_{hh}
        \end{aligned}

    The input side sees :math:`\delta^x_t = [\delta^r_t, \delta^z_t, \delta^n_t]`
    and the hidden side :math:`\delta^h_t = [\delta^r_t, \delta^z_t, r_t \odot \delta^n_t]`
    (the reset gate sits between :math:`W_{hn}` and the tanh), so
    :math:`\partial L/\partial W_{ih} = \sum_t {\delta^x_t}^\top x_t`,
    :math:`\partial L/\partial W_{hh} = \sum_t {\delta^h_t}^\top h_{t-1}`,
    :math:`\partial L/\partial b_{ih} = \sum \delta^x_t`,
    :math:`\partial L/\partial b_{hh} = \sum \delta^h_t`.

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
        :math:`\partial L/\partial h_t` for every output hidden state.
    cache : GRUCache
        From :func:`gru_forward`.

    Returns
    -------
    dx : ndarray, shape (T, N, I)
    dh0 : ndarray, shape (N, H)
    dW_ih : ndarray, shape (3*H, I)
    dW_hh : ndarray, shape (3*H, H)
    db_ih, db_hh : ndarray, shape (3*H,), or None
        ``None`` when that bias was ``None`` in the forward pass.

    Raises
    ------
    ValueError
        If ``dhs`` does not have the shape of ``hs``, or ``cache`` is not a
        :class:`GRUCache`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, H = rng.standard_normal((4, 2, 3)), 5
    >>> W_ih, W_hh, b = rng.standard_normal((3 * H, 3)), rng.standard_normal((3 * H, H)), None
    >>> hs, cache = gru_forward(x, None, W_ih, W_hh, b, b)
    >>> dx, dh0, dW_ih, dW_hh, db_ih, db_hh = gru_backward(np.ones_like(hs), cache)
    >>> dW_ih.shape, db_ih is None
    ((15, 3), True)
    """
    cache = _check_cache(cache, GRUCache)
    h, gates, hn, W_hh = cache.h, cache.gates, cache.hn, cache.W_hh
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dhs = check_dout(dhs, (T, N, H), "dhs", h.dtype)

    # Everything that does not depend on the recurrence, for all steps at once
    r, z, n = gates
    to_n = (1 - z) * (1 - n * n)           # d h_t / d(pre-activation of n)
    to_r = hn * r * (1 - r)                # d(pre-activation of n) / d(pre-activation of r)
    to_z = (h[:-1] - n) * z * (1 - z)      # d h_t / d(pre-activation of z)  (h[t] is h_{t-1})

    W = W_hh.reshape(3, H, H)
    dax = np.empty_like(gates)             # gradient of x_t W_ih^T + b_ih
    dah = np.empty_like(gates)             # gradient of h_{t-1} W_hh^T + b_hh
    dh_next = np.zeros((N, H), dtype=h.dtype)
    dh = np.empty((N, H), dtype=h.dtype)
    back = np.empty((3, N, H), dtype=h.dtype)
    for t in reversed(range(T)):
        np.add(dhs[t], dh_next, out=dh)
        da_n = np.multiply(dh, to_n[t], out=dax[2, t])                 # n
        np.multiply(da_n, to_r[t], out=dax[0, t])                      # r
        np.multiply(dh, to_z[t], out=dax[1, t])                        # z
        dah[:2, t] = dax[:2, t]
        np.multiply(da_n, r[t], out=dah[2, t])
        np.add.reduce(np.matmul(dah[:, t], W, out=back), axis=0, out=dh_next)
        dh_next += dh * z[t]

    return _finish(dax, dah, dh_next, cache)


# --------------------------------------------------------------------------
# one LSTM step with an explicit cache, and sampling the next token
# --------------------------------------------------------------------------

def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    r"""One LSTM step (as :func:`lstm_step`) that also returns what its backward needs.

    Returns
    -------
    h_next, c_next : ndarray, shape (N, H)
    cache : tuple
        ``(x, h_prev, c_prev, i, f, g, o, c_next, W_ih, W_hh)``: the input, the
        previous states (zeros where ``None`` was given), the four activated gates
        (each (N, H), torch's order), the new cell state and the two weights.
        :func:`lstm_step_backward` reads exactly this layout.

    Examples
    --------
    >>> import numpy as np
    >>> h, c, cache = lstm_step_forward([[3.0]], None, [[2.0]], np.zeros((4, 1)),
    ...                                 np.zeros((4, 1)), None, None)
    >>> [float(g[0, 0]) for g in cache[3:7]]   # i, f, g, o with zero weights
    [0.5, 0.5, 0.0, 0.5]
    """
    h_next, c_next, (x, h, c, gates, W_ih, W_hh) = _lstm_step(x_t, h, c, W_ih, W_hh,
                                                               b_ih, b_hh)
    i, f, g, o = gates
    return h_next, c_next, (x, h, c, i, f, g, o, c_next, W_ih, W_hh)


def lstm_step_backward(dh, dc, cache):
    r"""Backward pass of one LSTM step, from the cache of :func:`lstm_step_forward`.

    With :math:`\delta c = dc + dh \odot o \odot (1 - \tanh^2 c')` (the cell state
    is reached directly and through :math:`h' = o \odot \tanh c'`):

    .. math::
        \begin{aligned}
        d o &= dh \odot \tanh c', &
        d c_{t-1} &= \delta c \odot f, \\
        d i &= \delta c \odot g, &
        d f &= \delta c \odot c_{t-1}, \qquad d g = \delta c \odot i,
        \end{aligned}

    then through the gate non-linearities, :math:`d a = [d i\, i(1-i),\;
    d f\, f(1-f),\; d g\,(1-g^2),\; d o\, o(1-o)]`, and the two affine maps:
    :math:`dx = da\, W_{ih}`, :math:`dh_{t-1} = da\, W_{hh}`,
    :math:`dW_{ih} = da^\top x`, :math:`dW_{hh} = da^\top h_{t-1}`,
    :math:`db_{ih} = db_{hh} = \sum_n da`.

    Parameters
    ----------
    dh, dc : array_like, shape (N, H), or None
        Gradients of the loss with respect to ``h_next`` and ``c_next``
        (``None`` means zero).
    cache : tuple
        As returned by :func:`lstm_step_forward`.

    Returns
    -------
    dx : ndarray, shape (N, I)
    dh_prev, dc_prev : ndarray, shape (N, H)
    dW_ih : ndarray, shape (4H, I)
    dW_hh : ndarray, shape (4H, H)
    db_ih, db_hh : ndarray, shape (4H,)

    Examples
    --------
    >>> import numpy as np
    >>> _, _, cache = lstm_step_forward([[1.0]], [[0.0]], [[2.0]], np.zeros((4, 1)),
    ...                                 np.zeros((4, 1)), None, None)
    >>> float(lstm_step_backward(None, [[1.0]], cache)[2][0, 0])   # dc_prev = f = 1/2
    0.5
    """
    if not isinstance(cache, tuple) or len(cache) != 10:
        raise ValueError("cache must be the 10-tuple returned by lstm_step_forward")
    x, h, c, i, f, g, o, c_next, W_ih, W_hh = cache
    dtype = c_next.dtype
    dh = np.zeros_like(c_next) if dh is None else check_dout(dh, c_next.shape, "dh", dtype)
    dc = np.zeros_like(c_next) if dc is None else check_dout(dc, c_next.shape, "dc", dtype)
    tc = tanh(c_next)
    delta_c = dc + dh * o * (1 - tc * tc)
    da = np.concatenate([delta_c * g * i * (1 - i), delta_c * c * f * (1 - f),
                         delta_c * i * (1 - g * g), dh * tc * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return (da @ W_ih, da @ W_hh, delta_c * f, da.T @ x, da.T @ h, db, db.copy())


def sample_next(logits, temperature, rng):
    r"""Draw the next token id from ``logits`` at a temperature.

    ``temperature == 0`` is greedy: the arg-max, and no draw is made (``rng`` is
    left untouched). Otherwise one draw ``rng.choice(V, p=p)`` with

    .. math:: p = \operatorname{softmax}(z / T), \qquad
              p_k = \frac{e^{(z_k - \max z)/T}}{\sum_j e^{(z_j - \max z)/T}}.

    Low temperatures sharpen the distribution towards the arg-max, high ones
    flatten it towards uniform. Entries of ``-inf`` (masked by top-k) get
    probability 0.

    Parameters
    ----------
    logits : array_like, shape (V,)
        Unnormalised log-probabilities; at least one finite.
    temperature : float
        ``>= 0``.
    rng : numpy.random.Generator

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> sample_next([0.1, 3.0, -1.0], 0, np.random.default_rng(0))
    1
    >>> sample_next([0.0, -np.inf, 0.0], 1.0, np.random.default_rng(0)) in (0, 2)
    True
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array, got shape {z.shape}")
    if np.isnan(z).any() or np.isposinf(z).any() or not np.isfinite(z).any():
        raise ValueError("logits must be finite or -inf, with at least one finite entry")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)) \
            or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if temperature == 0:
        return int(np.argmax(z))
    e = np.exp((z - z.max()) / float(temperature))
    return int(rng.choice(z.size, p=e / e.sum()))


# --------------------------------------------------------------------------
# an LSTM unrolled with any step functions (the reader's, in the chapter)
# --------------------------------------------------------------------------

def lstm_steps_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh, step_forward=None):
    r"""Run an LSTM over a sequence by calling a one-step forward function T times.

    The same computation as :func:`lstm_forward`, but every step goes through
    ``step_forward`` (default :func:`lstm_step_forward`), so a chapter can unroll
    the reader's own step; :func:`lstm_steps_backward` runs BPTT the same way.

    Parameters
    ----------
    x : array_like, shape (T, N, I)
    h0, c0 : array_like, shape (N, H), or None
        Initial states; ``None`` is zeros.
    W_ih, W_hh, b_ih, b_hh : array_like
        As for :func:`lstm_step_forward` (biases are required here).
    step_forward : callable, optional
        ``(x_t, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_next, c_next, cache)``.

    Returns
    -------
    hs : ndarray, shape (T, N, H)
    state : (ndarray, ndarray)
        :math:`(h_T, c_T)`.
    caches : list
        One cache per step, for :func:`lstm_steps_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D, ``W_hh`` is not (4H, H) or a state is not (N, H).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, W_ih, W_hh = rng.normal(size=(5, 2, 3)), rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    >>> b = np.zeros(8)
    >>> hs, (h, c), caches = lstm_steps_forward(x, None, None, W_ih, W_hh, b, b)
    >>> bool(np.allclose(hs, lstm_forward(x, None, None, W_ih, W_hh, b, b)[0])), len(caches)
    (True, 5)
    """
    fwd, _ = _check_step_fns(step_forward)
    x = as_float_array(x, "x")
    W_hh = as_float_array(W_hh, "W_hh")
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"x must have shape (T, N, I) with every size >= 1, got {x.shape}")
    if W_hh.ndim != 2 or W_hh.shape[1] == 0 or W_hh.shape[0] != 4 * W_hh.shape[1]:
        raise ValueError(f"W_hh must have shape (4*H, H), got {W_hh.shape}")
    T, N, _ = x.shape
    H = W_hh.shape[1]
    h, c = _initial_states(h0, c0, N, H, x.dtype)
    hs, caches = [], []
    for t in range(T):
        h, c, cache = fwd(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(np.asarray(h))
        caches.append(cache)
    return np.stack(hs), (hs[-1].copy(), np.array(c)), caches


def lstm_steps_backward(dhs, caches, step_backward=None, dhT=None, dcT=None):
    r"""Backpropagation through time by calling a one-step backward function T times.

    From :math:`t = T` down to 1, ``step_backward`` receives
    :math:`\partial L/\partial h_t` = ``dhs[t-1]`` plus what step :math:`t+1` sent
    back (``dhT`` too at :math:`t = T`) and :math:`\partial L/\partial c_t` from
    step :math:`t+1` (``dcT`` at :math:`t = T`); the weight gradients of the
    steps are summed (the weights are shared).

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
    caches : list
        From :func:`lstm_steps_forward`.
    step_backward : callable, optional
        Like :func:`lstm_step_backward` (the default).
    dhT, dcT : array_like, shape (N, H), optional
        Gradients reaching the final states from outside (``None`` is zero).

    Returns
    -------
    dx : ndarray, shape (T, N, I)
    dh0, dc0 : ndarray, shape (N, H)
    dW_ih, dW_hh, db_ih, db_hh : ndarray

    Raises
    ------
    ValueError
        If ``caches`` is empty or does not match ``dhs``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, W_ih, W_hh = rng.normal(size=(5, 2, 3)), rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    >>> b = np.zeros(8)
    >>> hs, _, caches = lstm_steps_forward(x, None, None, W_ih, W_hh, b, b)
    >>> dx = lstm_steps_backward(np.ones_like(hs), caches)[0]
    >>> _, _, cache = lstm_forward(x, None, None, W_ih, W_hh, b, b)
    >>> bool(np.allclose(dx, lstm_backward(np.ones_like(hs), cache)[0]))
    True
    """
    _, bwd = _check_step_fns(None, step_backward)
    dhs = as_float_array(dhs, "dhs")
    if not isinstance(caches, (list, tuple)) or not caches:
        raise ValueError("caches must be the non-empty list returned by lstm_steps_forward")
    if dhs.ndim != 3 or dhs.shape[0] != len(caches):
        raise ValueError(f"dhs must have shape (T, N, H) with T = {len(caches)} (one per cache), "
                         f"got {dhs.shape}")
    N, H = dhs.shape[1:]
    dh, dc = _initial_states(dhT, dcT, N, H, dhs.dtype, ("dhT", "dcT"))
    dxs, sums = [None] * len(caches), None
    for t in reversed(range(len(caches))):
        dx, dh, dc, *dparams = bwd(dhs[t] + dh, dc, caches[t])
        dxs[t] = np.asarray(dx)
        if sums is None:
            sums = [np.array(d) for d in dparams]
        else:
            for total, d in zip(sums, dparams, strict=True):
                total += d
    return (np.stack(dxs), np.asarray(dh), np.asarray(dc), *sums)


# --------------------------------------------------------------------------
# a character-level language model: one LSTM layer and a linear read-out,
# trained with truncated backpropagation through time
# --------------------------------------------------------------------------

#: The parameters of :func:`init_char_lstm`, in the order the optimiser sees them.
CHAR_LSTM_PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")


class CharLSTMHistory(NamedTuple):
    """What :func:`train_char_lstm` returns."""

    steps: list          #: training steps done at each evaluation point (0 first)
    train_loss: list     #: mean cross-entropy (nats per character) on a training slice
    val_loss: list       #: the same on the validation text
    batch_loss: list     #: the loss of every training step's chunk
    grad_norm: list      #: the joint gradient norm of every step, before clipping
    params: dict         #: the trained parameters (see :func:`init_char_lstm`)
    seconds: float       #: wall time of the whole run, evaluations included


def _check_step_fns(step_forward, step_backward=None):
    fwd = lstm_step_forward if step_forward is None else step_forward
    bwd = lstm_step_backward if step_backward is None else step_backward
    for name, fn in (("step_forward", fwd), ("step_backward", bwd)):
        if not callable(fn):
            raise ValueError(f"{name} must be a function like lstm_step_forward / "
                             f"lstm_step_backward (or None for those), got {type(fn).__name__}")
    return fwd, bwd


def _check_char_params(params) -> tuple[int, int]:
    """Check the six arrays of a character LSTM; return (V, H)."""
    if not isinstance(params, dict) or set(params) != set(CHAR_LSTM_PARAMS):
        raise ValueError(f"params must be a dict with the keys {', '.join(CHAR_LSTM_PARAMS)} "
                         "(as from init_char_lstm)")
    V, H = np.shape(params["W_out"])
    want = {"W_ih": (4 * H, V), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
            "W_out": (V, H), "b_out": (V,)}
    for name, shape in want.items():
        if np.shape(params[name]) != shape:
            raise ValueError(f"params[{name!r}] must have shape {shape} (V={V}, H={H} from "
                             f"W_out), got {np.shape(params[name])}")
    return V, H


def _check_ids(ids, V: int, name: str, ndim: int, min_len: int = 1) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != ndim or not np.issubdtype(arr.dtype, np.integer) or arr.shape[0] < min_len:
        raise ValueError(f"{name} must be a {ndim}-D integer array of token ids with at least "
                         f"{min_len} entries along its first axis, got dtype {arr.dtype} and "
                         f"shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= V):
        raise ValueError(f"{name} must hold ids in [0, {V}), got [{arr.min()}, {arr.max()}]")
    return arr


def init_char_lstm(vocab_size, hidden_size, seed=0, forget_bias=1.0):
    r"""Parameters of a character LSTM: torch's default initialisation, forget gate opened.

    Every weight and bias is drawn from :math:`U(-1/\sqrt H, 1/\sqrt H)`, as
    ``torch.nn.LSTM(V, H)`` and ``torch.nn.Linear(H, V)`` do; then
    ``forget_bias`` is added to the forget gate's block of ``b_ih`` (rows
    ``H:2H``), so the cell keeps its content by default at the start.

    Parameters
    ----------
    vocab_size, hidden_size : int >= 1
        :math:`V` and :math:`H`.
    seed : int
    forget_bias : float

    Returns
    -------
    dict of ndarray (float64)
        ``W_ih`` (4H, V), ``W_hh`` (4H, H), ``b_ih``, ``b_hh`` (4H,),
        ``W_out`` (V, H), ``b_out`` (V,).

    Examples
    --------
    >>> p = init_char_lstm(5, 3, seed=0)
    >>> p["W_ih"].shape, p["W_out"].shape
    ((12, 5), (5, 3))
    >>> bool(p["b_ih"][3:6].min() > 0.4)     # the forget block starts near 1 + U(-0.58, 0.58)
    True
    """
    from ._validation import check_finite, check_positive_int

    V = check_positive_int(vocab_size, "vocab_size")
    H = check_positive_int(hidden_size, "hidden_size")
    forget_bias = check_finite(forget_bias, "forget_bias")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    shapes = {"W_ih": (4 * H, V), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
              "W_out": (V, H), "b_out": (V,)}
    params = {name: rng.uniform(-k, k, shape) for name, shape in shapes.items()}
    params["b_ih"][H:2 * H] += forget_bias
    return params


def char_lstm_forward_backward(params, inputs, targets, h0=None, c0=None, step_forward=None,
                               step_backward=None):
    r"""Loss and gradients of one chunk of text: an LSTM, a linear read-out, cross-entropy.

    For :math:`t = 1, \dots, T` the LSTM reads the one-hot character
    ``inputs[t-1]`` with ``step_forward``; the logits
    :math:`z_t = h_t W_{out}^\top + b_{out}` score the next character
    ``targets[t-1]``; the loss is the mean cross-entropy over the :math:`T N`
    predictions. Backpropagation through time then calls ``step_backward``
    from :math:`t = T` down to 1 with
    :math:`\partial L/\partial h_t = W_{out}`-part :math:`+` what step
    :math:`t+1` sent back, and the cell state's gradient carried alongside.
    The gradient stops at the chunk's start (truncated BPTT): ``h0`` and
    ``c0`` are treated as constants.

    Parameters
    ----------
    params : dict
        As from :func:`init_char_lstm`.
    inputs, targets : array_like of int, shape (T, N)
        Token ids; ``targets[t]`` is the character after ``inputs[t]``.
    h0, c0 : array_like, shape (N, H), or None
        The state carried from the previous chunk (``None`` is zeros).
    step_forward, step_backward : callable, optional
        With the signatures of :func:`lstm_step_forward` and
        :func:`lstm_step_backward` (the defaults). The chapter passes the
        reader's own.

    Returns
    -------
    loss : float
    grads : dict of ndarray
        One gradient per parameter, same keys and shapes.
    state : (ndarray, ndarray)
        :math:`(h_T, c_T)`, to carry into the next chunk.

    Raises
    ------
    ValueError
        If ``params`` is malformed, the ids are not (T, N) integers in
        :math:`[0, V)` of equal shapes, or a state has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> p = init_char_lstm(4, 3, seed=0)
    >>> ids = np.array([[0, 1], [2, 3], [1, 0]])
    >>> loss, grads, (h, c) = char_lstm_forward_backward(p, ids[:-1], ids[1:])
    >>> round(loss, 1), grads["W_hh"].shape, h.shape     # about log 4 at the start
    (1.4, (12, 3), (2, 3))
    """
    from .losses import cross_entropy, cross_entropy_grad

    V, H = _check_char_params(params)
    fwd, bwd = _check_step_fns(step_forward, step_backward)
    inputs = _check_ids(inputs, V, "inputs", 2)
    targets = _check_ids(targets, V, "targets", 2)
    if targets.shape != inputs.shape:
        raise ValueError(f"targets must have the shape of inputs {inputs.shape}, "
                         f"got {targets.shape}")
    T, N = inputs.shape
    h, c = _initial_states(h0, c0, N, H)
    W_ih, W_hh, b_ih, b_hh = (params[k] for k in CHAR_LSTM_PARAMS[:4])
    hs, state, caches = lstm_steps_forward(np.eye(V)[inputs], h, c, W_ih, W_hh, b_ih, b_hh,
                                           fwd)
    flat = hs.reshape(T * N, H)
    logits = flat @ params["W_out"].T + params["b_out"]
    loss = cross_entropy(logits, targets.reshape(-1))
    dlogits = cross_entropy_grad(logits, targets.reshape(-1))
    grads = {"W_out": dlogits.T @ flat, "b_out": dlogits.sum(axis=0)}
    dhs = (dlogits @ params["W_out"]).reshape(T, N, H)
    grads.update(zip(CHAR_LSTM_PARAMS[:4], lstm_steps_backward(dhs, caches, bwd)[3:],
                     strict=True))
    return float(loss), grads, state


def _initial_states(h0, c0, N: int, H: int, dtype=np.float64, names=("h0", "c0")):
    """Two (N, H) states; ``None`` gives zeros of ``dtype``."""
    states = []
    for name, s in zip(names, (h0, c0), strict=True):
        if s is None:
            states.append(np.zeros((N, H), dtype))
            continue
        s = as_float_array(s, name)
        if s.shape != (N, H):
            raise ValueError(f"{name} must have shape (N, H) = {(N, H)}, got {s.shape}")
        states.append(s)
    return states


def char_lstm_loss(params, ids, step_forward=None, tracks=32):
    r"""Mean cross-entropy (nats per character) of a character LSTM on a text.

    The text is cut into ``tracks`` contiguous pieces of equal length (the
    remainder at the end is dropped), read side by side as one batch from a
    zero state; every character after a piece's first is predicted from all
    the characters before it in its piece. The perplexity is
    :math:`e^{\text{loss}}`.

    Parameters
    ----------
    params : dict
        As from :func:`init_char_lstm`.
    ids : array_like of int, shape (L,)
        The text as token ids, ``L >= 2 * tracks``.
    step_forward : callable, optional
        Like :func:`lstm_step_forward` (the default).
    tracks : int >= 1

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> p = init_char_lstm(4, 3, seed=0)
    >>> round(char_lstm_loss(p, np.arange(40) % 4, tracks=4), 1)   # untrained: about log 4
    1.4
    """
    from ._validation import check_positive_int
    from .activations import log_softmax

    V, H = _check_char_params(params)
    tracks = check_positive_int(tracks, "tracks")
    fwd, _ = _check_step_fns(step_forward)
    ids = _check_ids(ids, V, "ids", 1, min_len=2 * tracks)
    L = len(ids) // tracks
    cols = ids[:L * tracks].reshape(tracks, L).T              # (L, tracks)
    h, c = np.zeros((tracks, H)), np.zeros((tracks, H))
    W_ih, W_hh, b_ih, b_hh = (params[k] for k in CHAR_LSTM_PARAMS[:4])
    eye = np.eye(V)
    hs = np.empty((L - 1, tracks, H))
    for t in range(L - 1):
        h, c, _ = fwd(eye[cols[t]], h, c, W_ih, W_hh, b_ih, b_hh)
        hs[t] = h
    logp = log_softmax(hs @ params["W_out"].T + params["b_out"], axis=-1)
    return float(-np.take_along_axis(logp, cols[1:, :, None], axis=-1).mean())


def unigram_val_loss(train_ids, val_ids, vocab_size, alpha=1.0):
    r"""Validation cross-entropy (nats per character) of an add-``alpha`` unigram model.

    .. math:: p(c) = \frac{n_c + \alpha}{n + \alpha V}, \qquad
              \text{loss} = -\frac{1}{|\text{val}|}\sum_{c \in \text{val}} \log p(c)

    with :math:`n_c` the count of character :math:`c` in ``train_ids``: the
    model that knows how often each character occurs and nothing about order,
    the baseline a language model must beat (:func:`dlnotes.gpt.bigram_val_loss`
    is the next one up).

    Examples
    --------
    >>> round(unigram_val_loss([0, 0, 0, 1], [0, 1], 2, alpha=0.0), 4)   # -(log 3/4 + log 1/4)/2
    0.8370
    """
    from ._validation import check_in_range, check_positive_int

    V = check_positive_int(vocab_size, "vocab_size")
    alpha = check_in_range(alpha, "alpha", low=0.0)
    train = _check_ids(train_ids, V, "train_ids", 1)
    val = _check_ids(val_ids, V, "val_ids", 1)
    counts = np.bincount(train, minlength=V) + alpha
    with np.errstate(divide="ignore"):
        logp = np.log(counts / counts.sum())
    return float(-logp[val].mean())


def train_char_lstm(corpus, step_forward=None, step_backward=None, hidden_size=64, seq_len=32,
                    steps=1000, lr=3e-3, clip=1.0, seed=0, *, batch_size=16, eval_every=None,
                    eval_chars=20_000, clip_fn=None, forget_bias=1.0):
    r"""Train a character-level LSTM language model with truncated BPTT and Adam.

    The training text is cut into ``batch_size`` contiguous tracks read side
    by side. Each step takes the next ``seq_len`` characters of every track,
    computes the loss and gradients with :func:`char_lstm_forward_backward`
    (starting from the state the previous chunk ended in, but not
    backpropagating into it), clips the joint gradient norm to ``clip`` and
    takes one Adam step (:class:`dlnotes.optim.Adam`). At the end of the
    tracks the state is reset to zeros and reading starts again.

    Every ``eval_every`` steps (and at step 0) the mean cross-entropy is
    measured with :func:`char_lstm_loss` on the first ``eval_chars``
    characters of the training text and of the validation text.

    Parameters
    ----------
    corpus : TextCorpus
        From :func:`dlnotes.data.load_text_corpus` (``train``, ``val``,
        ``vocab_size``).
    step_forward, step_backward : callable, optional
        With the signatures of :func:`lstm_step_forward` and
        :func:`lstm_step_backward` (the defaults): the reader's own, in the chapter.
    hidden_size, seq_len, steps : int >= 1
    lr : float > 0
        Adam's learning rate.
    clip : float > 0, or None
        Maximum joint gradient norm; ``None`` does not clip.
    seed : int
        Seeds the initial weights (:func:`init_char_lstm`).
    batch_size : int >= 1
    eval_every : int >= 1, optional
        Default: ``steps // 10`` (at least 1). The last step is always evaluated.
    eval_chars : int >= 2, or None
        Characters of each text used for evaluation; ``None`` uses all.
    clip_fn : callable, optional
        ``clip_fn(grads, max_norm) -> norm`` that rescales a list of arrays in
        place; default :func:`dlnotes.regularization.clip_grad_norm`.
    forget_bias : float
        Added to the forget gate's bias at initialisation.

    Returns
    -------
    CharLSTMHistory

    Raises
    ------
    ValueError
        If ``corpus`` lacks ``train``/``val``/``vocab_size``, a size or
        hyper-parameter is out of range, or the training text is shorter than
        ``batch_size * (seq_len + 1)`` characters.

    Examples
    --------
    >>> from dlnotes.data import load_text_corpus
    >>> corpus = load_text_corpus(max_chars=4000)
    >>> run = train_char_lstm(corpus, hidden_size=16, seq_len=8, steps=20, batch_size=4,
    ...                       eval_chars=400)
    >>> run.steps[0], run.steps[-1], len(run.batch_loss)
    (0, 20, 20)
    >>> bool(run.val_loss[-1] < run.val_loss[0])
    True
    """
    import time

    from ._validation import check_in_range, check_positive_int
    from .optim import Adam
    from .regularization import clip_grad_norm

    start = time.perf_counter()
    if not all(hasattr(corpus, a) for a in ("train", "val", "vocab_size")):
        raise ValueError("corpus must be a TextCorpus (dlnotes.data.load_text_corpus()) with "
                         f"train, val and vocab_size, got {type(corpus).__name__}")
    fwd, bwd = _check_step_fns(step_forward, step_backward)
    H = check_positive_int(hidden_size, "hidden_size")
    seq_len = check_positive_int(seq_len, "seq_len")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_in_range(lr, "lr", low=0.0, low_inclusive=False)
    if clip is not None:
        clip = check_in_range(clip, "clip", low=0.0, low_inclusive=False)
    eval_every = max(1, steps // 10) if eval_every is None else check_positive_int(
        eval_every, "eval_every")
    if eval_chars is not None:
        eval_chars = check_positive_int(eval_chars, "eval_chars", 2)
    clip_fn = clip_grad_norm if clip_fn is None else clip_fn
    if not callable(clip_fn):
        raise ValueError(f"clip_fn must be a function (grads, max_norm) -> norm, "
                         f"got {type(clip_fn).__name__}")
    V = check_positive_int(corpus.vocab_size, "corpus.vocab_size")
    train = _check_ids(corpus.train, V, "corpus.train", 1)
    val = _check_ids(corpus.val, V, "corpus.val", 1, min_len=2)
    L = len(train) // batch_size
    if L < seq_len + 1:
        raise ValueError(f"the training text ({len(train)} characters) must hold at least "
                         f"batch_size * (seq_len + 1) = {batch_size * (seq_len + 1)}")
    cols = train[:L * batch_size].reshape(batch_size, L).T         # (L, batch_size)

    params = init_char_lstm(V, H, seed=seed, forget_bias=forget_bias)
    opt = Adam([params[k] for k in CHAR_LSTM_PARAMS], lr=lr)
    train_slice = train if eval_chars is None else train[:eval_chars]
    val_slice = val if eval_chars is None else val[:eval_chars]
    tracks_for = {len(train_slice): 0, len(val_slice): 0}
    for n in tracks_for:
        tracks_for[n] = max(1, min(32, n // 64))

    def evaluate():
        return (char_lstm_loss(params, train_slice, fwd, tracks_for[len(train_slice)]),
                char_lstm_loss(params, val_slice, fwd, tracks_for[len(val_slice)]))

    hist = CharLSTMHistory([], [], [], [], [], params, 0.0)
    first_train, first_val = evaluate()
    hist.steps.append(0)
    hist.train_loss.append(first_train)
    hist.val_loss.append(first_val)
    h = c = None
    pos = 0
    for step in range(1, steps + 1):
        if pos + seq_len + 1 > L:                 # end of the tracks: start again, fresh state
            pos, h, c = 0, None, None
        loss, grads, (h, c) = char_lstm_forward_backward(
            params, cols[pos:pos + seq_len], cols[pos + 1:pos + seq_len + 1], h, c, fwd, bwd)
        pos += seq_len
        g = [grads[k] for k in CHAR_LSTM_PARAMS]
        if clip is None:
            norm = float(np.sqrt(sum(np.sum(a * a) for a in g)))
        else:
            norm = float(clip_fn(g, clip))
        opt.step(g)
        hist.batch_loss.append(loss)
        hist.grad_norm.append(norm)
        if step % eval_every == 0 or step == steps:
            tr, va = evaluate()
            hist.steps.append(step)
            hist.train_loss.append(tr)
            hist.val_loss.append(va)
    return hist._replace(seconds=time.perf_counter() - start)


def sample_char_lstm(params, corpus, prompt, length, temperature, seed=0, step_forward=None,
                     sample_fn=None):
    r"""Text from a character LSTM: read ``prompt``, then draw ``length`` characters.

    After the prompt has set the state, each new character is drawn with
    ``sample_fn(logits, temperature, rng)`` from the read-out's logits and fed
    back in as the next input.

    Parameters
    ----------
    params : dict
        As from :func:`train_char_lstm` / :func:`init_char_lstm`.
    corpus : TextCorpus
        Its ``encode`` and ``decode`` map text to ids and back.
    prompt : str
        At least one character, all in the corpus vocabulary.
    length : int >= 0
    temperature : float >= 0
        0 is greedy (the arg-max).
    seed : int
        Seeds ``rng = np.random.default_rng(seed)``.
    step_forward : callable, optional
        Like :func:`lstm_step_forward` (the default).
    sample_fn : callable, optional
        Like :func:`sample_next` (the default).

    Returns
    -------
    str
        ``prompt`` followed by the ``length`` drawn characters.

    Examples
    --------
    >>> from dlnotes.data import load_text_corpus
    >>> corpus = load_text_corpus(max_chars=2000)
    >>> p = init_char_lstm(corpus.vocab_size, 8, seed=0)
    >>> text = sample_char_lstm(p, corpus, "The ", 10, temperature=1.0)
    >>> text.startswith("The "), len(text)
    (True, 14)
    """
    from ._validation import check_in_range, check_positive_int

    V, H = _check_char_params(params)
    fwd, _ = _check_step_fns(step_forward)
    sample_fn = sample_next if sample_fn is None else sample_fn
    if not callable(sample_fn):
        raise ValueError(f"sample_fn must be a function like sample_next, "
                         f"got {type(sample_fn).__name__}")
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    length = check_positive_int(length, "length", 0)
    temperature = check_in_range(temperature, "temperature", low=0.0)
    ids = [int(i) for i in corpus.encode(prompt)]
    rng = np.random.default_rng(seed)
    W_ih, W_hh, b_ih, b_hh = (params[k] for k in CHAR_LSTM_PARAMS[:4])
    eye = np.eye(V)
    h, c = np.zeros((1, H)), np.zeros((1, H))
    for i in ids:
        h, c, _ = fwd(eye[[i]], h, c, W_ih, W_hh, b_ih, b_hh)
    for _ in range(length):
        logits = (np.asarray(h) @ params["W_out"].T + params["b_out"])[0]
        ids.append(int(sample_fn(logits, temperature, rng)))
        h, c, _ = fwd(eye[[ids[-1]]], h, c, W_ih, W_hh, b_ih, b_hh)
    return corpus.decode(ids)
