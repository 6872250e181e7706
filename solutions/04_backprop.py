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
# we need $\partial L/\partial w$ for **every** weight, millions of them, for about twice
# the cost of the forward pass (section 5 says why). **Backpropagation** (反向传播) is the
# algorithm that does it: the chain rule (链式法则) applied on a computational graph, from the loss
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
# 6. Your own reverse-mode autodiff engine, `Value`: local rules, topological order,
#    gradients that accumulate; then a small MLP made of your `Value`s learns two moons.
# 7. The backward pass of a 2-layer MLP in matrix form ($dW = X^{\top} dY$ derived index
#    by index; a gradient has its parameter's shape), checked with your gradient checker.
# 8. Vanishing and exploding gradients through depth.
# 9. torch autograd: `requires_grad=True`, the graph freed by `backward()`, `.grad`
#    that accumulates, `y.sum().backward()` vs `y.backward(gradient)`.
#
# **How to check your answers.** Each exercise is a function, a class or a variable with
# a stub that raises `NotImplementedError` (or is `None`). Replace the stub with your
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
# `dlnotes.backprop.Value`; in section 6 you build your own. Demo cells are not graded
# and are skipped when your notebook is graded.

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
# **Worked example (one weight).** Input $x = 2$, weight $W = 1$, bias (偏置) $b = 0$,
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
# > **Pitfall (the name of the loss).** Some notes call
# > $L = \tfrac12(\hat y - y)^2$ the "mean squared error (MSE)". The numbers above
# > ($\partial L/\partial W = 4$, $W \to 0.6$) are right for *this* loss, but it is the
# > **half squared error**, not the MSE. The MSE is the mean of the squares, with no
# > $\tfrac12$: $\frac1n\sum_i(\hat y_i - y_i)^2$, which is what `torch.nn.MSELoss`
# > computes. Its derivative keeps the factor 2 of the square. Mixing up the two
# > silently doubles (or halves) your effective learning rate.
#
# > **Pitfall (the direction of the step).** Some notes write the batch update as
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
# The worked example: x=2, W=1, b=0, y=0, lr=0.1 gives loss 2, dL/dW = 4, W -> 0.6.
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
# ### Question 2.2 — one step with the real MSE
# Take another example: $x = 3$, $W = 0.5$, $b = 1$, label $y = 1$, and the loss of
# `torch.nn.MSELoss`, $L = (\hat y - y)^2$ for this single example (the mean over one
# example is the example itself). What are $\partial L/\partial W$ and the new $W$ after
# one gradient-descent step with $\eta = 0.05$? Work it out by hand and write the
# numbers.

# %% nbgrader={"grade_id": "q_mse_step", "solution": true}
dL_dW_mse = None
W_new_mse = None
### BEGIN SOLUTION
dL_dW_mse = 9.0
W_new_mse = 0.05
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_mse_step", "grade": true, "points": 1}
assert dL_dW_mse is not None and W_new_mse is not None, "set dL_dW_mse and W_new_mse to numbers"
### BEGIN HIDDEN TESTS
check_close(dL_dW_mse, 9.0, "dL/dW with the MSE (no 1/2) at x=3, W=0.5, b=1, y=1",
            mistakes={"that is the gradient of the half squared error; without the 1/2 the "
                      "derivative of (y_hat - y)^2 keeps its factor 2": 4.5,
                      "dL/dW is missing the factor dz/dW = x": 3.0,
                      "the gradient has the wrong sign: dL/dy_hat = 2 (y_hat - y)": -9.0})
check_close(W_new_mse, 0.05, "W after one step with the MSE, lr = 0.05",
            mistakes={"that is the step of the half squared error; the MSE's gradient is "
                      "twice as large": 0.275,
                      "the update climbs: W - lr * dL/dW": 0.95})
### END HIDDEN TESTS

# %% [markdown]
# The demo runs the training loop for 30 steps on the worked example: four lines of code
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
# (Notes often call this "MSE" too; it is half the **sum** of squared errors over the
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
# > **Pitfall (the sigmoid).** Some notes write $\sigma(y') = \frac{1}{1-e^{-y'}}$. The
# > sign is wrong: that function is infinite at $y' = 0$ and negative for $y' < 0$. The
# > sigmoid is $\frac{1}{1+e^{-y'}}$.
#
# > **Pitfall (the sigmoid applied twice).** Some notes write
# > $\frac{\partial E}{\partial net_{o_1}} = (out_{o_1} - t_1)\,
# > \sigma(out_{o_1})\bigl(1 - \sigma(out_{o_1})\bigr)$. But $out_{o_1}$ **is already**
# > $\sigma(net_{o_1})$. The derivative of the sigmoid is
# > $\sigma'(net) = \sigma(net)(1 - \sigma(net)) = out\,(1 - out)$: either apply
# > $\sigma$ to $net$, or use $out$ directly, never $\sigma(out)$. With the slip
# > $\partial E/\partial w_5$ comes out as 0.09579 instead of 0.08217. The same slip
# > appears in the hidden layer, $\sigma(out_{h_1})(1 - \sigma(out_{h_1}))$.
#
# > **Pitfall (a dropped factor).** Some notes then write
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

# %% nbgrader={"grade_id": "test_sigmoid_net_backward_hidden", "grade": true, "points": 3}
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
# as defined above (with `tiny = np.finfo(float).tiny`), as a Python float. Two zeros
# give 0, not NaN.

