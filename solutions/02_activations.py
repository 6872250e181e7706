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
# 3. The ReLU family: ReLU, Leaky ReLU, PReLU, ELU, and dead ReLUs (神经元死亡).
# 4. Smooth ReLU-like functions: GELU and Swish.
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
# Every function takes a scalar or an array and returns a float `ndarray` of the same
# shape.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. Why non-linearity?
#
# The demo below builds a random "deep" network of five linear layers and checks that
# it equals a single matrix. Then it puts a ReLU between the layers: no single matrix
# reproduces it any more (the least-squares fit leaves a large error).
# Demo cells use the reference implementation `dlnotes.activations`; they are not
# graded and are skipped when your notebook is graded.

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
# | sigmoid | $\sigma(x)(1-\sigma(x)) \le \frac14$ | binary / multi-label output, LSTM gates |
# | tanh | $1 - \tanh^2 x \le 1$ | RNN hidden states |
# | ReLU | $1$ if $x>0$, else $0$ | default in CNNs and MLPs |
# | Leaky ReLU | $1$ or $\alpha$ | avoids dead units |
# | PReLU | $1$ or $\alpha$ | image models |
# | ELU | $1$ or $\alpha e^x$ | smooth negative side |
# | GELU | $\Phi(x) + x\varphi(x)$ | Transformers (BERT, GPT) |
# | Swish / SiLU | $\sigma(\beta x)(1+\beta x(1-\sigma(\beta x)))$ | EfficientNet, LLaMA |
#
# $\Phi$ is the standard normal CDF (累积分布函数) and $\varphi$ its density.
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
# Its derivative has a neat form:
#
# $$\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr) \le \tfrac14,$$
#
# with the maximum $\tfrac14$ at $x = 0$. For $|x| \gtrsim 5$ the curve is flat: the
# unit is **saturated** and passes almost no gradient back.
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
                          [0.5, 0.11920292202211755, 0.8807970779778823]})
# The hidden tests also check that sigmoid(-800) raises no overflow warning.
with np.errstate(over="ignore"):
    _got = answer(sigmoid, [800.0, -800.0])
check_close(_got, [1.0, 0.0], "sigmoid([800, -800])")
check_equal(np.shape(answer(sigmoid, 0.0)), (),
            "shape of sigmoid(0.0) (a scalar in, a 0-d array out)")

# %% nbgrader={"grade_id": "test_sigmoid_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(201)
for _shape in ((1,), (7,), (4, 5)):
    _x = _rng.normal(scale=6, size=_shape)
    check_close(answer(sigmoid, _x), _ref.sigmoid(_x),
                f"sigmoid on random inputs of shape {_shape}",
                mistakes={"wrong sign in the exponent: 1/(1 + e^{+x})": _ref.sigmoid(-_x)})
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
check_close(_got, _ref.sigmoid(_x), "sigmoid([-800, -40, 0, 40, 800])")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3.2 — `sigmoid_grad`
# Return $\sigma'(x) = \sigma(x)(1-\sigma(x))$ at the **input** $x$. Write it on its own,
# without calling your `sigmoid`. *Hint:* $\sigma(x) = \tfrac12\bigl(1 + \tanh(x/2)\bigr)$
# is another stable way to get $\sigma$.

# %% nbgrader={"grade_id": "sigmoid_grad", "solution": true}
def sigmoid_grad(x):
    """Derivative of the sigmoid at x: s * (1 - s) with s = sigmoid(x)."""
    ### BEGIN SOLUTION
    s = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))
    return s * (1.0 - s)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sigmoid_grad", "grade": true, "points": 1}
check_close(answer(sigmoid_grad, [0.0, 2.0]), [0.25, 0.10499358540350662], "sigmoid_grad([0, 2])",
            mistakes={"you returned sigmoid(x), not its derivative": [0.5, 0.8807970779778823],
                      "s * (1 + s) instead of s * (1 - s)": [0.75, 1.6565904324791564]})

# %% nbgrader={"grade_id": "test_sigmoid_grad_hidden", "grade": true, "points": 2}
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
                          "you applied the formula to x itself: x * (1 - x) needs s = "
                          "sigmoid(x)": _x * (1 - _x)})
### END HIDDEN TESTS

