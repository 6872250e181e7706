"""Grade one submission: answers in the sandbox, tests in the grader.

The student's cells run in a sandboxed student process
(:mod:`dlnotes_course.sandbox`) that can import only numpy, scipy and the
standard library. The test cells run here, in the grader, next to the real
``dlnotes`` reference. Of the names an answer cell binds, only those the
instructor's answer cell binds (the functions and classes the tests use)
reach the tests, as proxies (:mod:`dlnotes_course.wire`); a student's name
never replaces a builtin or a name of the grader's own cells. Every
comparison happens where student code cannot reach it.

When the student process hangs past the cell limit, runs out of memory, dies
or breaks the channel's protocol, it is killed, a new one replays the cells
that ran before (without the one that killed it), and grading goes on with
the next cell: the checks that completed still count.
"""

from __future__ import annotations

import functools
import subprocess
import time
import types
from dataclasses import dataclass

from .cells import answer_of_test
from .plan import Plan, Step
from .results import Check, Outcome, clean
from .sandbox import StudentProcess
from .wire import ChannelClosed, ChannelTimeout, ProtocolError

MAX_RESTARTS = 5
MAX_FLAGS = 50
_DEATHS = (ChannelTimeout, ChannelClosed, ProtocolError)


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30.0
    memory_mb: int = 2048            # the student process and its children
    grader_memory_mb: int = 4096     # the grader's side of one submission
    sandbox: bool = True

    @property
    def wall(self) -> float:
        """The notebook's limit: everything done for one submission."""
        return 10 * self.cell_timeout


@dataclass(frozen=True)
class Event:
    """Something that ended a student process: ``status`` is timeout, memory or crashed."""

    status: str
    cell: str
    why: str


class _GiveUp(Exception):
    """Out of restarts, or past the wall limit: the remaining checks score 0."""


@functools.cache
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager()


def transform(code: str) -> str:
    """IPython syntax (magics, ``!cmd``) to plain Python, as a kernel would.

    Plain Python, which almost every cell is, is returned as it is.
    """
    try:
        compile(code, "<cell>", "exec")
        return code
    except (SyntaxError, ValueError):
        pass
    try:
        return _transformer().transform_cell(code)
    except Exception:  # noqa: BLE001 - leave it to the compiler to report
        return code


