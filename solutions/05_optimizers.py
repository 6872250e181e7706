# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 5 — Optimizers: how a network walks downhill
#
# Training a network means minimising a loss $L(\theta)$ over millions of parameters
# $\theta$. For a linear model and the squared error there is a formula for the
# minimiser; for anything deeper there is not, and we take small steps against the
# gradient instead. This chapter starts from the formula, replaces it by **gradient
# descent** (梯度下降), and then builds the optimizers (优化器) that every framework
# ships: momentum, AdaGrad, RMSProp and Adam, and the learning-rate schedules
# (学习率调度) that drive them.
#
# **What this chapter covers**
# 1. Least squares (最小二乘法) in closed form and by the normal equation (正规方程),
#    then the same fit by gradient descent.
# 2. Batch, stochastic and mini-batch gradient descent (批量 / 随机 / 小批量梯度下降):
#    a batch samples *examples*, and the gradient is the average over them.
# 3. Momentum (动量), AdaGrad, RMSProp and Adam (with bias correction, 偏差修正),
#    written exactly as `torch.optim` writes them; AdamW vs L2.
# 4. Trajectories on an ill-conditioned valley and on the Rosenbrock function, and a
#    widget to play with the learning rate, momentum and $\beta_1, \beta_2$.
# 5. Learning-rate schedules: step, exponential, cosine, warm-up (预热), one-cycle.
# 6. When to stop: gradient norm, loss plateau, parameter change, maximum epochs,
#    early stopping (早停).
#
# **How to check your answers.** Each exercise is a function or a class with a stub
# that raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong. The
# grader also runs hidden tests; for the optimizer classes they run **60 steps** on
# random problems and compare every parameter with `torch.optim`. In JupyterLab, the
# **Validate** button of the nbgrader toolbar runs every test of the notebook at once.
#
# Exercises may use `numpy` and `math` only: an answer that calls `dlnotes`,
# scikit-learn or torch scores zero for that exercise.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, inplace

# %% [markdown]
# ## 1. Least squares: the answer in one formula
#
# Fit a line $\hat y = w x + b$ to points $(x_i, y_i)$ by minimising the squared error
# $E(w, b) = \sum_i (y_i - w x_i - b)^2$. Setting both partial derivatives to zero,
#
# $$\frac{\partial E}{\partial w} = -2\sum_i x_i (y_i - w x_i - b) = 0, \qquad
#   \frac{\partial E}{\partial b} = -2\sum_i (y_i - w x_i - b) = 0,$$
#
# gives the **closed form** (闭式解 / 解析解)
#
# $$w = \frac{\sum_i (x_i - \bar x)(y_i - \bar y)}{\sum_i (x_i - \bar x)^2}, \qquad
#   b = \bar y - w \bar x .$$
#
# With $D$ features, stack the examples in the rows of $X \in \mathbb R^{N\times D}$
# and **append a column of ones** for the bias: $A = [X \;\; \mathbf 1]$,
# $\theta = (w, b)$. The minimiser of $\|A\theta - y\|^2$ solves the **normal
# equation**
#
# $$A^\top A\,\theta = A^\top y .$$
#
# Both are graded in the foundations chapter (`fit_line`, `normal_equation` in
# `dlnotes.linear`); here we only use them as the target that gradient descent must
# reach.
#
# > **Pitfall.** One common note writes $W^* = (X^\top X)^{-1} X^\top Y$ and computes it
# > with an explicit inverse on $X$ itself. Two slips. (1) Without a column of ones in
# > $X$ the model has **no bias**: the fitted line is forced through the origin. (2)
# > The inverse is notation, not an algorithm: forming $X^\top X$ squares the condition
# > number, and `inv` fails outright when $X^\top X$ is singular (a duplicated or constant
# > feature). Solve the system instead: `np.linalg.lstsq(A, y)` (an SVD, works even when
# > the matrix is rank deficient) or `np.linalg.solve(A.T @ A, A.T @ y)`.

# %% tags=["demo"]
import matplotlib.pyplot as plt

from dlnotes import linear as lin
from dlnotes import optim as ref

rng = np.random.default_rng(0)
x_line = rng.uniform(0, 4, size=40)
y_line = 1.5 * x_line + 2.0 + rng.normal(scale=0.5, size=40)

w_cf, b_cf = lin.fit_line(x_line, y_line)
theta_ne = lin.normal_equation(x_line[:, None], y_line)
w_no_bias = (np.linalg.inv(x_line[:, None].T @ x_line[:, None]) @ x_line[:, None].T @ y_line)[0]
print(f"closed form      : w = {w_cf:.4f}, b = {b_cf:.4f}")
print(f"normal equation  : w = {theta_ne[0]:.4f}, b = {theta_ne[1]:.4f}")
print(f"inverse, no bias : w = {w_no_bias:.4f}, b = 0 (forced through the origin)")

# A duplicated feature makes X^T X singular: lstsq still answers, inv does not.
X_dup = np.column_stack([x_line, x_line])
try:
    np.linalg.inv(X_dup.T @ X_dup)
    print("inv of a singular X^T X returned garbage instead of failing")
except np.linalg.LinAlgError as err:
    print("inv on a duplicated feature:", err)
print("lstsq on a duplicated feature (minimum-norm solution):",
      lin.normal_equation(X_dup, y_line).round(4))

xs = np.linspace(0, 4, 2)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.scatter(x_line, y_line, s=12, label="data")
ax.plot(xs, w_cf * xs + b_cf, label="least squares with bias")
ax.plot(xs, w_no_bias * xs, "--", label="(XᵀX)⁻¹Xᵀy without a ones column")
ax.set(xlabel="x", ylabel="y", title="The bias column matters")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Gradient descent
#
# The formula needs all the data at once and a linear model. Gradient descent needs
# only the gradient: start somewhere and repeatedly step **against** it,
#
# $$\theta \leftarrow \theta - \eta\, \nabla_\theta L(\theta),$$
#
# where $\eta > 0$ is the **learning rate** (学习率). The gradient points uphill; the
# minus sign takes us downhill. Too small an $\eta$ crawls, too large an $\eta$
# overshoots the valley floor and diverges.
#
# For linear regression we use the **mean** squared error with a factor $\tfrac12$
# (it cancels the 2 of the derivative):
#
# $$L(w, b) = \frac{1}{2N}\sum_{i=1}^{N} \bigl(x_i^\top w + b - y_i\bigr)^2, \qquad
#   \nabla_w L = \frac1N X^\top r, \quad \frac{\partial L}{\partial b} = \frac1N\sum_i r_i,$$
#
# with the residuals $r = Xw + b - y$.
#
# > **Pitfall.** One common note writes batch gradient descent as
# > $g = \frac{1}{n+1}\nabla_\theta E$ and $\theta_{new} = \theta_{old} + \eta\, g$. Both
# > parts are wrong. The average is over the $N$ **examples** (not over the $n+1$
# > parameters $w_1, \dots, w_n, b$), and the update **subtracts** the gradient:
# > adding it is gradient *ascent* and climbs the loss.

# %% [markdown]
# ### Exercise 2.1 — `gd_step`
# Return the parameters after **one** gradient-descent step on the loss above:
# `(w_new, b_new)`, with `w_new` an array of shape `(D,)` and `b_new` a float. Do not
# change `w` in place.

# %% nbgrader={"grade_id": "gd_step", "solution": true}
def gd_step(w, b, X, y, lr):
    """One step of gradient descent on L = 1/(2N) * sum((X @ w + b - y)**2)."""
    ### BEGIN SOLUTION
    w = np.asarray(w, dtype=float)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    r = X @ w + b - y
    dw = X.T @ r / len(y)
    db = float(np.mean(r))
    return w - lr * dw, float(b - lr * db)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gd_step", "grade": true, "points": 1}
# The worked example's line: points (0, 1), (1, 3), (2, 5), starting from w = 0, b = 0, lr = 0.1.
# Gradients: dL/dw = (0*-1 + 1*-3 + 2*-5) / 3 = -13/3, dL/db = -9/3 = -3.
_X = np.array([[0.0], [1.0], [2.0]])
_y = np.array([1.0, 3.0, 5.0])
_w_new, _b_new = answer(gd_step, np.zeros(1), 0.0, _X, _y, 0.1)
_m = {"wrong sign: θ + ηg climbs the loss, use θ - ηg": ([-13 / 30], -0.3),
      "the average is over the N examples: divide the summed gradient by N, not N+1":
          ([13 / 40], 0.225),
      "summed instead of averaged: divide the gradient by N": ([1.3], 0.9),
      "the gradient of 1/(2N)·Σr² is Xᵀr/N (the 1/2 cancels the 2)": ([13 / 15], 0.6)}
