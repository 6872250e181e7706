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
# 3. Thresholds and the precision/recall trade-off; choosing the threshold on the
#    validation split, not the test split.
# 4. The ROC curve (ROC 曲线), AUC (曲线下面积) and what ties mean for it.
# 5. The precision–recall curve (PR 曲线) and average precision (平均精度).
# 6. Curves of a real classifier, with a slider.
# 7. When to prefer PR over ROC: imbalanced data.
# 8. More than two classes: the C × C confusion matrix and macro, micro and weighted
#    averages (宏平均 / 微平均 / 加权平均).
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
# Return the $2\times 2$ integer array `[[TN, FP], [FN, TP]]` in this book's layout.
# `y_true` and `y_pred` are 1-D arrays (or lists) of the same length holding the labels
# 0 and 1 as integers, floats or booleans (`False` is 0, `True` is 1).

# %% nbgrader={"grade_id": "confusion_matrix", "solution": true}
def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels (ints, floats or bools)."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    return np.array([[tn, fp], [fn, tp]])
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_confusion_matrix", "grade": true, "points": 0.5}
# Visible test: seven e-mails, 1 = spam.
_y_true = [1, 1, 1, 0, 0, 0, 0]
_y_pred = [1, 0, 1, 1, 0, 0, 0]
check_equal(answer(confusion_matrix, _y_true, _y_pred), [[3, 1], [1, 2]],
            "confusion_matrix([1,1,1,0,0,0,0], [1,0,1,1,0,0,0])",
            mistakes={"you put the positive class first ([[TP, FN], [FP, TN]]); this book "
                      "uses [[TN, FP], [FN, TP]]": [[2, 1], [1, 3]]})
check_equal(answer(confusion_matrix, np.array(_y_true, dtype=bool), np.array(_y_pred, dtype=bool)),
            [[3, 1], [1, 2]], "confusion_matrix of the same labels as booleans")

# %% nbgrader={"grade_id": "test_confusion_matrix_hidden", "grade": true, "points": 0.5}
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
    """Precision of the positive class 1, a float; 0.0 when nothing is predicted positive."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fp) if tp + fp > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_precision", "grade": true, "points": 0.5}
check_close(answer(precision, [1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 0]), 2 / 3,
            "precision on the six e-mails", mistakes={"precision and recall look swapped": 2 / 3})
check_close(answer(precision, [1, 0, 0, 0], [1, 1, 1, 1]), 1 / 4,
            "precision when everything is flagged",
            mistakes={"precision and recall look swapped": 1.0})

# %% nbgrader={"grade_id": "test_precision_hidden", "grade": true, "points": 0.5}
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
    """Recall of the positive class 1, a float; 0.0 when there are no actual positives."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fn) if tp + fn > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_recall", "grade": true, "points": 0.5}
check_close(answer(recall, [1, 0, 0, 0], [1, 1, 1, 1]), 1.0,
            "recall when everything is flagged",
            mistakes={"precision and recall look swapped": 0.25})
check_close(answer(recall, [1, 1, 1, 1], [1, 0, 0, 0]), 0.25, "recall when one of four is found")

# %% nbgrader={"grade_id": "test_recall_hidden", "grade": true, "points": 0.5}
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
    """F1 score of the positive class 1, a float; 0.0 when it is undefined."""
    ### BEGIN SOLUTION
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_f1_score", "grade": true, "points": 0.5}
# precision 1/4 and recall 1: the harmonic mean is 0.4, the arithmetic mean 0.625.
check_close(answer(f1_score, [1, 0, 0, 0], [1, 1, 1, 1]), 0.4, "f1_score",
            mistakes={"that is the arithmetic mean; F1 is the harmonic mean": 0.625})

# %% nbgrader={"grade_id": "test_f1_score_hidden", "grade": true, "points": 0.5}
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
# scores. The data is split three ways (section 2 of chapter 0): half for training, a
# quarter for validation and a quarter for testing. The demos use **your** functions
# from this chapter; one that is still a stub is replaced by the reference
# `dlnotes.metrics`, and a line says so. Demo cells are not graded and are skipped when
# your notebook is graded.

# %% tags=["demo"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dlnotes import metrics as ref
from dlnotes import mine

own = mine.own(globals(), "01_metrics", ["confusion_matrix", "precision", "recall",
                                         "f1_score"])
X, y = load_breast_cancer(return_X_y=True)
y = 1 - y  # make "malignant" the positive class (scikit-learn codes it 0)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.5, random_state=0,
                                                    stratify=y)
