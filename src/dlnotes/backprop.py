r"""Backpropagation: numerical gradients, gradient checking and a tiny autodiff.

Three tools, from the most naive to the one every framework uses:

1. :func:`numerical_gradient` estimates :math:`\nabla f(x)` by central
   differences, one entry at a time. Slow (two evaluations of ``f`` per
   entry) but needs no calculus, so it is the referee for everything else.
2. :func:`gradcheck` compares an analytic gradient with the numerical one and
   reports the worst entry, using :func:`relative_error`.
3. :class:`Value` is a scalar reverse-mode automatic differentiation engine
   (in the spirit of Karpathy's micrograd). Every operation records its
   inputs and a small *local backward rule*; :meth:`Value.backward` visits the
   graph in reverse topological order and applies the chain rule

   .. math:: \frac{\partial L}{\partial x}
             = \sum_{y \,:\, x \to y} \frac{\partial L}{\partial y}
               \frac{\partial y}{\partial x},

   where the sum runs over every node ``y`` that uses ``x`` -- which is why
   gradients are *accumulated* with ``+=``, never assigned. The local rules
   are plain module functions, one per primitive operation
   (:func:`add_backward`, :func:`mul_backward`, :func:`pow_backward`,
   :func:`exp_backward`, :func:`log_backward`, :func:`tanh_backward`,
   :func:`sigmoid_backward`, :func:`relu_backward`); ``-``, ``/`` and unary
   minus are compositions of them.

:class:`Neuron`, :class:`Layer` and :class:`MLP` build a small multi-layer
perceptron out of :class:`Value` objects, enough to train a classifier on
:func:`dlnotes.data.make_moons` by plain gradient descent.
"""

from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_float_array,
    check_finite_array,
    check_in_range,
    check_nonempty,
    check_positive_int,
)

__all__ = [
    "numerical_gradient",
    "relative_error",
    "GradcheckResult",
    "gradcheck",
    "Value",
    "add_backward",
    "mul_backward",
    "pow_backward",
    "exp_backward",
    "log_backward",
    "tanh_backward",
    "sigmoid_backward",
    "relu_backward",
    "random_expression",
    "Neuron",
    "Layer",
    "MLP",
]


# --------------------------------------------------------------------------
# numerical gradient and gradient checking
# --------------------------------------------------------------------------

def _scalar_output(fx) -> float:
    """``f(x)`` as a float, or ValueError if ``f`` did not return a scalar."""
    arr = np.asarray(fx)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"f must return a scalar, got {type(fx).__name__} of shape {arr.shape}")
    return float(arr.reshape(()))


def _point(x) -> np.ndarray:
    """``x`` itself if it is a writeable float64 ndarray, else a float64 copy."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.writeable):
        x = as_float_array(x, "x").astype(np.float64)    # a copy, in float64
    check_nonempty(x, "x")
    check_finite_array(x, "x")
    return x


def numerical_gradient(f, x, eps=1e-6):
    r"""Gradient of a scalar function by central differences.

    .. math:: \frac{\partial f}{\partial x_i} \approx
              \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}

    The error is :math:`O(\varepsilon^2)` (the one-sided difference is only
    :math:`O(\varepsilon)`), plus a rounding error of roughly
    :math:`10^{-16} |f| / \varepsilon`.

    If ``x`` is a float64 ndarray it is perturbed **in place**, one entry at
    a time, and every entry is restored (bit for bit) afterwards -- even if
    ``f`` raises. So ``f`` may ignore its argument and read the array from a
    closure (``numerical_gradient(lambda _: loss(W), W)``). Any other input
    is first copied to a new float64 array.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    x : array_like
        The point, of any shape (a Python float gives a 0-d array).
    eps : float, default 1e-6
        Step :math:`\varepsilon > 0`.

    Returns
    -------
    ndarray, float64, same shape as ``x``

    Raises
    ------
    ValueError
        If ``x`` is empty or not finite, ``eps <= 0``, ``f`` is not callable
        or does not return a scalar.

    Examples
    --------
    >>> numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    if not callable(f):
        raise ValueError(f"f must be callable, got {type(f).__name__}")
    eps = check_in_range(eps, "eps", low=0.0, low_inclusive=False)
    x = _point(x)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = _scalar_output(f(x))
            x[idx] = old - eps
            f_minus = _scalar_output(f(x))
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


