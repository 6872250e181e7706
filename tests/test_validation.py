"""Tests for dlnotes._validation and for the library's dtype rule.

The first half tests the shared validators themselves. The second half runs
every public array function of the layers (cnn, rnn, attention,
regularization), the activations and the losses -- forward and backward,
caches included -- with float32 inputs and checks every float array that
comes out is float32; the same calls in float64 must give float64, and the
float32 numbers must agree with the float64 ones to float32 accuracy.
Metrics and data helpers are exempt: they return Python floats and indices.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlnotes import activations, attention, cnn, losses, regularization, rnn
from dlnotes._validation import (
    as_array_list,
    as_common_float,
    as_float_array,
    check_dout,
    check_finite,
    check_finite_array,
    check_flag,
    check_in_range,
    check_inplace_array,
    check_positive_int,
    common_float_dtype,
)

# --------------------------------------------------------------------------
# the validators
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_as_float_array_keeps_float32_and_float64_without_copy(dtype):
    x = np.arange(6, dtype=dtype).reshape(2, 3)
    out = as_float_array(x, "x")
    assert out is x and out.dtype == dtype


@pytest.mark.parametrize("value", [
    [1, 2, 3],
    np.array([1, 2, 3], dtype=np.int32),
    np.array([1, 2, 3], dtype=np.uint8),
    np.array([True, False, True]),
    np.array([1.0, 2.0, 3.0], dtype=np.float16),
    [1.5, 2.0, 3.0],
])
def test_as_float_array_turns_everything_else_into_float64(value):
    out = as_float_array(value, "x")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(value, dtype=np.float64))


def test_as_float_array_scalar_is_0d_float64():
    out = as_float_array(3, "x")
    assert out.shape == () and out.dtype == np.float64 and out == 3.0


@pytest.mark.parametrize("bad", [
    None, "1.0", b"1", [[1, 2], [3]], np.array([1 + 2j]), np.array([1, None], dtype=object),
    np.array(["1", "2"]),
])
def test_as_float_array_rejects_non_numbers_naming_the_argument(bad):
    with pytest.raises(ValueError, match=r"^weights must be array-like of real numbers"):
        as_float_array(bad, "weights")


def test_as_float_array_checks_the_number_of_axes():
    assert as_float_array(np.zeros((2, 3)), "x", ndim=(1, 2)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"x must have 1 dimension, got shape \(2, 3\)"):
        as_float_array(np.zeros((2, 3)), "x", ndim=1)
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimensions, got shape \(\)"):
        as_float_array(1.0, "x", ndim=(1, 2))


def test_as_float_array_layout_sets_and_quotes_the_axes():
    assert as_float_array(np.zeros((1, 2, 3, 4)), "x", layout="(N, C, H, W)").ndim == 4
    with pytest.raises(ValueError,
                       match=r"x must have 4 dimensions \(N, C, H, W\), got shape \(2, 3\)"):
        as_float_array(np.zeros((2, 3)), "x", layout="(N, C, H, W)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_as_float_array_finite(bad):
    assert as_float_array([1.0, 2.0], "y", finite=True).tolist() == [1.0, 2.0]
    assert np.isnan(as_float_array([np.nan], "y")).all()          # allowed unless finite=True
    with pytest.raises(ValueError, match="y must contain only finite values"):
        as_float_array([1.0, bad], "y", finite=True)
    with pytest.raises(ValueError, match="g must contain only finite values"):
        check_finite_array(np.array([bad], dtype=np.float32), "g")


def test_common_float_dtype_is_float32_only_when_all_are():
    f32, f64 = np.zeros(2, np.float32), np.zeros(2)
    assert common_float_dtype(f32, f32, None) == np.float32
    assert common_float_dtype(f32, f64) == np.float64
    assert common_float_dtype(f64) == np.float64
    a, b, c = as_common_float(f32, f64, None)
    assert a.dtype == b.dtype == np.float64 and c is None
    a, b = as_common_float(f32, f32)
    assert a is f32 and b is f32                                   # no copy needed


def test_check_dout_shape_and_dtype():
    got = check_dout(np.ones((2, 3)), (2, 3), dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == (2, 3)
    assert check_dout([[1, 2, 3]], (1, 3)).dtype == np.float64
    with pytest.raises(ValueError,
                       match=r"^dhs must have the forward output's shape \(4, 2, 3\), "
                             r"got \(4, 3, 2\)"):
        check_dout(np.ones((4, 3, 2)), (4, 2, 3), "dhs")
    with pytest.raises(ValueError, match="^dout must be array-like"):
        check_dout("grad", (1,))


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_flag_accepts_bools(value):
    assert check_flag(value, "nesterov") is bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0, np.array([True])])
def test_check_flag_rejects_everything_else(value):
    with pytest.raises(ValueError, match="^training must be True or False"):
        check_flag(value, "training")


def test_check_finite_range_and_finiteness():
    assert check_finite(3, "lr", 0.0) == 3.0 and isinstance(check_finite(3, "lr", 0.0), float)
    assert check_finite(-2.5, "margin") == -2.5
    with pytest.raises(ValueError, match=r"^lr must be finite, got inf"):
        check_finite(np.inf, "lr", 0.0)
    with pytest.raises(ValueError, match=r"^beta must be in \[0.0, 1.0\), got 1.0"):
        check_finite(1.0, "beta", 0.0, 1.0, high_inclusive=False)
    with pytest.raises(ValueError, match="^delta must be in"):
        check_finite(0.0, "delta", low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match="^gamma must not be NaN"):
        check_finite(float("nan"), "gamma")
    with pytest.raises(ValueError, match="^gamma must be a real number"):
        check_finite(True, "gamma")
    # check_in_range alone lets infinity through; check_finite is the stricter one
    assert check_in_range(np.inf, "eps", low=0.0) == np.inf


@pytest.mark.parametrize("value, minimum, ok", [
    (3, 1, True), (np.int64(0), 0, True), (0, 1, False), (2.0, 1, False), (True, 0, False),
    ("3", 1, False),
])
def test_check_positive_int(value, minimum, ok):
    if ok:
        got = check_positive_int(value, "stride", minimum)
        assert got == value and type(got) is int
    else:
        with pytest.raises(ValueError, match=rf"^stride must be an integer >= {minimum}"):
            check_positive_int(value, "stride", minimum)


def test_as_array_list():
    a, b = np.zeros(2), np.ones(3)
    assert as_array_list((a, b), "params") == [a, b]
    assert as_array_list(iter([a]), "params")[0] is a
    with pytest.raises(ValueError, match=r"^grads must be a list of arrays, got a single ndarray"):
        as_array_list(a, "grads")
    for bad in (3, "ab", None):
        with pytest.raises(ValueError, match="^grads must be a list of numpy arrays"):
            as_array_list(bad, "grads")


def test_check_inplace_array():
    a = np.zeros(3, dtype=np.float32)
    assert check_inplace_array(a, "running_mean") is a
    with pytest.raises(ValueError, match=r"^w must be a float numpy array \(it is updated in"):
        check_inplace_array([0.0, 1.0], "w")
    with pytest.raises(ValueError, match="^w must be a float numpy array .* got dtype int64"):
        check_inplace_array(np.zeros(2, dtype=np.int64), "w")
    a.flags.writeable = False
    with pytest.raises(ValueError, match=r"^g must be writeable \(it is scaled in place\)"):
        check_inplace_array(a, "g", "scaled in place")


# --------------------------------------------------------------------------
# the dtype rule: every public array function, float32 in -> float32 out
# --------------------------------------------------------------------------

class Inputs:
    """Random inputs of one float dtype, the same numbers for every dtype."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.rng = np.random.default_rng(0)

    def normal(self, *shape, scale=1.0):
        return (scale * self.rng.standard_normal(shape)).astype(self.dtype)

    def uniform(self, *shape, low=0.0, high=1.0):
        return self.rng.uniform(low, high, shape).astype(self.dtype)

    def classes(self, n, c):
        return self.rng.integers(0, c, n)


