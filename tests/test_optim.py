"""Tests for dlnotes.optim: every optimizer and schedule against torch.optim (float64)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dlnotes import optim

SHAPES = [(3, 4), (5,), (), (2, 1, 3)]
N_STEPS = 60
FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# (our class, torch class, kwargs shared by both)
CONFIGS = [
    (optim.SGD, torch.optim.SGD, {"lr": 0.1}),
    (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 1e-2}),
    (optim.SGD, torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.1}),
    (optim.SGD, torch.optim.SGD,
     {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    (optim.Adagrad, torch.optim.Adagrad, {}),
    (optim.Adagrad, torch.optim.Adagrad,
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05,
      "initial_accumulator_value": 0.3, "eps": 1e-6}),
    (optim.RMSprop, torch.optim.RMSprop, {}),
    (optim.RMSprop, torch.optim.RMSprop, {"lr": 1e-3, "momentum": 0.9}),
    (optim.RMSprop, torch.optim.RMSprop, {"centered": True}),
    (optim.RMSprop, torch.optim.RMSprop,
     {"lr": 5e-3, "alpha": 0.3, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    (optim.Adam, torch.optim.Adam, {}),
    (optim.Adam, torch.optim.Adam, {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    (optim.Adam, torch.optim.Adam, {"lr": 1e-2, "amsgrad": True}),
    (optim.Adam, torch.optim.Adam, {"lr": 1e-2, "betas": (0.0, 0.0), "eps": 1e-3}),
    (optim.AdamW, torch.optim.AdamW, {}),
    (optim.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    (optim.AdamW, torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.5}),
]
IDS = [f"{ours.__name__}-{kw}" for ours, _, kw in CONFIGS]


def make_params(rng, dtype=np.float64):
    return [rng.normal(size=s).astype(dtype) for s in SHAPES]


def torch_params(params):
    return [torch.tensor(p, requires_grad=True) for p in params]


# ----------------------------------------------------------------- optimizers vs torch


@pytest.mark.parametrize("ours, theirs, kwargs", CONFIGS, ids=IDS)
def test_optimizer_matches_torch_random_grads(ours, theirs, kwargs, rng):
    params = make_params(rng)
    t_params = torch_params(params)
    opt = ours(params, **kwargs)
    t_opt = theirs(t_params, foreach=False, **kwargs)
    for _ in range(N_STEPS):
        grads = [rng.normal(scale=3.0, size=s) for s in SHAPES]
        for tp, g in zip(t_params, grads, strict=True):
            tp.grad = torch.tensor(g)
        t_opt.step()
        opt.step(grads)
        for p, tp in zip(params, t_params, strict=True):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert opt.t == N_STEPS


@pytest.mark.parametrize("ours, theirs, kwargs", CONFIGS, ids=IDS)
def test_optimizer_matches_torch_on_a_quadratic(ours, theirs, kwargs, rng):
    # L = sum_i 0.5 p_i^T A_i p_i - b_i . p_i on flattened params; the gradient
    # depends on the current params, so any divergence would feed back.
    params = make_params(rng)
    sizes = [max(1, int(np.prod(s))) for s in SHAPES]
    A = []
    for n in sizes:
        M = rng.normal(size=(n, n))
        A.append(M @ M.T / n + np.eye(n))
    b = [rng.normal(size=n) for n in sizes]

    def np_grads(ps):
        return [(Ai @ p.ravel() - bi).reshape(p.shape) for p, Ai, bi in zip(ps, A, b, strict=True)]

    # centered RMSprop divides by sqrt(v - g_bar^2), a cancellation that grows as
    # the gradients settle: a 1e-15 change at step 1 moves the params by ~1e-13
    # after 60 steps, so round-off differences from torch reach ~1e-11 there.
    tol = 1e-10 if kwargs.get("centered") else 1e-12
    t_params = torch_params(params)
    tA, tb = [torch.tensor(a) for a in A], [torch.tensor(v) for v in b]
    opt = ours(params, **kwargs)
    t_opt = theirs(t_params, foreach=False, **kwargs)
    for _ in range(N_STEPS):
        t_opt.zero_grad()
        loss = sum(0.5 * tp.reshape(-1) @ Ai @ tp.reshape(-1) - bi @ tp.reshape(-1)
                   for tp, Ai, bi in zip(t_params, tA, tb, strict=True))
        loss.backward()
        t_opt.step()
        opt.step(np_grads(params))
        for p, tp in zip(params, t_params, strict=True):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("ours, theirs, kwargs", CONFIGS[:: 3], ids=IDS[:: 3])
def test_float32_params_stay_float32_and_track_torch(ours, theirs, kwargs, rng):
    params = make_params(rng, np.float32)
    t_params = [torch.tensor(p, requires_grad=True) for p in params]
    opt = ours(params, **kwargs)
    t_opt = theirs(t_params, foreach=False, **kwargs)
    for _ in range(20):
        grads = [rng.normal(size=s) for s in SHAPES]
        for tp, g in zip(t_params, grads, strict=True):
            tp.grad = torch.tensor(g, dtype=torch.float32)
        t_opt.step()
        opt.step(grads)
    for p, tp in zip(params, t_params, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_optimizer_driven_by_a_schedule_matches_torch_scheduler(rng):
    params = make_params(rng)
    t_params = torch_params(params)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9, foreach=False)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=30, eta_min=1e-3)
    for t in range(30):
        opt.lr = optim.cosine_annealing_lr(t, 0.1, T_max=30, eta_min=1e-3)
        grads = [rng.normal(size=s) for s in SHAPES]
        for tp, g in zip(t_params, grads, strict=True):
            tp.grad = torch.tensor(g)
        t_opt.step()
        sched.step()
        opt.step(grads)
    for p, tp in zip(params, t_params, strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_params_updated_in_place_and_kept_by_identity(rng):
    w, b = rng.normal(size=(3, 2)), np.zeros(2)
    w0 = w.copy()
    view = w[:, 0]   # a view into w sees the update too
    view0 = view.copy()
    opt = optim.Adam([w, b], lr=0.1)
    opt.step([np.ones((3, 2)), np.ones(2)])
    assert opt.params[0] is w and opt.params[1] is b
    assert not np.allclose(w, w0)
    np.testing.assert_allclose(view, view0 - 0.1, rtol=1e-6)


def test_non_contiguous_views_as_params_match_torch(rng):
    base = rng.normal(size=(4, 6))
    p1, p2 = base[:, ::2], base[:, 1::2]   # interleaved, no shared elements
    t1, t2 = torch.tensor(p1.copy(), requires_grad=True), torch.tensor(p2.copy(),
                                                                       requires_grad=True)
    opt = optim.SGD([p1, p2], lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD([t1, t2], lr=0.1, momentum=0.9, foreach=False)
    for _ in range(5):
        g1, g2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
        t1.grad, t2.grad = torch.tensor(g1), torch.tensor(g2)
        t_opt.step()
        opt.step([g1, g2])
    np.testing.assert_allclose(base[:, ::2], t1.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(base[:, 1::2], t2.detach().numpy(), rtol=1e-12)


def test_caller_grads_are_never_modified(rng):
    params = make_params(rng)
    for cls in (optim.SGD, optim.RMSprop, optim.Adam):
        opt = cls(params, lr=0.1, momentum=0.9) if cls is not optim.Adam else cls(params)
        grads = [rng.normal(size=s) for s in SHAPES]
        saved = [g.copy() for g in grads]
        opt.step(grads)
        opt.step(grads)
        for g, g0 in zip(grads, saved, strict=True):
            np.testing.assert_array_equal(g, g0)


def test_empty_param_is_allowed(rng):
    w, e = rng.normal(size=3), np.zeros((0, 4))
    opt = optim.Adam([w, e], lr=0.1)
    opt.step([np.ones(3), np.zeros((0, 4))])
    assert e.shape == (0, 4)


def test_bad_grads_leave_params_and_state_untouched(rng):
    params = make_params(rng)
    saved = [p.copy() for p in params]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    good = [rng.normal(size=s) for s in SHAPES]
    bad = list(good)
    bad[2] = np.array(np.nan)
    with pytest.raises(ValueError, match="grads"):
        opt.step(bad)
    assert opt.t == 0 and all(s == {} for s in opt.state)
    for p, p0 in zip(params, saved, strict=True):
        np.testing.assert_array_equal(p, p0)


def test_lr_can_be_changed_between_steps_and_is_checked():
    w = np.array([1.0])
    opt = optim.SGD([w], lr=0.1)
    opt.lr = 0.5
    opt.step([np.array([1.0])])
    assert w[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -0.1


# ------------------------------------------------------------------- hypothesis laws

finite = st.floats(-1e3, 1e3, allow_nan=False)


@FAST
@given(vals=st.lists(finite, min_size=1, max_size=6),
       momentum=st.sampled_from([0.0, 0.5, 0.9]),
       weight_decay=st.sampled_from([0.0, 0.1]),
       steps=st.integers(1, 5))
def test_sgd_with_zero_lr_leaves_params_unchanged(vals, momentum, weight_decay, steps):
    w = np.array(vals)
    w0 = w.copy()
    opt = optim.SGD([w], lr=0.0, momentum=momentum, weight_decay=weight_decay)
    for k in range(steps):
        opt.step([np.full_like(w, k + 1.0)])
    np.testing.assert_array_equal(w, w0)


@FAST
@given(g=st.lists(st.floats(1e-2, 1e3) | st.floats(-1e3, -1e-2), min_size=1, max_size=8),
       lr=st.floats(1e-4, 1.0),
       beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999))
def test_adam_first_step_moves_each_coordinate_by_lr(g, lr, beta1, beta2):
    g = np.array(g)
    w = np.zeros_like(g)
    optim.Adam([w], lr=lr, betas=(beta1, beta2)).step([g])
    # bias correction makes m_hat = g and v_hat = g^2: the step is -lr * sign(g)
    np.testing.assert_allclose(w, -lr * np.sign(g), rtol=1e-6)


@FAST
@given(g=st.lists(finite, min_size=1, max_size=8), lr=st.floats(1e-4, 1.0),
       steps=st.integers(1, 10))
def test_adagrad_never_moves_a_coordinate_more_than_lr(g, lr, steps):
    rng = np.random.default_rng(len(g))
    w = np.zeros(len(g))
    opt = optim.Adagrad([w], lr=lr)
    for _ in range(steps):
        before = w.copy()
        opt.step([np.array(g) * rng.uniform(0.1, 10.0)])
        assert np.all(np.abs(w - before) <= lr * (1 + 1e-12))


@FAST
@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 2**16))
def test_adam_is_invariant_to_gradient_scale(scale, seed):
    # m_hat / sqrt(v_hat) does not change when every gradient is multiplied by c
    # (eps = 0 so the identity is exact up to round-off)
    rng = np.random.default_rng(seed)
    gs = [rng.normal(size=4) for _ in range(5)]
    w1, w2 = np.zeros(4), np.zeros(4)
    o1, o2 = optim.Adam([w1], lr=0.1, eps=0.0), optim.Adam([w2], lr=0.1, eps=0.0)
    for g in gs:
        o1.step([g])
        o2.step([scale * g])
    np.testing.assert_allclose(w1, w2, rtol=1e-9, atol=1e-12)


@FAST
@given(vals=st.lists(finite, min_size=1, max_size=5), wd=st.floats(0.0, 1.0),
       lr=st.floats(0.0, 1.0))
def test_sgd_weight_decay_equals_shrink_then_step(vals, wd, lr):
    # for SGD, L2-in-the-gradient and decoupled decay are the same update
    w = np.array(vals)
    g = np.ones_like(w)
    expected = (1 - lr * wd) * w - lr * g
    optim.SGD([w], lr=lr, weight_decay=wd).step([g])
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-9)


# ----------------------------------------------------------------------- schedules


def torch_lrs(make_scheduler, base_lr, n):
    """lr in the optimizer's param group after t = 0..n scheduler.step() calls."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


