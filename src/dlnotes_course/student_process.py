"""The student process: runs a submission's cells inside the sandbox.

Started by :mod:`dlnotes_course.sandbox` as ``python -I student_process.py FD``
with this file, :mod:`policy`, :mod:`codec` and :mod:`wire` bind-mounted
read-only. It imports only the standard library and numpy, then serves the
grader over the socket ``FD``:

- ``exec``: run one cell (provided code or the student's answer) in the
  notebook namespace and reply ``{"names": {...}, "error": {"type", "msg"} | None}``
  with the names it bound (``SystemExit`` and ``KeyboardInterrupt`` included:
  they end the cell, not the process);
- ``label``: name the test cell the next requests come from;
- calls, attribute, item and operator access on what those names hold.

It also notices, and reports to the grader as *flags*, attempts to game the
checks: importing a forbidden package (:data:`policy.FORBIDDEN_PACKAGES`)
from a student's code, however reached (``import``, ``__import__``,
``importlib``, ``pkgutil``); replacing functions of the watched modules or the
chapter's provided helpers; opening files outside the private working
directory; returning objects that redefine ``==``. The grader does its
comparisons in its own process, so a flag never *wins* points; it tells the
instructor what was tried.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import os
import socket
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import numpy.linalg  # noqa: E402,F401
import numpy.testing  # noqa: E402,F401
import policy  # noqa: E402
import wire  # noqa: E402

WORKDIR = os.getcwd()
# Locations a graded answer may open: its own directory (also its TMPDIR), this
# runtime, and the Python and numpy installation (numpy reads its own files lazily).
READABLE = tuple({WORKDIR, os.path.dirname(os.path.abspath(__file__)),
                  sys.prefix, sys.base_prefix, sys.exec_prefix,
                  os.path.dirname(np.__file__), "/dev/null", "/dev/urandom", "/proc/self",
                  "/sys/devices/system/cpu", "/usr/share/zoneinfo", "/etc/localtime"})
MACHINERY, MACHINERY_FILES = policy.import_machinery_files()
MACHINERY_FILES += (os.path.abspath(__file__), os.path.abspath(policy.__file__))
LIBRARIES = policy.library_dirs()

channel: wire.StudentChannel | None = None
current_label = "setup"


def _from_student(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith(policy.STUDENT_FILES):
            return True
        frame = frame.f_back
    return False


def flag(text: str) -> None:
    if channel is not None:
        channel.flag(f"{current_label}: {text}")


# -- stand-ins for packages a graded answer may not use ----------------------
class Stub:
    """What a name from a non-allowed package is in the sandbox: inert.

    Provided (setup) cells that import plotting or dlnotes helpers still run;
    calling one of them from a graded answer fails, and for a forbidden
    package it is flagged.
    """

    def __init__(self, name):
        object.__setattr__(self, "_stub_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Stub(f"{self._stub_name}.{attr}")

    def __call__(self, *args, **kwargs):
        if _from_student(sys._getframe(1)):
            if policy.is_forbidden(self._stub_name):
                top = policy.top_package(self._stub_name)
                flag(f"used {self._stub_name} (graded answers may not use {top})")
            raise ImportError(f"{self._stub_name} is not available while grading: "
                              "graded answers may use only numpy, scipy and the standard library")
        return Stub(f"{self._stub_name}()")

    def __setattr__(self, attr, value):
        pass

    def __getitem__(self, key):
        return Stub(f"{self._stub_name}[...]")

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<unavailable {self._stub_name}>"


class StubModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Stub(f"{self.__name__}.{attr}")


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec):
        module = StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def asker(frame) -> tuple[str, bool]:
    """The file of the first frame outside the import machinery, and whether a
    student cell is on the stack from there down."""
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(MACHINERY) or name in MACHINERY_FILES):
            return name, _from_student(frame)
        frame = frame.f_back
    return "", False


class ImportGuard(importlib.abc.MetaPathFinder):
    """Refuses forbidden packages (flagging a student's request), stubs plotting and the like."""

    def find_spec(self, fullname, path=None, target=None):
        if policy.is_allowed(fullname):
            return None
        who, student = asker(sys._getframe(1))
        action, flagged = policy.import_decision(fullname, who, student, LIBRARIES)
        if flagged:
            flag(f"imported {fullname} (graded answers may not use "
                 f"{policy.top_package(fullname)})")
        if action == "refuse":
            raise ModuleNotFoundError(
                f"{fullname} is not available while grading: graded answers may use only "
                "numpy, scipy and the standard library", name=fullname)
        if action == "stub":
            return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)
        return None


# -- files -----------------------------------------------------------------
def _audit(event, args):
    if event not in ("open", "os.listdir", "os.scandir", "shutil.rmtree", "os.remove",
                     "os.rename"):
        return
    path = args[0] if args else None
    if isinstance(path, int) or path is None:
        return
    try:
        full = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return
    if event in ("open", "os.listdir", "os.scandir") and full.startswith(READABLE):
        return
    if (full + "/").startswith(WORKDIR + "/"):
        return
    if _from_student(sys._getframe(1)):
        flag(f"tried to {event.replace('os.', '')} {full} outside its own directory")
        raise PermissionError(f"graded answers may not {event.replace('os.', '')} {full}")


