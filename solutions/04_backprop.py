# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 4 — Backpropagation: how a network finds its gradients
#
# Training a network means nudging every weight a little downhill on the loss. For that
# we need $\partial L/\partial w$ for **every** weight, millions of them, at the cost of
# roughly one extra forward pass. **Backpropagation** (反向传播) is the algorithm that
# does it: the chain rule (链式法则) applied on a computational graph, from the loss
# backwards.
#
# **What this chapter covers**
# 1. Computational graphs (计算图) and the chain rule; why gradients *add up* where a
#    value is used twice.
# 2. The training loop (训练循环): forward, loss, backward, update, on a one-weight
#    example.
# 3. A 2-2-2 sigmoid network derived by hand, every factor of the chain shown, one full
#    step in numpy, checked against torch autograd.
# 4. Gradient checking (梯度检查): central differences and the relative error.
# 5. Forward mode vs reverse mode (前向模式 / 反向模式) of automatic differentiation
#    (自动微分), what reverse mode must store, and why training needs more memory than
#    inference.
# 6. A tiny reverse-mode autodiff engine: you write the backward rules, then it trains
#    a small MLP on two moons.
# 7. The backward pass of a 2-layer MLP in matrix form, checked with your gradient
#    checker.
# 8. Vanishing and exploding gradients through depth; `y.sum().backward()` vs
#    `y.backward(gradient)` in torch.
#
# **How to check your answers.** Each exercise is a function (or a variable) with a
# stub that raises `NotImplementedError` (or is `None`). Replace the stub with your
# code, run the cell, then run the test cell below it: it passes silently or tells you
# what is wrong. The grader also runs hidden tests (random inputs, other shapes, edge
# cases) on each exercise. In JupyterLab, the **Validate** button of the nbgrader
# toolbar runs every test of the notebook at once.
#
# Exercises may use `numpy` and `math` only: an answer that calls `dlnotes`,
# scikit-learn or torch scores zero for that exercise.

# %%
import math

import numpy as np

from dlnotes.checks import answer, check_close, check_equal, inplace

# %% [markdown]
# ## 1. Computational graphs and the chain rule
#
# Any computation can be drawn as a **computational graph** (计算图): one node per
# elementary operation, edges carrying values forward. For
# $f(x, y, z) = (x y + z)^2$:
#
# $$q = x y, \qquad s = q + z, \qquad f = s^2 .$$
#
# The **chain rule** (链式法则) composes the *local* derivatives of the nodes:
#
# $$\frac{\partial f}{\partial x} = \frac{\partial f}{\partial s}\,
#   \frac{\partial s}{\partial q}\,\frac{\partial q}{\partial x}
#   = 2s \cdot 1 \cdot y .$$
#
# Backpropagation evaluates this product **from the output backwards**. It starts with
# $\partial f/\partial f = 1$; every node receives the gradient of the loss with respect
# to its output (the *upstream* gradient, `dout`), multiplies it by its local
# derivative and passes the result to its inputs. No node needs to know anything about
# the rest of the graph: that is why each layer of a network can be written as a
# `forward` and a `backward` function.
#
# **Fan-out: gradients add up.** When a value feeds several nodes, the multivariable
# chain rule sums the contributions of every path:
#
# $$\frac{\partial L}{\partial x} = \sum_{y \,:\, x \to y}
#   \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}.$$
#
# For $y = x \cdot x + 3x$ the value $x$ is used three times, and
# $\frac{dy}{dx} = x + x + 3 = 2x + 3$. This is why autodiff engines **accumulate**
# gradients (`grad += ...`), never assign them.
#
# The demo uses the scalar autodiff engine of the reference library,
# `dlnotes.backprop.Value` (section 6 opens it up). Demo cells use the reference
# implementation; they are not graded and are skipped when your notebook is graded.

# %% tags=["demo"]
from dlnotes import backprop as ref

x, y, z = ref.Value(-2.0), ref.Value(5.0), ref.Value(-4.0)
f = (x * y + z) ** 2
f.backward()
s = -2.0 * 5.0 - 4.0
print(f"f = {f.data}, df/dx = {x.grad} (2s*y = {2 * s * 5.0}), df/dy = {y.grad}, "
      f"df/dz = {z.grad}")

x = ref.Value(2.0)
y = x * x + 3 * x
y.backward()
print(f"y = x*x + 3x at x = 2: dy/dx = {x.grad} (2x + 3 = 7)")

# %% [markdown]
# ## 2. The training loop
#
# Every training step of every network has the same four parts:
#
# 1. **forward pass** (前向传播): compute the prediction $\hat y$ from the input;
# 2. **loss** (损失): compare $\hat y$ with the label $y$;
# 3. **backward pass** (反向传播): compute $\partial L/\partial\theta$ for every
#    parameter $\theta$;
# 4. **update** (参数更新): one step of gradient descent (梯度下降) with learning rate
#    (学习率) $\eta$:
#
# $$\theta \leftarrow \theta - \eta\,\frac{\partial L}{\partial \theta}.$$
#
# **Seed example (one weight).** Input $x = 2$, weight $W = 1$, bias (偏置) $b = 0$,
# label $y = 0$, identity activation $\hat y = z = Wx + b$, loss
# $L = \tfrac12(\hat y - y)^2$, learning rate $\eta = 0.1$.
#
# - forward: $z = 1 \cdot 2 + 0 = 2$, $\hat y = 2$, $L = \tfrac12 (2 - 0)^2 = 2$;
# - backward: $\dfrac{\partial L}{\partial W} = \dfrac{\partial L}{\partial \hat y}\,
#   \dfrac{\partial \hat y}{\partial z}\,\dfrac{\partial z}{\partial W}
#   = (\hat y - y)\cdot 1 \cdot x = 2 \cdot 1 \cdot 2 = 4$, and
#   $\dfrac{\partial L}{\partial b} = (\hat y - y)\cdot 1 \cdot 1 = 2$;
# - update: $W \leftarrow 1 - 0.1 \cdot 4 = 0.6$ and $b \leftarrow 0 - 0.1 \cdot 2 = -0.2$.
#
# The $\tfrac12$ is there so that it cancels the 2 of the derivative of the square.
#
# > **Pitfall (the name of the loss).** The note calls
# > $L = \tfrac12(\hat y - y)^2$ the "mean squared error (MSE)". Its numbers
# > ($\partial L/\partial W = 4$, $W \to 0.6$) are right for *this* loss, but it is the
# > **half squared error**, not the MSE. The MSE is the mean of the squares, with no
# > $\tfrac12$: $\frac1n\sum_i(\hat y_i - y_i)^2$, which is what `torch.nn.MSELoss`
# > computes. With the MSE, the loss is 4, the gradient is $2(\hat y - y)x = 8$ and
# > one step gives $W = 0.2$: twice the step. Mixing up the two silently doubles
# > (or halves) your effective learning rate.
#
# > **Pitfall (the direction of the step).** Another note writes the batch update as
# > $\theta_{new} = \theta_{old} + \eta\, g$ with $g = \frac{1}{n+1}\nabla_\theta E$.
# > Two slips: the **plus** climbs the loss instead of descending it (the gradient
# > points uphill, so gradient *descent* subtracts it), and the average runs over the
# > $n$ **training examples** (each contributes one gradient), not over the $n+1$
# > parameters $w_1, \dots, w_n, b$. The correct batch step is
# > $\theta \leftarrow \theta - \eta\,\frac1N\sum_{i=1}^{N}\nabla_\theta L_i$.

# %% [markdown]
# ### Exercise 2.1 — `one_weight_step`
# For the model $\hat y = Wx + b$ with loss $L = \tfrac12(\hat y - y)^2$ (all inputs are
# Python floats), do one training step and return the tuple
# `(loss, dL_dW, dL_db, W_new, b_new)`: the loss **before** the update, the two
# gradients, and the parameters after one gradient-descent step with learning rate
# `lr`.

# %% nbgrader={"grade_id": "one_weight_step", "solution": true}
def one_weight_step(x, W, b, y, lr):
    """One forward/backward/update step of y_hat = W x + b with L = (y_hat - y)^2 / 2."""
    ### BEGIN SOLUTION
    y_hat = W * x + b
    loss = 0.5 * (y_hat - y) ** 2
    dL_dyhat = y_hat - y
    dL_dW = dL_dyhat * x
    dL_db = dL_dyhat
    return loss, dL_dW, dL_db, W - lr * dL_dW, b - lr * dL_db
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_one_weight_step", "grade": true, "points": 1}
# The seed example: x=2, W=1, b=0, y=0, lr=0.1 gives loss 2, dL/dW = 4, W -> 0.6.
check_close(answer(one_weight_step, 2.0, 1.0, 0.0, 0.0, 0.1), [2.0, 4.0, 2.0, 0.6, -0.2],
            "one_weight_step(x=2, W=1, b=0, y=0, lr=0.1) -> (loss, dL_dW, dL_db, W_new, b_new)",
            mistakes={"the gradient has the wrong sign: dL/dy_hat = y_hat - y, not y - y_hat":
                          [2.0, -4.0, -2.0, 1.4, 0.2],
                      "the update climbs: W_new = W - lr * dL_dW (minus)":
                          [2.0, 4.0, 2.0, 1.4, 0.2],
                      "that is the MSE without the 1/2; this exercise uses L = (y_hat - y)^2 / 2":
                          [4.0, 8.0, 4.0, 0.2, -0.4],
                      "dL/dW is missing the factor dz/dW = x": [2.0, 2.0, 2.0, 0.8, -0.2]})

