r"""A tiny GPT: a decoder-only, causal, character-level Transformer in numpy.

The model, in the library's ``*_forward -> (out, cache)`` / ``*_backward(dout,
cache)`` style:

.. math::

    h^{(0)} = W_{te}[\text{ids}] + W_{pe}[0{:}L], \qquad
    h^{(\ell)} = \mathrm{Block}_\ell\big(h^{(\ell-1)}\big), \qquad
    \text{logits} = \mathrm{LN}_f\big(h^{(n)}\big)\, W_{te}^\top

with each block pre-norm, causal and GELU (exact, erf):

.. math::

    a = x + \mathrm{MHA}_{\text{causal}}(\mathrm{LN}_1 x), \qquad
    \text{out} = a + W_2\, \mathrm{GELU}(W_1\, \mathrm{LN}_2 a + b_1) + b_2,

which is ``torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward,
dropout=0.0, activation="gelu", batch_first=True, norm_first=True)`` with a
causal mask (the block is :func:`dlnotes.attention.encoder_block_forward`; this
module chains it). The output layer is tied to the token embedding
:math:`W_{te}` (its gradient adds both uses).

Parameters live in a dict: ``"wte"`` (V, E), ``"wpe"`` (C, E), ``"blocks"``
(a list of block dicts keyed like the torch layer's ``state_dict``),
``"ln_f.weight"``, ``"ln_f.bias"`` (E,), ``"num_heads"`` (int). Gradients come
back in the same structure.
"""

from __future__ import annotations

import numpy as np

from . import attention
from ._validation import as_float_array, check_positive_int
from .regularization import layer_norm_backward, layer_norm_forward

__all__ = [
    "embedding_forward",
    "embedding_backward",
    "gpt_block_forward",
    "gpt_block_backward",
    "init_gpt_params",
    "gpt_forward",
    "gpt_backward",
    "gpt_loss",
    "generate",
    "bigram_val_loss",
]