check_close(_w_new, [13 / 30], "w after one step on the worked example's line",
            mistakes={k: v[0] for k, v in _m.items()})
check_close(_b_new, 0.3, "b after one step on the worked example's line",
            mistakes={k: v[1] for k, v in _m.items()})

# %% nbgrader={"grade_id": "test_gd_step_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import torch

_rng = np.random.default_rng(501)
for _n, _d in ((1, 1), (7, 3), (50, 4)):
    _X = _rng.normal(size=(_n, _d))
    _y = _rng.normal(size=_n)
    _w = _rng.normal(size=_d)
    _b = float(_rng.normal())
    _lr = 0.05
    _tw = torch.tensor(_w, requires_grad=True)
    _tb = torch.tensor(_b, dtype=torch.float64, requires_grad=True)
    _loss = 0.5 * ((torch.tensor(_X) @ _tw + _tb - torch.tensor(_y)) ** 2).mean()
    _loss.backward()
    _gw, _gb = _tw.grad.numpy(), float(_tb.grad)
    _w_copy = _w.copy()
    _got_w, _got_b = answer(gd_step, _w, _b, _X, _y, _lr)
    _mw = {"wrong sign: θ + ηg climbs the loss, use θ - ηg": _w + _lr * _gw,
           "the average is over the N examples: divide the summed gradient by N, "
           "not N+1": _w - _lr * _gw * _n / (_n + 1),
           "summed instead of averaged: divide the gradient by N": _w - _lr * _gw * _n,
           "the gradient of 1/(2N)·Σr² is Xᵀr/N (the 1/2 cancels the 2)": _w - 2 * _lr * _gw}
    check_close(_got_w, _w - _lr * _gw, f"w after one step on {_n} random examples, D={_d}",
                mistakes=_mw)
    check_close(_got_b, _b - _lr * _gb, f"b after one step on {_n} random examples, D={_d}",
                mistakes={"wrong sign: θ + ηg climbs the loss, use θ - ηg": _b + _lr * _gb,
                          "the average is over the N examples: divide the summed gradient "
                          "by N, not N+1": _b - _lr * _gb * _n / (_n + 1),
                          "summed instead of averaged: divide the gradient by N":
                              _b - _lr * _gb * _n})
    check_close(_w, _w_copy, "w after calling gd_step (it must not change its input)")
### END HIDDEN TESTS

# %% [markdown]
# The demo runs many such steps and compares the result with the closed form on the
# line above. The loss falls geometrically and the parameters reach the normal
# equation's answer.

# %% tags=["demo"]
def lsq_grad(params, Xb, yb):
    w, b = params
    r = Xb @ w + b - yb
    return [Xb.T @ r / len(yb), np.mean(r)]


def lsq_loss(params, Xb, yb):
    w, b = params
    return float(np.mean((Xb @ w + b - yb) ** 2) / 2)


X_line = x_line[:, None]
w_gd, b_gd = np.zeros(1), np.array(0.0)
hist = ref.gradient_descent(lsq_grad, [w_gd, b_gd], X_line, y_line, lr=0.2, epochs=300,
                            loss_fn=lsq_loss)