# %% [markdown]
# **tanh** (双曲正切) is a shifted and stretched sigmoid, $\tanh(x) = 2\sigma(2x) - 1$,
# with range $(-1, 1)$ and derivative
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
# ### Exercise 3.3 — `tanh_grad`
# Return $1 - \tanh^2(x)$ elementwise (`np.tanh` is allowed).

# %% nbgrader={"grade_id": "tanh_grad", "solution": true}
def tanh_grad(x):
    """Derivative of tanh at x: 1 - tanh(x)**2."""
    ### BEGIN SOLUTION
    t = np.tanh(np.asarray(x, dtype=float))
    return 1.0 - t * t
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_tanh_grad", "grade": true, "points": 1}
check_close(answer(tanh_grad, [0.0, 1.0]), [1.0, 0.41997434161402614], "tanh_grad([0, 1])",
            mistakes={"missing the square: 1 - tanh(x)**2, not 1 - tanh(x)":
                          [1.0, 0.2384058440442351]})

# %% nbgrader={"grade_id": "test_tanh_grad_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(203)
for _x in (_rng.normal(scale=2, size=8), _rng.normal(scale=2, size=(2, 5)),
           np.array([-800.0, 0.0, 800.0])):
    _t = np.tanh(_x)
    check_close(answer(tanh_grad, _x), _ref.tanh_grad(_x),
                f"tanh_grad on inputs of shape {_x.shape}",
                mistakes={"missing the square: 1 - tanh(x)**2, not 1 - tanh(x)": 1 - _t,
                          "you used the sigmoid's formula t * (1 - t)": _t * (1 - _t)})
### END HIDDEN TESTS

# %% [markdown]
# ### Vanishing gradients
#
# Backpropagation multiplies one factor $f'(z_l)$ per layer. With sigmoids every
# factor is at most $\tfrac14$, so through $L$ layers the gradient shrinks at least
# like $4^{-L}$ (before the weights are counted). The first plot shows a chain of
# sigmoids on a single number. The second sends a gradient back
# through a deep random network (width 64, weights $\mathcal N(0, 1/\text{width})$)
# and draws its norm at each layer.

# %% tags=["demo"]
# A chain of L sigmoids on a single number, h_l = sigmoid(h_{l-1}): the gradient
# dh_L/dh_0 is a product of L factors sigmoid'(h_{l-1}) <= 1/4.
depths = np.arange(1, 21)
chain_grad = []
for L in depths:
    h, g = 0.0, 1.0
    for _ in range(L):
        g *= ref.sigmoid_grad(h)
        h = ref.sigmoid(h)
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
for name, f, df, gain in (("sigmoid", ref.sigmoid, ref.sigmoid_grad, 1.0),
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
# **PReLU** (参数化 ReLU) learns $\alpha$. **ELU** (指数线性单元) uses
# $\alpha(e^x - 1)$ on the negative side, which is smooth and saturates at $-\alpha$.

# %% [markdown]
# ### Exercise 4.1 — `relu_grad`
# Return 1.0 where $x > 0$ and 0.0 elsewhere (including $x = 0$), as floats.

# %% nbgrader={"grade_id": "relu_grad", "solution": true}
def relu_grad(x):
    """Derivative of ReLU at x: 1.0 for x > 0, else 0.0 (0.0 at x = 0, as torch)."""
    ### BEGIN SOLUTION
    return (np.asarray(x, dtype=float) > 0).astype(float)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_relu_grad", "grade": true, "points": 1}
check_close(answer(relu_grad, [-2.0, 0.0, 3.0]), [0.0, 0.0, 1.0], "relu_grad([-2, 0, 3])",
            mistakes={"the derivative at 0 must be 0 (as in torch), not 1": [0.0, 1.0, 1.0],
                      "you returned relu(x), not its derivative": [0.0, 0.0, 3.0]})

# %% nbgrader={"grade_id": "test_relu_grad_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(204)
for _x in (np.round(_rng.normal(size=12)), np.round(_rng.normal(size=(3, 4))),
           np.array([0.0]), np.array([-800.0, 800.0])):
    check_close(answer(relu_grad, _x), _ref.relu_grad(_x),
                f"relu_grad on {_x.size} inputs (some exactly 0)",
                mistakes={"the derivative at 0 must be 0 (as in torch), not 1":
                              (_x >= 0).astype(float),
                          "you returned relu(x), not its derivative": _ref.relu(_x)})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4.2 — `leaky_relu`
# Return $x$ where $x > 0$ and `negative_slope * x` elsewhere.

# %% nbgrader={"grade_id": "leaky_relu", "solution": true}
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, negative_slope * x)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_leaky_relu", "grade": true, "points": 1}
check_close(answer(leaky_relu, [-2.0, 0.0, 3.0], 0.1), [-0.2, 0.0, 3.0],
            "leaky_relu([-2, 0, 3], negative_slope=0.1)",
            mistakes={"the slope belongs to the negative side": [-2.0, 0.0, 0.3],
                      "negative_slope is ignored (always 0.01)": [-0.02, 0.0, 3.0]})
