r"""Binary classification metrics: confusion matrix, precision/recall, PR and ROC curves.

Everything here follows scikit-learn's argument order and results
(``y_true`` first, then ``y_pred`` or ``y_score``), restricted to binary labels
in :math:`\{0, 1\}` with 1 the positive class. Labels may be bool, int or float
arrays as long as they hold only 0 and 1.

Two families of metrics:

* **Hard predictions** ``y_pred`` (0/1 decisions): :func:`confusion_matrix`,
  :func:`accuracy`, :func:`precision`, :func:`recall`, :func:`f1_score`,
  :func:`fbeta_score`. They are built from four counts,

  .. math::
      TP = \#\{y=1, \hat y=1\},\; FP = \#\{y=0, \hat y=1\},\;
      FN = \#\{y=1, \hat y=0\},\; TN = \#\{y=0, \hat y=0\}.

  A ratio whose denominator is 0 (e.g. precision when nothing is predicted
  positive) is defined as 0.0, silently: scikit-learn's ``zero_division=0.0``.

* **Scores** ``y_score`` (any real number, larger means "more positive"):
  :func:`precision_recall_curve`, :func:`roc_curve`, :func:`roc_auc_score`,
  :func:`average_precision_score`. Every distinct score is tried as a threshold,
  predicting positive when ``y_score >= threshold``. The counts for all
  thresholds come from one sort and one cumulative sum, no loop.

Which curve when? ROC plots TPR against FPR; each is computed inside one class,
so the ROC curve and its AUC do not change when the class ratio changes. The PR
curve's precision mixes both classes, so it moves with the positive rate: a
random ranking has ROC-AUC 0.5 but average precision equal to the fraction of
positives. That makes PR more informative when positives are rare and they are
what you care about.
"""

from __future__ import annotations

import warnings

import numpy as np

from dlnotes._validation import (
    as_binary_labels,
    as_float_array,
    check_in_range,
    check_nonempty,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "classification_counts",
    "confusion_matrix",
    "accuracy",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "precision_recall_f1",
    "precision_recall_curve",
    "roc_curve",
    "auc",
    "roc_auc_score",
    "average_precision_score",
]


# --------------------------------------------------------------------------- checks

def _check_labels_and_predictions(y_true, y_pred):
    """Validate two 0/1 label vectors of equal, non-zero length."""
    y_true = as_binary_labels(y_true, "y_true")
    y_pred = as_binary_labels(y_pred, "y_pred")
    check_same_length(y_true, y_pred, "y_true", "y_pred")
    check_nonempty(y_true, "y_true")
    return y_true, y_pred


def _check_labels_and_scores(y_true, y_score):
    """Validate 0/1 labels and finite 1-D scores of equal, non-zero length."""
    y_true = as_binary_labels(y_true, "y_true")
    y_score = as_float_array(y_score, "y_score", ndim=1, finite=True)
    check_same_length(y_true, y_score, "y_true", "y_score")
    check_nonempty(y_true, "y_true")
    return y_true, y_score


def _safe_divide(numerator, denominator) -> float:
    """numerator / denominator, or 0.0 when the denominator is 0."""
    return float(numerator / denominator) if denominator != 0 else 0.0


# ------------------------------------------------------------------ hard predictions

def classification_counts(y_true, y_pred) -> tuple[int, int, int, int]:
    r"""Count true positives, false positives, false negatives and true negatives.

    .. math::
        TP = \sum_i y_i \hat y_i,\quad FP = \sum_i (1-y_i)\hat y_i,\quad
        FN = \sum_i y_i (1-\hat y_i),\quad TN = N - TP - FP - FN.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1} (bool, int or float).
    y_pred : array-like of shape (N,)
        Predicted labels in {0, 1}.

    Returns
    -------
    tp, fp, fn, tn : int
        The four counts; they sum to N.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, holds a value other than 0/1,
        if their lengths differ, or if they are empty.

    Examples
    --------
    >>> classification_counts([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    (2, 1, 1, 1)
    """
    y_true, y_pred = _check_labels_and_predictions(y_true, y_pred)
    tp = int(np.sum(y_true * y_pred))
    fp = int(np.sum((1 - y_true) * y_pred))
    fn = int(np.sum(y_true * (1 - y_pred)))
    tn = len(y_true) - tp - fp - fn
    return tp, fp, fn, tn