best = lsq_loss([theta_ne[:1], theta_ne[1]], X_line, y_line)
print(f"gradient descent after 300 steps: w = {w_gd[0]:.4f}, b = {float(b_gd):.4f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(np.array(hist) - best + 1e-16)
ax.set(xlabel="step", ylabel="L(θ) − L(θ*)", title="Gradient descent reaches the closed form")
plt.show()

# %% [markdown]
# ## 3. Batch, stochastic and mini-batch gradient descent
#
# The loss is an average over $N$ examples, so its gradient is an average of $N$
# per-example gradients. Computing all of them for every step is expensive. The three
# flavours differ only in **which examples** enter each step:
#
# | flavour | examples per step $\lvert\mathcal B\rvert$ | steps per epoch (轮) | gradient |
# |---|---|---|---|
# | batch GD (批量梯度下降) | all $N$ | 1 | exact |
# | stochastic GD (随机梯度下降, SGD) | 1 | $N$ | very noisy |
# | mini-batch GD (小批量梯度下降) | $B$, e.g. 32–512 | $\lceil N/B \rceil$ | noisy, vectorised |
#
# $$\theta \leftarrow \theta - \frac{\eta}{|\mathcal B|}\sum_{i\in\mathcal B}
#   \nabla_\theta\, \ell(\theta; x_i, y_i).$$
#
# The mini-batch gradient is an unbiased estimate of the full gradient: its average
# over random batches is the full gradient. The **mean** (not the sum) keeps the step
# size independent of $B$.
#
# > **Pitfall.** A common note describes mini-batch GD as "randomly picking some of the
# > **weights** and updating only those" (随机抽一部分的权重). It is the other way
# > round: a mini-batch samples **examples** (rows of $X$), and every step updates
# > **all** the parameters, using the gradient averaged over the sampled examples.

# %% [markdown]
# ### Exercise 3.1 — `minibatch_gradient`
# For the same loss as in 2.1, return `(dw, db)`: the gradient averaged over the
# examples whose row indices are in `idx` only. `dw` has shape `(D,)`, `db` is a float.

# %% nbgrader={"grade_id": "minibatch_gradient", "solution": true}
def minibatch_gradient(w, b, X, y, idx):
    """Mean gradient of 1/2 (x_i @ w + b - y_i)**2 over the examples i in idx."""
    ### BEGIN SOLUTION
    idx = np.asarray(idx, dtype=int)
    Xb = np.asarray(X, dtype=float)[idx]
    yb = np.asarray(y, dtype=float)[idx]
    r = Xb @ np.asarray(w, dtype=float) + b - yb
    return Xb.T @ r / len(idx), float(np.mean(r))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_minibatch_gradient", "grade": true, "points": 1}
# Four examples, a batch of rows 3 and 1: residuals r = [-7, -3], mean -5.
_X = np.array([[0.0], [1.0], [2.0], [3.0]])
_y = np.array([1.0, 3.0, 5.0, 7.0])
_dw, _db = answer(minibatch_gradient, np.zeros(1), 0.0, _X, _y, [3, 1])
check_close(_dw, [-12.0], "dw on the batch idx=[3, 1] of the worked example's line",
            mistakes={"the average is over the sampled examples: divide by len(idx), not N":
                          [-6.0],
                      "you ignored idx: the gradient must use the sampled rows only": [-8.5],
                      "summed instead of averaged over the batch": [-24.0]})
check_close(_db, -5.0, "db on the batch idx=[3, 1] of the worked example's line",
            mistakes={"the average is over the sampled examples: divide by len(idx), not N":
                          -2.5,
                      "you ignored idx: the gradient must use the sampled rows only": -4.0,
                      "summed instead of averaged over the batch": -10.0})

# %% nbgrader={"grade_id": "test_minibatch_gradient_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(502)
for _n, _d, _bs in ((10, 2, 1), (30, 3, 7), (64, 5, 64), (20, 1, 19)):
    _X = _rng.normal(size=(_n, _d))
    _y = _rng.normal(size=_n)
    _w = _rng.normal(size=_d)
    _b = float(_rng.normal())
    _idx = _rng.choice(_n, size=_bs, replace=False)
    _r = _X[_idx] @ _w + _b - _y[_idx]
    _rall = _X @ _w + _b - _y
    _got_dw, _got_db = answer(minibatch_gradient, _w, _b, _X, _y, _idx)
    _label = f"gradient on a batch of {_bs} of {_n} random examples"
    check_close(_got_dw, _X[_idx].T @ _r / _bs, "dw " + _label,
                mistakes={"the average is over the sampled examples: divide by len(idx), "
                          "not N": _X[_idx].T @ _r / _n,
                          "you ignored idx: the gradient must use the sampled rows only":
                              _X.T @ _rall / _n,
                          "summed instead of averaged over the batch": _X[_idx].T @ _r})
    check_close(_got_db, np.mean(_r), "db " + _label,
                mistakes={"the average is over the sampled examples: divide by len(idx), "
                          "not N": np.sum(_r) / _n,
                          "you ignored idx: the gradient must use the sampled rows only":
                              np.mean(_rall)})
### END HIDDEN TESTS

# %% [markdown]
# The demo trains the same linear regression (2 000 examples, 5 features) with the three
# flavours for the same number of epochs. Per epoch, SGD and mini-batch take many more
# (cheaper) steps, so they get close to the minimum sooner, but their loss keeps
# jittering, because each step follows a noisy estimate of the gradient.

# %% tags=["demo"]
from tqdm.auto import tqdm

rng = np.random.default_rng(1)
X_reg = rng.normal(size=(2000, 5))
y_reg = X_reg @ np.array([1.0, -2.0, 0.5, 3.0, -1.0]) + 0.7 + rng.normal(scale=0.3, size=2000)
theta_star = lin.normal_equation(X_reg, y_reg)
loss_star = lsq_loss([theta_star[:5], theta_star[5]], X_reg, y_reg)

curves = {}
for name, bs, lr in tqdm([("batch GD", None, 0.1), ("mini-batch GD (B=32)", 32, 0.05),
                          ("SGD (B=1)", 1, 0.005)], desc="flavours"):
    w, b = np.zeros(5), np.array(0.0)
    hist = ref.gradient_descent(lsq_grad, [w, b], X_reg, y_reg, lr=lr, epochs=20,
                                batch_size=bs, rng=0, loss_fn=lsq_loss)
    curves[name] = (np.arange(21), np.array(hist) - loss_star + 1e-12)

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for name, (ep, loss) in curves.items():
    ax.semilogy(ep, loss, label=name)
ax.set(xlabel="epochs (passes over the data)", ylabel="L(θ) − L(θ*)",
       title="Same data, same epochs, three flavours")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. Momentum, AdaGrad, RMSProp, Adam
#
# Plain gradient descent struggles in a long narrow valley (an **ill-conditioned**
# (病态) problem): the gradient points mostly across the valley, so the iterate zig-zags
# between the walls while crawling along the floor. Two ideas fix this:
#
# * **momentum** averages the gradients over time: the zig-zag components cancel and
#   the consistent direction along the floor accumulates;
# * **adaptive** methods (自适应学习率) give each coordinate its own step size, dividing
#   by the typical size of its gradient.
#
# All optimizers here follow `dlnotes.optim` and `torch.optim`: they keep a list of
# parameter arrays and change them **in place** when you call `step(grads)`, one
# gradient per parameter, same shapes, same order:
#
# ```python
# W, b = rng.normal(size=(3, 2)), np.zeros(2)
# opt = Adam([W, b], lr=1e-3)
# for _ in range(100):
#     dW, db = grads_of_loss(W, b)
#     opt.step([dW, db])          # W and b change in place
# ```
#
# In place means `p -= ...` or `p[...] = ...`: writing `p = p - ...` only rebinds the
# local name `p` and the caller's array never changes. The running buffers of
# parameter `i` live in the dict `self.state[i]`, under torch's names, and `self.t`
# counts the steps taken.
#
# In the formulas, $g_t$ is the gradient of the $t$-th step ($t = 1, 2, \dots$), all
# operations are elementwise, and $\eta$ is `lr`.

# %% [markdown]
# ### 4.1 Momentum
#
# With weight decay $\lambda$ (an L2 penalty $\tfrac\lambda2\|\theta\|^2$ added to the
# loss) and momentum $\mu$, torch's `SGD` does
#
# $$g_t \leftarrow g_t + \lambda\theta, \qquad
#   b_t = \begin{cases} g_t & t = 1\\ \mu\, b_{t-1} + g_t & t > 1\end{cases}, \qquad
#   \theta \leftarrow \theta - \eta\, b_t .$$
#
# The buffer $b_t$ (the "velocity", 速度) is a sum of past gradients with weights
# $1, \mu, \mu^2, \dots$: along a consistent direction it grows to about
# $g/(1-\mu)$, ten times the gradient for $\mu = 0.9$. With $\mu = 0$ this is plain SGD.
# The classical form $v_t = \mu v_{t-1} + \eta g_t$, $\theta \leftarrow \theta - v_t$
# gives the same iterates while $\eta$ is constant.
#
# > **Pitfall.** A common note writes $v_t = \gamma v_{t-1} + \eta\, g$ and then
# > $\theta_t = \theta_{t-1} + v_t$. With $v$ built from $+\eta g$ the update must
# > **subtract** it, $\theta_t = \theta_{t-1} - v_t$; the note's version climbs the loss.

# %% [markdown]
# ### Exercise 4.1 — `SGD`
# Complete `step`. Defaults and names are those of `dlnotes.optim.SGD` and
# `torch.optim.SGD` (we leave out `dampening` and `nesterov`). Keep the momentum buffer
# in `self.state[i]["momentum_buffer"]`; the first buffer is the gradient itself.

# %% nbgrader={"grade_id": "SGD", "solution": true}
class SGD:
    """SGD with momentum and weight decay, updating `params` in place (torch.optim.SGD)."""

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]
        self.t = 0

    def step(self, grads):
        """Update every parameter in place from its gradient (a list, same order)."""
        ### BEGIN SOLUTION
        self.t += 1
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            g = np.asarray(g, dtype=float)
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            if self.momentum != 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = np.array(g, dtype=float)
                else:
                    state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + g
                g = state["momentum_buffer"]
            p -= self.lr * g
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_SGD", "grade": true, "points": 1}
# Two steps with momentum 0.9, gradients [1, 1] then [2, 2]:
# buffers 1 then 0.9*1 + 2 = 2.9, so w = [1, -2] -> [0.9, -2.1] -> [0.61, -2.39].
_w = inplace(np.array([1.0, -2.0]))
_opt = answer(SGD, [_w], lr=0.1, momentum=0.9)
answer(_opt.step, [np.array([1.0, 1.0])], name="SGD.step")
check_close(_w, [0.9, -2.1], "w after one SGD step (it must change in place)",
            mistakes={"w did not change: update the array in place (p -= ...), "
                      "not p = p - ...": [1.0, -2.0],
                      "wrong sign: θ + η·b climbs the loss, use θ - η·b": [1.1, -1.9]})
answer(_opt.step, [np.array([2.0, 2.0])], name="SGD.step")
check_close(_w, [0.61, -2.39], "w after two SGD steps with momentum 0.9",
            mistakes={"momentum is ignored: the buffer is b = μ·b + g": [0.7, -2.3],
                      "dampened buffer b = μ·b + (1-μ)·g: torch adds the full gradient":
                          [0.79, -2.21]})


# %% nbgrader={"grade_id": "test_SGD_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
import torch


def _grad_fn(params, k, _noise):
    # gradient of an ill-conditioned quadratic around a target, plus a fixed noise
    return [np.linspace(0.5, 8.0, p.size).reshape(p.shape) * (p - 1.0) + _noise[k][i]
            for i, p in enumerate(params)]


def _torch_run(_cls, _p0, _steps, _noise, **_kw):
    _tp = [torch.tensor(p, requires_grad=True) for p in _p0]
    _o = _cls(_tp, foreach=False, **_kw)
    for _k in range(_steps):
        _gs = _grad_fn([t.detach().numpy() for t in _tp], _k, _noise)
        for _t, _g in zip(_tp, _gs, strict=True):
            _t.grad = torch.tensor(_g)
        _o.step()
    return [t.detach().numpy().copy() for t in _tp]


def _sim(_rule, _p0, _steps, _noise):
    _ps = [p.copy() for p in _p0]
    _st = [{} for _ in _ps]
    for _k in range(_steps):
        for _p, _g, _s in zip(_ps, _grad_fn(_ps, _k, _noise), _st, strict=True):
            _rule(_p, _g, _s, _k + 1)
    return _ps


def _sgd_rule(lr, mu, wd, sign=-1.0, damp=0.0):
    def rule(p, g, s, t):
        g = g + wd * p
        if mu:
            s["b"] = g.copy() if "b" not in s else mu * s["b"] + (1 - damp) * g
            g = s["b"]
        p += sign * lr * g
    return rule


