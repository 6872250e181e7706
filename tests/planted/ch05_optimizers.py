"""Planted mistakes for the optimizers chapter."""

_SGD_INIT = '''class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.state = [{} for _ in self.params]
        self.t = 0
        if nesterov and momentum == 0:
            raise ValueError("nesterov needs momentum")
'''

_ADAMW_INIT = '''class AdamW:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        self.params = list(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]
        self.t = 0
'''

_ADAGRAD_INIT = '''class Adagrad:
    def __init__(self, params, lr=0.01, eps=1e-10):
        self.params = list(params)
        self.lr = lr
        self.eps = eps
        self.state = [{} for _ in self.params]
        self.t = 0
'''

_RMSPROP_INIT = '''class RMSprop:
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        self.params = list(params)
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.state = [{} for _ in self.params]
        self.t = 0
'''

_ADAM_INIT = '''class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]
        self.t = 0
'''


def _adam(bias_correction: str) -> str:
    return _ADAM_INIT + f'''
    def step(self, grads):
        b1, b2 = self.betas
        self.t += 1
        for p, g, s in zip(self.params, grads, self.state):
            g = np.asarray(g, dtype=float) + self.weight_decay * p
            s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
            s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
            {bias_correction}
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
'''


def _adamw(decay: str, bias_correction: str) -> str:
    return _ADAMW_INIT + f'''
    def step(self, grads):
        b1, b2 = self.betas
        self.t += 1
        for p, g, s in zip(self.params, grads, self.state):
            g = np.asarray(g, dtype=float)
            {decay}
            s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
            s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
            {bias_correction}
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
'''


_CORRECTED = 'm_hat, v_hat = s["m"] / (1 - b1 ** self.t), s["v"] / (1 - b2 ** self.t)'


_NESTEROV = "g + self.momentum * b if self.nesterov else b"


def _sgd(decay: str, direction: str, update: str, init: str = _SGD_INIT) -> str:
    return init + f'''
    def step(self, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            {decay}
            if self.momentum:
                b = self.state[i].get("momentum_buffer")
                b = g if b is None else self.momentum * b + g
                self.state[i]["momentum_buffer"] = b
                g = {direction}
            {update}
'''


_CHECK = """    if not 1 <= W < T:
        raise ValueError("bad warmup_steps")
"""
_RAMP = "base_lr * (1 / W + (1 - 1 / W) * t / W)"
_HOLD = """    if t > T:
        return eta_min
"""
_PHASE = "(t - W) / (T - W)"


def _warmup(check: str = _CHECK, ramp: str = _RAMP, hold: str = _HOLD,
            phase: str = _PHASE) -> str:
    return f"""def warmup_cosine_lr(t, base_lr, warmup_steps, total_steps, eta_min=0.0):
    W, T = warmup_steps, total_steps
{check}    if t < W:
        return {ramp}
{hold}    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * {phase})) / 2
"""


