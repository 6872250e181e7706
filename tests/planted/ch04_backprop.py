"""Planted mistakes for the backpropagation chapter."""

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
        "source": '''dL_dW_mse = 4.0
W_new_mse = 0.6
''',
        "fails": ["test_q_mse_step"],
        "feedback": "that is the gradient of the half squared error",
    },
    {
        "name": "seed 004: sigmoid applied twice, sigma(out)(1 - sigma(out))",
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
        "name": "seed 004: the (out - target) factor dropped",
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
        "name": "pow rule without lowering the exponent",
        "cell": "pow_backward",
        "source": '''def pow_backward(a, k, dout):
    return k * a ** k * dout
''',
        "fails": ["test_pow_backward", "test_pow_backward_hidden"],
        "feedback": "the exponent drops by one",
    },
    {
        "name": "seed 004 in the engine: sigmoid rule applies the sigmoid to its output",
        "cell": "sigmoid_backward",
        "source": '''def sigmoid_backward(out, dout):
    s = 1.0 / (1.0 + math.exp(-out))
    return s * (1.0 - s) * dout
''',
        "fails": ["test_sigmoid_backward", "test_sigmoid_backward_hidden"],
        "feedback": "out is already sigmoid(a)",
    },
    {
        "name": "relu rule with relu'(0) = 1",
        "cell": "relu_backward",
        "source": '''def relu_backward(a, dout):
    return dout if a >= 0 else 0.0
''',
        "fails": ["test_relu_backward", "test_relu_backward_hidden"],
        "feedback": "the derivative at a = 0 must be 0",
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
