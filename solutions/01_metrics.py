# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 1 — Metrics: how good is a classifier?
#
# A classifier that is right 99% of the time can still be useless: if only 1% of
# e-mails are spam, "never spam" is 99% accurate. This chapter builds the
# vocabulary for saying *how* a binary classifier is good or bad.
#
# **What this chapter covers**
# 1. The confusion matrix (混淆矩阵) and accuracy (准确率).
# 2. Precision (精确率 / 查准率), recall (召回率 / 查全率) and the F1 score (F1 分数).
# 3. Thresholds and the precision/recall trade-off, with a slider.
# 4. The ROC curve (ROC 曲线), AUC (曲线下面积) and what ties mean for it.
# 5. The precision–recall curve (PR 曲线) and average precision (平均精度).
# 6. When to prefer PR over ROC: imbalanced data.
#
# **How to check your answers.** Each exercise is a function with a stub that
# raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong.
# The grader also runs hidden tests (random inputs, ties, edge cases) on each
# exercise. In JupyterLab, the **Validate** button of the nbgrader toolbar runs
# every test of the notebook at once.
#
# Exercises may use `numpy` only: an answer that calls `dlnotes`,
# scikit-learn or torch scores zero for that exercise.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. The confusion matrix
#
# A binary classifier predicts a label $\hat y \in \{0, 1\}$ for each example whose
# true label is $y \in \{0, 1\}$. Class 1 is the *positive* class (正例), class 0 the
# *negative* class (反例). Every prediction falls in one of four cells:
#
# | | predicted 0 | predicted 1 |
# |---|---|---|
# | **true 0** | TN, true negative (真反例) | FP, false positive (假正例) |
# | **true 1** | FN, false negative (假反例) | TP, true positive (真正例) |
#
# Rows are the true class and columns the predicted class, with class 0 first.
# This is scikit-learn's layout, `[[TN, FP], [FN, TP]]`, and the one this book uses.
#
# > **Pitfall.** Many notes draw the
# > table with the *positive* class first: `[[TP, FN], [FP, TN]]`. Both tables hold
# > the same four numbers, but the second has both axes reversed. Before you
# > read someone's confusion matrix, check which class comes first.
#
# **Accuracy** is the fraction of correct predictions:
#
# $$\text{accuracy} = \frac{TP + TN}{TP + TN + FP + FN}.$$

# %% [markdown]
# ### Exercise 1.1 — `confusion_matrix`
# Return the $2\times 2$ integer array `[[TN, FP], [FN, TP]]` for labels in $\{0, 1\}$.
# Use boolean masks: `(y_true == 1) & (y_pred == 1)` marks the true positives.

# %% nbgrader={"grade_id": "confusion_matrix", "solution": true}
def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    return np.array([[tn, fp], [fn, tp]])
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_confusion_matrix", "grade": true, "points": 1}
# Visible test: seven e-mails, 1 = spam.
_y_true = [1, 1, 1, 0, 0, 0, 0]
_y_pred = [1, 0, 1, 1, 0, 0, 0]
check_equal(answer(confusion_matrix, _y_true, _y_pred), [[3, 1], [1, 2]],
            "confusion_matrix([1,1,1,0,0,0,0], [1,0,1,1,0,0,0])",
            mistakes={"you put the positive class first ([[TP, FN], [FP, TN]]); this book "
                      "uses [[TN, FP], [FN, TP]]": [[2, 1], [1, 3]]})

# %% nbgrader={"grade_id": "test_confusion_matrix_hidden", "grade": true, "points": 2}
# Hidden tests run when your notebook is graded.
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(101)
for _n in (1, 7, 50):
    _t = _rng.integers(0, 2, _n)
    _p = _rng.integers(0, 2, _n)
    _want = _ref.confusion_matrix(_t, _p)
    _got = answer(confusion_matrix, _t, _p)
    if np.array_equal(np.asarray(_got), _want.T) and not np.array_equal(_want, _want.T):
        raise AssertionError("confusion_matrix: rows and columns look swapped: "
                             "rows are the true class, columns the predicted class.")
    if np.array_equal(np.asarray(_got), _want[::-1, ::-1]) and not np.array_equal(
            _want, _want[::-1, ::-1]):
        raise AssertionError("confusion_matrix: you put the positive class first "
                             "([[TP, FN], [FP, TN]]); this book uses [[TN, FP], [FN, TP]].")
    check_equal(_got, _want, f"confusion_matrix on {_n} random labels")
