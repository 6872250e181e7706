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


# --------------------------------------------------------------------------
# train_logistic_regression: the mini-batch training loop
# --------------------------------------------------------------------------

def torch_train_logistic(X, y, lr, epochs, batch_size, seed):
    """The same loop on torch tensors: autograd of BCE-from-logits on each batch."""
    N, D = X.shape
    Xt, yt = t64(X), t64(y)
    w = torch.zeros(D, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        perm = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = torch.as_tensor(perm[i:i + batch_size])
            loss = F.binary_cross_entropy_with_logits(Xt[idx] @ w + b, yt[idx])
            w.grad = b.grad = None
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
        with torch.no_grad():
            losses.append(F.binary_cross_entropy_with_logits(Xt @ w + b, yt).item())
    return w.detach().numpy(), b.item(), np.array(losses)


def logistic_data(r, N, D, soft=False):
    X = r.normal(size=(N, D))
    y = r.uniform(size=N) if soft else (X @ r.normal(size=D) + 0.3 * r.normal(size=N) > 0)
    return X, np.asarray(y, dtype=float)


@pytest.mark.parametrize("N, D, batch_size", [(30, 3, 8), (32, 2, 8), (7, 4, 1), (5, 2, 64)])
@pytest.mark.parametrize("soft", [False, True])
def test_train_logistic_regression_matches_torch(rng, N, D, batch_size, soft):
    X, y = logistic_data(rng, N, D, soft)
    w, b, losses = linear.train_logistic_regression(
        X, y, linear.logistic_regression_grad, lr=0.3, epochs=6, batch_size=batch_size, seed=3)
    w_ref, b_ref, losses_ref = torch_train_logistic(X, y, 0.3, 6, batch_size, 3)
    assert w.shape == (D,) and isinstance(b, float) and losses.shape == (6,)
    np.testing.assert_allclose(w, w_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b, b_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 25), st.integers(1, 3), st.integers(1, 30), st.integers(1, 4),
       st.integers(0, 2**31), st.floats(0.01, 2.0))
def test_train_logistic_regression_matches_torch_property(N, D, batch_size, epochs, seed, lr):
    X, y = logistic_data(np.random.default_rng(seed), N, D)
    got = linear.train_logistic_regression(X, y, linear.logistic_regression_grad, lr, epochs,
                                           batch_size, seed)
    expected = torch_train_logistic(X, y, lr, epochs, batch_size, seed)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


def test_train_logistic_regression_batches_follow_one_generator(rng):
    # the batches are perm[i:i+batch_size] of one default_rng(seed), last partial batch included
    X, y = logistic_data(rng, 10, 2)
    seen = []

    def recording_grad(w, b, Xb, yb):
        seen.append(Xb[:, 0].copy())
        return linear.logistic_regression_grad(w, b, Xb, yb)

    linear.train_logistic_regression(X, y, recording_grad, lr=0.1, epochs=2, batch_size=4,
                                     seed=7)
    r = np.random.default_rng(7)
    expected = []
    for _ in range(2):
        perm = r.permutation(10)
        expected += [X[perm[i:i + 4], 0] for i in (0, 4, 8)]
    assert [len(s) for s in seen] == [4, 4, 2, 4, 4, 2]
    for s, e in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(s, e)


def test_train_logistic_regression_uses_the_given_gradient(rng):
    X, y = logistic_data(rng, 12, 2)
    # a gradient of zero leaves the model at w = 0, b = 0: every loss is log 2
    w, b, losses = linear.train_logistic_regression(
        X, y, lambda w, b, Xb, yb: (np.zeros(2), 0.0), lr=1.0, epochs=3, batch_size=5, seed=0)
    assert np.all(w == 0) and b == 0.0
    np.testing.assert_allclose(losses, np.log(2.0), rtol=1e-15)
    # the reference gradient learns: the loss goes down epoch after epoch on separable data
    _, _, losses = linear.train_logistic_regression(
        X, y, linear.logistic_regression_grad, lr=1.0, epochs=10, batch_size=4, seed=0)
    assert losses[-1] < losses[0] < np.log(2.0)