# %% nbgrader={"grade_id": "test_one_weight_step_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp


def _one_weight_ref(x, W, b, y, lr):
    _W, _b = _bp.Value(W), _bp.Value(b)
    _loss = 0.5 * (_W * x + _b - y) ** 2
    _loss.backward()
    return [_loss.data, _W.grad, _b.grad, W - lr * _W.grad, b - lr * _b.grad]


_rng = np.random.default_rng(401)
for _i in range(12):
    _x, _W, _b, _y = (float(_v) for _v in _rng.normal(scale=2, size=4))
    _lr = float(_rng.uniform(0.01, 0.5))
    _e = _W * _x + _b - _y
    _got = answer(one_weight_step, _x, _W, _b, _y, _lr)
    check_close(_got, _one_weight_ref(_x, _W, _b, _y, _lr),
                f"one_weight_step(x={_x:.3f}, W={_W:.3f}, b={_b:.3f}, y={_y:.3f}, lr={_lr:.3f})",
                mistakes={"the gradient has the wrong sign: dL/dy_hat = y_hat - y":
                              [0.5 * _e**2, -_e * _x, -_e, _W + _lr * _e * _x, _b + _lr * _e],
                          "the update climbs: subtract the gradient, W - lr * dL_dW":
                              [0.5 * _e**2, _e * _x, _e, _W + _lr * _e * _x, _b + _lr * _e],
                          "that is the MSE without the 1/2":
                              [_e**2, 2 * _e * _x, 2 * _e, _W - 2 * _lr * _e * _x,
                               _b - 2 * _lr * _e],
                          "dL/dW is missing the factor dz/dW = x":
                              [0.5 * _e**2, _e, _e, _W - _lr * _e, _b - _lr * _e],
                          "the loss is the one after the update; return it before":
                              [0.5 * ((_W - _lr * _e * _x) * _x + _b - _lr * _e - _y) ** 2,
                               _e * _x, _e, _W - _lr * _e * _x, _b - _lr * _e]})
### END HIDDEN TESTS

# %% [markdown]
# ### Question 2.2 — the same step with the real MSE
# Redo the seed example with `torch.nn.MSELoss`, i.e. $L = (\hat y - y)^2$ for this
# single example (the mean over one example is the example itself). What are
# $\partial L/\partial W$ and the new $W$ after one step with $\eta = 0.1$? Write the
# numbers.

# %% nbgrader={"grade_id": "q_mse_step", "solution": true}
dL_dW_mse = None
W_new_mse = None
### BEGIN SOLUTION
dL_dW_mse = 8.0
W_new_mse = 0.2
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_mse_step", "grade": true, "points": 1}
assert dL_dW_mse is not None and W_new_mse is not None, "set dL_dW_mse and W_new_mse to numbers"
### BEGIN HIDDEN TESTS
check_close(dL_dW_mse, 8.0, "dL/dW with the MSE (no 1/2)",
            mistakes={"that is the gradient of the half squared error; without the 1/2 the "
                      "derivative of (y_hat - y)^2 keeps its factor 2": 4.0})
check_close(W_new_mse, 0.2, "W after one step with the MSE",
            mistakes={"that is the step of the half squared error (dL/dW = 4); the MSE's "
                      "gradient is 8": 0.6,
                      "the update climbs: W - lr * dL/dW": 1.8})
### END HIDDEN TESTS

# %% [markdown]
# The demo runs the training loop for 30 steps on the seed example: four lines of code
# per step, the same four steps as in every deep-learning framework.

# %% tags=["demo"]
import matplotlib.pyplot as plt

W, b, x, y, lr = 1.0, 0.0, 2.0, 0.0, 0.1
history = []
for step in range(30):
    y_hat = W * x + b                 # 1. forward
    loss = 0.5 * (y_hat - y) ** 2     # 2. loss
    dW, db = (y_hat - y) * x, (y_hat - y)  # 3. backward
    W, b = W - lr * dW, b - lr * db   # 4. update
    history.append(loss)
    if step < 3:
        print(f"step {step}: loss {loss:.4f}, dL/dW {dW:.4f}, W -> {W:.4f}, b -> {b:.4f}")
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.semilogy(history, "o-", ms=3)
ax.set(xlabel="step", ylabel="loss (log scale)", title="The one-weight example, 30 steps")
plt.show()

# %% [markdown]
# ## 3. A 2-2-2 sigmoid network, by hand
#
# The classic worked example (its numbers are those of Matt Mazur's "A Step by Step
# Backpropagation Example", whose notation $net$, $out$, $w_1\dots w_8$ many notes
# follow): two inputs, two hidden sigmoid units, two sigmoid outputs.
#
# | | values |
# |---|---|
# | input | $x_1 = 0.05$, $x_2 = 0.10$ |
# | hidden layer (隐藏层) | $w_1 = 0.15,\ w_2 = 0.20,\ w_3 = 0.25,\ w_4 = 0.30$; biases 0.35 |
# | output layer | $w_5 = 0.40,\ w_6 = 0.45,\ w_7 = 0.50,\ w_8 = 0.55$; biases 0.60 |
# | target | $t_1 = 0.01$, $t_2 = 0.99$ |
# | learning rate | $\eta = 0.5$ |
#
# In matrix form (the layout of `torch.nn.Linear`: one **row** per unit),
#
# $$W_1 = \begin{pmatrix} w_1 & w_2 \\ w_3 & w_4 \end{pmatrix},\quad
#   W_2 = \begin{pmatrix} w_5 & w_6 \\ w_7 & w_8 \end{pmatrix},\qquad
#   net_h = W_1 x + b_1,\ out_h = \sigma(net_h),\quad
#   net_o = W_2\, out_h + b_2,\ out_o = \sigma(net_o),$$
#
# with the sigmoid $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ and the loss
#
# $$E = \tfrac12\sum_{k=1}^{2}(out_{o_k} - t_k)^2 .$$
#
# (Again the notes call this "MSE"; it is half the **sum** of squared errors over the
# two outputs. The original example shares one bias per layer; here each unit has its
# own, as in torch. With a shared bias its gradient is the sum of the two entries.)
#
# **Forward.** $net_{h_1} = 0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775$,
# $out_{h_1} = \sigma(0.3775) = 0.593270$, $out_{h_2} = 0.596884$;
# $net_{o_1} = 0.40 \cdot 0.593270 + 0.45 \cdot 0.596884 + 0.60 = 1.105906$,
# $out_{o_1} = 0.751365$, $out_{o_2} = 0.772928$; $E = 0.298371$.
#
# **Backward, output layer.** Three factors for $w_5$ (the weight from $h_1$ to $o_1$):
#
# $$\frac{\partial E}{\partial w_5}
#   = \underbrace{\frac{\partial E}{\partial out_{o_1}}}_{out_{o_1} - t_1}\;
#     \underbrace{\frac{\partial out_{o_1}}{\partial net_{o_1}}}_{out_{o_1}(1 - out_{o_1})}\;
#     \underbrace{\frac{\partial net_{o_1}}{\partial w_5}}_{out_{h_1}}
#   = 0.741365 \cdot 0.186816 \cdot 0.593270 = 0.082167 .$$
#
# The first two factors form $\delta_{o_1} = \partial E/\partial net_{o_1} = 0.138499$;
# every weight into $o_1$ reuses it ($\partial E/\partial w_6 = \delta_{o_1}\, out_{h_2}$),
# and the bias gets $\partial E/\partial b_{o_1} = \delta_{o_1} \cdot 1$. In matrix form
# $\delta_o = (out_o - t)\odot out_o \odot (1 - out_o)$, $\;\partial E/\partial W_2 =
# \delta_o\, out_h^{\top}$ (an outer product), $\;\partial E/\partial b_2 = \delta_o$.
#
# **Backward, hidden layer.** $out_{h_1}$ feeds **both** outputs, so its gradient is a
# sum over the two paths:
#
# $$\frac{\partial E}{\partial out_{h_1}} = \delta_{o_1} w_5 + \delta_{o_2} w_7,\qquad
#   \delta_{h_1} = \frac{\partial E}{\partial out_{h_1}}\; out_{h_1}(1 - out_{h_1}),\qquad
#   \frac{\partial E}{\partial w_1} = \delta_{h_1}\, x_1 = 0.000439 .$$
#
# In matrix form $\delta_h = (W_2^{\top}\delta_o) \odot out_h \odot (1 - out_h)$:
# the **transpose** of $W_2$ sends each output's $\delta$ back along the weights it came
# through. Then $\partial E/\partial W_1 = \delta_h\, x^{\top}$ and
# $\partial E/\partial b_1 = \delta_h$.
#
# > **Pitfall (the sigmoid).** The note writes $\sigma(y') = \frac{1}{1-e^{-y'}}$. The
# > sign is wrong: that function is infinite at $y' = 0$ and negative for $y' < 0$. The
# > sigmoid is $\frac{1}{1+e^{-y'}}$.
#
# > **Pitfall (the sigmoid applied twice).** The note writes
# > $\frac{\partial E}{\partial net_{o_1}} = (out_{o_1} - t_1)\,
# > \sigma(out_{o_1})\bigl(1 - \sigma(out_{o_1})\bigr)$. But $out_{o_1}$ **is already**
# > $\sigma(net_{o_1})$. The derivative of the sigmoid is
# > $\sigma'(net) = \sigma(net)(1 - \sigma(net)) = out\,(1 - out)$: either apply
# > $\sigma$ to $net$, or use $out$ directly, never $\sigma(out)$. With the slip
# > $\partial E/\partial w_5$ comes out as 0.09579 instead of 0.08217. The same slip
# > appears in the hidden layer, $\sigma(out_{h_1})(1 - \sigma(out_{h_1}))$.
#
# > **Pitfall (a dropped factor).** The note then writes
# > $\frac{\partial E}{\partial w_5} = \sigma(net_{o_1})[1 - \sigma(net_{o_1})]\times
# > out_{h_1}$ and $\frac{\partial E}{\partial b_2} = \sigma(net_{o_1})
# > [1 - \sigma(out_{o_1})]$. Both lose the first factor of the chain,
# > $\partial E/\partial out_{o_1} = out_{o_1} - t_1$ (and the second mixes $net$ and
# > $out$). Without it the gradient no longer depends on the target at all: the network
# > would be pushed the same way whatever the label. Write every factor of the chain,
# > then simplify.