_TINY = np.finfo(np.float64).tiny


def _relative_errors(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    """Entrywise :math:`|a - b| / \\max(|a| + |b|, \\text{floor})`."""
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def relative_error(a, b, floor=_TINY):
    r"""Largest entrywise relative error between two arrays.

    .. math:: \operatorname{rel}(a, b) = \max_i
              \frac{|a_i - b_i|}{\max(|a_i| + |b_i|,\ \text{floor})}

    Each entry lies in :math:`[0, 1]`: 0 when :math:`a_i = b_i` (two zeros
    give 0, the floor only prevents 0/0), 1 when the signs are opposite or
    one of them is 0 and the other is not. Unlike :math:`|a - b|` it does
    not depend on the scale of the gradients. As a rule of thumb for
    float64 gradient checks: below :math:`10^{-7}` is right, above
    :math:`10^{-4}` is almost certainly a bug.

    Parameters
    ----------
    a, b : array_like
        Same shape, finite.
    floor : float, default ``np.finfo(np.float64).tiny``
        Smallest denominator. Raising it (e.g. to ``1e-8``) turns the test
        into an absolute one for entries much smaller than ``floor``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in shape, are empty, or are not finite, or
        ``floor <= 0``.

    Examples
    --------
    >>> relative_error([1.0, 0.0], [1.0, 0.0])
    0.0
    >>> relative_error([1.0, 2.0], [1.0, 1.0])
    0.3333333333333333
    """
    a = as_float_array(a, "a", finite=True)
    b = as_float_array(b, "b", finite=True)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    check_nonempty(a, "a")
    floor = check_in_range(floor, "floor", low=0.0, low_inclusive=False)
    return float(np.max(_relative_errors(a, b, floor)))


@dataclass(frozen=True)
class GradcheckResult:
    """Outcome of :func:`gradcheck`.

    ``bool(result)`` is ``result.passed``, so ``assert gradcheck(...)`` works.

    Attributes
    ----------
    max_rel_error : float
        Largest entrywise relative error.
    index : tuple of int
        Index of that worst entry in ``x`` (``()`` for a 0-d ``x``).
    analytic, numeric : float
        The two gradient values at ``index``.
    passed : bool
        ``max_rel_error <= tol``.
    tol : float
        The tolerance used.
    """

    max_rel_error: float
    index: tuple
    analytic: float
    numeric: float
    passed: bool
    tol: float

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        return (f"gradcheck {verdict}: max relative error {self.max_rel_error:.3e} "
                f"(tol {self.tol:.0e}) at index {self.index}: "
                f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g}")


def gradcheck(f, grad_f, x, eps=1e-6, tol=1e-6, floor=1e-3):
    r"""Compare an analytic gradient with central differences; report the worst entry.

    For every entry :math:`i` of ``x``

    .. math:: e_i = \frac{|g_i - \hat g_i|}{\max(|g_i| + |\hat g_i|,\ \text{floor})},
              \qquad \text{passed} \iff \max_i e_i \le \text{tol}

    with :math:`g = ` ``grad_f(x)`` and :math:`\hat g = `
    ``numerical_gradient(f, x, eps)``. This is :func:`relative_error` with a
    ``floor``: entries with :math:`|g_i| + |\hat g_i| \ge` ``floor`` are
    compared relatively, smaller ones absolutely (to
    :math:`\text{tol} \cdot \text{floor} = 10^{-9}` by default). The floor
    keeps a true zero gradient from failing on the rounding noise of the
    numerical estimate (about :math:`10^{-16}|f|/\varepsilon`). Check at a
    random point, away from kinks such as ``relu`` at 0.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    grad_f : callable
        ``grad_f(x) -> ndarray`` of the same shape as ``x``.
    x : array_like
        Point of any shape (see :func:`numerical_gradient` for in-place
        perturbation).
    eps : float, default 1e-6
        Finite-difference step.
    tol : float, default 1e-6
        Largest accepted error.
    floor : float, default 1e-3
        Smallest denominator of the relative error.

    Returns
    -------
    GradcheckResult
        ``max_rel_error``, ``index`` of the worst entry, the ``analytic`` and
        ``numeric`` values there, and ``passed``.

    Raises
    ------
    ValueError
        If ``grad_f`` is not callable or returns the wrong shape, or for the
        reasons of :func:`numerical_gradient`, or if ``tol`` or ``floor`` is
        not positive.

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> gradcheck(lambda v: np.sum(v ** 3), lambda v: 3 * v ** 2, x).passed
    True
    >>> r = gradcheck(lambda v: np.sum(v ** 3), lambda v: 2 * v ** 2, x)
    >>> r.passed, r.index
    (False, (1,))
    """
    if not callable(grad_f):
        raise ValueError(f"grad_f must be callable, got {type(grad_f).__name__}")
    tol = check_in_range(tol, "tol", low=0.0, low_inclusive=False)
    floor = check_in_range(floor, "floor", low=0.0, low_inclusive=False)
    x = _point(x)
    analytic = np.array(grad_f(x), dtype=np.float64)  # a copy, taken before perturbing
    if analytic.shape != x.shape:
        raise ValueError(
            f"grad_f must return an array of the shape of x {x.shape}, got {analytic.shape}"
        )
    numeric = numerical_gradient(f, x, eps)
    if not np.all(np.isfinite(analytic)):
        worst = np.unravel_index(np.argmax(~np.isfinite(analytic)), x.shape)
        return GradcheckResult(math.inf, tuple(int(i) for i in worst),
                               float(analytic[worst]), float(numeric[worst]), False, tol)
    errors = _relative_errors(analytic, numeric, floor)
    errors = np.where(np.isnan(errors), np.inf, errors)  # NaN numeric -> fail
    worst = np.unravel_index(np.argmax(errors), x.shape)
    max_err = float(errors[worst])
    return GradcheckResult(max_err, tuple(int(i) for i in worst), float(analytic[worst]),
                           float(numeric[worst]), bool(max_err <= tol), tol)


# --------------------------------------------------------------------------
# Value: scalar reverse-mode autodiff
# --------------------------------------------------------------------------
#
# The local backward rules. Each receives the output node ``out`` of one
# operation and adds d(out)/d(input) * out.grad to the grad of every input
# (``out._prev``) -- the chain rule for one edge of the graph. ``+=`` because
# an input used by several operations collects a contribution from each.

def add_backward(out: Value) -> None:
    """``out = a + b``:  d/da = 1,  d/db = 1."""
    a, b = out._prev
    a.grad += out.grad
    b.grad += out.grad


def mul_backward(out: Value) -> None:
    """``out = a * b``:  d/da = b,  d/db = a."""
    a, b = out._prev
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def pow_backward(out: Value) -> None:
    """``out = a ** k`` (k constant):  d/da = k a^(k-1)."""
    (a,) = out._prev
    k = out._ctx
    if k == 0:
        local = 0.0
    elif a.data == 0 and k < 1:  # e.g. sqrt at 0: infinite slope (0 < k < 1 here)
        local = math.inf
    else:
        local = k * _power(a.data, k - 1)
    a.grad += local * out.grad


def exp_backward(out: Value) -> None:
    """``out = exp(a)``:  d/da = exp(a) = out."""
    (a,) = out._prev
    a.grad += out.data * out.grad


def log_backward(out: Value) -> None:
    """``out = log(a)``:  d/da = 1 / a."""
    (a,) = out._prev
    a.grad += out.grad / a.data


def tanh_backward(out: Value) -> None:
    """``out = tanh(a)``:  d/da = 1 - tanh(a)^2 = 1 - out^2."""
    (a,) = out._prev
    a.grad += (1.0 - out.data**2) * out.grad


def sigmoid_backward(out: Value) -> None:
    """``out = sigmoid(a)``:  d/da = sigmoid(a) (1 - sigmoid(a)) = out (1 - out)."""
    (a,) = out._prev
    a.grad += out.data * (1.0 - out.data) * out.grad


def relu_backward(out: Value) -> None:
    """``out = relu(a)``:  d/da = 1 if a > 0 else 0 (0 at the kink, as torch)."""
    (a,) = out._prev
    a.grad += (1.0 if a.data > 0 else 0.0) * out.grad


def _as_value(other) -> Value:
    return other if isinstance(other, Value) else Value(other)


def _power(a: float, k: float) -> float:
    """``a ** k`` for floats, giving +-inf instead of raising OverflowError.

    ``0.0 ** k`` with ``k < 0`` still raises ``ZeroDivisionError``, as Python
    does for ``1 / 0.0``.
    """
    try:
        return a**k
    except OverflowError:
        odd = float(k).is_integer() and int(k) % 2 == 1
        return -math.inf if (a < 0 and odd) else math.inf


class Value:
    r"""A scalar that remembers how it was computed, for reverse-mode autodiff.

    Each operation creates a new ``Value`` holding

    * ``data`` -- the number computed in the forward pass,
    * ``grad`` -- :math:`\partial L/\partial\,\text{this}`, filled in by
      :meth:`backward` (0 until then),
    * its inputs ``_prev`` and its local backward rule ``_backward`` (one of
      the module functions ``add_backward``, ``mul_backward``, ... above),
      plus ``_ctx``, a constant the rule needs (the exponent of ``**``).

    Supported: ``+ - * /`` (with Python numbers on either side), ``**`` with
    a constant int/float exponent, unary ``-``, and :meth:`exp`,
    :meth:`log`, :meth:`tanh`, :meth:`sigmoid`, :meth:`relu`. Subtraction,
    division and negation are built from ``+``, ``*`` and ``**``, so they
    need no rule of their own. ``relu'(0)`` is 0, as in torch; ``sigmoid``
    and ``tanh`` are stable for any input (``Value(800).sigmoid()`` is 1).

    Like torch, gradients accumulate across calls to :meth:`backward`; set
    ``grad = 0`` (or use ``MLP.zero_grad``) between steps.

    Parameters
    ----------
    data : float
        The value (ints and numpy scalars are converted to float).

    Raises
    ------
    ValueError
        If ``data`` is not a real number, the exponent of ``**`` is not a
        constant number, a negative base gets a non-integer exponent, or
        :meth:`log` gets a value <= 0.
    ZeroDivisionError
        Dividing by a ``Value`` of 0 (or ``0 ** k`` with ``k < 0``), as for
        Python floats.

    Examples
    --------
    >>> x = Value(2.0)
    >>> y = x * x + 3 * x      # x is used twice
    >>> y.backward()
    >>> y.data, x.grad         # dy/dx = 2x + 3
    (10.0, 7.0)
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_backward", "_ctx")
    __array_ufunc__ = None  # make ``np.float64(2) * Value(3)`` call Value.__rmul__

    def __init__(self, data, _prev=(), _op="", _backward=None, _ctx=None):
        if isinstance(data, (Value, str, bytes)):
            raise ValueError(f"data must be a real number, got {data!r}")
        try:
            self.data = float(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"data must be a real number, got {data!r}") from exc
        self.grad = 0.0
        self._prev = _prev          # the inputs of the op that made this node
        self._op = _op              # its name, for display
        self._backward = _backward  # its local rule; None for a leaf
        self._ctx = _ctx            # a constant saved for the rule

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- primitive operations: a forward value and a backward rule ---------

    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), "+", add_backward)

    def __mul__(self, other):
        other = _as_value(other)
        return Value(self.data * other.data, (self, other), "*", mul_backward)

    def __pow__(self, k):
        if isinstance(k, (Value, bool)) or not isinstance(k, numbers.Real):
            raise ValueError(f"the exponent k must be a constant int or float, got {k!r}")
        k = int(k) if isinstance(k, numbers.Integral) else float(k)
        if self.data < 0 and not float(k).is_integer():
            raise ValueError(f"a negative base ({self.data}) needs an integer exponent k, got {k}")
        return Value(_power(self.data, k), (self,), f"**{k}", pow_backward, k)

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf
        return Value(e, (self,), "exp", exp_backward)

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got data={self.data}")
        return Value(math.log(self.data), (self,), "log", log_backward)

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh", tanh_backward)

    def sigmoid(self):
        a = self.data
        if a >= 0:  # only ever exponentiate -|a|, so nothing overflows
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        return Value(s, (self,), "sigmoid", sigmoid_backward)

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu", relu_backward)

    # ---- built from the primitives ------------------------------------------

    def __neg__(self):  # -a = a * (-1)
        return self * -1.0

    def __sub__(self, other):  # a - b = a + (-b)
        return self + (-_as_value(other))

    def __truediv__(self, other):  # a / b = a * b^(-1)
        return self * _as_value(other) ** -1

    def __radd__(self, other):  # other + self
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __rsub__(self, other):  # other - self
        return _as_value(other) - self

    def __rtruediv__(self, other):  # other / self
        return _as_value(other) / self

    # ---- reverse pass ---------------------------------------------------------

    def _topological_order(self) -> list[Value]:
        """Every node this one depends on, each listed after all of its inputs."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if child not in visited)
        return order

    def backward(self):
        r"""Backpropagate from this node: fill ``grad`` of every node it depends on.

        Sets :math:`\partial L/\partial L = 1` here, then applies each node's
        local rule in reverse topological order, so a node's ``grad`` is
        complete (summed over all its uses) before it is passed on.
        """
        order = self._topological_order()
        self.grad = 1.0
        for node in reversed(order):
            if node._backward is not None:
                node._backward(node)


# --------------------------------------------------------------------------
# random expression graphs, to test an autodiff engine against another
# --------------------------------------------------------------------------

# Each op works unchanged on Values, torch scalars and any engine with the same
# operators; inputs are kept in each op's domain (positive bases and logs,
# bounded exps, non-zero denominators).
_EXPRESSION_OPS = (
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 0.5),
    lambda a, b: a ** 2 - b ** 3 * 0.1,
    lambda a, b: (a * a + 0.25) ** 0.5 + (b * b + 1.0) ** -1.5,
    lambda a, b: a.tanh() * b,
    lambda a, b: (a - b).relu(),
    lambda a, b: a.tanh().exp() - b,
    lambda a, b: (a * a + b * b + 0.1).log(),
    lambda a, b: 1.5 - a,
    lambda a, b: 2.0 / (a * a + 1.0) + b,
    lambda a, b: 0.5 * a + b * -0.25,
    lambda a, b: -a * b + 3.0,
    lambda a, b: (a + 1.0).relu() * (b - 0.5).relu(),
)
_GROWING_OPS = frozenset({0, 2, 4, 5, 13, 14})  # the ops that can grow their inputs' magnitude


