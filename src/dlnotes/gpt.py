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

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import attention, losses, optim
from ._validation import as_float_array, check_positive_int
from .activations import gelu, gelu_grad
from .regularization import layer_norm_backward as _layer_norm_backward
from .regularization import layer_norm_forward

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
    "Parts",
    "param_arrays",
    "evaluate",
    "train_gpt",
    "BLOCK_PARAM_NAMES",
    "BLOCK_CACHE_KEYS",
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


#: The parameters of one block, keyed like ``torch.nn.TransformerEncoderLayer.state_dict()``.
BLOCK_PARAM_NAMES = attention.ENCODER_PARAM_NAMES

#: The keys of :func:`gpt_block_forward`'s cache (see its docstring).
BLOCK_CACHE_KEYS = ("x", "params", "num_heads", "n1", "ln1", "q", "k", "v", "weights",
                    "concat", "h", "n2", "ln2", "z")


def _block_params(params, E: int, num_heads):
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict keyed like the torch layer's state_dict, "
                         f"got {type(params).__name__}")
    H = params.get("num_heads") if num_heads is None else num_heads
    if H is None:
        raise ValueError("params must hold 'num_heads' (or pass num_heads)")
    H = check_positive_int(H, "num_heads")
    if E % H:
        raise ValueError(f"num_heads={H} must divide d_model={E}")
    p = attention._check_encoder_params({k: v for k, v in params.items() if k != "num_heads"},
                                        E)
    return p, H


