"""One place per rule: what a graded answer may use, and the notebook's stand-ins."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from dlnotes import checks
from dlnotes_course import policy, sandbox

NUMPY = policy.library_dirs()[0]


@pytest.mark.parametrize(("name", "asker", "student", "expected"), [
    ("torch", "<answer precision>", True, ("refuse", True)),
    ("torch.nn.functional", "<student test_x-student-0>", True, ("refuse", True)),
    ("dlnotes", "/usr/lib/python3.11/runpy.py", True, ("refuse", True)),   # runpy for a student
    ("sklearn", NUMPY + "core/_methods.py", True, ("refuse", False)),     # numpy's own import
    ("nbgrader", "/srv/wire.py", False, ("refuse", False)),               # no student code asked
    ("dlnotes.checks", "<setup imports>", False, ("stub", False)),
    ("matplotlib.pyplot", "<setup imports>", False, ("stub", False)),
    ("matplotlib.pyplot", "<answer plot>", True, ("stub", False)),
    ("cupy", NUMPY + "core/x.py", True, ("normal", False)),
    ("numpy.fft", "<answer precision>", True, ("normal", False)),
    ("json", "<answer precision>", True, ("normal", False)),
    ("wire", "<answer precision>", True, ("normal", False)),
])
def test_import_decision(name, asker, student, expected):
    assert policy.import_decision(name, asker, student, policy.library_dirs()) == expected


def test_one_list_of_forbidden_packages():
    # the union of the three lists the grader had (checks, sandbox, student process)
    assert set(policy.FORBIDDEN_PACKAGES) >= {"dlnotes", "dlnotes_course", "sklearn", "torch",
                                              "functorch", "nbgrader"}
    assert sandbox.FORBIDDEN_PACKAGES is policy.FORBIDDEN_PACKAGES
    assert not hasattr(checks, "FORBIDDEN_PACKAGES")      # no second list left behind
    from dlnotes_course import check
    assert check.FORBIDDEN is policy.FORBIDDEN_PACKAGES
    assert not any(policy.is_forbidden(name) for name in ("numpy", "scipy", "torchvision_x",
                                                          "dlnotesx"))
    assert policy.is_forbidden("sklearn.metrics") and policy.is_forbidden("dlnotes_course.wire")


def test_cell_file_names_tell_student_code_from_provided_code():
    assert policy.cell_filename("answer", "precision").startswith(policy.STUDENT_FILES)
    assert policy.cell_filename("student", "x-student-0").startswith(policy.STUDENT_FILES)
    assert policy.cell_filename("setup", "imports").startswith(policy.SETUP_FILES)
    assert not policy.cell_filename("setup", "imports").startswith(policy.STUDENT_FILES)


def test_notebook_namespace_and_stand_ins():
    ns = policy.notebook_namespace()
    assert ns is not policy.notebook_namespace() and ns["__name__"] == "__main__"
    exec("get_ipython().run_line_magic('matplotlib', 'inline')\n"
         "out = get_ipython().system('rm -rf /')\n"
         "shown = display(1, 2, raw=True)\n", ns)
    assert ns["out"] is None and ns["shown"] is None
    with pytest.raises(AttributeError):
        ns["get_ipython"]().__array__  # noqa: B018 - dunders are not stand-ins


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", sandbox.RUNTIME_FILES)
def test_runtime_shipped_into_the_sandbox_needs_only_stdlib_and_numpy(name):
    allowed = set(sys.stdlib_module_names) | {"numpy"} | set(policy.RUNTIME_MODULES)
    assert _imports(sandbox.HERE / name) <= allowed


def test_dlnotes_does_not_import_dlnotes_course():
    code = ("import sys, pkgutil, importlib, dlnotes\n"
            "for m in pkgutil.walk_packages(dlnotes.__path__, 'dlnotes.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('dlnotes_course')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]"


def test_policy_is_importable_without_the_package(tmp_path):
    # in the sandbox policy.py, codec.py and wire.py are plain modules in one folder
    for name in sandbox.RUNTIME_FILES:
        (tmp_path / name).write_bytes((sandbox.HERE / name).read_bytes())
    code = ("import sys\nsys.path.insert(0, '.')\nimport policy, codec, wire\n"
            "print(wire.codec is codec, policy.is_forbidden('torch'))")
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.split() == ["True", "True"]
