"""Tests for dlnotes.backprop against torch autograd (float64)."""

import math
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import backprop
from dlnotes.backprop import MLP, Layer, Neuron, Value
from dlnotes.data import make_moons

SETTINGS = settings(max_examples=40, deadline=None)


def torch_grad(fn, x):
    xt = torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=True)
    fn(xt).backward()
    return xt.grad.numpy()


# Each function is written once for numpy and once for torch.
FUNCTIONS = {
    "poly": (lambda x: np.sum(np.sin(x) * x**2), lambda x: torch.sum(torch.sin(x) * x**2)),
    "logsumexp": (
        lambda x: np.log(np.sum(np.exp(x - x.max()))) + x.max(),
        lambda x: torch.logsumexp(x.reshape(-1), 0),
    ),
    "tanh_prod": (lambda x: np.tanh(x).prod(), lambda x: torch.tanh(x).prod()),
    "norm": (lambda x: np.sqrt(np.sum(x**2) + 1.0), lambda x: torch.sqrt(torch.sum(x**2) + 1.0)),
}


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3), (2, 2, 2)])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numerical_gradient_matches_torch(rng, name, shape):
    f_np, f_t = FUNCTIONS[name]
    x = rng.normal(size=shape)
    grad = backprop.numerical_gradient(f_np, x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, torch_grad(f_t, x), rtol=1e-6, atol=1e-8)


def test_numerical_gradient_quadratic_form(rng):
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    grad = backprop.numerical_gradient(lambda v: v @ A @ v, x)
    expected = torch_grad(lambda v: v @ torch.tensor(A) @ v, x)
    np.testing.assert_allclose(grad, expected, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_restores_x_and_works_through_a_closure(rng):
    W = rng.normal(size=(3, 2))
    W_before = W.copy()
    X = rng.normal(size=(5, 3))

    def loss(_):  # reads W from the closure, CS231n style
        return float(np.sum((X @ W) ** 2))

    grad = backprop.numerical_gradient(loss, W)
    assert np.array_equal(W, W_before)  # bit for bit
    np.testing.assert_allclose(grad, torch_grad(lambda w: torch.sum((torch.tensor(X) @ w) ** 2),
                                                W_before), rtol=1e-6)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        if v[1] != 2.0:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError):
        backprop.numerical_gradient(f, x)
    assert np.array_equal(x, [1.0, 2.0])


def test_numerical_gradient_copies_non_float64_input():
    x = np.array([1, 2, 3])  # int: perturbing in place would truncate
    grad = backprop.numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_allclose(grad, 2.0 * x, rtol=1e-8)
    assert x.dtype == np.int64 and np.array_equal(x, [1, 2, 3])
    assert backprop.numerical_gradient(lambda v: float(v) ** 3, 2.0) == pytest.approx(12.0)


@pytest.mark.parametrize(
    "f, x, kwargs, match",
    [
        (lambda v: v, np.ones(3), {}, "f must return a scalar"),
        (lambda v: "a", np.ones(3), {}, "f must return a scalar"),
        ("not callable", np.ones(3), {}, "f must be callable"),
        (np.sum, np.ones(3), dict(eps=0.0), "eps"),
        (np.sum, np.ones(3), dict(eps=-1e-6), "eps"),
        (np.sum, np.ones(0), {}, "x"),
        (np.sum, np.array([1.0, np.nan]), {}, "x"),
    ],
)
def test_numerical_gradient_bad_input(f, x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        backprop.numerical_gradient(f, x, **kwargs)


# --------------------------------------------------------------------------
# relative_error
# --------------------------------------------------------------------------

def test_relative_error_formula(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    expected = np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), np.finfo(float).tiny))
    got = backprop.relative_error(a, b)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-15)


def test_relative_error_special_values():
    assert backprop.relative_error(0.0, 0.0) == 0.0
    assert backprop.relative_error([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert backprop.relative_error([2.0], [-2.0]) == 1.0
    assert backprop.relative_error([1e-30], [0.0]) == 1.0
    assert backprop.relative_error([1.0, 2.0], [1.0, 1.0]) == pytest.approx(1 / 3)
    assert backprop.relative_error([1e-10], [0.0], floor=1e-8) == pytest.approx(1e-2)


@SETTINGS
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=8), st.floats(0.5, 2.0))
def test_relative_error_is_symmetric_bounded_and_scale_free(values, scale):
    a = np.array(values)
    b = a[::-1] + 0.5
    e = backprop.relative_error(a, b)
    assert 0.0 <= e <= 1.0
    assert e == backprop.relative_error(b, a)
    assert backprop.relative_error(scale * a, scale * b) == pytest.approx(e, rel=1e-8, abs=1e-300)