def gpt_block_forward(x, params, num_heads=None):
    r"""One pre-norm, causal, GELU Transformer block: ``(out, cache)``.

    .. math::

        n_1 = \mathrm{LN}_1(x), \quad
        h = x + W_O\,\mathrm{concat}_j\Big(\operatorname{softmax}\big(
            \tfrac{Q_j K_j^\top}{\sqrt{d}} + M_{\text{causal}}\big) V_j\Big) + b_O, \\
        n_2 = \mathrm{LN}_2(h), \quad
        \text{out} = h + W_2\,\mathrm{GELU}(W_1 n_2 + b_1) + b_2,

    with :math:`[Q\;K\;V] = n_1 W_{\text{in}}^\top + b_{\text{in}}` split into
    heads of width :math:`d = E/H`. Equal to ``torch.nn.TransformerEncoderLayer(E,
    H, F, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)``
    with a causal mask (position :math:`t` attends to :math:`0..t`), LayerNorm
    eps 1e-5 and the exact (erf) GELU.

    Parameters
    ----------
    x : array_like, shape (B, L, E)
    params : dict
        Keyed like that layer's ``state_dict`` (:data:`BLOCK_PARAM_NAMES`), plus
        ``"num_heads"`` unless ``num_heads`` is given.
    num_heads : int, optional

    Returns
    -------
    out : ndarray, shape (B, L, E)
    cache : dict
        ``"x"``; ``"params"``; ``"num_heads"``; ``"n1"``, ``"n2"`` (B, L, E) the
        LayerNorm outputs and ``"ln1"``, ``"ln2"`` their caches from
        :func:`dlnotes.regularization.layer_norm_forward`; ``"q"``, ``"k"``,
        ``"v"`` (B, H, L, d) and ``"weights"`` (B, H, L, L) of the attention;
        ``"concat"`` (B, L, E) the heads merged before :math:`W_O`; ``"h"``
        (B, L, E) after the first residual; ``"z"`` (B, L, F) before the GELU.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = attention.init_encoder_block_params(8, 2, 16, rng)
    >>> out, cache = gpt_block_forward(rng.normal(size=(2, 5, 8)), params)
    >>> out.shape, cache["weights"].shape
    ((2, 5, 8), (2, 2, 5, 5))
    >>> float(cache["weights"][0, 0, 0, 1])        # position 0 cannot see position 1
    0.0
    """
    x = as_float_array(x, "x", ndim=3)
    B, L, E = x.shape
    p, H = _block_params(params, E, num_heads)
    n1, ln1 = layer_norm_forward(x, p["norm1.weight"], p["norm1.bias"])
    qkv = attention._linear(n1, p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"])
    q, k, v = (attention.split_heads(qkv[..., i * E:(i + 1) * E], H) for i in range(3))
    heads, weights = attention.scaled_dot_product_attention(q, k, v, attention.causal_mask(L))
    concat = attention.merge_heads(heads)
    h = x + attention._linear(concat, p["self_attn.out_proj.weight"],
                              p["self_attn.out_proj.bias"])
    n2, ln2 = layer_norm_forward(h, p["norm2.weight"], p["norm2.bias"])
    z = attention._linear(n2, p["linear1.weight"], p["linear1.bias"])
    out = h + attention._linear(gelu(z), p["linear2.weight"], p["linear2.bias"])
    cache = {"x": x, "params": p, "num_heads": H, "n1": n1, "ln1": ln1, "q": q, "k": k,
             "v": v, "weights": weights, "concat": concat, "h": h, "n2": n2, "ln2": ln2,
             "z": z}
    return out, cache


def gpt_block_backward(dout, cache, layer_norm_backward=None, sdpa_backward=None):
    r"""Backward pass of :func:`gpt_block_forward`: ``(dx, grads)``.

    Each residual copies the gradient to its branch and adds the branch's
    gradient back (pre-norm: the LayerNorm sits *inside* the branch):

    .. math::

        \bar h = \bar{\text{out}} + \mathrm{LN}_2^{\top}\big(\text{FF}^\top
        \bar{\text{out}}\big), \qquad
        \bar x = \bar h + \mathrm{LN}_1^{\top}\big(\text{MHA}^\top \bar h\big),

    where the self-attention's input gradient adds the three paths through
    :math:`Q`, :math:`K` and :math:`V`.

    Parameters
    ----------
    dout : array_like, shape (B, L, E)
    cache : dict
        From :func:`gpt_block_forward`.
    layer_norm_backward : callable, optional
        ``(dout, cache) -> (dx, dgamma, dbeta)`` for the caches of
        :func:`dlnotes.regularization.layer_norm_forward`; default the library's.
    sdpa_backward : callable, optional
        ``(dout, q, k, v, weights) -> (dq, dk, dv)``; default
        :func:`dlnotes.attention.sdpa_backward`.

    Returns
    -------
    dx : ndarray, shape (B, L, E)
    grads : dict
        One gradient per parameter, keyed like ``params`` (no ``"num_heads"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = attention.init_encoder_block_params(8, 2, 16, rng)
    >>> out, cache = gpt_block_forward(rng.normal(size=(2, 5, 8)), params)
    >>> dx, grads = gpt_block_backward(np.ones_like(out), cache)
    >>> dx.shape, grads["self_attn.in_proj_weight"].shape
    ((2, 5, 8), (24, 8))
    """
    ln_backward = _layer_norm_backward if layer_norm_backward is None else layer_norm_backward
    attn_backward = attention.sdpa_backward if sdpa_backward is None else sdpa_backward
    if not isinstance(cache, dict) or any(key not in cache for key in BLOCK_CACHE_KEYS):
        raise ValueError("cache must be the dict gpt_block_forward returns, with keys "
                         + ", ".join(BLOCK_CACHE_KEYS))
    p, H, x = cache["params"], cache["num_heads"], cache["x"]
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x, {x.shape}, got {dout.shape}")
    g = {}
    # out = h + W2 GELU(z) + b2,  z = W1 n2 + b1,  n2 = LN2(h)
    dr, g["linear2.weight"], g["linear2.bias"] = attention._linear_backward(
        dout, gelu(cache["z"]), p["linear2.weight"], True)
    dz = dr * gelu_grad(cache["z"])
    dn2, g["linear1.weight"], g["linear1.bias"] = attention._linear_backward(
        dz, cache["n2"], p["linear1.weight"], True)
    dh_branch, g["norm2.weight"], g["norm2.bias"] = ln_backward(dn2, cache["ln2"])
    dh = dout + dh_branch
    # h = x + W_O concat + b_O,  concat = merge(SDPA(q, k, v)),  [q k v] = W_in n1 + b_in
    dconcat, g["self_attn.out_proj.weight"], g["self_attn.out_proj.bias"] = \
        attention._linear_backward(dh, cache["concat"], p["self_attn.out_proj.weight"], True)
    dq, dk, dv = attn_backward(attention.split_heads(dconcat, H), cache["q"], cache["k"],
                               cache["v"], cache["weights"])
    dqkv = np.concatenate([attention.merge_heads(d) for d in (dq, dk, dv)], axis=-1)
    dn1, g["self_attn.in_proj_weight"], g["self_attn.in_proj_bias"] = \
        attention._linear_backward(dqkv, cache["n1"], p["self_attn.in_proj_weight"], True)
    dx_branch, g["norm1.weight"], g["norm1.bias"] = ln_backward(dn1, cache["ln1"])
    return dh + dx_branch, {name: g[name] for name in BLOCK_PARAM_NAMES}


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


@dataclass(frozen=True)
class Parts:
    """The functions a GPT is assembled from; each defaults to the library's.

    A chapter builds the model from the reader's own answers by passing theirs
    (``Parts(block_forward=my_block_forward, ...)``); a part left out is the
    library's.
    """

    block_forward: Callable = None
    block_backward: Callable = None
    embedding_backward: Callable = None
    layer_norm_forward: Callable = None
    layer_norm_backward: Callable = None
    sdpa_backward: Callable = None
    cross_entropy: Callable = None
    cross_entropy_grad: Callable = None

    def __post_init__(self):
        defaults = {"block_forward": gpt_block_forward, "block_backward": gpt_block_backward,
                    "embedding_backward": embedding_backward,
                    "layer_norm_forward": layer_norm_forward,
                    "layer_norm_backward": _layer_norm_backward,
                    "sdpa_backward": attention.sdpa_backward,
                    "cross_entropy": losses.cross_entropy,
                    "cross_entropy_grad": losses.cross_entropy_grad}
        for name, fn in defaults.items():
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, fn)
            elif not callable(value):
                raise ValueError(f"Parts.{name} must be callable, got {type(value).__name__}")


