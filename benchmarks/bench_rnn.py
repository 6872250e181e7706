"""Benchmark: dlnotes.rnn forward + backward against torch CPU, float32, same inputs.

For each layer (RNN tanh, LSTM, GRU) one forward + backward pass of the numpy
code (``*_forward`` then ``*_backward``, every gradient: input, initial state,
weights and biases) against the torch module (``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU``, then autograd), with the same weights, inputs and upstream
gradient. Shapes: the benchmark shape T=50 N=32 I=64 H=128 and the shape
chapter 08 trains with (T=30, batch 64, I=K+1=9, H=32). For the LSTM the table
also gives the achieved GFLOP/s of forward + backward (the matrix products:
``3 * 2 T N 4H (I + H)`` FLOPs) as a fraction of numpy's float32 matmul.

Run with ``make bench`` or ``python benchmarks/bench_rnn.py [--repeats 15]``;
the harness (``_layerbench.py``) times both at 1 and 2 threads, min of the
repeats, and ends with the worst ratio per thread count. Asserts nothing.
"""

from __future__ import annotations

import numpy as np
import torch
from _layerbench import Case, main

from dlnotes import rnn

SHAPES = {"bench": (50, 32, 64, 128), "ch08": (30, 64, 9, 32)}   # (T, N, I, H)
GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}


def layer_case(layer: str, label: str, shape, rng) -> Case:
    T, N, I, H = shape
    G = GATES[layer]
    k = 1 / np.sqrt(H)            # torch's default init range

    def u(*s):
        return rng.uniform(-k, k, s).astype(np.float32)

    x = rng.standard_normal((T, N, I)).astype(np.float32)
    h0, c0 = rng.standard_normal((2, N, H)).astype(np.float32)
    W = (u(G * H, I), u(G * H, H), u(G * H), u(G * H))
    dhs = rng.standard_normal((T, N, H)).astype(np.float32)

    def run_numpy():
        if layer == "lstm":
            _, _, cache = rnn.lstm_forward(x, h0, c0, *W)
            return rnn.lstm_backward(dhs, cache)
        if layer == "gru":
            _, cache = rnn.gru_forward(x, h0, *W)
            return rnn.gru_backward(dhs, cache)
        _, cache = rnn.rnn_forward(x, h0, *W)
        return rnn.rnn_backward(dhs, cache)

    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}[layer](I, H)
    with torch.no_grad():
        for ours, theirs in zip(W, ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                                strict=True):
            getattr(module, theirs).copy_(torch.from_numpy(ours))
    tx = torch.from_numpy(x).requires_grad_(True)
    th0 = torch.from_numpy(h0)[None].requires_grad_(True)
    tc0 = torch.from_numpy(c0)[None].requires_grad_(True)
    tdhs = torch.from_numpy(dhs)
    leaves = [tx, th0, tc0, *module.parameters()]

    def run_torch():
        for leaf in leaves:
            leaf.grad = None
        hs, _ = module(tx, (th0, tc0)) if layer == "lstm" else module(tx, th0)
        hs.backward(tdhs)

    flops = 3 * 2 * T * N * 4 * H * (I + H) if layer == "lstm" else None
    return Case(f"{layer} {label}", f"T={T} N={N} I={I} H={H}", run_numpy, run_torch, flops)


def make_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    return [layer_case(layer, label, shape, rng)
            for label, shape in SHAPES.items() for layer in GATES]


if __name__ == "__main__":
    main(__doc__.splitlines()[0], make_cases)
