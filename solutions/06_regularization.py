# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 6 — Regularization, normalization and initialization
#
# A network with enough parameters can memorise its training set. **Regularization**
# (正则化) is everything we do so that it learns something that also holds on data it
# has not seen: penalties on the weights, noise during training, stopping in time,
# more (augmented) data. Two neighbours of regularization make deep networks
# trainable at all: **normalization** (归一化) layers and a good **initialization**
# (初始化). This chapter builds all of them in numpy and trains a small network on
# handwritten digits with your own code to watch them work.
#
# **What this chapter covers**
# 1. Overfitting (过拟合) and underfitting (欠拟合): diagnosis from train/validation
#    curves.
# 2. L1 and L2 penalties: gradients, the geometric picture, and the proximal step
#    (soft-thresholding) that gives L1 its exact zeros; weight decay (权重衰减) vs L2.
# 3. Dropout (随机失活 / 丢弃法): inverted dropout, train vs eval, the expectation
#    argument; a small MLP on digits with and without dropout, and a widget over
#    dropout $p$ × L2 $\lambda$.
# 4. Batch normalization (批归一化) with running statistics, its backward pass derived
#    through the computational graph, and an ablation (BatchNorm on/off × dropout
#    on/off) trained with your own layers; layer normalization (层归一化), forward and
#    backward.
# 5. Initialization: Xavier/Glorot and Kaiming/He; activation statistics through 20
#    layers.
# 6. Gradient clipping (梯度裁剪), early stopping (早停) and data augmentation
#    (数据增强).
#
# **How to check your answers.** Each exercise is a function or a class with a stub
# that raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong. The
# grader also runs hidden tests (random inputs with a fixed seed, compared with the
# reference implementation, plus edge cases such as all-zero gradients, ties and NaN
# losses). In JupyterLab, the **Validate** button of the nbgrader toolbar runs every
# test of the notebook at once.
#
# Exercises may use `numpy` and `math` only: an answer that calls `dlnotes`,
# scikit-learn or torch scores zero for that exercise. Random numbers always come from
# the `rng` argument (a `numpy.random.Generator`), never from `np.random.*` directly.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal, inplace

# %% [markdown]
# ## 1. Overfitting and underfitting, read from the curves
#
# Train a model and record, after every epoch (轮), the loss on the training set and on
# a held-out **validation set** (验证集). The two curves tell you which problem you
# have:
#
# | what you see | diagnosis |
# |---|---|
# | training loss falls; validation loss falls, then **rises**: a growing gap | overfitting |
# | both losses stay **high**, with little gap | underfitting |
# | both low, small gap | a good fit |
#
# Overfitting (the model memorises noise and particular examples) calls for more data
# or augmentation, L1/L2 penalties, dropout, early stopping or a smaller model.
# Underfitting (not enough capacity or training) calls for a bigger model, longer
# training, a better learning rate or less regularization.
#
# Compare accuracies as well as losses: the validation loss can rise (the model grows
# over-confident on the examples it gets wrong) while the validation accuracy is still
# flat. Section 3 trains a small network on the digits and draws these curves.
#
# The training demos use **your** answers from this chapter. A demo that needs an
# answer you have not written yet uses the book's reference implementation
# (`dlnotes.regularization`) in its place and prints one line saying so. Demo cells are
# not graded and are skipped when your notebook is graded.

# %% tags=["demo"]
import os

import matplotlib.pyplot as plt
from tqdm.auto import tqdm

from dlnotes import data, losses, mine, optim
from dlnotes import regularization as ref

FAST = bool(os.environ.get("CI"))   # a smaller training budget on CI machines

# %% [markdown]
# ## 2. Weight penalties: L1 and L2
#
# Add a penalty on the size of the weights to the data loss $L_0$:
#
# $$L = L_0 + \lambda \sum_i |w_i| \quad\text{(L1)}, \qquad
#   L = L_0 + \lambda \sum_i w_i^2 \quad\text{(L2)},$$
#
# with strength $\lambda \ge 0$. Their gradients, which are added to $\nabla L_0$
# before the optimizer step, are
#
# $$\frac{\partial}{\partial w_i}\,\lambda\sum_j |w_j| = \lambda\,\mathrm{sign}(w_i),
#   \qquad \frac{\partial}{\partial w_i}\,\lambda\sum_j w_j^2 = 2\lambda\, w_i .$$
#
# $|w|$ has no derivative at $0$; any value in $[-\lambda, \lambda]$ is a
# **subgradient** (次梯度) there, and this book (like torch's `abs` backward) uses
# $\mathrm{sign}(0) = 0$. L2 pulls every weight towards 0 in proportion to its size;
# L1 pulls with the same force $\lambda$ whatever the size, which favours solutions in
# which small weights are exactly 0: a **sparse** (稀疏) model that ignores some
# features (feature selection, 特征选择). "Sparsity, and how to really get zeros" below
# shows which update actually reaches those zeros.
#
# Many texts write the L2 penalty as $\frac{\lambda}{2}\|w\|^2$ so that the gradient is
# $\lambda w$ without the 2. Both conventions are in use; this book's L2 penalty has
# **no** $\frac12$, so its gradient is $2\lambda w$. Always check which one a formula or
# a library uses.

# %% [markdown]
# ### The geometric picture
#
# Minimising $L_0 + \lambda\,\Omega(w)$ is equivalent to minimising $L_0$ inside a
# ball $\Omega(w) \le t$ (a larger $\lambda$ means a smaller $t$). The L2 ball is a
# disc; the L1 ball is a diamond with **corners on the axes**. The elliptical contours
# of $L_0$ usually touch the diamond first at a corner, where one coordinate is exactly
# 0, and touch the disc at a point where both coordinates are non-zero.

# %% tags=["demo"]
A_quad = np.array([[1.0, 0.35], [0.35, 0.45]])       # L0(w) = (w - w*)ᵀ A (w - w*)
w_star = np.array([1.6, 0.9])


def L0(w):
    d = w - w_star
    return np.einsum("...i,ij,...j->...", d, A_quad, d)


angles = np.linspace(0, 2 * np.pi, 4001)
circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
diamond = circle / np.abs(circle).sum(axis=1, keepdims=True)
best_l2, best_l1 = circle[np.argmin(L0(circle))], diamond[np.argmin(L0(diamond))]

