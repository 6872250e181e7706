"""Benchmark: dlnotes.regularization LayerNorm and BatchNorm, forward + backward vs torch CPU.

``layer_norm_forward`` + ``layer_norm_backward`` against ``F.layer_norm`` with
autograd, and ``batch_norm_forward`` + ``batch_norm_backward`` (training mode,
running statistics updated) against ``F.batch_norm(training=True)``, float32,
same inputs, every gradient (input, weight, bias). Shapes: the rows of the
attention benchmark (B*L = 2048 rows of E = 128), the encoder block of
chapter 09 (640 rows of 32) and a batch of 256 examples of 512 features.

Run with ``make bench`` or ``python benchmarks/bench_norm.py [--repeats 15]``;
the harness (``_layerbench.py``) times both at 1 and 2 threads, min of the
repeats, and ends with the worst ratio per thread count. Asserts nothing.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from _layerbench import Case, main

from dlnotes import regularization

SHAPES = {"bench attention": (16, 128, 128), "ch09 encoder": (64, 10, 32), "batch": (256, 512)}


def layer_norm_case(label, shape, rng) -> Case:
    D = shape[-1]
    x, dout = rng.standard_normal((2, *shape)).astype(np.float32)
    gamma, beta = rng.standard_normal((2, D)).astype(np.float32)
    tx, tg, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, gamma, beta))
    tdout = torch.from_numpy(dout)

    def run_numpy():
        out, cache = regularization.layer_norm_forward(x, gamma, beta)
        return regularization.layer_norm_backward(dout, cache)

    def run_torch():
        for t in (tx, tg, tb):
            t.grad = None
        F.layer_norm(tx, (D,), tg, tb).backward(tdout)

    return Case(f"layer_norm {label}", f"x {shape}", run_numpy, run_torch)


def batch_norm_case(label, shape, rng) -> Case:
    x, dout = rng.standard_normal((2, shape[0] * int(np.prod(shape[1:-1])), shape[-1])).astype(
        np.float32)
    D = x.shape[1]
    gamma, beta = rng.standard_normal((2, D)).astype(np.float32)
    mean, var = np.zeros(D, np.float32), np.ones(D, np.float32)
    tx, tg, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, gamma, beta))
    tmean, tvar, tdout = torch.zeros(D), torch.ones(D), torch.from_numpy(dout)

    def run_numpy():
        out, cache = regularization.batch_norm_forward(x, gamma, beta, mean, var, True)
        return regularization.batch_norm_backward(dout, cache)

    def run_torch():
        for t in (tx, tg, tb):
            t.grad = None
        F.batch_norm(tx, tmean, tvar, tg, tb, training=True).backward(tdout)

    return Case(f"batch_norm {label}", f"x {x.shape}", run_numpy, run_torch)


def make_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    return ([layer_norm_case(label, shape, rng) for label, shape in SHAPES.items()]
            + [batch_norm_case(label, shape, rng) for label, shape in SHAPES.items()])


if __name__ == "__main__":
    main(__doc__.splitlines()[0], make_cases)
