"""Tests for dlnotes.cnn against torch (float64 autograd computed here)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import cnn

torch.set_num_threads(1)


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def torch_conv(x, w, b, stride, padding, dout):
    """Output and (dx, dw, db) of torch's conv2d for the loss sum(out * dout)."""
    tx, tw = _t(x, True), _t(w, True)
    tb = None if b is None else _t(b, True)
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    out.backward(_t(dout))
    db = None if b is None else tb.grad.numpy()
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), db


def torch_pool(pool, x, kernel_size, stride, dout=None):
    tx = _t(x, True)
    out = pool(tx, kernel_size, stride)
    if dout is None:
        return out.detach().numpy()
    out.backward(_t(dout))
    return out.detach().numpy(), tx.grad.numpy()


# (N, C_in, H, W, C_out, KH, KW, stride, padding, bias)
CONV_CASES = [
    (2, 3, 7, 5, 4, 3, 3, 1, 0, True),
    (2, 3, 7, 5, 4, 3, 3, 2, 1, True),
    (1, 1, 7, 5, 2, 3, 3, (2, 1), (1, 0), True),
    (2, 3, 6, 6, 4, 1, 1, 1, 0, True),            # 1x1 kernel
    (2, 3, 6, 6, 4, 1, 1, 2, 2, True),            # 1x1, padding > 0, stride 2
    (1, 3, 5, 7, 2, 2, 3, 1, 2, False),           # non-square kernel, no bias
    (2, 1, 9, 8, 3, 3, 3, 3, 2, True),            # stride leaves rows/cols unreached
    (3, 2, 5, 5, 2, 5, 5, 1, 0, True),            # kernel == input -> 1x1 output
    (1, 2, 4, 3, 3, 3, 2, (1, 2), (2, 1), True),  # tuple stride and padding
    (1, 3, 2, 2, 2, 3, 3, 1, 1, True),            # kernel fits only thanks to padding
    (1, 1, 1, 1, 1, 1, 1, 1, 0, True),            # smallest possible
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch_forward_and_gradients(case, rng):
    n, c_in, h, w_, c_out, kh, kw, stride, padding, bias = case
    x = rng.standard_normal((n, c_in, h, w_))
    w = rng.standard_normal((c_out, c_in, kh, kw))
    b = rng.standard_normal(c_out) if bias else None
    out, cache = cnn.conv2d_forward(x, w, b, stride=stride, padding=padding)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx, t_dw, t_db = torch_conv(x, w, b, stride, padding, dout)
    assert out.shape == t_out.shape
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    dx, dw, db = cnn.conv2d_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, t_dw, rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(db, t_db, rtol=1e-10, atol=1e-12)
    else:
        assert db is None
    # the naive loops give the same numbers
    np.testing.assert_allclose(cnn.conv2d_forward_naive(x, w, b, stride, padding), out,
                               rtol=1e-10, atol=1e-12)


def test_conv2d_backward_can_be_called_twice_and_batches_agree(rng, monkeypatch):
    x = rng.standard_normal((5, 3, 6, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    out, cache = cnn.conv2d_forward(x, w, b, stride=2, padding=1)
    dout = rng.standard_normal(out.shape)
    first = cnn.conv2d_backward(dout, cache)
    second = cnn.conv2d_backward(dout, cache)
    for a, c in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, c)
    # one image per im2col batch gives the same result as all at once
    monkeypatch.setattr(cnn, "_BATCH_BYTES", 1)
    out1, cache1 = cnn.conv2d_forward(x, w, b, stride=2, padding=1)
    np.testing.assert_allclose(out1, out, rtol=1e-12, atol=1e-12)
    for a, c in zip(cnn.conv2d_backward(dout, cache1), first, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_conv2d_float32_stays_float32_and_matches_torch(rng):
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    out, cache = cnn.conv2d_forward(x, w, b, padding=1)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, dw, db = cnn.conv2d_backward(dout, cache)
    assert {a.dtype for a in (out, dx, dw, db)} == {np.dtype(np.float32)}
    t_out, t_dx, t_dw, t_db = torch_conv(x, w, b, 1, 1, dout)
    for a, t in ((out, t_out), (dx, t_dx), (dw, t_dw), (db, t_db)):
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-4)


def test_conv2d_accepts_lists_and_ints():
    out, _ = cnn.conv2d_forward([[[[1, 2], [3, 4]]]], [[[[1, 1], [1, 1]]]], [1])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[[[11.0]]]])


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
    h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4),
    sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
    bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_conv2d_property_matches_torch(n, c_in, c_out, h, w, kh, kw, sh, sw, ph, pw,
                                       bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    wt = rng.standard_normal((c_out, c_in, kh, kw))
    b = rng.standard_normal(c_out) if bias else None
    if kh > h + 2 * ph or kw > w + 2 * pw:
        with pytest.raises(ValueError, match="w"):
            cnn.conv2d_forward(x, wt, b, (sh, sw), (ph, pw))
        with pytest.raises(RuntimeError):
            F.conv2d(_t(x), _t(wt), None, stride=(sh, sw), padding=(ph, pw))
        return
    out, cache = cnn.conv2d_forward(x, wt, b, (sh, sw), (ph, pw))
    dout = rng.standard_normal(out.shape)
    expected = torch_conv(x, wt, b, (sh, sw), (ph, pw), dout)
    got = (out, *cnn.conv2d_backward(dout, cache))
    for a, t in zip(got, expected, strict=True):
        if t is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-12)