check_equal(answer(confusion_matrix, [0, 0, 0], [0, 0, 0]), [[3, 0], [0, 0]],
            "confusion_matrix with no positives at all")
check_equal(answer(confusion_matrix, np.array([True, False]), np.array([True, True])),
            [[0, 1], [0, 1]], "confusion_matrix with boolean labels")
### END HIDDEN TESTS

# %% [markdown]
# From here on the exercises use the helper below, so that a slip in your
# confusion matrix does not cost you the later exercises too.

# %% nbgrader={"grade_id": "helper_counts", "locked": true}
def tp_fp_fn_tn(y_true, y_pred):
    """Counts of true positives, false positives, false negatives, true negatives."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    return (int(np.sum(y_true & y_pred)), int(np.sum(~y_true & y_pred)),
            int(np.sum(y_true & ~y_pred)), int(np.sum(~y_true & ~y_pred)))


# %% [markdown]
# ## 2. Precision, recall and F1
#
# **Precision** (精确率 / 查准率) asks: *of the examples I flagged as positive, how
# many really are?* **Recall** (召回率 / 查全率), also called sensitivity or the true
# positive rate, asks: *of the positives that exist, how many did I find?*
#
# $$\text{precision} = \frac{TP}{TP + FP}, \qquad \text{recall} = \frac{TP}{TP + FN}.$$
#
# The **F1 score** is their harmonic mean (调和平均), which is low as soon as either is low:
#
# $$F_1 = \frac{2 \cdot \text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}
#       = \frac{2\,TP}{2\,TP + FP + FN}.$$
#
# **Zero division.** With no predicted positives, precision is $0/0$. With no actual
# positives, recall is $0/0$. scikit-learn's convention, and this book's, is to return
# `0.0` in that case: never `nan`, never an exception. F1 is then 0 as well.
#
# > **Pitfall.** The notes call precision and recall "a pair of contradictory measures"
# > (一对矛盾的度量). That is a tendency, not a law. Lowering the threshold never
# > lowers recall, but precision can go up *and* down as the threshold moves (the
# > plots below show this).

# %% [markdown]
# ### Exercise 2.1 — `precision`, `recall`, `f1_score`
# Use `tp_fp_fn_tn`. Return Python floats, with `0.0` where a denominator is 0.

# %% nbgrader={"grade_id": "precision", "solution": true}
def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fp) if tp + fp > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_precision", "grade": true, "points": 1}
check_close(answer(precision, [1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 0]), 2 / 3,
            "precision on the six e-mails", mistakes={"precision and recall look swapped": 2 / 3})
check_close(answer(precision, [1, 0, 0, 0], [1, 1, 1, 1]), 1 / 4,
            "precision when everything is flagged",
            mistakes={"precision and recall look swapped": 1.0})

# %% nbgrader={"grade_id": "test_precision_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(202)
for _n in (3, 20, 200):
    _t = _rng.integers(0, 2, _n)
    _p = (_rng.random(_n) < 0.3).astype(int)
    check_close(answer(precision, _t, _p), _ref.precision(_t, _p),
                f"precision on {_n} random labels",
                mistakes={"precision and recall look swapped": _ref.recall(_t, _p),
                          "this is accuracy, not precision": _ref.accuracy(_t, _p)})
check_close(answer(precision, [1, 0, 1], [0, 0, 0]), 0.0,
            "precision with no predicted positives (0/0 must give 0.0)")
### END HIDDEN TESTS

# %% nbgrader={"grade_id": "recall", "solution": true}
def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fn) if tp + fn > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_recall", "grade": true, "points": 1}
check_close(answer(recall, [1, 0, 0, 0], [1, 1, 1, 1]), 1.0,
            "recall when everything is flagged",
            mistakes={"precision and recall look swapped": 0.25})
check_close(answer(recall, [1, 1, 1, 1], [1, 0, 0, 0]), 0.25, "recall when one of four is found")

# %% nbgrader={"grade_id": "test_recall_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(303)
for _n in (3, 20, 200):
    _t = (_rng.random(_n) < 0.4).astype(int)
    _p = _rng.integers(0, 2, _n)
    check_close(answer(recall, _t, _p), _ref.recall(_t, _p),
                f"recall on {_n} random labels",
                mistakes={"precision and recall look swapped": _ref.precision(_t, _p)})
check_close(answer(recall, [0, 0, 0], [1, 0, 1]), 0.0,
            "recall with no actual positives (0/0 must give 0.0)")
### END HIDDEN TESTS

# %% nbgrader={"grade_id": "f1_score", "solution": true}
def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_f1_score", "grade": true, "points": 1}
# precision 1/4 and recall 1: the harmonic mean is 0.4, the arithmetic mean 0.625.
check_close(answer(f1_score, [1, 0, 0, 0], [1, 1, 1, 1]), 0.4, "f1_score",
            mistakes={"that is the arithmetic mean; F1 is the harmonic mean": 0.625})

# %% nbgrader={"grade_id": "test_f1_score_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(404)
for _n in (2, 30, 300):
    _t = _rng.integers(0, 2, _n)
    _p = _rng.integers(0, 2, _n)
    _pr, _rc = _ref.precision(_t, _p), _ref.recall(_t, _p)
    check_close(answer(f1_score, _t, _p), _ref.f1_score(_t, _p),
                f"f1_score on {_n} random labels",
                mistakes={"that is the arithmetic mean; F1 is the harmonic mean": (_pr + _rc) / 2,
                          "that is the geometric mean; F1 is the harmonic mean":
                              np.sqrt(_pr * _rc)})
check_close(answer(f1_score, [0, 0, 1], [0, 0, 0]), 0.0,
            "f1_score with no predicted positives (must be 0.0, not nan)")
check_close(answer(f1_score, [0, 0], [0, 0]), 0.0,
            "f1_score with no positives at all (must be 0.0, not nan)")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Scores, thresholds and the trade-off
#
# Most classifiers output a **score** $s$ (a probability, a logit, a margin) and turn it
# into a label with a threshold (阈值) $\tau$: predict 1 when $s \ge \tau$.
# A lower threshold flags more examples: recall goes up (or stays), while precision
# usually drops because more negatives get flagged too.
#
# ### Question 3.1
# A model scores eight examples:
#
# | example | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 |
# |---|---|---|---|---|---|---|---|---|
# | true label | 1 | 0 | 1 | 1 | 0 | 0 | 1 | 0 |
# | score | 0.95 | 0.85 | 0.70 | 0.55 | 0.50 | 0.30 | 0.20 | 0.10 |
#
# With threshold $\tau = 0.5$ (predict 1 when $s \ge 0.5$), what are the precision and
# the recall? Write the numbers (fractions are fine), not code that calls your
# functions.

# %% nbgrader={"grade_id": "q_threshold", "solution": true}
precision_at_half = None
recall_at_half = None
### BEGIN SOLUTION
precision_at_half = 3 / 5
recall_at_half = 3 / 4
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_threshold", "grade": true, "points": 1}
assert precision_at_half is not None and recall_at_half is not None, \
    "set precision_at_half and recall_at_half to numbers"
### BEGIN HIDDEN TESTS
check_close(precision_at_half, 3 / 5, "precision at threshold 0.5",
            mistakes={"3/4 is the recall, or the precision if the example scored exactly 0.5 "
                      "is left out; the rule is s >= 0.5, so it counts as positive": 3 / 4,
                      "that is the accuracy": 5 / 8})
check_close(recall_at_half, 3 / 4, "recall at threshold 0.5",
            mistakes={"precision and recall look swapped": 3 / 5})
### END HIDDEN TESTS

# %% [markdown]
# The demo below trains a logistic regression (逻辑回归) on scikit-learn's bundled
# breast-cancer data (nothing is downloaded) and uses its predicted probabilities as
# scores. Demo cells use the reference implementation `dlnotes.metrics`; they are not
# graded and are skipped when your notebook is graded.

# %% tags=["demo"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dlnotes import metrics as ref

X, y = load_breast_cancer(return_X_y=True)
y = 1 - y  # make "malignant" the positive class (scikit-learn codes it 0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                    stratify=y)
scaler = StandardScaler().fit(X_train)
# Only two features, so that the classifier makes enough mistakes to be interesting.
clf = LogisticRegression().fit(scaler.transform(X_train)[:, :2], y_train)
scores = clf.predict_proba(scaler.transform(X_test)[:, :2])[:, 1]
print(f"{len(y_test)} test examples, {y_test.sum()} positive (malignant)")

# %% tags=["demo"]
thresholds = np.linspace(0, 1, 101)
curves = np.array([ref.precision_recall_f1(y_test, (scores >= t).astype(int))
                   for t in thresholds])
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, name in enumerate(["precision", "recall", "F1"]):
    ax.plot(thresholds, curves[:, k], label=name)
ax.set_xlabel("threshold τ")
ax.set_ylabel("value")
ax.set_title("Moving the threshold trades precision for recall")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The ROC curve and AUC
#
# The **ROC curve** (receiver operating characteristic, ROC 曲线) draws, for every
# threshold, the **true positive rate** (真正率) against the **false positive rate**
# (假正率):
#
# $$\text{TPR} = \frac{TP}{TP + FN} \;(= \text{recall}), \qquad
#   \text{FPR} = \frac{FP}{FP + TN}.$$
#
# Sort the scores in decreasing order and lower the threshold one **distinct** score at
# a time. The curve starts at $(0, 0)$, with threshold $+\infty$ so that nothing is
# flagged, and ends at $(1, 1)$. Examples with **tied** scores cross the threshold
# together, so a tie gives one diagonal step, not a staircase.
#
# **AUC** (area under the ROC curve, 曲线下面积) has a probabilistic meaning. It is the
# probability that a random positive is scored above a random negative, and a tie counts
# one half:
#
# $$\text{AUC} = P(s^+ > s^-) + \tfrac12 P(s^+ = s^-)
#   = \frac{1}{n_+ n_-}\sum_{i:\,y_i=1}\sum_{j:\,y_j=0}
#     \Big(\mathbb 1[s_i > s_j] + \tfrac12 \mathbb 1[s_i = s_j]\Big).$$
#
# A random ranking scores 0.5 and a perfect one 1.0. Below 0.5, the ranking is
# upside down: negating the scores turns AUC into 1 − AUC.

# %% [markdown]
# ### Exercise 4.1 — `roc_curve`
# Return `(fpr, tpr, thresholds)` as numpy arrays: one point per distinct score, in
# decreasing score order, preceded by the point $(0, 0)$ with threshold `np.inf`. This
# is scikit-learn's `roc_curve(..., drop_intermediate=False)`. You may assume both
# classes are present.
#
# *Hint:* sort by decreasing score, take cumulative sums of `y` and `1 - y`, and keep
# the last index of each run of equal scores.

# %% nbgrader={"grade_id": "roc_curve", "solution": true}
def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    order = np.argsort(-y_score, kind="stable")
    s, t = y_score[order], y_true[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tps = np.cumsum(t)[last_of_run]
    fps = np.cumsum(1 - t)[last_of_run]
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, np.r_[np.inf, s[last_of_run]]
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_roc_curve", "grade": true, "points": 1}
_fpr, _tpr, _thr = answer(roc_curve, [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
check_close(_fpr, [0, 0, 0.5, 0.5, 1], "fpr for scores [0.1, 0.4, 0.35, 0.8]")
check_close(_tpr, [0, 0.5, 0.5, 1, 1], "tpr for scores [0.1, 0.4, 0.35, 0.8]")
check_close(_thr, [np.inf, 0.8, 0.4, 0.35, 0.1], "thresholds for scores [0.1, 0.4, 0.35, 0.8]")

# %% nbgrader={"grade_id": "test_roc_curve_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(505)
for _n, _decimals in ((10, 3), (60, 1), (200, 0)):
    _t = _rng.integers(0, 2, _n)
    _t[:2] = [0, 1]
    _s = np.round(_rng.random(_n) * 3, _decimals)  # rounding makes ties
    _want = _ref.roc_curve(_t, _s)
    _got = answer(roc_curve, _t, _s)
    if not isinstance(_got, tuple) or len(_got) != 3:
        raise AssertionError("roc_curve must return a tuple (fpr, tpr, thresholds)")
    _n_distinct = len(np.unique(_s)) + 1
    if np.shape(_got[0]) != (_n_distinct,):
        raise AssertionError(
            f"roc_curve on {_n} scores with {_n_distinct - 1} distinct values: expected "
            f"{_n_distinct} points (one per distinct score, plus the start at (0, 0)), got "
            f"{np.shape(_got[0])[0] if np.ndim(_got[0]) else _got[0]!r}. Tied scores must "
            "give a single point; did you forget the (0, 0) start or to group ties?")
    for _k, _name in enumerate(("fpr", "tpr", "thresholds")):
        check_close(_got[_k], _want[_k], f"roc_curve {_name} on {_n} scores with ties")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4.2 — `roc_auc_score`
# Return the AUC as a float. Count pairs with the formula above: broadcasting the
# positives' scores against the negatives' gives every pair at once. (Integrating the
# ROC curve with the trapezoidal rule gives the same number, ties included.)

# %% nbgrader={"grade_id": "roc_auc_score", "solution": true}
def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    pos = y_score[y_true == 1][:, None]
    neg = y_score[y_true == 0][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_roc_auc_score", "grade": true, "points": 1}
check_close(answer(roc_auc_score, [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75,
            "roc_auc_score for scores [0.1, 0.4, 0.35, 0.8]")
check_close(answer(roc_auc_score, [0, 1], [0.5, 0.5]), 0.5,
            "roc_auc_score when the only positive and negative are tied",
            mistakes={"a tied positive/negative pair must count one half, not 0": 0.0,
                      "a tied positive/negative pair must count one half, not 1": 1.0})

# %% nbgrader={"grade_id": "test_roc_auc_score_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref


def _pairs(t, s, tie):
    t, s = np.asarray(t), np.asarray(s)
    pos, neg = s[t == 1][:, None], s[t == 0][None, :]
    return float(np.mean((pos > neg) + tie * (pos == neg)))


_rng = np.random.default_rng(606)
for _n, _decimals in ((5, 2), (80, 1), (300, 0)):
    _t = _rng.integers(0, 2, _n)
    _t[:2] = [1, 0]
    _s = np.round(_rng.random(_n) * 4, _decimals)
    check_close(answer(roc_auc_score, _t, _s), _ref.roc_auc_score(_t, _s),
                f"roc_auc_score on {_n} scores with ties",
                mistakes={"a tied positive/negative pair must count one half, not 0":
                              _pairs(_t, _s, 0.0),
                          "a tied positive/negative pair must count one half, not 1":
                              _pairs(_t, _s, 1.0),
                          "the curve looks reversed (AUC became 1 - AUC)":
                              1 - _ref.roc_auc_score(_t, _s)})
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The precision–recall curve and average precision
#
# The **PR curve** (PR 曲线) draws precision against recall over the same thresholds.
# Its usual summary is **average precision** (AP, 平均精度). AP is the mean of the
# precisions at each threshold, each weighted by how much recall rose there:
#
# $$\text{AP} = \sum_n (R_n - R_{n-1})\, P_n,$$
#
# where $(P_n, R_n)$ is the point at the $n$-th distinct threshold, taken in decreasing
# score order, and $R_0 = 0$. This is a step sum, not the trapezoidal area under the PR
# curve. Joining PR points by straight lines is over-optimistic, because precision does
# not vary linearly between them. A random classifier's AP is the positive rate, not ½.

# %% [markdown]
# ### Exercise 5.1 — `average_precision_score`
# Return AP as a float, grouping tied scores as in `roc_curve`. You may assume at least
# one positive.

# %% nbgrader={"grade_id": "average_precision_score", "solution": true}
def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    order = np.argsort(-y_score, kind="stable")
    s, t = y_score[order], y_true[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tps = np.cumsum(t)[last_of_run]
    flagged = last_of_run + 1
    prec = tps / flagged
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_average_precision_score", "grade": true, "points": 1}
# Points in decreasing score order: (R, P) = (1/2, 1), (1/2, 1/2), (1, 2/3), (1, 1/2).
# AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
check_close(answer(average_precision_score, [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 5 / 6,
            "average_precision_score for scores [0.1, 0.4, 0.35, 0.8]",
            mistakes={"that is the trapezoidal area under the PR curve; AP is the step sum "
                      "of (R_n - R_{n-1}) * P_n": 0.7916666666666666})

# %% nbgrader={"grade_id": "test_average_precision_score_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from dlnotes import metrics as _ref

_rng = np.random.default_rng(707)
for _n, _decimals in ((6, 2), (90, 1), (250, 0)):
    _t = (_rng.random(_n) < 0.3).astype(int)
    _t[0] = 1
    _s = np.round(_rng.random(_n) * 5, _decimals)
    _p, _r, _ = _ref.precision_recall_curve(_t, _s)
    check_close(answer(average_precision_score, _t, _s),
                _ref.average_precision_score(_t, _s),
                f"average_precision_score on {_n} scores with ties",
                mistakes={"that is the trapezoidal area under the PR curve; AP is the step "
                          "sum of (R_n - R_{n-1}) * P_n": _ref.auc(_r, _p),
                          "that is ROC AUC, not average precision":
                              _ref.roc_auc_score(_t, _s)})
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Curves of a real classifier, and a threshold you can move
#
# The breast-cancer classifier's ROC and PR curves are below. Move the slider. The
# operating point moves on both curves, and the confusion matrix and the three scores
# follow it.

# %% tags=["demo"]
fpr, tpr, roc_thr = ref.roc_curve(y_test, scores)
prec, rec, pr_thr = ref.precision_recall_curve(y_test, scores)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
ax1.plot(fpr, tpr)
ax1.plot([0, 1], [0, 1], "k:", label="random")
ax1.set(xlabel="false positive rate", ylabel="true positive rate",
        title=f"ROC, AUC = {ref.roc_auc_score(y_test, scores):.3f}")
ax1.legend()
ax2.step(rec, prec, where="post")
ax2.axhline(y_test.mean(), color="k", ls=":", label="random (positive rate)")
ax2.set(xlabel="recall", ylabel="precision",
        title=f"PR, AP = {ref.average_precision_score(y_test, scores):.3f}")
ax2.legend()
plt.tight_layout()
plt.show()

# %% tags=["demo"]
import ipywidgets as widgets


def show_threshold(threshold=0.5):
    y_hat = (scores >= threshold).astype(int)
    cm = ref.confusion_matrix(y_test, y_hat)
    p, r, f1 = ref.precision_recall_f1(y_test, y_hat)
    op_fpr = cm[0, 1] / max(cm[0].sum(), 1)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 3.6))
    ax1.plot(fpr, tpr)
    ax1.plot(op_fpr, r, "ro", markersize=9)
    ax1.set(xlabel="FPR", ylabel="TPR", title="ROC")
    ax2.step(rec, prec, where="post")
    ax2.plot(r, p, "ro", markersize=9)
    ax2.set(xlabel="recall", ylabel="precision", title="PR")
    ax3.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax3.text(j, i, str(v), ha="center", va="center", fontsize=14)
    ax3.set(xticks=[0, 1], yticks=[0, 1], xlabel="predicted", ylabel="true",
            title=f"τ={threshold:.2f}: P={p:.2f} R={r:.2f} F1={f1:.2f}")
    plt.tight_layout()
    plt.show()


widgets.interact(show_threshold,
                 threshold=widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01,
                                               description="threshold τ"));

# %% [markdown]
# ## 7. PR or ROC? Imbalanced data
#
# TPR and FPR are each computed **within one class**: TPR over the positives, FPR over
# the negatives. So the ROC curve and AUC do not change when the class ratio changes.
# Precision mixes both classes, so the PR curve moves with the ratio. Keep the
# classifier fixed and add many more negatives: AUC stays put while AP drops.
#
# > **Pitfall.** A common comparison table says ROC is "more sensitive on
# > balanced data" (对类别平衡数据更敏感) and lists medical diagnosis and credit risk
# > as "balanced" settings. Both claims are wrong. ROC is *insensitive* to the class
# > ratio. Medical and fraud data usually have rare positives. Choose PR when the rare
# > positive class is what you care about, whatever the domain.
#
# | | ROC curve | PR curve |
# |---|---|---|
# | axes | FPR → TPR | recall → precision |
# | changes with the class ratio? | no | yes |
# | random baseline | the diagonal, AUC = 0.5 | precision = positive rate |
# | use when | both classes matter, ratio may shift | positives are rare and matter most |

# %% tags=["demo"]
rng = np.random.default_rng(0)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
for n_neg, label in ((500, "balanced 1:1"), (25_000, "imbalanced 1:50")):
    s = np.r_[rng.normal(1.5, 1.0, 500), rng.normal(0.0, 1.0, n_neg)]
    t = np.r_[np.ones(500), np.zeros(n_neg)].astype(int)
    f, tp_rate, _ = ref.roc_curve(t, s)
    p, r, _ = ref.precision_recall_curve(t, s)
    ax1.plot(f, tp_rate, label=f"{label}: AUC={ref.roc_auc_score(t, s):.3f}")
    ax2.step(r, p, where="post", label=f"{label}: AP={ref.average_precision_score(t, s):.3f}")
ax1.set(xlabel="FPR", ylabel="TPR", title="ROC barely moves")
ax2.set(xlabel="recall", ylabel="precision", title="PR collapses with rare positives")
ax1.legend()
ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - The confusion matrix `[[TN, FP], [FN, TP]]` holds everything; every metric here is
#   built from its four counts.
# - Precision is about the positives you flagged, recall about the positives that exist.
#   F1 is their harmonic mean. Return 0.0 for $0/0$.
# - A threshold turns scores into labels. The ROC and PR curves show every threshold
#   at once.
# - AUC is the probability of ranking a positive above a negative, with ties counted ½.
#   AP is a step sum over recall.
# - ROC ignores the class ratio and PR does not. Use PR when the positives are rare.
