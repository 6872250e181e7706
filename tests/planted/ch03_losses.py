"""Planted mistakes for the losses chapter."""

MISTAKES = [
    {
        "name": "mse summed instead of averaged",
        "cell": "mse",
        "source": '''def mse(input, target):
    d = np.asarray(input, dtype=float) - np.asarray(target, dtype=float)
    return float(np.sum(d ** 2))
''',
        "fails": ["test_mse", "test_mse_hidden"],
        "feedback": "sum instead of mean",
    },
    {
        "name": "mse_grad without the factor 2",
        "cell": "mse_grad",
        "source": '''def mse_grad(input, target):
    x = np.asarray(input, dtype=float)
    return (x - np.asarray(target, dtype=float)) / x.size
''',
        "fails": ["test_mse_grad", "test_mse_grad_hidden"],
        "feedback": "missing factor 2",
    },
    {
        "name": "BCE with logits through sigmoid and log (unstable)",
        "cell": "bce_with_logits",
        "source": '''def binary_cross_entropy_with_logits(logits, target):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    p = 1.0 / (1.0 + np.exp(-z))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
''',
        "fails": ["test_bce_with_logits", "test_bce_with_logits_hidden"],
        "feedback": "write the loss in z directly",
    },
    {
        "name": "label smoothing as in the notes: 1 - eps and eps/(C-1)",
        "cell": "cross_entropy",
        "source": '''def cross_entropy(logits, target, label_smoothing=0.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    s = z - z.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    q = np.full((n, c), label_smoothing / (c - 1))
    q[np.arange(n), y] = 1.0 - label_smoothing
    return float(-np.sum(q * log_p) / n)
''',
        "fails": ["test_cross_entropy", "test_cross_entropy_hidden"],
        "feedback": "you used 1 - eps and eps/(C-1)",
    },
    {
        "name": "cross-entropy without the max-shift",
        "cell": "cross_entropy",
        "source": '''def cross_entropy(logits, target, label_smoothing=0.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    log_p = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return float(-np.sum(q * log_p) / n)
''',
        "fails": ["test_cross_entropy", "test_cross_entropy_hidden"],
        "feedback": "missing max-shift",
    },
    {
        "name": "cross-entropy shifted by the global max instead of each row's",
        "cell": "cross_entropy",
        "source": '''def cross_entropy(logits, target, label_smoothing=0.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    shifted = z - z.max()
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return float(-np.sum(q * log_p) / n)
''',
        "fails": ["test_cross_entropy", "test_cross_entropy_hidden"],
        "feedback": "each row needs its own shift",
    },
    {
        "name": "cross_entropy_grad shifted by the global max",
        "cell": "cross_entropy_grad",
        "source": '''def cross_entropy_grad(logits, target, label_smoothing=0.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    e = np.exp(z - z.max())
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return (e / e.sum(axis=1, keepdims=True) - q) / n
''',
        "fails": ["test_cross_entropy_grad_hidden"],
        "feedback": "each row needs its own shift",
    },
    {
        "name": "cross_entropy_grad summed over the batch",
        "cell": "cross_entropy_grad",
        "source": '''def cross_entropy_grad(logits, target, label_smoothing=0.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=int)
    n, c = z.shape
    e = np.exp(z - z.max(axis=1, keepdims=True))
    q = np.full((n, c), label_smoothing / c)
    q[np.arange(n), y] += 1.0 - label_smoothing
    return e / e.sum(axis=1, keepdims=True) - q
''',
        "fails": ["test_cross_entropy_grad", "test_cross_entropy_grad_hidden"],
        "feedback": "divide by the batch size N",
    },
    {
        "name": "KL with p and q swapped",
        "cell": "kl_divergence",
        "source": '''def kl_divergence(p, q):
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    n = 1 if p.ndim == 1 else p.shape[0]
    m = q > 0
    return float(np.sum(q[m] * np.log(q[m] / p[m])) / n)
''',
        "fails": ["test_kl_divergence", "test_kl_divergence_hidden"],
        "feedback": "p and q look swapped",
    },
    {
        "name": "focal loss without alpha_t (as in one of the notes)",
        "cell": "focal_loss",
        "source": '''def focal_loss(logits, target, alpha=0.25, gamma=2.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    ce = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    p_t = np.exp(-ce)
    return float(np.mean((1.0 - p_t) ** gamma * ce))
''',
        "fails": ["test_focal_loss", "test_focal_loss_hidden"],
        "feedback": "alpha_t is missing",
    },
    {
        "name": "huber delegating to torch",
        "cell": "huber",
        "source": '''def huber(input, target, delta=1.0):
    import torch
    return torch.nn.functional.huber_loss(
        torch.as_tensor(np.asarray(input, dtype=float)),
        torch.as_tensor(np.asarray(target, dtype=float)), delta=delta).item()
''',
        "fails": ["test_huber", "test_huber_hidden"],
        "feedback": "graded answers may not use torch",
        "status": "flagged",
    },
    {
        "name": "huber without the -delta/2 offset",
        "cell": "huber",
        "source": '''def huber(input, target, delta=1.0):
    d = np.abs(np.asarray(input, dtype=float) - np.asarray(target, dtype=float))
    return float(np.mean(np.where(d < delta, 0.5 * d ** 2, delta * d)))
''',
        "fails": ["test_huber", "test_huber_hidden"],
        "feedback": "-delta/2 offset",
    },
    {
        "name": "focal_loss_grad treating (1 - p_t)**gamma as a constant weight",
        "cell": "focal_loss_grad",
        "source": '''def focal_loss_grad(logits, target, alpha=0.25, gamma=2.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    m = 1.0 - (p * y + (1.0 - p) * (1.0 - y))
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    return alpha_t * m ** gamma * (p - y) / z.size
''',
        "fails": ["test_focal_loss_grad", "test_focal_loss_grad_hidden"],
        "feedback": "is not a constant weight",
    },
    {
        "name": "focal_loss_grad with dp_t/dz = p(1 - p) for every target",
        "cell": "focal_loss_grad",
        "source": '''def focal_loss_grad(logits, target, alpha=0.25, gamma=2.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    c = np.maximum(z, 0.0) - z * y + np.log1p(e)
    m = 1.0 - (p * y + (1.0 - p) * (1.0 - y))
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    second = gamma * m ** (gamma - 1.0) * p * (1.0 - p) * c if gamma > 0 else 0.0
    return alpha_t * (m ** gamma * (p - y) - second) / z.size
''',
        "fails": ["test_focal_loss_grad", "test_focal_loss_grad_hidden"],
        "feedback": "for a negative example (y = 0) p_t = 1 - p falls",
    },
    {
        "name": "focal_loss_grad with -log p_t from the probabilities (inf at 800)",
        "cell": "focal_loss_grad",
        "source": '''def focal_loss_grad(logits, target, alpha=0.25, gamma=2.0):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(target, dtype=float)
    p = 1.0 / (1.0 + np.exp(-z))
    p_t = p * y + (1.0 - p) * (1.0 - y)
    c = -np.log(p_t)
    m = 1.0 - p_t
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    second = gamma * m ** (gamma - 1.0) * (2 * y - 1) * p * (1.0 - p) * c if gamma > 0 else 0.0
    return alpha_t * (m ** gamma * (p - y) - second) / z.size
''',
        "fails": ["test_focal_loss_grad_hidden"],
        "feedback": "compute -log p_t and sigmoid stably",
    },
]
