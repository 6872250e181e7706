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


def _arrays(tree):
    """The parameter (or gradient) arrays of a GPT dict, in one fixed order."""
    out = [tree["wte"], tree["wpe"], tree["ln_f.weight"], tree["ln_f.bias"]]
    for block in tree["blocks"]:
        out += [block[k] for k in sorted(block) if k != "num_heads"]
    return out


def test_a_few_adam_steps_of_the_numpy_model_lower_the_loss():
    from dlnotes import optim

    params = _params(layers=1)
    seq = np.tile(np.arange(V), 4)[: 4 * C + 1]
    ids = np.stack([seq[i:i + C] for i in range(0, 3 * C, C)])
    targets = np.stack([seq[i + 1:i + C + 1] for i in range(0, 3 * C, C)])
    first, _ = gpt.gpt_loss(ids, targets, params)
    opt = optim.Adam(_arrays(params), lr=1e-2)
    for _ in range(30):
        _, grads = gpt.gpt_loss(ids, targets, params)
        opt.step(_arrays(grads))
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