_rng = np.random.default_rng(503)
_steps = 60
for _kw in ({"lr": 0.05}, {"lr": 0.02, "momentum": 0.9},
            {"lr": 0.01, "momentum": 0.8, "weight_decay": 0.1}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(SGD, _ps, **_kw)
    answer(_opt.step, _grad_fn(_ps, 0, _noise), name="SGD.step")
    for _k in range(1, _steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="SGD.step")
    _want = _torch_run(torch.optim.SGD, _p0, _steps, _noise, **_kw)
    _lr, _mu, _wd = _kw["lr"], _kw.get("momentum", 0.0), _kw.get("weight_decay", 0.0)
    _wrong = {
        "the parameters did not change: update the arrays in place (p -= ...), "
        "not p = p - ...": _p0,
        "wrong sign: θ + η·b climbs the loss, use θ - η·b":
            _sim(_sgd_rule(_lr, _mu, _wd, sign=1.0), _p0, _steps, _noise),
        "momentum is ignored: the buffer is b = μ·b + g":
            _sim(_sgd_rule(_lr, 0.0, _wd), _p0, _steps, _noise),
        "dampened buffer b = μ·b + (1-μ)·g: torch adds the full "
        "gradient": _sim(_sgd_rule(_lr, _mu, _wd, damp=_mu), _p0, _steps, _noise),
        "weight_decay is ignored: add λ·θ to the gradient":
            _sim(_sgd_rule(_lr, _mu, 0.0), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} SGD steps with {_kw}, "
                    "compared with torch.optim.SGD", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# ### 4.2 AdaGrad
#
# AdaGrad gives every coordinate its own step size by dividing by the **root of the
# sum of its squared gradients so far**:
#
# $$G_t = G_{t-1} + g_t \odot g_t \quad (G_0 = 0), \qquad
#   \theta \leftarrow \theta - \eta\,\frac{g_t}{\sqrt{G_t} + \epsilon}.$$
#
# A coordinate with large gradients gets small steps, a rarely-updated one keeps large
# steps (useful for sparse features). But $G_t$ only grows, so every step size decays
# towards 0 and training can stall long before the minimum. On the first step
# $\sqrt{G_1} = |g_1|$: each coordinate moves by about $\eta$ whatever its gradient.
#
# > **Pitfall.** A common note says AdaGrad "divides the learning rate by the variance of
# > the gradient history" (除以了一个梯度历史以来的方差). It divides by the **square root**
# > of the **accumulated sum of squared gradients**: no mean is subtracted, nothing is
# > averaged, and the sum never forgets. (The same note files AdaGrad and RMSProp under
# > a heading "Warm Up"; warm-up is something else, a *schedule* that raises the
# > learning rate at the start of training, see section 6.)

# %% [markdown]
# ### Exercise 4.2 — `Adagrad`
# Complete `step` (names and defaults as `torch.optim.Adagrad`; we leave out
# `lr_decay`, `weight_decay` and `initial_accumulator_value`). Keep $G$ in
# `self.state[i]["sum"]`, and add $\epsilon$ **outside** the square root, as torch does.

# %% nbgrader={"grade_id": "Adagrad", "solution": true}
class Adagrad:
    """AdaGrad, updating `params` in place (torch.optim.Adagrad)."""

    def __init__(self, params, lr=0.01, eps=1e-10):
        self.params = list(params)
        self.lr = lr
        self.eps = eps
        self.state = [{} for _ in self.params]
        self.t = 0

    def step(self, grads):
        """Update every parameter in place from its gradient (a list, same order)."""
        ### BEGIN SOLUTION
        self.t += 1
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            g = np.asarray(g, dtype=float)
            G = state.setdefault("sum", np.zeros(p.shape))
            G += g * g
            p -= self.lr * g / (np.sqrt(G) + self.eps)
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_Adagrad", "grade": true, "points": 1}
# Gradients [3, -0.5] then [4, -0.5] with eps = 0: G = [9, 0.25] then [25, 0.5].
_w = inplace(np.array([1.0, 1.0]))
_opt = answer(Adagrad, [_w], lr=0.1, eps=0.0)
answer(_opt.step, [np.array([3.0, -0.5])], name="Adagrad.step")
check_close(_w, [0.9, 1.1], "w after one AdaGrad step (each coordinate moves by lr)",
            mistakes={"w did not change: update the array in place (p -= ...), "
                      "not p = p - ...": [1.0, 1.0]})
answer(_opt.step, [np.array([4.0, -0.5])], name="Adagrad.step")
check_close(_w, [0.9 - 0.1 * 4 / 5, 1.1 + 0.1 * 0.5 / np.sqrt(0.5)],
            "w after a second AdaGrad step",
            mistakes={"no accumulation: G must be the running sum of g² over all steps, "
                      "not the last g²": [0.8, 1.2],
                      "divided by G instead of its square root":
                          [0.9 - 0.1 * 4 / 25, 1.1 + 0.1 * 0.5 / 0.5]})

# %% nbgrader={"grade_id": "test_Adagrad_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import torch


def _grad_fn(params, k, _noise):
    return [np.linspace(0.5, 8.0, p.size).reshape(p.shape) * (p - 1.0) + _noise[k][i]
            for i, p in enumerate(params)]


def _torch_run(_cls, _p0, _steps, _noise, **_kw):
    _tp = [torch.tensor(p, requires_grad=True) for p in _p0]
    _o = _cls(_tp, foreach=False, **_kw)
    for _k in range(_steps):
        _gs = _grad_fn([t.detach().numpy() for t in _tp], _k, _noise)
        for _t, _g in zip(_tp, _gs, strict=True):
            _t.grad = torch.tensor(_g)
        _o.step()
    return [t.detach().numpy().copy() for t in _tp]


def _sim(_rule, _p0, _steps, _noise):
    _ps = [p.copy() for p in _p0]
    _st = [{} for _ in _ps]
    for _k in range(_steps):
        for _p, _g, _s in zip(_ps, _grad_fn(_ps, _k, _noise), _st, strict=True):
            _rule(_p, _g, _s, _k + 1)
    return _ps


def _adagrad_rule(lr, eps, accumulate=True, inside=False, root=True):
    def rule(p, g, s, t):
        s["G"] = s.get("G", 0.0) * accumulate + g * g
        if inside:
            p -= lr * g / np.sqrt(s["G"] + eps)
        else:
            p -= lr * g / ((np.sqrt(s["G"]) if root else s["G"]) + eps)
    return rule


_rng = np.random.default_rng(504)
_steps = 60
for _kw in ({"lr": 0.1}, {"lr": 0.5, "eps": 0.1}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(Adagrad, _ps, **_kw)
    answer(_opt.step, _grad_fn(_ps, 0, _noise), name="Adagrad.step")
    for _k in range(1, _steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="Adagrad.step")
    _want = _torch_run(torch.optim.Adagrad, _p0, _steps, _noise, **_kw)
    _lr, _eps = _kw["lr"], _kw.get("eps", 1e-10)
    _wrong = {
        "the parameters did not change: update the arrays in place (p -= ...), "
        "not p = p - ...": _p0,
        "no accumulation: G must be the running sum of g² over all steps, not the last g²":
            _sim(_adagrad_rule(_lr, _eps, accumulate=False), _p0, _steps, _noise),
        "ε inside the square root: torch divides by sqrt(G) + ε":
            _sim(_adagrad_rule(_lr, _eps, inside=True), _p0, _steps, _noise),
        "divided by G instead of its "
        "square root": _sim(_adagrad_rule(_lr, _eps, root=False), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} AdaGrad steps with "
                    f"{_kw}, compared with torch.optim.Adagrad", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# ### 4.3 RMSProp
#
# RMSProp replaces AdaGrad's sum by an **exponential moving average** (指数移动平均) of
# the squared gradients, so old gradients are forgotten and the step size no longer
# decays to 0:
#
# $$v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t \odot g_t \quad (v_0 = 0), \qquad
#   \theta \leftarrow \theta - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon}.$$
#
# A gradient from $k$ steps ago has weight $\alpha^k$; with $\alpha = 0.99$ the memory
# is about $1/(1-\alpha) = 100$ steps. RMSProp has no bias correction: the early $v_t$
# are too small by a factor $1 - \alpha^t$, so the first steps are large (the first one
# moves each coordinate by $\eta/\sqrt{1-\alpha} = 10\,\eta$).
#
# > **Pitfall.** A common note writes the update with $\epsilon$ **inside** the root,
# > $\frac{\eta}{\sqrt{v + \epsilon}}$. torch adds it **outside**,
# > $\frac{\eta}{\sqrt{v} + \epsilon}$, as it does for AdaGrad and Adam. The two differ
# > most where it matters, for tiny $v$: with $\epsilon = 10^{-8}$, inside caps the step scale at
# > $1/\sqrt{\epsilon} = 10^4$, outside at $10^8$.

# %% [markdown]
# ### Exercise 4.3 — `RMSprop`
# Complete `step` (names and defaults as `torch.optim.RMSprop`; we leave out
# `weight_decay`, `momentum` and `centered`). Keep $v$ in
# `self.state[i]["square_avg"]`.

# %% nbgrader={"grade_id": "RMSprop", "solution": true}
class RMSprop:
    """RMSProp, updating `params` in place (torch.optim.RMSprop)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        self.params = list(params)
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.state = [{} for _ in self.params]
        self.t = 0

    def step(self, grads):
        """Update every parameter in place from its gradient (a list, same order)."""
        ### BEGIN SOLUTION
        self.t += 1
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            g = np.asarray(g, dtype=float)
            v = state.setdefault("square_avg", np.zeros(p.shape))
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            p -= self.lr * g / (np.sqrt(v) + self.eps)
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_RMSprop", "grade": true, "points": 1}
# alpha = 0.5, eps = 0.5 (large on purpose, to see where it goes), gradients [3] then [3]:
# v = 0.5 * 9 = 4.5 -> step 0.1 * 3 / (sqrt(4.5) + 0.5); then v = 0.5*4.5 + 0.5*9 = 6.75.
_w = inplace(np.array([0.0]))
_opt = answer(RMSprop, [_w], lr=0.1, alpha=0.5, eps=0.5)
answer(_opt.step, [np.array([3.0])], name="RMSprop.step")
_w1 = -0.3 / (np.sqrt(4.5) + 0.5)
check_close(_w, [_w1], "w after one RMSprop step",
            mistakes={"w did not change: update the array in place (p -= ...), "
                      "not p = p - ...": [0.0],
                      "ε inside the square root: torch divides by sqrt(v) + ε":
                          [-0.3 / np.sqrt(5.0)],
                      "divided by v instead of its square root": [-0.3 / 5.0],
                      "no decay: RMSprop forgets old gradients, v = α·v + (1-α)·g², "
                      "not a running sum": [-0.3 / 3.5]})
answer(_opt.step, [np.array([3.0])], name="RMSprop.step")
check_close(_w, [_w1 - 0.3 / (np.sqrt(6.75) + 0.5)], "w after two RMSprop steps")


# %% nbgrader={"grade_id": "test_RMSprop_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import torch


def _grad_fn(params, k, _noise):
    return [np.linspace(0.5, 8.0, p.size).reshape(p.shape) * (p - 1.0) + _noise[k][i]
            for i, p in enumerate(params)]


def _torch_run(_cls, _p0, _steps, _noise, **_kw):
    _tp = [torch.tensor(p, requires_grad=True) for p in _p0]
    _o = _cls(_tp, foreach=False, **_kw)
    for _k in range(_steps):
        _gs = _grad_fn([t.detach().numpy() for t in _tp], _k, _noise)
        for _t, _g in zip(_tp, _gs, strict=True):
            _t.grad = torch.tensor(_g)
        _o.step()
    return [t.detach().numpy().copy() for t in _tp]


def _sim(_rule, _p0, _steps, _noise):
    _ps = [p.copy() for p in _p0]
    _st = [{} for _ in _ps]
    for _k in range(_steps):
        for _p, _g, _s in zip(_ps, _grad_fn(_ps, _k, _noise), _st, strict=True):
            _rule(_p, _g, _s, _k + 1)
    return _ps


def _rms_rule(lr, alpha, eps, inside=False, a_new=None, bias=False):
    a_new = 1 - alpha if a_new is None else a_new

    def rule(p, g, s, t):
        s["v"] = alpha * s.get("v", 0.0) + a_new * g * g
        v = s["v"] / (1 - alpha ** t) if bias else s["v"]
        p -= lr * g / (np.sqrt(v + eps) if inside else np.sqrt(v) + eps)
    return rule


_rng = np.random.default_rng(505)
_steps = 60
for _kw in ({"lr": 0.01}, {"lr": 0.05, "alpha": 0.9, "eps": 1e-2}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(RMSprop, _ps, **_kw)
    answer(_opt.step, _grad_fn(_ps, 0, _noise), name="RMSprop.step")
    for _k in range(1, _steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="RMSprop.step")
    _want = _torch_run(torch.optim.RMSprop, _p0, _steps, _noise, **_kw)
    _lr, _al, _eps = _kw["lr"], _kw.get("alpha", 0.99), _kw.get("eps", 1e-8)
    _wrong = {
        "the parameters did not change: update the arrays in place (p -= ...), "
        "not p = p - ...": _p0,
        "ε inside the square root: "
        "torch divides by sqrt(v) + ε":
            _sim(_rms_rule(_lr, _al, _eps, inside=True), _p0, _steps, _noise),
        "no decay: RMSprop forgets old gradients, v = α·v + (1-α)·g², not a running sum":
            _sim(_rms_rule(_lr, 1.0, _eps, a_new=1.0), _p0, _steps, _noise),
        "α and 1-α swapped: v = α·v + (1-α)·g² with α = 0.99 keeps most of the past":
            _sim(_rms_rule(_lr, 1 - _al, _eps, a_new=_al), _p0, _steps, _noise),
        "RMSprop has no bias correction (that is Adam)":
            _sim(_rms_rule(_lr, _al, _eps, bias=True), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} RMSprop steps with "
                    f"{_kw}, compared with torch.optim.RMSprop", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# ### 4.4 Adam
#
# Adam combines both ideas: a moving average of the gradients (momentum, the **first
# moment** 一阶矩) and a moving average of their squares (RMSProp, the **second moment**
# 二阶矩), both **bias-corrected**:
#
# $$\begin{aligned}
# m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, & \hat m_t &= \frac{m_t}{1-\beta_1^t},\\
# v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t, & \hat v_t &= \frac{v_t}{1-\beta_2^t},\\
# \theta &\leftarrow \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},
# \end{aligned}$$
#
# with $m_0 = v_0 = 0$ and defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$.
# `weight_decay` $\lambda$ adds $\lambda\theta$ to $g_t$ first (an L2 penalty, as in SGD).
#
# **Why the bias correction.** Starting from $m_0 = 0$, after one step
# $m_1 = (1-\beta_1) g_1 = 0.1\, g_1$: the average is biased towards 0, by the factor
# $1-\beta_1^t$ in general (for a constant gradient $m_t = (1-\beta_1^t)\,g$ exactly).
# Dividing by $1-\beta_1^t$ removes the bias; it fades away as $\beta_1^t \to 0$.
# Without it the first steps are wrong by $\frac{1-\beta_1}{\sqrt{1-\beta_2}} \approx
# 3.2$, and much worse with $\beta_2 = 0.9999$. Here $\beta^t$ is $\beta$ **to the power**
# $t$: the betas themselves stay fixed.
#
# > **Pitfall.** A common note calls Adam's $s$ "momentum" and $r$ "learning rate"
# > (r 学习率). $r$ (our $v$) is not a learning rate: it is the moving average of the
# > **squared gradients**, the second moment, used to scale each coordinate's step.
# > The learning rate is $\eta$. The same note suggests that the $\rho^t$ shrinking over
# > time makes the $\rho$'s "adjust themselves"; they do not change, $\rho^t$ only
# > appears in the bias correction.

# %% [markdown]
# ### Exercise 4.4 — `Adam`
# Complete `step` (names and defaults as `torch.optim.Adam`; we leave out `amsgrad`).
# Keep $m$ and $v$ in `self.state[i]["exp_avg"]` and `self.state[i]["exp_avg_sq"]`.

# %% nbgrader={"grade_id": "Adam", "solution": true}
class Adam:
    """Adam with bias correction, updating `params` in place (torch.optim.Adam)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]
        self.t = 0

    def step(self, grads):
        """Update every parameter in place from its gradient (a list, same order)."""
        ### BEGIN SOLUTION
        beta1, beta2 = self.betas
        self.t += 1
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            g = np.asarray(g, dtype=float)
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            m = state.setdefault("exp_avg", np.zeros(p.shape))
            v = state.setdefault("exp_avg_sq", np.zeros(p.shape))
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            m_hat = m / (1 - beta1 ** self.t)
            v_hat = v / (1 - beta2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_Adam", "grade": true, "points": 1}
# First step with eps = 0: m_hat = g and v_hat = g², so every coordinate moves by lr,
# whatever the scale of its gradient.
_w = inplace(np.array([1.0, 1.0, 1.0]))
_opt = answer(Adam, [_w], lr=0.1, eps=0.0)
answer(_opt.step, [np.array([1e-3, -5.0, 2e4])], name="Adam.step")
_nobc = 0.1 * 0.1 / np.sqrt(0.001)
check_close(_w, [0.9, 1.1, 0.9], "w after one Adam step (each coordinate moves by lr)",
            mistakes={"w did not change: update the array in place (p -= ...), "
                      "not p = p - ...": [1.0, 1.0, 1.0],
                      "missing bias correction: divide m by 1-β1^t and v by 1-β2^t":
                          [1 - _nobc, 1 + _nobc, 1 - _nobc]})
# A second step with the gradient 0: m = 0.9 m, v = 0.999 v.
answer(_opt.step, [np.zeros(3)], name="Adam.step")
_s2 = 0.1 * (0.09 / 0.19) / np.sqrt(0.000999 / (1 - 0.999 ** 2))
check_close(_w, [0.9 - _s2, 1.1 + _s2, 0.9 - _s2], "w after a second Adam step (gradient 0)",
            atol=1e-8,
            mistakes={"bias correction with β instead of β^t (β to the power t)":
                      [0.9 - 0.1 * 0.9 / np.sqrt(0.999), 1.1 + 0.1 * 0.9 / np.sqrt(0.999),
                       0.9 - 0.1 * 0.9 / np.sqrt(0.999)]})

# %% nbgrader={"grade_id": "test_Adam_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
import torch


def _grad_fn(params, k, _noise):
    return [np.linspace(0.5, 8.0, p.size).reshape(p.shape) * (p - 1.0) + _noise[k][i]
            for i, p in enumerate(params)]


def _torch_run(_cls, _p0, _steps, _noise, **_kw):
    _tp = [torch.tensor(p, requires_grad=True) for p in _p0]
    _o = _cls(_tp, foreach=False, **_kw)
    for _k in range(_steps):
        _gs = _grad_fn([t.detach().numpy() for t in _tp], _k, _noise)
        for _t, _g in zip(_tp, _gs, strict=True):
            _t.grad = torch.tensor(_g)
        _o.step()
    return [t.detach().numpy().copy() for t in _tp]


def _sim(_rule, _p0, _steps, _noise):
    _ps = [p.copy() for p in _p0]
    _st = [{} for _ in _ps]
    for _k in range(_steps):
        for _p, _g, _s in zip(_ps, _grad_fn(_ps, _k, _noise), _st, strict=True):
            _rule(_p, _g, _s, _k + 1)
    return _ps


def _adam_rule(lr, b1, b2, eps, wd, bc=True, pow_t=True, inside=False, decoupled=False,
               swap=False):
    def rule(p, g, s, t):
        if wd and decoupled:
            p *= 1 - lr * wd
        elif wd:
            g = g + wd * p
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        e1, e2 = (t, t) if pow_t else (1, 1)
        m_hat = s["m"] / (1 - b1 ** e1) if bc else s["m"]
        v_hat = s["v"] / (1 - b2 ** e2) if bc else s["v"]
        if swap:
            m_hat, v_hat = s["m"] / (1 - b2 ** t), s["v"] / (1 - b1 ** t)
        p -= lr * m_hat / (np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps)
    return rule


_rng = np.random.default_rng(506)
_steps = 60
for _kw in ({"lr": 0.01}, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3},
            {"lr": 0.02, "weight_decay": 0.1}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(Adam, _ps, **_kw)
    answer(_opt.step, _grad_fn(_ps, 0, _noise), name="Adam.step")
    for _k in range(1, _steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="Adam.step")
    _want = _torch_run(torch.optim.Adam, _p0, _steps, _noise, **_kw)
    _lr, (_b1, _b2) = _kw["lr"], _kw.get("betas", (0.9, 0.999))
    _eps, _wd = _kw.get("eps", 1e-8), _kw.get("weight_decay", 0.0)
    _wrong = {
        "the parameters did not change: update the arrays in place (p -= ...), "
        "not p = p - ...": _p0,
        "missing bias correction: "
        "divide m by 1-β1^t and v by 1-β2^t":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, bc=False), _p0, _steps, _noise),
        "bias correction with β instead of β^t (β to the power t)":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, pow_t=False), _p0, _steps, _noise),
        "ε inside the square root: torch divides by sqrt(v_hat) + ε":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, inside=True), _p0, _steps, _noise),
        "decoupled weight decay is AdamW; Adam adds λ·θ to the gradient":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, decoupled=True), _p0, _steps, _noise),
        "weight_decay is ignored: add λ·θ to the gradient":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, 0.0), _p0, _steps, _noise),
        "β1 and β2 swapped in the bias corrections":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, swap=True), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} Adam steps with {_kw}, "
                    "compared with torch.optim.Adam", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# **Bias correction, seen.** For a constant gradient $g = 1$ the raw averages $m_t$ and