# %% [markdown]
# ### Exercise 3.1 — `sigmoid_net_backward`
# For one example `x` (shape `(2,)`, or more generally `(D,)`) and target `target`
# (shape `(K,)`), with `W1` of shape `(H, D)`, `b1` `(H,)`, `W2` `(K, H)`, `b2` `(K,)`,
# run the forward pass of the network above (sigmoid after **both** layers, loss
# $E = \tfrac12\sum_k(out_{o_k} - t_k)^2$) and return the tuple
# `(dW1, db1, dW2, db2)` of the gradients of $E$, each of the shape of its parameter.

# %% nbgrader={"grade_id": "sigmoid_net_backward", "solution": true}
def sigmoid_net_backward(x, target, W1, b1, W2, b2):
    """Gradients (dW1, db1, dW2, db2) of E = sum((out_o - t)^2) / 2 for a sigmoid MLP."""
    ### BEGIN SOLUTION
    x, target = np.asarray(x, dtype=float), np.asarray(target, dtype=float)
    W1, b1 = np.asarray(W1, dtype=float), np.asarray(b1, dtype=float)
    W2, b2 = np.asarray(W2, dtype=float), np.asarray(b2, dtype=float)
    out_h = 1.0 / (1.0 + np.exp(-(W1 @ x + b1)))
    out_o = 1.0 / (1.0 + np.exp(-(W2 @ out_h + b2)))
    delta_o = (out_o - target) * out_o * (1.0 - out_o)    # dE/dnet_o
    delta_h = (W2.T @ delta_o) * out_h * (1.0 - out_h)     # dE/dnet_h
    return np.outer(delta_h, x), delta_h, np.outer(delta_o, out_h), delta_o
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sigmoid_net_backward", "grade": true, "points": 1}
_x, _t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
_W1, _b1 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35])
_W2, _b2 = np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60])
_got = answer(sigmoid_net_backward, _x, _t, _W1, _b1, _W2, _b2)
check_equal(len(_got), 4, "number of arrays returned (dW1, db1, dW2, db2)")
_dW1, _db1, _dW2, _db2 = _got
check_close(_dW2, [[0.08216704056423078, 0.08266762784753326],
                   [-0.022602540477475067, -0.02274024221597822]],
            "dW2 = [[dE/dw5, dE/dw6], [dE/dw7, dE/dw8]] on the worked example",
            mistakes={"the sigmoid is applied twice: out_o is already sigmoid(net_o), so "
                      "its derivative is out_o * (1 - out_o), not sigmoid(out_o)(1 - "
                      "sigmoid(out_o))": [[0.09578976954248139, 0.09637335074699073],
                                          [-0.02782815935493489, -0.027997697196326485]],
                      "dropped the (out - target) factor of the chain":
                          [[0.11083209061070082, 0.11150731433496498],
                           [0.1041248476496345, 0.10475920875417581]],
                      "wrong sign: dE/dout = out - target, not target - out":
                          [[-0.08216704056423078, -0.08266762784753326],
                           [0.022602540477475067, 0.02274024221597822]]})
check_close(_db2, [0.13849856162855698, -0.03809823651655623], "db2 on the worked example")
check_close(_dW1, [[0.00043856773447434685, 0.0008771354689486937],
                   [0.0004977127352608601, 0.0009954254705217202]],
            "dW1 = [[dE/dw1, dE/dw2], [dE/dw3, dE/dw4]] on the worked example",
            mistakes={"delta_h uses W2 @ delta_o; the gradient goes back through the "
                      "transpose, W2.T @ delta_o":
                          [[0.00046155056314134944, 0.0009231011262826989],
                           [0.0005810242657547315, 0.001162048531509463]],
                      "the sigmoid is applied twice in the hidden layer: use out_h * (1 - out_h)":
                          [[0.00047142546535470137, 0.0009428509307094027],
                           [0.0005365130695194578, 0.0010730261390389155]]})
check_close(_db1, [0.008771354689486937, 0.009954254705217202], "db1 on the worked example")

# %% nbgrader={"grade_id": "test_sigmoid_net_backward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_net_ref(x, t, W1, b1, W2, b2):
    """The reference: the network as a graph of dlnotes.backprop.Value scalars."""
    _P = [np.vectorize(_bp.Value, otypes=[object])(_p) for _p in (W1, b1, W2, b2)]
    _h = [(sum((w * xi for w, xi in zip(_P[0][j], x, strict=True)), _P[1][j])).sigmoid()
          for j in range(W1.shape[0])]
    _o = [(sum((w * hj for w, hj in zip(_P[2][k], _h, strict=True)), _P[3][k])).sigmoid()
          for k in range(W2.shape[0])]
    _E = sum(((o - tk) ** 2 for o, tk in zip(_o, t, strict=True)), _bp.Value(0.0)) * 0.5
    _E.backward()
    return [np.vectorize(lambda v: v.grad, otypes=[float])(_p) for _p in _P]


def _sigmoid_net_variant(kind, x, t, W1, b1, W2, b2):
    if kind == "noT" and W2.shape[0] != W2.shape[1]:
        return None  # W2 @ delta_o does not even have the right shape
    h = _sig(W1 @ x + b1)
    o = _sig(W2 @ h + b2)
    fo = _sig(o) * (1 - _sig(o)) if kind == "double" else o * (1 - o)
    e = {"sign": t - o, "drop": np.ones_like(o)}.get(kind, o - t)
    do = e * fo
    fh = _sig(h) * (1 - _sig(h)) if kind == "double" else h * (1 - h)
    dh = ((W2 if kind == "noT" else W2.T) @ do) * fh
    return [np.outer(dh, x), dh, np.outer(do, h), do]


_names = ("dW1", "db1", "dW2", "db2")
_expl = {"double": "the sigmoid is applied twice: out is already sigmoid(net), so its "
                   "derivative is out * (1 - out)",
         "drop": "dropped the (out - target) factor of the chain",
         "sign": "wrong sign: dE/dout = out - target",
         "noT": "the gradient goes back through the transpose, W2.T @ delta_o"}
_rng = np.random.default_rng(402)
for _D, _H, _K in ((2, 2, 2), (3, 4, 2), (5, 3, 1), (2, 2, 2)):
    _x, _t = _rng.normal(size=_D), _rng.uniform(size=_K)
    _W1, _b1 = _rng.normal(size=(_H, _D)), _rng.normal(size=_H)
    _W2, _b2 = _rng.normal(size=(_K, _H)), _rng.normal(size=_K)
    _grads = answer(sigmoid_net_backward, _x, _t, _W1, _b1, _W2, _b2)
    check_equal(len(_grads), 4,
                "how many arrays sigmoid_net_backward returned (dW1, db1, dW2, db2)")
    _exp = _sigmoid_net_ref(_x, _t, _W1, _b1, _W2, _b2)
    _vars = {k: _sigmoid_net_variant(k, _x, _t, _W1, _b1, _W2, _b2) for k in _expl}
    for _i in (2, 3, 0, 1):
        check_close(_grads[_i], _exp[_i],
                    f"{_names[_i]} for a {_D}-{_H}-{_K} network with random weights",
                    mistakes={_expl[k]: _v[_i] for k, _v in _vars.items() if _v is not None},
                    atol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# **One full step, checked against torch autograd.** The demo runs your
# `sigmoid_net_backward` on the worked example, takes one gradient-descent step with
# $\eta = 0.5$ and compares the gradients with torch autograd (float64). After the step
# $w_5 = 0.40 - 0.5 \cdot 0.082167 = 0.358916$ and the loss drops from 0.298371 to
# 0.280471 (to 0.291028 if, as in the original example, the biases are not updated).

# %% tags=["demo"]
def try_answer(fn, *args):
    """Run one of your answers in a demo; say so if it is not written yet."""
    try:
        return fn(*args)
    except NotImplementedError:
        print(f"(write {fn.__name__} first; this demo uses it)")
        return None


def sigmoid_net_loss(x, t, W1, b1, W2, b2):
    out_h = 1 / (1 + np.exp(-(W1 @ x + b1)))
    out_o = 1 / (1 + np.exp(-(W2 @ out_h + b2)))
    return 0.5 * np.sum((out_o - t) ** 2)


x0, t0 = np.array([0.05, 0.10]), np.array([0.01, 0.99])
params = [np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]),
          np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60])]