g1, g2 = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.5, 2.0, 200))
grid_loss = L0(np.stack([g1, g2], axis=-1))
fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
for ax, ball, best, name in ((axes[0], diamond, best_l1, "L1: |w₁| + |w₂| ≤ 1"),
                             (axes[1], circle, best_l2, "L2: w₁² + w₂² ≤ 1")):
    ax.contour(g1, g2, grid_loss, levels=[L0(best) * s for s in (0.3, 0.6, 1.0, 1.6, 2.5)],
               colors="gray", linewidths=0.8)
    ax.fill(ball[:, 0], ball[:, 1], alpha=0.25)
    ax.plot(*w_star, "k*", ms=12, label="unpenalised minimum w*")
    ax.plot(*best, "ro", label=f"constrained minimum ({best[0]:.2f}, {best[1]:.2f})")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(title=name, xlabel="w₁", ylabel="w₂", aspect="equal")
    ax.legend(loc="lower left", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Sparsity, and how to really get zeros
#
# The subgradient step $w \leftarrow w - \eta\bigl(\nabla L_0 + \lambda\,\mathrm{sign}(w)\bigr)$
# treats $|w|$ like any differentiable term, and it cannot land on 0: a small weight
# moves by $\pm\eta\lambda$ and jumps across 0 instead of stopping there. A **proximal
# step** (近端梯度) splits the loss. Take a plain gradient step on the smooth part
# $L_0$ alone,
#
# $$z = w - \eta\,\nabla L_0(w),$$
#
# and then handle the L1 term exactly: choose the new weights as the point that
# trades staying close to $z$ against the penalty,
#
# $$w_\text{new} = \arg\min_v\ \tfrac12\|v - z\|^2 + \eta\lambda\,\|v\|_1 .$$
#
# Both terms are sums over the coordinates, so the problem splits into one scalar
# problem per coordinate: minimise $h(v) = \frac12(v - z)^2 + t\,|v|$ with
# $t = \eta\lambda \ge 0$. Solve it by cases.
#
# - For $v > 0$, $h'(v) = v - z + t$, which is 0 at $v = z - t$. That point is in
#   the region $v > 0$ only when $z > t$.
# - For $v < 0$, $h'(v) = v - z - t$, which is 0 at $v = z + t$. That point is in
#   the region $v < 0$ only when $z < -t$.
# - When $|z| \le t$, neither branch has a stationary point: $h$ decreases on
#   $v < 0$ and increases on $v > 0$, so its minimum is at the kink, $v = 0$.
#   (Equivalently, 0 belongs to the subdifferential $-z + t\,[-1, 1]$ of $h$ at 0.)
#
# Together: move $z$ towards 0 by $t$, and stop at exactly 0 if it would cross. This
# is **soft-thresholding** (软阈值). Every coordinate with $|z_i| \le \eta\lambda$ becomes
# 0.0, not a small number. Repeating the step is ISTA, a classic Lasso solver, and
# torch calls the operator `softshrink`.
#
# > **Pitfall.** Some notes say the L1 update
# > $\theta \leftarrow \theta - \eta\bigl(\frac{\partial L_0}{\partial\theta} +
# > \lambda\,\mathrm{sign}(\theta)\bigr)$ "makes some weights 0" (会使部分权重变为 0).
# > L1 *solutions* are sparse, but that update does not find exact zeros: a small
# > weight jumps across 0 by $\pm\eta\lambda$ at every step and keeps oscillating
# > around it. The demo after the exercise shows the pile of tiny but non-zero weights
# > it leaves, and the exact zeros of the proximal step.

# %% [markdown]
# ### Exercise 2.1 — `l1_proximal_step`
# One proximal-gradient step for the loss $L_0(w) + \lambda\sum_i |w_i|$, from the
# weights `w`. `grad` is the gradient of the data loss $L_0$ alone at `w` (the
# penalty is not in it), `lr` is the step size $\eta > 0$ and `lam` is
# $\lambda \ge 0$. `w` and `grad` are float arrays of the same shape (any shape).
# Return the new weights as a new array of that shape, and leave `w` unchanged.
# Entries that the step sends to zero must be exactly `0.0`.

# %% nbgrader={"grade_id": "l1_proximal_step", "solution": true}
def l1_proximal_step(w, grad, lr, lam):
    """One proximal-gradient step for L0 + lam * sum(|w|); returns the new weights."""
    ### BEGIN SOLUTION
    z = np.asarray(w, dtype=float) - lr * np.asarray(grad, dtype=float)
    return np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_l1_proximal_step", "grade": true, "points": 1}
# Gradient step first: z = w - 0.5 * grad = [0.8, 0.1, -0.7, -0.1]; threshold 0.5 * 0.4.
_w = inplace(np.array([1.0, 0.05, -0.6, 0.3]))
_grad = np.array([0.4, -0.1, 0.2, 0.8])
_got = answer(l1_proximal_step, _w, _grad, 0.5, 0.4)
check_close(_got, [0.6, 0.0, -0.5, 0.0],
            "l1_proximal_step(w=[1, 0.05, -0.6, 0.3], grad=[0.4, -0.1, 0.2, 0.8], lr=0.5, "
            "lam=0.4)",
            mistakes={"the threshold is lr·lam (the penalty's weight in the step), not lam":
                          [0.4, 0.0, -0.3, 0.0],
                      "no gradient step: first z = w - lr·grad, then threshold z":
                          [0.8, 0.0, -0.4, 0.1],
                      "the sign is lost: max(z - t, 0) sets every negative weight to 0; "
                      "shrink |z| and keep the sign of z": [0.6, 0.0, 0.0, 0.0],
                      "hard thresholding: the kept entries must also move towards 0 by "
                      "the threshold": [0.8, 0.0, -0.7, 0.0],
                      "that is the subgradient step w - lr·(grad + lam·sign(w)), not the "
                      "proximal step": [0.6, -0.1, -0.5, -0.3]})
check_equal(np.asarray(_got) == 0.0, [False, True, False, True],
            "which entries are exactly 0.0 (|z| <= lr·lam)")
check_close(_w, [1.0, 0.05, -0.6, 0.3], "w after the call (return new weights, leave w "
            "as it was)")
# With lam = 0 the step is plain gradient descent.
check_close(answer(l1_proximal_step, np.array([0.3, -0.2]), np.array([1.0, -1.0]), 0.1, 0.0),
            [0.2, -0.1], "l1_proximal_step(w=[0.3, -0.2], grad=[1, -1], lr=0.1, lam=0)")

# %% nbgrader={"grade_id": "test_l1_proximal_step_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref


def _soft(_z, _t):
    return np.sign(_z) * np.maximum(np.abs(_z) - _t, 0.0)


_rng = np.random.default_rng(601)
for _shape, _lr, _lam in (((7,), 0.1, 2.0), ((3, 4), 1.0, 0.3), ((2, 3, 2), 0.05, 5.0),
                          ((5,), 0.2, 0.0)):
    _wv = _rng.normal(size=_shape)
    _gv = _rng.normal(size=_shape)
    _want = _ref.l1_proximal_step(_wv, _gv, _lr, _lam)
    _zv = _wv - _lr * _gv
    _case = f"l1_proximal_step on random w and grad of shape {_shape}, lr={_lr}, lam={_lam}"
    check_close(answer(l1_proximal_step, _wv.copy(), _gv.copy(), _lr, _lam), _want, _case,
                atol=1e-12,
                mistakes={"the threshold is lr·lam, not lam": _soft(_zv, _lam),
                          "no gradient step: threshold z = w - lr·grad, not w":
                              _soft(_wv, _lr * _lam),
                          "the sign is lost: shrink |z| and keep the sign of z":
                              np.maximum(_zv - _lr * _lam, 0.0),
                          "hard thresholding: kept entries must also shrink":
                              np.where(np.abs(_zv) > _lr * _lam, _zv, 0.0),
                          "the subgradient step, not the proximal one":
                              _wv - _lr * (_gv + _lam * np.sign(_wv))})
# float32 weights: a correct float32 answer passes
_w32 = _rng.normal(size=(4, 5)).astype(np.float32)
_g32 = _rng.normal(size=(4, 5)).astype(np.float32)
check_close(answer(l1_proximal_step, _w32, _g32, 0.3, 1.0),
            _ref.l1_proximal_step(_w32, _g32, 0.3, 1.0), "l1_proximal_step on float32 arrays",
            atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# The demo trains a softmax regression (64 pixels → 10 digits, 640 weights) on the
# 8×8 digits three ways, with the same $\lambda$ for both penalties: L2 by its
# gradient $2\lambda w$; L1 by its subgradient $\lambda\,\mathrm{sign}(w)$; and L1 by
# your proximal step. The histograms count the weights that are exactly 0.

# %% tags=["demo"]
X_dig, y_dig = data.load_digits()
X_dig = X_dig / 16.0
perm = np.random.default_rng(0).permutation(len(y_dig))
idx_tr, idx_va = perm[:300], perm[300:800]          # a small training set: easy to overfit
X_tr, y_tr, X_va, y_va = X_dig[idx_tr], y_dig[idx_tr], X_dig[idx_va], y_dig[idx_va]
# Label noise for section 3: 20% of the training labels replaced by random digits.
noisy = np.random.default_rng(5).random(len(y_tr)) < 0.2
y_tr = np.where(noisy, np.random.default_rng(6).integers(0, 10, len(y_tr)), y_tr)
own_l1 = mine.own(globals(), "06_regularization", ["l1_proximal_step"])


def softmax_regression(penalty, lam=0.01, lr=0.5, steps=200):
    """Full-batch gradient descent on 600 clean digits; returns the (10, 64) weights."""
    X, y = X_dig[perm[800:1400]], y_dig[perm[800:1400]]
    W, b = np.random.default_rng(0).normal(scale=0.01, size=(10, 64)), np.zeros(10)
    for _ in range(steps):
        g = losses.cross_entropy_grad(X @ W.T + b, y)
        gW, gb = g.T @ X, g.sum(axis=0)
        b -= lr * gb
        if penalty == "L2":
            W = W - lr * (gW + 2 * lam * W)
        elif penalty == "L1 (subgradient)":
            W = W - lr * (gW + lam * np.sign(W))
        else:                                    # L1 (proximal), with your step
            W = own_l1.l1_proximal_step(W, gW, lr, lam)
    return W


fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
for ax, pen in zip(axes, ("L2", "L1 (subgradient)", "L1 (proximal)"), strict=True):
    W = softmax_regression(pen)
    ax.hist(W.ravel(), bins=60, range=(-0.8, 0.8))
    ax.set(title=f"{pen}: {np.sum(W == 0)} of {W.size} exactly 0,\n"
                 f"{np.sum(np.abs(W) < 1e-3)} with |w| < 1e-3", xlabel="weight")
axes[0].set_ylabel("count")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Weight decay and L2
#
# **Weight decay** shrinks every weight by a fixed fraction at every step, apart from
# the gradient: $w \leftarrow (1 - \eta\lambda')\,w - \eta\,u$, where $u$ is the step
# the optimizer computes from $\nabla L_0$. For **plain SGD** ($u = \nabla L_0$) this is
# exactly gradient descent on $L_0 + \frac{\lambda'}{2}\|w\|^2$, i.e. this book's L2
# penalty with $\lambda = \lambda'/2$. For every optimizer that transforms the gradient
# the two are different methods. With momentum, the L2 gradient $2\lambda w$ enters the
# velocity and keeps acting in later steps, while the decay acts once. Adaptive
# optimizers divide the L2 gradient by $\sqrt{\hat v}$, so weights with large gradients
# are barely decayed. Chapter 5 works out the Adam case and builds AdamW, which decays
# the weights directly. Careful with names: `weight_decay=λ'` in `torch.optim.SGD` and
# `torch.optim.Adam` adds $\lambda' w$ to the gradient, i.e. it *is* the L2 penalty
# $\frac{\lambda'}{2}\|w\|^2$; only `AdamW` decays the weights directly.
#
# > **Pitfall.** Some notes say "Weight Decay 与 L2 等价" (weight decay is equivalent
# > to L2). That holds for plain SGD only (with $\lambda = \lambda'/2$ in this book's
# > convention). The demo runs both with the same gradients, without and with
# > momentum.

# %% tags=["demo"]
r = np.random.default_rng(1)
w_start, grad_seq = r.normal(size=5), r.normal(size=(20, 5))
lr, wd = 0.1, 0.2
for mu in (0.0, 0.9):
    w_dec, w_l2 = w_start.copy(), w_start.copy()
    v_dec, v_l2 = np.zeros(5), np.zeros(5)
    for g in grad_seq:
        v_dec = mu * v_dec + g                    # the step from the data gradient only
        w_dec = (1 - lr * wd) * w_dec - lr * v_dec
        v_l2 = mu * v_l2 + g + 2 * (wd / 2) * w_l2    # L2 with λ = λ'/2 in the gradient
        w_l2 = w_l2 - lr * v_l2
    print(f"momentum {mu}: largest difference between weight decay and L2 after 20 steps: "
          f"{np.abs(w_dec - w_l2).max():.2e}")

# %% [markdown]
# ## 3. Dropout
#
# During training, **dropout** sets each activation to 0 with probability $p$ (a fresh
# random mask for every example and every step), so no unit can rely on a particular
# other unit being present (less co-adaptation, 协同适应). Each step trains a different
# random sub-network; at test time the full network acts like an average of them (an
# implicit ensemble, 集成).
#
# **Inverted dropout** (the form every framework uses) rescales the survivors during
# training so that the expected value of every activation is unchanged:
#
# $$m_i \sim \mathrm{Bernoulli}(1-p), \qquad y_i = \frac{m_i\, x_i}{1-p}, \qquad
#   \mathbb E[y_i] = (1-p)\cdot\frac{x_i}{1-p} + p\cdot 0 = x_i .$$
#
# Because of the rescaling, **evaluation is the identity**: `model.eval()` turns dropout
# off and nothing needs to be scaled at test time. (The original paper dropped without
# rescaling and multiplied the weights by $1-p$ at test time instead; the outputs are
# the same in expectation, but the inverted form keeps inference untouched.) $p$ is
# the probability of **dropping**, as in `torch.nn.Dropout(p)`; some older texts use
# the keep probability $1-p$ instead.
#
# The backward pass uses the same mask: $\partial L/\partial x_i = m_i\,g_i/(1-p)$.
#
# > **Pitfall.** Some notes describe dropout as "随机对一些参数置 0" (randomly setting
# > some *parameters* to 0). Dropout zeroes **activations** (the outputs of units),
# > not weights; the weights are untouched and all of them are used at test time.
# > Zeroing random weights is a different method (DropConnect).

# %% [markdown]
# ### Exercise 3.1 — `dropout`
# Return `(out, mask)` for a float array `x` of any shape and a drop probability `p`
# in $[0, 1)$. In training mode, draw a fresh random mask with `rng` (never with
# `np.random`): a boolean array of `x`'s shape, `True` where an entry is kept, each
# entry dropped independently with probability `p`. `out` is inverted dropout with that
# mask, as derived above, of `x`'s shape. With `training=False` return a copy of `x`
# and an all-`True` mask.

# %% nbgrader={"grade_id": "dropout", "solution": true}
def dropout(x, p, rng, training=True):
    """Inverted dropout; returns (out, mask) with mask True where an entry is kept."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    if not training:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = rng.random(x.shape) >= p
    return np.where(mask, x / (1.0 - p), 0.0), mask
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_dropout", "grade": true, "points": 1}
_x = np.arange(1.0, 9.0).reshape(2, 4)
_out, _mask = answer(dropout, _x, 0.5, np.random.default_rng(0))
_mask = np.asarray(_mask)
check_equal(_mask.shape, (2, 4), "shape of the mask for x of shape (2, 4)")
check_equal(_mask.dtype.kind, "b", "kind of the mask's dtype ('b' = boolean)")
check_close(_out, np.where(_mask, _x / 0.5, 0.0),
            "dropout(x, p=0.5) compared with mask * x / (1 - p), using your own mask",
            mistakes={"dropout not rescaled: divide the kept entries by 1 - p "
                      "(inverted dropout)": np.where(_mask, _x, 0.0),
                      "multiplied by 1 - p instead of dividing by it":
                          np.where(_mask, _x * 0.5, 0.0)})
# The fraction of kept entries must be close to 1 - p.
_out, _mask = answer(dropout, np.ones(20000), 0.3, np.random.default_rng(1))
check_close(np.mean(_mask), 0.7, "fraction of entries kept with p = 0.3 (20000 entries)",
            atol=0.015, mistakes={"p is the probability of DROPPING: you kept entries with "
                                  "probability p": 0.3})
check_close(np.mean(_out), 1.0, "mean of dropout(ones, p=0.3): inverted dropout keeps the "
            "expectation", atol=0.03,
            mistakes={"dropout not rescaled: divide the kept entries by 1 - p "
                      "(inverted dropout)": 0.7})
_out, _mask = answer(dropout, _x, 0.5, np.random.default_rng(0), training=False)
check_close(_out, _x, "dropout(x, p=0.5, training=False): evaluation is the identity",
            mistakes={"dropout must be switched off at evaluation (training=False)":
                          np.where(np.asarray(_mask), 2 * _x, 0.0)})

# %% nbgrader={"grade_id": "test_dropout_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
_NO_RESCALE = "dropout not rescaled: divide the kept entries by 1 - p (inverted dropout)"
_TIMES = "multiplied by 1 - p instead of dividing by it"
_KEEP_P = "p is the probability of DROPPING: you kept entries with probability p"
_EVAL_ON = "dropout must be switched off at evaluation (training=False)"
_rng = np.random.default_rng(603)
for _shape, _p in (((5,), 0.2), ((4, 6), 0.5), ((2, 3, 5), 0.9), ((3, 3), 0.0)):
    _x = _rng.normal(size=_shape)
    _out, _hm = answer(dropout, _x, _p, np.random.default_rng(7))
    _hm = np.asarray(_hm)
    check_equal(_hm.shape, _shape, f"shape of the mask for x of shape {_shape}")
    check_equal(_hm.dtype.kind, "b", "kind of the mask dtype ('b' = boolean)")
    check_close(_out, np.where(_hm, _x / (1 - _p), 0.0),
                f"dropout on a random x of shape {_shape}, p={_p}, against your own mask",
                mistakes={_NO_RESCALE: np.where(_hm, _x, 0.0),
                          _TIMES: np.where(_hm, _x * (1 - _p), 0.0)})
for _p in (0.1, 0.5, 0.8):
    _out, _hm = answer(dropout, np.full((200, 100), 2.0), _p,
                       np.random.default_rng(int(_p * 100)))
    check_close(np.mean(_hm), 1 - _p, f"fraction of entries kept with p={_p} "
                "(20000 entries)", atol=0.015, mistakes={_KEEP_P: _p})
    check_close(np.mean(_out), 2.0, f"mean of dropout(2·ones, p={_p})", atol=0.08,
                mistakes={_NO_RESCALE: 2.0 * (1 - _p)})
# the same generator state gives the same mask: randomness must come from rng
_x = _rng.normal(size=(6, 7))
_a = np.asarray(answer(dropout, _x, 0.4, np.random.default_rng(11))[1])
_b = np.asarray(answer(dropout, _x, 0.4, np.random.default_rng(11))[1])
check_equal(_a, _b, "masks drawn twice from np.random.default_rng(11): draw the mask with "
            "rng, not np.random")
_out, _hm = answer(dropout, _x, 0.4, np.random.default_rng(3), training=False)
check_close(_out, _x, "dropout with training=False: evaluation is the identity",
            mistakes={_EVAL_ON: np.where(np.asarray(_hm), _x / 0.6, 0.0)})
check_equal(np.asarray(_hm), np.ones(_x.shape, dtype=bool),
            "mask with training=False (all True: nothing dropped)")
### END HIDDEN TESTS

# %% [markdown]
# The expectation argument, numerically, with your `dropout`: average many dropout
# outputs of the same input and you get the input back; without the rescaling you get
# $(1-p)$ times it.

# %% tags=["demo"]
own_drop = mine.own(globals(), "06_regularization", ["dropout"])
x_demo = np.array([1.0, -2.0, 3.0, 0.5])
r = np.random.default_rng(0)
draws = np.array([own_drop.dropout(x_demo, 0.3, r)[0] for _ in range(20000)])
print("x                        :", x_demo)
print("mean of 20000 dropout(x) :", draws.mean(axis=0).round(3))
print("without rescaling        :", (draws * 0.7).mean(axis=0).round(3), " = (1-p)·x")

# %% [markdown]
# ### A small MLP on digits, with your dropout
#
# The demo trains a 64 → 128 → 10 ReLU network on only **300** training digits
# (validation: 500 others) with `dlnotes.optim.SGD` (momentum 0.9, batches of 50), the
# cross-entropy of `dlnotes.losses`, your `dropout` on the hidden layer and the L2
# gradient $2\lambda W$ on both weight matrices. The backward pass through dropout uses
# the same mask: $\partial L/\partial x = \mathrm{mask}\cdot g/(1-p)$.
# To make overfitting plain to see, 20% of the training labels were replaced by random
# digits (label noise, 标签噪声): a network that drives the training loss to 0 has
# memorised those wrong labels, and the validation loss climbs. A grid of runs over
# dropout $p$ and L2 $\lambda$ is trained once (the progress bar), so the widget below
# only redraws. A network with 4 hidden units shows underfitting.

# %% tags=["demo"]
EPOCHS = 25 if FAST else 50
P_GRID = (0.0, 0.2, 0.5)
LAM_GRID = (0.0, 1e-3, 3e-3)


def mlp_init(seed, hidden=128):
    r = np.random.default_rng(seed)
    return [ref.kaiming_normal(64, hidden, r), np.zeros(hidden),
            ref.xavier_normal(hidden, 10, r), np.zeros(10)]


def mlp_logits(params, X):
    W1, b1, W2, b2 = params
    return np.maximum(X @ W1.T + b1, 0.0) @ W2.T + b2


def train_mlp(p=0.0, lam=0.0, epochs=EPOCHS, hidden=128, lr=0.1, seed=0, stopper=None):
    """Train with dropout p on the hidden layer and an L2 penalty lam; return the history."""
    params = mlp_init(seed, hidden)
    W1, b1, W2, b2 = params
    batch_rng, drop_rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    opt = optim.SGD(params, lr=lr, momentum=0.9)
    hist = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
    for _ in range(epochs):
        for xb, yb in data.minibatches(X_tr, y_tr, 50, rng=batch_rng):
            z1 = xb @ W1.T + b1
            h, mask = own_drop.dropout(np.maximum(z1, 0.0), p, drop_rng, training=True)
            g = losses.cross_entropy_grad(h @ W2.T + b2, yb)
            dz1 = (g @ W2) * mask / (1 - p) * (z1 > 0)
            opt.step([dz1.T @ xb + 2 * lam * W1, dz1.sum(axis=0),
                      g.T @ h + 2 * lam * W2, g.sum(axis=0)])
        for split, X, y in (("train", X_tr, y_tr), ("val", X_va, y_va)):
            logits = mlp_logits(params, X)           # evaluation: no dropout
            hist[f"{split}_loss"].append(losses.cross_entropy(logits, y))
            hist[f"{split}_acc"].append(float(np.mean(logits.argmax(axis=1) == y)))
        if stopper is not None and stopper.step(hist["val_loss"][-1]):
            break
    return {k: np.array(v) for k, v in hist.items()}


grid = {}
for p in tqdm(P_GRID, desc="dropout p"):
    for lam in LAM_GRID:
        grid[p, lam] = train_mlp(p, lam)
small = train_mlp(hidden=4)

# %% [markdown]
# **Early stopping.** Instead of training for a fixed number of epochs, watch the
# validation loss, stop when it has not improved for `patience` epochs, and keep the
# weights of the best epoch. Below, the run without any regularization is replayed
# through `EarlyStopping(patience=5)` (Exercise 6.2 writes it).

# %% tags=["demo"]
plain, drop = grid[0.0, 0.0], grid[0.5, 0.0]
stopper = ref.EarlyStopping(patience=5)
stop_epoch = next((i for i, v in enumerate(plain["val_loss"]) if stopper.step(v)), None)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
ax = axes[0]
ax.plot(plain["train_loss"], "C0--", label="train, no dropout")
ax.plot(plain["val_loss"], "C0", label="val, no dropout")
ax.plot(drop["train_loss"], "C1--", label="train, dropout p=0.5")
ax.plot(drop["val_loss"], "C1", label="val, dropout p=0.5")
if stop_epoch is not None:
    ax.axvline(stop_epoch, color="k", ls=":", label=f"early stop (epoch {stop_epoch})")
    ax.plot(stopper.best_step, stopper.best, "k*", ms=11, label="best epoch (restore it)")
ax.set(xlabel="epoch", ylabel="cross-entropy", title="Overfitting, dropout, early stopping",
       ylim=(0, 1.6))
ax.legend(fontsize=7)
axes[1].plot(plain["val_acc"], "C0", label="val, no dropout")
axes[1].plot(drop["val_acc"], "C1", label="val, dropout p=0.5")
axes[1].plot(plain["train_acc"], "C0--", label="train, no dropout")
axes[1].set(xlabel="epoch", ylabel="accuracy (train: on the noisy labels)", ylim=(0.5, 1.0),
            title="Accuracy")
axes[1].legend(fontsize=7)
axes[2].plot(small["train_loss"], "C2--", label="train")
axes[2].plot(small["val_loss"], "C2", label="val")
axes[2].set(xlabel="epoch", title="Underfitting: 4 hidden units", ylim=(0, 2.5))
axes[2].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# Move the sliders: every combination of dropout $p$ and L2 $\lambda$ was trained
# above, so the plot only redraws.

# %% tags=["demo"]
import ipywidgets as widgets


def show_run(p=0.0, lam=0.0):
    h = grid[p, lam]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
    ax1.plot(h["train_loss"], "--", label="train")
    ax1.plot(h["val_loss"], label="val")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", ylim=(0, 1.6),
            title=f"p = {p}, λ = {lam}: best val loss {h['val_loss'].min():.3f} "
                  f"(epoch {h['val_loss'].argmin()})")
    ax1.legend()
    ax2.plot(h["train_acc"], "--", label="train")
    ax2.plot(h["val_acc"], label="val")
    ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0.5, 1.0),
            title=f"final val accuracy {h['val_acc'][-1]:.3f}")
    ax2.legend()
    plt.tight_layout()
    plt.show()


widgets.interact(show_run,
                 p=widgets.SelectionSlider(options=P_GRID, value=0.0, description="dropout p"),
                 lam=widgets.SelectionSlider(options=LAM_GRID, value=0.0, description="L2 λ"));

# %% [markdown]
# ## 4. Normalization layers
#
# ### Batch normalization
#
# **Batch normalization** standardises every feature with the statistics of the
# current mini-batch, then lets the network rescale and shift it with learned
# $\gamma$ and $\beta$. For $x$ of shape $(N, D)$ (batch × features), per feature $d$:
#
# $$\mu_d = \frac1N\sum_n x_{nd}, \qquad
#   \sigma_d^2 = \frac1N\sum_n (x_{nd} - \mu_d)^2, \qquad
#   y_{nd} = \gamma_d\,\frac{x_{nd} - \mu_d}{\sqrt{\sigma_d^2 + \epsilon}} + \beta_d .$$
#
# **Train vs eval.** At test time there may be a single example, and a prediction must
# not depend on which other examples share its batch. So during training BN also keeps
# **running averages** (滑动平均) of the statistics, updated *in place* after every
# batch, and evaluation uses them instead of batch statistics:
#
# $$\hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
#   \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{N}{N-1}\,\sigma^2 .$$
#
# Two details are torch's (`nn.BatchNorm1d`): the output uses the **biased** batch
# variance $\sigma^2$, but the running estimate is fed the **unbiased** one
# $\frac{N}{N-1}\sigma^2$; and `momentum` $m = 0.1$ is the weight of the **new** value
# (the opposite of an optimizer's momentum). The running statistics start at
# $\hat\mu = 0$, $\hat\sigma^2 = 1$.
#
# For images $x$ has shape $(N, C, H, W)$ and `BatchNorm2d` computes **one** mean and
# variance **per channel**, over the batch and both spatial axes $(N, H, W)$: it is the
# same as the $(N, D)$ case after moving the channel axis last and flattening, with
# $D = C$ and $N\cdot H\cdot W$ rows.
#
# > **Pitfall.** Some notes say BN "在通道维上对 mini-batch 标准化" (normalises along the
# > channel axis). That is misleading: the statistics are computed **per channel**
# > (one $\mu_c, \sigma_c$ for each channel), **over** the batch and spatial axes.
# > Averaging *along* the channel axis (over the channels of one example) is what
# > LayerNorm/GroupNorm-style layers do, and it gives different numbers.

# %% [markdown]
# ### Exercise 4.1 — `batch_norm_forward`
# Implement the formulas above for `x` of shape $(N, D)$. In training mode normalise
# with the batch statistics and update `running_mean` and `running_var` **in place**
# (`running_mean *= 1 - momentum`, then `running_mean += ...`; a new array
# `running_mean = ...` would not reach the caller). In evaluation mode normalise with
# the running statistics and change nothing. Return `(out, cache)` with
# `cache = (xhat, gamma, inv_std, training)`, where `xhat` is the normalised input
# and `inv_std` $= 1/\sqrt{\text{variance used} + \epsilon}$, of shape $(D,)$.

# %% nbgrader={"grade_id": "batch_norm_forward", "solution": true}
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training,
                       momentum=0.1, eps=1e-5):
    """BatchNorm1d forward on x of shape (N, D); updates the running stats in place."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    gamma, beta = np.asarray(gamma, dtype=float), np.asarray(beta, dtype=float)
    if training:
        n = x.shape[0]
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        running_mean *= 1.0 - momentum
        running_mean += momentum * mu
        running_var *= 1.0 - momentum
        running_var += momentum * var * n / (n - 1)
    else:
        mu, var = np.array(running_mean, dtype=float), np.array(running_var, dtype=float)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, training)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_batch_norm_forward", "grade": true, "points": 1}
_x = np.array([[1.0, 10.0], [3.0, 30.0]])          # batch mean [2, 20], variance [1, 100]
_rm, _rv = inplace(np.zeros(2), np.ones(2))
_out, _cache = answer(batch_norm_forward, _x, np.ones(2), np.zeros(2), _rm, _rv, True)
_s = 1 / np.sqrt(np.array([1.0, 100.0]) + 1e-5)
check_close(_out, [[-1.0 * _s[0], -10.0 * _s[1]], [_s[0], 10.0 * _s[1]]],
            "batch_norm_forward([[1, 10], [3, 30]]) in training mode")
check_close(_rm, [0.2, 2.0], "running_mean after one training batch: 0.9·0 + 0.1·[2, 20]",
            mistakes={"running_mean did not change: update it in place "
                      "(running_mean *= 1 - momentum; running_mean += ...)": [0.0, 0.0],
                      "momentum reversed: the NEW value gets weight momentum = 0.1":
                          [1.8, 18.0]})
check_close(_rv, [1.1, 20.9], "running_var after one training batch: "
            "0.9·1 + 0.1·[2, 200] (unbiased variance N/(N-1)·σ²)",
            mistakes={"running_var must be fed the unbiased batch variance N/(N-1)·σ², "
                      "not the biased one": [1.0, 10.9],
                      "running_var did not change: update it in place": [1.0, 1.0],
                      "momentum reversed: the NEW value gets weight momentum = 0.1":
                          [1.9, 180.1]})
# Evaluation: use the running statistics, whatever the batch looks like, and update nothing.
_rm, _rv = inplace(np.array([1.0, -2.0]), np.array([4.0, 0.25]))
_xe = np.array([[3.0, -1.0], [5.0, -2.0], [1.0, 0.0]])
_g, _b = np.array([2.0, 1.0]), np.array([0.5, -0.5])
_out, _cache = answer(batch_norm_forward, _xe, _g, _b, _rm, _rv, False)
_bm, _bv = _xe.mean(axis=0), _xe.var(axis=0)
check_close(_out, _g * (_xe - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) + _b,
            "batch_norm_forward in evaluation mode with running_mean=[1, -2], "
            "running_var=[4, 0.25]",
            mistakes={"batch statistics at evaluation: eval mode must use the running "
                      "statistics": _g * (_xe - _bm) / np.sqrt(_bv + 1e-5) + _b})
check_close(np.concatenate([_rm, _rv]), [1.0, -2.0, 4.0, 0.25],
            "running statistics after an evaluation call (they must not change)")

# %% nbgrader={"grade_id": "test_batch_norm_forward_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref


def _bn_sim(_x, _g, _b, _rm, _rv, _training, _m, _eps, unbiased=True, swap=False):
    """A wrong-on-purpose batch norm, for the known mistakes."""
    _n = _x.shape[0]
    if _training:
        _mu, _var = _x.mean(axis=0), _x.var(axis=0)
        _new = _var * _n / (_n - 1) if unbiased else _var
        _w = 1 - _m if swap else _m
        _rm[:] = (1 - _w) * _rm + _w * _mu
        _rv[:] = (1 - _w) * _rv + _w * _new
    else:
        _mu, _var = _rm, _rv
    return _g * (_x - _mu) / np.sqrt(_var + _eps) + _b


_RM_STUCK = ("running_mean did not change: update it in place "
             "(running_mean *= 1 - momentum; running_mean += ...)")
_rng = np.random.default_rng(604)
for _n, _d, _m, _eps in ((8, 3, 0.1, 1e-5), (2, 5, 0.3, 1e-3), (16, 4, 1.0, 1e-5)):
    _g, _b = _rng.normal(size=_d), _rng.normal(size=_d)
    _rm, _rv = inplace(np.zeros(_d), np.ones(_d))     # the student's
    _rm_ref, _rv_ref = np.zeros(_d), np.ones(_d)      # the reference's
    _rm_biased, _rv_biased = np.zeros(_d), np.ones(_d)
    _rm_swap, _rv_swap = np.zeros(_d), np.ones(_d)
    for _step in range(4):
        _x = _rng.normal(loc=3.0, scale=2.0, size=(_n, _d))
        _out, _ = answer(batch_norm_forward, _x, _g, _b, _rm, _rv, True,
                         momentum=_m, eps=_eps)
        _want, _ = _ref.batch_norm_forward(_x, _g, _b, _rm_ref, _rv_ref, True,
                                           momentum=_m, eps=_eps)
        _bn_sim(_x, _g, _b, _rm_biased, _rv_biased, True, _m, _eps, unbiased=False)
        _bn_sim(_x, _g, _b, _rm_swap, _rv_swap, True, _m, _eps, swap=True)
        _where = f"training batch {_step + 1} of shape {(_n, _d)}, momentum={_m}, eps={_eps}"
        check_close(_out, _want, f"batch_norm_forward output on {_where}", atol=1e-8,
                    mistakes={"the output must use the biased batch variance σ² "
                              "(divide by N), not N/(N-1)·σ²":
                                  _g * (_x - _x.mean(0)) / np.sqrt(_x.var(0, ddof=1) + _eps)
                                  + _b})
        check_close(_rm, _rm_ref, f"running_mean after {_where}", atol=1e-8,
                    mistakes={_RM_STUCK: np.zeros(_d),
                              "momentum reversed: the NEW value gets weight momentum":
                                  _rm_swap})
        check_close(_rv, _rv_ref, f"running_var after {_where}", atol=1e-8,
                    mistakes={"running_var must be fed the unbiased batch variance "
                              "N/(N-1)·σ², not the biased one": _rv_biased,
                              "running_var did not change: update it in place": np.ones(_d),
                              "momentum reversed: the NEW value gets weight momentum":
                                  _rv_swap})
    # Evaluation, judged with YOUR running statistics (as they were before the call), so
    # that a slip in the running update above is not reported a second time here.
    _x = _rng.normal(loc=3.0, scale=2.0, size=(_n, _d))
    _rm_before, _rv_before = np.array(_rm, dtype=float), np.array(_rv, dtype=float)
    _out, _ = answer(batch_norm_forward, _x, _g, _b, _rm, _rv, False,
                     momentum=_m, eps=_eps)
    _want, _ = _ref.batch_norm_forward(_x, _g, _b, _rm_before.copy(),
                                       np.maximum(_rv_before, 0.0), False, momentum=_m, eps=_eps)
    _batch, _ = _ref.batch_norm_forward(_x, _g, _b, None, None, False, eps=_eps)
    check_close(_out, _want, f"batch_norm_forward in evaluation mode on shape {(_n, _d)}, "
                "with your running statistics", atol=1e-8,
                mistakes={"batch statistics at evaluation: eval mode must use "
                          "the running statistics": _batch})
    check_close(np.concatenate([_rm, _rv]), np.concatenate([_rm_before, _rv_before]),
                "running statistics after an evaluation call (they must not change)",
                atol=1e-8)
# a single example at evaluation time (impossible with batch statistics)
_x1 = np.array([[0.5, -1.0, 2.0]])
_rm, _rv = np.array([0.1, 0.2, 0.3]), np.array([1.5, 0.5, 2.0])
_out, _ = answer(batch_norm_forward, _x1, np.ones(3), np.zeros(3), _rm, _rv, False)
check_close(_out, _ref.batch_norm_forward(_x1, np.ones(3), np.zeros(3), _rm.copy(),
                                          _rv.copy(), False)[0],
            "batch_norm_forward in evaluation mode on a single example")
### END HIDDEN TESTS

# %% [markdown]
# ### The backward pass, through the computational graph
#
# In training mode every output row depends on **every** input row, through the batch
# mean and variance. Take one feature (one column; all columns are independent, so we
# drop the index $d$) and write the forward pass as a chain of small nodes, each one
# easy to differentiate:
#
# | node | forward | local derivatives |
# |---|---|---|
# | mean | $\mu = \frac1N\sum_n x_n$ | $\frac1N$ with respect to each $x_n$ |
# | centre | $c_n = x_n - \mu$ | $1$ w.r.t. $x_n$, $-1$ w.r.t. $\mu$ |
# | variance | $\sigma^2 = \frac1N\sum_n c_n^2$ | $2c_n/N$ w.r.t. $c_n$ |
# | inverse std | $s = (\sigma^2 + \epsilon)^{-1/2}$ | $-\frac12 s^3$ w.r.t. $\sigma^2$ |
# | normalise | $\hat x_n = c_n s$ | $s$ w.r.t. $c_n$, $c_n$ w.r.t. $s$ |
# | scale, shift | $y_n = \gamma\hat x_n + \beta$ | $\gamma$ w.r.t. $\hat x_n$ |
#
# Backpropagation (chapter 4) walks the table from the bottom up. A node that feeds
# several others (μ feeds every $c_n$; $s$ feeds every $\hat x_n$; $\gamma$ and $\beta$
# are used by every row) **adds up** the gradients that come back from all of them.
# Write $g_n = \partial L/\partial y_n$ (that is `dout`).
#
# 1. **Scale and shift.** $\gamma$ and $\beta$ are shared by the $N$ rows, so
#    $\dfrac{\partial L}{\partial\beta} = \sum_n g_n$ and
#    $\dfrac{\partial L}{\partial\gamma} = \sum_n g_n\,\hat x_n$; and
#    $\hat g_n := \dfrac{\partial L}{\partial\hat x_n} = \gamma\, g_n$.
# 2. **Normalise.** $s$ is shared: $\dfrac{\partial L}{\partial s} = \sum_n \hat g_n\,c_n$.
#    Each $c_n$ receives $\hat g_n\,s$ directly from its own $\hat x_n$.
# 3. **Inverse std.** $\dfrac{\partial L}{\partial\sigma^2} =
#    -\dfrac12\,s^3\sum_n \hat g_n\,c_n$.
# 4. **Variance.** Each $c_n$ receives a second contribution,
#    $\dfrac{2c_n}{N}\,\dfrac{\partial L}{\partial\sigma^2}$. With $c_n s = \hat x_n$ the
#    two contributions add up to
#
#    $$\frac{\partial L}{\partial c_n} = s\,\hat g_n - \frac{s}{N}\,\hat x_n
#      \sum_k \hat g_k\,\hat x_k .$$
# 5. **Centre and mean.** $x_n$ reaches the loss directly through $c_n$ and, through
#    μ, via every $c_k$: $\dfrac{\partial L}{\partial\mu} = -\sum_k
#    \dfrac{\partial L}{\partial c_k}$, and μ hands $\frac1N$ of that back to each
#    $x_n$. (The variance also depends on μ, but only through the $c_k$, which we have
#    already followed; directly, $\partial\sigma^2/\partial\mu = -\frac2N\sum_k c_k = 0$.)
#    So
#
#    $$\frac{\partial L}{\partial x_n} = \frac{\partial L}{\partial c_n}
#      - \frac1N\sum_k \frac{\partial L}{\partial c_k}.$$
#
# Put 4 into 5 and use $\sum_k \hat x_k = 0$: the second term is $\frac sN\sum_k\hat g_k$,
# and
#
# $$\frac{\partial L}{\partial x_n} = s\,\Bigl(\hat g_n - \frac1N\sum_k \hat g_k
#   - \hat x_n\,\frac1N\sum_k \hat g_k\,\hat x_k\Bigr).$$
#
# Read it as: the gradient $\hat g_n\,s$ that a constant normalisation would pass back,
# minus its batch mean (the path through μ), minus its component along $\hat x$ (the
# path through $\sigma^2$). Two checks follow from it: $\sum_n \partial L/\partial x_n = 0$
# (adding a constant to a column changes nothing after normalisation) and
# $\sum_n \hat x_n\,\partial L/\partial x_n = 0$ (neither does scaling a column).
#
# In evaluation mode μ and $\sigma^2$ are the running statistics: constants, not
# functions of the batch. Steps 2–5 then reduce to $\partial L/\partial x_n = s\,\hat g_n$,
# with the running variance in $s$.

# %% [markdown]
# ### Exercise 4.2 — `batch_norm_backward`
# Return `(dx, dgamma, dbeta)` for `dout` of shape $(N, D)$ and the `cache` that
# `batch_norm_forward` returns, `cache = (xhat, gamma, inv_std, training)`: `xhat` of
# shape $(N, D)$, `gamma` and `inv_std` (the $s$ of each feature) of shape $(D,)$, and
# `training` a bool, `True` when the forward pass normalised with the batch statistics
# and `False` when it used the running statistics. `dx` has shape $(N, D)$, `dgamma`
# and `dbeta` shape $(D,)$.

# %% nbgrader={"grade_id": "batch_norm_backward", "solution": true}
def batch_norm_backward(dout, cache):
    """Gradients (dx, dgamma, dbeta) of batch_norm_forward.

    cache = (xhat, gamma, inv_std, training) as batch_norm_forward returns it: xhat of
    shape (N, D), gamma and inv_std of shape (D,), training a bool.
    """
    ### BEGIN SOLUTION
    xhat, gamma, inv_std, use_batch_stats = cache
    dout = np.asarray(dout, dtype=float)
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    gh = dout * gamma
    if not use_batch_stats:
        return gh * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = inv_std / n * (n * gh - gh.sum(axis=0) - xhat * (gh * xhat).sum(axis=0))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_batch_norm_backward", "grade": true, "points": 2}
def _bn_train(_x, _g, _b, _eps=1e-5):
    return _g * (_x - _x.mean(0)) / np.sqrt(_x.var(0) + _eps) + _b


_x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5], [2.0, 4.0]])
_g, _b = np.array([1.5, -0.5]), np.array([0.1, 0.2])
_dout = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0], [0.5, -0.5]])
_inv = 1 / np.sqrt(_x.var(0) + 1e-5)
_xhat = (_x - _x.mean(0)) * _inv
_dx, _dgamma, _dbeta = answer(batch_norm_backward, _dout, (_xhat, _g, _inv, True))
# dL/dx by central differences of L = sum(dout * out(x))
_num = np.zeros_like(_x)
for _i in np.ndindex(*_x.shape):
    _e = np.zeros_like(_x)
    _e[_i] = 1e-6
    _num[_i] = np.sum(_dout * (_bn_train(_x + _e, _g, _b) - _bn_train(_x - _e, _g, _b))) / 2e-6
