# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2 — Activation functions: where the non-linearity comes from
#
# An affine layer computes $Wx + b$. Stack two of them and you get
# $W_2(W_1x + b_1) + b_2 = (W_2W_1)x + (W_2b_1 + b_2)$: one affine layer again. An
# **activation function** (激活函数) applied between the layers breaks this collapse.
# It is what makes a deep network more than a linear model.
#
# **What this chapter covers**
# 1. Why non-linearity (非线性) is needed, shown numerically.
# 2. Sigmoid and tanh: formulas, derivatives, saturation (饱和) and vanishing
#    gradients (梯度消失).
# 3. The ReLU family: ReLU, Leaky ReLU, PReLU, ELU, and dead ReLUs (神经元死亡). PReLU
#    learns its slope: you derive and write its backward pass, then train it.
# 4. Smooth ReLU-like functions: GELU and Swish, and the derivative of GELU.
# 5. Softmax (归一化指数函数), log-softmax and the softmax backward pass; why softmax
#    subtracts the maximum.
# 6. Sigmoid or softmax? Binary, multi-class and multi-label outputs.
# 7. A widget: signals and gradients through a deep network.
#
# **How to check your answers.** Each exercise is a function with a stub that
# raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong.
# The grader also runs hidden tests (random inputs, logits of ±800, single rows) on
# each exercise. In JupyterLab, the **Validate** button of the nbgrader toolbar runs
# every test of the notebook at once.
#
# Exercises may use `numpy` only (and `scipy.special.erf` or `math.erf` for GELU): an
# answer that calls `dlnotes`, scikit-learn or torch scores zero for that exercise.
# The elementwise functions take a scalar or an array and return a float `ndarray` of
# the same shape.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. Why non-linearity?
#
# The demo below builds a random "deep" network of five linear layers and checks that
# it equals a single matrix. Then it puts a ReLU between the layers: no single matrix
# reproduces it any more (the least-squares fit leaves a large error).
# Demo cells are not graded and are skipped when your notebook is graded. The ones
# before the exercises use the book's implementation, `dlnotes.activations`; the later
# ones run your own answers.

# %% tags=["demo"]
import matplotlib.pyplot as plt

from dlnotes import activations as ref

rng = np.random.default_rng(0)
Ws = [rng.normal(size=(4, 4)) for _ in range(5)]
X = rng.normal(size=(200, 4))

h = X
for W in Ws:
    h = h @ W
W_total = np.linalg.multi_dot(Ws)
print("5 linear layers == one matrix:", np.allclose(h, X @ W_total))

h = X
for W in Ws:
    h = ref.relu(h @ W)
W_fit, *_ = np.linalg.lstsq(X, h, rcond=None)
rel_err = np.linalg.norm(X @ W_fit - h) / np.linalg.norm(h)
print(f"with ReLU, best single matrix leaves a relative error of {rel_err:.2f}")

# %% [markdown]
# ## 2. The zoo, on one grid
#
# | name | formula | range |
# |---|---|---|
# | sigmoid | $\sigma(x) = 1/(1+e^{-x})$ | $(0, 1)$ |
# | tanh | $\frac{e^x - e^{-x}}{e^x + e^{-x}} = 2\sigma(2x)-1$ | $(-1, 1)$ |
# | ReLU | $\max(0, x)$ | $[0, \infty)$ |
# | Leaky ReLU | $x$ if $x>0$, else $\alpha x$ ($\alpha = 0.01$) | $\mathbb R$ |
# | PReLU | as Leaky ReLU, $\alpha$ learned | $\mathbb R$ |
# | ELU | $x$ if $x>0$, else $\alpha(e^x - 1)$ | $(-\alpha, \infty)$ |
# | GELU | $x\,\Phi(x) = \frac{x}{2}(1+\operatorname{erf}(x/\sqrt2))$ | $\approx[-0.17, \infty)$ |
# | Swish / SiLU | $x\,\sigma(\beta x)$ | $\approx[-0.28, \infty)$ |
#
# | name | derivative $f'(x)$ | typical use |
# |---|---|---|
# | sigmoid | derived in section 3; at most $\frac14$ | binary / multi-label output, LSTM gates |
# | tanh | $1 - \tanh^2 x \le 1$ | RNN hidden states |
# | ReLU | $1$ if $x>0$, else $0$ | default in CNNs and MLPs |
# | Leaky ReLU | $1$ or $\alpha$ | avoids dead units |
# | PReLU | $1$ or $\alpha$ (and a gradient for $\alpha$: section 4) | image models |
# | ELU | $1$ or $\alpha e^x$ | smooth negative side |
# | GELU | derived in section 5 | Transformers (BERT, GPT) |
# | Swish / SiLU | $\sigma(\beta x)(1+\beta x(1-\sigma(\beta x)))$ | EfficientNet, LLaMA |
#
# $\Phi$ is the standard normal CDF (累积分布函数). The plots below draw every
# function and its derivative.
#
# > **Pitfall.** One common note writes the sigmoid as $\sigma(y') = \frac{1}{1-e^{-y'}}$.
# > The sign is wrong: with a minus the "sigmoid" blows up at $y' = 0$ and is negative
# > for $y' < 0$. The logistic function is $\frac{1}{1+e^{-x}}$.

