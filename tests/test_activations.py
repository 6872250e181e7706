"""Tests for dlnotes.activations against torch (float64, autograd) as oracle."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlnotes import activations as A

HOSTILE = np.array([-1e3, -800.0, -50.0, -5.0, -1.0, -1e-12, -0.0, 0.0, 1e-12,
                    1.0, 5.0, 50.0, 800.0, 1e3])

# name -> (forward, grad, torch oracle, kwargs)
ELEMENTWISE = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad, lambda t: torch.sigmoid(t), {}),
    "tanh": (A.tanh, A.tanh_grad, lambda t: torch.tanh(t), {}),
    "relu": (A.relu, A.relu_grad, lambda t: F.relu(t), {}),
    "leaky_relu": (A.leaky_relu, A.leaky_relu_grad, lambda t: F.leaky_relu(t), {}),
    "leaky_relu_0.2": (A.leaky_relu, A.leaky_relu_grad,
                       lambda t: F.leaky_relu(t, negative_slope=0.2), {"negative_slope": 0.2}),
    "elu": (A.elu, A.elu_grad, lambda t: F.elu(t), {}),
    "elu_0.5": (A.elu, A.elu_grad, lambda t: F.elu(t, alpha=0.5), {"alpha": 0.5}),
    "elu_2": (A.elu, A.elu_grad, lambda t: F.elu(t, alpha=2.0), {"alpha": 2.0}),
    "gelu": (A.gelu, A.gelu_grad, lambda t: F.gelu(t), {}),
    "swish": (A.swish, A.swish_grad, lambda t: F.silu(t), {}),
    "swish_1.7": (A.swish, A.swish_grad, lambda t: t * torch.sigmoid(1.7 * t), {"beta": 1.7}),
    "swish_-0.5": (A.swish, A.swish_grad, lambda t: t * torch.sigmoid(-0.5 * t),
                   {"beta": -0.5}),
}


def torch_value_and_grad(fn, x):
    """Value of fn at x and the elementwise derivative via autograd."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# elementwise functions and derivatives vs torch
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("kind", ["random", "hostile", "matrix"])
def test_elementwise_matches_torch(name, kind, rng):
    f, g, oracle, kw = ELEMENTWISE[name]
    x = {"random": rng.normal(scale=3.0, size=101),
         "hostile": HOSTILE,
         "matrix": rng.normal(size=(3, 4, 5))}[kind]
    value, grad = torch_value_and_grad(oracle, x)
    close(f(x, **kw), value)
    close(g(x, **kw), grad)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_scalar_and_list_inputs(name):
    f, g, oracle, kw = ELEMENTWISE[name]
    value, grad = torch_value_and_grad(oracle, np.array(0.7))
    out = f(0.7, **kw)
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
    close(out, value)
    close(g(0.7, **kw), grad)
    lst = [-1, 0, 2]  # integers become floats
    v_list, _ = torch_value_and_grad(oracle, np.array(lst, dtype=float))
    out = f(lst, **kw)
    assert out.dtype == np.float64
    close(out, v_list)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_does_not_mutate_input(name):
    f, g, _, kw = ELEMENTWISE[name]
    x = np.array([-2.0, 0.0, 3.0])
    f(x, **kw)
    g(x, **kw)
    np.testing.assert_array_equal(x, [-2.0, 0.0, 3.0])


def test_kink_conventions_match_torch():
    zero = np.zeros(1)
    assert A.relu_grad(0.0) == torch_value_and_grad(F.relu, zero)[1][0] == 0.0
    slope = torch_value_and_grad(lambda t: F.leaky_relu(t, 0.3), zero)[1][0]
    assert A.leaky_relu_grad(0.0, negative_slope=0.3) == slope == pytest.approx(0.3)
    alpha = torch_value_and_grad(lambda t: F.elu(t, alpha=2.5), zero)[1][0]
    assert A.elu_grad(0.0, alpha=2.5) == alpha == pytest.approx(2.5)
    a = torch.tensor([0.4], dtype=torch.float64)
    assert A.prelu_grad(0.0, 0.4) == torch_value_and_grad(lambda t: F.prelu(t, a), zero)[1][0]