check_close(_dbeta, _dout.sum(0), "dbeta (sum of dout over the batch)",
            mistakes={"dgamma and dbeta look swapped": (_dout * _xhat).sum(0)})
check_close(_dgamma, (_dout * _xhat).sum(0), "dgamma (sum of dout * xhat over the batch)",
            mistakes={"dgamma and dbeta look swapped": _dout.sum(0)})
_gh = _dout * _g
check_close(_dx, _num, "dx in training mode, compared with finite differences", atol=1e-6,
            mistakes={"dx treats μ and σ² as constants, but in training mode they depend on "
                      "every row: dx = dout·γ·inv_std is the evaluation-mode formula":
                          _gh * _inv,
                      "the path through the mean μ is missing (the term with the batch mean "
                      "of dout·γ)": _inv * (_gh - _xhat * (_gh * _xhat).mean(0)),
                      "the path through the variance σ² is missing (the term along xhat)":
                          _inv * (_gh - _gh.mean(0)),
                      "γ is missing from dx: the gradient reaching xhat is dout·γ":
                          _inv * (_dout - _dout.mean(0) - _xhat * (_dout * _xhat).mean(0))})
# Evaluation mode: the running statistics (variance [4, 0.25] here) are constants.
_inv_run = 1 / np.sqrt(np.array([4.0, 0.25]) + 1e-5)
_xhat_run = (_x - np.array([1.0, 0.5])) * _inv_run
_dx, _, _ = answer(batch_norm_backward, _dout, (_xhat_run, _g, _inv_run, False))
check_close(_dx, _gh * _inv_run, "dx in evaluation mode (running statistics are constants)",
            mistakes={"in evaluation mode the running statistics are constants: use the "
                      "evaluation-mode formula": _inv_run * (
                          _gh - _gh.mean(0) - _xhat_run * (_gh * _xhat_run).mean(0))})