def _activation_cases():
    x_fns = ["sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu",
             "leaky_relu_grad", "elu", "elu_grad", "gelu", "gelu_grad", "swish", "swish_grad",
             "softmax", "log_softmax", "gelu_tanh", "gelu_tanh_grad"]
    cases = {f"activations.{n}": (lambda g, n=n: getattr(activations, n)(g.normal(4, 5, scale=3)))
             for n in x_fns}
    cases["activations.prelu"] = lambda g: activations.prelu(g.normal(2, 3, 4), g.uniform(3))
    cases["activations.prelu_grad"] = lambda g: activations.prelu_grad(g.normal(2, 3, 4), 0.25)
    cases["activations.prelu_backward"] = lambda g: activations.prelu_backward(
        g.normal(2, 3, 4), g.normal(2, 3, 4), g.uniform(3))

    def softmax_backward(g):
        y = activations.softmax(g.normal(4, 5))
        return activations.softmax_backward(g.normal(4, 5), y)

    cases["activations.softmax_backward"] = softmax_backward
    return cases


def _loss_cases():
    def regression(name, **kw):
        def run(g):
            x, t = g.normal(3, 4), g.normal(3, 4)
            return getattr(losses, name)(x, t, **kw), getattr(losses, name + "_grad")(x, t, **kw)
        return run

    def binary(name, target="soft", **kw):
        def run(g):
            x = g.uniform(3, 4, low=0.01, high=0.99) if name == "binary_cross_entropy" \
                else g.normal(3, 4, scale=3)
            if target == "sign":
                t = np.where(g.normal(3, 4) > 0, 1, -1).astype(g.dtype)
            else:
                t = g.uniform(3, 4)
            return getattr(losses, name)(x, t, **kw), getattr(losses, name + "_grad")(x, t, **kw)
        return run

    def classes(name, **kw):
        def run(g):
            z, y = g.normal(6, 5, scale=2), g.classes(6, 5)
            if name == "nll_loss":
                z = activations.log_softmax(z)
            return getattr(losses, name)(z, y, **kw), getattr(losses, name + "_grad")(z, y, **kw)
        return run

    def kl(g):
        p = activations.softmax(g.normal(3, 6))
        q = activations.softmax(g.normal(3, 6))
        return losses.kl_divergence(p, q), losses.kl_divergence_grad(p, q)

    cases = {
        "losses.mse": regression("mse"), "losses.mae": regression("mae"),
        "losses.rmse": regression("rmse"), "losses.huber": regression("huber", delta=0.5),
        "losses.binary_cross_entropy": binary("binary_cross_entropy"),
        "losses.binary_cross_entropy_with_logits": binary("binary_cross_entropy_with_logits"),
        "losses.focal_loss": binary("focal_loss", alpha=0.25, gamma=2.0),
        "losses.hinge": binary("hinge", target="sign"),
        "losses.cross_entropy": classes("cross_entropy", label_smoothing=0.1),
        "losses.nll_loss": classes("nll_loss"),
        "losses.multiclass_hinge": classes("multiclass_hinge"),
        "losses.kl_divergence": kl,
    }
    return {f"{key} {key}_grad": run for key, run in cases.items()}


