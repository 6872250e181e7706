"""Time dlnotes.cnn against torch on CPU: conv2d forward + backward.

Run with ``make bench`` or ``python benchmarks/bench_cnn.py [--threads N]``.
Both libraries get the same inputs and the same number of threads
(``torch.set_num_threads`` and numpy's BLAS via threadpoolctl). Each repeat
times numpy and torch back to back, so a change in machine load hits both; the
table shows the median time of each and the median of the per-repeat ratios.
Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from dlnotes import cnn


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_step(x, w, b, dout, padding):
    out, cache = cnn.conv2d_forward(x, w, b, padding=padding)
    return cnn.conv2d_backward(dout, cache)


def _torch_step(tx, tw, tb, tdout, padding):
    for t in (tx, tw, tb):
        t.grad = None
    out = F.conv2d(tx, tw, tb, padding=padding)
    out.backward(tdout)


def bench_conv2d(dtype, repeats: int, warmup: int, shape=(32, 16, 28, 28), c_out=32,
                 kernel=3, padding=1, seed=0):
    """Median seconds of forward+backward for numpy and torch, and the median ratio."""
    rng = np.random.default_rng(seed)
    n, c_in, h, w_ = shape
    x = rng.standard_normal(shape).astype(dtype)
    w = (rng.standard_normal((c_out, c_in, kernel, kernel)) / np.sqrt(c_in * kernel**2)).astype(
        dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    oh = cnn.conv2d_output_size(h, kernel, padding)
    ow = cnn.conv2d_output_size(w_, kernel, padding)
    dout = rng.standard_normal((n, c_out, oh, ow)).astype(dtype)
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout.copy())

    def run_numpy():
        _numpy_step(x, w, b, dout, padding)

    def run_torch():
        _torch_step(tx, tw, tb, tdout, padding)

    for _ in range(warmup):
        run_numpy()
        run_torch()
    t_np, t_torch = [], []
    for i in range(repeats):
        # alternate which one goes first so neither always runs on a warm cache
        order = (run_numpy, run_torch) if i % 2 == 0 else (run_torch, run_numpy)
        for fn in order:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            (t_np if fn is run_numpy else t_torch).append(elapsed)
    ratio = statistics.median(a / b for a, b in zip(t_np, t_torch, strict=True))
    return statistics.median(t_np), statistics.median(t_torch), ratio


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        print(f"machine: {_cpu_name()}, "
              f"numpy {np.__version__}, torch {torch.__version__}, "
              f"threads={args.threads} (torch.set_num_threads and numpy BLAS), "
              f"median of {args.repeats} repeats after {args.warmup} warm-up")
        print("conv2d forward+backward, x (32, 16, 28, 28), w (32, 16, 3, 3), padding 1")
        header = f"{'layer':<24}{'numpy s':>10}{'torch s':>10}{'numpy/torch':>13}{'target':>8}"
        print(header)
        print("-" * len(header))
        for dtype in (np.float32, np.float64):
            t_np, t_torch, ratio = bench_conv2d(dtype, args.repeats, args.warmup)
            name = f"conv2d fwd+bwd {np.dtype(dtype).name}"
            print(f"{name:<24}{t_np:>10.4f}{t_torch:>10.4f}{ratio:>13.2f}{'<= 2':>8}")


if __name__ == "__main__":
    main()
