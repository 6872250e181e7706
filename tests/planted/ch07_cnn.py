"""Planted mistakes for the CNN chapter."""

_STACK = '''def stack_geometry(size, layers):
    result = []
    field, jump = 1, 1
    for k, s, p in layers:
        size = (size + 2 * p - k) // s + 1
        BODY
        result.append((size, field))
    return result
'''

_IM2COL = '''def im2col(x, kernel_size, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, kh, kw, oh, ow))
    for k in range(kh):
        for l in range(kw):
            cols[:, :, k, l] = xp[:, :, k:k + stride * oh:stride, l:l + stride * ow:stride]
    return RESULT
'''

_COL2IM = '''def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    n, c, h, w = x_shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    cols = np.asarray(cols, dtype=float).reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for k in range(kh):
        for l in range(kw):
            xp[:, :, k:k + stride * oh:stride, l:l + stride * ow:stride] ADD cols[:, :, k, l]
    return RESULT
'''

_CONV_FORWARD = '''def conv2d_forward(x, w, b, im2col, stride=1, padding=0):
    x, w, b = (np.asarray(a, dtype=float) for a in (x, w, b))
    n, _, h, width = x.shape
    c_out, _, kh, kw = w.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (width + 2 * padding - kw) // stride + 1
    cols = im2col(x, (kh, kw), stride, padding)
    out = KERNEL @ cols BIAS
    return out.reshape(n, c_out, oh, ow)
'''

_CONV_BACKWARD = '''def conv2d_backward(dout, x, w, im2col, col2im, stride=1, padding=0):
    dout, x, w = (np.asarray(a, dtype=float) for a in (dout, x, w))
    n, c_out = dout.shape[:2]
    cols = im2col(x, w.shape[2:], stride, padding)
    d = dout.reshape(n, c_out, -1)
    db = DB
    dw = DW
    dcols = w.reshape(c_out, -1).T @ d
    dx = col2im(dcols, x.shape, w.shape[2:], stride, padding)
    return dx, dw, db
'''
_DB = "d.sum(axis=(0, 2))"
_DW = "(d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)"

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

_SOLVED_COLS = "cols.reshape(n, c * kh * kw, oh * ow)"
_CROPPED = "xp[:, :, padding:padding + h, padding:padding + w]"

