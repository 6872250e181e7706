"""Benchmark: dlnotes.attention forward + backward against torch CPU, float32, same inputs.

Layers: scaled dot-product attention (``sdpa_forward`` + ``sdpa_backward``
against ``F.scaled_dot_product_attention``, the fused kernel, with autograd),
multi-head attention (against ``nn.MultiheadAttention(batch_first=True)``,
both with ``need_weights=True``, the explicit path that like ours keeps the
(B, H, L, L) weights, and ``need_weights=False``, the fused kernel) and the
Transformer encoder block (against ``nn.TransformerEncoderLayer``, dropout 0,
causal mask). Shapes: the benchmark shape B=16 L=128 E=128 with 8 heads (F=512)
and the shape chapter 09 trains with (batch 64, T=10, E=32, 2 heads, F=64).

Run with ``make bench`` or ``python benchmarks/bench_attention.py [--repeats 15]``;
the harness (``_layerbench.py``) times both at 1 and 2 threads, min of the
repeats, and ends with the worst ratio per thread count. Asserts nothing.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from _layerbench import Case, main

from dlnotes import attention

SHAPES = {"bench": (16, 128, 128, 8, 512), "ch09": (64, 10, 32, 2, 64)}   # (B, L, E, H, F)


def sdpa_case(label, B, L, E, H, rng) -> Case:
    d = E // H
    q, k, v, dout = rng.standard_normal((4, B, H, L, d)).astype(np.float32)
    mask = attention.causal_mask(L)
    tq, tk, tv = (torch.from_numpy(a.copy()).requires_grad_() for a in (q, k, v))
    tmask, tdout = torch.from_numpy(mask), torch.from_numpy(dout)

    def run_numpy():
        out, cache = attention.sdpa_forward(q, k, v, mask)
        return attention.sdpa_backward(dout, **cache)

    def run_torch():
        for t in (tq, tk, tv):
            t.grad = None
        F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask).backward(tdout)

    return Case(f"sdpa {label}", f"(B, H, L, d)=({B}, {H}, {L}, {d}) causal", run_numpy, run_torch)


def mha_cases(label, B, L, E, H, rng) -> list[Case]:
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True)
    with torch.no_grad():
        mha.in_proj_bias.normal_(0, 0.1)
        mha.out_proj.bias.normal_(0, 0.1)
    x, dout = rng.standard_normal((2, B, L, E)).astype(np.float32)
    weights = [t.detach().numpy().copy() for t in (mha.in_proj_weight, mha.in_proj_bias,
                                                   mha.out_proj.weight, mha.out_proj.bias)]
    tx, tdout = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(dout)

    def run_numpy():
        out, cache = attention.multi_head_attention_forward(x, x, x, H, *weights)
        return attention.multi_head_attention_backward(dout, cache)

    def torch_run(need_weights):
        def run():
            for p in (tx, *mha.parameters()):
                p.grad = None
            out, _ = mha(tx, tx, tx, need_weights=need_weights, average_attn_weights=False)
            out.backward(tdout)
        return run

    shape = f"B={B} L={L} E={E} heads={H}"
    return [Case(f"mha {label} (weights)", shape, run_numpy, torch_run(True)),
            Case(f"mha {label} (fused)", shape, run_numpy, torch_run(False))]


def encoder_case(label, B, L, E, H, F_, rng) -> Case:
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(E, H, F_, dropout=0.0, batch_first=True)
    params = {n: t.detach().numpy().copy() for n, t in layer.state_dict().items()}
    x, dout = rng.standard_normal((2, B, L, E)).astype(np.float32)
    mask = attention.causal_mask(L)
    tx, tdout, tmask = (torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(dout),
                        torch.from_numpy(~mask))

    def run_numpy():
        out, cache = attention.encoder_block_forward(x, params, mask, num_heads=H)
        return attention.encoder_block_backward(dout, cache)

    def run_torch():
        for p in (tx, *layer.parameters()):
            p.grad = None
        layer(tx, src_mask=tmask).backward(tdout)

    return Case(f"encoder {label}", f"B={B} L={L} E={E} heads={H} F={F_}", run_numpy, run_torch)


def make_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    cases = []
    for label, (B, L, E, H, F_) in SHAPES.items():
        cases.append(sdpa_case(label, B, L, E, H, rng))
        cases += mha_cases(label, B, L, E, H, rng)
        cases.append(encoder_case(label, B, L, E, H, F_, rng))
    return cases


if __name__ == "__main__":
    main(__doc__.splitlines()[0], make_cases)
