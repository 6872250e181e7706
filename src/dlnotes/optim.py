r"""Optimizers, learning-rate schedules and the three flavours of gradient descent.

Every optimizer here updates a list of numpy arrays **in place** and matches
its ``torch.optim`` twin step for step (same hyper-parameter names, same
defaults, same update rules including the first step, equal to round-off)::

    W, b = rng.normal(size=(3, 2)), np.zeros(2)   # float arrays, owned by the model
    opt = Adam([W, b], lr=1e-3)
    for _ in range(100):
        dW, db = grads_of_loss(W, b)                # same shapes, same order
        opt.step([dW, db])                          # W and b change in place

There is no ``zero_grad``: gradients are not stored on the parameters, they are
passed to :meth:`Optimizer.step`. Each optimizer keeps one ``state`` dict per
parameter (momentum buffers, running averages) under torch's names, and the
number of steps taken so far as ``t``.

The update of one parameter :math:`\theta` with gradient :math:`g_t`:

* :class:`SGD`: :math:`b_t = \mu b_{t-1} + (1-\tau) g_t,\;
  \theta \leftarrow \theta - \eta\, b_t` (plain GD when :math:`\mu = 0`).
* :class:`Adagrad`: :math:`G_t = G_{t-1} + g_t^2,\;
  \theta \leftarrow \theta - \eta\, g_t / (\sqrt{G_t} + \epsilon)`.
* :class:`RMSprop`: :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\;
  \theta \leftarrow \theta - \eta\, g_t / (\sqrt{v_t} + \epsilon)`.
* :class:`Adam`: momentum on :math:`g` plus RMSprop scaling, both bias-corrected.
* :class:`AdamW`: Adam with the weight decay applied to :math:`\theta` directly.

Learning-rate schedules are plain functions of the scheduler step count ``t``
(``t = 0`` is the initial learning rate; after ``t`` calls of torch's
``scheduler.step()`` the optimizer's lr equals ``schedule(t, ...)``):
:func:`step_lr`, :func:`exponential_lr`, :func:`cosine_annealing_lr`,
:func:`one_cycle_lr` and :func:`linear_warmup_lr`. Drive an optimizer by
setting ``opt.lr = schedule(t, ...)`` before its ``t + 1``-th step.

:func:`gradient_descent` is a small training loop that runs batch, stochastic
or mini-batch gradient descent over a dataset, with the gradient always the
**mean** over the examples of the batch.
"""

from __future__ import annotations

import math

import numpy as np

from dlnotes._validation import (
    as_array_list,
    as_float_array,
    check_finite,
    check_flag,
    check_in_range,
    check_inplace_array,
    check_nonempty,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "step_lr",
    "exponential_lr",
    "cosine_annealing_lr",
    "one_cycle_lr",
    "linear_warmup_lr",
    "warmup_cosine_lr",
    "gradient_descent",
]


# --------------------------------------------------------------------------- checks


def _check_params(params) -> list[np.ndarray]:
    """The list of parameters: distinct, writable, floating-point ndarrays."""
    params = as_array_list(params, "params")
    if not params:
        raise ValueError("params must contain at least one array, got an empty list")
    for i, p in enumerate(params):
        check_inplace_array(p, f"params[{i}]")
        for j in range(i):
            if np.shares_memory(p, params[j]):
                raise ValueError(
                    f"params[{j}] and params[{i}] share memory; each parameter must "
                    "appear once, or it would be updated twice per step"
                )
    return params


def _check_grads(grads, params: list[np.ndarray]) -> list[np.ndarray]:
    """One finite gradient per parameter, same shapes, same order."""
    grads = as_array_list(grads, "grads")
    if len(grads) != len(params):
        raise ValueError(
            f"grads must hold one array per param: expected {len(params)}, got {len(grads)}"
        )
    checked = []
    for i, (g, p) in enumerate(zip(grads, params, strict=True)):
        g = as_float_array(g, f"grads[{i}]", finite=True)
        if g.shape != p.shape:
            raise ValueError(
                f"grads[{i}] must have shape {p.shape} to match params[{i}], got {g.shape}"
            )
        checked.append(g)
    return checked


def _check_betas(betas) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError) as exc:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from exc
    beta1 = check_finite(beta1, "betas[0]", 0.0, 1.0, high_inclusive=False)
    beta2 = check_finite(beta2, "betas[1]", 0.0, 1.0, high_inclusive=False)
    return beta1, beta2


def _check_t(t) -> int:
    return check_positive_int(t, "t", minimum=0)


# ----------------------------------------------------------------------- optimizers