check_close(answer(leaky_relu, [-100.0]), [-1.0], "leaky_relu([-100]) with the default slope")

# %% nbgrader={"grade_id": "test_leaky_relu_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(205)
for _x, _a in ((_rng.normal(size=10), 0.01), (_rng.normal(size=(3, 4)), 0.2),
               (np.array([-800.0, 0.0, 800.0]), 0.3)):
    check_close(answer(leaky_relu, _x, _a), _ref.leaky_relu(_x, _a),
                f"leaky_relu on inputs of shape {_x.shape}, negative_slope={_a}",
                mistakes={"negative_slope is ignored (always 0.01)": _ref.leaky_relu(_x, 0.01),
                          "the slope belongs to the negative side":
                              np.where(_x > 0, _a * _x, _x)})
### END HIDDEN TESTS

# %% [markdown]
# ### Dead ReLUs at initialisation
#
# Even before training, a deep, narrow ReLU network has units that output 0 for
# *every* input: dead from the start. The demo counts, in each layer of random
# networks (He initialisation, 1000 random inputs), the fraction of units that are
# never active. Narrow networks lose units fast.

# %% tags=["demo"]
def dead_fraction(width, depth=30, n_nets=10, seed=0):
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
# ## 5. GELU and Swish
#
# **GELU** (Gaussian error linear unit, 高斯误差线性单元) weights $x$ by the
# probability that a standard normal variable is below it:
#
# $$\mathrm{GELU}(x) = x\,\Phi(x)
#   = \frac{x}{2}\Bigl(1 + \operatorname{erf}\bigl(x/\sqrt2\bigr)\Bigr).$$
#
# Many codes use the tanh approximation
# $\tfrac{x}{2}\bigl(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715x^3))\bigr)$, which differs
# by up to about $5\times10^{-4}$. This book (and torch's default `F.gelu`) uses the exact erf form.
# **Swish** (also SiLU) is $x\,\sigma(\beta x)$; both are smooth and slightly negative
# for $x < 0$.

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
check_close(answer(gelu, [-1.0, 0.0, 1.0]), [-0.15865525393145707, 0.0, 0.8413447460685429],
            "gelu([-1, 0, 1])", atol=1e-7,
            mistakes={"that is the tanh approximation; use the exact erf form":
                          [-0.15880800939172324, 0.0, 0.8411919906082768]})

# %% nbgrader={"grade_id": "test_gelu_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _ref

_rng = np.random.default_rng(206)
for _x in (_rng.normal(scale=2, size=10), _rng.normal(scale=2, size=(3, 3)),
           np.array([-800.0, -6.0, 0.0, 6.0, 800.0])):
    _tanh_approx = 0.5 * _x * (1 + np.tanh(np.sqrt(2 / np.pi) * (_x + 0.044715 * _x ** 3)))
    check_close(answer(gelu, _x), _ref.gelu(_x),
                f"gelu on inputs of shape {_x.shape}", atol=1e-7,
                mistakes={"that is the tanh approximation; use the exact erf form": _tanh_approx,
                          "missing the factor 1/2": 2 * _ref.gelu(_x),
                          "erf(x) instead of erf(x / sqrt(2))":
                              _ref.gelu(_x * np.sqrt(2)) / np.sqrt(2)})
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Softmax
#
# **Softmax** turns a vector of scores (logits, 对数几率) $x \in \mathbb R^C$ into a
# probability distribution over $C$ classes:
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
# Return the softmax along `axis`, shifted by the maximum (use `keepdims=True` in
# `np.max` and `np.sum` so that the shapes broadcast). For a 2-D array of logits with
# one example per row, `axis=-1` normalises each row.

