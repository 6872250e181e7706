r"""Convolution, pooling and flatten layers in numpy (NCHW, torch layout).

Every layer follows the CS231n pattern: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``. Tensors are laid out exactly as in torch,
``x`` is ``(N, C, H, W)`` and a convolution's weights are
``(C_out, C_in, KH, KW)``, so weights copy across unchanged.

A "convolution" here, as in torch and every deep-learning library, is a
*cross-correlation*: the kernel is not flipped.

Along each spatial axis a window of size :math:`K` with padding :math:`P` and
stride :math:`S` fits

.. math::

    H_{out} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1

times (:func:`conv2d_output_size`). Rows or columns at the bottom/right that no
window reaches (when :math:`S` does not divide :math:`H + 2P - K`) are ignored
and get a zero gradient, as in torch.

The fast path is :func:`im2col` (copy every receptive field into a column, so
the convolution becomes one matrix product) and :func:`col2im` (its adjoint,
which scatters the columns back by looping over the ``KH * KW`` kernel offsets
only; each offset is one slice of a flat "canvas" of the padded image).
:func:`conv2d_forward_naive` is the same convolution written as explicit
loops, for teaching.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlnotes._validation import as_common_float, as_float_array, check_dout, check_positive_int

__all__ = [
    "conv2d_output_size",
    "stack_geometry",
    "im2col",
    "col2im",
    "conv2d_forward_naive",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_cols",
    "conv2d_backward_cols",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "max_pool2d",
    "max_pool2d_grad",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "flatten_forward",
    "flatten_backward",
]


# --------------------------------------------------------------------------- #
# input checks
# --------------------------------------------------------------------------- #
def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    """``k`` -> ``(k, k)``; ``(kh, kw)`` -> ``(kh, kw)``; each an int >= minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return (check_positive_int(value[0], f"{name}[0]", minimum),
                check_positive_int(value[1], f"{name}[1]", minimum))
    v = check_positive_int(value, name, minimum)
    return v, v


def _check_nonempty_spatial(x: np.ndarray, name: str) -> None:
    if 0 in x.shape[1:]:
        raise ValueError(f"{name} must have C, H, W >= 1, got shape {x.shape}")


# --------------------------------------------------------------------------- #
# output size, im2col, col2im
# --------------------------------------------------------------------------- #
def conv2d_output_size(size, kernel_size, padding=0, stride=1) -> int:
    r"""Number of positions a window takes along one spatial axis.

    .. math::

        \text{out} = \left\lfloor \frac{\text{size} + 2P - K}{S} \right\rfloor + 1

    The same formula gives the output height/width of a convolution or a
    pooling layer (with dilation 1).

    Parameters
    ----------
    size : int
        Input length along the axis (``H`` or ``W``), ``>= 1``.
    kernel_size : int
        Window length ``K``, ``>= 1``.
    padding : int, default 0
        Zeros added on *each* side, ``P >= 0``.
    stride : int, default 1
        Step between windows, ``S >= 1``.

    Returns
    -------
    int
        The output length, ``>= 1``.

    Raises
    ------
    ValueError
        If an argument is not an integer in range (the message names it), or if
        ``kernel_size > size + 2 * padding`` (no window fits).

    Examples
    --------
    >>> conv2d_output_size(28, 3, padding=1)
    28
    >>> conv2d_output_size(7, 3, padding=0, stride=2)
    3
    >>> conv2d_output_size(6, 3, padding=1, stride=2)  # floor((6 + 2 - 3) / 2) + 1
    3
    """
    size = check_positive_int(size, "size", 1)
    kernel_size = check_positive_int(kernel_size, "kernel_size", 1)
    padding = check_positive_int(padding, "padding", 0)
    stride = check_positive_int(stride, "stride", 1)
    if kernel_size > size + 2 * padding:
        raise ValueError(
            f"kernel_size={kernel_size} is larger than the padded input "
            f"size + 2*padding = {size + 2 * padding}"
        )
    return (size + 2 * padding - kernel_size) // stride + 1


def stack_geometry(size, layers) -> list[tuple[int, int]]:
    r"""Output size and receptive field after each layer of a stack of windows.

    Each layer is a window ``(kernel_size, stride, padding)`` (a convolution
    or a pooling layer, square, dilation 1). With :math:`j_l` the *jump*, the
    distance in input pixels between two neighbouring units of layer
    :math:`l` (:math:`j_0 = 1`), and :math:`r_l` the receptive field, the
    side of the input patch one unit of layer :math:`l` depends on
    (:math:`r_0 = 1`),

    .. math::

        n_l = \left\lfloor \frac{n_{l-1} + 2P_l - K_l}{S_l} \right\rfloor + 1, \qquad
        r_l = r_{l-1} + (K_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1} S_l .

    Parameters
    ----------
    size : int
        Input height (or width) ``n_0``, ``>= 1``.
    layers : sequence of (int, int, int)
        ``(kernel_size, stride, padding)`` per layer, in order; ``K >= 1``,
        ``S >= 1``, ``P >= 0``.

    Returns
    -------
    list of (int, int)
        ``(n_l, r_l)`` for ``l = 1 .. len(layers)``.

    Raises
    ------
    ValueError
        If a layer is not three integers in range (the message names it), or
        a window does not fit the padded input of its layer.

    Examples
    --------
    >>> stack_geometry(8, [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)])
    [(8, 3), (4, 4), (4, 8), (2, 10)]
    """
    size = check_positive_int(size, "size", 1)
    out = []
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 3:
            raise ValueError(f"layers[{i}] must be (kernel_size, stride, padding), got {layer!r}")
        k = check_positive_int(layer[0], f"layers[{i}] kernel_size", 1)
        s = check_positive_int(layer[1], f"layers[{i}] stride", 1)
        p = check_positive_int(layer[2], f"layers[{i}] padding", 0)
        if k > size + 2 * p:
            raise ValueError(f"layers[{i}]: kernel_size={k} is larger than its padded input "
                             f"{size} + 2*{p} = {size + 2 * p}")
        size = (size + 2 * p - k) // s + 1
        field, jump = field + (k - 1) * jump, jump * s
        out.append((size, field))
    return out