X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                random_state=0, stratify=y_rest)
scaler = StandardScaler().fit(X_train)
# Only two features, so that the classifier makes enough mistakes to be interesting.
clf = LogisticRegression().fit(scaler.transform(X_train)[:, :2], y_train)
scores_val = clf.predict_proba(scaler.transform(X_val)[:, :2])[:, 1]
scores = clf.predict_proba(scaler.transform(X_test)[:, :2])[:, 1]
print(f"{len(y_val)} validation and {len(y_test)} test examples, "
      f"{y_val.sum()} and {y_test.sum()} positive (malignant)")

# %% tags=["demo"]
thresholds = np.linspace(0, 1, 101)
curves = np.array([[f(y_val, (scores_val >= t).astype(int))
                    for f in (own.precision, own.recall, own.f1_score)] for t in thresholds])
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, name in enumerate(["precision", "recall", "F1"]):
    ax.plot(thresholds, curves[:, k], label=name)
ax.set_xlabel("threshold τ")
ax.set_ylabel("value (validation split)")
ax.set_title("Moving the threshold trades precision for recall")
ax.legend()
plt.show()

# %% [markdown]
# ### Choosing the threshold: on the validation split
#
# The threshold is a hyper-parameter like any other: 0.5 is only a default, and the
# right $\tau$ depends on what a false positive and a false negative cost. Choose it on
# the **validation** split, for example the $\tau$ with the best F1 there. Then apply that
# $\tau$, unchanged, to the test split, once, and report what comes out.
#
# Choosing $\tau$ on the test split instead is the leak of chapter 0 in another form:
# among many thresholds, the one that happens to suit the test examples best is picked,
# so the reported test score is the best of many tries, not an estimate for new data.
# The demo shows it on the breast-cancer scores with your `f1_score`.

# %% tags=["demo"]
def best_f1_threshold(y_true, y_score, candidates):
    """The candidate threshold with the largest F1 (the first one on a tie)."""
    f1s = [own.f1_score(y_true, (y_score >= t).astype(int)) for t in candidates]
    return candidates[int(np.argmax(f1s))], f1s


candidates = np.round(np.linspace(0.05, 0.95, 91), 2)
tau_val, f1_val_curve = best_f1_threshold(y_val, scores_val, candidates)
tau_test, f1_test_curve = best_f1_threshold(y_test, scores, candidates)
f1_honest = own.f1_score(y_test, (scores >= tau_val).astype(int))
print(f"τ chosen on validation: {tau_val:.2f} -> test F1 {f1_honest:.3f} (the number to report)")
print(f"τ chosen on test:       {tau_test:.2f} -> test F1 {max(f1_test_curve):.3f} "
      "(optimistic: tuned on the test split)")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(candidates, f1_val_curve, label="F1 on validation")
ax.plot(candidates, f1_test_curve, label="F1 on test")
ax.axvline(tau_val, color="C0", ls="--", label=f"τ from validation = {tau_val:.2f}")
ax.axvline(tau_test, color="C1", ls=":", label=f"τ from test = {tau_test:.2f}")
ax.set(xlabel="threshold τ", ylabel="F1", title="Choose τ on validation, report on test")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Question 3.2
# Another model gives these scores. The allowed thresholds are 0.3, 0.5 and 0.7
# (predict 1 when $s \ge \tau$).
#
# | validation label | 1 | 1 | 0 | 1 | 0 | 0 | 1 | 0 |
# |---|---|---|---|---|---|---|---|---|
# | validation score | 0.90 | 0.75 | 0.65 | 0.55 | 0.45 | 0.35 | 0.25 | 0.10 |
#
# | test label | 1 | 0 | 1 | 0 | 0 | 1 | 1 | 0 |
# |---|---|---|---|---|---|---|---|---|
# | test score | 0.85 | 0.60 | 0.52 | 0.48 | 0.40 | 0.33 | 0.31 | 0.20 |
#
# Choose the threshold by F1 as this section says. Set `tau_chosen` to it and
# `f1_reported` to the F1 you report for the model (fractions are fine). Write the numbers,
# not code that calls your functions.

# %% nbgrader={"grade_id": "q_val_threshold", "solution": true}
tau_chosen = None
f1_reported = None
### BEGIN SOLUTION
tau_chosen = 0.5         # validation F1: 0.6, 0.75, 2/3 for tau = 0.3, 0.5, 0.7
f1_reported = 4 / 7      # test at tau = 0.5: TP 2, FP 1, FN 2
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_val_threshold", "grade": true, "points": 1}
assert tau_chosen is not None and f1_reported is not None, \
    "set tau_chosen and f1_reported to numbers"