def confusion_matrix(y_true, y_pred) -> np.ndarray:
    r"""Confusion matrix with rows = true class and columns = predicted class.

    The layout is scikit-learn's with ``labels=[0, 1]``, negative class first:

    .. math::
        C = \begin{pmatrix} TN & FP \\ FN & TP \end{pmatrix},
        \qquad C_{jk} = \#\{i : y_i = j,\ \hat y_i = k\}.

    (Many textbooks draw the positive class first, ``[[TP, FN], [FP, TN]]``;
    it is the same table with both axes reversed.)

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1}.
    y_pred : array-like of shape (N,)
        Predicted labels in {0, 1}.

    Returns
    -------
    C : ndarray of shape (2, 2), dtype int64
        ``[[TN, FP], [FN, TP]]``; entries sum to N. A class that never occurs
        still gets its row/column (of zeros).

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> confusion_matrix([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    array([[1, 1],
           [1, 2]])
    """
    tp, fp, fn, tn = classification_counts(y_true, y_pred)
    return np.array([[tn, fp], [fn, tp]], dtype=np.int64)


def accuracy(y_true, y_pred) -> float:
    r"""Fraction of correct predictions.

    .. math:: \mathrm{accuracy} = \frac{TP + TN}{N}

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> accuracy([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    0.6
    """
    tp, fp, fn, tn = classification_counts(y_true, y_pred)
    return (tp + tn) / (tp + fp + fn + tn)


def precision(y_true, y_pred) -> float:
    r"""Of the samples predicted positive, the fraction that are positive.

    .. math:: \mathrm{precision} = \frac{TP}{TP + FP}

    Defined as 0.0 (no warning) when nothing is predicted positive
    (:math:`TP + FP = 0`), like scikit-learn's ``zero_division=0.0``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> precision([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    0.6666666666666666
    >>> precision([1, 0], [0, 0])  # nothing predicted positive
    0.0
    """
    tp, fp, _, _ = classification_counts(y_true, y_pred)
    return _safe_divide(tp, tp + fp)


def recall(y_true, y_pred) -> float:
    r"""Of the positive samples, the fraction predicted positive (TPR, sensitivity).

    .. math:: \mathrm{recall} = \frac{TP}{TP + FN}

    Defined as 0.0 (no warning) when there are no positives
    (:math:`TP + FN = 0`), like scikit-learn's ``zero_division=0.0``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> recall([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    0.6666666666666666
    """
    tp, _, fn, _ = classification_counts(y_true, y_pred)
    return _safe_divide(tp, tp + fn)