MISTAKES = [
    {
        "name": "gradient ascent: theta + lr * g",
        "cell": "gd_step",
        "source": '''def gd_step(w, b, X, y, lr):
    r = X @ w + b - y
    return w + lr * X.T @ r / len(y), float(b + lr * np.mean(r))
''',
        "fails": ["test_gd_step", "test_gd_step_hidden"],
        "feedback": "wrong sign",
    },
    {
        "name": "the 1/(n+1) average of a common note",
        "cell": "gd_step",
        "source": '''def gd_step(w, b, X, y, lr):
    r = X @ w + b - y
    n = len(y)
    return w - lr * X.T @ r / (n + 1), float(b - lr * np.sum(r) / (n + 1))
''',
        "fails": ["test_gd_step", "test_gd_step_hidden"],
        "feedback": "not N+1",
    },
    {
        "name": "mini-batch gradient divided by N instead of the batch size",
        "cell": "minibatch_gradient",
        "source": '''def minibatch_gradient(w, b, X, y, idx):
    r = X[idx] @ w + b - y[idx]
    return X[idx].T @ r / len(y), float(np.sum(r) / len(y))
''',
        "fails": ["test_minibatch_gradient", "test_minibatch_gradient_hidden"],
        "feedback": "divide by len(idx), not N",
    },
    {
        "name": "SGD that rebinds p instead of updating in place",
        "cell": "SGD",
        "source": _sgd("g = g + self.weight_decay * p", _NESTEROV, "p = p - self.lr * g"),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "in place (p -= ...)",
    },
    {
        "name": "momentum with the seed's sign: theta + v",
        "cell": "SGD",
        "source": _sgd("g = g + self.weight_decay * p", _NESTEROV, "p += self.lr * g"),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "wrong sign",
    },
    {
        "name": "SGD ignoring weight_decay",
        "cell": "SGD",
        "source": _sgd("pass", _NESTEROV, "p -= self.lr * g"),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "weight_decay is ignored",
    },
    {
        "name": "AdaGrad without accumulation",
        "cell": "Adagrad",
        "source": _ADAGRAD_INIT + '''
    def step(self, grads):
        for p, g in zip(self.params, grads):
            p -= self.lr * g / (np.sqrt(g * g) + self.eps)
''',
        "fails": ["test_Adagrad", "test_Adagrad_hidden"],
        "feedback": "no accumulation",
    },
    {
        "name": "RMSprop with the seed's eps inside the square root",
        "cell": "RMSprop",
        "source": _RMSPROP_INIT + '''
    def step(self, grads):
        for p, g, s in zip(self.params, grads, self.state):
            s["v"] = self.alpha * s.get("v", 0.0) + (1 - self.alpha) * g * g
            p -= self.lr * g / np.sqrt(s["v"] + self.eps)
''',
        "fails": ["test_RMSprop", "test_RMSprop_hidden"],
        "feedback": "ε inside the square root",
    },
    {
        "name": "RMSprop summing squared gradients like AdaGrad",
        "cell": "RMSprop",
        "source": _RMSPROP_INIT + '''
    def step(self, grads):
        for p, g, s in zip(self.params, grads, self.state):
            s["v"] = s.get("v", 0.0) + g * g
            p -= self.lr * g / (np.sqrt(s["v"]) + self.eps)
''',
        "fails": ["test_RMSprop", "test_RMSprop_hidden"],
        "feedback": "no decay",
    },
    {
        "name": "Adam without bias correction",
        "cell": "Adam",
        "source": _adam('m_hat, v_hat = s["m"], s["v"]'),
        "fails": ["test_Adam", "test_Adam_hidden"],
        "feedback": "missing bias correction",
    },
    {
        "name": "Adam bias correction with beta instead of beta**t",
        "cell": "Adam",
        "source": _adam('m_hat, v_hat = s["m"] / (1 - b1), s["v"] / (1 - b2)'),
        "fails": ["test_Adam", "test_Adam_hidden"],
        "feedback": "instead of β^t",
    },
    {
        "name": "Adam delegated to torch.optim.Adam",
        "cell": "Adam",
        "source": _ADAM_INIT + '''
    def step(self, grads):
        import torch
        if not hasattr(self, "_torch"):
            self._tensors = [torch.from_numpy(p) for p in self.params]
            self._torch = torch.optim.Adam(self._tensors, lr=self.lr, betas=self.betas,
                                           eps=self.eps, weight_decay=self.weight_decay)
        for t, g in zip(self._tensors, grads):
            t.grad = torch.as_tensor(np.asarray(g, dtype=float))
        self._torch.step()
''',
        "fails": ["test_Adam", "test_Adam_hidden"],
        "feedback": "graded answers may not use torch",
        "status": "flagged",
    },
    {
        "name": "SGD with weight decay added after the momentum buffer",
        "cell": "SGD",
        "source": _sgd("pass", _NESTEROV, "p -= self.lr * (g + self.weight_decay * p)"),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "weight decay added after the momentum buffer",
    },
    {
        "name": "SGD that ignores nesterov",
        "cell": "SGD",
        "source": _sgd("g = g + self.weight_decay * p", "b", "p -= self.lr * g"),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "nesterov is ignored",
    },
    {
        "name": "SGD accepting nesterov without momentum",
        "cell": "SGD",
        "source": _sgd("g = g + self.weight_decay * p", _NESTEROV, "p -= self.lr * g",
                       init=_SGD_INIT.replace("raise ValueError", "pass  #")),
        "fails": ["test_SGD", "test_SGD_hidden"],
        "feedback": "Nesterov needs a momentum",
    },
    {
        "name": "Adam incrementing self.t inside the loop over the parameters",
        "cell": "Adam",
        "source": _ADAM_INIT + '''
    def step(self, grads):
        b1, b2 = self.betas
        for p, g, s in zip(self.params, grads, self.state):
            self.t += 1
            g = np.asarray(g, dtype=float) + self.weight_decay * p
            s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
            s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
            m_hat = s["m"] / (1 - b1 ** self.t)
            v_hat = s["v"] / (1 - b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
''',
        "fails": ["test_Adam", "test_Adam_hidden"],
        "feedback": "self.t counts calls of step, not parameters",
    },
    {
        "name": "AdamW with an L2 penalty in the gradient (Adam's weight_decay)",
        "cell": "AdamW",
        "source": _adamw("g = g + self.weight_decay * p", _CORRECTED),
        "fails": ["test_AdamW", "test_AdamW_hidden"],
        "feedback": "L2 penalty in the gradient",
    },
    {
        "name": "AdamW without bias correction",
        "cell": "AdamW",
        "source": _adamw("p *= 1 - self.lr * self.weight_decay",
                         'm_hat, v_hat = s["m"], s["v"]'),
        "fails": ["test_AdamW", "test_AdamW_hidden"],
        "feedback": "missing bias correction",
    },
    {
        "name": "AdamW decaying by lambda instead of lr * lambda",
        "cell": "AdamW",
        "source": _adamw("p *= 1 - self.weight_decay", _CORRECTED),
        "fails": ["test_AdamW", "test_AdamW_hidden"],
        "feedback": "multiply λ by the learning rate",
    },
    {
        "name": "warm-up starting from 0",
        "cell": "warmup_cosine_lr",
        "source": _warmup(ramp="base_lr * t / W"),
        "fails": ["test_warmup_cosine_lr", "test_warmup_cosine_lr_hidden"],
        "feedback": "the warm-up starts at base_lr/W, not at 0",
    },
    {
        "name": "cosine phase counted from 0 instead of from the end of the warm-up",
        "cell": "warmup_cosine_lr",
        "source": _warmup(phase="t / T"),
        "fails": ["test_warmup_cosine_lr", "test_warmup_cosine_lr_hidden"],
        "feedback": "the cosine starts at t = W",
    },
    {
        "name": "schedule that does not hold eta_min after total_steps",
        "cell": "warmup_cosine_lr",
        "source": _warmup(hold=""),
        "fails": ["test_warmup_cosine_lr", "test_warmup_cosine_lr_hidden"],
        "feedback": "after total_steps the rate holds eta_min",
    },
    {
        "name": "warm-up schedule without the ValueError",
        "cell": "warmup_cosine_lr",
        "source": _warmup(check=""),
        "fails": ["test_warmup_cosine_lr", "test_warmup_cosine_lr_hidden"],
        "feedback": "should raise ValueError",
    },
    {
        "name": "largest stable rate from the diagonal of H",
        "cell": "q_stable_lr",
        "source": '''H_q = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 1.5]])
d = np.diag(H_q)
eta_max = 2 / d.max()
eta_best = 2 / (d.min() + d.max())
rate_best = (d.max() - d.min()) / (d.max() + d.min())
''',
        "fails": ["test_q_stable_lr", "test_q_stable_lr_hidden"],
        "feedback": "eigenvalues of H, not",
    },
    {
        "name": "best rate taken as 1/lambda_max",
        "cell": "q_stable_lr",
        "source": '''H_q = np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 1.5]])
lam = np.linalg.eigvalsh(H_q)
eta_max = 2 / lam.max()
eta_best = 1 / lam.max()
rate_best = 1 - lam.min() / lam.max()
''',
        "fails": ["test_q_stable_lr_hidden"],
        "feedback": "only lands the steepest direction in one step",
    },
]