def _cnn_cases():
    def conv(g):
        x, w, b = g.normal(2, 3, 7, 6), g.normal(4, 3, 3, 3), g.normal(4)
        out, cache = cnn.conv2d_forward(x, w, b, stride=2, padding=1)
        naive = cnn.conv2d_forward_naive(x, w, b, stride=2, padding=1)
        return out, cache, naive, cnn.conv2d_backward(g.normal(*out.shape), cache)

    def cols(g):
        x = g.normal(2, 3, 5, 5)
        c = cnn.im2col(x, 3, stride=1, padding=1)
        return c, cnn.col2im(c, x.shape, 3, stride=1, padding=1)

    def pool(kind):
        def run(g):
            fwd = getattr(cnn, f"{kind}_pool2d_forward")
            bwd = getattr(cnn, f"{kind}_pool2d_backward")
            out, cache = fwd(g.normal(2, 3, 6, 7), 2, stride=(2, 1))
            return out, cache, bwd(g.normal(*out.shape), cache)
        return run

    def flatten(g):
        out, cache = cnn.flatten_forward(g.normal(2, 3, 4, 5))
        return out, cache, cnn.flatten_backward(g.normal(*out.shape), cache)

    def conv_cols(g):
        x, w, b = g.normal(2, 3, 7, 6), g.normal(4, 3, 3, 3), g.normal(4)
        out = cnn.conv2d_forward_cols(x, w, b, cnn.im2col, stride=2, padding=1)
        return out, cnn.conv2d_backward_cols(g.normal(*out.shape), x, w, cnn.im2col,
                                             cnn.col2im, stride=2, padding=1)

    def pool_no_cache(g):
        x = g.normal(2, 3, 6, 7)
        out = cnn.max_pool2d(x, 2, stride=1)
        return out, cnn.max_pool2d_grad(g.normal(*out.shape), x, 2, stride=1)

    return {"cnn.conv2d_forward cnn.conv2d_forward_naive cnn.conv2d_backward": conv,
            "cnn.im2col cnn.col2im": cols,
            "cnn.max_pool2d_forward cnn.max_pool2d_backward": pool("max"),
            "cnn.avg_pool2d_forward cnn.avg_pool2d_backward": pool("avg"),
            "cnn.flatten_forward cnn.flatten_backward": flatten,
            "cnn.conv2d_forward_cols cnn.conv2d_backward_cols": conv_cols,
            "cnn.max_pool2d cnn.max_pool2d_grad": pool_no_cache}


