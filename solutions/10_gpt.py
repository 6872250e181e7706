# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 10 — A tiny GPT, from your own parts
#
# Everything a GPT is made of, you have already built: the cross-entropy of chapter 3,
# AdamW and the warm-up + cosine schedule of chapter 5, LayerNorm and its backward pass
# of chapter 6, the character corpus and `sample_next` of chapter 8, attention and its
# backward pass of chapter 9. This chapter adds the last pieces and trains a small
# **language model** (语言模型) that writes text one character at a time — in numpy, with
# your code doing the work.
#
# **What this chapter covers**
# 1. Next-token prediction: one causal forward pass gives a prediction at every position,
#    and the loss is chapter 3's cross-entropy, averaged over them.
# 2. Token and position **embeddings** (嵌入) and the backward pass of a table lookup.
# 3. The **pre-norm** GPT block (前置归一化): causal self-attention and an MLP on a
#    residual stream, forward and backward.
# 4. **Autoregressive generation** (自回归生成) with temperature and top-k.
# 5. Training the model assembled from your answers of chapters 3, 5, 6, 8, 9 and this
#    one, against a bigram baseline and chapter 8's LSTM; sampling from it with sliders;
#    the same model in torch as a check.
#
# **How to check your answers.** Each exercise is a function with a stub that
# raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong.
# The grader also runs hidden tests (other sizes, torch as the referee, a short training
# run) on each exercise. In JupyterLab, the **Validate** button of the nbgrader
# toolbar runs every test of the notebook at once.
#
# Exercises may use `numpy` and `scipy` only: an answer that calls `dlnotes`,
# scikit-learn or torch scores zero for that exercise.
#
# **Shapes.** `B` batch, `L` sequence length (at most the context `C`), `V` vocabulary
# size, `E` model width, `H` heads, `d = E / H` head width, `F` MLP width.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. Predicting the next character
#
# A language model gives a probability to every possible next token given the ones
# before it, $p_\theta(x_{t+1} \mid x_1, \dots, x_t)$. The probability of a whole text
# is the product of these factors (the chain rule of probability), so maximising the
# likelihood of the training text is minimising
#
# $$\mathcal L(\theta) = -\frac{1}{T}\sum_{t} \log p_\theta(x_{t+1} \mid x_{\le t}),$$
#
# the mean cross-entropy of chapter 3 with the next character as the class. Its value
# is in **nats per character**; $e^{\mathcal L}$ is the **perplexity** (困惑度) of
# chapter 8.
#
# A Transformer with a **causal mask** (因果掩码, chapter 9) computes all these factors
# in one pass: position $t$ attends to positions $0..t$ only, so its output may serve as
# the prediction of token $t+1$ without having seen it. A window of $L$ characters
# therefore gives $L$ training examples at once; feeding the true previous characters,
# not the model's own guesses, is called **teacher forcing** (教师强制).
#
# Two yardsticks tell us whether the model learns anything:
# - a model that knows nothing gives every character the same probability, $1/V$: its
#   loss is $\log V$;
# - a **bigram** model (二元语法模型) counts, in the training text, how often each
#   character follows each other one, and predicts from these counts alone.
#
# A model that sees a context of dozens of characters should beat the bigram clearly.
#
# The corpus is the one of chapter 8: the help texts of the Python documentation that
# ship with every Python (`pydoc_data.topics`, PSF licence), split once into a training
# part and a validation part at its end.

# %% tags=["demo"]
import os

import matplotlib.pyplot as plt

from dlnotes import data, gpt

corpus = data.load_text_corpus()
V = corpus.vocab_size
print(f"{len(corpus.train):,} training and {len(corpus.val):,} validation characters, "
      f"V = {V} distinct characters")
print(corpus.source)
print("A validation excerpt:", repr(corpus.decode(corpus.val[:200])))
uniform_loss = np.log(V)
bigram_loss = gpt.bigram_val_loss(corpus.train, corpus.val, V)
print(f"uniform model: {uniform_loss:.3f} nats/char; bigram model: {bigram_loss:.3f} "
      f"nats/char (perplexity {np.exp(bigram_loss):.1f})")

# %% [markdown]
# ## 2. Embeddings
#
# The network works on vectors, not on character ids. A **token embedding** (词嵌入) is a
# learned table $W_{te}$ of shape (V, E): the id $i$ becomes row $W_{te}[i]$. Attention
# itself ignores order (chapter 9), so a second table $W_{pe}$ of shape (C, E), the
# **position embedding** (位置嵌入), adds a learned vector per position:
#
# $$h^{(0)}_{b,t} = W_{te}[\text{ids}_{b,t}] + W_{pe}[t].$$
#
# A lookup is a matrix product in disguise: with $o_{b,t}$ the one-hot row of
# $\text{ids}_{b,t}$, $W_{te}[\text{ids}_{b,t}] = o_{b,t} W_{te}$. Chapter 4's rule for
# $Y = XW$, $\partial \ell / \partial W = X^\top\, \partial \ell/\partial Y$, then says
# what the gradient of the table is. Work it out with one-hot rows before you code it:
# which rows of $dW$ are non-zero, and what happens to a row whose token occurs at several
# positions?
#
# Our model reuses $W_{te}$ at the output, $\text{logits} = h\,W_{te}^\top$
# (**weight tying**, 权重共享, as in GPT-2): the table then receives the sum of the
# gradients of both uses. The library adds them; you write the lookup's part.

