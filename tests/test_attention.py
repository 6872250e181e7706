"""Tests for dlnotes.attention against torch (float64 autograd, computed here)."""

import math
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import attention as A

torch.set_num_threads(1)


def tt(a, grad=False):
    """A float64 torch leaf tensor (optionally requiring grad) from numpy."""
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def npy(t):
    return t.detach().numpy()


def random_mask(rng, shape, p=0.6):
    """Boolean mask with at least one True per row (the last axis)."""
    m = rng.random(shape) < p
    j = rng.integers(0, shape[-1], size=shape[:-1])
    np.put_along_axis(m, j[..., None], True, axis=-1)
    return m


def torch_sdpa_grads(q, k, v, dout, mask=None):
    qt, kt, vt = tt(q, True), tt(k, True), tt(v, True)
    mt = None if mask is None else torch.from_numpy(np.asarray(mask))
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt)
    (out * tt(dout)).sum().backward()
    return npy(out), npy(qt.grad), npy(kt.grad), npy(vt.grad)


def torch_attn_weights(q, k, mask=None):
    scores = tt(q) @ tt(k).transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(np.asarray(mask)), float("-inf"))
    return npy(torch.softmax(scores, dim=-1))


# ---------------------------------------------------------------------------
# scaled dot-product attention
# ---------------------------------------------------------------------------

SDPA_SHAPES = [  # q shape, k shape, dv
    ((5, 4), (7, 4), 3),
    ((2, 3, 6, 8), (2, 3, 6, 8), 8),
    ((2, 1, 4), (2, 1, 4), 2),          # L = S = 1
    ((3, 2, 1, 5), (3, 2, 9, 5), 4),    # one query, many keys
]


@pytest.mark.parametrize("q_shape, k_shape, dv", SDPA_SHAPES)
@pytest.mark.parametrize("mask_kind", ["none", "random", "causal", "one_key"])
def test_sdpa_matches_torch(rng, q_shape, k_shape, dv, mask_kind):
    q, k = rng.normal(size=q_shape), rng.normal(size=k_shape)
    v = rng.normal(size=(*k_shape[:-1], dv))
    L, S = q_shape[-2], k_shape[-2]
    batch = np.broadcast_shapes(q_shape[:-2], k_shape[:-2])
    mask = {
        "none": None,
        "random": random_mask(rng, (*batch, L, S)),
        "causal": np.tril(np.ones((L, S), dtype=bool)),
        "one_key": random_mask(rng, (*batch, L, S), p=0.0),   # fully masked but one
    }[mask_kind]
    dout = rng.normal(size=(*batch, L, dv))

    out, cache = A.sdpa_forward(q, k, v, mask)
    dq, dk, dv_ = A.sdpa_backward(dout, **cache)
    t_out, t_dq, t_dk, t_dv = torch_sdpa_grads(q, k, v, dout, mask)

    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache["weights"], torch_attn_weights(q, k, mask),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dq, t_dq, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dk, t_dk, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dv_, t_dv, rtol=1e-9, atol=1e-11)
    if mask is not None:
        assert np.all(cache["weights"][..., ~np.broadcast_to(mask, cache["weights"].shape)] == 0)

    out2, w2 = A.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(w2, cache["weights"])


def test_sdpa_causal_matches_torch_is_causal(rng):
    q, k, v = (rng.normal(size=(2, 3, 6, 4)) for _ in range(3))
    out, _ = A.scaled_dot_product_attention(q, k, v, A.causal_mask(6))
    expected = F.scaled_dot_product_attention(tt(q), tt(k), tt(v), is_causal=True)
    np.testing.assert_allclose(out, npy(expected), rtol=1e-10, atol=1e-12)


def test_sdpa_broadcast_leading_axes_and_grads(rng):
    # k and v shared across the batch axis, mask shared across heads
    q = rng.normal(size=(3, 2, 5, 4))
    k, v = rng.normal(size=(1, 2, 6, 4)), rng.normal(size=(2, 6, 3))
    mask = random_mask(rng, (3, 1, 5, 6))
    dout = rng.normal(size=(3, 2, 5, 3))
    out, cache = A.sdpa_forward(q, k, v, mask)
    dq, dk, dv = A.sdpa_backward(dout, **cache)

    qt, kt, vt = tt(q, True), tt(k, True), tt(v, True)
    t_out = F.scaled_dot_product_attention(qt, kt.expand(3, 2, 6, 4), vt.expand(3, 2, 6, 3),
                                           attn_mask=torch.from_numpy(mask))
    (t_out * tt(dout)).sum().backward()
    np.testing.assert_allclose(out, npy(t_out), rtol=1e-10, atol=1e-12)
    for ours, theirs in [(dq, qt), (dk, kt), (dv, vt)]:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, npy(theirs.grad), rtol=1e-9, atol=1e-11)