def _fbeta_from_counts(tp: int, fp: int, fn: int, beta: float) -> float:
    if np.isinf(beta):
        return _safe_divide(tp, tp + fn)  # the limit beta -> inf is recall
    beta2 = beta * beta
    return _safe_divide((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp)


def fbeta_score(y_true, y_pred, beta) -> float:
    r"""Weighted harmonic mean of precision and recall; recall counts ``beta`` times as much.

    .. math::
        F_\beta = \frac{(1+\beta^2)\,P\,R}{\beta^2 P + R}
                = \frac{(1+\beta^2)\,TP}{(1+\beta^2)\,TP + \beta^2 FN + FP}

    The count form is used, so it is defined even where P or R is 0/0; it is
    0.0 (no warning) when :math:`TP + FN + FP = 0`. ``beta=0`` gives
    precision, ``beta=inf`` gives recall, ``beta=1`` is :func:`f1_score`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.
    beta : float
        Non-negative weight of recall, ``inf`` allowed.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``beta`` is negative, NaN or not a real number; if ``y_true`` or
        ``y_pred`` is not 1-D 0/1 labels, lengths differ or input is empty.

    Examples
    --------
    >>> fbeta_score([1, 1, 0, 0, 1], [1, 0, 0, 0, 0], beta=2.0)
    0.38461538461538464
    """
    beta = check_in_range(beta, "beta", low=0.0)
    tp, fp, fn, _ = classification_counts(y_true, y_pred)
    return _fbeta_from_counts(tp, fp, fn, beta)


def f1_score(y_true, y_pred) -> float:
    r"""Harmonic mean of precision and recall.

    .. math::
        F_1 = \frac{2PR}{P + R} = \frac{2\,TP}{2\,TP + FP + FN}

    0.0 (no warning) when :math:`TP + FP + FN = 0`, i.e. no positives and none
    predicted.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> f1_score([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    0.6666666666666666
    """
    tp, fp, fn, _ = classification_counts(y_true, y_pred)
    return _fbeta_from_counts(tp, fp, fn, 1.0)


def precision_recall_f1(y_true, y_pred) -> tuple[float, float, float]:
    r"""Precision, recall and F1 in one call (same conventions as the single functions).

    .. math:: P = \frac{TP}{TP+FP},\quad R = \frac{TP}{TP+FN},\quad
              F_1 = \frac{2\,TP}{2\,TP+FP+FN}

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,)
        True and predicted labels in {0, 1}.

    Returns
    -------
    p, r, f1 : float

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D 0/1 labels, lengths differ or
        input is empty.

    Examples
    --------
    >>> precision_recall_f1([1, 1, 0, 0, 1], [1, 0, 0, 0, 0])
    (1.0, 0.3333333333333333, 0.5)
    """
    tp, fp, fn, _ = classification_counts(y_true, y_pred)
    return (_safe_divide(tp, tp + fp), _safe_divide(tp, tp + fn),
            _fbeta_from_counts(tp, fp, fn, 1.0))


# -------------------------------------------------------------------- score curves

def _counts_at_thresholds(y_true: np.ndarray, y_score: np.ndarray):
    """FP and TP counts when predicting ``y_score >= t``, for each distinct score t.

    Returns ``(fps, tps, thresholds)`` with thresholds in *decreasing* order.
    Sort the scores in decreasing order; the running sum of the labels is the
    number of positives at or above each position. Tied scores must move
    together, so keep only the last position of each run of equal scores.
    """
    order = np.argsort(-y_score, kind="stable")
    score_sorted = y_score[order]
    true_sorted = y_true[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(score_sorted)), len(score_sorted) - 1]
    tps = np.cumsum(true_sorted)[last_of_run]
    fps = (last_of_run + 1) - tps  # everything above the threshold that is not a TP
    return fps, tps, score_sorted[last_of_run]