def test_relative_error_bad_input():
    with pytest.raises(ValueError, match="a and b"):
        backprop.relative_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="a"):
        backprop.relative_error(np.ones(0), np.ones(0))
    with pytest.raises(ValueError, match="b"):
        backprop.relative_error(np.ones(2), [1.0, np.inf])
    with pytest.raises(ValueError, match="floor"):
        backprop.relative_error(np.ones(2), np.ones(2), floor=0.0)


# --------------------------------------------------------------------------
# gradcheck
# --------------------------------------------------------------------------

def softmax_ce(W, X, y):
    Z = X @ W
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def softmax_ce_grad(W, X, y):
    Wt = torch.tensor(W, requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(X) @ Wt, torch.tensor(y)).backward()
    return Wt.grad.numpy()


def test_gradcheck_passes_on_correct_gradient(rng):
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    W = rng.normal(size=(3, 4))
    result = backprop.gradcheck(lambda w: softmax_ce(w, X, y),
                                lambda w: softmax_ce_grad(w, X, y), W)
    assert result.passed and bool(result)
    assert result.max_rel_error < 1e-7
    assert len(result.index) == 2
    assert "PASSED" in repr(result)


@SETTINGS
@given(st.integers(0, 11), st.sampled_from([1e-3, 0.5, -2.0]), st.integers(0, 1000))
def test_gradcheck_fails_at_the_planted_entry(flat, delta, seed):
    r = np.random.default_rng(seed)
    X, y = r.normal(size=(5, 3)), r.integers(0, 4, size=5)
    W = r.normal(size=(3, 4))
    index = np.unravel_index(flat, W.shape)

    def wrong_grad(w):
        g = softmax_ce_grad(w, X, y).copy()
        g[index] += delta
        return g

    result = backprop.gradcheck(lambda w: softmax_ce(w, X, y), wrong_grad, W)
    assert not result.passed and not result
    assert result.index == tuple(int(i) for i in index)
    true = softmax_ce_grad(W, X, y)[index]
    assert result.analytic == pytest.approx(true + delta, rel=1e-12, abs=1e-15)
    assert result.numeric == pytest.approx(true, rel=1e-6, abs=1e-9)
    expected = abs(delta) / max(abs(true + delta) + abs(result.numeric), 1e-3)
    assert result.max_rel_error == pytest.approx(expected, rel=1e-4)
    text = repr(result)
    assert "FAILED" in text and str(result.index) in text


def test_gradcheck_zero_gradient_with_rounding_noise_passes(rng):
    # d/dx of (x - mean(x)) summed is exactly 0, but its finite difference is rounding noise
    x = rng.normal(size=5) * 10

    def f(v):
        return float(np.sum(v - v.mean()) + np.sum(v**2))

    result = backprop.gradcheck(f, lambda v: 2 * v, x)
    assert result.passed, result


def test_gradcheck_zero_dimensional_x():
    result = backprop.gradcheck(lambda v: float(v) ** 3, lambda v: 3 * v**2, 1.5)
    assert result.passed and result.index == ()


def test_gradcheck_nan_gradient_fails():
    result = backprop.gradcheck(np.sum, lambda v: np.full_like(v, np.nan), np.ones(3))
    assert not result.passed


def test_gradcheck_bad_input():
    with pytest.raises(ValueError, match="grad_f"):
        backprop.gradcheck(np.sum, lambda v: np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="grad_f"):
        backprop.gradcheck(np.sum, None, np.ones(3))
    with pytest.raises(ValueError, match="tol"):
        backprop.gradcheck(np.sum, np.ones_like, np.ones(3), tol=0)
    with pytest.raises(ValueError, match="x"):
        backprop.gradcheck(np.sum, np.ones_like, np.ones(0))


# --------------------------------------------------------------------------
# Value
# --------------------------------------------------------------------------

def check_against_torch(fn, *inputs):
    """Evaluate fn on Values and on torch scalars; compare value and input grads."""
    vs = [Value(v) for v in inputs]
    out = fn(*vs)
    out.backward()
    ts = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in inputs]
    out_t = fn(*ts)
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-300)
    for v, t in zip(vs, ts, strict=True):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-12, abs=1e-300)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "radd": lambda a, b: 2.5 + a + b * 0,
    "rsub": lambda a, b: 2.5 - a * b,
    "rmul": lambda a, b: 2.5 * a + b,
    "rdiv": lambda a, b: 2.5 / a + b,
    "neg": lambda a, b: -a + b,
    "pow_int": lambda a, b: a**3 + b**2,
    "pow_neg": lambda a, b: a**-2 * b,
    "pow_float": lambda a, b: (a * a) ** 0.5 + (b * b) ** 1.5,
}