# ---------------------------------------------------------------------------
# PReLU broadcasting (torch F.prelu semantics)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape, n_slopes", [
    ((7,), 1), ((), 1), ((4, 3), 1), ((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 4, 4), 3),
    ((3, 3), 3),
])
def test_prelu_matches_torch(shape, n_slopes, rng):
    x = rng.normal(size=shape)
    if x.size:
        x.flat[0] = 0.0
    a = rng.uniform(-0.5, 0.5, size=n_slopes)
    w = torch.tensor(a, dtype=torch.float64)
    value, grad = torch_value_and_grad(lambda t: F.prelu(t, w), x)
    close(A.prelu(x, a), value)
    close(A.prelu_grad(x, a), grad)
    if n_slopes == 1:  # a plain scalar works too
        close(A.prelu(x, float(a[0])), value)


def test_prelu_per_channel_is_axis_1_not_last_axis():
    x = -np.ones((3, 2))  # 2 channels on axis 1
    np.testing.assert_array_equal(A.prelu(x, [0.1, 0.2]), [[-0.1, -0.2]] * 3)


@pytest.mark.parametrize("x, a", [
    (np.ones((2, 3)), [0.1, 0.2]),  # C = 3
    (np.ones(3), [0.1, 0.2, 0.3]),  # 1-D input has one channel
    (np.ones((2, 3)), np.ones((3, 1))),  # a must be 0-d or 1-D
])
def test_prelu_bad_weight_raises(x, a):
    with pytest.raises(ValueError, match="a"):
        A.prelu(x, a)
    with pytest.raises(ValueError, match="a must"):
        A.prelu_grad(x, a)


# ---------------------------------------------------------------------------
# softmax, log_softmax, softmax_backward
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [
    ((5,), -1), ((5,), 0), ((4, 6), -1), ((4, 6), 0), ((4, 6), 1), ((2, 3, 4), 1),
    ((2, 3, 4), -3), ((1, 1), -1),
])
def test_softmax_and_log_softmax_match_torch(shape, axis, rng):
    x = rng.normal(scale=4.0, size=shape)
    t = torch.tensor(x, dtype=torch.float64)
    close(A.softmax(x, axis=axis), torch.softmax(t, dim=axis).numpy())
    close(A.log_softmax(x, axis=axis), torch.log_softmax(t, dim=axis).numpy())


def test_softmax_hostile_logits_match_torch():
    x = np.array([[800.0, -800.0, 0.0], [1e3, 1e3, 1e3], [-1e3, -1e3, 1e3],
                  [-800.0, -800.0, -800.0], [0.0, -np.inf, 1.0]])
    t = torch.tensor(x, dtype=torch.float64)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y, logy = A.softmax(x), A.log_softmax(x)
    close(y, torch.softmax(t, dim=-1).numpy())
    close(logy, torch.log_softmax(t, dim=-1).numpy())
    assert np.all(np.isfinite(logy[:4]))
    assert logy[0, 1] == -1600.0  # log(softmax) would give -inf here


def test_softmax_of_scalar_is_one():
    assert A.softmax(3.0).shape == ()
    assert A.softmax(3.0) == 1.0
    assert A.log_softmax(-7.0) == 0.0


@pytest.mark.parametrize("shape, axis", [((6,), -1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_softmax_backward_matches_autograd(shape, axis, rng):
    x = rng.normal(scale=3.0, size=shape)
    dout = rng.normal(size=shape)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (torch.softmax(t, dim=axis) * torch.tensor(dout)).sum().backward()
    dx = A.softmax_backward(dout, A.softmax(x, axis=axis), axis=axis)
    close(dx, t.grad.numpy())
    np.testing.assert_allclose(dx.sum(axis=axis), 0.0, atol=1e-14)


def test_softmax_backward_hostile_matches_autograd():
    x = np.array([[800.0, -800.0, 0.0], [1e3, 1e3, -1e3]])
    dout = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 4.0]])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (torch.softmax(t, dim=-1) * torch.tensor(dout)).sum().backward()
    close(A.softmax_backward(dout, A.softmax(x)), t.grad.numpy())


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax])
@pytest.mark.parametrize("axis", [2, -3, 5])
def test_softmax_axis_out_of_range(fn, axis):
    with pytest.raises(ValueError, match="axis"):
        fn(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax])
@pytest.mark.parametrize("axis", [1.0, True, None, "0"])
def test_softmax_axis_not_int(fn, axis):
    with pytest.raises(ValueError, match="axis"):
        fn(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax])