def precision_recall_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Precision and recall for every threshold on the scores (scikit-learn's layout).

    For each distinct score :math:`t` predict positive when
    :math:`s_i \ge t`, and compute

    .. math:: P(t) = \frac{TP(t)}{TP(t) + FP(t)}, \qquad R(t) = \frac{TP(t)}{N_+}.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1}.
    y_score : array-like of shape (N,)
        Finite real scores; higher means more likely positive.

    Returns
    -------
    precision : ndarray of shape (T + 1,)
        ``precision[k]`` is the precision at ``thresholds[k]``; the last entry is 1.
    recall : ndarray of shape (T + 1,)
        Decreasing; the last entry is 0.
    thresholds : ndarray of shape (T,)
        The T distinct scores, increasing.

    Raises
    ------
    ValueError
        If ``y_true`` is not 1-D 0/1 labels, ``y_score`` is not 1-D or holds
        NaN/inf, their lengths differ, or input is empty.

    Warns
    -----
    UserWarning
        If ``y_true`` has no positives. Recall is then 0/0; as scikit-learn
        does, it is set to 1 at every threshold (precision is 0 there).

    Notes
    -----
    The appended point (precision=1, recall=0) has no threshold; it is
    scikit-learn's convention so that the curve always reaches the y-axis.
    Tied scores form one threshold, so a tie moves the curve by several
    samples at once.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p
    array([0.5       , 0.66666667, 0.5       , 1.        , 1.        ])
    >>> r
    array([1. , 1. , 0.5, 0.5, 0. ])
    >>> t
    array([0.1 , 0.35, 0.4 , 0.8 ])
    """
    y_true, y_score = _check_labels_and_scores(y_true, y_score)
    fps, tps, thresholds = _counts_at_thresholds(y_true, y_score)
    precision_ = tps / (tps + fps)  # tps + fps >= 1: every threshold is someone's score
    n_pos = tps[-1]
    if n_pos == 0:
        warnings.warn("No positive class found in y_true, recall is set to one "
                      "for all thresholds.", UserWarning, stacklevel=2)
        recall_ = np.ones(len(tps))
    else:
        recall_ = tps / n_pos
    # reverse so thresholds increase, then append the (recall=0, precision=1) end point
    return (np.r_[precision_[::-1], 1.0], np.r_[recall_[::-1], 0.0], thresholds[::-1])


def roc_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Receiver operating characteristic: FPR and TPR for every threshold on the scores.

    .. math:: \mathrm{FPR}(t) = \frac{FP(t)}{N_-}, \qquad
              \mathrm{TPR}(t) = \frac{TP(t)}{N_+}

    with positive prediction :math:`s_i \ge t`. Equal to scikit-learn's
    ``roc_curve(..., drop_intermediate=False)``.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1}; both classes must be present.
    y_score : array-like of shape (N,)
        Finite real scores; higher means more likely positive.

    Returns
    -------
    fpr, tpr : ndarray of shape (T + 1,)
        Non-decreasing, starting at 0 and ending at 1.
    thresholds : ndarray of shape (T + 1,)
        Decreasing: ``inf`` (predict nothing positive, the point (0, 0)),
        then the T distinct scores.

    Raises
    ------
    ValueError
        If ``y_true`` contains only one class (FPR or TPR would be 0/0), is
        not 1-D 0/1 labels, ``y_score`` is not 1-D or holds NaN/inf, lengths
        differ, or input is empty.

    Examples
    --------
    >>> fpr, tpr, t = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr
    array([0. , 0. , 0.5, 0.5, 1. ])
    >>> tpr
    array([0. , 0.5, 0.5, 1. , 1. ])
    >>> t
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    """
    y_true, y_score = _check_labels_and_scores(y_true, y_score)
    n_pos = int(y_true.sum())
    if n_pos == 0 or n_pos == len(y_true):
        raise ValueError(
            f"only one class present in y_true (all {int(y_true[0])}); the ROC curve "
            "needs both positives and negatives")
    fps, tps, thresholds = _counts_at_thresholds(y_true, y_score)
    fpr = np.r_[0, fps] / fps[-1]
    tpr = np.r_[0, tps] / tps[-1]
    return fpr, tpr, np.r_[np.inf, thresholds]


def auc(x, y) -> float:
    r"""Area under a curve by the trapezoidal rule.

    .. math:: \mathrm{area} = \pm\sum_{k=1}^{n-1} (x_k - x_{k-1})\,\frac{y_k + y_{k-1}}{2}

    ``x`` must be monotonic, either non-decreasing or non-increasing (then the
    sign is flipped so the area is the same as for the reversed curve).

    Parameters
    ----------
    x : array-like of shape (n,)
        Monotonic x coordinates, n >= 2, finite.
    y : array-like of shape (n,)
        y coordinates, finite.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``x`` is neither increasing nor decreasing, has fewer than 2
        points, ``x`` or ``y`` is not 1-D or not finite, or lengths differ.

    Examples
    --------
    >>> auc([0.0, 0.5, 1.0], [0.0, 1.0, 1.0])
    0.75
    """
    x = as_float_array(x, "x", ndim=1, finite=True)
    y = as_float_array(y, "y", ndim=1, finite=True)
    check_same_length(x, y, "x", "y")
    if len(x) < 2:
        raise ValueError(f"x must have at least 2 points to compute an area, got {len(x)}")
    dx = np.diff(x)
    if np.all(dx >= 0):
        direction = 1.0
    elif np.all(dx <= 0):
        direction = -1.0
    else:
        raise ValueError("x must be monotonic (increasing or decreasing), got x = "
                         f"{np.array2string(x, threshold=10)}")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def roc_auc_score(y_true, y_score) -> float:
    r"""Area under the ROC curve: the probability a positive outranks a negative.

    .. math::
        \mathrm{AUC} = P(s^+ > s^-) + \tfrac12 P(s^+ = s^-)
        = \frac{1}{N_+ N_-}\sum_{i:\,y_i=1}\ \sum_{j:\,y_j=0}
          \Big([s_i > s_j] + \tfrac12 [s_i = s_j]\Big)

    (the Mann-Whitney U statistic divided by :math:`N_+ N_-`). It is computed
    as the trapezoidal area under :func:`roc_curve`: a group of tied scores is
    one diagonal step of the curve, and the triangle under that diagonal is
    exactly the half credit for tied positive/negative pairs.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1}; both classes must be present.
    y_score : array-like of shape (N,)
        Finite real scores.

    Returns
    -------
    float
        In [0, 1]; 0.5 for a ranking carrying no information (e.g. all scores
        equal), 1 for a perfect one.

    Raises
    ------
    ValueError
        If only one class is present in ``y_true`` (AUC is undefined), or on
        the input errors of :func:`roc_curve`.

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc_score([0, 1], [0.5, 0.5])  # a tie counts one half
    0.5
    """
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return auc(fpr, tpr)