def _as_ids(ids, vocab_size: int, name: str = "ids") -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu" or arr.ndim < 1:
        raise ValueError(f"{name} must be an integer array, got dtype {arr.dtype} "
                         f"and shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        raise ValueError(f"{name} must lie in [0, {vocab_size}), got "
                         f"[{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64, copy=False)


def embedding_forward(ids, W):
    r"""Look up rows of an embedding table: :math:`\text{out}[n] = W[\text{ids}[n]]`.

    Parameters
    ----------
    ids : int array_like, any shape S
        Token ids in ``[0, V)``.
    W : array_like, shape (V, E)

    Returns
    -------
    out : ndarray, shape S + (E,)
    cache : tuple
        ``(ids, V)``.

    Examples
    --------
    >>> import numpy as np
    >>> out, _ = embedding_forward([[2, 0]], np.arange(6.0).reshape(3, 2))
    >>> out.tolist()
    [[[4.0, 5.0], [0.0, 1.0]]]
    """
    W = as_float_array(W, "W", ndim=2)
    ids = _as_ids(ids, W.shape[0])
    return W[ids], (ids, W.shape[0])


def embedding_backward(dout, ids, vocab_size):
    r"""Gradient of the embedding table: a scatter-add of ``dout`` by id.

    .. math:: dW_v = \sum_{n:\ \text{ids}[n] = v} d\text{out}[n]

    An id that occurs several times *accumulates* (assigning instead of adding
    keeps only the last occurrence: the classic mistake).

    Parameters
    ----------
    dout : array_like, shape S + (E,)
    ids : int array_like, shape S
    vocab_size : int

    Returns
    -------
    dW : ndarray, shape (vocab_size, E)

    Examples
    --------
    >>> embedding_backward([[1.0], [2.0], [4.0]], [0, 2, 0], 3).ravel().tolist()
    [5.0, 0.0, 2.0]
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    ids = _as_ids(ids, vocab_size)
    dout = as_float_array(dout, "dout")
    if dout.shape[:-1] != ids.shape or dout.ndim != ids.ndim + 1:
        raise ValueError(f"dout must have shape {ids.shape} + (E,), got {dout.shape}")
    E = dout.shape[-1]
    dW = np.zeros((vocab_size, E), dtype=dout.dtype)
    np.add.at(dW, ids.reshape(-1), dout.reshape(-1, E))
    return dW


def gpt_block_forward(x, params, num_heads=None):
    """One pre-norm causal GELU block (see the module docstring); ``(out, cache)``.

    ``x`` has shape (B, L, E); ``params`` is keyed like the torch layer's
    ``state_dict`` (``attention.ENCODER_PARAM_NAMES``), ``num_heads`` defaults
    to ``params["num_heads"]``.
    """
    x = as_float_array(x, "x", ndim=3)
    mask = attention.causal_mask(x.shape[1])
    return attention.encoder_block_forward(x, params, mask, num_heads=num_heads,
                                           norm_first=True, activation="gelu")


def gpt_block_backward(dout, cache):
    """Backward pass of :func:`gpt_block_forward`: ``(dx, grads)`` keyed like ``params``."""
    return attention.encoder_block_backward(dout, cache)


def init_gpt_params(vocab_size, context, d_model, num_heads, num_layers, dim_feedforward,
                    rng):
    r"""Random parameters of a tiny GPT.

    Embeddings :math:`\sim N(0, 0.02^2)` (GPT-2's choice), blocks as
    :func:`dlnotes.attention.init_encoder_block_params` (torch's defaults), the
    final LayerNorm as the identity.

    Examples
    --------
    >>> import numpy as np
    >>> p = init_gpt_params(10, 8, 16, 2, 1, 32, np.random.default_rng(0))
    >>> p["wte"].shape, p["wpe"].shape, len(p["blocks"]), p["num_heads"]
    ((10, 16), (8, 16), 1, 2)
    """
    V = check_positive_int(vocab_size, "vocab_size")
    C = check_positive_int(context, "context")
    E = check_positive_int(d_model, "d_model")
    n = check_positive_int(num_layers, "num_layers")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    blocks = [attention.init_encoder_block_params(E, num_heads, dim_feedforward, rng)
              for _ in range(n)]
    for b in blocks:
        b.pop("num_heads", None)
    return {"wte": rng.normal(0.0, 0.02, size=(V, E)), "wpe": rng.normal(0.0, 0.02, size=(C, E)),
            "blocks": blocks, "ln_f.weight": np.ones(E), "ln_f.bias": np.zeros(E),
            "num_heads": int(num_heads)}


def gpt_forward(ids, params):
    r"""Logits of the next token at every position: shape (B, L, V).

    ``ids`` is (B, L) with ``L <= context``; position :math:`t` sees tokens
    :math:`0..t` only (causal).
    """
    wte = as_float_array(params["wte"], "params['wte']", ndim=2)
    wpe = as_float_array(params["wpe"], "params['wpe']", ndim=2)
    ids = _as_ids(ids, wte.shape[0])
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (B, L), got {ids.shape}")
    L = ids.shape[1]
    if L > wpe.shape[0]:
        raise ValueError(f"ids has {L} positions, more than the context {wpe.shape[0]}")
    h = wte[ids] + wpe[:L]
    block_caches = []
    for block in params["blocks"]:
        h, cache = gpt_block_forward(h, block, params["num_heads"])
        block_caches.append(cache)
    hf, ln_cache = layer_norm_forward(h, params["ln_f.weight"], params["ln_f.bias"])
    logits = hf @ wte.T
    return logits, (ids, hf, ln_cache, block_caches, wte, wpe.shape[0])


def gpt_backward(dlogits, cache):
    """Gradients of every parameter, in the structure of ``params``."""
    ids, hf, ln_cache, block_caches, wte, C = cache
    dlogits = as_float_array(dlogits, "dlogits")
    if dlogits.shape != hf.shape[:-1] + (wte.shape[0],):
        raise ValueError(f"dlogits must have shape {hf.shape[:-1] + (wte.shape[0],)}, "
                         f"got {dlogits.shape}")
    E = wte.shape[1]
    dwte = dlogits.reshape(-1, wte.shape[0]).T @ hf.reshape(-1, E)     # the tied output layer
    dh, dlnw, dlnb = layer_norm_backward(dlogits @ wte, ln_cache)
    blocks = []
    for block_cache in reversed(block_caches):
        dh, grads = gpt_block_backward(dh, block_cache)
        blocks.append(grads)
    dwte += embedding_backward(dh, ids, wte.shape[0])
    dwpe = np.zeros((C, E), dtype=dh.dtype)
    dwpe[:ids.shape[1]] = dh.sum(axis=0)
    return {"wte": dwte, "wpe": dwpe, "blocks": blocks[::-1], "ln_f.weight": dlnw,
            "ln_f.bias": dlnb}


def gpt_loss(ids, targets, params):
    r"""Mean next-token cross-entropy and its gradients: ``(loss, grads)``.

    .. math:: \mathcal{L} = -\frac{1}{BL}\sum_{b,t} \log \operatorname{softmax}
              (\text{logits}_{b,t})_{\text{targets}_{b,t}}
    """
    logits, cache = gpt_forward(ids, params)
    V = logits.shape[-1]
    targets = _as_ids(targets, V, "targets")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"targets must have shape {logits.shape[:-1]}, got {targets.shape}")
    z = logits.reshape(-1, V)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    t = targets.reshape(-1)
    loss = float(-logp[np.arange(t.size), t].mean())
    dz = np.exp(logp)
    dz[np.arange(t.size), t] -= 1
    return loss, gpt_backward((dz / t.size).reshape(logits.shape), cache)


def generate(step_logits, prompt_ids, steps, context, top_k, temperature, sample_fn, seed):
    r"""Autoregressive generation: ``steps`` new ids after the prompt.

    At each step ``logits = step_logits(ids[-context:])`` (shape (V,)); with
    ``top_k`` every logit below the k-th largest becomes :math:`-\infty` (ties
    with the k-th are kept; ``None`` or ``>= V`` keeps all); then
    ``sample_fn(logits, temperature, rng)`` picks the next id, with one
    ``rng = np.random.default_rng(seed)`` for the whole run.

    Returns
    -------
    list of int
        The prompt followed by the new ids.

    Examples
    --------
    >>> import numpy as np
    >>> greedy = lambda z, T, rng: int(np.argmax(z))
    >>> cycle = lambda ids: np.eye(3)[(ids[-1] + 1) % 3]
    >>> generate(cycle, [0], 4, 2, None, 0.0, greedy, 0)
    [0, 1, 2, 0, 1]
    """
    ids = [int(i) for i in np.asarray(prompt_ids).reshape(-1)]
    if not ids:
        raise ValueError("prompt_ids must hold at least one id")
    steps = check_positive_int(steps, "steps", 0)
    context = check_positive_int(context, "context")
    if top_k is not None:
        top_k = check_positive_int(top_k, "top_k")
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        logits = np.array(step_logits(np.array(ids[-context:])), dtype=np.float64)
        if logits.ndim != 1:
            raise ValueError(f"step_logits must return shape (V,), got {logits.shape}")
        if top_k is not None and top_k < logits.size:
            kth = np.partition(logits, -top_k)[-top_k]
            logits[logits < kth] = -np.inf
        ids.append(int(sample_fn(logits, temperature, rng)))
    return ids


def bigram_val_loss(train_ids, val_ids, vocab_size, alpha=1.0):
    r"""Validation cross-entropy (nats per token) of an add-``alpha`` bigram model.

    .. math:: p(b \mid a) = \frac{n_{ab} + \alpha}{n_a + \alpha V}

    counted on ``train_ids``; the baseline a language model must beat.

    Examples
    --------
    >>> round(bigram_val_loss([0, 1, 0, 1], [0, 1], 2, alpha=1.0), 4)   # p(1|0) = 3/4
    0.2877
    """
    V = check_positive_int(vocab_size, "vocab_size")
    train, val = _as_ids(train_ids, V, "train_ids"), _as_ids(val_ids, V, "val_ids")
    if train.size < 2 or val.size < 2:
        raise ValueError("train_ids and val_ids need at least two ids each")
    counts = np.full((V, V), float(alpha))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    logp = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-logp[val[:-1], val[1:]].mean())