# -- replaced functions ----------------------------------------------------
def _snapshot() -> dict:
    snap = {}
    for name in policy.WATCHED:
        module = sys.modules.get(name)
        if module is not None:
            snap[name] = (module, dict(vars(module)))
    return snap


def check_patches(baseline: dict, helpers: dict, ns: dict) -> None:
    """Flag and undo changes to watched modules and provided helpers."""
    for name, (module, attrs) in baseline.items():
        now = vars(module)
        for attr, value in attrs.items():
            if now.get(attr, value) is not value or attr not in now:
                flag(f"replaced {name}.{attr}")
                setattr(module, attr, value)
    for name, value in helpers.items():
        if ns.get(name) is not value:
            flag(f"redefined the provided helper {name}")
            ns[name] = value


def _check_value(label, value) -> None:
    cls = type(value)
    if cls in (bool, int, float, complex, str, bytes, tuple, list, dict, type(None), np.ndarray):
        return
    if isinstance(value, np.generic) and cls.__module__ == "numpy":
        return
    suspicious = [m for m in ("__eq__", "__ne__", "__float__", "__array__", "__bool__",
                              "__lt__", "__le__", "__gt__", "__ge__", "__abs__", "__sub__")
                  if getattr(cls, m, None) is not None
                  and getattr(cls, m, None) is not getattr(object, m, None)
                  and getattr(cls, "__module__", "") == "__main__"]
    if "__eq__" in suspicious or "__ne__" in suspicious or (
            isinstance(value, (int, float, complex, np.ndarray)) and suspicious):
        flag(f"{label} is a {cls.__name__} that redefines {', '.join(suspicious)}")


def _forget_forbidden() -> None:
    """Drop the stand-ins of forbidden packages from ``sys.modules``.

    A provided cell's ``from dlnotes.checks import ...`` leaves a stand-in there;
    a later ``import dlnotes`` from an answer would find it cached and never ask
    the import guard, which is what flags delegation.
    """
    for name in [n for n in sys.modules if policy.is_forbidden(n)]:
        del sys.modules[name]


class Notebook:
    """The notebook namespace and what an ``exec`` request does to it."""

    def __init__(self):
        self.ns = policy.notebook_namespace()
        self.ns["__builtins__"] = builtins
        self.helpers: dict = {}
        self.baseline = _snapshot()

    def run(self, kind: str, label: str, code: str, locked: bool, want=None) -> dict:
        """Run a cell; reply with the names it bound (values only of those in ``want``)."""
        before = dict(self.ns)
        error = None
        try:
            exec(compile(code, policy.cell_filename(kind, label), "exec"), self.ns)
        except BaseException as exc:  # noqa: BLE001 - sys.exit() and friends included
            error = {"type": wire._text(type(exc).__name__, wire.MAX_NAME),
                     "msg": wire._text(exc)}
        self.check()
        _forget_forbidden()
        changed = {k: v for k, v in self.ns.items() if not k.startswith("__")
                   and (k not in before or before[k] is not v)
                   and not isinstance(v, types.ModuleType)}
        if locked:
            self.helpers.update({k: v for k, v in changed.items() if callable(v)})
        if kind == "answer":
            for k, v in changed.items():
                if isinstance(v, (float, np.ndarray)) and type(v) not in (float, np.ndarray):
                    _check_value(k, v)
        bound = sorted(changed)[:1000]
        if want is not None:
            changed = {k: v for k, v in changed.items() if k in want}
        return {"names": changed, "bound": bound, "error": error}

    def check(self) -> None:
        check_patches(self.baseline, self.helpers, self.ns)

    def on_request(self, op, msg, decode):
        global current_label
        if op == "label":
            current_label = str(decode(msg.get("label")))[:100]
            return None
        if op == "exec":
            kind, label = str(decode(msg.get("kind"))), str(decode(msg.get("label")))[:100]
            current_label = label
            code = decode(msg.get("code"))
            if type(code) is not str:
                raise TypeError("exec needs the cell's code as a string")
            want = decode(msg.get("names")) if "names" in msg else None
            if want is not None and (type(want) is not list
                                     or any(type(n) is not str for n in want)):
                raise TypeError("exec's names must be a list of strings")
            return self.run(kind, label, code, decode(msg.get("locked")) is True,
                            None if want is None else set(want))
        return NotImplemented

    def on_served(self, result) -> None:
        self.check()
        _check_value("the returned value", result)


def main(fd: int) -> None:
    global channel
    channel = wire.StudentChannel(socket.socket(fileno=fd))
    notebook = Notebook()
    sys.meta_path.insert(0, ImportGuard())
    sys.addaudithook(_audit)
    channel.on_request = notebook.on_request
    channel.on_served = notebook.on_served
    while True:
        try:
            msg, bufs = channel.recv()
        except wire.ChannelClosed:
            os._exit(0)
        channel.serve_one(msg, bufs)


if __name__ == "__main__":
    main(int(sys.argv[1]))
