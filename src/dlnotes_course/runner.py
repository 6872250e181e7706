"""Grade one submission: answers in the sandbox, tests in the grader.

The student's cells run in a sandboxed student process
(:mod:`dlnotes_course.sandbox`) that can import only numpy, scipy and the
standard library. The test cells run here, in the grader's own process, next
to the real ``dlnotes`` reference: the names an answer cell defines reach them
as proxies (:mod:`dlnotes_course.wire`), so every comparison happens where
student code cannot reach it. Whatever a submission patches, it patches in its
own process.

When the student process hangs past the cell limit, runs out of memory or
dies, it is killed, a new one replays the cells that ran before (without the
one that killed it), and grading goes on with the next cell: the checks that
completed still count, the rest are graded normally.
"""

from __future__ import annotations

import functools
import time
import types
from dataclasses import asdict, dataclass, field

from dlnotes.checks import CheckFailure

from .plan import Plan, Step
from .sandbox import KEPT_OUTPUT, StudentProcess
from .wire import ChannelClosed, ChannelTimeout, ProtocolError

MAX_RESTARTS = 5


@dataclass
class Limits:
    cell_timeout: float = 30.0
    memory_mb: int = 2048
    notebook_timeout: float | None = None   # default: 10 x cell_timeout
    sandbox: bool = True

    @property
    def wall(self) -> float:
        return self.notebook_timeout or 10 * self.cell_timeout


@dataclass
class Outcome:
    """What grading one submission produced (JSON-able: it crosses to the driver)."""

    # grade_id, score, max_score, message, mistake, seconds
    checks: list[dict] = field(default_factory=list)
    status: str = "graded"
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    warning: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class _Shell:
    def __getattr__(self, attr):
        return lambda *a, **k: None


@functools.cache
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager()


def _transform(code: str) -> str:
    """IPython syntax (magics, ``!cmd``) to plain Python, as a kernel would."""
    try:
        return _transformer().transform_cell(code)
    except Exception:  # noqa: BLE001 - leave it to the compiler to report
        return code