def random_expression(rng, n_leaves, n_ops):
    r"""A random scalar expression that reuses its nodes: a test case for autodiff engines.

    Draws a plan of ``n_ops`` operations; operation ``i`` combines two nodes
    picked at random, with replacement, among the ``n_leaves`` inputs and the
    ``i`` results before it, so that many nodes are used several times (and
    some operation gets the same node twice): gradients must accumulate. The
    operations use ``+ - * / **`` with constant exponents, reflected forms with
    plain numbers, unary minus and the methods ``tanh``, ``relu``, ``exp`` and
    ``log``; results that could grow are squashed by ``3 tanh(.)``, so long
    chains stay finite for inputs in :math:`[-2, 2]`. The output is the sum of
    the last three nodes.

    The same plan applied to :class:`Value` leaves and to torch scalars that
    require gradients gives the same expression, so the two engines' gradients
    can be compared.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the plan.
    n_leaves : int
        Number of inputs, >= 1.
    n_ops : int
        Number of operations, >= 1.

    Returns
    -------
    callable
        ``build(*inputs) -> output``, taking ``n_leaves`` scalars of one engine.

    Raises
    ------
    ValueError
        If ``rng`` is not a ``numpy.random.Generator`` or ``n_leaves``,
        ``n_ops`` are not positive integers (``build`` raises it for a wrong
        number of inputs).

    Examples
    --------
    >>> build = random_expression(np.random.default_rng(0), n_leaves=2, n_ops=6)
    >>> x, y = Value(0.5), Value(-1.0)
    >>> out = build(x, y)
    >>> out.backward()
    >>> out.grad
    1.0
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_leaves = check_positive_int(n_leaves, "n_leaves")
    n_ops = check_positive_int(n_ops, "n_ops")
    plan = [(int(rng.integers(len(_EXPRESSION_OPS))), int(rng.integers(n_leaves + i)),
             int(rng.integers(n_leaves + i))) for i in range(n_ops)]

    def build(*inputs):
        if len(inputs) != n_leaves:
            raise ValueError(f"build takes {n_leaves} inputs (n_leaves), got {len(inputs)}")
        nodes = list(inputs)
        for op, i, j in plan:
            out = _EXPRESSION_OPS[op](nodes[i], nodes[j])
            nodes.append(out.tanh() * 3.0 if op in _GROWING_OPS else out)
        return sum(nodes[-3:], nodes[0] * 0.0)

    return build


# --------------------------------------------------------------------------
# a tiny multi-layer perceptron of Values
# --------------------------------------------------------------------------

_ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}


def _check_activation(activation: str) -> str:
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
        )
    return activation


class Neuron:
    r"""One unit: :math:`\phi\left(\sum_i w_i x_i + b\right)`.

    Weights start uniform in :math:`[-1, 1]`, the bias at 0 (micrograd).

    Parameters
    ----------
    nin : int
        Number of inputs.
    activation : {"relu", "tanh", "sigmoid", "linear"}, default "relu"
    rng : random.Random, optional
        Source of the initial weights (default: ``random.Random(0)``).

    Examples
    --------
    >>> n = Neuron(2, activation="linear")
    >>> len(n.parameters())
    3
    """

    def __init__(self, nin, activation="relu", rng=None):
        self.nin = check_positive_int(nin, "nin")
        self.activation = _check_activation(activation)
        rng = random.Random(0) if rng is None else rng
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(self.nin)]
        self.b = Value(0.0)

    def __call__(self, x):
        if not hasattr(x, "__len__") or len(x) != self.nin:
            got = len(x) if hasattr(x, "__len__") else repr(x)
            raise ValueError(f"x must be a sequence of {self.nin} entries (nin), got {got}")
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return _ACTIVATIONS[self.activation](z)

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer:
    """``nout`` neurons reading the same ``nin`` inputs.

    Examples
    --------
    >>> layer = Layer(3, 2)
    >>> len(layer([1.0, 2.0, 3.0])), len(layer.parameters())
    (2, 8)
    """

    def __init__(self, nin, nout, activation="relu", rng=None):
        nout = check_positive_int(nout, "nout")
        rng = random.Random(0) if rng is None else rng
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x):
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer([{', '.join(map(repr, self.neurons))}])"


class MLP:
    """A multi-layer perceptron of :class:`Value` neurons.

    Hidden layers use ``activation``; the last layer is linear (its outputs
    are scores/logits, to be fed to a loss).

    Parameters
    ----------
    nin : int
        Number of inputs.
    nouts : list of int
        Sizes of the hidden layers followed by the output size,
        e.g. ``[16, 16, 1]``.
    activation : {"relu", "tanh", "sigmoid", "linear"}, default "relu"
    seed : int, default 0
        Seed of the ``random.Random`` drawing the initial weights.

    Examples
    --------
    >>> model = MLP(2, [4, 1])
    >>> out = model([1.0, -1.0])            # one Value when the last layer has size 1
    >>> len(model.parameters())             # (2*4 + 4) + (4*1 + 1)
    17
    """

    def __init__(self, nin, nouts, activation="relu", seed=0):
        nin = check_positive_int(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__len__") or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [nin] + [check_positive_int(n, "nouts") for n in nouts]
        _check_activation(activation)
        rng = random.Random(seed)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's ``grad`` to 0 (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad = 0.0

    def __repr__(self) -> str:
        return f"MLP([{', '.join(map(repr, self.layers))}])"


# --------------------------------------------------------------------------
# training the MLP of Values on two moons
# --------------------------------------------------------------------------

__all__ += ["train_moons"]

_MOONS_HIDDEN = 8


def train_moons(X, y, steps, lr, seed):
    r"""Train a one-hidden-layer MLP of :class:`Value` on 2-class data; return accuracy and losses.

    The network has :math:`H = 8` tanh hidden units and one linear output,
    the score

    .. math:: s(x) = \sum_{j=1}^{H} w_{2,j} \tanh\Bigl(\sum_{d=1}^{D} W_{1,jd}\, x_d
              + b_{1,j}\Bigr) + b_2 .

    Initialisation, with ``rng = np.random.default_rng(seed)``: first
    ``W1 = rng.uniform(-1, 1, size=(8, D))`` (row ``j`` holds the weights into
    hidden unit ``j``), then ``w2 = rng.uniform(-1, 1, size=8)``; the biases
    ``b1`` (8 zeros) and ``b2`` start at 0. With labels mapped to
    :math:`t_i = 2y_i - 1 \in \{-1, +1\}` it minimises the mean hinge loss
    (micrograd's demo)

    .. math:: L = \frac1N \sum_{i=1}^{N} \max\bigl(0,\ 1 - t_i\, s(x_i)\bigr)

    by full-batch gradient descent: each step builds the graph of :math:`L`
    over all N points, zeroes the gradients, calls ``L.backward()`` and moves
    every parameter by :math:`-\eta\,\partial L/\partial p`. The prediction is
    class 1 where :math:`s(x) > 0`.

    On ``dlnotes.data.make_moons(30, noise=0.1, seed=0)``, ``steps=40,
    lr=6.0`` reach a training accuracy of at least 0.95 for weight seeds 0-2.
    So few steps of plain gradient descent are not enough for every data
    set: other draws of the data may stop at 0.8-0.9. One step over 30
    points builds about 2 000 nodes.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Inputs, finite, N >= 1.
    y : array_like, shape (N,)
        Labels 0/1.
    steps : int
        Number of gradient steps, >= 1.
    lr : float
        Learning rate :math:`\eta > 0`.
    seed : int
        Seed of the initial weights, >= 0.

    Returns
    -------
    accuracy : float
        Training accuracy after the last step.
    losses : ndarray, shape (steps,)
        :math:`L` at the start of each step (before its update).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D and finite, ``y`` is not 0/1 labels of length N,
        or ``steps``, ``lr``, ``seed`` are out of range.

    Examples
    --------
    >>> X = np.array([[-1.0, 0.0], [-0.5, 0.5], [0.5, -0.5], [1.0, 0.0]])
    >>> accuracy, losses = train_moons(X, [0, 0, 1, 1], steps=20, lr=0.5, seed=0)
    >>> accuracy, bool(losses[-1] < losses[0])
    (1.0, True)
    """
    X = as_float_array(X, "X", ndim=2, finite=True)
    check_nonempty(X, "X")
    labels = np.asarray(y)
    if labels.shape != (X.shape[0],) or not np.all(np.isin(labels, (0, 1))):
        raise ValueError(f"y must hold {X.shape[0]} labels 0/1 (one per row of X), "
                         f"got shape {labels.shape}")
    steps = check_positive_int(steps, "steps")
    lr = check_in_range(lr, "lr", low=0.0, low_inclusive=False)
    if not math.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr}")
    seed = check_positive_int(seed, "seed", minimum=0)

    rng = np.random.default_rng(seed)
    first = rng.uniform(-1.0, 1.0, size=(_MOONS_HIDDEN, X.shape[1]))
    W1 = [[Value(w) for w in row] for row in first]
    w2 = [Value(w) for w in rng.uniform(-1.0, 1.0, size=_MOONS_HIDDEN)]
    b1 = [Value(0.0) for _ in range(_MOONS_HIDDEN)]
    b2 = Value(0.0)
    params = [w for row in W1 for w in row] + b1 + w2 + [b2]

    def score(x):
        hidden = [sum((w * xd for w, xd in zip(row, x, strict=True)), b).tanh()
                  for row, b in zip(W1, b1, strict=True)]
        return sum((w * h for w, h in zip(w2, hidden, strict=True)), b2)

    rows = X.tolist()
    signs = [2.0 * float(v) - 1.0 for v in labels]
    losses = np.empty(steps)
    for step in range(steps):
        margins = [(1.0 - t * score(x)).relu() for x, t in zip(rows, signs, strict=True)]
        loss = sum(margins, Value(0.0)) * (1.0 / len(rows))
        losses[step] = loss.data
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
    correct = [(score(x).data > 0) == (t > 0) for x, t in zip(rows, signs, strict=True)]
    return float(np.mean(correct)), losses
