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
# descent** (梯度下降), works out on a quadratic how large a step may be, and then builds
# the optimizers (优化器) that every framework ships: momentum and Nesterov momentum,
# AdaGrad, RMSProp, Adam and AdamW, and the learning-rate schedules (学习率调度) that
# drive them. At the end your optimizers train a small neural network.
#
# **What this chapter covers**
# 1. Least squares (最小二乘法) in closed form, then the same fit by gradient descent.
# 2. Batch, stochastic and mini-batch gradient descent (批量 / 随机 / 小批量梯度下降):
#    a batch samples *examples*, and the gradient is the average over them.
# 3. How large a step may be: on a quadratic, the learning rate must stay below
#    $2/\lambda_{\max}$, and the condition number (条件数) sets the speed.
# 4. Momentum (动量) and Nesterov momentum, AdaGrad, RMSProp, Adam (with bias
#    correction, 偏差修正) and AdamW (decoupled weight decay vs an L2 penalty), written
#    exactly as `torch.optim` writes them; a widget to race momentum against plain
#    gradient descent on an ill-conditioned valley.
# 5. Your optimizers train a small network on two moons.
# 6. Learning-rate schedules: step, exponential, cosine, one-cycle, and warm-up (预热)
#    followed by a cosine decay, with a run that only converges with the warm-up.
# 7. When to stop (early stopping itself is taught in chapter 6).
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
# > feature). Do not form $A^\top A$ at all: `np.linalg.lstsq(A, y)` solves the least-squares
# > problem from $A$ itself (by an SVD; a QR factorisation does the same job), keeps the
# > condition number of $A$ instead of its square, and still answers, with the
# > minimum-norm solution, when a duplicated feature makes the problem rank deficient.

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

# %% nbgrader={"grade_id": "test_gd_step_hidden", "grade": true, "points": 1}
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

# %% nbgrader={"grade_id": "test_minibatch_gradient_hidden", "grade": true, "points": 1}
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
# ## 4. How large can a step be? Gradient descent on a quadratic
#
# Close to a minimum $\theta^*$ every smooth loss looks like a quadratic,
# $L(\theta) \approx L(\theta^*) + \tfrac12 (\theta - \theta^*)^\top H\, (\theta - \theta^*)$,
# with $H$ the Hessian (海森矩阵), the matrix of second derivatives. So what gradient
# descent does on a quadratic is what it does at the end of every training run.
#
# **One dimension.** Take $f(\theta) = \tfrac12 \lambda \theta^2$ with a curvature
# $\lambda > 0$; the minimum is $\theta^* = 0$ and the gradient is $f'(\theta) = \lambda\theta$.
# One step of gradient descent gives
#
# $$\theta_{t+1} = \theta_t - \eta\,\lambda\,\theta_t = (1 - \eta\lambda)\,\theta_t,
#   \qquad\text{so}\qquad \theta_t = (1 - \eta\lambda)^t\,\theta_0 .$$
#
# The error is **multiplied by $1 - \eta\lambda$ at every step**. It shrinks exactly when
# $|1 - \eta\lambda| < 1$, that is when $0 < \eta < 2/\lambda$:
#
# | learning rate | factor $1 - \eta\lambda$ | what happens |
# |---|---|---|
# | $\eta < 1/\lambda$ | in $(0, 1)$ | slides monotonically to the minimum |
# | $\eta = 1/\lambda$ | $0$ | lands on the minimum in one step |
# | $1/\lambda < \eta < 2/\lambda$ | in $(-1, 0)$ | overshoots, oscillates, converges |
# | $\eta > 2/\lambda$ | below $-1$ | oscillates with a growing amplitude: **diverges** |
#
# **Many dimensions.** A symmetric $H$ has orthonormal eigenvectors $q_i$ with
# eigenvalues $\lambda_i$, $H = Q \Lambda Q^\top$. In the rotated coordinates
# $u = Q^\top \theta$ the quadratic is $\tfrac12 \sum_i \lambda_i u_i^2$, and the step
# $\theta \leftarrow \theta - \eta H\theta$ becomes $u \leftarrow u - \eta\Lambda u$: the
# coordinates no longer interact, and gradient descent multiplies each $u_i$ by its own
# factor $1 - \eta\lambda_i$. All of them must shrink, so
#
# $$0 < \eta < \frac{2}{\lambda_{\max}} .$$
#
# The steepest direction caps the learning rate, and with that cap the flattest
# direction crawls: its factor is at least $1 - 2\lambda_{\min}/\lambda_{\max}$, close to
# 1 when the two curvatures are far apart. What matters is their ratio, the **condition
# number** (条件数) of $H$
#
# $$\kappa = \frac{\lambda_{\max}}{\lambda_{\min}} .$$
#
# A problem with a large $\kappa$ is **ill-conditioned** (病态): a long, narrow valley in
# which the gradient points mostly across the valley, so the iterate zig-zags between
# the walls while it crawls along the floor. No single learning rate suits both
# directions; the best one can do is balance the slowest and the fastest factor, and
# the speed that results depends on $\kappa$ alone. (This is also why chapter 0
# standardises the features: it brings the curvatures of a linear model closer together.)

# %% [markdown]
# ### Question 4.1 — the largest stable learning rate
# Gradient descent runs on $f(\theta) = \tfrac12 \theta^\top H \theta$ with
#
# $$H = \begin{pmatrix} 4 & 1 & 0 \\ 1 & 4 & 0 \\ 0 & 0 & 1.5 \end{pmatrix}.$$
#
# Set three numbers (you may compute them with numpy):
# * `eta_max`: the supremum of the learning rates for which gradient descent
#   converges from **every** starting point;
# * `eta_best`: the single learning rate that makes the **slowest** eigen-direction
#   shrink fastest (balance the two extreme factors);
# * `rate_best`: the factor by which the error of that slowest direction is multiplied
#   per step at `eta_best` (a number in $[0, 1)$).
#
# The visible test runs gradient descent just below and just above your `eta_max`; the
# other two numbers are checked when you submit.

# %% nbgrader={"grade_id": "q_stable_lr", "solution": true}
H_q = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 1.5]])
eta_max = None
eta_best = None
rate_best = None
### BEGIN SOLUTION
lam = np.linalg.eigvalsh(H_q)
eta_max = 2 / lam.max()
eta_best = 2 / (lam.min() + lam.max())
rate_best = (lam.max() - lam.min()) / (lam.max() + lam.min())
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_stable_lr", "grade": true, "points": 1}
def _gd_final_norm(H, eta, steps=3000):
    theta = np.ones(len(H))
    for _ in range(steps):
        theta = theta - eta * (H @ theta)
        if not np.all(np.abs(theta) < 1e12):
            return np.inf
    return float(np.linalg.norm(theta))


_H = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 1.5]])
assert eta_max is not None, "set eta_max to a number"
_eta = float(eta_max)
_hint = {0.5: "the stable range comes from the eigenvalues of H, not from its diagonal",
         2 / 1.5: "the limit is set by the largest curvature, not the smallest",
         0.2: "η = 1/λ_max is where the steepest direction lands in one step; the "
              "factor 1 - ηλ may go down to -1 before it diverges"}
