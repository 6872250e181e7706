"""Benchmark: dlnotes.rnn forward + backward against torch CPU, same inputs.

For each layer (RNN tanh, LSTM, GRU) time one forward + backward pass of
the numpy code (``*_forward`` then ``*_backward``) and of the torch module
(``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` forward, then autograd
``backward``), in float32, with the same weights, inputs and upstream
gradient. Both compute every gradient (input, initial state, weights and
biases). numpy's BLAS and torch get the same number of threads
(``threadpoolctl.threadpool_limits`` and ``torch.set_num_threads``).

The two are interleaved, repeat by repeat, after a warm-up, and the median
is reported, so a noisy machine slows both alike. Not a test: asserts
nothing.

    python benchmarks/bench_rnn.py [--threads 1] [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from dlnotes import rnn

T, N, I, H = 50, 32, 64, 128
TARGET = 2.0
LAYERS = {"rnn_tanh": 1, "lstm": 4, "gru": 3}


def make_inputs(layer: str, rng: np.random.Generator) -> dict:
    G = LAYERS[layer]
    k = 1 / np.sqrt(H)            # torch's default init range

    def u(*shape):
        return rng.uniform(-k, k, shape).astype(np.float32)

    return {
        "x": rng.standard_normal((T, N, I)).astype(np.float32),
        "h0": rng.standard_normal((N, H)).astype(np.float32),
        "c0": rng.standard_normal((N, H)).astype(np.float32),
        "W_ih": u(G * H, I), "W_hh": u(G * H, H), "b_ih": u(G * H), "b_hh": u(G * H),
        "dhs": rng.standard_normal((T, N, H)).astype(np.float32),
    }


def numpy_step(layer: str, p: dict):
    """One forward + backward with dlnotes."""
    W = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if layer == "lstm":
        _, _, cache = rnn.lstm_forward(p["x"], p["h0"], p["c0"], *W)
        return rnn.lstm_backward(p["dhs"], cache)
    if layer == "gru":
        _, cache = rnn.gru_forward(p["x"], p["h0"], *W)
        return rnn.gru_backward(p["dhs"], cache)
    _, cache = rnn.rnn_forward(p["x"], p["h0"], *W)
    return rnn.rnn_backward(p["dhs"], cache)


def torch_setup(layer: str, p: dict):
    """A closure doing one torch pass with the same weights, and its input x."""
    if layer == "lstm":
        m = torch.nn.LSTM(I, H)
    elif layer == "gru":
        m = torch.nn.GRU(I, H)
    else:
        m = torch.nn.RNN(I, H, nonlinearity="tanh")
    with torch.no_grad():
        for ours, theirs in [("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"),
                             ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")]:
            getattr(m, theirs).copy_(torch.from_numpy(p[ours]))
    x = torch.from_numpy(p["x"]).requires_grad_(True)
    h0 = torch.from_numpy(p["h0"])[None].requires_grad_(True)
    c0 = torch.from_numpy(p["c0"])[None].requires_grad_(True)
    dhs = torch.from_numpy(p["dhs"])
    leaves = [x, h0, c0, *m.parameters()]

    def step():
        for leaf in leaves:
            leaf.grad = None
        hs, _ = m(x, (h0, c0)) if layer == "lstm" else m(x, h0)
        hs.backward(dhs)

    return step, x


def max_dx_difference(layer: str, p: dict) -> float:
    """max |dx_numpy - dx_torch|: a sanity check that both do the same work."""
    step, x = torch_setup(layer, p)
    step()
    return float(np.abs(numpy_step(layer, p)[0] - x.grad.numpy()).max())


def time_pair(f_np, f_torch, repeats: int, warmup: int = 3):
    """Median seconds of f_np and f_torch, interleaved (order alternating)."""
    for _ in range(warmup):
        f_np()
        f_torch()
    t_np, t_torch = [], []
    for r in range(repeats):
        pair = [(f_np, t_np), (f_torch, t_torch)]
        for f, out in (pair if r % 2 == 0 else pair[::-1]):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
    return statistics.median(t_np), statistics.median(t_torch)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for numpy and torch.set_num_threads (default 1)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed repeats per layer; the median is reported (default 10)")
    parser.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"forward + backward, T={T} N={N} I={I} H={H}, float32, "
          f"threads={args.threads} (numpy BLAS via threadpoolctl, torch.set_num_threads), "
          f"median of {args.repeats}")
    print(f"{'layer':<10}{'numpy s':>10}{'torch s':>10}{'ratio':>8}{'target':>9}"
          f"{'max|dx diff|':>14}")
    with threadpool_limits(limits=args.threads):
        for layer in args.layers:
            p = make_inputs(layer, rng)
            diff = max_dx_difference(layer, p)
            t_np, t_torch = time_pair(lambda layer=layer, p=p: numpy_step(layer, p),
                                      torch_setup(layer, p)[0], args.repeats)
            ratio = t_np / t_torch
            flag = "ok" if ratio <= TARGET else "SLOW"
            print(f"{layer:<10}{t_np:>10.4f}{t_torch:>10.4f}{ratio:>8.2f}"
                  f"{'<= ' + str(TARGET):>7} {flag:<4}{diff:>10.1e}")


if __name__ == "__main__":
    main()
