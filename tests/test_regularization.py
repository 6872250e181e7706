"""Tests for dlnotes.regularization, with torch (float64) as the oracle."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.regularization import (
    EarlyStopping,
    batch_norm_backward,
    batch_norm_forward,
    clip_grad_norm,
    dropout,
    dropout_backward,
    kaiming_normal,
    kaiming_uniform,
    l1_penalty,
    l1_penalty_grad,
    l1_proximal_step,
    l2_penalty,
    l2_penalty_grad,
    label_smoothing,
    layer_norm_backward,
    layer_norm_forward,
    xavier_normal,
    xavier_uniform,
)

torch.set_num_threads(1)
FAST = settings(max_examples=40, deadline=None)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


# ---------------------------------------------------------------------------
# penalties
# ---------------------------------------------------------------------------

def _torch_penalty(ws, lam, kind):
    tws = [t64(w, grad=True) for w in ws]
    if kind == "l1":
        value = lam * sum(tw.abs().sum() for tw in tws)
    else:
        value = lam * sum((tw ** 2).sum() for tw in tws)
    value.backward()
    return value.item(), [tw.grad.numpy() for tw in tws]


@pytest.mark.parametrize("kind, penalty, grad", [("l1", l1_penalty, l1_penalty_grad),
                                                 ("l2", l2_penalty, l2_penalty_grad)])
def test_penalty_single_array_vs_autograd(rng, kind, penalty, grad):
    w = rng.normal(size=(4, 3))
    w[0, 0] = 0.0          # sign(0) = 0, like torch's abs backward
    lam = 0.37
    value, (expected_grad,) = _torch_penalty([w], lam, kind)
    got = penalty(w, lam)
    assert isinstance(got, float)
    assert got == pytest.approx(value, rel=1e-12)
    g = grad(w, lam)
    assert isinstance(g, np.ndarray) and g.shape == w.shape
    np.testing.assert_allclose(g, expected_grad, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind, penalty, grad", [("l1", l1_penalty, l1_penalty_grad),
                                                 ("l2", l2_penalty, l2_penalty_grad)])
def test_penalty_list_of_arrays_vs_autograd(rng, kind, penalty, grad):
    ws = [rng.normal(size=(3, 2)), rng.normal(size=5), np.array(-1.5)]
    lam = 0.05
    value, expected = _torch_penalty(ws, lam, kind)
    assert penalty(ws, lam) == pytest.approx(value, rel=1e-12)
    assert penalty(tuple(ws), lam) == pytest.approx(value, rel=1e-12)
    gs = grad(ws, lam)
    assert isinstance(gs, list) and len(gs) == len(ws)
    for g, e in zip(gs, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=0)


@FAST
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 10.0), st.integers(1, 20))
def test_penalty_grads_property(seed, lam, n):
    w = np.random.default_rng(seed).normal(scale=100.0, size=n).round(1)   # zeros happen
    for kind, penalty, grad in [("l1", l1_penalty, l1_penalty_grad),
                                ("l2", l2_penalty, l2_penalty_grad)]:
        value, (expected,) = _torch_penalty([w], lam, kind)
        assert penalty(w, lam) == pytest.approx(value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grad(w, lam), expected, rtol=1e-12, atol=1e-300)


def test_l2_penalty_equals_sgd_weight_decay_over_two(rng):
    """SGD(weight_decay=wd) is gradient descent on L0 + l2_penalty(w, wd / 2)."""
    w0, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    lr, wd = 0.1, 0.3
    tw = t64(w0, grad=True)
    opt = torch.optim.SGD([tw], lr=lr, weight_decay=wd)
    (tw * t64(c)).sum().backward()
    opt.step()
    ours = w0 - lr * (c + l2_penalty_grad(w0, wd / 2))
    np.testing.assert_allclose(ours, tw.detach().numpy(), rtol=1e-13)


def test_penalty_of_empty_list_is_zero():
    assert l1_penalty([], 1.0) == 0.0
    assert l2_penalty_grad([], 1.0) == []


@pytest.mark.parametrize("fn", [l1_penalty, l1_penalty_grad, l2_penalty, l2_penalty_grad])
@pytest.mark.parametrize("lam", [-0.1, float("nan"), "big"])
def test_penalty_rejects_bad_lam(fn, lam):
    with pytest.raises(ValueError, match="lam"):
        fn(np.ones(3), lam)


@pytest.mark.parametrize("fn", [l1_penalty, l2_penalty_grad])
def test_penalty_rejects_non_numeric_w(fn):
    with pytest.raises(ValueError, match="w"):
        fn(np.array(["a", "b"]), 0.1)
    with pytest.raises(ValueError, match=r"w\[1\]"):
        fn([np.ones(2), "oops"], 0.1)
    with pytest.raises(ValueError, match="w"):
        fn(None, 0.1)                       # not silently NaN


@pytest.mark.parametrize("shape, lr, lam", [((7,), 0.1, 0.5), ((3, 4), 1.0, 0.05),
                                            ((2, 3, 2), 0.3, 0.0)])
def test_l1_proximal_step_is_torch_softshrink(rng, shape, lr, lam):
    w, g = rng.normal(size=shape), rng.normal(size=shape)
    w.flat[0] = lr * g.flat[0] + 0.5 * lr * lam        # |z| below the threshold: exactly 0
    z = t64(w - lr * g)
    expected = F.softshrink(z, lr * lam).numpy() if lam > 0 else z.numpy()
    got = l1_proximal_step(w, g, lr, lam)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    if lam > 0:
        assert got.flat[0] == 0.0
    assert got.shape == shape


def test_l1_proximal_step_solves_the_prox_problem_by_brute_force(rng):
    """Each entry is argmin_v (v - z)^2 / 2 + lr * lam * |v| (checked on a fine grid)."""
    w, g, lr, lam = rng.normal(size=6), rng.normal(size=6), 0.4, 0.9
    z = w - lr * g
    grid = np.linspace(-4, 4, 800001)
    objective = 0.5 * (grid[None, :] - z[:, None]) ** 2 + lr * lam * np.abs(grid)[None, :]
    np.testing.assert_allclose(l1_proximal_step(w, g, lr, lam),
                               grid[objective.argmin(axis=1)], atol=2e-5)


def test_l1_proximal_steps_converge_to_sklearn_lasso(rng):
    """ISTA on (1/2n)||y - Xw||^2 + lam ||w||_1 reaches sklearn's Lasso(alpha=lam)."""
    from sklearn.linear_model import Lasso

    X = rng.normal(size=(60, 8))
    y = X @ np.array([2.0, 0.0, -1.5, 0.0, 0.0, 0.7, 0.0, 0.0]) + 0.1 * rng.normal(size=60)
    lam = 0.1
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X / 60).max()
    w = np.zeros(8)
    for _ in range(3000):
        w = l1_proximal_step(w, X.T @ (X @ w - y) / 60, lr, lam)
    lasso = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(w, lasso.coef_, atol=1e-7)
    assert np.array_equal(w == 0.0, lasso.coef_ == 0.0)      # the same exact zeros


