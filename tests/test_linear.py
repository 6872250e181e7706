"""Tests for dlnotes.linear against scikit-learn, numpy lstsq and torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from dlnotes import linear

SETTINGS = settings(max_examples=30, deadline=None)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


# --------------------------------------------------------------------------
# fit_line
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 50])
def test_fit_line_matches_sklearn(rng, n):
    x = rng.normal(size=n) * 3 + 1
    y = 2.5 * x - 4 + rng.normal(size=n)
    w, b = linear.fit_line(x, y)
    ref = LinearRegression().fit(x[:, None], y)
    assert isinstance(w, float) and isinstance(b, float)
    np.testing.assert_allclose(w, ref.coef_[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, ref.intercept_, rtol=1e-10, atol=1e-12)


def test_fit_line_matches_lstsq(rng):
    x = rng.uniform(-5, 5, size=20)
    y = rng.normal(size=20)
    theta = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    np.testing.assert_allclose(linear.fit_line(x, y), theta, rtol=1e-10, atol=1e-12)


def test_fit_line_two_points_is_the_line_through_them():
    w, b = linear.fit_line([1.0, 3.0], [2.0, 8.0])
    assert w == pytest.approx(3.0) and b == pytest.approx(-1.0)


@SETTINGS
@given(st.integers(2, 30), st.integers(0, 10_000))
def test_fit_line_residuals_satisfy_normal_equations(n, seed):
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    if np.ptp(x) == 0:
        return
    y = r.normal(size=n)
    w, b = linear.fit_line(x, y)
    res = y - (w * x + b)
    # dE/db = 0 and dE/dw = 0: residuals sum to 0 and are orthogonal to x
    assert abs(res.sum()) < 1e-9 * (1 + np.abs(y).sum())
    assert abs(res @ x) < 1e-9 * (1 + np.abs(y).sum()) * (1 + np.abs(x).max())


@pytest.mark.parametrize("k", [1e-300, 1e-150, 1e150, 1e200])
def test_fit_line_extreme_scales(rng, k):
    # fitting on k * x must give slope / k: compare with sklearn on the unscaled x
    x, y = rng.normal(size=10), rng.normal(size=10)
    ref = LinearRegression().fit(x[:, None], y)
    with np.errstate(all="raise"):
        w, b = linear.fit_line(k * x, y)
    np.testing.assert_allclose(w * k, ref.coef_[0], rtol=1e-9)
    np.testing.assert_allclose(b, ref.intercept_, rtol=1e-9, atol=1e-12)


def test_fit_line_constant_x_raises():
    with pytest.raises(ValueError, match="x"):
        linear.fit_line([0.1, 0.1, 0.1], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], "x and y"),
        ([1.0], [1.0], "at least 2"),
        ([[1.0, 2.0]], [1.0, 2.0], "x"),
        ([1.0, 2.0], [[1.0, 2.0]], "y"),
        ([1.0, np.nan], [1.0, 2.0], "x"),
        ([1.0, 2.0], [np.inf, 2.0], "y"),
    ],
)
def test_fit_line_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        linear.fit_line(x, y)


# --------------------------------------------------------------------------
# normal_equation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("N, D", [(30, 3), (5, 4), (200, 1)])
def test_normal_equation_matches_sklearn(rng, N, D):
    X = rng.normal(size=(N, D))
    y = X @ rng.normal(size=D) + 0.7 + 0.1 * rng.normal(size=N)
    theta = linear.normal_equation(X, y)
    ref = LinearRegression().fit(X, y)
    assert theta.shape == (D + 1,)
    np.testing.assert_allclose(theta[:D], ref.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(theta[D], ref.intercept_, rtol=1e-9, atol=1e-10)


def test_normal_equation_multi_output_matches_sklearn(rng):
    X = rng.normal(size=(40, 3))
    Y = rng.normal(size=(40, 2))
    theta = linear.normal_equation(X, Y)
    ref = LinearRegression().fit(X, Y)
    assert theta.shape == (4, 2)
    np.testing.assert_allclose(theta[:3], ref.coef_.T, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(theta[3], ref.intercept_, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", ["duplicate_column", "constant_column", "wide", "single_row"])
def test_normal_equation_rank_deficient_is_min_norm_lstsq(rng, case):
    if case == "duplicate_column":
        X = rng.normal(size=(20, 2))
        X = np.column_stack([X, X[:, 0]])
    elif case == "constant_column":
        X = np.column_stack([rng.normal(size=15), np.full(15, 3.0)])
    elif case == "wide":
        X = rng.normal(size=(3, 6))
    else:
        X = rng.normal(size=(1, 2))
    y = rng.normal(size=X.shape[0])
    A = np.column_stack([X, np.ones(len(X))])
    expected = np.linalg.lstsq(A, y, rcond=None)[0]
    theta = linear.normal_equation(X, y)
    np.testing.assert_allclose(theta, expected, rtol=1e-9, atol=1e-12)
    # it is a least-squares solution, and no other one (theta + null vector) is shorter
    np.testing.assert_allclose(A.T @ (A @ theta - y), 0, atol=1e-9)
    null = np.linalg.svd(A)[2][-1]
    assert np.allclose(A @ null, 0, atol=1e-10)
    assert np.linalg.norm(theta) <= np.linalg.norm(theta + 0.1 * null)


def test_normal_equation_exact_fit_recovers_weights(rng):
    X = rng.normal(size=(10, 3))
    w = np.array([1.0, -2.0, 0.5])
    theta = linear.normal_equation(X, X @ w - 3.0)
    np.testing.assert_allclose(theta, [1.0, -2.0, 0.5, -3.0], atol=1e-12)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.ones(3), np.ones(3), "X"),
        (np.ones((3, 2)), np.ones(4), "X and y"),
        (np.ones((3, 2)), np.ones((3, 2, 1)), "y"),
        (np.array([[1.0, np.nan]]), np.ones(1), "X"),
        (np.ones((0, 2)), np.ones(0), "X"),
    ],
)
def test_normal_equation_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        linear.normal_equation(X, y)


# --------------------------------------------------------------------------
# logistic regression
# --------------------------------------------------------------------------

def torch_logistic(w, b, X, y):
    wt, bt = t64(w, True), t64(b, True)
    loss = F.binary_cross_entropy_with_logits(t64(X) @ wt + bt, t64(y))
    loss.backward()
    return loss.item(), wt.grad.numpy(), bt.grad.item()


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("N, D", [(1, 1), (7, 3), (64, 5)])
def test_logistic_loss_and_grad_match_torch(rng, N, D, soft):
    X = rng.normal(size=(N, D))
    w = rng.normal(size=D)
    b = float(rng.normal())
    y = rng.uniform(size=N) if soft else rng.integers(0, 2, size=N)
    loss, dw_ref, db_ref = torch_logistic(w, b, X, y)
    dw, db = linear.logistic_regression_grad(w, b, X, y)
    assert dw.shape == (D,) and isinstance(db, float)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-14)
    value = linear.logistic_regression_loss(w, b, X, y)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, loss, rtol=1e-12)


def test_logistic_extreme_logits_are_stable():
    # logits of +-800 and +-1000, right and wrong, hard and soft labels
    X = np.array([[800.0], [-800.0], [800.0], [-800.0], [1000.0], [-1000.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25])
    w, b = np.array([1.0]), 0.0
    with np.errstate(all="raise"):
        dw, db = linear.logistic_regression_grad(w, b, X, y)
        value = linear.logistic_regression_loss(w, b, X, y)
    loss, dw_ref, db_ref = torch_logistic(w, b, X, y)
    assert np.isfinite(value) and np.all(np.isfinite(dw))
    np.testing.assert_allclose(value, loss, rtol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 4), st.integers(0, 10_000), st.floats(0.1, 300))
def test_logistic_grad_matches_torch_property(N, D, seed, scale):
    r = np.random.default_rng(seed)
    X, w, b = r.normal(size=(N, D)) * scale, r.normal(size=D), float(r.normal())
    y = r.integers(0, 2, size=N)
    _, dw_ref, db_ref = torch_logistic(w, b, X, y)
    dw, db = linear.logistic_regression_grad(w, b, X, y)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-9, atol=1e-12)


def test_logistic_gradient_descent_learns(rng):
    X = rng.normal(size=(100, 2))
    y = (X @ np.array([2.0, -1.0]) + 0.5 > 0).astype(float)
    w, b = np.zeros(2), 0.0
    start = linear.logistic_regression_loss(w, b, X, y)
    for _ in range(200):
        dw, db = linear.logistic_regression_grad(w, b, X, y)
        w, b = w - 1.0 * dw, b - 1.0 * db
    assert linear.logistic_regression_loss(w, b, X, y) < 0.3 * start
    assert np.mean(((X @ w + b) > 0) == (y == 1)) > 0.95


@pytest.mark.parametrize(
    "w, b, X, y, match",
    [
        (np.ones(3), 0.0, np.ones((4, 2)), np.zeros(4), "w"),
        (np.ones(2), np.ones(2), np.ones((4, 2)), np.zeros(4), "b"),
        (np.ones(2), 0.0, np.ones(4), np.zeros(4), "X"),
        (np.ones(2), 0.0, np.ones((4, 2)), np.zeros(3), "y"),
        (np.ones(2), 0.0, np.ones((4, 2)), np.array([0, 1, 2, 1]), "y"),
        (np.ones(2), 0.0, np.ones((4, 2)), np.array([0, 1, -0.1, 1]), "y"),
        (np.ones(2), 0.0, np.ones((4, 2)), np.zeros((4, 1)), "y"),
        (np.ones(2), 0.0, np.full((4, 2), np.inf), np.zeros(4), "X"),
        (np.ones(2), np.nan, np.ones((4, 2)), np.zeros(4), "b"),
        (np.ones(2), 0.0, np.ones((0, 2)), np.zeros(0), "X"),
    ],
)
def test_logistic_bad_input(w, b, X, y, match):
    with pytest.raises(ValueError, match=match):
        linear.logistic_regression_grad(w, b, X, y)
    with pytest.raises(ValueError, match=match):
        linear.logistic_regression_loss(w, b, X, y)


# --------------------------------------------------------------------------
# softmax regression
# --------------------------------------------------------------------------

def torch_softmax(W, b, X, y):
    Wt, bt = t64(W, True), t64(b, True)
    loss = F.cross_entropy(t64(X) @ Wt + bt, torch.tensor(np.asarray(y), dtype=torch.long))
    loss.backward()
    return loss.item(), Wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("N, D, C", [(1, 1, 1), (1, 3, 4), (10, 4, 3), (50, 6, 10)])
def test_softmax_loss_and_grad_match_torch(rng, N, D, C):
    X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, C)), rng.normal(size=C)
    y = rng.integers(0, C, size=N)
    loss, dW_ref, db_ref = torch_softmax(W, b, X, y)
    dW, db = linear.softmax_regression_grad(W, b, X, y)
    assert dW.shape == (D, C) and db.shape == (C,)
    np.testing.assert_allclose(dW, dW_ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-14)
    value = linear.softmax_regression_loss(W, b, X, y)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, loss, rtol=1e-12, atol=1e-15)


def test_softmax_extreme_logits_are_stable():
    X = np.array([[1.0], [1.0], [1.0]])
    W = np.array([[800.0, -800.0, 0.0]])
    b = np.array([0.0, 0.0, 800.0])
    y = np.array([0, 1, 2])  # right-but-tied, very wrong, right-but-tied
    with np.errstate(all="raise"):
        dW, db = linear.softmax_regression_grad(W, b, X, y)
        value = linear.softmax_regression_loss(W, b, X, y)
    loss, dW_ref, db_ref = torch_softmax(W, b, X, y)
    assert np.isfinite(value)
    np.testing.assert_allclose(value, loss, rtol=1e-12)
    np.testing.assert_allclose(dW, dW_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(st.integers(1, 10), st.integers(1, 4), st.integers(1, 5), st.integers(0, 10_000),
       st.floats(0.1, 300))
def test_softmax_grad_matches_torch_property(N, D, C, seed, scale):
    r = np.random.default_rng(seed)
    X, W, b = r.normal(size=(N, D)) * scale, r.normal(size=(D, C)), r.normal(size=C)
    y = r.integers(0, C, size=N)
    _, dW_ref, db_ref = torch_softmax(W, b, X, y)
    dW, db = linear.softmax_regression_grad(W, b, X, y)
    np.testing.assert_allclose(dW, dW_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db.sum(), 0.0, atol=1e-12)  # rows of P - Y sum to 0


def test_softmax_with_two_classes_is_logistic(rng):
    # softmax over [0, z] is sigmoid(z): the C=2 model with W = [0, w] is logistic regression
    X, w, b = rng.normal(size=(9, 3)), rng.normal(size=3), 0.3
    y = rng.integers(0, 2, size=9)
    W2, b2 = np.column_stack([np.zeros(3), w]), np.array([0.0, b])
    dW, db = linear.softmax_regression_grad(W2, b2, X, y)
    dw, dbl = linear.logistic_regression_grad(w, b, X, y)
    np.testing.assert_allclose(dW[:, 1], dw, atol=1e-14)
    np.testing.assert_allclose(db[1], dbl, atol=1e-14)
    np.testing.assert_allclose(linear.softmax_regression_loss(W2, b2, X, y),
                               linear.logistic_regression_loss(w, b, X, y), rtol=1e-12)


@pytest.mark.parametrize(
    "W, b, X, y, match",
    [
        (np.ones((3, 2)), np.ones(2), np.ones((4, 2)), np.zeros(4, int), "W"),
        (np.ones(2), np.ones(2), np.ones((4, 2)), np.zeros(4, int), "W"),
        (np.ones((2, 0)), np.ones(0), np.ones((4, 2)), np.zeros(4, int), "W"),
        (np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.zeros(4, int), "b"),
        (np.ones((2, 3)), np.ones(3), np.ones((4, 2)), np.zeros(5, int), "y"),
        (np.ones((2, 3)), np.ones(3), np.ones((4, 2)), np.array([0, 1, 3, 0]), "y"),
        (np.ones((2, 3)), np.ones(3), np.ones((4, 2)), np.array([0, 1, -1, 0]), "y"),
        (np.ones((2, 3)), np.ones(3), np.ones((4, 2)), np.array([0, 1, 0.5, 0]), "y"),
        (np.ones((2, 3)), np.ones(3), np.ones((4, 2, 1)), np.zeros(4, int), "X"),
        (np.ones((2, 3)), np.ones(3), np.ones((0, 2)), np.zeros(0, int), "X"),
        (np.full((2, 3), np.nan), np.ones(3), np.ones((4, 2)), np.zeros(4, int), "W"),
    ],
)
def test_softmax_bad_input(W, b, X, y, match):
    with pytest.raises(ValueError, match=match):
        linear.softmax_regression_grad(W, b, X, y)
    with pytest.raises(ValueError, match=match):
        linear.softmax_regression_loss(W, b, X, y)
