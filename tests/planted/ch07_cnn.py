"""Planted mistakes for the CNN chapter."""

_CONV_FORWARD = '''def conv2d_forward(x, w, b, stride=1, padding=0):
    x, w, b = (np.asarray(a, dtype=float) for a in (x, w, b))
    n, _, h, width = x.shape
    c_out, _, kh, kw = w.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (width + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, c_out, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, KERNEL, axes=([1, 2, 3], [1, 2, 3])) BIAS
    return out
'''

_CONV_BACKWARD = '''def conv2d_backward(dout, x, w, stride=1, padding=0):
    dout, x, w = (np.asarray(a, dtype=float) for a in (dout, x, w))
    h, width = x.shape[2:]
    kh, kw = w.shape[2:]
    oh, ow = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] ACCUMULATE np.tensordot(d, w, axes=([1], [0]))
    db = DB
    dx = DX
    return dx, dw, db
'''

_SOLUTION_DB = "dout.sum(axis=(0, 2, 3))"
_SOLUTION_DX = "dxp[:, :, padding:padding + h, padding:padding + width]"

_POOL_BACKWARD = '''def max_pool2d_backward(dout, x, kernel_size, stride=None):
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    k = kernel_size
    s = k if stride is None else stride
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + k, j * s:j * s + k]
            BODY
    return dx
'''

_TIES_BODY = '''mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j, None, None]'''

MISTAKES = [
    {
        "name": "output size without the padding",
        "cell": "conv2d_output_size",
        "source": '''def conv2d_output_size(size, kernel_size, padding=0, stride=1):
    return (size - kernel_size) // stride + 1
''',
        "fails": ["test_conv2d_output_size", "test_conv2d_output_size_hidden"],
        "feedback": "forgot the padding",
    },
    {
        "name": "output size rounded up",
        "cell": "conv2d_output_size",
        "source": '''def conv2d_output_size(size, kernel_size, padding=0, stride=1):
    import math
    return math.ceil((size + 2 * padding - kernel_size) / stride) + 1
''',
        "fails": ["test_conv2d_output_size", "test_conv2d_output_size_hidden"],
        "feedback": "rounded up",
    },
    {
        "name": "output size with true division",
        "cell": "conv2d_output_size",
        "source": '''def conv2d_output_size(size, kernel_size, padding=0, stride=1):
    return (size + 2 * padding - kernel_size) / stride + 1
''',
        "fails": ["test_conv2d_output_size", "test_conv2d_output_size_hidden"],
        "feedback": "divided with / instead of //",
    },
    {
        "name": "convolution with a flipped kernel",
        "cell": "conv2d_forward",
        "source": _CONV_FORWARD.replace("KERNEL", "w[:, :, ::-1, ::-1]").replace("BIAS", "+ b"),
        "fails": ["test_conv2d_forward", "test_conv2d_forward_hidden"],
        "feedback": "the kernel is flipped",
    },
    {
        "name": "convolution without the bias",
        "cell": "conv2d_forward",
        "source": _CONV_FORWARD.replace("KERNEL", "w").replace(" BIAS", ""),
        "fails": ["test_conv2d_forward", "test_conv2d_forward_hidden"],
        "feedback": "the bias b is missing",
    },
    {
        "name": "conv backward overwriting dx where windows overlap",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("ACCUMULATE", "=").replace("DB", _SOLUTION_DB)
                                .replace("DX", _SOLUTION_DX),
        "fails": ["test_conv2d_backward", "test_conv2d_backward_hidden"],
        "feedback": "overwritten (=) where windows overlap",
    },
    {
        "name": "conv backward averaging db over the batch",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("ACCUMULATE", "+=")
                                .replace("DB", "dout.sum(axis=(0, 2, 3)) / dout.shape[0]")
                                .replace("DX", _SOLUTION_DX),
        "fails": ["test_conv2d_backward_hidden"],
        "feedback": "db must sum dout over the batch",
    },
    {
        "name": "conv backward without cropping the padding from dx",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("ACCUMULATE", "+=").replace("DB", _SOLUTION_DB)
                                .replace("DX", "dxp"),
        "fails": ["test_conv2d_backward_hidden"],
        "feedback": "dx still has the padding border",
    },
    {
        "name": "max pool with stride 1 by default",
        "cell": "max_pool2d_forward",
        "source": '''def max_pool2d_forward(x, kernel_size, stride=None):
    x = np.asarray(x, dtype=float)
    k = kernel_size
    s = 1 if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out
''',
        "fails": ["test_max_pool2d_forward", "test_max_pool2d_forward_hidden"],
        "feedback": "stride=None must mean stride = kernel_size",
    },
    {
        "name": "max pool backward giving the gradient to every tied maximum",
        "cell": "max_pool2d_backward",
        "source": _POOL_BACKWARD.replace("BODY", _TIES_BODY),
        "fails": ["test_max_pool2d_backward", "test_max_pool2d_backward_hidden"],
        "feedback": "with ties, only the first maximum",
    },
    {
        "name": "max pool backward overwriting where windows overlap",
        "cell": "max_pool2d_backward",
        "source": _POOL_BACKWARD.replace("BODY", '''for a in range(x.shape[0]):
                for b in range(x.shape[1]):
                    kk, ll = divmod(int(np.argmax(win[a, b])), k)
                    dx[a, b, i * s + kk, j * s + ll] = dout[a, b, i, j]'''),
        "fails": ["test_max_pool2d_backward_hidden"],
        "feedback": "where windows overlap; accumulate the routed gradients",
    },
    {
        "name": "parameter count without the biases",
        "cell": "q_params",
        "source": '''conv2_params = 32 * 16 * 3 * 3
flatten_features = 32 * 2 * 2
total_params = 16 * 9 + conv2_params + flatten_features * 10
''',
        "fails": ["test_q_params"],
        "feedback": "the bias (one per output channel) is missing",
    },
]
