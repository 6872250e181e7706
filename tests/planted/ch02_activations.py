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
        "name": "tanh_grad without the square",
        "cell": "tanh_grad",
        "source": '''def tanh_grad(x):
    return 1.0 - np.tanh(np.asarray(x, dtype=float))
''',
        "fails": ["test_tanh_grad", "test_tanh_grad_hidden"],
        "feedback": "missing the square",
    },
    {
        "name": "relu_grad(0) = 1",
        "cell": "relu_grad",
        "source": '''def relu_grad(x):
    return (np.asarray(x, dtype=float) >= 0).astype(float)
''',
        "fails": ["test_relu_grad", "test_relu_grad_hidden"],
        "feedback": "the derivative at 0 must be 0",
    },
    {
        "name": "leaky_relu ignoring negative_slope",
        "cell": "leaky_relu",
        "source": '''def leaky_relu(x, negative_slope=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, 0.01 * x)
''',
        "fails": ["test_leaky_relu", "test_leaky_relu_hidden"],
        "feedback": "negative_slope is ignored",
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
        "fails": ["test_softmax_hidden"],
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
        "fails": ["test_log_softmax_hidden"],
        "feedback": "use the log-sum-exp trick",
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