# $\sqrt{v_t}$ start near 0 and take about $1/(1-\beta)$ steps to reach 1; the corrected
# $\hat m_t$ and $\sqrt{\hat v_t}$ are exactly 1 from the first step.

# %% tags=["demo"]
t = np.arange(1, 301)
b1, b2 = 0.9, 0.999
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(t, 1 - b1 ** t, label="m_t (β1 = 0.9)")
ax.plot(t, np.sqrt(1 - b2 ** t), label="√v_t (β2 = 0.999)")
ax.plot(t, np.ones_like(t, dtype=float), "k--", label="m̂_t and √v̂_t")
ax.set(xlabel="step t", ylabel="value for a constant gradient g = 1",
       title="Moving averages started at 0 are biased towards 0")
ax.legend()
plt.show()

# %% [markdown]
# ### 4.5 AdamW vs L2
#
# With SGD, adding $\tfrac\lambda2\|\theta\|^2$ to the loss and shrinking the weights,
# $\theta \leftarrow (1-\eta\lambda)\theta$, are the **same** update ("weight decay",
# 权重衰减). With Adam they are not: the L2 term $\lambda\theta$ enters $g_t$ and is then
# divided by $\sqrt{\hat v_t}$, so coordinates with large gradients are barely decayed.
# **AdamW** (Loshchilov & Hutter) decouples the two: it shrinks the parameter directly,
#
# $$\theta \leftarrow (1-\eta\lambda)\,\theta, \qquad
#   \theta \leftarrow \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}$$
#
# with $\hat m_t, \hat v_t$ computed from the raw gradient. `torch.optim.AdamW`
# defaults to $\lambda = 0.01$ (Adam's default is 0). The demo feeds pure noise as the
# gradient, with a scale of 10 on 200 coordinates and 0.01 on 200 others: AdamW decays
# both groups at the same rate $(1-\eta\lambda)^t$; Adam + L2 divides the decay term of
# the noisy group by $\sqrt{\hat v} \approx 10$, so those weights are barely decayed.