### BEGIN HIDDEN TESTS
check_close(tau_chosen, 0.5, "the threshold chosen by validation F1",
            mistakes={"that threshold has the best F1 on the TEST split; choose it on the "
                      "validation split": 0.3,
                      "that threshold has the best precision, not the best F1": 0.7})
check_close(f1_reported, 4 / 7, "the F1 reported for the model", atol=1e-3,
            mistakes={"0.75 is the validation F1 of the chosen threshold; the number to "
                      "report is its F1 on the test split": 0.75,
                      "8/11 is the best test F1 over the thresholds: choosing by the test "
                      "split makes the reported number optimistic": 8 / 11})
### END HIDDEN TESTS

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
# classes are present. `np.argsort` and `np.cumsum` are useful.

# %% nbgrader={"grade_id": "roc_curve", "solution": true}
def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds) as arrays, thresholds decreasing and starting at inf."""
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
# Ties: two examples score 0.7 (one positive, one negative) and two score 0.4. Each tied
# pair crosses the threshold together: one diagonal step, one point.
_y, _s = [0, 1, 1, 0, 1, 0], [0.1, 0.7, 0.4, 0.4, 0.9, 0.7]
_fpr, _tpr, _thr = answer(roc_curve, _y, _s)
if np.shape(_fpr) == (7,):
    raise AssertionError("roc_curve with tied scores [0.1, 0.7, 0.4, 0.4, 0.9, 0.7]: expected "
                         "5 points (the start plus one per distinct score), got 7. Likely "
                         "mistake: tied scores must give a single point; keep only the last "
                         "position of each run of equal scores")
check_close(_thr, [np.inf, 0.9, 0.7, 0.4, 0.1], "thresholds with tied scores")
check_close(_fpr, [0, 0, 1 / 3, 2 / 3, 1], "fpr with tied scores")
check_close(_tpr, [0, 1 / 3, 2 / 3, 1, 1], "tpr with tied scores")

# %% nbgrader={"grade_id": "test_roc_curve_hidden", "grade": true, "points": 3}
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
# Return the AUC as a float, from the pair-counting formula above (integrating the ROC
# curve with the trapezoidal rule gives the same number, ties included). You may assume
# both classes are present.

# %% nbgrader={"grade_id": "roc_auc_score", "solution": true}
def roc_auc_score(y_true, y_score):
    """Area under the ROC curve, a float."""
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

# %% nbgrader={"grade_id": "test_roc_auc_score_hidden", "grade": true, "points": 3}
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
    """Average precision, a float."""
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

# %% nbgrader={"grade_id": "test_average_precision_score_hidden", "grade": true, "points": 3}
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
# The breast-cancer classifier's ROC and PR curves on the test split are below, drawn
# with your `roc_curve`, `roc_auc_score` and `average_precision_score`. Move the slider.
# The operating point moves on both curves, and the confusion matrix and the three
# scores (your functions again) follow it.

# %% tags=["demo"]
own = mine.own(globals(), "01_metrics", ["confusion_matrix", "precision", "recall",
                                         "f1_score", "roc_curve", "roc_auc_score",
                                         "average_precision_score"])
fpr, tpr, roc_thr = own.roc_curve(y_test, scores)
prec, rec, pr_thr = ref.precision_recall_curve(y_test, scores)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
ax1.plot(fpr, tpr)
ax1.plot([0, 1], [0, 1], "k:", label="random")
ax1.set(xlabel="false positive rate", ylabel="true positive rate",
        title=f"ROC, AUC = {own.roc_auc_score(y_test, scores):.3f}")
ax1.legend()
ax2.step(rec, prec, where="post")
ax2.axhline(y_test.mean(), color="k", ls=":", label="random (positive rate)")
ax2.set(xlabel="recall", ylabel="precision",
        title=f"PR, AP = {own.average_precision_score(y_test, scores):.3f}")
ax2.legend()
plt.tight_layout()
plt.show()

# %% tags=["demo"]
import ipywidgets as widgets


def show_threshold(threshold=0.5):
    y_hat = (scores >= threshold).astype(int)
    cm = np.asarray(own.confusion_matrix(y_test, y_hat))
    p, r, f1 = (f(y_test, y_hat) for f in (own.precision, own.recall, own.f1_score))
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
# ## 8. More than two classes
#
# With $C$ classes, the confusion matrix becomes a $C \times C$ table (多分类混淆矩阵):
#
# $$M_{jk} = \#\{i : y_i = j,\ \hat y_i = k\}, \qquad j, k = 0, \dots, C-1,$$
#
# again with the **true class in the rows** and the predicted class in the columns, as
# in section 1 and in scikit-learn. The diagonal holds the correct predictions; row $j$
# adds up to the number of examples of class $j$ (its **support**, 支持数), column $k$ to
# the number predicted as $k$. A class that never occurs keeps its row and column of
# zeros, so matrices of different splits line up.
#
# Precision, recall and F1 are defined for one positive class. For $C$ classes, each
# class $c$ takes its turn as "the positive class" and all the others are "negative"
# (one-vs-rest, 一对其余). Read from $M$: $TP_c = M_{cc}$, $FP_c$ is the rest of column
# $c$ and $FN_c$ the rest of row $c$. That gives one $F_{1,c}$ per class, and three
# common ways to turn them into one number:
#
# * **macro** average (宏平均): the plain mean of the $F_{1,c}$. Every class counts the
#   same, so a small class the model ignores pulls the score down. This is the point of
#   macro: it shows a neglected rare class.
# * **weighted** average (加权平均): the mean of the $F_{1,c}$ weighted by the supports
#   $n_c$. Large classes dominate; it can look good while a rare class fails.
# * **micro** average (微平均): add up $TP_c$, $FP_c$, $FN_c$ over the classes first,
#   then compute one F1 from the totals. Every wrong prediction is a false positive of
#   the class it was given and a false negative of its true class, so
#   $\sum_c FP_c = \sum_c FN_c$, and micro F1 equals the **accuracy**.
#
# Which classes take part: every class that appears in `y_true` **or** in `y_pred`, as in
# scikit-learn's `f1_score(y_true, y_pred, average=...)`. A class that is never
# predicted has $TP_c = 0$, so $F_{1,c} = 0$, and it still counts in the macro mean: it
# is exactly the failure macro averaging exists to show. The same holds for a class
# predicted but never true. Its denominator $2TP_c + FP_c + FN_c$ is at least 1, so
# there is no $0/0$.

# %% [markdown]
# ### Exercise 8.1 — `confusion_matrix_multiclass`
# Return the `(num_classes, num_classes)` integer array $M$ for integer labels `y_true`
# and `y_pred` in `[0, num_classes)` (1-D, same length; booleans count as 0 and 1). Rows
# are the true class, columns the predicted class; a class that never occurs gets a
# row and a column of zeros.

# %% nbgrader={"grade_id": "confusion_matrix_multiclass", "solution": true}
def confusion_matrix_multiclass(y_true, y_pred, num_classes):
    """C x C confusion matrix, rows = true class, columns = predicted class."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    M = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(M, (y_true, y_pred), 1)
    return M
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_confusion_matrix_multiclass", "grade": true, "points": 1}
_t = [0, 0, 0, 0, 1, 1, 2, 2, 3]
_p = [0, 0, 1, 0, 1, 1, 1, 2, 1]
_want = np.array([[3, 1, 0, 0, 0], [0, 2, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 0, 0, 0],
                  [0, 0, 0, 0, 0]])