def _parts(parts) -> Parts:
    if parts is None:
        return Parts()
    if not isinstance(parts, Parts):
        raise ValueError(f"parts must be a dlnotes.gpt.Parts, got {type(parts).__name__}")
    return parts


def gpt_forward(ids, params, parts=None):
    r"""Logits of the next token at every position: ``(logits, cache)``, logits (B, L, V).

    ``ids`` is (B, L) with ``L <= context``; position :math:`t` sees tokens
    :math:`0..t` only (causal). ``parts`` (a :class:`Parts`) chooses the block
    and LayerNorm functions; the backward pass uses the same ones.
    """
    parts = _parts(parts)
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
        h, cache = parts.block_forward(h, {**block, "num_heads": params["num_heads"]})
        block_caches.append(cache)
    hf, ln_cache = parts.layer_norm_forward(h, params["ln_f.weight"], params["ln_f.bias"])
    logits = hf @ wte.T
    return logits, (ids, hf, ln_cache, block_caches, wte, wpe.shape[0], parts)


def gpt_backward(dlogits, cache):
    """Gradients of every parameter, in the structure of ``params`` (no ``"num_heads"``)."""
    ids, hf, ln_cache, block_caches, wte, C, parts = cache
    dlogits = as_float_array(dlogits, "dlogits")
    if dlogits.shape != hf.shape[:-1] + (wte.shape[0],):
        raise ValueError(f"dlogits must have shape {hf.shape[:-1] + (wte.shape[0],)}, "
                         f"got {dlogits.shape}")
    E = wte.shape[1]
    dwte = dlogits.reshape(-1, wte.shape[0]).T @ hf.reshape(-1, E)     # the tied output layer
    dh, dlnw, dlnb = parts.layer_norm_backward(dlogits @ wte, ln_cache)
    blocks = []
    for block_cache in reversed(block_caches):
        dh, grads = parts.block_backward(dh, block_cache, parts.layer_norm_backward,
                                         parts.sdpa_backward)
        blocks.append(grads)
    dwte = dwte + parts.embedding_backward(dh, ids, wte.shape[0])
    dwpe = np.zeros((C, E), dtype=dh.dtype)
    dwpe[:ids.shape[1]] = dh.sum(axis=0)
    return {"wte": dwte, "wpe": dwpe, "blocks": blocks[::-1], "ln_f.weight": dlnw,
            "ln_f.bias": dlnb}