# %% tags=["demo"]
scales = np.array([[10.0], [0.01]])      # row 0: noisy coordinates, row 1: quiet ones
rms = {}
for name, cls in (("Adam + L2", ref.Adam), ("AdamW", ref.AdamW)):
    noise_rng = np.random.default_rng(3)
    theta = np.ones((2, 200))
    opt = cls([theta], lr=0.01, weight_decay=1.0)
    path = [np.sqrt(np.mean(theta ** 2, axis=1))]
    for _ in range(1000):
        opt.step([scales * noise_rng.normal(size=(2, 200))])
        path.append(np.sqrt(np.mean(theta ** 2, axis=1)))
    rms[name] = np.array(path)
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for (name, path), style in zip(rms.items(), ("-", "--"), strict=True):
    ax.plot(path[:, 0], "C0" + style, label=f"{name}: noisy coordinates (gradient scale 10)")
    ax.plot(path[:, 1], "C1" + style, label=f"{name}: quiet coordinates (gradient scale 0.01)")
ax.set(xlabel="step", ylabel="RMS of θ over 200 coordinates",
       title="Weight decay λ = 1 under pure-noise gradients, lr = 0.01")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 5. Trajectories
#
# Two classic test functions in 2-D:
#
# * an **ill-conditioned quadratic** $f(x, y) = \tfrac12(x^2 + 25\,y^2)$: curvature 25
#   times larger across the valley than along it (condition number 25);
# * the **Rosenbrock function** $f(x, y) = (1-x)^2 + 100\,(y - x^2)^2$: a curved banana
#   valley with its minimum at $(1, 1)$.
#
# Each optimizer starts from the same point with a learning rate tuned by hand for it.
# Plain GD zig-zags across the narrow direction (its rate is capped by the steep
# direction: $\eta < 2/25$); momentum overshoots and then rolls along the floor; the
# adaptive methods move each coordinate at about the same speed, which makes their
# first steps diagonal.