def test_train_logistic_regression_does_not_modify_its_input(rng):
    X, y = logistic_data(rng, 9, 2)
    X0, y0 = X.copy(), y.copy()
    linear.train_logistic_regression(X, y, linear.logistic_regression_grad, 0.5, 2, 4, 0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


GOOD_TRAIN = dict(X=np.ones((4, 2)), y=np.zeros(4), grad_fn=linear.logistic_regression_grad,
                  lr=0.1, epochs=2, batch_size=2, seed=0)


@pytest.mark.parametrize("name, bad", [
    ("X", np.ones(4)), ("X", np.ones((0, 2))), ("X", np.full((4, 2), np.nan)),
    ("y", np.zeros(3)), ("y", np.array([0.0, 1.0, 2.0, 0.0])),
    ("grad_fn", "logistic_regression_grad"),
    ("grad_fn", lambda w, b, Xb, yb: (np.zeros(3), 0.0)),
    ("lr", 0.0), ("lr", -0.1), ("lr", np.inf), ("lr", "0.1"),
    ("epochs", 0), ("epochs", 2.0), ("batch_size", 0), ("seed", -1), ("seed", None),
])
def test_train_logistic_regression_bad_input(name, bad):
    with pytest.raises(ValueError, match=name):
        linear.train_logistic_regression(**{**GOOD_TRAIN, name: bad})


# --------------------------------------------------------------------------
# ridge_fit and kfold_select: choosing lambda with preprocessing inside each fold
# --------------------------------------------------------------------------

def sk_fold_mse(X, y, lambdas, folds, leaky=False):
    """Per-lambda mean fold MSE with a StandardScaler + Ridge(alpha=lam * n_train) pipeline."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if leaky:  # the planted mistake: the scaler sees every row, validation ones included
        X = StandardScaler().fit_transform(X)
    out = []
    for lam in lambdas:
        scores = []
        for tr, va in folds:
            steps = [Ridge(alpha=lam * len(tr))]
            model = make_pipeline(*steps) if leaky else make_pipeline(StandardScaler(), *steps)
            model.fit(X[tr], y[tr])
            scores.append(np.mean((model.predict(X[va]) - y[va]) ** 2))
        out.append(np.mean(scores))
    return np.array(out)


def best_largest(lambdas, mse):
    lambdas = np.asarray(lambdas, dtype=float)
    return float(lambdas[mse <= mse.min() * (1 + 1e-12)].max())


def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


@pytest.mark.parametrize("N, D, lam", [(20, 3, 0.0), (20, 3, 0.5), (8, 12, 0.1), (50, 1, 3.0)])
def test_ridge_fit_matches_sklearn(rng, N, D, lam):
    from sklearn.linear_model import Ridge

    X = rng.normal(size=(N, D)) * rng.uniform(0.1, 10, size=D) + rng.normal(size=D)
    y = rng.normal(size=N) + 2.0
    w, b = linear.ridge_fit(X, y, lam)
    if lam == 0.0:
        ref_w, ref_b = np.linalg.lstsq(np.column_stack([X, np.ones(N)]), y, rcond=None)[0][:D], None
        ref_b = y.mean() - X.mean(axis=0) @ ref_w
    else:
        ref = Ridge(alpha=lam * N).fit(X, y)
        ref_w, ref_b = ref.coef_, ref.intercept_
    np.testing.assert_allclose(w, ref_w, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, ref_b, rtol=1e-8, atol=1e-10)


@SETTINGS
@given(st.integers(1, 15), st.integers(1, 5), st.floats(0.0, 10.0), st.integers(0, 10_000))
def test_ridge_fit_zeroes_the_gradient_of_its_objective(N, D, lam, seed):
    r = np.random.default_rng(seed)
    X, y = r.normal(size=(N, D)), r.normal(size=N)
    w, b = linear.ridge_fit(X, y, lam)
    res = X @ w + b - y
    # d/db: mean residual 0; d/dw: X^T res / N + lam w = 0 (up to the minimum-norm choice at 0)
    assert abs(res.mean()) < 1e-9
    if lam > 0 or np.linalg.matrix_rank(X - X.mean(axis=0)) == D:
        np.testing.assert_allclose(X.T @ res / N + lam * w, 0.0, atol=1e-9)


def test_ridge_fit_bad_input():
    with pytest.raises(ValueError, match="lam"):
        linear.ridge_fit(np.ones((3, 1)), np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="y"):
        linear.ridge_fit(np.ones((3, 1)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="X"):
        linear.ridge_fit(np.ones((0, 1)), np.zeros(0), 1.0)


@pytest.mark.parametrize("k, shuffle", [(5, True), (3, False)])
def test_kfold_select_matches_sklearn_pipeline_on_diabetes(k, shuffle):
    from dlnotes.data import kfold_indices

    X, y = diabetes()
    folds = list(kfold_indices(len(y), k, shuffle=shuffle, seed=0 if shuffle else None))
    lambdas = [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0]
    best, mse = linear.kfold_select(X, y, lambdas, folds)
    expected = sk_fold_mse(X, y, lambdas, folds)
    assert mse.shape == (len(lambdas),)
    np.testing.assert_allclose(mse, expected, rtol=1e-9)
    assert best == best_largest(lambdas, expected)


@SETTINGS
@given(st.integers(6, 30), st.integers(1, 4), st.integers(2, 4), st.integers(0, 10_000))
def test_kfold_select_matches_sklearn_pipeline_property(N, D, k, seed):
    from dlnotes.data import kfold_indices

    r = np.random.default_rng(seed)
    X = r.normal(size=(N, D)) * r.uniform(0.5, 20, size=D)
    y = X @ r.normal(size=D) + r.normal(size=N)
    lambdas = np.sort(r.uniform(0.001, 5, size=4))
    folds = list(kfold_indices(N, k, shuffle=True, seed=seed))
    best, mse = linear.kfold_select(X, y, lambdas, folds)
    expected = sk_fold_mse(X, y, lambdas, folds)
    np.testing.assert_allclose(mse, expected, rtol=1e-8)
    assert best == best_largest(lambdas, expected)


def test_kfold_select_mean_is_plain_over_unequal_folds(rng):
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    folds = [(np.arange(3, 10), np.arange(3)), (np.arange(3), np.arange(3, 10))]
    _, mse = linear.kfold_select(X, y, [0.5], folds)
    per_fold = sk_fold_mse(X, y, [0.5], folds[:1]), sk_fold_mse(X, y, [0.5], folds[1:])
    np.testing.assert_allclose(mse, (per_fold[0] + per_fold[1]) / 2, rtol=1e-10)


def test_kfold_select_ties_go_to_the_largest_lambda(rng):
    # features constant within every training part: w = 0 for every lambda, equal MSEs
    X = np.ones((12, 2)) * [3.0, -1.0]
    y = rng.normal(size=12)
    folds = [(np.arange(6, 12), np.arange(6)), (np.arange(6), np.arange(6, 12))]
    lambdas = [0.5, 2.0, 0.1, 1.0]
    best, mse = linear.kfold_select(X, y, lambdas, folds)
    np.testing.assert_allclose(mse, sk_fold_mse(X, y, lambdas, folds), rtol=1e-12)
    assert np.ptp(mse) == 0 and best == 2.0
    # a grid entry repeated has the same score: the first minimum is not preferred
    X2, y2 = diabetes()
    folds2 = [(np.arange(200, 442), np.arange(200)), (np.arange(200), np.arange(200, 442))]
    best2, mse2 = linear.kfold_select(X2, y2, [0.01, 0.01, 10.0], folds2)
    assert mse2[0] == mse2[1] and best2 == 0.01


def test_kfold_select_leaky_scaler_gives_different_numbers():
    # unshuffled folds of data sorted by a feature: each fold's scale differs from the whole's
    X, y = diabetes()
    order = np.argsort(X[:, 2])
    X, y = X[order], y[order]
    from dlnotes.data import kfold_indices

    folds = list(kfold_indices(len(y), 4))
    lambdas = [0.03, 0.3, 1.0]
    _, mse = linear.kfold_select(X, y, lambdas, folds)
    honest, leaky = sk_fold_mse(X, y, lambdas, folds), sk_fold_mse(X, y, lambdas, folds, True)
    np.testing.assert_allclose(mse, honest, rtol=1e-9)
    assert np.max(np.abs(leaky - honest) / honest) > 0.05  # 7% at lambda = 1 (seen)


GOOD_SELECT = dict(X=np.arange(12.0).reshape(6, 2) ** 1.5, y=np.arange(6.0), lambdas=[0.1, 1.0],
                   folds=[(np.arange(3, 6), np.arange(3)), (np.arange(3), np.arange(3, 6))])


@pytest.mark.parametrize("name, bad", [
    ("X", np.ones(6)), ("y", np.zeros(5)), ("y", np.full(6, np.nan)),
    ("lambdas", []), ("lambdas", [0.1, -1.0]), ("lambdas", [[0.1]]),
    ("folds", []), ("folds", "abc"), ("folds", [(np.arange(3),)]),
    ("folds", [(np.arange(3), np.array([], dtype=int))]),
    ("folds", [(np.arange(3), np.array([3, 6]))]),
    ("folds", [(np.arange(3.0), np.arange(3, 6))]),
])
def test_kfold_select_bad_input(name, bad):
    with pytest.raises(ValueError, match=name):
        linear.kfold_select(**{**GOOD_SELECT, name: bad})
