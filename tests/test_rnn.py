"""Tests for dlnotes.rnn against torch.nn.RNN / LSTM / GRU and their cells.

The oracle is torch autograd in float64 with the same weights copied into
``weight_ih_l0`` etc., computed here at test time. The loss is
``sum(hs * R)`` for a random ``R``, so ``dhs = R`` is a random upstream
gradient; for the LSTM the loss also uses the final ``(h_T, c_T)``.
"""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import rnn

LAYERS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
N_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


# --------------------------------------------------------------------------
# helpers: one problem, solved by dlnotes and by torch
# --------------------------------------------------------------------------

def make_problem(rng, layer, T, N, I, H, bias=True, scale=0.5, x_scale=1.0):
    G = N_GATES[layer]
    p = {
        "x": x_scale * rng.standard_normal((T, N, I)),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)) if layer == "lstm" else None,
        "W_ih": scale * rng.standard_normal((G * H, I)),
        "W_hh": scale * rng.standard_normal((G * H, H)),
        "b_ih": scale * rng.standard_normal(G * H) if bias else None,
        "b_hh": scale * rng.standard_normal(G * H) if bias else None,
        "R": rng.standard_normal((T, N, H)),          # dL/dhs
    }
    if layer == "lstm":
        p["RhT"] = rng.standard_normal((N, H))        # dL/dh_T (extra)
        p["RcT"] = rng.standard_normal((N, H))        # dL/dc_T
    return p


def run_ours(layer, p):
    """Forward + backward with dlnotes; returns a dict of named results."""
    args = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if layer == "lstm":
        hs, (hT, cT), cache = rnn.lstm_forward(p["x"], p["h0"], p["c0"], *args)
        dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh = rnn.lstm_backward(
            p["R"], cache, dhT=p["RhT"], dcT=p["RcT"])
        out = {"hT": hT, "cT": cT, "dc0": dc0}
    else:
        if layer == "gru":
            hs, cache = rnn.gru_forward(p["x"], p["h0"], *args)
            grads = rnn.gru_backward(p["R"], cache)
        else:
            hs, cache = rnn.rnn_forward(p["x"], p["h0"], *args, nonlinearity=layer[4:])
            grads = rnn.rnn_backward(p["R"], cache)
        dx, dh0, dW_ih, dW_hh, db_ih, db_hh = grads
        out = {}
    out.update(hs=hs, dx=dx, dh0=dh0, dW_ih=dW_ih, dW_hh=dW_hh, db_ih=db_ih, db_hh=db_hh)
    return out


def torch_module(layer, I, H, p):
    bias = p["b_ih"] is not None
    if layer == "lstm":
        m = torch.nn.LSTM(I, H, bias=bias)
    elif layer == "gru":
        m = torch.nn.GRU(I, H, bias=bias)
    else:
        m = torch.nn.RNN(I, H, nonlinearity=layer[4:], bias=bias)
    m = m.double()
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.from_numpy(p["W_ih"]))
        m.weight_hh_l0.copy_(torch.from_numpy(p["W_hh"]))
        if bias:
            m.bias_ih_l0.copy_(torch.from_numpy(p["b_ih"]))
            m.bias_hh_l0.copy_(torch.from_numpy(p["b_hh"]))
    return m


def run_torch(layer, p):
    """The same forward + backward with torch autograd in float64."""
    T, N, I = p["x"].shape
    H = p["W_hh"].shape[1]
    m = torch_module(layer, I, H, p)

    def leaf(a):
        return torch.tensor(a, dtype=torch.float64, requires_grad=True)

    x, h0 = leaf(p["x"]), leaf(p["h0"])
    out = {}
    if layer == "lstm":
        c0 = leaf(p["c0"])
        hs, (hT, cT) = m(x, (h0[None], c0[None]))
        loss = ((hs * torch.from_numpy(p["R"])).sum()
                + (hT[0] * torch.from_numpy(p["RhT"])).sum()
                + (cT[0] * torch.from_numpy(p["RcT"])).sum())
    else:
        hs, _ = m(x, h0[None])
        loss = (hs * torch.from_numpy(p["R"])).sum()
    loss.backward()
    if layer == "lstm":
        out.update(hT=hT[0].detach().numpy(), cT=cT[0].detach().numpy(), dc0=c0.grad.numpy())
    bias = p["b_ih"] is not None
    out.update(
        hs=hs.detach().numpy(), dx=x.grad.numpy(), dh0=h0.grad.numpy(),
        dW_ih=m.weight_ih_l0.grad.numpy(), dW_hh=m.weight_hh_l0.grad.numpy(),
        db_ih=m.bias_ih_l0.grad.numpy() if bias else None,
        db_hh=m.bias_hh_l0.grad.numpy() if bias else None,
    )
    return out