# %% nbgrader={"grade_id": "test_batch_norm_backward_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref

_rng = np.random.default_rng(605)
for _n, _d, _training in ((6, 3, True), (2, 4, True), (32, 5, True), (5, 3, False),
                          (1, 4, False)):
    _x = _rng.normal(loc=1.0, scale=3.0, size=(_n, _d))
    _g, _b = _rng.normal(size=_d), _rng.normal(size=_d)
    _rm, _rv = _rng.normal(size=_d), _rng.uniform(0.5, 2.0, size=_d)
    _, _cache = _ref.batch_norm_forward(_x, _g, _b, _rm, _rv, _training)
    _xhat, _gg, _inv, _ubs = _cache
    _dout = _rng.normal(size=(_n, _d))
    _got = answer(batch_norm_backward, _dout, (_xhat.copy(), _gg.copy(), _inv.copy(),
                                               _ubs))
    _want = _ref.batch_norm_backward(_dout, _cache)
    _mode = "training" if _training else "evaluation"
    check_equal(len(_got), 3, "number of values returned (dx, dgamma, dbeta)")
    _gh = _dout * _gg
    _train_dx = _inv / _n * (_n * _gh - _gh.sum(0) - _xhat * (_gh * _xhat).sum(0))
    _no_mu = _inv * (_gh - _xhat * (_gh * _xhat).mean(0))
    _no_var = _inv * (_gh - _gh.mean(0))
    check_close(_got[0], _want[0], f"dx in {_mode} mode on shape {(_n, _d)}", atol=1e-8,
                mistakes={"dx treats μ and σ² as constants, but in training mode they depend "
                          "on every row: dx = dout·γ·inv_std is the evaluation-mode formula":
                              _inv * _gh,
                          "the path through the mean μ is missing": _no_mu,
                          "the path through the variance σ² is missing": _no_var,
                          "γ is missing from dx (use dout·γ as the gradient of xhat)":
                              _want[0] / _gg,
                          "in evaluation mode the running statistics are constants: "
                          "dx = dout·γ·inv_std": _train_dx})
    check_close(_got[1], _want[1], f"dgamma in {_mode} mode on shape {(_n, _d)}", atol=1e-8,
                mistakes={"dgamma and dbeta look swapped": _want[2]})
    check_close(_got[2], _want[2], f"dbeta in {_mode} mode on shape {(_n, _d)}", atol=1e-8,
                mistakes={"dgamma and dbeta look swapped": _want[1],
                          "dbeta averaged over the batch: it is a sum": _want[2] / _n})
### END HIDDEN TESTS

# %% [markdown]
# The demo runs your `batch_norm_forward`. It shows the running statistics converging
# while training batches stream in (features with mean $[3, -1]$ and variance
# $[4, 0.25]$), then what goes wrong when a network evaluates with batch statistics:
# the output for one and the same example changes with the other examples of its batch.