# %% tags=["demo"]
xs = np.linspace(-5, 5, 401)
zoo = {
    "sigmoid": (ref.sigmoid, ref.sigmoid_grad),
    "tanh": (ref.tanh, ref.tanh_grad),
    "ReLU": (ref.relu, ref.relu_grad),
    "Leaky ReLU (α=0.1)": (lambda x: ref.leaky_relu(x, 0.1), lambda x: ref.leaky_relu_grad(x, 0.1)),
    "PReLU (a=0.25)": (lambda x: ref.prelu(x, 0.25), lambda x: ref.prelu_grad(x, 0.25)),
    "ELU": (ref.elu, ref.elu_grad),
    "GELU": (ref.gelu, ref.gelu_grad),
    "Swish (β=1)": (ref.swish, ref.swish_grad),
}
fig, axes = plt.subplots(2, 4, figsize=(13, 6), sharex=True)
for ax, (name, (f, df)) in zip(axes.ravel(), zoo.items(), strict=True):
    ax.plot(xs, f(xs), label="f(x)")
    ax.plot(xs, df(xs), "--", label="f'(x)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_title(name)
    ax.set_ylim(-1.5, 3)
axes[0, 0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Sigmoid and tanh
#
# The **sigmoid** (S 型函数, logistic function) squashes any real number into $(0, 1)$.
# Its derivative comes from the chain rule on $\sigma(x) = (1 + e^{-x})^{-1}$:
#
# $$\sigma'(x) = \frac{e^{-x}}{(1+e^{-x})^2}
#   = \underbrace{\frac{1}{1+e^{-x}}}_{\sigma(x)}\cdot\frac{e^{-x}}{1+e^{-x}}.$$
#
# The second factor is $\frac{(1 + e^{-x}) - 1}{1+e^{-x}} = 1 - \sigma(x)$, so the
# derivative is a product of the output and one minus the output. It is largest at
# $x = 0$, where $\sigma = \tfrac12$ and the product is $\tfrac14$. For $|x| \gtrsim 5$
# the curve is flat: the unit is **saturated** and passes almost no gradient back.
#
# **Computing it safely.** `1 / (1 + np.exp(-x))` computes `np.exp(800) = inf` for
# $x = -800$. The result `1/inf = 0` happens to be right, but numpy warns about the
# overflow, and the same pattern gives `nan` elsewhere. The stable form never takes
# `exp` of a positive number:
#
# $$\sigma(x) = \begin{cases} \dfrac{1}{1 + e^{-x}} & x \ge 0,\\[2mm]
#   \dfrac{e^{x}}{1 + e^{x}} & x < 0. \end{cases}$$
#
# With $z = e^{-|x|} \le 1$, both branches are $\frac{1}{1+z}$ and $\frac{z}{1+z}$.

# %% [markdown]
# ### Exercise 3.1 — `sigmoid`
# Return $\sigma(x)$ elementwise, with no overflow warning for $|x| = 800$. Use
# `np.where` on the two branches above.

# %% nbgrader={"grade_id": "sigmoid", "solution": true}
def sigmoid(x):
    """Numerically stable logistic sigmoid 1 / (1 + exp(-x))."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sigmoid", "grade": true, "points": 1}
check_close(answer(sigmoid, [0.0, 2.0, -2.0]), [0.5, 0.8807970779778823, 0.11920292202211755],
            "sigmoid([0, 2, -2])",
            mistakes={"wrong sign in the exponent: 1/(1 + e^{+x})":
                          [0.5, 0.11920292202211755, 0.8807970779778823]}, atol=1e-6, rtol=1e-5)
# The hidden tests also check that sigmoid(-800) raises no overflow warning.
with np.errstate(over="ignore"):
    _got = answer(sigmoid, [800.0, -800.0])
check_close(_got, [1.0, 0.0], "sigmoid([800, -800])", atol=1e-6, rtol=1e-5)
check_equal(np.shape(answer(sigmoid, 0.0)), (),
            "shape of sigmoid(0.0) (a scalar in, a 0-d array out)")

# %% nbgrader={"grade_id": "test_sigmoid_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(201)
for _shape in ((1,), (7,), (4, 5)):
    _x = _rng.normal(scale=6, size=_shape)
    check_close(answer(sigmoid, _x), _ref.sigmoid(_x),
                f"sigmoid on random inputs of shape {_shape}",
                mistakes={"wrong sign in the exponent: 1/(1 + e^{+x})": _ref.sigmoid(-_x)},
                rtol=1e-5, atol=1e-6)
_x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
with np.errstate(over="raise"):
    try:
        _got = answer(sigmoid, _x)
    except AssertionError as _e:
        if "overflow" not in str(_e):
            raise
        raise AssertionError(
            f"{_e}. Likely mistake: the naive 1/(1 + exp(-x)) overflows for x = -800; "
            "never take exp of a positive number (use e^x/(1+e^x) for x < 0)") from None
check_close(_got, _ref.sigmoid(_x), "sigmoid([-800, -40, 0, 40, 800])", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3.2 — `sigmoid_grad`
# Return the derivative of the sigmoid, evaluated at the **input** `x`, elementwise, with
# no overflow warning for $|x| = 800$. Write it on its own, without calling your
# `sigmoid` (each exercise is graded alone). *Hint:* $\sigma(x) = \tfrac12\bigl(1 +
# \tanh(x/2)\bigr)$ is another stable way to get $\sigma$.

# %% nbgrader={"grade_id": "sigmoid_grad", "solution": true}
def sigmoid_grad(x):
    """Derivative of the sigmoid, evaluated at the input x (not at sigmoid(x))."""
    ### BEGIN SOLUTION
    s = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))
    return s * (1.0 - s)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sigmoid_grad", "grade": true, "points": 1}
_M_AT_X = "you applied the formula to x itself: x * (1 - x) needs s = sigmoid(x)"
check_close(answer(sigmoid_grad, [0.0, 2.0]), [0.25, 0.10499358540350662], "sigmoid_grad([0, 2])",
            mistakes={"you returned sigmoid(x), not its derivative": [0.5, 0.8807970779778823],
                      "s * (1 + s) instead of s * (1 - s)": [0.75, 1.6565904324791564],
                      _M_AT_X: [0.0, -2.0]}, atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_sigmoid_grad_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(202)
for _x in (_rng.normal(scale=4, size=9), _rng.normal(scale=4, size=(3, 4)),
           np.array([-800.0, -30.0, 0.0, 30.0, 800.0])):
    _s = _ref.sigmoid(_x)
    check_close(answer(sigmoid_grad, _x), _ref.sigmoid_grad(_x),
                f"sigmoid_grad on inputs of shape {_x.shape}",
                mistakes={"you returned sigmoid(x), not its derivative": _s,
                          "s * (1 + s) instead of s * (1 - s)": _s * (1 + _s),
                          _M_AT_X: _x * (1 - _x)}, atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# **tanh** (双曲正切) is a shifted and stretched sigmoid, $\tanh(x) = 2\sigma(2x) - 1$,
# with range $(-1, 1)$. The same quotient-rule computation gives
#
# $$\tanh'(x) = 1 - \tanh^2(x) \le 1.$$
#
# Its range is **zero-centred** (零中心), unlike the sigmoid's: outputs of both signs
# keep the next layer's weight updates from all having the same sign. It saturates
# just like the sigmoid.
#
# > **Pitfall.** A common note says "tanh's output mean is 0" (输出均值为 0). What is
# > true is that its *range* is symmetric about 0. The mean of the outputs depends on
# > the inputs: for inputs drawn from $\mathcal N(2, 1)$ the outputs have mean about 0.87.

# %% [markdown]
# ### Vanishing gradients
#
# Backpropagation multiplies one factor $f'(z_l)$ per layer. With sigmoids every
# factor is at most $\tfrac14$, so through $L$ layers the gradient shrinks at least
# like $4^{-L}$ (before the weights are counted). The first plot shows a chain of
# sigmoids on a single number. The second sends a gradient back
# through a deep random network (width 64, weights $\mathcal N(0, 1/\text{width})$)
# and draws its norm at each layer. For ReLU the weights are scaled up by $\sqrt2$
# (He initialisation): a ReLU zeroes about half of its inputs, and the
# factor $\sqrt2$ makes up for it. Chapter 6 derives this gain.
#
# These demos run on **your** `sigmoid` and `sigmoid_grad` from the exercises above
# (where one is still a stub, the cell says so and uses the book's version instead).

# %% tags=["demo"]
from dlnotes import mine

yours = mine.own(globals(), "02_activations", ["sigmoid", "sigmoid_grad"])
# A chain of L sigmoids on a single number, h_l = sigmoid(h_{l-1}): the gradient
# dh_L/dh_0 is a product of L factors sigmoid'(h_{l-1}) <= 1/4.
depths = np.arange(1, 21)
chain_grad = []
for L in depths:
    h, g = 0.0, 1.0
    for _ in range(L):
        g *= float(yours.sigmoid_grad(h))
        h = float(yours.sigmoid(h))
    chain_grad.append(g)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(depths, chain_grad, "o-", label="dh_L/dh_0, starting at h_0 = 0")
ax.semilogy(depths, 0.25 ** depths, "k:", label="bound (1/4)^L")
ax.set(xlabel="depth L", ylabel="gradient (log scale)", title="A chain of sigmoids")
ax.legend()
plt.show()

# %% tags=["demo"]
def grad_norms(act, act_grad, depth=30, width=64, seed=0, gain=1.0):
    """Forward a batch through `depth` random layers; return per-layer norms."""
    r = np.random.default_rng(seed)
    h = r.normal(size=(256, width))
    Ws, zs, fwd = [], [], []
    for _ in range(depth):
        W = r.normal(scale=gain / np.sqrt(width), size=(width, width))
        z = h @ W
        h = act(z)
        Ws.append(W)
        zs.append(z)
        fwd.append(np.std(h))
    g = np.ones_like(h) / h.size
    back = []
    for W, z in zip(reversed(Ws), reversed(zs), strict=True):
        g = g * act_grad(z)
        g = g @ W.T
        back.append(np.linalg.norm(g))
    return np.array(fwd), np.array(back[::-1])


fig, ax = plt.subplots(figsize=(6, 3.5))
for name, f, df, gain in (("sigmoid", yours.sigmoid, yours.sigmoid_grad, 1.0),
                          ("tanh", ref.tanh, ref.tanh_grad, 1.0),
                          ("ReLU (He gain √2)", ref.relu, ref.relu_grad, np.sqrt(2))):
    _, back = grad_norms(f, df, gain=gain)
    ax.semilogy(np.arange(1, 31), back, label=name)
ax.set(xlabel="layer (1 = first)", ylabel="‖∂L/∂h‖ (log scale)",
       title="Gradient norm reaching each layer of a 30-layer net")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The ReLU family
#
# **ReLU** (rectified linear unit, 修正线性单元) is $\max(0, x)$. Its derivative is 1
# for $x > 0$, so active units pass the gradient unchanged, and 0 for $x < 0$. At the
# kink $x = 0$ any value in $[0, 1]$ is a valid subgradient (次梯度); this book uses
# **0**, as torch autograd does.
#
# > **Pitfall.** A common note says ReLU has "no vanishing gradient problem"
# > (无梯度消失问题). That is overstated. The gradient is exactly **0** for $x < 0$. A
# > unit whose input is negative for every example gets no gradient at all: it is a
# > **dead ReLU** (神经元死亡) and may never recover. ReLU avoids *saturation* on the
# > positive side only.
#
# **Leaky ReLU** (带泄露的 ReLU) keeps a small slope $\alpha$ on the negative side, so
# the gradient is never exactly 0:
#
# $$\mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases},
# \qquad \alpha = 0.01 \text{ by default.}$$
#
# **ELU** (指数线性单元) uses $\alpha(e^x - 1)$ on the negative side, which is smooth and
# saturates at $-\alpha$.

# %% [markdown]
# ### Dead ReLUs at initialisation
#
# Even before training, a deep, narrow ReLU network has units that output 0 for
# *every* input: dead from the start. The demo counts, in each layer of random
# networks (He initialisation, 1000 random inputs), the fraction of units that are
# never active. Narrow networks lose units fast.

# %% tags=["demo"]
import os

N_NETS = 3 if os.environ.get("CI") else 10  # fewer random networks on a CI machine


def dead_fraction(width, depth=30, n_nets=N_NETS, seed=0):
    r = np.random.default_rng(seed)
    dead = np.zeros(depth)
    for _ in range(n_nets):
        h = r.normal(size=(1000, width))
        for layer in range(depth):
            z = h @ r.normal(scale=np.sqrt(2 / width), size=(width, width)) + r.normal(
                scale=0.1, size=width)
            h = ref.relu(z)
            dead[layer] += np.mean(np.all(z <= 0, axis=0)) / n_nets
    return dead


fig, ax = plt.subplots(figsize=(6, 3.5))
for width in (5, 20, 100):
    ax.plot(np.arange(1, 31), dead_fraction(width), label=f"width {width}")
ax.set(xlabel="layer", ylabel="fraction of dead units",
       title="Dead ReLUs in randomly initialised networks")
ax.legend()
plt.show()

# %% [markdown]
# ### PReLU: a slope that is learned
#
# **PReLU** (参数化 ReLU, parametric ReLU) is a leaky ReLU whose slope $a$ is a
# parameter of the network, trained with the weights:
#
# $$y = \mathrm{PReLU}(x) = \max(x, 0) + a\,\min(x, 0)
#   = \begin{cases} x & x > 0 \\ a\,x & x \le 0. \end{cases}$$
#
# Backpropagation hands the layer the upstream gradient $g = \partial L/\partial y$
# (one number per element of $y$) and asks for two things.
#
# **The gradient for the input.** Element $i$ of the output depends only on element $i$
# of the input, so the chain rule is elementwise: $\partial L/\partial x_i = g_i \cdot
# \partial y_i/\partial x_i$, with the local slope 1 where $x_i > 0$ and $a$ where
# $x_i \le 0$ (at $x_i = 0$ torch takes the $a$ branch; so does this book).
#
# **The gradient for the slope.** Differentiate $y_i$ with respect to $a$ instead: only
# the second term depends on it, so $\partial y_i / \partial a = \min(x_i, 0)$, which is
# $x_i$ on the negative side and 0 on the positive side. But $a$ is *one* number that
# every element uses, so $L$ depends on $a$ through **all** the $y_i$. The multivariate
# chain rule adds up every path:
#
# $$\frac{\partial L}{\partial a} = \sum_i \frac{\partial L}{\partial y_i}\,
#   \frac{\partial y_i}{\partial a} = \sum_i g_i\,\min(x_i, 0).$$
#
# The sum runs over the whole batch. A parameter shared by $N$ examples collects $N$
# contributions and is *not* averaged here: if the loss is a mean over the batch, its
# $\frac1N$ is already inside every $g_i$. (This is the rule "a gradient has the shape of
# its parameter": $a$ is a scalar, so $\partial L/\partial a$ is one number.)
#
# **One slope per channel.** torch's `nn.PReLU(num_parameters=C)` gives each channel
# its own slope $a_c$. The input has shape $(N, C)$, or $(N, C, \dots)$ for
# sequences and images, and the channel is **axis 1**. Element $(n, c, \ell)$ uses
# $a_c$, so the sum for $a_c$ runs over every batch item $n$ and every position $\ell$
# of that channel, that is, over every axis except axis 1:
#
# $$\frac{\partial L}{\partial a_c} = \sum_{n}\sum_{\ell} g_{n c \ell}\,\min(x_{n c \ell}, 0).$$
#
# **Example.** With one slope $a = 0.25$, $x = [-2, 0, 3]$ and $g = [1, 1, 2]$: the input
# gradient is $[0.25, 0.25, 2]$ and the slope gradient is
# $1\cdot(-2) + 1\cdot 0 + 2\cdot 0 = -2$. The 3 did not count: the positive side does
# not depend on $a$.

# %% [markdown]
# ### Exercise 4.1 — `prelu_backward`
# `prelu_backward(dout, x, a)` receives the upstream gradient `dout` and the forward
# input `x` (same shape) and the slope `a`, which is either
# - a Python float: one slope shared by every element of `x` (any shape), or
# - a 1-D array of `C` slopes, one per channel, for `x` of shape `(N, C)` or
#   `(N, C, ...)` (the channel is axis 1, as in torch).
#
# Return the pair `(dx, da)`: `dx` has the shape of `x`; `da` is a float for a float
# `a` and an array of shape `(C,)` for per-channel slopes. At $x = 0$ use the
# $x \le 0$ branch, as torch does.

# %% nbgrader={"grade_id": "prelu_backward", "solution": true}
def prelu_backward(dout, x, a):
    """Gradients of PReLU with respect to its input and its slope(s): returns (dx, da)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    per_channel = np.ndim(a) > 0
    # per-channel slopes sit on axis 1: shape (C, 1, 1, ...) broadcasts against (N, C, ...)
    slope = np.reshape(a, (-1,) + (1,) * (x.ndim - 2)) if per_channel else float(a)
    dx = np.where(x > 0, dout, slope * dout)
    contrib = dout * np.minimum(x, 0.0)
    if per_channel:
        return dx, contrib.sum(axis=tuple(i for i in range(x.ndim) if i != 1))
    return dx, float(contrib.sum())
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_prelu_backward", "grade": true, "points": 2}
def _dx_da(out, label):
    """The pair (dx, da) that prelu_backward returned, or a message saying what came back."""
    if out is None:
        raise AssertionError(f"{label}: your function returned nothing. Is a `return` missing?")
    try:
        dx, da = out
    except (TypeError, ValueError):
        raise AssertionError(f"{label}: expected a pair (dx, da), got {str(out)[:200]}") from None
    return dx, da


# One slope shared by every element.
_x = [-2.0, 0.0, 3.0, -1.0]
_g = [1.0, 1.0, 2.0, -3.0]
_label = "prelu_backward(dout=[1, 1, 2, -3], x=[-2, 0, 3, -1], a=0.25)"
_dx, _da = _dx_da(answer(prelu_backward, _g, _x, 0.25), _label)
check_close(_dx, [0.25, 0.25, 2.0, -0.75], f"dx of {_label}",
            mistakes={"dx is dout times the local slope; you returned the local slope alone":
                          [0.25, 0.25, 1.0, 0.25],
                      "at x = 0 PReLU takes the x <= 0 branch (slope a), as torch does":
                          [0.25, 1.0, 2.0, -0.75]}, atol=1e-6, rtol=1e-5)
check_equal(np.shape(_da), (), f"shape of da in {_label} (one slope, one number)",
            mistakes={"da must sum dout * min(x, 0) over every element that shares the "
                      "slope: one number, not one per element": (4,)})
check_close(_da, 1.0, f"da of {_label}",
            mistakes={"only the negative side depends on a: sum dout * min(x, 0), not "
                      "dout * x": 7.0,
                      "a shared parameter collects the sum over the batch, not the mean": 0.25},
            atol=1e-6, rtol=1e-5)

# One slope per channel: x has shape (N, C) = (3, 2).
_M_PER_CHANNEL = ("with one slope per channel, da has one entry per channel: sum over every "
                  "axis except axis 1")
_x = [[-1.0, 2.0], [-3.0, -1.0], [4.0, -2.0]]
_g = [[1.0, 1.0], [2.0, 1.0], [1.0, 2.0]]
_label = "prelu_backward on x of shape (3, 2) with slopes a = [0.1, 0.5]"
_dx, _da = _dx_da(answer(prelu_backward, _g, _x, np.array([0.1, 0.5])), _label)
check_close(_dx, [[0.1, 1.0], [0.2, 0.5], [1.0, 1.0]], f"dx of {_label}", atol=1e-6, rtol=1e-5)
check_equal(np.shape(_da), (2,), f"shape of da in {_label} (one number per channel)",
            mistakes={"da must sum over the batch: one number per channel, not one per "
                      "element": (3, 2),
                      "da sums over the batch (axis 0) for each channel (axis 1); you summed "
                      "over the channels": (3,),
                      _M_PER_CHANNEL: ()})
check_close(_da, [-7.0, -5.0], f"da of {_label}",
            mistakes={"a shared parameter collects the sum over the batch, not the mean":
                          [-7.0 / 3, -5.0 / 3]}, atol=1e-6, rtol=1e-5)

# x of shape (N, C, L) = (2, 2, 3): channel c uses a[c] at every position.
_x = np.array([[[-1.0, 2.0, -2.0], [1.0, -1.0, 0.0]],
               [[3.0, -1.0, -1.0], [-2.0, 2.0, 1.0]]])
_out = answer(prelu_backward, np.ones_like(_x), _x, np.array([0.1, 0.5]),
              case="x of shape (N, C, L) = (2, 2, 3), slopes a = [0.1, 0.5]: the channel is "
                   "axis 1, so the slopes must broadcast as an array of shape (C, 1)")
_dx, _da = _dx_da(_out, "prelu_backward on x of shape (2, 2, 3)")
check_close(_dx, [[[0.1, 1.0, 0.1], [1.0, 0.5, 0.5]], [[1.0, 0.1, 0.1], [0.5, 1.0, 1.0]]],
            "dx of prelu_backward(dout=1, x of shape (2, 2, 3), a=[0.1, 0.5])",
            atol=1e-6, rtol=1e-5)
check_close(_da, [-5.0, -3.0], "da of prelu_backward(dout=1, x of shape (2, 2, 3), "
            "a=[0.1, 0.5]): a sum over axes 0 and 2", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_prelu_backward_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_M_SUM = "da must sum dout * min(x, 0) over every element that shares its slope"
_M_MEAN = "a shared parameter collects the sum over the batch, not the mean"
_M_NEG = "only the negative side depends on a: sum dout * min(x, 0), not dout * x"
_M_KINK = "at x = 0 PReLU takes the x <= 0 branch (slope a), as torch does"
_M_LOCAL = "dx is dout times the local slope; you returned the local slope alone"
_M_AXIS = "the slopes belong to axis 1 (the channels), not the last axis"

_rng = np.random.default_rng(209)
_cases = [((1,), None), ((7,), None), ((3, 4), None), ((2, 3, 4), None),
          ((5, 3), 3), ((2, 3, 4), 3), ((2, 3, 3), 3), ((4, 1), 1), ((2, 3, 2, 2), 3)]
for _shape, _c in _cases:
    _x = np.round(_rng.normal(scale=2, size=_shape), 1)
    _x.flat[0] = 0.0  # the kink
    _g = _rng.normal(size=_shape)
    _a = float(_rng.uniform(0.05, 0.5)) if _c is None else _rng.uniform(0.05, 0.5, size=_c)
    _label = (f"prelu_backward on x of shape {_shape}, "
              + ("one slope" if _c is None else f"{_c} per-channel slopes"))
    _dx_want, _da_want = _ref.prelu_backward(_g, _x, _a)
    _dx, _da = _dx_da(answer(prelu_backward, _g, _x, _a, case=_label), _label)
    _slope = _a if _c is None else np.reshape(_a, (-1,) + (1,) * (len(_shape) - 2))
    _wrong_dx = {_M_LOCAL: np.where(_x > 0, 1.0, _slope * np.ones(_shape)),
                 _M_KINK: np.where(_x >= 0, _g, _slope * _g)}
    if _c is not None and _shape[-1] == _c and len(_shape) > 2:
        _wrong_dx[_M_AXIS] = np.where(_x > 0, _g, _a * _g)
    check_close(_dx, _dx_want, f"dx of {_label}", atol=1e-6, mistakes=_wrong_dx, rtol=1e-5)
    _axes = None if _c is None else tuple(i for i in range(len(_shape)) if i != 1)
    check_equal(np.shape(_da), np.shape(_da_want), f"shape of da in {_label}",
                mistakes={_M_SUM: _shape, **({} if _c is None else {_M_PER_CHANNEL: ()})})
    _count = _x.size if _c is None else _x.size // _c
    check_close(_da, _da_want, f"da of {_label}", atol=1e-6,
                mistakes={_M_MEAN: _da_want / _count,
                          _M_NEG: np.sum(_g * _x, axis=_axes)}, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Your PReLU learns its slopes
#
# The demo trains a small network, one input, 16 hidden PReLU units with one slope
# each, one output, to fit a curve by gradient descent (with momentum) on the mean
# squared error. Your `prelu_backward` supplies the gradient for the slopes and the
# gradient that flows on to the first layer. (The two lines for the linear layers,
# `dW = x.T @ g`, are derived in chapter 4.) First, the demo checks your slope gradient
# against a finite difference of the loss. Every slope starts at torch's default 0.25;
# the right plot shows where training takes them. A slope that turns negative makes its
# unit V-shaped, like $|x|$: something neither ReLU nor a fixed leaky slope can do.

# %% tags=["demo"]
yours = mine.own(globals(), "02_activations", ["prelu_backward"])
x_fit = np.linspace(-3, 3, 200)[:, None]
y_fit = np.sin(1.5 * x_fit) + 0.3 * x_fit
r = np.random.default_rng(0)
W1, b1 = r.normal(size=(1, 16)), r.normal(size=16)
W2, b2 = r.normal(scale=0.25, size=(16, 1)), np.zeros(1)
a = np.full(16, 0.25)


def mse_and_grads(W1, b1, W2, b2, a):
    z = x_fit @ W1 + b1
    h = ref.prelu(z, a)
    pred = h @ W2 + b2
    g_pred = 2 * (pred - y_fit) / len(x_fit)              # d(MSE)/d(pred)
    g_z, g_a = yours.prelu_backward(g_pred @ W2.T, z, a)  # your backward pass
    grads = (x_fit.T @ g_z, g_z.sum(0), h.T @ g_pred, g_pred.sum(0), g_a)
    return float(np.mean((pred - y_fit) ** 2)), grads, pred


eps, e0 = 1e-6, np.eye(16)[0]
numeric = (mse_and_grads(W1, b1, W2, b2, a + eps * e0)[0]
           - mse_and_grads(W1, b1, W2, b2, a - eps * e0)[0]) / (2 * eps)
print(f"dL/da_0: yours {mse_and_grads(W1, b1, W2, b2, a)[1][4][0]:.8f}, "
      f"finite difference {numeric:.8f}")

params = [W1, b1, W2, b2, a]
velocity = [np.zeros_like(p) for p in params]
losses = []
for _ in range(1500 if os.environ.get("CI") else 3000):
    loss, grads, _ = mse_and_grads(*params)
    losses.append(loss)
    for p, v, g in zip(params, velocity, grads, strict=True):
        v *= 0.9
        v -= 0.05 * g
        p += v
loss, _, pred = mse_and_grads(*params)
print(f"MSE {losses[0]:.3f} at the start, {loss:.4f} after {len(losses)} steps; "
      f"learned slopes from {a.min():.2f} to {a.max():.2f}")
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 3.5))
ax1.plot(x_fit, y_fit, "k", lw=3, alpha=0.3, label="target")
ax1.plot(x_fit, pred, "C3", label="your network")
ax1.set(xlabel="x", ylabel="y", title="Fit")
ax1.legend()
ax2.semilogy(losses)
ax2.set(xlabel="step", ylabel="MSE (log scale)", title="Training loss")
ax3.bar(np.arange(16), a)
ax3.axhline(0.25, color="k", ls=":", label="start: 0.25")
ax3.set(xlabel="hidden unit", ylabel="slope a", title="Learned PReLU slopes")
ax3.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. GELU and Swish
#
# **GELU** (Gaussian error linear unit, 高斯误差线性单元) weights $x$ by the
# probability that a standard normal variable is below it:
#
# $$\mathrm{GELU}(x) = x\,\Phi(x)
#   = \frac{x}{2}\Bigl(1 + \operatorname{erf}\bigl(x/\sqrt2\bigr)\Bigr).$$
#
# This book (and torch's default `F.gelu`) uses this exact erf form. **Swish** (also
# SiLU) is $x\,\sigma(\beta x)$; both are smooth and slightly negative for $x < 0$.

# %% [markdown]
# ### Exercise 5.1 — `gelu`
# Return the exact GELU. `scipy.special.erf` works on arrays; `math.erf` works on one
# number (wrap it with `np.vectorize`).

# %% nbgrader={"grade_id": "gelu", "solution": true}
def gelu(x):
    """Exact GELU: x/2 * (1 + erf(x / sqrt(2)))."""
    ### BEGIN SOLUTION
    from scipy.special import erf

    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gelu", "grade": true, "points": 1}
_M_TANH_APPROX = "that is the tanh approximation; use the exact erf form"
check_close(answer(gelu, [-1.0, 0.0, 1.0]), [-0.15865525393145707, 0.0, 0.8413447460685429],
            "gelu([-1, 0, 1])", atol=1e-6,
            mistakes={_M_TANH_APPROX: [-0.15880800939172324, 0.0, 0.8411919906082768]}, rtol=1e-5)

# %% nbgrader={"grade_id": "test_gelu_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(206)
for _x in (_rng.normal(scale=2, size=10), _rng.normal(scale=2, size=(3, 3)),
           np.array([-800.0, -6.0, 0.0, 6.0, 800.0])):
    check_close(answer(gelu, _x), _ref.gelu(_x),
                f"gelu on inputs of shape {_x.shape}", atol=1e-6,
                mistakes={_M_TANH_APPROX: _ref.gelu_tanh(_x),
                          "missing the factor 1/2": 2 * _ref.gelu(_x),
                          "erf(x) instead of erf(x / sqrt(2))":
                              _ref.gelu(_x * np.sqrt(2)) / np.sqrt(2)}, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### The derivative of GELU
#
# Two rules do all the work: the **product rule** $(uv)' = u'v + uv'$, and the **chain
# rule** $\frac{d}{dx} f(u(x)) = f'(u(x))\,u'(x)$.
#
# **Exact GELU.** $\mathrm{GELU}(x) = x\cdot\Phi(x)$ is a product, so
#
# $$\mathrm{GELU}'(x) = 1\cdot\Phi(x) + x\cdot\Phi'(x).$$
#
# $\Phi$ is the integral of the normal density $\varphi$ from $-\infty$ to $x$, so its
# derivative is the density itself: $\Phi'(x) = \varphi(x) = e^{-x^2/2}/\sqrt{2\pi}$.
# (Through erf, with $\operatorname{erf}'(t) = \frac{2}{\sqrt\pi}e^{-t^2}$ and the chain
# rule on $t = x/\sqrt2$: $\frac12\cdot\frac{2}{\sqrt\pi}e^{-x^2/2}\cdot\frac1{\sqrt2}$,
# the same thing.) Hence
#
# $$\mathrm{GELU}'(x) = \Phi(x) + x\,\varphi(x).$$
#
# The first term is a soft step from 0 to 1. The second is a bump that is negative for
# $x < 0$ and positive for $x > 0$: it makes the derivative dip below 0 around
# $x \approx -1.5$ and overshoot 1 around $x \approx 1.5$. Unlike ReLU's, GELU's
# derivative is not a gate between 0 and 1.
#
# **The tanh approximation.** GPT-2 and BERT were trained with an approximation that
# avoids erf (torch: `F.gelu(x, approximate="tanh")`):
#
# $$\mathrm{GELU}_{\tanh}(x) = \frac{x}{2}\bigl(1 + \tanh u(x)\bigr), \qquad
#   u(x) = \sqrt{2/\pi}\,\bigl(x + 0.044715\,x^3\bigr).$$
#
# It differs from the exact GELU by less than $5\times10^{-4}$, but a model trained with
# one should be run with the same one. Its derivative needs the same two rules, one
# level deeper:
# - the product rule splits $\frac{x}{2}\cdot\bigl(1 + \tanh u(x)\bigr)$ into the
#   derivative of $\frac x2$ times the bracket, plus $\frac x2$ times the derivative of
#   the bracket;
# - the bracket's derivative is $\frac{d}{dx}\tanh u(x) = \tanh'(u)\,u'(x)$ by the chain
#   rule, with $\tanh'(u) = 1 - \tanh^2 u$ (section 3);
# - $u'(x) = \sqrt{2/\pi}\,\bigl(1 + 3\cdot 0.044715\,x^2\bigr)$.

# %% [markdown]
# ### Exercise 5.2 — `gelu_tanh_grad`
# Return the derivative of $\mathrm{GELU}_{\tanh}$ (the tanh approximation above, with the
# constants $\sqrt{2/\pi}$ and $0.044715$) at `x`, elementwise, for inputs of any shape.
# Inputs of $\pm 800$ must give finite values (the limits are 1 and 0) without warnings.

# %% nbgrader={"grade_id": "gelu_tanh_grad", "solution": true}
def gelu_tanh_grad(x):
    """Derivative of the tanh approximation of GELU, at x."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    c = np.sqrt(2.0 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x ** 3))
    du = c * (1.0 + 3.0 * 0.044715 * x ** 2)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gelu_tanh_grad", "grade": true, "points": 1}
_GT_PRODUCT = "the product rule has two terms: the x/2 * d(tanh u)/dx term is missing"
_GT_CHAIN = "the chain rule needs the inner derivative u'(x) as a factor"
_GT_THREE = "u'(x) has 3 * 0.044715 * x**2: the derivative of x**3 is 3 x**2"
_GT_SQUARE = "the derivative of tanh u is 1 - tanh(u)**2, not 1 - tanh(u)"
_GT_EXACT = ("that is the derivative of the exact GELU, Phi(x) + x phi(x); this exercise asks "
             "for the tanh approximation")
check_close(answer(gelu_tanh_grad, [-2.0, -1.0, 0.0, 1.0, 3.0]),
            [-0.0860992566236183, -0.08296408384578252, 0.5, 1.0829640838457826,
             1.0115841666309695],
            "gelu_tanh_grad([-2, -1, 0, 1, 3])", atol=1e-6, rtol=1e-6,
            mistakes={_GT_PRODUCT: [0.02270115295611247, 0.1588080093917233, 0.5,
                                    0.8411919906082768, 0.9987875359727423],
                      _GT_CHAIN: [-0.06604208948619011, -0.10836804169779995, 0.5,
                                  1.1083680416978, 1.0060534997221837],
                      _GT_THREE: [-0.06077022558399697, -0.0638997858078508, 0.5,
                                  1.063899785807851, 1.0069180130555064],
                      _GT_SQUARE: [-2.373661925828293, -0.6024007424954043, 0.5,
                                   0.9849000239329149, 1.005193618446411],
                      _GT_EXACT: [-0.08523180107819692, -0.08331547058768629, 0.5,
                                  1.0833154705876864, 1.011945647204184]})

# %% nbgrader={"grade_id": "test_gelu_tanh_grad_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_C = np.sqrt(2.0 / np.pi)


def _gelu_tanh_grad_variant(x, chain=True, three=3.0, square=True, product=True):
    t = np.tanh(_C * (x + 0.044715 * x ** 3))
    dt = 1.0 - t * t if square else 1.0 - t
    du = _C * (1.0 + three * 0.044715 * x ** 2) if chain else 1.0
    return 0.5 * (1.0 + t) + (0.5 * x * dt * du if product else 0.0)


_rng = np.random.default_rng(210)
for _x in (_rng.normal(scale=2, size=12), _rng.normal(scale=2, size=(3, 4)),
           np.array([-800.0, -40.0, -5.0, 0.0, 5.0, 40.0, 800.0])):
    with np.errstate(over="raise", invalid="raise"):
        try:
            _got = answer(gelu_tanh_grad, _x)
        except AssertionError as _e:
            if "overflow" not in str(_e) and "invalid" not in str(_e):
                raise
            raise AssertionError(f"{_e}. Likely mistake: for |x| = 800, x**3 is large but finite "
                                 "and tanh(u) is exactly +-1; avoid computing exp or cosh of "
                                 "u (use np.tanh)") from None
    check_close(_got, _ref.gelu_tanh_grad(_x), f"gelu_tanh_grad on inputs of shape {_x.shape}"
                + (" with inputs of +-800" if np.abs(_x).max() >= 800 else ""),
                atol=1e-6, rtol=1e-6,
                mistakes={_GT_PRODUCT: _gelu_tanh_grad_variant(_x, product=False),
                          _GT_CHAIN: _gelu_tanh_grad_variant(_x, chain=False),
                          _GT_THREE: _gelu_tanh_grad_variant(_x, three=1.0),
                          _GT_SQUARE: _gelu_tanh_grad_variant(_x, square=False),
                          _GT_EXACT: _ref.gelu_grad(_x)})
### END HIDDEN TESTS

# %% [markdown]
# The demo checks your derivative against a finite difference of the book's
# $\mathrm{GELU}_{\tanh}$ and draws it next to the exact GELU's derivative: the two
# curves lie on top of each other, and the bottom plot shows the small gap between them.

# %% tags=["demo"]
yours = mine.own(globals(), "02_activations", ["gelu_tanh_grad"])
xs = np.linspace(-5, 5, 401)
h = 1e-5
finite_diff = (ref.gelu_tanh(xs + h) - ref.gelu_tanh(xs - h)) / (2 * h)
print("largest |your derivative - finite difference| on [-5, 5]:",
      f"{np.max(np.abs(yours.gelu_tanh_grad(xs) - finite_diff)):.1e}")
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
ax1.plot(xs, yours.gelu_tanh_grad(xs), label="your gelu_tanh_grad")
ax1.plot(xs, ref.gelu_grad(xs), "--", label="exact: Φ(x) + x φ(x)")
ax1.plot(xs, ref.relu_grad(xs), ":", color="gray", label="ReLU'")
ax1.axhline(0, color="k", lw=0.5)
ax1.axhline(1, color="k", lw=0.5)
ax1.set(ylabel="derivative", title="GELU's derivative: not a gate between 0 and 1")
ax1.legend(fontsize=8)
ax2.plot(xs, yours.gelu_tanh_grad(xs) - ref.gelu_grad(xs))
ax2.set(xlabel="x", ylabel="tanh approx. - exact")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Softmax
#
# **Softmax** turns a vector of scores $x \in \mathbb R^C$, the **logits**
# (未归一化的对数概率: unnormalised log-probabilities), into a probability distribution
# over $C$ classes:
#
# $$\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_{j=1}^{C} e^{x_j}}
#   = \frac{e^{x_i - m}}{\sum_{j=1}^{C} e^{x_j - m}}, \qquad m = \max_j x_j.$$
#
# The second form is the same number: multiplying the numerator and the denominator
# by $e^{-m}$ changes nothing (softmax is **shift invariant**, 平移不变). But every
# exponent is now $\le 0$, so nothing overflows, and the denominator is at least 1.
#
# > **Pitfall (the formula).** Notes often write softmax carelessly. Some write
# > $\text{softmax} = \frac{e^{x_i}}{\sum_j e^{x_j}}$ with no index $i$ on the left (it
# > is a vector: one output per $i$) and without the max-shift that every real
# > implementation uses. Another writes the denominator as $\sum_j e^{x_i}$: with the
# > wrong index the sum is just $C e^{x_i}$, and every "probability" becomes $1/C$. The
# > sum runs over $e^{x_j}$.
#
# > **Pitfall (the numbers).** A common note says that the logits $[2.0, 0.5, -1.2]$
# > give the probabilities $[0.75, 0.20, 0.05]$. They do not: softmax gives
# > $[0.791, 0.177, 0.032]$. The visible test below checks exactly this example.

# %% tags=["demo"]
logits = np.array([1000.0, 999.0, 0.0])
with np.errstate(all="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()
print("naive   :", naive, " <- exp(1000) = inf, inf/inf = nan")
print("shifted :", ref.softmax(logits))
print("largest float64 whose exp is finite: log(max float) =",
      np.log(np.finfo(np.float64).max))

# %% [markdown]
# ### Exercise 6.1 — `softmax`
# Return the softmax of `x` along `axis`, computed stably: logits of $\pm 800$ must give
# no `inf` or `nan`. Every slice along `axis` is normalised on its own (for a 2-D array of
# logits with one example per row, `axis=-1` normalises each row); `keepdims=True` in
# `np.max` and `np.sum` keeps the shapes broadcastable.

# %% nbgrader={"grade_id": "softmax", "solution": true}
def softmax(x, axis=-1):
    """Softmax of x along axis: non-negative, sums to 1 along axis, same shape as x."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_softmax", "grade": true, "points": 1}
# The worked example: the true values are [0.791, 0.177, 0.032], not [0.75, 0.20, 0.05].
_got = answer(softmax, [2.0, 0.5, -1.2])
check_close(_got, [0.7912066202, 0.1765420575, 0.0322513223],
            "softmax([2.0, 0.5, -1.2])", atol=1e-6, rtol=1e-5,
            mistakes={"the denominator sums e^{x_i} instead of e^{x_j}": [1 / 3, 1 / 3, 1 / 3]})
with np.errstate(all="ignore"):
    _got = answer(softmax, [1000.0, 0.0])
check_close(_got, [1.0, 0.0], "softmax([1000, 0])",
            mistakes={"missing max-shift: exp(1000) overflows to inf": [np.nan, 0.0]},
            atol=1e-6, rtol=1e-5)
# Two examples, one per row: each row is normalised on its own.
_e = np.e
check_close(answer(softmax, [[0.0, np.log(3.0)], [1.0, 1.0]]), [[0.25, 0.75], [0.5, 0.5]],
            "softmax([[0, log 3], [1, 1]]) along the last axis",
            mistakes={"wrong axis: the sum must run along `axis` only (keepdims=True)":
                          np.array([[1.0, 3.0], [_e, _e]]) / (4 + 2 * _e),
                      "you normalised along axis 0 (the columns), not along `axis`":
                          [[1 / (1 + _e), 3 / (3 + _e)], [_e / (1 + _e), _e / (3 + _e)]]},
            atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_softmax_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref


def _naive_softmax(x, axis):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _e = np.exp(x)
        return _e / np.sum(_e, axis=axis, keepdims=True)


_rng = np.random.default_rng(206)
_cases = [(_rng.normal(scale=3, size=5), -1), (_rng.normal(scale=3, size=(4, 3)), -1),
          (_rng.normal(scale=3, size=(4, 3)), 0), (_rng.normal(scale=3, size=(2, 3, 4)), 1),
          (_rng.normal(size=(1, 6)), -1), (np.array([[800.0, -800.0, 0.0], [1.0, 2.0, 3.0]]), -1),
          (np.array([[800.0, 799.0], [-800.0, -801.0]]), 1)]
for _x, _axis in _cases:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _got = answer(softmax, _x, axis=_axis)
    _e = np.exp(_x - _x.max())
    check_close(_got, _ref.softmax(_x, axis=_axis),
                f"softmax on logits of shape {_x.shape}, axis={_axis}"
                + (" with logits of ±800" if np.abs(_x).max() >= 800 else ""),
                mistakes={"missing max-shift: exp(800) overflows to inf, and inf/inf is nan":
                              _naive_softmax(_x, _axis),
                          "wrong axis: the sum must run along `axis` only (keepdims=True)":
                              _e / _e.sum()}, atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Log-softmax
# The log-probabilities feed the cross-entropy loss (chapter 3). Computing
# `np.log(softmax(x))` fails when a probability underflows to 0: for $x = [1000, 0]$ the
# second probability is $e^{-1000}$, which is 0 in floating point, and $\log 0 = -\infty$
# although the true answer, $-1000$, is an ordinary number. Take the logarithm of the
# shifted form by hand instead:
#
# $$\log\mathrm{softmax}(x)_i = \log\frac{e^{x_i - m}}{\sum_j e^{x_j - m}}
#   = (x_i - m) - \log\sum_j e^{x_j - m}, \qquad m = \max_j x_j.$$
#
# This is the **log-sum-exp trick** (对数求和指数技巧). The sum contains the term
# $e^{0} = 1$, so it lies between 1 and $C$ and its logarithm is always finite; no
# probability is ever formed, so none can underflow.

# %% [markdown]
# ### Exercise 6.2 — `log_softmax`
# Return $\log\mathrm{softmax}(x)$ along `axis`, finite wherever the true value is: for
# example `log_softmax([1000, 0])` must be exactly `[0, -1000]`.

# %% nbgrader={"grade_id": "log_softmax", "solution": true}
def log_softmax(x, axis=-1):
    """Log of the softmax of x along axis, same shape as x, computed stably."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_log_softmax", "grade": true, "points": 1}
check_close(answer(log_softmax, [2.0, 0.5, -1.2]),
            np.log([0.7912066202, 0.1765420575, 0.0322513223]),
            "log_softmax([2.0, 0.5, -1.2])", atol=1e-6, rtol=1e-5)
with np.errstate(all="ignore"):
    _got = answer(log_softmax, [1000.0, 0.0])
check_close(_got, [0.0, -1000.0], "log_softmax([1000, 0])",
            mistakes={"np.log(softmax(x)) turns the underflowed probability e^-1000 into "
                      "log(0) = -inf; take the log of the shifted form by hand":
                          [0.0, -np.inf],
                      "missing max-shift inside the log-sum-exp: exp(1000) overflows":
                          [-np.inf, -np.inf]}, atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_log_softmax_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(207)
_cases = [(_rng.normal(scale=3, size=6), -1), (_rng.normal(scale=3, size=(3, 4)), 0),
          (_rng.normal(scale=3, size=(1, 5)), -1),
          (np.array([[1000.0, 0.0], [800.0, -800.0]]), -1), (np.array([[-800.0, 800.0]]), 1)]
for _x, _axis in _cases:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _got = answer(log_softmax, _x, axis=_axis)
        _log_of_softmax = np.log(_ref.softmax(_x, axis=_axis))
        _no_shift = _x - np.log(np.sum(np.exp(_x), axis=_axis, keepdims=True))
    check_close(_got, _ref.log_softmax(_x, axis=_axis),
                f"log_softmax on logits of shape {_x.shape}, axis={_axis}"
                + (" with logits of ±800" if np.abs(_x).max() >= 800 else ""),
                mistakes={"log(softmax(x)) gives log(0) = -inf once a probability underflows; "
                          "use the log-sum-exp trick": _log_of_softmax,
                          "missing max-shift inside the log-sum-exp": _no_shift},
                rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### The softmax backward pass
#
# The Jacobian (雅可比矩阵) of $y = \mathrm{softmax}(x)$ is not diagonal, since every
# output depends on every input:
#
# $$\frac{\partial y_i}{\partial x_j} = y_i(\delta_{ij} - y_j).$$
#
# Given the upstream gradient $g = \partial L/\partial y$, the chain rule sums over $i$:
#
# $$\frac{\partial L}{\partial x_j} = \sum_i g_i\, y_i(\delta_{ij} - y_j)
#   = y_j\Bigl(g_j - \sum_i g_i y_i\Bigr).$$
#
# This costs $O(C)$ instead of building the $C\times C$ matrix. The result sums to 0
# along the axis, because adding a constant to all logits does not change $y$.

# %% [markdown]
# ### Exercise 6.3 — `softmax_backward`
# Given `dout` $= \partial L/\partial y$ and the softmax **output** `y = softmax(x, axis)`
# (same shape), return $\partial L/\partial x$ (same shape), without building the
# $C \times C$ Jacobian. Each slice along `axis` is one softmax.

# %% nbgrader={"grade_id": "softmax_backward", "solution": true}
def softmax_backward(dout, y, axis=-1):
    """Gradient with respect to the logits x, given dout = dL/dy and y = softmax(x, axis)."""
    ### BEGIN SOLUTION
    dout = np.asarray(dout, dtype=float)
    y = np.asarray(y, dtype=float)
    return y * (dout - np.sum(dout * y, axis=axis, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_softmax_backward", "grade": true, "points": 1}
_y = np.array([0.09003057317038046, 0.24472847105479764, 0.6652409557748219])  # softmax([1,2,3])
check_close(answer(softmax_backward, [1.0, 0.0, 0.0], _y),
            [0.08192506906499324, -0.022033044520174298, -0.05989202454481894],
            "softmax_backward(dout=[1, 0, 0], y=softmax([1, 2, 3]))",
            mistakes={"only the diagonal of the Jacobian (dout * y * (1 - y)); every output "
                      "depends on every input": [0.08192506906499324, 0.0, 0.0]},
            atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_softmax_backward_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(208)
for _shape, _axis in (((5,), -1), ((4, 3), -1), ((4, 3), 0), ((1, 6), -1), ((2, 3, 4), 1)):
    _y = _ref.softmax(_rng.normal(scale=2, size=_shape), axis=_axis)
    _g = _rng.normal(size=_shape)
    check_close(answer(softmax_backward, _g, _y, axis=_axis),
                _ref.softmax_backward(_g, _y, axis=_axis),
                f"softmax_backward on shape {_shape}, axis={_axis}",
                mistakes={"only the diagonal of the Jacobian (dout * y * (1 - y)); every "
                          "output depends on every input": _g * _y * (1 - _y),
                          "wrong axis: the sum must run along `axis` only (keepdims=True)":
                              _y * (_g - np.sum(_g * _y)),
                          "sign flipped: y * (sum(dout * y) - dout)":
                              -_ref.softmax_backward(_g, _y, axis=_axis)}, atol=1e-6, rtol=1e-5)
_y = _ref.softmax(np.array([[800.0, -800.0, 0.0]]))
check_close(answer(softmax_backward, np.array([[1.0, 2.0, 3.0]]), _y),
            _ref.softmax_backward(np.array([[1.0, 2.0, 3.0]]), _y),
            "softmax_backward on the softmax of logits ±800", atol=1e-6, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# The demo below checks the formula against a numerical Jacobian (finite differences).

# %% tags=["demo"]
x0 = np.array([0.3, -1.2, 2.0, 0.5])
g0 = np.array([1.0, -2.0, 0.5, 0.0])
eps = 1e-6
numeric = np.array([(g0 @ ref.softmax(x0 + eps * e) - g0 @ ref.softmax(x0 - eps * e)) / (2 * eps)
                    for e in np.eye(4)])
print("formula  :", ref.softmax_backward(g0, ref.softmax(x0)))
print("numerical:", numeric)

# %% [markdown]
# ## 7. Sigmoid or softmax at the output?
#
# | task | outputs | activation | loss | sum to 1? |
# |---|---|---|---|---|
# | binary (二分类) | 1 logit | sigmoid | binary cross-entropy | — ($p$ and $1-p$) |
# | multi-class (多分类): one of $C$ | $C$ logits | softmax | cross-entropy | yes |
# | multi-label (多标签): any subset | $C$ logits | sigmoid each | BCE per label | no |
#
# In multi-class the classes compete for one unit of probability; in multi-label each
# label is its own yes/no question.
#
# A two-class softmax is a sigmoid in disguise:
# $\mathrm{softmax}([a, b])_1 = \frac{e^{b}}{e^{a} + e^{b}} = \sigma(b - a)$. In
# practice the loss functions (`BCEWithLogitsLoss`, `CrossEntropyLoss`) take the
# **logits** and apply the sigmoid or log-softmax themselves, stably.

# %% tags=["demo"]
a, b = 0.3, 1.7
print("softmax([a, b])[1] =", ref.softmax([a, b])[1], "   sigmoid(b - a) =", ref.sigmoid(b - a))
scores = np.array([2.0, 0.5, -1.2])
print("multi-class (softmax):", ref.softmax(scores).round(3), "sum =", ref.softmax(scores).sum())
print("multi-label (sigmoid):", ref.sigmoid(scores).round(3), "sum =",
      ref.sigmoid(scores).sum().round(3))

# %% [markdown]
# ## 8. A deep network you can play with
#
# Pick an activation and a depth. The left plot shows the spread (standard
# deviation) of the activations in each layer on the forward pass. The right plot
# shows the norm of the gradient reaching each layer on the backward pass (log
# scale). Watch the sigmoid's gradient vanish with depth, tanh's decay more slowly,
# and ReLU keep its scale with the weight gain $\sqrt2$ (He initialisation, derived in
# chapter 6). The sigmoid, PReLU and GELU (tanh) entries use your functions.

# %% tags=["demo"]
import ipywidgets as widgets

yours = mine.own(globals(), "02_activations",
                 ["sigmoid", "sigmoid_grad", "prelu_backward", "gelu_tanh_grad"])
ACTS = {
    "sigmoid": (yours.sigmoid, yours.sigmoid_grad),
    "tanh": (ref.tanh, ref.tanh_grad),
    "relu": (ref.relu, ref.relu_grad),
    "leaky_relu": (ref.leaky_relu, ref.leaky_relu_grad),
    "prelu (a=0.25)": (lambda z: ref.prelu(z, 0.25),
                       lambda z: yours.prelu_backward(np.ones_like(z), z, 0.25)[0]),
    "elu": (ref.elu, ref.elu_grad),
    "gelu (tanh)": (ref.gelu_tanh, yours.gelu_tanh_grad),
    "swish": (ref.swish, ref.swish_grad),
}


def show_depth(activation="sigmoid", depth=20, gain=1.0):
    f, df = ACTS[activation]
    fwd, back = grad_norms(f, df, depth=depth, gain=gain)
    layers = np.arange(1, depth + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax1.plot(layers, fwd, "o-")
    ax1.set(xlabel="layer", ylabel="std of activations", title=f"forward: {activation}")
    ax2.semilogy(layers, back, "o-", color="C3")
    ax2.set(xlabel="layer", ylabel="‖∂L/∂h‖", title="backward: gradient reaching each layer")
    plt.tight_layout()
    plt.show()


widgets.interact(show_depth,
                 activation=widgets.Dropdown(options=list(ACTS), value="sigmoid"),
                 depth=widgets.IntSlider(value=20, min=1, max=60, description="depth"),
                 gain=widgets.FloatSlider(value=1.0, min=0.5, max=3.0, step=0.1,
                                          description="weight gain"));

# %% [markdown]
# ## 9. Optional: the same functions in torch, on a GPU if there is one
#
# The demo recomputes the activations with torch (on the GPU when available) and
# compares them with numpy. It is skipped when torch is missing.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    xt = torch.linspace(-5, 5, 11, dtype=torch.float64, device=device, requires_grad=True)
    xn = xt.detach().cpu().numpy()
    pairs = {"sigmoid": (torch.sigmoid(xt), ref.sigmoid(xn)),
             "tanh": (torch.tanh(xt), ref.tanh(xn)),
             "gelu": (torch.nn.functional.gelu(xt), ref.gelu(xn)),
             "leaky_relu": (torch.nn.functional.leaky_relu(xt, 0.01), ref.leaky_relu(xn)),
             "softmax": (torch.softmax(xt, dim=0), ref.softmax(xn))}
    for name, (t, n) in pairs.items():
        print(f"{name:10s} on {device}: max |torch - numpy| = "
              f"{np.abs(t.detach().cpu().numpy() - n).max():.1e}")
    torch.relu(xt).sum().backward()
    print("torch relu'(x) at x = -1, 0, 1:", xt.grad[4:7].cpu().numpy(),
          " numpy:", ref.relu_grad(xn[4:7]))

# %% [markdown]
# ## Summary
# - Without an activation, any stack of affine layers is one affine layer.
# - Sigmoid and tanh saturate: $\sigma' \le \tfrac14$ and $\tanh' \le 1$, so gradients
#   shrink through deep stacks. tanh has a zero-centred range.
# - ReLU passes gradients unchanged for $x > 0$ but gives exactly 0 for $x < 0$: dead
#   units. Leaky ReLU, PReLU, ELU, GELU and Swish keep some gradient on the negative
#   side. By convention $\mathrm{ReLU}'(0) = 0$.
# - A parameter shared by many elements (PReLU's slope) gets the **sum** of their
#   contributions: $\partial L/\partial a = \sum_i g_i \min(x_i, 0)$, per channel over
#   the batch and every position.
# - GELU's derivative, by the product and chain rules, is $\Phi(x) + x\varphi(x)$: it dips
#   below 0 and overshoots 1.
# - Softmax is $e^{x_i}/\sum_j e^{x_j}$; subtract the max first, and compute
#   log-probabilities with the log-sum-exp trick. Its backward pass is
#   $y \odot (g - \langle g, y\rangle)$.
# - Sigmoid for binary and multi-label outputs, softmax for exactly-one-of-$C$.
