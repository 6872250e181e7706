"""Planted mistakes for the metrics chapter."""


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new`` (which must occur)."""
    assert old in source, old
    return source.replace(old, new)


#: A right f1_average; the planted mistakes change one piece of it.
_F1_AVERAGE = '''def f1_average(y_true, y_pred, average):
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    classes = np.union1d(y_true, y_pred)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in classes])
    fp = np.array([np.sum((y_true != c) & (y_pred == c)) for c in classes])
    fn = np.array([np.sum((y_true == c) & (y_pred != c)) for c in classes])
    f1 = 2 * tp / (2 * tp + fp + fn)
    if average == "micro":
        return float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))
    if average == "macro":
        return float(f1.mean())
    if average == "weighted":
        return float(np.sum((tp + fn) * f1) / np.sum(tp + fn))
    raise ValueError(average)
'''

MISTAKES = [
    {
        "name": "precision and recall swapped",
        "cell": "precision",
        "source": '''def precision(y_true, y_pred):
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fn) if tp + fn > 0 else 0.0
''',
        "fails": ["test_precision", "test_precision_hidden"],
        "feedback": "precision and recall look swapped",
    },
    {
        "name": "precision without zero-division handling",
        "cell": "precision",
        "source": '''def precision(y_true, y_pred):
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    return tp / (tp + fp)
''',
        "fails": ["test_precision_hidden"],
        "feedback": "ZeroDivisionError",
    },
    {
        "name": "AUC ignoring ties",
        "cell": "roc_auc_score",
        "source": '''def roc_auc_score(y_true, y_score):
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    pos, neg = y_score[y_true == 1], y_score[y_true == 0]
    return float(np.mean(pos[:, None] > neg[None, :]))
''',
        "fails": ["test_roc_auc_score", "test_roc_auc_score_hidden"],
        "feedback": "must count one half, not 0",
    },
    {
        "name": "F1 as the arithmetic mean",
        "cell": "f1_score",
        "source": '''def f1_score(y_true, y_pred):
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (p + r) / 2
''',
        "fails": ["test_f1_score", "test_f1_score_hidden"],
        "feedback": "harmonic mean",
    },
    {
        "name": "confusion matrix with the positive class first",
        "cell": "confusion_matrix",
        "source": '''def confusion_matrix(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1)); fn = np.sum((y_true == 1) & (y_pred == 0))
    fp = np.sum((y_true == 0) & (y_pred == 1)); tn = np.sum((y_true == 0) & (y_pred == 0))
    return np.array([[tp, fn], [fp, tn]])
''',
        "fails": ["test_confusion_matrix", "test_confusion_matrix_hidden"],
        "feedback": "you put the positive class first",
    },
    {
        "name": "roc_curve without grouping ties",
        "cell": "roc_curve",
        "source": '''def roc_curve(y_true, y_score):
    y_true, y_score = np.asarray(y_true, float), np.asarray(y_score, float)
    order = np.argsort(-y_score, kind="stable")
    t = y_true[order]
    tps, fps = np.cumsum(t), np.cumsum(1 - t)
    return (np.r_[0, fps / fps[-1]], np.r_[0, tps / tps[-1]], np.r_[np.inf, y_score[order]])
''',
        "fails": ["test_roc_curve", "test_roc_curve_hidden"],
        "feedback": "tied scores must give a single point",
    },
    {
        "name": "average precision by the trapezoid rule",
        "cell": "average_precision_score",
        "source": '''def average_precision_score(y_true, y_score):
    y_true, y_score = np.asarray(y_true, float), np.asarray(y_score, float)
    order = np.argsort(-y_score, kind="stable")
    s, t = y_score[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tps = np.cumsum(t)[last]
    prec = np.r_[1.0, tps / (last + 1)]
    rec = np.r_[0.0, tps / tps[-1]]
    return float(np.trapezoid(prec, rec))
''',
        "fails": ["test_average_precision_score", "test_average_precision_score_hidden"],
        "feedback": "trapezoidal area",
    },
    {
        "name": "multiclass confusion matrix with rows and columns swapped",
        "cell": "confusion_matrix_multiclass",
        "source": '''def confusion_matrix_multiclass(y_true, y_pred, num_classes):
    M = np.zeros((num_classes, num_classes), dtype=int)
    for t, p in zip(np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)):
        M[p, t] += 1
    return M
''',
        "fails": ["test_confusion_matrix_multiclass", "test_confusion_matrix_multiclass_hidden"],
        "feedback": "row j is the TRUE class j",
    },
    {
        "name": "multiclass confusion matrix sized by the labels seen",
        "cell": "confusion_matrix_multiclass",
        "source": '''def confusion_matrix_multiclass(y_true, y_pred, num_classes):
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    C = max(y_true.max(), y_pred.max()) + 1
    M = np.zeros((C, C), dtype=int)
    np.add.at(M, (y_true, y_pred), 1)
    return M
''',
        "fails": ["test_confusion_matrix_multiclass", "test_confusion_matrix_multiclass_hidden"],
        "feedback": "even when a class (here 4) never occurs",
    },
    {
        "name": "macro F1 over the predicted classes only",
        "cell": "f1_average",
        "source": _variant(_F1_AVERAGE, "np.union1d(y_true, y_pred)", "np.unique(y_pred)"),
        "fails": ["test_f1_average", "test_f1_average_hidden"],
        "feedback": "still counts in the macro mean",
    },
    {
        "name": "macro and micro F1 swapped",
        "cell": "f1_average",
        "source": _variant(_variant(_variant(_F1_AVERAGE, '== "micro"', '== "MICRO"'),
                                    '== "macro"', '== "micro"'), '== "MICRO"', '== "macro"'),
        "fails": ["test_f1_average", "test_f1_average_hidden"],
        "feedback": "macro and micro look swapped",
    },
    {
        "name": "weighted F1 weighted by the predicted counts",
        "cell": "f1_average",
        "source": _variant(_F1_AVERAGE, "(tp + fn)", "(tp + fp)"),
        "fails": ["test_f1_average", "test_f1_average_hidden"],
        "feedback": "not by how often it is predicted",
    },
    {
        "name": "threshold chosen on the test split",
        "cell": "q_val_threshold",
        "source": '''tau_chosen = 0.3
f1_reported = 8 / 11
''',
        "fails": ["test_q_val_threshold"],
        "feedback": "choose it on the validation split",
    },
    {
        "name": "delegating to scikit-learn",
        "cell": "recall",
        "source": '''def recall(y_true, y_pred):
    from sklearn.metrics import recall_score
    return recall_score(y_true, y_pred, zero_division=0.0)
''',
        "fails": ["test_recall", "test_recall_hidden"],
        "feedback": "graded answers may not use sklearn",
        "status": "flagged",
    },
    {
        "name": "delegating to the reference through an alias",
        "cell": "roc_curve",
        "source": '''from dlnotes.metrics import roc_curve as _mine
def roc_curve(y_true, y_score):
    return _mine(y_true, y_score)
''',
        "fails": ["test_roc_curve", "test_roc_curve_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
]
