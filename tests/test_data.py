"""Tests for dlnotes.data against scikit-learn (and torch for one_hot)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import datasets
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

from dlnotes import data

SETTINGS = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------
# train_val_test_split
# --------------------------------------------------------------------------

def split_indices(n, **kw):
    """Run the split on X = indices so the result says which rows went where."""
    X = np.arange(n)
    y = kw.pop("y", np.zeros(n, dtype=int))
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.train_val_test_split(X, y, **kw)
    return X_tr, X_va, X_te


def test_split_8_1_1_default():
    tr, va, te = split_indices(100)
    assert (len(tr), len(va), len(te)) == (80, 10, 10)


@SETTINGS
@given(st.integers(3, 200), st.floats(0.01, 0.45), st.floats(0.01, 0.45), st.integers(0, 2**32 - 1))
def test_split_is_a_partition_with_documented_counts(n, val_size, test_size, seed):
    n_test, n_val = math.ceil(test_size * n), math.ceil(val_size * n)
    if n - n_test - n_val < 1:
        with pytest.raises(ValueError, match="X"):
            split_indices(n, val_size=val_size, test_size=test_size, seed=seed)
        return
    tr, va, te = split_indices(n, val_size=val_size, test_size=test_size, seed=seed)
    assert (len(va), len(te)) == (n_val, n_test)
    assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(n))
    # the test count follows scikit-learn's rounding for test_size
    _, sk_test = train_test_split(np.arange(n), test_size=test_size, random_state=0)
    assert len(te) == len(sk_test)


def test_split_keeps_rows_paired_and_dtypes(rng):
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = np.arange(30) * 10
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.train_val_test_split(X, y, seed=4)
    for Xs, ys in [(X_tr, y_tr), (X_va, y_va), (X_te, y_te)]:
        assert Xs.dtype == np.float32 and ys.dtype == y.dtype
        np.testing.assert_array_equal(Xs, X[ys // 10])


def test_split_is_deterministic_and_seed_dependent():
    a = split_indices(50, seed=7)
    b = split_indices(50, seed=7)
    c = split_indices(50, seed=8)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))


def test_split_shuffles():
    tr, va, te = split_indices(1000, seed=0)
    assert not np.array_equal(np.concatenate([tr, va, te]), np.arange(1000))


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(10, 120),
       st.floats(0.05, 0.4), st.floats(0.05, 0.4))
def test_stratified_split_keeps_class_proportions(seed, C, n, val_size, test_size):
    r = np.random.default_rng(seed)
    y = r.choice(C, size=n, p=r.dirichlet(np.ones(C)))
    X = np.arange(n)
    if n - math.ceil(val_size * n) - math.ceil(test_size * n) < 1:
        return
    out = data.train_val_test_split(X, y, val_size, test_size, stratify=True, seed=seed)
    idx = out[:3]
    assert np.array_equal(np.sort(np.concatenate(idx)), np.arange(n))
    for ids, ys in zip(idx, out[3:], strict=True):
        np.testing.assert_array_equal(y[ids], ys)
        for c in range(C):
            share = np.sum(y == c) * len(ys) / n
            assert abs(np.sum(ys == c) - share) < 1, (c, np.sum(ys == c), share)
    n_test = math.ceil(test_size * n)
    n_val = math.ceil(val_size * n)
    assert (len(out[4]), len(out[5])) == (n_val, n_test)


def test_stratified_split_on_digits_matches_exact_shares():
    X, y = data.load_digits()
    out = data.train_val_test_split(X, y, 0.1, 0.2, stratify=True, seed=1)
    for ys in out[3:]:
        for c in range(10):
            assert abs(np.sum(ys == c) - np.sum(y == c) * len(ys) / len(y)) < 1


def test_stratified_split_with_string_labels():
    y = np.array(["a"] * 10 + ["b"] * 20)
    out = data.train_val_test_split(np.arange(30), y, 0.2, 0.2, stratify=True, seed=0)
    for ys in out[3:]:
        assert abs(np.sum(ys == "a") - len(ys) / 3) < 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(val_size=0.0), "val_size"),
        (dict(val_size=1.0), "val_size"),
        (dict(val_size=-0.1), "val_size"),
        (dict(test_size=0.0), "test_size"),
        (dict(test_size=1.5), "test_size"),
        (dict(test_size="0.1"), "test_size"),
        (dict(val_size=0.5, test_size=0.5), "val_size \\+ test_size"),
        (dict(seed=1.5), "seed"),
        (dict(seed=-1), "seed"),
    ],
)
def test_split_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.train_val_test_split(np.arange(20), np.arange(20), **kwargs)


def test_split_bad_arrays():
    with pytest.raises(ValueError, match="X and y"):
        data.train_val_test_split(np.arange(20), np.arange(19))
    with pytest.raises(ValueError, match="y"):
        data.train_val_test_split(np.arange(20), np.zeros((20, 2)))
    with pytest.raises(ValueError, match="X"):
        data.train_val_test_split(np.float64(3.0), np.arange(1))
    with pytest.raises(ValueError, match="X"):  # 2 samples cannot give 3 non-empty splits
        data.train_val_test_split(np.arange(2), np.arange(2))


# --------------------------------------------------------------------------
# standardize
# --------------------------------------------------------------------------

def test_standardize_matches_standard_scaler(rng):
    X_tr = rng.normal(3, 5, size=(40, 4))
    X_va, X_te = rng.normal(size=(7, 4)), rng.normal(size=(3, 4))
    scaler = StandardScaler().fit(X_tr)
    out = data.standardize(X_tr, X_va, X_te)
    assert len(out) == 3
    for got, X in zip(out, (X_tr, X_va, X_te), strict=True):
        np.testing.assert_allclose(got, scaler.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[0].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[0].std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize("const", [0.0, 0.1, 5.0, -1e6, 1e-300])
def test_standardize_constant_column_like_standard_scaler(rng, const):
    X_tr = np.column_stack([rng.normal(size=9), np.full(9, const)])
    X_te = np.array([[0.0, const + 1.0]])
    scaler = StandardScaler().fit(X_tr)
    tr, te = data.standardize(X_tr, X_te)
    assert np.all(np.isfinite(tr)) and np.all(np.isfinite(te))
    np.testing.assert_allclose(tr, scaler.transform(X_tr), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(te, scaler.transform(X_te), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(te[0, 1], 1.0)  # centred, divided by 1


def test_standardize_single_row_and_no_others():
    (tr,) = data.standardize([[2.0, -3.0]])
    np.testing.assert_array_equal(tr, StandardScaler().fit_transform([[2.0, -3.0]]))


def test_standardize_uses_training_statistics_only(rng):
    X_tr = rng.normal(size=(20, 2))
    X_te = rng.normal(10, 1, size=(20, 2))
    _, te = data.standardize(X_tr, X_te)
    assert te.mean() > 5  # not re-centred on the test set


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 5), st.integers(0, 10_000), st.floats(1e-3, 1e6))
def test_standardize_property_matches_scaler(N, D, seed, scale):
    r = np.random.default_rng(seed)
    X = r.normal(size=(N, D)) * scale + r.normal(size=D) * scale
    np.testing.assert_allclose(data.standardize(X)[0], StandardScaler().fit_transform(X),
                               rtol=1e-9, atol=1e-9)


def test_standardize_bad_input():
    with pytest.raises(ValueError, match="X_train"):
        data.standardize(np.ones(3))
    with pytest.raises(ValueError, match="X_train"):
        data.standardize(np.ones((0, 3)))
    with pytest.raises(ValueError, match="X_train"):
        data.standardize(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"others\[1\]"):
        data.standardize(np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"others\[0\]"):
        data.standardize(np.ones((3, 2)), np.ones(2))


# --------------------------------------------------------------------------
# kfold_indices
# --------------------------------------------------------------------------

def assert_same_folds(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (tr, va), (tr_ref, va_ref) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, tr_ref)
        np.testing.assert_array_equal(va, va_ref)


@pytest.mark.parametrize("n, k", [(2, 2), (10, 2), (10, 3), (11, 5), (7, 7), (100, 10)])
def test_kfold_matches_sklearn_no_shuffle(n, k):
    assert_same_folds(data.kfold_indices(n, k), KFold(n_splits=k).split(np.zeros(n)))


@SETTINGS
@given(st.integers(2, 60), st.data())
def test_kfold_matches_sklearn_shuffle(n, draw):
    k = draw.draw(st.integers(2, n))
    seed = draw.draw(st.integers(0, 2**32 - 1))
    assert_same_folds(data.kfold_indices(n, k, shuffle=True, seed=seed),
                      KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))


def test_kfold_folds_partition_the_samples():
    folds = list(data.kfold_indices(23, 4, shuffle=True, seed=3))
    vals = np.concatenate([va for _, va in folds])
    assert np.array_equal(np.sort(vals), np.arange(23))
    for tr, va in folds:
        assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(23))
    assert sorted(len(va) for _, va in folds) == [5, 6, 6, 6]


def test_kfold_shuffle_without_seed_still_partitions():
    folds = list(data.kfold_indices(10, 3, shuffle=True))
    assert np.array_equal(np.sort(np.concatenate([va for _, va in folds])), np.arange(10))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((10, 1), {}, "k"),
        ((10, 0), {}, "k"),
        ((3, 4), {}, "k"),
        ((10, 2.0), {}, "k"),
        ((10.0, 2), {}, "n"),
        ((0, 2), {}, "n"),
        ((10, 2), dict(seed=0), "seed"),
        ((10, 2), dict(shuffle=True, seed=-3), "seed"),
        ((10, 2), dict(shuffle="yes"), "shuffle"),
    ],
)
def test_kfold_bad_arguments_raise_at_call_time(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.kfold_indices(*args, **kwargs)  # no iteration needed


# --------------------------------------------------------------------------
# one_hot and minibatches
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n_classes", [None, 5])
def test_one_hot_matches_torch(n_classes):
    y = np.array([0, 3, 1, 3, 2])
    ref = torch.nn.functional.one_hot(torch.tensor(y), -1 if n_classes is None else n_classes)
    got = data.one_hot(y, n_classes)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ref.numpy())


def test_one_hot_empty_with_n_classes():
    assert data.one_hot(np.array([], dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize(
    "y, n_classes, match",
    [
        ([0, 3], 3, "y"),
        ([0, -1], 3, "y"),
        ([0, 0.5], 3, "y"),
        ([[0, 1]], 3, "y"),
        ([[0, 1]], None, "y"),
        ([], None, "y"),
        ([0, 1], 0, "n_classes"),
    ],
)
def test_one_hot_bad_input(y, n_classes, match):
    with pytest.raises(ValueError, match=match):
        data.one_hot(y, n_classes)


@pytest.mark.parametrize("rng_arg", [None, 3, np.random.default_rng(5)])
def test_minibatches_cover_every_row_once(rng_arg):
    X = np.arange(22).reshape(11, 2)
    y = np.arange(11)
    batches = list(data.minibatches(X, y, 4, rng_arg))
    assert [len(yb) for _, yb in batches] == [4, 4, 3]
    ys = np.concatenate([yb for _, yb in batches])
    assert np.array_equal(np.sort(ys), y)
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[yb])
    if rng_arg is None:
        assert np.array_equal(ys, y)


def test_minibatches_seed_is_deterministic():
    a = [yb for _, yb in data.minibatches(np.arange(9), np.arange(9), 2, 1)]
    b = [yb for _, yb in data.minibatches(np.arange(9), np.arange(9), 2, 1)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_minibatches_bad_input():
    with pytest.raises(ValueError, match="X and y"):
        data.minibatches(np.arange(3), np.arange(4), 2)
    with pytest.raises(ValueError, match="batch_size"):
        data.minibatches(np.arange(3), np.arange(3), 0)
    with pytest.raises(ValueError, match="rng"):
        data.minibatches(np.arange(3), np.arange(3), 2, rng="seed")
    with pytest.raises(ValueError, match="X"):
        data.minibatches(np.float64(1.0), np.arange(1), 1)
    with pytest.raises(ValueError, match="y"):
        data.minibatches(np.arange(1), np.float64(1.0), 1)


# --------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["load_digits", "load_breast_cancer"])
def test_loaders_match_sklearn(name):
    X, y = getattr(data, name)()
    ref = getattr(datasets, name)()
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)


@pytest.mark.parametrize("n, noise, seed", [(100, 0.0, 0), (51, 0.2, 3), (1, 0.1, 0)])
def test_make_moons_matches_sklearn(n, noise, seed):
    X, y = data.make_moons(n, noise, seed)
    X_ref, y_ref = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    assert X.shape == (n, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(n=0), "n"), (dict(n=2.5), "n"), (dict(noise=-0.1), "noise"), (dict(seed=None), "seed")],
)
def test_make_moons_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.make_moons(**kwargs)


# -- the text corpus -----------------------------------------------------------
def test_text_corpus_split_vocabulary_and_round_trip():
    import pydoc_data.topics

    corpus = data.load_text_corpus(val_fraction=0.1)
    text = "\n\n".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    assert corpus.vocab == sorted(set(text)) and corpus.vocab_size == len(set(text))
    assert len(corpus.train) + len(corpus.val) == len(text)
    assert abs(len(corpus.val) / len(text) - 0.1) < 1e-3
    # contiguous: training text first, validation text last
    assert corpus.decode(corpus.train) + corpus.decode(corpus.val) == text
    assert corpus.train.dtype == np.int64 and corpus.train.max() < corpus.vocab_size
    assert "PSF" in corpus.source


def test_text_corpus_small_and_bad_input():
    corpus = data.load_text_corpus(val_fraction=0.25, max_chars=1000)
    assert len(corpus.train) == 750 and len(corpus.val) == 250
    with pytest.raises(ValueError, match="not in the corpus vocabulary"):
        corpus.encode("\u00e9\u00e9")
    with pytest.raises(ValueError, match="ids must lie"):
        corpus.decode([corpus.vocab_size])
    for bad in (0.0, 0.6, -1):
        with pytest.raises(ValueError, match="val_fraction"):
            data.load_text_corpus(val_fraction=bad)
    with pytest.raises(ValueError, match="max_chars"):
        data.load_text_corpus(max_chars=1)