def test_sdpa_fully_masked_row_is_zero_not_nan(rng):
    B, L, S, d = 2, 4, 5, 3
    q, k, v = rng.normal(size=(B, L, d)), rng.normal(size=(B, S, d)), rng.normal(size=(B, S, 2))
    mask = random_mask(rng, (B, L, S))
    mask[0, 1] = False                        # query 1 of batch 0 sees nothing
    mask[1, 3] = False
    dout = rng.normal(size=(B, L, 2))
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = A.sdpa_forward(q, k, v, mask)
        dq, dk, dv = A.sdpa_backward(dout, **cache)
    w = cache["weights"]
    assert np.all(w[0, 1] == 0) and np.all(w[1, 3] == 0)
    assert np.all(out[0, 1] == 0) and np.all(out[1, 3] == 0)
    assert np.all(dq[0, 1] == 0) and np.all(dq[1, 3] == 0)

    # A plain masked softmax gives NaN for such a row ...
    assert np.isnan(torch_attn_weights(q, k, mask)[0, 1]).all()
    # ... torch's F.scaled_dot_product_attention (torch >= 2.5) gives 0, as we do.
    t_out, t_dq, t_dk, t_dv = torch_sdpa_grads(q, k, v, dout, mask)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dq, t_dq, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dk, t_dk, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dv, t_dv, rtol=1e-9, atol=1e-11)
    # and on the live rows both equal the plain formula
    live = mask.any(axis=-1)
    np.testing.assert_allclose(w[live], torch_attn_weights(q, k, mask)[live], rtol=1e-10)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_sdpa_large_scores_stable(rng, dtype, rtol):
    q = (rng.normal(size=(2, 4, 8)) * 40).astype(dtype)       # scores of order 1e4
    k = (rng.normal(size=(2, 6, 8)) * 40).astype(dtype)
    v = rng.normal(size=(2, 6, 3)).astype(dtype)
    mask = random_mask(rng, (2, 4, 6))
    dout = rng.normal(size=(2, 4, 3)).astype(dtype)
    scores = np.abs(q.astype(np.float64) @ k.swapaxes(-1, -2).astype(np.float64))
    assert scores.max() / np.sqrt(8) > 1e3
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = A.sdpa_forward(q, k, v, mask)
        grads = A.sdpa_backward(dout, **cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    t = torch_sdpa_grads(q, k, v, dout, mask)
    np.testing.assert_allclose(out, t[0], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(cache["weights"], torch_attn_weights(q, k, mask), atol=rtol)
    for ours, theirs in zip(grads, t[1:], strict=True):   # saturated softmax: dq, dk ~ 0
        np.testing.assert_allclose(ours, theirs, rtol=rtol,
                                   atol=rtol * max(1.0, np.abs(theirs).max()))


def test_sdpa_float32_stays_float32(rng):
    q, k, v = (rng.normal(size=(2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    out, w = A.scaled_dot_product_attention(q, k, v)
    assert out.dtype == np.float32 and w.dtype == np.float32
    np.testing.assert_allclose(out, npy(F.scaled_dot_product_attention(tt(q), tt(k), tt(v))),
                               rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(L=st.integers(1, 6), S=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_sdpa_weights_are_distributions(L, S, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(L, 3)) * 10, rng.normal(size=(S, 3)) * 10, rng.normal(size=(S, 2))
    mask = rng.random((L, S)) < 0.5
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    assert np.all(w[~mask] == 0)
    sums = w.sum(axis=-1)
    np.testing.assert_allclose(sums[mask.any(axis=-1)], 1.0, rtol=1e-12)
    assert np.all(sums[~mask.any(axis=-1)] == 0)
    np.testing.assert_allclose(out, w @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad_mask", [
    np.ones((3, 4)),                      # float
    np.ones((3, 4), dtype=np.int64),      # 0/1 ints are ambiguous
    np.ones((4, 3), dtype=bool),          # transposed
    np.ones((5, 3, 4), dtype=bool),       # would grow the batch
    [[1, 0, 1, 1]] * 3,
])
def test_sdpa_bad_mask_raises(rng, bad_mask):
    q, k, v = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 5))
    with pytest.raises(ValueError, match="mask"):
        A.scaled_dot_product_attention(q, k, v, bad_mask)


@pytest.mark.parametrize("shapes, name", [
    (((3, 2), (4, 3), (4, 5)), "k"),        # d mismatch
    (((3, 2), (4, 2), (5, 5)), "v"),        # S mismatch
    (((3,), (4, 2), (4, 5)), "q"),          # 1-D
    (((3, 0), (4, 0), (4, 5)), "d"),        # empty feature axis
    (((3, 2), (0, 2), (0, 5)), "S"),        # no keys
    (((2, 3, 2), (3, 4, 2), (3, 4, 5)), "broadcast"),
])
def test_sdpa_bad_shapes_raise(shapes, name):
    q, k, v = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match=name):
        A.sdpa_forward(q, k, v)


def test_sdpa_backward_bad_dout(rng):
    _, cache = A.sdpa_forward(rng.normal(size=(3, 2)), rng.normal(size=(4, 2)),
                              rng.normal(size=(4, 5)))
    with pytest.raises(ValueError, match="dout"):
        A.sdpa_backward(np.zeros((3, 4)), **cache)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_backward_from_weights_matches_torch(rng, dtype):
    # the exercise's signature: plain arrays, L != S, heads, masks with fully masked rows
    B, H, L, S, d, dv = 2, 3, 4, 6, 5, 2
    q, k = rng.normal(size=(B, H, L, d)), rng.normal(size=(B, H, S, d))
    v, dout = rng.normal(size=(B, H, S, dv)), rng.normal(size=(B, H, L, dv))
    mask = random_mask(rng, (B, H, L, S))
    mask[0, 1, 2] = False                      # a query that may attend to no key
    mask[1, :, 0] = False
    q, k, v, dout = (a.astype(dtype) for a in (q, k, v, dout))
    _, weights = A.scaled_dot_product_attention(q, k, v, mask)
    weights = np.ascontiguousarray(weights)    # any layout, not only the forward's view
    with np.errstate(all="raise"):
        dq, dk, dv_ = A.sdpa_backward(dout, q, k, v, weights)
    _, t_dq, t_dk, t_dv = torch_sdpa_grads(q, k, v, dout, mask)
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for ours, theirs in ((dq, t_dq), (dk, t_dk), (dv_, t_dv)):
        assert ours.dtype == dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, **tol)
    assert np.all(dq[0, 1, 2] == 0) and np.all(dq[1, :, 0] == 0)


def test_sdpa_backward_gradient_check(rng):
    # independent of torch: central differences of <out, dout> through the forward
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = random_mask(rng, (3, 5))
    mask[1] = False
    dout = rng.normal(size=(3, 2))
    _, weights = A.scaled_dot_product_attention(q, k, v, mask)
    grads = A.sdpa_backward(dout, q, k, v, weights)
    args = [q, k, v]
    for i, g in enumerate(grads):
        num = np.zeros_like(args[i])
        for idx in np.ndindex(args[i].shape):
            for sign in (1, -1):
                moved = [a.copy() for a in args]
                moved[i][idx] += sign * 1e-6
                out, _ = A.scaled_dot_product_attention(*moved, mask)
                num[idx] += sign * np.sum(out * dout) / 2e-6
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_sdpa_backward_bad_weights(rng):
    q, k, v = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 5))
    _, w = A.scaled_dot_product_attention(q, k, v)
    with pytest.raises(ValueError, match="weights"):
        A.sdpa_backward(np.zeros((3, 5)), q, k, v, w.T)
    with pytest.raises(ValueError, match="dout"):
        A.sdpa_backward(np.zeros((3, 4)), q, k, v, w)
    with pytest.raises(ValueError, match="v"):
        A.sdpa_backward(np.zeros((3, 5)), q, k, v[:3], w)