def _output_hw(x_shape, kernel, padding, stride, kernel_name: str) -> tuple[int, int]:
    """Output (OH, OW), with an error naming ``kernel_name`` if no window fits."""
    (kh, kw), (ph, pw), (sh, sw) = kernel, padding, stride
    hp, wp = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw
    if kh > hp or kw > wp:
        raise ValueError(
            f"{kernel_name} has kernel size ({kh}, {kw}), larger than the padded input "
            f"(H + 2*padding, W + 2*padding) = ({hp}, {wp})"
        )
    return (hp - kh) // sh + 1, (wp - kw) // sw + 1


def _pad(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


# im2col columns are built a few images at a time so that they stay in the CPU
# cache and reuse the same small buffers (one big (N, C*KH*KW, OH*OW) array is
# slower: more memory traffic and fresh pages from the OS on every call).
_BATCH_BYTES = 1 << 20


def _batches(n: int, bytes_per_image: int) -> list[slice]:
    """Split ``range(n)`` into slices of about ``_BATCH_BYTES`` of im2col columns."""
    step = max(1, _BATCH_BYTES // max(1, bytes_per_image))
    return [slice(start, start + step) for start in range(0, n, step)]


class _Canvas(NamedTuple):
    """Geometry of the flat layout that turns every window offset into one slice.

    The zero-padded image is stored in a canvas of ``rows x width`` pixels,
    flattened per channel. Window ``(i, j)`` at kernel offset ``(k, l)`` reads
    flat index ``S_w (i W_q + j) + k width + l`` once ``S_h width = S_w W_q``:
    for each offset the columns of *all* windows are one strided slice of the
    flat canvas, copied in a single numpy call (im2col, and col2im before a sum)
    instead of one small call per image row. The price: each output row has
    ``W_q >= OW`` positions, the ``W_q - OW`` extra ones (the "wide" columns)
    read padding or neighbouring pixels and are thrown away in the forward
    pass and get a zero gradient in the backward pass.
    """

    oh: int
    ow: int
    wq: int         #: positions per output row, OW real ones then junk
    rows: int
    width: int


def _canvas_geometry(x_shape, kernel, stride, padding) -> _Canvas:
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    hp, wp = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    m = -(-wp // sw)                                    # ceil(wp / sw)
    width, wq = sw * m, sh * m                          # so that S_h width = S_w W_q
    length = sw * (oh * wq - 1) + (kh - 1) * width + kw     # flat pixels the slices reach
    return _Canvas(oh, ow, wq, max(hp, -(-length // width)), width)


def _to_canvas(x: np.ndarray, geo: _Canvas, padding) -> np.ndarray:
    """A new zero canvas ``(N, C, rows * width)`` with ``x`` placed at ``(P_h, P_w)``."""
    n, c, h, w = x.shape
    (ph, pw) = padding
    canvas = np.zeros((n, c, geo.rows, geo.width), dtype=x.dtype)
    canvas[:, :, ph:ph + h, pw:pw + w] = x
    return canvas.reshape(n, c, geo.rows * geo.width)


def _from_canvas(canvas: np.ndarray, geo: _Canvas, x_shape, padding) -> np.ndarray:
    """The ``(N, C, H, W)`` image inside a flat canvas (a copy)."""
    (ph, pw), (h, w) = padding, x_shape[2:]
    grid = canvas.reshape(*canvas.shape[:2], geo.rows, geo.width)
    return np.ascontiguousarray(grid[:, :, ph:ph + h, pw:pw + w])


def _offset_slices(geo: _Canvas, kernel, stride) -> list[slice]:
    """For each kernel offset ``(k, l)`` (row-major) the flat slice of all its window entries."""
    (kh, kw), sw, n_pos = kernel, stride[1], geo.oh * geo.wq
    return [slice(k * geo.width + l, k * geo.width + l + sw * (n_pos - 1) + 1, sw)
            for k in range(kh) for l in range(kw)]


def _gather(canvas: np.ndarray, geo: _Canvas, kernel, stride) -> np.ndarray:
    """Wide im2col: ``(B, C*KH*KW, OH*W_q)`` columns from a flat canvas ``(B, C, L)``."""
    b, c = canvas.shape[:2]
    slices = _offset_slices(geo, kernel, stride)
    cols = np.empty((b, c, len(slices), geo.oh * geo.wq), dtype=canvas.dtype)
    for i, sl in enumerate(slices):
        cols[:, :, i] = canvas[:, :, sl]
    return cols.reshape(b, c * len(slices), geo.oh * geo.wq)


def _scatter(cols: np.ndarray, geo: _Canvas, kernel, stride, work: np.ndarray) -> np.ndarray:
    """Wide col2im: the flat canvas ``(B, C, L)`` that the columns ``(B, C*KH*KW, OH*W_q)`` sum to.

    Each kernel offset's entries are *copied* into their slice of its own
    layer of ``work`` (``(KH*KW, >= B, C, L)``, zero outside those slices, kept
    by the caller across batches), then the layers are summed: copies and
    whole-array sums are several times faster in numpy than ``+=`` on
    strided slices. The junk columns must be zero.
    """
    b, c = cols.shape[0], work.shape[2]
    slices = _offset_slices(geo, kernel, stride)
    cols = cols.reshape(b, c, len(slices), geo.oh * geo.wq)
    layers = work[:, :b]
    for i, sl in enumerate(slices):
        layers[i, :, :, sl] = cols[:, :, i]
    return np.add.reduce(layers, axis=0)


def _scatter_work(geo: _Canvas, kernel, batch: int, channels: int, dtype) -> np.ndarray:
    """The zeroed work buffer of :func:`_scatter` for batches of up to ``batch`` images."""
    return np.zeros((kernel[0] * kernel[1], batch, channels, geo.rows * geo.width), dtype=dtype)


def _widen(a: np.ndarray, geo: _Canvas) -> np.ndarray:
    """``(N, R, OH*OW)`` -> ``(N, R, OH*W_q)`` with zeros in the junk columns."""
    n, r = a.shape[:2]
    wide = np.zeros((n, r, geo.oh, geo.wq), dtype=a.dtype)
    wide[..., :geo.ow] = a.reshape(n, r, geo.oh, geo.ow)
    return wide.reshape(n, r, geo.oh * geo.wq)


def _narrow(a: np.ndarray, geo: _Canvas) -> np.ndarray:
    """``(N, R, OH*W_q)`` -> ``(N, R, OH, OW)``: drop the junk columns (a view)."""
    return a.reshape(*a.shape[:2], geo.oh, geo.wq)[..., :geo.ow]


def im2col(x, kernel_size, stride=1, padding=0) -> np.ndarray:
    r"""Copy every receptive field of ``x`` into a column.

    With :math:`x_p` the zero-padded input,

    .. math::

        \text{cols}[n,\ (c, k, l),\ (i, j)] = x_p[n,\ c,\ S_h i + k,\ S_w j + l]

    where the row index ``(c, k, l)`` is ``c*KH*KW + k*KW + l`` (the order of
    ``w.reshape(C_out, -1)``) and the column index ``(i, j)`` is ``i*OW + j``.
    A convolution is then one matrix product per image,
    ``w.reshape(C_out, -1) @ cols[n]``, which BLAS does fast.

    The padded image is laid out flat (see ``_Canvas``), so that for each
    kernel offset ``(k, l)`` the entries of every window form one strided
    slice of it: the copy is ``KH * KW`` slice copies, whatever the image size.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zeros added on each side of H and W.

    Returns
    -------
    cols : ndarray, shape (N, C*KH*KW, OH*OW)
        Same dtype as ``x`` (float32 kept, anything else float64).

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, an argument is out of range, or the kernel is
        larger than the padded input.

    Examples
    --------
    >>> x = np.arange(9.).reshape(1, 1, 3, 3)
    >>> im2col(x, 2)
    array([[[0., 1., 3., 4.],
            [1., 2., 4., 5.],
            [3., 4., 6., 7.],
            [4., 5., 7., 8.]]])
    """
    x = as_float_array(x, "x", layout="(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    _check_nonempty_spatial(x, "x")
    _output_hw(x.shape, kernel, padding, stride, "kernel_size")
    geo = _canvas_geometry(x.shape, kernel, stride, padding)
    cols = _gather(_to_canvas(x, geo, padding), geo, kernel, stride)
    return _narrow(cols, geo).reshape(x.shape[0], cols.shape[1], geo.oh * geo.ow)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0) -> np.ndarray:
    r"""Scatter-add columns back to an image: the adjoint (transpose) of :func:`im2col`.

    .. math::

        x[n, c, h, w] = \sum_{(k, l, i, j)\,:\ S_h i + k - P_h = h,\ S_w j + l - P_w = w}
            \text{cols}[n, (c, k, l), (i, j)]

    An input pixel covered by several windows receives the *sum* of their
    entries, which is exactly the gradient of :func:`im2col`:
    ``dx = col2im(dcols, x.shape, ...)``. The loop runs over the ``KH * KW``
    kernel offsets (small), each adding one strided slice, never over pixels.

    Parameters
    ----------
    cols : array_like, shape (N, C*KH*KW, OH*OW)
    x_shape : tuple of 4 ints
        ``(N, C, H, W)`` of the unpadded image.
    kernel_size, stride, padding : int or (int, int)
        As given to :func:`im2col`.

    Returns
    -------
    x : ndarray, shape x_shape
        The padding border is summed into and then cropped away.

    Raises
    ------
    ValueError
        If ``x_shape`` is not 4 positive ints, an argument is out of range, or
        ``cols`` does not have shape ``(N, C*KH*KW, OH*OW)``.

    Examples
    --------
    >>> x = np.arange(9.).reshape(1, 1, 3, 3)
    >>> col2im(np.ones((1, 4, 4)), x.shape, 2)  # how many 2x2 windows cover each pixel
    array([[[[1., 2., 1.],
             [2., 4., 2.],
             [1., 2., 1.]]]])
    """
    if (not isinstance(x_shape, (tuple, list)) or len(x_shape) != 4
            or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
                   for s in x_shape)):
        raise ValueError(f"x_shape must be 4 positive ints (N, C, H, W), got {x_shape!r}")
    x_shape = tuple(int(s) for s in x_shape)
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    oh, ow = _output_hw(x_shape, kernel, padding, stride, "kernel_size")
    cols = as_float_array(cols, "cols")
    n, c = x_shape[:2]
    expected = (n, c * kernel[0] * kernel[1], oh * ow)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape (N, C*KH*KW, OH*OW) = {expected}, "
                         f"got {cols.shape}")
    geo = _canvas_geometry(x_shape, kernel, stride, padding)
    work = _scatter_work(geo, kernel, n, c, cols.dtype)
    canvas = _scatter(_widen(cols, geo), geo, kernel, stride, work)
    return _from_canvas(canvas, geo, x_shape, padding)


# --------------------------------------------------------------------------- #
# convolution
# --------------------------------------------------------------------------- #
def _check_conv_args(x, w, b, stride, padding):
    x = as_float_array(x, "x", layout="(N, C_in, H, W)")
    w = as_float_array(w, "w", layout="(C_out, C_in, KH, KW)")
    _check_nonempty_spatial(x, "x")
    if 0 in w.shape or w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w must have shape (C_out, C_in, KH, KW) with C_in={x.shape[1]} to match x, "
            f"got {w.shape}"
        )
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (C_out,) = ({w.shape[0]},), got {b.shape}")
    stride = _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    oh, ow = _output_hw(x.shape, w.shape[2:], padding, stride, "w")
    x, w, b = as_common_float(x, w, b)
    return x, w, b, stride, padding, (oh, ow)


def conv2d_forward_naive(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    r"""2-D convolution (cross-correlation) with explicit loops -- for teaching.

    .. math::

        \text{out}[n, o, i, j] = b_o + \sum_{c=0}^{C_{in}-1} \sum_{k=0}^{K_H-1}
            \sum_{l=0}^{K_W-1} w[o, c, k, l]\; x_p[n, c,\ S_h i + k,\ S_w j + l]

    with :math:`x_p` the input zero-padded by :math:`P_h` rows and :math:`P_w`
    columns on each side. One window at a time: slow (a Python loop over every
    output pixel), but it reads exactly like the formula. Use
    :func:`conv2d_forward` for training; both give the same numbers.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W)
    w : array_like, shape (C_out, C_in, KH, KW)
    b : array_like, shape (C_out,), or None
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0

    Returns
    -------
    out : ndarray, shape (N, C_out, OH, OW)
        ``OH = (H + 2 P_h - KH) // S_h + 1``, likewise ``OW``.

    Raises
    ------
    ValueError
        As :func:`conv2d_forward`.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> conv2d_forward_naive(x, np.ones((1, 1, 2, 2)), np.zeros(1), stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    x, w, b, (sh, sw), (ph, pw), (oh, ow) = _check_conv_args(x, w, b, stride, padding)
    n_images, c_out = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    x_pad = _pad(x, ph, pw)
    out = np.zeros((n_images, c_out, oh, ow), dtype=x.dtype)
    for n in range(n_images):
        for o in range(c_out):
            for i in range(oh):
                for j in range(ow):
                    window = x_pad[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[n, o, i, j] = np.sum(window * w[o])
            if b is not None:
                out[n, o] += b[o]
    return out


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    r"""2-D convolution (cross-correlation), equal to ``torch.nn.functional.conv2d``.

    .. math::

        \text{out}[n, o, i, j] = b_o + \sum_{c=0}^{C_{in}-1} \sum_{k=0}^{K_H-1}
            \sum_{l=0}^{K_W-1} w[o, c, k, l]\; x_p[n, c,\ S_h i + k,\ S_w j + l]

    with :math:`x_p` the input zero-padded by :math:`P_h` rows and :math:`P_w`
    columns on each side. Computed as ``W @ im2col(x)[n]`` with
    ``W = w.reshape(C_out, C_in*KH*KW)``: one BLAS matrix product per image
    (the columns are built a few images at a time, so they stay in cache).

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W)
    w : array_like, shape (C_out, C_in, KH, KW)
    b : array_like, shape (C_out,), or None
        ``None`` means no bias (as ``bias=None`` in torch).
    stride : int or (int, int), default 1
        ``S`` or ``(S_h, S_w)``, each ``>= 1``.
    padding : int or (int, int), default 0
        Zeros on each side, ``P`` or ``(P_h, P_w)``, each ``>= 0``.

    Returns
    -------
    out : ndarray, shape (N, C_out, OH, OW)
        ``OH = (H + 2 P_h - KH) // S_h + 1`` and ``OW = (W + 2 P_w - KW) // S_w + 1``.
        float32 if all inputs are float32, else float64.
    cache : dict
        For :func:`conv2d_backward`; treat it as opaque. It holds copies of
        the padded input (flat, see ``_Canvas``) and of ``w``, not their
        im2col columns, which the backward pass rebuilds.

    Raises
    ------
    ValueError
        If ``x`` or ``w`` is not 4-D; ``w``'s ``C_in`` differs from ``x``'s;
        ``b`` is not ``(C_out,)``; stride < 1 or padding < 0; or the kernel is
        larger than the padded input. The message names the argument.

    Notes
    -----
    Bottom rows / right columns that no window reaches (when the stride does
    not divide ``H + 2P - KH``) are ignored, as in torch. No kernel flip.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> out, cache = conv2d_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1), stride=2)
    >>> out
    array([[[[10., 18.],
             [42., 50.]]]])
    >>> conv2d_forward(x, np.ones((1, 1, 3, 3)), None, padding=1)[0].shape
    (1, 1, 4, 4)
    """
    x, w, b, stride, padding, (oh, ow) = _check_conv_args(x, w, b, stride, padding)
    n, c_out = x.shape[0], w.shape[0]
    kernel = w.shape[2:]
    geo = _canvas_geometry(x.shape, kernel, stride, padding)
    # the cache keeps copies (the canvas is one), so changing x or w in place
    # before the backward pass (an optimizer step, say) cannot corrupt the gradients
    canvas = _to_canvas(x, geo, padding)                        # (N, C_in, rows*width)
    w = w.copy()
    w_mat = w.reshape(c_out, -1)                                # (C_out, C_in*KH*KW)
    n_pos = geo.oh * geo.wq
    wide = np.empty((n, c_out, n_pos), dtype=x.dtype)
    for batch in _batches(n, w_mat.shape[1] * n_pos * x.itemsize):
        cols = _gather(canvas[batch], geo, kernel, stride)     # (B, C_in*KH*KW, OH*W_q)
        np.matmul(w_mat, cols, out=wide[batch])                 # (B, C_out, OH*W_q)
    out = _narrow(wide, geo)                                    # drop the junk columns
    out = np.ascontiguousarray(out) if b is None else np.add(out, b[:, None, None])
    cache = {"canvas": canvas, "geometry": geo, "w": w, "has_b": b is not None,
             "stride": stride, "padding": padding, "x_shape": x.shape,
             "out_shape": out.shape}
    return out, cache


def conv2d_backward(dout, cache):
    r"""Gradients of :func:`conv2d_forward`.

    With :math:`\delta = \partial L / \partial \text{out}` and ``cols`` the
    im2col matrix of the forward input (rebuilt here from the cached padded
    input, a few images at a time, rather than kept in memory),

    .. math::

        \frac{\partial L}{\partial b_o} = \sum_{n,i,j} \delta[n,o,i,j], \qquad
        \frac{\partial L}{\partial W} = \sum_n \delta_n\, \text{cols}_n^{\top}, \qquad
        \frac{\partial L}{\partial x} = \text{col2im}\Big(W^{\top} \delta_n\Big)

    where :math:`W` is ``w.reshape(C_out, -1)`` and :math:`\delta_n` is
    ``dout[n].reshape(C_out, OH*OW)``. col2im *adds* the contributions of
    overlapping windows, and pixels that no window reaches get zero.

    Parameters
    ----------
    dout : array_like, shape (N, C_out, OH, OW)
        Upstream gradient, the shape of the forward output.
    cache : dict
        From :func:`conv2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,), or None
        ``None`` when the forward pass had ``b=None`` (as torch's ``bias.grad``
        does not exist then).

    Raises
    ------
    ValueError
        If ``dout`` does not have the forward output's shape.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> out, cache = conv2d_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1), stride=2)
    >>> dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    >>> dw  # sum of the pixels each weight touched
    array([[[[20., 24.],
             [36., 40.]]]])
    >>> db
    array([4.])
    """
    canvas, geo, w, stride = cache["canvas"], cache["geometry"], cache["w"], cache["stride"]
    dout = check_dout(dout, cache["out_shape"], dtype=w.dtype)
    n, c_out = dout.shape[:2]
    kernel = w.shape[2:]
    dout = dout.reshape(n, c_out, -1)                           # (N, C_out, OH*OW)
    w_mat = w.reshape(c_out, -1)                                # (C_out, C_in*KH*KW)
    db = dout.sum(axis=2).sum(axis=0) if cache["has_b"] else None
    dw_mat = np.zeros(w_mat.shape[::-1], dtype=w.dtype)
    dcanvas = np.empty_like(canvas)
    batches = _batches(n, w_mat.shape[1] * geo.oh * geo.wq * dout.itemsize)
    work = _scatter_work(geo, kernel, min(batches[0].stop, n), canvas.shape[1], canvas.dtype)
    for batch in batches:
        cols = _gather(canvas[batch], geo, kernel, stride)
        d = _widen(dout[batch], geo)                            # (B, C_out, OH*W_q), junk 0
        # dW = sum_n delta_n cols_n^T, accumulated as its transpose (cols_n delta_n^T)
        # because that orientation is the faster one for BLAS here
        dw_mat += np.matmul(cols, d.transpose(0, 2, 1)).sum(axis=0)
        dcols = np.matmul(w_mat.T, d)                           # (B, C_in*KH*KW, OH*W_q)
        dcanvas[batch] = _scatter(dcols, geo, kernel, stride, work)
    dx = _from_canvas(dcanvas, geo, cache["x_shape"], cache["padding"])
    dw_mat = dw_mat.T
    return dx, dw_mat.reshape(w.shape), db


def conv2d_forward_cols(x, w, b, im2col, stride=1, padding=0) -> np.ndarray:
    r"""A convolution as one matrix product over the columns that ``im2col`` returns.

    .. math::

        \text{out}_n = W\,\text{cols}_n + b, \qquad
        W = \texttt{w.reshape(C\_out, -1)},\quad \text{cols} = \texttt{im2col(x, (KH, KW),
        stride, padding)}

    reshaped to ``(N, C_out, OH, OW)``. The column function is a parameter, so
    any function with :func:`im2col`'s contract can be used; with
    ``im2col=dlnotes.cnn.im2col`` the result equals :func:`conv2d_forward`'s.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W)
    w : array_like, shape (C_out, C_in, KH, KW)
    b : array_like, shape (C_out,)
    im2col : callable
        ``im2col(x, (KH, KW), stride, padding) -> (N, C_in*KH*KW, OH*OW)``.
    stride, padding : int
        As for :func:`conv2d_forward`.

    Returns
    -------
    out : ndarray, shape (N, C_out, OH, OW)

    Raises
    ------
    ValueError
        As :func:`conv2d_forward`, and if ``im2col`` returns another shape.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> conv2d_forward_cols(x, np.ones((1, 1, 2, 2)), np.zeros(1), im2col, stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    stride = check_positive_int(stride, "stride", 1)
    padding = check_positive_int(padding, "padding", 0)
    x, w, b, _, _, (oh, ow) = _check_conv_args(x, w, b, stride, padding)
    if b is None:
        raise ValueError("b must be an array of shape (C_out,), got None")
    n, c_out = x.shape[0], w.shape[0]
    cols = _check_cols(im2col(x, w.shape[2:], stride, padding),
                       (n, w[0].size, oh * ow), x.dtype)
    return (w.reshape(c_out, -1) @ cols + b[:, None]).reshape(n, c_out, oh, ow)


def conv2d_backward_cols(dout, x, w, im2col, col2im, stride=1, padding=0):
    r"""Gradients of :func:`conv2d_forward_cols`, with the given ``im2col`` and ``col2im``.

    With :math:`\delta_n` = ``dout[n].reshape(C_out, OH*OW)``,

    .. math::

        \frac{\partial L}{\partial b} = \sum_n \delta_n \mathbf 1, \qquad
        \frac{\partial L}{\partial W} = \sum_n \delta_n\,\text{cols}_n^{\top}, \qquad
        \frac{\partial L}{\partial x} = \text{col2im}\bigl(W^{\top}\delta\bigr).

    Parameters
    ----------
    dout : array_like, shape (N, C_out, OH, OW)
    x : array_like, shape (N, C_in, H, W)
        The forward input.
    w : array_like, shape (C_out, C_in, KH, KW)
    im2col : callable
        As for :func:`conv2d_forward_cols`.
    col2im : callable
        ``col2im(cols, x_shape, (KH, KW), stride, padding) -> x_shape`` array,
        the adjoint of ``im2col`` (:func:`col2im`).
    stride, padding : int

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,)

    Raises
    ------
    ValueError
        As :func:`conv2d_forward`; if ``dout`` is not ``(N, C_out, OH, OW)``; or
        if ``im2col`` or ``col2im`` returns another shape.

    Examples
    --------
    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> dx, dw, db = conv2d_backward_cols(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 2, 2)),
    ...                                   im2col, col2im, stride=2)
    >>> dw  # sum of the pixels each weight touched
    array([[[[20., 24.],
             [36., 40.]]]])
    >>> db
    array([4.])
    """
    stride = check_positive_int(stride, "stride", 1)
    padding = check_positive_int(padding, "padding", 0)
    x, w, _, _, _, (oh, ow) = _check_conv_args(x, w, None, stride, padding)
    n, c_out = x.shape[0], w.shape[0]
    dout = check_dout(dout, (n, c_out, oh, ow), dtype=x.dtype).reshape(n, c_out, oh * ow)
    cols = _check_cols(im2col(x, w.shape[2:], stride, padding),
                       (n, w[0].size, oh * ow), x.dtype)
    w_mat = w.reshape(c_out, -1)
    dx = col2im(w_mat.T @ dout, x.shape, w.shape[2:], stride, padding)
    dx = _check_cols(dx, x.shape, x.dtype, what="col2im")
    dw = (dout @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    return dx, dw, dout.sum(axis=(0, 2))


def _check_cols(a, expected: tuple, dtype, what: str = "im2col") -> np.ndarray:
    """``a`` as a ``dtype`` array of shape ``expected``, or a ValueError naming the function."""
    a = np.asarray(a, dtype=dtype)
    if a.shape != tuple(expected):
        raise ValueError(f"{what} returned shape {a.shape}, expected {tuple(expected)}")
    return a


# --------------------------------------------------------------------------- #
# pooling
# --------------------------------------------------------------------------- #
def _check_pool_args(x, kernel_size, stride):
    x = as_float_array(x, "x", layout="(N, C, H, W)")
    _check_nonempty_spatial(x, "x")
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "stride", 1)
    oh, ow = _output_hw(x.shape, kernel, (0, 0), stride, "kernel_size")
    return x, kernel, stride, (oh, ow)


def max_pool2d_forward(x, kernel_size, stride=None):
    r"""2-D max pooling, equal to ``torch.nn.functional.max_pool2d`` (no padding).

    .. math::

        \text{out}[n, c, i, j] = \max_{0 \le k < K_H,\ 0 \le l < K_W}
            x[n, c,\ S_h i + k,\ S_w j + l]

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int) or None, default None
        ``None`` means ``stride = kernel_size`` (torch's default).

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW)
        ``OH = (H - KH) // S_h + 1`` (floor, i.e. ``ceil_mode=False``).
    cache : dict
        For :func:`max_pool2d_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, ``kernel_size``/``stride`` is not a positive int or
        pair, or the kernel is larger than the input.

    Notes
    -----
    Ties: the gradient goes to *one* element, the first maximum in row-major
    order inside the window, as torch does on CPU. A NaN counts as the maximum
    and propagates (with several NaNs in a window the last one gets the
    gradient), also as in torch's CPU kernel. With overlapping windows
    (stride < kernel) one input can be the maximum of several windows; its
    gradient is then the sum.

    Examples
    --------
    >>> x = np.array([[[[1., 2., 5., 0.],
    ...                 [3., 4., 1., 1.]]]])
    >>> out, cache = max_pool2d_forward(x, 2)
    >>> out
    array([[[[4., 5.]]]])
    >>> max_pool2d_backward(np.ones_like(out), cache)
    array([[[[0., 0., 1., 0.],
             [0., 1., 0., 0.]]]])
    """
    x, (kh, kw), (sh, sw), (oh, ow) = _check_pool_args(x, kernel_size, stride)
    slabs = _window_slabs(x, (kh, kw), (sh, sw), (oh, ow))     # (KH*KW, N, C, OH, OW)
    out = np.maximum.reduce(slabs, axis=0)                      # NaN propagates, as in torch
    # arg: the first offset (row-major) holding the maximum, torch's CPU rule
    # for ties, counted as the number of leading offsets that miss it.
    arg = np.zeros(out.shape, dtype=np.int8 if len(slabs) <= 127 else np.intp)
    missed = np.ones(out.shape, dtype=bool)
    for v in slabs[:-1]:
        missed &= v != out
        arg += missed
    nan_windows = np.isnan(out)
    if nan_windows.any():                 # a NaN is the maximum: the gradient goes to
        last_nan = np.zeros_like(arg)     # the last NaN of the window (torch's CPU kernel)
        for i, v in enumerate(slabs):
            np.maximum(last_nan, np.isnan(v) * i, out=last_nan, casting="unsafe")
        arg[nan_windows] = last_nan[nan_windows]
    cache = {"x_shape": x.shape, "arg": arg, "kernel": (kh, kw), "stride": (sh, sw),
             "dtype": x.dtype}
    return out, cache


def _window_slabs(x: np.ndarray, kernel, stride, out_hw) -> np.ndarray:
    """``(KH*KW, N, C, OH, OW)``: slab ``k*KW + l`` holds entry ``(k, l)`` of every window.

    One copy makes each slab contiguous, so the pooling arithmetic runs on
    long rows (numpy's calls on strided 4-D views pay for every short row).
    """
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :oh, :ow]
    return np.ascontiguousarray(win.transpose(4, 5, 0, 1, 2, 3)).reshape(kh * kw, *win.shape[:4])


def _scatter_windows(slabs: np.ndarray, x_shape, kernel, stride) -> np.ndarray:
    """The adjoint of :func:`_window_slabs`: add every window entry back to its pixel."""
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = slabs.shape[3:]
    dx = np.zeros(x_shape, dtype=slabs.dtype)
    if (sh, sw) == (kh, kw):              # windows tile the image: one transposing copy
        n, c = x_shape[:2]
        tiles = dx[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)
        tiles[...] = slabs.reshape(kh, kw, n, c, oh, ow).transpose(2, 3, 4, 0, 5, 1)
        return dx
    for k in range(kh):                   # overlapping or gapped windows: add offset by offset
        for l in range(kw):
            dx[:, :, k:k + sh * oh:sh, l:l + sw * ow:sw] += slabs[k * kw + l]
    return dx


def max_pool2d_backward(dout, cache) -> np.ndarray:
    r"""Gradient of :func:`max_pool2d_forward`: route each ``dout`` to its argmax.

    .. math::

        \frac{\partial L}{\partial x[n,c,h,w]} = \sum_{i,j\,:\ (h,w) = \operatorname{argmax}
            \text{ of window } (i,j)} \delta[n,c,i,j]

    Parameters
    ----------
    dout : array_like, shape (N, C, OH, OW)
    cache : dict
        From :func:`max_pool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Raises
    ------
    ValueError
        If ``dout`` does not have the forward output's shape.

    Examples
    --------
    >>> x = np.array([[[[1., 3., 2.]]]])
    >>> out, cache = max_pool2d_forward(x, (1, 2), stride=1)  # overlapping windows
    >>> max_pool2d_backward(np.ones_like(out), cache)       # 3 is the max of both
    array([[[[0., 2., 0.]]]])
    """
    arg, (kh, kw) = cache["arg"], cache["kernel"]
    dout = check_dout(dout, arg.shape, dtype=cache["dtype"])
    routed = np.empty((kh * kw, *dout.shape), dtype=dout.dtype)
    finite = bool(np.isfinite(dout).all())
    for i in range(kh * kw):
        if finite:                        # a product with the 0/1 mask is fast ...
            np.multiply(dout, arg == i, out=routed[i])
        else:                             # ... but 0 * inf is NaN, where torch routes 0
            routed[i] = np.where(arg == i, dout, 0)
    return _scatter_windows(routed, cache["x_shape"], (kh, kw), cache["stride"])


def max_pool2d(x, kernel_size, stride=None) -> np.ndarray:
    r"""Max pooling without a cache: ``max_pool2d_forward(x, kernel_size, stride)[0]``.

    .. math::

        \text{out}[n, c, i, j] = \max_{0 \le k, l < K} x[n, c,\ S i + k,\ S j + l]

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int) or None, default None
        ``None`` means ``stride = kernel_size``.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW)

    Raises
    ------
    ValueError
        As :func:`max_pool2d_forward`.

    Examples
    --------
    >>> max_pool2d(np.array([[[[1., 2., 5., 0.], [3., 4., 1., 1.]]]]), 2)
    array([[[[4., 5.]]]])
    """
    return max_pool2d_forward(x, kernel_size, stride)[0]


def max_pool2d_grad(dout, x, kernel_size, stride=None) -> np.ndarray:
    r"""Gradient of :func:`max_pool2d` from the forward input (no cache).

    Each ``dout[n, c, i, j]`` goes to the first maximum (row-major) of window
    ``(i, j)``; contributions add where windows overlap.

    Parameters
    ----------
    dout : array_like, shape (N, C, OH, OW)
    x : array_like, shape (N, C, H, W)
        The forward input.
    kernel_size : int or (int, int)
    stride : int or (int, int) or None, default None

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Raises
    ------
    ValueError
        As :func:`max_pool2d_backward`.

    Examples
    --------
    >>> x = np.array([[[[1., 2., 5., 0.], [3., 4., 1., 1.]]]])
    >>> max_pool2d_grad(np.array([[[[1., 2.]]]]), x, 2)
    array([[[[0., 0., 2., 0.],
             [0., 1., 0., 0.]]]])
    """
    return max_pool2d_backward(dout, max_pool2d_forward(x, kernel_size, stride)[1])


def avg_pool2d_forward(x, kernel_size, stride=None):
    r"""2-D average pooling, equal to ``torch.nn.functional.avg_pool2d`` (defaults).

    .. math::

        \text{out}[n, c, i, j] = \frac{1}{K_H K_W} \sum_{k=0}^{K_H-1} \sum_{l=0}^{K_W-1}
            x[n, c,\ S_h i + k,\ S_w j + l]

    No padding and ``ceil_mode=False`` (torch's defaults), so every window is
    full and the divisor is always ``KH * KW``.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int) or None, default None
        ``None`` means ``stride = kernel_size``.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW)
    cache : dict
        For :func:`avg_pool2d_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, ``kernel_size``/``stride`` is not a positive int or
        pair, or the kernel is larger than the input.

    Examples
    --------
    >>> x = np.arange(8.).reshape(1, 1, 2, 4)
    >>> out, cache = avg_pool2d_forward(x, 2)
    >>> out
    array([[[[2.5, 4.5]]]])
    >>> avg_pool2d_backward(np.ones_like(out), cache)
    array([[[[0.25, 0.25, 0.25, 0.25],
             [0.25, 0.25, 0.25, 0.25]]]])
    """
    x, (kh, kw), (sh, sw), (oh, ow) = _check_pool_args(x, kernel_size, stride)
    out = np.zeros((x.shape[0], x.shape[1], oh, ow), dtype=x.dtype)
    for k in range(kh):
        for l in range(kw):
            out += x[:, :, k:k + sh * oh:sh, l:l + sw * ow:sw]
    out /= kh * kw
    cache = {"x_shape": x.shape, "kernel": (kh, kw), "stride": (sh, sw),
             "out_shape": out.shape, "dtype": x.dtype}
    return out, cache


def avg_pool2d_backward(dout, cache) -> np.ndarray:
    r"""Gradient of :func:`avg_pool2d_forward`: spread each ``dout`` evenly.

    .. math::

        \frac{\partial L}{\partial x[n,c,h,w]} = \frac{1}{K_H K_W}
            \sum_{(i,j)\ :\ \text{window } (i,j) \ni (h,w)} \delta[n,c,i,j]

    Parameters
    ----------
    dout : array_like, shape (N, C, OH, OW)
    cache : dict
        From :func:`avg_pool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Raises
    ------
    ValueError
        If ``dout`` does not have the forward output's shape.

    Examples
    --------
    >>> out, cache = avg_pool2d_forward(np.zeros((1, 1, 1, 3)), (1, 2), stride=1)
    >>> avg_pool2d_backward(np.ones_like(out), cache)
    array([[[[0.5, 1. , 0.5]]]])
    """
    (kh, kw) = cache["kernel"]
    dout = check_dout(dout, cache["out_shape"], dtype=cache["dtype"])
    share = np.broadcast_to(dout / (kh * kw), (kh * kw, *dout.shape))   # the same for every entry
    return _scatter_windows(share, cache["x_shape"], (kh, kw), cache["stride"])


# --------------------------------------------------------------------------- #
# flatten
# --------------------------------------------------------------------------- #
def flatten_forward(x):
    r"""Flatten each image to a row: ``(N, C, H, W) -> (N, C*H*W)``.

    .. math::

        \text{out}[n, c H W + h W + w] = x[n, c, h, w]

    Row-major order, the same as ``torch.flatten(x, 1)``, so a following
    linear layer's weights copy across from torch.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)

    Returns
    -------
    out : ndarray, shape (N, C*H*W)
    cache : tuple
        The input shape, for :func:`flatten_backward`.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D.

    Examples
    --------
    >>> out, cache = flatten_forward(np.arange(8.).reshape(2, 2, 1, 2))
    >>> out
    array([[0., 1., 2., 3.],
           [4., 5., 6., 7.]])
    """
    x = as_float_array(x, "x", layout="(N, C, H, W)")
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:]))), x.shape


def flatten_backward(dout, cache) -> np.ndarray:
    r"""Gradient of :func:`flatten_forward`: reshape ``dout`` back to ``(N, C, H, W)``.

    Parameters
    ----------
    dout : array_like, shape (N, C*H*W)
    cache : tuple
        From :func:`flatten_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Raises
    ------
    ValueError
        If ``dout`` is not ``(N, C*H*W)``.

    Examples
    --------
    >>> out, cache = flatten_forward(np.zeros((2, 2, 1, 2)))
    >>> flatten_backward(np.ones((2, 4)), cache).shape
    (2, 2, 1, 2)
    """
    x_shape = tuple(cache)
    dout = check_dout(dout, (x_shape[0], int(np.prod(x_shape[1:]))))
    return dout.reshape(x_shape)