def average_precision_score(y_true, y_score) -> float:
    r"""Average precision: the precision at each threshold, weighted by the recall it adds.

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1})\, P_k

    over thresholds from high to low (with :math:`R_0 = 0`). This is a step
    function sum, not the trapezoidal area under the PR curve, which would
    interpolate linearly and be too optimistic. Equal to scikit-learn's
    ``average_precision_score``.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        True labels in {0, 1}.
    y_score : array-like of shape (N,)
        Finite real scores.

    Returns
    -------
    float
        In [0, 1]. A random ranking scores about the fraction of positives.
        With no positives in ``y_true`` the result is 0.0 (scikit-learn's value)
        and the warning of :func:`precision_recall_curve` is emitted.

    Raises
    ------
    ValueError
        On the input errors of :func:`precision_recall_curve`.

    Examples
    --------
    >>> average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    precision_, recall_, _ = precision_recall_curve(y_true, y_score)
    # recall decreases along the arrays, so -diff(recall) are the recall gains
    return float(max(0.0, -np.sum(np.diff(recall_) * precision_[:-1])))


# --------------------------------------------------------------------- more than two classes

__all__ += ["confusion_matrix_multiclass", "f1_average"]

_AVERAGES = ("macro", "micro", "weighted")


def _as_integer_labels(y, name: str) -> np.ndarray:
    """1-D, non-empty, integer-valued labels (bool, int, or whole floats) as int64."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    check_nonempty(arr, name)
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) \
            and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise ValueError(f"{name} must contain integer class labels, got dtype {arr.dtype}")