_why = next((" Likely mistake: " + h for v, h in _hint.items() if abs(_eta - v) < 1e-6), "")
if not _gd_final_norm(_H, 0.98 * _eta) < 1e-3:
    raise AssertionError("gradient descent with η = 0.98 · eta_max does not converge on H: "
                         "your eta_max is too large." + _why)
if _gd_final_norm(_H, 1.02 * _eta) < 1e3:
    raise AssertionError("gradient descent with η = 1.02 · eta_max still converges on H: "
                         "the largest stable learning rate is larger than your eta_max."
                         + _why)

# %% nbgrader={"grade_id": "test_q_stable_lr_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
_lam = np.linalg.eigvalsh(_H)
_lo, _hi = _lam.min(), _lam.max()
assert eta_best is not None and rate_best is not None, "set eta_best and rate_best to numbers"
check_close(eta_best, 2 / (_lo + _hi), "eta_best for the Hessian H", atol=1e-6,
            mistakes={"η = 1/λ_max only lands the steepest direction in one step; the best "
                      "rate balances |1 - ηλ_min| and |1 - ηλ_max|": 1 / _hi,
                      "that is the largest stable rate, at which the steepest direction "
                      "no longer shrinks": 2 / _hi,
                      "use the eigenvalues of H, not its diagonal entries": 2 / (4.0 + 1.5)})
check_close(rate_best, (_hi - _lo) / (_hi + _lo), "rate_best for the Hessian H", atol=1e-6,
            mistakes={"that is the factor at η = 1/λ_max, not at the balanced η":
                          1 - _lo / _hi,
                      "that is the factor of the steepest direction at η = 1/λ_max": 0.0,
                      "(√κ - 1)/(√κ + 1) is what momentum can reach, not plain gradient "
                      "descent": (np.sqrt(_hi / _lo) - 1) / (np.sqrt(_hi / _lo) + 1),
                      "use the eigenvalues of H, not its diagonal entries":
                          (4.0 - 1.5) / (4.0 + 1.5)})
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW
#
# Two ideas fight ill-conditioning:
#
# * **momentum** averages the gradients over time: the zig-zag components cancel and
#   the consistent direction along the floor of the valley accumulates;
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
# counts the **steps** taken (one call of `step` is one step, however many parameters
# it updates).
#
# In the formulas, $g_t$ is the gradient of the $t$-th step ($t = 1, 2, \dots$), all
# operations are elementwise, and $\eta$ is `lr`.

# %% [markdown]
# ### 5.1 Momentum and Nesterov momentum
#
# With weight decay $\lambda$ (an L2 penalty $\tfrac\lambda2\|\theta\|^2$ added to the
# loss, so its gradient $\lambda\theta$ is added to $g_t$) and momentum $\mu$, torch's
# `SGD` does
#
# $$g_t \leftarrow g_t + \lambda\theta, \qquad
#   b_t = \begin{cases} g_t & t = 1\\ \mu\, b_{t-1} + g_t & t > 1\end{cases}, \qquad
#   \theta \leftarrow \theta - \eta\, b_t .$$
#
# The penalty is part of the loss, so its gradient enters **before** the buffer, like
# every other part of the gradient. The buffer $b_t$ (the "velocity", 速度) is a sum
# of past gradients with weights $1, \mu, \mu^2, \dots$: along a consistent direction it
# grows to about $g/(1-\mu)$, ten times the gradient for $\mu = 0.9$, while gradients
# that flip sign from step to step cancel. With $\mu = 0$ this is plain SGD. The
# classical form $v_t = \mu v_{t-1} + \eta g_t$, $\theta \leftarrow \theta - v_t$ gives
# the same iterates while $\eta$ is constant.
#
# On the quadratic of section 4, momentum turns the one-step recursion into a
# two-step one, and with $\mu$ and $\eta$ tuned to the two extreme curvatures the error
# of every direction shrinks by about $\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}$ per step
# (Polyak's heavy ball, with $\mu = \bigl(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\bigr)^2$ and
# $\eta = 4/(\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}})^2$): the condition number
# enters through its **square root**. For $\kappa = 100$ that is $9/11 \approx 0.82$ per
# step, where plain gradient descent at its best manages $99/101 \approx 0.98$. The
# widget below the exercise lets you see what that means in steps.
#
# **Nesterov momentum** (Nesterov 动量) computes the gradient not at $\theta$ but at the
# point momentum is about to carry it to, $\theta - \eta\mu b_{t-1}$, and corrects
# earlier when the valley bends. Written with $v_t = \mu v_{t-1} + g(\theta_{t-1} -
# \eta\mu v_{t-1})$ and $\theta_t = \theta_{t-1} - \eta v_t$, it needs a gradient at a point
# other than the parameters. Frameworks therefore store the look-ahead point
# $\phi_t = \theta_t - \eta\mu v_t$ as the parameter instead. Substituting,
#
# $$\phi_t = \phi_{t-1} + \eta\mu v_{t-1} - \eta(1+\mu) v_t
#          = \phi_{t-1} - \eta\,\bigl(g_t + \mu\,(\mu v_{t-1} + g_t)\bigr)
#          = \phi_{t-1} - \eta\,\bigl(g_t + \mu\, b_t\bigr),$$
#
# where $g_t$ is now the gradient at the stored parameter $\phi_{t-1}$ and
# $b_t = \mu b_{t-1} + g_t$ is the same buffer as before. So Nesterov keeps the buffer
# update and steps with $g_t + \mu b_t$ (the **new** buffer) instead of $b_t$. It is
# torch's `nesterov=True`, and it needs a momentum: torch raises `ValueError` for
# `nesterov=True` with `momentum=0`.
#
# > **Pitfall.** A common note writes $v_t = \gamma v_{t-1} + \eta\, g$ and then
# > $\theta_t = \theta_{t-1} + v_t$. With $v$ built from $+\eta g$ the update must
# > **subtract** it, $\theta_t = \theta_{t-1} - v_t$; the note's version climbs the loss.

# %% [markdown]
# ### Exercise 5.1 — `SGD`
# Complete the class. Names and defaults are those of `torch.optim.SGD` without
# `dampening`:
# * `__init__` raises `ValueError` (with a message naming `nesterov`) when `nesterov`
#   is true and `momentum == 0`, as torch does;
# * `step(grads)` updates every parameter in place, with weight decay, momentum and
#   Nesterov momentum as derived above. Keep the buffer of parameter `i` in
#   `self.state[i]["momentum_buffer"]`; the first buffer is the (decayed) gradient
#   itself. `self.t` counts the calls of `step`.