def _message(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "a check failed"
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


class _Flags:
    """What a submission was seen trying: ordered, de-duplicated, capped."""

    def __init__(self, on_new=None):
        self.seen: dict[str, None] = {}
        self.on_new = on_new or (lambda note: None)

    def add(self, note: str) -> bool:
        note = clean(note, 300)
        if note in self.seen or len(self.seen) >= MAX_FLAGS:
            return False
        self.seen[note] = None
        self.on_new(note)
        return True

    def __iter__(self):
        return iter(self.seen)


class _Session:
    """The student process plus what is needed to replay it after a restart."""

    def __init__(self, limits: Limits, hide, notebook: bytes, writable, wall_end: float):
        self.limits, self.hide, self.notebook = limits, hide, notebook
        self.writable, self.wall_end = writable, wall_end
        self.replay: list[dict] = []
        self.restarts = 0
        self.output_bytes = 0
        self.warnings: list[str] = []
        self.sandboxed = False
        self.proc = None
        self._start()

    def _start(self):
        self.proc = StudentProcess(self.limits.memory_mb, self.hide, self.notebook,
                                   sandbox=self.limits.sandbox, writable=self.writable)
        self.sandboxed = self.proc.sandboxed
        if self.proc.warning and self.proc.warning not in self.warnings:
            self.warnings.append(self.proc.warning)

    @property
    def channel(self):
        return self.proc.channel

    def arm(self) -> None:
        """The deadline of the next request: the cell limit, within the wall limit."""
        now = time.monotonic()
        self.channel.deadline = min(now + self.limits.cell_timeout, self.wall_end)

    def exec(self, kind: str, label: str, code: str, names=(), locked: bool = False) -> dict:
        """Run a cell in the student process; only ``names`` come back with values."""
        self.arm()
        msg = {"kind": kind, "label": label, "code": transform(code), "locked": locked,
               "names": sorted(names)}
        reply = self.channel.request("exec", **msg)
        self.replay.append(msg)
        return reply if isinstance(reply, dict) else {}

    def died(self, exc: BaseException) -> tuple[str, str]:
        """Kill the student process; ``(status, why)`` of its end."""
        if isinstance(exc, ChannelTimeout):
            status = "timeout"
            why = (f"ran past the notebook's {self.limits.wall:g} s wall limit"
                   if time.monotonic() >= self.wall_end - 1e-3
                   else f"ran past the {self.limits.cell_timeout:g} s cell limit")
        else:
            time.sleep(0.05)
            if self.proc.oom_killed():
                status = "memory"
                why = f"went over the {self.limits.memory_mb} MB memory limit"
            elif isinstance(exc, ProtocolError):
                status, why = "crashed", f"broke the grader's channel ({clean(exc, 200)})"
            else:
                try:
                    self.proc.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
                status, why = "crashed", f"the student process {self.proc.exit_description()}"
        self.close()
        return status, why

    def restart(self) -> bool:
        """Start a new student process and replay; False when out of restarts or time."""
        while self.restarts < MAX_RESTARTS and time.monotonic() < self.wall_end:
            self.restarts += 1
            self._start()
            try:
                for msg in list(self.replay):
                    self.arm()
                    failed = msg
                    self.channel.request("exec", **msg)
            except _DEATHS:
                self.replay.remove(failed)
                self.close()
                continue
            self.channel.take_flags()   # seen and charged when these cells first ran
            return True
        return False

    def close(self):
        if self.proc is not None:
            self.proc.close()
            self.output_bytes += self.proc.output_bytes   # complete once it is closed
            self.proc = None


class PlanRun:
    """Runs one submission's plan: one method per kind of cell, then the outcome."""

    def __init__(self, plan: Plan, limits: Limits, hide=(), notebook: bytes = b"",
                 writable=None, on_progress=None):
        from .policy import notebook_namespace
        self.plan, self.limits = plan, limits
        self.hide, self.notebook, self.writable = hide, notebook, writable
        # told each finished check and each new flag, as they happen (``kind``, value)
        self.on_progress = on_progress or (lambda kind, value: None)
        self.ns: dict = notebook_namespace()
        self.grader_names: set[str] = set(self.ns)      # bound by the grader's own cells
        self.answer_errors: dict[str, str] = {}
        self.exits: list[str] = []                       # answer cells that raised SystemExit...
        self.zeroed: dict[str, str] = {}                 # check -> the flag that zeroes it
        self.events: list[Event] = []
        self.flags = _Flags(lambda note: self.on_progress("flag", note))
        self.checks: dict[str, Check] = {}
        self.session: _Session | None = None
        # what the tests use as answers: a student's own cell may define them too
        self.answer_names = frozenset().union(*(s.names for s in plan.steps
                                                if s.kind == "answer"))

    # -- the run --------------------------------------------------------------
    def run(self) -> Outcome:
        start = time.monotonic()
        self.wall_end = start + self.limits.wall
        self.session = _Session(self.limits, self.hide, self.notebook, self.writable,
                                self.wall_end)
        try:
            for step in self.plan.steps:
                self._student_cells(step)
                getattr(self, f"_{step.kind}")(step)
        except _GiveUp:
            pass
        finally:
            self.session.close()
        return self._outcome(time.monotonic() - start)

    def _check_wall(self, cell: str) -> None:
        if time.monotonic() >= self.wall_end:
            self.events.append(Event("timeout", cell, "the notebook ran past its "
                                     f"{self.limits.wall:g} s wall limit"))
            raise _GiveUp()

    def _context(self, step: Step) -> list[str]:
        """The checks a flag raised while ``step`` runs zeroes."""
        if step.kind == "answer":
            return self.plan.tests_of(step.grade_id)
        return [step.grade_id] if step.kind == "test" else []

    def _charge(self, context: list[str]) -> None:
        for note in self.session.channel.take_flags():
            self.flags.add(note)
            for check in context:
                self.zeroed.setdefault(check, clean(note, 300))

    def _guarded(self, run, cell: str, context: list[str]):
        """``run()``; if the student process dies meanwhile, restart it and return None."""
        self._check_wall(cell)
        try:
            return run()
        except _DEATHS as exc:
            self._charge(context)
            status, why = self.session.died(exc)
            self.events.append(Event(status, cell, why))
            if time.monotonic() >= self.wall_end or not self.session.restart():
                raise _GiveUp() from None
            return None
        finally:
            if self.session.proc is not None and not self.session.channel.closed:
                self._charge(context)

    def _take_names(self, reply: dict, allowed: frozenset) -> None:
        names, bound = reply.get("names"), reply.get("bound")
        if isinstance(names, dict):
            for name, value in names.items():
                if name in allowed and name not in self.grader_names:
                    self.ns[name] = value
        for name in bound if isinstance(bound, list) else []:
            if name in self.grader_names and callable(self.ns.get(name)) \
                    and not isinstance(self.ns.get(name), types.ModuleType):
                self.flags.add(f"redefined the provided name {name} (the tests use the original)")

    # -- one method per kind of cell --------------------------------------------
    def _student_cells(self, step: Step) -> None:
        context = self._context(step)
        for i, code in enumerate(step.student_cells):
            reply = self._guarded(
                lambda c=code, i=i: self.session.exec("student", f"{step.label}-student-{i}", c,
                                                      self.answer_names),
                f"your cell before {step.label}", context)
            if reply:
                self._take_names(reply, self.answer_names)

    def _setup(self, step: Step) -> None:
        if not step.code.strip():
            return
        before = set(self.ns)
        try:
            exec(compile(transform(step.code), f"<setup {step.label}>", "exec"), self.ns)
        except Exception as exc:  # noqa: BLE001 - the grader's own cell failed
            self.session.warnings.append(f"provided cell {step.label} failed: {_message(exc)}")
        self.grader_names.update(set(self.ns) - before)
        self._guarded(lambda: self.session.exec("setup", step.label, step.code,
                                                locked=step.locked), step.label, [])

    def _answer(self, step: Step) -> None:
        gid = step.grade_id
        if step.missing:
            self.answer_errors[gid] = (f"the answer cell '{gid}' is missing from the notebook "
                                       "(deleted, or its metadata changed)")
            return
        reply = self._guarded(lambda: self.session.exec("answer", gid, step.code, step.names),
                              gid, self._context(step))
        if reply is None:
            self.answer_errors[gid] = f"your cell '{gid}' {self.events[-1].why}"
            return
        self._take_names(reply, step.names)
        err = reply.get("error")
        if isinstance(err, dict):
            kind, text = clean(err.get("type"), 80), clean(err.get("msg"), 300)
            if kind in ("SystemExit", "KeyboardInterrupt"):
                how = "sys.exit()" if kind == "SystemExit" else "an interrupt"
                why = (f"your cell '{gid}' raised {kind} ({how}): the rest of that cell "
                       "did not run")
                self.answer_errors[gid] = why
                self.exits.append(why)
            else:
                self.answer_errors[gid] = f"your cell '{gid}' raised {kind}: {text}"

    def _test(self, step: Step) -> None:
        start = time.monotonic()
        result = self._guarded(lambda: self._run_test(step), step.grade_id, [step.grade_id])
        if result is None:
            result = (0.0, f"{self.events[-1].why} while this check ran", "")
        score, message, mistake = result
        # final when it is made: the flags and answer errors that concern it came before it
        check = self._final(Check(step.grade_id, float(score), step.points, message, mistake,
                                  round(time.monotonic() - start, 4)))
        self.checks[step.grade_id] = check
        self.on_progress("check", check.__dict__)

    def _run_test(self, step: Step):
        self.session.arm()
        self.session.channel.request("label", label=step.grade_id)
        before = {k: id(v) for k, v in self.ns.items()}
        try:
            # one namespace, as in a notebook: a later test may use an earlier one's helpers
            exec(compile(step.code, f"<test {step.grade_id}>", "exec"), self.ns)
        except _DEATHS:
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a failed check
            return 0.0, clean(_message(exc)), clean(getattr(exc, "mistake", "") or "", 300)
        finally:
            self.grader_names.update(k for k, v in self.ns.items() if before.get(k) != id(v))
        return step.points, "", ""

    # -- the outcome ------------------------------------------------------------
    def _outcome(self, seconds: float) -> Outcome:
        outcome = Outcome(seconds=round(seconds, 3), sandboxed=self.session.sandboxed,
                          warning="; ".join(self.session.warnings))
        for step in self.plan.steps:
            if step.kind == "test":
                check = self.checks.get(step.grade_id) or self._final(Check(
                    step.grade_id, 0.0, step.points,
                    "not run: grading of this notebook stopped before this check"))
                outcome.checks.append(check.__dict__)
        if self.session.output_bytes > 64 * 1024:
            outcome.reasons.append(f"printed {self.session.output_bytes / 1e6:.1f} MB of "
                                   "output (output is not kept)")
        outcome.reasons += [f"cell {e.cell}: {e.why}" for e in self.events]
        outcome.reasons += self.exits
        statuses = [e.status for e in self.events]
        if self.plan.tampered:
            outcome.status = "tampered"
        else:
            outcome.status = next((s for s in ("memory", "timeout", "crashed") if s in statuses),
                                  "graded")
        if self.plan.tampered:
            outcome.reasons.insert(0, "locked or test cells were changed and restored from the "
                                   "instructor source: " + ", ".join(self.plan.tampered))
        if self.plan.missing_answers:
            outcome.reasons.append("answer cells missing: " + ", ".join(self.plan.missing_answers))
        outcome.flag(list(self.flags))
        return outcome

    def _final(self, check: Check) -> Check:
        """A check with its answer's error named and a flag's zero applied."""
        error = self.answer_errors.get(answer_of_test(check.grade_id))
        if check.score < check.max_score and error:
            check.message = f"{error}. {check.message}"
        if check.grade_id in self.zeroed:
            check.score, check.message = 0.0, f"flagged: {self.zeroed[check.grade_id]}"
        return check


def grade_plan(plan: Plan, limits: Limits, hide=(), notebook: bytes = b"", writable=None,
               on_progress=None) -> Outcome:
    """Run ``plan`` for one submission and score each test cell."""
    return PlanRun(plan, limits, hide, notebook, writable, on_progress).run()
