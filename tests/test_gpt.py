"""dlnotes.gpt against a torch twin with copied weights (torch autograd is the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import gpt

V, C, E, H, F = 11, 8, 16, 2, 24


class TorchGPT(torch.nn.Module):
    """The same model in torch: tied embeddings, pre-norm GELU causal blocks."""

    def __init__(self, params):
        super().__init__()
        self.wte = torch.nn.Parameter(torch.tensor(params["wte"]))
        self.wpe = torch.nn.Parameter(torch.tensor(params["wpe"]))
        self.blocks = torch.nn.ModuleList()
        for p in params["blocks"]:
            layer = torch.nn.TransformerEncoderLayer(
                E, params["num_heads"], F, dropout=0.0, activation="gelu", batch_first=True,
                norm_first=True).double()
            layer.load_state_dict({k: torch.tensor(v) for k, v in p.items()})
            self.blocks.append(layer)
        self.ln_f = torch.nn.LayerNorm(E).double()
        with torch.no_grad():
            self.ln_f.weight.copy_(torch.tensor(params["ln_f.weight"]))
            self.ln_f.bias.copy_(torch.tensor(params["ln_f.bias"]))

    def forward(self, ids):
        L = ids.shape[1]
        h = self.wte[ids] + self.wpe[:L]
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        for layer in self.blocks:
            h = layer(h, src_mask=causal)
        return self.ln_f(h) @ self.wte.T


def _params(seed=0, layers=2):
    p = gpt.init_gpt_params(V, C, E, H, layers, F, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    p["ln_f.weight"] = 1 + 0.1 * rng.normal(size=E)
    p["ln_f.bias"] = 0.1 * rng.normal(size=E)
    return p


@pytest.mark.parametrize(("B", "L", "layers"), [(1, 1, 1), (2, 5, 2), (3, 8, 1)])
def test_loss_and_every_gradient_match_torch(B, L, layers):
    params = _params(layers=layers)
    rng = np.random.default_rng(7)
    ids, targets = rng.integers(0, V, size=(B, L)), rng.integers(0, V, size=(B, L))
    loss, grads = gpt.gpt_loss(ids, targets, params)

    model = TorchGPT(params)
    logits = model(torch.tensor(ids))
    t_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(targets)
                                               .reshape(-1))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-10)
    np.testing.assert_allclose(gpt.gpt_forward(ids, params)[0], logits.detach().numpy(),
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(grads["wte"], model.wte.grad.numpy(), rtol=1e-7, atol=1e-11)
    np.testing.assert_allclose(grads["wpe"], model.wpe.grad.numpy(), rtol=1e-7, atol=1e-11)
    np.testing.assert_allclose(grads["ln_f.weight"], model.ln_f.weight.grad.numpy(),
                               rtol=1e-7, atol=1e-11)
    for mine, layer in zip(grads["blocks"], model.blocks, strict=True):
        for name, p in layer.named_parameters():
            np.testing.assert_allclose(mine[name], p.grad.numpy(), rtol=1e-6, atol=1e-10,
                                       err_msg=name)


def test_causality_later_tokens_do_not_change_earlier_logits():
    params = _params()
    ids = np.array([[1, 2, 3, 4, 5]])
    changed = ids.copy()
    changed[0, 3:] = [9, 9]
    a, _ = gpt.gpt_forward(ids, params)
    b, _ = gpt.gpt_forward(changed, params)
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-12)
    assert not np.allclose(a[:, 3:], b[:, 3:])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=20))
def test_embedding_backward_accumulates_repeated_ids(ids):
    dout = np.random.default_rng(len(ids)).normal(size=(len(ids), 3))
    W = torch.zeros(5, 3, requires_grad=True)
    W[torch.tensor(ids)].backward(torch.tensor(dout, dtype=torch.float32))
    np.testing.assert_allclose(gpt.embedding_backward(dout, ids, 5), W.grad.numpy(),
                               rtol=1e-6, atol=1e-6)


def test_embedding_rejects_bad_ids():
    with pytest.raises(ValueError, match="ids"):
        gpt.embedding_forward([[3]], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="ids"):
        gpt.embedding_forward([0.5], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dout"):
        gpt.embedding_backward(np.zeros((2, 3)), [0, 1, 2], 3)


def test_a_few_adam_steps_of_the_numpy_model_lower_the_loss():
    from dlnotes import optim

    params = _params(layers=1)
    seq = np.tile(np.arange(V), 4)[: 4 * C + 1]
    ids = np.stack([seq[i:i + C] for i in range(0, 3 * C, C)])
    targets = np.stack([seq[i + 1:i + C + 1] for i in range(0, 3 * C, C)])
    first, _ = gpt.gpt_loss(ids, targets, params)
    opt = optim.Adam(gpt.param_arrays(params), lr=1e-2)
    for _ in range(30):
        _, grads = gpt.gpt_loss(ids, targets, params)
        opt.step(gpt.param_arrays(grads))
    last, _ = gpt.gpt_loss(ids, targets, params)
    assert last < first - 1.0


def test_generate_applies_top_k_and_is_reproducible():
    logits = np.array([0.0, 3.0, 2.9, -1.0, 2.9])
    seen = []

    def sample(z, temperature, rng):
        seen.append(z.copy())
        return int(rng.integers(0, z.size))

    out = gpt.generate(lambda ids: logits, [4, 0], 3, 1, 2, 0.7, sample, seed=5)
    assert out[:2] == [4, 0] and len(out) == 5
    assert np.isneginf(seen[0][[0, 3]]).all() and np.isfinite(seen[0][[1, 2, 4]]).all()
    again = gpt.generate(lambda ids: logits, [4, 0], 3, 1, 2, 0.7, lambda z, t, r: int(
        r.integers(0, z.size)), seed=5)
    assert again == out
    # the context window: step_logits sees at most `context` ids
    lengths = []
    gpt.generate(lambda ids: (lengths.append(len(ids)), logits)[1], [1], 4, 3, None, 0.0,
                 lambda z, t, r: int(np.argmax(z)), 0)
    assert lengths == [1, 2, 3, 3]


def test_bigram_baseline_against_counts():
    train = np.array([0, 1, 2, 0, 1, 1, 2, 0])
    val = np.array([0, 1, 2])
    counts = np.ones((3, 3))
    for a, b in zip(train[:-1], train[1:], strict=True):
        counts[a, b] += 1
    p = counts / counts.sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 1]) + np.log(p[1, 2])) / 2
    assert gpt.bigram_val_loss(train, val, 3) == pytest.approx(expected)


# --------------------------------------------------------------------------
# the block on its own (chapter 10's exercises) against torch's layer
# --------------------------------------------------------------------------

def _torch_layer(params, E, H, F):
    layer = torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.0, activation="gelu",
                                             batch_first=True, norm_first=True).double()
    layer.load_state_dict({k: torch.tensor(v) for k, v in params.items() if k != "num_heads"})
    return layer


@pytest.mark.parametrize(("B", "L", "E", "H", "F"), [(1, 1, 4, 1, 8), (2, 6, 8, 2, 12),
                                                     (3, 5, 12, 3, 16)])
def test_block_forward_and_backward_match_torch_layer(B, L, E, H, F):
    rng = np.random.default_rng(B * 100 + L)
    from dlnotes import attention

    params = attention.init_encoder_block_params(E, H, F, rng)
    for name in ("norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
                 "self_attn.in_proj_bias", "self_attn.out_proj.bias"):
        params[name] = params[name] + 0.1 * rng.normal(size=params[name].shape)
    x = rng.normal(size=(B, L, E))
    dout = rng.normal(size=(B, L, E))
    out, cache = gpt.gpt_block_forward(x, params)
    dx, grads = gpt.gpt_block_backward(dout, cache)

    layer = _torch_layer(params, E, H, F)
    tx = torch.tensor(x, requires_grad=True)
    causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
    t_out = layer(tx, src_mask=causal)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-7, atol=1e-10)
    assert set(grads) == set(gpt.BLOCK_PARAM_NAMES)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-6, atol=1e-10,
                                   err_msg=name)
    assert set(cache) == set(gpt.BLOCK_CACHE_KEYS)
    assert cache["weights"].shape == (B, H, L, L)
    assert np.all(cache["weights"][..., np.triu_indices(L, 1)[0], np.triu_indices(L, 1)[1]]
                  == 0)


def test_block_backward_uses_the_pieces_it_is_given():
    from dlnotes import attention, regularization

    rng = np.random.default_rng(3)
    params = attention.init_encoder_block_params(8, 2, 16, rng)
    out, cache = gpt.gpt_block_forward(rng.normal(size=(2, 4, 8)), params)
    dout = rng.normal(size=out.shape)
    dx, grads = gpt.gpt_block_backward(dout, cache)
    same_dx, _ = gpt.gpt_block_backward(dout, cache, regularization.layer_norm_backward,
                                        attention.sdpa_backward)
    np.testing.assert_array_equal(dx, same_dx)
    calls = []

    def halved_ln_backward(d, c):
        calls.append("ln")
        dx_, dg, db = regularization.layer_norm_backward(d, c)
        return 0.5 * dx_, dg, db

    def counted_sdpa_backward(d, q, k, v, w):
        calls.append("sdpa")
        return attention.sdpa_backward(d, q, k, v, w)

    other, _ = gpt.gpt_block_backward(dout, cache, halved_ln_backward, counted_sdpa_backward)
    assert calls == ["ln", "sdpa", "ln"]
    assert not np.allclose(other, dx)


def test_block_rejects_a_foreign_cache_and_bad_heads():
    from dlnotes import attention

    rng = np.random.default_rng(0)
    params = attention.init_encoder_block_params(8, 2, 16, rng)
    with pytest.raises(ValueError, match="num_heads"):
        gpt.gpt_block_forward(np.zeros((1, 2, 8)), {**params, "num_heads": 3})
    with pytest.raises(ValueError, match="cache must be the dict"):
        gpt.gpt_block_backward(np.zeros((1, 2, 8)), {"x": 1})


def test_the_model_built_from_parts_uses_them():
    params = _params(layers=1)
    rng = np.random.default_rng(1)
    ids, targets = rng.integers(0, V, size=(2, C)), rng.integers(0, V, size=(2, C))
    loss, grads = gpt.gpt_loss(ids, targets, params)
    seen = []

    def embedding_backward(dout, ids_, vocab):
        seen.append(ids_.shape)
        return gpt.embedding_backward(dout, ids_, vocab)

    loss2, grads2 = gpt.gpt_loss(ids, targets, params, gpt.Parts(
        embedding_backward=embedding_backward))
    assert loss2 == loss and seen == [(2, C)]
    for a, b in zip(gpt.param_arrays(grads), gpt.param_arrays(grads2), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Parts.block_forward must be callable"):
        gpt.Parts(block_forward=3)


def test_train_gpt_lowers_the_validation_loss_below_the_bigram_baseline():
    from dlnotes import data

    corpus = data.load_text_corpus(max_chars=60_000)
    params = gpt.init_gpt_params(corpus.vocab_size, 32, 32, 2, 1, 64,
                                 np.random.default_rng(0))
    seen = []
    history = gpt.train_gpt(params, corpus.train, corpus.val, steps=150, batch_size=16,
                            context=32, lr=1e-2, warmup_steps=15, eval_every=50,
                            progress=lambda t, loss: seen.append(t))
    assert seen == list(range(1, 151)) and history["steps_done"] == 150
    assert history["step"] == [50, 100, 150]
    uniform = np.log(corpus.vocab_size)
    assert history["val_loss"][0] < uniform
    assert history["val_loss"][-1] < history["val_loss"][0]
    # the schedule: warm-up to lr, then the cosine down towards 0
    assert max(history["lr"]) == pytest.approx(1e-2) and history["lr"][-1] < 1e-3
    with pytest.raises(ValueError, match="warmup_steps"):
        gpt.train_gpt(params, corpus.train, corpus.val, steps=10, batch_size=2, context=8,
                      lr=1e-3, warmup_steps=10)