def _rnn_cases():
    T, N, I, H = 5, 3, 4, 6

    def weights(g, G):
        return (g.normal(G * H, I, scale=0.5), g.normal(G * H, H, scale=0.5),
                g.normal(G * H, scale=0.5), g.normal(G * H, scale=0.5))

    def run_rnn(nonlinearity):
        def run(g):
            x, h0, W = g.normal(T, N, I), g.normal(N, H), weights(g, 1)
            step = rnn.rnn_step(x[0], h0, *W, nonlinearity=nonlinearity)
            hs, cache = rnn.rnn_forward(x, h0, *W, nonlinearity=nonlinearity)
            return step, hs, cache, rnn.rnn_backward(g.normal(T, N, H), cache)
        return run

    def run_lstm(g):
        x, h0, c0, W = g.normal(T, N, I), g.normal(N, H), g.normal(N, H), weights(g, 4)
        step = rnn.lstm_step(x[0], h0, c0, *W)
        hs, final, cache = rnn.lstm_forward(x, h0, c0, *W)
        grads = rnn.lstm_backward(g.normal(T, N, H), cache, dhT=g.normal(N, H),
                                  dcT=g.normal(N, H))
        return step, hs, final, cache, grads

    def run_lstm_step(g):
        x, h0, c0, W = g.normal(N, I), g.normal(N, H), g.normal(N, H), weights(g, 4)
        h, c, cache = rnn.lstm_step_forward(x, h0, c0, *W)
        return h, c, cache, rnn.lstm_step_backward(g.normal(N, H), g.normal(N, H), cache)

    def run_gru(g):
        x, h0, W = g.normal(T, N, I), g.normal(N, H), weights(g, 3)
        step = rnn.gru_step(x[0], h0, *W)
        hs, cache = rnn.gru_forward(x, h0, *W)
        return step, hs, cache, rnn.gru_backward(g.normal(T, N, H), cache)

    def run_lstm_steps(g):
        x, h0, c0, W = g.normal(T, N, I), g.normal(N, H), g.normal(N, H), weights(g, 4)
        hs, final, caches = rnn.lstm_steps_forward(x, h0, c0, *W)
        return hs, final, caches, rnn.lstm_steps_backward(g.normal(T, N, H), caches,
                                                          dhT=g.normal(N, H))

    return {"rnn.rnn_step rnn.rnn_forward rnn.rnn_backward (tanh)": run_rnn("tanh"),
            "rnn.rnn_step rnn.rnn_forward rnn.rnn_backward (relu)": run_rnn("relu"),
            "rnn.lstm_step rnn.lstm_forward rnn.lstm_backward": run_lstm,
            "rnn.lstm_step_forward rnn.lstm_step_backward": run_lstm_step,
            "rnn.lstm_steps_forward rnn.lstm_steps_backward": run_lstm_steps,
            "rnn.gru_step rnn.gru_forward rnn.gru_backward": run_gru}


