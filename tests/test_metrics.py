"""Tests for dlnotes.metrics against scikit-learn, computed in the test.

Every test runs with warnings as errors (``pytestmark`` below), so the
zero-division cases also prove that no warning is raised. Oracle calls that are
expected to warn are wrapped explicitly.
"""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlnotes import metrics

pytestmark = pytest.mark.filterwarnings("error")

HARD_METRICS = {
    "accuracy": (metrics.accuracy, skm.accuracy_score),
    "precision": (metrics.precision,
                  lambda t, p: skm.precision_score(t, p, zero_division=0.0)),
    "recall": (metrics.recall, lambda t, p: skm.recall_score(t, p, zero_division=0.0)),
    "f1_score": (metrics.f1_score, lambda t, p: skm.f1_score(t, p, zero_division=0.0)),
}


def sk_confusion(y_true, y_pred):
    return skm.confusion_matrix(y_true, y_pred, labels=[0, 1])


def sk_pr_curve(y_true, y_score):
    """sklearn's PR curve, silencing its warning for y_true without positives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skm.precision_recall_curve(y_true, y_score)


def sk_average_precision(y_true, y_score):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skm.average_precision_score(y_true, y_score)


def mann_whitney_auc(y_true, y_score):
    """Brute-force AUC over all positive/negative pairs, ties counting 1/2."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    pos = y_score[y_true == 1][:, None]
    neg = y_score[y_true == 0][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def random_cases():
    """(name, y_true, y_pred, y_score) covering balanced, imbalanced and tied data."""
    rng = np.random.default_rng(12345)
    cases = []
    for n, p_pos in [(7, 0.5), (50, 0.5), (200, 0.05), (200, 0.95), (1000, 0.3)]:
        y = (rng.random(n) < p_pos).astype(int)
        y[0], y[1] = 0, 1  # make sure both classes occur
        s = rng.normal(size=n) + y
        cases.append((f"continuous-n{n}-p{p_pos}", y, (s > 0.5).astype(int), s))
        s1 = np.round(rng.random(n), 1)  # heavy ties
        cases.append((f"rounded-n{n}-p{p_pos}", y, (s1 >= 0.5).astype(int), s1))
        cases.append((f"ints-n{n}-p{p_pos}", y, rng.integers(0, 2, n), rng.integers(-2, 3, n)))
    cases.append(("all-tied", np.array([0, 1, 1, 0, 1]), np.ones(5, int), np.full(5, 0.3)))
    cases.append(("two-points", np.array([1, 0]), np.array([1, 0]), np.array([0.9, 0.1])))
    cases.append(("inverted", np.array([1, 0, 1, 0]), np.array([0, 1, 0, 1]),
                  np.array([0.1, 0.9, 0.2, 0.8])))
    return cases


CASES = random_cases()
CASE_IDS = [c[0] for c in CASES]


# ------------------------------------------------------------------ hard predictions

@pytest.mark.parametrize("name", list(HARD_METRICS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hard_metric_matches_sklearn(name, case):
    ours, oracle = HARD_METRICS[name]
    _, y_true, y_pred, _ = case
    got = ours(y_true, y_pred)
    assert isinstance(got, float)
    assert got == pytest.approx(oracle(y_true, y_pred), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_confusion_matrix_and_counts_match_sklearn(case):
    _, y_true, y_pred, _ = case
    cm = metrics.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, sk_confusion(y_true, y_pred))
    assert cm.shape == (2, 2) and cm.dtype == np.int64
    tn, fp, fn, tp = sk_confusion(y_true, y_pred).ravel()
    assert metrics.classification_counts(y_true, y_pred) == (tp, fp, fn, tn)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_precision_recall_f1_matches_sklearn(case):
    _, y_true, y_pred, _ = case
    p, r, f, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, average="binary", zero_division=0.0)
    np.testing.assert_allclose(metrics.precision_recall_f1(y_true, y_pred), (p, r, f),
                               rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0, 10.0, np.inf])
@pytest.mark.parametrize("case", CASES[:9], ids=CASE_IDS[:9])
def test_fbeta_matches_sklearn(case, beta):
    _, y_true, y_pred, _ = case
    want = skm.fbeta_score(y_true, y_pred, beta=beta, zero_division=0.0)
    assert metrics.fbeta_score(y_true, y_pred, beta) == pytest.approx(want, rel=1e-12)


ZERO_DIVISION = {
    "nothing predicted positive": ([1, 0, 1, 0], [0, 0, 0, 0]),
    "no actual positives": ([0, 0, 0], [1, 0, 1]),
    "no positives at all": ([0, 0, 0], [0, 0, 0]),
    "N=1 negative": ([0], [0]),
    "N=1 positive hit": ([1], [1]),
    "N=1 false positive": ([0], [1]),
}


@pytest.mark.parametrize("name", list(HARD_METRICS) + ["fbeta2"])
@pytest.mark.parametrize("labels", ZERO_DIVISION.values(), ids=list(ZERO_DIVISION))
def test_zero_division_is_zero_without_warning(name, labels):
    y_true, y_pred = labels
    if name == "fbeta2":
        got = metrics.fbeta_score(y_true, y_pred, 2.0)
        want = skm.fbeta_score(y_true, y_pred, beta=2.0, zero_division=0.0)
    else:
        ours, oracle = HARD_METRICS[name]
        got, want = ours(y_true, y_pred), oracle(y_true, y_pred)
    assert not np.isnan(got)
    assert got == pytest.approx(want, abs=1e-15)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred),
                                  sk_confusion(y_true, y_pred))