@pytest.mark.parametrize("a, b", [(1.5, -0.7), (-3.0, 2.0), (0.25, 4.0)])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_value_binary_ops_match_torch(name, a, b):
    check_against_torch(BINARY[name], a, b)


UNARY = {
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 1).log(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
}


@pytest.mark.parametrize("x", [-2.0, -0.3, 0.0, 0.7, 3.0])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_value_unary_ops_match_torch(name, x):
    check_against_torch(UNARY[name], x)


@pytest.mark.parametrize("x", [-800.0, 800.0, -1e4, 1e4])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_value_saturating_ops_are_stable(name, x):
    check_against_torch(UNARY[name], x)


def test_value_exp_overflow_gives_inf():
    assert Value(800.0).exp().data == math.inf
    assert (Value(1e200) ** 2).data == math.inf
    assert (Value(-1e200) ** 3).data == -math.inf


def test_value_pow_edge_cases_match_torch():
    check_against_torch(lambda a: a**0.5, 0.0)  # infinite slope, as torch
    check_against_torch(lambda a: a**0 + a, 0.0)
    check_against_torch(lambda a: a**2, 0.0)
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / Value(0.0)


def test_value_node_used_twice_accumulates():
    # y = x * x + x: dy/dx = 2x + 1; t = a*b used three times
    check_against_torch(lambda x: x * x + x, 3.0)
    check_against_torch(lambda a, b: (lambda t: t * t + t.tanh() * t)(a * b), 0.6, -1.3)


def composed(a, b, c):
    e = a * b + c
    d = (e.tanh() * a - b / (c * c + 1)).sigmoid()
    f = (d + 1).log() * e.exp() - (a - c) ** 2
    return f.relu() + f * 0.5 - 3 / (1 + b * b)


@SETTINGS
@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_value_composed_expression_matches_torch(a, b, c):
    check_against_torch(composed, a, b, c)


def test_value_gradients_accumulate_across_backward_calls():
    x = Value(2.0)
    (x * 3).backward()
    (x * 3).backward()
    assert x.grad == 6.0


def test_value_deep_graph_does_not_hit_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000, rel=1e-9)


def test_value_with_numpy_scalars():
    x = Value(2.0)
    y = np.float64(3.0) * x + np.float64(1.0)
    assert isinstance(y, Value) and y.data == 7.0
    y.backward()
    assert x.grad == 3.0


def test_value_bad_input():
    with pytest.raises(ValueError, match="data"):
        Value("3")
    with pytest.raises(ValueError, match="data"):
        Value(None)
    with pytest.raises(ValueError, match="data"):
        Value(Value(1.0))
    with pytest.raises(ValueError, match="data"):
        Value(2.0) + "a"
    with pytest.raises(ValueError, match="k"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="k"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match="log"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="log"):
        Value(-1.0).log()


def test_backward_rules_are_separate_functions():
    x, y = Value(2.0), Value(5.0)
    out = x * y
    out.grad = 1.0
    backprop.mul_backward(out)
    assert (x.grad, y.grad) == (5.0, 2.0)
    s = Value(0.3).sigmoid()
    s.grad = 2.0
    backprop.sigmoid_backward(s)
    assert s._prev[0].grad == pytest.approx(2.0 * s.data * (1 - s.data))


def test_seed_000_one_weight_example():
    # x = 2, W = 1, b = 0, y = 0, L = (yhat - y)^2 / 2, lr = 0.1
    W, b = Value(1.0), Value(0.0)
    yhat = W * 2.0 + b
    L = (yhat - 0.0) ** 2 / 2
    L.backward()
    W_new = W.data - 0.1 * W.grad

    Wt = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    Lt = (Wt * 2.0 + bt - 0.0) ** 2 / 2
    Lt.backward()
    with torch.no_grad():
        Wt -= 0.1 * Wt.grad

    assert L.data == Lt.item() == 2.0
    assert W.grad == Wt.grad.item() == 4.0
    assert W_new == pytest.approx(Wt.item()) and W_new == pytest.approx(0.6)
    assert b.grad == bt.grad.item() == 2.0