def _central_difference(f, a, index, eps=1e-6):
    a_plus, a_minus = a.copy(), a.copy()
    a_plus[index] += eps
    a_minus[index] -= eps
    return (f(a_plus) - f(a_minus)) / (2 * eps)


def test_conv2d_gradients_match_central_differences(rng):
    x = rng.standard_normal((2, 2, 5, 4))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    stride, padding = (2, 1), (1, 0)
    out, cache = cnn.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = cnn.conv2d_backward(dout, cache)

    def loss(x_, w_, b_):
        return float(np.sum(cnn.conv2d_forward(x_, w_, b_, stride, padding)[0] * dout))

    for _ in range(6):
        i = tuple(int(rng.integers(s)) for s in x.shape)
        assert _central_difference(lambda a: loss(a, w, b), x, i) == pytest.approx(dx[i], rel=1e-6)
        j = tuple(int(rng.integers(s)) for s in w.shape)
        assert _central_difference(lambda a: loss(x, a, b), w, j) == pytest.approx(dw[j], rel=1e-6)
    k = (int(rng.integers(3)),)
    assert _central_difference(lambda a: loss(x, w, a), b, k) == pytest.approx(db[k], rel=1e-6)


def test_output_size_matches_torch_over_a_grid():
    for size in range(1, 8):
        for k in range(1, 5):
            for p in range(0, 3):
                for s in range(1, 4):
                    x = torch.zeros(1, 1, size, 1)
                    if k > size + 2 * p:
                        with pytest.raises(ValueError, match="kernel_size"):
                            cnn.conv2d_output_size(size, k, p, s)
                        continue
                    t = F.conv2d(x, torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0))
                    assert cnn.conv2d_output_size(size, k, p, s) == t.shape[2]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"size": 0, "kernel_size": 1}, "size"),
    ({"size": 5, "kernel_size": 0}, "kernel_size"),
    ({"size": 5, "kernel_size": 3, "padding": -1}, "padding"),
    ({"size": 5, "kernel_size": 3, "stride": 0}, "stride"),
    ({"size": 5, "kernel_size": 3, "stride": 1.5}, "stride"),
    ({"size": 5, "kernel_size": True}, "kernel_size"),
    ({"size": 2, "kernel_size": 5, "padding": 1}, "kernel_size"),
])
def test_output_size_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        cnn.conv2d_output_size(**kwargs)


