"""Answers of the metrics chapter by four students who worked alone, and one copy.

``ada``, ``cy``, ``dee`` and ``eve`` wrote their answers independently (for the
similarity test, in four styles: ``ada`` counts with masks, ``cy`` writes
loops, ``dee`` is vectorised around shared helpers, ``eve`` sorts and walks
the thresholds). ``ben`` copied ``ada``: the same code with every variable
renamed and independent statements reordered. Every answer is correct: the
similarity report must not depend on the answers being wrong.
"""

ADA = {
    "confusion_matrix": '''def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    truth = np.asarray(y_true).astype(bool)
    guess = np.asarray(y_pred).astype(bool)
    true_neg = np.count_nonzero(~truth & ~guess)
    false_pos = np.count_nonzero(~truth & guess)
    false_neg = np.count_nonzero(truth & ~guess)
    true_pos = np.count_nonzero(truth & guess)
    return np.array([[true_neg, false_pos], [false_neg, true_pos]])
''',
    "precision": '''def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    true_pos, false_pos, _, _ = tp_fp_fn_tn(y_true, y_pred)
    flagged = true_pos + false_pos
    if flagged == 0:
        return 0.0
    return true_pos / flagged
''',
    "recall": '''def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    true_pos, _, false_neg, _ = tp_fp_fn_tn(y_true, y_pred)
    actual = true_pos + false_neg
    if actual == 0:
        return 0.0
    return true_pos / actual
''',
    "f1_score": '''def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    p_val = precision(y_true, y_pred)
    r_val = recall(y_true, y_pred)
    if p_val + r_val == 0:
        return 0.0
    return 2 * p_val * r_val / (p_val + r_val)
''',
    "q_threshold": '''precision_at_half = None
recall_at_half = None
precision_at_half = 0.6
recall_at_half = 0.75
''',
    "roc_curve": '''def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    labels = np.asarray(y_true, dtype=float)
    scores = np.asarray(y_score, dtype=float)
    cuts = np.unique(scores)[::-1]
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    tpr_list = [0.0]
    fpr_list = [0.0]
    for cut in cuts:
        above = scores >= cut
        tpr_list.append(labels[above].sum() / n_pos)
        fpr_list.append((1 - labels[above]).sum() / n_neg)
    return np.array(fpr_list), np.array(tpr_list), np.r_[np.inf, cuts]
''',
    "roc_auc_score": '''def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    labels = np.asarray(y_true)
    scores = np.asarray(y_score, dtype=float)
    pos_scores = scores[labels == 1]
    neg_scores = scores[labels == 0]
    wins = (pos_scores[:, None] > neg_scores[None, :]).sum()
    ties = (pos_scores[:, None] == neg_scores[None, :]).sum()
    return float((wins + 0.5 * ties) / (len(pos_scores) * len(neg_scores)))
''',
    "average_precision_score": '''def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    labels = np.asarray(y_true, dtype=float)
    scores = np.asarray(y_score, dtype=float)
    cuts = np.unique(scores)[::-1]
    n_pos = labels.sum()
    total = 0.0
    prev_recall = 0.0
    for cut in cuts:
        above = scores >= cut
        hits = labels[above].sum()
        rec = hits / n_pos
        total += (rec - prev_recall) * (hits / above.sum())
        prev_recall = rec
    return float(total)
''',
}