# --------------------------------------------------------------------------
# Neuron / Layer / MLP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_matches_torch(activation):
    model = MLP(3, [4, 5, 2], activation=activation, seed=1)
    x = [0.5, -1.2, 2.0]
    out = model(x)
    loss = (out[0] - 1.0) ** 2 + out[1] * 0.5
    loss.backward()

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "linear": lambda t: t}[activation]
    params = []
    h = torch.tensor(x, dtype=torch.float64)
    for i, layer in enumerate(model.layers):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        params.append((layer, W, b))
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = act(h)
    loss_t = (h[0] - 1.0) ** 2 + h[1] * 0.5
    loss_t.backward()

    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    for layer, W, b in params:
        np.testing.assert_allclose([[w.grad for w in n.w] for n in layer.neurons],
                                   W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose([n.b.grad for n in layer.neurons], b.grad.numpy(),
                                   rtol=1e-10, atol=1e-14)


def test_mlp_structure_and_zero_grad():
    model = MLP(2, [3, 1])
    assert len(model.parameters()) == (2 * 3 + 3) + (3 + 1)
    assert isinstance(model([1.0, 2.0]), Value)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    assert len(Layer(2, 3)([1.0, 1.0])) == 3
    assert "MLP" in repr(model)
    # same seed, same weights
    assert [p.data for p in MLP(2, [3, 1], seed=4).parameters()] == \
        [p.data for p in MLP(2, [3, 1], seed=4).parameters()]


def test_mlp_trains_on_moons():
    X, y = make_moons(100, noise=0.1, seed=0)
    rows, signs = X.tolist(), [2.0 * v - 1.0 for v in y.tolist()]
    model = MLP(2, [8, 8, 1], seed=0)
    start = time.perf_counter()
    for step in range(30):
        scores = [model(x) for x in rows]
        # hinge loss (micrograd's demo): mean relu(1 - y * score)
        loss = sum((1 - s * score).relu() for s, score in zip(signs, scores, strict=True))
        loss = loss / len(rows)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * step / 30
        for p in model.parameters():
            p.data -= lr * p.grad
    scores = [model(x).data for x in rows]
    accuracy = np.mean([(sc > 0) == (s > 0) for sc, s in zip(scores, signs, strict=True)])
    assert accuracy > 0.85
    assert time.perf_counter() - start < 30


def test_neuron_mlp_bad_input():
    with pytest.raises(ValueError, match="x"):
        Neuron(3)([1.0, 2.0])
    with pytest.raises(ValueError, match="x"):
        Neuron(1)(1.0)
    with pytest.raises(ValueError, match="nin"):
        Neuron(0)
    with pytest.raises(ValueError, match="activation"):
        Neuron(2, activation="softmax")
    with pytest.raises(ValueError, match="nout"):
        Layer(2, 0)
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [])
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match="nin"):
        MLP(0, [1])
    with pytest.raises(ValueError, match="activation"):
        MLP(2, [3, 1], activation="gelu")


# --------------------------------------------------------------------------
# Value on random expression graphs: every op, reflected ops, shared nodes
# --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 25))
def test_value_random_graph_matches_torch(seed, n_leaves, n_ops):
    r = np.random.default_rng(seed)
    leaves = r.uniform(-2, 2, size=n_leaves).tolist()
    build = backprop.random_expression(r, n_leaves, n_ops)
    vs = [Value(v) for v in leaves]
    out = build(*vs)
    out.backward()
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    out_t = build(*ts)
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-10, abs=1e-12)
    for v, t in zip(vs, ts, strict=True):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-10)


def test_random_expression_is_a_plan_reused_across_engines_and_calls():
    build = backprop.random_expression(np.random.default_rng(3), n_leaves=2, n_ops=12)
    first, again = build(Value(0.3), Value(-1.1)), build(Value(0.3), Value(-1.1))
    assert first.data == again.data
    out_t = build(torch.tensor(0.3, dtype=torch.float64), torch.tensor(-1.1, dtype=torch.float64))
    assert first.data == pytest.approx(out_t.item(), rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(rng=0), "rng"), (dict(n_leaves=0), "n_leaves"), (dict(n_ops=0), "n_ops"),
    (dict(n_ops=1.5), "n_ops"),
])
def test_random_expression_bad_input(kwargs, match):
    args = dict(rng=np.random.default_rng(0), n_leaves=2, n_ops=3)
    with pytest.raises(ValueError, match=match):
        backprop.random_expression(**{**args, **kwargs})
    build = backprop.random_expression(np.random.default_rng(0), 2, 3)
    with pytest.raises(ValueError, match="n_leaves"):
        build(Value(1.0))


def test_value_diamond_graph_accumulates_from_both_paths():
    # x feeds a and b, both feed out: a rule that assigns (=) instead of adding (+=) loses one
    x = Value(0.7)
    a, b = x.tanh(), x.exp()
    out = a * b + a
    out.backward()
    xt = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    at, bt = xt.tanh(), xt.exp()
    (at * bt + at).backward()
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12)
    assert a.grad == pytest.approx(b.data + 1.0, rel=1e-12)