def test_causal_mask_matches_torch():
    for T in (1, 2, 7):
        np.testing.assert_array_equal(A.causal_mask(T),
                                      torch.tril(torch.ones(T, T, dtype=torch.bool)).numpy())
    assert A.causal_mask(3).dtype == bool
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="T"):
            A.causal_mask(bad)


# ---------------------------------------------------------------------------
# heads
# ---------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 3), L=st.integers(1, 5), H=st.integers(1, 4), d=st.integers(1, 4))
def test_split_merge_round_trip(B, L, H, d):
    x = np.arange(B * L * H * d, dtype=np.float64).reshape(B, L, H * d)
    heads = A.split_heads(x, H)
    assert heads.shape == (B, H, L, d)
    expected = torch.from_numpy(x).view(B, L, H, d).transpose(1, 2).numpy()
    np.testing.assert_array_equal(heads, expected)
    np.testing.assert_array_equal(A.merge_heads(heads), x)
    np.testing.assert_array_equal(A.merge_heads(heads, H), x)
    np.testing.assert_array_equal(A.split_heads(A.merge_heads(heads), H), heads)


def test_split_merge_bad_inputs():
    with pytest.raises(ValueError, match="num_heads"):
        A.split_heads(np.zeros((2, 3, 10)), 3)
    with pytest.raises(ValueError, match="num_heads"):
        A.split_heads(np.zeros((2, 3, 10)), 0)
    with pytest.raises(ValueError, match="x"):
        A.split_heads(np.zeros(10), 2)
    with pytest.raises(ValueError, match="num_heads"):
        A.merge_heads(np.zeros((2, 4, 3, 5)), 2)
    with pytest.raises(ValueError, match="x"):
        A.merge_heads(np.zeros((3, 5)))


