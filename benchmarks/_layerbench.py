"""Shared harness of the layer benchmarks (bench_cnn, bench_rnn, bench_attention, bench_norm).

Each benchmark file lists its cases -- a numpy forward + backward and its torch
twin (autograd) on the same float32 inputs -- and calls :func:`main`, which:

* runs every case at 1 and at 2 threads, numpy's BLAS limited with
  ``threadpoolctl`` and torch with ``torch.set_num_threads`` (equal counts);
* times numpy and torch side by side in one run, interleaved repeat by repeat
  (alternating which goes first), and keeps the **minimum** of the repeats:
  on a machine shared with other work the minimum is the run least disturbed;
* prints which BLAS kernel numpy ran (threadpoolctl) and ``OPENBLAS_CORETYPE``;
* for cases that declare their matrix-product FLOPs, prints the achieved
  GFLOP/s of forward + backward as a fraction of numpy's own float32 matmul
  GFLOP/s on a square product of similar size, measured in the same run;
* ends with the two lines ``worst numpy/torch ratio at 1 thread: R (layer)``
  and ``worst numpy/torch ratio at 2 threads: R (layer)``.

Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

THREADS = (1, 2)


@dataclass
class Case:
    """One layer on one shape: numpy and torch forward + backward, same inputs."""

    name: str
    shape: str
    run_numpy: Callable[[], object]
    run_torch: Callable[[], object]
    flops: float | None = None      #: matrix-product FLOPs of forward + backward


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    """numpy's BLAS as threadpoolctl sees it: library, version, kernel, CORETYPE."""
    blas = [m for m in threadpool_info() if m.get("user_api") == "blas"]
    kinds = ", ".join(f"{m.get('internal_api')} {m.get('version')} kernel "
                      f"{m.get('architecture', '?')}" for m in blas) or "none found"
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    return (f"numpy BLAS: {kinds}; OPENBLAS_CORETYPE="
            f"{coretype if coretype is not None else '(unset)'}")


def time_min(fns: dict[str, Callable[[], object]], repeats: int, warmup: int) -> dict:
    """Minimum wall time of each function, run round-robin with a rotating start."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    best = dict.fromkeys(fns, float("inf"))
    names = list(fns)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def square_matmul(n: int) -> Callable[[], object]:
    """A float32 (n, n) @ (n, n) product, the yardstick of the GFLOP/s column."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    return lambda: a @ b


def square_side(flops: float) -> int:
    """Side of the square product with about the FLOPs of one of the case's products."""
    return int(min(2048, max(128, round((flops / 6 / 2) ** (1 / 3) / 32) * 32)))


def run(cases: list[Case], threads: int, repeats: int, warmup: int) -> tuple[float, str]:
    """Print one table at ``threads`` threads; return the worst ratio and its case."""
    torch.set_num_threads(threads)
    worst = (0.0, "")
    with threadpool_limits(limits=threads):
        print(f"\n-- {threads} thread{'s' if threads > 1 else ''} (numpy BLAS via threadpoolctl, "
              f"torch.set_num_threads), min of {repeats} after {warmup} warm-up")
        print(f"{'layer':<24}{'shape':<34}{'numpy ms':>10}{'torch ms':>10}{'ratio':>7}"
              f"{'GFLOP/s':>9}{'of matmul':>11}")
        for case in cases:
            fns = {"numpy": case.run_numpy, "torch": case.run_torch}
            if case.flops:              # the yardstick runs interleaved with the case
                side = square_side(case.flops)
                fns["matmul"] = square_matmul(side)
            t = time_min(fns, repeats, warmup)
            ratio = t["numpy"] / t["torch"]
            worst = max(worst, (ratio, case.name))
            extra = ""
            if case.flops:
                achieved = case.flops / t["numpy"] / 1e9
                peak = 2.0 * side ** 3 / t["matmul"] / 1e9
                extra = f"{achieved:>9.1f}{achieved / peak:>10.0%} (matmul {side}^2: {peak:.0f})"
            print(f"{case.name:<24}{case.shape:<34}{t['numpy'] * 1e3:>10.3f}"
                  f"{t['torch'] * 1e3:>10.3f}{ratio:>7.2f}{extra}")
    return worst


def main(title: str, make_cases: Callable[[], list[Case]], argv=None) -> None:
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--repeats", type=int, default=25, help="timed repeats (default 25)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs")
    parser.add_argument("--threads", type=int, nargs="+", default=list(THREADS),
                        help="thread counts (default 1 2)")
    args = parser.parse_args(argv)
    print(title)
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs; numpy {np.__version__}, "
          f"torch {torch.__version__}; float32; targets: <= 1.5x torch at 1 thread, "
          f"<= 2x at 2")
    print(blas_description())
    cases = make_cases()
    worst = {n: run(cases, n, args.repeats, args.warmup) for n in args.threads}
    print()
    for n in args.threads:
        ratio, name = worst[n]
        print(f"worst numpy/torch ratio at {n} thread{'s' if n > 1 else ''}: {ratio:.2f} ({name})")