# %% nbgrader={"grade_id": "SGD", "solution": true}
class SGD:
    """SGD with momentum, Nesterov momentum and weight decay, updating `params` in place."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.state = [{} for _ in self.params]
        self.t = 0
        ### BEGIN SOLUTION
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0")
        ### END SOLUTION

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
                b = state["momentum_buffer"]
                g = g + self.momentum * b if self.nesterov else b
            p -= self.lr * g
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_SGD", "grade": true, "points": 2}
# Two parameters of different shapes, momentum 0.5, weight decay 0.1, two steps.
_w = inplace(np.array([1.0, -2.0]))
_c = inplace(np.array([0.5, 0.0, -1.0]))
_opt = answer(SGD, [_w, _c], lr=0.1, momentum=0.5, weight_decay=0.1)
answer(_opt.step, [np.array([1.0, 1.0]), np.array([2.0, -1.0, 0.0])], name="SGD.step")
check_close(_w, [0.89, -2.08], "params[0] after one SGD step (it must change in place)",
            mistakes={"the parameters did not change: update the arrays in place "
                      "(p -= ...), not p = p - ...": [1.0, -2.0],
                      "wrong sign: θ + η·b climbs the loss, use θ - η·b": [1.11, -1.92],
                      "weight_decay is ignored: add λ·θ to the gradient": [0.9, -2.1]})
check_close(_c, [0.295, 0.1, -0.99], "params[1] after one SGD step")
answer(_opt.step, [np.array([2.0, 2.0]), np.array([0.0, 1.0, 1.0])], name="SGD.step")
_m = {"weight decay added after the momentum buffer: λ·θ is part of the gradient, add it "
      "before the buffer": ([0.6311, -2.3092], [0.19205, 0.049, -1.0801]),
      "momentum is ignored: the buffer is b = μ·b + g": ([0.6811, -2.2592],
                                                         [0.29205, -0.001, -1.0801]),
      "weight_decay is ignored: add λ·θ to the gradient": ([0.65, -2.35], [0.2, 0.05, -1.1])}
check_close(_w, [0.6261, -2.2992], "params[0] after two SGD steps",
            mistakes={k: v[0] for k, v in _m.items()})
check_close(_c, [0.18955, 0.049, -1.0751], "params[1] after two SGD steps",
            mistakes={k: v[1] for k, v in _m.items()})
# Nesterov, momentum 0.5, no weight decay.
_w = inplace(np.array([1.0, -2.0]))
_opt = answer(SGD, [_w], lr=0.1, momentum=0.5, nesterov=True)
answer(_opt.step, [np.array([1.0, 1.0])], name="SGD.step")
answer(_opt.step, [np.array([2.0, 2.0])], name="SGD.step")
check_close(_w, [0.525, -2.475], "w after two Nesterov steps",
            mistakes={"nesterov is ignored: Nesterov steps with g + μ·b, not b":
                          [0.65, -2.35]})
try:
    SGD([np.zeros(2)], lr=0.1, nesterov=True)
except ValueError:
    pass
except NotImplementedError:
    raise AssertionError("SGD is not answered yet (it still raises NotImplementedError)"
                         ) from None
except Exception as _e:
    raise AssertionError(f"SGD(..., nesterov=True) without momentum raised "
                         f"{type(_e).__name__}: {_e}; expected ValueError") from None
else:
    raise AssertionError("SGD(params, lr=0.1, nesterov=True) with momentum=0 should raise "
                         "ValueError, as torch does: Nesterov needs a momentum")


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


def _sgd_rule(lr, mu, wd, sign=-1.0, damp=0.0, nesterov=False, decay_after=False):
    def rule(p, g, s, t):
        if not decay_after:
            g = g + wd * p
        if mu:
            s["b"] = g.copy() if "b" not in s else mu * s["b"] + (1 - damp) * g
            d = g + mu * s["b"] if nesterov else s["b"]
            g = d + wd * p if decay_after else d
        elif decay_after:
            g = g + wd * p
        p += sign * lr * g
    return rule


_rng = np.random.default_rng(503)
_steps = 60
for _kw in ({"lr": 0.05}, {"lr": 0.01, "momentum": 0.8, "weight_decay": 0.1},
            {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(SGD, _ps, **_kw)
    for _k in range(_steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="SGD.step")
    _want = _torch_run(torch.optim.SGD, _p0, _steps, _noise, **_kw)
    _lr, _mu, _wd = _kw["lr"], _kw.get("momentum", 0.0), _kw.get("weight_decay", 0.0)
    _nest = _kw.get("nesterov", False)
    _wrong = {
        "the parameters did not change: update the arrays in place (p -= ...), "
        "not p = p - ...": _p0,
        "wrong sign: θ + η·b climbs the loss, use θ - η·b":
            _sim(_sgd_rule(_lr, _mu, _wd, sign=1.0, nesterov=_nest), _p0, _steps, _noise),
        "momentum is ignored: the buffer is b = μ·b + g":
            _sim(_sgd_rule(_lr, 0.0, _wd), _p0, _steps, _noise),
        "dampened buffer b = μ·b + (1-μ)·g: torch adds the full "
        "gradient": _sim(_sgd_rule(_lr, _mu, _wd, damp=_mu, nesterov=_nest), _p0, _steps,
                         _noise),
        "weight_decay is ignored: add λ·θ to the gradient":
            _sim(_sgd_rule(_lr, _mu, 0.0, nesterov=_nest), _p0, _steps, _noise),
        "weight decay added after the momentum buffer: λ·θ is part of the gradient, "
        "add it before the buffer":
            _sim(_sgd_rule(_lr, _mu, _wd, nesterov=_nest, decay_after=True), _p0, _steps,
                 _noise),
        "nesterov is ignored: Nesterov steps with g + μ·b, not b":
            _sim(_sgd_rule(_lr, _mu, _wd), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} SGD steps with {_kw}, "
                    "compared with torch.optim.SGD", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
    check_close(_opt.t, _steps, f"opt.t after {_steps} steps with {_kw}",
                mistakes={"self.t counts calls of step, not parameters: increment it once "
                          "per step, outside the loop over the parameters": 2 * _steps})
for _kw in ({"lr": 0.1, "nesterov": True}, {"lr": 0.1, "momentum": 0.0, "nesterov": True,
                                             "weight_decay": 0.1}):
    _raised = False
    try:
        SGD([np.zeros((2, 2))], **_kw)
    except ValueError as _err:  # noqa: F841
        _raised = True
    assert _raised, (f"SGD(params, **{_kw}) should raise ValueError, as torch does: Nesterov "
                     "needs a momentum")
### END HIDDEN TESTS

# %% [markdown]
# ### A widget: momentum in a narrow valley
#
# The valley is $f(x, y) = \tfrac12\bigl(x^2/\kappa + y^2\bigr)$: the steepest curvature
# is 1, so plain gradient descent is stable for $\eta < 2$ whatever $\kappa$, and the
# flat direction has curvature $1/\kappa$. Your `SGD` runs it three times: plain
# gradient descent at rate $\eta$, heavy-ball momentum $\mu$ and Nesterov momentum $\mu$
# at the same $\eta$. Things to try: at $\kappa = 100$, find the $\eta$ for which plain
# gradient descent is fastest; then set the heavy ball's tuned values for $\kappa = 100$
# ($\mu \approx 0.67$, $\eta \approx 3.3$) and count the steps; see that Nesterov does
# not survive that $\eta$ (its stable range is narrower); set $\mu = 0.99$ and watch the
# spiral.

# %% tags=["demo"]
import ipywidgets as widgets

from dlnotes import mine

own = mine.own(globals(), "05_optimizers", ["SGD"])


def valley_runs(eta, mu, kappa, steps=400):
    """Paths of GD, momentum and Nesterov (your SGD) on 0.5 (x²/κ + y²)."""
    curv = np.array([1.0 / kappa, 1.0])
    makers = {"gradient descent": dict(lr=eta),
              f"momentum {mu:.2f}": dict(lr=eta, momentum=mu),
              f"Nesterov {mu:.2f}": dict(lr=eta, momentum=mu, nesterov=True)}
    runs = {}
    for name, kw in makers.items():
        if mu == 0 and name != "gradient descent":
            continue
        p = np.array([-3.0, 1.0])
        opt = own.SGD([p], **kw)
        path = [p.copy()]
        for _ in range(steps):
            opt.step([curv * p])
            path.append(p.copy())
            if not np.all(np.abs(p) < 1e6):
                break
        runs[name] = np.array(path)
    return runs, curv


def steps_to(path, curv, tol=1e-6):
    f = 0.5 * (path ** 2 @ curv)
    hit = np.nonzero(f <= tol * f[0])[0]
    return int(hit[0]) if len(hit) else None


def show_valley(eta=1.0, mu=0.8, kappa=100.0):
    runs, curv = valley_runs(eta, mu, kappa)
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(12, 4))
    gx, gy = np.meshgrid(np.linspace(-3.5, 3.5, 200), np.linspace(-1.6, 1.6, 200))
    ax.contour(gx, gy, 0.5 * (gx ** 2 / kappa + gy ** 2), levels=20, cmap="Greys",
               linewidths=0.6)
    for name, path in runs.items():
        n = steps_to(path, curv)
        if not np.all(np.abs(path[-1]) < 1e6):
            label = f"{name}: diverges"
        elif n is None:
            label = f"{name}: not there in {len(path) - 1} steps"
        else:
            label = f"{name}: f/f₀ < 1e-6 after {n} steps"
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=label)
        with np.errstate(over="ignore"):
            ax_f.semilogy(0.5 * (path ** 2 @ curv) + 1e-300, label=name)
    ax.plot(0, 0, "k*", ms=10)
    ax.set(xlim=(-3.5, 3.5), ylim=(-1.6, 1.6), xlabel="x (flat, curvature 1/κ)",
           ylabel="y (steep, curvature 1)", title=f"κ = {kappa:.0f}, η = {eta:.2f}")
    ax.legend(fontsize=7, loc="lower right")
    ax_f.set(xlabel="step", ylabel="f (log scale)", ylim=(1e-12, 1e4),
             title="loss along the way")
    ax_f.legend(fontsize=8)
    plt.tight_layout()
    plt.show()


widgets.interact(
    show_valley,
    eta=widgets.FloatSlider(value=1.0, min=0.05, max=4.0, step=0.05, description="η"),
    mu=widgets.FloatSlider(value=0.8, min=0.0, max=0.99, step=0.01, description="μ"),
    kappa=widgets.FloatLogSlider(value=100, base=10, min=0, max=3, step=0.1,
                                 description="κ"));


# %% [markdown]
# ### 5.2 AdaGrad
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
# > learning rate at the start of training, see section 8.)

# %% [markdown]
# ### Exercise 5.2 — `Adagrad`
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
# Gradients [3, -0.5] then [4, -0.5], eps = 0.
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

# %% nbgrader={"grade_id": "test_Adagrad_hidden", "grade": true, "points": 3}
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
# ### 5.3 RMSProp
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
# ### Exercise 5.3 — `RMSprop`
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
# alpha = 0.5, eps = 0.5 (large on purpose, to see where it goes), gradients [3] then [3].
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


# %% nbgrader={"grade_id": "test_RMSprop_hidden", "grade": true, "points": 3}
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
# ### 5.4 Adam
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
# ### Exercise 5.4 — `Adam`
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
# Two parameters of different shapes, lr = 0.1, weight_decay = 0.1, eps = 0.
_w = inplace(np.array([1.0, 1.0, 1.0]))
_c = inplace(np.array([[10.0], [-4.0]]))
_opt = answer(Adam, [_w, _c], lr=0.1, eps=0.0, weight_decay=0.1)
answer(_opt.step, [np.array([1e-3, -5.0, 2e4]), np.array([[-0.5], [0.2]])], name="Adam.step")
check_close(_opt.t, 1, "opt.t after one call of step",
            mistakes={"self.t counts calls of step, not parameters: increment it once per "
                      "step, outside the loop over the parameters": 2})
_m1 = {"the parameters did not change: update the arrays in place (p -= ...), "
       "not p = p - ...": ([1.0, 1.0, 1.0], [[10.0], [-4.0]]),
       "missing bias correction: divide m by 1-β1^t and v by 1-β2^t":
           ([0.683772233983, 1.316227766017, 0.683772233983],
            [[9.683772233983], [-3.683772233983]]),
       "weight_decay is ignored: add λ·θ to the gradient": ([0.9, 1.1, 0.9], [[10.1], [-4.1]]),
       "decoupled weight decay is AdamW; Adam adds λ·θ to the gradient":
           ([0.89, 1.09, 0.89], [[10.0], [-4.06]])}
check_close(_w, [0.9, 1.1, 0.9], "params[0] after one Adam step",
            mistakes={k: v[0] for k, v in _m1.items()})
check_close(_c, [[9.9], [-3.9]], "params[1] after one Adam step",
            mistakes={k: v[1] for k, v in _m1.items()})
answer(_opt.step, [np.zeros(3), np.zeros((2, 1))], name="Adam.step")
check_close(_w, [0.800465182535, 1.165318005174, 0.83299383956],
            "params[0] after a second Adam step (gradient 0)", atol=1e-9,
            mistakes={"bias correction with β instead of β^t (β to the power t)":
                          [0.766241241782, 1.187776875307, 0.809954516]})
check_close(_c, [[9.803375064846], [-3.803214747032]],
            "params[1] after a second Adam step (gradient 0)", atol=1e-9)

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


def _sim(_rule, _p0, _steps, _noise, _t_in_loop=False):
    _ps = [p.copy() for p in _p0]
    _st = [{} for _ in _ps]
    _t = 0
    for _k in range(_steps):
        _t += 0 if _t_in_loop else 1
        for _p, _g, _s in zip(_ps, _grad_fn(_ps, _k, _noise), _st, strict=True):
            _t += 1 if _t_in_loop else 0
            _rule(_p, _g, _s, _t)
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
        "decoupled weight decay is AdamW; "
        "Adam adds λ·θ to the gradient":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, decoupled=True), _p0, _steps, _noise),
        "weight_decay is ignored: add λ·θ to the gradient":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, 0.0), _p0, _steps, _noise),
        "β1 and β2 swapped in the bias corrections":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd, swap=True), _p0, _steps, _noise),
        "self.t counts calls of step, not parameters: increment it once per step, outside "
        "the loop over the parameters":
            _sim(_adam_rule(_lr, _b1, _b2, _eps, _wd), _p0, _steps, _noise, _t_in_loop=True),
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
# ### 5.5 AdamW: weight decay is not an L2 penalty
#
# "Weight decay" (权重衰减) means shrinking the weights a little at every step,
# $\theta \leftarrow (1-\eta\lambda)\,\theta$. An **L2 penalty** means adding
# $\tfrac\lambda2\|\theta\|^2$ to the loss, so that $\lambda\theta$ joins the gradient.
# For plain SGD without momentum the two are the **same** update:
# $\theta - \eta(g + \lambda\theta) = (1-\eta\lambda)\theta - \eta g$. As soon as the
# gradient is transformed before it is applied, they differ. With momentum the L2 term
# is accumulated in the buffer (so it acts on the parameter for about $1/(1-\mu)$ steps);
# with Adam it is much worse: the L2 term $\lambda\theta$ enters $g_t$ and is then
# divided by $\sqrt{\hat v_t}$, so the coordinates with large gradients are barely
# decayed, and the quiet ones are decayed hard.
#
# **AdamW** (Loshchilov & Hutter) **decouples** the decay from the gradient: it shrinks
# the parameter directly, then takes the Adam step computed from the raw gradient,
#
# $$\theta \leftarrow (1-\eta\lambda)\,\theta, \qquad
#   \theta \leftarrow \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon},$$
#
# with $m_t, v_t, \hat m_t, \hat v_t$ exactly as in Adam (bias correction included), and
# the decay applied **before** the Adam step, to the parameter as it was at the start
# of the step. Note the factor $\eta$ in the decay: the decay follows the learning rate
# (and its schedule). `torch.optim.AdamW` defaults to $\lambda = 0.01$; Adam's default
# is 0. This is the optimizer Transformers are trained with.

# %% [markdown]
# ### Exercise 5.5 — `AdamW`
# Complete `step` (names and defaults as `torch.optim.AdamW`, without `amsgrad`). Keep
# $m$ and $v$ in `self.state[i]["exp_avg"]` and `self.state[i]["exp_avg_sq"]`; `self.t`
# counts the calls of `step`. You may start from your `Adam`; this class must not call
# it.

# %% nbgrader={"grade_id": "AdamW", "solution": true}
class AdamW:
    """Adam with decoupled weight decay, updating `params` in place (torch.optim.AdamW)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
            p *= 1 - self.lr * self.weight_decay
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


