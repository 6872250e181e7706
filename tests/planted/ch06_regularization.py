"""Planted mistakes for the regularization chapter."""

MISTAKES = [
    {
        "name": "l1_proximal_step with hard thresholding",
        "cell": "l1_proximal_step",
        "source": '''def l1_proximal_step(w, grad, lr, lam):
    z = np.asarray(w, dtype=float) - lr * np.asarray(grad, dtype=float)
    return np.where(np.abs(z) > lr * lam, z, 0.0)
''',
        "fails": ["test_l1_proximal_step", "test_l1_proximal_step_hidden"],
        "feedback": "hard thresholding",
    },
    {
        "name": "l1_proximal_step thresholding at lam instead of lr * lam",
        "cell": "l1_proximal_step",
        "source": '''def l1_proximal_step(w, grad, lr, lam):
    z = np.asarray(w, dtype=float) - lr * np.asarray(grad, dtype=float)
    return np.sign(z) * np.maximum(np.abs(z) - lam, 0.0)
''',
        "fails": ["test_l1_proximal_step", "test_l1_proximal_step_hidden"],
        "feedback": "the threshold is lr·lam",
    },
    {
        "name": "l1_proximal_step losing the sign",
        "cell": "l1_proximal_step",
        "source": '''def l1_proximal_step(w, grad, lr, lam):
    z = np.asarray(w, dtype=float) - lr * np.asarray(grad, dtype=float)
    return np.maximum(z - lr * lam, 0.0)
''',
        "fails": ["test_l1_proximal_step", "test_l1_proximal_step_hidden"],
        "feedback": "the sign is lost",
    },
    {
        "name": "l1_proximal_step as the subgradient step",
        "cell": "l1_proximal_step",
        "source": '''def l1_proximal_step(w, grad, lr, lam):
    w = np.asarray(w, dtype=float)
    return w - lr * (np.asarray(grad, dtype=float) + lam * np.sign(w))
''',
        "fails": ["test_l1_proximal_step", "test_l1_proximal_step_hidden"],
        "feedback": "not the proximal step",
    },
    {
        "name": "dropout not rescaled",
        "cell": "dropout",
        "source": '''def dropout(x, p, rng, training=True):
    x = np.asarray(x, dtype=float)
    if not training:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = rng.random(x.shape) >= p
    return np.where(mask, x, 0.0), mask
''',
        "fails": ["test_dropout", "test_dropout_hidden"],
        "feedback": "dropout not rescaled",
    },
    {
        "name": "dropout with p as the keep probability",
        "cell": "dropout",
        "source": '''def dropout(x, p, rng, training=True):
    x = np.asarray(x, dtype=float)
    if not training:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = rng.random(x.shape) < p
    return np.where(mask, x / (1.0 - p), 0.0), mask
''',
        "fails": ["test_dropout", "test_dropout_hidden"],
        "feedback": "p is the probability of DROPPING",
    },
    {
        "name": "dropout still active at evaluation",
        "cell": "dropout",
        "source": '''def dropout(x, p, rng, training=True):
    x = np.asarray(x, dtype=float)
    mask = rng.random(x.shape) >= p
    return np.where(mask, x / (1.0 - p), 0.0), mask
''',
        "fails": ["test_dropout", "test_dropout_hidden"],
        "feedback": "switched off at evaluation",
    },
    {
        "name": "batch norm using batch statistics at evaluation",
        "cell": "batch_norm_forward",
        "source": '''def batch_norm_forward(x, gamma, beta, running_mean, running_var, training,
                       momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    if training:
        running_mean *= 1.0 - momentum
        running_mean += momentum * mu
        running_var *= 1.0 - momentum
        running_var += momentum * var * n / (n - 1)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, True)
''',
        "fails": ["test_batch_norm_forward", "test_batch_norm_forward_hidden"],
        "feedback": "batch statistics at evaluation",
    },
    {
        "name": "batch norm feeding the biased variance to running_var",
        "cell": "batch_norm_forward",
        "source": '''def batch_norm_forward(x, gamma, beta, running_mean, running_var, training,
                       momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=float)
    if training:
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        running_mean *= 1.0 - momentum
        running_mean += momentum * mu
        running_var *= 1.0 - momentum
        running_var += momentum * var
    else:
        mu, var = np.array(running_mean), np.array(running_var)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, training)
''',
        "fails": ["test_batch_norm_forward", "test_batch_norm_forward_hidden"],
        "feedback": "unbiased batch variance",
    },
    {
        "name": "batch norm rebinding the running statistics instead of updating in place",
        "cell": "batch_norm_forward",
        "source": '''def batch_norm_forward(x, gamma, beta, running_mean, running_var, training,
                       momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=float)
    if training:
        n = x.shape[0]
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        running_mean = (1.0 - momentum) * running_mean + momentum * mu
        running_var = (1.0 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mu, var = np.array(running_mean), np.array(running_var)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, training)
''',
        "fails": ["test_batch_norm_forward", "test_batch_norm_forward_hidden"],
        "feedback": "update it in place",
    },
    {
        "name": "batch norm backward treating the batch statistics as constants",
        "cell": "batch_norm_backward",
        "source": '''def batch_norm_backward(dout, cache):
    xhat, gamma, inv_std, use_batch_stats = cache
    dout = np.asarray(dout, dtype=float)
    return dout * gamma * inv_std, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
        "fails": ["test_batch_norm_backward", "test_batch_norm_backward_hidden"],
        "feedback": "dx treats μ and σ² as constants",
    },
    {
        "name": "batch norm backward using the training formula in evaluation mode",
        "cell": "batch_norm_backward",
        "source": '''def batch_norm_backward(dout, cache):
    xhat, gamma, inv_std, use_batch_stats = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    n = dout.shape[0]
    dx = inv_std / n * (n * gh - gh.sum(axis=0) - xhat * (gh * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
        "fails": ["test_batch_norm_backward", "test_batch_norm_backward_hidden"],
        "feedback": "in evaluation mode the running statistics are constants",
    },
    {
        "name": "batch norm backward without the path through the mean",
        "cell": "batch_norm_backward",
        "source": '''def batch_norm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    if not training:
        return gh * inv_std, (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dx = inv_std * (gh - xhat * (gh * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
        "fails": ["test_batch_norm_backward", "test_batch_norm_backward_hidden"],
        "feedback": "the path through the mean μ is missing",
    },
    {
        "name": "layer norm over the batch axis",
        "cell": "layer_norm_forward",
        "source": '''def layer_norm_forward(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
''',
        "fails": ["test_layer_norm_forward", "test_layer_norm_forward_hidden"],
        "feedback": "normalised over the batch axis",
    },
    {
        "name": "layer norm forward whose cache drops the last axis of inv_std",
        "cell": "layer_norm_forward",
        "source": '''def layer_norm_forward(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std[..., 0])
''',
        "fails": ["test_layer_norm_forward", "test_layer_norm_forward_hidden"],
        "feedback": "expected shape (2, 1), got shape (2,)",
    },
    {
        "name": "layer norm backward with dgamma and dbeta not summed over the rows",
        "cell": "layer_norm_backward",
        "source": '''def layer_norm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    dx = inv_std * (gh - gh.mean(axis=-1, keepdims=True)
                    - xhat * (gh * xhat).mean(axis=-1, keepdims=True))
    return dx, dout * xhat, dout
''',
        "fails": ["test_layer_norm_backward", "test_layer_norm_backward_hidden"],
        "feedback": "dgamma is not summed over the rows",
    },
    {
        "name": "layer norm backward summing dgamma over the first axis only",
        "cell": "layer_norm_backward",
        "source": '''def layer_norm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    dx = inv_std * (gh - gh.mean(axis=-1, keepdims=True)
                    - xhat * (gh * xhat).mean(axis=-1, keepdims=True))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
        "fails": ["test_layer_norm_backward", "test_layer_norm_backward_hidden"],
        "feedback": "sum over every leading axis",
    },
    {
        "name": "layer norm backward without the mean-of-gradient terms",
        "cell": "layer_norm_backward",
        "source": '''def layer_norm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    d = xhat.shape[-1]
    return (dout * gamma * inv_std, (dout * xhat).reshape(-1, d).sum(axis=0),
            dout.reshape(-1, d).sum(axis=0))
''',
        "fails": ["test_layer_norm_backward", "test_layer_norm_backward_hidden"],
        "feedback": "mean-of-gradient terms are missing",
    },
    {
        "name": "layer norm backward with the unbiased variance (ddof=1) in the variance path",
        "cell": "layer_norm_backward",
        "source": '''def layer_norm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    d = xhat.shape[-1]
    gh = dout * gamma
    dx = inv_std * (gh - gh.mean(axis=-1, keepdims=True)
                    - xhat * (gh * xhat).sum(axis=-1, keepdims=True) / (d - 1))
    return dx, (dout * xhat).reshape(-1, d).sum(axis=0), dout.reshape(-1, d).sum(axis=0)
''',
        "fails": ["test_layer_norm_backward", "test_layer_norm_backward_hidden"],
        "feedback": "uses 1/(D-1) (ddof=1)",
    },
    {
        "name": "layer norm backward taking the sums over the batch axis",
        "cell": "layer_norm_backward",
        "source": '''def layer_norm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=float)
    gh = dout * gamma
    dx = inv_std * (gh - gh.mean(axis=0) - xhat * (gh * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
        "fails": ["test_layer_norm_backward", "test_layer_norm_backward_hidden"],
        "feedback": "as in batch norm",
    },
    {
        "name": "kaiming_normal drawing from a uniform distribution with the right std",
        "cell": "kaiming_normal",
        "source": '''def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    fan = fan_in if mode == "fan_in" else fan_out
    bound = np.sqrt(3.0) * np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan)
    return rng.uniform(-bound, bound, size=(fan_out, fan_in))
''',
        "fails": ["test_kaiming_normal", "test_kaiming_normal_hidden"],
        "feedback": "the weights look uniform",
    },
    {
        "name": "kaiming_normal ignoring mode",
        "cell": "kaiming_normal",
        "source": '''def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)
    return rng.normal(0.0, std, size=(fan_out, fan_in))
''',
        "fails": ["test_kaiming_normal", "test_kaiming_normal_hidden"],
        "feedback": "divides by fan_out",
    },
    {
        "name": "kaiming_normal without the ReLU gain",
        "cell": "kaiming_normal",
        "source": '''def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    fan = fan_in if mode == "fan_in" else fan_out
    return rng.normal(0.0, 1.0 / np.sqrt(fan), size=(fan_out, fan_in))
''',
        "fails": ["test_kaiming_normal", "test_kaiming_normal_hidden"],
        "feedback": "gain",
    },
    {
        "name": "kaiming_normal drawing from the global np.random",
        "cell": "kaiming_normal",
        "source": '''def kaiming_normal(fan_in, fan_out, rng, a=0.0, mode="fan_in"):
    fan = fan_in if mode == "fan_in" else fan_out
    std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan)
    return np.random.normal(0.0, std, size=(fan_out, fan_in))
''',
        "fails": ["test_kaiming_normal_hidden"],
        "feedback": "draw the weights with rng",
    },
    {
        "name": "gradient clipping per tensor",
        "cell": "clip_grad_norm",
        "source": '''def clip_grad_norm(grads, max_norm, norm_type=2.0):
    if isinstance(grads, np.ndarray):
        grads = [grads]
    norms = []
    for g in grads:
        n = float(np.max(np.abs(g))) if norm_type == np.inf else float(
            np.sum(np.abs(g) ** norm_type) ** (1.0 / norm_type))
        g *= min(1.0, max_norm / (n + 1e-6))
        norms.append(n)
    if norm_type == np.inf:
        return max(norms)
    return float(np.sum(np.array(norms) ** norm_type) ** (1.0 / norm_type))
''',
        "fails": ["test_clip_grad_norm", "test_clip_grad_norm_hidden"],
        "feedback": "each gradient was clipped on its own",
    },
    {
        "name": "early stopping off by one",
        "cell": "EarlyStopping",
        "source": '''class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.best_step = None
        self.counter = 0
        self.n_steps = 0

    def step(self, val_loss):
        loss = float(val_loss)
        if loss < self.best - self.min_delta:
            self.best, self.best_step, self.counter = loss, self.n_steps, 0
        else:
            self.counter += 1
        self.n_steps += 1
        return self.counter > self.patience
''',
        "fails": ["test_EarlyStopping", "test_EarlyStopping_hidden"],
        "feedback": "off by one",
    },
    {
        "name": "early stopping delegated to dlnotes",
        "cell": "EarlyStopping",
        "source": '''from dlnotes.regularization import EarlyStopping as _Stopper


class EarlyStopping(_Stopper):
    pass
''',
        "fails": ["test_EarlyStopping", "test_EarlyStopping_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
]