# ---------------------------------------------------------------------------
# multi-head attention
# ---------------------------------------------------------------------------

def make_torch_mha(rng, E, H, bias=True):
    mha = torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():   # random biases so they are tested too
        for p in mha.parameters():
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.5))
    w = {
        "in_proj_weight": npy(mha.in_proj_weight),
        "in_proj_bias": None if mha.in_proj_bias is None else npy(mha.in_proj_bias),
        "out_proj_weight": npy(mha.out_proj.weight),
        "out_proj_bias": None if mha.out_proj.bias is None else npy(mha.out_proj.bias),
    }
    return mha, w


def to_torch_mask(mask, B, H, L, S):
    """Our (L,S)/(B,L,S)/(B,H,L,S) True=attend mask -> torch attn_mask (True=blocked)."""
    if mask is None:
        return None
    m = np.broadcast_to(mask, (L, S)) if mask.ndim == 2 else mask
    if m.ndim == 3:
        m = np.broadcast_to(m[:, None], (B, H, L, S))
    elif m.ndim == 4:
        m = np.broadcast_to(m, (B, H, L, S))
    if m.ndim == 4:
        m = m.reshape(B * H, L, S)
    return torch.from_numpy(~m)


@pytest.mark.parametrize("B, L, S, E, H", [(2, 5, 5, 8, 2), (3, 4, 6, 12, 3), (1, 1, 1, 4, 4)])
@pytest.mark.parametrize("mask_kind", ["none", "LS", "BLS", "BHLS", "key_padding"])
def test_mha_matches_torch(rng, B, L, S, E, H, mask_kind):
    mha, w = make_torch_mha(rng, E, H)
    query, key, value = rng.normal(size=(B, L, E)), rng.normal(size=(B, S, E)), \
        rng.normal(size=(B, S, E))
    mask = {
        "none": None,
        "LS": random_mask(rng, (L, S)),
        "BLS": random_mask(rng, (B, L, S)),
        "BHLS": random_mask(rng, (B, H, L, S)),
        "key_padding": random_mask(rng, (B, 1, S)),
    }[mask_kind]
    dout = rng.normal(size=(B, L, E))

    out, cache = A.multi_head_attention_forward(query, key, value, H, **w, mask=mask)
    dquery, dkey, dvalue, grads = A.multi_head_attention_backward(dout, cache)
    out2, weights = A.multi_head_attention(query, key, value, H, **w, mask=mask)

    tq, tk, tv = tt(query, True), tt(key, True), tt(value, True)
    if mask_kind == "key_padding":
        t_out, t_w = mha(tq, tk, tv, key_padding_mask=torch.from_numpy(~mask[:, 0]),
                         average_attn_weights=False)
    else:
        t_out, t_w = mha(tq, tk, tv, attn_mask=to_torch_mask(mask, B, H, L, S),
                         average_attn_weights=False)
    (t_out * tt(dout)).sum().backward()

    tol = dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(out, npy(t_out), **tol)
    np.testing.assert_array_equal(out2, out)
    assert weights.shape == (B, H, L, S)
    np.testing.assert_allclose(weights, npy(t_w), **tol)
    np.testing.assert_allclose(dquery, npy(tq.grad), **tol)
    np.testing.assert_allclose(dkey, npy(tk.grad), **tol)
    np.testing.assert_allclose(dvalue, npy(tv.grad), **tol)
    np.testing.assert_allclose(grads["in_proj_weight"], npy(mha.in_proj_weight.grad), **tol)
    np.testing.assert_allclose(grads["in_proj_bias"], npy(mha.in_proj_bias.grad), **tol)
    np.testing.assert_allclose(grads["out_proj.weight"], npy(mha.out_proj.weight.grad), **tol)
    np.testing.assert_allclose(grads["out_proj.bias"], npy(mha.out_proj.bias.grad), **tol)


