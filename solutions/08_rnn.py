# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 8 — Recurrent networks: RNN, LSTM, GRU and backpropagation through time
#
# A sentence, a price series or a melody is a **sequence** (序列): its meaning depends on
# order, and its length varies. A **recurrent neural network** (循环神经网络, RNN) reads
# it one step at a time and carries a **hidden state** (隐状态) from step to step, so the
# same small set of weights handles a sequence of any length.
#
# **What this chapter covers**
# 1. The RNN cell and unrolling (展开) it over a sequence.
# 2. Backpropagation through time (随时间反向传播, BPTT).
# 3. Vanishing and exploding gradients through time (梯度消失 / 梯度爆炸), with a
#    widget; gradient clipping, from chapter 6, is what stops the explosion.
# 4. The LSTM (长短期记忆网络): gates $i, f, g, o$, its backward pass written by you, and
#    which gradient path keeps its memory alive.
# 5. The GRU (门控循环单元): gates $r, z, n$, and torch's reset-gate convention.
# 6. A task that needs memory: a plain RNN against an LSTM.
# 7. A character-level language model (字符级语言模型): your LSTM, trained with
#    truncated BPTT on English text, against a unigram baseline; sampling text at a
#    temperature (温度), with a slider.
#
# **How to check your answers.** Each exercise is a function with a stub that raises
# `NotImplementedError`. Replace the stub with your code, run the cell, then run the
# test cell below it: it passes silently or tells you what is wrong. The grader also
# runs hidden tests (random sizes, a batch of one, a sequence of one step) on each
# exercise. In JupyterLab, the **Validate** button of the nbgrader toolbar runs every
# test of the notebook at once.
#
# Exercises may use `numpy` only: an answer that calls `dlnotes`, scikit-learn or torch
# scores zero for that exercise.
#
# **Layout.** Everything follows torch's `nn.RNN` / `nn.LSTM` / `nn.GRU`, so weights copy
# across unchanged:
#
# | name | shape | meaning |
# |---|---|---|
# | `x` | $(T, N, I)$ | a sequence: time first, then the batch, then the features |
# | `x_t` | $(N, I)$ | one time step of it |
# | `h`, `c` | $(N, H)$ | hidden state, LSTM cell state (one row per example) |
# | `W_ih` | $(G\cdot H, I)$ | input-to-hidden weights, $G$ gate blocks stacked row-wise |
# | `W_hh` | $(G\cdot H, H)$ | hidden-to-hidden (recurrent) weights |
# | `b_ih`, `b_hh` | $(G\cdot H,)$ | two biases, as in torch |
#
# $G = 1$ for the RNN, $G = 4$ for the LSTM (blocks $i, f, g, o$) and $G = 3$ for the GRU
# (blocks $r, z, n$). Examples are rows, so a layer computes $x_t W_{ih}^\top$.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. The recurrent cell
#
# At step $t$ the **Elman RNN** cell mixes the new input with the previous state:
#
# $$h_t = \tanh\bigl(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}\bigr),
#   \qquad t = 1, \dots, T,$$
#
# starting from an initial state $h_0$ (zeros unless given). The same weights are used at
# every step: this **weight sharing** (参数共享) across time is what lets one network read
# sequences of any length. torch keeps two biases, $b_{ih}$ and $b_{hh}$; mathematically
# only their sum matters, but keeping both makes torch's weights copy across.

# %% [markdown]
# ### Exercise 1.1 — `rnn_step`
# Return $h_t$ of shape $(N, H)$ for one step, given `x_t` $(N, I)$, the previous state
# `h` $(N, H)$, `W_ih` $(H, I)$, `W_hh` $(H, H)$ and the biases $(H,)$ (always arrays
# here).

# %% nbgrader={"grade_id": "rnn_step", "solution": true}
def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """One step of the tanh RNN cell of section 1: returns h_t of shape (N, H)."""
    ### BEGIN SOLUTION
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_rnn_step", "grade": true, "points": 1}
_x = np.array([[1.0, -1.0]])
_h = np.array([[0.5, -0.5]])
_W_ih = np.array([[0.5, 0.25], [-0.5, 1.0]])
_W_hh = np.array([[1.0, 0.5], [0.0, -1.0]])
_b_ih, _b_hh = np.array([0.1, -0.2]), np.array([0.0, 0.3])
# pre-activation: [0.25 + 0.1 + 0.25 + 0.0, -1.5 - 0.2 + 0.5 + 0.3] = [0.6, -0.9]
check_close(answer(rnn_step, _x, _h, _W_ih, _W_hh, _b_ih, _b_hh),
            [[0.5370495669980352, -0.7162978701990244]],
            "rnn_step on a 2-unit example (pre-activation [0.6, -0.9])",
            mistakes={"h @ W_hh instead of h @ W_hh.T: rows of W_hh belong to the outputs":
                          [[0.6910694698329306, -0.5716699660851171]],
                      "the tanh is missing": [[0.6, -0.9]],
                      "b_hh is missing: torch adds both biases": np.tanh([[0.6, -1.2]])})
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref

_TRANSPOSE = "h @ W_hh instead of h @ W_hh.T: rows of W_hh belong to the outputs"
_rng = np.random.default_rng(801)
for _N, _I, _H, _scale in ((1, 1, 1, 1.0), (3, 4, 5, 1.0), (2, 3, 3, 1.0), (4, 2, 6, 30.0)):
    _x = _scale * _rng.normal(size=(_N, _I))
    _h = np.tanh(_rng.normal(size=(_N, _H)))
    _W_ih, _W_hh = _rng.normal(size=(_H, _I)), _rng.normal(size=(_H, _H))
    _b_ih, _b_hh = _rng.normal(size=_H), _rng.normal(size=_H)
    _pre = _x @ _W_ih.T + _b_ih + _h @ _W_hh.T + _b_hh
    _got = answer(rnn_step, _x, _h, _W_ih, _W_hh, _b_ih, _b_hh)
    check_close(_got, _ref.rnn_step(_x, _h, _W_ih, _W_hh, _b_ih, _b_hh),
                f"rnn_step with N={_N}, I={_I}, H={_H}" + (" and inputs of size 30"
                                                           if _scale > 1 else ""),
                mistakes={_TRANSPOSE: _ref.rnn_step(_x, _h, _W_ih, _W_hh.T, _b_ih, _b_hh),
                          "the tanh is missing": _pre,
                          "b_hh is missing: torch adds both biases": np.tanh(_pre - _b_hh),
                          "the previous state h is ignored": np.tanh(_pre - _h @ _W_hh.T)})
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Unrolling over a sequence
#
# Applying the cell for $t = 1, \dots, T$ **unrolls** (展开) the network in time: a
# $T$-layer deep network whose layers all share the same weights. The output of
# `torch.nn.RNN` is the stack of every state $h_1, \dots, h_T$ (shape $(T, N, H)$); the
# last one, $h_T$, summarises the whole sequence. $h_0$ is the *input* state and is not
# part of the output.
#
# ### Exercise 2.1 — `rnn_forward`
# Return `hs` of shape $(T, N, H)$ with `hs[t-1]` $= h_t$. Write the step formula in your
# loop (do not call your `rnn_step`, so that a slip there costs only that exercise).

# %% nbgrader={"grade_id": "rnn_forward", "solution": true}
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """All hidden states h_1..h_T of a tanh RNN over x of shape (T, N, I)."""
    ### BEGIN SOLUTION
    T = x.shape[0]
    hs = np.empty((T, h0.shape[0], W_hh.shape[0]))
    h = h0
    for t in range(T):
        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs[t] = h
    return hs
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_rnn_forward", "grade": true, "points": 1}
# A scalar RNN (N = I = H = 1), W_ih = 0.5, W_hh = 0.9, b_ih = 0.1, b_hh = 0, h0 = 0,
# fed x = 1, 0, -1.
_x = np.array([1.0, 0.0, -1.0]).reshape(3, 1, 1)
_args = (np.zeros((1, 1)), np.array([[0.5]]), np.array([[0.9]]), np.array([0.1]),
         np.array([0.0]))
_got = answer(rnn_forward, _x, *_args)
check_equal(np.shape(_got), (3, 1, 1), "shape of hs for T=3, N=1, H=1",
            mistakes={"hs holds h_1..h_T; you included h0": (4, 1, 1),
                      "return every state, not only the last one": (1, 1)})
check_close(_got.ravel(), [0.5370495669980352, 0.5250921110212424, 0.07245570566742889],
            "rnn_forward on x = [1, 0, -1]",
            mistakes={"the state is not carried: every step starts again from h0":
                          [0.5370495669980352, 0.09966799462495582, -0.3799489622552249]})

# %% nbgrader={"grade_id": "test_rnn_forward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref

_rng = np.random.default_rng(802)
for _T, _N, _I, _H in ((1, 2, 3, 4), (6, 3, 2, 5), (9, 1, 4, 3), (4, 5, 1, 1)):
    _x = _rng.normal(size=(_T, _N, _I))
    _h0 = np.tanh(_rng.normal(size=(_N, _H)))
    _W_ih = _rng.normal(scale=0.8, size=(_H, _I))
    _W_hh = _rng.normal(scale=0.8, size=(_H, _H))
    _b_ih, _b_hh = _rng.normal(size=_H), _rng.normal(size=_H)
    _got = answer(rnn_forward, _x, _h0, _W_ih, _W_hh, _b_ih, _b_hh)
    check_equal(np.shape(_got), (_T, _N, _H), f"shape of hs for T={_T}, N={_N}, H={_H}",
                mistakes={"hs holds h_1..h_T; you included h0": (_T + 1, _N, _H),
                          "return every state, not only the last one": (_N, _H)})
    _ref_hs, _ = _ref.rnn_forward(_x, _h0, _W_ih, _W_hh, _b_ih, _b_hh)
    _no_carry = np.stack([_ref.rnn_step(_x[_t], _h0, _W_ih, _W_hh, _b_ih, _b_hh)
                          for _t in range(_T)])
    _shifted = np.concatenate([_h0[None], _ref_hs[:-1]])
    check_close(_got, _ref_hs, f"rnn_forward with T={_T}, N={_N}, I={_I}, H={_H}",
                mistakes={"the state is not carried: every step starts again from h0": _no_carry,
                          "off by one: hs[t] must be the state after reading x[t]": _shifted,
                          "h @ W_hh instead of h @ W_hh.T":
                              _ref.rnn_forward(_x, _h0, _W_ih, _W_hh.T, _b_ih, _b_hh)[0]})
### END HIDDEN TESTS

# %% [markdown]
# The demo checks the reference `dlnotes.rnn.rnn_forward` against `torch.nn.RNN` with the
# same weights copied in (demo cells are not graded and are skipped when your notebook is
# graded; they use the reference implementation).

# %% tags=["demo"]
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits

from dlnotes import rnn as ref