@pytest.mark.parametrize("convert", [
    lambda a: np.asarray(a, dtype=bool),
    lambda a: np.asarray(a, dtype=float),
    lambda a: np.asarray(a, dtype=np.int8),
    list,
], ids=["bool", "float", "int8", "list"])
def test_label_dtypes_accepted(convert):
    y_true, y_pred = [1, 0, 1, 1, 0, 0], [1, 1, 0, 1, 0, 0]
    np.testing.assert_array_equal(metrics.confusion_matrix(convert(y_true), convert(y_pred)),
                                  sk_confusion(y_true, y_pred))
    assert metrics.f1_score(convert(y_true), convert(y_pred)) == pytest.approx(
        skm.f1_score(y_true, y_pred))
    assert metrics.roc_auc_score(convert(y_true), [0.3, 0.1, 0.2, 0.9, 0.5, 0.1]) == (
        pytest.approx(skm.roc_auc_score(y_true, [0.3, 0.1, 0.2, 0.9, 0.5, 0.1])))


def test_seed_confusion_table_is_ours_reversed():
    """Seed 000 draws [[TP, FN], [FP, TN]] (positive class first): sklearn labels=[1, 0]."""
    y_true, y_pred = [1, 1, 1, 0, 0, 1, 0], [1, 0, 1, 1, 0, 1, 0]
    seed_layout = skm.confusion_matrix(y_true, y_pred, labels=[1, 0])
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred)[::-1, ::-1],
                                  seed_layout)


# -------------------------------------------------------------------- score curves

def assert_curves_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_ranking_metrics_match_sklearn(case):
    _, y_true, _, y_score = case
    assert_curves_equal(metrics.precision_recall_curve(y_true, y_score),
                        sk_pr_curve(y_true, y_score))
    assert_curves_equal(metrics.roc_curve(y_true, y_score),
                        skm.roc_curve(y_true, y_score, drop_intermediate=False))
    auc_ = metrics.roc_auc_score(y_true, y_score)
    assert auc_ == pytest.approx(skm.roc_auc_score(y_true, y_score), rel=0, abs=1e-12)
    assert auc_ == pytest.approx(mann_whitney_auc(y_true, y_score), rel=0, abs=1e-12)
    ap = metrics.average_precision_score(y_true, y_score)
    assert ap == pytest.approx(sk_average_precision(y_true, y_score), rel=0, abs=1e-12)
    assert isinstance(auc_, float) and isinstance(ap, float)


def test_curve_conventions():
    y_true, y_score = [0, 1, 1, 0, 1, 0], [0.2, 0.7, 0.2, 0.5, 0.9, 0.5]
    p, r, t = metrics.precision_recall_curve(y_true, y_score)
    assert p[-1] == 1.0 and r[-1] == 0.0 and len(p) == len(r) == len(t) + 1
    assert np.all(np.diff(t) > 0) and np.all(np.diff(r) <= 0)
    np.testing.assert_array_equal(t, np.unique(y_score))
    fpr, tpr, thr = metrics.roc_curve(y_true, y_score)
    assert thr[0] == np.inf and np.all(np.diff(thr) < 0)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_all_scores_equal():
    y_true, y_score = [0, 1, 1, 0, 1], np.full(5, 7.0)
    assert metrics.roc_auc_score(y_true, y_score) == 0.5
    assert_curves_equal(metrics.roc_curve(y_true, y_score),
                        skm.roc_curve(y_true, y_score, drop_intermediate=False))
    assert_curves_equal(metrics.precision_recall_curve(y_true, y_score),
                        sk_pr_curve(y_true, y_score))
    assert metrics.average_precision_score(y_true, y_score) == pytest.approx(
        sk_average_precision(y_true, y_score), abs=1e-12)