_got = answer(confusion_matrix_multiclass, _t, _p, 5)
check_equal(np.shape(_got), (5, 5), "shape of confusion_matrix_multiclass(..., num_classes=5)",
            mistakes={"the matrix is num_classes x num_classes even when a class (here 4) "
                      "never occurs": (4, 4)})
check_equal(_got, _want, f"confusion_matrix_multiclass({_t}, {_p}, 5)",
            mistakes={"rows and columns are swapped: row j is the TRUE class j, column k the "
                      "PREDICTED class k": _want.T})

# %% nbgrader={"grade_id": "test_confusion_matrix_multiclass_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
from sklearn.metrics import confusion_matrix as _sk_confusion_matrix

_rng = np.random.default_rng(808)
for _n, _C in ((1, 3), (12, 2), (50, 4), (300, 10), (20, 7)):
    _t = _rng.integers(0, _C, _n)
    _p = np.where(_rng.random(_n) < 0.6, _t, _rng.integers(0, max(_C - 2, 1), _n))
    _want = _sk_confusion_matrix(_t, _p, labels=np.arange(_C))
    _got = answer(confusion_matrix_multiclass, _t, _p, _C)
    _label = f"confusion_matrix_multiclass on {_n} random labels of {_C} classes"
    check_equal(np.shape(_got), (_C, _C), f"shape of the result, {_label}")
    check_equal(_got, _want, _label,
                mistakes={"rows and columns are swapped: row j is the TRUE class j, column "
                          "k the PREDICTED class k": _want.T})