def assert_match(ours, ref, rtol=1e-9, atol=1e-11):
    assert ours.keys() == ref.keys()
    for name in ref:
        if ref[name] is None:
            assert ours[name] is None, name
            continue
        assert ours[name].shape == ref[name].shape, name
        np.testing.assert_allclose(ours[name], ref[name], rtol=rtol, atol=atol, err_msg=name)


# --------------------------------------------------------------------------
# forward values and every gradient vs torch
# --------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("T,N", [(1, 1), (1, 3), (7, 1), (7, 3)])
def test_matches_torch(rng, layer, T, N):
    p = make_problem(rng, layer, T, N, I=4, H=5)
    ours = run_ours(layer, p)
    assert ours["hs"].dtype == np.float64
    assert_match(ours, run_torch(layer, p))


@pytest.mark.parametrize("layer", LAYERS)
def test_no_bias_matches_torch(rng, layer):
    p = make_problem(rng, layer, T=6, N=2, I=3, H=4, bias=False)
    ours = run_ours(layer, p)
    assert ours["db_ih"] is None and ours["db_hh"] is None
    assert_match(ours, run_torch(layer, p))


@pytest.mark.parametrize("layer", ["rnn_tanh", "lstm", "gru"])
def test_saturating_inputs_match_torch_without_warnings(rng, layer):
    # pre-activations of magnitude ~1e3: stable sigmoid, no overflow or NaN
    # (underflow to 0 of a saturated gate times a small number is harmless)
    p = make_problem(rng, layer, T=5, N=2, I=3, H=4, x_scale=1e3)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = run_ours(layer, p)
    assert_match(ours, run_torch(layer, p))


def test_relu_kink_gradient_is_zero_like_torch(rng):
    # all pre-activations are exactly 0: torch's relu'(0) = 0
    p = make_problem(rng, "rnn_relu", T=3, N=2, I=3, H=4)
    p["W_ih"][:], p["W_hh"][:], p["b_ih"][:], p["b_hh"][:] = 0, 0, 0, 0
    ours = run_ours("rnn_relu", p)
    assert not ours["dx"].any()
    assert_match(ours, run_torch("rnn_relu", p))


@settings(max_examples=30, deadline=None)
@given(
    layer=st.sampled_from(LAYERS),
    T=st.integers(1, 6), N=st.integers(1, 4), I=st.integers(1, 5), H=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_sizes_match_torch(layer, T, N, I, H, seed):
    p = make_problem(np.random.default_rng(seed), layer, T, N, I, H)
    assert_match(run_ours(layer, p), run_torch(layer, p))


# --------------------------------------------------------------------------
# numerical gradient (independent of torch)
# --------------------------------------------------------------------------

def loss_ours(layer, p):
    o = run_ours(layer, p)
    loss = np.sum(o["hs"] * p["R"])
    if layer == "lstm":
        loss += np.sum(o["hT"] * p["RhT"]) + np.sum(o["cT"] * p["RcT"])
    return loss


@pytest.mark.parametrize("layer", LAYERS)
def test_numerical_gradient_spot_check(rng, layer):
    p = make_problem(rng, layer, T=4, N=2, I=3, H=3)
    grads = run_ours(layer, p)
    names = ["x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"] + (["c0"] if layer == "lstm" else [])
    eps = 1e-6
    for name in names:
        arr = p[name]
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in arr.shape)
            old = arr[idx]
            arr[idx] = old + eps
            up = loss_ours(layer, p)
            arr[idx] = old - eps
            down = loss_ours(layer, p)
            arr[idx] = old
            numeric = (up - down) / (2 * eps)
            np.testing.assert_allclose(grads["d" + name][idx], numeric, rtol=1e-5, atol=1e-7,
                                       err_msg=f"d{name}{idx}")


# --------------------------------------------------------------------------
# single-step cells vs nn.RNNCell / LSTMCell / GRUCell
# --------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("N", [1, 3])
def test_step_matches_torch_cell(rng, layer, N):
    I, H = 4, 5
    p = make_problem(rng, layer, T=1, N=N, I=I, H=H)
    x_t = p["x"][0]
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if layer == "lstm":
        cell = torch.nn.LSTMCell(I, H)
    elif layer == "gru":
        cell = torch.nn.GRUCell(I, H)
    else:
        cell = torch.nn.RNNCell(I, H, nonlinearity=layer[4:])
    cell = cell.double()
    with torch.no_grad():
        for name, a in zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], W, strict=True):
            getattr(cell, name).copy_(torch.from_numpy(a))
        tx, th = torch.from_numpy(x_t), torch.from_numpy(p["h0"])
        if layer == "lstm":
            h_ref, c_ref = (t.numpy() for t in cell(tx, (th, torch.from_numpy(p["c0"]))))
            h, c = rnn.lstm_step(x_t, p["h0"], p["c0"], *W)
            np.testing.assert_allclose(c, c_ref, rtol=1e-12, atol=1e-14)
        elif layer == "gru":
            h_ref = cell(tx, th).numpy()
            h = rnn.gru_step(x_t, p["h0"], *W)
        else:
            h_ref = cell(tx, th).numpy()
            h = rnn.rnn_step(x_t, p["h0"], *W, nonlinearity=layer[4:])
    assert h.shape == (N, H)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer", LAYERS)