grads = try_answer(sigmoid_net_backward, x0, t0, *params)
if grads is not None:
    new = [p - 0.5 * g for p, g in zip(params, grads, strict=True)]
    print(f"E before: {sigmoid_net_loss(x0, t0, *params):.6f}   "
          f"after one step: {sigmoid_net_loss(x0, t0, *new):.6f}")
    print("new W2 = [[w5, w6], [w7, w8]] =\n", new[2].round(6))
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        tp = [torch.tensor(p, dtype=torch.float64, device=device, requires_grad=True)
              for p in params]
        xt = torch.tensor(x0, dtype=torch.float64, device=device)
        tt = torch.tensor(t0, dtype=torch.float64, device=device)
        out_o = torch.sigmoid(tp[2] @ torch.sigmoid(tp[0] @ xt + tp[1]) + tp[3])
        E = 0.5 * ((out_o - tt) ** 2).sum()
        E.backward()
        for name, g, p in zip(("dW1", "db1", "dW2", "db2"), grads, tp, strict=True):
            diff = np.abs(g - p.grad.cpu().numpy()).max()
            print(f"{name}: max |yours - torch autograd ({device})| = {diff:.1e}")

# %% [markdown]
# ## 4. Gradient checking
#
# A backward pass is easy to get subtly wrong, and a wrong gradient often still
# *trains*, just worse. So we check it against a gradient computed without any
# calculus: the **numerical gradient** (数值梯度) by **central differences**
# (中心差分),
#
# $$\frac{\partial f}{\partial x_i} \approx
#   \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon},$$
#
# where $e_i$ is the $i$-th unit vector. A Taylor expansion shows the error is
# $O(\varepsilon^2)$, while the one-sided (forward) difference
# $\frac{f(x + \varepsilon e_i) - f(x)}{\varepsilon}$ is only $O(\varepsilon)$. Smaller
# $\varepsilon$ is not always better: the two function values agree in more and more
# digits, and the rounding error grows like $10^{-16}|f|/\varepsilon$. In float64,
# $\varepsilon \approx 10^{-6}$ to $10^{-5}$ is a good compromise (the demo plots it).
#
# It costs two evaluations of $f$ **per parameter**, far too slow for training, but
# perfect as a referee on small inputs.
#
# **Relative error** (相对误差). Compare the analytic gradient $g$ with the numerical
# one $\hat g$ entry by entry, scale-free:
#
# $$\operatorname{rel}(g, \hat g) = \max_i \frac{|g_i - \hat g_i|}
#   {\max\bigl(|g_i| + |\hat g_i|,\ \text{tiny}\bigr)} \in [0, 1],$$
#
# where tiny (`np.finfo(float).tiny`, about $2\cdot10^{-308}$) only prevents $0/0$ when
# both entries are 0. An absolute difference of $10^{-4}$ is excellent for gradients of
# size $10^{3}$ and terrible for gradients of size $10^{-4}$; the relative error does
# not care about the scale. Rules of thumb in float64:
#
# | relative error | verdict |
# |---|---|
# | $< 10^{-7}$ | right |
# | $10^{-7}$ to $10^{-4}$ | suspicious: fine near kinks (ReLU at 0) or in float32 |
# | $> 10^{-4}$ | almost certainly a bug |
#
# (`dlnotes.backprop.gradcheck` adds a floor of $10^{-3}$ to the denominator, so that
# entries that are both nearly 0 are compared absolutely.)

# %% [markdown]
# ### Exercise 4.1 — `numerical_gradient`
# Return the central-difference gradient of the scalar function `f` at `x` (an array
# of **any shape**), with step `eps`. Perturb one entry at a time (`np.ndindex(x.shape)`
# visits every index of an array of any shape) and leave the caller's `x` unchanged:
# work on a float copy.

# %% nbgrader={"grade_id": "numerical_gradient", "solution": true}
def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of scalar f at x (any shape); x is not modified."""
    ### BEGIN SOLUTION
    x = np.array(x, dtype=float)  # a copy
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_numerical_gradient", "grade": true, "points": 1}
# f(v) = sum(v^3) has gradient 3 v^2.
_x = inplace(np.array([1.0, -2.0, 0.5]))
_got = answer(numerical_gradient, lambda v: np.sum(v ** 3), _x)
if not np.array_equal(_x, [1.0, -2.0, 0.5]):
    raise AssertionError("numerical_gradient changed the caller's x: perturb a copy, or "
                         "restore every entry")
check_close(_got, [3.0, 12.0, 0.75], "numerical_gradient of sum(v^3) at [1, -2, 0.5]", atol=1e-7,
            mistakes={"divided by eps instead of 2 * eps": [6.0, 24.0, 1.5],
                      "that is the forward difference (f(x + eps) - f(x)) / eps; use the "
                      "central difference": [3.000003, 11.999994, 0.7500015]})
check_close(answer(numerical_gradient, lambda v: np.sum(v ** 3), _x, 0.1),
            [3.01, 12.01, 0.76], "numerical_gradient of sum(v^3) at [1, -2, 0.5] with eps=0.1",
            atol=1e-9,
            mistakes={"that is the forward difference (f(x + eps) - f(x)) / eps; use the "
                      "central difference": [3.31, 11.41, 0.91],
                      "eps is ignored": [3.0, 12.0, 0.75]})

# %% nbgrader={"grade_id": "test_numerical_gradient_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp


def _forward_difference(f, x, eps):
    _g = np.zeros(x.shape)
    for _idx in np.ndindex(x.shape):
        _xp = x.copy()
        _xp[_idx] += eps
        _g[_idx] = (f(_xp) - f(x)) / eps
    return _g


_rng = np.random.default_rng(403)
_A = _rng.normal(size=(3, 3))
_funcs = {"sum(sin(v) * v^2)": lambda v: float(np.sum(np.sin(v) * v ** 2)),
          "log(sum(exp(v)))": lambda v: float(np.log(np.sum(np.exp(v)))),
          "prod(tanh(v))": lambda v: float(np.prod(np.tanh(v))),
          "v.ravel()[:3] @ A @ v.ravel()[:3]": lambda v: float(v.ravel()[:3] @ _A @ v.ravel()[:3])}
for _shape in ((4,), (2, 3), (3, 1, 2), (1,)):
    for _name, _f in _funcs.items():
        if _name.startswith("v.ravel()") and np.prod(_shape) < 3:
            continue
        _x = inplace(_rng.normal(size=_shape))    # so that a changed x is seen
        _x_before = _x.copy()
        _eps = float(_rng.choice([1e-6, 1e-4]))
        _got = answer(numerical_gradient, _f, _x, eps=_eps)
        if not np.array_equal(_x, _x_before):
            raise AssertionError(f"numerical_gradient changed the caller's x (shape {_shape}): "
                                 "perturb a copy, or restore every entry")
        _label = f"numerical_gradient of {_name} at a random x of shape {_shape}, eps={_eps:g}"
        check_close(_got, _bp.numerical_gradient(_f, _x, eps=_eps), _label, atol=1e-7, rtol=1e-6,
                    mistakes={"divided by eps instead of 2 * eps":
                                  2 * _bp.numerical_gradient(_f, _x, eps=_eps),
                              "that is the forward difference; use the central difference":
                                  _forward_difference(_f, _x, _eps)})
# eps must be used: the central difference of sum(v^3) is 3 v^2 + eps^2 exactly.
_x = _rng.normal(size=(2, 2))
_got = answer(numerical_gradient, lambda v: float(np.sum(v ** 3)), _x, eps=0.1)
check_close(_got, 3 * _x ** 2 + 0.01, "numerical_gradient of sum(v^3) with eps=0.1 on a 2x2 x",
            atol=1e-9, mistakes={"eps is ignored": 3 * _x ** 2,
                                 "that is the forward difference; use the central difference":
                                     _forward_difference(lambda v: np.sum(v ** 3), _x, 0.1)})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4.2 — `relative_error`
# Return the **largest** entrywise relative error between two arrays of the same shape,
# $\max_i |a_i - b_i| / \max(|a_i| + |b_i|,\ \text{tiny})$ with
# `tiny = np.finfo(float).tiny`, as a Python float. Two zeros give 0, not NaN.

# %% nbgrader={"grade_id": "relative_error", "solution": true}
def relative_error(a, b):
    """max_i |a_i - b_i| / max(|a_i| + |b_i|, tiny)."""
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.maximum(np.abs(a) + np.abs(b), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b) / denom))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_relative_error", "grade": true, "points": 1}
check_close(answer(relative_error, [1.0, 2.0], [1.0, 1.0]), 1 / 3,
            "relative_error([1, 2], [1, 1])",
            mistakes={"the denominator is |a| + |b|, not |b| alone": 1.0,
                      "the denominator is |a| + |b|, not |a| alone": 0.5,
                      "that is the mean over the entries; take the max": 1 / 6})
with np.errstate(all="ignore"):
    _got = answer(relative_error, [0.0, 3.0], [0.0, 3.0])
check_close(_got, 0.0, "relative_error([0, 3], [0, 3]) (two zeros count as equal)")

# %% nbgrader={"grade_id": "test_relative_error_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(404)
for _shape in ((5,), (3, 4), (1,), (2, 2, 3)):
    _a = _rng.normal(size=_shape)
    _b = _a + _rng.normal(scale=1e-3, size=_shape) * _rng.integers(0, 2, size=_shape)
    _got = answer(relative_error, _a, _b)
    _r = np.abs(_a - _b)
    check_close(_got, _bp.relative_error(_a, _b), f"relative_error on arrays of shape {_shape}",
                mistakes={"the denominator is |a| + |b|, not |b| alone": np.max(_r / np.abs(_b)),
                          "the denominator is |a| + |b|, not |a| alone": np.max(_r / np.abs(_a)),
                          "the denominator is |a| + |b|, not max(|a|, |b|)":
                              np.max(_r / np.maximum(np.abs(_a), np.abs(_b))),
                          "that is the mean over the entries; take the max":
                              np.mean(_r / (np.abs(_a) + np.abs(_b)))})
for _a, _b in (([0.0, 0.0], [0.0, 0.0]), ([1e-300, 0.0], [0.0, 0.0]), ([2.0], [-2.0]),
               ([1e8, 5.0], [1e8 + 1.0, 5.0])):
    with np.errstate(divide="ignore", invalid="ignore"):
        _got = answer(relative_error, np.array(_a), np.array(_b))
    check_close(_got, _bp.relative_error(_a, _b), f"relative_error({_a}, {_b})",
                mistakes={"0/0 gives NaN: floor the denominator at np.finfo(float).tiny": np.nan})
### END HIDDEN TESTS

# %% [markdown]
# The demo plots the error of both difference formulas against $\varepsilon$ for
# $f(x) = \sin x$ at $x = 1$: the central difference gains two digits per decade of
# $\varepsilon$ until rounding takes over near $\varepsilon \approx 10^{-5}$, the forward
# difference only one. Then it gradient-checks your `sigmoid_net_backward` with your
# `numerical_gradient` and `relative_error`.

# %% tags=["demo"]
epsilons = np.logspace(-13, -1, 49)
central = [abs((np.sin(1 + e) - np.sin(1 - e)) / (2 * e) - np.cos(1)) for e in epsilons]
forward = [abs((np.sin(1 + e) - np.sin(1)) / e - np.cos(1)) for e in epsilons]
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(epsilons, central, label="central (f(x+ε) - f(x-ε)) / 2ε")
ax.loglog(epsilons, forward, label="forward (f(x+ε) - f(x)) / ε")
ax.set(xlabel="ε", ylabel="|error| of d sin(x)/dx at x = 1", title="Truncation vs rounding")
ax.legend()
plt.show()

grads = try_answer(sigmoid_net_backward, x0, t0, *params)
if grads is not None:
    for i, name in enumerate(("W1", "b1", "W2", "b2")):
        def loss_of(p, i=i):
            trial = list(params)
            trial[i] = p
            return sigmoid_net_loss(x0, t0, *trial)
        num = try_answer(numerical_gradient, loss_of, params[i])
        if num is not None:
            err = try_answer(relative_error, grads[i], num)
            print(f"gradcheck d{name}: relative error {err:.2e}")

# %% [markdown]
# ## 5. Forward mode, reverse mode, and memory
#
# The chain rule multiplies Jacobians (雅可比矩阵): for
# $L = f_3(f_2(f_1(x)))$ with $x \in \mathbb R^n$ and a scalar $L$,
#
# $$\frac{\partial L}{\partial x} = J_3\, J_2\, J_1 .$$
#
# The product can be evaluated in two orders.
#
# - **Forward mode** (前向模式) goes left to right through the computation:
#   $J_1 v$, then $J_2(J_1 v)$, ... It pushes a *tangent* (one direction $v$ in input
#   space) along with the values, so it yields the derivative of **every output** with
#   respect to **one input** direction. A full gradient of $n$ inputs needs $n$
#   passes. It needs no extra memory: each tangent is discarded with its value.
# - **Reverse mode** (反向模式), which backpropagation is, goes from the loss back:
#   $(1 \cdot J_3) J_2$, then $\cdot J_1$. One backward pass gives the derivative of
#   **one output** (the scalar loss) with respect to **every input**: the whole
#   gradient, for the cost of about 2–3 forward passes, whether there are 10 or $10^9$
#   parameters.
#
# A loss is one number and a network has millions of parameters, so training uses
# reverse mode. The price is **memory**: the backward pass needs the local
# derivatives, which depend on the forward values ($\partial(ab)/\partial a = b$,
# $\sigma' = out(1 - out)$). Reverse mode must therefore **store every intermediate
# value of the forward pass** (the activations) until the backward pass reaches it.
# Inference (`torch.no_grad()`) can throw each layer's output away as soon as the next
# layer has used it. That is why training needs much more memory than inference, and
# why it grows with the batch size and the depth.
#
# The demo differentiates the same function both ways: forward mode with *dual
# numbers* (对偶数, each value carries its derivative along one direction) needs one
# pass per input, reverse mode one pass in total. Then it counts what a training step
# must keep in memory.

# %% tags=["demo"]
class Dual:
    """a + a' ε with ε² = 0: carries a value and its derivative in one direction."""

    def __init__(self, val, dot):
        self.val, self.dot = val, dot

    def __add__(self, o):
        o = o if isinstance(o, Dual) else Dual(o, 0.0)
        return Dual(self.val + o.val, self.dot + o.dot)

    __radd__ = __add__

    def __mul__(self, o):
        o = o if isinstance(o, Dual) else Dual(o, 0.0)
        return Dual(self.val * o.val, self.dot * o.val + self.val * o.dot)

    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.val)
        return Dual(t, (1 - t * t) * self.dot)