# %% nbgrader={"grade_id": "relative_error", "solution": true}
def relative_error(a, b):
    """Largest entrywise relative error of two arrays of the same shape, as a float."""
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.maximum(np.abs(a) + np.abs(b), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b) / denom))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_relative_error", "grade": true, "points": 1}
check_close(answer(relative_error, [1.0, 2.0], [1.0, 1.0]), 1 / 3,
            "relative_error([1, 2], [1, 1])",
            mistakes={"the denominator is |a| + |b|, not max(|a|, |b|)": 0.5,
                      "the denominator is |a| + |b|, not |b| alone": 1.0,
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
                mistakes={"the denominator is |a| + |b|, not max(|a|, |b|)":
                              np.max(_r / np.maximum(np.abs(_a), np.abs(_b))),
                          "the denominator is |a| + |b|, not |b| alone": np.max(_r / np.abs(_b)),
                          "the denominator is |a| + |b|, not |a| alone": np.max(_r / np.abs(_a)),
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
# **Truncation against rounding, interactively.** The widget plots the error of both
# difference formulas against $\varepsilon$ for a function of your choice, in float64
# or float32. Right of the minimum the **truncation error** (截断误差) of the formula
# dominates:
# it falls like $\varepsilon^2$ for the central difference (a slope of 2 on the log-log
# plot) and like $\varepsilon$ for the forward one (slope 1). Left of it the **rounding
# error** (舍入误差) dominates: $f(x \pm \varepsilon)$ are stored with a relative error of about
# $u$ ($2.2\cdot10^{-16}$ in float64, $1.2\cdot10^{-7}$ in float32), and dividing their
# difference by $\varepsilon$ turns that into an error of about $u|f|/\varepsilon$
# (slope $-1$). The best $\varepsilon$ balances the two: about $u^{1/3}$ for the
# central difference, $u^{1/2}$ for the forward one. Switch to float32 to see why a
# gradient check in float32 can never get close to $10^{-7}$.

# %% tags=["demo"]
import ipywidgets as widgets

FUNCTIONS = {"sin(x)": (np.sin, np.cos), "exp(x)": (np.exp, np.exp),
             "x**3": (lambda v: v ** 3, lambda v: 3 * v ** 2),
             "tanh(x)": (np.tanh, lambda v: 1 - np.tanh(v) ** 2)}


def show_difference_errors(function="sin(x)", precision="float64", x=1.0):
    f, df = FUNCTIONS[function]
    dtype = np.float64 if precision == "float64" else np.float32
    u = float(np.finfo(dtype).eps)
    eps = np.logspace(-13 if dtype is np.float64 else -7, -0.5, 60)
    xs = dtype(x)
    exact = float(df(np.float64(x)))
    with np.errstate(all="ignore"):
        central = [abs(float((f(xs + dtype(e)) - f(xs - dtype(e))) / dtype(2 * e)) - exact)
                   for e in eps]
        forward = [abs(float((f(xs + dtype(e)) - f(xs)) / dtype(e)) - exact) for e in eps]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.loglog(eps, np.maximum(central, 1e-18), label="central (f(x+ε) - f(x-ε)) / 2ε")
    ax.loglog(eps, np.maximum(forward, 1e-18), label="forward (f(x+ε) - f(x)) / ε")
    for power, style in ((1 / 3, "C0:"), (1 / 2, "C1:")):
        ax.axvline(u ** power, color=style[:2], ls=":", lw=1)
    ax.set(xlabel="ε", ylabel=f"|error| of d/dx {function} at x = {x:g}",
           title=f"{precision}: dotted lines at u^(1/3) and u^(1/2), u = {u:.1e}",
           ylim=(1e-17 if dtype is np.float64 else 1e-9, 10))
    ax.legend(loc="lower left", fontsize=8)
    plt.show()


widgets.interact(show_difference_errors,
                 function=widgets.Dropdown(options=list(FUNCTIONS), value="sin(x)"),
                 precision=widgets.Dropdown(options=["float64", "float32"], value="float64"),
                 x=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0, step=0.1));

# %% [markdown]
# The demo then gradient-checks your `sigmoid_net_backward` with your
# `numerical_gradient` and `relative_error`.

# %% tags=["demo"]
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
#   gradient, whether there are 10 or $10^9$ parameters, for about **twice the cost of
#   the forward pass**. A linear layer shows why: its forward pass computes one matrix
#   product, $Z = X W^{\top}$; its backward pass computes two, one for the gradient of
#   its weights and one for the gradient of its input (section 7). A whole training
#   step (forward + backward) therefore costs about three forward passes.
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
    total = 0.0
    for i, xi in enumerate(xs):
        total = total + (xi * xi * (i + 1)).tanh() * xs[0]
    return total


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
# ## 6. Build the engine: a scalar `Value` with reverse-mode autodiff
#
# Time to open the engine the demos have used since section 1. You build it in the
# spirit of Karpathy's *micrograd*: a class `Value` that wraps one number and records
# how it was computed, so that it can later send gradients back.
#
# **What a node stores.** Each operation creates a new node holding
#
# - `data`: the number computed by the forward pass;
# - `grad`: $\partial\,\text{out}/\partial\,\text{node}$ for the output that
#   `backward()` is later called on; 0 until then;
# - its **inputs** (the nodes it was computed from), and
# - its **local backward rule**: given its own `grad` (the upstream gradient), add
#   $\text{grad}\cdot\partial\,\text{node}/\partial\,\text{input}$ to each input's `grad`.
#
# A leaf (`Value(2.0)`, a weight or an input) has no inputs and nothing to pass on.
#
# **The local derivatives.** Every rule multiplies the upstream gradient by the
# derivative of one small function, which you can derive from calculus alone:
#
# | operation | $\partial\,out / \partial\,\text{input}$ |
# |---|---|
# | $out = a + b$ | $1$ for $a$, $1$ for $b$ |
# | $out = a\,b$ | $b$ for $a$, $a$ for $b$ |
# | $out = a^k$, $k$ a constant number | $k\,a^{k-1}$ |
# | $out = e^a$ | $e^a$, which is $out$ itself |
# | $out = \log a$ | $1/a$ |
# | $out = \tanh a$ | $1 - \tanh^2 a$, i.e. from the output: $1 - out^2$ |
# | $out = \max(0, a)$ | $1$ if $a > 0$, else $0$ (0 at $a = 0$, as in torch) |
#
# Everything else is built from these, and then needs no rule of its own:
# $-a = a\cdot(-1)$, $a - b = a + (-b)$, $a / b = a\cdot b^{-1}$. Plain numbers mixed
# with nodes (`2 * x`, `x + 1`, `1 - x`) are wrapped into leaves. Python calls
# `x.__rmul__(2)` for `2 * x` when `int.__mul__` gives up, so define the **reflected**
# operators too (`__radd__`, `__rmul__`, `__rsub__`, `__rtruediv__`).
#
# > **Pitfall (the output or the input?).** The tanh rule is written with the
# > output, $1 - out^2$. Writing $1 - \tanh(out)^2$ applies tanh a second time: the
# > same slip as $\sigma(out)$ in section 3.
#
# **Why a topological order.** `backward()` on the output sets its `grad` to 1
# ($\partial\,out/\partial\,out$) and runs the local rules from the output back to the
# leaves. A node may run its rule only once its own `grad` is **complete**, that is
# after every node that *uses* it has added its share (fan-out, section 1). For
#
# $$a = 2x, \qquad out = a + a\cdot a,$$
#
# $a$ is used by the `+` and by the `*`. If $a$ passed its gradient on to $x$ right
# after the `+` had run, $x$ would get $2 \cdot 1$ instead of
# $2\,(1 + 2a)$. The fix is a **topological order** (拓扑排序) of the graph: a list of
# the nodes in which every node comes after all of its inputs. A depth-first search
# builds one: visit a node's inputs first, then append the node; a `set` of visited
# nodes makes sure that each node is listed once (a list would make the membership
# test slow on graphs of thousands of nodes). Running the rules in the **reverse** of
# that order guarantees that every user of a node has run before the node itself.
#
# **Why `+=`.** A rule adds to its inputs' `grad`, it never assigns: when a node is
# used twice (`x * x`, a weight shared by every example of a batch), both uses
# contribute, and the multivariable chain rule sums them.
#
# > **Pitfall (assigning instead of accumulating).** With `a.grad = b.data * out.grad`
# > in the rule of `*`, $y = x\cdot x$ at $x = 3$ gives $dy/dx = 3$: the second
# > contribution overwrites the first. The right answer is $2x = 6$.
#
# Like torch, your `Value` keeps adding to `grad` across calls of `backward()`:
# nothing resets it. A training loop sets the parameters' `grad` back to 0 before each
# backward pass (section 9 shows the same in torch).

# %% [markdown]
# ### Exercise 6.1 — `Value`
# Write the class. Its contract (the tests use nothing else):
#
# - `Value(data)` makes a leaf; `data` is stored as a float (ints are converted),
#   `grad` starts at `0.0`. Both are plain attributes that anyone may read and set.
# - `a + b`, `a * b`, `a ** k`, `a.exp()`, `a.log()`, `a.tanh()`, `a.relu()` each
#   return a **new** `Value`; the other operand may be a `Value` or a plain number, `k`
#   is a plain int or float (not a `Value`). `-a`, `a - b`, `a / b` and the reflected
#   forms `2 + a`, `2 * a`, `2 - a`, `2 / a` work as well.
# - `out.backward()` sets `out.grad = 1.0` and **adds** to the `grad` of every node `out`
#   depends on its $\partial\,out/\partial\,\text{node}$. It is called on a fresh output
#   each time; a leaf used by several outputs accumulates the gradients of all of them.
#
# How a node stores its inputs and its rule is up to you (a closure per node, as in
# micrograd, is the shortest way). Inputs are kept in the domain of each operation
# (positive numbers for `log`, no division by 0).

# %% nbgrader={"grade_id": "Value", "solution": true}
class Value:
    """A scalar node of a computational graph: `data`, `grad` and a way back to its inputs."""

    def __init__(self, data, _children=()):
        """A node holding `data` (as a float), `grad` = 0.0, and the nodes it was computed from."""
        ### BEGIN SOLUTION
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._backward = lambda: None      # a leaf passes nothing on
        ### END SOLUTION

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        """self + other (other: a Value or a number)."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__(self, other):
        """self * other (other: a Value or a number)."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __pow__(self, k):
        """self ** k for a constant int or float k."""
        ### BEGIN SOLUTION
        out = Value(self.data ** k, (self,))

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def exp(self):
        """e ** self."""
        ### BEGIN SOLUTION
        out = Value(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def log(self):
        """Natural log of self (self > 0)."""
        ### BEGIN SOLUTION
        out = Value(math.log(self.data), (self,))

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out
        ### END SOLUTION

    def tanh(self):
        """tanh(self)."""
        ### BEGIN SOLUTION
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def relu(self):
        """max(0, self); its derivative at 0 is 0."""
        ### BEGIN SOLUTION
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def _backward():
            self.grad += (out.grad if self.data > 0 else 0.0)
        out._backward = _backward
        return out
        ### END SOLUTION

    def __neg__(self):
        """-self."""
        ### BEGIN SOLUTION
        return self * -1.0
        ### END SOLUTION

    def __sub__(self, other):
        """self - other."""
        ### BEGIN SOLUTION
        return self + (-other)
        ### END SOLUTION

    def __truediv__(self, other):
        """self / other."""
        ### BEGIN SOLUTION
        return self * (other if isinstance(other, Value) else Value(other)) ** -1
        ### END SOLUTION

    def __radd__(self, other):
        """other + self, for a number other."""
        ### BEGIN SOLUTION
        return self + other
        ### END SOLUTION

    def __rmul__(self, other):
        """other * self, for a number other."""
        ### BEGIN SOLUTION
        return self * other
        ### END SOLUTION

    def __rsub__(self, other):
        """other - self, for a number other."""
        ### BEGIN SOLUTION
        return (-self) + other
        ### END SOLUTION

    def __rtruediv__(self, other):
        """other / self, for a number other."""
        ### BEGIN SOLUTION
        return self ** -1 * other
        ### END SOLUTION

    def backward(self):
        """Set self.grad = 1 and add d self / d node to the grad of every node self depends on."""
        ### BEGIN SOLUTION
        order, visited = [], set()

        def visit(node):          # depth-first: a node's inputs go into `order` before it
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        ### END SOLUTION


# %% nbgrader={"grade_id": "test_Value", "grade": true, "points": 2}
def _backprop_through(build, leaves, label):
    """out = build(*your Values); out.backward(); return [out.data, grad of each leaf]."""
    _case = "leaves " + ", ".join(f"{_v:g}" for _v in leaves)
    _vs = [answer(Value, _v, name="Value") for _v in leaves]
    _out = answer(build, *_vs, name=label, case=_case)
    answer(_out.backward, name=f"backward() of {label}", case=_case)
    return [_out.data] + [_v.grad for _v in _vs]


def _central(f, leaves, h=1e-6):
    """[f(leaves), df/dleaf by central differences], on plain floats."""
    _g = []
    for _i in range(len(leaves)):
        _up, _down = list(leaves), list(leaves)
        _up[_i] += h
        _down[_i] -= h
        _g.append((f(*_up) - f(*_down)) / (2 * h))
    return [f(*leaves)] + _g


_ADD_UP = ("the gradients did not add up: a rule assigned (=) where it must add (+=), so "
           "x, used twice, kept only one contribution")
_SEED = "backward() must start from out.grad = 1 (d out / d out)"
check_close(_backprop_through(lambda x: x * x, [3.0], "x * x"), [9.0, 6.0],
            "[out.data, x.grad] for out = x * x at x = 3",
            mistakes={_ADD_UP: [9.0, 3.0], _SEED: [9.0, 0.0]})
check_close(_backprop_through(lambda x: x + x, [1.5], "x + x"), [3.0, 2.0],
            "[out.data, x.grad] for out = x + x at x = 1.5", mistakes={_ADD_UP: [3.0, 1.0]})
check_close(_backprop_through(lambda x: x * 2.0 + 1.0, [3.0],
                              "x * 2.0 + 1.0 (a plain number must become a Value leaf)"),
            [7.0, 2.0], "[out.data, x.grad] for out = x * 2.0 + 1.0 at x = 3")
# the worked example of section 1: f = (x*y + z)**2 at (-2, 5, -4)
check_close(_backprop_through(lambda x, y, z: (x * y + z) ** 2, [-2.0, 5.0, -4.0],
                              "(x * y + z) ** 2"),
            _central(lambda x, y, z: (x * y + z) ** 2, [-2.0, 5.0, -4.0]),
            "[f, df/dx, df/dy, df/dz] for f = (x*y + z)**2 at (-2, 5, -4)", rtol=1e-6, atol=1e-6,
            mistakes={"the power rule lowers the exponent: d a**k / da = k * a**(k-1)":
                          [196.0, 10 * 196.0, -4 * 196.0, 2 * 196.0]})
_t = math.tanh(0.5)
for _name, _build, _float, _x, _wrong in (
        ("x.tanh()", lambda x: x.tanh(), math.tanh, 0.5,
         {"out is already tanh(x): the local derivative is 1 - out**2, not "
          "1 - tanh(out)**2": [_t, 1 - math.tanh(_t) ** 2]}),
        ("x.exp()", lambda x: x.exp(), math.exp, 0.3, {}),
        ("x.log()", lambda x: x.log(), math.log, 2.0, {}),
        ("x.relu()", lambda x: x.relu(), lambda v: max(v, 0.0), 2.0, {}),
        ("x.relu()", lambda x: x.relu(), lambda v: max(v, 0.0), -1.0, {}),
        ("x ** -0.5", lambda x: x ** -0.5, lambda v: v ** -0.5, 4.0, {}),
        ("2 - x / 4 + 3 * x - (-x) * 2 + 1 / x", lambda x: 2 - x / 4 + 3 * x - (-x) * 2 + 1 / x,
         lambda v: 2 - v / 4 + 3 * v - (-v) * 2 + 1 / v, 1.5, {}),
        ("1 + x - 3", lambda x: 1 + x - 3, lambda v: 1 + v - 3, 0.25, {})):
    check_close(_backprop_through(_build, [_x], _name), _central(_float, [_x]),
                f"[out.data, x.grad] for out = {_name} at x = {_x:g}", rtol=1e-6, atol=1e-8,
                mistakes=_wrong)
check_close(_backprop_through(lambda x: x.relu(), [0.0], "x.relu()"), [0.0, 0.0],
            "[out.data, x.grad] for out = x.relu() at x = 0",
            mistakes={"relu's derivative at 0 is 0 here (as in torch): test x > 0, not x >= 0":
                          [0.0, 1.0]})
# a = 2x is used twice; it may pass its gradient on to x only once both uses have added theirs
check_close(_backprop_through(lambda x: (lambda a: a + a * a)(x * 2.0), [1.5],
                              "a + a * a with a = x * 2"), [12.0, 14.0],
            "[out.data, x.grad] for a = 2x, out = a + a*a at x = 1.5",
            mistakes={"a passed its gradient on before a * a had added its share: run the "
                      "rules in reverse topological order": [12.0, 2.0],
                      "a passed its gradient on more than once: list each node once in the "
                      "topological order (keep a set of visited nodes)": [12.0, 30.0]})


# %% nbgrader={"grade_id": "test_Value_hidden", "grade": true, "points": 5}
### BEGIN HIDDEN TESTS
import torch as _torch


def _leaves_and_grads(build, leaves, label):
    """Your Value and torch autograd (float64) on the same graph: ([data, grads], [same])."""
    _where = "leaves " + ", ".join(f"{_v:.4g}" for _v in leaves)
    _nodes = [answer(Value, float(_v), name="Value") for _v in leaves]
    _root = answer(build, *_nodes, name=label, case=_where)
    answer(_root.backward, name=f"backward() of {label}", case=_where)
    _ts = [_torch.tensor(_v, dtype=_torch.float64, requires_grad=True) for _v in leaves]
    _out_t = build(*_ts)
    _out_t.backward()
    _exp = [_out_t.item()] + [0.0 if _t.grad is None else _t.grad.item() for _t in _ts]
    return [_root.data] + [_v.grad for _v in _nodes], _exp


_OPS = {  # each works unchanged on Values and on torch scalars; nodes used twice first
    "a * a": (lambda a: a * a, 1), "a + a": (lambda a: a + a, 1), "a / a": (lambda a: a / a, 1),
    "a + b": (lambda a, b: a + b, 2), "a * b": (lambda a, b: a * b, 2),
    "a - b": (lambda a, b: a - b, 2), "a / b": (lambda a, b: a / b, 2),
    "a ** 3": (lambda a: a ** 3, 1), "a ** 2.5": (lambda a: a ** 2.5, 1),
    "a ** -1": (lambda a: a ** -1, 1), "a ** 0": (lambda a: a ** 0 + a, 1),
    "a.exp()": (lambda a: a.exp(), 1), "a.log()": (lambda a: a.log(), 1),
    "a.tanh()": (lambda a: a.tanh(), 1), "a.relu()": (lambda a: a.relu(), 1),
    "-a": (lambda a: -a, 1), "2.5 + a": (lambda a: 2.5 + a, 1), "2.5 * a": (lambda a: 2.5 * a, 1),
    "2.5 - a": (lambda a: 2.5 - a, 1), "2.5 / a": (lambda a: 2.5 / a, 1),
    "a + 1.5": (lambda a: a + 1.5, 1), "a * 1.5": (lambda a: a * 1.5, 1),
    "a - 1.5": (lambda a: a - 1.5, 1), "a / 1.5": (lambda a: a / 1.5, 1),
}
_POSITIVE = ("a ** 2.5", "a.log()")
_rng = np.random.default_rng(461)
for _name, (_build, _n) in _OPS.items():
    for _ in range(3):
        _lv = _rng.uniform(0.2, 2.5, size=_n) * (1 if _name in _POSITIVE else
                                                 _rng.choice([-1, 1], size=_n))
        _got, _exp = _leaves_and_grads(_build, [float(_v) for _v in _lv], _name)
        _wrong = {}
        if _name == "a.tanh()":
            _wrong["out is already tanh(a): its derivative is 1 - out**2, not 1 - tanh(out)**2"] = \
                [_exp[0], 1 - math.tanh(_exp[0]) ** 2]
        if _name.startswith("a **") and _name != "a ** 0":
            _k = float(_name.split("**")[1])
            _wrong["the exponent drops by one: k * a**(k-1), not k * a**k"] = \
                [_exp[0], _k * _lv[0] ** _k]
        if _name in ("a * a", "a + a"):
            _wrong["a rule assigned (=) where it must add (+=): a used twice keeps one "
                   "contribution"] = [_exp[0], _exp[1] / 2]
        check_close(_got, _exp, f"[out.data, grads] of {_name} at "
                    + ", ".join(f"{_v:.4g}" for _v in _lv) + " (torch autograd as reference)",
                    rtol=1e-6, atol=1e-9, mistakes=_wrong)
# relu at 0 and an int leaf
_got, _exp = _leaves_and_grads(lambda a: a.relu() * 3.0, [0.0], "a.relu() * 3")
check_close(_got, [0.0, 0.0], "a.relu() * 3 at a = 0",
            mistakes={"relu's derivative at 0 is 0 (as in torch): test a > 0, not a >= 0":
                          [0.0, 3.0]})
_vi = answer(Value, 2, name="Value")
check_close(_vi.data, 2.0, "Value(2).data (an int leaf)")
check_close((_vi ** 3).data, 8.0, "(Value(2) ** 3).data")

# gradients accumulate across backward() calls on fresh outputs, as in torch
_x = answer(Value, 2.0, name="Value")
answer((_x * 3.0).backward, name="backward() of x * 3")
answer((_x * _x).backward, name="backward() of x * x")
check_close(_x.grad, 3.0 + 4.0, "x.grad after (x * 3).backward() and then (x * x).backward() "
            "at x = 2 (torch adds the two: 3 + 4)",
            mistakes={"backward() reset the grads of the leaves: gradients accumulate across "
                      "calls, as in torch": 4.0})

# random expression graphs: nodes used many times, fan-out everywhere
from dlnotes import backprop as _bp

_rng = np.random.default_rng(462)
for _g in range(10):
    _nl, _no = int(_rng.integers(1, 5)), int(_rng.integers(3, 20))
    _lv = [float(_v) for _v in _rng.uniform(-2, 2, size=_nl)]
    _got, _exp = _leaves_and_grads(_bp.random_expression(_rng, _nl, _no), _lv,
                                   f"random graph {_g} ({_nl} leaves, {_no} operations)")
    check_close(_got, _exp, f"[out.data, grads] of random expression graph {_g} with {_nl} "
                f"leaves and {_no} operations, nodes reused (torch autograd as reference)",
                rtol=1e-6, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Your engine at work.** The demo runs your `Value` on the worked example of section 1
# and on the expression with a node used twice, next to the reference engine. (If your
# `Value` is not written yet, the demo says so and uses the reference.)

# %% tags=["demo"]
from dlnotes import mine

own = mine.own(globals(), "04_backprop", ["Value"])
for engine, V in (("yours", own.Value), ("reference", ref.Value)):
    x, y, z = V(-2.0), V(5.0), V(-4.0)
    f = (x * y + z) ** 2
    f.backward()
    a = V(1.5)
    shared = a * 2.0
    out = shared + shared * shared
    out.backward()
    print(f"{engine:9s}: f = {f.data:g}, df/dx = {x.grad:g}, df/dy = {y.grad:g}, "
          f"df/dz = {z.grad:g};  a + a*a with a = 2x at x = 1.5: dout/dx = {a.grad:g}")

# %% [markdown]
# ### Exercise 6.2 — training on two moons with your engine
#
# Now a network made of your `Value`s learns a non-linear boundary. The data: $N$
# points $x_i \in \mathbb R^D$ (the demo uses $D = 2$, two interleaving half-moons) with
# labels $y_i \in \{0, 1\}$, mapped to $t_i = 2y_i - 1 \in \{-1, +1\}$.
#
# **The network** has one hidden layer of 8 tanh units and one linear output, the
# score
#
# $$s(x) = \sum_{j=1}^{8} w_{2,j}\,\tanh\Bigl(\sum_{d=1}^{D} W_{1,jd}\,x_d + b_{1,j}\Bigr) + b_2 ,$$
#
# and predicts class 1 where $s(x) > 0$. **Initialisation**, with
# `rng = np.random.default_rng(seed)`: first `W1 = rng.uniform(-1, 1, size=(8, D))`
# (row $j$ holds the weights into hidden unit $j$), then
# `w2 = rng.uniform(-1, 1, size=8)`; the biases $b_1$ (8 of them) and $b_2$ start at 0.
# Make every weight and bias a `Value`.
#
# **The loss** is the mean hinge loss of chapter 3 (micrograd's demo uses it too):
# $L = \frac1N\sum_i \max(0,\ 1 - t_i\,s(x_i))$. A point classified
# right with a margin $t_i s(x_i) \ge 1$ costs nothing; every other point pushes its
# score towards its label.
#
# **Each step** is the training loop of section 2, over the whole training set
# (full-batch gradient descent): build $L$ from all $N$ points, set every parameter's
# `grad` to 0, call `L.backward()`, then move every parameter by
# $p \leftarrow p - \eta\,\partial L/\partial p$ (change `p.data`: the parameters stay
# the same nodes, a new graph is built at the next step).
#
# > **Pitfall (forgetting to reset).** `backward()` *adds* to `grad`. Without the reset,
# > step $k$ moves the parameters by the sum of all the gradients so far: a runaway
# > momentum that the tests recognise.
#
# One step over $N = 30$ points builds a graph of about 2,000 nodes. A pure-Python
# engine is slow (most of its time goes into creating node objects), so the tests keep
# $N$ and the number of steps small: 20 points and 30 steps at most.
#
# Write `train_moons(X, y, steps, lr, seed)`: `X` of shape `(N, D)`, `y` of shape `(N,)`
# (0/1), `steps` gradient steps with learning rate `lr`. Return `(accuracy, losses)`:
# the training accuracy after the last step (a float in $[0, 1]$) and an array of shape
# `(steps,)` with the loss $L$ at the start of each step, before its update. Use your
# `Value` for every weight and bias.

# %% nbgrader={"grade_id": "train_moons", "solution": true}
def train_moons(X, y, steps, lr, seed):
    """Train the 8-tanh-unit MLP of Values by full-batch gradient descent; (accuracy, losses)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(seed)
    W1 = [[Value(w) for w in row] for row in rng.uniform(-1, 1, size=(8, X.shape[1]))]
    w2 = [Value(w) for w in rng.uniform(-1, 1, size=8)]
    b1 = [Value(0.0) for _ in range(8)]
    b2 = Value(0.0)
    params = [w for row in W1 for w in row] + b1 + w2 + [b2]

    def score(x):
        hidden = [sum((w * xd for w, xd in zip(row, x, strict=True)), b).tanh()
                  for row, b in zip(W1, b1, strict=True)]
        return sum((w * h for w, h in zip(w2, hidden, strict=True)), b2)

    rows = X.tolist()
    signs = [2.0 * float(v) - 1.0 for v in y]
    losses = []
    for _ in range(steps):
        margins = [(1 - t * score(x)).relu() for x, t in zip(rows, signs, strict=True)]
        loss = sum(margins) * (1.0 / len(rows))
        losses.append(loss.data)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
    correct = [(score(x).data > 0) == (t > 0) for x, t in zip(rows, signs, strict=True)]
    return float(np.mean(correct)), np.array(losses)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_train_moons", "grade": true, "points": 1}
# Six points, three steps of lr 1.0 from seed 0: the losses before each update.
_X = np.array([[-1.0, 0.5], [0.0, 1.0], [1.0, 0.0], [0.5, -0.5], [1.5, -0.3], [2.0, 0.5]])
_y = np.array([0, 0, 0, 1, 1, 1])
_got = answer(train_moons, _X, _y, 3, 1.0, 0)
check_equal(len(_got), 2, "number of values train_moons returned (accuracy, losses)")
check_close(_got[1], [0.775151490978868, 0.4956984196140547, 0.337773639954315],
            "losses of train_moons on 6 points, steps=3, lr=1.0, seed=0", rtol=1e-6,
            mistakes={"the grads were not reset to 0 before backward(), so each step moved by "
                      "the sum of all the gradients so far":
                          [0.775151490978868, 0.4956984196140547, 0.6640779595244193],
                      "the update climbs: p.data -= lr * p.grad (minus)":
                          [0.775151490978868, 2.1008220187086133, 3.921525272153131],
                      "that is the sum over the points; the loss is their mean":
                          [4.6509089458732085, 9.289099984255103, 10.644768295281624],
                      "W1 was drawn with shape (D, 8); draw rng.uniform(-1, 1, size=(8, D)) "
                      "first, then w2":
                          [1.0948590043142885, 0.4297705012992471, 0.3281911120198587],
                      "each loss was recorded after its step; record it before the update":
                          [0.4956984196140547, 0.337773639954315, 0.3729066901027838]})
check_close(_got[0], 5 / 6, "training accuracy of train_moons on 6 points after 3 steps")

# %% nbgrader={"grade_id": "test_train_moons_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
from dlnotes import backprop as _bp


def _moons(n, noise, seed):
    """Two interleaving half circles with Gaussian noise, labels alternating 0, 1."""
    _r = np.random.default_rng(seed)
    _lab = np.arange(n) % 2
    _a = _r.uniform(0, np.pi, size=n)
    _pts = np.where(_lab[:, None] == 0, np.c_[np.cos(_a), np.sin(_a)],
                    np.c_[1 - np.cos(_a), 0.5 - np.sin(_a)])
    return _pts + _r.normal(scale=noise, size=(n, 2)), _lab


def _train_variant(X, y, steps, lr, seed, kind):
    """train_moons in numpy with the gradients by hand, and one planted slip."""
    _rng = np.random.default_rng(seed)
    if kind == "transposed":
        _W1 = _rng.uniform(-1, 1, size=(X.shape[1], 8)).T.copy()
    else:
        _W1 = _rng.uniform(-1, 1, size=(8, X.shape[1]))
    _w2, _b1, _b2 = _rng.uniform(-1, 1, size=8), np.zeros(8), 0.0
    _t = 2.0 * np.asarray(y, dtype=float) - 1.0
    _scale = 1.0 if kind == "sum" else 1.0 / len(_t)
    _sum = [0.0, 0.0, 0.0, 0.0]
    _losses = []
    for _ in range(steps):
        _H = np.tanh(X @ _W1.T + _b1)
        _m = _t * (_H @ _w2 + _b2)
        _losses.append(np.maximum(0.0, 1.0 - _m).sum() * _scale)
        _ds = np.where(_m < 1.0, -_t * _scale, 0.0)
        _dZ = np.outer(_ds, _w2) * (1 - _H ** 2)
        _g = [_dZ.T @ X, _dZ.sum(0), _H.T @ _ds, _ds.sum()]
        if kind == "no_zero":
            _sum = [_a + _b for _a, _b in zip(_sum, _g, strict=True)]
            _g = _sum
        _sign = -1.0 if kind == "sign" else 1.0
        _W1, _b1 = _W1 - _sign * lr * _g[0], _b1 - _sign * lr * _g[1]
        _w2, _b2 = _w2 - _sign * lr * _g[2], _b2 - _sign * lr * _g[3]
        if kind == "after":
            _H = np.tanh(X @ _W1.T + _b1)
            _losses[-1] = np.maximum(0.0, 1.0 - _t * (_H @ _w2 + _b2)).sum() * _scale
    return np.array(_losses)


_EXPL = {"no_zero": "the grads were not reset to 0 before backward(): each step moved by "
                    "the sum of all the gradients so far",
         "sign": "the update climbs: p.data -= lr * p.grad",
         "sum": "that is the summed loss; L is the mean over the N points",
         "transposed": "W1 was drawn with shape (D, 8); draw it with size=(8, D), then w2",
         "after": "losses[k] is the loss after step k; record it before the update"}
for _n, _steps, _lr, _seed, _dseed, _noise in ((20, 6, 2.0, 3, 11, 0.15), (9, 4, 0.5, 7, 12, 0.3),
                                                (12, 3, 1.0, 1, 13, 0.2)):
    _X, _y = _moons(_n, _noise, _dseed)
    if _n == 12:
        _X = np.c_[_X, _X[:, 0] * _X[:, 1]]         # D = 3 inputs
    _case = (f"{_n} points with {_X.shape[1]} features, steps={_steps}, lr={_lr}, "
             f"seed={_seed}")
    _label = f"train_moons on {_case}"
    _got = answer(train_moons, _X, _y, _steps, _lr, _seed, case=_case)
    check_equal(len(_got), 2, "how many values train_moons returned (accuracy, losses)")
    _acc, _losses = _bp.train_moons(_X, _y, _steps, _lr, _seed)
    check_close(_got[1], _losses, f"losses of {_label}", rtol=1e-6, atol=1e-9,
                mistakes={_EXPL[_k]: _train_variant(_X, _y, _steps, _lr, _seed, _k)
                          for _k in _EXPL})
    check_close(_got[0], _acc, f"training accuracy of {_label}")
# the stated accuracy: 20 moons points, 30 steps of lr 6 from seed 0 reach at least 0.95
_X, _y = _moons(20, 0.1, 4)
_got = answer(train_moons, _X, _y, 30, 6.0, 0, case="20 points, steps=30, lr=6.0, seed=0")
_acc, _losses = _bp.train_moons(_X, _y, 30, 6.0, 0)
check_close(_got[1], _losses, "losses of train_moons on 20 moons points, steps=30, lr=6.0",
            rtol=1e-5, atol=1e-8)
if not _got[0] >= 0.95:
    raise AssertionError(f"training accuracy on 20 moons points after 30 steps of lr 6: "
                         f"expected at least 0.95, got {_got[0]:.3f}")
### END HIDDEN TESTS

# %% [markdown]
# **Your network on two moons.** The demo trains your `train_moons` on 30 points of two
# moons (noise 0.1) for 40 steps with learning rate 6, then with a learning rate far too
# large and one far too small, and plots the three loss curves. (With so few steps of
# plain gradient descent, the result depends on the data and the seed: try others.) (If your
# `Value` or `train_moons` is not written yet, it uses the reference and says so: your
# `train_moons` needs your `Value`.)

# %% tags=["demo"]
import os
import time

from dlnotes.data import make_moons

own = mine.own(globals(), "04_backprop", ["Value", "train_moons"])
train = own.train_moons
if own.Value is ref.Value and train is not ref.train_moons:
    print("(your train_moons builds on your Value, which is not written yet: "
          "using dlnotes.backprop.train_moons)")
    train = ref.train_moons
X_moons, y_moons = make_moons(30, noise=0.1, seed=0)
n_steps = 15 if os.environ.get("CI") else 40
fig, ax = plt.subplots(figsize=(6, 3.6))
for lr in (6.0, 40.0, 0.3):
    start = time.perf_counter()
    accuracy, losses = train(X_moons, y_moons, n_steps, lr, 2)
    print(f"lr {lr:4g}: training accuracy {accuracy:.0%}, loss {losses[0]:.3f} -> "
          f"{losses[-1]:.3f} in {n_steps} steps ({time.perf_counter() - start:.1f} s)")
    ax.plot(losses, label=f"lr = {lr:g}")
ax.set(xlabel="step", ylabel="mean hinge loss", title="train_moons with your Value")
ax.legend()
plt.show()

# %% [markdown]
# ## 7. The backward pass in matrix form
#
# A scalar engine is clear but slow: every multiplication is a Python object. Real
# layers work on whole batches with matrix products, and their backward passes are
# matrix products too. They follow from the chain rule written **index by index**.
#
# **The shape of a gradient.** For a scalar $L$ and a parameter $w \in \mathbb R^n$,
# deep learning stores $\partial L/\partial w$ as an array **of the shape of $w$**, with
# entry $i$ equal to $\partial L/\partial w_i$, so that the update $w - \eta\,\partial
# L/\partial w$ makes sense. Take $L = \langle x, w\rangle = \sum_i x_i w_i$:
# $\partial L/\partial w_i = x_i$, so $\partial L/\partial w = x$, a vector shaped like
# $w$. (Calculus books that write derivatives as Jacobians, in the *numerator layout*
# (分子布局), get the row vector $x^{\top}$ for the same derivative: the numbers are the
# same, the layout is not. Here, as in torch, `w.grad.shape == w.shape`.) For a matrix
# parameter $W$, $\partial L/\partial W$ is a matrix of $W$'s shape with entries
# $\partial L/\partial W_{jd}$.
#
# **One linear layer, index by index.** Take a batch $X$ of shape $(N, D)$ and a layer
# in the `torch.nn.Linear` layout, $W$ of shape $(K, D)$ (one row per output unit) and
# $b$ of shape $(K,)$:
#
# $$Z = X W^{\top} + b, \qquad Z_{nk} = \sum_{d=1}^{D} X_{nd}\, W_{kd} + b_k .$$
#
# Suppose the upstream gradient $dZ = \partial L/\partial Z$, shape $(N, K)$, is known.
# The weight $W_{kd}$ appears in $Z_{nk}$ for **every** example $n$ (fan-out), with
# $\partial Z_{nk}/\partial W_{kd} = X_{nd}$, and in no other entry of $Z$. The chain
# rule sums over those uses:
#
# $$\frac{\partial L}{\partial W_{kd}} = \sum_{n=1}^{N}
#   \frac{\partial L}{\partial Z_{nk}}\,\frac{\partial Z_{nk}}{\partial W_{kd}}
#   = \sum_{n} dZ_{nk}\, X_{nd} = (dZ^{\top} X)_{kd},
#   \qquad\text{so}\qquad dW = dZ^{\top} X\ \ (K, D).$$
#
# The same bookkeeping gives the other two: $X_{nd}$ appears in $Z_{nk}$ for every
# output $k$, with derivative $W_{kd}$, so $dX_{nd} = \sum_k dZ_{nk} W_{kd}$, i.e.
# $dX = dZ\,W$ $(N, D)$; and $b_k$ appears in every $Z_{nk}$ with derivative 1, so
# $db_k = \sum_n dZ_{nk}$. In the mathematicians' layout $Y = XW$ (with $W$ of shape
# $(D, K)$) the same sum reads $dW = X^{\top} dY$.
#
# Two checks make these formulas hard to get wrong: **the gradient of a parameter has
# the parameter's shape**, and the shapes leave only one way to multiply the factors
# ($dZ^{\top}X$ is $(K, N)(N, D) = (K, D)$). The bias gradient **sums** over the batch
# because a bias is used by every example.
#
# **An elementwise activation** $H = \phi(Z)$ uses each $Z_{nk}$ once, so
# $dZ = dH \odot \phi'(Z)$ (for tanh, $\phi' = 1 - H^2$).
#
# **The 2-layer network.** For integer labels $y$ and
#
# $$Z_1 = X W_1^{\top} + b_1,\quad H = \tanh(Z_1),\quad S = H W_2^{\top} + b_2,\quad
#   L = \frac1N\sum_{i=1}^{N} -\log \mathrm{softmax}(S_i)_{y_i}$$
#
# ($W_1$: $(H, D)$, $W_2$: $(C, H)$), the backward pass starts from the gradient of the
# mean cross-entropy with respect to the scores, which chapter 3 derived:
# $dS = \frac1N(\mathrm{softmax}(S) - \mathrm{onehot}(y))$. The $\frac1N$ of the mean
# enters once, there. From $dS$, apply the layer rule to the second layer, the
# activation rule to tanh, and the layer rule again to the first layer.

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


# %% nbgrader={"grade_id": "test_mlp_backward", "grade": true, "points": 2}
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

# %% nbgrader={"grade_id": "test_mlp_backward_hidden", "grade": true, "points": 3}
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
# gradients** (梯度爆炸). Chapter 2 showed the activation's part: $\sigma' \le \frac14$.
# The weights' part is their scale: with $W_{ij} \sim \mathcal N(0, g^2/\text{width})$
# each layer multiplies the gradient norm by roughly $g \cdot \text{rms}(\phi')$. So a
# deep stack of sigmoids vanishes at the usual gains ($g \approx 1$) unless the weight
# scale compensates for the small $\sigma'$: in the demo's 40-layer network that takes a
# gain of about 10, which also pushes many units into saturation, and the balance is
# knife-edged (a gain of 8 still vanishes, 12 explodes). He initialisation
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
                               ("sigmoid, gain 10", act.sigmoid, act.sigmoid_grad, 10.0),
                               ("tanh, gain 1", act.tanh, act.tanh_grad, 1.0),
                               ("ReLU, He gain √2", act.relu, act.relu_grad, np.sqrt(2)),
                               ("ReLU, gain 2", act.relu, act.relu_grad, 2.0)):
    ax.semilogy(np.arange(1, 41), backward_norms(phi, dphi, gain), label=label)
ax.set(xlabel="layer (1 = first)", ylabel="‖∂L/∂h‖ (log scale)",
       title="Gradient norm reaching each layer of a 40-layer MLP")
ax.legend()
plt.show()

# %% [markdown]
# ## 9. Autograd in torch
#
# torch's autograd is your `Value` engine on tensors: every operation on a tensor that
# requires a gradient records a node, and `backward()` walks the graph in reverse
# topological order, adding into `.grad`.
#
# **Marking what to differentiate.** A leaf tensor is tracked when it is created with
# `requires_grad=True` (or after `w.requires_grad_()`); `nn.Parameter`s are tracked by
# default. Old code and old notes wrap tensors in `torch.autograd.Variable(x,
# requires_grad=True)`: `Variable` is **deprecated** since torch 0.4 (2018), when it was
# merged into `Tensor`; it now simply returns a tensor. Write
# `torch.tensor(..., requires_grad=True)` instead.
#
# **The graph is freed by `backward()`.** To save memory, `backward()` frees the values
# that the graph stored for the backward pass (section 5) as soon as it has used them.
# Calling `backward()` a second time through the same graph raises "Trying to backward
# through the graph a second time". If you really need two backward passes through one
# graph (e.g. two losses that share a trunk, handled separately), pass
# `retain_graph=True` to the first; usually it is simpler to add the losses and call
# `backward()` once.
#
# **`.grad` accumulates.** Exactly like your engine, `backward()` *adds* into `.grad`
# across calls. Reset it (`x.grad = None`, or `optimizer.zero_grad()`) before each
# training step; forgetting it is the same runaway as in `train_moons`.
#
# **Non-scalar outputs: `y.sum().backward()` vs `y.backward(gradient)`.** `backward()`
# computes the gradient of a **scalar**. Called on a tensor `y` with several entries,
# torch refuses ("grad can be implicitly created only for scalar outputs"): the gradient
# of a vector is a Jacobian, and reverse mode never builds it. Instead it computes a
# **vector-Jacobian product** $v^{\top} J$ for a vector $v$ of `y`'s shape that you
# pass: `y.backward(gradient=v)`. That $v$ plays the role of the upstream gradient
# $\partial L/\partial y$ of a loss further down.
#
# - `y.sum().backward()` is `y.backward(torch.ones_like(y))`: $v = \mathbf 1$, i.e. the
#   loss is the sum of the entries.
# - `y.backward(v)` with another $v$ weights the entries: it is the gradient of
#   $\sum_i v_i y_i$.
#
# The demo runs each of these (on the GPU when there is one), and checks that `w.grad`
# has `w`'s shape for $L = \langle x, w\rangle$.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    opts = dict(dtype=torch.float64, device=device)
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, **opts)
    yt = xt ** 2
    try:
        yt.backward()
    except RuntimeError as err:
        print("y.backward() on a vector:", err)
    yt.sum().backward()
    print("y.sum().backward()          ->", xt.grad.cpu().numpy(), "(= 2x)")
    xt.grad = None
    (xt ** 2).backward(torch.ones(3, **opts))
    print("y.backward(ones)            ->", xt.grad.cpu().numpy())
    xt.grad = None
    (xt ** 2).backward(torch.tensor([1.0, 0.1, 0.01], **opts))
    print("y.backward([1, 0.1, 0.01])  ->", xt.grad.cpu().numpy(), "(= v * 2x)")
    (xt ** 2).sum().backward()
    print("once more without resetting ->", xt.grad.cpu().numpy(), "(accumulated)")

    legacy = torch.autograd.Variable(torch.ones(2), requires_grad=True)
    print("torch.autograd.Variable(...) now returns a", type(legacy).__name__,
          "(deprecated: use requires_grad=True)")

    # the graph is freed after backward(), unless retain_graph=True
    xt.grad = None
    total = (xt.exp() * xt).sum()
    total.backward()
    try:
        total.backward()
    except RuntimeError as err:
        print("second backward() through the same graph:", str(err).split(".")[0])
    total = (xt.exp() * xt).sum()
    xt.grad = None
    total.backward(retain_graph=True)
    total.backward()
    print("with retain_graph=True the second pass works, and adds: grad =",
          xt.grad.cpu().numpy().round(3), "= 2 (x + 1) e^x")

    # a gradient has its parameter's shape: L = <x, w> gives dL/dw = x, shaped like w
    w = torch.randn(4, 1, requires_grad=True, **opts)
    x = torch.randn(4, 1, **opts)
    (x * w).sum().backward()
    print("L = <x, w>: w.grad.shape =", tuple(w.grad.shape), "== w.shape;",
          "w.grad equals x:", bool(torch.equal(w.grad, x)))

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
# - Reverse mode gives the whole gradient of a scalar loss in one backward pass, for
#   about twice the cost of the forward pass, but must store the forward activations:
#   training needs more memory than inference.
# - An autodiff engine is a graph of nodes, each with a local rule; `backward()` runs the
#   rules in reverse topological order and every rule **adds** (`+=`) to its inputs'
#   gradients. Your `Value` trains a small MLP on two moons.
# - A gradient has its parameter's shape; one linear layer $Z = XW^{\top} + b$ gives
#   $dW = dZ^{\top}X$, $dX = dZ\,W$, $db = \sum_n dZ_n$, all from the chain rule index by
#   index.
# - Deep stacks multiply one factor per layer: gradients vanish or explode unless
#   activations and initialisation keep the factors near 1.
# - In torch: `requires_grad=True` (not the deprecated `Variable`); `backward()` frees the
#   graph (`retain_graph=True` keeps it) and adds into `.grad` (reset it every step);
#   `backward()` needs a scalar, `y.backward(v)` computes $v^{\top}J$ and
#   `y.sum().backward()` is the case $v = \mathbf 1$.
