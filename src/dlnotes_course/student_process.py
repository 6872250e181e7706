"""The student process: runs a submission's cells inside the sandbox.

Started by :mod:`dlnotes_course.sandbox` as ``python -I student_process.py FD``
with this file and :mod:`wire` bind-mounted read-only. It imports only the
standard library and numpy, then serves the grader over the socket ``FD``:

- ``exec``: run one cell (provided code or the student's answer) in the
  notebook namespace and reply with the names it bound;
- calls, attribute access and item access on what those names hold.

It also notices, and reports to the grader as *flags*, attempts to game the
checks: importing dlnotes, scikit-learn or torch in an answer; replacing
functions of numpy, ``math``, ``builtins`` or the chapter's provided helpers;
opening files outside the private working directory; returning objects that
redefine ``==``. The grader does its comparisons in its own process, so a
flag never *wins* points; it tells the instructor what was tried.
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
import wire  # noqa: E402

FORBIDDEN = {"dlnotes", "dlnotes_course", "sklearn", "torch", "nbgrader"}
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "scipy", "wire", "student_process"}
WATCHED = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
           "operator", "cmath", "statistics")
STUDENT_FILES = ("<answer", "<student")
WORKDIR = os.getcwd()
# Locations a graded answer may open: its own directory (also its TMPDIR), this
# runtime, and the Python and numpy installation (numpy reads its own files lazily).
READABLE = tuple({WORKDIR, os.path.dirname(os.path.abspath(__file__)),
                  sys.prefix, sys.base_prefix, sys.exec_prefix,
                  os.path.dirname(np.__file__), "/dev/null", "/dev/urandom", "/proc/self",
                  "/sys/devices/system/cpu", "/usr/share/zoneinfo", "/etc/localtime"})

channel: wire.Channel | None = None
current_label = "setup"


def _from_student(skip: int = 2) -> bool:
    frame = sys._getframe(skip)
    while frame is not None:
        if frame.f_code.co_filename.startswith(STUDENT_FILES):
            return True
        frame = frame.f_back
    return False


def flag(text: str) -> None:
    if channel is not None and len(channel.flags) < 50:
        channel.flags.append(f"{current_label}: {text}")


# -- stand-ins for packages a graded answer may not use ----------------------
class Stub:
    """What a name from a non-allowed package is in the sandbox: inert.

    Provided (setup) cells that import plotting or dlnotes helpers still run;
    using one of them from a graded answer fails, and for dlnotes, scikit-learn
    or torch it is flagged.
    """

    def __init__(self, name):
        object.__setattr__(self, "_stub_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Stub(f"{self._stub_name}.{attr}")

    def __call__(self, *args, **kwargs):
        if _from_student():
            top = self._stub_name.split(".")[0]
            if top in FORBIDDEN:
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


class ImportGuard(importlib.abc.MetaPathFinder):
    """Lets numpy, scipy and the standard library through; stubs the rest."""

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top in ALLOWED:
            return None
        importer = _importer()
        if importer.startswith(STUDENT_FILES):
            if top in FORBIDDEN:
                flag(f"imported {fullname} (graded answers may not use {top})")
                raise ImportError(f"{fullname} is not available while grading: graded answers "
                                  "may use only numpy, scipy and the standard library")
        elif not importer.startswith("<setup"):
            return None   # a library's own optional import: let it fail or succeed normally
        return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)


def _importer() -> str:
    """The file of the code that runs the ``import`` statement being resolved."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                 or frame.f_code.co_filename == __file__):
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else ""


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
    if _from_student(2):
        flag(f"tried to {event.replace('os.', '')} {full} outside its own directory")
        raise PermissionError(f"graded answers may not {event.replace('os.', '')} {full}")


# -- replaced functions ----------------------------------------------------
def _snapshot() -> dict:
    snap = {}
    for name in WATCHED:
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


class _Shell:
    """Enough of ``get_ipython()`` for magics in a cell to do nothing."""

    def __getattr__(self, attr):
        return lambda *a, **k: None


def main(fd: int) -> None:
    global channel, current_label
    sock = socket.socket(fileno=fd)
    channel = wire.Channel(sock, "s", trusted=False)
    ns = {"__name__": "__main__", "__builtins__": builtins,
          "get_ipython": lambda: _Shell(), "display": lambda *a, **k: None}
    helpers: dict = {}
    sys.meta_path.insert(0, ImportGuard())
    baseline = _snapshot()
    sys.addaudithook(_audit)

    def on_request(op, msg, bufs):
        global current_label
        if op == "label":
            current_label = str(msg.get("label"))[:100]
            return None
        if op == "exec":
            kind, label = str(msg.get("kind")), str(msg.get("label"))[:100]
            current_label = label
            code = channel.decode(msg.get("code"), bufs)
            before = dict(ns)
            error = None
            try:
                exec(compile(code, f"<{kind} {label}>", "exec"), ns)
            except BaseException as exc:  # noqa: BLE001 - sys.exit() and friends included
                error = {"type": type(exc).__name__, "msg": str(exc)[:wire.MAX_MESSAGE]}
            check_patches(baseline, helpers, ns)
            changed = {k: v for k, v in ns.items() if not k.startswith("__")
                       and (k not in before or before[k] is not v)
                       and not isinstance(v, types.ModuleType)}
            if msg.get("locked"):
                helpers.update({k: v for k, v in changed.items() if callable(v)})
            names = {}
            for k, v in changed.items():
                if kind == "answer" and isinstance(v, (float, np.ndarray)) and type(v) not in \
                        (float, np.ndarray):
                    _check_value(k, v)
                names[k] = v
            return {"names": names, "error": error}
        return NotImplemented

    def on_served(result):
        check_patches(baseline, helpers, ns)
        _check_value("the returned value", result)

    channel.on_request = on_request
    channel.on_served = on_served
    while True:
        try:
            msg, bufs = channel.recv()
        except wire.ChannelClosed:
            os._exit(0)
        channel.serve_one(msg, bufs)


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


if __name__ == "__main__":
    main(int(sys.argv[1]))