def test_l1_proximal_step_float32_and_does_not_modify_w(rng):
    w = rng.normal(size=5).astype(np.float32)
    before = w.copy()
    out = l1_proximal_step(w, np.ones(5, dtype=np.float32), 0.1, 0.3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(w, before)


def test_l1_proximal_step_rejects_bad_inputs():
    with pytest.raises(ValueError, match="grad"):
        l1_proximal_step(np.ones(3), np.ones(4), 0.1, 0.1)
    with pytest.raises(ValueError, match="lr"):
        l1_proximal_step(np.ones(3), np.ones(3), 0.0, 0.1)
    with pytest.raises(ValueError, match="lam"):
        l1_proximal_step(np.ones(3), np.ones(3), 0.1, -1.0)


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------

def test_dropout_mask_meaning_and_scaling(rng):
    x = rng.normal(size=(50, 40))
    p = 0.3
    out, mask = dropout(x, p, rng)
    assert mask.dtype == bool and mask.shape == x.shape
    np.testing.assert_array_equal(out[mask], x[mask] / (1 - p))
    assert np.all(out[~mask] == 0.0)
    # keep rate is 1 - p within 5 binomial standard errors
    n = x.size
    assert abs(mask.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)


def test_dropout_values_match_torch_scaling():
    """torch's own dropout: kept entries are x / (1 - p); ours agrees on its own mask."""
    p = 0.25
    x = np.arange(1.0, 201.0)
    torch.manual_seed(0)
    t_out = F.dropout(t64(x), p=p, training=True).numpy()
    t_mask = t_out != 0
    np.testing.assert_allclose(t_out[t_mask], x[t_mask] / (1 - p), rtol=1e-15)
    out, mask = dropout(x, p, np.random.default_rng(1))
    np.testing.assert_allclose(out, np.where(mask, x / (1 - p), 0.0), rtol=1e-15)


def test_dropout_is_reproducible_from_rng():
    x = np.ones((8, 9))
    out1, m1 = dropout(x, 0.5, np.random.default_rng(42))
    out2, m2 = dropout(x, 0.5, np.random.default_rng(42))
    _, m3 = dropout(x, 0.5, np.random.default_rng(43))
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(out1, out2)
    assert not np.array_equal(m1, m3)


def test_dropout_eval_is_identity_and_leaves_rng_alone(rng):
    x = rng.normal(size=(3, 4))
    state = rng.bit_generator.state
    out, mask = dropout(x, 0.9, rng, training=False)
    np.testing.assert_array_equal(out, x)
    assert mask.dtype == bool and mask.all()
    assert rng.bit_generator.state == state
    out[0, 0] = 123.0                       # a copy, not a view of x
    assert x[0, 0] != 123.0
    torch_eval = F.dropout(t64(x), p=0.9, training=False).numpy()
    np.testing.assert_array_equal(dropout(x, 0.9, rng, training=False)[0], torch_eval)


def test_dropout_p_zero_keeps_everything(rng):
    x = rng.normal(size=10)
    out, mask = dropout(x, 0.0, rng)
    assert mask.all()
    np.testing.assert_array_equal(out, x)


@FAST
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.9), st.integers(1, 6))
def test_dropout_keeps_the_expectation(seed, p, n):
    """Mean over K draws is within 6 standard errors of x.

    Each output entry is x/(1-p) with probability 1-p and 0 otherwise: mean x,
    standard deviation |x| sqrt(p/(1-p)); the mean of K draws has standard
    error |x| sqrt(p/(1-p)) / sqrt(K).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=n)
    K = 4000
    out, _ = dropout(np.broadcast_to(x, (K, n)), p, rng)
    se = np.abs(x) * math.sqrt(p / (1 - p)) / math.sqrt(K)
    assert np.all(np.abs(out.mean(axis=0) - x) <= 6 * se + 1e-12)


def test_dropout_backward_vs_torch_autograd():
    p = 0.4
    rng = np.random.default_rng(3)
    dout = rng.normal(size=(6, 7))
    torch.manual_seed(3)
    tx = t64(np.ones((6, 7)), grad=True)
    t_out = F.dropout(tx, p=p, training=True)
    t_out.backward(t64(dout))
    mask = (t_out.detach() != 0).numpy()       # torch's mask
    np.testing.assert_allclose(dropout_backward(dout, mask, p), tx.grad.numpy(), rtol=1e-15)


def test_dropout_backward_through_our_mask(rng):
    p = 0.5
    x, dout = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    out, mask = dropout(x, p, rng)
    tx = t64(x, grad=True)
    t_out = tx * torch.tensor(mask) / (1 - p)
    t_out.backward(t64(dout))
    np.testing.assert_allclose(t_out.detach().numpy(), out, rtol=1e-15)
    np.testing.assert_allclose(dropout_backward(dout, mask, p), tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_array_equal(dropout_backward(dout, mask, p, training=False), dout)


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan"), None])
def test_dropout_rejects_bad_p(rng, p):
    with pytest.raises(ValueError, match="p"):
        dropout(np.ones(3), p, rng)
    with pytest.raises(ValueError, match="p"):
        dropout_backward(np.ones(3), np.ones(3, dtype=bool), p)


def test_dropout_rejects_bad_rng_mask_and_training(rng):
    with pytest.raises(ValueError, match="rng"):
        dropout(np.ones(3), 0.5, np.random.RandomState(0))
    with pytest.raises(ValueError, match="rng"):
        dropout(np.ones(3), 0.5, 0)
    with pytest.raises(ValueError, match="training"):
        dropout(np.ones(3), 0.5, rng, training="no")
    with pytest.raises(ValueError, match="x"):
        dropout(None, 0.5, rng)
    with pytest.raises(ValueError, match="x"):
        dropout([[1.0, 2.0], [3.0]], 0.5, rng)
    with pytest.raises(ValueError, match="dout"):
        dropout_backward(None, np.ones(3, dtype=bool), 0.5)
    with pytest.raises(ValueError, match="training"):
        dropout_backward(np.ones(3), np.ones(3, dtype=bool), 0.5, training=None)
    with pytest.raises(ValueError, match="mask"):
        dropout_backward(np.ones(3), np.ones(3), 0.5)
    with pytest.raises(ValueError, match="mask"):
        dropout_backward(np.ones(3), np.ones(4, dtype=bool), 0.5)


# ---------------------------------------------------------------------------
# batch normalization
# ---------------------------------------------------------------------------

def _torch_bn(D, momentum, eps, gamma, beta, track=True):
    bn = torch.nn.BatchNorm1d(D, momentum=momentum, eps=eps,
                              track_running_stats=track).double()
    with torch.no_grad():
        bn.weight.copy_(t64(gamma))
        bn.bias.copy_(t64(beta))
    return bn


def _torch_bn_step(bn, x, dout):
    tx = t64(x, grad=True)
    bn.zero_grad()
    out = bn(tx)
    out.backward(t64(dout))
    return (out.detach().numpy(), tx.grad.numpy(), bn.weight.grad.numpy().copy(),
            bn.bias.grad.numpy().copy())


@pytest.mark.parametrize("momentum", [0.1, 0.5, 0.0, 1.0])
@pytest.mark.parametrize("N, D", [(2, 3), (7, 4), (16, 1)])
def test_batch_norm_train_then_eval_vs_torch(rng, momentum, N, D):
    eps = 1e-5
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    bn = _torch_bn(D, momentum, eps, gamma, beta)
    running_mean, running_var = np.zeros(D), np.ones(D)
    for step in range(4):
        x = rng.normal(loc=step, scale=1 + step, size=(N, D))
        dout = rng.normal(size=(N, D))
        bn.train()
        t_out, t_dx, t_dgamma, t_dbeta = _torch_bn_step(bn, x, dout)
        out, cache = batch_norm_forward(x, gamma, beta, running_mean, running_var,
                                        training=True, momentum=momentum, eps=eps)
        dx, dgamma, dbeta = batch_norm_backward(dout, cache)
        np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, t_dx, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(dgamma, t_dgamma, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dbeta, t_dbeta, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(running_mean, bn.running_mean.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(running_var, bn.running_var.numpy(), rtol=1e-12, atol=1e-15)

    bn.eval()
    x, dout = rng.normal(size=(N, D)), rng.normal(size=(N, D))
    saved = running_mean.copy(), running_var.copy()
    t_out, t_dx, t_dgamma, t_dbeta = _torch_bn_step(bn, x, dout)
    out, cache = batch_norm_forward(x, gamma, beta, running_mean, running_var,
                                    training=False, momentum=momentum, eps=eps)
    dx, dgamma, dbeta = batch_norm_backward(dout, cache)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, t_dgamma, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dbeta, t_dbeta, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(running_mean, saved[0])      # eval updates nothing
    np.testing.assert_array_equal(running_var, saved[1])


def test_batch_norm_eval_with_single_row_vs_torch(rng):
    D = 3
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    rm, rv = rng.normal(size=D), rng.uniform(0.5, 2.0, size=D)
    bn = _torch_bn(D, 0.1, 1e-5, gamma, beta)
    with torch.no_grad():
        bn.running_mean.copy_(t64(rm))
        bn.running_var.copy_(t64(rv))
    bn.eval()
    x = rng.normal(size=(1, D))
    out, _ = batch_norm_forward(x, gamma, beta, rm, rv, training=False)
    np.testing.assert_allclose(out, bn(t64(x)).detach().numpy(), rtol=1e-12)


def test_batch_norm_float32_running_stats_are_updated_in_place(rng):
    x = rng.normal(size=(5, 2))
    rm, rv = np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)
    bn = _torch_bn(2, 0.1, 1e-5, np.ones(2), np.zeros(2))
    bn(t64(x))
    batch_norm_forward(x, np.ones(2), np.zeros(2), rm, rv, training=True)
    assert rm.dtype == np.float32
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-6)


def test_batch_norm_without_running_stats_vs_torch(rng):
    N, D = 5, 3
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    bn = _torch_bn(D, 0.1, 1e-5, gamma, beta, track=False)
    bn.eval()                       # still uses batch statistics
    x, dout = rng.normal(size=(N, D)), rng.normal(size=(N, D))
    t_out, t_dx, _, _ = _torch_bn_step(bn, x, dout)
    out, cache = batch_norm_forward(x, gamma, beta, None, None, training=False)
    dx, _, _ = batch_norm_backward(dout, cache)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-9, atol=1e-12)


def test_batch_norm_constant_feature_and_large_offset(rng):
    """A constant column (variance 0) and inputs of magnitude 1e3: stable, matches torch."""
    N, D = 6, 3
    x = rng.normal(size=(N, D)) + 1e3
    x[:, 1] = 7.0
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    bn = _torch_bn(D, 0.1, 1e-5, gamma, beta)
    t_out, t_dx, t_dgamma, _ = _torch_bn_step(bn, x, dout)
    rm, rv = np.zeros(D), np.ones(D)
    with np.errstate(all="raise"):
        out, cache = batch_norm_forward(x, gamma, beta, rm, rv, training=True)
        dx, dgamma, _ = batch_norm_backward(dout, cache)
    np.testing.assert_allclose(out, t_out, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dgamma, t_dgamma, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 4),
       st.floats(0.0, 1.0), st.sampled_from([1e-5, 1e-3, 0.1]))
def test_batch_norm_property_vs_torch(seed, N, D, momentum, eps):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=rng.uniform(0.1, 10.0), size=(N, D))
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    bn = _torch_bn(D, momentum, eps, gamma, beta)
    t_out, t_dx, _, _ = _torch_bn_step(bn, x, dout)
    rm, rv = np.zeros(D), np.ones(D)
    out, cache = batch_norm_forward(x, gamma, beta, rm, rv, True, momentum, eps)
    dx, _, _ = batch_norm_backward(dout, cache)
    np.testing.assert_allclose(out, t_out, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12, atol=1e-14)
    # shifting the whole batch changes nothing: rows of dx sum to zero
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-9 * (1 + np.abs(dx).max()))


def test_batch_norm_single_row_in_training_raises_like_torch():
    x = np.ones((1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch.nn.BatchNorm1d(3).double().train()(t64(x))
    with pytest.raises(ValueError, match="x") as info:
        batch_norm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), training=True)
    assert "more than 1 value per channel" in str(info.value)
    with pytest.raises(ValueError, match="x"):
        batch_norm_forward(x, np.ones(3), np.zeros(3), None, None, training=False)


def test_batch_norm_rejects_bad_inputs():
    g, b, rm, rv = np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)
    x = np.ones((4, 3))
    cases = [
        ("x", dict(x=np.ones(3))),
        ("x", dict(x=np.ones((2, 3, 1)))),
        ("gamma", dict(gamma=np.ones(4))),
        ("beta", dict(beta=np.ones((3, 1)))),
        ("running_mean", dict(running_mean=np.zeros(2))),
        ("running_mean", dict(running_mean=[0.0, 0.0, 0.0])),
        ("running_var", dict(running_var=np.ones(3, dtype=int))),
        ("running_var", dict(running_var=-np.ones(3))),
        ("running_var", dict(running_var=None)),
        ("momentum", dict(momentum=1.5)),
        ("momentum", dict(momentum=-0.1)),
        ("eps", dict(eps=0.0)),
        ("training", dict(training="yes")),
    ]
    for name, change in cases:
        kw = dict(x=x, gamma=g, beta=b, running_mean=rm.copy(), running_var=rv.copy(),
                  training=True)
        kw.update(change)
        with pytest.raises(ValueError, match=name):
            batch_norm_forward(**kw)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="running_mean"):
        batch_norm_forward(x, g, b, frozen, rv.copy(), training=True)
    _, cache = batch_norm_forward(x, g, b, rm.copy(), rv.copy(), training=True)
    with pytest.raises(ValueError, match="dout"):
        batch_norm_backward(np.ones((3, 3)), cache)


# ---------------------------------------------------------------------------
# layer normalization
# ---------------------------------------------------------------------------

def _check_layer_norm(x, gamma, beta, dout, eps=1e-5, rtol=1e-9):
    tx, tg, tb = t64(x, True), t64(gamma, True), t64(beta, True)
    t_out = F.layer_norm(tx, (x.shape[-1],), tg, tb, eps)
    t_out.backward(t64(dout))
    out, cache = layer_norm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = layer_norm_backward(dout, cache)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=rtol, atol=1e-10)
    assert dgamma.shape == dbeta.shape == gamma.shape


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 7), (6,), (1, 8), (3, 1), (2, 2, 2, 3)])
@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_layer_norm_vs_torch(rng, shape, eps):
    D = shape[-1]
    _check_layer_norm(rng.normal(loc=2.0, scale=3.0, size=shape), rng.normal(size=D),
                      rng.normal(size=D), rng.normal(size=shape), eps)


def test_layer_norm_is_stable_for_large_inputs(rng):
    x = rng.normal(size=(3, 4)) * 1e3 + 1e3
    x[1] = 5.0                                  # constant row: variance 0
    with np.errstate(all="raise"):
        _check_layer_norm(x, rng.normal(size=4), rng.normal(size=4),
                          rng.normal(size=(3, 4)), rtol=1e-7)


@FAST
@given(st.integers(0, 2**32 - 1),
       st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 6))
def test_layer_norm_property_vs_torch(seed, lead, D):
    rng = np.random.default_rng(seed)
    shape = (*lead, D)
    _check_layer_norm(rng.normal(scale=rng.uniform(0.1, 10), size=shape), rng.normal(size=D),
                      rng.normal(size=D), rng.normal(size=shape), rtol=1e-7)


def test_layer_norm_rejects_bad_inputs():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="gamma"):
        layer_norm_forward(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="beta"):
        layer_norm_forward(x, np.ones(3), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="x"):
        layer_norm_forward(np.float64(1.0), np.ones(1), np.zeros(1))
    with pytest.raises(ValueError, match="x"):
        layer_norm_forward(np.ones((2, 0)), np.ones(0), np.zeros(0))
    with pytest.raises(ValueError, match="gamma"):
        layer_norm_forward(x, None, np.zeros(3))
    with pytest.raises(ValueError, match="x"):
        layer_norm_forward(None, np.ones(1), np.zeros(1))
    with pytest.raises(ValueError, match="eps"):
        layer_norm_forward(x, np.ones(3), np.zeros(3), eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        layer_norm_forward(x, np.ones(3), np.zeros(3), eps=-1e-5)
    _, cache = layer_norm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="dout"):
        layer_norm_backward(np.ones((3, 2)), cache)


# ---------------------------------------------------------------------------
# initialization
# ---------------------------------------------------------------------------

FAN_IN, FAN_OUT = 800, 1200


def _torch_init(init, **kw):
    torch.manual_seed(0)
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)   # nn.Linear(FAN_IN, FAN_OUT).weight
    init(w, **kw)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(w)
    assert (fan_in, fan_out) == (FAN_IN, FAN_OUT)
    return w.numpy()


def _assert_same_distribution(W, W_torch, std, bound=None):
    assert W.shape == W_torch.shape == (FAN_OUT, FAN_IN)
    n = W.size
    assert abs(W.mean()) < 5 * std / math.sqrt(n)
    assert W.std() == pytest.approx(std, rel=0.02)
    assert W_torch.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(W).max() <= bound and np.abs(W_torch).max() <= bound
        assert np.abs(W).max() > 0.999 * bound and np.abs(W_torch).max() > 0.999 * bound


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_vs_torch(rng, gain):
    bound = gain * math.sqrt(6 / (FAN_IN + FAN_OUT))
    W = xavier_uniform(FAN_IN, FAN_OUT, rng, gain=gain)
    _assert_same_distribution(W, _torch_init(torch.nn.init.xavier_uniform_, gain=gain),
                              bound / math.sqrt(3), bound)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_normal_vs_torch(rng, gain):
    std = gain * math.sqrt(2 / (FAN_IN + FAN_OUT))
    W = xavier_normal(FAN_IN, FAN_OUT, rng, gain=gain)
    _assert_same_distribution(W, _torch_init(torch.nn.init.xavier_normal_, gain=gain), std)


@pytest.mark.parametrize("a, mode", [(0.0, "fan_in"), (0.2, "fan_in"), (0.0, "fan_out")])
def test_kaiming_normal_vs_torch(rng, a, mode):
    gain = torch.nn.init.calculate_gain("leaky_relu", a) if a else math.sqrt(2)
    std = gain / math.sqrt(FAN_IN if mode == "fan_in" else FAN_OUT)
    if a == 0.0 and mode == "fan_in":
        W = kaiming_normal(FAN_IN, FAN_OUT, rng)                     # the defaults
        W_t = _torch_init(torch.nn.init.kaiming_normal_, mode="fan_in", nonlinearity="relu")
    else:
        W = kaiming_normal(FAN_IN, FAN_OUT, rng, a=a, mode=mode)
        W_t = _torch_init(torch.nn.init.kaiming_normal_, a=a, mode=mode,
                          nonlinearity="leaky_relu")
    _assert_same_distribution(W, W_t, std)


@pytest.mark.parametrize("a, mode", [(0.0, "fan_in"), (math.sqrt(5), "fan_in"), (0.0, "fan_out")])
def test_kaiming_uniform_vs_torch(rng, a, mode):
    gain = torch.nn.init.calculate_gain("leaky_relu", a)
    bound = gain * math.sqrt(3 / (FAN_IN if mode == "fan_in" else FAN_OUT))
    if a == 0.0 and mode == "fan_in":
        W = kaiming_uniform(FAN_IN, FAN_OUT, rng)
        W_t = _torch_init(torch.nn.init.kaiming_uniform_, mode="fan_in", nonlinearity="relu")
    else:
        W = kaiming_uniform(FAN_IN, FAN_OUT, rng, a=a, mode=mode)
        W_t = _torch_init(torch.nn.init.kaiming_uniform_, a=a, mode=mode,
                          nonlinearity="leaky_relu")
    _assert_same_distribution(W, W_t, bound / math.sqrt(3), bound)


def test_kaiming_uniform_with_a_sqrt5_is_the_nn_linear_default():
    W = kaiming_uniform(FAN_IN, FAN_OUT, np.random.default_rng(0), a=math.sqrt(5))
    torch.manual_seed(0)
    W_t = torch.nn.Linear(FAN_IN, FAN_OUT).weight.detach().double().numpy()
    _assert_same_distribution(W, W_t, 1 / math.sqrt(3 * FAN_IN), 1 / math.sqrt(FAN_IN))


@pytest.mark.parametrize("init", [xavier_uniform, xavier_normal, kaiming_normal, kaiming_uniform])
def test_init_is_reproducible_and_small_fans_work(init):
    W1 = init(3, 2, np.random.default_rng(7))
    W2 = init(3, 2, np.random.default_rng(7))
    np.testing.assert_array_equal(W1, W2)
    assert W1.shape == (2, 3) and W1.dtype == np.float64
    assert init(1, 1, np.random.default_rng(0)).shape == (1, 1)


@pytest.mark.parametrize("init", [xavier_uniform, xavier_normal, kaiming_normal, kaiming_uniform])
def test_init_rejects_bad_inputs(rng, init):
    for bad in [0, -3, 2.5, None, True]:
        with pytest.raises(ValueError, match="fan_in"):
            init(bad, 4, rng)
        with pytest.raises(ValueError, match="fan_out"):
            init(4, bad, rng)
    with pytest.raises(ValueError, match="rng"):
        init(4, 4, 0)


@pytest.mark.parametrize("init", [xavier_uniform, xavier_normal])
def test_xavier_rejects_bad_gain(rng, init):
    for bad in [-1.0, float("nan"), float("inf")]:
        with pytest.raises(ValueError, match="gain"):
            init(4, 4, rng, gain=bad)


@pytest.mark.parametrize("init", [kaiming_normal, kaiming_uniform])
def test_kaiming_rejects_bad_mode_and_a(rng, init):
    with pytest.raises(ValueError, match="mode"):
        init(4, 4, rng, mode="fan_avg")
    with pytest.raises(ValueError, match=r"\ba\b"):
        init(4, 4, rng, a=float("nan"))


# ---------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------

def _torch_clip(grads, max_norm, norm_type):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = t64(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return float(total), [p.grad.numpy() for p in params]


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e3, 0.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_vs_torch(rng, max_norm, norm_type):
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 2, 2))]
    expected_total, expected = _torch_clip(grads, max_norm, norm_type)
    total = clip_grad_norm(grads, max_norm, norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected_total, rel=1e-12)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-300)


def test_clip_grad_norm_at_exact_threshold_matches_torch(rng):
    grads = [rng.normal(size=4)]
    max_norm = float(np.linalg.norm(grads[0]))
    _, (expected,) = _torch_clip(grads, max_norm, 2.0)
    clip_grad_norm(grads, max_norm)
    np.testing.assert_allclose(grads[0], expected, rtol=1e-14)
    assert np.linalg.norm(grads[0]) < max_norm              # the 1e-6 bites


def test_clip_grad_norm_zeros_single_array_and_empty():
    grads = [np.zeros(3), np.zeros((2, 2))]
    with np.errstate(all="raise"):
        assert clip_grad_norm(grads, 1.0) == 0.0
    assert all(np.all(g == 0) for g in grads)
    g = np.array([30.0, 40.0])
    expected_total, (expected,) = _torch_clip([g], 5.0, 2.0)
    assert clip_grad_norm(g, 5.0) == pytest.approx(expected_total)
    np.testing.assert_allclose(g, expected, rtol=1e-14)         # scaled in place
    assert clip_grad_norm([], 1.0) == 0.0
    gen_grads = [np.array([3.0]), np.array([4.0])]
    assert clip_grad_norm((g for g in gen_grads), 1.0) == pytest.approx(5.0)   # any iterable
    np.testing.assert_allclose(np.concatenate(gen_grads), [0.6, 0.8], rtol=1e-5)
    assert float(torch.nn.utils.clip_grad_norm_([], 1.0)) == 0.0


def test_clip_grad_norm_nan_propagates_like_torch():
    grads = [np.array([1.0, np.nan]), np.array([2.0])]
    expected_total, expected = _torch_clip(grads, 1.0, 2.0)
    total = clip_grad_norm(grads, 1.0)
    assert math.isnan(total) and math.isnan(expected_total)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e))


def test_clip_grad_norm_rejects_bad_inputs():
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([np.ones(2), [1.0, 2.0]], 1.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([np.ones(2, dtype=int)], 1.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm(3.0, 1.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm("ab", 1.0)
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([frozen], 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([np.ones(2)], -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm([np.ones(2)], 1.0, norm_type=0.5)


# ---------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------

def test_early_stopping_sequence():
    stopper = EarlyStopping(patience=3)
    losses = [1.0, 0.9, 0.95, 0.9, 0.91, 0.5, 0.6, 0.6, 0.6]
    decisions = [stopper.step(v) for v in losses]
    # 0.9 equal to best is not an improvement; three misses after 0.9 -> stop at index 4
    assert decisions == [False, False, False, False, True, False, False, False, True]
    assert stopper.best == 0.5 and stopper.best_step == 5 and stopper.counter == 3


def test_early_stopping_min_delta():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert stopper.step(1.0) is False
    assert stopper.step(0.95) is False          # improves by only 0.05
    assert stopper.best == 1.0 and stopper.counter == 1
    assert stopper.step(0.85) is False          # 0.15 > 0.1: improvement
    assert stopper.best == 0.85 and stopper.best_step == 2 and stopper.counter == 0
    assert stopper.step(0.8) is False
    assert stopper.step(0.76) is True


def test_early_stopping_patience_one_and_nan():
    stopper = EarlyStopping(patience=1)
    assert stopper.step(np.float64(2.0)) is False
    assert stopper.step(float("nan")) is True   # a NaN loss never improves
    assert stopper.step(1.0) is False and stopper.best == 1.0


@FAST
@given(st.lists(st.floats(0.0, 5.0), min_size=1, max_size=30), st.integers(1, 5))
def test_early_stopping_matches_argmin_characterisation(losses, patience):
    """With min_delta=0, step t says stop iff the first minimum of losses[:t+1]
    is at least `patience` steps old."""
    stopper = EarlyStopping(patience)
    for t, v in enumerate(losses):
        first_argmin = int(np.argmin(losses[:t + 1]))
        assert stopper.step(v) == (t - first_argmin >= patience)
        assert stopper.best == min(losses[:t + 1]) and stopper.best_step == first_argmin


def test_early_stopping_rejects_bad_inputs():
    for bad in [0, -1, 1.5, None]:
        with pytest.raises(ValueError, match="patience"):
            EarlyStopping(bad)
    for bad in [-0.1, float("inf"), float("nan")]:
        with pytest.raises(ValueError, match="min_delta"):
            EarlyStopping(2, min_delta=bad)
    stopper = EarlyStopping(2)
    for bad in ["abc", [1.0, 2.0], None, True]:
        with pytest.raises(ValueError, match="val_loss"):
            stopper.step(bad)


# ---------------------------------------------------------------------------
# label smoothing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_vs_torch_cross_entropy(rng, epsilon):
    N, C = 6, 5
    logits, labels = rng.normal(size=(N, C)), rng.integers(0, C, size=N)
    onehot = F.one_hot(torch.tensor(labels), C).double().numpy()
    expected = F.cross_entropy(t64(logits), torch.tensor(labels), label_smoothing=epsilon)
    for smoothed in (label_smoothing(onehot, epsilon), label_smoothing(labels, epsilon, C)):
        assert smoothed.shape == (N, C)
        np.testing.assert_allclose(smoothed.sum(axis=1), 1.0, rtol=1e-14)
        ours = F.cross_entropy(t64(logits), t64(smoothed))
        assert float(ours) == pytest.approx(float(expected), rel=1e-12)


def test_label_smoothing_soft_targets_vs_torch(rng):
    logits = rng.normal(size=(4, 3))
    probs = rng.dirichlet(np.ones(3), size=4)
    expected = F.cross_entropy(t64(logits), t64(probs), label_smoothing=0.3)
    ours = F.cross_entropy(t64(logits), t64(label_smoothing(probs, 0.3)))
    assert float(ours) == pytest.approx(float(expected), rel=1e-12)


def test_label_smoothing_values_and_rank():
    y = np.eye(4)[[2]]
    np.testing.assert_allclose(label_smoothing(y, 0.2), [[0.05, 0.05, 0.85, 0.05]])
    np.testing.assert_allclose(label_smoothing(np.array([0.0, 1.0]), 0.5), [0.25, 0.75])
    y3 = np.eye(3)[np.array([[0, 1], [2, 2]])]                    # shape (2, 2, 3)
    assert label_smoothing(y3, 0.3).shape == (2, 2, 3)


def test_label_smoothing_rejects_bad_inputs():
    y = np.eye(3)
    for bad in [-0.1, 1.1, float("nan")]:
        with pytest.raises(ValueError, match="epsilon"):
            label_smoothing(y, bad)
    with pytest.raises(ValueError, match="y_onehot"):
        label_smoothing(np.array([0, 2, 1]), 0.1)             # labels without n_classes
    with pytest.raises(ValueError, match="y_onehot"):
        label_smoothing(np.array([[1.0, 1.0, 0.0]]), 0.1)
    with pytest.raises(ValueError, match="y_onehot"):
        label_smoothing(np.array([[1.5, -0.5]]), 0.1)
    with pytest.raises(ValueError, match="y_onehot"):
        label_smoothing(np.ones((2, 0)), 0.1)
    with pytest.raises(ValueError, match="y_onehot"):
        label_smoothing(np.array([0, 3]), 0.1, n_classes=3)
    with pytest.raises(ValueError, match="n_classes"):
        label_smoothing(np.array([0, 1]), 0.1, n_classes=0)