def _message(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "a check failed"
    name = type(exc).__name__
    return f"{name}: {exc}".strip().rstrip(":")


def _test_ids(answer: str) -> tuple[str, str]:
    """The checks of an answer cell, by the naming rule of docs/authoring.md."""
    return f"test_{answer}", f"test_{answer}_hidden"


def _tests_of(gid: str, steps: list[Step]) -> list[str]:
    return [s.gid for s in steps if s.kind == "test" and s.gid in _test_ids(gid)]


class _Session:
    """The student process plus what is needed to replay it after a restart."""

    def __init__(self, limits: Limits, hide, notebook: bytes, outcome: Outcome):
        self.limits, self.hide, self.notebook, self.outcome = limits, hide, notebook, outcome
        self.replay: list[dict] = []
        self.restarts = 0
        self.output_bytes = 0
        self.proc = None
        self._start()

    def _start(self):
        self.proc = StudentProcess(self.limits.memory_mb, self.hide, self.notebook,
                                   sandbox=self.limits.sandbox)
        if self.proc.warning and self.proc.warning not in self.outcome.warning:
            self.outcome.warning = "; ".join(w for w in (self.outcome.warning,
                                                          self.proc.warning) if w)

    @property
    def channel(self):
        return self.proc.channel

    def deadline(self, seconds: float) -> None:
        self.channel.deadline = time.monotonic() + seconds

    def exec(self, kind: str, label: str, code: str, locked: bool = False) -> dict:
        msg = {"kind": kind, "label": label, "code": _transform(code), "locked": locked}
        self.deadline(self.limits.cell_timeout)
        reply = self.channel.request("exec", **msg)
        self.replay.append(msg)
        return reply

    def died(self, exc: BaseException) -> tuple[str, str]:
        """Kill the student process; ``(status, why)`` of its end."""
        if isinstance(exc, ChannelTimeout):
            status, why = "timeout", f"ran past the {self.limits.cell_timeout:g} s cell limit"
        else:
            time.sleep(0.05)
            if self.proc.oom_killed():
                status = "memory"
                why = f"went over the {self.limits.memory_mb} MB memory limit"
            elif isinstance(exc, ProtocolError):
                status, why = "crashed", f"broke the grader's channel ({exc})"
            else:
                try:
                    self.proc.proc.wait(timeout=2)
                except Exception:  # noqa: BLE001
                    pass
                status, why = "crashed", f"the student process {self.proc.exit_description()}"
        self.close()
        return status, why

    def restart(self, names_sink) -> bool:
        """Start a new student process and replay; False when out of restarts."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            return False
        self._start()
        for msg in list(self.replay):
            try:
                self.deadline(self.limits.cell_timeout)
                reply = self.channel.request("exec", **msg)
            except (ChannelTimeout, ChannelClosed, ProtocolError):
                self.replay.remove(msg)
                self.close()
                return self.restart(names_sink)
            if msg["kind"] != "setup":
                names_sink(reply)
        return True

    def close(self):
        if self.proc is not None:
            self.output_bytes += self.proc.output_bytes[0]
            self.proc.close()


def grade_plan(plan: Plan, limits: Limits, hide=(), notebook: bytes = b"") -> Outcome:
    """Run ``plan`` for one submission and score each test cell."""
    start = time.monotonic()
    outcome = Outcome()
    steps = plan.steps
    ns: dict = {"__name__": "__main__", "get_ipython": lambda: _Shell(),
                "display": lambda *a, **k: None}
    locked_names: set[str] = set()
    answer_errors: dict[str, str] = {}
    zeroed: dict[str, str] = {}          # test gid -> why (flags)
    events: list[tuple[str, str, str]] = []   # (status, cell, why)
    session = _Session(limits, hide, notebook, outcome)
    seen_notices = 0

    def take_names(reply):
        if isinstance(reply, dict) and isinstance(reply.get("names"), dict):
            for name, value in reply["names"].items():
                if not name.isidentifier():
                    continue
                if name in locked_names:
                    if callable(ns.get(name)) and not isinstance(ns.get(name), types.ModuleType):
                        session.channel.notices.append(
                            f"redefined the provided name {name} (the tests use the original)")
                    continue
                ns[name] = value

    def collect_flags(context_tests: list[str]):
        nonlocal seen_notices
        notices = session.channel.notices
        new = notices[seen_notices:]
        seen_notices = len(notices)
        for note in new:
            if note not in outcome.flags:
                outcome.flags.append(note)
            for t in context_tests:
                zeroed.setdefault(t, note)

    def guarded(run, cell: str, context_tests: list[str]):
        """Run ``run()``; on the death of the student process restart and return None."""
        nonlocal seen_notices
        try:
            return run()
        except (ChannelTimeout, ChannelClosed, ProtocolError) as exc:
            collect_flags(context_tests)
            status, why = session.died(exc)
            events.append((status, cell, why))
            seen_notices = 0
            if not session.restart(take_names):
                raise _GiveUp() from None
            return None
        finally:
            if not session.channel.closed:
                collect_flags(context_tests)

    scores: dict[str, tuple[float, str]] = {}
    try:
        for step in steps:
            if time.monotonic() - start > limits.wall:
                events.append(("timeout", step.gid,
                               f"the notebook ran past its {limits.wall:g} s wall limit"))
                break
            context = _tests_of(step.gid, steps) if step.kind == "answer" else (
                [step.gid] if step.kind == "test" else [])
            for i, code in enumerate(step.student_cells):
                guarded(lambda c=code, label=f"{step.gid}-student-{i}": take_names(
                    session.exec("student", label, c)), f"your cell before {step.gid}", context)
            if step.kind == "setup":
                if step.code.strip():
                    before = set(ns)
                    try:
                        exec(compile(_transform(step.code), f"<setup {step.gid}>", "exec"), ns)
                    except Exception as exc:  # noqa: BLE001 - the grader's own cell failed
                        outcome.warning += f"; provided cell {step.gid} failed: {_message(exc)}"
                    locked_names.update(k for k in ns if k not in before)
                    guarded(lambda s=step: session.exec("setup", s.gid, s.code, s.locked),
                            step.gid, [])
            elif step.kind == "answer":
                if step.missing:
                    answer_errors[step.gid] = (f"the answer cell '{step.gid}' is missing from "
                                               "the notebook (deleted, or its metadata changed)")
                    continue
                reply = guarded(lambda s=step: session.exec("answer", s.gid, s.code),
                                step.gid, context)
                if reply is None:
                    answer_errors[step.gid] = f"your cell '{step.gid}' " + events[-1][2]
                    continue
                take_names(reply)
                err = reply.get("error") if isinstance(reply, dict) else None
                if isinstance(err, dict):
                    answer_errors[step.gid] = (f"your cell '{step.gid}' raised "
                                               f"{err.get('type')}: {err.get('msg')}")
            else:
                def run_test(s=step):
                    session.deadline(limits.cell_timeout)
                    session.channel.request("label", label=s.gid)
                    before = {k: id(v) for k, v in ns.items()}
                    began = time.monotonic()
                    try:
                        # one namespace, as in a notebook: a later test may use an
                        # earlier one's helpers, which answers may not redefine
                        exec(compile(s.code, f"<test {s.gid}>", "exec"), ns)
                    except (ChannelTimeout, ChannelClosed, ProtocolError):
                        raise
                    except BaseException as exc:  # noqa: BLE001 - a failed check
                        if isinstance(exc, KeyboardInterrupt):
                            raise
                        mistake = exc.mistake if isinstance(exc, CheckFailure) else ""
                        return (0.0, _message(exc), str(mistake),
                                time.monotonic() - began)
                    finally:
                        locked_names.update(k for k, v in ns.items() if before.get(k) != id(v))
                    return (s.points, "", "", time.monotonic() - began)
                result = guarded(run_test, step.gid, context)
                if result is None:
                    result = (0.0, f"{events[-1][2]} while this check ran", "", 0.0)
                scores[step.gid] = result
    except _GiveUp:
        pass
    finally:
        session.close()

    for step in steps:
        if step.kind != "test":
            continue
        score, message, mistake, seconds = scores.get(
            step.gid, (0.0, "not run: grading of this notebook stopped before this check", "",
                       0.0))
        answer = next((gid for gid, err in answer_errors.items()
                       if step.gid in _test_ids(gid)), None)
        if score < step.points and answer:
            message = f"{answer_errors[answer]}. {message}"
        if step.gid in zeroed:
            score, message, mistake = 0.0, f"flagged: {zeroed[step.gid]}", ""
        outcome.checks.append({"grade_id": step.gid, "score": float(score),
                               "max_score": float(step.points), "message": message,
                               "mistake": mistake if score < step.points else "",
                               "seconds": round(seconds, 4)})

    if session.output_bytes > KEPT_OUTPUT:
        outcome.reasons.append(f"printed {session.output_bytes / 1e6:.1f} MB of output; "
                               f"kept the first {KEPT_OUTPUT // 1024} KB")
    for _status, cell, why in events:
        outcome.reasons.append(f"cell {cell}: {why}")
    statuses = [e[0] for e in events]
    if outcome.flags:
        outcome.status = "flagged"
        outcome.reasons.insert(0, "attempt to game the checks: " + "; ".join(outcome.flags))
    elif plan.tampered:
        outcome.status = "tampered"
    else:
        for candidate in ("memory", "timeout", "crashed"):
            if candidate in statuses:
                outcome.status = candidate
                break
    if plan.tampered:
        outcome.reasons.insert(0, "locked or test cells were changed and restored from the "
                               "instructor source: " + ", ".join(plan.tampered))
    if plan.missing_answers:
        outcome.reasons.append("answer cells missing: " + ", ".join(plan.missing_answers))
    outcome.seconds = round(time.monotonic() - start, 3)
    return outcome


class _GiveUp(Exception):
    pass