# ben: ada's answers, variables renamed, independent statements reordered.
BEN = {
    "confusion_matrix": '''def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    pred = np.asarray(y_pred).astype(bool)
    actual = np.asarray(y_true).astype(bool)
    fp_count = np.count_nonzero(~actual & pred)
    tn_count = np.count_nonzero(~actual & ~pred)
    tp_count = np.count_nonzero(actual & pred)
    fn_count = np.count_nonzero(actual & ~pred)
    return np.array([[tn_count, fp_count], [fn_count, tp_count]])
''',
    "precision": '''def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    hits, wrong, _, _ = tp_fp_fn_tn(y_true, y_pred)
    predicted = hits + wrong
    if predicted == 0:
        return 0.0
    return hits / predicted
''',
    "recall": '''def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    hits, _, missed, _ = tp_fp_fn_tn(y_true, y_pred)
    relevant = hits + missed
    if relevant == 0:
        return 0.0
    return hits / relevant
''',
    "f1_score": '''def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    rec = recall(y_true, y_pred)
    prec = precision(y_true, y_pred)
    if prec + rec == 0:
        return 0.0
    return 2 * prec * rec / (prec + rec)
''',
    "q_threshold": '''precision_at_half = None
recall_at_half = None
recall_at_half = 0.75
precision_at_half = 0.6
''',
    "roc_curve": '''def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    s = np.asarray(y_score, dtype=float)
    y = np.asarray(y_true, dtype=float)
    positives = y.sum()
    levels = np.unique(s)[::-1]
    negatives = len(y) - positives
    fprs = [0.0]
    tprs = [0.0]
    for level in levels:
        sel = s >= level
        tprs.append(y[sel].sum() / positives)
        fprs.append((1 - y[sel]).sum() / negatives)
    return np.array(fprs), np.array(tprs), np.r_[np.inf, levels]
''',
    "roc_auc_score": '''def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    s = np.asarray(y_score, dtype=float)
    y = np.asarray(y_true)
    neg = s[y == 0]
    pos = s[y == 1]
    draws = (pos[:, None] == neg[None, :]).sum()
    better = (pos[:, None] > neg[None, :]).sum()
    return float((better + 0.5 * draws) / (len(pos) * len(neg)))
''',
    "average_precision_score": '''def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    s = np.asarray(y_score, dtype=float)
    y = np.asarray(y_true, dtype=float)
    positives = y.sum()
    levels = np.unique(s)[::-1]
    last_r = 0.0
    ap = 0.0
    for level in levels:
        sel = s >= level
        found = y[sel].sum()
        r = found / positives
        ap += (r - last_r) * (found / sel.sum())
        last_r = r
    return float(ap)
''',
}

# cy: plain Python loops over the examples.
CY = {
    "confusion_matrix": '''def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    m = [[0, 0], [0, 0]]
    for t, p in zip(y_true, y_pred):
        m[int(t)][int(p)] += 1
    return np.array(m)
''',
    "precision": '''def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    try:
        return tp / (tp + fp)
    except ZeroDivisionError:
        return 0.0
''',
    "recall": '''def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    try:
        return tp / (tp + fn)
    except ZeroDivisionError:
        return 0.0
''',
    "f1_score": '''def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    tp, fp, fn, tn = tp_fp_fn_tn(y_true, y_pred)
    denominator = 2 * tp + fp + fn
    return 0.0 if tp == 0 else 2 * tp / denominator
''',
    "q_threshold": '''precision_at_half = None
recall_at_half = None
# five examples score at least 0.5 and three of them are positive; four positives in all
precision_at_half = 3 / 5
recall_at_half = 3 / 4
''',
    "roc_curve": '''def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    pairs = sorted(zip(y_score, y_true), key=lambda sp: -sp[0])
    P = sum(1 for _, y in pairs if y == 1)
    N = len(pairs) - P
    fpr, tpr, thr = [0.0], [0.0], [np.inf]
    tp = fp = 0
    i = 0
    while i < len(pairs):
        score = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == score:
            if pairs[i][1] == 1:
                tp += 1
            else:
                fp += 1
            i += 1
        fpr.append(fp / N)
        tpr.append(tp / P)
        thr.append(score)
    return np.array(fpr), np.array(tpr), np.array(thr, dtype=float)
''',
    "roc_auc_score": '''def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    pos = [s for s, y in zip(y_score, y_true) if y == 1]
    neg = [s for s, y in zip(y_score, y_true) if y == 0]
    total = 0.0
    for a in pos:
        for b in neg:
            if a > b:
                total += 1.0
            elif a == b:
                total += 0.5
    return total / (len(pos) * len(neg))
''',
    "average_precision_score": '''def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    pairs = sorted(zip(y_score, y_true), key=lambda sp: -sp[0])
    P = sum(1 for _, y in pairs if y == 1)
    tp = 0
    seen = 0
    ap = 0.0
    i = 0
    while i < len(pairs):
        score = pairs[i][0]
        new_tp = 0
        while i < len(pairs) and pairs[i][0] == score:
            new_tp += pairs[i][1] == 1
            seen += 1
            i += 1
        tp += new_tp
        ap += (new_tp / P) * (tp / seen)
    return ap
''',
}