def g(xs):  # a scalar function of n inputs, written once for both modes
    out = 0.0
    for i, xi in enumerate(xs):
        out = out + (xi * xi * (i + 1)).tanh() * xs[0]
    return out


xs = [0.3, -0.7, 1.1, 0.5]
forward_grad = [g([Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(xs)]).dot
                for i in range(len(xs))]                       # n passes
vals = [ref.Value(v) for v in xs]
g(vals).backward()                                             # one pass
print("forward mode, one pass per input :", np.round(forward_grad, 6))
print("reverse mode, one backward pass   :", np.round([v.grad for v in vals], 6))

# What a training step keeps for the backward pass: every activation of every layer.
batch, width, depth = 256, 4096, 24
floats_kept = batch * width * depth * 2      # pre-activation and activation per layer
print(f"MLP {depth} x {width}, batch {batch}: training keeps ~{floats_kept * 4 / 2**20:.0f} MiB "
      f"of float32 activations; inference needs ~{2 * batch * width * 4 / 2**20:.0f} MiB at a "
      "time (plus the weights, in both cases)")

# %% [markdown]
# ## 6. A tiny reverse-mode autodiff engine
#
# `dlnotes.backprop.Value` is a scalar autodiff engine in the spirit of Karpathy's
# *micrograd*. Every operation creates a new node that remembers its inputs (`_prev`)
# and a **local backward rule**. `backward()` sorts the graph in topological order
# (拓扑排序: every node after its inputs), sets the loss's `grad` to 1 and calls the
# rules in reverse order. Each rule reads the upstream gradient `out.grad` and
# **adds** its contribution to the `grad` of each input:
#
# ```python
# def mul_backward(out):          # out = a * b
#     a, b = out._prev
#     a.grad += b.data * out.grad
#     b.grad += a.data * out.grad
# ```
#
# Below you write the backward rules as plain functions on numbers: given the inputs
# (or the output) of an operation and the upstream gradient `dout`
# $= \partial L/\partial\,out$, return the gradient(s) with respect to the input(s),
# $\partial L/\partial a = \frac{\partial out}{\partial a}\cdot dout$. The demo after the
# exercises plugs your rules into the engine (the `+=` stays in the engine) and trains a
# network with them. All arguments are Python floats.
#
# | operation | local derivative | rule (what you return) |
# |---|---|---|
# | $out = a + b$ | $1, 1$ | `(dout, dout)` (given: gradients pass through a sum unchanged) |
# | $out = a\,b$ | $b,\ a$ | `(b * dout, a * dout)` |
# | $out = a^k$, $k$ constant | $k a^{k-1}$ | `k * a**(k-1) * dout` |
# | $out = \tanh a$ | $1 - \tanh^2 a = 1 - out^2$ | from the **output** |
# | $out = \sigma(a)$ | $\sigma(a)(1 - \sigma(a)) = out(1 - out)$ | from the **output** |
# | $out = \max(0, a)$ | $1$ if $a > 0$ else $0$ | from the **input**; 0 at $a = 0$ (as torch) |
#
# Subtraction, division and negation need no rule of their own:
# $a - b = a + (-1)\,b$ and $a / b = a\, b^{-1}$.

# %% [markdown]
# ### Exercise 6.1 — `mul_backward`
# Return `(da, db)` for $out = a\,b$.

# %% nbgrader={"grade_id": "mul_backward", "solution": true}
def mul_backward(a, b, dout):
    """out = a * b: return (dL/da, dL/db) given dout = dL/dout."""
    ### BEGIN SOLUTION
    return b * dout, a * dout
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_mul_backward", "grade": true, "points": 1}
check_close(answer(mul_backward, 3.0, -2.0, 0.5), [-1.0, 1.5],
            "mul_backward(a=3, b=-2, dout=0.5) -> (da, db)",
            mistakes={"da and db are swapped: d(ab)/da = b": [1.5, -1.0],
                      "forgot to multiply by dout": [-2.0, 3.0]})

# %% nbgrader={"grade_id": "test_mul_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(461)
for _a, _b, _g in _rng.normal(scale=3, size=(10, 3)).tolist() + [[0.0, 2.0, 1.0]]:
    _A, _B = _bp.Value(_a), _bp.Value(_b)
    _out = _A * _B
    _out.grad = _g
    _bp.mul_backward(_out)
    check_close(answer(mul_backward, _a, _b, _g), [_A.grad, _B.grad],
                f"mul_backward(a={_a:.4g}, b={_b:.4g}, dout={_g:.4g})",
                mistakes={"da and db are swapped: d(ab)/da = b": [_a * _g, _b * _g],
                          "forgot to multiply by dout": [_b, _a]})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6.2 — `pow_backward`
# Return `da` for $out = a^k$ with a constant exponent `k` (int or float; tests use
# $a \ne 0$, and $a > 0$ when $k$ is not an integer).

