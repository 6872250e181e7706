"""Benchmark: dlnotes.cnn forward + backward against torch CPU, float32, same inputs.

Layers: conv2d (``conv2d_forward`` + ``conv2d_backward`` against
``F.conv2d`` + autograd, every gradient), max and average pooling. Shapes: the
benchmark shape (a 28x28 feature map) and the shapes chapter 07 trains with
(digits 8x8: conv 1->16, pool, conv 16->32, pool; batch 32, padding 1).
For conv2d the table also gives the achieved GFLOP/s of forward + backward
(3 matrix products of ``2 N C_out C_in KH KW OH OW`` FLOPs each) as a fraction
of numpy's float32 matmul on a square product of similar size.

Run with ``make bench`` or ``python benchmarks/bench_cnn.py [--repeats 15]``;
the harness (``_layerbench.py``) times both at 1 and 2 threads, min of the
repeats, and ends with the worst ratio per thread count. Asserts nothing.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from _layerbench import Case, main

from dlnotes import cnn

CONV_SHAPES = {            # name: (x shape, C_out), 3x3 kernels, padding 1
    "bench": ((32, 16, 28, 28), 32),
    "ch07 conv1": ((32, 1, 8, 8), 16),
    "ch07 conv2": ((32, 16, 4, 4), 32),
}
POOL_SHAPES = {            # name: x shape, 2x2 windows, stride 2
    "bench": (32, 32, 28, 28),
    "ch07 pool1": (32, 16, 8, 8),
    "ch07 pool2": (32, 32, 4, 4),
}


def conv_case(label: str, shape, c_out: int, rng) -> Case:
    n, c_in, h, w_ = shape
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, 3, 3)) / np.sqrt(9 * c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    dout = rng.standard_normal((n, c_out, h, w_)).astype(np.float32)
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout.copy())

    def run_numpy():
        out, cache = cnn.conv2d_forward(x, w, b, padding=1)
        return cnn.conv2d_backward(dout, cache)

    def run_torch():
        for t in (tx, tw, tb):
            t.grad = None
        F.conv2d(tx, tw, tb, padding=1).backward(tdout)

    flops = 3 * 2 * n * c_out * c_in * 9 * h * w_
    return Case(f"conv2d {label}", f"x {shape} -> C_out {c_out}", run_numpy, run_torch, flops)


def pool_case(kind: str, label: str, shape, rng) -> Case:
    x = rng.standard_normal(shape).astype(np.float32)
    n, c, h, w = shape
    dout = rng.standard_normal((n, c, h // 2, w // 2)).astype(np.float32)
    fwd, bwd = getattr(cnn, f"{kind}_pool2d_forward"), getattr(cnn, f"{kind}_pool2d_backward")
    tpool = getattr(F, f"{kind}_pool2d")
    tx, tdout = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(dout.copy())

    def run_numpy():
        out, cache = fwd(x, 2)
        return bwd(dout, cache)

    def run_torch():
        tx.grad = None
        tpool(tx, 2).backward(tdout)

    return Case(f"{kind}_pool2d {label}", f"x {shape}, 2x2", run_numpy, run_torch)


def make_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    cases = [conv_case(label, shape, c_out, rng) for label, (shape, c_out) in CONV_SHAPES.items()]
    for kind in ("max", "avg"):
        cases += [pool_case(kind, label, shape, rng) for label, shape in POOL_SHAPES.items()]
    return cases


if __name__ == "__main__":
    main(__doc__.splitlines()[0], make_cases)