# dee: vectorised, every curve built from one helper of cumulative counts.
DEE = {
    "confusion_matrix": '''def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    codes = 2 * np.asarray(y_true, dtype=int) + np.asarray(y_pred, dtype=int)
    return np.bincount(codes, minlength=4).reshape(2, 2)
''',
    "precision": '''def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    counts = dict(zip(("tp", "fp", "fn", "tn"), tp_fp_fn_tn(y_true, y_pred)))
    return counts["tp"] / max(counts["tp"] + counts["fp"], 1)
''',
    "recall": '''def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    counts = dict(zip(("tp", "fp", "fn", "tn"), tp_fp_fn_tn(y_true, y_pred)))
    return counts["tp"] / max(counts["tp"] + counts["fn"], 1)
''',
    "f1_score": '''def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    tp, fp, fn, _ = tp_fp_fn_tn(y_true, y_pred)
    return float(np.divide(2 * tp, 2 * tp + fp + fn)) if tp else 0.0
''',
    "q_threshold": '''precision_at_half = None
recall_at_half = None
precision_at_half, recall_at_half = 0.6, 0.75
''',
    "roc_curve": '''def _cumulative_counts(y_true, y_score):
    """Distinct thresholds (decreasing) and the TP, FP counts at each."""
    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    thresholds, inverse = np.unique(-y_score, return_inverse=True)
    tp = np.cumsum(np.bincount(inverse, weights=y_true))
    fp = np.cumsum(np.bincount(inverse, weights=1 - y_true))
    return -thresholds, tp, fp


def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    thresholds, tp, fp = _cumulative_counts(y_true, y_score)
    return (np.concatenate([[0.0], fp / fp[-1]]), np.concatenate([[0.0], tp / tp[-1]]),
            np.concatenate([[np.inf], thresholds]))
''',
    "roc_auc_score": '''def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.trapezoid(tpr, fpr))
''',
    "average_precision_score": '''def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    _, tp, fp = _cumulative_counts(y_true, y_score)
    rec = tp / tp[-1]
    return float(np.dot(np.diff(rec, prepend=0.0), tp / (tp + fp)))
''',
}

# eve: ranks and sorted arrays, one small function per step.
EVE = {
    "confusion_matrix": '''def confusion_matrix(y_true, y_pred):
    """Return [[TN, FP], [FN, TP]] for binary labels."""
    out = np.zeros((2, 2), dtype=int)
    np.add.at(out, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return out
''',
    "precision": '''def precision(y_true, y_pred):
    """TP / (TP + FP), or 0.0 when nothing is predicted positive."""
    c = tp_fp_fn_tn(y_true, y_pred)
    return c[0] / (c[0] + c[1]) if c[0] + c[1] else 0.0
''',
    "recall": '''def recall(y_true, y_pred):
    """TP / (TP + FN), or 0.0 when there are no actual positives."""
    c = tp_fp_fn_tn(y_true, y_pred)
    return c[0] / (c[0] + c[2]) if c[0] + c[2] else 0.0
''',
    "f1_score": '''def f1_score(y_true, y_pred):
    """Harmonic mean of precision and recall: 2TP / (2TP + FP + FN), 0.0 if undefined."""
    harmonic = lambda a, b: 2 / (1 / a + 1 / b)
    p, r = precision(y_true, y_pred), recall(y_true, y_pred)
    return harmonic(p, r) if p > 0 and r > 0 else 0.0
''',
    "q_threshold": '''precision_at_half = None
recall_at_half = None
tp_half, fp_half, fn_half = 3, 2, 1
precision_at_half = tp_half / (tp_half + fp_half)
recall_at_half = tp_half / (tp_half + fn_half)
''',
    "roc_curve": '''def _sorted_labels(y_true, y_score):
    idx = np.argsort(y_score, kind="mergesort")[::-1]
    return np.asarray(y_score, float)[idx], np.asarray(y_true, float)[idx]


def _run_ends(sorted_scores):
    changes = np.nonzero(sorted_scores[1:] != sorted_scores[:-1])[0]
    return np.append(changes, sorted_scores.size - 1)


def roc_curve(y_true, y_score):
    """Return (fpr, tpr, thresholds), thresholds decreasing and starting at inf."""
    scores, labels = _sorted_labels(y_true, y_score)
    ends = _run_ends(scores)
    hit = np.cumsum(labels)[ends]
    miss = (ends + 1) - hit
    return (np.insert(miss / miss[-1], 0, 0.0), np.insert(hit / hit[-1], 0, 0.0),
            np.insert(scores[ends], 0, np.inf))
''',
    "roc_auc_score": '''def roc_auc_score(y_true, y_score):
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    from scipy.stats import rankdata
    y = np.asarray(y_true)
    ranks = rankdata(y_score)
    n1 = int(np.sum(y == 1))
    n0 = y.size - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
''',
    "average_precision_score": '''def average_precision_score(y_true, y_score):
    """AP = sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    scores, labels = _sorted_labels(y_true, y_score)
    ends = _run_ends(scores)
    hit = np.cumsum(labels)[ends]
    steps = np.diff(np.insert(hit, 0, 0)) / hit[-1]
    return float(np.sum(steps * hit / (ends + 1)))
''',
}

STUDENTS = {"ada": ADA, "ben": BEN, "cy": CY, "dee": DEE, "eve": EVE}
COPIED = ("ada", "ben")
