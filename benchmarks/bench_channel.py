"""Benchmark the grader/student channel: the cost of one call must not grow with calls.

A student's ``step(p, g)`` updates ``p`` in place (``p -= 0.01 * g``). A test
calls it N times, each with a fresh 1000-element float64 gradient, exactly as
the grader does: a fresh sandboxed :class:`~dlnotes_course.sandbox.StudentProcess`,
an ``exec`` of the answer cell, the function taken from the reply's names and
called through its proxy; ``p`` is marked with :func:`dlnotes.checks.inplace`
so that the update reaches the test. Each N runs in its own process.

Prints the median microseconds per call for each N and the line
``channel 10k/1k time ratio: R`` (R = total wall time of the 10,000 calls
divided by that of the 1,000 calls; linear cost gives about 10). Run by
``make bench``; asserts nothing.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time

import numpy as np

from dlnotes.checks import inplace, is_inplace
from dlnotes_course.sandbox import StudentProcess

STEP = "def step(p, g):\n    p -= 0.01 * g\n"


def run(calls: int, size: int = 1000) -> tuple[float, list[float]]:
    """Total wall seconds of ``calls`` calls and the seconds of each call."""
    kwargs = {"memory_mb": 1024}
    if "writable" in inspect.signature(StudentProcess).parameters:
        kwargs["writable"] = is_inplace
    proc = StudentProcess(**kwargs)
    try:
        proc.channel.deadline = None
        reply = proc.channel.request("exec", kind="answer", label="step", code=STEP,
                                     locked=False)
        step = reply["names"]["step"]
        p = inplace(np.zeros(size))
        rng = np.random.default_rng(0)
        grads = [rng.normal(size=size) for _ in range(min(calls, 100))]
        each = []
        start = time.perf_counter()
        for i in range(calls):
            t = time.perf_counter()
            step(p, grads[i % len(grads)].copy())
            each.append(time.perf_counter() - t)
        total = time.perf_counter() - start
        expected = -0.01 * sum(grads[i % len(grads)] for i in range(calls))
        if not np.allclose(p, expected):
            raise SystemExit("the in-place update did not reach the caller's array")
        return total, each
    finally:
        proc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="1000,10000",
                        help="comma-separated numbers of calls (default 1000,10000)")
    args = parser.parse_args()
    totals = {}
    for n in (int(x) for x in args.calls.split(",")):
        total, each = run(n)
        totals[n] = total
        print(f"{n:>6} calls: {total:8.2f} s total, median {statistics.median(each) * 1e6:8.1f} "
              f"us/call, calls {n - n // 10}-{n}: {sum(each[-(n // 10):]) / (n // 10) * 1e6:.1f} "
              f"us/call, first {n // 10}: {sum(each[:n // 10]) / (n // 10) * 1e6:.1f} us/call",
              flush=True)
    if 1000 in totals and 10000 in totals:
        print(f"channel 10k/1k time ratio: {totals[10000] / totals[1000]:.2f}")


if __name__ == "__main__":
    main()