@pytest.mark.parametrize("base_lr, step_size, gamma", [(0.1, 3, 0.1), (1.0, 1, 0.5),
                                                       (0.3, 7, 0.9), (0.5, 4, 2.0)])
def test_step_lr_matches_torch(base_lr, step_size, gamma):
    n = 40
    expected = torch_lrs(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma),
        base_lr, n)
    got = [optim.step_lr(t, base_lr, step_size, gamma) for t in range(n + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("base_lr, gamma", [(0.1, 0.9), (1.0, 0.5), (1e-3, 1.05), (0.2, 0.0)])
def test_exponential_lr_matches_torch(base_lr, gamma):
    n = 50
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=gamma),
                         base_lr, n)
    got = [optim.exponential_lr(t, base_lr, gamma) for t in range(n + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@FAST
@given(T_max=st.integers(1, 60), base_lr=st.floats(1e-4, 1.0),
       eta_frac=st.sampled_from([0.0, 1e-3, 0.1, 0.5]))
def test_cosine_annealing_lr_matches_torch_up_to_T_max(T_max, base_lr, eta_frac):
    eta_min = eta_frac * base_lr
    expected = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min),
        base_lr, T_max)
    got = [optim.cosine_annealing_lr(t, base_lr, T_max, eta_min) for t in range(T_max + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15 * base_lr)
    assert got[0] == pytest.approx(base_lr, rel=1e-15)
    assert got[-1] == pytest.approx(eta_min, rel=1e-15, abs=1e-18)


@pytest.mark.parametrize("T_max, eta_min", [(1, 0.0), (7, 0.0), (10, 0.01)])
def test_cosine_annealing_lr_beyond_T_max_rises_again_like_torch(T_max, eta_min):
    base_lr, n = 0.1, 4 * T_max + 3
    expected = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min),
        base_lr, n)
    got = [optim.cosine_annealing_lr(t, base_lr, T_max, eta_min) for t in range(n + 1)]
    # torch's recursion accumulates round-off; compare on the lr scale
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * base_lr)
    assert got[2 * T_max] == pytest.approx(base_lr)


