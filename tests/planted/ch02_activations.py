"""Planted mistakes for the activations chapter."""

MISTAKES = [
    {
        "name": "naive sigmoid that overflows",
        "cell": "sigmoid",
        "source": '''def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
''',
        "fails": ["test_sigmoid_hidden"],
        "feedback": "the naive 1/(1 + exp(-x)) overflows",
    },
    {
        "name": "sigmoid with the sign of the exponent flipped",
        "cell": "sigmoid",
        "source": '''def sigmoid(x):
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x < 0, 1.0 / (1.0 + z), z / (1.0 + z))
''',
        "fails": ["test_sigmoid", "test_sigmoid_hidden"],
        "feedback": "wrong sign in the exponent",
    },
    {
        "name": "sigmoid_grad applied to x instead of sigmoid(x)",
        "cell": "sigmoid_grad",
        "source": '''def sigmoid_grad(x):
    x = np.asarray(x, dtype=float)
    return x * (1.0 - x)
''',
        "fails": ["test_sigmoid_grad", "test_sigmoid_grad_hidden"],
        "feedback": "you applied the formula to x itself",
    },
    {
        "name": "prelu_backward: da per element, not summed over the batch",
        "cell": "prelu_backward",
        "source": '''def prelu_backward(dout, x, a):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    slope = np.reshape(a, (-1,) + (1,) * (x.ndim - 2)) if np.ndim(a) > 0 else float(a)
    return np.where(x > 0, dout, slope * dout), dout * np.minimum(x, 0.0)
''',
        "fails": ["test_prelu_backward", "test_prelu_backward_hidden"],
        "feedback": "da must sum dout * min(x, 0) over every element",
    },
    {
        "name": "prelu_backward: da from dout * x (the positive side counted too)",
        "cell": "prelu_backward",
        "source": '''def prelu_backward(dout, x, a):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    if np.ndim(a) == 0:
        return np.where(x > 0, dout, a * dout), float(np.sum(dout * x))
    slope = np.reshape(a, (-1,) + (1,) * (x.ndim - 2))
    axes = tuple(i for i in range(x.ndim) if i != 1)
    return np.where(x > 0, dout, slope * dout), np.sum(dout * x, axis=axes)
''',
        "fails": ["test_prelu_backward", "test_prelu_backward_hidden"],
        "feedback": "only the negative side depends on a",
    },
    {
        "name": "prelu_backward: per-channel slopes broadcast along the last axis",
        "cell": "prelu_backward",
        "source": '''def prelu_backward(dout, x, a):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    contrib = dout * np.minimum(x, 0.0)
    if np.ndim(a) == 0:
        return np.where(x > 0, dout, a * dout), float(contrib.sum())
    axes = tuple(i for i in range(x.ndim) if i != 1)
    return np.where(x > 0, dout, np.asarray(a) * dout), contrib.sum(axis=axes)
''',
        "fails": ["test_prelu_backward", "test_prelu_backward_hidden"],
        "feedback": "the channel is axis 1",
    },
    {
        "name": "gelu_tanh_grad without the second term of the product rule",
        "cell": "gelu_tanh_grad",
        "source": '''def gelu_tanh_grad(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
''',
        "fails": ["test_gelu_tanh_grad", "test_gelu_tanh_grad_hidden"],
        "feedback": "the product rule has two terms",
    },
    {
        "name": "gelu_tanh_grad with d/dx x**3 = x**2",
        "cell": "gelu_tanh_grad",
        "source": '''def gelu_tanh_grad(x):
    x = np.asarray(x, dtype=float)
    c = np.sqrt(2.0 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 0.044715 * x ** 2)
''',
        "fails": ["test_gelu_tanh_grad", "test_gelu_tanh_grad_hidden"],
        "feedback": "the derivative of x**3 is 3 x**2",
    },
    {
        "name": "gelu_tanh_grad returning the exact GELU derivative",
        "cell": "gelu_tanh_grad",
        "source": '''def gelu_tanh_grad(x):
    from scipy.special import erf

    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
''',
        "fails": ["test_gelu_tanh_grad", "test_gelu_tanh_grad_hidden"],
        "feedback": "that is the derivative of the exact GELU",
    },
    {
        "name": "gelu_tanh_grad through cosh, which overflows at 800",
        "cell": "gelu_tanh_grad",
        "source": '''def gelu_tanh_grad(x):
    x = np.asarray(x, dtype=float)
    c = np.sqrt(2.0 / np.pi)
    u = c * (x + 0.044715 * x ** 3)
    return 0.5 * (1.0 + np.tanh(u)) + 0.5 * x * c * (1.0 + 0.134145 * x ** 2) / np.cosh(u) ** 2
''',
        "fails": ["test_gelu_tanh_grad_hidden"],
        "feedback": "avoid computing exp or cosh",
    },
    {
        "name": "GELU by the tanh approximation",
        "cell": "gelu",
        "source": '''def gelu(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
''',
        "fails": ["test_gelu", "test_gelu_hidden"],
        "feedback": "tanh approximation",
    },
    {
        "name": "GELU delegated to torch",
        "cell": "gelu",
        "source": '''def gelu(x):
    import torch
    return torch.nn.functional.gelu(torch.as_tensor(np.asarray(x, dtype=float))).numpy()
''',
        "fails": ["test_gelu", "test_gelu_hidden"],
        "feedback": "graded answers may not use torch",
        "status": "flagged",
    },
    {
        "name": "softmax without the max-shift",
        "cell": "softmax",
        "source": '''def softmax(x, axis=-1):
    e = np.exp(np.asarray(x, dtype=float))
    return e / np.sum(e, axis=axis, keepdims=True)
''',
        "fails": ["test_softmax", "test_softmax_hidden"],
        "feedback": "missing max-shift",
    },
    {
        "name": "softmax summing over every axis",
        "cell": "softmax",
        "source": '''def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x))
    return e / np.sum(e)
''',
        "fails": ["test_softmax", "test_softmax_hidden"],
        "feedback": "wrong axis",
    },
    {
        "name": "log_softmax as the log of the softmax",
        "cell": "log_softmax",
        "source": '''def log_softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return np.log(e / np.sum(e, axis=axis, keepdims=True))
''',
        "fails": ["test_log_softmax", "test_log_softmax_hidden"],
        "feedback": "take the log of the shifted form by hand",
    },
    {
        "name": "softmax_backward with the diagonal of the Jacobian only",
        "cell": "softmax_backward",
        "source": '''def softmax_backward(dout, y, axis=-1):
    dout, y = np.asarray(dout, dtype=float), np.asarray(y, dtype=float)
    return dout * y * (1 - y)
''',
        "fails": ["test_softmax_backward", "test_softmax_backward_hidden"],
        "feedback": "only the diagonal of the Jacobian",
    },
]