def test_forward_is_the_step_unrolled(rng, layer):
    p = make_problem(rng, layer, T=5, N=2, I=3, H=4)
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    h, c = p["h0"], p["c0"]
    for t in range(5):
        if layer == "lstm":
            h, c = rnn.lstm_step(p["x"][t], h, c, *W)
        elif layer == "gru":
            h = rnn.gru_step(p["x"][t], h, *W)
        else:
            h = rnn.rnn_step(p["x"][t], h, *W, nonlinearity=layer[4:])
        np.testing.assert_allclose(run_ours(layer, p)["hs"][t], h, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# dtype, defaults, aliasing
# --------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_float32_in_float32_out(rng, layer):
    p = make_problem(rng, layer, T=6, N=3, I=4, H=5)
    ref = run_ours(layer, p)
    p32 = {k: (v.astype(np.float32) if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    ours = run_ours(layer, p32)
    for name, value in ours.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, ref[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_mixed_dtypes_compute_in_float64(rng):
    p = make_problem(rng, "gru", T=3, N=2, I=3, H=4)
    hs, _ = rnn.gru_forward(p["x"].astype(np.float32), p["h0"], p["W_ih"], p["W_hh"],
                            p["b_ih"], p["b_hh"])
    assert hs.dtype == np.float64


def test_integer_input_is_accepted(rng):
    x = rng.integers(-2, 3, size=(3, 2, 2))
    W_ih, W_hh = rng.standard_normal((4, 2)), rng.standard_normal((4, 4))
    hs, _ = rnn.rnn_forward(x, None, W_ih, W_hh, None, None)
    ref, _ = rnn.rnn_forward(x.astype(float), None, W_ih, W_hh, None, None)
    np.testing.assert_array_equal(hs, ref)


@pytest.mark.parametrize("layer", LAYERS)
def test_none_initial_state_is_zeros(rng, layer):
    p = make_problem(rng, layer, T=3, N=2, I=3, H=4)
    p["h0"] = np.zeros_like(p["h0"])
    if layer == "lstm":
        p["c0"] = np.zeros_like(p["c0"])
    ref = run_ours(layer, p)
    p["h0"], p["c0"] = None, None
    ours = run_ours(layer, p)
    assert_match(ours, ref, rtol=0, atol=0)


@pytest.mark.parametrize("layer", LAYERS)
def test_outputs_do_not_alias_cache_or_inputs(rng, layer):
    p = make_problem(rng, layer, T=4, N=2, I=3, H=4)
    saved = {k: v.copy() for k, v in p.items() if v is not None}
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if layer == "lstm":
        hs, (hT, cT), cache = rnn.lstm_forward(p["x"], p["h0"], p["c0"], *W)
        ref = rnn.lstm_backward(p["R"], cache)
        hs[:], hT[:], cT[:] = np.nan, np.nan, np.nan
        got = rnn.lstm_backward(p["R"], cache)
    else:
        fwd, bwd = ((rnn.gru_forward, rnn.gru_backward) if layer == "gru" else
                    (lambda *a: rnn.rnn_forward(*a, nonlinearity=layer[4:]), rnn.rnn_backward))
        hs, cache = fwd(p["x"], p["h0"], *W)
        ref = bwd(p["R"], cache)
        hs[:] = np.nan
        got = bwd(p["R"], cache)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    for k, v in saved.items():
        np.testing.assert_array_equal(p[k], v, err_msg=k)


def test_lstm_final_state_gradients_default_to_zero(rng):
    p = make_problem(rng, "lstm", T=4, N=2, I=3, H=4)
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    hs, (hT, cT), cache = rnn.lstm_forward(p["x"], p["h0"], p["c0"], *W)
    np.testing.assert_array_equal(hT, hs[-1])
    zeros = np.zeros_like(hT)
    a = rnn.lstm_backward(p["R"], cache)
    b = rnn.lstm_backward(p["R"], cache, dhT=zeros, dcT=zeros)
    for ga, gb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ga, gb)
    # dhT is just an extra gradient on hs[-1]
    R2 = p["R"].copy()
    R2[-1] += p["RhT"]
    c = rnn.lstm_backward(p["R"], cache, dhT=p["RhT"])
    d = rnn.lstm_backward(R2, cache)
    for gc, gd in zip(c, d, strict=True):
        np.testing.assert_allclose(gc, gd, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# bad input -> ValueError naming the argument
# --------------------------------------------------------------------------

T_, N_, I_, H_ = 3, 2, 4, 5


def _good(G):
    rng = np.random.default_rng(1)
    return dict(
        x=rng.standard_normal((T_, N_, I_)), h0=np.zeros((N_, H_)), c0=np.zeros((N_, H_)),
        W_ih=rng.standard_normal((G * H_, I_)), W_hh=rng.standard_normal((G * H_, H_)),
        b_ih=np.zeros(G * H_), b_hh=np.zeros(G * H_),
    )


def _call_forward(layer, **over):
    a = {**_good(N_GATES[layer]), **over}
    W = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if layer == "lstm":
        return rnn.lstm_forward(a["x"], a["h0"], a["c0"], *W)
    if layer == "gru":
        return rnn.gru_forward(a["x"], a["h0"], *W)
    return rnn.rnn_forward(a["x"], a["h0"], *W, nonlinearity=a.get("nl", "tanh"))


def _call_step(layer, **over):
    a = {**_good(N_GATES[layer]), "x_t": np.zeros((N_, I_)), **over}
    W = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if layer == "lstm":
        return rnn.lstm_step(a["x_t"], a["h0"], a["c0"], *W)
    if layer == "gru":
        return rnn.gru_step(a["x_t"], a["h0"], *W)
    return rnn.rnn_step(a["x_t"], a["h0"], *W, nonlinearity=a.get("nl", "tanh"))


def _bad_forward_cases(G):
    GH = G * H_
    return [
        ("x", dict(x=np.zeros((N_, I_)))),                     # 2-D
        ("x", dict(x=np.zeros((1, T_, N_, I_)))),              # 4-D
        ("x", dict(x=np.zeros((0, N_, I_)))),                  # T = 0
        ("x", dict(x=np.zeros((T_, 0, I_)))),                  # N = 0
        ("x", dict(x=np.array([[["a"]]]))),                    # not numbers
        ("x", dict(x=np.zeros((T_, N_, I_), dtype=complex))),
        ("h0", dict(h0=np.zeros((N_ + 1, H_)))),               # N mismatch
        ("h0", dict(h0=np.zeros((N_, H_ + 1)))),               # H mismatch
        ("h0", dict(h0=np.zeros((1, N_, H_)))),                # torch's layer axis
        ("W_ih", dict(W_ih=np.zeros((GH, I_ + 1)))),           # I mismatch
        ("W_ih", dict(W_ih=np.zeros((GH + 1, I_)))),
        ("W_ih", dict(W_ih=np.zeros(GH))),
        ("W_hh", dict(W_hh=np.zeros((GH, H_ + 1)))),
        ("W_hh", dict(W_hh=np.zeros((GH + 2, H_)))),
        ("W_hh", dict(W_hh=np.zeros((GH, H_, 1)))),
        ("W_hh", dict(W_hh=np.zeros((0, 0)))),
        ("b_ih", dict(b_ih=np.zeros(GH + 1))),
        ("b_ih", dict(b_ih=np.zeros((1, GH)))),
        ("b_hh", dict(b_hh=np.zeros(GH + 3))),
    ]


CASES = [(layer, name, over) for layer in LAYERS
         for name, over in _bad_forward_cases(N_GATES[layer])]
CASES += [("lstm", "c0", dict(c0=np.zeros((N_, H_ + 1)))),
          ("lstm", "c0", dict(c0=np.zeros(H_)))]
# the wrong gate count: an RNN-shaped W_hh given to the LSTM and GRU, and vice versa
CASES += [("lstm", "W_hh", dict(W_hh=np.zeros((3 * H_, H_)))),
          ("gru", "W_hh", dict(W_hh=np.zeros((4 * H_, H_)))),
          ("rnn_tanh", "W_hh", dict(W_hh=np.zeros((4 * H_, H_))))]


def _must_name(name):
    return "^" + re.escape(name) + " "


@pytest.mark.parametrize("layer,name,over", CASES)
def test_forward_bad_input_names_the_argument(layer, name, over):
    with pytest.raises(ValueError, match=_must_name(name)):
        _call_forward(layer, **over)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("name,over", [
    ("x_t", dict(x_t=np.zeros((T_, N_, I_)))),
    ("x_t", dict(x_t=np.zeros(I_))),
    ("W_ih", dict(x_t=np.zeros((N_, I_ + 1)))),   # I of x_t disagrees with W_ih
    ("h", dict(h0=np.zeros((N_, H_ + 1)))),
    ("h", dict(h0=np.zeros((N_ + 1, H_)))),
    ("W_hh", dict(W_hh=np.zeros((2, 3)))),
])
def test_step_bad_input_names_the_argument(layer, name, over):
    with pytest.raises(ValueError, match=_must_name(name)):
        _call_step(layer, **over)


def test_lstm_step_bad_c_names_c():
    with pytest.raises(ValueError, match=_must_name("c")):
        _call_step("lstm", c0=np.zeros((N_ + 1, H_)))


@pytest.mark.parametrize("nl", ["sigmoid", "TANH", "", None, 1])
def test_unknown_nonlinearity(nl):
    with pytest.raises(ValueError, match=_must_name("nonlinearity")):
        _call_forward("rnn_tanh", nl=nl)
    with pytest.raises(ValueError, match=_must_name("nonlinearity")):
        _call_step("rnn_tanh", nl=nl)


@pytest.mark.parametrize("layer", LAYERS)
def test_backward_bad_dhs_names_dhs(layer):
    out = _call_forward(layer)
    hs, cache = out[0], out[-1]
    backward = {"lstm": rnn.lstm_backward, "gru": rnn.gru_backward}.get(layer, rnn.rnn_backward)
    for bad in (hs[:-1], hs[..., :-1], hs[0], hs.sum()):
        with pytest.raises(ValueError, match=_must_name("dhs")):
            backward(np.ones_like(bad), cache)
    with pytest.raises(ValueError, match=_must_name("cache")):
        backward(np.ones_like(hs), ("not", "a", "cache"))
    wrong = _call_forward("gru" if layer != "gru" else "lstm")[-1]
    with pytest.raises(ValueError, match=_must_name("cache")):
        backward(np.ones_like(hs), wrong)


def test_lstm_backward_bad_final_state_gradients():
    hs, (hT, cT), cache = _call_forward("lstm")
    with pytest.raises(ValueError, match=_must_name("dhT")):
        rnn.lstm_backward(np.ones_like(hs), cache, dhT=np.ones(H_))
    with pytest.raises(ValueError, match=_must_name("dcT")):
        rnn.lstm_backward(np.ones_like(hs), cache, dcT=np.ones((N_ + 1, H_)))


# -- one LSTM step with an explicit cache, and sampling -------------------------
def _lstm_cell_torch(x, h, c, W_ih, W_hh, b_ih, b_hh):
    cell = torch.nn.LSTMCell(x.shape[1], h.shape[1]).double()
    with torch.no_grad():
        for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                        (W_ih, W_hh, b_ih, b_hh), strict=True):
            p.copy_(torch.from_numpy(v))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    h2, c2 = cell(xt, (ht, ct))
    return cell, (xt, ht, ct), h2, c2


@pytest.mark.parametrize(("N", "I", "H"), [(1, 1, 1), (3, 4, 5), (6, 2, 3)])
def test_lstm_step_backward_matches_torch_autograd(N, I, H, rng):
    x, h, c = rng.normal(size=(N, I)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W_ih, W_hh = rng.normal(size=(4 * H, I)), rng.normal(size=(4 * H, H))
    b_ih, b_hh = rng.normal(size=4 * H), rng.normal(size=4 * H)
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h2, c2, cache = rnn.lstm_step_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)
    grads = rnn.lstm_step_backward(dh, dc, cache)

    cell, (xt, ht, ct), th, tc = _lstm_cell_torch(x, h, c, W_ih, W_hh, b_ih, b_hh)
    np.testing.assert_allclose(h2, th.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c2, tc.detach().numpy(), rtol=1e-12, atol=1e-12)
    (th * torch.from_numpy(dh) + tc * torch.from_numpy(dc)).sum().backward()
    expected = (xt.grad, ht.grad, ct.grad, cell.weight_ih.grad, cell.weight_hh.grad,
                cell.bias_ih.grad, cell.bias_hh.grad)
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_step_forward_cache_layout_and_agreement_with_lstm_step(rng):
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    W_ih, W_hh, b = rng.normal(size=(16, 3)), rng.normal(size=(16, 4)), rng.normal(size=16)
    h2, c2, cache = rnn.lstm_step_forward(x, h, c, W_ih, W_hh, b, b)
    np.testing.assert_allclose((h2, c2), rnn.lstm_step(x, h, c, W_ih, W_hh, b, b))
    x_, h_, c_, i, f, g, o, c_next, W_ih_, W_hh_ = cache
    np.testing.assert_allclose(c_next, f * c + i * g)
    np.testing.assert_allclose(h2, o * np.tanh(c_next))
    assert all(0 < v.min() and v.max() < 1 for v in (i, f, o))
    # None states are zeros, None gradients are zero
    _, _, cache0 = rnn.lstm_step_forward(x, None, None, W_ih, W_hh, None, None)
    assert not cache0[1].any() and not cache0[2].any()
    assert not any(np.any(gr) for gr in rnn.lstm_step_backward(None, None, cache0))


def test_lstm_step_backward_rejects_bad_input(rng):
    _, _, cache = rnn.lstm_step_forward(rng.normal(size=(2, 3)), None, None,
                                        rng.normal(size=(8, 3)), rng.normal(size=(8, 2)),
                                        None, None)
    with pytest.raises(ValueError, match="dh"):
        rnn.lstm_step_backward(np.ones((3, 2)), None, cache)
    with pytest.raises(ValueError, match="cache"):
        rnn.lstm_step_backward(None, None, cache[:5])


def test_sample_next_greedy_makes_no_draw():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    assert rnn.sample_next(np.array([0.5, 2.0, 1.9]), 0, rng) == 1
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_sample_next_draws_from_the_tempered_softmax(temperature):
    logits = np.random.default_rng(1).normal(size=7) * 3
    p = torch.softmax(torch.tensor(logits) / temperature, dim=0).numpy()
    got = [rnn.sample_next(logits, temperature, r) for r in
           (np.random.default_rng(s) for s in range(200))]
    want = [int(np.random.default_rng(s).choice(7, p=p)) for s in range(200)]
    assert got == want


def test_sample_next_never_draws_a_masked_token_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    logits = np.array([1.0, -np.inf, 0.5, -np.inf])
    assert {rnn.sample_next(logits, 2.0, rng) for _ in range(300)} == {0, 2}
    for bad, match in (([np.nan, 1.0], "logits"), ([-np.inf], "logits"), ([], "logits")):
        with pytest.raises(ValueError, match=match):
            rnn.sample_next(bad, 1.0, rng)
    with pytest.raises(ValueError, match="temperature"):
        rnn.sample_next([1.0], -0.1, rng)
    with pytest.raises(ValueError, match="rng"):
        rnn.sample_next([1.0], 1.0, 0)


# -- a character-level language model: LSTM + read-out, truncated BPTT ---------------------
class _TorchCharLSTM(torch.nn.Module):
    """The same model in torch: one-hot input, nn.LSTM, nn.Linear; weights copied in."""

    def __init__(self, params):
        super().__init__()
        V, H = params["W_out"].shape
        self.V = V
        self.lstm = torch.nn.LSTM(V, H).double()
        self.out = torch.nn.Linear(H, V).double()
        with torch.no_grad():
            for mine, theirs in (("W_ih", self.lstm.weight_ih_l0),
                                 ("W_hh", self.lstm.weight_hh_l0),
                                 ("b_ih", self.lstm.bias_ih_l0), ("b_hh", self.lstm.bias_hh_l0),
                                 ("W_out", self.out.weight), ("b_out", self.out.bias)):
                theirs.copy_(torch.from_numpy(params[mine]))

    def by_name(self):
        return {"W_ih": self.lstm.weight_ih_l0, "W_hh": self.lstm.weight_hh_l0,
                "b_ih": self.lstm.bias_ih_l0, "b_hh": self.lstm.bias_hh_l0,
                "W_out": self.out.weight, "b_out": self.out.bias}

    def forward(self, inputs, state=None):
        x = torch.nn.functional.one_hot(torch.from_numpy(inputs), self.V).double()
        hs, state = self.lstm(x, state)
        return self.out(hs), state


def _tiny_corpus(n=3000):
    from dlnotes.data import load_text_corpus

    return load_text_corpus(max_chars=n)


def test_char_lstm_forward_backward_matches_torch(rng):
    V, H, T, N = 7, 5, 6, 3
    params = rnn.init_char_lstm(V, H, seed=1)
    ids = rng.integers(0, V, size=(T + 1, N))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    loss, grads, (hT, cT) = rnn.char_lstm_forward_backward(params, ids[:-1], ids[1:], h0, c0)

    model = _TorchCharLSTM(params)
    logits, (th, tc) = model(ids[:-1], (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    tloss = torch.nn.functional.cross_entropy(logits.reshape(-1, V),
                                              torch.from_numpy(ids[1:]).reshape(-1))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(hT, th[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cT, tc[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    for name, p in model.by_name().items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_char_lstm_forward_backward_uses_the_given_step_functions(rng):
    params = rnn.init_char_lstm(4, 3, seed=0)
    ids = rng.integers(0, 4, size=(5, 2))
    calls = {"forward": 0, "backward": 0}

    def fwd(*args):
        calls["forward"] += 1
        return rnn.lstm_step_forward(*args)

    def bwd(*args):
        calls["backward"] += 1
        return rnn.lstm_step_backward(*args)

    want = rnn.char_lstm_forward_backward(params, ids[:-1], ids[1:])
    got = rnn.char_lstm_forward_backward(params, ids[:-1], ids[1:], step_forward=fwd,
                                         step_backward=bwd)
    assert calls == {"forward": 4, "backward": 4}
    assert got[0] == want[0]
    # a backward that drops the forget-gate path changes the recurrent gradients
    def no_forget(dh, dc, cache):
        out = list(rnn.lstm_step_backward(dh, dc, cache))
        out[2] = np.zeros_like(out[2])
        return tuple(out)

    wrong = rnn.char_lstm_forward_backward(params, ids[:-1], ids[1:], step_backward=no_forget)
    assert not np.allclose(wrong[1]["W_hh"], want[1]["W_hh"])


def test_char_lstm_loss_matches_torch(rng):
    V, H, tracks = 6, 4, 3
    params = rnn.init_char_lstm(V, H, seed=2)
    ids = rng.integers(0, V, size=40)                      # 40 // 3 = 13 per track, 1 dropped
    L = len(ids) // tracks
    cols = ids[:L * tracks].reshape(tracks, L).T
    logits, _ = _TorchCharLSTM(params)(cols[:-1])
    want = torch.nn.functional.cross_entropy(logits.reshape(-1, V),
                                             torch.from_numpy(cols[1:]).reshape(-1)).item()
    assert rnn.char_lstm_loss(params, ids, tracks=tracks) == pytest.approx(want, rel=1e-12)


def test_unigram_val_loss_counts_characters():
    import math
    from collections import Counter

    train, val = [0, 0, 1, 2, 2, 2], [2, 0, 3]
    counts = Counter(train)
    want = -sum(math.log((counts[c] + 0.5) / (len(train) + 0.5 * 4)) for c in val) / len(val)
    assert rnn.unigram_val_loss(train, val, 4, alpha=0.5) == pytest.approx(want, rel=1e-12)
    assert rnn.unigram_val_loss(train, [3], 4, alpha=0.0) == np.inf   # unseen, unsmoothed
    with pytest.raises(ValueError, match="val_ids"):
        rnn.unigram_val_loss(train, [4], 4)


def test_train_char_lstm_first_steps_match_torch_adam_and_clipping():
    corpus = _tiny_corpus(2000)
    H, S, B, steps, lr, clip = 6, 5, 3, 3, 0.01, 0.5
    run = rnn.train_char_lstm(corpus, hidden_size=H, seq_len=S, steps=steps, lr=lr, clip=clip,
                              seed=4, batch_size=B, eval_every=10)

    params = rnn.init_char_lstm(corpus.vocab_size, H, seed=4)
    model = _TorchCharLSTM(params)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    L = len(corpus.train) // B
    cols = corpus.train[:L * B].reshape(B, L).T
    state, norms = None, []
    for k in range(steps):
        chunk = cols[k * S:(k + 1) * S + 1]
        logits, state = model(chunk[:-1], state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size),
                                                 torch.from_numpy(chunk[1:]).reshape(-1))
        opt.zero_grad()
        loss.backward()
        state = tuple(s.detach() for s in state)         # truncated BPTT
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        assert run.batch_loss[k] == pytest.approx(loss.item(), rel=1e-9)
    np.testing.assert_allclose(run.grad_norm, norms, rtol=1e-9)
    for name, p in model.by_name().items():
        np.testing.assert_allclose(run.params[name], p.detach().numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=name)
    assert run.steps == [0, steps] and len(run.train_loss) == len(run.val_loss) == 2


def test_train_char_lstm_learns_and_is_deterministic():
    corpus = _tiny_corpus(6000)
    kwargs = dict(hidden_size=24, seq_len=16, steps=60, lr=0.01, batch_size=8, eval_every=20)
    run = rnn.train_char_lstm(corpus, **kwargs)
    assert run.steps == [0, 20, 40, 60]
    assert run.val_loss[0] == pytest.approx(np.log(corpus.vocab_size), abs=0.1)
    baseline = rnn.unigram_val_loss(corpus.train, corpus.val, corpus.vocab_size)
    assert run.val_loss[-1] < baseline                     # beats character counts
    assert run.train_loss[-1] < run.train_loss[0] - 1.0
    again = rnn.train_char_lstm(corpus, **kwargs)
    assert again.val_loss == run.val_loss and again.batch_loss == run.batch_loss
    for name in rnn.CHAR_LSTM_PARAMS:
        np.testing.assert_array_equal(again.params[name], run.params[name])
    assert run.seconds > 0


def test_train_char_lstm_calls_the_given_functions_and_wraps_around():
    corpus = _tiny_corpus(1000)                            # 900 training characters
    calls = {"backward": 0, "clip": 0}

    def bwd(*args):
        calls["backward"] += 1
        return rnn.lstm_step_backward(*args)

    def clip_fn(grads, max_norm):
        calls["clip"] += 1
        return rnn_clip(grads, max_norm)

    from dlnotes.regularization import clip_grad_norm as rnn_clip
    # 900 // 4 = 225 per track: 225 // 10 = 22 chunks before the tracks run out
    run = rnn.train_char_lstm(corpus, step_backward=bwd, hidden_size=4, seq_len=10, steps=30,
                              batch_size=4, clip_fn=clip_fn, eval_chars=200)
    assert calls == {"backward": 300, "clip": 30}
    assert len(run.batch_loss) == len(run.grad_norm) == 30
    unclipped = rnn.train_char_lstm(corpus, hidden_size=4, seq_len=10, steps=2, batch_size=4,
                                    clip=None, eval_chars=200)
    assert len(unclipped.grad_norm) == 2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hidden_size": 0}, "hidden_size"), ({"seq_len": 0}, "seq_len"), ({"steps": 0}, "steps"),
    ({"lr": 0.0}, "lr"), ({"clip": -1.0}, "clip"), ({"batch_size": 0}, "batch_size"),
    ({"eval_every": 0}, "eval_every"), ({"eval_chars": 1}, "eval_chars"),
    ({"step_forward": "lstm"}, "step_forward"), ({"step_backward": 3}, "step_backward"),
    ({"clip_fn": 1.0}, "clip_fn"), ({"seq_len": 400, "batch_size": 8}, "training text"),
])
def test_train_char_lstm_bad_input_names_the_argument(kwargs, match):
    corpus = _tiny_corpus(1000)
    with pytest.raises(ValueError, match=match):
        rnn.train_char_lstm(corpus, **{"steps": 1, **kwargs})
    with pytest.raises(ValueError, match="corpus"):
        rnn.train_char_lstm("some text", steps=1)


def test_sample_char_lstm_greedy_matches_torch_and_uses_sample_fn():
    corpus = _tiny_corpus(2000)
    params = rnn.init_char_lstm(corpus.vocab_size, 8, seed=3)
    params["W_out"] *= 20                                  # confident, so the arg-max is clear
    text = rnn.sample_char_lstm(params, corpus, "def ", 12, temperature=0)
    model = _TorchCharLSTM(params)
    ids, state = list(corpus.encode("def ")), None
    logits, state = model(np.array(ids)[:, None], state)
    for _ in range(12):
        ids.append(int(logits[-1, 0].argmax()))
        logits, state = model(np.array([[ids[-1]]]), state)
    assert text == corpus.decode(ids)

    seen = []

    def sample_fn(logits, temperature, rng):
        seen.append((np.shape(logits), temperature))
        return rnn.sample_next(logits, temperature, rng)

    drawn = rnn.sample_char_lstm(params, corpus, "a", 5, 0.7, seed=1, sample_fn=sample_fn)
    assert len(drawn) == 6 and seen == [((corpus.vocab_size,), 0.7)] * 5
    assert drawn == rnn.sample_char_lstm(params, corpus, "a", 5, 0.7, seed=1)
    for kwargs, match in (({"prompt": ""}, "prompt"), ({"length": -1}, "length"),
                          ({"temperature": -1.0}, "temperature"), ({"sample_fn": 2}, "sample_fn")):
        with pytest.raises(ValueError, match=match):
            rnn.sample_char_lstm(params, corpus, **{"prompt": "a", "length": 3,
                                                    "temperature": 1.0, **kwargs})


@pytest.mark.parametrize("T,N", [(1, 1), (6, 3)])
def test_lstm_steps_forward_backward_match_torch(rng, T, N):
    p = make_problem(rng, "lstm", T, N, I=4, H=5)
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    calls = []

    def bwd(*args):
        calls.append(1)
        return rnn.lstm_step_backward(*args)

    hs, (hT, cT), caches = rnn.lstm_steps_forward(p["x"], p["h0"], p["c0"], *W)
    dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh = rnn.lstm_steps_backward(
        p["R"], caches, bwd, dhT=p["RhT"], dcT=p["RcT"])
    assert len(calls) == T
    ours = dict(hs=hs, hT=hT, cT=cT, dx=dx, dh0=dh0, dc0=dc0, dW_ih=dW_ih, dW_hh=dW_hh,
                db_ih=db_ih, db_hh=db_hh)
    assert_match(ours, run_torch("lstm", p))


def test_lstm_steps_bad_input():
    W_ih, W_hh, b = np.ones((8, 3)), np.ones((8, 2)), np.zeros(8)
    with pytest.raises(ValueError, match="x must"):
        rnn.lstm_steps_forward(np.ones((2, 3)), None, None, W_ih, W_hh, b, b)
    with pytest.raises(ValueError, match="W_hh"):
        rnn.lstm_steps_forward(np.ones((2, 1, 3)), None, None, W_ih, np.ones((6, 2)), b, b)
    with pytest.raises(ValueError, match="h0"):
        rnn.lstm_steps_forward(np.ones((2, 1, 3)), np.ones((2, 2)), None, W_ih, W_hh, b, b)
    with pytest.raises(ValueError, match="step_forward"):
        rnn.lstm_steps_forward(np.ones((2, 1, 3)), None, None, W_ih, W_hh, b, b, "mine")
    hs, _, caches = rnn.lstm_steps_forward(np.ones((2, 1, 3)), None, None, W_ih, W_hh, b, b)
    with pytest.raises(ValueError, match="caches"):
        rnn.lstm_steps_backward(hs, [])
    with pytest.raises(ValueError, match="dhs"):
        rnn.lstm_steps_backward(hs[:1], caches)