def test_softmax_empty_axis(fn):
    with pytest.raises(ValueError, match="axis"):
        fn(np.ones((3, 0)))
    with pytest.raises(ValueError, match="axis"):
        fn([])
    assert fn(np.ones((0, 3)), axis=-1).shape == (0, 3)  # empty batch, axis non-empty


def test_softmax_backward_errors():
    with pytest.raises(ValueError, match="dout"):
        A.softmax_backward(np.ones(3), np.ones(4) / 4)
    with pytest.raises(ValueError, match="axis"):
        A.softmax_backward(np.ones((2, 3)), np.ones((2, 3)) / 3, axis=2)


# ---------------------------------------------------------------------------
# validation of x and hyper-parameters
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [A.sigmoid, A.tanh, A.relu, A.gelu, A.softmax, A.elu_grad])
def test_non_numeric_x_raises(fn):
    with pytest.raises(ValueError, match="x"):
        fn(["a", "b"])


@pytest.mark.parametrize("fn, kw, match", [
    (A.leaky_relu, {"negative_slope": "0.1"}, "negative_slope"),
    (A.leaky_relu_grad, {"negative_slope": float("nan")}, "negative_slope"),
    (A.elu, {"alpha": None}, "alpha"),
    (A.elu_grad, {"alpha": float("nan")}, "alpha"),
    (A.swish, {"beta": "1"}, "beta"),
    (A.swish_grad, {"beta": float("nan")}, "beta"),
])
def test_bad_hyperparameters_raise(fn, kw, match):
    with pytest.raises(ValueError, match=match):
        fn(np.ones(3), **kw)


# ---------------------------------------------------------------------------
# stability: no warnings at |x| = 1e3 and beyond
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("magnitude", [1e3, 1e5, 1e300])
def test_no_floating_point_warnings(magnitude):
    x = np.array([[-magnitude, -1.0, 0.0, 1.0, magnitude]])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for f, g, _, kw in ELEMENTWISE.values():
            assert np.all(np.isfinite(f(x, **kw)))
            assert np.all(np.isfinite(g(x, **kw)))
        A.prelu(x, 0.1)
        A.prelu_grad(x, 0.1)
        if magnitude < 1e300:  # x - max(x) must itself be representable
            y = A.softmax(x)
            assert np.all(np.isfinite(A.log_softmax(x)))
            A.softmax_backward(np.ones_like(x), y)
    np.testing.assert_array_equal(A.sigmoid([-magnitude, magnitude]), [0.0, 1.0])


# ---------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False)
logit_rows = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite)


@settings(max_examples=40, deadline=None)
@given(x=logit_rows, shift=st.floats(-100, 100))
def test_softmax_sums_to_one_and_is_shift_invariant(x, shift):
    y = A.softmax(x)
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(A.softmax(x + shift), y, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(x=logit_rows)
def test_log_softmax_is_log_of_softmax(x):
    y = A.softmax(x)
    ok = y > 1e-300  # where log(softmax) is finite and accurate
    np.testing.assert_allclose(A.log_softmax(x)[ok], np.log(y[ok]), rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e4, 1e4)))
def test_sigmoid_symmetry(x):
    np.testing.assert_allclose(A.sigmoid(-x), 1.0 - A.sigmoid(x), rtol=0, atol=1e-15)
    np.testing.assert_allclose(A.tanh(x), 2.0 * A.sigmoid(2.0 * x) - 1.0, rtol=0, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 10), elements=st.floats(-30, 30)))
def test_grads_match_central_differences(x):
    h = 1e-6
    x = x[np.abs(x) > 1e-3]  # keep away from the kinks at 0
    for f, g, _, kw in ELEMENTWISE.values():
        numeric = (f(x + h, **kw) - f(x - h, **kw)) / (2 * h)
        np.testing.assert_allclose(g(x, **kw), numeric, rtol=1e-5, atol=1e-7)