# %% nbgrader={"grade_id": "pow_backward", "solution": true}
def pow_backward(a, k, dout):
    """out = a ** k (k constant): return dL/da = k * a**(k-1) * dout."""
    ### BEGIN SOLUTION
    return k * a ** (k - 1) * dout
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_pow_backward", "grade": true, "points": 1}
check_close(answer(pow_backward, 3.0, 2, 1.0), 6.0, "pow_backward(a=3, k=2, dout=1)",
            mistakes={"the exponent drops by one: k * a**(k-1), not k * a**k": 18.0,
                      "forgot the factor k": 3.0})
check_close(answer(pow_backward, 2.0, -1, 2.0), -0.5, "pow_backward(a=2, k=-1, dout=2) (1/a)",
            mistakes={"forgot to multiply by dout": -0.25})

# %% nbgrader={"grade_id": "test_pow_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(462)
for _k in (2, 3, -1, -2, 0.5, -0.5, 1.7, 1, 0):
    for _ in range(2):
        _a = float(_rng.uniform(0.2, 3.0) * (1 if not float(_k).is_integer() else
                                             _rng.choice([-1, 1])))
        _g = float(_rng.normal())
        _A = _bp.Value(_a)
        _out = _A ** _k
        _out.grad = _g
        _bp.pow_backward(_out)
        check_close(answer(pow_backward, _a, _k, _g), _A.grad,
                    f"pow_backward(a={_a:.4g}, k={_k}, dout={_g:.4g})",
                    mistakes={"the exponent drops by one: k * a**(k-1), not k * a**k":
                                  _k * _a ** _k * _g,
                              "forgot the factor k": _a ** (_k - 1) * _g,
                              "forgot to multiply by dout": _k * _a ** (_k - 1)})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6.3 — `tanh_backward`
# Return `da` for $out = \tanh a$, given the **output** `out` $= \tanh a$ (that is what
# the engine keeps) and `dout`.

# %% nbgrader={"grade_id": "tanh_backward", "solution": true}
def tanh_backward(out, dout):
    """out = tanh(a): return dL/da = (1 - out**2) * dout."""
    ### BEGIN SOLUTION
    return (1.0 - out * out) * dout
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_tanh_backward", "grade": true, "points": 1}
check_close(answer(tanh_backward, 0.5, 2.0), 1.5, "tanh_backward(out=0.5, dout=2)",
            mistakes={"out is already tanh(a): use 1 - out**2, not 1 - tanh(out)**2":
                          2 * (1 - math.tanh(0.5) ** 2),
                      "missing the square: 1 - out**2": 1.0,
                      "forgot to multiply by dout": 0.75})

# %% nbgrader={"grade_id": "test_tanh_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(463)
for _a, _g in _rng.normal(scale=2, size=(10, 2)).tolist() + [[0.0, 1.5], [30.0, 1.0]]:
    _A = _bp.Value(_a)
    _out = _A.tanh()
    _out.grad = _g
    _bp.tanh_backward(_out)
    _o = _out.data
    check_close(answer(tanh_backward, _o, _g), _A.grad,
                f"tanh_backward(out={_o:.4g}, dout={_g:.4g})",
                mistakes={"tanh applied twice: out is already tanh(a), so use 1 - out**2":
                              (1 - math.tanh(_o) ** 2) * _g,
                          "missing the square: 1 - out**2": (1 - _o) * _g,
                          "forgot to multiply by dout": 1 - _o ** 2})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6.4 — `sigmoid_backward`
# Return `da` for $out = \sigma(a)$, given the **output** `out` and `dout`. (This is the
# slip from section 3: `out` is already the sigmoid.)

# %% nbgrader={"grade_id": "sigmoid_backward", "solution": true}
def sigmoid_backward(out, dout):
    """out = sigmoid(a): return dL/da = out * (1 - out) * dout."""
    ### BEGIN SOLUTION
    return out * (1.0 - out) * dout
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_sigmoid_backward", "grade": true, "points": 1}
_s = 1 / (1 + math.exp(-0.8))
check_close(answer(sigmoid_backward, 0.8, 1.0), 0.16, "sigmoid_backward(out=0.8, dout=1)",
            mistakes={"the sigmoid is applied twice: out is already sigmoid(a), so the "
                      "derivative is out * (1 - out)": _s * (1 - _s)})
check_close(answer(sigmoid_backward, 0.5, -2.0), -0.5, "sigmoid_backward(out=0.5, dout=-2)",
            mistakes={"forgot to multiply by dout": 0.25})

# %% nbgrader={"grade_id": "test_sigmoid_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(464)
for _a, _g in _rng.normal(scale=3, size=(10, 2)).tolist() + [[800.0, 1.0], [-800.0, 2.0]]:
    _A = _bp.Value(_a)
    _out = _A.sigmoid()
    _out.grad = _g
    _bp.sigmoid_backward(_out)
    _o = _out.data
    _s = 1 / (1 + math.exp(-_o))
    check_close(answer(sigmoid_backward, _o, _g), _A.grad,
                f"sigmoid_backward(out={_o:.4g}, dout={_g:.4g})",
                mistakes={"sigmoid applied twice: out is already sigmoid(a), so its "
                          "derivative is out * (1 - out)": _s * (1 - _s) * _g,
                          "forgot to multiply by dout": _o * (1 - _o),
                          "out * (1 + out) instead of out * (1 - out)": _o * (1 + _o) * _g})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6.5 — `relu_backward`
# Return `da` for $out = \max(0, a)$, given the **input** `a` and `dout`. Use 0 as the
# derivative at $a = 0$.

# %% nbgrader={"grade_id": "relu_backward", "solution": true}
def relu_backward(a, dout):
    """out = max(0, a): return dL/da = dout if a > 0 else 0."""
    ### BEGIN SOLUTION
    return dout if a > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_relu_backward", "grade": true, "points": 1}
check_close([answer(relu_backward, _a, 2.0) for _a in (1.5, -0.5)], [2.0, 0.0],
            "relu_backward(a, dout=2) for a = 1.5, -0.5",
            mistakes={"returned the forward value max(0, a) instead of the gradient": [1.5, 0.0],
                      "forgot to multiply by dout": [1.0, 0.0]})
check_close(answer(relu_backward, 0.0, 2.0), 0.0, "relu_backward(a=0, dout=2)",
            mistakes={"the derivative at a = 0 must be 0 (use a > 0, not a >= 0)": 2.0})

# %% nbgrader={"grade_id": "test_relu_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp

_rng = np.random.default_rng(465)
for _a, _g in _rng.normal(scale=2, size=(10, 2)).tolist() + [[0.0, 1.0], [0.0, -3.0],
                                                             [1e-300, 2.0], [-1e-300, 2.0]]:
    _A = _bp.Value(_a)
    _out = _A.relu()
    _out.grad = _g
    _bp.relu_backward(_out)
    check_close(answer(relu_backward, _a, _g), _A.grad,
                f"relu_backward(a={_a:.4g}, dout={_g:.4g})",
                mistakes={"the derivative at a = 0 must be 0 (use a > 0, not a >= 0)": _g,
                          "forgot to multiply by dout": float(_a > 0),
                          "returned the forward value max(0, a) instead of the gradient":
                              max(0.0, _a)})
### END HIDDEN TESTS

# %% [markdown]
# ### Your rules inside the engine
#
# The demo builds a graph with the reference engine and then points every node of the
# graph at **your** rules (for `*`, `**`, `tanh`, `sigmoid`, `relu`; `+`, `exp` and
# `log` keep the reference rules). The adapters are where the chain rule's sum over
# paths lives: `a.grad += ...`.
#
# > **Pitfall (assigning instead of accumulating).** Replace `+=` by `=` in an adapter
# > and any value used twice (`x * x`, a weight shared by several examples of a batch)
# > keeps only the contribution of the last path. The last lines of the demo show it
# > on $y = x \cdot x$.

# %% tags=["demo"]
def _use_mul(out):
    a, b = out._prev
    da, db = mul_backward(a.data, b.data, out.grad)
    a.grad += da
    b.grad += db


def _use_pow(out):
    (a,) = out._prev
    a.grad += pow_backward(a.data, out._ctx, out.grad)


def _use_tanh(out):
    (a,) = out._prev
    a.grad += tanh_backward(out.data, out.grad)


def _use_sigmoid(out):
    (a,) = out._prev
    a.grad += sigmoid_backward(out.data, out.grad)


def _use_relu(out):
    (a,) = out._prev
    a.grad += relu_backward(a.data, out.grad)


YOUR_RULES = {"*": _use_mul, "tanh": _use_tanh, "sigmoid": _use_sigmoid, "relu": _use_relu}


def use_your_rules(root):
    """Point every node of root's graph at your backward rules."""
    seen, stack = {id(root): root}, [root]
    while stack:
        node = stack.pop()
        if node._op.startswith("**"):
            node._backward = _use_pow
        elif node._op in YOUR_RULES:
            node._backward = YOUR_RULES[node._op]
        for child in node._prev:
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return root


def rules_written():
    try:
        mul_backward(1.0, 1.0, 1.0), pow_backward(1.0, 2, 1.0), tanh_backward(0.0, 1.0)
        sigmoid_backward(0.5, 1.0), relu_backward(1.0, 1.0)
        return True
    except NotImplementedError:
        print("(write the five rules of section 6 first; this demo uses them)")
        return False


def expression(a, b, c):
    return ((a * b).tanh() + (b ** 2).sigmoid() * c + (a - c).relu() / b) * a