def _count_pairs(t: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """``C[j, k] = #{i: t_i = j, p_i = k}`` for indices in ``[0, n_classes)``."""
    flat = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def confusion_matrix_multiclass(y_true, y_pred, num_classes) -> np.ndarray:
    r"""C x C confusion matrix: rows are the true class, columns the predicted one.

    .. math:: M_{jk} = \#\{i : y_i = j,\ \hat y_i = k\}, \qquad j, k \in \{0, \dots, C-1\}

    The diagonal holds the correct predictions; row :math:`j` sums to the
    number of samples of class :math:`j` (its *support*), column :math:`k` to
    the number predicted as :math:`k`. Equal to scikit-learn's
    ``confusion_matrix(y_true, y_pred, labels=range(C))``: a class that never
    occurs keeps its row and column of zeros.

    Parameters
    ----------
    y_true : array-like of int, shape (N,)
        True class indices in ``[0, num_classes)`` (bool labels count as 0/1).
    y_pred : array-like of int, shape (N,)
        Predicted class indices in ``[0, num_classes)``.
    num_classes : int
        :math:`C \ge 1`.

    Returns
    -------
    M : ndarray of shape (C, C), dtype int64
        Entries sum to N.

    Raises
    ------
    ValueError
        If ``num_classes`` is not an int >= 1, a label is not an integer in
        ``[0, num_classes)``, the arrays are not 1-D, differ in length or are empty.

    Examples
    --------
    >>> confusion_matrix_multiclass([0, 1, 2, 2], [0, 2, 2, 1], num_classes=3)
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 1, 1]])
    """
    C = check_positive_int(num_classes, "num_classes")
    y_true = _as_integer_labels(y_true, "y_true")
    y_pred = _as_integer_labels(y_pred, "y_pred")
    check_same_length(y_true, y_pred, "y_true", "y_pred")
    for arr, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        if arr.min() < 0 or arr.max() >= C:
            raise ValueError(f"{name} must contain class indices in [0, {C}) (num_classes={C}), "
                             f"got values in [{arr.min()}, {arr.max()}]")
    return _count_pairs(y_true, y_pred, C)


def f1_average(y_true, y_pred, average) -> float:
    r"""F1 over several classes, averaged ``"macro"``, ``"micro"`` or ``"weighted"``.

    Each class :math:`c` in turn is "the positive class":
    :math:`TP_c = M_{cc}`, :math:`FP_c = \sum_j M_{jc} - M_{cc}`,
    :math:`FN_c = \sum_k M_{ck} - M_{cc}` from the confusion matrix
    :math:`M`, and :math:`F_{1,c} = 2TP_c / (2TP_c + FP_c + FN_c)`. Then

    .. math::
        \text{macro} = \frac1K\sum_c F_{1,c}, \qquad
        \text{weighted} = \frac{\sum_c n_c F_{1,c}}{\sum_c n_c}, \qquad
        \text{micro} = \frac{2\sum_c TP_c}{2\sum_c TP_c + \sum_c FP_c + \sum_c FN_c},

    with :math:`n_c` the number of true samples of class :math:`c`. Macro
    treats every class alike (a rare class counts as much as a common one);
    weighted follows the class sizes; micro pools the counts, and since every
    false positive of one class is a false negative of another it equals the
    accuracy.

    The classes are those present in ``y_true`` **or** ``y_pred``
    (:math:`K` of them), as scikit-learn's
    ``f1_score(y_true, y_pred, average=...)`` with its default ``labels``.
    A class that is never predicted, or predicted but never true, has
    :math:`F_{1,c} = 0` and counts in the macro mean (weight 0 in the weighted
    one when it is never true). Its denominator
    :math:`2TP_c + FP_c + FN_c` is at least 1, so no zero division occurs;
    a class absent from both arrays is not a class here.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
        True and predicted class labels (any integers; bools count as 0/1).
    average : {"macro", "micro", "weighted"}

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``average`` is not one of the three, or the labels are not 1-D
        integer arrays of the same, non-zero length.

    Examples
    --------
    >>> y_true, y_pred = [0, 0, 1, 1, 2], [0, 0, 1, 1, 1]   # class 2 is never predicted
    >>> f1_average(y_true, y_pred, "macro")    # (1 + 0.8 + 0) / 3
    0.6
    >>> f1_average(y_true, y_pred, "micro")    # = accuracy, 4 of 5
    0.8
    >>> f1_average(y_true, y_pred, "weighted") # (2 * 1 + 2 * 0.8 + 1 * 0) / 5
    0.72
    """
    if not isinstance(average, str) or average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    y_true = _as_integer_labels(y_true, "y_true")
    y_pred = _as_integer_labels(y_pred, "y_pred")
    check_same_length(y_true, y_pred, "y_true", "y_pred")
    classes, idx = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    n = len(y_true)
    M = _count_pairs(idx[:n], idx[n:], len(classes))
    tp = np.diag(M).astype(np.float64)
    fp = M.sum(axis=0) - tp
    fn = M.sum(axis=1) - tp
    if average == "micro":
        return float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))
    f1 = 2 * tp / (2 * tp + fp + fn)
    if average == "macro":
        return float(f1.mean())
    support = M.sum(axis=1)
    return float(np.sum(support * f1) / support.sum())