def gpt_loss(ids, targets, params, parts=None):
    r"""Mean next-token cross-entropy and its gradients: ``(loss, grads)``.

    .. math:: \mathcal{L} = -\frac{1}{BL}\sum_{b,t} \log \operatorname{softmax}
              (\text{logits}_{b,t})_{\text{targets}_{b,t}}

    computed by ``parts.cross_entropy`` and ``parts.cross_entropy_grad`` on the
    logits flattened to (B·L, V).
    """
    parts = _parts(parts)
    logits, cache = gpt_forward(ids, params, parts)
    V = logits.shape[-1]
    targets = _as_ids(targets, V, "targets")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"targets must have shape {logits.shape[:-1]}, got {targets.shape}")
    z, t = logits.reshape(-1, V), targets.reshape(-1)
    loss = float(parts.cross_entropy(z, t))
    dz = np.asarray(parts.cross_entropy_grad(z, t), dtype=logits.dtype)
    return loss, gpt_backward(dz.reshape(logits.shape), cache)


def param_arrays(tree) -> list:
    """The arrays of a GPT parameter (or gradient) dict, in one fixed order.

    Embeddings, the final LayerNorm, then each block's arrays in
    :data:`BLOCK_PARAM_NAMES` order -- the order an optimizer's list follows.
    """
    out = [tree["wte"], tree["wpe"], tree["ln_f.weight"], tree["ln_f.bias"]]
    for block in tree["blocks"]:
        out += [block[name] for name in BLOCK_PARAM_NAMES]
    return out


def _windows(ids: np.ndarray, starts: np.ndarray, context: int):
    index = starts[:, None] + np.arange(context)
    return ids[index], ids[index + 1]


def evaluate(ids, params, context, batch_size, num_batches, parts=None) -> float:
    """Mean next-token loss on ``num_batches`` evenly spaced windows of ``ids``."""
    ids = np.asarray(ids)
    count = check_positive_int(num_batches, "num_batches") * check_positive_int(
        batch_size, "batch_size")
    if ids.size < context + 2:
        raise ValueError(f"ids must hold more than context + 1 = {context + 1} tokens, "
                         f"got {ids.size}")
    starts = np.linspace(0, ids.size - context - 1, count).astype(np.int64)
    losses = []
    for chunk in np.array_split(starts, num_batches):
        x, y = _windows(ids, chunk, context)
        logits, _ = gpt_forward(x, params, parts)
        V = logits.shape[-1]
        losses.append(float(_parts(parts).cross_entropy(logits.reshape(-1, V), y.reshape(-1))))
    return float(np.mean(losses))