def _attention_cases():
    B, L, S, E, H, F = 2, 5, 4, 8, 2, 12

    def sdpa(g):
        q, k, v = g.normal(B, H, L, 4), g.normal(B, H, S, 4), g.normal(B, H, S, 3)
        mask = np.tril(np.ones((L, S), dtype=bool))
        out, cache = attention.sdpa_forward(q, k, v, mask)
        both = attention.scaled_dot_product_attention(q, k, v, mask)
        return out, cache, both, attention.sdpa_backward(g.normal(*out.shape), **cache)

    def heads(g):
        split = attention.split_heads(g.normal(B, L, E), H)
        return split, attention.merge_heads(split, H)

    def mha(g):
        query, kv = g.normal(B, L, E), g.normal(B, S, E)
        w = (g.normal(3 * E, E, scale=0.3), g.normal(3 * E), g.normal(E, E, scale=0.3),
             g.normal(E))
        out, cache = attention.multi_head_attention_forward(query, kv, kv, H, *w)
        both = attention.multi_head_attention(query, kv, kv, H, *w)
        grads = attention.multi_head_attention_backward(g.normal(B, L, E), cache)
        return out, cache, both, grads

    def encoder(norm_first, act):
        def run(g):
            params = attention.init_encoder_block_params(E, H, F, np.random.default_rng(1))
            params = {n: (v.astype(g.dtype) if isinstance(v, np.ndarray) else v)
                      for n, v in params.items()}
            out, cache = attention.encoder_block_forward(
                g.normal(B, L, E), params, attention.causal_mask(L), norm_first=norm_first,
                activation=act)
            return out, cache, attention.encoder_block_backward(g.normal(B, L, E), cache)
        return run

    return {"attention.sdpa_forward attention.sdpa_backward "
            "attention.scaled_dot_product_attention": sdpa,
            "attention.split_heads attention.merge_heads": heads,
            "attention.multi_head_attention_forward attention.multi_head_attention_backward "
            "attention.multi_head_attention": mha,
            "attention.encoder_block_forward attention.encoder_block_backward (post, relu)":
                encoder(False, "relu"),
            "attention.encoder_block_forward attention.encoder_block_backward (pre, gelu)":
                encoder(True, "gelu")}


def _regularization_cases():
    def penalties(g):
        w = [g.normal(3, 4), g.normal(5)]
        return (regularization.l1_penalty(w, 0.1), regularization.l1_penalty_grad(w, 0.1),
                regularization.l2_penalty(w[0], 0.1), regularization.l2_penalty_grad(w[0], 0.1))

    def proximal(g):
        return regularization.l1_proximal_step(g.normal(3, 4), g.normal(3, 4), 0.1, 2.0)

    def dropout(g):
        x = g.normal(4, 5)
        out, mask = regularization.dropout(x, 0.3, np.random.default_rng(2))
        return out, mask, regularization.dropout_backward(g.normal(4, 5), mask, 0.3)

    def batch_norm(training):
        def run(g):
            x, gamma, beta = g.normal(6, 4), g.uniform(4, low=0.5, high=2), g.normal(4)
            mean, var = g.normal(4), g.uniform(4, low=0.5, high=2)
            out, cache = regularization.batch_norm_forward(x, gamma, beta, mean, var, training)
            return out, cache, mean, var, regularization.batch_norm_backward(g.normal(6, 4), cache)
        return run

    def layer_norm(g):
        out, cache = regularization.layer_norm_forward(g.normal(2, 3, 4), g.normal(4), g.normal(4))
        return out, cache, regularization.layer_norm_backward(g.normal(2, 3, 4), cache)

    def smoothing(g):
        y = activations.softmax(g.normal(3, 4))
        return regularization.label_smoothing(y, 0.1)

    return {"regularization.l1_penalty_grad regularization.l2_penalty_grad": penalties,
            "regularization.l1_proximal_step": proximal,
            "regularization.dropout regularization.dropout_backward": dropout,
            "regularization.batch_norm_forward regularization.batch_norm_backward (train)":
                batch_norm(True),
            "regularization.batch_norm_forward regularization.batch_norm_backward (eval)":
                batch_norm(False),
            "regularization.layer_norm_forward regularization.layer_norm_backward": layer_norm,
            "regularization.label_smoothing": smoothing}


