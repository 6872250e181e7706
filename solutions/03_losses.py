# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 3 — Loss functions: what a network minimises
#
# Training needs one number that says how wrong the model is: the **loss function**
# (损失函数). Gradient descent then moves the parameters downhill on it, so a loss
# matters twice: through its *value* (what counts as a big mistake) and through its
# *gradient* (梯度), the signal that backpropagation starts from.
#
# **What this chapter covers**
# 1. Regression losses: MSE (均方误差), MAE (平均绝对误差), RMSE (均方根误差) and
#    Huber (Huber 损失), and how each reacts to outliers (离群点).
# 2. Maximum likelihood (最大似然): MSE, binary cross-entropy and cross-entropy are
#    negative log-likelihoods of a Gaussian, a Bernoulli and a categorical model.
# 3. Entropy (熵) and cross-entropy (交叉熵), with worked examples.
# 4. Binary cross-entropy (二元交叉熵) from probabilities and, stably, from logits
#    (对数几率, log-odds).
# 5. Softmax cross-entropy, why its gradient is softmax − y, and label smoothing
#    (标签平滑), with a training demo on your own gradient.
# 6. KL divergence (KL 散度), focal loss (焦点损失) and its gradient, hinge loss
#    (合页损失).
#
# **How to check your answers.** Each exercise is a function with a stub that raises
# `NotImplementedError`. Replace the stub with your code, run the cell, then run the
# test cell below it. The grader also runs hidden tests (random inputs, logits of
# ±800, probabilities of exactly 0 and 1, a batch of one).
#
# Exercises may use `numpy` only: an answer that calls `dlnotes`, scikit-learn or
# torch scores zero for that exercise. Every loss **returns the mean over the batch as
# a Python `float`** (torch's `reduction="mean"`), and every gradient has the shape of
# the input it differentiates.

# %%
import numpy as np

from dlnotes.checks import answer, check_close

# %% [markdown]
# ## 1. Regression losses
#
# A model predicts $\hat y_i$ for targets $y_i$, $i = 1, \dots, n$ (any shape; $n$ is the
# number of elements). With the error $d_i = \hat y_i - y_i$:
#
# $$\text{MSE} = \frac1n\sum_{i=1}^{n} d_i^2, \qquad
#   \text{MAE} = \frac1n\sum_{i=1}^{n} |d_i|, \qquad
#   \text{RMSE} = \sqrt{\text{MSE}}.$$
#
# RMSE has the units of the target, which makes it easier to read than MSE; its minimiser
# is the same. The gradients tell the real story:
#
# $$\frac{\partial\,\text{MSE}}{\partial \hat y_i} = \frac{2}{n}\,d_i, \qquad
#   \frac{\partial\,\text{MAE}}{\partial \hat y_i} = \frac{1}{n}\operatorname{sign}(d_i).$$
#
# MSE pushes on an example in proportion to its error, so one huge outlier dominates the
# fit. MAE pushes every example with the same strength, so it ignores *how far* an
# outlier is (and has a kink at $d = 0$).
#
# > **Pitfall.** One common note writes
# > $\frac1n\sum_{n=1}^{n}(y_i-\hat y_i)^2$: the summation index $n$ clashes with the
# > upper limit $n$, and the summand uses $i$. The sum runs over $i$:
# > $\frac1n\sum_{i=1}^{n}$.
#
# > **Pitfall.** The same notes call $\tfrac12(\hat y - y)^2$ "MSE". That is *half the
# > squared error*, a textbook convenience that makes the derivative $\hat y - y$.
# > `torch.nn.functional.mse_loss` has no ½, so its gradient is $\frac{2}{n}(\hat y - y)$,
# > **twice** as large: switching between the two silently doubles your learning rate.

# %% [markdown]
# ### Exercise 1.1 — `mse` and `mse_grad`
# `mse(input, target)` returns the mean squared error as a float; `mse_grad(input,
# target)` returns $\partial\,\text{MSE}/\partial\,\text{input}$, an array with the shape
# of `input`. Both accept arrays of any shape.

# %% nbgrader={"grade_id": "mse", "solution": true}
def mse(input, target):
    """Mean of (input - target)**2 over all elements, as a float."""
    ### BEGIN SOLUTION
    diff = np.asarray(input, dtype=float) - np.asarray(target, dtype=float)
    return float(np.mean(diff ** 2))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_mse", "grade": true, "points": 1}
check_close(answer(mse, [1.0, 2.0, 3.0], [1.0, 0.0, 0.0]), 13 / 3,
            "mse([1, 2, 3], [1, 0, 0])",
            mistakes={"sum instead of mean: divide by the number of elements": 13.0,
                      "that is half the squared error (the 1/2 convention), not MSE": 13 / 6},
            atol=1e-6, rtol=1e-5)