def torch_one_cycle(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    """torch's lr at t = 0..total_steps, None where torch divides by zero."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=max_lr)
    try:
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, total_steps=total_steps, pct_start=float(pct_start),
            anneal_strategy="cos", div_factor=div_factor, final_div_factor=final_div_factor,
            three_phase=False, cycle_momentum=False)
        lrs = [opt.param_groups[0]["lr"]]
    except ZeroDivisionError:
        return None
    for _ in range(total_steps):
        opt.step()
        try:
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        except ZeroDivisionError:
            lrs.append(None)
    with pytest.raises(ValueError):   # torch refuses to step past total_steps
        opt.step()
        sched.step()
    return lrs


@pytest.mark.parametrize("total_steps, pct_start, div_factor, final_div_factor", [
    (100, 0.3, 25.0, 1e4), (10, 0.25, 10.0, 100.0), (1, 0.3, 25.0, 1e4),
    (7, 0.0, 25.0, 1e4), (13, 0.5, 5.0, 3.0), (50, 0.999, 25.0, 1e4),
])
def test_one_cycle_lr_matches_torch(total_steps, pct_start, div_factor, final_div_factor):
    max_lr = 0.4
    expected = torch_one_cycle(max_lr, total_steps, pct_start, div_factor, final_div_factor)
    got = [optim.one_cycle_lr(t, max_lr, total_steps, pct_start, div_factor, final_div_factor)
           for t in range(total_steps + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="t"):
        optim.one_cycle_lr(total_steps + 1, max_lr, total_steps, pct_start)


@FAST
@given(total_steps=st.integers(1, 80), pct_start=st.floats(0.0, 1.0),
       max_lr=st.floats(1e-4, 10.0))
def test_one_cycle_lr_matches_torch_or_raises_where_torch_divides_by_zero(
        total_steps, pct_start, max_lr):
    expected = torch_one_cycle(max_lr, total_steps, pct_start, 25.0, 1e4)
    assume(expected is not None)
    for t, lr in enumerate(expected):
        if lr is None:
            with pytest.raises(ValueError, match="pct_start"):
                optim.one_cycle_lr(t, max_lr, total_steps, pct_start)
        else:
            got = optim.one_cycle_lr(t, max_lr, total_steps, pct_start)
            assert got == pytest.approx(lr, rel=1e-12, abs=0)


def test_one_cycle_lr_zero_length_phases_raise():
    with pytest.raises(ValueError, match="pct_start"):
        optim.one_cycle_lr(0, 1.0, total_steps=10, pct_start=0.1)
    assert 0.9 < optim.one_cycle_lr(1, 1.0, total_steps=10, pct_start=0.1) < 1.0
    with pytest.raises(ValueError, match="pct_start"):
        optim.one_cycle_lr(10, 1.0, total_steps=10, pct_start=1.0)
    assert optim.one_cycle_lr(9, 1.0, total_steps=10, pct_start=1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("warmup_steps, start_factor, end_factor", [
    (5, 1 / 3, 1.0), (1, 0.5, 1.0), (10, 0.01, 1.0), (8, 1.0, 0.1), (4, 0.25, 0.75),
])
def test_linear_warmup_lr_matches_torch_linear_lr(warmup_steps, start_factor, end_factor):
    base_lr, n = 0.3, 3 * warmup_steps + 2
    expected = torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=start_factor, end_factor=end_factor, total_iters=warmup_steps),
        base_lr, n)
    got = [optim.linear_warmup_lr(t, base_lr, warmup_steps, start_factor, end_factor)
           for t in range(n + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_linear_warmup_default_factors_are_torchs():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, total_iters=6), 0.3, 10)
    got = [optim.linear_warmup_lr(t, 0.3, 6) for t in range(11)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_schedules_return_python_floats():
    values = [optim.step_lr(3, 1.0, 2), optim.exponential_lr(np.int64(2), 1.0, 0.5),
              optim.cosine_annealing_lr(1, 1.0, 3), optim.one_cycle_lr(2, 1.0, 10),
              optim.linear_warmup_lr(1, 1.0, 4)]
    assert all(type(v) is float for v in values)


# ------------------------------------------------------------- gradient descent loop


def lsq_grad(params, Xb, yb):
    w, b = params
    r = Xb @ w + b - yb
    return [Xb.T @ r / len(Xb), np.array(r.mean())]


def lsq_loss(params, X, y):
    w, b = params
    return float(0.5 * np.mean((X @ w + b - y) ** 2))


@pytest.fixture
def regression(rng):
    X = rng.normal(size=(37, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.7 + 0.1 * rng.normal(size=37)
    return X, y


def test_batch_gd_converges_to_least_squares_solution(regression):
    X, y = regression
    A = np.hstack([X, np.ones((len(X), 1))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    L = np.linalg.eigvalsh(A.T @ A / len(X)).max()
    w, b = np.zeros(3), np.array(0.0)
    history = optim.gradient_descent(lsq_grad, [w, b], X, y, lr=1.0 / L, epochs=2000,
                                     loss_fn=lsq_loss)
    np.testing.assert_allclose(np.append(w, b), solution, rtol=1e-9, atol=1e-9)
    assert len(history) == 2001
    assert np.all(np.diff(history) <= 1e-15)   # lr = 1/L: monotone for a quadratic


def test_batch_gd_matches_torch_autograd_on_the_mean_loss(regression):
    X, y = regression
    w, b = np.zeros(3), np.array(0.0)
    optim.gradient_descent(lsq_grad, [w, b], X, y, lr=0.1, epochs=25)
    tX, ty = torch.tensor(X), torch.tensor(y)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros((), dtype=torch.float64, requires_grad=True)
    for _ in range(25):
        loss = 0.5 * ((tX @ tw + tb - ty) ** 2).mean()
        gw, gb = torch.autograd.grad(loss, [tw, tb])
        with torch.no_grad():
            tw -= 0.1 * gw
            tb -= 0.1 * gb
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(b, tb.item(), rtol=1e-12, atol=1e-13)


def test_minibatch_with_batch_size_N_is_exactly_batch_gd(regression):
    X, y = regression
    w1, b1 = np.zeros(3), np.array(0.0)
    w2, b2 = np.zeros(3), np.array(0.0)
    h1 = optim.gradient_descent(lsq_grad, [w1, b1], X, y, lr=0.1, epochs=30, loss_fn=lsq_loss)
    h2 = optim.gradient_descent(lsq_grad, [w2, b2], X, y, lr=0.1, epochs=30,
                                batch_size=len(X), shuffle=True, rng=3, loss_fn=lsq_loss)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(b1, b2)
    assert h1 == h2


def test_stochastic_gd_is_one_update_per_example_in_order(regression):
    X, y = regression
    w, b = np.zeros(3), np.array(0.0)
    optim.gradient_descent(lsq_grad, [w, b], X, y, lr=0.01, epochs=2, batch_size=1,
                           shuffle=False)
    ew, eb = np.zeros(3), 0.0
    for _ in range(2):
        for i in range(len(X)):
            r = X[i] @ ew + eb - y[i]
            ew, eb = ew - 0.01 * X[i] * r, eb - 0.01 * r
    np.testing.assert_allclose(w, ew, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, eb, rtol=1e-12, atol=1e-14)


def test_minibatch_uses_a_fresh_permutation_per_epoch_and_a_short_last_batch(regression):
    X, y = regression   # N = 37, batch 10 -> batches of 10, 10, 10, 7
    w, b = np.zeros(3), np.array(0.0)
    sizes = []

    def grad_fn(params, Xb, yb):
        sizes.append(len(Xb))
        return lsq_grad(params, Xb, yb)

    optim.gradient_descent(grad_fn, [w, b], X, y, lr=0.05, epochs=3, batch_size=10, rng=42)
    assert sizes == [10, 10, 10, 7] * 3
    rng = np.random.default_rng(42)
    ew, eb = np.zeros(3), np.array(0.0)
    for _ in range(3):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 10):
            idx = order[s:s + 10]
            gw, gb = lsq_grad([ew, eb], X[idx], y[idx])
            ew, eb = ew - 0.05 * gw, eb - 0.05 * gb
    np.testing.assert_allclose(w, ew, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, eb, rtol=1e-12, atol=1e-14)


def test_gradient_is_a_mean_so_duplicating_the_data_changes_nothing(regression):
    X, y = regression
    w1, b1 = np.zeros(3), np.array(0.0)
    w2, b2 = np.zeros(3), np.array(0.0)
    optim.gradient_descent(lsq_grad, [w1, b1], X, y, lr=0.1, epochs=20)
    optim.gradient_descent(lsq_grad, [w2, b2], np.vstack([X, X]), np.concatenate([y, y]),
                           lr=0.1, epochs=20)
    np.testing.assert_allclose(w1, w2, rtol=1e-12, atol=1e-13)


def test_callback_sees_every_epoch_and_zero_epochs_is_a_no_op(regression):
    X, y = regression
    w, b = np.zeros(3), np.array(0.0)
    seen = []
    optim.gradient_descent(lsq_grad, [w, b], X, y, lr=0.1, epochs=4,
                           callback=lambda epoch, params: seen.append((epoch, params[0])))
    assert [e for e, _ in seen] == [1, 2, 3, 4] and all(p is w for _, p in seen)
    v = np.ones(3)
    history = optim.gradient_descent(lsq_grad, [v, np.array(0.0)], X, y, lr=0.1, epochs=0,
                                     loss_fn=lsq_loss)
    np.testing.assert_array_equal(v, np.ones(3))
    assert history == [lsq_loss([np.ones(3), 0.0], X, y)]


# ----------------------------------------------------------------------- ValueErrors

w3 = np.zeros(3)


def _opt(cls, **kw):
    return lambda: cls([np.zeros(3)], **kw)


BAD_CONSTRUCTIONS = [
    # params
    (lambda: optim.SGD(np.zeros(3), lr=0.1), "params"),
    (lambda: optim.SGD([], lr=0.1), "params"),
    (lambda: optim.SGD(3, lr=0.1), "params"),
    (lambda: optim.SGD([[1.0, 2.0]], lr=0.1), "params"),
    (lambda: optim.SGD([np.arange(3)], lr=0.1), "params"),
    (lambda: optim.SGD([np.zeros(3, dtype=complex)], lr=0.1), "params"),
    (lambda: optim.SGD([np.broadcast_to(np.zeros(1), (3,))], lr=0.1), "params"),
    (lambda: optim.SGD([w3, w3], lr=0.1), "params"),
    (lambda: optim.SGD([w3, w3[1:]], lr=0.1), "params"),
    # SGD
    (_opt(optim.SGD, lr=-0.1), "lr"),
    (_opt(optim.SGD, lr=float("nan")), "lr"),
    (_opt(optim.SGD, lr=float("inf")), "lr"),
    (_opt(optim.SGD, lr="0.1"), "lr"),
    (_opt(optim.SGD, lr=0.1, momentum=-0.1), "momentum"),
    (_opt(optim.SGD, lr=0.1, momentum=1.0), "momentum"),
    (_opt(optim.SGD, lr=0.1, dampening=-0.5), "dampening"),
    (_opt(optim.SGD, lr=0.1, dampening=1.5), "dampening"),
    (_opt(optim.SGD, lr=0.1, weight_decay=-1e-3), "weight_decay"),
    (_opt(optim.SGD, lr=0.1, nesterov=True), "nesterov"),
    (_opt(optim.SGD, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (_opt(optim.SGD, lr=0.1, momentum=0.9, nesterov="yes"), "nesterov"),
    # Adagrad
    (_opt(optim.Adagrad, lr=-1.0), "lr"),
    (_opt(optim.Adagrad, lr_decay=-0.1), "lr_decay"),
    (_opt(optim.Adagrad, weight_decay=-0.1), "weight_decay"),
    (_opt(optim.Adagrad, initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (_opt(optim.Adagrad, eps=-1e-10), "eps"),
    # RMSprop
    (_opt(optim.RMSprop, lr=-1.0), "lr"),
    (_opt(optim.RMSprop, alpha=-0.1), "alpha"),
    (_opt(optim.RMSprop, alpha=1.0), "alpha"),
    (_opt(optim.RMSprop, eps=-1e-8), "eps"),
    (_opt(optim.RMSprop, weight_decay=-1.0), "weight_decay"),
    (_opt(optim.RMSprop, momentum=-0.5), "momentum"),
    (_opt(optim.RMSprop, momentum=1.5), "momentum"),
    (_opt(optim.RMSprop, centered=1), "centered"),
    # Adam / AdamW
    (_opt(optim.Adam, lr=-1e-3), "lr"),
    (_opt(optim.Adam, betas=(1.0, 0.999)), "betas"),
    (_opt(optim.Adam, betas=(-0.1, 0.999)), "betas"),
    (_opt(optim.Adam, betas=(0.9, 1.0)), "betas"),
    (_opt(optim.Adam, betas=0.9), "betas"),
    (_opt(optim.Adam, betas=(0.9, 0.99, 0.999)), "betas"),
    (_opt(optim.Adam, eps=-1e-8), "eps"),
    (_opt(optim.Adam, weight_decay=-0.1), "weight_decay"),
    (_opt(optim.Adam, amsgrad="no"), "amsgrad"),
    (_opt(optim.AdamW, weight_decay=-0.1), "weight_decay"),
    (_opt(optim.AdamW, betas=(0.9, 1.5)), "betas"),
    (_opt(optim.AdamW, lr=float("nan")), "lr"),
]


@pytest.mark.parametrize("make, name", BAD_CONSTRUCTIONS,
                         ids=[f"{i}-{n}" for i, (_, n) in enumerate(BAD_CONSTRUCTIONS)])
def test_bad_construction_raises_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam,
                                 optim.AdamW])
@pytest.mark.parametrize("grads", [
    [np.zeros(3)],                               # too few
    [np.zeros(3), np.zeros((2, 2)), np.zeros(1)],  # too many
    [np.zeros(3), np.zeros((2, 3))],             # wrong shape
    [np.zeros(3), np.zeros(4)],                  # wrong shape, same ndim
    [np.zeros(3), np.zeros((2, 2)).T.ravel()],   # right size, wrong shape
    [np.array([0.0, np.inf, 0.0]), np.zeros((2, 2))],   # not finite
    [np.zeros(3), None],
    [np.zeros(3), [["a", "b"], ["c", "d"]]],
    np.zeros(3),                                 # a single array, not a list
    5,
])
def test_bad_grads_raise_naming_grads(cls, grads):
    opt = cls([np.zeros(3), np.zeros((2, 2))])
    with pytest.raises(ValueError, match="grads"):
        opt.step(grads)


BAD_SCHEDULES = [
    (lambda: optim.step_lr(-1, 0.1, 3), "t"),
    (lambda: optim.step_lr(1.5, 0.1, 3), "t"),
    (lambda: optim.step_lr(True, 0.1, 3), "t"),
    (lambda: optim.step_lr(1, -0.1, 3), "base_lr"),
    (lambda: optim.step_lr(1, 0.1, 0), "step_size"),
    (lambda: optim.step_lr(1, 0.1, 2.0), "step_size"),
    (lambda: optim.step_lr(1, 0.1, 3, gamma=-0.1), "gamma"),
    (lambda: optim.exponential_lr(-2, 0.1, 0.9), "t"),
    (lambda: optim.exponential_lr(2, float("inf"), 0.9), "base_lr"),
    (lambda: optim.exponential_lr(2, 0.1, -0.9), "gamma"),
    (lambda: optim.cosine_annealing_lr(-1, 0.1, 10), "t"),
    (lambda: optim.cosine_annealing_lr(1, -0.1, 10), "base_lr"),
    (lambda: optim.cosine_annealing_lr(1, 0.1, 0), "T_max"),
    (lambda: optim.cosine_annealing_lr(1, 0.1, 10, eta_min=-1e-3), "eta_min"),
    (lambda: optim.one_cycle_lr(101, 0.1, 100), "t"),
    (lambda: optim.one_cycle_lr(-1, 0.1, 100), "t"),
    (lambda: optim.one_cycle_lr(1, -0.1, 100), "max_lr"),
    (lambda: optim.one_cycle_lr(0, 0.1, 0), "total_steps"),
    (lambda: optim.one_cycle_lr(1, 0.1, 100, pct_start=1.5), "pct_start"),
    (lambda: optim.one_cycle_lr(1, 0.1, 100, pct_start=-0.1), "pct_start"),
    (lambda: optim.one_cycle_lr(1, 0.1, 100, div_factor=0.0), "div_factor"),
    (lambda: optim.one_cycle_lr(1, 0.1, 100, final_div_factor=-1.0), "final_div_factor"),
    (lambda: optim.linear_warmup_lr(-1, 0.1, 5), "t"),
    (lambda: optim.linear_warmup_lr(1, -0.1, 5), "base_lr"),
    (lambda: optim.linear_warmup_lr(1, 0.1, 0), "warmup_steps"),
    (lambda: optim.linear_warmup_lr(1, 0.1, 5, start_factor=0.0), "start_factor"),
    (lambda: optim.linear_warmup_lr(1, 0.1, 5, start_factor=1.5), "start_factor"),
    (lambda: optim.linear_warmup_lr(1, 0.1, 5, end_factor=-0.1), "end_factor"),
    (lambda: optim.linear_warmup_lr(1, 0.1, 5, end_factor=1.1), "end_factor"),
]


@pytest.mark.parametrize("call, name", BAD_SCHEDULES,
                         ids=[f"{i}-{n}" for i, (_, n) in enumerate(BAD_SCHEDULES)])
def test_bad_schedule_arguments_raise_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def _gd(**overrides):
    X, y = np.ones((5, 2)), np.ones(5)
    kw = dict(grad_fn=lsq_grad, params=[np.zeros(2), np.array(0.0)], X=X, y=y, lr=0.1,
              epochs=2)
    kw.update(overrides)
    return lambda: optim.gradient_descent(**kw)


BAD_GD = [
    (_gd(y=np.ones(4)), "X and y"),
    (_gd(X=np.ones((0, 2)), y=np.ones(0)), "X"),
    (_gd(X=np.array(1.0)), "X"),
    (_gd(y=np.array(1.0)), "y"),
    (_gd(batch_size=0), "batch_size"),
    (_gd(batch_size=6), "batch_size"),
    (_gd(batch_size=2.5), "batch_size"),
    (_gd(epochs=-1), "epochs"),
    (_gd(epochs=1.5), "epochs"),
    (_gd(lr=-0.1), "lr"),
    (_gd(shuffle="yes"), "shuffle"),
    (_gd(batch_size=2, rng="seed"), "rng"),
    (_gd(params=np.zeros(2)), "params"),
    (_gd(grad_fn=lambda params, Xb, yb: [np.zeros(2)]), "grads"),
    (_gd(grad_fn=lambda params, Xb, yb: [np.zeros(3), np.array(0.0)]), "grads"),
]


@pytest.mark.parametrize("call, name", BAD_GD, ids=[f"{i}-{n}" for i, (_, n) in
                                                    enumerate(BAD_GD)])
def test_bad_gradient_descent_arguments_raise_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_eps_zero_with_zero_gradient_gives_nan_like_torch():
    # documented: Adagrad with eps=0 divides 0 by 0 on a coordinate never moved
    w = np.zeros(2)
    t_w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    t_opt = torch.optim.Adagrad([t_w], lr=0.1, eps=0.0, foreach=False)
    t_w.grad = torch.tensor([1.0, 0.0], dtype=torch.float64)
    t_opt.step()
    with np.errstate(invalid="ignore"):
        optim.Adagrad([w], lr=0.1, eps=0.0).step([np.array([1.0, 0.0])])
    np.testing.assert_array_equal(np.isnan(w), torch.isnan(t_w.detach()).numpy())
    assert w[0] == pytest.approx(t_w[0].item()) and math.isnan(w[1])


# -- warm-up + cosine ------------------------------------------------------------
@pytest.mark.parametrize(("W", "T", "eta_min"), [(1, 2, 0.0), (3, 10, 0.0), (5, 40, 0.01),
                                                 (10, 11, 0.002)])
def test_warmup_cosine_matches_torch_sequential_lr(W, T, eta_min):
    base_lr = 0.3
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / W, end_factor=1.0,
                                          total_iters=W),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T - W, eta_min=eta_min)],
        milestones=[W])
    for t in range(T + 1):
        got = optim.warmup_cosine_lr(t, base_lr, W, T, eta_min)
        assert got == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), t
        opt.step()
        sched.step()
    assert optim.warmup_cosine_lr(T + 1, base_lr, W, T, eta_min) == eta_min
    assert optim.warmup_cosine_lr(10 * T, base_lr, W, T, eta_min) == eta_min


def test_warmup_cosine_peak_and_bad_arguments():
    assert optim.warmup_cosine_lr(4, 0.5, 4, 9) == 0.5
    for kwargs, name in (({"warmup_steps": 0}, "warmup_steps"),
                         ({"warmup_steps": 9}, "warmup_steps"),
                         ({"t": -1}, "t"), ({"base_lr": -1.0}, "base_lr"),
                         ({"eta_min": -0.1}, "eta_min")):
        args = {"t": 0, "base_lr": 0.5, "warmup_steps": 4, "total_steps": 9, **kwargs}
        with pytest.raises(ValueError, match=name):
            optim.warmup_cosine_lr(**args)