def test_sigmoid_tail_matches_torch_and_scipy_exactly():
    from scipy.special import expit

    x = np.concatenate([np.linspace(-1e3, 1e3, 2001), np.linspace(-712.0, -700.0, 1201)])
    expected = torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(A.sigmoid(x), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(A.sigmoid(x), expit(x), rtol=1e-12, atol=0)
    t = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(A.swish(x), F.silu(t).numpy(), rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------
# prelu_backward: gradients w.r.t. the input and the learned slope
# ---------------------------------------------------------------------------

def torch_prelu_backward(dout, x, a):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    at = torch.tensor(np.atleast_1d(a), dtype=torch.float64, requires_grad=True)
    F.prelu(xt, at).backward(torch.tensor(dout, dtype=torch.float64))
    return xt.grad.numpy(), at.grad.numpy()


@pytest.mark.parametrize("shape, n_slopes", [
    ((7,), 1), ((), 1), ((4, 3), 1), ((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 4, 4), 3),
    ((5, 1, 2), 1),
])
def test_prelu_backward_matches_torch(shape, n_slopes, rng):
    x = rng.normal(size=shape)
    if x.size > 1:
        x.flat[:2] = 0.0, -0.0  # the kink
    dout = rng.normal(size=shape)
    a = rng.uniform(-0.5, 0.5, size=n_slopes)
    dx_ref, da_ref = torch_prelu_backward(dout, x, a)
    dx, da = A.prelu_backward(dout, x, a)
    close(dx, dx_ref)
    assert np.shape(da) == a.shape
    close(da, da_ref)
    if n_slopes == 1:  # a scalar slope gives a float gradient
        dx_s, da_s = A.prelu_backward(dout, x, float(a[0]))
        close(dx_s, dx_ref)
        assert isinstance(da_s, float)
        close(da_s, da_ref[0])


def test_prelu_backward_slope_gradient_sums_over_batch_and_positions():
    # two channels; channel 0 negative everywhere (-1), channel 1 positive: da = [-N*H, 0]
    x = np.stack([-np.ones((4, 5)), np.ones((4, 5))], axis=1)  # (N=4, C=2, H=5)
    _, da = A.prelu_backward(np.ones_like(x), x, [0.1, 0.2])
    np.testing.assert_array_equal(da, [-20.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(0, 10_000))
def test_prelu_backward_is_the_derivative_of_a_weighted_sum(N, C, L, seed):
    # L(x, a) = sum(dout * prelu(x, a)) is linear in a: L(a + h) - L(a) = h . da exactly
    r = np.random.default_rng(seed)
    x, dout, a = r.normal(size=(N, C, L)), r.normal(size=(N, C, L)), r.uniform(-1, 1, size=C)
    h = r.normal(size=C)
    _, da = A.prelu_backward(dout, x, a)
    change = np.sum(dout * A.prelu(x, a + h)) - np.sum(dout * A.prelu(x, a))
    assert change == pytest.approx(h @ da, rel=1e-9, abs=1e-12)


def test_prelu_backward_bad_input():
    with pytest.raises(ValueError, match="dout"):
        A.prelu_backward(np.ones(3), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="a must"):
        A.prelu_backward(np.ones((2, 3)), np.ones((2, 3)), [0.1, 0.2])


# ---------------------------------------------------------------------------
# GELU, tanh approximation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["random", "hostile", "matrix", "huge"])
def test_gelu_tanh_matches_torch(kind, rng):
    x = {"random": rng.normal(scale=3.0, size=101), "hostile": HOSTILE,
         "matrix": rng.normal(size=(3, 4, 5)), "huge": np.array([-1e200, -25.0, 25.0, 1e200])}[kind]
    with np.errstate(all="raise"):
        got, grad = A.gelu_tanh(x), A.gelu_tanh_grad(x)
    value, grad_ref = torch_value_and_grad(lambda t: F.gelu(t, approximate="tanh"), x)
    assert got.shape == np.shape(x)
    if kind == "huge":  # torch's own x**3 overflows to nan in the gradient at 1e200
        grad_ref = np.where(np.isfinite(grad_ref), grad_ref, (x > 0).astype(float))
    close(got, value)
    close(grad, grad_ref)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-30, 30)))
def test_gelu_tanh_grad_matches_torch_property(x):
    value, grad = torch_value_and_grad(lambda t: F.gelu(t, approximate="tanh"), x)
    np.testing.assert_allclose(A.gelu_tanh(x), value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(A.gelu_tanh_grad(x), grad, rtol=1e-10, atol=1e-14)


def test_gelu_tanh_is_close_to_exact_gelu():
    x = np.linspace(-8, 8, 2001)
    assert np.max(np.abs(A.gelu_tanh(x) - A.gelu(x))) < 4.8e-4   # the docstring's bounds
    assert np.max(np.abs(A.gelu_tanh_grad(x) - A.gelu_grad(x))) < 8.7e-4
