"""Benchmark: numpy multi-head attention (forward + backward) vs torch CPU.

Times ``multi_head_attention_forward`` + ``multi_head_attention_backward``
against ``torch.nn.MultiheadAttention(batch_first=True)`` with autograd, on the
same float32 inputs and weights, in the same run. torch is timed twice:

* ``need_weights=True`` (its default): the explicit softmax path that, like
  ours, materialises the (B, H, L, L) attention weights -- the like-for-like twin;
* ``need_weights=False``: the fused ``scaled_dot_product_attention`` kernel.

Thread counts are equal for both (``torch.set_num_threads(n)`` and
``threadpoolctl.threadpool_limits(n)`` for numpy's BLAS). Each timing is the
median of ``--repeats`` runs after ``--warmup`` runs, and the contenders are
interleaved (round-robin) so that load from other processes hits them alike.
Prints a table; asserts nothing.

    python benchmarks/bench_attention.py [--threads 1] [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from dlnotes.attention import multi_head_attention_backward, multi_head_attention_forward

TARGET = 1.5


def make_inputs(B, L, E, H, seed=0):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True)          # float32
    with torch.no_grad():
        mha.in_proj_bias.normal_(0, 0.1)
        mha.out_proj.bias.normal_(0, 0.1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, L, E)).astype(np.float32)
    dout = rng.normal(size=(B, L, E)).astype(np.float32)
    weights = {
        "in_proj_weight": mha.in_proj_weight.detach().numpy().copy(),
        "in_proj_bias": mha.in_proj_bias.detach().numpy().copy(),
        "out_proj_weight": mha.out_proj.weight.detach().numpy().copy(),
        "out_proj_bias": mha.out_proj.bias.detach().numpy().copy(),
    }
    return mha, x, dout, weights


def numpy_step(x, dout, H, weights):
    out, cache = multi_head_attention_forward(x, x, x, H, **weights)
    dq, dk, dv, grads = multi_head_attention_backward(dout, cache)
    return dq + dk + dv, grads


def torch_step(mha, xt, dout_t, need_weights):
    for p in mha.parameters():
        p.grad = None
    xt.grad = None
    out, _ = mha(xt, xt, xt, need_weights=need_weights, average_attn_weights=False)
    out.backward(dout_t)
    return xt.grad


def time_interleaved(fns, warmup, repeats):
    """Median wall time of each function, running them round-robin."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]   # rotate the start
        for name in order:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--heads", type=int, default=8)
    args = parser.parse_args(argv)

    B, L, E, H = args.batch, args.length, args.embed, args.heads
    torch.set_num_threads(args.threads)
    mha, x, dout, weights = make_inputs(B, L, E, H)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    dout_t = torch.from_numpy(dout.copy())

    with threadpool_limits(limits=args.threads):
        # sanity: same numbers (float32, so loose)
        ours = numpy_step(x, dout, H, weights)[0]
        theirs = torch_step(mha, xt, dout_t, True).numpy()
        err = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
        med = time_interleaved({
            "numpy": lambda: numpy_step(x, dout, H, weights),
            "torch_weights": lambda: torch_step(mha, xt, dout_t, True),
            "torch_fused": lambda: torch_step(mha, xt, dout_t, False),
        }, args.warmup, args.repeats)

    print(f"B={B} L={L} E={E} heads={H} float32, threads={args.threads} (torch and BLAS), "
          f"median of {args.repeats} after {args.warmup} warm-up, interleaved; "
          f"max rel. diff of dx vs torch {err:.1e}")
    header = f"{'layer':<50} {'numpy s':>9} {'torch s':>9} {'ratio':>7} {'target':>8}"
    print(header)
    print("-" * len(header))
    for label, key in [("MHA fwd+bwd  vs torch need_weights=True", "torch_weights"),
                       ("MHA fwd+bwd  vs torch need_weights=False (fused)", "torch_fused")]:
        ratio = med["numpy"] / med[key]
        print(f"{label:<50} {med['numpy']:9.4f} {med[key]:9.4f} {ratio:7.2f} "
              f"{'<= ' + str(TARGET):>8}")


if __name__ == "__main__":
    main()