class Optimizer:
    r"""Base class: a list of parameters updated in place by :meth:`step`.

    Parameters
    ----------
    params : list of ndarray
        The parameters, each a writable floating-point array. They are kept by
        reference: ``opt.params[i] is params[i]`` and every step changes the
        caller's arrays.
    lr : float
        Learning rate :math:`\eta \ge 0`. It may be changed between steps
        (``opt.lr = ...``), which is how a schedule drives the optimizer.

    Attributes
    ----------
    params : list of ndarray
    state : list of dict
        ``state[i]`` holds the running buffers of ``params[i]`` (torch's names:
        ``momentum_buffer``, ``sum``, ``square_avg``, ``exp_avg``, ...), stored
        in float64 whatever the parameter's dtype.
    t : int
        Number of steps taken so far.

    Raises
    ------
    ValueError
        If ``params`` is not a non-empty list of distinct writable float
        ndarrays, or ``lr`` is negative, infinite or NaN.

    Notes
    -----
    Subclasses implement ``_update(p, g, state)``, the rule for one parameter:
    it must change ``p`` in place (``p -= ...``, never ``p = p - ...``) and keep
    its buffers in ``state``. ``self.t`` has already been incremented.

    Examples
    --------
    signSGD, :math:`\theta \leftarrow \theta - \eta\,\operatorname{sign}(g)`, in three lines:

    >>> class SignSGD(Optimizer):
    ...     def _update(self, p, g, state):
    ...         p -= self.lr * np.sign(g)
    >>> w = np.array([0.5, -0.5])
    >>> opt = SignSGD([w], lr=0.1)
    >>> opt.step([np.array([3.0, -0.2])])
    >>> w, opt.t
    (array([ 0.4, -0.4]), 1)
    """

    def __init__(self, params, lr: float):
        self.params = _check_params(params)
        self.lr = lr
        self.state = [{} for _ in self.params]
        self.t = 0

    @property
    def lr(self) -> float:
        """Learning rate, checked to be finite and >= 0 whenever it is set."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_finite(value, "lr", 0.0)

    def step(self, grads) -> None:
        r"""Update every parameter in place from its gradient.

        Parameters
        ----------
        grads : list of array_like
            ``grads[i]`` is :math:`\partial L / \partial \theta_i` for ``params[i]``, same shape.

        Raises
        ------
        ValueError
            If ``grads`` does not hold one finite array per parameter with the
            parameter's shape. Everything is checked before anything is
            updated, so a bad call leaves parameters and state untouched.
        """
        grads = _check_grads(grads, self.params)
        self.t += 1
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            self._update(p, g, state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}(params=[{shapes}], lr={self.lr}, t={self.t})"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum and weight decay (torch.optim.SGD).

    With weight decay :math:`\lambda`, momentum :math:`\mu` and dampening
    :math:`\tau`, one step on a parameter :math:`\theta` with gradient :math:`g_t` is

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta \\
        b_t &= \begin{cases} g_t & t = 1 \\
               \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
        d_t &= \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\
               b_t & \text{otherwise} \end{cases} \\
        \theta &\leftarrow \theta - \eta\, d_t

    Without momentum (:math:`\mu = 0`) this is plain :math:`\theta \leftarrow
    \theta - \eta\, g_t`. Note torch's convention: the learning rate multiplies
    the buffer, it is not inside it (Sutskever et al. write
    :math:`v = \mu v + \eta g`; the two agree while :math:`\eta` is constant),
    and the first buffer is the gradient itself, undamped.

    Parameters
    ----------
    params : list of ndarray
        Writable float arrays, updated in place.
    lr : float, default 1e-3
        Learning rate :math:`\eta \ge 0`.
    momentum : float, default 0.0
        :math:`\mu \in [0, 1)`.
    dampening : float, default 0.0
        :math:`\tau \in [0, 1]`, scales down new gradients in the buffer.
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0`, L2 penalty :math:`\tfrac{\lambda}{2}\|\theta\|^2`
        added to the loss.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.

    Raises
    ------
    ValueError
        Naming the argument: bad ``params``; ``lr``, ``weight_decay`` < 0;
        ``momentum`` outside [0, 1); ``dampening`` outside [0, 1];
        ``nesterov`` with ``momentum == 0`` or ``dampening != 0``.

    Notes
    -----
    torch accepts any ``momentum >= 0``; values >= 1 make the buffer grow
    without bound, so they are rejected here.

    Examples
    --------
    >>> w = np.array([1.0, -2.0])
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> opt.step([np.array([1.0, 1.0])])
    >>> w
    array([ 0.9, -2.1])
    >>> opt.step([np.array([1.0, 1.0])])   # buffer 0.9 * 1 + 1 = 1.9
    >>> w
    array([ 0.71, -2.29])
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = check_finite(momentum, "momentum", 0.0, 1.0, high_inclusive=False)
        self.dampening = check_finite(dampening, "dampening", 0.0, 1.0)
        self.weight_decay = check_finite(weight_decay, "weight_decay", 0.0)
        self.nesterov = check_flag(nesterov, "nesterov")
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )

    def _update(self, p, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                # np.array, not g.copy(): for a 0-d param g may be a numpy scalar
                b = state["momentum_buffer"] = np.array(g, dtype=np.float64)
            else:
                b = state["momentum_buffer"]
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g


class Adagrad(Optimizer):
    r"""AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients.

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta \\
        G_t &= G_{t-1} + g_t \odot g_t, \qquad G_0 = \text{initial\_accumulator\_value} \\
        \eta_t &= \frac{\eta}{1 + (t-1)\,\text{lr\_decay}} \\
        \theta &\leftarrow \theta - \eta_t\, \frac{g_t}{\sqrt{G_t} + \epsilon}

    :math:`G_t` is a *sum* of squares, not a variance, and it only grows, so the
    effective step shrinks for ever. Each coordinate moves by at most
    :math:`\eta_t` per step (:math:`|g_t| \le \sqrt{G_t}` when :math:`G_0 = 0`):
    the first step moves every coordinate by about :math:`\eta`, the next ones by less.

    Parameters
    ----------
    params : list of ndarray
        Writable float arrays, updated in place.
    lr : float, default 0.01
        :math:`\eta \ge 0`.
    lr_decay : float, default 0.0
        :math:`\ge 0`.
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0` (L2 penalty added to the gradient).
    initial_accumulator_value : float, default 0.0
        :math:`G_0 \ge 0`.
    eps : float, default 1e-10
        :math:`\epsilon \ge 0`, added *outside* the square root (as torch).

    Raises
    ------
    ValueError
        Naming the argument when ``params`` is bad or a hyper-parameter is
        negative or not finite.

    Notes
    -----
    With ``eps=0`` a coordinate whose gradients have all been 0 gives
    ``0 / 0 = nan``, exactly as in torch.

    Examples
    --------
    >>> w = np.array([1.0, 1.0])
    >>> opt = Adagrad([w], lr=0.1, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # first step: lr * sign(g)
    >>> w
    array([0.9, 1.1])
    """

    def __init__(self, params, lr: float = 0.01, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, lr)
        self.lr_decay = check_finite(lr_decay, "lr_decay", 0.0)
        self.weight_decay = check_finite(weight_decay, "weight_decay", 0.0)
        self.initial_accumulator_value = check_finite(
            initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.eps = check_finite(eps, "eps", 0.0)
        for p, state in zip(self.params, self.state, strict=True):
            state["sum"] = np.full(p.shape, self.initial_accumulator_value)

    def _update(self, p, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        lr_t = self.lr / (1 + (self.t - 1) * self.lr_decay)
        G = state["sum"]
        G += g * g
        p -= lr_t * g / (np.sqrt(G) + self.eps)


class RMSprop(Optimizer):
    r"""RMSProp: divide by the root of an exponential moving average of squared gradients.

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta \\
        v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t \odot g_t, \qquad v_0 = 0 \\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t
            \quad\text{(centered only)} \\
        s_t &= \sqrt{v_t} + \epsilon
            \quad\text{or, centered,}\quad \sqrt{v_t - \bar g_t^2} + \epsilon \\
        \theta &\leftarrow \theta - \eta\, \frac{g_t}{s_t}
            \quad\text{or, with momentum,}\quad
            b_t = \mu b_{t-1} + \frac{g_t}{s_t},\; \theta \leftarrow \theta - \eta\, b_t

    Unlike AdaGrad's sum, the average forgets old gradients (weight
    :math:`\alpha^k` after :math:`k` steps), so the step size does not decay to 0.
    :math:`\epsilon` is added *outside* the square root. There is no bias
    correction: early :math:`v_t` are too small by :math:`1-\alpha^t`.

    Parameters
    ----------
    params : list of ndarray
        Writable float arrays, updated in place.
    lr : float, default 0.01
        :math:`\eta \ge 0`.
    alpha : float, default 0.99
        Smoothing constant :math:`\alpha \in [0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0`.
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0`.
    momentum : float, default 0.0
        :math:`\mu \in [0, 1)`.
    centered : bool, default False
        Divide by an estimate of the gradient's standard deviation instead of
        its root mean square.

    Raises
    ------
    ValueError
        Naming the argument when ``params`` is bad or a hyper-parameter is out
        of range.

    Notes
    -----
    torch accepts ``alpha >= 1`` and ``momentum >= 1``; both make no sense
    (:math:`v` never learns, or the buffer grows without bound), so they are
    rejected. In the centered variant :math:`v_t - \bar g_t^2 \ge 0` in exact
    arithmetic; it is clipped at 0 so round-off can never produce ``nan``.

    Examples
    --------
    >>> w = np.array([0.0])
    >>> opt = RMSprop([w], lr=0.01, alpha=0.99, eps=0.0)
    >>> opt.step([np.array([2.0])])   # v = 0.01 * 4, step = 0.01 * 2 / 0.2
    >>> w
    array([-0.1])
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        self.alpha = check_finite(alpha, "alpha", 0.0, 1.0, high_inclusive=False)
        self.eps = check_finite(eps, "eps", 0.0)
        self.weight_decay = check_finite(weight_decay, "weight_decay", 0.0)
        self.momentum = check_finite(momentum, "momentum", 0.0, 1.0, high_inclusive=False)
        self.centered = check_flag(centered, "centered")
        for p, state in zip(self.params, self.state, strict=True):
            state["square_avg"] = np.zeros(p.shape)
            if self.centered:
                state["grad_avg"] = np.zeros(p.shape)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros(p.shape)

    def _update(self, p, g, state):
        alpha = self.alpha
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if self.centered:
            g_bar = state["grad_avg"]
            g_bar += (1 - alpha) * (g - g_bar)   # = alpha * g_bar + (1 - alpha) * g
            s = np.sqrt(np.maximum(v - g_bar * g_bar, 0.0)) + self.eps
        else:
            s = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / s
            p -= self.lr * b
        else:
            p -= self.lr * g / s


class Adam(Optimizer):
    r"""Adam: momentum and RMSProp scaling, both bias-corrected (torch.optim.Adam).

    .. math::
        g_t &\leftarrow g_t + \lambda\,\theta
            \quad\text{(Adam: L2 penalty in the gradient)} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad m_0 = 0 \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t, \qquad v_0 = 0 \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad
        \hat v_t = \frac{v_t}{1-\beta_2^t} \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    :math:`\beta_1^t` is :math:`\beta_1` to the power :math:`t` (the step
    count): the betas themselves stay fixed. Starting from :math:`m_0 = v_0 = 0`
    biases the averages towards 0; dividing by :math:`1-\beta^t` removes that
    bias and fades away as :math:`t` grows. At :math:`t = 1`,
    :math:`\hat m_1 / \sqrt{\hat v_1} = g_1 / |g_1|`, so the first step moves every
    coordinate by about :math:`\eta`, whatever the gradient's scale.

    With ``amsgrad=True`` the denominator uses :math:`\max_{s \le t} v_s`
    instead of :math:`v_t` (so the per-coordinate step size never grows).

    Parameters
    ----------
    params : list of ndarray
        Writable float arrays, updated in place.
    lr : float, default 1e-3
        :math:`\eta \ge 0`.
    betas : (float, float), default (0.9, 0.999)
        :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0`, added outside the square root of :math:`\hat v_t`.
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0`, an L2 penalty added to the gradient, so it is
        rescaled by :math:`1/\sqrt{\hat v_t}` like the rest of the gradient. For
        weight decay that shrinks :math:`\theta` directly use :class:`AdamW`.
    amsgrad : bool, default False

    Raises
    ------
    ValueError
        Naming the argument when ``params`` is bad or a hyper-parameter is out
        of range (``betas[0]``/``betas[1]`` outside [0, 1), negative ``lr``,
        ``eps`` or ``weight_decay``).

    Examples
    --------
    >>> w = np.array([1.0, 1.0, 1.0])
    >>> opt = Adam([w], lr=0.1, eps=0.0)
    >>> opt.step([np.array([1e-3, -5.0, 2e4])])   # each coordinate moves by lr
    >>> w
    array([0.9, 1.1, 0.9])
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_finite(eps, "eps", 0.0)
        self.weight_decay = check_finite(weight_decay, "weight_decay", 0.0)
        self.amsgrad = check_flag(amsgrad, "amsgrad")
        for p, state in zip(self.params, self.state, strict=True):
            state["exp_avg"] = np.zeros(p.shape)
            state["exp_avg_sq"] = np.zeros(p.shape)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros(p.shape)

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        t = self.t
        if self.weight_decay != 0:
            if self._decoupled:
                p *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)   # = beta1 * m + (1 - beta1) * g, torch's lerp
        v *= beta2
        v += (1 - beta2) * g * g
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        # lr * m_hat / (sqrt(v_hat) + eps), written in torch's order of operations
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + self.eps
        p -= (self.lr / bias_correction1) * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (torch.optim.AdamW).

    The decay shrinks the parameter itself before the Adam step, instead of
    entering the gradient:

    .. math::
        \theta &\leftarrow (1 - \eta\lambda)\, \theta \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t, \hat v_t` from the raw gradient, exactly as in
    :class:`Adam`. With SGD the two forms of decay are the same update; with
    Adam they are not, because L2-in-the-gradient is divided by
    :math:`\sqrt{\hat v_t}`: coordinates with large gradients would barely be
    decayed. Note the default ``weight_decay=1e-2`` (Adam's is 0).

    Parameters
    ----------
    params : list of ndarray
        Writable float arrays, updated in place.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 1e-2
        :math:`\lambda \ge 0`.
    amsgrad : bool, default False

    Raises
    ------
    ValueError
        As :class:`Adam`.

    Examples
    --------
    >>> w = np.array([2.0])
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> opt.step([np.array([0.0])])   # zero gradient: only the decay, 2 * (1 - 0.05)
    >>> w
    array([1.9])
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# ------------------------------------------------------------------------ schedules


def step_lr(t: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    r"""Step decay: multiply the learning rate by ``gamma`` every ``step_size`` steps.

    .. math::
        \eta_t = \eta_0\, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    Equals ``torch.optim.lr_scheduler.StepLR(opt, step_size, gamma)`` after
    ``t`` calls of ``scheduler.step()``.

    Parameters
    ----------
    t : int
        Scheduler steps taken so far, ``t >= 0``.
    base_lr : float
        Initial learning rate :math:`\eta_0 \ge 0`.
    step_size : int
        Period of the decay, ``>= 1``.
    gamma : float, default 0.1
        Decay factor, ``>= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming ``t``, ``base_lr``, ``step_size`` or ``gamma`` when out of range.

    Examples
    --------
    >>> [step_lr(t, 1.0, step_size=2, gamma=0.5) for t in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    t = _check_t(t)
    base_lr = check_finite(base_lr, "base_lr", 0.0)
    step_size = check_positive_int(step_size, "step_size")
    gamma = check_finite(gamma, "gamma", 0.0)
    return float(base_lr * gamma ** (t // step_size))


def exponential_lr(t: int, base_lr: float, gamma: float) -> float:
    r"""Exponential decay: multiply the learning rate by ``gamma`` every step.

    .. math::
        \eta_t = \eta_0\, \gamma^{t}

    Equals ``torch.optim.lr_scheduler.ExponentialLR(opt, gamma)`` after ``t``
    calls of ``scheduler.step()``.

    Parameters
    ----------
    t : int
        Scheduler steps taken so far, ``t >= 0``.
    base_lr : float
        :math:`\eta_0 \ge 0`.
    gamma : float
        ``>= 0`` (``< 1`` decays; ``> 1`` grows, as in a learning-rate range test).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming ``t``, ``base_lr`` or ``gamma`` when out of range.

    Examples
    --------
    >>> exponential_lr(3, 0.1, gamma=0.5)
    0.0125
    """
    t = _check_t(t)
    base_lr = check_finite(base_lr, "base_lr", 0.0)
    gamma = check_finite(gamma, "gamma", 0.0)
    return float(base_lr * gamma**t)


def cosine_annealing_lr(t: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    r"""Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    For ``0 <= t <= T_max`` this equals torch's
    ``CosineAnnealingLR(opt, T_max, eta_min)``, which computes the same curve
    recursively (agreement to round-off, ~1e-15 relative).

    Beyond ``T_max`` the formula is **not** clamped at ``eta_min``: the cosine
    keeps going, so the learning rate climbs back to ``base_lr`` at
    ``2 * T_max`` and repeats with period ``2 * T_max``. torch's recursion does
    the same (it special-cases the step after each minimum), so the two still
    agree, up to round-off that its recursion accumulates. To hold the minimum,
    stop calling the schedule at ``T_max``; for restarts see torch's
    ``CosineAnnealingWarmRestarts``.

    Parameters
    ----------
    t : int
        Scheduler steps taken so far, ``t >= 0``.
    base_lr : float
        :math:`\eta_0 \ge 0`, the learning rate at ``t = 0``.
    T_max : int
        Half-period, ``>= 1``: the learning rate reaches ``eta_min`` at ``t = T_max``.
    eta_min : float, default 0.0
        Minimum learning rate, ``>= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming ``t``, ``base_lr``, ``T_max`` or ``eta_min`` when out of range.

    Examples
    --------
    >>> [round(cosine_annealing_lr(t, 1.0, T_max=4), 4) for t in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    t = _check_t(t)
    base_lr = check_finite(base_lr, "base_lr", 0.0)
    T_max = check_positive_int(T_max, "T_max")
    eta_min = check_finite(eta_min, "eta_min", 0.0)
    return float(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2)


def one_cycle_lr(t: int, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    r"""The one-cycle policy: cosine warm-up to ``max_lr``, then cosine annealing far below.

    With :math:`\eta_{\text{init}} = \eta_{\max} / \text{div\_factor}`,
    :math:`\eta_{\text{final}} = \eta_{\text{init}} / \text{final\_div\_factor}`,
    :math:`T = \text{total\_steps}` and the warm-up end
    :math:`t_w = \text{pct\_start}\cdot T - 1`, and
    :math:`\operatorname{anneal}(a, b, p) = b + \tfrac12 (a - b)(1 + \cos \pi p)`:

    .. math::
        \eta_t = \begin{cases}
          \operatorname{anneal}\!\left(\eta_{\text{init}}, \eta_{\max},
              \frac{t}{t_w}\right) & t \le t_w \\[4pt]
          \operatorname{anneal}\!\left(\eta_{\max}, \eta_{\text{final}},
              \frac{t - t_w}{T - 1 - t_w}\right) & t > t_w
        \end{cases}

    This is ``torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps,
    pct_start, anneal_strategy='cos', div_factor, final_div_factor,
    three_phase=False)`` after ``t`` calls of ``scheduler.step()``, including
    its details: the phases end at ``pct_start * T - 1`` and ``T - 1`` (not
    ``T``), and ``t = total_steps`` is still allowed (torch lets you call
    ``scheduler.step()`` once after the last optimizer step; the value there
    has overshot slightly back above :math:`\eta_{\text{final}}`).

    Parameters
    ----------
    t : int
        Scheduler steps taken so far, ``0 <= t <= total_steps``.
    max_lr : float
        Peak learning rate, ``>= 0``.
    total_steps : int
        Length of the cycle, ``>= 1``.
    pct_start : float, default 0.3
        Fraction of the cycle spent warming up, in [0, 1].
    div_factor : float, default 25.0
        ``> 0``; the initial learning rate is ``max_lr / div_factor``.
    final_div_factor : float, default 1e4
        ``> 0``; the final learning rate is the initial one divided by this.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``t > total_steps`` (torch raises too), or an argument is out of
        range. Also when torch would divide by zero: a warm-up of zero length
        (``pct_start * total_steps == 1``) at ``t = 0``, or an annealing phase of
        zero length (``pct_start == 1``) at ``t = total_steps``; the message
        names ``pct_start``.

    Examples
    --------
    >>> lrs = [one_cycle_lr(t, 1.0, total_steps=10, pct_start=0.5) for t in range(10)]
    >>> round(lrs[0], 6), round(max(lrs), 6), round(lrs[-1], 6)
    (0.04, 1.0, 4e-06)
    """
    t = _check_t(t)
    max_lr = check_finite(max_lr, "max_lr", 0.0)
    total_steps = check_positive_int(total_steps, "total_steps")
    pct_start = check_finite(pct_start, "pct_start", 0.0, 1.0)
    div_factor = check_finite(div_factor, "div_factor", 0.0, low_inclusive=False)
    final_div_factor = check_finite(final_div_factor, "final_div_factor", 0.0, low_inclusive=False)
    if t > total_steps:
        raise ValueError(f"t must be <= total_steps={total_steps}, got {t}")

    initial_lr = max_lr / div_factor
    final_lr = initial_lr / final_div_factor
    warmup_end = pct_start * total_steps - 1.0
    if t <= warmup_end:
        start_lr, end_lr, start_step, end_step = initial_lr, max_lr, 0.0, warmup_end
    else:
        start_lr, end_lr, start_step, end_step = max_lr, final_lr, warmup_end, total_steps - 1.0
    if end_step == start_step:
        raise ValueError(
            f"pct_start={pct_start} with total_steps={total_steps} gives a phase of zero "
            f"length at t={t} (torch divides by zero here)"
        )
    pct = (t - start_step) / (end_step - start_step)
    return float(end_lr + (start_lr - end_lr) / 2.0 * (math.cos(math.pi * pct) + 1))


def linear_warmup_lr(t: int, base_lr: float, warmup_steps: int,
                     start_factor: float = 1.0 / 3, end_factor: float = 1.0) -> float:
    r"""Linear warm-up: ramp the factor from ``start_factor`` to ``end_factor``, then hold.

    .. math::
        \eta_t = \eta_0 \left(f_s + (f_e - f_s)\,
                 \frac{\min(t, T_w)}{T_w}\right)

    Equals ``torch.optim.lr_scheduler.LinearLR(opt, start_factor, end_factor,
    total_iters=warmup_steps)`` after ``t`` calls of ``scheduler.step()``
    (torch's defaults: ``start_factor=1/3``, ``end_factor=1``). After
    ``warmup_steps`` the learning rate stays at ``end_factor * base_lr``; to
    follow the warm-up with a decay, switch to another schedule at ``t = T_w``.

    Parameters
    ----------
    t : int
        Scheduler steps taken so far, ``t >= 0``.
    base_lr : float
        :math:`\eta_0 \ge 0`.
    warmup_steps : int
        :math:`T_w \ge 1`, the number of steps of the ramp.
    start_factor : float, default 1/3
        :math:`f_s \in (0, 1]`.
    end_factor : float, default 1.0
        :math:`f_e \in [0, 1]`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming the argument out of range (the factor ranges are torch's).

    Examples
    --------
    >>> [linear_warmup_lr(t, 0.4, warmup_steps=4, start_factor=0.25) for t in range(6)]
    [0.1, 0.175, 0.25, 0.325, 0.4, 0.4]
    """
    t = _check_t(t)
    base_lr = check_finite(base_lr, "base_lr", 0.0)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    start_factor = check_finite(start_factor, "start_factor", 0.0, 1.0, low_inclusive=False)
    end_factor = check_finite(end_factor, "end_factor", 0.0, 1.0)
    factor = start_factor + (end_factor - start_factor) * min(t, warmup_steps) / warmup_steps
    return float(base_lr * factor)


# ------------------------------------------------------------------ training loop


def gradient_descent(grad_fn, params, X, y, lr: float, epochs: int, batch_size=None,
                     shuffle: bool = True, rng=None, loss_fn=None, callback=None) -> list:
    r"""Batch, stochastic or mini-batch gradient descent over a dataset.

    Each update uses the **mean** gradient over a batch :math:`\mathcal B` of
    examples (never the sum, which would make the step grow with the batch):

    .. math::
        \theta \leftarrow \theta - \frac{\eta}{|\mathcal B|}
               \sum_{i \in \mathcal B} \nabla_\theta\, \ell(\theta; x_i, y_i)

    * ``batch_size=None`` (or ``N``): **batch** GD, :math:`\mathcal B` is the
      whole dataset, one update per epoch, no shuffling (a permutation would not
      change the mean, only its round-off).
    * ``batch_size=1``: **stochastic** GD, one example per update, ``N`` updates
      per epoch.
    * ``1 < batch_size < N``: **mini-batch** GD, ``ceil(N / batch_size)``
      updates per epoch; the last batch is smaller when ``batch_size`` does not
      divide ``N`` (its gradient is still the mean over its own examples).

    Batches sample *examples*; every update changes *all* parameters.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(params, X_batch, y_batch) -> list of arrays``: the gradient of
        the mean loss over the batch, one array per parameter (same shapes).
    params : list of ndarray
        Writable float arrays, updated in place.
    X : array_like, shape (N, ...)
        Inputs, one example per row.
    y : array_like, shape (N, ...)
        Targets, same length as ``X``.
    lr : float
        Learning rate :math:`\eta \ge 0`.
    epochs : int
        Passes over the data, ``>= 0``.
    batch_size : int or None, default None
        ``None`` for full batch, else an int in ``[1, N]``.
    shuffle : bool, default True
        Visit the examples in a new random order every epoch (ignored for a
        full batch).
    rng : numpy.random.Generator or int or None
        Source of the shuffling; an int seeds a new Generator.
    loss_fn : callable, optional
        ``loss_fn(params, X, y) -> float``, the loss on the whole dataset.
    callback : callable, optional
        ``callback(epoch, params)``, called after every epoch (``epoch`` from 1).

    Returns
    -------
    history : list of float
        With ``loss_fn``: ``epochs + 1`` full-dataset losses, ``history[0]``
        before training and ``history[k]`` after epoch ``k``. Without it: ``[]``.

    Raises
    ------
    ValueError
        If ``X`` is empty or its length differs from ``y``'s (names ``X``,
        ``y``), ``batch_size`` is not in ``[1, N]``, ``lr`` < 0, ``epochs`` < 0,
        ``rng`` is not a Generator/seed, ``params`` is bad, or ``grad_fn``
        returns gradients that do not match ``params`` (names ``grads``).

    Examples
    --------
    Least squares :math:`\tfrac{1}{2N}\|Xw - y\|^2`, whose mean gradient is
    :math:`X^\top (Xw - y) / N`:

    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> y = X @ np.array([3.0, -1.0])
    >>> w = np.zeros(2)
    >>> grad = lambda params, Xb, yb: [Xb.T @ (Xb @ params[0] - yb) / len(Xb)]
    >>> loss = lambda params, Xb, yb: float(np.mean((Xb @ params[0] - yb) ** 2) / 2)
    >>> history = gradient_descent(grad, [w], X, y, lr=0.5, epochs=200, loss_fn=loss)
    >>> np.round(w, 6)
    array([ 3., -1.])
    >>> len(history), history[-1] < 1e-12
    (201, True)
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X must have one example per row, got a scalar")
    check_nonempty(X, "X")
    if y.ndim == 0:
        raise ValueError("y must have one target per row of X, got a scalar")
    check_same_length(X, y, "X", "y")
    n = len(X)
    if batch_size is None:
        batch_size = n
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(f"batch_size must be in [1, N={n}] (or None for full batch), "
                         f"got {batch_size}")
    epochs = check_positive_int(epochs, "epochs", minimum=0)
    shuffle = check_flag(shuffle, "shuffle")
    opt = SGD(params, lr=lr)
    try:
        rng = np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"rng must be a numpy Generator, an int seed or None, got {rng!r}") from exc

    history = [] if loss_fn is None else [float(loss_fn(opt.params, X, y))]
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n) if shuffle and batch_size < n else np.arange(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            opt.step(grad_fn(opt.params, X[batch], y[batch]))
        if loss_fn is not None:
            history.append(float(loss_fn(opt.params, X, y)))
        if callback is not None:
            callback(epoch, opt.params)
    return history


def warmup_cosine_lr(t: int, base_lr: float, warmup_steps: int, total_steps: int,
                     eta_min: float = 0.0) -> float:
    r"""Linear warm-up for ``warmup_steps``, then one cosine decay down to ``eta_min``.

    With :math:`W` = ``warmup_steps`` and :math:`T` = ``total_steps``:

    .. math::
        \eta_t = \begin{cases}
        \eta_0 \left(\frac{1}{W} + \left(1 - \frac{1}{W}\right)\frac{t}{W}\right)
            & 0 \le t < W \\[4pt]
        \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
            \left(1 + \cos\frac{\pi (t - W)}{T - W}\right) & W \le t \le T \\[4pt]
        \eta_{\min} & t > T
        \end{cases}

    For :math:`0 \le t \le T` this is torch's ``SequentialLR([LinearLR(opt,
    start_factor=1/W, total_iters=W), CosineAnnealingLR(opt, T_max=T - W,
    eta_min)], milestones=[W])`` after ``t`` calls of ``step()`` (``LinearLR``
    cannot start from 0, hence the first step at :math:`\eta_0 / W`). After
    :math:`T` it holds :math:`\eta_{\min}`, where torch's cosine would rise again.

    Parameters
    ----------
    t : int
        Steps taken so far, ``t >= 0``.
    base_lr : float
        :math:`\eta_0 \ge 0`, the peak learning rate, reached at ``t = W``.
    warmup_steps : int
        :math:`W`, with ``1 <= warmup_steps < total_steps``.
    total_steps : int
        :math:`T`, the step at which the decay ends.
    eta_min : float, default 0.0
        Final learning rate, ``>= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming the argument out of range.

    Examples
    --------
    >>> [round(warmup_cosine_lr(t, 1.0, 2, 6), 4) for t in range(8)]
    [0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """
    t = check_positive_int(t, "t", 0)
    base_lr = check_in_range(base_lr, "base_lr", 0.0, math.inf)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", 1)
    total_steps = check_positive_int(total_steps, "total_steps", 2)
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps must be smaller than total_steps, got "
                         f"warmup_steps={warmup_steps}, total_steps={total_steps}")
    eta_min = check_in_range(eta_min, "eta_min", 0.0, math.inf)
    W, T = warmup_steps, total_steps
    if t < W:
        return float(base_lr * (1 / W + (1 - 1 / W) * t / W))
    if t > T:
        return float(eta_min)
    return float(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (t - W) / (T - W))) / 2)
