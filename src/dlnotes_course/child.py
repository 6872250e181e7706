"""One submission's grading in a child process, with its own memory and wall clock.

The grader's side of a submission (decoding what the student returns, the
test cells, the reference) runs in a process forked from the worker for that
submission alone. Its address space is limited, and the worker kills it past
the notebook's wall limit, so a submission that makes the grader hold too much
or run too long ends its own row and nobody else's. The child streams each
finished check to the worker as a JSON line, so the checks completed before it
died still count.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import time

from .results import Outcome

GRACE = 15.0        # seconds past the wall limit before the child is killed
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * _PAGE


def _terminate(signum, frame):
    raise SystemExit(128 + signum)   # unwinds: the student process is closed on the way


def _child(fn, ctx: dict, data: bytes, w: int) -> None:
    """The child's whole life: grade, stream, exit (never returns)."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        extra = int(ctx["limits"]["grader_memory_mb"]) * 2**20
        limit = _address_space() + extra
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        out = os.fdopen(w, "w", encoding="utf-8")

        def emit(kind: str, value) -> None:
            out.write(json.dumps({kind: value}) + "\n")
            out.flush()

        try:
            emit("outcome", fn(ctx, data, emit))
        except MemoryError:
            emit("error", "memory")
        except BaseException as exc:  # noqa: BLE001 - the grader's own failure, reported
            emit("error", f"{type(exc).__name__}: {exc}"[:300])
        out.close()
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def _read_lines(r: int, deadline: float, sink) -> bool:
    """Feed complete lines to ``sink`` until EOF (True) or the deadline (False)."""
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([r], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(r, 1 << 16)
        if not chunk:
            return True
        *lines, buf = (buf + chunk).split(b"\n")
        for line in lines:
            try:
                sink(json.loads(line))
            except ValueError:
                pass


def _stop(pid: int) -> None:
    """SIGTERM (the child closes its student process), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
            time.sleep(0.05)


def run_in_child(fn, ctx: dict, data: bytes, student: str) -> dict:
    """``fn(ctx, data, on_progress)`` in a forked child; its outcome as a dict.

    When the child does not finish, the outcome is built from the checks and
    flags it streamed (``on_progress("check", dict)``, ``on_progress("flag",
    text)``): ``timeout`` past the wall limit, ``memory`` when it ran out of its
    address space, and a grader error (never stored) otherwise; a flag outranks
    them all, as in a finished run.
    """
    limits = ctx["limits"]
    wall = 10 * float(limits["cell_timeout"])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(fn, ctx, data, w)
    os.close(w)
    checks: dict[str, dict] = {}
    flags: list[str] = []
    final: dict = {}

    def sink(msg):
        if not isinstance(msg, dict):
            return
        if isinstance(msg.get("check"), dict):
            checks[str(msg["check"].get("grade_id"))] = msg["check"]
        elif isinstance(msg.get("flag"), str):
            flags.append(msg["flag"])
        else:
            final.update(msg)

    start = time.monotonic()
    try:
        finished = _read_lines(r, start + wall + GRACE, sink)
    finally:
        os.close(r)
    if not finished:
        _stop(pid)
    else:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if isinstance(final.get("outcome"), dict):
        return final["outcome"]
    seconds = round(time.monotonic() - start, 3)
    if not finished:
        out = Outcome(status="timeout", reasons=[f"the notebook ran past its {wall:g} s wall "
                                                 "limit; grading stopped there"])
    elif final.get("error") == "memory":
        out = Outcome(status="memory", reasons=[
            f"made the grader hold more than {limits['grader_memory_mb']} MB "
            "(values returned to the tests); grading stopped there"])
    else:
        why = final.get("error") or "the grading process died"
        out = Outcome.failed(f"the grader failed on this submission: {why}")
    from .sandbox import sandboxed
    from .worker import grader_hash
    out.checks = list(checks.values())
    out.seconds = seconds
    out.grader = grader_hash()
    out.sandboxed = sandboxed(limits["sandbox"])
    out.flag(flags)
    return out.to_dict()