def test_im2col_definition_and_col2im_is_its_adjoint(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    kernel, stride, padding = (3, 2), (2, 1), (1, 2)
    cols = cnn.im2col(x, kernel, stride, padding)
    oh = cnn.conv2d_output_size(6, 3, 1, 2)
    ow = cnn.conv2d_output_size(5, 2, 2, 1)
    assert cols.shape == (2, 3 * 3 * 2, oh * ow)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))
    for n, c, k, l, i, j in [(0, 0, 0, 0, 0, 0), (1, 2, 2, 1, oh - 1, ow - 1), (1, 1, 1, 0, 2, 3)]:
        assert cols[n, c * 6 + k * 2 + l, i * ow + j] == xp[n, c, 2 * i + k, j + l]
    # a convolution is W @ cols
    w = rng.standard_normal((4, 3, 3, 2))
    conv = np.matmul(w.reshape(4, -1), cols).reshape(2, 4, oh, ow)
    np.testing.assert_allclose(conv, cnn.conv2d_forward(x, w, None, stride, padding)[0],
                               rtol=1e-12, atol=1e-12)
    # <im2col(x), y> == <x, col2im(y)>
    y = rng.standard_normal(cols.shape)
    back = cnn.col2im(y, x.shape, kernel, stride, padding)
    assert back.shape == x.shape
    assert np.sum(cols * y) == pytest.approx(np.sum(x * back), rel=1e-12)
    # col2im(1) counts how many windows cover each pixel (torch's fold agrees)
    t_fold = torch.nn.functional.fold(_t(np.ones((2, 18, oh * ow))), (6, 5), kernel,
                                      padding=padding, stride=stride)
    np.testing.assert_array_equal(cnn.col2im(np.ones(cols.shape), x.shape, kernel, stride,
                                             padding), t_fold.numpy())
    t_unfold = torch.nn.functional.unfold(_t(x), kernel, padding=padding, stride=stride)
    np.testing.assert_array_equal(cols, t_unfold.numpy())


def test_col2im_rejects_bad_shapes():
    with pytest.raises(ValueError, match="cols"):
        cnn.col2im(np.ones((1, 4, 5)), (1, 1, 3, 3), 2)
    with pytest.raises(ValueError, match="x_shape"):
        cnn.col2im(np.ones((1, 4, 4)), (1, 3, 3), 2)
    with pytest.raises(ValueError, match="x"):
        cnn.im2col(np.ones((3, 3, 3)), 2)


@pytest.mark.parametrize(("x_shape", "w_shape", "b_shape", "kwargs", "pattern"), [
    ((1, 3, 5), (2, 3, 3, 3), (2,), {}, r"x must have 4 dimensions .*\(1, 3, 5\)"),
    ((1, 3, 5, 5), (2, 3, 3), (2,), {}, r"w must have 4 dimensions"),
    ((1, 3, 5, 5), (2, 4, 3, 3), (2,), {},
     r"w must have shape \(C_out, C_in, KH, KW\) with C_in=3 to match x, got \(2, 4, 3, 3\)"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (3,), {}, r"b must have shape \(C_out,\)"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2, 1), {}, r"b must have shape"),
    ((1, 3, 2, 5), (2, 3, 3, 3), (2,), {}, r"w has kernel size \(3, 3\), larger"),
    ((1, 3, 5, 5), (2, 3, 6, 1), (2,), {"padding": (0, 1)}, r"w has kernel size"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2,), {"stride": 0}, r"stride must be an integer >= 1"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2,), {"stride": (1, 0)}, r"stride\[1\]"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2,), {"stride": (1, 1, 1)}, r"stride must be an int or"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2,), {"padding": -1}, r"padding must be an integer >= 0"),
    ((1, 3, 5, 5), (2, 3, 3, 3), (2,), {"stride": 2.0}, r"stride"),
    ((1, 0, 5, 5), (2, 0, 3, 3), (2,), {}, r"x must have C, H, W >= 1"),
    ((1, 3, 5, 5), (0, 3, 3, 3), (0,), {}, r"w must have shape"),
])
def test_conv2d_validation(x_shape, w_shape, b_shape, kwargs, pattern):
    x, w, b = np.ones(x_shape), np.ones(w_shape), np.ones(b_shape)
    with pytest.raises(ValueError, match=pattern):
        cnn.conv2d_forward(x, w, b, **kwargs)
    with pytest.raises(ValueError, match=pattern):
        cnn.conv2d_forward_naive(x, w, b, **kwargs)


def test_conv2d_backward_rejects_wrong_dout_shape(rng):
    out, cache = cnn.conv2d_forward(rng.standard_normal((2, 3, 5, 5)),
                                    rng.standard_normal((4, 3, 3, 3)), None)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape"):
        cnn.conv2d_backward(np.ones((2, 4, 3, 4)), cache)
    with pytest.raises(ValueError, match="dout"):
        cnn.conv2d_backward(np.ones(out.shape[1:]), cache)