if rules_written():
    for rules in ("reference", "yours"):
        a, b, c = ref.Value(0.7), ref.Value(-1.3), ref.Value(0.4)
        e = expression(a, b, c)
        if rules == "yours":
            use_your_rules(e)
        e.backward()
        print(f"{rules:9s} rules: de/da = {a.grad:+.10f}, de/db = {b.grad:+.10f}, "
              f"de/dc = {c.grad:+.10f}")

    x = ref.Value(3.0)
    y = x * x
    y._backward = lambda out: setattr(out._prev[0], "grad", out._prev[1].data * out.grad)
    y.backward()
    print(f"y = x*x at x = 3 with '=' instead of '+=': dy/dx = {x.grad} (should be 2x = 6)")

# %% [markdown]
# ### Training an MLP on two moons with your rules
#
# `dlnotes.backprop.MLP(2, [16, 16, 1])` would be micrograd's network; we use
# `MLP(2, [8, 8, 1])` (105 parameters, ReLU hidden layers, a linear output score $s$)
# to keep the pure-Python engine fast. The data are 100 points of scikit-learn's
# `make_moons` with labels $y \in \{-1, +1\}$. The loss is micrograd's: the mean hinge
# loss $\frac1N\sum_i \max(0,\ 1 - y_i s_i)$ plus a small L2 penalty
# $10^{-4}\sum_j w_j^2$. Every step is the training loop of section 2: forward (a graph
# of about 20,000 nodes), loss, backward **with your rules**, update with a learning rate
# decaying from 1.0 to 0.1. It takes a few seconds; then the decision boundary
# (决策边界) of the trained network is drawn over the data.

# %% tags=["demo"]
import os

from tqdm.auto import tqdm

from dlnotes.data import make_moons

X_moons, y01 = make_moons(100, noise=0.1, seed=0)
y_pm = 2.0 * y01 - 1.0
model = ref.MLP(2, [8, 8, 1], activation="relu", seed=2)
n_steps = 10 if os.environ.get("CI") else 50
if rules_written():
    bar = tqdm(range(n_steps), desc="training with your rules")
    for step in bar:
        scores = [model([float(u), float(v)]) for u, v in X_moons]                 # forward
        hinge = [(1 + -yi * si).relu() for yi, si in zip(y_pm, scores, strict=True)]
        data_loss = sum(hinge) * (1 / len(hinge))
        loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())           # loss
        model.zero_grad()
        use_your_rules(loss).backward()                                            # backward
        lr = 1.0 - 0.9 * step / n_steps
        for p in model.parameters():                                               # update
            p.data -= lr * p.grad
        acc = np.mean([(si.data > 0) == (yi > 0) for si, yi in zip(scores, y_pm, strict=True)])
        bar.set_postfix(loss=f"{loss.data:.3f}", accuracy=f"{acc:.0%}")
    print(f"after {n_steps} steps: loss {loss.data:.3f}, training accuracy {acc:.0%}")


def mlp_scores_numpy(model, points):
    """The trained Value MLP, evaluated on many points at once with numpy."""
    h = points
    for i, layer in enumerate(model.layers):
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons])
        h = h @ W.T + b
        if i < len(model.layers) - 1:
            h = np.maximum(h, 0)
    return h[:, 0]


g1, g2 = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.1, 1.6, 160))
zz = mlp_scores_numpy(model, np.c_[g1.ravel(), g2.ravel()]).reshape(g1.shape)
fig, ax = plt.subplots(figsize=(6, 4))
ax.contourf(g1, g2, zz > 0, alpha=0.25, cmap="coolwarm")
ax.contour(g1, g2, zz, levels=[0], colors="k", linewidths=1)
ax.scatter(X_moons[:, 0], X_moons[:, 1], c=y01, cmap="coolwarm", edgecolors="k", s=25)
ax.set(title="Decision boundary of the MLP trained with your backward rules",
       xlabel="$x_1$", ylabel="$x_2$")
plt.show()

# %% [markdown]
# ## 7. The backward pass in matrix form
#
# A scalar engine is clear but slow: every multiplication is a Python object. Real
# layers work on whole batches with matrix products, and their backward passes are
# matrix products too. For a batch $X$ of shape $(N, D)$, integer labels $y$, and the
# network
#
# $$Z_1 = X W_1^{\top} + b_1,\quad H = \tanh(Z_1),\quad S = H W_2^{\top} + b_2,\quad
#   L = \frac1N\sum_{i=1}^{N} -\log \mathrm{softmax}(S_i)_{y_i}$$
#
# ($W_1$: $(H, D)$, $W_2$: $(C, H)$, the `torch.nn.Linear` layout), the backward pass is
#
# $$\begin{aligned}
# dS &= \tfrac1N\bigl(\mathrm{softmax}(S) - \mathrm{onehot}(y)\bigr) && (N, C)\\
# dW_2 &= dS^{\top} H, \quad db_2 = \textstyle\sum_i dS_i && (C, H),\ (C,)\\
# dH &= dS\, W_2 && (N, H)\\
# dZ_1 &= dH \odot (1 - H^2) && (N, H)\\
# dW_1 &= dZ_1^{\top} X, \quad db_1 = \textstyle\sum_i dZ_{1,i} && (H, D),\ (H,)
# \end{aligned}$$
#
# A useful habit: **the gradient of a parameter has the parameter's shape**, and the
# shapes leave only one way to multiply the factors. The $\frac1N$ of the mean loss
# enters once, in $dS$; the bias gradients then **sum** over the batch (a bias is used
# by every example: fan-out again).

# %% [markdown]
# ### Exercise 7.1 — `mlp_backward`
# Return `(loss, dW1, db1, dW2, db2)` for the network above, the loss a Python float
# and each gradient with its parameter's shape. Compute the softmax stably (subtract
# the row maximum). `y` holds class indices in $[0, C)$.