# %% tags=["demo"]
own_bn = mine.own(globals(), "06_regularization", ["batch_norm_forward"])
r = np.random.default_rng(0)
rm, rv = np.zeros(2), np.ones(2)
hist_m, hist_v = [], []
for _ in range(60):
    xb = r.normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(32, 2))
    own_bn.batch_norm_forward(xb, np.ones(2), np.zeros(2), rm, rv, training=True)
    hist_m.append(rm.copy())
    hist_v.append(rv.copy())
fig, ax = plt.subplots(figsize=(6.5, 3.3))
ax.plot(np.array(hist_m), label=["running mean[0] → 3", "running mean[1] → -1"])
ax.plot(np.array(hist_v), "--", label=["running var[0] → 4", "running var[1] → 0.25"])
ax.set(xlabel="training batch", title="BatchNorm running statistics (momentum 0.1)")
ax.legend(fontsize=8)
plt.show()

example = np.array([[3.0, -1.0]])
for others in (r.normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(7, 2)),
               r.normal(loc=[8.0, 2.0], scale=[1.0, 0.5], size=(7, 2))):
    batch = np.vstack([example, others])
    # training mode normalises with the batch statistics (the copies absorb the update)
    with_batch = own_bn.batch_norm_forward(batch, np.ones(2), np.zeros(2), rm.copy(), rv.copy(),
                                        True)[0][0]
    with_running = own_bn.batch_norm_forward(batch, np.ones(2), np.zeros(2), rm, rv, False)[0][0]
    print(f"same example, other batch mates: batch stats → {with_batch.round(3)}, "
          f"running stats → {with_running.round(3)}")

# Images (N, C, H, W): one mean and variance per channel, over the N, H and W axes.
x4 = r.normal(loc=[[[1.0]], [[-2.0]], [[5.0]]], size=(8, 3, 5, 5))
flat = x4.transpose(0, 2, 3, 1).reshape(-1, 3)          # (N·H·W, C) rows
out4 = own_bn.batch_norm_forward(flat, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), True)[0]
out4 = out4.reshape(8, 5, 5, 3).transpose(0, 3, 1, 2)
print("per-channel statistics, shape", x4.mean(axis=(0, 2, 3)).shape, "→ means",
      x4.mean(axis=(0, 2, 3)).round(2), "; after BN:", out4.mean(axis=(0, 2, 3)).round(6))
print("'along the channel axis' would instead give statistics of shape",
      x4.mean(axis=1).shape, "(one per example and pixel): not batch norm")

# %% [markdown]
# ### Batch norm and dropout, one at a time: an ablation
#
# Does batch norm help the digits network of section 3? Does dropout? To tell, change
# **one thing at a time** and keep everything else fixed: an **ablation** (消融实验). The
# demo trains four versions of the same network (64 → 128 → 10, ReLU, SGD with momentum
# 0.9 and learning rate 0.1, batches of 50, the same 300 training digits with 20% noisy
# labels): with or without a batch-norm layer between the first linear layer and the
# ReLU, and with or without dropout $p = 0.5$ after the ReLU. Each version starts from
# the same initial weights and sees the batches in the same order, and each is repeated
# for a few seeds, because one run's accuracy moves by a point or two with the seed
# alone. The layers are your `dropout`, `batch_norm_forward` and `batch_norm_backward`;
# validation runs in evaluation mode (running statistics, no dropout).

# %% tags=["demo"]
own_layers = mine.own(globals(), "06_regularization",
               ["dropout", "batch_norm_forward", "batch_norm_backward"])
SEEDS = (0, 1) if FAST else (0, 1, 2)


def train_ablation(use_bn, p, seed, epochs=EPOCHS, lr=0.1, hidden=128):
    """Train the 64 → hidden → 10 network; return per-epoch train loss and val accuracy."""
    W1, b1, W2, b2 = mlp_init(seed, hidden)
    gamma, beta = np.ones(hidden), np.zeros(hidden)
    run_mean, run_var = np.zeros(hidden), np.ones(hidden)
    opt = optim.SGD([W1, b1, W2, b2, gamma, beta], lr=lr, momentum=0.9)
    batch_rng, drop_rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    no_grad = np.zeros(hidden)

    def predict(X):                         # evaluation mode
        z = X @ W1.T + b1
        if use_bn:
            z = own_layers.batch_norm_forward(z, gamma, beta, run_mean, run_var, False)[0]
        return np.maximum(z, 0.0) @ W2.T + b2

    train_loss, val_acc = [], []
    for _ in range(epochs):
        for xb, yb in data.minibatches(X_tr, y_tr, 50, rng=batch_rng):
            z = xb @ W1.T + b1
            if use_bn:
                z, cache = own_layers.batch_norm_forward(z, gamma, beta, run_mean, run_var, True)
            h, mask = own_layers.dropout(np.maximum(z, 0.0), p, drop_rng, training=True)
            g = losses.cross_entropy_grad(h @ W2.T + b2, yb)
            dz = (g @ W2) * mask / (1 - p) * (z > 0)
            dgamma = dbeta = no_grad
            if use_bn:
                dz, dgamma, dbeta = own_layers.batch_norm_backward(dz, cache)
            opt.step([dz.T @ xb, dz.sum(axis=0), g.T @ h, g.sum(axis=0), dgamma, dbeta])
        train_loss.append(losses.cross_entropy(predict(X_tr), y_tr))
        val_acc.append(float(np.mean(predict(X_va).argmax(axis=1) == y_va)))
    return np.array(train_loss), np.array(val_acc)


ablation = {}
for use_bn, p in tqdm([(False, 0.0), (False, 0.5), (True, 0.0), (True, 0.5)], desc="ablation"):
    runs = [train_ablation(use_bn, p, seed) for seed in SEEDS]
    ablation[use_bn, p] = (np.mean([r[0] for r in runs], axis=0),
                           np.array([r[1] for r in runs]))

print(f"validation accuracy after {EPOCHS} epochs, mean ± std over {len(SEEDS)} seeds")
print(f"{'':18}{'no dropout':>16}{'dropout 0.5':>16}")
for use_bn in (False, True):
    final = [ablation[use_bn, p][1][:, -1] for p in (0.0, 0.5)]
    cells = [f"{acc.mean():.3f} ± {acc.std():.3f}" for acc in final]
    print(f"{'batch norm' if use_bn else 'no batch norm':18}{cells[0]:>16}{cells[1]:>16}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.6))
for (use_bn, p), (tl, va) in ablation.items():
    name = f"{'BN' if use_bn else 'no BN'}, {'dropout 0.5' if p else 'no dropout'}"
    style = "-" if use_bn else "--"
    ax1.plot(tl, style, label=name)
    ax2.plot(va.mean(axis=0), style, label=name)
ax1.set(xlabel="epoch", ylabel="cross-entropy on the (noisy) training labels",
        title="Training loss (mean over seeds)", yscale="log")
ax2.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.6, 0.95),
        title="Validation accuracy (mean over seeds)")
ax1.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the table along a row to see what dropout does with batch norm held fixed, and
# down a column to see what batch norm does with dropout held fixed. Compare each
# difference with the spread over seeds before believing it: a difference smaller than
# the spread is noise. On this shallow network, batch norm mainly makes the training
# loss fall faster, i.e. memorise the noisy labels sooner; its strength is making
# *deep* networks trainable, and a network with one hidden layer does not need that.
# The training-loss panel shows what each change does to fitting, the accuracy panel
# what it does to generalisation.

# %% [markdown]
# ### Layer normalization
#
# **Layer normalization** standardises each example over its own features (the last
# axis), with no reference to the rest of the batch:
#
# $$\mu = \frac1D\sum_d x_d, \qquad \sigma^2 = \frac1D\sum_d (x_d - \mu)^2, \qquad
#   y_d = \gamma_d\,\frac{x_d - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_d .$$
#
# No running statistics, identical behaviour in training and evaluation, and batch size
# 1 is fine: the normalization of choice in Transformers and RNNs, where sequences of
# different lengths make batch statistics awkward.
#
# | | BatchNorm | LayerNorm |
# |---|---|---|
# | statistics over | batch (+ spatial) axes, per channel | features of one example |
# | train vs eval | different (batch vs running statistics) | the same |
# | depends on batch size | yes (noisy for small batches) | no |
# | typical use | CNNs | Transformers, RNNs |

# %% [markdown]
# ### Exercise 4.3 — `layer_norm_forward`
# Normalise `x` of shape $(\dots, D)$ (any number of leading axes) over its **last**
# axis with the biased variance, then scale and shift by `gamma` and `beta` of shape
# $(D,)$. Return `(out, cache)`: `out` of `x`'s shape, and
# `cache = (xhat, gamma, inv_std)` where `xhat` is the normalised input, of shape
# $(\dots, D)$; `gamma` is the scale, of shape $(D,)$; and `inv_std` is
# $1/\sqrt{\sigma^2+\epsilon}$ of each row, of shape $(\dots, 1)$ (the last axis kept,
# with length 1). `layer_norm_backward` (Exercise 4.4) reads this cache, and later
# chapters pass it from your forward pass to your backward pass, so keep this layout.

