"""Tests for dlnotes.losses against torch (float64, autograd) and scikit-learn."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import entropy
from sklearn.metrics import hinge_loss as sk_hinge_loss

from dlnotes import activations, losses

D = torch.float64


def tt(a, dtype=D):
    return torch.tensor(np.asarray(a), dtype=dtype)


def torch_loss_and_grad(fn, x, *rest):
    """fn(x_tensor, *rest) with autograd; returns (loss, d loss / d x)."""
    xt = tt(x).requires_grad_(True)
    loss = fn(xt, *rest)
    loss.backward()
    return loss.item(), xt.grad.numpy()


def assert_loss(ours, grad, expected_loss, expected_grad, rtol=1e-12):
    assert isinstance(ours, float)
    assert ours == pytest.approx(expected_loss, rel=rtol, abs=1e-300)
    np.testing.assert_allclose(grad, expected_grad, rtol=rtol, atol=1e-15)


def torch_focal(x, t, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss(reduction="mean"), written from primitives."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss.mean()


# ---------------------------------------------------------------------------
# regression losses
# ---------------------------------------------------------------------------

REGRESSION = {
    "mse": (losses.mse, losses.mse_grad, lambda x, t: F.mse_loss(x, t), {}),
    "mae": (losses.mae, losses.mae_grad, lambda x, t: F.l1_loss(x, t), {}),
    "rmse": (losses.rmse, losses.rmse_grad,
             lambda x, t: torch.linalg.vector_norm(x - t) / math.sqrt(x.numel()), {}),
    "huber": (losses.huber, losses.huber_grad, lambda x, t: F.huber_loss(x, t), {}),
    "huber_0.3": (losses.huber, losses.huber_grad,
                  lambda x, t: F.huber_loss(x, t, delta=0.3), {"delta": 0.3}),
    "huber_4": (losses.huber, losses.huber_grad,
                lambda x, t: F.huber_loss(x, t, delta=4.0), {"delta": 4.0}),
}


def regression_cases(rng):
    yield rng.normal(size=7), rng.normal(size=7)
    yield rng.normal(size=(3, 4)) * 3, rng.normal(size=(3, 4))
    yield rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    yield np.array([2.5]), np.array([-1.0])  # N = 1
    # hostile: huge values, exact ties, errors of exactly +-delta for each delta
    yield (np.array([1e3, -1e3, 800.0, 1.0, 2.0, 0.3, -0.3, 4.0, 1.0]),
           np.array([-1e3, 1e3, 800.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0]))


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_matches_torch(name, rng):
    loss, grad, oracle, kw = REGRESSION[name]
    for x, t in regression_cases(rng):
        expected = torch_loss_and_grad(oracle, x, tt(t))
        assert_loss(loss(x, t, **kw), grad(x, t, **kw), *expected)


def test_rmse_value_is_sqrt_of_torch_mse(rng):
    x, t = rng.normal(size=9), rng.normal(size=9)
    assert losses.rmse(x, t) == pytest.approx(
        torch.sqrt(F.mse_loss(tt(x), tt(t))).item(), rel=1e-14)


@pytest.mark.parametrize("name", ["mae", "rmse"])
def test_kinks_match_torch_subgradient(name):
    loss, grad, oracle, kw = REGRESSION[name]
    x = np.array([1.0, -2.0, 3.0])  # zero error everywhere: tie for mae, 0 for rmse
    expected_loss, expected_grad = torch_loss_and_grad(oracle, x, tt(x))
    assert loss(x, x) == expected_loss == 0.0
    np.testing.assert_array_equal(grad(x, x), expected_grad)
    np.testing.assert_array_equal(grad(x, x), 0.0)


def test_regression_accepts_lists_and_scalars():
    assert losses.mse([1, 2], [1, 4]) == 2.0
    assert losses.mae(3, 1) == 2.0
    np.testing.assert_array_equal(losses.mse_grad(3.0, 1.0), 4.0)


# ---------------------------------------------------------------------------
# binary cross-entropy
# ---------------------------------------------------------------------------

def test_bce_matches_torch_random(rng):
    p = rng.uniform(0.01, 0.99, size=(5, 3))
    for t in (rng.integers(0, 2, size=(5, 3)).astype(float), rng.uniform(size=(5, 3))):
        expected = torch_loss_and_grad(F.binary_cross_entropy, p, tt(t))
        assert_loss(losses.binary_cross_entropy(p, t), losses.binary_cross_entropy_grad(p, t),
                    *expected)


def test_bce_probabilities_exactly_zero_and_one_match_torch():
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-300, 1.0 - 1e-16])
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = losses.binary_cross_entropy(p, t), losses.binary_cross_entropy_grad(p, t)
    assert math.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert_loss(value, grad, *torch_loss_and_grad(F.binary_cross_entropy, p, tt(t)))
    assert losses.binary_cross_entropy([0.0], [1.0]) == 100.0  # clamped log


def test_bce_with_logits_matches_torch(rng):
    cases = [
        (rng.normal(scale=4, size=10), rng.integers(0, 2, size=10).astype(float)),
        (rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))),
        (np.array([800.0, -800.0, 1e3, -1e3, 800.0, -1e3, 0.0, 40.0]),
         np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.5, 1.0, 0.0])),
        (np.array([-3.0]), np.array([1.0])),
    ]
    for z, t in cases:
        with np.errstate(all="raise"):
            value = losses.binary_cross_entropy_with_logits(z, t)
            grad = losses.binary_cross_entropy_with_logits_grad(z, t)
        expected = torch_loss_and_grad(F.binary_cross_entropy_with_logits, z, tt(t))
        assert_loss(value, grad, *expected)


# ---------------------------------------------------------------------------
# cross-entropy and NLL
# ---------------------------------------------------------------------------

CE_CASES = [(1, 1), (1, 5), (7, 3), (4, 10)]


@pytest.mark.parametrize("n, c", CE_CASES)
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
def test_cross_entropy_matches_torch(n, c, eps, rng):
    z = rng.normal(scale=3, size=(n, c))
    y = rng.integers(0, c, size=n)
    expected = torch_loss_and_grad(
        lambda x: F.cross_entropy(x, tt(y, torch.long), label_smoothing=eps), z)
    assert_loss(losses.cross_entropy(z, y, label_smoothing=eps),
                losses.cross_entropy_grad(z, y, label_smoothing=eps), *expected)


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_hostile_logits_match_torch(eps):
    z = np.array([[800.0, -800.0, 0.0], [1e3, 1e3, 1e3], [-1e3, 1e3, -1e3],
                  [-800.0, -800.0, -800.0], [1e3, -1e3, 5.0]])
    y = np.array([1, 0, 0, 2, 2])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        value = losses.cross_entropy(z, y, label_smoothing=eps)
        grad = losses.cross_entropy_grad(z, y, label_smoothing=eps)
    expected = torch_loss_and_grad(
        lambda x: F.cross_entropy(x, tt(y, torch.long), label_smoothing=eps), z)
    assert math.isfinite(value)
    assert_loss(value, grad, *expected)


def test_cross_entropy_accepts_integer_valued_float_targets(rng):
    z = rng.normal(size=(3, 4))
    assert losses.cross_entropy(z, [0.0, 3.0, 1.0]) == losses.cross_entropy(z, [0, 3, 1])


@pytest.mark.parametrize("n, c", CE_CASES)
def test_nll_loss_matches_torch(n, c, rng):
    y = rng.integers(0, c, size=n)
    for lp in (activations.log_softmax(rng.normal(size=(n, c))), rng.normal(size=(n, c))):
        expected = torch_loss_and_grad(lambda x: F.nll_loss(x, tt(y, torch.long)), lp)
        assert_loss(losses.nll_loss(lp, y), losses.nll_loss_grad(lp, y), *expected)


# ---------------------------------------------------------------------------
# KL divergence
# ---------------------------------------------------------------------------

def torch_kl_zero_log_zero(q, p):
    """Mean over rows of sum p log(p/q) with 0 log 0 = 0, in torch (grad wrt q)."""
    mask = p > 0
    q_safe = torch.where(mask, q, torch.ones_like(q))
    p_safe = torch.where(mask, p, torch.ones_like(p))
    terms = torch.where(mask, p * (torch.log(p_safe) - torch.log(q_safe)), torch.zeros_like(p))
    return terms.sum() / q.shape[0]


def test_kl_matches_torch_kl_div_batchmean(rng):
    p = rng.dirichlet(np.ones(5), size=4)
    q = rng.dirichlet(np.ones(5), size=4)
    p[0] = [0.5, 0.5, 0.0, 0.0, 0.0]  # zeros in p (q > 0): torch is fine here
    expected = torch_loss_and_grad(
        lambda qt: F.kl_div(qt.log(), tt(p), reduction="batchmean"), q)
    assert_loss(losses.kl_divergence(p, q), losses.kl_divergence_grad(p, q), *expected)


def test_kl_zero_log_zero_convention():
    p = np.array([[1.0, 0.0, 0.0], [0.25, 0.75, 0.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])  # p = q = 0: torch's kl_div gives NaN
    with np.errstate(all="raise"):
        value, grad = losses.kl_divergence(p, q), losses.kl_divergence_grad(p, q)
    expected = torch_loss_and_grad(torch_kl_zero_log_zero, q, tt(p))
    assert_loss(value, grad, *expected)
    assert losses.kl_divergence(p[:1], q[:1]) == 0.0


def test_kl_infinite_when_q_misses_support():
    with np.errstate(all="raise"):
        assert losses.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
        np.testing.assert_array_equal(losses.kl_divergence_grad([0.5, 0.5], [1.0, 0.0]),
                                      [-0.5, -np.inf])


def test_kl_one_dimensional_is_single_distribution(rng):
    p, q = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    assert losses.kl_divergence(p, q) == pytest.approx(entropy(p, q), rel=1e-12)
    expected = torch_loss_and_grad(lambda qt: F.kl_div(qt.log(), tt(p), reduction="sum"), q)
    assert_loss(losses.kl_divergence(p, q), losses.kl_divergence_grad(p, q), *expected)


# ---------------------------------------------------------------------------
# focal loss
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.25, 0.0, 1.0, -1])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5])
def test_focal_matches_torch(alpha, gamma, rng):
    z = rng.normal(scale=3, size=(4, 5))
    t = rng.integers(0, 2, size=(4, 5)).astype(float)
    expected = torch_loss_and_grad(lambda x: torch_focal(x, tt(t), alpha, gamma), z)
    assert_loss(losses.focal_loss(z, t, alpha=alpha, gamma=gamma),
                losses.focal_loss_grad(z, t, alpha=alpha, gamma=gamma), *expected)


def test_focal_soft_targets_match_torch(rng):
    z, t = rng.normal(size=6), rng.uniform(size=6)
    expected = torch_loss_and_grad(lambda x: torch_focal(x, tt(t), 0.4, 1.5), z)
    assert_loss(losses.focal_loss(z, t, 0.4, 1.5), losses.focal_loss_grad(z, t, 0.4, 1.5),
                *expected)


@pytest.mark.parametrize("gamma", [1.0, 2.0, 3.0])
def test_focal_hostile_logits_match_torch(gamma):
    z = np.array([800.0, -800.0, 1e3, -1e3, 800.0, -1e3, 0.0, 40.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        value = losses.focal_loss(z, t, gamma=gamma)
        grad = losses.focal_loss_grad(z, t, gamma=gamma)
    expected = torch_loss_and_grad(lambda x: torch_focal(x, tt(t), 0.25, gamma), z)
    assert math.isfinite(value)
    assert_loss(value, grad, *expected)


def test_focal_saturated_gradient_is_zero_for_small_gamma():
    # torch gives NaN (0 * inf) here; the limit is 0
    z, t = np.array([800.0, -800.0, 1.0]), np.array([1.0, 0.0, 1.0])
    grad = losses.focal_loss_grad(z, t, gamma=0.5)
    np.testing.assert_array_equal(grad[:2], 0.0)
    expected = torch_loss_and_grad(lambda x: torch_focal(x, tt(t), 0.25, 0.5), z)[1]
    np.testing.assert_allclose(grad[2], expected[2], rtol=1e-12)


def test_focal_reduces_to_bce(rng):
    z, t = rng.normal(size=8), rng.integers(0, 2, size=8)
    assert losses.focal_loss(z, t, alpha=-1, gamma=0.0) == pytest.approx(
        losses.binary_cross_entropy_with_logits(z, t), rel=1e-14)


# ---------------------------------------------------------------------------
# hinge losses
# ---------------------------------------------------------------------------

def test_hinge_matches_sklearn_and_torch(rng):
    s = rng.normal(scale=2, size=11)
    y = rng.choice([-1.0, 1.0], size=11)
    s[:3] = y[:3]  # exactly on the margin: y * s = 1
    assert losses.hinge(s, y) == pytest.approx(sk_hinge_loss(y, s), rel=1e-12)
    expected = torch_loss_and_grad(lambda x: F.relu(1 - tt(y) * x).mean(), s)
    assert_loss(losses.hinge(s, y), losses.hinge_grad(s, y), *expected)
    assert np.all(losses.hinge_grad(s, y)[:3] == 0.0)


def test_hinge_hostile_and_matrix(rng):
    s = np.array([[800.0, -800.0], [1e3, 1.0]])
    y = np.array([[1, 1], [-1, -1]])
    expected = torch_loss_and_grad(lambda x: F.relu(1 - tt(y) * x).mean(), s)
    assert_loss(losses.hinge(s, y), losses.hinge_grad(s, y), *expected)


@pytest.mark.parametrize("margin", [1.0, 0.5, 0.0, 2.0])
@pytest.mark.parametrize("n, c", [(1, 1), (1, 4), (6, 3), (5, 7)])
def test_multiclass_hinge_matches_torch(margin, n, c, rng):
    s = rng.normal(size=(n, c))
    y = rng.integers(0, c, size=n)
    expected = torch_loss_and_grad(
        lambda x: F.multi_margin_loss(x, tt(y, torch.long), margin=margin), s)
    assert_loss(losses.multiclass_hinge(s, y, margin=margin),
                losses.multiclass_hinge_grad(s, y, margin=margin), *expected)


def test_multiclass_hinge_ties_and_hostile_match_torch():
    s = np.array([[1.0, 0.0, 0.5], [2.0, 2.0, 2.0], [800.0, -800.0, 1e3], [0.0, 1.0, 0.0]])
    y = np.array([0, 1, 2, 0])  # row 0: class 1 sits exactly on the margin
    expected = torch_loss_and_grad(lambda x: F.multi_margin_loss(x, tt(y, torch.long)), s)
    assert_loss(losses.multiclass_hinge(s, y), losses.multiclass_hinge_grad(s, y), *expected)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------

ALL_PAIRS = {
    "mse": (losses.mse, losses.mse_grad),
    "mae": (losses.mae, losses.mae_grad),
    "rmse": (losses.rmse, losses.rmse_grad),
    "huber": (losses.huber, losses.huber_grad),
    "bce": (losses.binary_cross_entropy, losses.binary_cross_entropy_grad),
    "bce_logits": (losses.binary_cross_entropy_with_logits,
                   losses.binary_cross_entropy_with_logits_grad),
    "focal": (losses.focal_loss, losses.focal_loss_grad),
    "hinge": (losses.hinge, losses.hinge_grad),
    "ce": (losses.cross_entropy, losses.cross_entropy_grad),
    "nll": (losses.nll_loss, losses.nll_loss_grad),
    "multiclass_hinge": (losses.multiclass_hinge, losses.multiclass_hinge_grad),
    "kl": (losses.kl_divergence, losses.kl_divergence_grad),
}

U = np.array([0.2, 0.7, 1.0])
LOGITS = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])

BAD = [
    # (pair, args, kwargs, match)
    ("mse", (np.ones(3), np.ones(4)), {}, "target"),
    ("mse", (np.ones((2, 3)), np.ones((3, 2))), {}, "input"),
    ("mae", (np.ones(0), np.ones(0)), {}, "input"),
    ("mae", (["a"], [1.0]), {}, "input"),
    ("rmse", (np.ones(2), np.ones(3)), {}, "target"),
    ("rmse", (np.ones((0, 2)), np.ones((0, 2))), {}, "input"),
    ("huber", (U, U), {"delta": 0.0}, "delta"),
    ("huber", (U, U), {"delta": -1.0}, "delta"),
    ("huber", (U, U), {"delta": math.inf}, "delta"),
    ("huber", (U, U), {"delta": math.nan}, "delta"),
    ("huber", (U, U), {"delta": "1"}, "delta"),
    ("huber", (U, U[:2]), {}, "target"),
    ("bce", ([0.5, 1.2], [0, 1]), {}, "probs"),
    ("bce", ([-0.1, 0.5], [0, 1]), {}, "probs"),
    ("bce", ([math.nan, 0.5], [0, 1]), {}, "probs"),
    ("bce", ([0.5, 0.5], [0, 2]), {}, "target"),
    ("bce", ([0.5, 0.5], [-1, 1]), {}, "target"),
    ("bce", ([0.5, 0.5], [0, 1, 1]), {}, "target"),
    ("bce", ([], []), {}, "probs"),
    ("bce_logits", ([0.0, 3.0], [0, 1.5]), {}, "target"),
    ("bce_logits", ([0.0, 3.0], [[0, 1]]), {}, "target"),
    ("bce_logits", ([], []), {}, "logits"),
    ("focal", ([0.0], [2.0]), {}, "target"),
    ("focal", ([0.0], [1.0]), {"alpha": 1.5}, "alpha"),
    ("focal", ([0.0], [1.0]), {"alpha": -0.5}, "alpha"),
    ("focal", ([0.0], [1.0]), {"alpha": math.nan}, "alpha"),
    ("focal", ([0.0], [1.0]), {"gamma": -1.0}, "gamma"),
    ("focal", ([0.0], [1.0]), {"gamma": math.inf}, "gamma"),
    ("focal", ([], []), {}, "logits"),
    ("focal", ([0.0, 1.0], [1.0]), {}, "target"),
    ("hinge", ([1.0, 2.0], [0, 1]), {}, "target"),
    ("hinge", ([1.0, 2.0], [1, 2]), {}, "target"),
    ("hinge", ([1.0, 2.0], [1]), {}, "target"),
    ("hinge", ([], []), {}, "scores"),
    ("ce", (LOGITS, [0, 3]), {}, "target"),
    ("ce", (LOGITS, [-1, 0]), {}, "target"),
    ("ce", (LOGITS, [0.5, 1]), {}, "target"),
    ("ce", (LOGITS, [[0, 1]]), {}, "target"),
    ("ce", (LOGITS, [0, 1, 2]), {}, "target"),
    ("ce", (LOGITS, [0, 1]), {"label_smoothing": -0.1}, "label_smoothing"),
    ("ce", (LOGITS, [0, 1]), {"label_smoothing": 1.1}, "label_smoothing"),
    ("ce", (LOGITS[0], 0), {}, "logits"),
    ("ce", (LOGITS[None], [0, 1]), {}, "logits"),
    ("ce", (np.zeros((0, 3)), []), {}, "logits"),
    ("ce", (np.zeros((2, 0)), [0, 0]), {}, "logits"),
    ("nll", (LOGITS, [0, 3]), {}, "target"),
    ("nll", (LOGITS[0], [0]), {}, "log_probs"),
    ("nll", (np.zeros((0, 3)), []), {}, "log_probs"),
    ("nll", (LOGITS, [0]), {}, "target"),
    ("multiclass_hinge", (LOGITS, [0, 3]), {}, "target"),
    ("multiclass_hinge", (LOGITS[0], [0]), {}, "scores"),
    ("multiclass_hinge", (LOGITS, [0, 1]), {"margin": math.nan}, "margin"),
    ("multiclass_hinge", (LOGITS, [0, 1]), {"margin": math.inf}, "margin"),
    ("multiclass_hinge", (np.zeros((0, 2)), []), {}, "scores"),
    ("kl", ([0.5, 0.5], [0.5, 0.25, 0.25]), {}, "q"),
    ("kl", ([1.5, -0.5], [0.5, 0.5]), {}, "p"),
    ("kl", ([0.5, 0.6], [0.5, 0.5]), {}, "p"),
    ("kl", ([0.5, 0.5], [0.5, 0.6]), {}, "q"),
    ("kl", ([0.5, 0.5], [math.nan, 0.5]), {}, "q"),
    ("kl", ([[0.5, 0.5], [0.2, 0.2]], [[0.5, 0.5], [0.5, 0.5]]), {}, "p"),
    ("kl", (np.ones((1, 1, 1)), np.ones((1, 1, 1))), {}, "p"),
    ("kl", ([], []), {}, "p"),
]


@pytest.mark.parametrize("pair, args, kwargs, match", BAD)
@pytest.mark.parametrize("which", [0, 1], ids=["loss", "grad"])
def test_bad_input_raises_naming_argument(pair, args, kwargs, match, which):
    fn = ALL_PAIRS[pair][which]
    with pytest.raises(ValueError, match=match):
        fn(*args, **kwargs)


def test_kl_accepts_rows_summing_to_one_within_tolerance():
    p = np.array([0.5, 0.5 + 1e-9])
    assert losses.kl_divergence(p, [0.5, 0.5]) >= 0


def test_inputs_are_not_mutated(rng):
    z = rng.normal(size=(3, 4))
    z0 = z.copy()
    y = np.array([0, 3, 1])
    losses.cross_entropy_grad(z, y, label_smoothing=0.1)
    losses.multiclass_hinge_grad(z, y)
    losses.nll_loss_grad(z, y)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(y, [0, 3, 1])


# ---------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------

@st.composite
def logits_and_targets(draw):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 6))
    z = draw(arrays(np.float64, (n, c), elements=st.floats(-1e3, 1e3)))
    y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return z, y


@settings(max_examples=40, deadline=None)
@given(case=logits_and_targets())
def test_cross_entropy_is_nll_of_log_softmax(case):
    z, y = case
    lp = activations.log_softmax(z, axis=1)
    assert losses.cross_entropy(z, y) == pytest.approx(losses.nll_loss(lp, y), rel=1e-12)
    g = losses.cross_entropy_grad(z, y, label_smoothing=0.3)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(z=arrays(np.float64, st.integers(1, 8), elements=st.floats(-15, 15)),
       data=st.data())
def test_bce_with_logits_equals_bce_of_sigmoid(z, data):
    # only for moderate logits: beyond |z| ~ 15, 1 - sigmoid(z) has lost digits,
    # which is exactly why the logits version exists
    t = np.array(data.draw(st.lists(st.floats(0, 1), min_size=z.size, max_size=z.size)))
    p = activations.sigmoid(z)
    assert losses.binary_cross_entropy_with_logits(z, t) == pytest.approx(
        losses.binary_cross_entropy(p, t), rel=1e-8, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_kl_nonnegative_and_zero_on_equal(data):
    c = data.draw(st.integers(1, 6))
    w = data.draw(arrays(np.float64, (2, c), elements=st.floats(0.01, 10)))
    p, q = w[0] / w[0].sum(), w[1] / w[1].sum()
    assert losses.kl_divergence(p, q) >= -1e-15
    assert losses.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=30, deadline=None)
@given(z=arrays(np.float64, (2, 3), elements=st.floats(-5, 5)),
       t=arrays(np.float64, (2, 3), elements=st.floats(0, 1)))
def test_smooth_grads_match_central_differences(z, t):
    h = 1e-6
    y = np.array([0, 2])
    cases = [
        (lambda x: losses.binary_cross_entropy_with_logits(x, t),
         losses.binary_cross_entropy_with_logits_grad(z, t)),
        (lambda x: losses.focal_loss(x, t, 0.3, 2.0), losses.focal_loss_grad(z, t, 0.3, 2.0)),
        (lambda x: losses.cross_entropy(x, y, label_smoothing=0.2),
         losses.cross_entropy_grad(z, y, label_smoothing=0.2)),
        (lambda x: losses.mse(x, t), losses.mse_grad(z, t)),
    ]
    for f, analytic in cases:
        numeric = np.zeros_like(z)
        for i in np.ndindex(z.shape):
            e = np.zeros_like(z)
            e[i] = h
            numeric[i] = (f(z + e) - f(z - e)) / (2 * h)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