# %% nbgrader={"grade_id": "mlp_backward", "solution": true}
def mlp_backward(X, y, W1, b1, W2, b2):
    """Mean softmax cross-entropy of a tanh MLP and its gradients (loss, dW1, db1, dW2, db2)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=int)
    n = X.shape[0]
    H = np.tanh(X @ W1.T + b1)
    S = H @ W2.T + b2
    S = S - S.max(axis=1, keepdims=True)
    log_p = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    loss = float(-log_p[np.arange(n), y].mean())
    dS = np.exp(log_p)
    dS[np.arange(n), y] -= 1.0
    dS /= n
    dZ1 = (dS @ W2) * (1.0 - H ** 2)
    return loss, dZ1.T @ X, dZ1.sum(axis=0), dS.T @ H, dS.sum(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_mlp_backward", "grade": true, "points": 1}
_X = np.array([[1.0, -2.0], [0.5, 0.0], [-1.0, 1.5]])
_y = np.array([0, 2, 1])
_W1 = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2]])
_b1 = np.array([0.0, 0.1, -0.1])
_W2 = np.array([[0.2, -0.3, 0.5], [0.1, 0.4, -0.2], [-0.3, 0.2, 0.1]])
_b2 = np.array([0.0, 0.05, -0.05])
_got = answer(mlp_backward, _X, _y, _W1, _b1, _W2, _b2)
check_equal(len(_got), 5, "number of values returned (loss, dW1, db1, dW2, db2)")
check_close(_got[0], 1.1571217503133444, "the loss on a 3-example batch")
check_close(_got[3], [[-0.142705675383011, 0.15005514481216342, 0.21032794525848703],
                      [0.15848065123190913, -0.10615114032268663, -0.2914427836023604],
                      [-0.015774975848898153, -0.04390400448947679, 0.08111483834387342]],
            "dW2 on a 3-example batch",
            mistakes={"the gradient of the mean loss carries 1/N": np.array(
                [[-0.142705675383011, 0.15005514481216342, 0.21032794525848703],
                 [0.15848065123190913, -0.10615114032268663, -0.2914427836023604],
                 [-0.015774975848898153, -0.04390400448947679, 0.08111483834387342]]) * 3})
check_close(_got[4], [-0.029206736722719256, 0.04678656451143093, -0.0175798277887117],
            "db2 on a 3-example batch")
check_close(_got[1], [[0.035482847715548535, 0.04442024045650522],
                      [0.19999873611541963, -0.3721394666877723],
                      [-0.13036858428118403, 0.21920641556145803]], "dW1 on a 3-example batch")
check_close(_got[2], [0.021719220280404475, 0.019116380155835958, 0.010569136319633236],
            "db1 on a 3-example batch")

# %% nbgrader={"grade_id": "test_mlp_backward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import activations as _act
from dlnotes import backprop as _bp
from dlnotes import losses as _losses


def _mlp_ref(X, y, W1, b1, W2, b2, kind=None):
    _H = _act.tanh(X @ W1.T + b1)
    _S = _H @ W2.T + b2
    _dS = _losses.cross_entropy_grad(_S, y)
    if kind == "sum":
        _dS = _dS * len(y)
    _local = {"nolocal": 1.0, "noSquare": 1.0 - _H}.get(kind, 1.0 - _H ** 2)
    _dZ1 = (_dS @ W2) * _local
    return [_losses.cross_entropy(_S, y), _dZ1.T @ X, _dZ1.sum(0), _dS.T @ _H, _dS.sum(0)]


_expl = {"sum": "the gradient of the mean loss carries 1/N",
         "nolocal": "the tanh layer's local derivative (1 - H**2) is missing",
         "noSquare": "tanh' is 1 - H**2, not 1 - H"}
_names = ("loss", "dW1", "db1", "dW2", "db2")
_rng = np.random.default_rng(407)
for _N, _D, _Hn, _C in ((5, 3, 4, 3), (1, 2, 3, 2), (8, 4, 6, 5)):
    _X = _rng.normal(size=(_N, _D))
    _y = _rng.integers(0, _C, size=_N)
    _P = [_rng.normal(size=(_Hn, _D)), _rng.normal(size=_Hn), _rng.normal(size=(_C, _Hn)),
          _rng.normal(size=_C)]
    _got = answer(mlp_backward, _X, _y, *_P)
    check_equal(len(_got), 5, "how many values mlp_backward returned (loss, dW1, db1, dW2, db2)")
    _exp = _mlp_ref(_X, _y, *_P)
    _vars = {k: _mlp_ref(_X, _y, *_P, kind=k) for k in _expl}
    for _i in (0, 3, 4, 1, 2):
        check_close(_got[_i], _exp[_i], f"{_names[_i]} for N={_N}, D={_D}, H={_Hn}, C={_C}",
                    mistakes={_expl[k]: _vars[k][_i] for k in _expl})
    # the same, phrased as a gradient check against central differences
    for _i in (1, 3):
        def _loss_of(_p, _i=_i, _X=_X, _y=_y, _P=_P):
            _Q = list(_P)
            _Q[_i - 1] = _p
            return _mlp_ref(_X, _y, *_Q)[0]
        _g = np.asarray(_got[_i], dtype=float)
        _r = _bp.gradcheck(_loss_of, lambda _p, _g=_g: _g, _P[_i - 1].copy(), tol=1e-6)
        if not _r.passed:
            raise AssertionError(f"{_names[_i]} fails the gradient check: {_r!r}")
# logits of about +-600: the loss must stay finite
_X = np.array([[1.0, 0.0]])
_P = [np.eye(2), np.zeros(2), np.array([[800.0, 0.0], [-800.0, 0.0]]), np.zeros(2)]
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    _got = answer(mlp_backward, _X, np.array([1]), *_P)
check_close(_got[0], _mlp_ref(_X, np.array([1]), *_P)[0],
            "the loss with logits of about +-600: subtract the row max before exp")
check_close(_got[3], _mlp_ref(_X, np.array([1]), *_P)[3], "dW2 with logits of about +-600")
### END HIDDEN TESTS

# %% [markdown]
# **Check it yourself.** The demo gradient-checks your `mlp_backward` with *your*
# `numerical_gradient` and `relative_error`, parameter by parameter, on a random batch.
# Every relative error should be below $10^{-7}$.

# %% tags=["demo"]
rng = np.random.default_rng(0)
Xb, yb = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
Pb = [rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(4, 5)), rng.normal(size=4)]
res = try_answer(mlp_backward, Xb, yb, *Pb)
if res is not None:
    for i, name in enumerate(("W1", "b1", "W2", "b2")):
        def loss_of(p, i=i):
            trial = list(Pb)
            trial[i] = p
            return mlp_backward(Xb, yb, *trial)[0]
        num = try_answer(numerical_gradient, loss_of, Pb[i])
        if num is not None:
            err = try_answer(relative_error, res[i + 1], num)
            print(f"d{name}: relative error {err:.2e}   (reference gradcheck: "
                  f"{ref.gradcheck(loss_of, lambda _p, i=i: res[i + 1], Pb[i]).max_rel_error:.2e})")

# %% [markdown]
# ## 8. Vanishing and exploding gradients
#
# Backpropagating through $L$ layers multiplies $L$ factors: for a layer
# $h_l = \phi(W_l h_{l-1})$ the gradient is multiplied by $W_l^{\top}$ and by
# $\phi'(z_l)$ at every layer. If these factors are typically smaller than 1, the
# gradient reaching the first layers shrinks geometrically: **vanishing gradients**
# (梯度消失). If they are larger than 1, it grows geometrically: **exploding
# gradients** (梯度爆炸). Chapter 2 showed the activation's part: $\sigma' \le \frac14$,
# so a deep stack of sigmoids vanishes whatever the weights. The weights' part is
# their scale: with $W_{ij} \sim \mathcal N(0, g^2/\text{width})$ each layer multiplies
# the gradient norm by roughly $g \cdot \text{rms}(\phi')$. He initialisation
# ($g = \sqrt 2$ for ReLU, whose $\phi'$ is 1 on half the units) keeps the product near
# 1; a larger gain explodes.
#
# Notes often make the point with $\partial E/\partial w_1 = \partial E/\partial\sigma
# \cdot \sigma(1 - \sigma)\cdot w_5 \cdot x_1$: one extra factor
# $\sigma' \le \frac14$ per layer. Remedies: ReLU-like activations, careful
# initialisation (Xavier/He), normalisation layers, residual connections (the gradient
# gets a path with factor 1), and gradient clipping against explosions.

# %% tags=["demo"]
from dlnotes import activations as act


def backward_norms(phi, dphi, gain, depth=40, width=64, seed=0):
    """Norm of dL/dh_l for every layer l of a random deep MLP (batch of 128)."""
    r = np.random.default_rng(seed)
    h = r.normal(size=(128, width))
    Ws, zs = [], []
    for _ in range(depth):
        W = r.normal(scale=gain / np.sqrt(width), size=(width, width))
        z = h @ W.T
        Ws.append(W)
        zs.append(z)
        h = phi(z)
    g = r.normal(size=h.shape)
    norms = []
    for W, z in zip(reversed(Ws), reversed(zs), strict=True):
        g = (g * dphi(z)) @ W
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])


fig, ax = plt.subplots(figsize=(6.5, 3.8))
for label, phi, dphi, gain in (("sigmoid, gain 1", act.sigmoid, act.sigmoid_grad, 1.0),
                               ("tanh, gain 1", act.tanh, act.tanh_grad, 1.0),
                               ("ReLU, He gain √2", act.relu, act.relu_grad, np.sqrt(2)),
                               ("ReLU, gain 2", act.relu, act.relu_grad, 2.0)):
    ax.semilogy(np.arange(1, 41), backward_norms(phi, dphi, gain), label=label)
ax.set(xlabel="layer (1 = first)", ylabel="‖∂L/∂h‖ (log scale)",
       title="Gradient norm reaching each layer of a 40-layer MLP")
ax.legend()
plt.show()

# %% [markdown]
# ## 9. Non-scalar outputs in torch: `y.sum().backward()` vs `y.backward(gradient)`
#
# `backward()` computes the gradient of a **scalar**. Called on a tensor `y` with several
# entries, torch refuses ("grad can be implicitly created only for scalar outputs"):
# the gradient of a vector is a Jacobian, and reverse mode never builds it. Instead it
# computes a **vector-Jacobian product** $v^{\top} J$ for a vector $v$ of `y`'s shape
# that you pass: `y.backward(gradient=v)`. That $v$ plays the role of the upstream
# gradient $\partial L/\partial y$ of a loss further down.
#
# - `y.sum().backward()` is `y.backward(torch.ones_like(y))`: $v = \mathbf 1$, i.e. the
#   loss is the sum of the entries.
# - `y.backward(v)` with another $v$ weights the entries: it is the gradient of
#   $\sum_i v_i y_i$.
#
# Gradients **accumulate** in `.grad` across calls (the same `+=` as in our engine):
# reset them (`x.grad = None` or `optimizer.zero_grad()`) before each step.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    xt = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    yt = xt ** 2
    try:
        yt.backward()
    except RuntimeError as err:
        print("y.backward() on a vector:", err)
    yt.sum().backward()
    print("y.sum().backward()          ->", xt.grad.cpu().numpy(), "(= 2x)")
    xt.grad = None
    (xt ** 2).backward(torch.ones(3, dtype=torch.float64, device=device))
    print("y.backward(ones)            ->", xt.grad.cpu().numpy())
    xt.grad = None
    (xt ** 2).backward(torch.tensor([1.0, 0.1, 0.01], dtype=torch.float64, device=device))
    print("y.backward([1, 0.1, 0.01])  ->", xt.grad.cpu().numpy(), "(= v * 2x)")
    (xt ** 2).sum().backward()
    print("once more without resetting ->", xt.grad.cpu().numpy(), "(accumulated)")
    with torch.no_grad():
        zt = xt ** 2
    print("under torch.no_grad(): requires_grad =", zt.requires_grad,
          "(no graph, no stored activations)")

# %% [markdown]
# ## Summary
# - Backpropagation is the chain rule on a computational graph, evaluated from the loss
#   backwards: each node multiplies the upstream gradient by its local derivative.
#   Where a value is used several times, the contributions **add up**.
# - Training loop: forward, loss, backward, update $\theta \leftarrow \theta -
#   \eta\,\partial L/\partial\theta$ (minus: descend). $\tfrac12(\hat y - y)^2$ is the half
#   squared error, not the MSE: the MSE's gradient is twice as large.
# - Sigmoid layers: $\delta = \frac{\partial E}{\partial out}\odot out\odot(1 - out)$.
#   Write every factor; never apply $\sigma$ to an output that already is one; the
#   hidden layer's $\delta$ comes back through $W^{\top}$.
# - Check gradients with central differences ($O(\varepsilon^2)$) and the relative
#   error: below $10^{-7}$ right, above $10^{-4}$ a bug.
# - Reverse mode gives the whole gradient of a scalar loss in one backward pass but
#   must store the forward activations: training needs more memory than inference.
# - Deep stacks multiply one factor per layer: gradients vanish or explode unless
#   activations and initialisation keep the factors near 1.
# - In torch, `backward()` needs a scalar; `y.backward(v)` computes $v^{\top}J$ and
#   `y.sum().backward()` is the case $v = \mathbf 1$.