# %% nbgrader={"grade_id": "test_AdamW", "grade": true, "points": 1}
# Two parameters of different shapes, lr = 0.1, weight_decay = 0.5, eps = 0.
_w = inplace(np.array([1.0, 1.0, 1.0]))
_c = inplace(np.array([[10.0], [-4.0]]))
_opt = answer(AdamW, [_w, _c], lr=0.1, eps=0.0, weight_decay=0.5)
answer(_opt.step, [np.array([1e-3, -5.0, 2e4]), np.array([[-0.5], [0.2]])], name="AdamW.step")
check_close(_opt.t, 1, "opt.t after one call of step",
            mistakes={"self.t counts calls of step, not parameters: increment it once per "
                      "step, outside the loop over the parameters": 2})
_m1 = {"L2 penalty in the gradient: that is Adam's weight_decay; AdamW shrinks θ itself, "
       "θ ← (1 - ηλ)·θ": ([0.9, 1.1, 0.9], [[9.9], [-3.9]]),
       "missing bias correction: divide m by 1-β1^t and v by 1-β2^t":
           ([0.633772233983, 1.266227766017, 0.633772233983],
            [[9.816227766017], [-4.116227766017]]),
       "the decay is θ ← (1 - ηλ)·θ: multiply λ by the learning rate":
           ([0.4, 0.6, 0.4], [[5.1], [-2.1]]),
       "weight_decay is ignored": ([0.9, 1.1, 0.9], [[10.1], [-4.1]]),
       "the parameters did not change: update the arrays in place (p *= ..., p -= ...)":
           ([1.0, 1.0, 1.0], [[10.0], [-4.0]])}