POOL_CASES = [  # (x shape, kernel_size, stride)
    ((2, 3, 6, 6), 2, None),
    ((2, 3, 7, 5), 2, None),              # odd sizes: last row / column dropped
    ((1, 2, 7, 5), 3, 2),                 # overlapping windows
    ((2, 1, 6, 7), 3, 1),                 # heavily overlapping
    ((1, 2, 7, 8), (2, 3), (1, 2)),       # non-square kernel and stride
    ((1, 1, 5, 5), 5, None),              # one window
    ((1, 1, 4, 4), 1, None),              # identity
]


@pytest.mark.parametrize(("shape", "kernel_size", "stride"), POOL_CASES)
def test_max_pool_matches_torch(shape, kernel_size, stride, rng):
    x = rng.standard_normal(shape)
    out, cache = cnn.max_pool2d_forward(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx = torch_pool(F.max_pool2d, x, kernel_size, stride, dout)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_allclose(cnn.max_pool2d_backward(dout, cache), t_dx, rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize(("kernel_size", "stride"), [(2, None), (3, 1), (3, 2), ((2, 3), 1)])
def test_max_pool_ties_send_gradient_where_torch_does(kernel_size, stride, rng):
    x = rng.integers(0, 3, size=(2, 2, 7, 6)).astype(np.float64)   # many ties
    out, cache = cnn.max_pool2d_forward(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx = torch_pool(F.max_pool2d, x, kernel_size, stride, dout)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_allclose(cnn.max_pool2d_backward(dout, cache), t_dx, rtol=1e-12,
                               atol=1e-15)


def test_max_pool_constant_input_routes_to_first_element_of_each_window():
    x = np.zeros((1, 1, 4, 4))
    out, cache = cnn.max_pool2d_forward(x, 2)
    dx = cnn.max_pool2d_backward(np.ones_like(out), cache)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx[0, 0], expected)
    assert dx.sum() == out.size   # exactly one element per window


def test_max_pool_nan_and_inf_like_torch():
    x = np.array([[[[1.0, np.nan, 3.0, -np.inf],
                    [np.nan, 0.0, -np.inf, -np.inf],
                    [np.inf, 2.0, 1.0, 1.0],
                    [np.inf, np.nan, 1.0, 5.0]]]])
    out, cache = cnn.max_pool2d_forward(x, 2, 1)
    dout = np.arange(1.0, out.size + 1).reshape(out.shape)
    t_out, t_dx = torch_pool(F.max_pool2d, x, 2, 1, dout)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(cnn.max_pool2d_backward(dout, cache), t_dx)


@pytest.mark.parametrize(("shape", "kernel_size", "stride"), POOL_CASES)
def test_avg_pool_matches_torch(shape, kernel_size, stride, rng):
    x = rng.standard_normal(shape)
    out, cache = cnn.avg_pool2d_forward(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx = torch_pool(F.avg_pool2d, x, kernel_size, stride, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cnn.avg_pool2d_backward(dout, cache), t_dx, rtol=1e-12,
                               atol=1e-15)


def test_pools_keep_float32(rng):
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    for fwd, bwd in ((cnn.max_pool2d_forward, cnn.max_pool2d_backward),
                     (cnn.avg_pool2d_forward, cnn.avg_pool2d_backward)):
        out, cache = fwd(x, 2)
        assert out.dtype == np.float32
        assert bwd(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.parametrize(("fwd", "bwd"), [
    (cnn.max_pool2d_forward, cnn.max_pool2d_backward),
    (cnn.avg_pool2d_forward, cnn.avg_pool2d_backward),
])
def test_pool_validation(fwd, bwd):
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        fwd(np.ones((3, 4, 4)), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        fwd(np.ones((1, 1, 4, 4)), 5)
    with pytest.raises(ValueError, match="kernel_size"):
        fwd(np.ones((1, 1, 4, 4)), (2, 5))
    with pytest.raises(ValueError, match="kernel_size"):
        fwd(np.ones((1, 1, 4, 4)), 0)
    with pytest.raises(ValueError, match="stride"):
        fwd(np.ones((1, 1, 4, 4)), 2, 0)
    out, cache = fwd(np.ones((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="dout"):
        bwd(np.ones((1, 1, 3, 2)), cache)


def test_flatten_matches_torch_and_round_trips(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, cache = cnn.flatten_forward(x)
    tx = _t(x, True)
    t_out = torch.flatten(tx, 1)
    dout = rng.standard_normal(out.shape)
    t_out.backward(_t(dout))
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_array_equal(cnn.flatten_backward(dout, cache), tx.grad.numpy())
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        cnn.flatten_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="dout"):
        cnn.flatten_backward(np.ones((2, 59)), cache)
    with pytest.raises(ValueError, match="dout"):
        cnn.flatten_backward(np.ones((3, 60)), cache)


def test_small_cnn_layer_stack_matches_torch(rng):
    """conv -> max-pool -> conv -> avg-pool -> flatten, end to end, with N=1."""
    x = rng.standard_normal((1, 1, 11, 9))
    w1, b1 = rng.standard_normal((4, 1, 3, 3)), rng.standard_normal(4)
    w2, b2 = rng.standard_normal((2, 4, 2, 2)), rng.standard_normal(2)
    h1, c1 = cnn.conv2d_forward(x, w1, b1, padding=1)
    h2, c2 = cnn.max_pool2d_forward(h1, 3, 2)
    h3, c3 = cnn.conv2d_forward(h2, w2, b2, stride=(1, 2))
    h4, c4 = cnn.avg_pool2d_forward(h3, 2, 1)
    out, c5 = cnn.flatten_forward(h4)
    dout = rng.standard_normal(out.shape)
    g = cnn.flatten_backward(dout, c5)
    g = cnn.avg_pool2d_backward(g, c4)
    g, dw2, db2 = cnn.conv2d_backward(g, c3)
    g = cnn.max_pool2d_backward(g, c2)
    dx, dw1, db1 = cnn.conv2d_backward(g, c1)

    tx, tw1, tb1, tw2, tb2 = (_t(a, True) for a in (x, w1, b1, w2, b2))
    t = F.conv2d(tx, tw1, tb1, padding=1)
    t = F.max_pool2d(t, 3, 2)
    t = F.conv2d(t, tw2, tb2, stride=(1, 2))
    t = torch.flatten(F.avg_pool2d(t, 2, 1), 1)
    t.backward(_t(dout))
    np.testing.assert_allclose(out, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, ta in ((dx, tx), (dw1, tw1), (db1, tb1), (dw2, tw2), (db2, tb2)):
        np.testing.assert_allclose(a, ta.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_cache_is_not_affected_by_in_place_updates(rng):
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    for padding in (0, 1):
        out, cache = cnn.conv2d_forward(x, w, None, padding=padding)
        dout = rng.standard_normal(out.shape)
        expected = cnn.conv2d_backward(dout, cache)
        x_saved, w_saved = x.copy(), w.copy()
        x += 1.0
        w -= 0.5
        got = cnn.conv2d_backward(dout, cache)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        x[...], w[...] = x_saved, w_saved


# --------------------------------------------------------------------------- #
# the chapter's stateless signatures: stack geometry, conv from columns, pools
# --------------------------------------------------------------------------- #
STACKS = [
    (8, [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)]),
    (32, [(3, 2, 0), (3, 1, 1), (5, 3, 2), (2, 2, 0)]),
    (17, [(1, 1, 0), (4, 2, 1), (3, 3, 2)]),
    (9, [(7, 1, 3)]),
]


@pytest.mark.parametrize("size, layers", STACKS)
def test_stack_geometry_matches_torch_shapes_and_gradient_support(size, layers):
    """Sizes from torch's conv2d; the receptive field is the support of d(centre unit)/dx.

    With all-ones kernels and no non-linearity every path adds a positive
    term, so the nonzero region of the gradient of one output unit with
    respect to the input is exactly its receptive field (padding only cuts
    it at the border, so the unit is taken well inside a large input).
    """
    got = cnn.stack_geometry(size, layers)
    t = torch.zeros(1, 1, size, size)
    for (k, s, p), (n_out, _) in zip(layers, got, strict=True):
        t = F.conv2d(t, torch.ones(1, 1, k, k), stride=s, padding=p)
        assert t.shape[-1] == n_out
    big = 4 * sum(k * s for k, s, _ in layers) * np.prod([s for _, s, _ in layers]) + 8
    tx = torch.zeros(1, 1, big, big, dtype=torch.float64, requires_grad=True)
    t = tx
    for (k, s, _), (_, field) in zip(layers, got, strict=True):
        t = F.conv2d(t, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
        mid = t.shape[-1] // 2
        (g,) = torch.autograd.grad(t[0, 0, mid, mid], tx, retain_graph=True)
        rows = np.flatnonzero(g[0, 0].abs().sum(1).numpy())
        cols = np.flatnonzero(g[0, 0].abs().sum(0).numpy())
        assert rows[-1] - rows[0] + 1 == field == cols[-1] - cols[0] + 1


@pytest.mark.parametrize("layers, name", [
    ([(3, 1)], r"layers\[0\]"), ([(3, 0, 0)], r"layers\[0\] stride"),
    ([(3, 1, 1), (9, 1, 0)], r"layers\[1\]: kernel_size=9"), ([(2, 1, -1)], "padding")])
def test_stack_geometry_rejects_bad_layers(layers, name):
    with pytest.raises(ValueError, match=name):
        cnn.stack_geometry(4, layers)


COLS_CASES = [((2, 3, 7, 6), (4, 3, 3, 2), 2, 1), ((1, 2, 5, 5), (3, 2, 3, 3), 1, 0),
              ((3, 1, 6, 6), (2, 1, 1, 1), 1, 2), ((1, 4, 9, 7), (2, 4, 4, 3), 3, 2)]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", COLS_CASES)
def test_conv_from_columns_matches_torch(x_shape, w_shape, stride, padding, rng):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out = cnn.conv2d_forward_cols(x, w, b, cnn.im2col, stride, padding)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx, t_dw, t_db = torch_conv(x, w, b, stride, padding, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    dx, dw, db = cnn.conv2d_backward_cols(dout, x, w, cnn.im2col, cnn.col2im, stride, padding)
    for got, want in ((dx, t_dx), (dw, t_dw), (db, t_db)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_conv_from_columns_uses_the_functions_it_is_given(rng):
    x, w, b = rng.standard_normal((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), np.zeros(1)
    calls = []

    def spy_im2col(*args):
        calls.append("im2col")
        return cnn.im2col(*args)

    def spy_col2im(*args):
        calls.append("col2im")
        return cnn.col2im(*args)

    cnn.conv2d_forward_cols(x, w, b, spy_im2col)
    cnn.conv2d_backward_cols(np.ones((1, 1, 3, 3)), x, w, spy_im2col, spy_col2im)
    assert calls == ["im2col", "im2col", "col2im"]
    with pytest.raises(ValueError, match=r"im2col returned shape \(1, 9\)"):
        cnn.conv2d_forward_cols(x, w, b, lambda *a: np.ones((1, 9)))
    with pytest.raises(ValueError, match="col2im returned shape"):
        cnn.conv2d_backward_cols(np.ones((1, 1, 3, 3)), x, w, cnn.im2col,
                                 lambda *a: np.ones((4, 4)))
    with pytest.raises(ValueError, match="b must be"):
        cnn.conv2d_forward_cols(x, w, None, cnn.im2col)
    with pytest.raises(ValueError, match="stride"):
        cnn.conv2d_forward_cols(x, w, b, cnn.im2col, stride=(1, 2))
    with pytest.raises(ValueError, match="dout"):
        cnn.conv2d_backward_cols(np.ones((1, 1, 2, 2)), x, w, cnn.im2col, cnn.col2im)


@pytest.mark.parametrize("shape, kernel_size, stride", [
    ((2, 3, 8, 8), 2, None), ((1, 2, 7, 7), 3, 2), ((2, 2, 5, 5), 3, 1)])
def test_stateless_max_pool_matches_torch(shape, kernel_size, stride, rng):
    x = rng.integers(0, 3, size=shape).astype(float)          # ties included
    out = cnn.max_pool2d(x, kernel_size, stride)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx = torch_pool(F.max_pool2d, x, kernel_size, stride, dout)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_allclose(cnn.max_pool2d_grad(dout, x, kernel_size, stride), t_dx,
                               rtol=1e-12, atol=1e-12)