_t, _p = _rng.integers(0, 3, 15), _rng.integers(0, 3, 15)   # classes 3 to 5 never occur
check_equal(answer(confusion_matrix_multiclass, _t, _p, 6),
            _sk_confusion_matrix(_t, _p, labels=np.arange(6)),
            "confusion_matrix_multiclass(..., num_classes=6) on labels 0 to 2 only (a class "
            "that never occurs keeps its row and column of zeros)")
_tb, _pb = np.array([True, False, True, True]), np.array([True, True, False, True])
check_equal(answer(confusion_matrix_multiclass, _tb, _pb, 2),
            _sk_confusion_matrix(_tb.astype(int), _pb.astype(int), labels=[0, 1]),
            "confusion_matrix_multiclass with boolean labels and num_classes=2")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8.2 — `f1_average`
# Return F1 over several classes as a float, with `average` one of `"macro"`, `"micro"`
# and `"weighted"`, as defined above. `y_true` and `y_pred` are 1-D integer labels of
# the same length; the labels can be any integers (not necessarily `0 .. C-1`), and the
# classes are those that appear in either array. Raise `ValueError` for any other
# `average`.

# %% nbgrader={"grade_id": "f1_average", "solution": true}
def f1_average(y_true, y_pred, average):
    """F1 averaged over the classes: "macro", "micro" or "weighted"."""
    ### BEGIN SOLUTION
    if average not in ("macro", "micro", "weighted"):
        raise ValueError(f"average must be 'macro', 'micro' or 'weighted', got {average!r}")
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    classes = np.union1d(y_true, y_pred)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in classes], dtype=float)
    fp = np.array([np.sum((y_true != c) & (y_pred == c)) for c in classes], dtype=float)
    fn = np.array([np.sum((y_true == c) & (y_pred != c)) for c in classes], dtype=float)
    if average == "micro":
        return float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))
    f1 = 2 * tp / (2 * tp + fp + fn)
    if average == "macro":
        return float(f1.mean())
    support = tp + fn
    return float(np.sum(support * f1) / support.sum())
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_f1_average", "grade": true, "points": 2}
# The labels of exercise 8.1: the per-class F1 are 6/7, 4/7, 2/3 and 0 (class 3 is never
# predicted), the supports 4, 2, 2 and 1, and 6 of the 9 predictions are right.
_t = [0, 0, 0, 0, 1, 1, 2, 2, 3]
_p = [0, 0, 1, 0, 1, 1, 1, 2, 1]
_f1c = np.array([6 / 7, 4 / 7, 2 / 3, 0.0])
_macro, _micro, _weighted = _f1c.mean(), 6 / 9, np.dot([4, 2, 2, 1], _f1c) / 9
_swap = "macro and micro look swapped: macro is the plain mean of the per-class F1, micro " \
        "pools the counts first"
check_close(answer(f1_average, _t, _p, "macro"), _macro, "f1_average(..., 'macro')",
            mistakes={"class 3 is never predicted, so its F1 is 0, and it still counts in "
                      "the macro mean (divide by all 4 classes)": _f1c[:3].mean(),
                      _swap: _micro,
                      "that is the weighted average; macro gives every class the same weight":
                          _weighted,
                      "class 3 is never predicted, so its precision is 0/0; its F1 is 0, and "
                      "2TP / (2TP + FP + FN) gives it without a 0/0": np.nan})
check_close(answer(f1_average, _t, _p, "micro"), _micro, "f1_average(..., 'micro')",
            mistakes={_swap: _macro})
check_close(answer(f1_average, _t, _p, "weighted"), _weighted, "f1_average(..., 'weighted')",
            mistakes={"weight each class by its support (its number of TRUE examples, the "
                      "row sums), not by how often it is predicted":
                          np.dot([3, 5, 1, 0], _f1c) / 9,
                      "that is the macro average; weighted uses the supports": _macro})

# %% nbgrader={"grade_id": "test_f1_average_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
import warnings as _warnings

from sklearn.metrics import f1_score as _sk_f1


def _sk(t, p, average, labels=None):
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return float(_sk_f1(t, p, average=average, labels=labels, zero_division=0.0))