MISTAKES = [
    {
        "name": "receptive field that ignores the strides below",
        "cell": "stack_geometry",
        "source": _STACK.replace("BODY", "field += k - 1"),
        "fails": ["test_stack_geometry", "test_stack_geometry_hidden"],
        "feedback": "each layer adds (K - 1) steps of the previous layer",
    },
    {
        "name": "receptive field that uses the layer's own stride",
        "cell": "stack_geometry",
        "source": _STACK.replace("BODY", "jump *= s\n        field += (k - 1) * jump"),
        "fails": ["test_stack_geometry", "test_stack_geometry_hidden"],
        "feedback": "own stride does not widen its own units",
    },
    {
        "name": "one big kernel that forgets the first stride",
        "cell": "q_kernels",
        "source": '''kernel_b = 5
params_a = 2 * (16 * 16 * 3 * 3 + 16)
params_b = 16 * 16 * kernel_b * kernel_b + 16
''',
        "fails": ["test_q_kernels"],
        "feedback": "makes the second kernel take steps of 2 input pixels",
    },
    {
        "name": "im2col with the rows in (k, l, c) order",
        "cell": "im2col",
        "source": _IM2COL.replace(
            "RESULT", "cols.transpose(0, 2, 3, 1, 4, 5).reshape(n, c * kh * kw, oh * ow)"),
        "fails": ["test_im2col", "test_im2col_hidden"],
        "feedback": "the rows are in the order (k, l, c)",
    },
    {
        "name": "im2col reading each window column by column",
        "cell": "im2col",
        "source": _IM2COL.replace(
            "RESULT", "cols.transpose(0, 1, 3, 2, 4, 5).reshape(n, c * kh * kw, oh * ow)"),
        "fails": ["test_im2col", "test_im2col_hidden"],
        "feedback": "the entries of a window are taken column by column",
    },
    {
        "name": "im2col from sliding windows reshaped without reordering the axes",
        "cell": "im2col",
        "source": '''def im2col(x, kernel_size, stride=1, padding=0):
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    p = padding
    xp = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    n, c, oh, ow = win.shape[:4]
    return win.reshape(n, c * kh * kw, oh * ow)
''',
        "fails": ["test_im2col", "test_im2col_hidden"],
        "feedback": "reshape alone only regroups the numbers",
    },
    {
        "name": "im2col without the padding",
        "cell": "im2col",
        "source": _IM2COL.replace("(padding, padding), (padding, padding)", "(0, 0), (0, 0)")
                         .replace("2 * padding", "0").replace("RESULT", _SOLVED_COLS),
        "fails": ["test_im2col", "test_im2col_hidden"],
        "feedback": "the padding is missing",
    },
    {
        "name": "col2im assigning instead of adding",
        "cell": "col2im",
        "source": _COL2IM.replace("ADD", "=").replace("RESULT", _CROPPED),
        "fails": ["test_col2im", "test_col2im_hidden"],
        "feedback": "add with += instead of assigning with =",
    },
    {
        "name": "col2im keeping the padding border",
        "cell": "col2im",
        "source": _COL2IM.replace("ADD", "+=").replace("RESULT", "xp"),
        "fails": ["test_col2im", "test_col2im_hidden"],
        "feedback": "the padding border is still there",
    },
    {
        "name": "convolution without the bias",
        "cell": "conv2d_forward",
        "source": _CONV_FORWARD.replace("KERNEL", "w.reshape(c_out, -1)").replace(" BIAS", ""),
        "fails": ["test_conv2d_forward", "test_conv2d_forward_hidden"],
        "feedback": "the bias b is missing",
    },
    {
        "name": "convolution with the kernels flattened as (k, l, c)",
        "cell": "conv2d_forward",
        "source": _CONV_FORWARD.replace("KERNEL", "w.transpose(0, 2, 3, 1).reshape(c_out, -1)")
                               .replace("BIAS", "+ b[:, None]"),
        "fails": ["test_conv2d_forward", "test_conv2d_forward_hidden"],
        "feedback": "flattened in another order than the rows of im2col",
    },
    {
        "name": "convolution with a flipped kernel",
        "cell": "conv2d_forward",
        "source": _CONV_FORWARD.replace("KERNEL", "w[:, :, ::-1, ::-1].reshape(c_out, -1)")
                               .replace("BIAS", "+ b[:, None]"),
        "fails": ["test_conv2d_forward", "test_conv2d_forward_hidden"],
        "feedback": "the kernel is flipped",
    },
    {
        "name": "conv backward averaging db over the batch",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("DB", "d.sum(axis=(0, 2)) / n").replace("DW", _DW),
        "fails": ["test_conv2d_backward", "test_conv2d_backward_hidden"],
        "feedback": "db must also sum over the batch",
    },
    {
        "name": "conv backward averaging dw over the batch",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("DB", _DB).replace("DW", "(d @ cols.transpose(0, 2, 1))"
                                                                 ".mean(axis=0).reshape(w.shape)"),
        "fails": ["test_conv2d_backward", "test_conv2d_backward_hidden"],
        "feedback": "dw must sum over the images of the batch, not average them",
    },
    {
        "name": "conv backward taking dw from the first image only",
        "cell": "conv2d_backward",
        "source": _CONV_BACKWARD.replace("DB", _DB)
                                .replace("DW", "(d[0] @ cols[0].T).reshape(w.shape)"),
        "fails": ["test_conv2d_backward", "test_conv2d_backward_hidden"],
        "feedback": "not only the first",
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
]