# %% tags=["demo"]
def quad(p):
    return 0.5 * (p[0] ** 2 + 25 * p[1] ** 2)


def quad_grad(p):
    return np.array([p[0], 25 * p[1]])


def rosen(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosen_grad(p):
    return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                     200 * (p[1] - p[0] ** 2)])


def trajectory(make_opt, grad, start, steps):
    p = np.array(start, dtype=float)
    opt = make_opt([p])
    path = [p.copy()]
    for _ in range(steps):
        opt.step([grad(p)])
        path.append(p.copy())
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 1e3:
            break
    return np.array(path)


PROBLEMS = {
    "ill-conditioned quadratic": dict(f=quad, grad=quad_grad, start=(-4.5, 1.2), steps=100,
                                      box=(-5, 5, -1.6, 1.6), best=(0, 0)),
    "Rosenbrock": dict(f=rosen, grad=rosen_grad, start=(-1.5, 2.0), steps=1500,
                       box=(-2, 2, -1, 3), best=(1, 1)),
}
OPTS = {
    "ill-conditioned quadratic": {
        "GD": lambda ps: ref.SGD(ps, lr=0.07),
        "momentum 0.9": lambda ps: ref.SGD(ps, lr=0.02, momentum=0.9),
        "AdaGrad": lambda ps: ref.Adagrad(ps, lr=1.0),
        "RMSprop": lambda ps: ref.RMSprop(ps, lr=0.05),
        "Adam": lambda ps: ref.Adam(ps, lr=0.3),
    },
    "Rosenbrock": {
        "GD": lambda ps: ref.SGD(ps, lr=1e-3),
        "momentum 0.9": lambda ps: ref.SGD(ps, lr=2e-4, momentum=0.9),
        "AdaGrad": lambda ps: ref.Adagrad(ps, lr=0.5),
        "RMSprop": lambda ps: ref.RMSprop(ps, lr=3e-3),
        "Adam": lambda ps: ref.Adam(ps, lr=0.05),
    },
}


def draw(problem, opts, axes):
    P = PROBLEMS[problem]
    x0, x1, y0, y1 = P["box"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    fz = P["f"](np.array([gx, gy]))
    ax, ax_loss = axes
    ax.contour(gx, gy, np.log1p(fz), levels=25, cmap="Greys", linewidths=0.6)
    ax.plot(*P["best"], "k*", ms=12)
    for name, make in opts.items():
        path = trajectory(make, P["grad"], P["start"], P["steps"])
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
        ax_loss.semilogy([P["f"](q) + 1e-16 for q in path], label=name)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=problem)
    ax_loss.set(xlabel="step", ylabel="f (log scale)", title=f"loss vs step: {problem}")
    ax.legend(fontsize=7)


fig, axes = plt.subplots(2, 2, figsize=(12, 8))
for col, problem in enumerate(PROBLEMS):
    draw(problem, OPTS[problem], axes[:, col])
plt.tight_layout()
plt.show()

# %% [markdown]
# ### A widget: move the sliders, watch the paths
#
# The sliders set the learning rate (on a log scale) shared by all four optimizers,
# the momentum of SGD, and Adam's $\beta_1, \beta_2$. Things to try: raise the learning
# rate until GD diverges on the quadratic (above $2/25 = 0.08$); set momentum to 0.99
# and watch it spiral; set $\beta_2$ to 0.5 and watch Adam become erratic.

# %% tags=["demo"]
import ipywidgets as widgets


def show_paths(problem="ill-conditioned quadratic", log10_lr=-1.5, momentum=0.9,
               beta1=0.9, beta2=0.999):
    lr = 10.0 ** log10_lr
    opts = {
        f"GD (lr={lr:.2g})": lambda ps: ref.SGD(ps, lr=lr),
        f"momentum {momentum:.2f}": lambda ps: ref.SGD(ps, lr=lr, momentum=momentum),
        "RMSprop": lambda ps: ref.RMSprop(ps, lr=lr),
        f"Adam β=({beta1:.2f}, {beta2:.3f})": lambda ps: ref.Adam(ps, lr=lr,
                                                                  betas=(beta1, beta2)),
    }
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    draw(problem, opts, axes)
    plt.tight_layout()
    plt.show()


widgets.interact(
    show_paths,
    problem=widgets.Dropdown(options=list(PROBLEMS), value="ill-conditioned quadratic"),
    log10_lr=widgets.FloatSlider(value=-1.5, min=-4, max=0, step=0.1, description="log10 lr"),
    momentum=widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                 description="momentum"),
    beta1=widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="β1"),
    beta2=widgets.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0001,
                              readout_format=".4f", description="β2"));

# %% [markdown]
# ## 6. Learning-rate schedules
#
# A fixed learning rate is a compromise: large enough to make progress early, small
# enough not to bounce around the minimum late. A **schedule** changes $\eta$ with the
# step count $t$ (set `opt.lr = schedule(t)` before each step, like
# `torch.optim.lr_scheduler`):
#
# | schedule | $\eta_t$ |
# |---|---|
# | step decay (阶梯衰减) | $\eta_0\,\gamma^{\lfloor t/s\rfloor}$ |
# | exponential (指数衰减) | $\eta_0\,\gamma^{t}$ |
# | cosine (余弦退火) | $\eta_{\min} + \frac{\eta_0-\eta_{\min}}{2}(1+\cos\frac{\pi t}{T})$ |
# | linear warm-up (线性预热) | $\eta_0\,(f_s + (f_e - f_s)\min(t, T_w)/T_w)$ |
# | one-cycle (单周期) | up from $\eta_{\max}/25$ to $\eta_{\max}$, then far below |
#
# Their torch names: `StepLR`, `ExponentialLR`, `CosineAnnealingLR`, `LinearLR`,
# `OneCycleLR` in `torch.optim.lr_scheduler`; `dlnotes.optim` has one function each.
#
# **Warm-up** starts small because at the start the gradients (and Adam's second-moment
# estimates) are unreliable and large steps can wreck a freshly initialised network;
# Transformers are almost always trained with warm-up followed by a decay.
#
# Cosine annealing goes from $\eta_0$ at $t = 0$ to $\eta_{\min}$ at $t = T_{\max}$ along
# half a cosine. Beyond $T_{\max}$ the formula (and torch) keeps going: the rate climbs
# back to $\eta_0$ at $2T_{\max}$; to hold the minimum, stop calling the schedule.

# %% [markdown]
# ### Exercise 6.1 — `cosine_annealing_lr`
# Return $\eta_t$ of cosine annealing as a Python float, for any integer $t \ge 0$ (no
# clamping beyond $T_{\max}$).