_rng = np.random.default_rng(909)
_cases = []
for _n, _C in ((8, 3), (40, 5), (200, 10), (1, 2), (30, 4)):
    _t = _rng.integers(0, _C, _n)
    _p = np.where(_rng.random(_n) < 0.5, _t, _rng.integers(0, _C, _n))
    _p[_p == _C - 1] = 0            # the last class is never predicted
    _cases.append((f"{_n} random labels of {_C} classes, class {_C - 1} never predicted",
                   _t, _p))
_cases.append(("labels -1, 5 and 7, class 7 predicted but never true",
               np.array([-1, 5, 5, -1, 5, -1]), np.array([-1, 5, 7, 5, 5, -1])))
_cases.append(("boolean labels", np.array([True, False, True, True, False]),
               np.array([True, True, False, True, False])))
for _name, _t, _p in _cases:
    _ti, _pi = np.asarray(_t).astype(int), np.asarray(_p).astype(int)
    _vals = {_a: _sk(_ti, _pi, _a) for _a in ("macro", "micro", "weighted")}
    _swap = {"macro": "micro", "micro": "macro", "weighted": "macro"}
    for _a, _want in _vals.items():
        _named = "macro and micro look swapped: " if _a != "weighted" else ""
        _wrong = {f"{_named}that is the {_swap[_a]} average, not the {_a} one":
                  _vals[_swap[_a]]}
        if _a == "macro":
            _wrong["a class that is never predicted (or never true) has F1 = 0 and still "
                   "counts in the macro mean"] = _sk(_ti, _pi, "macro", np.unique(_pi))
            _wrong["a class that is predicted but never true has F1 = 0 and still counts in "
                   "the macro mean"] = _sk(_ti, _pi, "macro", np.unique(_ti))
        check_close(answer(f1_average, _t, _p, _a), _want, f"f1_average({_a!r}) on {_name}",
                    atol=1e-9, mistakes=_wrong)
try:
    answer(f1_average, [0, 1], [0, 1], "binary")
except AssertionError as _e:
    if "ValueError" not in str(_e):
        raise AssertionError("f1_average with average='binary' should raise ValueError; "
                             f"{_e}") from None
else:
    raise AssertionError("f1_average([0, 1], [0, 1], 'binary') should raise ValueError: "
                         "average must be 'macro', 'micro' or 'weighted'")
### END HIDDEN TESTS

# %% [markdown]
# The demo classifies the 8×8 digits with a deliberately weak model (logistic regression
# on 4 of the 64 pixels, trained with one digit made rare) and draws its confusion
# matrix with **your** `confusion_matrix_multiclass`. **Your** `f1_average` then shows how
# far apart the three averages can be.

# %% tags=["demo"]
from sklearn.datasets import load_digits

own_mc = mine.own(globals(), "01_metrics", ["confusion_matrix_multiclass", "f1_average"])
X_dg, y_dg = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
keep = (y_dg != 8) | (rng.random(len(y_dg)) < 0.1)       # digit 8 becomes rare
X_dg, y_dg = X_dg[keep][:, [20, 28, 36, 44]], y_dg[keep]
X_a, X_b, y_a, y_b = train_test_split(X_dg, y_dg, test_size=0.5, random_state=0, stratify=y_dg)
clf_dg = LogisticRegression(max_iter=2000).fit(X_a, y_a)
pred_b = clf_dg.predict(X_b)
M = np.asarray(own_mc.confusion_matrix_multiclass(y_b, pred_b, 10))
for average in ("macro", "weighted", "micro"):
    print(f"{average:>8} F1 = {own_mc.f1_average(y_b, pred_b, average):.3f}")
print(f"accuracy    = {np.mean(pred_b == y_b):.3f}; digit 8: support {M[8].sum()}, "
      f"predicted {M[:, 8].sum()} times")
fig, ax = plt.subplots(figsize=(4.6, 4))
ax.imshow(M, cmap="Blues")
for (i, j), v in np.ndenumerate(M):
    if v:
        ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
ax.set(xticks=range(10), yticks=range(10), xlabel="predicted class", ylabel="true class",
       title="digits, 4 pixels: confusion matrix")
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
# - Choose the threshold (like every hyper-parameter) on the validation split; the test
#   split is used once, with the chosen threshold, for the number you report.
# - For $C$ classes: a $C \times C$ matrix with the true class in the rows; per-class F1
#   one-vs-rest; macro (plain mean, every class counts, never-predicted ones included),
#   weighted (by support) and micro (pooled counts, equal to the accuracy).