@pytest.mark.parametrize("y_true, y_score", [
    ([1], [0.3]), ([1, 1, 1], [0.2, 0.2, 0.9]),  # no negatives: defined, precision 1
], ids=["N=1", "only positives"])
def test_pr_without_negatives(y_true, y_score):
    assert_curves_equal(metrics.precision_recall_curve(y_true, y_score),
                        sk_pr_curve(y_true, y_score))
    assert metrics.average_precision_score(y_true, y_score) == sk_average_precision(
        y_true, y_score) == 1.0


@pytest.mark.parametrize("y_true, y_score", [
    ([0], [0.3]), ([0, 0, 0], [0.1, 0.5, 0.5]),
], ids=["N=1", "only negatives"])
def test_pr_without_positives_matches_sklearn_and_warns(y_true, y_score):
    with pytest.warns(UserWarning, match="No positive class"):
        got = metrics.precision_recall_curve(y_true, y_score)
    assert_curves_equal(got, sk_pr_curve(y_true, y_score))
    assert np.all(got[1][:-1] == 1.0)  # recall 0/0 set to 1, as sklearn
    with pytest.warns(UserWarning, match="No positive class"):
        ap = metrics.average_precision_score(y_true, y_score)
    assert ap == sk_average_precision(y_true, y_score) == 0.0


@pytest.mark.parametrize("x, y", [
    ([0.0, 0.5, 1.0], [0.0, 1.0, 1.0]),
    ([1.0, 0.5, 0.0], [1.0, 1.0, 0.0]),  # decreasing x
    ([0, 1, 1, 2], [0, 1, 0, 1]),  # repeated x (vertical step)
    ([2, 2], [0, 1]),  # zero width
    ([-3.0, -1.0, 4.0, 10.0], [2.0, -1.0, 0.5, 3.0]),
])
def test_auc_matches_sklearn(x, y):
    assert metrics.auc(x, y) == pytest.approx(skm.auc(x, y), rel=1e-12, abs=1e-15)


def test_auc_random_curves_match_sklearn(rng):
    for _ in range(5):
        x = np.sort(rng.normal(size=20))
        y = rng.normal(size=20)
        assert metrics.auc(x, y) == pytest.approx(skm.auc(x, y), rel=1e-12)
        assert metrics.auc(x[::-1], y[::-1]) == pytest.approx(skm.auc(x[::-1], y[::-1]),
                                                              rel=1e-12)


def test_float32_and_large_scores():
    y_true = np.array([0, 1, 0, 1, 1, 0])
    for s in [np.array([0.1, 0.9, 0.4, 0.4, 0.7, 0.2], dtype=np.float32),
              np.array([-1e300, 1e300, 0.0, 0.0, 1e-300, -0.0])]:
        assert metrics.roc_auc_score(y_true, s) == pytest.approx(skm.roc_auc_score(y_true, s))
        assert_curves_equal(metrics.roc_curve(y_true, s),
                            skm.roc_curve(y_true, s, drop_intermediate=False))


# --------------------------------------------------------------------------- errors

LABEL_FUNCS = [metrics.classification_counts, metrics.confusion_matrix, metrics.accuracy,
               metrics.precision, metrics.recall, metrics.f1_score,
               metrics.precision_recall_f1, lambda t, p: metrics.fbeta_score(t, p, 2.0)]
SCORE_FUNCS = [metrics.precision_recall_curve, metrics.roc_curve, metrics.roc_auc_score,
               metrics.average_precision_score]
ALL_FUNCS = LABEL_FUNCS + SCORE_FUNCS


