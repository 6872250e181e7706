"""Planted mistakes for the backpropagation chapter."""

from planted import solution


def _solution(grade_id: str) -> str:
    return solution("04_backprop", grade_id)


# The solutions of the two engine exercises; each mistake below changes one thing in them.
_VALUE = _solution("Value")
_BACKWARD = _VALUE[_VALUE.index("    def backward(self):"):]
_TRAIN = _solution("train_moons")


def _edit(source: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        if old not in source:
            raise ValueError(f"planted mistake: {old!r} is not in the solution")
        source = source.replace(old, new)
    return source


def _value(*changes):
    return _edit(_VALUE, *changes)


def _train(*changes):
    return _edit(_TRAIN, *changes)


MISTAKES = [
    {
        "name": "one-weight step with the sign of the gradient flipped",
        "cell": "one_weight_step",
        "source": '''def one_weight_step(x, W, b, y, lr):
    y_hat = W * x + b
    loss = 0.5 * (y_hat - y) ** 2
    dL_dW = (y - y_hat) * x
    dL_db = y - y_hat
    return loss, dL_dW, dL_db, W - lr * dL_dW, b - lr * dL_db
''',
        "fails": ["test_one_weight_step", "test_one_weight_step_hidden"],
        "feedback": "the gradient has the wrong sign",
    },
    {
        "name": "MSE question answered with the half squared error's numbers",
        "cell": "q_mse_step",
        "source": '''dL_dW_mse = 4.5
W_new_mse = 0.275
''',
        "fails": ["test_q_mse_step"],
        "feedback": "that is the gradient of the half squared error",
    },
    {
        "name": "sigmoid applied twice, sigma(out)(1 - sigma(out))",
        "cell": "sigmoid_net_backward",
        "source": '''def sigmoid_net_backward(x, target, W1, b1, W2, b2):
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    out_h = sig(W1 @ x + b1)
    out_o = sig(W2 @ out_h + b2)
    delta_o = (out_o - target) * sig(out_o) * (1 - sig(out_o))
    delta_h = (W2.T @ delta_o) * sig(out_h) * (1 - sig(out_h))
    return np.outer(delta_h, x), delta_h, np.outer(delta_o, out_h), delta_o
''',
        "fails": ["test_sigmoid_net_backward", "test_sigmoid_net_backward_hidden"],
        "feedback": "the sigmoid is applied twice",
    },
    {
        "name": "the (out - target) factor dropped",
        "cell": "sigmoid_net_backward",
        "source": '''def sigmoid_net_backward(x, target, W1, b1, W2, b2):
    out_h = 1.0 / (1.0 + np.exp(-(W1 @ x + b1)))
    out_o = 1.0 / (1.0 + np.exp(-(W2 @ out_h + b2)))
    delta_o = out_o * (1 - out_o)
    delta_h = (W2.T @ delta_o) * out_h * (1 - out_h)
    return np.outer(delta_h, x), delta_h, np.outer(delta_o, out_h), delta_o
''',
        "fails": ["test_sigmoid_net_backward", "test_sigmoid_net_backward_hidden"],
        "feedback": "dropped the (out - target) factor",
    },
    {
        "name": "hidden delta through W2 instead of W2.T",
        "cell": "sigmoid_net_backward",
        "source": '''def sigmoid_net_backward(x, target, W1, b1, W2, b2):
    out_h = 1.0 / (1.0 + np.exp(-(W1 @ x + b1)))
    out_o = 1.0 / (1.0 + np.exp(-(W2 @ out_h + b2)))
    delta_o = (out_o - target) * out_o * (1 - out_o)
    delta_h = (W2 @ delta_o) * out_h * (1 - out_h)
    return np.outer(delta_h, x), delta_h, np.outer(delta_o, out_h), delta_o
''',
        "fails": ["test_sigmoid_net_backward", "test_sigmoid_net_backward_hidden"],
        "feedback": "W2.T @ delta_o",
    },
    {
        "name": "forward difference instead of central difference",
        "cell": "numerical_gradient",
        "source": '''def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    fx = f(x)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += eps
        grad[idx] = (f(xp) - fx) / eps
    return grad
''',
        "fails": ["test_numerical_gradient", "test_numerical_gradient_hidden"],
        "feedback": "use the central difference",
    },
    {
        "name": "numerical gradient that leaves the caller's x perturbed",
        "cell": "numerical_gradient",
        "source": '''def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        f_minus = f(x)
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
        "fails": ["test_numerical_gradient", "test_numerical_gradient_hidden"],
        "feedback": "perturb a copy, or restore every entry",
    },
    {
        "name": "Value rules that assign (=) instead of accumulating (+=)",
        "cell": "Value",
        "source": _value(("self.grad += ", "self.grad = "), ("other.grad += ", "other.grad = ")),
        "fails": ["test_Value", "test_Value_hidden", "test_train_moons",
                  "test_train_moons_hidden"],
        "feedback": "the gradients did not add up",
    },
    {
        # the MLP's inner nodes are each used once, so the order only matters for test_Value
        "name": "Value.backward in breadth-first order, not reverse topological order",
        "cell": "Value",
        "source": _value((_BACKWARD, '''    def backward(self):
        self.grad = 1.0
        seen, queue = set(), [self]
        while queue:
            node = queue.pop(0)
            if node not in seen:
                seen.add(node)
                node._backward()
                queue.extend(node._prev)
''')),
        "fails": ["test_Value", "test_Value_hidden"],
        "feedback": "run the rules in reverse topological order",
    },
    {
        "name": "Value.backward that recurses without a visited set",
        "cell": "Value",
        "source": _value((_BACKWARD, '''    def backward(self):
        self.grad = 1.0
        self._send()

    def _send(self):
        self._backward()
        for child in self._prev:
            child._send()
''')),
        "fails": ["test_Value", "test_Value_hidden"],
        "feedback": "passed its gradient on more than once",
    },
    {
        "name": "tanh rule applies tanh to its output again",
        "cell": "Value",
        "source": _value(("(1.0 - out.data ** 2) * out.grad",
                          "(1.0 - math.tanh(out.data) ** 2) * out.grad")),
        "fails": ["test_Value", "test_Value_hidden", "test_train_moons",
                  "test_train_moons_hidden"],
        "feedback": "out is already tanh(x)",
    },
    {
        "name": "relu rule with derivative 1 at 0",
        "cell": "Value",
        "source": _value(("(out.grad if self.data > 0 else 0.0)",
                          "(out.grad if self.data >= 0 else 0.0)")),
        "fails": ["test_Value", "test_Value_hidden"],
        "feedback": "derivative at 0 is 0",
    },
    {
        "name": "Value.backward that resets every grad first",
        "cell": "Value",
        "source": _value(("        visit(self)\n",
                          "        visit(self)\n        for node in order:\n"
                          "            node.grad = 0.0\n")),
        "fails": ["test_Value_hidden"],
        "feedback": "gradients accumulate across calls",
    },
    {
        "name": "train_moons without resetting the grads",
        "cell": "train_moons",
        "source": _train(("        for p in params:\n            p.grad = 0.0\n", "")),
        "fails": ["test_train_moons", "test_train_moons_hidden"],
        "feedback": "the grads were not reset to 0",
    },
    {
        "name": "train_moons climbing the loss",
        "cell": "train_moons",
        "source": _train(("p.data -= lr * p.grad", "p.data += lr * p.grad")),
        "fails": ["test_train_moons", "test_train_moons_hidden"],
        "feedback": "the update climbs",
    },
    {
        "name": "train_moons with the summed loss",
        "cell": "train_moons",
        "source": _train((" * (1.0 / len(rows))", "")),
        "fails": ["test_train_moons", "test_train_moons_hidden"],
        "feedback": "sum over the points",
    },
    {
        "name": "matrix backward of the summed (not mean) loss",
        "cell": "mlp_backward",
        "source": '''def mlp_backward(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    H = np.tanh(X @ W1.T + b1)
    S = H @ W2.T + b2
    S = S - S.max(axis=1, keepdims=True)
    log_p = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    loss = float(-log_p[np.arange(n), y].mean())
    dS = np.exp(log_p)
    dS[np.arange(n), y] -= 1.0
    dZ1 = (dS @ W2) * (1.0 - H ** 2)
    return loss, dZ1.T @ X, dZ1.sum(axis=0), dS.T @ H, dS.sum(axis=0)
''',
        "fails": ["test_mlp_backward", "test_mlp_backward_hidden"],
        "feedback": "the gradient of the mean loss carries 1/N",
    },
    {
        "name": "matrix backward delegated to torch autograd",
        "cell": "mlp_backward",
        "source": '''def mlp_backward(X, y, W1, b1, W2, b2):
    import torch
    P = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in (W1, b1, W2, b2)]
    H = torch.tanh(torch.tensor(X) @ P[0].T + P[1])
    loss = torch.nn.functional.cross_entropy(H @ P[2].T + P[3], torch.tensor(y))
    loss.backward()
    return (loss.item(),) + tuple(p.grad.numpy() for p in P)
''',
        "fails": ["test_mlp_backward", "test_mlp_backward_hidden"],
        "feedback": "graded answers may not use torch",
        "status": "flagged",
    },
]