check_close(_w, [0.85, 1.05, 0.85], "params[0] after one AdamW step",
            mistakes={k: v[0] for k, v in _m1.items()})
check_close(_c, [[9.6], [-3.9]], "params[1] after one AdamW step",
            mistakes={k: v[1] for k, v in _m1.items()})
answer(_opt.step, [np.zeros(3), np.zeros((2, 1))], name="AdamW.step")
check_close(_w, [0.740494174586, 1.064505825414, 0.740494174586],
            "params[0] after a second AdamW step (gradient 0)", atol=1e-9,
            mistakes={"bias correction with β instead of β^t (β to the power t)":
                          [0.717454966222, 1.087545033778, 0.717454966222],
                      "decay applied after the Adam step: shrink θ first, then step":
                          [0.748594465857, 1.056405534143, 0.748594465857]})


# %% nbgrader={"grade_id": "test_AdamW_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
# _grad_fn, _torch_run and _sim come from the hidden Adam test above (one shared namespace).
import torch


def _adamw_rule(lr, b1, b2, eps, wd, bc=True, pow_t=True, l2=False, no_lr=False,
                after=False):
    def rule(p, g, s, t):
        if l2:
            g = g + wd * p
        elif not after:
            p *= 1 - (1.0 if no_lr else lr) * wd
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        e = t if pow_t else 1
        m_hat = s["m"] / (1 - b1 ** e) if bc else s["m"]
        v_hat = s["v"] / (1 - b2 ** e) if bc else s["v"]
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)
        if after and not l2:
            p *= 1 - lr * wd
    return rule