def train_gpt(params, train_ids, val_ids, *, steps, batch_size, context, lr, warmup_steps,
              weight_decay=0.1, seed=0, parts=None, optimizer=None, lr_schedule=None,
              eval_every=50, eval_batches=4, time_budget=None, progress=None):
    r"""Train ``params`` in place with AdamW and warm-up + cosine: the chapter's loop.

    Each step draws ``batch_size`` random windows of ``context`` tokens from
    ``train_ids`` (targets: the same windows shifted by one), computes
    :func:`gpt_loss` with ``parts``, sets the learning rate to
    ``lr_schedule(t, lr, warmup_steps, steps)`` and steps two optimizers: one
    with ``weight_decay`` for the matrices, one without for the vectors
    (biases, LayerNorm) -- GPT-2's grouping.

    Parameters
    ----------
    params : dict
        From :func:`init_gpt_params`; updated in place.
    train_ids, val_ids : int array_like
        Token ids.
    steps, batch_size, context : int
    lr : float
        Peak learning rate.
    warmup_steps : int
        ``1 <= warmup_steps < steps``.
    weight_decay : float
    seed : int
        Seeds the window draws.
    parts : Parts, optional
    optimizer : class, optional
        ``optimizer(params_list, lr=..., weight_decay=...)`` with ``.step(grads)``
        and a settable ``.lr`` (chapter 05's ``AdamW``); default
        :class:`dlnotes.optim.AdamW`.
    lr_schedule : callable, optional
        ``(t, base_lr, warmup_steps, total_steps) -> lr``; default
        :func:`dlnotes.optim.warmup_cosine_lr`.
    eval_every, eval_batches : int
        Validation loss (:func:`evaluate`) every ``eval_every`` steps and after
        the last.
    time_budget : float, optional
        Stop early after this many seconds (the history says how far it got).
    progress : callable, optional
        Called as ``progress(step, loss)`` after every step (e.g. a tqdm update).

    Returns
    -------
    dict
        ``"step"``, ``"train_loss"`` (the mean training loss since the previous
        evaluation), ``"val_loss"`` (lists, one entry per evaluation), ``"lr"``
        (one per step), ``"seconds"`` and ``"steps_done"``.
    """
    parts = _parts(parts)
    steps = check_positive_int(steps, "steps", 2)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    if warmup_steps >= steps:
        raise ValueError(f"warmup_steps must be < steps={steps}, got {warmup_steps}")
    batch_size = check_positive_int(batch_size, "batch_size")
    context = check_positive_int(context, "context")
    eval_every = check_positive_int(eval_every, "eval_every")
    train_ids = _as_ids(train_ids, params["wte"].shape[0], "train_ids")
    if train_ids.size < context + 2:
        raise ValueError(f"train_ids must hold more than context + 1 = {context + 1} tokens")
    optimizer = optim.AdamW if optimizer is None else optimizer
    lr_schedule = optim.warmup_cosine_lr if lr_schedule is None else lr_schedule
    arrays = param_arrays(params)
    matrices = [i for i, a in enumerate(arrays) if a.ndim >= 2]
    vectors = [i for i, a in enumerate(arrays) if a.ndim < 2]
    groups = [(matrices, optimizer([arrays[i] for i in matrices], lr=lr,
                                   weight_decay=weight_decay)),
              (vectors, optimizer([arrays[i] for i in vectors], lr=lr, weight_decay=0.0))]
    rng = np.random.default_rng(seed)
    history = {"step": [], "train_loss": [], "val_loss": [], "lr": [], "seconds": 0.0,
               "steps_done": 0}
    recent = []
    start = time.perf_counter()
    for t in range(steps):
        x, y = _windows(train_ids, rng.integers(0, train_ids.size - context - 1, batch_size),
                        context)
        loss, grads = gpt_loss(x, y, params, parts)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the training loss is {loss} at step {t}")
        rate = float(lr_schedule(t, lr, warmup_steps, steps))
        grad_arrays = param_arrays(grads)
        for index, opt in groups:
            opt.lr = rate
            opt.step([grad_arrays[i] for i in index])
        recent.append(loss)
        history["lr"].append(rate)
        history["steps_done"] = t + 1
        if progress is not None:
            progress(t + 1, loss)
        out_of_time = time_budget is not None and time.perf_counter() - start > time_budget
        if (t + 1) % eval_every == 0 or t + 1 == steps or out_of_time:
            history["step"].append(t + 1)
            history["train_loss"].append(float(np.mean(recent)))
            history["val_loss"].append(evaluate(val_ids, params, context, batch_size,
                                                eval_batches, parts))
            recent = []
        if out_of_time:
            break
    history["seconds"] = time.perf_counter() - start
    return history


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
