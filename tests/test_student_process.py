"""The sandboxed student process: cells, delegation, write-back and its cgroup, for real."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dlnotes.checks import inplace, is_inplace
from dlnotes_course.sandbox import Cgroup, StudentProcess, bwrap_problem, sweep_stale


@pytest.fixture(scope="module")
def proc():
    p = StudentProcess(memory_mb=1024, writable=is_inplace)
    yield p
    p.close()


def run(p: StudentProcess, code: str, kind: str = "answer", label: str = "cell",
        locked: bool = False) -> dict:
    p.channel.deadline = time.monotonic() + 60
    return p.channel.request("exec", kind=kind, label=label, code=code, locked=locked)


def test_sandbox_is_available_here(proc):
    assert bwrap_problem() == "" and proc.warning == ""


@pytest.mark.parametrize(("code", "error"), [
    ("import sys\nsys.exit(0)\n", "SystemExit"),
    ("raise SystemExit('bye')\n", "SystemExit"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("1 / 0\n", "ZeroDivisionError"),
])
def test_exits_and_errors_end_only_their_cell(proc, code, error):
    reply = run(proc, "before_exit = [1]\n" + code)
    assert reply["error"]["type"] == error
    assert reply["names"] == {"before_exit": [1]}
    after = run(proc, "alive = [before_exit[0] + 1]\n")
    assert (after["names"], after["error"]) == ({"alive": [2]}, None)


DELEGATION = {
    "import statement": "import torch\n",
    "from import": "from sklearn.metrics import precision_score\n",
    "importlib": "import importlib\nimportlib.import_module('dlnotes')\n",
    "__import__": "__import__('dlnotes_course.grade')\n",
    "importlib.util.find_spec": "import importlib.util\nimportlib.util.find_spec('torch')\n",
    "pkgutil.resolve_name": "import pkgutil\npkgutil.resolve_name('dlnotes.checks:check_close')\n",
    "pkgutil.get_loader": "import pkgutil, warnings\nwarnings.simplefilter('ignore')\n"
                          "pkgutil.get_loader('sklearn')\n",
    "deep in a function": "def helper(depth):\n"
                          "    if depth:\n        return helper(depth - 1)\n"
                          "    import importlib\n    return importlib.import_module('functorch')\n"
                          "def answer():\n    return helper(30)\n"
                          "answer()\n",
}


@pytest.mark.parametrize("route", sorted(DELEGATION))
def test_forbidden_imports_are_refused_and_flagged_however_reached(route):
    p = StudentProcess(memory_mb=512)
    try:
        reply = run(p, DELEGATION[route], label="precision")
        assert reply["error"] is not None
        assert reply["error"]["type"] in ("ModuleNotFoundError", "ImportError")
        flags = p.channel.take_flags()
        assert len(flags) == 1 and flags[0].startswith("precision: imported ")
        assert "graded answers may not use" in flags[0]
        package = flags[0].split("may not use ")[1].rstrip(")")
        assert package in DELEGATION[route] or (route == "__import__"
                                                and package == "dlnotes_course")
    finally:
        p.close()


def test_a_forbidden_package_is_not_an_empty_namespace_package(proc):
    reply = run(proc, "import importlib\n"
                      "try:\n    importlib.import_module('dlnotes')\n    found = True\n"
                      "except ImportError:\n    found = False\n")
    assert reply["names"]["found"] is False
    proc.channel.take_flags()


def test_a_forbidden_call_made_later_is_flagged(proc):
    reply = run(proc, "def precision(t, p):\n"
                      "    import importlib\n    return importlib.import_module('torch')\n",
                label="precision")
    proc.channel.take_flags()
    proc.channel.request("label", label="test_precision")
    with pytest.raises(ImportError):
        reply["names"]["precision"](1, 2)
    assert any("imported torch" in f for f in proc.channel.take_flags())


def test_numpy_internal_and_lazy_imports_never_flag(proc):
    # numpy's lazily imported submodules, and an import statement numpy's own code makes
    reply = run(proc, "import numpy as np\n"
                      "np.fft.fft(np.ones(4)); np.polynomial.Polynomial([1, 2])\n"
                      "import numpy.f2py, numpy.lib.recfunctions\n"
                      "def optional():\n"
                      "    code = compile('try:\\n    import torch\\nexcept ImportError:\\n'\n"
                      "                   '    pass\\n', np.__file__, 'exec')\n"
                      "    exec(code, {})\n"
                      "    return 'no torch'\n"
                      "result = optional()\n")
    assert reply["error"] is None and reply["names"]["result"] == "no torch"
    assert proc.channel.take_flags() == []


def test_provided_cells_import_the_reference_as_inert_stand_ins(proc):
    reply = run(proc, "from dlnotes.checks import check_close\nimport matplotlib.pyplot as plt\n"
                      "plt.plot([1, 2])\n", kind="setup", label="imports", locked=True)
    assert reply["error"] is None
    assert proc.channel.take_flags() == []
    reply = run(proc, "def precision(t, p):\n    return check_close(t, p, 'x')\n",
                label="precision")
    with pytest.raises(ImportError):
        reply["names"]["precision"](1, 1)
    assert any("used dlnotes.checks.check_close" in f for f in proc.channel.take_flags())


def test_inputs_cannot_be_rewritten_under_the_reference(proc):
    reply = run(proc, "def precision(t, p):\n    t[:] = 0\n    p[:] = 0\n    return 0.0\n"
                      "def step(p, g):\n    p -= g\n")
    t, p = np.array([1, 0, 1]), np.array([1, 1, 0])
    assert reply["names"]["precision"](t, p) == 0.0
    np.testing.assert_array_equal(t, [1, 0, 1])
    np.testing.assert_array_equal(p, [1, 1, 0])
    w = inplace(np.ones(3))
    reply["names"]["step"](w, np.ones(3))
    np.testing.assert_array_equal(w, 0.0)


def test_printed_output_is_counted_not_kept(proc):
    before = proc.output_bytes
    run(proc, "import sys\nsys.stdout.write('x' * 100000)\nsys.stdout.flush()\n")
    for _ in range(100):
        if proc.output_bytes - before >= 100000:
            break
        time.sleep(0.05)
    assert proc.output_bytes - before == 100000


def _cgroup_dirs(p: StudentProcess) -> list[Path]:
    assert p.cgroup is not None, "cgroups must be available here"
    return list(p.cgroup.dirs)


def test_close_removes_the_cgroup_even_after_a_crash():
    p = StudentProcess(memory_mb=256)
    dirs = _cgroup_dirs(p)
    assert all(d.is_dir() for d in dirs)
    p.channel.deadline = time.monotonic() + 60
    with pytest.raises(BaseException) as info:
        run(p, "import os\nos._exit(3)\n")
    assert type(info.value).__name__ == "ChannelClosed"
    p.close()
    assert not any(d.exists() for d in dirs)


def test_cgroup_limits_any_process_and_counts_its_oom_kills():
    cgroup, problem = Cgroup.create(64, name_prefix="dlnotes-test-grader-")
    assert cgroup is not None, problem
    hog = ("import sys\nsys.stdin.readline()\n"
           "x = bytearray(300 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])\n")
    child = subprocess.Popen([sys.executable, "-c", hog], stdin=subprocess.PIPE)
    try:
        cgroup.add(child.pid)
        assert child.pid in cgroup.pids()
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert child.wait(timeout=60) != 0
        assert cgroup.oom_kills() >= 1
    finally:
        child.kill()
        cgroup.remove()
    assert not any(d.exists() for d in cgroup.dirs)


def test_sweep_removes_only_empty_stale_cgroups():
    prefix = f"dlnotes-test-sweep-{time.monotonic_ns()}-"
    empty, _ = Cgroup.create(64, name_prefix=prefix)
    busy, _ = Cgroup.create(64, name_prefix=prefix)
    assert empty is not None and busy is not None
    sleeper = subprocess.Popen([sys.executable, "-c", "import time\ntime.sleep(60)"])
    try:
        busy.add(sleeper.pid)
        assert sweep_stale(min_age=3600, prefix=prefix) == []
        removed = sweep_stale(min_age=0, prefix=prefix)
        assert sorted(removed) == sorted(str(d) for d in empty.dirs)
        assert all(d.is_dir() for d in busy.dirs)
    finally:
        sleeper.kill()
        sleeper.wait()
        busy.remove()
        empty.remove()
    with pytest.raises(ValueError, match="dlnotes-"):
        Cgroup.create(64, name_prefix="other-")


def test_a_grader_in_its_own_cgroup_makes_student_cgroups_beside_it():
    grader, problem = Cgroup.create(512, name_prefix="dlnotes-test-grader-")
    assert grader is not None, problem
    code = ("import sys\nsys.stdin.readline()\n"
            "from dlnotes_course.sandbox import Cgroup\n"
            "student, _ = Cgroup.create(64)\n"
            "print(*student.dirs)\nstudent.remove()\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        grader.add(child.pid)
        out, _ = child.communicate("go\n", timeout=120)
    finally:
        child.kill()
        grader.remove()
    student_dirs = [Path(d) for d in out.split()]
    assert len(student_dirs) == len(grader.dirs)
    for s, g in zip(student_dirs, grader.dirs, strict=True):
        assert s.parent == g.parent and s.name.startswith("dlnotes-") and s != g