CASES = {**_activation_cases(), **_loss_cases(), **_cnn_cases(), **_rnn_cases(),
         **_attention_cases(), **_regularization_cases()}

# Public names with no float array to keep: they take no float input (initialisers,
# positional encoding, causal mask, output sizes), scale in place (clip_grad_norm),
# or are classes / constants.
EXEMPT = {
    "regularization.xavier_uniform", "regularization.xavier_normal",
    "regularization.kaiming_uniform", "regularization.kaiming_normal",
    "regularization.clip_grad_norm", "regularization.EarlyStopping",
    "attention.ENCODER_PARAM_NAMES", "attention.causal_mask",
    "attention.init_encoder_block_params", "attention.sinusoidal_positional_encoding",
    "cnn.conv2d_output_size", "cnn.stack_geometry", "rnn.RNNCache", "rnn.LSTMCache", "rnn.GRUCache",
    "rnn.sample_next",   # returns a token id
    # the character language model: a float64 model trained from token ids
    "rnn.CHAR_LSTM_PARAMS", "rnn.CharLSTMHistory", "rnn.init_char_lstm",
    "rnn.char_lstm_forward_backward", "rnn.char_lstm_loss", "rnn.unigram_val_loss",
    "rnn.train_char_lstm", "rnn.sample_char_lstm",
}
# Scalar losses are Python floats by design; their _grad twins carry the dtype.
SCALARS = {f"losses.{n}" for n in losses.__all__ if not n.endswith("_grad")} | {
    "regularization.l1_penalty", "regularization.l2_penalty"}


def _leaves(obj, path="out"):
    """Every ndarray inside nested tuples, lists, dicts and NamedTuple caches."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}[{k!r}]")
    elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
        for k in obj._fields:
            yield from _leaves(getattr(obj, k), f"{path}.{k}")
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{path}[{i}]")


def test_every_public_array_function_has_a_dtype_case():
    covered = {name for key in CASES for name in key.split() if "." in name}
    public = {f"{m.__name__.split('.')[-1]}.{n}"
              for m in (activations, losses, cnn, rnn, attention, regularization)
              for n in m.__all__}
    missing = public - covered - EXEMPT - SCALARS
    assert not missing, f"no float32 case for {sorted(missing)}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_dtype_rule(case, dtype):
    """float32 in -> every float array out (caches included) float32; float64 -> float64."""
    outputs = CASES[case](Inputs(dtype))
    leaves = list(_leaves(outputs))
    floats = [(p, a) for p, a in leaves if a.dtype.kind == "f"]
    assert floats, "the case returned no float array"
    wrong = [(p, a.dtype) for p, a in floats if a.dtype != dtype]
    assert not wrong, f"{case}: expected {np.dtype(dtype)} everywhere, got {wrong}"


@pytest.mark.parametrize("case", list(CASES))
def test_float32_agrees_with_float64(case):
    """The float32 path computes the same function, to float32 accuracy."""
    out32 = list(_leaves(CASES[case](Inputs(np.float32))))
    out64 = list(_leaves(CASES[case](Inputs(np.float64))))
    assert [p for p, _ in out32] == [p for p, _ in out64]
    for (path, a32), (_, a64) in zip(out32, out64, strict=True):
        if a64.dtype.kind != "f":
            np.testing.assert_array_equal(a32, a64, err_msg=f"{case} {path}")
            continue
        scale = max(1.0, float(np.max(np.abs(a64), initial=0.0)))
        np.testing.assert_allclose(a32, a64, rtol=2e-3, atol=2e-4 * scale,
                                   err_msg=f"{case} {path}")


@pytest.mark.parametrize("name", ["sigmoid", "relu", "relu_grad", "leaky_relu_grad", "gelu"])
def test_integer_input_computes_in_float64(name):
    out = getattr(activations, name)(np.array([-2, 0, 3], dtype=np.int32))
    assert out.dtype == np.float64


def test_loss_target_takes_the_input_dtype():
    x = np.array([0.5, -1.0], dtype=np.float32)
    assert losses.mse_grad(x, [1, 0]).dtype == np.float32            # int target
    assert losses.mse_grad(x, np.zeros(2)).dtype == np.float32       # float64 target
    assert losses.mse_grad(x.astype(np.float64), x).dtype == np.float64