def second_arg_name(func):
    return "y_score" if func in SCORE_FUNCS else "y_pred"


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("bad_true, match", [
    ([0, 2, 1], "y_true"), ([0, -1, 1], "y_true"), ([0.5, 1, 0], "y_true"),
    ([0, np.nan, 1], "y_true"), (["a", "b", "a"], "y_true"),
    ([[0, 1, 1]], "y_true"), (1, "y_true"),
])
def test_bad_y_true_raises(func, bad_true, match):
    with pytest.raises(ValueError, match=match):
        func(bad_true, [0, 1, 1])


@pytest.mark.parametrize("func", LABEL_FUNCS)
@pytest.mark.parametrize("bad_pred", [[0, 2, 1], [0.3, 1, 0], [[0, 1, 1]], ["x", "y", "x"]])
def test_bad_y_pred_raises(func, bad_pred):
    with pytest.raises(ValueError, match="y_pred"):
        func([0, 1, 1], bad_pred)


@pytest.mark.parametrize("func", SCORE_FUNCS)
@pytest.mark.parametrize("bad_score", [
    [0.1, np.nan, 0.3], [0.1, np.inf, 0.3], [-np.inf, 0.2, 0.3],
    [[0.1, 0.2, 0.3]], np.zeros((3, 1)), ["a", "b", "c"],
], ids=["nan", "inf", "-inf", "2-D row", "2-D column", "strings"])
def test_bad_y_score_raises(func, bad_score):
    with pytest.raises(ValueError, match="y_score"):
        func([0, 1, 1], bad_score)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_length_mismatch_raises(func):
    with pytest.raises(ValueError, match=f"y_true and {second_arg_name(func)}"):
        func([0, 1, 1], [0, 1])


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_empty_raises(func):
    with pytest.raises(ValueError, match="y_true must not be empty"):
        func([], [])


@pytest.mark.parametrize("func", [metrics.roc_curve, metrics.roc_auc_score])
@pytest.mark.parametrize("y_true", [[1], [0], [1, 1, 1], [0, 0, 0, 0]])
def test_roc_single_class_raises(func, y_true):
    with pytest.raises(ValueError, match="only one class present in y_true"):
        func(y_true, np.linspace(0, 1, len(y_true)))


@pytest.mark.parametrize("beta", [-1.0, np.nan, "2", True, None])
def test_fbeta_bad_beta_raises(beta):
    with pytest.raises(ValueError, match="beta"):
        metrics.fbeta_score([0, 1], [0, 1], beta)


@pytest.mark.parametrize("x, y, match", [
    ([0, 2, 1], [0, 1, 1], "x must be monotonic"),
    ([0.5], [1.0], "x must have at least 2"),
    ([], [], "x must have at least 2"),
    ([0, 1, 2], [0, 1], "x and y"),
    ([0, np.nan, 2], [0, 1, 1], "x"),
    ([0, 1, 2], [0, np.inf, 1], "y"),
    ([[0, 1, 2]], [[0, 1, 1]], "x"),
    ([0, 1, 2], [[0, 1, 1]], "y"),
])
def test_auc_bad_input_raises(x, y, match):
    with pytest.raises(ValueError, match=match):
        metrics.auc(x, y)


# ------------------------------------------------------------------ property tests

def labels_and_scores(min_size=2, max_size=40, both_classes=True):
    @st.composite
    def build(draw):
        n = draw(st.integers(min_size, max_size))
        y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
        if both_classes:
            assume(0 < sum(y) < n)
        # few distinct values so ties are common
        s = draw(st.lists(st.integers(-4, 4) | st.floats(-10, 10), min_size=n, max_size=n))
        return np.array(y), np.array(s, dtype=float)
    return build()


label_pairs = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 1), min_size=n, max_size=n),
    st.lists(st.integers(0, 1), min_size=n, max_size=n)))


@settings(max_examples=50, deadline=None)
@given(labels_and_scores())
def test_property_ranking_metrics_match_sklearn(data):
    y_true, y_score = data
    assert metrics.roc_auc_score(y_true, y_score) == pytest.approx(
        skm.roc_auc_score(y_true, y_score), abs=1e-12)
    assert metrics.average_precision_score(y_true, y_score) == pytest.approx(
        skm.average_precision_score(y_true, y_score), abs=1e-12)
    assert_curves_equal(metrics.precision_recall_curve(y_true, y_score),
                        skm.precision_recall_curve(y_true, y_score))
    assert_curves_equal(metrics.roc_curve(y_true, y_score),
                        skm.roc_curve(y_true, y_score, drop_intermediate=False))