# %% nbgrader={"grade_id": "layer_norm_forward", "solution": true}
def layer_norm_forward(x, gamma, beta, eps=1e-5):
    """LayerNorm over the last axis; returns (out, cache).

    cache = (xhat, gamma, inv_std): xhat of x's shape (..., D), gamma of shape (D,),
    inv_std = 1 / sqrt(variance + eps) of each row, of shape (..., 1).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    gamma = np.asarray(gamma, dtype=float)
    return gamma * xhat + np.asarray(beta, dtype=float), (xhat, gamma, inv_std)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_layer_norm_forward", "grade": true, "points": 1}
_s = np.sqrt(1.5) / np.sqrt(1 + 1.5e-5)                       # 1/sqrt(2/3 + eps) for row 1
_out, _ = answer(layer_norm_forward, np.array([[1.0, 2.0, 3.0]]), np.ones(3), np.zeros(3))
check_close(_out, [[-_s, 0.0, _s]], "layer_norm_forward([[1, 2, 3]])",
            mistakes={"normalised over the batch axis (axis 0): that is batch norm; layer "
                      "norm uses the last axis": [[0.0, 0.0, 0.0]],
                      "unbiased variance (ddof=1): layer norm divides by D":
                          [[-1.0, 0.0, 1.0]]})
_x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
_out, _cache = answer(layer_norm_forward, _x, np.array([1.0, 2.0, 0.5]),
                      np.array([0.0, 1.0, -1.0]))
_xhat = (_x - _x.mean(-1, keepdims=True)) / np.sqrt(_x.var(-1, keepdims=True) + 1e-5)
check_close(_out, _xhat * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0],
            "layer_norm_forward([[1, 2, 3], [0, 0, 6]]) with gamma=[1, 2, 0.5], beta=[0, 1, -1]",
            mistakes={"gamma and beta are ignored": _xhat})
check_equal(len(_cache), 3, "number of entries in the cache (xhat, gamma, inv_std)")
check_close(_cache[0], _xhat, "cache[0], xhat, for x = [[1, 2, 3], [0, 0, 6]]")
check_close(_cache[1], [1.0, 2.0, 0.5], "cache[1], gamma")
check_close(_cache[2], 1 / np.sqrt(_x.var(-1, keepdims=True) + 1e-5),
            "cache[2], inv_std of each row, of shape (2, 1)")

# %% nbgrader={"grade_id": "test_layer_norm_forward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref

_DDOF1 = "unbiased variance (ddof=1): layer norm divides by D"
_rng = np.random.default_rng(606)
for _shape, _eps in (((5, 8), 1e-5), ((2, 3, 6), 1e-5), ((1, 4), 1e-3), ((7,), 1e-5),
                     ((3, 2), 0.1)):
    _x = _rng.normal(loc=2.0, scale=3.0, size=_shape)
    _g, _b = _rng.normal(size=_shape[-1]), _rng.normal(size=_shape[-1])
    _got, _hc = answer(layer_norm_forward, _x, _g, _b, eps=_eps)
    _want, _wc = _ref.layer_norm_forward(_x, _g, _b, eps=_eps)
    _mu0, _v0 = _x.mean(0, keepdims=True), _x.var(0, keepdims=True)
    check_close(_got, _want, f"layer_norm_forward on shape {_shape}, eps={_eps}", atol=1e-8,
                mistakes={"normalised over the batch axis (axis 0): that is batch norm; "
                          "layer norm uses the last axis": _g * (_x - _mu0)
                          / np.sqrt(_v0 + _eps) + _b,
                          _DDOF1: _g * (_x - _x.mean(-1, keepdims=True))
                              / np.sqrt(_x.var(-1, ddof=1, keepdims=True) + _eps) + _b,
                          "eps must be added inside the square root: sqrt(σ² + ε)":
                              _g * (_x - _x.mean(-1, keepdims=True))
                              / (np.sqrt(_x.var(-1, keepdims=True)) + _eps) + _b,
                          "gamma and beta are ignored": (_want - _b) / _g})
    check_equal(len(_hc), 3, "number of entries in the cache (xhat, gamma, inv_std)")
    for _k, _part in enumerate(("xhat", "gamma", f"inv_std, of shape {_shape[:-1] + (1,)}")):
        check_close(_hc[_k], _wc[_k], f"cache[{_k}] ({_part}) for shape {_shape}", atol=1e-8)
_x = np.full((2, 5), 3.0)                  # constant rows: variance 0, output = beta
_got, _ = answer(layer_norm_forward, _x, np.ones(5), np.arange(5.0))
check_close(_got, np.tile(np.arange(5.0), (2, 1)), "layer_norm_forward on constant rows "
            "(variance 0: eps keeps it finite, the output is beta)")
### END HIDDEN TESTS

# %% [markdown]
# ### The backward pass of layer norm
#
# Layer norm runs the graph of the batch-norm table on each **row**, over the last
# axis: read "the $N$ entries of one column" as "the $D$ entries of one row". Two
# things change, and working them out is the exercise.
#
# - The statistics belong to one row, so the sums of steps 2–5 run over the last
#   axis of that row, and $\frac1N$ becomes $\frac1D$.
# - $\gamma$ and $\beta$ are indexed by the feature $d$, i.e. along the axis being
#   normalised. Inside one row, $\hat g_d = \gamma_d\, g_d$ differs from entry to
#   entry, and it is these $\hat g_d$ that enter the row's sums. And since every row
#   uses all of $\gamma$ and $\beta$, their gradients add up over **all** rows:
#   over every leading axis, however many the input has.
#
# Derive $\partial L/\partial x$ for one row on paper before you code it. The two
# checks at the end of the batch-norm derivation hold row by row here (the entries of
# $\partial L/\partial x$ in a row sum to 0, and so do their products with $\hat x$), and
# a finite-difference gradient check (chapter 4) settles any doubt.

# %% [markdown]
# ### Exercise 4.4 — `layer_norm_backward`
# Return `(dx, dgamma, dbeta)` for `dout` of the forward input's shape $(\dots, D)$ and
# the cache that `layer_norm_forward` returns, `cache = (xhat, gamma, inv_std)`: `xhat`
# (the normalised input) of shape $(\dots, D)$, `gamma` of shape $(D,)$, and `inv_std`
# ($1/\sqrt{\sigma^2+\epsilon}$ of each row) of shape $(\dots, 1)$. `dx` has the shape of
# `dout`; `dgamma` and `dbeta` have shape $(D,)$. Any number of leading axes must work:
# one vector $(D,)$, a batch $(N, D)$, a batch of sequences $(B, T, D)$ as in a
# Transformer.

# %% nbgrader={"grade_id": "layer_norm_backward", "solution": true}
def layer_norm_backward(dout, cache):
    """Gradients (dx, dgamma, dbeta) of layer_norm_forward.

    cache = (xhat, gamma, inv_std) as layer_norm_forward returns it: xhat of shape
    (..., D), gamma of shape (D,), inv_std of shape (..., 1). dx has dout's shape,
    dgamma and dbeta shape (D,).
    """
    ### BEGIN SOLUTION
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    dx = inv_std * (gh - gh.mean(axis=-1, keepdims=True)
                    - xhat * (gh * xhat).mean(axis=-1, keepdims=True))
    dgamma = (dout * xhat).reshape(-1, xhat.shape[-1]).sum(axis=0)
    dbeta = dout.reshape(-1, xhat.shape[-1]).sum(axis=0)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_layer_norm_backward", "grade": true, "points": 2}
def _ln_out(_x, _g, _b, _eps=1e-5):
    _m = _x.mean(-1, keepdims=True)
    return _g * (_x - _m) / np.sqrt(((_x - _m) ** 2).mean(-1, keepdims=True) + _eps) + _b


def _ln_case(_x, _g, _b, _dout):
    """The forward cache, the finite-difference dx and the dx of the known mistakes."""
    _inv = 1 / np.sqrt(_x.var(-1, keepdims=True) + 1e-5)
    _xh = (_x - _x.mean(-1, keepdims=True)) * _inv
    _num = np.zeros_like(_x)
    for _i in np.ndindex(*_x.shape):
        _e = np.zeros_like(_x)
        _e[_i] = 1e-6
        _num[_i] = np.sum(_dout * (_ln_out(_x + _e, _g, _b) - _ln_out(_x - _e, _g, _b))) / 2e-6
    _gh, _dd = _dout * _g, _x.shape[-1]

    def _mean(_a):
        return _a.mean(-1, keepdims=True)

    _wrong = {"dx treats the row's μ and σ² as constants: they depend on every entry of "
              "the row (the mean-of-gradient terms are missing)": _gh * _inv,
              "the path through the row mean μ is missing": _inv * (_gh - _xh * _mean(_gh * _xh)),
              "the path through the row variance σ² is missing": _inv * (_gh - _mean(_gh)),
              "the variance path uses 1/(D-1) (ddof=1), but the forward divides by D":
                  _inv * (_gh - _mean(_gh) - _xh * (_gh * _xh).sum(-1, keepdims=True) / (_dd - 1)),
              "γ is missing from dx: the gradient reaching xhat is dout·γ":
                  _inv * (_dout - _mean(_dout) - _xh * _mean(_dout * _xh))}
    if _x.ndim == 2:
        _wrong["the sums run over the rows (axis 0), as in batch norm: a layer-norm row has "
               "its own statistics, so sum over the last axis"] = _inv * (
            _gh - _gh.mean(0) - _xh * (_gh * _xh).mean(0))
    return (_xh, _g, _inv), _num, _wrong


_x = np.array([[1.0, 2.0, 0.0, 4.0], [3.0, -1.0, 0.5, 2.0], [0.0, 0.5, 1.0, -2.0]])
_g, _b = np.array([1.5, -0.5, 2.0, 1.0]), np.array([0.1, 0.2, 0.0, -0.3])
_dout = np.array([[1.0, 0.0, -2.0, 0.5], [0.0, 2.0, 1.0, 1.0], [-1.0, 1.0, 0.5, 0.0]])
_cache, _num, _wrong = _ln_case(_x, _g, _b, _dout)
_dx, _dgamma, _dbeta = answer(layer_norm_backward, _dout, _cache)
check_equal(np.shape(_dgamma), (4,), "shape of dgamma for x of shape (3, 4)",
            mistakes={"dgamma is not summed over the rows: every row uses the same γ, so "
                      "their contributions add up": (3, 4)})
check_equal(np.shape(_dbeta), (4,), "shape of dbeta for x of shape (3, 4)",
            mistakes={"dbeta is not summed over the rows": (3, 4)})
check_close(_dbeta, _dout.sum(0), "dbeta for x of shape (3, 4)",
            mistakes={"dgamma and dbeta look swapped": (_dout * _cache[0]).sum(0),
                      "dbeta averaged over the rows: it is a sum": _dout.mean(0)})
check_close(_dgamma, (_dout * _cache[0]).sum(0), "dgamma for x of shape (3, 4)",
            mistakes={"dgamma and dbeta look swapped": _dout.sum(0)})
check_close(_dx, _num, "dx for x of shape (3, 4), compared with finite differences",
            atol=1e-6, mistakes=_wrong)
# A batch of sequences (B, T, D) = (2, 2, 3): every leading axis is a row.
_x3 = np.array([[[1.0, 2.0, 4.0], [0.0, -1.0, 1.0]], [[2.0, 2.5, 0.0], [3.0, 1.0, -1.0]]])
_g3, _b3 = np.array([0.5, 2.0, -1.0]), np.zeros(3)
_dout3 = np.array([[[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]], [[0.0, 1.0, 1.0], [-0.5, 0.5, 2.0]]])
_cache3, _num3, _wrong3 = _ln_case(_x3, _g3, _b3, _dout3)
_dx, _dgamma, _dbeta = answer(layer_norm_backward, _dout3, _cache3)
check_equal(np.shape(_dgamma), (3,), "shape of dgamma for x of shape (2, 2, 3)",
            mistakes={"dgamma is summed over the first axis only: sum over every leading "
                      "axis (all rows of all sequences)": (2, 3),
                      "dgamma is not summed over the rows: every row uses the same γ, so "
                      "their contributions add up": (2, 2, 3)})
check_close(_dgamma, (_dout3 * _cache3[0]).sum((0, 1)), "dgamma for x of shape (2, 2, 3)")
check_close(_dbeta, _dout3.sum((0, 1)), "dbeta for x of shape (2, 2, 3)")
check_close(_dx, _num3, "dx for x of shape (2, 2, 3), compared with finite differences",
            atol=1e-6, mistakes=_wrong3)

# %% nbgrader={"grade_id": "test_layer_norm_backward_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
import torch as _torch

from dlnotes import regularization as _ref


def _torch_ln(_x, _g, _b, _dout, _eps):
    """(dx, dgamma, dbeta) by torch autograd through F.layer_norm, in float64."""
    _tx, _tg, _tb = (_torch.tensor(a, dtype=_torch.float64, requires_grad=True)
                     for a in (_x, _g, _b))
    _out = _torch.nn.functional.layer_norm(_tx, (_x.shape[-1],), _tg, _tb, _eps)
    _out.backward(_torch.tensor(_dout, dtype=_torch.float64))
    return _tx.grad.numpy(), _tg.grad.numpy(), _tb.grad.numpy()


_CONST = "dx treats the row statistics μ and σ² as constants (mean-of-gradient terms missing)"
_DDOF = "the variance path uses 1/(D-1) (ddof=1), but the forward divides by D"
_NOT_SUMMED = "dgamma/dbeta must be summed over every leading axis, to shape (D,)"
_rng = np.random.default_rng(609)
for _shape, _eps in (((5, 8), 1e-5), ((2, 3, 6), 1e-5), ((7,), 1e-5), ((1, 4), 1e-3),
                     ((2, 2, 2, 5), 0.1), ((4, 1), 1e-5), ((16, 32), 1e-5)):
    _x = _rng.normal(loc=1.0, scale=3.0, size=_shape)
    _g, _b = _rng.normal(size=_shape[-1]), _rng.normal(size=_shape[-1])
    _dout = _rng.normal(size=_shape)
    _, _cache = _ref.layer_norm_forward(_x, _g, _b, eps=_eps)
    _xh, _gg, _inv = _cache
    _got = answer(layer_norm_backward, _dout, (_xh.copy(), _gg.copy(), _inv.copy()),
                  case=f"x of shape {_shape}, eps={_eps}")
    _tdx, _tdg, _tdb = _torch_ln(_x, _g, _b, _dout, _eps)
    _case = f"x of shape {_shape}, eps={_eps}, against torch autograd"
    check_equal(len(_got), 3, "number of values returned (dx, dgamma, dbeta)")
    _gh = _dout * _gg
    _m = _gh.mean(-1, keepdims=True)
    check_close(_got[0], _tdx, f"dx for {_case}", atol=1e-8, rtol=1e-6,
                mistakes={_CONST: _gh * _inv,
                          _DDOF: _inv * (_gh - _m - _xh * (_gh * _xh).sum(-1, keepdims=True)
                                         / max(_shape[-1] - 1, 1)),
                          "γ is missing from dx (the gradient reaching xhat is dout·γ)":
                              _tdx / _gg})
    check_equal(np.shape(_got[1]), (_shape[-1],), f"shape of dgamma for {_case}",
                mistakes={_NOT_SUMMED: _shape})
    check_close(_got[1], _tdg, f"dgamma for {_case}", atol=1e-8, rtol=1e-6,
                mistakes={"dgamma and dbeta look swapped": _tdb})
    check_equal(np.shape(_got[2]), (_shape[-1],), f"shape of dbeta for {_case}",
                mistakes={_NOT_SUMMED: _shape})
    check_close(_got[2], _tdb, f"dbeta for {_case}", atol=1e-8, rtol=1e-6,
                mistakes={"dgamma and dbeta look swapped": _tdg})
# A gradient check on random shapes: central differences of sum(dout * out) in float64.
for _shape in ((3, 5), (2, 4, 3), (6,)):
    _x = _rng.normal(scale=2.0, size=_shape)
    _g, _b = _rng.normal(size=_shape[-1]), _rng.normal(size=_shape[-1])
    _dout = _rng.normal(size=_shape)
    _, _cache = _ref.layer_norm_forward(_x, _g, _b)
    _fd = np.empty(_shape)
    for _i in np.ndindex(*_shape):
        _step = np.zeros(_shape)
        _step[_i] = 1e-5
        _fd[_i] = np.sum(_dout * (_ref.layer_norm_forward(_x + _step, _g, _b)[0]
                                  - _ref.layer_norm_forward(_x - _step, _g, _b)[0])) / 2e-5
    _dx = answer(layer_norm_backward, _dout, _cache, case=f"x of shape {_shape}")[0]
    check_close(_dx, _fd, f"dx for x of shape {_shape}, against finite differences",
                atol=1e-6, rtol=1e-5)
# float32 inputs: a correct float32 answer passes
_x32 = _rng.normal(size=(4, 6)).astype(np.float32)
_g32, _b32 = np.ones(6, dtype=np.float32), np.zeros(6, dtype=np.float32)
_d32 = _rng.normal(size=(4, 6)).astype(np.float32)
_, _cache = _ref.layer_norm_forward(_x32, _g32, _b32)
_want = _ref.layer_norm_backward(_d32, _cache)
_got = answer(layer_norm_backward, _d32, _cache, case="float32 x of shape (4, 6)")
for _k, _name in enumerate(("dx", "dgamma", "dbeta")):
    check_close(_got[_k], _want[_k], f"{_name} for float32 x of shape (4, 6)", atol=1e-4,
                rtol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Initialization
#
# With weights $W_{ij}$ of variance $\sigma^2$ and independent zero-mean inputs of
# variance $\gamma^2$, a unit of a linear layer has
# $\mathrm{Var}[o_i] = \sum_{j=1}^{n_\text{in}} \mathrm{Var}[w_{ij}x_j] =
# n_\text{in}\,\sigma^2\gamma^2$. To keep the scale of the signal from layer to layer
# we want $n_\text{in}\sigma^2 = 1$ on the forward pass and $n_\text{out}\sigma^2 = 1$ on
# the backward pass.
#
# - **Xavier / Glorot** (for tanh and other near-linear activations) compromises:
#   $\frac12(n_\text{in}+n_\text{out})\sigma^2 = 1$, i.e.
#   $\sigma = \sqrt{2/(n_\text{in}+n_\text{out})}$, or $U(-a, a)$ with
#   $a = \sqrt{6/(n_\text{in}+n_\text{out})}$ since $\mathrm{Var}\,U(-a,a) = a^2/3$.
# - **Kaiming / He** (for ReLU): a ReLU zeroes half of its inputs, halving the second
#   moment, so the forward condition doubles to $n_\text{in}\sigma^2 = 2$:
#
# $$W_{ij} \sim \mathcal N(0, \sigma^2), \qquad \sigma = \frac{\text{gain}}{\sqrt{\text{fan}}},
#   \qquad \text{gain} = \sqrt{\frac{2}{1+a^2}},$$
#
# where $a$ is the negative slope of a leaky ReLU ($a = 0$ for ReLU: gain $\sqrt2$) and
# fan is $n_\text{in}$ (`mode="fan_in"`, preserves activations, the default) or
# $n_\text{out}$ (`mode="fan_out"`, preserves gradients). This matches
# `torch.nn.init.kaiming_normal_`. Weights have torch's `nn.Linear` layout
# $(n_\text{out}, n_\text{in})$.

# %% [markdown]
# ### Exercise 5.1 — `kaiming_normal`
# Return a float array of shape `(fan_out, fan_in)` (the layout of `nn.Linear.weight`)
# whose entries are independent draws, made with `rng`, from the zero-mean **normal**
# distribution with the standard deviation derived above for the negative slope `a`
# and the `mode` (`"fan_in"` or `"fan_out"`).

# %% nbgrader={"grade_id": "kaiming_normal", "solution": true}
def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    """Kaiming/He normal initialization; returns a (fan_out, fan_in) array."""
    ### BEGIN SOLUTION
    fan = fan_in if mode == "fan_in" else fan_out
    std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan)
    return rng.normal(0.0, std, size=(fan_out, fan_in))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_kaiming_normal", "grade": true, "points": 1}
_W = np.asarray(answer(kaiming_normal, 500, 400, np.random.default_rng(0)))
check_equal(_W.shape, (400, 500), "shape of kaiming_normal(fan_in=500, fan_out=400)",
            mistakes={"the layout is (fan_out, fan_in), like nn.Linear.weight": (500, 400)})
check_close(_W.std(), np.sqrt(2 / 500), "std of kaiming_normal(500, 400): sqrt(2 / fan_in)",
            rtol=0.02, mistakes={"the fan is fan_in in mode='fan_in'": np.sqrt(2 / 400),
                                 "Xavier's std sqrt(2/(fan_in + fan_out)), not Kaiming's":
                                     np.sqrt(2 / 900),
                                 "missing the ReLU gain √2: std = √2 / sqrt(fan_in)":
                                     np.sqrt(1 / 500),
                                 "that is the variance 2/fan_in; the std is its square root":
                                     2 / 500})
# The right std is not enough: the weights must be normally distributed.
_z = (_W - _W.mean()) / _W.std()
check_close(np.mean(_z ** 4), 3.0, "kurtosis E[z⁴] of your standardised weights (3 for a "
            "normal distribution)", atol=0.15,
            mistakes={"the weights look uniform (kurtosis 1.8): draw them from a normal "
                      "distribution, not a uniform one with the same std": 1.8})
check_close(np.mean(np.abs(_z) > 2), 0.0455, "fraction of your weights more than 2 std from "
            "0 (4.55% for a normal distribution)", atol=0.005,
            mistakes={"no weight is more than 2 std from 0: a uniform or truncated draw, not "
                      "a normal one": 0.0})
_W = np.asarray(answer(kaiming_normal, 100, 800, np.random.default_rng(1), mode="fan_out"))
check_close(_W.std(), np.sqrt(2 / 800), "std of kaiming_normal(fan_in=100, fan_out=800, "
            "mode='fan_out'): sqrt(2 / fan_out)", rtol=0.02,
            mistakes={"mode='fan_out' divides by fan_out, not fan_in": np.sqrt(2 / 100)})

# %% nbgrader={"grade_id": "test_kaiming_normal_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
import math

from scipy.special import ndtr

from dlnotes import regularization as _ref


def _ks_normal(_w, _std):
    """Largest gap between the empirical CDF of _w and the CDF of N(0, _std²)."""
    _s = np.sort(np.ravel(_w)) / _std
    _n = _s.size
    _cdf = ndtr(_s)
    return float(max(np.max(np.arange(1, _n + 1) / _n - _cdf), np.max(_cdf - np.arange(_n) / _n)))


_UNIFORM = "the weights are not normally distributed (a uniform draw with the right std?)"
for _fi, _fo, _a, _mode in ((300, 600, 0.0, "fan_in"), (600, 300, 0.0, "fan_out"),
                            (400, 500, 0.2, "fan_in"), (500, 400, 1.0, "fan_out"),
                            (1000, 200, math.sqrt(5), "fan_in")):
    _W = np.asarray(answer(kaiming_normal, _fi, _fo, np.random.default_rng(9), a=_a,
                           mode=_mode))
    _fan = _fi if _mode == "fan_in" else _fo
    _other = _fo if _mode == "fan_in" else _fi
    _want = _ref.kaiming_normal(_fi, _fo, np.random.default_rng(9), a=_a, mode=_mode)
    _gain = math.sqrt(2 / (1 + _a * _a))
    _std = _gain / math.sqrt(_fan)
    _case = f"kaiming_normal(fan_in={_fi}, fan_out={_fo}, a={_a:.3g}, mode={_mode!r})"
    check_equal(_W.shape, (_fo, _fi), f"shape of {_case}",
                mistakes={"the layout is (fan_out, fan_in), like nn.Linear.weight":
                              (_fi, _fo)})
    check_close(_W.std(), _want.std(), f"std of {_case}", rtol=0.02,
                mistakes={"wrong fan: mode='fan_in' uses fan_in, mode='fan_out' fan_out":
                              _gain / math.sqrt(_other),
                          "the gain must be sqrt(2 / (1 + a²))": math.sqrt(2) / math.sqrt(_fan),
                          "missing the gain sqrt(2 / (1 + a²))": 1 / math.sqrt(_fan),
                          "that is the variance; the std is its square root":
                              _gain ** 2 / _fan})
    check_close(_W.mean(), 0.0, f"mean of {_case}", atol=5 * _W.std() / math.sqrt(_W.size))
    _uni = _ref.kaiming_uniform(_fi, _fo, np.random.default_rng(9), a=_a, mode=_mode)
    check_close(_ks_normal(_W, _std), 0.0, f"largest gap between the distribution of {_case} "
                f"and N(0, {_std:.4g}²) (Kolmogorov–Smirnov statistic)", atol=0.01,
                mistakes={_UNIFORM: _ks_normal(_uni, _std)})
_W1 = np.asarray(answer(kaiming_normal, 20, 30, np.random.default_rng(5)))
_W2 = np.asarray(answer(kaiming_normal, 20, 30, np.random.default_rng(5)))
check_close(_W1, _W2, "two calls with np.random.default_rng(5): draw the weights with rng, "
            "not np.random")
### END HIDDEN TESTS

# %% [markdown]
# The demo sends a batch of 200 random inputs through 20 layers of width 256 and
# plots the standard deviation of each layer's activations, for four schemes: weights
# that are too small ($\mathcal N(0, 0.01^2)$), too large ($\mathcal N(0, 1)$), Xavier
# and Kaiming. Too small: the signal dies out (and with it the gradients). Too large:
# tanh saturates at ±1, ReLU activations explode. Xavier keeps tanh alive; Kaiming
# keeps ReLU's scale constant, while Xavier lets it halve every two layers or so.

# %% tags=["demo"]
own_init = mine.own(globals(), "06_regularization", ["kaiming_normal"])
INITS = {
    "N(0, 0.01²)": lambda fi, fo, r: r.normal(0.0, 0.01, size=(fo, fi)),
    "N(0, 1)": lambda fi, fo, r: r.normal(0.0, 1.0, size=(fo, fi)),
    "Xavier normal": ref.xavier_normal,
    "Kaiming normal (yours)": own_init.kaiming_normal,
}
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def forward_stats(init, activation, depth=20, width=256, seed=0):
    """Activations of each layer for a batch of 200 standard normal inputs."""
    r = np.random.default_rng(seed)
    h = r.normal(size=(200, width))
    layers = []
    for _ in range(depth):
        h = ACTIVATIONS[activation](h @ INITS[init](width, width, r).T)
        layers.append(h)
    return layers


stats = {(i, a): [float(h.std()) for h in forward_stats(i, a)]
         for i in INITS for a in ACTIVATIONS}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for ax, act in zip(axes, ACTIVATIONS, strict=True):
    for init in INITS:
        ax.semilogy(np.arange(1, 21), np.maximum(stats[init, act], 1e-30), "o-", ms=3,
                    label=init)
    ax.set(title=f"{act}: std of activations through 20 layers", xlabel="layer",
           ylabel="std (log scale)")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Pick a scheme, an activation and a depth: the histogram shows the activations of
# that layer.

# %% tags=["demo"]
def show_init(init="Kaiming normal (yours)", activation="relu", depth=10):
    h = forward_stats(init, activation, depth=depth)[-1].ravel()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.hist(h, bins=80)
    ax.set(title=f"{init}, {activation}, layer {depth}: std {h.std():.3g}",
           xlabel="activation", ylabel="count")
    plt.show()


widgets.interact(show_init, init=widgets.Dropdown(options=list(INITS),
                                                  value="Kaiming normal (yours)"),
                 activation=widgets.Dropdown(options=list(ACTIVATIONS), value="relu"),
                 depth=widgets.IntSlider(value=10, min=1, max=20, description="depth"));

# %% [markdown]
# ## 6. Gradient clipping, early stopping, augmentation
#
# ### Gradient clipping
#
# Exploding gradients (梯度爆炸), common in RNNs, make one step throw the parameters
# far away. **Clipping by norm** rescales *all* the gradients together when their
# joint norm exceeds a threshold, which keeps the direction of the step and caps its
# length. torch's `clip_grad_norm_` computes
#
# $$\|g\| = \Bigl(\sum_k \|g_k\|_p^p\Bigr)^{1/p}, \qquad
#   g_k \leftarrow g_k \cdot \min\Bigl(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Bigr),$$
#
# the norm taken over all parameters' gradients as if concatenated into one vector
# ($p = 2$ by default; for $p = \infty$ the norm is the largest absolute entry). The
# $10^{-6}$ avoids $0/0$ when every gradient is zero. Clipping each gradient separately
# would change the direction of the step.

# %% [markdown]
# ### Exercise 6.1 — `clip_grad_norm`
# `grads` is a list of float arrays (or a single array). Scale them **in place**
# (`g *= coef`) and return the total norm **before** clipping as a float. Support
# `norm_type=np.inf` (largest absolute entry).

# %% nbgrader={"grade_id": "clip_grad_norm", "solution": true}
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Rescale grads in place so their joint p-norm is at most max_norm; return the norm."""
    ### BEGIN SOLUTION
    if isinstance(grads, np.ndarray):
        grads = [grads]
    grads = list(grads)
    if norm_type == np.inf:
        total = max((float(np.max(np.abs(g))) for g in grads if g.size), default=0.0)
    else:
        total = float(sum(np.sum(np.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type))
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= coef
    return total
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_clip_grad_norm", "grade": true, "points": 1}
_gs = list(inplace(np.array([3.0]), np.array([4.0])))       # joint norm 5
check_close(answer(clip_grad_norm, _gs, 1.0), 5.0,
            "clip_grad_norm([[3], [4]], max_norm=1) returns the norm before clipping",
            mistakes={"return the norm BEFORE clipping": 1.0})
check_close(np.concatenate(_gs), [0.6, 0.8], "the gradients [3], [4] after clipping to "
            "norm 1 (scaled together, in place)", rtol=1e-5,
            mistakes={"the gradients did not change: scale them in place (g *= coef)":
                          [3.0, 4.0],
                      "each gradient was clipped on its own: use one joint norm for all of "
                      "them (this changes the direction)": [1.0, 1.0]})
_gs = list(inplace(np.array([0.3]), np.array([0.4])))       # norm 0.5: nothing to do
check_close(answer(clip_grad_norm, _gs, 1.0), 0.5, "clip_grad_norm([[0.3], [0.4]], 1)")
check_close(np.concatenate(_gs), [0.3, 0.4], "gradients already below max_norm (unchanged)",
            rtol=1e-5, mistakes={"gradients below max_norm must stay as they are: the "
                                 "coefficient is min(1, max_norm / norm)": [0.6, 0.8]})

# %% nbgrader={"grade_id": "test_clip_grad_norm_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref

_rng = np.random.default_rng(607)
for _shapes, _max, _p in ((((3, 4), (4,)), 1.0, 2.0), (((5,), (2, 2), (3,)), 0.5, 2.0),
                          (((6, 2),), 10.0, 2.0), (((3, 3), (2,)), 0.7, 1.0),
                          (((4,), (2, 3)), 0.5, np.inf)):
    _gs = [inplace(_rng.normal(scale=2.0, size=s)) for s in _shapes]
    _orig = [g.copy() for g in _gs]
    _want = [g.copy() for g in _gs]
    _norm_want = _ref.clip_grad_norm(_want, _max, norm_type=_p)
    _norm_got = answer(clip_grad_norm, _gs, _max, norm_type=_p)
    _case = f"{len(_shapes)} gradients of shapes {_shapes}, max_norm={_max}, norm_type={_p}"
    _each = [g * min(1.0, _max / (np.linalg.norm(g.ravel(), ord=_p) + 1e-6)) for g in _orig]
    _norm_mistakes = {"return the norm BEFORE clipping": min(_max, _norm_want)}
    if _p == np.inf:
        _norm_mistakes["for norm_type=inf the norm is the largest absolute entry "
                       "((sum |g|^p)^(1/p) does not work for p = inf)"] = 1.0
    check_close(_norm_got, _norm_want, f"norm returned for {_case}", rtol=1e-6,
                mistakes=_norm_mistakes)
    for _i in range(len(_gs)):
        check_close(_gs[_i], _want[_i], f"gradient {_i} after clipping, {_case}", rtol=1e-5,
                    atol=1e-9,
                    mistakes={"the gradients did not change: scale them in place "
                              "(g *= coef)": _orig[_i],
                              "each gradient was clipped on its own: use one joint norm for "
                              "all of them (this changes the direction)": _each[_i]})
_gs = list(inplace(np.zeros(3), np.zeros((2, 2))))
with np.errstate(all="ignore"):
    _n = answer(clip_grad_norm, _gs, 1.0)
check_close(_n, 0.0, "norm of all-zero gradients")
check_close(np.concatenate([g.ravel() for g in _gs]), np.zeros(7),
            "all-zero gradients after clipping (no 0/0: add 1e-6 to the norm)")
_g = inplace(np.array([[6.0, 8.0]]))
check_close(answer(clip_grad_norm, _g, 5.0), 10.0, "a single array [[6, 8]] as grads")
check_close(_g, [[3.0, 4.0]], "a single array [[6, 8]] clipped to norm 5", rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# The demo clips a set of gradients with your `clip_grad_norm` and checks that the
# direction is unchanged (cosine similarity 1), which per-tensor clipping would not
# give.

# %% tags=["demo"]
own_clip = mine.own(globals(), "06_regularization", ["clip_grad_norm"])
r = np.random.default_rng(3)
gs = [r.normal(scale=5, size=(8, 8)), r.normal(scale=0.1, size=8)]
flat_before = np.concatenate([g.ravel() for g in gs])
total = own_clip.clip_grad_norm(gs, max_norm=1.0)
flat_after = np.concatenate([g.ravel() for g in gs])
cos = flat_before @ flat_after / np.linalg.norm(flat_before) / np.linalg.norm(flat_after)
print(f"norm before {total:.2f}, after {np.linalg.norm(flat_after):.4f}, cosine {cos:.6f}")

# %% [markdown]
# ### Early stopping
#
# Keep the validation loss of every epoch. A step **improves** when
# $\text{val\_loss} < \text{best} - \text{min\_delta}$: then remember it as the best
# (and its step, to restore that checkpoint) and reset a counter; otherwise the counter
# grows. Stop once `patience` consecutive steps have failed to improve. A tie with the
# best is *not* an improvement, and neither is a NaN loss.

# %% [markdown]
# ### Exercise 6.2 — `EarlyStopping`
# Complete `step(val_loss)`: update `best`, `best_step` (the 0-based index of the step
# that set `best`), `counter` and `n_steps` (the number of calls so far), and return
# `True` once `counter` reaches `patience`.

# %% nbgrader={"grade_id": "EarlyStopping", "solution": true}
class EarlyStopping:
    """Stop when the validation loss has not improved for `patience` steps."""

    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.best_step = None
        self.counter = 0
        self.n_steps = 0

    def step(self, val_loss):
        """Record one validation loss; return True if training should stop."""
        ### BEGIN SOLUTION
        loss = float(val_loss)
        if loss < self.best - self.min_delta:
            self.best, self.best_step, self.counter = loss, self.n_steps, 0
        else:
            self.counter += 1
        self.n_steps += 1
        return self.counter >= self.patience
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_EarlyStopping", "grade": true, "points": 1}
def _es_sim(_losses, _patience, _min_delta=0.0, ties=False, reset=True, off_by_one=False):
    """Stop decisions of a (possibly wrong) early-stopping rule."""
    _best, _c, _out = float("inf"), 0, []
    for _v in _losses:
        if _v < _best - _min_delta or (ties and _v <= _best - _min_delta):
            _best, _c = _v, (0 if reset else _c)
        else:
            _c += 1
        _out.append(_c > _patience if off_by_one else _c >= _patience)
    return _out


# The validation losses of the docstring; the usual rule: stop "如果验证集损失不再下降".
_losses = [1.0, 0.8, 0.9, 0.85, 0.7]
_stopper = answer(EarlyStopping, 2)
_got = [bool(answer(_stopper.step, _v, name="EarlyStopping.step")) for _v in _losses]
check_equal(_got, [False, False, False, True, False],
            "step() on val losses [1.0, 0.8, 0.9, 0.85, 0.7] with patience=2",
            mistakes={"off by one: stop when counter >= patience, not > patience":
                          _es_sim(_losses, 2, off_by_one=True)})
check_close([_stopper.best, _stopper.best_step, _stopper.counter, _stopper.n_steps],
            [0.7, 4, 0, 5], "[best, best_step, counter, n_steps] after those 5 steps",
            mistakes={"best_step is 1-based: use the 0-based index of the step": [0.7, 5, 0, 5],
                      "counter not reset after an improvement": [0.7, 4, 2, 5]})
_stopper = answer(EarlyStopping, 1)
_got = [bool(answer(_stopper.step, _v, name="EarlyStopping.step")) for _v in (0.5, 0.5)]
check_equal(_got, [False, True], "step() on [0.5, 0.5] with patience=1 (a tie is not an "
            "improvement)", mistakes={"a tie counted as an improvement: use <, not <=":
                                      [False, False]})

# %% nbgrader={"grade_id": "test_EarlyStopping_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import regularization as _ref

_OFF_BY_ONE = "off by one: stop when counter >= patience, not > patience"


def _stops(_seq, _pat, _md=0.0, ties=False, reset=True, off_by_one=False):
    """Stop decisions of a (possibly wrong) early-stopping rule, for the known mistakes."""
    _lowest, _bad, _res = np.inf, 0, []
    for _val in _seq:
        _better = (_val <= _lowest - _md) if ties else (_val < _lowest - _md)
        if _better:
            _lowest = _val
            _bad = 0 if reset else _bad
        else:
            _bad += 1
        _res.append(bool(_bad > _pat) if off_by_one else bool(_bad >= _pat))
    return _res


_rng = np.random.default_rng(608)
_cases = []
for _ in range(6):
    _n = int(_rng.integers(8, 25))
    _walk = np.round(1.0 + np.cumsum(_rng.normal(scale=0.05, size=_n)), 2)  # ties happen
    _cases.append((_walk.tolist(), int(_rng.integers(1, 5)), float(_rng.choice([0.0, 0.02]))))
_cases.append(([0.5, float("nan"), 0.4, float("nan"), float("nan"), 0.45], 2, 0.0))
_cases.append(([1.0, 0.99, 0.985, 0.97, 0.969, 0.968], 2, 0.01))
for _losses, _patience, _md in _cases:
    _mine = answer(EarlyStopping, _patience, min_delta=_md)
    _theirs = _ref.EarlyStopping(_patience, min_delta=_md)
    _got, _want = [], []
    for _k, _v in enumerate(_losses):
        _got.append(bool(answer(_mine.step, _v, name="EarlyStopping.step")
                         if _k == 0 else answer(_mine.step, _v, name="EarlyStopping.step")))
        _want.append(_theirs.step(_v))
    _case = f"val losses {_losses} with patience={_patience}, min_delta={_md}"
    check_equal(_got, _want, f"stop decisions of step() on {_case}",
                mistakes={_OFF_BY_ONE: _stops(_losses, _patience, _md, off_by_one=True),
                          "a tie counted as an improvement: use <, not <=":
                              _stops(_losses, _patience, _md, ties=True),
                          "counter not reset after an improvement":
                              _stops(_losses, _patience, _md, reset=False),
                          "min_delta ignored: an improvement must beat best - min_delta":
                              _stops(_losses, _patience, 0.0)})
    check_close([_mine.best, -1 if _mine.best_step is None else _mine.best_step,
                 _mine.counter, _mine.n_steps],
                [_theirs.best, _theirs.best_step, _theirs.counter, _theirs.n_steps],
                f"[best, best_step, counter, n_steps] after {_case}")
### END HIDDEN TESTS

# %% [markdown]
# ### Label smoothing
#
# Softening the one-hot targets also regularizes: the network is no longer pushed to
# make the true logit infinitely large, i.e. to become over-confident (过度自信).
# Chapter 3 defines label smoothing as torch does, with its pitfall, and its
# `cross_entropy` exercise implements it; nothing here repeats it.

# %% [markdown]
# ### Data augmentation
#
# More data is the best regularizer; **augmentation** makes more of it by transforming
# training images in ways that keep the label: small shifts, rotations, crops, noise,
# colour jitter (for photos), Mixup/CutMix. It is done on the fly when a batch is read
# (在线增强), so every epoch sees new variants. The transform must preserve the label:
# a horizontal flip is fine for cats but turns a "2" into something that is not a digit,
# and a 180° rotation turns a 6 into a 9. Augment the training split only.

# %% tags=["demo"]
from scipy import ndimage


def shift(img, dy, dx):
    return ndimage.shift(img, (dy, dx), order=0, mode="constant")


def rotate(img, degrees):
    return np.clip(ndimage.rotate(img, degrees, reshape=False, order=1), 0, 16)


def add_noise(img, r, scale=2.0):
    return np.clip(img + r.normal(scale=scale, size=img.shape), 0, 16)


X_raw, y_raw = data.load_digits()
r = np.random.default_rng(0)
transforms = {"original": lambda im: im, "shift (1, -1)": lambda im: shift(im, 1, -1),
              "rotate 15°": lambda im: rotate(im, 15), "noise": lambda im: add_noise(im, r),
              "h-flip (wrong for digits!)": lambda im: im[:, ::-1],
              "rotate 180° (6 → 9?)": lambda im: im[::-1, ::-1]}
examples = [int(np.flatnonzero(y_raw == d)[0]) for d in (2, 6, 7)]
fig, axes = plt.subplots(len(examples), len(transforms), figsize=(11, 5.6))
for row, i in enumerate(examples):
    img = X_raw[i].reshape(8, 8)
    for col, (name, f) in enumerate(transforms.items()):
        axes[row, col].imshow(f(img), cmap="gray_r", vmin=0, vmax=16)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
        if row == 0:
            axes[row, col].set_title(name, fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Optional: dropout and batch norm with `torch.nn`, on a GPU if there is one
#
# The network of the ablation in section 4 with both layers (batch norm, and dropout
# $p = 0.5$), on the same digits split, now built from `nn.Linear`, `nn.BatchNorm1d`
# and `nn.Dropout`. `model.train()` and `model.eval()` switch both layers between
# their two behaviours. Forgetting `model.eval()` at test time makes predictions random
# (dropout still on) and dependent on the batch (batch statistics). Skipped when torch
# is missing.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    torch.set_num_threads(1)              # tiny layers: threads only add overhead
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    Xt = torch.tensor(X_tr, dtype=torch.float32, device=device)
    yt = torch.tensor(y_tr, device=device)
    Xv = torch.tensor(X_va, dtype=torch.float32, device=device)
    yv = torch.tensor(y_va, device=device)
    # BatchNorm2d = our (N·H·W, C) batch norm, per channel
    x4t = torch.tensor(x4, device=device)
    bn2d = torch.nn.functional.batch_norm(x4t, None, None, training=True).cpu().numpy()
    print(f"BatchNorm2d vs per-channel numpy batch norm: max difference "
          f"{np.abs(bn2d - out4).max():.1e}")
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.BatchNorm1d(128),
                                torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                torch.nn.Linear(128, 10)).to(device)
    opt_t = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in tqdm(range(EPOCHS), desc="torch: BatchNorm + dropout 0.5"):
        model.train()
        for idx in torch.randperm(len(yt), device=device).split(50):
            opt_t.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt_t.step()
    with torch.no_grad():
        model.eval()
        acc_eval = (model(Xv).argmax(1) == yv).float().mean().item()
        model.train()                     # the classic bug: predicting in training mode
        pred1, pred2 = model(Xv).argmax(1), model(Xv).argmax(1)
        acc_train_mode = (pred1 == yv).float().mean().item()
        flips = (pred1 != pred2).float().mean().item()
    print(f"{device}: val accuracy {acc_eval:.3f} in eval mode, {acc_train_mode:.3f} in "
          f"train mode ({flips:.1%} of predictions change between two identical calls)")

# %% [markdown]
# ## Summary
# - Read the curves: a growing train/validation gap is overfitting; two high curves
#   are underfitting.
# - L1 $\lambda\sum|w|$ has subgradient $\lambda\,\mathrm{sign}(w)$ and favours exact
#   zeros, but only a proximal step, soft-thresholding $z = w - \eta\nabla L_0$ by
#   $\eta\lambda$, produces them; L2 $\lambda\sum w^2$ has gradient $2\lambda w$ and
#   shrinks everything.
# - Weight decay equals L2 for plain SGD only ($\lambda = \lambda'/2$ here); with
#   momentum or an adaptive optimizer they differ (chapter 5: AdamW).
# - Inverted dropout keeps $\mathbb E[y] = x$ by dividing by $1-p$; evaluation is the
#   identity.
# - BatchNorm: batch statistics (biased variance) in training, running averages
#   (fed the unbiased variance, momentum = weight of the new value) in evaluation; one
#   mean and variance per channel, over the batch (and spatial) axes. Its backward
#   pass follows the graph mean → centre → variance → normalise → scale: the
#   gradient of a constant normalisation, minus its batch mean, minus its component
#   along $\hat x$. LayerNorm normalises each example over its features, behaves the
#   same in both modes, and its backward pass is the same graph along the last axis.
# - Ablations change one thing at a time and compare differences with the spread
#   over seeds.
# - Xavier $\sigma = \sqrt{2/(n_\text{in}+n_\text{out})}$ for tanh; Kaiming
#   $\sigma = \sqrt2/\sqrt{n_\text{in}}$ for ReLU.
# - Clip gradients by their joint norm; stop early on the validation loss and restore
#   the best checkpoint; augment with label-preserving transforms.