_rng = np.random.default_rng(507)
_steps = 60
for _kw in ({"lr": 0.01}, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.5},
            {"lr": 0.02, "weight_decay": 0.1}):
    _p0 = [_rng.normal(size=(3, 2)), _rng.normal(size=2)]
    _noise = [[_rng.normal(scale=0.5, size=p.shape) for p in _p0] for _ in range(_steps)]
    _ps = [inplace(p.copy()) for p in _p0]
    _opt = answer(AdamW, _ps, **_kw)
    for _k in range(_steps):
        answer(_opt.step, _grad_fn(_ps, _k, _noise), name="AdamW.step")
    _want = _torch_run(torch.optim.AdamW, _p0, _steps, _noise, **_kw)
    _lr, (_b1, _b2) = _kw["lr"], _kw.get("betas", (0.9, 0.999))
    _eps, _wd = _kw.get("eps", 1e-8), _kw.get("weight_decay", 1e-2)
    _args = (_lr, _b1, _b2, _eps, _wd)
    _wrong = {
        "the parameters did not change: "
        "update the arrays in place (p *= ..., p -= ...)":
            _p0,
        "L2 penalty in the gradient: that is Adam's weight_decay; AdamW shrinks θ itself, "
        "θ ← (1 - ηλ)·θ": _sim(_adamw_rule(*_args, l2=True), _p0, _steps, _noise),
        "missing bias correction: divide m by 1-β1^t "
        "and v by 1-β2^t":
            _sim(_adamw_rule(*_args, bc=False), _p0, _steps, _noise),
        "bias correction with β instead of β^t (β to the power t)":
            _sim(_adamw_rule(*_args, pow_t=False), _p0, _steps, _noise),
        "self.t counts calls of step, not parameters: increment it once per step, outside "
        "the loop over the parameters":
            _sim(_adamw_rule(*_args), _p0, _steps, _noise, _t_in_loop=True),
        "the decay is θ ← (1 - ηλ)·θ: "
        "multiply λ by the learning rate":
            _sim(_adamw_rule(*_args, no_lr=True), _p0, _steps, _noise),
        "decay applied after the Adam step: "
        "shrink θ first, then step":
            _sim(_adamw_rule(*_args, after=True), _p0, _steps, _noise),
        "weight_decay is ignored (AdamW's default is 0.01, not 0)":
            _sim(_adamw_rule(_lr, _b1, _b2, _eps, 0.0), _p0, _steps, _noise),
    }
    for _i in range(2):
        check_close(_ps[_i], _want[_i], f"params[{_i}] after {_steps} AdamW steps with {_kw},"
                    " compared with torch.optim.AdamW", atol=1e-9, rtol=1e-7,
                    mistakes={_m: _v[_i] for _m, _v in _wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# **AdamW vs Adam + L2, seen.** The demo feeds pure noise as the gradient to your `Adam`
# (with `weight_decay`, an L2 penalty) and your `AdamW`, with a scale of 10 on 200
# coordinates and 0.01 on 200 others. With nothing to learn, weight decay alone should
# pull every weight towards 0.

# %% tags=["demo"]
own = mine.own(globals(), "05_optimizers", ["Adam", "AdamW"])
scales = np.array([[10.0], [0.01]])      # row 0: noisy coordinates, row 1: quiet ones
rms = {}
for name, cls in (("Adam + L2", own.Adam), ("AdamW", own.AdamW)):
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
for name, path in rms.items():
    print(f"{name:9s}: RMS after 1000 steps, noisy {path[-1, 0]:.3f}, quiet {path[-1, 1]:.3f}")

# %% [markdown]
# AdamW shrinks both groups at the same rate $(1-\eta\lambda)^t$, whatever their
# gradients. Adam + L2 divides the decay term of the noisy group by
# $\sqrt{\hat v} \approx 10$, so those weights barely move, while the quiet group, whose
# $\sqrt{\hat v}$ is tiny, is pulled to 0 almost at once. The strength of an L2 penalty
# under Adam depends on the gradient scale of each weight; AdamW's does not.

# %% [markdown]
# ## 6. Trajectories
#
# Two classic test functions in 2-D, optimized by your classes:
#
# * an **ill-conditioned quadratic** $f(x, y) = \tfrac12(x^2 + 25\,y^2)$: curvature 25
#   times larger across the valley than along it ($\kappa = 25$);
# * the **Rosenbrock function** $f(x, y) = (1-x)^2 + 100\,(y - x^2)^2$: a curved banana
#   valley with its minimum at $(1, 1)$.
#
# Each optimizer starts from the same point with a learning rate tuned by hand for it.
# Plain GD zig-zags across the narrow direction (its rate is capped by the steep
# direction, section 4); momentum overshoots and then rolls along the floor; the
# adaptive methods move each coordinate at about the same speed, which makes their
# first steps diagonal.

# %% tags=["demo"]
own = mine.own(globals(), "05_optimizers", ["SGD", "Adagrad", "RMSprop", "Adam"])


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
        "GD": lambda ps: own.SGD(ps, lr=0.07),
        "momentum 0.9": lambda ps: own.SGD(ps, lr=0.02, momentum=0.9),
        "AdaGrad": lambda ps: own.Adagrad(ps, lr=1.0),
        "RMSprop": lambda ps: own.RMSprop(ps, lr=0.05),
        "Adam": lambda ps: own.Adam(ps, lr=0.3),
    },
    "Rosenbrock": {
        "GD": lambda ps: own.SGD(ps, lr=1e-3),
        "momentum 0.9": lambda ps: own.SGD(ps, lr=2e-4, momentum=0.9),
        "AdaGrad": lambda ps: own.Adagrad(ps, lr=0.5),
        "RMSprop": lambda ps: own.RMSprop(ps, lr=3e-3),
        "Adam": lambda ps: own.Adam(ps, lr=0.05),
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
# ## 7. Your optimizers train a network
#
# Test functions in 2-D are one thing; a network is another. The next cell defines a
# small multilayer perceptron (多层感知机) for the two-moons data: 2 inputs, three
# hidden layers of 32 ReLU units, one logit, the binary cross-entropy of chapter 3 as
# the loss, He initialisation (chapter 6) and the backward pass of chapter 4. It is
# provided; what this section is about is the optimizer that moves its ten parameter
# arrays.

# %% tags=["demo"]
from dlnotes.data import make_moons

X_moons, y_moons = make_moons(n=256, noise=0.2, seed=0)


def init_mlp(seed=0, sizes=(2, 32, 32, 32, 1)):
    """He-initialised weights and zero biases: [W1, b1, W2, b2, ...]."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        params += [rng.normal(scale=np.sqrt(2 / fan_in), size=(fan_in, fan_out)),
                   np.zeros(fan_out)]
    return params


def mlp_loss_grads(params, X, y):
    """Mean binary cross-entropy of the ReLU MLP and its gradients, one per parameter."""
    hs, h = [X], X
    n_layers = len(params) // 2
    for i in range(n_layers):
        z = h @ params[2 * i] + params[2 * i + 1]
        h = np.maximum(z, 0.0) if i < n_layers - 1 else z
        hs.append(h)
    logits = h[:, 0]
    loss = float(np.mean(np.logaddexp(0.0, logits) - y * logits))
    delta = ((1 / (1 + np.exp(-logits)) - y) / len(y))[:, None]
    grads = [None] * len(params)
    for i in reversed(range(n_layers)):
        grads[2 * i], grads[2 * i + 1] = hs[i].T @ delta, delta.sum(axis=0)
        if i > 0:
            delta = (delta @ params[2 * i].T) * (hs[i] > 0)
    return loss, grads


def train_mlp(make_opt, steps, schedule=None, seed=0):
    """Full-batch training; the losses before every step and at the end (inf once it blew up)."""
    params = init_mlp(seed)
    opt = make_opt(params)
    losses = []
    for t in range(steps):
        if schedule is not None:
            opt.lr = schedule(t)
        with np.errstate(all="ignore"):
            loss, grads = mlp_loss_grads(params, X_moons, y_moons)
        if not (np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads)):
            return np.array(losses + [np.inf]), params
        losses.append(loss)
        opt.step(grads)
    with np.errstate(all="ignore"):
        losses.append(mlp_loss_grads(params, X_moons, y_moons)[0])
    return np.array(losses), params


def accuracy(params):
    """Training accuracy of the MLP (a blown-up network scores what its NaNs give)."""
    h = X_moons
    with np.errstate(all="ignore"):
        for i in range(len(params) // 2):
            z = h @ params[2 * i] + params[2 * i + 1]
            h = np.maximum(z, 0.0) if i < len(params) // 2 - 1 else z
    return float(np.mean((h[:, 0] > 0) == y_moons))

# %% [markdown]
# Each optimizer gets 300 full-batch steps from the same initial weights, with a
# learning rate in its usual range (SGD's rates are larger because its step is the raw
# gradient, which is small here; Adam's step is about `lr` per coordinate whatever the
# gradient).

# %% tags=["demo"]
own = mine.own(globals(), "05_optimizers", ["SGD", "Adam", "AdamW"])
makers = {"SGD (lr 0.5)": lambda ps: own.SGD(ps, lr=0.5),
          "momentum 0.9 (lr 0.05)": lambda ps: own.SGD(ps, lr=0.05, momentum=0.9),
          "Nesterov 0.9 (lr 0.05)": lambda ps: own.SGD(ps, lr=0.05, momentum=0.9,
                                                       nesterov=True),
          "Adam (lr 0.01)": lambda ps: own.Adam(ps, lr=0.01),
          "AdamW (lr 0.01, λ 0.01)": lambda ps: own.AdamW(ps, lr=0.01, weight_decay=0.01)}
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for name, make in tqdm(makers.items(), desc="optimizers"):
    curve, trained = train_mlp(make, steps=300)
    ax.semilogy(curve, label=name)
    print(f"{name:24s} final loss {curve[-1]:.4f}, training accuracy {accuracy(trained):.3f}")
ax.set(xlabel="step", ylabel="training BCE (log scale)",
       title="Two moons, 2-32-32-32-1 ReLU MLP, your optimizers")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 8. Learning-rate schedules
#
# A fixed learning rate is a compromise: large enough to make progress early, small
# enough not to bounce around the minimum late. A **schedule** changes $\eta$ with the
# step count $t$: set `opt.lr = schedule(t)` before the step $t + 1$, as
# `torch.optim.lr_scheduler` does. With $\eta_0$ the base learning rate:
#
# | schedule | $\eta_t$ |
# |---|---|
# | step decay (阶梯衰减) | $\eta_0\,\gamma^{\lfloor t/s\rfloor}$: times $\gamma$ every $s$ steps |
# | exponential (指数衰减) | $\eta_0\,\gamma^{t}$ |
# | cosine (余弦退火) | $\eta_{\min} + \tfrac12(\eta_0-\eta_{\min})(1+\cos\frac{\pi t}{T})$ |
# | one-cycle (单周期) | up from $\eta_{\max}/25$ to $\eta_{\max}$, then far below |
# | warm-up + cosine | a linear ramp for $W$ steps, then a cosine to $\eta_{\min}$ |
#
# Their torch names are `StepLR`, `ExponentialLR`, `CosineAnnealingLR`, `OneCycleLR` and,
# for the last, `LinearLR` followed by `CosineAnnealingLR` in `torch.optim.lr_scheduler`.
# (`dlnotes.optim` has one function for each.) Beyond $T$ the cosine formula, and
# torch's `CosineAnnealingLR`, keep going: the rate climbs back to $\eta_0$ at $2T$. A
# schedule meant to end at $\eta_{\min}$ must hold it.
#
# **Warm-up** (预热) starts small and ramps up. At initialisation a network is often in a
# sharply curved region: the largest curvature $\lambda_{\max}$ of the loss is large, and
# section 4 says a step above $2/\lambda_{\max}$ throws the parameters out. A few small
# steps first move them to a flatter region (for the cross-entropy the curvature falls
# as the predictions become confident), where the large rate is stable. For Adam there
# is a second reason: its second-moment estimate $\hat v_t$ rests on very few gradients
# at first. Transformers are almost always trained with a warm-up followed by a decay.
#
# The usual recipe, **linear warm-up then cosine decay**, with $W$ warm-up steps and
# $T$ steps in all:
#
# $$\eta_t = \begin{cases}
#   \eta_0\left(\frac1W + \left(1 - \frac1W\right)\frac{t}{W}\right) & 0 \le t < W \\[4pt]
#   \eta_{\min} + \frac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\frac{\pi\,(t - W)}{T - W}\right)
#     & W \le t \le T \\[4pt]
#   \eta_{\min} & t > T .
# \end{cases}$$
#
# The ramp starts at $\eta_0/W$, not at 0 (a step with $\eta = 0$ would be wasted; torch's
# `LinearLR` cannot start from 0 either), reaches $\eta_0$ at $t = W$, and the cosine
# starts there, so its phase counts from $W$, not from 0. It is exactly torch's
# `SequentialLR([LinearLR(opt, start_factor=1/W, total_iters=W),
# CosineAnnealingLR(opt, T_max=T - W, eta_min)], milestones=[W])` for $0 \le t \le T$,
# and it holds $\eta_{\min}$ after $T$. With $W = 1$ there is no warm-up: $\eta_0$ from
# the first step.

# %% [markdown]
# ### Exercise 8.1 — `warmup_cosine_lr`
# Return $\eta_t$ of the schedule above as a Python float, for any integer $t \ge 0$.
# Raise `ValueError` unless `1 <= warmup_steps < total_steps`.

# %% nbgrader={"grade_id": "warmup_cosine_lr", "solution": true}
def warmup_cosine_lr(t, base_lr, warmup_steps, total_steps, eta_min=0.0):
    """The learning rate at step t: linear warm-up, then a cosine decay to eta_min."""
    ### BEGIN SOLUTION
    import math

    W, T = warmup_steps, total_steps
    if not 1 <= W < T:
        raise ValueError(f"need 1 <= warmup_steps < total_steps, got {W} and {T}")
    if t < W:
        return float(base_lr * (1 / W + (1 - 1 / W) * t / W))
    if t > T:
        return float(eta_min)
    return float(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (t - W) / (T - W))) / 2)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_warmup_cosine_lr", "grade": true, "points": 1}
_got = [answer(warmup_cosine_lr, _t, 1.0, 4, 8) for _t in range(11)]
_want = [0.25, 0.4375, 0.625, 0.8125, 1.0, 0.8535533905932737, 0.5, 0.14644660940672627,
         0.0, 0.0, 0.0]
check_close(_got, _want, "warmup_cosine_lr(t, base_lr=1, warmup_steps=4, total_steps=8) "
            "for t = 0..10", atol=1e-12,
            mistakes={"the warm-up starts at base_lr/W, not at 0":
                          [0.0, 0.25, 0.5, 0.75] + _want[4:],
                      "the cosine starts at t = W: its phase is π(t - W)/(T - W)":
                          _want[:4] + [(1 + np.cos(np.pi * _t / 8)) / 2 for _t in range(4, 9)]
                          + [0.0, 0.0],
                      "after total_steps the rate holds eta_min (the cosine formula would "
                      "rise again)": _want[:9] + [0.1464466094067262, 0.5]})
for _args in ((3, 1.0, 0, 8), (3, 1.0, 8, 8)):
    try:
        warmup_cosine_lr(*_args)
    except ValueError:
        continue
    except NotImplementedError:
        raise AssertionError("warmup_cosine_lr is not answered yet (it still raises "
                             "NotImplementedError)") from None
    except Exception as _e:
        raise AssertionError(f"warmup_cosine_lr{_args} raised {type(_e).__name__}: {_e}; "
                             "expected ValueError") from None
    raise AssertionError(f"warmup_cosine_lr{_args} should raise ValueError: "
                         "1 <= warmup_steps < total_steps is required")

# %% nbgrader={"grade_id": "test_warmup_cosine_lr_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import warnings

import torch

from dlnotes import optim as _ref

_MSG = "warmup_cosine_lr compared with torch's SequentialLR(LinearLR, CosineAnnealingLR)"
for _base, _W, _T, _emin in ((0.1, 10, 100, 0.0), (0.5, 3, 7, 0.01), (1e-3, 1, 2, 1e-5),
                             (2.0, 25, 26, 0.3), (0.3, 5, 40, 0.0)):
    _p = torch.nn.Parameter(torch.zeros(1))
    _o = torch.optim.SGD([_p], lr=_base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _s = torch.optim.lr_scheduler.SequentialLR(_o, [
            torch.optim.lr_scheduler.LinearLR(_o, start_factor=1 / _W, end_factor=1.0,
                                              total_iters=_W),
            torch.optim.lr_scheduler.CosineAnnealingLR(_o, T_max=_T - _W, eta_min=_emin)],
            milestones=[_W])
        _torch_lrs = []
        for _t in range(_T + 1):
            _torch_lrs.append(_o.param_groups[0]["lr"])
            _o.step()
            _s.step()
    _ts = list(range(_T + 4))
    _want = _torch_lrs + [_emin] * 3
    _got = [answer(warmup_cosine_lr, _t, _base, _W, _T, _emin) for _t in _ts]
    _shift = [_ref.warmup_cosine_lr(_t, _base, _W, _T, _emin) if _t < _W or _t > _T
              else _emin + (_base - _emin) * (1 + np.cos(np.pi * _t / _T)) / 2 for _t in _ts]
    check_close(_got, _want, f"{_MSG}, t = 0..{_T + 3}, base_lr={_base}, warmup_steps={_W}, "
                f"total_steps={_T}, eta_min={_emin}", atol=1e-12, rtol=1e-9,
                mistakes={"the warm-up starts at base_lr/W, "
                          "not at 0":
                              [_base * _t / _W if _t < _W else _w
                               for _t, _w in zip(_ts, _want, strict=True)],
                          "eta_min is ignored: the cosine must end at eta_min, not 0":
                              [_ref.warmup_cosine_lr(_t, _base, _W, _T) for _t in _ts],
                          "the cosine starts at t = W: its phase is π(t - W)/(T - W)": _shift,
                          "after total_steps the rate holds eta_min (the cosine formula "
                          "would rise again)":
                              _want[:_T + 1] + [_emin + (_base - _emin) * (
                                  1 + np.cos(np.pi * (_t - _W) / (_T - _W))) / 2
                                                for _t in _ts[_T + 1:]]})
for _args in ((0, 1.0, 0, 5), (0, 1.0, 5, 5), (2, 1.0, 6, 5), (0, 1.0, -1, 5)):
    _raised = False
    try:
        warmup_cosine_lr(*_args, eta_min=0.0)
    except ValueError as _err:  # noqa: F841
        _raised = True
    assert _raised, (f"warmup_cosine_lr{_args} should raise ValueError: 1 <= warmup_steps < "
                     "total_steps is required")
### END HIDDEN TESTS

# %% [markdown]
# Every schedule of the table over 100 steps with $\eta_0 = 0.1$ (the warm-up + cosine
# curve is yours):

# %% tags=["demo"]
own = mine.own(globals(), "05_optimizers", ["warmup_cosine_lr"])
T = 100
ts = np.arange(T + 1)
schedules = {
    "step (s=30, γ=0.5)": [ref.step_lr(t, 0.1, 30, 0.5) for t in ts],
    "exponential (γ=0.97)": [ref.exponential_lr(t, 0.1, 0.97) for t in ts],
    "cosine (T=100)": 0.1 * (1 + np.cos(np.pi * ts / T)) / 2,
    "warm-up 10 + cosine": [own.warmup_cosine_lr(t, 0.1, 10, T) for t in ts],
    "one-cycle (max 0.1)": [ref.one_cycle_lr(t, 0.1, T) for t in ts],
}
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, lrs in schedules.items():
    ax.plot(ts, lrs, label=name)
ax.set(xlabel="step t", ylabel="learning rate", title="Learning-rate schedules")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Warm-up rescues a run.** The network of section 7, trained by your `SGD` without
# momentum at a large learning rate $\eta_0 = 5$, for 400 steps with a cosine decay:
# once without warm-up ($W = 1$) and once with $W = 100$ warm-up steps, on four
# different initialisations each.

# %% tags=["demo"]
own = mine.own(globals(), "05_optimizers", ["SGD", "warmup_cosine_lr"])
STEPS, BASE_LR = 400, 5.0
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for ax, W in zip(axes, (1, 100), strict=True):
    for seed in range(4):
        curve, trained = train_mlp(lambda ps: own.SGD(ps, lr=BASE_LR), STEPS, seed=seed,
                                   schedule=lambda t, W=W: own.warmup_cosine_lr(
                                       t, BASE_LR, W, STEPS))
        with np.errstate(over="ignore"):
            peak = np.max(curve)
        print(f"warm-up W = {W:3d}, seed {seed}: highest loss {peak:.3g}, final loss "
              f"{curve[-1]:.4f}, training accuracy {accuracy(trained):.3f}")
        ax.semilogy(np.minimum(curve, 1e6), label=f"seed {seed}")
    ax.set(xlabel="step", title="no warm-up (W = 1)" if W == 1 else f"warm-up W = {W}")
    ax.legend(fontsize=8)
axes[0].set(ylabel="training BCE (log scale, capped at 1e6)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Without warm-up the first steps at $\eta = 5$ overshoot: the loss shoots up by many
# orders of magnitude (or overflows), the ReLUs die, and the network ends up
# predicting one class for every point (a loss of $\log 2 \approx 0.693$, 50 %
# accuracy) or never comes back at all. With the warm-up, the same peak learning rate is
# reached only after 100 gentler steps, in a flatter region, and every run converges.

# %% [markdown]
# ## 9. When to stop
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
#
# These look at the **training** loss only. A network can keep lowering it while it
# gets worse on new data (over-fitting, 过拟合); stopping on a validation criterion,
# **early stopping** (早停), is a regularizer and is taught in
# [chapter 6](06_regularization.ipynb). In practice one combines a maximum number of
# steps with early stopping.

# %% [markdown]
# ## Summary
# - Least squares has a closed form: solve it with `lstsq` (QR or SVD) on $A$ with a
#   column of ones for the bias, never by an explicit inverse or by forming $A^\top A$.
# - Gradient descent: $\theta \leftarrow \theta - \eta\nabla L$, with the gradient
#   **averaged over the examples** of the batch. Batch, stochastic and mini-batch GD
#   differ only in which examples a step sees; every step updates all parameters.
# - On a quadratic, gradient descent multiplies the error along each eigen-direction by
#   $1 - \eta\lambda_i$: it needs $\eta < 2/\lambda_{\max}$, and its speed is set by
#   $\kappa = \lambda_{\max}/\lambda_{\min}$. Momentum improves the dependence to
#   $\sqrt\kappa$.
# - Momentum accumulates $b = \mu b + g$ and steps $-\eta b$; Nesterov steps with
#   $g + \mu b$. Weight decay as an L2 penalty enters the gradient before the buffer.
# - AdaGrad divides by $\sqrt{\sum g^2}$ (a sum, so the steps shrink for ever); RMSProp by
#   the root of a moving average; $\epsilon$ goes outside the root.
# - Adam = momentum + RMSProp + bias correction $1/(1-\beta^t)$, with $t$ the number of
#   steps. AdamW shrinks the weights directly, $(1-\eta\lambda)\theta$, instead of adding
#   an L2 term that Adam would rescale.
# - Schedules change $\eta$ over time; a linear warm-up followed by a cosine decay lets a
#   large learning rate be used without blowing up the first steps. Stop on a
#   validation criterion (chapter 6) with a maximum number of steps as a safety net.