# %% nbgrader={"grade_id": "cosine_annealing_lr", "solution": true}
def cosine_annealing_lr(t, base_lr, T_max, eta_min=0.0):
    """eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2."""
    ### BEGIN SOLUTION
    import math

    return float(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_cosine_annealing_lr", "grade": true, "points": 1}
_got = [answer(cosine_annealing_lr, _t, 1.0, 4) for _t in range(5)]
check_close(_got, [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0],
            "cosine_annealing_lr(t, base_lr=1, T_max=4) for t = 0..4",
            mistakes={"the angle is π·t/T_max (you left out π)":
                          [1.0] + [0.5 * (1 + np.cos(_t / 4)) for _t in range(1, 5)],
                      "missing the (1 + cos)/2: the rate must go from base_lr down to eta_min":
                          [np.cos(np.pi * _t / 4) for _t in range(5)]})

# %% nbgrader={"grade_id": "test_cosine_annealing_lr_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import torch

from dlnotes import optim as _ref

for _base, _T, _emin in ((0.1, 10, 0.0), (0.5, 7, 0.01), (1e-3, 1, 1e-5), (2.0, 25, 0.3)):
    _ts = list(range(0, 2 * _T + 1))
    _want = [_ref.cosine_annealing_lr(_t, _base, _T, _emin) for _t in _ts]
    _got = [answer(cosine_annealing_lr, _t, _base, _T, _emin) for _t in _ts]
    _p = torch.nn.Parameter(torch.zeros(1))
    _o = torch.optim.SGD([_p], lr=_base)
    _s = torch.optim.lr_scheduler.CosineAnnealingLR(_o, T_max=_T, eta_min=_emin)
    _torch_lrs = []
    for _t in _ts:
        _torch_lrs.append(_o.param_groups[0]["lr"])
        _o.step()
        _s.step()
    check_close(_want, _torch_lrs, "reference vs torch (sanity check of the test)",
                atol=1e-12, rtol=1e-9)
    check_close(_got, _want, f"cosine_annealing_lr for t = 0..{2 * _T}, base_lr={_base}, "
                f"T_max={_T}, eta_min={_emin}", atol=1e-12, rtol=1e-9,
                mistakes={"eta_min is ignored: the curve must end at eta_min, not 0":
                              [_ref.cosine_annealing_lr(_t, _base, _T) for _t in _ts],
                          "eta_min missing in front: eta_min + (base_lr - eta_min) * ...":
                              [_ref.cosine_annealing_lr(_t, _base - _emin, _T) for _t in _ts],
                          "clamped after T_max: the formula (and torch) keeps going":
                              [_ref.cosine_annealing_lr(min(_t, _T), _base, _T, _emin)
                               for _t in _ts],
                          "the angle is π·t/T_max (you left out π)":
                              [_emin + (_base - _emin) * (1 + np.cos(_t / _T)) / 2
                               for _t in _ts]})
### END HIDDEN TESTS

# %% [markdown]
# Every schedule of the table, over 100 steps with $\eta_0 = 0.1$ (warm-up for 10 steps
# then cosine is the usual Transformer recipe):

# %% tags=["demo"]
T = 100
ts = np.arange(T + 1)
schedules = {
    "step (s=30, γ=0.5)": [ref.step_lr(t, 0.1, 30, 0.5) for t in ts],
    "exponential (γ=0.97)": [ref.exponential_lr(t, 0.1, 0.97) for t in ts],
    "cosine (T_max=100)": [ref.cosine_annealing_lr(t, 0.1, T) for t in ts],
    "warm-up 10 + cosine": [ref.linear_warmup_lr(t, 0.1, 10, start_factor=0.01) if t < 10
                            else ref.cosine_annealing_lr(t - 10, 0.1, T - 10) for t in ts],
    "one-cycle (max 0.1)": [ref.one_cycle_lr(t, 0.1, T) for t in ts],
}
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, lrs in schedules.items():
    ax.plot(ts, lrs, label=name)
ax.set(xlabel="step t", ylabel="learning rate", title="Learning-rate schedules")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 7. When to stop
#
# Gradient descent never lands exactly on the minimum; we stop when more steps are not
# worth it. The usual tests, with a small tolerance $\epsilon$:
#
# | criterion | stop when | caveat |
# |---|---|---|
# | gradient norm (梯度范数) | $\lVert\nabla_\theta L\rVert < \epsilon$ | noisy on batches |
# | loss plateau (损失停滞) | $\lvert L^{(t)} - L^{(t-1)}\rvert < \epsilon$ | slow ≠ minimum |
# | parameter change | $\lVert\theta^{(t)}-\theta^{(t-1)}\rVert < \epsilon$ | a tiny η fires it |
# | max epochs / steps | $t = T$ | always set one |
# | early stopping (早停) | no new best validation loss in `patience` epochs | keep best |
#
# In practice one combines a maximum number of epochs with early stopping. The demo
# fits a degree-9 polynomial to 20 noisy points with Adam: the training loss keeps
# falling while the validation loss turns up (over-fitting, 过拟合); early stopping
# with a patience of 500 steps keeps the weights of the best validation loss.

# %% tags=["demo"]
rng = np.random.default_rng(7)
x_tr, x_va = rng.uniform(-1, 1, 20), rng.uniform(-1, 1, 200)
f_true = lambda x: np.sin(3 * x)  # noqa: E731
y_tr = f_true(x_tr) + rng.normal(scale=0.3, size=20)
y_va = f_true(x_va) + rng.normal(scale=0.3, size=200)
powers = np.arange(1, 10)
F_tr, F_va = x_tr[:, None] ** powers, x_va[:, None] ** powers

w_poly, b_poly = np.zeros(9), np.array(0.0)
opt = ref.Adam([w_poly, b_poly], lr=0.03)
train_hist, val_hist = [], []
best_val, best_step, best_w, waited, patience = np.inf, 0, None, 0, 500
stopped_at = None
for step in tqdm(range(6000), desc="training"):
    opt.step(lsq_grad([w_poly, b_poly], F_tr, y_tr))
    train_hist.append(lsq_loss([w_poly, b_poly], F_tr, y_tr))
    val_hist.append(lsq_loss([w_poly, b_poly], F_va, y_va))
    if val_hist[-1] < best_val:
        best_val, best_step, best_w, waited = val_hist[-1], step, (w_poly.copy(), float(b_poly)), 0
    else:
        waited += 1
        if waited >= patience and stopped_at is None:
            stopped_at = step   # we keep training only to draw the rest of the curves
grad_norm = np.linalg.norm(np.concatenate([np.ravel(g) for g in
                                           lsq_grad([w_poly, b_poly], F_tr, y_tr)]))
print(f"best validation loss {best_val:.4f} at step {best_step}; early stopping would stop "
      f"at step {stopped_at}; gradient norm at the end {grad_norm:.2e}")
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.semilogy(train_hist, label="training loss")
ax.semilogy(val_hist, label="validation loss")
ax.axvline(best_step, color="k", ls=":", label="best validation (weights kept)")
if stopped_at is not None:
    ax.axvline(stopped_at, color="C3", ls="--", label="early stop (patience 500)")
ax.set(xlabel="step", ylabel="loss", title="Early stopping")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 8. Optional: the same comparison on a small torch model, on a GPU if there is one
#
# A two-layer MLP on the two-moons data, trained with torch's SGD, SGD + momentum,
# Adam and AdamW for the same number of steps. The cell is skipped when torch is
# missing and uses the GPU when one is available.

# %% tags=["demo"]
try:
    import torch  # optional: the cell does nothing without it
except ImportError:
    torch = None
if torch is not None:
    from dlnotes.data import make_moons

    device = "cuda" if torch.cuda.is_available() else "cpu"
    Xm, ym = make_moons(n=512, noise=0.2, seed=0)
    Xt = torch.tensor(Xm, dtype=torch.float32, device=device)
    yt = torch.tensor(ym, dtype=torch.float32, device=device)
    makers = {"SGD": lambda ps: torch.optim.SGD(ps, lr=0.1),
              "SGD + momentum 0.9": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
              "Adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
              "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.01)}
    losses = {}
    for name, make in tqdm(makers.items(), desc=f"optimizers on {device}"):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(),
                                    torch.nn.Linear(32, 1)).to(device)
        opt_t = make(model.parameters())
        curve = []
        for _ in range(300):
            opt_t.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(Xt).squeeze(1), yt)
            loss.backward()
            opt_t.step()
            curve.append(loss.item())
        losses[name] = curve
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, curve in losses.items():
        ax.plot(curve, label=name)
    ax.set(xlabel="step", ylabel="training BCE", title=f"Two moons, 2-32-1 MLP on {device}")
    ax.legend()
    plt.show()

# %% [markdown]
# ## Summary
# - Least squares has a closed form: solve $A^\top A\theta = A^\top y$ with a column of
#   ones in $A$ for the bias, by `lstsq` or `solve`, never by an explicit inverse.
# - Gradient descent: $\theta \leftarrow \theta - \eta\nabla L$, with the gradient
#   **averaged over the examples** of the batch. Batch, stochastic and mini-batch GD
#   differ only in which examples a step sees; every step updates all parameters.
# - Momentum accumulates $b = \mu b + g$ and steps $-\eta b$. AdaGrad divides by
#   $\sqrt{\sum g^2}$ (a sum, so the steps shrink for ever); RMSProp by the root of a
#   moving average; $\epsilon$ goes outside the root.
# - Adam = momentum + RMSProp + bias correction $1/(1-\beta^t)$. AdamW decays the
#   weights directly instead of through the gradient.
# - Schedules (warm-up, cosine, one-cycle) change $\eta$ over time; stop on a
#   validation criterion with a maximum number of epochs as a safety net.