# %% nbgrader={"grade_id": "embedding_backward", "solution": true}
def embedding_backward(dout, ids, vocab_size):
    """Gradient of the loss with respect to an embedding table used as W[ids].

    Parameters
    ----------
    dout : ndarray, shape ids.shape + (E,)
        Gradient of the loss with respect to the looked-up rows W[ids].
    ids : int ndarray, any shape (e.g. (B, L)), values in [0, vocab_size)
    vocab_size : int

    Returns
    -------
    dW : ndarray, shape (vocab_size, E), the dtype of dout
        Rows of tokens that do not occur are zero.
    """
    ### BEGIN SOLUTION
    dW = np.zeros((vocab_size, dout.shape[-1]), dtype=dout.dtype)
    np.add.at(dW, np.asarray(ids).reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_embedding_backward", "grade": true, "points": 1}
from dlnotes import gpt as _gpt_ref

# Token 2 occurs three times, token 0 once, token 1 never.
_ids = np.array([[2, 0, 2], [2, 3, 3]])
_dout = np.arange(1.0, 13.0).reshape(2, 3, 2)
_got = answer(embedding_backward, _dout, _ids, 5)
_expected = _gpt_ref.embedding_backward(_dout, _ids, 5)
_last_only = np.zeros((5, 2))
_last_only[_ids.reshape(-1)] = _dout.reshape(-1, 2)
_counts = np.bincount(_ids.reshape(-1), minlength=5)
check_close(_got, _expected, "dW for ids [[2, 0, 2], [2, 3, 3]] (token 2 three times)",
            mistakes={"a token that occurs several times keeps only one of its gradients "
                      "(dW[ids] = ... and dW[ids] += ... with repeated ids write each row once); "
                      "the gradients of all its occurrences must be added (np.add.at)":
                      _last_only,
                      "the gradients of a token's occurrences are averaged; each occurrence "
                      "adds its own gradient, so they are summed":
                      _expected / np.maximum(_counts, 1)[:, None]})
check_equal(np.shape(_got), (5, 2), "shape of dW (vocab_size, E)")

# %% nbgrader={"grade_id": "test_embedding_backward_hidden", "grade": true, "points": 1}
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(10)
for _shape, _vocab in [((7,), 3), ((4, 9), 6), ((2, 3, 5), 40), ((1, 1), 1)]:
    _ids = _rng.integers(0, _vocab, size=_shape)
    _dout = _rng.normal(size=_shape + (4,)).astype(np.float32)
    _W = _torch.zeros(_vocab, 4, requires_grad=True)
    _W[_torch.tensor(_ids)].backward(_torch.tensor(_dout))
    _got = answer(embedding_backward, _dout, _ids, _vocab, case=f"ids of shape {_shape}")
    check_close(_got, _W.grad.numpy(), f"dW for ids of shape {_shape}, vocab_size {_vocab}",
                atol=1e-5, rtol=1e-5)
    check_equal(np.shape(_got), (_vocab, 4), f"shape of dW for vocab_size {_vocab}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The GPT block
#
# Chapter 9's encoder block was **post-norm**: LayerNorm after each residual sum,
# $\mathrm{LN}(x + \mathrm{MHA}(x))$, as in the original Transformer. GPT-2 and almost
# every language model since put the LayerNorm **inside** each branch instead
# (**pre-norm**):
#
# $$h = x + \mathrm{MHA}_{\text{causal}}\big(\mathrm{LN}_1(x)\big), \qquad
#   \text{out} = h + W_2\,\mathrm{GELU}\big(W_1\,\mathrm{LN}_2(h) + b_1\big) + b_2 .$$
#
# Read it as a **residual stream** (残差流): $x$ flows from the input to the output
# unchanged, and each branch *adds* something to it. The derivative of the output with
# respect to the input is the identity plus the branches' contributions, so the gradient
# reaches the first block undamped however deep the stack — the reason pre-norm trains
# without the careful warm-up post-norm needs. The price: the stream is never normalised,
# so the model applies one more LayerNorm after the last block.
#
# The pieces are those of chapter 9: the projection $[Q\;K\;V] = n_1 W_{in}^\top + b_{in}$
# ($W_{in}$ of shape (3E, E), rows in the order Q, K, V), split into $H$ heads of width
# $d$, scaled dot-product attention with the causal mask in each head, heads merged back
# and projected by $W_O$. The MLP uses the exact GELU of chapter 2
# (`scipy.special.erf`), LayerNorm uses $\epsilon = 10^{-5}$ as chapter 6.
#
# With these conventions your block computes exactly what
# `torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.0, activation="gelu",
# batch_first=True, norm_first=True)` computes with a causal mask — the hidden tests
# use it as the referee. The parameter names are the keys of that layer's `state_dict()`.
#
# The backward pass (section 4) needs intermediate values, so the forward returns a
# cache. Its layout is fixed below because the tests hand your backward a cache made by
# the reference forward. The LayerNorm caches are chapter 6's: `layer_norm_forward(x,
# gamma, beta)` returns `(out, (xhat, gamma, inv_std))` with `xhat` of x's shape and
# `inv_std` $= 1/\sqrt{\sigma^2 + \epsilon}$ of shape (B, L, 1).

# %% nbgrader={"grade_id": "gpt_block_forward", "solution": true}
from scipy.special import erf


def gpt_block_forward(x, params):
    """One pre-norm, causal GPT block (GELU MLP).

    Parameters
    ----------
    x : ndarray, shape (B, L, E)
    params : dict
        "num_heads" (int H, divides E) and the arrays, named like the state_dict of
        torch.nn.TransformerEncoderLayer:
        "self_attn.in_proj_weight" (3E, E), "self_attn.in_proj_bias" (3E,),
        "self_attn.out_proj.weight" (E, E), "self_attn.out_proj.bias" (E,),
        "linear1.weight" (F, E), "linear1.bias" (F,),
        "linear2.weight" (E, F), "linear2.bias" (E,),
        "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias" (E,).
        A linear layer computes y = x @ weight.T + bias.

    Returns
    -------
    out : ndarray, shape (B, L, E)
    cache : dict with exactly these keys
        "x": x; "params": params; "num_heads": H;
        "n1", "n2": (B, L, E), the outputs of the first and second LayerNorm;
        "ln1", "ln2": their caches (xhat, gamma, inv_std), as chapter 6's
            layer_norm_forward returns them, inv_std of shape (B, L, 1);
        "q", "k", "v": (B, H, L, d), the projections split into heads;
        "weights": (B, H, L, L), the attention weights (0 above the diagonal);
        "concat": (B, L, E), the heads' outputs merged, before the output projection;
        "h": (B, L, E), the stream after the attention branch is added;
        "z": (B, L, F), the MLP's pre-activation (before the GELU).
    """
    ### BEGIN SOLUTION
    B, L, E = x.shape
    H = params["num_heads"]
    d = E // H

    def layer_norm(a, gamma, beta):
        mu = a.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(a.var(axis=-1, keepdims=True) + 1e-5)
        xhat = (a - mu) * inv_std
        return xhat * gamma + beta, (xhat, gamma, inv_std)

    def heads(a):                       # (B, L, E) -> (B, H, L, d)
        return a.reshape(B, L, H, d).transpose(0, 2, 1, 3)

    n1, ln1 = layer_norm(x, params["norm1.weight"], params["norm1.bias"])
    qkv = n1 @ params["self_attn.in_proj_weight"].T + params["self_attn.in_proj_bias"]
    q, k, v = heads(qkv[..., :E]), heads(qkv[..., E:2 * E]), heads(qkv[..., 2 * E:])
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    scores = np.where(np.tril(np.ones((L, L), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    concat = (weights @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    h = x + concat @ params["self_attn.out_proj.weight"].T + params["self_attn.out_proj.bias"]
    n2, ln2 = layer_norm(h, params["norm2.weight"], params["norm2.bias"])
    z = n2 @ params["linear1.weight"].T + params["linear1.bias"]
    gelu = 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    out = h + gelu @ params["linear2.weight"].T + params["linear2.bias"]
    cache = {"x": x, "params": params, "num_heads": H, "n1": n1, "ln1": ln1, "q": q, "k": k,
             "v": v, "weights": weights, "concat": concat, "h": h, "n2": n2, "ln2": ln2,
             "z": z}
    return out, cache
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gpt_block_forward", "grade": true, "points": 2}
from dlnotes import attention as _attn_ref
from dlnotes import gpt as _gpt_ref


def _small_block(E=4, H=2, F=6, seed=0):
    """Small fixed weights, biases and LayerNorm parameters away from 0 and 1."""
    r = np.random.default_rng(seed)
    p = _attn_ref.init_encoder_block_params(E, H, F, r)
    for name in ("self_attn.in_proj_bias", "self_attn.out_proj.bias", "norm1.bias",
                 "norm2.bias", "linear1.bias", "linear2.bias"):
        p[name] = r.normal(scale=0.3, size=p[name].shape)
    for name in ("norm1.weight", "norm2.weight"):
        p[name] = 1 + r.normal(scale=0.3, size=p[name].shape)
    p["num_heads"] = H
    return p


def _block_mistakes(x, p):
    """What some wrong blocks return, computed with the reference."""
    H = p["num_heads"]
    E = x.shape[-1]

    def enc(params, mask=True, **kw):
        m = _attn_ref.causal_mask(x.shape[1]) if mask else None
        arrays = {k: v for k, v in params.items() if k != "num_heads"}
        return _attn_ref.encoder_block_forward(x, arrays, m, num_heads=kw.pop("heads", H),
                                               **kw)[0]

    return {
        "position t attends to later positions: the causal mask is missing (only keys "
        "0..t may get a weight)": enc(p, mask=False, norm_first=True, activation="gelu"),
        "this is a post-norm block, LN(x + MHA(x)); the GPT block is pre-norm, "
        "x + MHA(LN1(x)) then h + MLP(LN2(h))": enc(p, norm_first=False, activation="gelu"),
        "the MLP uses ReLU; it should use the exact GELU, z * Phi(z)":
            enc(p, norm_first=True, activation="relu"),
        "the output projection W_O (self_attn.out_proj) is missing":
            enc({**p, "self_attn.out_proj.weight": np.eye(E),
                 "self_attn.out_proj.bias": np.zeros(E)}, norm_first=True, activation="gelu"),
        "the heads are not split: this is one head of width E": enc(
            p, norm_first=True, activation="gelu", heads=1),
    }


_p = _small_block()
_x = np.random.default_rng(1).normal(size=(2, 3, 4))
_out = answer(gpt_block_forward, _x, _p)
check_equal(type(_out).__name__, "tuple", "gpt_block_forward returns (out, cache)")
_got, _cache = _out
_expected, _ref_cache = _gpt_ref.gpt_block_forward(_x, _p)
check_close(_got, _expected, "out of a 2-head block on x of shape (2, 3, 4)", atol=1e-6,
            rtol=1e-5, mistakes=_block_mistakes(_x, _p))
check_equal(sorted(_cache), sorted(_gpt_ref.BLOCK_CACHE_KEYS), "the keys of the cache")
check_close(_cache["weights"], _ref_cache["weights"],
            "cache['weights'] (B, H, L, L): zero above the diagonal, rows summing to 1",
            atol=1e-6, rtol=1e-5)
for _key in ("n1", "h", "z", "concat"):
    check_close(_cache[_key], _ref_cache[_key], f"cache['{_key}']", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_gpt_block_forward_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(11)
_TOL = {"atol": 1e-6, "rtol": 1e-5}
for _B, _L, _E, _H, _F in [(1, 1, 4, 1, 4), (3, 7, 12, 3, 20), (2, 16, 16, 4, 32)]:
    _p = _small_block(_E, _H, _F, seed=_L)
    _x = _rng.normal(size=(_B, _L, _E))
    _layer = _torch.nn.TransformerEncoderLayer(_E, _H, _F, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True).double()
    _layer.load_state_dict({_k: _torch.tensor(_v) for _k, _v in _p.items()
                            if _k != "num_heads"})
    _causal = _torch.triu(_torch.ones(_L, _L, dtype=_torch.bool), diagonal=1)
    with _torch.no_grad():
        _want = _layer(_torch.tensor(_x), src_mask=_causal).numpy()
    _case = f"x of shape {(_B, _L, _E)}, {_H} heads, F = {_F}"
    _got, _cache = answer(gpt_block_forward, _x, _p, case=_case)
    _named = _block_mistakes(_x, _p)
    check_close(_got, _want, f"out for {_case} (torch's layer as referee)", atol=1e-6,
                rtol=1e-5, mistakes=_named)
    _, _ref_cache = _gpt_ref.gpt_block_forward(_x, _p)
    for _key in ("q", "k", "v", "weights", "n2", "z"):
        check_close(_cache[_key], _ref_cache[_key], f"cache['{_key}'] for {_case}",
                    **_TOL)
    for _key in ("ln1", "ln2"):
        for _i, _part in enumerate(("xhat", "gamma", "inv_std")):
            check_close(_cache[_key][_i], _ref_cache[_key][_i],
                        f"cache['{_key}'][{_i}] ({_part}) for {_case}", **_TOL)
# float32 in, float32-accurate out
_p = _small_block(8, 2, 16, seed=5)
_x32 = _rng.normal(size=(2, 5, 8)).astype(np.float32)
_got, _ = answer(gpt_block_forward, _x32, _p, case="float32 x")
check_close(_got, _gpt_ref.gpt_block_forward(_x32.astype(float), _p)[0], "out for float32 x",
            atol=1e-4, rtol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The block's backward pass
#
# You have every local rule already; this exercise is the **chaining**. Walk the forward
# pass backwards, and keep two facts in mind.
#
# **A residual sum copies the gradient.** For $h = x + f(x)$,
# $\bar x = \bar h + \big(\partial f/\partial x\big)^\top \bar h$: the gradient arrives
# at $x$ once directly and once through the branch, and the two are **added**. In the
# pre-norm block the branch starts with the LayerNorm, so its backward ends with
# chapter 6's `layer_norm_backward`.
#
# **A tensor used three times receives three gradients.** $Q$, $K$ and $V$ are all
# computed from the same $n_1$ (one matrix $W_{in}$ for the three), so $\bar n_1$ is the
# sum of the three paths; with the stacked projection it is one matrix product, once
# $\bar Q, \bar K, \bar V$ are merged back from heads and laid side by side in the
# order Q, K, V.
#
# Splitting into heads and merging them are reshapes and transposes: their backward
# passes are the inverse reshapes. The attention's backward is chapter 9's
# `sdpa_backward(dout, q, k, v, weights) -> (dq, dk, dv)`, LayerNorm's is chapter 6's
# `layer_norm_backward(dout, cache) -> (dx, dgamma, dbeta)`, and the derivative of the
# exact GELU is chapter 2's. Both backward passes come in as **parameters**: your
# training run passes your own, the tests pass the reference, so a slip in an earlier
# chapter costs nothing here.
#
# A linear layer $y = x W^\top + b$ over a batch of positions has (chapter 4)
# $\bar x = \bar y\, W$, $\bar W = \bar y^\top x$ and $\bar b = \sum \bar y$, with the
# sums running over **all** batch and position axes.

# %% nbgrader={"grade_id": "gpt_block_backward", "solution": true}
from scipy.special import erf


def gpt_block_backward(dout, cache, layer_norm_backward, sdpa_backward):
    """Backward pass of gpt_block_forward.

    Parameters
    ----------
    dout : ndarray, shape (B, L, E)
        Gradient of the loss with respect to the block's output.
    cache : dict
        As gpt_block_forward returns it (see its docstring for the keys).
    layer_norm_backward : function (dout, ln_cache) -> (dx, dgamma, dbeta)
        Chapter 6's, for the caches cache["ln1"] and cache["ln2"].
    sdpa_backward : function (dout, q, k, v, weights) -> (dq, dk, dv)
        Chapter 9's; dout, q, k, v of shape (B, H, L, d), weights (B, H, L, L).

    Returns
    -------
    dx : ndarray, shape (B, L, E)
    grads : dict
        One gradient per parameter array, with the names and shapes of params
        (every key of params except "num_heads").
    """
    ### BEGIN SOLUTION
    p, H, x = cache["params"], cache["num_heads"], cache["x"]
    B, L, E = x.shape
    d = E // H
    g = {}

    def linear_backward(dy, inp, name):
        W = p[name + "weight"]
        g[name + "weight"] = dy.reshape(-1, dy.shape[-1]).T @ inp.reshape(-1, inp.shape[-1])
        g[name + "bias"] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dy @ W

    def heads(a):                       # (B, L, E) -> (B, H, L, d)
        return a.reshape(B, L, H, d).transpose(0, 2, 1, 3)

    def merge(a):                       # (B, H, L, d) -> (B, L, E)
        return a.transpose(0, 2, 1, 3).reshape(B, L, E)

    # MLP branch: out = h + W2 GELU(z) + b2, z = W1 n2 + b1, n2 = LN2(h)
    z = cache["z"]
    gelu = 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    dgelu = linear_backward(dout, gelu, "linear2.")
    phi = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    dz = dgelu * (0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * phi)
    dn2 = linear_backward(dz, cache["n2"], "linear1.")
    dh_branch, g["norm2.weight"], g["norm2.bias"] = layer_norm_backward(dn2, cache["ln2"])
    dh = dout + dh_branch
    # attention branch: h = x + W_O concat + b_O, [q k v] = W_in n1 + b_in, n1 = LN1(x)
    dconcat = linear_backward(dh, cache["concat"], "self_attn.out_proj.")
    dq, dk, dv = sdpa_backward(heads(dconcat), cache["q"], cache["k"], cache["v"],
                               cache["weights"])
    dqkv = np.concatenate([merge(dq), merge(dk), merge(dv)], axis=-1)
    dW_in = dqkv.reshape(-1, 3 * E).T @ cache["n1"].reshape(-1, E)
    g["self_attn.in_proj_weight"] = dW_in
    g["self_attn.in_proj_bias"] = dqkv.reshape(-1, 3 * E).sum(axis=0)
    dn1 = dqkv @ p["self_attn.in_proj_weight"]
    dx_branch, g["norm1.weight"], g["norm1.bias"] = layer_norm_backward(dn1, cache["ln1"])
    return dh + dx_branch, g
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_gpt_block_backward", "grade": true, "points": 3}
from dlnotes import attention as _attn_ref
from dlnotes import gpt as _gpt_ref
from dlnotes import regularization as _reg_ref


def _backward_mistakes(dout, cache):
    """dx of some wrong chainings, computed with the reference by changing its pieces."""
    ln, sdpa = _reg_ref.layer_norm_backward, _attn_ref.sdpa_backward

    def ref(d, ln_fn=ln, sdpa_fn=sdpa):
        return _gpt_ref.gpt_block_backward(d, cache, ln_fn, sdpa_fn)[0]

    def ln_zeroed_at(call):             # the LayerNorm backward of one branch gives 0
        calls = []

        def fn(d, c):
            calls.append(1)
            dx, dg, db = ln(d, c)
            return (0 * dx if len(calls) == call else dx), dg, db
        return fn

    mlp = ref(dout, ln_zeroed_at(2)) - dout          # the MLP branch's share of dh
    no_residual = ref(mlp, ln_zeroed_at(1)) - mlp    # attention branch applied to it alone
    return {
        "only the path through Q reaches n1: the gradients through K and V must be "
        "added too (all three are computed from n1)":
            ref(dout, sdpa_fn=lambda d, q, k, v, w: (sdpa(d, q, k, v, w)[0], 0 * k, 0 * v)),
        "the residual connections do not pass the gradient straight through: "
        "for h = x + f(x) the gradient of x is dh plus the branch's gradient":
            no_residual,
    }


_p = _small_block(E=4, H=2, F=6, seed=3)
_x = np.random.default_rng(4).normal(size=(2, 3, 4))
_dout = np.random.default_rng(5).normal(size=(2, 3, 4))
_, _cache = _gpt_ref.gpt_block_forward(_x, _p)
_want_dx, _want = _gpt_ref.gpt_block_backward(_dout, _cache, _reg_ref.layer_norm_backward,
                                              _attn_ref.sdpa_backward)
_out = answer(gpt_block_backward, _dout, _cache, _reg_ref.layer_norm_backward,
              _attn_ref.sdpa_backward)
check_equal(type(_out).__name__, "tuple", "gpt_block_backward returns (dx, grads)")
_dx, _grads = _out
check_close(_dx, _want_dx, "dx of a 2-head block on x of shape (2, 3, 4)", atol=1e-6,
            rtol=1e-5, mistakes=_backward_mistakes(_dout, _cache))
check_equal(sorted(_grads), sorted(_want), "the keys of grads")
for _name in _gpt_ref.BLOCK_PARAM_NAMES:
    check_close(_grads[_name], _want[_name], f"grads['{_name}']", atol=1e-6, rtol=1e-5)

# %% nbgrader={"grade_id": "test_gpt_block_backward_hidden", "grade": true, "points": 5}
### BEGIN HIDDEN TESTS
import time as _time

import torch as _torch

_rng = np.random.default_rng(12)
for _B, _L, _E, _H, _F in [(1, 1, 4, 1, 4), (3, 6, 12, 3, 20), (2, 9, 8, 4, 16)]:
    _p = _small_block(_E, _H, _F, seed=_L + 1)
    _x = _rng.normal(size=(_B, _L, _E))
    _dout = _rng.normal(size=(_B, _L, _E))
    _layer = _torch.nn.TransformerEncoderLayer(_E, _H, _F, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True).double()
    _layer.load_state_dict({_k: _torch.tensor(_v) for _k, _v in _p.items()
                            if _k != "num_heads"})
    _tx = _torch.tensor(_x, requires_grad=True)
    _causal = _torch.triu(_torch.ones(_L, _L, dtype=_torch.bool), diagonal=1)
    _layer(_tx, src_mask=_causal).backward(_torch.tensor(_dout))
    _cache = _gpt_ref.gpt_block_forward(_x, _p)[1]
    _case = f"x of shape {(_B, _L, _E)}, {_H} heads"
    _dx, _grads = answer(gpt_block_backward, _dout, _cache, _reg_ref.layer_norm_backward,
                         _attn_ref.sdpa_backward, case=_case)
    check_close(_dx, _tx.grad.numpy(), f"dx for {_case} (torch autograd as referee)",
                atol=1e-6, rtol=1e-5, mistakes=_backward_mistakes(_dout, _cache))
    for _name, _param in _layer.named_parameters():
        check_close(_grads[_name], _param.grad.numpy(), f"grads['{_name}'] for {_case}",
                    **_TOL)

# A short training run of a one-block model: your block forward and backward, everything
# else from the reference; the loss on a repeating text must fall clearly.
_V, _C = 7, 8
_params = _gpt_ref.init_gpt_params(_V, _C, 16, 2, 1, 32, np.random.default_rng(0))
_text = np.tile(np.array([0, 1, 2, 3, 4, 5, 6, 2, 4, 6]), 4)
_ids = np.stack([_text[_i:_i + _C] for _i in range(0, 24, 3)])
_targets = np.stack([_text[_i + 1:_i + _C + 1] for _i in range(0, 24, 3)])
_parts = _gpt_ref.Parts(block_forward=lambda h, p: answer(gpt_block_forward, h, p),
                        block_backward=lambda d, c, ln, sd: answer(gpt_block_backward, d, c,
                                                                   ln, sd))
_start = _time.perf_counter()
_first, _ = _gpt_ref.gpt_loss(_ids, _targets, _params, _parts)
from dlnotes import optim as _optim_ref

_opt = _optim_ref.Adam(_gpt_ref.param_arrays(_params), lr=2e-2)
for _step in range(30):
    _loss, _g = _gpt_ref.gpt_loss(_ids, _targets, _params, _parts)
    _opt.step(_gpt_ref.param_arrays(_g))
_last, _ = _gpt_ref.gpt_loss(_ids, _targets, _params, _parts)
_TRAIN_MSG = ("30 Adam steps of a one-block GPT built on your gpt_block_forward and "
              "gpt_block_backward should lower the loss on a repeating text by at least "
              "1 nat")
if not _last < _first - 1.0:
    from dlnotes.checks import CheckFailure as _CheckFailure

    raise _CheckFailure(f"{_TRAIN_MSG}: it went from {_first:.3f} to {_last:.3f}.")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Generating text
#
# A trained model turns into a writer by feeding it its own output. Start from a
# **prompt** (提示), ask the model for the logits of the next character, pick one, append
# it, and repeat. Two details matter:
#
# - **The context window.** Position embeddings exist for $C$ positions only, so the model
#   sees the last $C$ ids of the text so far, never more.
# - **How to pick.** Always taking the most likely character (greedy decoding) quickly
#   loops. Chapter 8's `sample_next(logits, temperature, rng)` samples instead, with a
#   temperature that sharpens or flattens the distribution. **Top-k sampling** (top-k 采样)
#   first removes every candidate but the $k$ most likely, so a long tail of unlikely
#   characters cannot be drawn: set every logit **below** the $k$-th largest to
#   $-\infty$ (characters tied with the $k$-th stay candidates), then sample.
#
# Your `generate` takes the model and the sampler as functions: the tests hand it small
# made-up models, your training run hands it the GPT and your own `sample_next`.

# %% nbgrader={"grade_id": "generate", "solution": true}
def generate(step_logits, prompt_ids, steps, context, top_k, temperature, sample_fn, seed):
    """Autoregressive generation: the prompt followed by `steps` new ids.

    Parameters
    ----------
    step_logits : function (ids) -> logits
        ids is a 1-D int array of at most `context` ids (the text so far, cropped to its
        last `context` ids); logits is an array of shape (V,) for the next id.
    prompt_ids : sequence of int, at least one id
    steps : int >= 0
        How many ids to append.
    context : int >= 1
    top_k : int >= 1 or None
        Keep only the top_k largest logits (and those tied with the top_k-th); the
        others become -inf before sampling. None, or top_k >= V, keeps all.
    temperature : float
        Handed to sample_fn unchanged.
    sample_fn : function (logits, temperature, rng) -> int
        Picks the next id (chapter 8's sample_next).
    seed : int
        Seed of the one numpy Generator (np.random.default_rng(seed)) that every call
        of sample_fn receives, so the same seed gives the same text.

    Returns
    -------
    list of int
        The prompt ids followed by the new ids (length len(prompt_ids) + steps).
    """
    ### BEGIN SOLUTION
    ids = [int(i) for i in prompt_ids]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        logits = np.array(step_logits(np.array(ids[-context:])), dtype=float)
        if top_k is not None and top_k < logits.size:
            kth = np.sort(logits)[-top_k]
            logits[logits < kth] = -np.inf
        ids.append(int(sample_fn(logits, temperature, rng)))
    return ids
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_generate", "grade": true, "points": 2}
def _counting_model(ids):
    """A made-up model over 6 ids: it prefers (last id + 1) mod 6; logits tie at 2.0."""
    z = np.array([0.0, 2.0, 2.0, -1.0, 0.5, 1.0])
    z[(ids[-1] + 1) % 6] = 5.0
    return z


_seen = []


def _greedy(logits, temperature, rng):
    _seen.append((np.array(logits, dtype=float), temperature))
    return int(np.argmax(logits))


_out = answer(generate, _counting_model, [3], 4, 2, None, 0.7, _greedy, 0)
check_equal(list(_out), [3, 4, 5, 0, 1],
            "greedy generation from [3], 4 steps (the prompt comes first in the result)")
check_equal([_t for _, _t in _seen], [0.7] * 4,
            "the temperature sample_fn receives at each step (handed through unchanged)")

# top-k: the 3 largest logits of [0, 2, 2, -1, 0.5, 5] with the tie at 2 kept
_seen.clear()
answer(generate, _counting_model, [4], 1, 8, 2, 1.0, _greedy, 0)
_finite = list(np.flatnonzero(np.isfinite(_seen[0][0])))
check_equal(_finite, [1, 2, 5],
            "the candidates left by top_k=2 (ids 1 and 2 tie for second place, both stay)",
            mistakes={"exactly k candidates are kept, but a logit tied with the k-th largest "
                      "must stay a candidate too": [2, 5]})

# the context window and one generator for the whole run
_lengths = []
_states = []


def _recording_model(ids):
    _lengths.append(len(ids))
    return np.zeros(4)


def _drawing(logits, temperature, rng):
    _states.append(rng.integers(0, 10**9))
    return int(rng.integers(0, 4))


answer(generate, _recording_model, [0, 1], 5, 3, None, 1.0, _drawing, 7)
check_equal(_lengths, [2, 3, 3, 3, 3],
            "how many ids step_logits sees at each step (context = 3)")
_r = np.random.default_rng(7)
_expected_draws = []
for _ in range(5):
    _expected_draws.append(_r.integers(0, 10**9))
    _r.integers(0, 4)
check_equal(_states, _expected_draws,
            "the random numbers sample_fn drew at each step with seed 7",
            mistakes={"a new generator is made at every step, so every step draws the same "
                      "numbers: make np.random.default_rng(seed) once, before the loop":
                      [_expected_draws[0]] * 5})

# %% nbgrader={"grade_id": "test_generate_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(13)
_table = _rng.normal(size=(9, 9)) * 2
_first = _rng.normal(size=(9, 9))


def _bigram_model(ids):
    """Depends on the last id and on the first id the window still holds."""
    return _table[ids[-1]] + _first[ids[0]] + 0.1 * len(ids)


def _sampler(logits, temperature, rng):
    z = np.asarray(logits, dtype=float) / max(temperature, 1e-9)
    p = np.exp(z - z.max())
    return int(rng.choice(z.size, p=p / p.sum()))


for _prompt, _steps, _context, _k, _T, _seed in [([1], 20, 4, None, 1.0, 0),
                                                 ([2, 5, 7], 15, 2, 3, 0.8, 1),
                                                 ([0], 0, 1, None, 1.0, 2),
                                                 ([4, 4], 12, 5, 1, 1.3, 3),
                                                 ([8], 10, 3, 9, 0.5, 4),
                                                 ([3], 10, 3, 50, 1.0, 5)]:
    _case = (f"prompt {_prompt}, {_steps} steps, context {_context}, top_k {_k}, "
             f"temperature {_T}, seed {_seed}")
    _want = _gpt_ref.generate(_bigram_model, _prompt, _steps, _context, _k, _T, _sampler,
                              _seed)
    _got = answer(generate, _bigram_model, _prompt, _steps, _context, _k, _T, _sampler, _seed,
                  case=_case)
    check_equal([int(_i) for _i in _got], _want, f"generated ids for {_case}")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training your GPT
#
# Now the parts come together. The model below is assembled from **your** functions:
# this chapter's `embedding_backward`, `gpt_block_forward` and `gpt_block_backward`,
# chapter 3's `cross_entropy` and `cross_entropy_grad`, chapter 5's `AdamW` and
# `warmup_cosine_lr`, chapter 6's `layer_norm_forward` and `layer_norm_backward` and
# chapter 9's `sdpa_backward`. `dlnotes.mine` fetches the earlier chapters' answers from
# your copies of those notebooks; wherever one is missing or still a stub, it uses the
# `dlnotes` reference instead and prints one line saying so. The rest — the loop over
# blocks, the tied output layer, drawing random windows — is `dlnotes.gpt`.
#
# The model: embeddings of width $E = 64$, two blocks of four heads, an MLP of width 256,
# a context of 64 characters, about 110,000 parameters. Training: batches of 16 random
# windows, AdamW with weight decay 0.1 on the matrices only (not on biases and
# LayerNorm parameters, as GPT-2), a learning rate warming up over the first steps and
# then following a cosine (chapter 5). With the `CI` environment variable set the loop
# runs a much smaller budget.

# %% tags=["demo"]
import copy

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dlnotes import mine

# The matrices here are small: the threads a BLAS library would bring cost more than they
# save, and on a busy machine they slow the loop down severalfold.
threadpool_limits(limits=1)

own = mine.own(globals(), "10_gpt", ["embedding_backward", "gpt_block_forward",
                                     "gpt_block_backward", "generate"])
ch03 = mine.load("03_losses", ["cross_entropy", "cross_entropy_grad"])
ch05 = mine.load("05_optimizers", ["AdamW", "warmup_cosine_lr"])
ch06 = mine.load("06_regularization", ["layer_norm_forward", "layer_norm_backward"])
ch08 = mine.load("08_rnn", ["sample_next"])
ch09 = mine.load("09_transformer", ["sdpa_backward"])

parts = gpt.Parts(
    block_forward=own.gpt_block_forward, block_backward=own.gpt_block_backward,
    embedding_backward=own.embedding_backward,
    layer_norm_forward=ch06.layer_norm_forward, layer_norm_backward=ch06.layer_norm_backward,
    sdpa_backward=ch09.sdpa_backward,
    cross_entropy=ch03.cross_entropy, cross_entropy_grad=ch03.cross_entropy_grad)

CI = bool(os.environ.get("CI"))
CONTEXT, WIDTH, HEADS, LAYERS, MLP_WIDTH, BATCH = 64, 64, 4, 2, 256, 16
STEPS = 150 if CI else 1500
TIME_BUDGET = 20.0 if CI else 115.0            # seconds; the loop stops early past it
params = gpt.init_gpt_params(V, CONTEXT, WIDTH, HEADS, LAYERS, MLP_WIDTH,
                             np.random.default_rng(0))
initial_params = copy.deepcopy(params)        # training updates params in place
print(f"{sum(a.size for a in gpt.param_arrays(params)):,} parameters")

with tqdm(total=STEPS, desc="your GPT") as bar:
    def progress(step, loss):
        bar.update(1)
        if step % 25 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")

    history = gpt.train_gpt(params, corpus.train, corpus.val, steps=STEPS, batch_size=BATCH,
                            context=CONTEXT, lr=3e-3, warmup_steps=STEPS // 15,
                            weight_decay=0.1, seed=1, parts=parts, optimizer=ch05.AdamW,
                            lr_schedule=ch05.warmup_cosine_lr,
                            eval_every=max(STEPS // 6, 1), eval_batches=8,
                            time_budget=TIME_BUDGET, progress=progress)
gpt_val = history["val_loss"][-1]
print(f"{history['steps_done']} steps in {history['seconds']:.0f} s; validation loss "
      f"{gpt_val:.3f} nats/char (perplexity {np.exp(gpt_val):.2f}); bigram "
      f"{bigram_loss:.3f}, uniform {uniform_loss:.3f}")

# %% [markdown]
# ### Against chapter 8's LSTM
#
# Chapter 8 trained a character LSTM on the same split. Here the same LSTM (64 hidden
# units, truncated BPTT over chunks of 32 characters, Adam, gradient clipping) trains on
# as many characters as the GPT above was shown, so the two curves share their x-axis.
# Both models are then scored on the **whole** validation text. They do not read it the
# same way: the LSTM carries its state along a long piece of text, while the GPT sees
# windows of at most 64 characters, so its first predictions in each window have little
# context — a handicap the LSTM does not have.

# %% tags=["demo"]
from dlnotes import rnn

gpt_chars = BATCH * CONTEXT                               # characters predicted per step
LSTM_SEQ, LSTM_BATCH = 32, 16
lstm_steps = max(history["steps_done"] * gpt_chars // (LSTM_SEQ * LSTM_BATCH), 2)
lstm = rnn.train_char_lstm(corpus, hidden_size=64, seq_len=LSTM_SEQ, steps=lstm_steps,
                           lr=0.01, clip=1.0, seed=0, batch_size=LSTM_BATCH,
                           eval_every=max(lstm_steps // 6, 1))
val_windows = (len(corpus.val) - 1) // CONTEXT
gpt_full_val = gpt.evaluate(corpus.val, params, CONTEXT, BATCH, max(val_windows // BATCH, 1),
                            parts)
lstm_full_val = rnn.char_lstm_loss(lstm.params, corpus.val)
print(f"LSTM: {lstm_steps} steps in {lstm.seconds:.0f} s")
for name, loss in [("your GPT", gpt_full_val), ("LSTM (chapter 8)", lstm_full_val),
                   ("bigram", bigram_loss), ("uniform", uniform_loss)]:
    print(f"{name:18s} validation loss {loss:.3f} nats/char, perplexity {np.exp(loss):6.2f}")

# %% [markdown]
# The curves: training loss (averaged since the previous evaluation) and validation loss,
# against the number of training characters each model has been shown, with the two
# yardsticks of section 1. (The LSTM's curve is measured on the first 20,000 characters
# of each text, the GPT's on windows spread over the validation text.)

# %% tags=["demo"]
fig, ax = plt.subplots(figsize=(7.5, 3.8))
gpt_x = np.array(history["step"]) * gpt_chars
lstm_x = np.array(lstm.steps) * LSTM_SEQ * LSTM_BATCH
ax.plot(gpt_x, history["train_loss"], "o-", label="your GPT, training")
ax.plot(gpt_x, history["val_loss"], "s-", label="your GPT, validation")
ax.plot(lstm_x, lstm.val_loss, "^--", label="LSTM, validation")
ax.axhline(bigram_loss, color="gray", ls="--", label="bigram (validation)")
ax.axhline(uniform_loss, color="gray", ls=":", label="uniform, log V")
ax.set(xlabel="training characters seen", ylabel="nats per character",
       title="Language models on the Python help texts", ylim=(0, uniform_loss + 0.3))
ax.legend(fontsize=8)
plt.show()


# %% [markdown]
# ### Writing
#
# Sampling uses your `generate` with chapter 8's `sample_next`. The model sees the last
# 64 characters at each step.

# %% tags=["demo"]
def next_logits(ids):
    """The trained model's logits for the character after `ids` (a 1-D array)."""
    logits, _ = gpt.gpt_forward(np.asarray(ids)[None, :], params, parts)
    return logits[0, -1]


def write(prompt, length=200, temperature=0.8, top_k=None, seed=0):
    ids = own.generate(next_logits, list(corpus.encode(prompt)), length, CONTEXT, top_k,
                       temperature, ch08.sample_next, seed)
    return corpus.decode(np.array(ids))


for prompt in ("The ", "def "):
    print(repr(write(prompt, length=160 if not CI else 60)))
    print()

# %% [markdown]
# Drag the sliders: a low temperature makes the text repetitive and safe, a high one
# inventive and soon misspelt; a small `top_k` cuts the tail of unlikely characters.

# %% tags=["demo"]
import ipywidgets as widgets


def show_sample(prompt="The ", temperature=0.8, top_k=0, length=120, seed=0):
    text = write(prompt or " ", length=length, temperature=temperature,
                 top_k=None if top_k == 0 else top_k, seed=seed)
    print(text)


widgets.interact(show_sample, prompt=widgets.Text("The "),
                 temperature=widgets.FloatSlider(0.8, min=0.0, max=2.0, step=0.1),
                 top_k=widgets.IntSlider(0, min=0, max=20, description="top_k (0 = all)"),
                 length=widgets.IntSlider(120, min=20, max=300, step=20),
                 seed=widgets.IntSlider(0, min=0, max=9));

# %% [markdown]
# ## 7. The same model in torch
#
# As a last check, the same model in torch, built from the same initial weights:
# `nn.TransformerEncoderLayer(norm_first=True, activation="gelu")` blocks with a causal
# mask, tied embeddings, a final LayerNorm. On a batch of training windows its loss and every
# gradient must equal those of the numpy model built from your parts, up to rounding.
# This cell uses a GPU when there is one and the CPU otherwise.

# %% tags=["demo"]
import torch


class TorchGPT(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        E = p["wte"].shape[1]
        self.wte = torch.nn.Parameter(torch.tensor(p["wte"]))
        self.wpe = torch.nn.Parameter(torch.tensor(p["wpe"]))
        self.blocks = torch.nn.ModuleList()
        for block in p["blocks"]:
            layer = torch.nn.TransformerEncoderLayer(
                E, p["num_heads"], block["linear1.weight"].shape[0], dropout=0.0,
                activation="gelu", batch_first=True, norm_first=True).double()
            layer.load_state_dict({k: torch.tensor(v) for k, v in block.items()
                                   if k != "num_heads"})
            self.blocks.append(layer)
        self.ln_f = torch.nn.LayerNorm(E).double()
        with torch.no_grad():
            self.ln_f.weight.copy_(torch.tensor(p["ln_f.weight"]))
            self.ln_f.bias.copy_(torch.tensor(p["ln_f.bias"]))

    def forward(self, ids):
        L = ids.shape[1]
        h = self.wte[ids] + self.wpe[:L]
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool, device=ids.device), 1)
        for layer in self.blocks:
            h = layer(h, src_mask=causal)
        return self.ln_f(h) @ self.wte.T


device = "cuda" if torch.cuda.is_available() else "cpu"
starts = np.random.default_rng(1).integers(0, len(corpus.train) - CONTEXT - 1, BATCH)
x = np.stack([corpus.train[s:s + CONTEXT] for s in starts])
y = np.stack([corpus.train[s + 1:s + CONTEXT + 1] for s in starts])
loss_np, grads_np = gpt.gpt_loss(x, y, initial_params, parts)

twin = TorchGPT(initial_params).to(device)
logits = twin(torch.tensor(x, device=device))
loss_t = torch.nn.functional.cross_entropy(logits.reshape(-1, V),
                                           torch.tensor(y, device=device).reshape(-1))
loss_t.backward()
torch_grads = [twin.wte.grad, twin.wpe.grad, twin.ln_f.weight.grad, twin.ln_f.bias.grad]
for layer in twin.blocks:
    named = dict(layer.named_parameters())
    torch_grads += [named[name].grad for name in gpt.BLOCK_PARAM_NAMES]
worst = max(float(np.max(np.abs(g_np - g_t.cpu().numpy())))
            for g_np, g_t in zip(gpt.param_arrays(grads_np), torch_grads, strict=True))
print(f"on {device}: first-step loss numpy {loss_np:.10f}, torch {loss_t.item():.10f}; "
      f"largest gradient difference {worst:.1e}")

# %% [markdown]
# ## What you built
#
# - **Next-token prediction** turns a text into $L$ classification problems per window;
#   the causal mask lets one forward pass solve them all, and the loss is chapter 3's
#   cross-entropy — maximum likelihood on the text.
# - An **embedding** is a lookup whose gradient is a scatter-add: a token used several
#   times collects the sum of its gradients.
# - The **pre-norm block** keeps a residual stream from input to output; its backward
#   pass adds the gradient of every path — the residual copies, and the three uses of
#   $n_1$ through $Q$, $K$ and $V$.
# - **Generation** feeds the model its own samples through a fixed context window, with
#   temperature and top-k deciding how adventurous it is.
# - The model that wrote the text above ran on your embedding backward, your block forward
#   and backward, your generation loop and — where you answered them — your cross-entropy,
#   AdamW, learning-rate schedule, LayerNorm backward, attention backward and sampler
#   from chapters 3, 5, 6, 8 and 9.
#
# From here, a real GPT differs in scale rather than in kind: sub-word tokens instead of
# characters, dozens of blocks, thousands of dimensions, and GPUs running the same
# matrix products you wrote.