# The matrices of this chapter are tiny: one thread is faster than several, and
# several threads slow to a crawl on a busy machine.
threadpool_limits(limits=1)
try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

if torch is not None:
    rng = np.random.default_rng(0)
    T_, N_, I_, H_ = 7, 3, 4, 5
    x_np = rng.normal(size=(T_, N_, I_))
    layer = torch.nn.RNN(I_, H_).double()
    weights = [getattr(layer, n).detach().numpy()
               for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    out, _ = layer(torch.from_numpy(x_np))
    hs_np, _ = ref.rnn_forward(x_np, None, *weights)
    print("max |torch nn.RNN - dlnotes| =", np.abs(out.detach().numpy() - hs_np).max())

# %% [markdown]
# ## 3. Backpropagation through time
#
# The unrolled RNN is an ordinary deep network, so its gradients come from ordinary
# backpropagation; run over the time steps it is called **backpropagation through time**
# (BPTT). Write $a_t = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}$ for the
# pre-activation, so $h_t = \tanh(a_t)$, and let the loss $L$ depend on the states through
# `dhs[t-1]` $= \partial L/\partial h_t$ (its *direct* use of $h_t$; zero where the loss
# does not look at a step). The state $h_t$ also feeds step $t+1$, so its total gradient
# has two parts. Going **backwards** from $t = T$:
#
# $$\bar h_t = \mathrm{dhs}_t + \delta_{t+1} W_{hh} \quad(\delta_{T+1} = 0), \qquad
#   \delta_t = \frac{\partial L}{\partial a_t} = \bar h_t \odot (1 - h_t^2).$$
#
# ($1 - h_t^2$ is $\tanh'(a_t)$, read off the output.) The weights are shared, so their
# gradients **sum over time**:
#
# $$\frac{\partial L}{\partial W_{ih}} = \sum_{t=1}^{T} \delta_t^\top x_t, \qquad
#   \frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \delta_t^\top h_{t-1}, \qquad
#   \frac{\partial L}{\partial b_{ih}} = \frac{\partial L}{\partial b_{hh}}
#     = \sum_{t=1}^{T}\sum_{n=1}^{N} \delta_{t,n},$$
#
# $$\frac{\partial L}{\partial x_t} = \delta_t W_{ih}, \qquad
#   \frac{\partial L}{\partial h_0} = \delta_1 W_{hh}.$$
#
# Note $h_{t-1}$ (not $h_t$) in $\partial L/\partial W_{hh}$: $W_{hh}$ multiplies the
# *previous* state, and for $t = 1$ that is $h_0$.

# %% [markdown]
# ### Exercise 3.1 — `rnn_backward`
# Given `dhs` $(T, N, H)$, the input `x` $(T, N, I)$, `h0` $(N, H)$, the forward output
# `hs` $(T, N, H)$ and the weights, return the tuple
# `(dx, dh0, dW_ih, dW_hh, db)` with the shapes of `x`, `h0`, `W_ih`, `W_hh` and $(H,)$;
# `db` is the gradient of either bias (they are equal). Loop over $t$ backwards, carrying
# $\delta_{t+1} W_{hh}$ from one step to the next.

# %% nbgrader={"grade_id": "rnn_backward", "solution": true}
def rnn_backward(dhs, x, h0, hs, W_ih, W_hh):
    """BPTT for a tanh RNN: returns (dx, dh0, dW_ih, dW_hh, db)."""
    ### BEGIN SOLUTION
    T = x.shape[0]
    dx = np.zeros(x.shape)
    dW_ih, dW_hh = np.zeros(W_ih.shape), np.zeros(W_hh.shape)
    db = np.zeros(W_hh.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        delta = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ h_prev
        db += delta.sum(axis=0)
        dh_next = delta @ W_hh
    return dx, dh_next, dW_ih, dW_hh, db
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_rnn_backward", "grade": true, "points": 2}
# A scalar RNN over T = 2 steps with the loss L = h_2, worked by hand:
#   h_1 = tanh(W_ih x_1 + W_hh h_0),  h_2 = tanh(W_ih x_2 + W_hh h_1)      (no biases)
#   delta_2 = 1 - h_2^2,   delta_1 = delta_2 * W_hh * (1 - h_1^2)
_W_ih, _W_hh, _h0 = np.array([[0.5]]), np.array([[0.8]]), np.array([[0.5]])
_x = np.array([1.0, -1.0]).reshape(2, 1, 1)
_h1 = np.tanh(0.5 * 1.0 + 0.8 * 0.5)
_h2 = np.tanh(0.5 * -1.0 + 0.8 * _h1)
_hs = np.array([_h1, _h2]).reshape(2, 1, 1)
_d2 = 1 - _h2 ** 2
_d1 = _d2 * 0.8 * (1 - _h1 ** 2)
_got = answer(rnn_backward, np.array([0.0, 1.0]).reshape(2, 1, 1), _x, _h0, _hs, _W_ih, _W_hh)
check_equal(len(_got), 5, "number of returned gradients (dx, dh0, dW_ih, dW_hh, db)")
_dx, _dh0, _dW_ih, _dW_hh, _db = _got
check_close(np.ravel(_dW_hh), [_d2 * _h1 + _d1 * 0.5], "dW_hh for L = h_2 (scalar RNN, T=2)",
            mistakes={"no gradient through time: the state h_1 also feeds step 2, so "
                      "dL/dh_1 must receive delta_2 W_hh": [_d2 * _h1],
                      "dW_hh pairs delta_t with h_t; it must be the previous state h_{t-1} "
                      "(h0 for t = 1)": [_d2 * _h2 + _d1 * _h1]})
check_close(np.ravel(_dW_ih), [_d2 * -1.0 + _d1 * 1.0], "dW_ih for L = h_2",
            mistakes={"no gradient through time: the state h_1 also feeds step 2, so "
                      "dL/dh_1 must receive delta_2 W_hh": [_d2 * -1.0]})
check_close(np.ravel(_dx), [_d1 * 0.5, _d2 * 0.5], "dx for L = h_2")
check_close(np.ravel(_dh0), [_d1 * 0.8], "dh0 for L = h_2")
check_close(np.ravel(_db), [_d1 + _d2], "db for L = h_2")

# %% nbgrader={"grade_id": "test_rnn_backward_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref


def _bptt(dhs, x, h0, hs, W_ih, W_hh, through_time=True, prev=True, transpose=False):
    """BPTT with a switch per classic slip."""
    Wb = W_hh.T if transpose else W_hh
    dx, dW_ih, dW_hh = np.zeros(x.shape), np.zeros(W_ih.shape), np.zeros(W_hh.shape)
    db, dh_next = np.zeros(W_hh.shape[0]), np.zeros(h0.shape)
    for t in reversed(range(x.shape[0])):
        h_prev = (hs[t - 1] if t > 0 else h0) if prev else hs[t]
        delta = (dhs[t] + (dh_next if through_time else 0)) * (1 - hs[t] ** 2)
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ h_prev
        db += delta.sum(axis=0)
        dh_next = delta @ Wb
    return dx, dh_next, dW_ih, dW_hh, db


_NO_TIME = ("no gradient through time: the state h_t also feeds step t+1, so dL/dh_t must "
            "receive delta_{t+1} W_hh")
_PREV = "dW_hh pairs delta_t with h_t; it must be the previous state h_{t-1} (h0 for t = 1)"
_TRANS = "delta W_hh^T instead of delta W_hh when going back through the recurrence"
_NAMES = ("dx", "dh0", "dW_ih", "dW_hh", "db")
_rng = np.random.default_rng(803)
for _T, _N, _I, _H, _last_only in ((5, 3, 2, 4, False), (1, 2, 3, 2, False),
                                   (8, 1, 3, 3, True), (4, 4, 1, 5, False)):
    _x = _rng.normal(size=(_T, _N, _I))
    _h0 = np.tanh(_rng.normal(size=(_N, _H)))
    _W_ih = _rng.normal(scale=0.8, size=(_H, _I))
    _W_hh = _rng.normal(scale=0.8, size=(_H, _H))
    _b_ih, _b_hh = _rng.normal(size=_H), _rng.normal(size=_H)
    _hs, _cache = _ref.rnn_forward(_x, _h0, _W_ih, _W_hh, _b_ih, _b_hh)
    _dhs = _rng.normal(size=_hs.shape)
    if _last_only:
        _dhs[:-1] = 0.0
    _got = answer(rnn_backward, _dhs, _x, _h0, _hs, _W_ih, _W_hh)
    check_equal(len(_got), 5, "rnn_backward returns 5 gradients (dx, dh0, dW_ih, dW_hh, db)")
    _want = _ref.rnn_backward(_dhs, _cache)[:5]
    _wrong = {_NO_TIME: _bptt(_dhs, _x, _h0, _hs, _W_ih, _W_hh, through_time=False),
              _PREV: _bptt(_dhs, _x, _h0, _hs, _W_ih, _W_hh, prev=False),
              _TRANS: _bptt(_dhs, _x, _h0, _hs, _W_ih, _W_hh, transpose=True)}
    for _k, _name in enumerate(_NAMES):
        check_close(_got[_k], _want[_k],
                    f"{_name} of rnn_backward with T={_T}, N={_N}, I={_I}, H={_H}"
                    + (", loss on the last state only" if _last_only else ""),
                    mistakes={_m: _v[_k] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Vanishing and exploding gradients through time
#
# How much does the loss at the end depend on an input $k$ steps back? The chain rule
# multiplies one Jacobian (雅可比矩阵) per step in between:
#
# $$\frac{\partial h_T}{\partial h_{T-k}} = \prod_{s=T-k+1}^{T}
#   \frac{\partial h_s}{\partial h_{s-1}}, \qquad
#   \frac{\partial h_s}{\partial h_{s-1}} = \operatorname{diag}(1 - h_s^2)\, W_{hh}.$$
#
# Each factor has norm at most $\|W_{hh}\|_2$ (its largest singular value, since
# $\tanh' \le 1$). If that is below 1 the product shrinks **exponentially** in $k$: the
# gradient **vanishes**, and the network cannot learn that an early input matters. If
# $W_{hh}$ has eigenvalues above 1 and the units are not saturated, the product can
# **explode** instead. This is the common saying "plain RNNs easily suffer vanishing or
# exploding gradients on long sequences" (普通 RNN 在长序列上易梯度消失/爆炸), made
# quantitative.
#
# The demo measures $\|\partial L/\partial x_{T-k}\|$, the gradient reaching the input $k$
# steps before the end when the loss only looks at $h_T$, for a tanh RNN whose recurrent
# weight is `scale` × a random orthogonal matrix, and for an LSTM (next sections) whose
# forget gate starts open.

# %% tags=["demo"]
def grad_through_time(T=60, scale=1.0, forget_bias=3.0, H=32, N=16, I=8, seed=0):
    """||dL/dx_{T-k}|| for k = 0..T-1: a tanh RNN and an LSTM, loss on h_T only."""
    r = np.random.default_rng(seed)
    x = r.normal(size=(T, N, I))
    W_ih = r.normal(scale=1 / np.sqrt(I), size=(H, I))
    W_hh = scale * np.linalg.qr(r.normal(size=(H, H)))[0]
    hs, cache = ref.rnn_forward(x, None, W_ih, W_hh, None, None)
    dhs = np.zeros_like(hs)
    dhs[-1] = r.normal(size=(N, H))
    g_rnn = np.linalg.norm(ref.rnn_backward(dhs, cache)[0], axis=(1, 2))
    W_ih4 = r.normal(scale=1 / np.sqrt(I), size=(4 * H, I))
    W_hh4 = np.vstack([scale * np.linalg.qr(r.normal(size=(H, H)))[0] for _ in range(4)])
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias                      # the forget gate's block
    hs, _, cache = ref.lstm_forward(x, None, None, W_ih4, W_hh4, b, None)
    g_lstm = np.linalg.norm(ref.lstm_backward(dhs, cache)[0], axis=(1, 2))
    return g_rnn[::-1], g_lstm[::-1]              # index k = steps back from the end


fig, ax = plt.subplots(figsize=(7, 3.8))
for s, color in ((0.5, "C0"), (1.0, "C1"), (1.5, "C2"), (3.0, "C3")):
    g_rnn, g_lstm = grad_through_time(T=60, scale=s)
    ax.semilogy(g_rnn, color=color, label=f"tanh RNN, scale {s}")
ax.semilogy(grad_through_time(T=60, scale=1.0)[1], "k--", label="LSTM, forget bias 3")
ax.set(xlabel="k = steps back from the end", ylabel="‖∂L/∂x_{T−k}‖ (log scale)",
       title="Gradient reaching an input k steps back")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Now try it yourself: the sequence length, the scale of the recurrent weights and the
# initial forget-gate bias of the LSTM. A scale below about 1.5 makes the RNN's gradient
# vanish, a large one makes it explode; the LSTM with an open forget gate (bias 3)
# keeps it roughly level at moderate scales, and with forget bias 0 its gradient
# vanishes too.

# %% tags=["demo"]
import ipywidgets as widgets


def show_gradient_through_time(T=60, scale=1.0, forget_bias=3.0):
    g_rnn, g_lstm = grad_through_time(T=T, scale=scale, forget_bias=forget_bias)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.semilogy(g_rnn, label="tanh RNN")
    ax.semilogy(g_lstm, label=f"LSTM (forget bias {forget_bias:g})")
    ax.set(xlabel="k = steps back from the end", ylabel="‖∂L/∂x_{T−k}‖ (log scale)",
           title=f"T = {T}, recurrent weight scale {scale:g}")
    ax.legend()
    plt.show()


widgets.interact(show_gradient_through_time,
                 T=widgets.IntSlider(value=60, min=5, max=200, step=5, description="length T"),
                 scale=widgets.FloatSlider(value=1.0, min=0.25, max=3.0, step=0.25,
                                           description="W_hh scale"),
                 forget_bias=widgets.FloatSlider(value=3.0, min=0.0, max=5.0, step=0.5,
                                                 description="forget bias"));

# %% [markdown]
# ### Gradient clipping
#
# Exploding gradients have a cheap fix, **gradient clipping** (梯度裁剪), which
# [chapter 6](06_regularization.ipynb) (section 6) teaches and where you wrote
# `clip_grad_norm`: rescale all the gradients together whenever their joint norm exceeds
# a threshold. It keeps the *direction* of the step and bounds its length, so one
# explosive batch cannot throw the weights far away. It does nothing for *vanishing*
# gradients; that needs a different cell, the LSTM. The demo clips the exploding gradient
# of the scale-3 RNN above with your chapter-6 `clip_grad_norm` (or the book's, if that
# chapter is not answered yet); the language model of section 9 clips every step the
# same way.

# %% tags=["demo"]
from dlnotes import mine

clip_grad_norm = mine.load("06_regularization", ["clip_grad_norm"]).clip_grad_norm

x_c = np.random.default_rng(1).normal(size=(50, 4, 8))
W_ih_c = np.random.default_rng(2).normal(scale=0.35, size=(32, 8))
W_hh_c = 3.0 * np.linalg.qr(np.random.default_rng(3).normal(size=(32, 32)))[0]
hs_c, cache_c = ref.rnn_forward(x_c, None, W_ih_c, W_hh_c, None, None)
dhs_c = np.zeros_like(hs_c)
dhs_c[-1] = 1.0
grads_c = list(ref.rnn_backward(dhs_c, cache_c)[2:4])        # dW_ih, dW_hh
before = clip_grad_norm(grads_c, max_norm=1.0)
after = np.sqrt(sum(np.sum(g * g) for g in grads_c))
print(f"gradient norm before clipping: {before:.3g}, after: {after:.3g}")

# %% [markdown]
# ## 5. The LSTM
#
# The **long short-term memory** cell (长短期记忆网络, LSTM; Hochreiter & Schmidhuber,
# 1997) adds a second state, the **cell state** (细胞状态) $c_t$, and four blocks computed
# from the same input and previous state. In torch's order $i, f, g, o$:
#
# $$\begin{aligned}
# i_t &= \sigma(x_t W_{ii}^\top + b_{ii} + h_{t-1} W_{hi}^\top + b_{hi})
#   && \text{input gate (输入门)} \\
# f_t &= \sigma(x_t W_{if}^\top + b_{if} + h_{t-1} W_{hf}^\top + b_{hf})
#   && \text{forget gate (遗忘门)} \\
# g_t &= \tanh(x_t W_{ig}^\top + b_{ig} + h_{t-1} W_{hg}^\top + b_{hg})
#   && \text{candidate (候选记忆)} \\
# o_t &= \sigma(x_t W_{io}^\top + b_{io} + h_{t-1} W_{ho}^\top + b_{ho})
#   && \text{output gate (输出门)} \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
# h_t &= o_t \odot \tanh(c_t)
# \end{aligned}$$
#
# `W_ih` $(4H, I)$ stacks $W_{ii}, W_{if}, W_{ig}, W_{io}$ row-wise: rows `0:H` are the
# input gate, `H:2H` the forget gate, `2H:3H` the candidate, `3H:4H` the output gate; so
# do `W_hh` and both biases. The gates are sigmoids (between 0 and 1: how much to let
# through); the candidate is a tanh (between −1 and 1: *what* to write).
#
# **Why the cell state helps.** Along the cell state the step-to-step Jacobian is
# $\partial c_t/\partial c_{t-1} = \operatorname{diag}(f_t)$ (plus smaller terms through
# the gates): no weight matrix and no squashing $\tanh'$. While the forget gate stays near
# 1, the gradient passes many steps almost unchanged, the "constant error carousel". This
# is why a common initialisation sets the forget-gate bias to a positive value (1 to 3), so
# the cell remembers by default and learns when to forget.
#
# > **Pitfall.** Some notes say "the LSTM maintains the cell state $c_t$ through a
# > forget gate, an input gate and an output gate" (通过遗忘门、输入门、输出门维护细胞状态).
# > Three gates are not enough to write the cell: the fourth block, the **candidate**
# > $g_t$ (a tanh, not a gate), holds the new content, and the input gate only scales it.
# > Without $g$ the update would be $c_t = f_t c_{t-1} + i_t$, which can only add numbers in
# > $(0, 1)$ and never stores what the input says. torch's LSTM has **four** blocks
# > ($4H$ rows in `weight_ih_l0`), in the order $i, f, g, o$.

# %% [markdown]
# The gates need a sigmoid. This provided, stable one is available to your answers (it
# never takes `exp` of a large positive number).

# %% nbgrader={"grade_id": "helper_sigmoid", "locked": true}
def sigmoid(a):
    """Numerically stable logistic sigmoid 1 / (1 + exp(-a)), elementwise."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=float)))


# %% [markdown]
# ### Exercise 5.1 — `lstm_step_forward`
# One LSTM step that also keeps what its backward pass will need (the next exercise).
# `x_t` is $(N, I)$, `h` and `c` are $(N, H)$, `W_ih` is $(4H, I)$, `W_hh` $(4H, H)$, the
# biases $(4H,)$, with the blocks in the order $i, f, g, o$. Return the tuple
# `(h_next, c_next, cache)`: the next states, both $(N, H)$, and
#
# `cache = (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh)`
#
# exactly in this order: the inputs as given, the four blocks **after** their sigmoid or
# tanh (each $(N, H)$), the new cell state and the two weights. *Hint:* compute all four
# pre-activations with one product each for the input and the state, then slice the
# $(N, 4H)$ result into four $(N, H)$ blocks.

# %% nbgrader={"grade_id": "lstm_step_forward", "solution": true}
def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, blocks i, f, g, o stacked as in torch.

    Returns (h_next, c_next, cache): h_next and c_next of shape (N, H), and
    cache = (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh), with the four blocks
    i, f, g, o (each (N, H)) after their sigmoid or tanh.
    """
    ### BEGIN SOLUTION
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_lstm_step_forward", "grade": true, "points": 1}
# All weights zero: every gate is sigmoid(0) = 1/2 and g = tanh(0) = 0, so
# c' = c / 2 and h' = tanh(c') / 2.
_z4 = np.zeros((4, 1))
_got = answer(lstm_step_forward, np.array([[3.0]]), np.array([[0.0]]), np.array([[2.0]]),
              _z4, _z4, np.zeros(4), np.zeros(4))
check_equal(len(_got), 3, "lstm_step_forward returns (h_next, c_next, cache)")
check_close(_got[1], [[1.0]], "c_next with all weights zero and c = 2",
            mistakes={"sigmoid on the candidate g: it is a tanh": [[1.25]],
                      "h_next and c_next returned in the wrong order": [[0.5 * np.tanh(1.0)]]})
check_close(_got[0], [[0.5 * np.tanh(1.0)]], "h_next with all weights zero and c = 2",
            mistakes={"h' = o * c'; the cell state goes through a tanh first": [[0.5]]})
check_equal(len(_got[2]), 10, "length of the cache (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh)")
check_close([np.ravel(_v)[0] for _v in _got[2][3:7]], [0.5, 0.5, 0.0, 0.5],
            "the gates i, f, g, o in the cache with all weights zero",
            mistakes={"the cache holds the pre-activations: store the gates after their "
                      "sigmoid or tanh": [0.0, 0.0, 0.0, 0.0]})
# One unit, W_ih = [1, 2, -1, 0.5] and W_hh = [-1, 0.5, 1, 2] (blocks i, f, g, o),
# x = 1, h = 0.5, c = 0.5, no biases.
_W_ih = np.array([[1.0], [2.0], [-1.0], [0.5]])
_W_hh = np.array([[-1.0], [0.5], [1.0], [2.0]])
_got = answer(lstm_step_forward, np.array([[1.0]]), np.array([[0.5]]), np.array([[0.5]]),
              _W_ih, _W_hh, np.zeros(4), np.zeros(4))
check_close(_got[1], [[0.16467613090547734]], "c_next of the one-unit example",
            mistakes={"gates in the wrong order: torch stacks i, f, g, o (you used i, f, o, g)":
                          [[1.0157432441527554]],
                      "input and forget gates swapped: torch stacks i, f, g, o":
                          [[-0.10682486799364282]],
                      "the candidate g is missing: c' = f * c + i * g, not f * c + i":
                          [[1.0747845987523]]})
check_close(_got[0], [[0.13343103862490194]], "h_next of the one-unit example")

# %% nbgrader={"grade_id": "test_lstm_step_forward_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref


def _sig(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _lstm_variant(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo", g_act=np.tanh,
                  use_g=True, tanh_c=True):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    H = h.shape[1]
    blk = {k: a[:, j * H:(j + 1) * H] for j, k in enumerate(order)}
    i, f, g, o = _sig(blk["i"]), _sig(blk["f"]), g_act(blk["g"]), _sig(blk["o"])
    c2 = f * c + (i * g if use_g else i)
    return o * (np.tanh(c2) if tanh_c else c2), c2


_ORDER, _SWAP_IF, _SIG_G, _NO_G, _NO_TANH, _PAIR = (
    "gates in the wrong order: torch stacks i, f, g, o (you used i, f, o, g)",
    "input and forget gates swapped: torch stacks i, f, g, o",
    "sigmoid on the candidate g: it is a tanh",
    "the candidate g is missing: c' = f * c + i * g, not f * c + i",
    "h' = o * c'; the cell state goes through a tanh first",
    "h_next and c_next returned in the wrong order")
_CACHE_NAMES = ("x_t", "h", "c", "i", "f", "g", "o", "c_next", "W_ih", "W_hh")
_rng = np.random.default_rng(805)
for _N, _I, _H, _scale in ((3, 4, 5, 1.0), (1, 2, 3, 1.0), (4, 3, 1, 1.0), (2, 3, 4, 40.0)):
    _x = _scale * _rng.normal(size=(_N, _I))
    _h = np.tanh(_rng.normal(size=(_N, _H)))
    _c = 2 * _rng.normal(size=(_N, _H))
    _W_ih, _W_hh = _rng.normal(size=(4 * _H, _I)), _rng.normal(size=(4 * _H, _H))
    _b_ih, _b_hh = _rng.normal(size=4 * _H), _rng.normal(size=4 * _H)
    _args = (_x, _h, _c, _W_ih, _W_hh, _b_ih, _b_hh)
    with np.errstate(over="ignore"):
        _got = answer(lstm_step_forward, *_args)
    check_equal(len(_got), 3, "lstm_step_forward must return (h_next, c_next, cache)")
    _want_h, _want_c, _want_cache = _ref.lstm_step_forward(*_args)
    _wrong = {_ORDER: _lstm_variant(*_args, order="ifog"),
              _SWAP_IF: _lstm_variant(*_args, order="figo"),
              _SIG_G: _lstm_variant(*_args, g_act=_sig),
              _NO_G: _lstm_variant(*_args, use_g=False),
              _NO_TANH: _lstm_variant(*_args, tanh_c=False),
              _PAIR: (_want_c, _want_h)}
    _label = f"lstm_step_forward with N={_N}, I={_I}, H={_H}" + (
        " and inputs of size 40" if _scale > 1 else "")
    check_close(_got[1], _want_c, f"c_next of {_label}",
                mistakes={_m: _v[1] for _m, _v in _wrong.items()})
    check_close(_got[0], _want_h, f"h_next of {_label}",
                mistakes={_m: _v[0] for _m, _v in _wrong.items()})
    check_equal(len(_got[2]), 10, f"the cache of {_label} must hold 10 arrays")
    for _k, _name in enumerate(_CACHE_NAMES):
        check_close(_got[2][_k], _want_cache[_k], f"cache[{_k}] ({_name}) of {_label}")
### END HIDDEN TESTS

# %% [markdown]
# ### Backward through one LSTM step
#
# Training needs the gradients, and one step is all there is to derive: BPTT over a
# sequence calls the same step backward from $t = T$ down to 1, as in section 3. Suppose
# the loss's gradients with respect to the step's two outputs are known:
# $\bar h = \partial L/\partial h'$ (`dh`) and $\bar c = \partial L/\partial c'$ (`dc`,
# from the next step's cell). Walk the forward equations backwards.
#
# **The cell state has two ways to the loss.** $c'$ is used by the next step directly,
# and by the output $h' = o \odot \tanh(c')$. So its total gradient is
#
# $$\delta c = \bar c + \bar h \odot o \odot \bigl(1 - \tanh^2(c')\bigr).$$
#
# **The products.** From $h' = o \odot \tanh c'$ and $c' = f \odot c + i \odot g$, each
# factor's gradient is the upstream gradient times the *other* factor:
#
# $$\bar o = \bar h \odot \tanh c', \qquad \bar i = \delta c \odot g, \qquad
#   \bar g = \delta c \odot i, \qquad \bar f = \delta c \odot c, \qquad
#   \frac{\partial L}{\partial c} = \delta c \odot f.$$
#
# **The non-linearities.** With $a$ the $(N, 4H)$ pre-activation, $\sigma' = \sigma(1 -
# \sigma)$ and $\tanh' = 1 - \tanh^2$ are read off the stored outputs:
# $\bar a_i = \bar i \odot i(1 - i)$, $\bar a_f = \bar f \odot f(1 - f)$,
# $\bar a_g = \bar g \odot (1 - g^2)$, $\bar a_o = \bar o \odot o(1 - o)$, stacked in
# torch's order into $\bar a$.
#
# **The affine map** $a = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}$ is section 3's
# with $\delta = \bar a$: $\partial L/\partial x = \bar a W_{ih}$, $\partial L/\partial h =
# \bar a W_{hh}$, $\partial L/\partial W_{ih} = \bar a^\top x$, $\partial L/\partial W_{hh}
# = \bar a^\top h$, and both biases get $\sum_n \bar a_n$.
#
# > **Pitfall.** Only the *forget gate* stands between $c$ and $c'$: the gradient that
# > reaches the previous cell state is scaled by $f$, not by $o$ and not by a weight
# > matrix. Dropping $f$ there, or forgetting the $\bar h$ path into $c'$ (or its
# > $1 - \tanh^2$), gives gradients that look plausible and train a worse model.

# %% [markdown]
# ### Exercise 5.2 — `lstm_step_backward`
# Given `dh` and `dc`, both $(N, H)$, and the `cache` of `lstm_step_forward` (the layout
# above), return the tuple `(dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)` with the
# shapes of `x_t`, `h`, `c`, `W_ih`, `W_hh`, `b_ih`, `b_hh`. The tests build the cache with
# the book's forward pass, so a slip in your `lstm_step_forward` costs nothing here.

# %% nbgrader={"grade_id": "lstm_step_backward", "solution": true}
def lstm_step_backward(dh, dc, cache):
    """Backward pass of one LSTM step.

    dh, dc: (N, H), the loss's gradients with respect to h_next and c_next.
    cache = (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh), as lstm_step_forward
    returns it. Returns (dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh), with
    the shapes of x_t, h, c, W_ih, W_hh, b_ih, b_hh.
    """
    ### BEGIN SOLUTION
    x, h_prev, c_prev, i, f, g, o, c_next, W_ih, W_hh = cache
    tc = np.tanh(c_next)
    delta_c = dc + dh * o * (1 - tc ** 2)
    da = np.concatenate([delta_c * g * i * (1 - i),
                         delta_c * c_prev * f * (1 - f),
                         delta_c * i * (1 - g ** 2),
                         dh * tc * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return (da @ W_ih, da @ W_hh, delta_c * f, da.T @ x, da.T @ h_prev, db, db.copy())
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_lstm_step_backward", "grade": true, "points": 2}
from dlnotes import rnn as _rnn

# The book's forward builds the cache: the one-unit example of the last test.
_, _c1, _cache = _rnn.lstm_step_forward(
    np.array([[1.0]]), np.array([[0.5]]), np.array([[0.5]]),
    np.array([[1.0], [2.0], [-1.0], [0.5]]), np.array([[-1.0], [0.5], [1.0], [2.0]]),
    np.zeros(4), np.zeros(4))
_f, _o = _cache[4][0, 0], _cache[6][0, 0]
_dtanh = 1 - np.tanh(_c1[0, 0]) ** 2
_NO_F = "the forget gate is missing on the path to c_prev: c_next = f * c_prev + i * g"
# A loss that sees only c_next (dh = 0, dc = 1): the cell path alone.
_got = answer(lstm_step_backward, np.zeros((1, 1)), np.ones((1, 1)), _cache)
check_equal(len(_got), 7, "lstm_step_backward returns 7 gradients "
                          "(dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)")
check_close(_got[2], [[_f]], "dc_prev when the loss sees only c_next (dh = 0, dc = 1)",
            mistakes={_NO_F: [[1.0]]})
# A loss that sees only h_next (dh = 1, dc = 0): c_next reaches it through o * tanh(c_next).
_got = answer(lstm_step_backward, np.ones((1, 1)), np.zeros((1, 1)), _cache)
check_close(_got[2], [[_o * _dtanh * _f]],
            "dc_prev when the loss sees only h_next (dh = 1, dc = 0)",
            mistakes={"the derivative of tanh(c_next) is missing: h_next = o * tanh(c_next)":
                          [[_o * _f]],
                      "dh never reaches the cell: c_next reaches the loss directly (dc) and "
                      "through h_next = o * tanh(c_next) (dh); add both": [[0.0]],
                      _NO_F: [[_o * _dtanh]]})

# A gradient check on random values: every gradient against central differences of
# L = sum(dh * h_next) + sum(dc * c_next), with the book's forward.
_rng = np.random.default_rng(8)
_N, _I, _H = 2, 3, 2
_args = [_rng.normal(size=_s) for _s in ((_N, _I), (_N, _H), (_N, _H), (4 * _H, _I),
                                         (4 * _H, _H), (4 * _H,), (4 * _H,))]
_dh, _dc = _rng.normal(size=(_N, _H)), _rng.normal(size=(_N, _H))


def _numeric_gradient(k, eps=1e-6):
    grad = np.zeros_like(_args[k])
    for idx in np.ndindex(grad.shape):
        moved = []
        for step in (eps, -eps):
            args = [a.copy() for a in _args]
            args[k][idx] += step
            h2, c2, _ = _rnn.lstm_step_forward(*args)
            moved.append(np.sum(_dh * h2) + np.sum(_dc * c2))
        grad[idx] = (moved[0] - moved[1]) / (2 * eps)
    return grad


def _blocks(a, order):
    """The gate blocks of a (4H, ...) gradient put in another order."""
    return np.concatenate([a[k * _H:(k + 1) * _H] for k in order])


_got = answer(lstm_step_backward, _dh, _dc, _rnn.lstm_step_forward(*_args)[2])
_names = ("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db_ih", "db_hh")
for _k in (2, 3, 4, 5, 6, 0, 1):
    _want = _numeric_gradient(_k)
    _swaps = {} if _k < 3 else {
        "gate blocks in the wrong order: torch stacks i, f, g, o (you used i, f, o, g)":
            _blocks(_want, (0, 1, 3, 2)),
        "input and forget gate blocks swapped: torch stacks i, f, g, o":
            _blocks(_want, (1, 0, 2, 3))}
    check_close(_got[_k], _want, f"{_names[_k]} against a numerical gradient "
                                 f"(N={_N}, I={_I}, H={_H})",
                atol=1e-6, rtol=1e-5, mistakes=_swaps)

# %% nbgrader={"grade_id": "test_lstm_step_backward_hidden", "grade": true, "points": 5}
### BEGIN HIDDEN TESTS
import torch as _torch

from dlnotes import rnn as _ref
from dlnotes.data import load_text_corpus as _load_text_corpus


def _bwd_variant(dh, dc, cache, forget=True, dtanh=True, dh_to_c=True, order="ifgo"):
    x, h, c, i, f, g, o, c2, W_ih, W_hh = cache
    tc = np.tanh(c2)
    dct = dc + (dh * o * ((1 - tc ** 2) if dtanh else 1) if dh_to_c else 0)
    blk = {"i": dct * g * i * (1 - i), "f": dct * c * f * (1 - f),
           "g": dct * i * (1 - g ** 2), "o": dh * tc * o * (1 - o)}
    da = np.concatenate([blk[k] for k in order], axis=1)
    return (da @ W_ih, da @ W_hh, dct * f if forget else dct, da.T @ x, da.T @ h,
            da.sum(axis=0), da.sum(axis=0))


def _torch_grads(args, dh, dc):
    x, h, c, W_ih, W_hh, b_ih, b_hh = (_torch.tensor(np.asarray(a, dtype=np.float64),
                                                    requires_grad=True) for a in args)
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f = _torch.sigmoid(a[:, :H]), _torch.sigmoid(a[:, H:2 * H])
    g, o = _torch.tanh(a[:, 2 * H:3 * H]), _torch.sigmoid(a[:, 3 * H:])
    c2 = f * c + i * g
    h2 = o * _torch.tanh(c2)
    ((h2 * _torch.from_numpy(np.asarray(dh, np.float64))).sum()
     + (c2 * _torch.from_numpy(np.asarray(dc, np.float64))).sum()).backward()
    return [t.grad.numpy() for t in (x, h, c, W_ih, W_hh, b_ih, b_hh)]


_GATE_ORDER = "gate blocks in the wrong order: torch stacks i, f, g, o (you used i, f, o, g)"
_MISTAKES = {
    "the forget gate is missing on the path to c_prev: c_next = f * c_prev + i * g":
        {"forget": False},
    "the derivative of tanh(c_next) is missing: h_next = o * tanh(c_next)": {"dtanh": False},
    "dh never reaches the cell: c_next reaches the loss directly (dc) and through "
    "h_next = o * tanh(c_next) (dh); add both": {"dh_to_c": False},
    _GATE_ORDER: {"order": "ifog"},
    "input and forget gate blocks swapped: torch stacks i, f, g, o": {"order": "figo"},
}
_NAMES = ("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db_ih", "db_hh")
_CHECK_ORDER = (2, 3, 4, 5, 6, 0, 1)              # dc_prev and the weights first
_rng = np.random.default_rng(807)
for _N, _I, _H, _scale, _dtype in ((3, 4, 5, 1.0, np.float64), (1, 1, 1, 1.0, np.float64),
                                   (4, 2, 3, 1.0, np.float64), (2, 3, 4, 8.0, np.float64),
                                   (5, 3, 6, 1.0, np.float32)):
    _args = [(_scale if _s == "x" else 1.0) * _rng.normal(size=_shape).astype(_dtype)
             for _s, _shape in (("x", (_N, _I)), ("h", (_N, _H)), ("c", (_N, _H)),
                                ("W", (4 * _H, _I)), ("W", (4 * _H, _H)), ("b", (4 * _H,)),
                                ("b", (4 * _H,)))]
    _dh = _rng.normal(size=(_N, _H)).astype(_dtype)
    _dc = _rng.normal(size=(_N, _H)).astype(_dtype)
    _cache = _ref.lstm_step_forward(*_args)[2]
    _got = answer(lstm_step_backward, _dh, _dc, _cache)
    check_equal(len(_got), 7, "lstm_step_backward must return 7 gradients")
    _want = _torch_grads(_args, _dh, _dc)
    _wrong = {_m: _bwd_variant(_dh, _dc, _cache, **_kw) for _m, _kw in _MISTAKES.items()}
    _tol = 1e-4 if _dtype == np.float32 else 1e-7
    for _k in _CHECK_ORDER:
        check_close(_got[_k], _want[_k],
                    f"{_NAMES[_k]} of lstm_step_backward with N={_N}, I={_I}, H={_H}"
                    + (", inputs of size 8" if _scale > 1 else "")
                    + (", float32" if _dtype == np.float32 else ""),
                    atol=_tol * max(1.0, float(np.abs(_want[_k]).max())), rtol=_tol,
                    mistakes={_m: _v[_k] for _m, _v in _wrong.items()})

# A short language-model training with your backward (the book's forward, read-out,
# loss and optimiser): 80 steps of truncated BPTT on 6000 characters of Python's help
# text. Character frequencies alone (a unigram model) give a validation loss of about
# 3.07 nats per character; a correct backward gets well below 2.7.
_LIMIT = 2.7
_corpus = _load_text_corpus(max_chars=6000)


def _your_backward(dh, dc, cache):
    return answer(lstm_step_backward, dh, dc, cache,
                  case="one step of truncated BPTT in a short language-model training")


with np.errstate(all="ignore"):
    _run = _ref.train_char_lstm(_corpus, _ref.lstm_step_forward, _your_backward,
                                hidden_size=32, seq_len=10, steps=80, lr=0.04, clip=1.0,
                                seed=0, batch_size=32, eval_every=80, eval_chars=None)
assert _run.val_loss[-1] < _LIMIT, (
    f"a character LSTM trained for 80 steps with your lstm_step_backward reached a "
    f"validation loss of {_run.val_loss[-1]:.3f} nats per character; a correct backward "
    f"gets below {_LIMIT} (counting characters alone gives "
    f"{_ref.unigram_val_loss(_corpus.train, _corpus.val, _corpus.vocab_size):.2f})")
### END HIDDEN TESTS

# %% [markdown]
# ### Question 5.3 — which path keeps the memory?
#
# One LSTM unit ($N = H = I = 1$) reads six inputs from $c_0$, and the loss is its last
# cell state, $L = c_6$. Its recurrent weights are zero ($W_{hh} = 0$), so each step's
# gates depend on that step's input only. These are the blocks it computed:
#
# | step $t$ | 1 | 2 | 3 | 4 | 5 | 6 |
# |---|---|---|---|---|---|---|
# | $i_t$ | 0.90 | 0.10 | 0.20 | 0.85 | 0.05 | 0.30 |
# | $f_t$ | 0.95 | 0.99 | 0.97 | 0.90 | 0.98 | 0.96 |
# | $g_t$ | 0.80 | −0.50 | 0.30 | −0.90 | 0.60 | 0.10 |
# | $o_t$ | 0.70 | 0.20 | 0.90 | 0.50 | 0.40 | 0.60 |
#
# A plain tanh RNN unit with recurrent weight $w_{hh} = 1$ reads six inputs from $h_0$,
# the loss is $L = h_6$, and its states were
# $h_1, \dots, h_6 = 0.50, -0.80, 0.90, 0.60, -0.95, 0.70$.
#
# Set `lstm_grad_c0` to $\partial L/\partial c_0$ for the LSTM and `rnn_grad_h0` to
# $\partial L/\partial h_0$ for the RNN (numbers, or arithmetic on the numbers above).
# Which of the table's rows matter, and why does the LSTM's gradient survive six steps
# when the RNN's does not?

# %% nbgrader={"grade_id": "q_memory", "solution": true}
lstm_grad_c0 = None
rnn_grad_h0 = None
### BEGIN SOLUTION
lstm_grad_c0 = 0.95 * 0.99 * 0.97 * 0.90 * 0.98 * 0.96
rnn_grad_h0 = ((1 - 0.5**2) * (1 - 0.8**2) * (1 - 0.9**2)
               * (1 - 0.6**2) * (1 - 0.95**2) * (1 - 0.7**2))
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_memory", "grade": true, "points": 2}
assert lstm_grad_c0 is not None and rnn_grad_h0 is not None, \
    "set lstm_grad_c0 and rnn_grad_h0 to numbers"
### BEGIN HIDDEN TESTS
_F = np.array([0.95, 0.99, 0.97, 0.90, 0.98, 0.96])
_I = np.array([0.90, 0.10, 0.20, 0.85, 0.05, 0.30])
_O = np.array([0.70, 0.20, 0.90, 0.50, 0.40, 0.60])
_HS = np.array([0.50, -0.80, 0.90, 0.60, -0.95, 0.70])
check_close(lstm_grad_c0, np.prod(_F), "dL/dc_0 of the LSTM unit", atol=1e-6, rtol=1e-4,
            mistakes={"gradients along a path multiply, they do not add": np.sum(_F),
                      "the output gate is not on the path from c_0 to c_6: the loss is c_6, "
                      "not h_6": np.prod(_F * _O),
                      "the input gate scales the new content g, not the old cell state":
                          np.prod(_F * _I),
                      "six steps separate c_0 from c_6: one forget gate per step":
                          np.prod(_F[1:])})
check_close(rnn_grad_h0, np.prod(1 - _HS ** 2), "dL/dh_0 of the tanh RNN unit", atol=1e-8,
            rtol=1e-4,
            mistakes={"tanh'(a) = 1 - tanh(a)^2 = 1 - h^2, not 1 - h": np.prod(1 - _HS),
                      "the tanh derivative is missing: each step multiplies by "
                      "w_hh * (1 - h_t^2)": 1.0,
                      "six steps separate h_0 from h_6: one factor per step":
                          np.prod(1 - _HS[1:] ** 2)})
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The GRU
#
# The **gated recurrent unit** (门控循环单元, GRU; Cho et al., 2014) merges the cell and
# hidden states and uses three blocks, in torch's order $r, z, n$:
#
# $$\begin{aligned}
# r &= \sigma(x_t W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr})
#   && \text{reset gate (重置门)} \\
# z &= \sigma(x_t W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz})
#   && \text{update gate (更新门)} \\
# n &= \tanh\bigl(x_t W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\bigr)
#   && \text{candidate (候选隐状态)} \\
# h' &= (1 - z) \odot n + z \odot h
# \end{aligned}$$
#
# The update gate interpolates: $z = 1$ keeps the old state unchanged (the GRU's version
# of an open forget gate), $z = 0$ replaces it with the candidate. The reset gate decides
# how much of the old state enters the candidate. With three blocks instead of four, a
# GRU has 3/4 of an LSTM's parameters, which is the usual "fewer parameters, faster"
# (参数更少、计算更快).
#
# > **Pitfall (the reset gate).** Torch applies $r$ to $(h W_{hn}^\top + b_{hn})$, *after*
# > the product and including the bias. The original paper, and many notes and blog posts,
# > write $n = \tanh(x_t W_{in}^\top + b_{in} + (r \odot h) W_{hn}^\top)$: reset *before*
# > the product. These are different functions; a network trained one way gives different
# > outputs when run the other way (the demo below measures it). This book follows torch.
#
# > **Pitfall (the gate count).** Some notes say the GRU "keeps only the update gate
# > and the reset gate" (只保留更新门和重置门). It keeps two *gates*, but there is still a
# > candidate $n$ with its own weights: three blocks, `weight_ih_l0` has $3H$ rows. Also
# > check which way round $z$ is used: some texts write $h' = z \odot n + (1-z) \odot h$.
# > That is the same model with $z$ relabelled as $1 - z$, but the weights do not copy
# > across; torch keeps the *old* state with weight $z$.

# %% [markdown]
# ### Exercise 6.1 — `gru_step`
# Return $h'$ $(N, H)$ for one GRU step. `W_ih` is $(3H, I)$, `W_hh` $(3H, H)$, the
# biases $(3H,)$, with blocks $r, z, n$. Use the provided `sigmoid`.

# %% nbgrader={"grade_id": "gru_step", "solution": true}
def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step (torch's convention, gates r, z, n): returns h_next."""
    ### BEGIN SOLUTION
    H = h.shape[1]
    ax = x_t @ W_ih.T + b_ih
    ah = h @ W_hh.T + b_hh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return (1 - z) * n + z * h
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gru_step", "grade": true, "points": 1}
# All weights zero: r = z = 1/2 and n = 0, so h' = h / 2.
check_close(answer(gru_step, np.array([[5.0]]), np.array([[1.0, -2.0]]),
                   np.zeros((6, 1)), np.zeros((6, 2)), np.zeros(6), np.zeros(6)),
            [[0.5, -1.0]], "gru_step with all weights zero and h = [1, -2]",
            mistakes={"sigmoid on the candidate n: it is a tanh": [[0.75, -0.75]]})
# One unit, W_ih = [1, -1, 2], W_hh = [0.5, 1, -1] (blocks r, z, n), b_ih = 0.1 each,
# b_hh = [0, 0, 0.5], x = 1, h = 0.8.
check_close(answer(gru_step, np.array([[1.0]]), np.array([[0.8]]),
                   np.array([[1.0], [-1.0], [2.0]]), np.array([[0.5], [1.0], [-1.0]]),
                   np.array([0.1, 0.1, 0.1]), np.array([0.0, 0.0, 0.5])),
            [[0.8798961669978537]], "gru_step on the one-unit example",
            mistakes={"reset applied to h before the product, (r * h) W_hn^T + b_hn: torch "
                      "uses r * (h W_hn^T + b_hn)": [[0.8839979158238148]],
                      "z and 1 - z swapped: torch's h' = (1 - z) * n + z * h":
                          [[0.8722930414573078]],
                      "r and z swapped: torch stacks r, z, n": [[0.8293519251380934]],
                      "sigmoid on the candidate n: it is a tanh": [[0.8339562991201118]]})

# %% nbgrader={"grade_id": "test_gru_step_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref


def _sig(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, order="rzn", paper=False, swap_z=False,
                 n_act=np.tanh):
    H = h.shape[1]
    ax, ah = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    j = {k: slice(m * H, (m + 1) * H) for m, k in enumerate(order)}
    r, z = _sig(ax[:, j["r"]] + ah[:, j["r"]]), _sig(ax[:, j["z"]] + ah[:, j["z"]])
    hn = (r * h) @ W_hh[j["n"]].T + b_hh[j["n"]] if paper else r * ah[:, j["n"]]
    n = n_act(ax[:, j["n"]] + hn)
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


_PAPER, _SWAP_Z, _SWAP_RZ, _SIG_N = (
    "reset applied to h before the product, (r * h) W_hn^T + b_hn: torch uses "
    "r * (h W_hn^T + b_hn)",
    "z and 1 - z swapped: torch's h' = (1 - z) * n + z * h",
    "r and z swapped: torch stacks r, z, n",
    "sigmoid on the candidate n: it is a tanh")
_rng = np.random.default_rng(806)
for _N, _I, _H, _scale in ((3, 4, 5, 1.0), (1, 2, 3, 1.0), (4, 3, 1, 1.0), (2, 3, 4, 40.0)):
    _x = _scale * _rng.normal(size=(_N, _I))
    _h = np.tanh(_rng.normal(size=(_N, _H)))
    _W_ih, _W_hh = _rng.normal(size=(3 * _H, _I)), _rng.normal(size=(3 * _H, _H))
    _b_ih, _b_hh = _rng.normal(size=3 * _H), _rng.normal(size=3 * _H)
    _args = (_x, _h, _W_ih, _W_hh, _b_ih, _b_hh)
    with np.errstate(over="ignore"):
        _got = answer(gru_step, *_args)
    check_close(_got, _ref.gru_step(*_args),
                f"gru_step with N={_N}, I={_I}, H={_H}" + (" and inputs of size 40"
                                                           if _scale > 1 else ""),
                mistakes={_PAPER: _gru_variant(*_args, paper=True),
                          _SWAP_Z: _gru_variant(*_args, swap_z=True),
                          _SWAP_RZ: _gru_variant(*_args, order="zrn"),
                          _SIG_N: _gru_variant(*_args, n_act=_sig)})
### END HIDDEN TESTS

# %% [markdown]
# The demo checks `dlnotes.rnn.lstm_step` and `gru_step` against `torch.nn.LSTMCell` and
# `torch.nn.GRUCell`, and measures how far the paper's reset-gate convention is from
# torch's on the same weights.

# %% tags=["demo"]
if torch is not None:
    rng = np.random.default_rng(0)
    N_, I_, H_ = 4, 3, 5
    x_np, h_np, c_np = (rng.normal(size=(N_, I_)), rng.normal(size=(N_, H_)),
                        rng.normal(size=(N_, H_)))
    for name, cell in (("LSTMCell", torch.nn.LSTMCell(I_, H_).double()),
                       ("GRUCell", torch.nn.GRUCell(I_, H_).double())):
        w = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                           cell.bias_hh)]
        if name == "LSTMCell":
            h_t, c_t = cell(torch.from_numpy(x_np), (torch.from_numpy(h_np),
                                                     torch.from_numpy(c_np)))
            h_r, c_r = ref.lstm_step(x_np, h_np, c_np, *w)
            err = max(np.abs(h_t.detach().numpy() - h_r).max(),
                      np.abs(c_t.detach().numpy() - c_r).max())
        else:
            h_t = cell(torch.from_numpy(x_np), torch.from_numpy(h_np))
            err = np.abs(h_t.detach().numpy() - ref.gru_step(x_np, h_np, *w)).max()
            # the paper's convention: reset h before the product
            W_ih_, W_hh_, b_ih_, b_hh_ = w
            a_x, a_h = x_np @ W_ih_.T + b_ih_, h_np @ W_hh_.T + b_hh_
            r_ = 1 / (1 + np.exp(-(a_x[:, :H_] + a_h[:, :H_])))
            z_ = 1 / (1 + np.exp(-(a_x[:, H_:2 * H_] + a_h[:, H_:2 * H_])))
            n_ = np.tanh(a_x[:, 2 * H_:] + (r_ * h_np) @ W_hh_[2 * H_:].T + b_hh_[2 * H_:])
            paper = (1 - z_) * n_ + z_ * h_np
            print("GRU, paper's reset vs torch's: max difference",
                  f"{np.abs(paper - h_t.detach().numpy()).max():.3f}")
        print(f"torch.nn.{name} vs dlnotes: max difference {err:.1e}")

# %% [markdown]
# ## 7. Counting parameters
#
# A layer with $G$ blocks, input size $I$ and hidden size $H$ has $G \cdot H \cdot I$
# input weights, $G \cdot H \cdot H$ recurrent weights and, in torch, **two** bias
# vectors of $G \cdot H$ each: $G\,(HI + H^2 + 2H)$ parameters.

# %% tags=["demo"]
if torch is not None:
    for layer in (torch.nn.RNN(10, 20), torch.nn.LSTM(10, 20), torch.nn.GRU(10, 20)):
        shapes = {n: tuple(p.shape) for n, p in layer.named_parameters()}
        print(f"{type(layer).__name__:5s} {sum(p.numel() for p in layer.parameters()):5d} "
              f"parameters: {shapes}")

# %% [markdown]
# ## 8. Training a memory task: plain RNN against LSTM
#
# **The task (marked recall).** Each sequence has $T = 30$ steps. At every step the
# input is a random symbol out of $K = 8$ (one-hot), plus a marker channel that is 1 at a
# single step among the first five and 0 elsewhere. The target is the symbol that was
# marked. To answer, the network must notice the marker, store the symbol, and keep it
# for at least 25 steps of distracting symbols. Guessing gives $1/8 = 12.5\%$.
#
# **The models.** A one-layer tanh RNN or LSTM with $H = 32$ reads the sequence; a linear
# layer maps the last state $h_T$ to 8 logits; the loss is the softmax cross-entropy.
# The **LSTM is yours**: your `lstm_step_forward` unrolled over the 30 steps and your
# `lstm_step_backward` called from step 30 down to 1 (`dlnotes.rnn.lstm_steps_forward` /
# `lstm_steps_backward` only run the loops; a stub still unanswered is replaced by the
# book's version, with a printed note). The plain RNN is the book's `dlnotes.rnn`
# version of your `rnn_forward` / `rnn_backward`. The rest is the same for both:
# `dlnotes.losses.cross_entropy` and its gradient, `dlnotes.optim.Adam` (learning rate
# 0.01) and your `clip_grad_norm` from chapter 6 (max norm 1). Both models start from
# torch's default initialisation $U(-1/\sqrt H, 1/\sqrt H)$; the LSTM's forget-gate bias
# starts at 3. Each batch is 64 fresh sequences, so there is no overfitting: the
# validation accuracy on 1000 held-out sequences measures what the model learned.
#
# The backward pass of the readout is two lines: with $z = h_T W_{out}^\top + b_{out}$ and
# $\bar z = \partial L/\partial z$, we have $\partial L/\partial W_{out} = \bar z^\top h_T$
# and $\partial L/\partial h_T = \bar z\, W_{out}$, which goes into `dhs[-1]` (the other
# steps get zeros).
#
# With the `CI` environment variable set, the demos train on a smaller budget.

# %% tags=["demo"]
import os
import time

from tqdm.auto import tqdm

from dlnotes import losses, optim

own = mine.own(globals(), "08_rnn", ["lstm_step_forward", "lstm_step_backward"])
K, T_SEQ, MARK_WITHIN, H, BATCH = 8, 30, 5, 32, 64
STEPS = 200 if os.environ.get("CI") else 600
EVAL_EVERY = 25
FORGET_BIAS = 3.0


def make_batch(rng, n):
    """n marked-recall sequences: x (T, n, K+1) and targets y (n,)."""
    sym = rng.integers(0, K, size=(T_SEQ, n))
    pos = rng.integers(0, MARK_WITHIN, size=n)
    x = np.zeros((T_SEQ, n, K + 1))
    x[np.arange(T_SEQ)[:, None], np.arange(n), sym] = 1.0
    x[pos, np.arange(n), K] = 1.0
    return x, sym[pos, np.arange(n)]


def init_params(kind, seed):
    """torch's default init U(-1/sqrt(H), 1/sqrt(H)); LSTM forget bias raised."""
    rng = np.random.default_rng(seed)
    G = {"rnn": 1, "lstm": 4}[kind]
    k = 1 / np.sqrt(H)

    def u(*shape):
        return rng.uniform(-k, k, shape)

    p = {"W_ih": u(G * H, K + 1), "W_hh": u(G * H, H), "b_ih": u(G * H), "b_hh": u(G * H),
         "W_out": u(K, H), "b_out": u(K)}
    if kind == "lstm":
        p["b_ih"][H:2 * H] += FORGET_BIAS
    return p


def hidden_states(kind, p, x):
    args = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if kind == "rnn":
        return ref.rnn_forward(x, None, *args)
    hs, _, caches = ref.lstm_steps_forward(x, None, None, *args, own.lstm_step_forward)
    return hs, caches


def loss_and_grads(kind, p, x, y):
    hs, cache = hidden_states(kind, p, x)
    logits = hs[-1] @ p["W_out"].T + p["b_out"]
    loss = losses.cross_entropy(logits, y)
    dlogits = losses.cross_entropy_grad(logits, y)
    dhs = np.zeros_like(hs)
    dhs[-1] = dlogits @ p["W_out"]                      # only h_T feeds the loss
    if kind == "rnn":
        *_, dW_ih, dW_hh, db_ih, db_hh = ref.rnn_backward(dhs, cache)
    else:
        *_, dW_ih, dW_hh, db_ih, db_hh = ref.lstm_steps_backward(dhs, cache,
                                                                 own.lstm_step_backward)
    grads = {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh,
             "W_out": dlogits.T @ hs[-1], "b_out": dlogits.sum(axis=0)}
    return loss, grads


def accuracy(kind, p, x, y):
    hs, _ = hidden_states(kind, p, x)
    return float(np.mean(np.argmax(hs[-1] @ p["W_out"].T + p["b_out"], axis=1) == y))


x_val, y_val = make_batch(np.random.default_rng(12345), 1000)


def train_numpy(kind, steps=STEPS, seed=0):
    p = init_params(kind, seed)
    names = list(p)
    opt = optim.Adam([p[n] for n in names], lr=1e-2)
    data = np.random.default_rng(seed + 1)
    hist = {"loss": [], "grad_norm": [], "eval_step": [], "val_acc": []}
    for step in tqdm(range(1, steps + 1), desc=kind.upper()):
        x, y = make_batch(data, BATCH)
        loss, g = loss_and_grads(kind, p, x, y)
        grads = [g[n] for n in names]
        hist["grad_norm"].append(clip_grad_norm(grads, max_norm=1.0))
        opt.step(grads)
        hist["loss"].append(loss)
        if step % EVAL_EVERY == 0 or step == steps:
            hist["eval_step"].append(step)
            hist["val_acc"].append(accuracy(kind, p, x_val, y_val))
    return p, hist


results, seconds = {}, {}
for kind in ("rnn", "lstm"):
    start = time.perf_counter()
    results[kind] = train_numpy(kind)
    seconds[kind] = time.perf_counter() - start
for kind in ("rnn", "lstm"):
    print(f"{kind.upper():4s}: validation accuracy {results[kind][1]['val_acc'][-1]:.1%} "
          f"after {STEPS} steps ({seconds[kind]:.1f} s)")

# %% tags=["demo"]
def smooth(v, w=25):
    v = np.asarray(v, dtype=float)
    return np.convolve(v, np.ones(w) / w, mode="valid") if len(v) > w else v


runs = {k.upper(): h for k, (_, h) in results.items()}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for name, h in runs.items():
    style = dict(color="C0" if name == "RNN" else "C3")
    axes[0].plot(smooth(h["loss"]), label=name, **style)
    axes[1].plot(h["eval_step"], h["val_acc"], label=name, **style)
    axes[2].semilogy(smooth(h["grad_norm"]), label=name, **style)
axes[0].axhline(np.log(K), color="gray", lw=0.8, ls=":")
axes[0].set(xlabel="step", ylabel="cross-entropy (smoothed)",
            title="training loss (dotted: guessing, log 8)")
axes[1].axhline(1 / K, color="gray", lw=0.8, ls=":")
axes[1].set(xlabel="step", ylabel="accuracy", title="validation accuracy (dotted: 1/8)",
            ylim=(0, 1.02))
axes[2].set(xlabel="step", ylabel="‖g‖ before clipping", title="gradient norm (smoothed)")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# What does the trained LSTM hold in its state along the way? Apply its readout to every
# $h_t$, not only $h_T$: this is the answer it would give if the sequence stopped at step
# $t$. The plot shows the probability given to the marked symbol, averaged over the
# validation sequences, one curve per marker position. Before the marker it stays at the
# guessing level $1/8$ (there is nothing to know yet); after it, it climbs over the next
# steps and then stays at 1 through all the distracting symbols that follow: the symbol
# has been written into the cell state and is kept there. (The readout was only trained
# on $h_T$, so the early steps are not expected to be perfect.)

# %% tags=["demo"]
p_lstm = results["lstm"][0]
hs_val, _ = hidden_states("lstm", p_lstm, x_val)
logits_t = hs_val @ p_lstm["W_out"].T + p_lstm["b_out"]             # (T, N, K)
probs_t = np.exp(logits_t - logits_t.max(axis=-1, keepdims=True))
probs_t /= probs_t.sum(axis=-1, keepdims=True)
p_marked = probs_t[:, np.arange(len(y_val)), y_val]                 # (T, N)
mark = np.argmax(x_val[:, :, K], axis=0)
fig, ax = plt.subplots(figsize=(7, 3.6))
for m in range(MARK_WITHIN):
    ax.plot(np.arange(1, T_SEQ + 1), p_marked[:, mark == m].mean(axis=1),
            label=f"marker at step {m + 1}")
ax.axhline(1 / K, color="gray", lw=0.8, ls=":")
ax.set(xlabel="step t", ylabel="p(marked symbol | h_t)", ylim=(0, 1.02),
       title="Trained LSTM: its answer if the sequence stopped at step t")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What to expect.** Your LSTM should reach (close to) 100% validation accuracy, passing
# through a long flat stretch at the guessing level before it finds the marker, while the
# plain RNN, with the same optimiser, clipping, size and data, stays at the guessing
# level: it never finds the marker through 25 and more steps of vanishing gradient.
# Try `FORGET_BIAS = 0.0` (torch's default): the LSTM then stays at the guessing level
# far longer. Or try `T_SEQ = 10`: the plain RNN then learns the task too.
#
# %% [markdown]
# ## 9. A character-level language model
#
# A **language model** (语言模型) gives a probability to the next token given all the
# ones before it, $p(x_{t+1} \mid x_1, \dots, x_t)$. At the **character level**
# (字符级) a token is one character. The LSTM reads one character per step (one-hot, so
# $I = V$, the number of distinct characters), and a linear read-out turns each $h_t$ into
# $V$ logits whose softmax is the predicted distribution of the next character. The loss
# is chapter 3's cross-entropy, averaged over the predicted characters: the negative
# log-likelihood in nats per character. Its exponential is the **perplexity**
# (困惑度): a perplexity of 8 means the model is as unsure as a fair choice among 8
# characters.
#
# **The text.** `dlnotes.data.load_text_corpus()` joins the help topics of Python's own
# documentation (what `help("for")` prints, the module `pydoc_data.topics`). It ships
# with every CPython installation, so nothing is downloaded, under the Python Software
# Foundation (PSF) licence: about 465,000 characters of English prose and code
# examples, about 100 distinct characters. The first 90% is the training text and the
# last 10% the validation text, in one piece each, so no validation sentence is seen in
# training.
#
# **A baseline.** A model that knows only how often each character occurs (a
# **unigram** model, 一元模型: $p(c)$ = the character's frequency in the training text)
# already does far better than guessing among $V$. A language model has learned
# something about *order* only when it beats the unigram loss on the validation text.
#
# **Truncated BPTT** (截断的随时间反向传播). Backpropagating through 400,000 steps is
# out of the question. The training text is cut into 16 tracks read side by side, and
# each update takes the next `seq_len` characters of every track: the forward pass
# starts from the state the previous chunk ended in (so the model can carry context
# across chunks), but the backward pass stops at the start of the chunk (the state
# is treated as a constant there). Each update clips the gradient with your chapter-6
# `clip_grad_norm` and takes an Adam step (chapter 5).

# %% tags=["demo"]
from dlnotes.data import load_text_corpus

corpus = load_text_corpus()
unigram_loss = ref.unigram_val_loss(corpus.train, corpus.val, corpus.vocab_size)
print(f"{corpus.source}: {len(corpus.train):,} training and {len(corpus.val):,} "
      f"validation characters, {corpus.vocab_size} distinct")
print(f"guessing uniformly: {np.log(corpus.vocab_size):.2f} nats per character "
      f"(perplexity {corpus.vocab_size}); unigram model: {unigram_loss:.2f} nats "
      f"(perplexity {np.exp(unigram_loss):.1f})")
print(repr(corpus.decode(corpus.val[:300])))

# %% [markdown]
# ### Sampling at a temperature
#
# To *write* text, feed the model a prompt, then repeatedly draw the next character from
# its predicted distribution and feed that character back in. A **temperature**
# $T > 0$ (温度) reshapes the distribution before the draw: divide the logits by $T$,
#
# $$p_k = \frac{e^{z_k / T}}{\sum_j e^{z_j / T}} = \operatorname{softmax}(z / T)_k .$$
#
# $T = 1$ is the model's own distribution. $T < 1$ sharpens it towards the most likely
# character (safer, more repetitive text), and $T > 1$ flattens it towards uniform (more
# varied, more mistakes). In the limit $T \to 0$ all the probability goes to the
# arg-max, so $T = 0$ is defined as **greedy** decoding: take the arg-max, draw nothing.
# Dividing by a small $T$ makes the logits large, so compute the softmax stably, as in
# chapter 2: subtract the largest logit before the exponential.

# %% [markdown]
# ### Exercise 9.1 — `sample_next`
# Given the logits of the next token, shape $(V,)$ (entries may be `-inf` for tokens that
# are masked out, which must never be drawn; at least one is finite), a temperature
# $\ge 0$ and a `numpy.random.Generator`, return the id of the next token as an `int`.
# For temperature 0, return the arg-max and do not use `rng`. Otherwise make exactly one
# draw, `rng.choice(V, p=probabilities)`, so that the same generator state gives the
# same id as the book's version.

# %% nbgrader={"grade_id": "sample_next", "solution": true}
def sample_next(logits, temperature, rng):
    """The id (an int) of the next token, from logits (V,) at a temperature >= 0.

    temperature == 0: the arg-max, and rng is not used. Otherwise exactly one draw,
    rng.choice(V, p=probabilities). Entries of -inf are masked tokens: never drawn.
    """
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(z))
    p = np.exp((z - z.max()) / temperature)
    return int(rng.choice(z.size, p=p / p.sum()))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sample_next", "grade": true, "points": 1}
from dlnotes import rnn as _rnn

check_equal(answer(sample_next, np.array([0.1, 3.0, -1.0, 2.9]), 0, np.random.default_rng(0)),
            1, "sample_next at temperature 0 (greedy) on logits [0.1, 3.0, -1.0, 2.9]")
# 40 draws, each from a generator seeded 0, 1, ..., 39, compared with the book's draws
# from identically seeded generators.
_z = np.array([1.0, 0.5, -0.5, 2.0, 0.0])
for _T in (0.5, 2.0):
    _got = [answer(sample_next, _z, _T, np.random.default_rng(_s)) for _s in range(40)]
    check_equal(_got, [_rnn.sample_next(_z, _T, np.random.default_rng(_s)) for _s in range(40)],
                f"40 draws at temperature {_T} from logits {_z.tolist()}",
                mistakes={"the logits are multiplied by the temperature: divide them":
                              [_rnn.sample_next(_z, 1 / _T, np.random.default_rng(_s))
                               for _s in range(40)],
                          "the temperature is ignored": [
                              _rnn.sample_next(_z, 1.0, np.random.default_rng(_s))
                              for _s in range(40)],
                          "for a temperature above 0, draw one id with rng.choice; the "
                          "arg-max is only for temperature 0": [3] * 40})
try:
    with np.errstate(over="ignore", invalid="ignore"):
        _got = answer(sample_next, np.array([1000.0, 999.0, 998.0]), 1.0,
                      np.random.default_rng(0))
except AssertionError as _err:
    raise AssertionError(f"{_err}. Likely mistake: exp(1000) overflows to inf; subtract the "
                         "largest logit before the exponential") from None
check_equal(_got, _rnn.sample_next(np.array([1000.0, 999.0, 998.0]), 1.0,
                                   np.random.default_rng(0)),
            "sample_next on logits [1000, 999, 998] at temperature 1")

# %% nbgrader={"grade_id": "test_sample_next_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import rnn as _ref

_MULTIPLIED = "the logits are multiplied by the temperature: divide them"
_rng = np.random.default_rng(809)
for _V, _scale, _T, _shift in ((2, 1.0, 1.0, 0.0), (7, 3.0, 0.3, 0.0), (30, 1.0, 2.5, 0.0),
                               (12, 3.0, 1.0, 900.0), (9, 2.0, 0.0, 0.0), (100, 1.0, 0.7, 0.0)):
    _z = _scale * _rng.normal(size=_V) + _shift
    _z[_rng.permutation(_V)[:_V // 3]] = -np.inf          # masked tokens, as top-k does
    try:
        with np.errstate(all="ignore"):
            _got = [answer(sample_next, _z, _T, np.random.default_rng(_s)) for _s in range(30)]
    except AssertionError as _failure:
        raise AssertionError(f"{_failure}" + (
            f". Likely mistake: the exponential of logits near {_shift:g} overflows; shift "
            "them by their maximum" if _shift else "")) from None
    _want = [_ref.sample_next(_z, _T, np.random.default_rng(_s)) for _s in range(30)]
    _wrong = {} if _T == 0 else {
        _MULTIPLIED: [_ref.sample_next(_z, 1 / _T, np.random.default_rng(_s))
                      for _s in range(30)]}
    check_equal(_got, _want, f"30 draws at temperature {_T} from {_V} logits of size "
                             f"{_scale:g} around {_shift:g}, a third of them -inf (masked)",
                mistakes=_wrong)
    check_equal(all(np.isfinite(_z[_k]) for _k in _got), True,
                "no masked (-inf) token is ever drawn")
### END HIDDEN TESTS

# %% [markdown]
# ### Training your LSTM on the text
#
# `dlnotes.rnn.train_char_lstm` runs the loop described above with the functions it is
# given: your `lstm_step_forward` and `lstm_step_backward` for every step of every
# chunk, and your chapter-6 `clip_grad_norm`. The rest is the book's: the one-hot
# input, the read-out and its gradient, the cross-entropy and Adam. $H = 64$ hidden units,
# chunks of 32 characters, 16 tracks, learning rate 0.01; every few hundred steps it
# measures the loss on the first 20,000 characters of the training and of the validation
# text. With the `CI` environment variable set, it trains for fewer steps.

# %% tags=["demo"]
own = mine.own(globals(), "08_rnn", ["lstm_step_forward", "lstm_step_backward",
                                     "sample_next"])
LM_STEPS = 300 if os.environ.get("CI") else 1000
lm = ref.train_char_lstm(corpus, own.lstm_step_forward, own.lstm_step_backward,
                         hidden_size=64, seq_len=32, steps=LM_STEPS, lr=0.01, clip=1.0, seed=0,
                         batch_size=16, eval_every=LM_STEPS // 8, clip_fn=clip_grad_norm)
lm_val = ref.char_lstm_loss(lm.params, corpus.val, own.lstm_step_forward)
print(f"{LM_STEPS} steps in {lm.seconds:.0f} s")
print(f"training loss {lm.train_loss[-1]:.3f}, validation loss {lm.val_loss[-1]:.3f} nats per "
      f"character (first 20,000 characters of each)")
print(f"whole validation text: loss {lm_val:.3f}, perplexity {np.exp(lm_val):.2f}; "
      f"unigram model: {unigram_loss:.3f}, perplexity {np.exp(unigram_loss):.2f}")

fig, ax = plt.subplots(figsize=(7, 3.6))
ax.plot(np.arange(1, LM_STEPS + 1), lm.batch_loss, color="0.8",
        label="each training chunk")
ax.plot(lm.steps, lm.train_loss, "o-", label="training text")
ax.plot(lm.steps, lm.val_loss, "o-", label="validation text")
ax.axhline(unigram_loss, color="gray", ls=":", label="unigram model")
ax.set(xlabel="step", ylabel="nats per character", title="Your LSTM language model",
       ylim=(0, np.log(corpus.vocab_size) + 0.2))
ax.legend()
plt.show()

# %% [markdown]
# The validation loss should fall well below the unigram line within the first few hundred
# steps: the model has learned spelling, frequent words and where spaces and newlines
# go. Training and validation losses stay close, so a bigger model or a longer run
# would still help (try `hidden_size=128`, or more steps). Here is what your model
# writes after the prompt `"The "`, greedy and at two temperatures, with your
# `sample_next`:

# %% tags=["demo"]
for temperature in (0.0, 0.5, 1.0):
    text = ref.sample_char_lstm(lm.params, corpus, "The ", 240, temperature, seed=0,
                                step_forward=own.lstm_step_forward, sample_fn=own.sample_next)
    print(f"--- temperature {temperature}:\n{text}\n")

# %% [markdown]
# Greedy decoding soon falls into a loop (the most likely continuation of a phrase often
# leads back to the phrase); a moderate temperature gives varied, word-like text; at 1 the
# model's own uncertainty shows as invented words. Move the slider to see the whole range,
# or change the prompt: try `"def "`, `"The for statement"` or `"    "`.

# %% tags=["demo"]
def show_sample(prompt="The ", temperature=0.5, seed=0):
    known = "".join(ch for ch in prompt if ch in corpus.vocab) or " "
    print(ref.sample_char_lstm(lm.params, corpus, known, 300, temperature, seed=seed,
                               step_forward=own.lstm_step_forward, sample_fn=own.sample_next))


widgets.interact(show_sample,
                 prompt=widgets.Text(value="The ", description="prompt"),
                 temperature=widgets.FloatSlider(value=0.5, min=0.0, max=2.0, step=0.1,
                                                 description="temperature"),
                 seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"));

# %% [markdown]
# ## Summary
# - An RNN applies one cell with shared weights at every step:
#   $h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})$.
# - BPTT is backpropagation on the unrolled network:
#   $\delta_t = (\mathrm{dhs}_t + \delta_{t+1} W_{hh}) \odot (1 - h_t^2)$, and the weight
#   gradients sum over time, pairing $\delta_t$ with $h_{t-1}$.
# - The gradient through $k$ steps is a product of $k$ Jacobians
#   $\operatorname{diag}(1-h^2)W_{hh}$: it vanishes or explodes exponentially. Clip the
#   joint gradient norm against explosion; use gated cells against vanishing.
# - The LSTM has four blocks $i, f, g, o$ (torch's order): $c_t = f_t c_{t-1} + i_t g_t$,
#   $h_t = o_t \tanh c_t$. Along $c$ the gradient is scaled by $f$ only: the forget
#   gate is the path that keeps the memory (and its gradient) alive.
# - One LSTM step backwards: $\delta c = \bar c + \bar h \odot o \odot (1 - \tanh^2 c')$
#   collects both ways to the loss, $\partial L/\partial c = \delta c \odot f$, and the
#   gate gradients go through $\sigma' = \sigma(1-\sigma)$, $\tanh' = 1 - \tanh^2$ and
#   the affine map as in BPTT.
# - The GRU has three blocks $r, z, n$: $h' = (1-z) n + z h$, and torch resets
#   $(h W_{hn}^\top + b_{hn})$, not $h$.
# - Parameters: $G(HI + H^2 + 2H)$ with $G = 1, 4, 3$ for RNN, LSTM, GRU.
# - A character-level language model predicts the next character; its cross-entropy in
#   nats per character (perplexity $e^{\text{loss}}$) must beat the unigram model's.
#   Truncated BPTT carries the state across chunks but stops the gradient at each
#   chunk's start. Sampling divides the logits by a temperature: 0 is greedy, 1 the
#   model's own distribution, above 1 flatter.