def test_mha_self_attention_without_bias(rng):
    B, L, E, H = 2, 6, 8, 4
    mha, w = make_torch_mha(rng, E, H, bias=False)
    x, dout = rng.normal(size=(B, L, E)), rng.normal(size=(B, L, E))
    mask = A.causal_mask(L)
    out, cache = A.multi_head_attention_forward(x, x, x, H, **w, mask=mask)
    dq, dk, dv, grads = A.multi_head_attention_backward(dout, cache)
    assert grads["in_proj_bias"] is None and grads["out_proj.bias"] is None

    xt = tt(x, True)
    t_out, _ = mha(xt, xt, xt, attn_mask=torch.from_numpy(~mask), need_weights=False)
    (t_out * tt(dout)).sum().backward()
    np.testing.assert_allclose(out, npy(t_out), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(dq + dk + dv, npy(xt.grad), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(grads["in_proj_weight"], npy(mha.in_proj_weight.grad),
                               rtol=1e-9, atol=1e-10)


def test_mha_fully_masked_row(rng):
    B, L, E, H = 1, 3, 4, 2
    mha, w = make_torch_mha(rng, E, H)
    x = rng.normal(size=(B, L, E))
    mask = np.ones((L, L), dtype=bool)
    mask[1] = False
    out, weights = A.multi_head_attention(x, x, x, H, **w, mask=mask)
    assert np.all(weights[:, :, 1] == 0)
    np.testing.assert_allclose(out[0, 1], w["out_proj_bias"], rtol=1e-12)   # zero heads
    # torch's weights path (need_weights=True) gives NaN for that row,
    t_out, _ = mha(tt(x), tt(x), tt(x), attn_mask=torch.from_numpy(~mask))
    assert torch.isnan(t_out[0, 1]).all()
    np.testing.assert_allclose(out[0, [0, 2]], npy(t_out[0, [0, 2]]), rtol=1e-9, atol=1e-10)
    # its fused path (need_weights=False, F.scaled_dot_product_attention) agrees with us
    t_out, _ = mha(tt(x), tt(x), tt(x), attn_mask=torch.from_numpy(~mask), need_weights=False)
    np.testing.assert_allclose(out, npy(t_out), rtol=1e-9, atol=1e-10)


def test_mha_float32_stays_float32(rng):
    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    w_in, w_out = (rng.normal(size=s).astype(np.float32) for s in [(24, 8), (8, 8)])
    out, cache = A.multi_head_attention_forward(x, x, x, 2, w_in, None, w_out, None)
    _, _, _, grads = A.multi_head_attention_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and grads["in_proj_weight"].dtype == np.float32


def _mha_args(rng, B=2, L=3, S=4, E=6, H=2):
    return dict(query=rng.normal(size=(B, L, E)), key=rng.normal(size=(B, S, E)),
                value=rng.normal(size=(B, S, E)), num_heads=H,
                in_proj_weight=rng.normal(size=(3 * E, E)), in_proj_bias=np.zeros(3 * E),
                out_proj_weight=rng.normal(size=(E, E)), out_proj_bias=np.zeros(E))


@pytest.mark.parametrize("name, value", [
    ("num_heads", 4),                      # 6 % 4 != 0
    ("num_heads", 0),
    ("num_heads", 2.0),
    ("query", np.zeros((3, 6))),
    ("key", np.zeros((3, 4, 6))),          # batch mismatch
    ("key", np.zeros((2, 4, 5))),          # E mismatch
    ("value", np.zeros((2, 5, 6))),        # S mismatch
    ("in_proj_weight", np.zeros((6, 6))),
    ("in_proj_bias", np.zeros(6)),
    ("out_proj_weight", np.zeros((6, 5))),
    ("out_proj_bias", np.zeros(5)),
    ("mask", np.ones((3, 4))),             # not bool
    ("mask", np.ones((4, 3), dtype=bool)),
    ("mask", np.ones((2, 2, 3, 5), dtype=bool)),
    ("mask", np.ones(4, dtype=bool)),
    ("mask", np.ones((3, 3, 4), dtype=bool)),   # batch 3 != 2
])
def test_mha_bad_inputs_raise(rng, name, value):
    args = _mha_args(rng)
    args[name] = value
    with pytest.raises(ValueError, match=name):
        A.multi_head_attention(**args)


def test_mha_backward_bad_dout(rng):
    out, cache = A.multi_head_attention_forward(**_mha_args(rng))
    with pytest.raises(ValueError, match="dout"):
        A.multi_head_attention_backward(np.zeros((2, 4, 6)), cache)


# ---------------------------------------------------------------------------
# positional encoding
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("T, d", [(1, 1), (7, 4), (50, 16), (9, 5), (3, 3)])
def test_positional_encoding_matches_formula(T, d):
    # the PyTorch-tutorial formulation: exp/log frequencies instead of powers
    position = torch.arange(T, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d // 2])
    ours = A.sinusoidal_positional_encoding(T, d)
    assert ours.shape == (T, d)
    np.testing.assert_allclose(ours, pe.numpy(), rtol=1e-12, atol=1e-12)


def test_positional_encoding_bad_args():
    for T, d, name in [(0, 4, "seq_len"), (3, 0, "d_model"), (2.0, 4, "seq_len"),
                       (3, -2, "d_model")]:
        with pytest.raises(ValueError, match=name):
            A.sinusoidal_positional_encoding(T, d)


# ---------------------------------------------------------------------------
# encoder block
# ---------------------------------------------------------------------------

def make_layer(rng, E, H, Fdim, norm_first, activation):
    params = A.init_encoder_block_params(E, H, Fdim, rng)
    for name in ("self_attn.in_proj_bias", "self_attn.out_proj.bias", "norm1.weight",
                 "norm1.bias", "norm2.weight", "norm2.bias"):   # non-trivial values
        params[name] = params[name] + rng.normal(size=params[name].shape) * 0.3
    layer = torch.nn.TransformerEncoderLayer(E, H, Fdim, dropout=0.0, activation=activation,
                                             batch_first=True, norm_first=norm_first,
                                             dtype=torch.float64)
    layer.load_state_dict({n: torch.from_numpy(params[n]) for n in A.ENCODER_PARAM_NAMES})
    return params, layer


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu"),
                                                    (False, "gelu"), (True, "relu")])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "BLS", "dead_row"])
