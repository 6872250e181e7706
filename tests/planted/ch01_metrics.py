"""Planted mistakes for the metrics chapter."""

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
        "fails": ["test_roc_curve_hidden"],
        "feedback": "Tied scores must give a single point",
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