@settings(max_examples=50, deadline=None)
@given(labels_and_scores())
def test_property_negated_scores_give_one_minus_auc(data):
    y_true, y_score = data
    assert metrics.roc_auc_score(y_true, -y_score) == pytest.approx(
        1.0 - metrics.roc_auc_score(y_true, y_score), abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(labels_and_scores(), st.sampled_from(["cube", "affine", "arctan-of-int"]))
def test_property_auc_invariant_to_increasing_transform(data, transform):
    y_true, y_score = data
    s = np.round(y_score)  # integers: every transform below stays exact and strictly increasing
    f = {"cube": lambda v: v ** 3 + v, "affine": lambda v: 3.0 * v - 7.0,
         "arctan-of-int": np.arctan}[transform]
    assert metrics.roc_auc_score(y_true, f(s)) == pytest.approx(
        metrics.roc_auc_score(y_true, s), abs=1e-12)
    assert metrics.average_precision_score(y_true, f(s)) == pytest.approx(
        metrics.average_precision_score(y_true, s), abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(labels_and_scores(), st.integers(2, 5))
def test_property_roc_auc_ignores_class_ratio_but_ap_does_not(data, k):
    """Repeating every negative k times leaves ROC-AUC unchanged; AP can only drop."""
    y_true, y_score = data
    neg = y_true == 0
    y_big = np.r_[y_true, np.zeros((k - 1) * neg.sum(), int)]
    s_big = np.r_[y_score, np.tile(y_score[neg], k - 1)]
    assert metrics.roc_auc_score(y_big, s_big) == pytest.approx(
        metrics.roc_auc_score(y_true, y_score), abs=1e-12)
    assert metrics.average_precision_score(y_big, s_big) <= (
        metrics.average_precision_score(y_true, y_score) + 1e-12)


@settings(max_examples=50, deadline=None)
@given(label_pairs)
def test_property_hard_metrics(pair):
    y_true, y_pred = pair
    cm = metrics.confusion_matrix(y_true, y_pred)
    assert cm.sum() == len(y_true) and np.all(cm >= 0)
    assert cm[1].sum() == sum(y_true) and cm[:, 1].sum() == sum(y_pred)
    p, r, f1 = metrics.precision_recall_f1(y_true, y_pred)
    assert all(0.0 <= v <= 1.0 for v in (p, r, f1, metrics.accuracy(y_true, y_pred)))
    assert (p, r, f1) == (metrics.precision(y_true, y_pred), metrics.recall(y_true, y_pred),
                          metrics.f1_score(y_true, y_pred))
    harmonic = 2 * p * r / (p + r) if p + r > 0 else 0.0
    assert f1 == pytest.approx(harmonic, rel=1e-12, abs=1e-15)
    # swapping the roles of truth and prediction swaps precision and recall
    assert metrics.precision(y_pred, y_true) == r
    assert metrics.recall(y_pred, y_true) == p
    np.testing.assert_array_equal(metrics.confusion_matrix(y_pred, y_true), cm.T)


# ------------------------------------------------------------------ more than two classes

MULTICLASS_CASES = {
    "all classes present": ([0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 0], 3),
    "class never predicted": ([0, 0, 1, 1, 2], [0, 0, 1, 1, 1], 3),
    "class predicted, never true": ([0, 0, 1, 1], [0, 2, 1, 1], 3),
    "class absent from both": ([0, 1, 3, 3], [0, 1, 1, 3], 5),
    "perfect": ([2, 0, 1], [2, 0, 1], 3),
    "all wrong": ([0, 1, 2], [1, 2, 0], 3),
    "one sample": ([1], [1], 2),
    "one class": ([0, 0, 0], [0, 0, 0], 1),
}


def sk_confusion_multiclass(y_true, y_pred, C):
    """sklearn's matrix with labels=range(C), silencing its warning when one label occurs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A single label was found")
        return skm.confusion_matrix(y_true, y_pred, labels=range(C))


@pytest.mark.parametrize("case", sorted(MULTICLASS_CASES))
def test_confusion_matrix_multiclass_matches_sklearn(case):
    y_true, y_pred, C = MULTICLASS_CASES[case]
    got = metrics.confusion_matrix_multiclass(y_true, y_pred, C)
    assert got.dtype == np.int64 and got.shape == (C, C)
    np.testing.assert_array_equal(got, sk_confusion_multiclass(y_true, y_pred, C))


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize("case", sorted(MULTICLASS_CASES))
def test_f1_average_matches_sklearn(case, average):
    # sklearn's default labels: the classes seen in y_true or y_pred; no warning raised
    y_true, y_pred, _ = MULTICLASS_CASES[case]
    got = metrics.f1_average(y_true, y_pred, average)
    assert isinstance(got, float)
    assert got == pytest.approx(skm.f1_score(y_true, y_pred, average=average), abs=1e-15)


def test_f1_average_class_never_predicted_counts_in_macro():
    # class 2 is true once and never predicted: F1 = 0 pulls macro below weighted
    y_true, y_pred = [0, 0, 0, 0, 1, 1, 1, 1, 2], [0, 0, 0, 0, 1, 1, 1, 1, 1]
    macro = metrics.f1_average(y_true, y_pred, "macro")
    weighted = metrics.f1_average(y_true, y_pred, "weighted")
    micro = metrics.f1_average(y_true, y_pred, "micro")
    assert macro < weighted < micro
    assert micro == pytest.approx(8 / 9)


def test_multiclass_label_dtypes():
    y_true, y_pred = np.array([True, False, True]), np.array([True, True, False])
    np.testing.assert_array_equal(metrics.confusion_matrix_multiclass(y_true, y_pred, 2),
                                  skm.confusion_matrix(y_true, y_pred, labels=[False, True]))
    assert metrics.f1_average([0.0, 2.0, 2.0], [0.0, 2.0, 1.0], "macro") == pytest.approx(
        skm.f1_score([0, 2, 2], [0, 2, 1], average="macro"))
    assert metrics.f1_average([-1, 5, 5], [5, 5, -1], "weighted") == pytest.approx(
        skm.f1_score([-1, 5, 5], [5, 5, -1], average="weighted"))


multiclass_pairs = st.tuples(st.integers(1, 40), st.integers(1, 6)).flatmap(
    lambda nc: st.tuples(st.lists(st.integers(0, nc[1] - 1), min_size=nc[0], max_size=nc[0]),
                         st.lists(st.integers(0, nc[1] - 1), min_size=nc[0], max_size=nc[0]),
                         st.just(nc[1])))


@settings(max_examples=60, deadline=None)
@given(multiclass_pairs)
def test_property_multiclass_matches_sklearn(data):
    y_true, y_pred, C = data
    M = metrics.confusion_matrix_multiclass(y_true, y_pred, C)
    np.testing.assert_array_equal(M, sk_confusion_multiclass(y_true, y_pred, C))
    assert M.sum() == len(y_true)
    np.testing.assert_array_equal(M.sum(axis=1), np.bincount(y_true, minlength=C))
    np.testing.assert_array_equal(metrics.confusion_matrix_multiclass(y_pred, y_true, C), M.T)
    for average in ("macro", "micro", "weighted"):
        assert metrics.f1_average(y_true, y_pred, average) == pytest.approx(
            skm.f1_score(y_true, y_pred, average=average), abs=1e-12)
    # micro F1 is the accuracy
    assert metrics.f1_average(y_true, y_pred, "micro") == pytest.approx(
        np.mean(np.array(y_true) == np.array(y_pred)), abs=1e-12)


@pytest.mark.parametrize("args, match", [
    (([0, 1], [0, 1], 0), "num_classes"),
    (([0, 1], [0, 1], 2.0), "num_classes"),
    (([0, 2], [0, 1], 2), "y_true"),
    (([0, 1], [0, -1], 2), "y_pred"),
    (([0, 1], [0], 2), "same length"),
    (([], [], 2), "y_true"),
    (([[0, 1]], [[0, 1]], 2), "y_true"),
    (([0.5, 1], [0, 1], 2), "y_true"),
    ((["a", "b"], [0, 1], 2), "y_true"),
])
def test_confusion_matrix_multiclass_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        metrics.confusion_matrix_multiclass(*args)


@pytest.mark.parametrize("args, match", [
    (([0, 1], [0, 1], "binary"), "average"),
    (([0, 1], [0, 1], None), "average"),
    (([0, 1], [0, 1, 1], "macro"), "same length"),
    (([], [], "macro"), "y_true"),
    (([0, 1], [0.5, 1], "micro"), "y_pred"),
    (([0, np.nan], [0, 1], "micro"), "y_true"),
])
def test_f1_average_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        metrics.f1_average(*args)