check_close(answer(mse, [[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]), 7.5,
            "mse on a 2x2 array (mean over all 4 elements)", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_mse_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_rng = np.random.default_rng(301)
for _shape in ((1,), (7,), (4, 5)):
    _x = _rng.normal(size=_shape)
    _t = _rng.normal(size=_shape)
    _want = _ref.mse(_x, _t)
    check_close(answer(mse, _x, _t), _want, f"mse on random arrays of shape {_shape}",
                mistakes={"sum instead of mean: divide by the number of elements":
                              _want * _x.size,
                          "that is half the squared error (the 1/2 convention), not MSE":
                              _want / 2,
                          "that is RMSE; MSE has no square root": np.sqrt(_want),
                          "that is MAE; square the errors": _ref.mae(_x, _t)},
                rtol=1e-5, atol=1e-6)
_got = answer(mse, np.array([2.0]), np.array([2.0]))
if not isinstance(_got, float):
    raise AssertionError(f"mse must return a Python float, got {type(_got).__name__}")
check_close(_got, 0.0, "mse of a perfect prediction", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% nbgrader={"grade_id": "mse_grad", "solution": true}
def mse_grad(input, target):
    """Gradient of mse with respect to input: same shape as input."""
    ### BEGIN SOLUTION
    x = np.asarray(input, dtype=float)
    d = x - np.asarray(target, dtype=float)
    return 2.0 * d / x.size
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_mse_grad", "grade": true, "points": 1}
check_close(answer(mse_grad, [1.0, 2.0], [0.0, 0.0]), [1.0, 2.0], "mse_grad([1, 2], [0, 0])",
            mistakes={"missing factor 2: d/dx of d**2 is 2d": [0.5, 1.0],
                      "sum instead of mean: divide by the number of elements": [2.0, 4.0],
                      "the sign is flipped: the gradient is 2(input - target)/n":
                          [-1.0, -2.0]}, atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_mse_grad_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_rng = np.random.default_rng(302)
for _shape in ((1,), (6,), (3, 4)):
    _x = _rng.normal(size=_shape)
    _t = _rng.normal(size=_shape)
    _want = _ref.mse_grad(_x, _t)
    check_close(answer(mse_grad, _x, _t), _want,
                f"mse_grad on random arrays of shape {_shape}",
                mistakes={"missing factor 2: d/dx of d**2 is 2d": _want / 2,
                          "sum instead of mean: divide by the number of elements":
                              _want * _x.size,
                          "the sign is flipped: the gradient is 2(input - target)/n": -_want},
                rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Huber: quadratic near zero, linear far away
#
# The **Huber loss** keeps MSE's smooth bowl for small errors and switches to MAE's
# straight lines beyond a threshold $\delta$:
#
# $$\ell_\delta(d) = \begin{cases} \tfrac12 d^2 & |d| < \delta \\
#   \delta\,\bigl(|d| - \tfrac12\delta\bigr) & |d| \ge \delta \end{cases},
#   \qquad \text{Huber} = \frac1n\sum_i \ell_\delta(d_i).$$
#
# The $-\tfrac12\delta$ makes the two pieces meet with the same value *and* slope at
# $|d| = \delta$. The gradient is $d$ inside and $\pm\delta$ outside: an outlier pulls
# with at most $\delta$. This is `torch.nn.functional.huber_loss`; torch's `smooth_l1_loss`
# is the same curve divided by $\delta$ (its parameter is called `beta`).

# %% [markdown]
# ### Exercise 1.2 — `huber`
# Return the mean Huber loss as a float, for any `delta > 0`.

# %% nbgrader={"grade_id": "huber", "solution": true}
def huber(input, target, delta=1.0):
    """Mean Huber loss with threshold delta over all elements, as a float."""
    ### BEGIN SOLUTION
    d = np.abs(np.asarray(input, dtype=float) - np.asarray(target, dtype=float))
    per_elem = np.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta))
    return float(np.mean(per_elem))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_huber", "grade": true, "points": 1}
# errors 0.5 (quadratic: 0.125) and 3 (linear: 1 * (3 - 0.5) = 2.5)
check_close(answer(huber, [0.5, 3.0], [0.0, 0.0]), 1.3125, "huber([0.5, 3], [0, 0])",
            mistakes={"the linear piece needs the -delta/2 offset: delta * (|d| - delta/2)":
                          (0.125 + 3.0) / 2,
                      "sum instead of mean": 2.625}, atol=1e-6, rtol=1e-5)
check_close(answer(huber, [0.5, 3.0], [0.0, 0.0], delta=2.0), (0.125 + 4.0) / 2,
            "huber([0.5, 3], [0, 0], delta=2)", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_huber_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_m_offset = "the linear piece needs the -delta/2 offset: delta * (|d| - delta/2)"
_rng = np.random.default_rng(303)
for _shape, _delta in (((1,), 1.0), ((9,), 0.5), ((3, 4), 2.5)):
    _x = _rng.normal(scale=3.0, size=_shape)
    _t = _rng.normal(size=_shape)
    _d = np.abs(_x - _t)
    check_close(answer(huber, _x, _t, delta=_delta), _ref.huber(_x, _t, delta=_delta),
                f"huber on random arrays of shape {_shape}, delta={_delta}",
                mistakes={_m_offset:
                              float(np.mean(np.where(_d < _delta, 0.5 * _d ** 2, _delta * _d))),
                          "the quadratic piece is 0.5 * d**2, not d**2":
                              float(np.mean(np.where(_d < _delta, _d ** 2,
                                                     _delta * (_d - 0.5 * _delta)))),
                          "that is smooth_l1 (Huber divided by delta)":
                              _ref.huber(_x, _t, delta=_delta) / _delta,
                          "sum instead of mean": _ref.huber(_x, _t, delta=_delta) * _x.size},
                rtol=1e-5, atol=1e-6)
check_close(answer(huber, [1.0], [0.0]), 0.5, "huber exactly at |d| = delta = 1",
            rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Outliers: fit a constant, then a line
#
# Minimising MSE over a constant $c$ gives the **mean** of the data, minimising MAE gives
# the **median** (中位数), and Huber lands in between. Below, 20 points near 1 plus three
# outliers near 10: the mean is dragged away, the median is not. The same happens when a
# line is fitted to data with a few corrupted targets. (This demo uses the book's
# implementation, `dlnotes.losses`; later demos run your own answers. Demo cells are
# skipped when your notebook is graded.)

# %% tags=["demo"]
import matplotlib.pyplot as plt
from scipy.optimize import minimize

from dlnotes import activations as act
from dlnotes import losses as ref

rng = np.random.default_rng(0)
data = np.r_[rng.normal(1.0, 0.3, 20), [9.0, 10.0, 11.0]]
fits = {name: minimize(lambda c, f=f: f(np.full_like(data, c[0]), data), [0.0],
                       method="Nelder-Mead").x[0]
        for name, f in (("MSE", ref.mse), ("MAE", ref.mae), ("Huber δ=1", ref.huber))}
print({k: round(float(v), 3) for k, v in fits.items()},
      f"mean={data.mean():.3f} median={np.median(data):.3f}")

xs = np.linspace(0, 10, 30)
ys = 0.5 * xs + 1 + rng.normal(0, 0.3, xs.size)
ys[[25, 27, 29]] -= 8  # three corrupted targets
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(data, np.zeros_like(data), "k|", markersize=20)
for (name, c), col in zip(fits.items(), ["C0", "C1", "C2"], strict=True):
    ax1.axvline(c, color=col, label=f"{name}: c = {c:.2f}")
ax1.set(title="Best constant under each loss", xlabel="value", yticks=[])
ax1.legend()
ax2.plot(xs, ys, "k.", label="data (3 outliers)")
for (name, f), col in zip((("MSE", ref.mse), ("MAE", ref.mae), ("Huber δ=1", ref.huber)),
                          ["C0", "C1", "C2"], strict=True):
    a, b = minimize(lambda w, f=f: f(w[0] * xs + w[1], ys), [0.0, 0.0],
                    method="Nelder-Mead").x
    ax2.plot(xs, a * xs + b, color=col, label=f"{name}: y = {a:.2f}x + {b:.2f}")
ax2.set(title="Best line under each loss (truth: 0.5x + 1)", xlabel="x", ylabel="y")
ax2.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Where the losses come from: maximum likelihood
#
# A network's output can be read as a **probability model of the target**:
# $p(y \mid x; \theta)$, with $\theta$ the parameters. **Maximum likelihood**
# (最大似然估计) picks the $\theta$ under which the training targets are most probable.
# With independent examples the **likelihood** (似然) is a product. Products of many
# numbers below 1 underflow and are awkward to differentiate, so take the logarithm
# (it is increasing, so the maximiser does not move), flip the sign to get something to
# minimise, and divide by $n$ (which moves nothing either). The result is the **negative
# log-likelihood** (负对数似然, NLL):
#
# $$\theta^\star = \arg\max_\theta \prod_{i=1}^{n} p(y_i \mid x_i;\theta)
#   = \arg\min_\theta\ \frac1n\sum_{i=1}^{n} -\log p(y_i \mid x_i; \theta).$$
#
# Every loss of this chapter is this recipe with a different distribution for the target.
#
# **Gaussian noise gives MSE.** In regression the network predicts $\hat y_i$ and we
# model the target as $\hat y_i$ plus Gaussian noise of a fixed variance $\sigma^2$:
# $p(y_i \mid \hat y_i) = \frac{1}{\sqrt{2\pi\sigma^2}}\exp\bigl(-\frac{(y_i - \hat y_i)^2}
# {2\sigma^2}\bigr)$. Its negative logarithm is
#
# $$-\log p(y_i \mid \hat y_i) = \frac{(y_i - \hat y_i)^2}{2\sigma^2}
#   + \tfrac12\log(2\pi\sigma^2),
#   \qquad\text{so}\qquad
#   \text{NLL} = \frac{1}{2\sigma^2}\,\text{MSE} + \tfrac12\log(2\pi\sigma^2).$$
#
# The second term does not depend on the model, and $\frac1{2\sigma^2}$ is a positive
# constant: minimising the Gaussian NLL and minimising the MSE give **the same
# parameters, whatever $\sigma$ is**. $\sigma$ only rescales the gradient, as a learning
# rate would (the "½ convention" of section 1 is $\sigma = 1$). The same computation with
# Laplace noise, $p \propto e^{-|y - \hat y|/b}$, gives MAE.
#
# **A Bernoulli gives binary cross-entropy.** For a label $y \in \{0, 1\}$ the network
# predicts $p = P(y = 1)$. One formula covers both outcomes:
# $p(y \mid p) = p^{y}(1 - p)^{1 - y}$, which is $p$ when $y = 1$ and $1 - p$ when
# $y = 0$. Its negative logarithm is
#
# $$-\log p(y \mid p) = -\bigl[y \log p + (1 - y)\log(1 - p)\bigr],$$
#
# the binary cross-entropy of section 4.
#
# **A categorical gives cross-entropy.** For $C$ classes the network predicts
# probabilities $q = \mathrm{softmax}(z)$ and the true class is $y$. The probability of
# the observed class is $p(y \mid q) = q_y = \prod_{c} q_c^{[y = c]}$, so the NLL is
# $-\log q_y$: the softmax cross-entropy of section 5. torch says so in its API:
# `F.cross_entropy(z, y)` equals `F.nll_loss(F.log_softmax(z, dim=1), y)`.
#
# So choosing a loss is choosing a noise model. MSE assumes Gaussian noise, whose tails
# are so thin that a target 10σ away is all but impossible: the fit bends far to make
# outliers less improbable, which is what the demo of section 1 showed.
#
# The demo fits a line by gradient descent on the Gaussian NLL for three values of
# $\sigma$, with **your** `mse_grad`: the gradient of the NLL is
# $\frac1{2\sigma^2}$ times the gradient of the MSE.

# %% tags=["demo"]
from dlnotes import mine

yours = mine.own(globals(), "03_losses", ["mse", "mse_grad"])
rng = np.random.default_rng(3)
x_line = rng.uniform(-2, 2, 50)
y_line = 1.5 * x_line - 0.5 + rng.normal(0, 0.4, 50)
X_line = np.c_[x_line, np.ones_like(x_line)]
print(f"{'sigma':>6s} {'slope':>8s} {'intercept':>10s} {'MSE':>8s} {'NLL':>8s}")
for sigma in (0.5, 1.0, 2.0):
    w = np.zeros(2)
    for _ in range(3000):
        pred = X_line @ w
        g_pred = yours.mse_grad(pred, y_line) / (2 * sigma ** 2)  # dNLL / dpred
        w -= 0.2 * X_line.T @ g_pred
    m = yours.mse(X_line @ w, y_line)
    nll = m / (2 * sigma ** 2) + 0.5 * np.log(2 * np.pi * sigma ** 2)
    print(f"{sigma:6.1f} {w[0]:8.4f} {w[1]:10.4f} {m:8.4f} {nll:8.4f}")
w_ls, *_ = np.linalg.lstsq(X_line, y_line, rcond=None)
print(f"least squares (closed form): slope {w_ls[0]:.4f}, intercept {w_ls[1]:.4f}")

# %% [markdown]
# ## 3. Entropy and cross-entropy
#
# For a distribution $P$ over $C$ outcomes, the **entropy** (熵) is the expected
# "surprise" $-\log P(x)$:
#
# $$H(P) = -\sum_{c=1}^{C} P_c \log P_c \qquad (0 \log 0 = 0).$$
#
# A near-certain distribution has low entropy and the uniform one the highest,
# $\log C$. The **cross-entropy** $H(P, Q) = -\sum_c P_c \log Q_c$ is the average surprise
# when the truth is $P$ but we believe $Q$; it is never below $H(P)$, and the gap is the
# KL divergence (section 6). With a one-hot target $P$ (true class $y$), all terms but
# one vanish: $H(P, Q) = -\log Q_y$, the categorical NLL of section 2.
#
# **Worked example (the digit "5").** The target is one-hot on class 5 and the network
# outputs $Q = [0.1, 0.1, 0, 0, 0, 0.7, 0, 0.1, 0, 0]$, so the loss is $-\log 0.7
# \approx 0.357$. The zeros in $Q$ do no harm: they sit where the target is 0.
#
# > **Pitfall.** The notes write entropy as $-\sum_{i=0}^{N}$, which has $N+1$ terms for
# > $N$ outcomes. Sum over the $C$ outcomes once: $\sum_{c=1}^{C}$ (or
# > $\sum_{c=0}^{C-1}$ with 0-based class indices, as in code).

# %% tags=["demo"]
target5 = np.eye(10)[5]
q5 = np.array([0.1, 0.1, 0, 0, 0, 0.7, 0, 0.1, 0, 0])
print("cross-entropy of the digit-5 example:",
      -np.sum(target5[q5 > 0] * np.log(q5[q5 > 0])), "= -log 0.7 =", -np.log(0.7))
print("KL(target || q5) =", ref.kl_divergence(target5, q5), "(= the cross-entropy, as H(target)=0)")

p = np.linspace(1e-6, 1 - 1e-6, 400)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.plot(p, -(p * np.log(p) + (1 - p) * np.log(1 - p)))
ax1.axhline(np.log(2), color="k", ls=":", label="log 2 (uniform)")
ax1.set(title="Entropy of a coin with P(heads) = p", xlabel="p", ylabel="H (nats)")
ax1.legend()
ax2.plot(p, -np.log(p))
ax2.set(title="Cross-entropy with a one-hot target: -log q_y", xlabel="q_y",
        ylabel="loss", ylim=(0, 6))
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Binary cross-entropy
#
# For a label $y \in \{0, 1\}$ and a predicted probability $p = P(y = 1)$, the Bernoulli
# NLL of section 2, averaged over $n$ predictions, is
#
# $$\text{BCE} = \frac1n\sum_{i=1}^n -\bigl[y_i \log p_i + (1 - y_i)\log(1 - p_i)\bigr].$$
#
# For each prediction only one of the two terms is non-zero: $-\log p_i$ for a positive,
# $-\log(1 - p_i)$ for a negative. In **multi-label** classification (多标签分类) each of
# several labels is its own yes/no question with its own sigmoid, and BCE averages over
# every (example, label) entry.
#
# **Worked example.** A photo of rice (米饭) and pumpkin (南瓜) but no greens (青菜):
# target $[1, 1, 0]$, predicted $[0.8, 0.9, 0.1]$. The three terms are $-\log 0.8$,
# $-\log 0.9$ and $-\log(1 - 0.1) = -\log 0.9$, and BCE is their **mean**.
#
# > **Pitfall.** Some notes define BCE with the $\frac1n$ mean and then compute an
# > example like this one as $\text{Loss}_A + \text{Loss}_B + \text{Loss}_C$, a **sum**:
# > three times the value that the formula (and `F.binary_cross_entropy`) gives. Sum and
# > mean differ by the number of terms, which changes the gradient scale and therefore
# > the learning rate you need.

# %% [markdown]
# ### Question 4.1
# A photo is tagged for four labels, *cat*, *dog*, *indoors* and *night*. It shows a dog,
# indoors, in daylight: target $[0, 1, 1, 0]$. The model predicts the probabilities
# $[0.3, 0.6, 0.95, 0.2]$. Compute the summed loss `bce_sum` (the slip of the pitfall
# above) and the binary cross-entropy `bce_mean`. Write numbers (3 decimals or better) or
# expressions with `np.log`; do not call a library loss.

# %% nbgrader={"grade_id": "q_multilabel", "solution": true}
bce_sum = None
bce_mean = None
### BEGIN SOLUTION
bce_sum = -np.log(1 - 0.3) - np.log(0.6) - np.log(0.95) - np.log(1 - 0.2)
bce_mean = bce_sum / 4
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_multilabel", "grade": true, "points": 1}
assert bce_sum is not None and bce_mean is not None, "set bce_sum and bce_mean to numbers"
assert bce_mean > 0, "bce_mean must be positive (each term is -log of a probability < 1)"
# The values themselves are checked by the hidden tests; here only how the two relate.
check_close(bce_sum / bce_mean, 4.0, "bce_sum / bce_mean", atol=0.001,
            mistakes={"bce_mean is the sum divided by the number of labels; you gave the "
                      "same number twice": 1.0,
                      "there are 4 labels here, not 3": 3.0}, rtol=1e-5)
### BEGIN HIDDEN TESTS
_terms = np.array([1 - 0.3, 0.6, 0.95, 1 - 0.2])
check_close(bce_mean, float(-np.log(_terms).mean()), "bce_mean", atol=0.001,
            mistakes={"for a label whose target is 0 the term is -log(1 - p), not -log p":
                          float(-np.log([0.3, 0.6, 0.95, 0.2]).mean()),
                      "that is the sum; the binary cross-entropy is the mean over the labels":
                          float(-np.log(_terms).sum()),
                      "use the natural logarithm (np.log), not log10":
                          float(-np.log10(_terms).mean())}, rtol=1e-5)
check_close(bce_sum, float(-np.log(_terms).sum()), "bce_sum", atol=0.001, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### From logits, stably
#
# Networks output a logit $z$ (对数几率, the log-odds $\log\frac{p}{1-p}$) and
# $p = \sigma(z) = 1/(1 + e^{-z})$. Computing $\sigma(z)$ first and then $\log p$ fails at
# large $|z|$: at $z = 800$, $\sigma(z)$ rounds to exactly 1.0 and
# $\log(1 - p) = \log 0 = -\infty$ (and $0 \cdot \infty$ is NaN). So write the loss in $z$
# directly. Two facts about the sigmoid do it: $\log\sigma(z) = -\log(1 + e^{-z})$, and
# $1 - \sigma(z) = \frac{e^{-z}}{1 + e^{-z}}$, so $\log(1 - \sigma(z)) = -z - \log(1 +
# e^{-z})$. Put them into $\ell = -y\log\sigma(z) - (1 - y)\log(1 - \sigma(z))$:
#
# $$\ell(z, y) = y\log(1 + e^{-z}) + (1 - y)\bigl(z + \log(1 + e^{-z})\bigr)
#   = (1 - y)\,z + \log(1 + e^{-z}).$$
#
# That still overflows for $z = -800$ ($e^{800}$). For $z < 0$ take $e^{-z}$ out of the
# logarithm: $\log(1 + e^{-z}) = -z + \log(1 + e^{z})$. Both cases are
# $\log(1 + e^{-z}) = \max(-z, 0) + \log(1 + e^{-|z|})$, and since
# $z + \max(-z, 0) = \max(z, 0)$:
#
# $$\ell(z, y) = \max(z, 0) - z\,y + \log\bigl(1 + e^{-|z|}\bigr).$$
#
# Only $e^{-|z|} \le 1$ is ever computed; `np.log1p(t)` computes $\log(1 + t)$ accurately
# for small $t$. Differentiating the first form gives the gradient:
# $\partial\ell/\partial z = (1 - y) - \frac{e^{-z}}{1 + e^{-z}} = (1 - y) - (1 - \sigma(z))
# = \sigma(z) - y$. This is `F.binary_cross_entropy_with_logits`, and it is why frameworks
# prefer it to `sigmoid` followed by `binary_cross_entropy`.

# %% tags=["demo"]
z_big = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
y_big = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
with np.errstate(all="ignore"):  # the naive route warns: that is the point
    p_naive = 1 / (1 + np.exp(-z_big))
    naive = -(y_big * np.log(p_naive) + (1 - y_big) * np.log(1 - p_naive))
stable = [ref.binary_cross_entropy_with_logits(z_big[i:i + 1], y_big[i:i + 1])
          for i in range(len(z_big))]
from_probs = [ref.binary_cross_entropy(p_naive[i:i + 1], y_big[i:i + 1])
              for i in range(len(z_big))]
print(f"{'logit':>7s} {'target':>6s} {'sigmoid then log':>17s} {'BCE(probs), torch clamp':>24s}"
      f" {'stable, from logits':>20s}")
for row in zip(z_big, y_big, naive, from_probs, stable, strict=True):
    print(f"{row[0]:7.0f} {row[1]:6.0f} {row[2]:17.4f} {row[3]:24.4f} {row[4]:20.4f}")

# %% [markdown]
# The probability route loses precision, then breaks: $1 - \sigma(30) \approx 10^{-13}$
# keeps only a few correct digits (30.0010 instead of 30.0000), and $\sigma(800)$ is
# exactly 1.0, so $\log(1 - p) = -\infty$. torch's `binary_cross_entropy` (from
# probabilities) clamps $\log p$ at $-100$ to avoid $\infty$, so a confident mistake at
# $z = 800$ costs 100 instead of 800. The logit form is exact everywhere.

# %% [markdown]
# ### Exercise 4.2 — `binary_cross_entropy_with_logits`
# Return the mean BCE as a float, for logits of any shape and targets in $[0, 1]$ of the
# same shape. It must give exact, finite values for logits like $\pm 1000$, without
# warnings.

# %% nbgrader={"grade_id": "bce_with_logits", "solution": true}
def binary_cross_entropy_with_logits(logits, target):
    """Mean binary cross-entropy of sigmoid(logits) against target, from the logits."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    return float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_bce_with_logits", "grade": true, "points": 1}
# The rice/pumpkin/greens example, given as logits: log(p / (1 - p)).
_z = np.log(np.array([0.8, 0.9, 0.1]) / (1 - np.array([0.8, 0.9, 0.1])))
check_close(answer(binary_cross_entropy_with_logits, _z, [1, 1, 0]),
            float(-np.log(0.8) - 2 * np.log(0.9)) / 3, "BCE of the rice/pumpkin/greens example",
            mistakes={"sum instead of mean": float(-np.log(0.8) - 2 * np.log(0.9))},
            atol=1e-6, rtol=1e-5)
check_close(answer(binary_cross_entropy_with_logits, [0.0], [1]), float(np.log(2)),
            "BCE at logit 0 (p = 0.5)", atol=1e-6, rtol=1e-5)
# Two confident mistakes: each costs exactly 800.
_M_BCE_ROUTE = ("sigmoid then log gives log(0) = -inf once sigmoid(z) rounds to 0 or 1; "
                "write the loss in z directly, as derived above")
with np.errstate(all="ignore"):
    _got = answer(binary_cross_entropy_with_logits, [800.0, -800.0], [0, 1])
check_close(_got, 800.0, "BCE with logits [800, -800] and targets [0, 1]",
            atol=1e-6, rtol=1e-5,
            mistakes={_M_BCE_ROUTE: np.nan, f"{_M_BCE_ROUTE} (here the loss came out inf)": np.inf})

# %% nbgrader={"grade_id": "test_bce_with_logits_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_rng = np.random.default_rng(304)
for _shape in ((1,), (8,), (3, 5)):
    _z = _rng.normal(scale=3.0, size=_shape)
    _y = _rng.integers(0, 2, _shape).astype(float)
    _want = _ref.binary_cross_entropy_with_logits(_z, _y)
    check_close(answer(binary_cross_entropy_with_logits, _z, _y), _want,
                f"BCE with logits on random logits of shape {_shape}",
                mistakes={"sum instead of mean": _want * _z.size,
                          "the targets look flipped (y and 1 - y swapped)":
                              _ref.binary_cross_entropy_with_logits(_z, 1 - _y)},
                rtol=1e-5, atol=1e-6)
_z = np.array([800.0, -800.0, 1000.0, -1000.0, 800.0, -800.0])
_y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25])
_unstable = "sigmoid then log overflows or gives log(0) at |z| = 800; use " \
            "max(z, 0) - z*y + log1p(exp(-|z|))"
check_close(answer(binary_cross_entropy_with_logits, _z, _y),
            _ref.binary_cross_entropy_with_logits(_z, _y),
            "BCE with logits [800, -800, 1000, -1000, 800, -800] and targets "
            "[1, 0, 0, 1, 0.5, 0.25] (must be exact and finite)",
            mistakes={_unstable: np.nan, _unstable + " ": np.inf}, atol=1e-6, rtol=1e-5)
check_close(answer(binary_cross_entropy_with_logits, [[2.0]], [[0.3]]),
            _ref.binary_cross_entropy_with_logits([[2.0]], [[0.3]]),
            "BCE with a soft target 0.3 and a batch of one", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Softmax cross-entropy
#
# For $C$ classes the network outputs logits $z \in \mathbb R^C$ (未归一化的对数概率), softmax
# turns them into $p_c = e^{z_c} / \sum_k e^{z_k}$, and the loss for true class $y$ is
# the categorical NLL of section 2:
#
# $$\ell(z, y) = -\log p_y = -z_y + \log\sum_{k} e^{z_k}.$$
#
# Compute the log-sum-exp (对数求和指数) with the max-shift $m = \max_k z_k$:
# $\log\sum_k e^{z_k} = m + \log\sum_k e^{z_k - m}$, so that no exponent is positive and
# the sum is at least 1. In a batch, every row is its own softmax with its own maximum:
# shifting all rows by the largest logit of the whole batch keeps the exponents
# $\le 0$, but a row whose logits all lie 800 below that maximum then has
# $e^{-800} = 0$ in every entry, and its log-sum-exp is $\log 0 = -\infty$.
#
# **Why softmax and cross-entropy are a pair.** Differentiate the second form:
# $\partial \ell / \partial z_c = -[c = y] + e^{z_c}/\sum_k e^{z_k} = p_c - y_c$, with $y$
# the one-hot target. The gradient is **softmax − y**: bounded, never vanishing while the
# prediction is wrong, and free of the softmax Jacobian (chapter 2 needed that Jacobian
# for the softmax alone; here it cancels). For a target distribution $q$ instead of a
# one-hot vector, the loss is $-\sum_c q_c \log p_c = -\sum_c q_c z_c + \log\sum_k e^{z_k}$
# (because $\sum_c q_c = 1$), and the same differentiation gives $p_c - q_c$. A mean over
# a batch of $N$ rows divides each row's gradient by $N$.
#
# **Label smoothing** (标签平滑). With one-hot targets, the loss keeps pushing the true
# logit up long after the prediction is right: on separable data the logits grow without
# bound and the network becomes over-confident (过度自信). Label smoothing mixes the
# one-hot target with the uniform distribution over the $C$ classes:
#
# $$q = (1 - \varepsilon)\,\text{onehot}(y) + \frac{\varepsilon}{C}.$$
#
# The true class gets $1 - \varepsilon + \varepsilon/C$, every other class
# $\varepsilon/C$, and each row still sums to 1. The loss is $-\sum_c q_c \log p_c$ and the
# gradient $p - q$: it vanishes when $p = q$, so the logits stop growing at a finite
# margin. This is torch's `F.cross_entropy(..., label_smoothing=ε)`, and the definition
# every chapter of this book uses.
#
# > **Pitfall.** Some notes describe label smoothing as "the 1 of the one-hot label
# > becomes $1-\varepsilon$ and the other classes get $\varepsilon$" (将 one-hot 标签的 1
# > 改成 $1-\epsilon$，其它类别分到 $\epsilon$). Read literally, *each* other class gets
# > $\varepsilon$, and a row sums to $1 - \varepsilon + (C-1)\varepsilon = 1 + (C-2)\varepsilon$:
# > not a distribution once $C > 2$ (1.8 for $C = 10$, $\varepsilon = 0.1$). Read as "the
# > other classes *share* $\varepsilon$", each gets $\varepsilon/(C-1)$: a valid smoothing,
# > but not torch's, which spreads $\varepsilon$ over **all** $C$ classes, the true one
# > included. With $C = 3$ and $\varepsilon = 0.1$: torch's target is
# > $[0.9\overline{3}, 0.0\overline{3}, 0.0\overline{3}]$, the "share" reading gives
# > $[0.9, 0.05, 0.05]$ and the literal reading $[0.9, 0.1, 0.1]$.

# %% [markdown]
# ### Exercise 5.1 — `cross_entropy`
# `logits` has shape `(N, C)`, `target` holds `N` integer class indices. Return the mean
# loss over the batch as a float, with torch's label smoothing. Logits of ±800 must give
# exact, finite values, with or without label smoothing, including batches whose rows
# have very different maxima.

# %% nbgrader={"grade_id": "cross_entropy", "solution": true}
def cross_entropy(logits, target, label_smoothing=0.0):
    """Mean softmax cross-entropy with targets (1 - eps) * onehot + eps / C."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return float(-np.sum(q * log_p) / n)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_cross_entropy", "grade": true, "points": 1}
def _blowup(hint):
    """The hint for every non-finite loss a missing or misplaced shift gives (NaN, inf, -inf)."""
    return {hint: np.nan, f"{hint} (here the loss came out inf)": np.inf,
            f"{hint} (here the loss came out -inf)": -np.inf}


_M_SMOOTH_SHARE = ("label smoothing gives the true class 1 - eps + eps/C and the others "
                   "eps/C (you used 1 - eps and eps/(C-1))")
_M_NO_SHIFT = "missing max-shift: exp(800) overflows to inf"
_M_ROW_SHIFT = ("each row needs its own shift, z.max(axis=1, keepdims=True): with no shift, "
                "or with the global z.max(), exp underflows to 0 in the row whose logits all "
                "lie near -800, and log(0) = -inf")

# The digit "5" example, with logits log(q) (zeros replaced by a tiny 1e-6).
_q5 = np.array([0.1, 0.1, 0, 0, 0, 0.7, 0, 0.1, 0, 0]) + 1e-6
check_close(answer(cross_entropy, np.log(_q5 / _q5.sum())[None, :], [5]),
            float(np.log(_q5.sum() / (0.7 + 1e-6))), "cross_entropy of the digit-5 example",
            atol=1e-6, rtol=1e-5)
_ls_torch = float(-(14 / 15 * np.log(0.5) + 1 / 30 * np.log(0.25) * 2))
_ls_share = float(-(0.9 * np.log(0.5) + 0.05 * np.log(0.25) * 2))
check_close(answer(cross_entropy, np.log([[0.5, 0.25, 0.25]]), [0], label_smoothing=0.1),
            _ls_torch, "cross_entropy of p = [0.5, 0.25, 0.25], class 0, label_smoothing=0.1",
            mistakes={_M_SMOOTH_SHARE: _ls_share}, atol=1e-6, rtol=1e-5)
# Logits of +-800, no label smoothing: per row, loss 1600 and 1 + log(1 + e^-1).
with np.errstate(all="ignore"):
    _got = answer(cross_entropy, [[800.0, -800.0, 0.0], [-800.0, 800.0, 799.0]], [1, 2])
check_close(_got, 800.6566308437591,
            "cross_entropy([[800, -800, 0], [-800, 800, 799]], [1, 2]) (no label smoothing)",
            mistakes=_blowup(_M_NO_SHIFT), atol=1e-6, rtol=1e-5)
# Two rows whose largest logits differ by 799; both rows have the same loss.
with np.errstate(all="ignore"):
    _got = answer(cross_entropy, [[0.0, -1.0, -2.0], [-800.0, -801.0, -799.0]], [0, 2])
check_close(_got, 0.4076059644443804,
            "cross_entropy([[0, -1, -2], [-800, -801, -799]], [0, 2])",
            mistakes=_blowup(_M_ROW_SHIFT), atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_cross_entropy_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _act
from dlnotes import losses as _ref


def _ce_with(z, y, eps, variant):
    z, y = np.asarray(z, float), np.asarray(y)
    n, c = z.shape
    lp = _act.log_softmax(z, axis=1)
    oh = np.eye(c)[y]
    if variant == "share":
        q = (1 - eps) * oh + eps / (c - 1) * (1 - oh)
    elif variant == "each":
        q = (1 - eps) * oh + eps * (1 - oh)
    elif variant == "true only":
        q = (1 - eps) * oh
    else:
        q = (1 - eps) * oh + eps / c
    return float(-np.sum(q * lp) / n)


_M_SMOOTH_EACH = ("label smoothing spreads eps over all C classes (eps/C each); you gave every "
                  "other class eps, so the target does not sum to 1")
_M_SMOOTH_TRUE = ("label smoothing spreads eps over all C classes; you only scaled the true "
                  "class by 1 - eps")
_rng = np.random.default_rng(305)
for _n, _c, _eps in ((1, 2, 0.0), (6, 4, 0.0), (5, 3, 0.1), (8, 10, 0.25)):
    _z = _rng.normal(scale=2.0, size=(_n, _c))
    _y = _rng.integers(0, _c, _n)
    _want = _ref.cross_entropy(_z, _y, label_smoothing=_eps)
    check_close(answer(cross_entropy, _z, _y, label_smoothing=_eps), _want,
                f"cross_entropy on {_n}x{_c} random logits, label_smoothing={_eps}",
                mistakes={"sum instead of mean over the batch": _want * _n,
                          _M_SMOOTH_SHARE: _ce_with(_z, _y, _eps, "share"),
                          _M_SMOOTH_EACH: _ce_with(_z, _y, _eps, "each"),
                          _M_SMOOTH_TRUE: _ce_with(_z, _y, _eps, "true only")},
                rtol=1e-5, atol=1e-6)
# +-800, with and without smoothing; then rows whose maxima differ by about 800.
_offsets = np.array([[800.0], [0.0], [-800.0], [400.0]])
_hostile = [(np.array([[800.0, -800.0, 0.0], [-800.0, 800.0, 799.0]]), np.array([1, 2]),
             _M_NO_SHIFT),
            (_rng.normal(scale=2.0, size=(4, 5)) + _offsets, np.array([0, 4, 2, 1]),
             _M_ROW_SHIFT)]
for _z, _y, _hint in _hostile:
    for _eps in (0.0, 0.1):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            _got = answer(cross_entropy, _z, _y, label_smoothing=_eps)
        check_close(_got, _ref.cross_entropy(_z, _y, label_smoothing=_eps),
                    f"cross_entropy on logits of shape {_z.shape} with row maxima "
                    f"{np.round(_z.max(axis=1)).tolist()}, label_smoothing={_eps}",
                    mistakes=_blowup(_hint), atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5.2 — `cross_entropy_grad`
# Return the gradient of `cross_entropy(logits, target, label_smoothing)` (the mean over
# the batch) with respect to `logits`: an array of shape `(N, C)`. The same inputs as in
# Exercise 5.1 must work, logits of ±800 included.

# %% nbgrader={"grade_id": "cross_entropy_grad", "solution": true}
def cross_entropy_grad(logits, target, label_smoothing=0.0):
    """Gradient of the mean cross-entropy with respect to logits, shape (N, C)."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return (p - q) / n
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_cross_entropy_grad", "grade": true, "points": 1}
_M_GRAD_SUM = "sum instead of mean: divide by the batch size N"
_M_GRAD_SIGN = "the sign is flipped: the gradient of -log p_y pushes the true logit up"
check_close(answer(cross_entropy_grad, [[0.0, 0.0], [0.0, np.log(3.0)]], [0, 1]),
            [[-0.25, 0.25], [0.125, -0.125]], "cross_entropy_grad([[0, 0], [0, log 3]], [0, 1])",
            mistakes={_M_GRAD_SUM: [[-0.5, 0.5], [0.25, -0.25]],
                      _M_GRAD_SIGN: [[0.25, -0.25], [-0.125, 0.125]],
                      "you returned the softmax probabilities; subtract the target":
                          [[0.5, 0.5], [0.25, 0.75]]}, atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_cross_entropy_grad_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_rng = np.random.default_rng(306)
for _n, _c, _eps in ((1, 3, 0.0), (5, 4, 0.0), (6, 5, 0.2)):
    _z = _rng.normal(scale=2.0, size=(_n, _c))
    _y = _rng.integers(0, _c, _n)
    _want = _ref.cross_entropy_grad(_z, _y, label_smoothing=_eps)
    _oh = np.eye(_c)[_y]
    check_close(answer(cross_entropy_grad, _z, _y, label_smoothing=_eps), _want,
                f"cross_entropy_grad on {_n}x{_c} random logits, label_smoothing={_eps}",
                mistakes={_M_GRAD_SUM: _want * _n,
                          _M_GRAD_SIGN: -_want,
                          _M_SMOOTH_SHARE:
                              _want + ((1 - _eps) * _oh + _eps / _c
                                       - (1 - _eps) * _oh - _eps / (_c - 1) * (1 - _oh)) / _n},
                rtol=1e-5, atol=1e-6)
_z = np.array([[800.0, -800.0], [0.0, 1000.0]])
with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
    _got = answer(cross_entropy_grad, _z, [1, 1])
    _no_shift = (np.exp(_z) / np.exp(_z).sum(axis=1, keepdims=True) - np.eye(2)[[1, 1]]) / 2
check_close(_got, _ref.cross_entropy_grad(_z, [1, 1]),
            "cross_entropy_grad with logits of +-800 (needs the max-shift)",
            mistakes={_M_NO_SHIFT: _no_shift}, atol=1e-6, rtol=1e-5)
_z = np.array([[0.0, -1.0, -2.0], [-800.0, -801.0, -799.0]])
_want = _ref.cross_entropy_grad(_z, [0, 2])
with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
    _got = answer(cross_entropy_grad, _z, [0, 2])
check_close(_got, _want, "cross_entropy_grad on rows whose largest logits differ by 799",
            mistakes={_M_ROW_SHIFT: np.r_[_want[:1], np.full((1, 3), np.nan)]},
            rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Your cross-entropy trains a classifier
#
# The demo trains a softmax classifier (a linear layer, logits $XW + b$) on three
# well-separated clusters, by gradient descent with **your** `cross_entropy_grad`, once
# with one-hot targets and once with label smoothing $\varepsilon = 0.1$. The data can be
# separated perfectly, so with one-hot targets nothing stops the weights from growing:
# the confidence creeps towards 1. With smoothing the gradient $p - q$ pulls back as soon
# as a prediction is more confident than its target $1 - \varepsilon + \varepsilon/C
# \approx 0.933$, and the weights stop growing.

# %% tags=["demo"]
yours = mine.own(globals(), "03_losses", ["cross_entropy", "cross_entropy_grad"])
rng = np.random.default_rng(5)
centres = np.array([[0.0, 3.0], [-3.0, -2.0], [3.0, -2.0]])
y_blobs = np.repeat(np.arange(3), 100)
X_blobs = centres[y_blobs] + rng.normal(0, 0.7, size=(300, 2))
history = {}
for eps in (0.0, 0.1):
    W, b = np.zeros((2, 3)), np.zeros(3)
    confidence, weight_norm = [], []
    for _ in range(2000):
        logits = X_blobs @ W + b
        g = yours.cross_entropy_grad(logits, y_blobs, label_smoothing=eps)
        W -= 0.5 * X_blobs.T @ g
        b -= 0.5 * g.sum(axis=0)
        p_true = act.softmax(logits, axis=1)[np.arange(300), y_blobs]
        confidence.append(p_true.mean())
        weight_norm.append(np.linalg.norm(W))
    acc = np.mean(np.argmax(X_blobs @ W + b, axis=1) == y_blobs)
    print(f"label_smoothing={eps}: training accuracy {acc:.3f}, loss "
          f"{yours.cross_entropy(X_blobs @ W + b, y_blobs, label_smoothing=eps):.4f}, mean "
          f"p(true class) {confidence[-1]:.4f}, |W| {weight_norm[-1]:.2f}")
    history[eps] = (confidence, weight_norm)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for eps, (confidence, weight_norm) in history.items():
    ax1.plot(confidence, label=f"ε = {eps}")
    ax2.plot(weight_norm, label=f"ε = {eps}")
ax1.axhline(1 - 0.1 + 0.1 / 3, color="k", ls=":", lw=0.8)
ax1.set(xlabel="step", ylabel="mean p(true class)", title="Confidence")
ax2.set(xlabel="step", ylabel="‖W‖", title="Weight norm")
ax1.legend()
ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6. KL divergence
#
# The **Kullback–Leibler divergence** (KL 散度) from a model distribution $q$ to a target
# distribution $p$ is
#
# $$\mathrm{KL}(p\,\|\,q) = \sum_c p_c \log\frac{p_c}{q_c} = H(p, q) - H(p) \ \ge 0,$$
#
# zero only when $p = q$, and **not symmetric**: $\mathrm{KL}(p\|q) \ne \mathrm{KL}(q\|p)$.
# Terms with $p_c = 0$ are 0 ($0 \log 0 = 0$), whatever $q_c$ is; a class with $p_c > 0$
# and $q_c = 0$ makes it infinite. Since $H(p)$ does not depend on the model, minimising
# KL and minimising cross-entropy give the same gradients. Knowledge distillation
# (知识蒸馏) uses KL between a teacher's and a student's softened distributions. In torch
# it is `F.kl_div(q.log(), p, reduction="batchmean")`: note the model's **log**-probabilities
# come first there.

# %% [markdown]
# ### Exercise 6.1 — `kl_divergence`
# `p` and `q` have shape `(N, C)` (each row a distribution) or `(C,)` (one distribution).
# Return the mean over rows of $\mathrm{KL}(p_i\|q_i)$ as a float; entries with
# $p = 0$ contribute 0 even where $q = 0$. You may assume $q > 0$ wherever $p > 0$.

# %% nbgrader={"grade_id": "kl_divergence", "solution": true}
def kl_divergence(p, q):
    """Mean over rows of KL(p_i || q_i), as a float; entries with p = 0 contribute 0."""
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    n_rows = 1 if p.ndim == 1 else p.shape[0]
    pos = p > 0
    terms = np.zeros_like(p)
    terms[pos] = p[pos] * np.log(p[pos] / q[pos])
    return float(terms.sum() / n_rows)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_kl_divergence", "grade": true, "points": 1}
check_close(answer(kl_divergence, [0.5, 0.5], [0.25, 0.75]),
            float(0.5 * np.log(2) + 0.5 * np.log(2 / 3)),
            "kl_divergence([0.5, 0.5], [0.25, 0.75])",
            mistakes={"p and q look swapped: KL(p || q) = sum p log(p / q)":
                          float(0.25 * np.log(0.5) + 0.75 * np.log(1.5))}, atol=1e-6, rtol=1e-5)
check_close(answer(kl_divergence, [1.0, 0.0], [1.0, 0.0]), 0.0,
            "kl_divergence of a one-hot distribution with itself (0 log 0 = 0)",
            atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_kl_divergence_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_m_swap = "p and q look swapped: KL(p || q) = sum p log(p / q)"
_rng = np.random.default_rng(307)
for _n, _c in ((1, 3), (4, 5), (7, 2)):
    _p = _rng.dirichlet(np.ones(_c), _n)
    _q = _rng.dirichlet(np.ones(_c), _n)
    _want = _ref.kl_divergence(_p, _q)
    check_close(answer(kl_divergence, _p, _q), _want,
                f"kl_divergence on {_n} random rows of {_c} classes",
                mistakes={_m_swap: _ref.kl_divergence(_q, _p),
                          "sum over rows instead of the mean over rows": _want * _n,
                          "you divided by every element (N*C), not by the number of rows":
                              _want / _c}, atol=1e-6, rtol=1e-5)
_p = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
_q = np.array([[0.2, 0.5, 0.3], [0.1, 0.8, 0.1]])
check_close(answer(kl_divergence, _p, _q), _ref.kl_divergence(_p, _q),
            "kl_divergence with zeros in p (0 log 0 = 0)", atol=1e-6, rtol=1e-5)
_p = np.array([[0.0, 1.0], [0.3, 0.7]])
_q = np.array([[0.0, 1.0], [0.6, 0.4]])
check_close(answer(kl_divergence, _p, _q), _ref.kl_divergence(_p, _q),
            "kl_divergence where p = q = 0 in one entry (that term is 0)", atol=1e-6, rtol=1e-5)
check_close(answer(kl_divergence, [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 0.0,
            "kl_divergence of a distribution with itself", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Imbalance: focal loss
#
# In object detection almost every candidate box is easy background. Each easy negative
# has a small BCE, but thousands of them add up and drown the few hard positives. The
# **focal loss** (焦点损失, Lin et al. 2017) reweights BCE per example. With
# $p = \sigma(z)$, the probability of the true class $p_t = p$ if $y = 1$ else $1 - p$,
# and the class weight $\alpha_t = \alpha$ if $y = 1$ else $1 - \alpha$:
#
# $$\text{FL} = \frac1n\sum_i -\alpha_t\,(1 - p_t)^{\gamma}\log p_t.$$
#
# The modulating factor $(1 - p_t)^\gamma$ is near 0 for well-classified examples
# ($p_t \to 1$), so they stop dominating; $\alpha_t$ balances the classes. With
# $\gamma = 0$ and no $\alpha_t$ it is BCE. The defaults $\alpha = 0.25$, $\gamma = 2$ are
# the paper's, also used by `torchvision.ops.sigmoid_focal_loss`.
#
# > **Pitfall.** Some notes write the focal loss as $-(1-p_t)^\gamma\log p_t$, without
# > $\alpha_t$; the paper keeps it. Dropping it changes the loss by a factor of
# > $1/\alpha = 4$ on positives at the default $\alpha = 0.25$.

# %% [markdown]
# ### Exercise 7.1 — `focal_loss`
# Return the mean focal loss as a float. Compute $-\log p_t$ from the logits stably, as in
# Exercise 4.2 (it is the BCE of one element), so that logits of ±800 give finite values.

# %% nbgrader={"grade_id": "focal_loss", "solution": true}
def focal_loss(logits, target, alpha=0.25, gamma=2.0):
    """Mean sigmoid focal loss of logits against 0/1 targets, as a float."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    ce = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    p_t = p * y + (1.0 - p) * (1.0 - y)
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    return float(np.mean(alpha_t * (1.0 - p_t) ** gamma * ce))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_focal_loss", "grade": true, "points": 1}
# logit 0: p_t = 0.5 for both examples; the positive is weighted 0.25, the negative 0.75.
check_close(answer(focal_loss, [0.0, 0.0], [1, 0]), float(0.25 * np.log(2) / 2),
            "focal_loss([0, 0], [1, 0])",
            mistakes={"alpha_t is missing: weight positives by alpha and negatives by "
                      "1 - alpha": float(0.25 * np.log(2))}, atol=1e-6, rtol=1e-5)
check_close(answer(focal_loss, [0.0], [1], alpha=0.25, gamma=0.0), float(0.25 * np.log(2)),
            "focal_loss with gamma = 0 (alpha_t times BCE)", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_focal_loss_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import losses as _ref

_m_alpha = "alpha_t is missing: weight positives by alpha and negatives by 1 - alpha"
_rng = np.random.default_rng(308)
for _shape, _a, _g in (((1,), 0.25, 2.0), ((10,), 0.25, 2.0), ((4, 3), 0.6, 1.5),
                       ((12,), 0.5, 0.0)):
    _z = _rng.normal(scale=3.0, size=_shape)
    _y = (_rng.random(_shape) < 0.3).astype(float)
    _want = _ref.focal_loss(_z, _y, alpha=_a, gamma=_g)
    check_close(answer(focal_loss, _z, _y, alpha=_a, gamma=_g), _want,
                f"focal_loss on random logits of shape {_shape}, alpha={_a}, gamma={_g}",
                mistakes={_m_alpha: _ref.focal_loss(_z, _y, alpha=-1, gamma=_g),
                          "sum instead of mean": _want * _z.size}, atol=1e-6, rtol=1e-5)
_z = np.array([800.0, -800.0, 800.0, -800.0])
_y = np.array([1.0, 1.0, 0.0, 0.0])
check_close(answer(focal_loss, _z, _y), _ref.focal_loss(_z, _y),
            "focal_loss with logits of +-800 (compute -log p_t stably)", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### The gradient of the focal loss
#
# To train with the focal loss, backpropagation needs $\partial\,\text{FL}/\partial z_i$.
# Write one element's loss as a product of three factors,
#
# $$\ell = \alpha_t \cdot m^{\gamma} \cdot c, \qquad m = 1 - p_t, \qquad c = -\log p_t,$$
#
# where $\alpha_t$ does not depend on $z$, and both $m$ and $c$ do. The product rule gives
#
# $$\frac{\partial \ell}{\partial z} = \alpha_t\Bigl(m^{\gamma}\,\frac{\partial c}{\partial z}
#   + c\,\gamma\,m^{\gamma - 1}\,\frac{\partial m}{\partial z}\Bigr).$$
#
# Forgetting the second term treats the modulating factor as a constant weight; it is not,
# and for $\gamma = 2$ the second term is about as large as the first. The two inner
# derivatives:
# - $c$ is the binary cross-entropy of one element, so $\partial c/\partial z = \sigma(z) - y$
#   (section 4).
# - $m = 1 - p_t$ with $p_t = p\,y + (1 - p)(1 - y)$ and $p = \sigma(z)$. By the chain rule
#   and $\sigma'(z) = p(1 - p)$ (chapter 2), $\partial p_t/\partial z = \bigl(y - (1 - y)\bigr)
#   \,p(1 - p) = (2y - 1)\,p(1 - p)$, and $\partial m/\partial z$ is minus that. The sign
#   $2y - 1$ matters: raising the logit makes a positive example more certain ($p_t$ grows)
#   and a negative example less certain ($p_t = 1 - p$ shrinks).
#
# The mean over the $n$ elements divides every element's gradient by $n$. With
# $\gamma = 0$ the second term vanishes and the gradient is $\alpha_t(\sigma(z) - y)/n$:
# weighted BCE, as it should be.

# %% [markdown]
# ### Exercise 7.2 — `focal_loss_grad`
# Return the gradient of `focal_loss(logits, target, alpha, gamma)` (the mean over all
# elements) with respect to `logits`: an array of the shape of `logits`. Targets are 0 or
# 1, $0 \le \alpha \le 1$, and either $\gamma = 0$ or $\gamma \ge 1$. Logits of ±800 must
# give finite values: compute $c$ stably as in Exercise 4.2, and $\sigma(z)$ stably.

# %% nbgrader={"grade_id": "focal_loss_grad", "solution": true}
def focal_loss_grad(logits, target, alpha=0.25, gamma=2.0):
    """Gradient of the mean sigmoid focal loss with respect to logits, same shape."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    c = np.maximum(z, 0.0) - z * y + np.log1p(e)
    m = 1.0 - (p * y + (1.0 - p) * (1.0 - y))
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    dm = -(2.0 * y - 1.0) * p * (1.0 - p)
    modulating = gamma * m ** (gamma - 1.0) * dm * c if gamma > 0 else 0.0
    return alpha_t * (m ** gamma * (p - y) + modulating) / z.size
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_focal_loss_grad", "grade": true, "points": 2}
_FG_CONSTANT = ("(1 - p_t)**gamma is not a constant weight: the product rule also "
                "differentiates it (the c * gamma * m**(gamma-1) * dm/dz term is missing)")
_FG_SIGN = ("dp_t/dz = (2y - 1) p (1 - p): for a negative example (y = 0) p_t = 1 - p falls "
            "as z rises")
_FG_SUM = "sum instead of mean: divide by the number of elements"
_FG_ALPHA = "alpha_t is missing: weight positives by alpha and negatives by 1 - alpha"
_FG_PLUS = "the sign of the second term: m = 1 - p_t, so dm/dz = -dp_t/dz"
check_close(answer(focal_loss_grad, [2.0, -1.0, 0.5, -3.0], [1, 1, 0, 0]),
            [-0.00030443376221204864, -0.04801467019995735, 0.09865346660148433,
             5.9038471216552695e-05],
            "focal_loss_grad(logits=[2, -1, 0.5, -3], target=[1, 1, 0, 0]) with alpha=0.25, "
            "gamma=2", atol=1e-8, rtol=1e-6,
            mistakes={_FG_CONSTANT: [-0.0001058621528083948, -0.024419487808206745,
                                     0.04522038102624422, 2.00007959381852e-05],
                      _FG_SIGN: [-0.00030443376221204864, -0.04801467019995735,
                                 -0.008212704548995888, -1.9036879340182292e-05],
                      _FG_PLUS: [9.270945659525905e-05, -0.0008243054164561378,
                                 -0.008212704548995888, -1.9036879340182292e-05],
                      _FG_SUM: [-0.0012177350488481945, -0.1920586807998294,
                                0.3946138664059373, 0.00023615388486621078],
                      _FG_ALPHA: [-0.0012177350488481945, -0.1920586807998294,
                                  0.13153795546864577, 7.871796162207026e-05]})
check_close(answer(focal_loss_grad, [0.0, 0.0], [1, 0], alpha=0.5, gamma=0.0),
            [-0.125, 0.125], "focal_loss_grad([0, 0], [1, 0], alpha=0.5, gamma=0): "
            "alpha_t (sigmoid(z) - y) / n")

# %% nbgrader={"grade_id": "test_focal_loss_grad_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _act
from dlnotes import losses as _ref


def _focal_grad_variant(z, y, alpha, gamma, second=True, sign=True, flip=False):
    p = _act.sigmoid(z)
    m = 1 - (p * y + (1 - p) * (1 - y))
    c = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    dpt = (2 * y - 1 if sign else 1.0) * p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(m > 0, gamma * m ** (gamma - 1) * dpt * c, 0.0) if second else 0.0
    return (alpha * y + (1 - alpha) * (1 - y)) * (m ** gamma * (p - y)
                                                  + (term if flip else -term)) / z.size


_rng = np.random.default_rng(309)
for _shape, _a, _g in (((1,), 0.25, 2.0), ((12,), 0.25, 2.0), ((4, 3), 0.6, 1.0),
                       ((10,), 0.5, 0.0), ((3, 5), 0.1, 3.5), ((8,), 1.0, 2.0)):
    _z = _rng.normal(scale=3.0, size=_shape)
    _y = (_rng.random(_shape) < 0.4).astype(float)
    _want = _ref.focal_loss_grad(_z, _y, alpha=_a, gamma=_g)
    _mistakes = {_FG_SUM: _want * _z.size,
                 _FG_ALPHA: _ref.focal_loss_grad(_z, _y, alpha=-1, gamma=_g)}
    if _g > 0:
        _mistakes.update({
            _FG_CONSTANT: _focal_grad_variant(_z, _y, _a, _g, second=False),
            _FG_SIGN: _focal_grad_variant(_z, _y, _a, _g, sign=False),
            _FG_PLUS: _focal_grad_variant(_z, _y, _a, _g, flip=True)})
    check_close(answer(focal_loss_grad, _z, _y, alpha=_a, gamma=_g), _want,
                f"focal_loss_grad on random logits of shape {_shape}, alpha={_a}, gamma={_g}",
                atol=1e-9, rtol=1e-6, mistakes=_mistakes)
_z = np.array([800.0, -800.0, 800.0, -800.0, 1000.0, 0.0])
_y = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0])
for _g in (1.0, 2.0):
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        _got = answer(focal_loss_grad, _z, _y, gamma=_g)
    check_close(_got, _ref.focal_loss_grad(_z, _y, gamma=_g),
                f"focal_loss_grad with logits of +-800, gamma={_g} (compute -log p_t and "
                "sigmoid stably)", atol=1e-9, rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# The demo scores 1000 easy negatives (logits around −4) and 10 hard positives (logits
# around 0). It compares the share of the total loss and the share of the total gradient
# (the sum of $|\partial\ell/\partial z_i|$, from **your** `focal_loss_grad`) that each
# group carries. BCE is the focal loss with $\gamma = 0$ and equal class weights. Under
# BCE the easy negatives carry most of both; under the focal loss the hard positives do.

# %% tags=["demo"]
yours = mine.own(globals(), "03_losses", ["focal_loss", "focal_loss_grad"])
rng = np.random.default_rng(1)
z_imb = np.r_[rng.normal(-4, 1, 1000), rng.normal(0, 1, 10)]
y_imb = np.r_[np.zeros(1000), np.ones(10)]
settings = {"BCE (γ=0, α=0.5)": dict(alpha=0.5, gamma=0.0),
            "focal (γ=2, α=0.25)": dict(alpha=0.25, gamma=2.0)}
loss_share, grad_share = {}, {}
for name, kw in settings.items():
    neg = yours.focal_loss(z_imb[:1000], y_imb[:1000], **kw) * 1000
    pos = yours.focal_loss(z_imb[1000:], y_imb[1000:], **kw) * 10
    loss_share[name] = neg / (neg + pos)
    g = np.abs(yours.focal_loss_grad(z_imb, y_imb, **kw))
    grad_share[name] = g[:1000].sum() / g.sum()
fig, axes = plt.subplots(1, 2, figsize=(11, 2.8), sharey=True)
for ax, (what, share) in zip(axes, (("loss", loss_share), ("gradient", grad_share)),
                             strict=True):
    names = list(share)
    ax.barh(names, [share[n] for n in names], label="1000 easy negatives")
    ax.barh(names, [1 - share[n] for n in names], left=[share[n] for n in names],
            label="10 hard positives")
    ax.set(xlabel=f"share of the total {what}", xlim=(0, 1))
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle("Who drives training on imbalanced data?")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 8. Hinge losses
#
# The **hinge loss** (合页损失) of support vector machines (支持向量机) works on raw scores
# $s$ and labels $y \in \{-1, +1\}$: $\frac1n\sum_i \max(0, 1 - y_i s_i)$. It is zero once
# an example is on the right side with margin (间隔) at least 1, and then gives no gradient
# at all, unlike cross-entropy, which keeps pushing.
#
# For $C$ classes, torch's `F.multi_margin_loss` penalises every wrong class $j$ whose score
# comes within the margin of the true class's score, and **divides by $C$**:
#
# $$\ell_i = \frac1C\sum_{j \ne y_i}\max\bigl(0,\ \text{margin} - s_{i y_i} + s_{ij}\bigr).$$
#
# > **Pitfall.** Some notes list "Hinge / Multi-class Hinge" but give only the
# > binary formula $\max(0, 1 - y f(x))$. The multi-class version is the sum above; the
# > CS231n "SVM loss" is the same sum without the $1/C$.

# %% tags=["demo"]
s = np.array([[3.0, 2.5, 0.0]])
print("multi-class hinge of scores [3, 2.5, 0], true class 0:",
      ref.multiclass_hinge(s, [0]), "= (max(0, 1 - 3 + 2.5) + max(0, 1 - 3 + 0)) / 3")

# %% [markdown]
# ## 9. Every loss and its gradient, side by side
#
# Top row: regression losses against the prediction for target 0, and their gradients.
# Bottom row: classification losses against the logit (score) for a positive example,
# and their gradients. Note MSE's growing gradient, MAE's constant one, Huber's clipped
# one; BCE's gradient $\sigma(z) - 1$ that fades only once the example is right, focal
# loss's earlier fade, and hinge's hard zero beyond the margin.

# %% tags=["demo"]
xg = np.linspace(-3, 3, 301)
zg = np.linspace(-6, 6, 301)
zero, one = np.zeros(1), np.ones(1)


def curve(f, grid, target):
    return np.array([f(np.array([v]), target) for v in grid]).ravel()


reg = {"MSE": (ref.mse, ref.mse_grad), "MAE": (ref.mae, ref.mae_grad),
       "Huber δ=1": (ref.huber, ref.huber_grad)}
cls = {"BCE (logits)": (ref.binary_cross_entropy_with_logits,
                        ref.binary_cross_entropy_with_logits_grad),
       "focal α=0.25 γ=2": (ref.focal_loss, ref.focal_loss_grad),
       "hinge": (ref.hinge, ref.hinge_grad)}
fig, axes = plt.subplots(2, 2, figsize=(10, 7))
for name, (f, g) in reg.items():
    axes[0, 0].plot(xg, curve(f, xg, zero), label=name)
    axes[0, 1].plot(xg, curve(g, xg, zero), label=name)
for name, (f, g) in cls.items():
    axes[1, 0].plot(zg, curve(f, zg, one), label=name)
    axes[1, 1].plot(zg, curve(g, zg, one), label=name)
axes[0, 0].set(title="regression loss, target 0", xlabel="prediction", ylim=(0, 4))
axes[0, 1].set(title="its gradient", xlabel="prediction")
axes[1, 0].set(title="classification loss, positive example", xlabel="logit / score",
               ylim=(0, 4))
axes[1, 1].set(title="its gradient", xlabel="logit / score")
for ax in axes.ravel():
    ax.legend(fontsize=8)
    ax.axhline(0, color="k", lw=0.5)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Try it.** Drag the prediction (regression, target 0) and the logit (classification,
# target 1, or 0 with the toggle). The table lists every loss and its gradient at that
# point.

# %% tags=["demo"]
import ipywidgets as widgets


def show_losses(prediction=1.5, logit=-1.0, positive=True):
    y = one if positive else zero
    hinge_y = one if positive else -one
    xv, zv = np.array([prediction]), np.array([logit])
    rows = [(name, f(xv, zero), g(xv, zero)[0]) for name, (f, g) in reg.items()]
    rows.append(("RMSE", ref.rmse(xv, zero), ref.rmse_grad(xv, zero)[0]))
    rows += [(name, f(zv, y), g(zv, y)[0]) for name, (f, g) in list(cls.items())[:2]]
    rows.append(("hinge (y=±1)", ref.hinge(zv, hinge_y), ref.hinge_grad(zv, hinge_y)[0]))
    ce_z = np.array([[logit, 0.0]])
    cls_idx = [0] if positive else [1]
    rows.append(("softmax CE, logits [z, 0]", ref.cross_entropy(ce_z, cls_idx),
                 ref.cross_entropy_grad(ce_z, cls_idx)[0, 0]))
    print(f"sigmoid(z) = {act.sigmoid(zv)[0]:.4f}")
    print(f"{'loss':28s}{'value':>10s}{'d/d input':>12s}")
    for name, v, g in rows:
        print(f"{name:28s}{v:10.4f}{g:12.4f}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
    for name, (f, _g) in reg.items():
        line, = ax1.plot(xg, curve(f, xg, zero), label=name)
        ax1.plot(prediction, f(xv, zero), "o", color=line.get_color())
    for name, (f, _g) in cls.items():
        tgt = hinge_y if name == "hinge" else y
        line, = ax2.plot(zg, curve(f, zg, tgt), label=name)
        ax2.plot(logit, f(zv, tgt), "o", color=line.get_color())
    ax1.set(ylim=(0, 4), xlabel="prediction", title="regression, target 0")
    ax2.set(ylim=(0, 4), xlabel="logit", title=f"classification, target {int(y[0])}")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    plt.tight_layout()
    plt.show()


widgets.interact(show_losses,
                 prediction=widgets.FloatSlider(value=1.5, min=-3, max=3, step=0.05),
                 logit=widgets.FloatSlider(value=-1.0, min=-6, max=6, step=0.1),
                 positive=widgets.Checkbox(value=True, description="target 1"));

# %% [markdown]
# ## 10. Optional: the same numbers in torch (GPU if available)
#
# This cell recomputes the chapter's losses with `torch.nn.functional` and checks them
# against the numpy reference, including `mse_loss`'s gradient via autograd. It is skipped
# when torch is not installed.

# %% tags=["demo"]
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None
    print("torch is not installed: skipping")
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    z, yb = rng.normal(scale=3, size=8), rng.integers(0, 2, 8).astype(float)
    zc, yc = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    pd, qd = rng.dirichlet(np.ones(4), 5), rng.dirichlet(np.ones(4), 5)
    T = lambda a: torch.tensor(a, dtype=torch.float64, device=device)  # noqa: E731
    xt = T(x).requires_grad_()
    F.mse_loss(xt, T(t)).backward()

    def torch_focal(zz, yy, alpha=0.25, gamma=2.0):  # torchvision's sigmoid_focal_loss
        ce = F.binary_cross_entropy_with_logits(zz, yy, reduction="none")
        p_t = torch.sigmoid(zz) * yy + (1 - torch.sigmoid(zz)) * (1 - yy)
        return (alpha * yy + (1 - alpha) * (1 - yy)) * (1 - p_t) ** gamma * ce

    pairs = {
        "mse": (ref.mse(x, t), F.mse_loss(T(x), T(t)).item()),
        "mse_grad": (ref.mse_grad(x, t), xt.grad.cpu().numpy()),
        "huber": (ref.huber(x, t, 0.5), F.huber_loss(T(x), T(t), delta=0.5).item()),
        "bce_logits": (ref.binary_cross_entropy_with_logits(z, yb),
                       F.binary_cross_entropy_with_logits(T(z), T(yb)).item()),
        "cross_entropy ls=0.1": (ref.cross_entropy(zc, yc, 0.1),
                                 F.cross_entropy(T(zc), torch.tensor(yc, device=device),
                                                 label_smoothing=0.1).item()),
        "kl": (ref.kl_divergence(pd, qd),
               F.kl_div(T(qd).log(), T(pd), reduction="batchmean").item()),
        "focal": (ref.focal_loss(z, yb),
                  torch_focal(T(z), T(yb)).mean().item()),
    }
    for name, (a, b) in pairs.items():
        print(f"{name:22s} numpy vs torch ({device}): match = {np.allclose(a, b)}")

# %% [markdown]
# ## Summary
# - MSE's gradient grows with the error, MAE's is constant, Huber's is clipped at
#   $\delta$: MSE fits the mean, MAE the median, Huber in between. `mse_loss` has no ½.
# - Maximum likelihood: MSE is the NLL of a Gaussian with fixed variance (up to a scale
#   and a constant), BCE the NLL of a Bernoulli, cross-entropy the NLL of a categorical.
# - Cross-entropy with a one-hot target is $-\log p_y$; with softmax, its gradient is
#   $p - y$. Compute it from logits with a max-shift per row (softmax) or
#   $\max(z,0) - zy + \log(1 + e^{-|z|})$ (sigmoid).
# - torch's label smoothing target is $(1-\varepsilon)\,\text{onehot} + \varepsilon/C$; it
#   stops the logits of separable data from growing without bound.
# - $\mathrm{KL}(p\|q) = H(p,q) - H(p)$, not symmetric, $0 \log 0 = 0$.
# - Focal loss $= \alpha_t (1-p_t)^\gamma \times$ BCE tames the easy majority; its gradient
#   differentiates the modulating factor too (product rule), with
#   $\partial p_t/\partial z = (2y-1)\,p(1-p)$.
# - Losses here are **means**: summing instead scales the gradient by the batch size.