def test_value_backward_visits_each_node_once_after_its_users():
    # a node shared by many users is passed on only once its grad is complete
    x = Value(1.3)
    shared = x * 2.0
    out = sum((shared * float(k) for k in range(1, 6)), Value(0.0))
    calls = []
    rule = shared._backward

    def counting(node):
        calls.append(node.grad)
        rule(node)

    shared._backward = counting
    out.backward()
    assert calls == [15.0]       # called once, with 1 + 2 + 3 + 4 + 5 already summed
    assert x.grad == 30.0


# --------------------------------------------------------------------------
# train_moons: a small MLP of Values trained on two moons
# --------------------------------------------------------------------------

def test_train_moons_reaches_the_stated_accuracy():
    # the docstring's promise: make_moons(30, noise=0.1, seed=0), 40 steps of lr 6, weight
    # seeds 0-2 reach a training accuracy of at least 0.95, each in well under 3 s of CPU
    X, y = make_moons(30, noise=0.1, seed=0)
    for seed in range(3):
        start = time.process_time()
        accuracy, losses = backprop.train_moons(X, y, steps=40, lr=6.0, seed=seed)
        cpu = time.process_time() - start
        assert isinstance(accuracy, float) and losses.shape == (40,)
        assert accuracy >= 0.95, seed
        assert losses[-1] < 0.5 * losses[0]
        assert cpu < 3.0


def torch_train_moons(X, y, steps, lr, seed):
    """The same training run in torch autograd (float64), from the documented initialisation."""
    rng = np.random.default_rng(seed)
    W1 = torch.tensor(rng.uniform(-1, 1, size=(8, X.shape[1])), requires_grad=True)
    w2 = torch.tensor(rng.uniform(-1, 1, size=8), requires_grad=True)
    b1 = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    b2 = torch.zeros((), dtype=torch.float64, requires_grad=True)
    Xt, t = torch.tensor(X), torch.tensor(2.0 * np.asarray(y) - 1.0)
    losses = []
    for _ in range(steps):
        loss = torch.relu(1 - t * (torch.tanh(Xt @ W1.T + b1) @ w2 + b2)).mean()
        losses.append(loss.item())
        for p in (W1, b1, w2, b2):
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in (W1, b1, w2, b2):
                p -= lr * p.grad
    with torch.no_grad():
        scores = torch.tanh(Xt @ W1.T + b1) @ w2 + b2
    return float(((scores > 0) == (t > 0)).double().mean()), np.array(losses)


@pytest.mark.parametrize("n, steps, lr, seed", [(20, 5, 1.0, 2), (40, 30, 6.0, 0), (7, 3, 0.1, 5)])
def test_train_moons_matches_torch(n, steps, lr, seed):
    X, y = make_moons(n, noise=0.2, seed=seed + 3)
    accuracy, losses = backprop.train_moons(X, y, steps=steps, lr=lr, seed=seed)
    expected_accuracy, expected_losses = torch_train_moons(X, y, steps, lr, seed)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-10, atol=1e-12)
    assert accuracy == expected_accuracy


def test_train_moons_is_deterministic_and_takes_any_input_width():
    X, y = make_moons(20, noise=0.2, seed=3)
    first = backprop.train_moons(X, y, steps=5, lr=1.0, seed=2)
    again = backprop.train_moons(X, y, steps=5, lr=1.0, seed=2)
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    X3 = np.c_[X, X[:, 0] * X[:, 1]]
    accuracy, losses = backprop.train_moons(X3, y, steps=4, lr=1.0, seed=2)
    np.testing.assert_allclose(losses, torch_train_moons(X3, y, 4, 1.0, 2)[1], rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=np.ones(4)), "X"),
    (dict(X=np.full((4, 2), np.nan)), "X"),
    (dict(X=np.ones((0, 2)), y=np.zeros(0)), "X"),
    (dict(y=np.array([0, 1, 2, 1])), "y"),
    (dict(y=np.array([0, 1, 1])), "y"),
    (dict(steps=0), "steps"),
    (dict(lr=0.0), "lr"),
    (dict(lr=np.inf), "lr"),
    (dict(seed=-1), "seed"),
])
def test_train_moons_bad_input(kwargs, match):
    args = dict(X=np.ones((4, 2)), y=np.array([0, 1, 0, 1]), steps=2, lr=0.1, seed=0)
    with pytest.raises(ValueError, match=match):
        backprop.train_moons(**{**args, **kwargs})