# %% nbgrader={"grade_id": "softmax", "solution": true}
def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along axis."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_softmax", "grade": true, "points": 1}
# The worked example: the true values are [0.791, 0.177, 0.032], not [0.75, 0.20, 0.05].
_seed_logits = [2.0, 0.5, -1.2]
_got = answer(softmax, _seed_logits)
check_close(_got, [0.7912066202, 0.1765420575, 0.0322513223],
            "softmax([2.0, 0.5, -1.2])", atol=1e-8,
            mistakes={"the denominator sums e^{x_i} instead of e^{x_j}": [1 / 3, 1 / 3, 1 / 3]})
with np.errstate(all="ignore"):
    _got = answer(softmax, [1000.0, 0.0])
check_close(_got, [1.0, 0.0], "softmax([1000, 0])",
            mistakes={"missing max-shift: exp(1000) overflows to inf": [np.nan, 0.0]})

# %% nbgrader={"grade_id": "test_softmax_hidden", "grade": true, "points": 2}
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
                              _e / _e.sum()})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6.2 — `log_softmax`
# The log-probabilities feed the cross-entropy loss. Computing `np.log(softmax(x))`
# fails when a probability underflows to 0: $\log 0 = -\infty$. Use the
# **log-sum-exp trick** (对数求和指数技巧) instead:
#
# $$\log\mathrm{softmax}(x)_i = x_i - m - \log\sum_j e^{x_j - m}, \qquad m = \max_j x_j.$$
#
# For example `log_softmax([1000, 0])` is exactly `[0, -1000]`.

# %% nbgrader={"grade_id": "log_softmax", "solution": true}
def log_softmax(x, axis=-1):
    """x - m - log(sum(exp(x - m))) along axis, m the max along axis."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_log_softmax", "grade": true, "points": 1}
check_close(answer(log_softmax, [2.0, 0.5, -1.2]),
            np.log([0.7912066202, 0.1765420575, 0.0322513223]),
            "log_softmax([2.0, 0.5, -1.2])", atol=1e-8)

# %% nbgrader={"grade_id": "test_log_softmax_hidden", "grade": true, "points": 2}
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
                          "missing max-shift inside the log-sum-exp": _no_shift})
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
# Given `dout` $= \partial L/\partial y$ and the softmax **output** `y` (same shape),
# return $\partial L/\partial x$, the sum running along `axis`.

# %% nbgrader={"grade_id": "softmax_backward", "solution": true}
def softmax_backward(dout, y, axis=-1):
    """dL/dx = y * (dout - sum(dout * y, axis)) for y = softmax(x, axis)."""
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
                      "depends on every input": [0.08192506906499324, 0.0, 0.0]})

# %% nbgrader={"grade_id": "test_softmax_backward_hidden", "grade": true, "points": 2}
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
                              -_ref.softmax_backward(_g, _y, axis=_axis)})
_y = _ref.softmax(np.array([[800.0, -800.0, 0.0]]))
check_close(answer(softmax_backward, np.array([[1.0, 2.0, 3.0]]), _y),
            _ref.softmax_backward(np.array([[1.0, 2.0, 3.0]]), _y),
            "softmax_backward on the softmax of logits ±800")
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
# and ReLU keep its scale with He initialisation (gain $\sqrt2$).

# %% tags=["demo"]
import ipywidgets as widgets

ACTS = {
    "sigmoid": (ref.sigmoid, ref.sigmoid_grad),
    "tanh": (ref.tanh, ref.tanh_grad),
    "relu": (ref.relu, ref.relu_grad),
    "leaky_relu": (ref.leaky_relu, ref.leaky_relu_grad),
    "elu": (ref.elu, ref.elu_grad),
    "gelu": (ref.gelu, ref.gelu_grad),
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
# - Softmax is $e^{x_i}/\sum_j e^{x_j}$; subtract the max first, and compute
#   log-probabilities with the log-sum-exp trick. Its backward pass is
#   $y \odot (g - \langle g, y\rangle)$.
# - Sigmoid for binary and multi-label outputs, softmax for exactly-one-of-$C$.