def test_encoder_block_matches_torch(rng, norm_first, activation, mask_kind):
    B, L, E, H, Fdim = 2, 5, 8, 2, 12
    params, layer = make_layer(rng, E, H, Fdim, norm_first, activation)
    x, dout = rng.normal(size=(B, L, E)), rng.normal(size=(B, L, E))
    mask = {"none": None, "causal": A.causal_mask(L), "BLS": random_mask(rng, (B, L, L)),
            "dead_row": random_mask(rng, (B, L, L))}[mask_kind]
    if mask_kind == "dead_row":   # torch's layer uses the fused SDPA path: zeros, as we do
        mask[1, 2] = False

    out, cache = A.encoder_block_forward(x, params, mask, norm_first=norm_first,
                                         activation=activation)
    dx, grads = A.encoder_block_backward(dout, cache)

    xt = tt(x, True)
    t_out = layer(xt, src_mask=to_torch_mask(mask, B, H, L, L))
    (t_out * tt(dout)).sum().backward()

    tol = dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(out, npy(t_out), **tol)
    np.testing.assert_allclose(dx, npy(xt.grad), **tol)
    assert set(grads) == set(A.ENCODER_PARAM_NAMES)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(grads[name], npy(p.grad), err_msg=name, **tol)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_backward_pieces_are_used(rng, norm_first):
    from dlnotes import regularization as R

    B, L, E, H, Fdim = 2, 4, 8, 2, 12
    params, _ = make_layer(rng, E, H, Fdim, norm_first, "relu")
    x, dout = rng.normal(size=(B, L, E)), rng.normal(size=(B, L, E))
    mask = A.causal_mask(L)
    out, cache = A.encoder_block_forward(x, params, mask, norm_first=norm_first)
    # the LayerNorm caches are exactly layer_norm_forward's (a chapter-6 backward reads them)
    if norm_first:
        expected = R.layer_norm_forward(x, params["norm1.weight"], params["norm1.bias"])[1]
        assert len(cache["norm1"]) == len(expected)
        for ours, theirs in zip(cache["norm1"], expected, strict=True):
            np.testing.assert_array_equal(ours, theirs)

    dx, grads = A.encoder_block_backward(dout, cache)
    calls = {"ln": 0, "sdpa": []}

    def ln_ref(dy, c):
        calls["ln"] += 1
        return R.layer_norm_backward(dy, c)

    def sdpa_ref(d, q, k, v, w):
        calls["sdpa"].append((q.shape, k.shape, v.shape, w.shape))
        return A.sdpa_backward(d, q, k, v, w)

    dx2, grads2 = A.encoder_block_backward(dout, cache, layer_norm_backward=ln_ref,
                                           sdpa_backward=sdpa_ref)
    assert calls["ln"] == 2
    assert calls["sdpa"] == [((B, H, L, E // H),) * 3 + ((B, H, L, L),)]
    np.testing.assert_array_equal(dx2, dx)
    for n in A.ENCODER_PARAM_NAMES:
        np.testing.assert_array_equal(grads2[n], grads[n], err_msg=n)

    def ln_wrong(dy, c):   # forgets the mean terms: a classic LayerNorm-backward slip
        xhat, gamma, inv_std = c
        return dy * gamma * inv_std, (dy * xhat).sum(axis=(0, 1)), dy.sum(axis=(0, 1))

    def sdpa_wrong(d, q, k, v, w):   # the 1/sqrt(d) forgotten in dq and dk
        dq, dk, dv = A.sdpa_backward(d, q, k, v, w)
        return dq * np.sqrt(q.shape[-1]), dk * np.sqrt(q.shape[-1]), dv

    dx3, grads3 = A.encoder_block_backward(dout, cache, ln_wrong)
    assert not np.allclose(dx3, dx)
    assert not np.allclose(grads3["self_attn.in_proj_weight"], grads["self_attn.in_proj_weight"])
    dx4, grads4 = A.encoder_block_backward(dout, cache, sdpa_backward=sdpa_wrong)
    assert not np.allclose(dx4, dx)
    assert not np.allclose(grads4["self_attn.in_proj_weight"], grads["self_attn.in_proj_weight"])
    # the value path does not go through the scores: dv and W_O's gradient are unchanged
    np.testing.assert_allclose(grads4["self_attn.out_proj.weight"],
                               grads["self_attn.out_proj.weight"], rtol=1e-12)


def test_encoder_block_with_a_given_attention(rng):
    # a demo's own attention forward (row-major weights, float64) goes into the block and
    # its weights into the cache that the backward reads
    B, L, E, H, Fdim = 2, 5, 8, 2, 12
    params, layer = make_layer(rng, E, H, Fdim, True, "gelu")
    x, dout = rng.normal(size=(B, L, E)), rng.normal(size=(B, L, E))
    mask = A.causal_mask(L)
    seen = []

    def attention(q, k, v, m):
        seen.append((q.shape, k.shape, v.shape, np.shape(m)))
        out, w = A.scaled_dot_product_attention(q, k, v, m)
        return out, np.ascontiguousarray(w)

    out, cache = A.encoder_block_forward(x, params, mask, norm_first=True, activation="gelu",
                                         attention=attention)
    assert seen == [((B, H, L, E // H),) * 3 + ((L, L),)]
    dx, grads = A.encoder_block_backward(dout, cache, sdpa_backward=A.sdpa_backward)
    xt = tt(x, True)
    t_out = layer(xt, src_mask=torch.from_numpy(~mask))
    (t_out * tt(dout)).sum().backward()
    tol = dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(out, npy(t_out), **tol)
    np.testing.assert_allclose(dx, npy(xt.grad), **tol)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(grads[name], npy(p.grad), err_msg=name, **tol)

    def unscaled(q, k, v, m):   # a wrong attention really changes the block
        return A.scaled_dot_product_attention(q * np.sqrt(q.shape[-1]), k, v, m)

    wrong, _ = A.encoder_block_forward(x, params, mask, norm_first=True, activation="gelu",
                                       attention=unscaled)
    assert not np.allclose(wrong, out)
    with pytest.raises(ValueError, match=re.escape("attention returned weights of shape")):
        A.encoder_block_forward(x, params, mask, attention=lambda q, k, v, m: (v, q))


def test_encoder_block_backward_bad_pieces(rng):
    params = A.init_encoder_block_params(8, 2, 16, rng)
    out, cache = A.encoder_block_forward(rng.normal(size=(2, 3, 8)), params)
    dout = np.ones_like(out)
    with pytest.raises(ValueError, match="sdpa_backward"):
        A.encoder_block_backward(dout, cache, sdpa_backward="sdpa")
    with pytest.raises(ValueError, match="layer_norm_backward must return"):
        A.encoder_block_backward(dout, cache, layer_norm_backward=lambda d, c: d)
    with pytest.raises(ValueError, match=re.escape("sdpa_backward returned dk of shape")):
        A.encoder_block_backward(dout, cache,
                                 sdpa_backward=lambda d, q, k, v, w: (q, k[..., :1], v))


def test_encoder_block_num_heads_keyword_and_default(rng):
    params = A.init_encoder_block_params(8, 4, 16, rng)
    x = rng.normal(size=(2, 3, 8))
    out_default, cache = A.encoder_block_forward(x, params)
    assert cache["attn"]["weights"].shape == (2, 4, 3, 3)
    arrays = {n: params[n] for n in A.ENCODER_PARAM_NAMES}
    out_kw, _ = A.encoder_block_forward(x, arrays, num_heads=4)
    np.testing.assert_array_equal(out_kw, out_default)
    with pytest.raises(ValueError, match="num_heads"):
        A.encoder_block_forward(x, arrays)
    with pytest.raises(ValueError, match="num_heads"):
        A.encoder_block_forward(x, params, num_heads=2)
    with pytest.raises(ValueError, match="num_heads"):
        A.encoder_block_forward(x, arrays, num_heads=3)


def test_encoder_block_bad_inputs(rng):
    params = A.init_encoder_block_params(8, 2, 16, rng)
    x = rng.normal(size=(2, 3, 8))
    with pytest.raises(ValueError, match="x"):
        A.encoder_block_forward(x[0], params)
    with pytest.raises(ValueError, match=re.escape("linear2.bias")):
        A.encoder_block_forward(x, {k: v for k, v in params.items() if k != "linear2.bias"})
    bad = dict(params, **{"linear2.weight": np.zeros((8, 15))})
    with pytest.raises(ValueError, match=re.escape("linear2.weight")):
        A.encoder_block_forward(x, bad)
    bad = dict(params, **{"norm1.weight": np.zeros(7)})
    with pytest.raises(ValueError, match=re.escape("norm1.weight")):
        A.encoder_block_forward(x, bad)
    with pytest.raises(ValueError, match="activation"):
        A.encoder_block_forward(x, params, activation="tanh")
    with pytest.raises(ValueError, match="mask"):
        A.encoder_block_forward(x, params, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="params"):
        A.encoder_block_forward(x, [1, 2])
    out, cache = A.encoder_block_forward(x, params)
    with pytest.raises(ValueError, match="dout"):
        A.encoder_block_backward(np.zeros((2, 3, 7)), cache)


def test_init_encoder_block_params(rng):
    params = A.init_encoder_block_params(12, 3, 20, rng)
    layer = torch.nn.TransformerEncoderLayer(12, 3, 20, batch_first=True, dtype=torch.float64)
    expected = {n: tuple(t.shape) for n, t in layer.state_dict().items()}
    assert {n: params[n].shape for n in A.ENCODER_PARAM_NAMES} == expected
    assert np.abs(params["self_attn.in_proj_weight"]).max() <= math.sqrt(6 / (12 + 36))
    assert np.abs(params["linear2.weight"]).max() <= 1 / math.sqrt(20)
    with pytest.raises(ValueError, match="num_heads"):
        A.init_encoder_block_params(12, 5, 20, rng)
    with pytest.raises(ValueError, match="rng"):
        A.init_encoder_block_params(12, 3, 20, 0)


def test_tiny_transformer_trains(rng):
    """Pre-norm block + linear read-out, trained with Adam, learns to output the
    previous token's sign (needs the causal attention to look one step back)."""
    B, L, E, H = 16, 6, 8, 2
    params = A.init_encoder_block_params(E, H, 16, rng)
    params["w_out"] = rng.normal(size=(1, E)) * 0.1
    signs = rng.choice([-1.0, 1.0], size=(B, L))
    x = np.zeros((B, L, E))
    x[..., 0] = signs
    x += A.sinusoidal_positional_encoding(L, E)
    target = np.concatenate([np.zeros((B, 1)), signs[:, :-1]], axis=1)
    m, v, losses = {}, {}, []
    for t in range(1, 151):
        h, cache = A.encoder_block_forward(x, params, A.causal_mask(L), norm_first=True)
        err = (h @ params["w_out"].T)[..., 0] - target
        losses.append(float(np.mean(err ** 2)))
        dpred = 2 * err[..., None] / err.size
        _, grads = A.encoder_block_backward(dpred @ params["w_out"], cache)
        grads["w_out"] = dpred.reshape(-1, 1).T @ h.reshape(-1, E)
        for n, g in grads.items():   # Adam, lr 0.01
            m[n] = 0.9 * m.get(n, 0) + 0.1 * g
            v[n] = 0.999 * v.get(n, 0) + 0.001 * g * g
            step = (m[n] / (1 - 0.9 ** t)) / (np.sqrt(v[n] / (1 - 0.999 ** t)) + 1e-8)
            params[n] = params[n] - 0.01 * step
    assert losses[-1] < 0.1 * losses[0]
