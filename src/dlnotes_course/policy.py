"""What a graded answer may use, in one place for the grader and the sandbox.

Shipped into the sandbox beside the channel, so it imports only the standard
library. :mod:`dlnotes_course.sandbox` empties the forbidden packages' folders,
the student process refuses (and flags) their import and watches the modules
in :data:`WATCHED` for replaced functions, and the grader and the student
process run cells in the same notebook namespace (:func:`notebook_namespace`).
"""

from __future__ import annotations

import os
import sys

#: Packages a graded answer may not use: the reference itself, the course
#: tooling, and the libraries that already implement the exercises.
FORBIDDEN_PACKAGES = ("dlnotes", "dlnotes_course", "sklearn", "torch", "functorch", "nbgrader")
#: Besides the standard library, what code in the student process may import.
ALLOWED_PACKAGES = ("numpy", "scipy")
#: The channel's own modules, importable inside the sandbox.
RUNTIME_MODULES = ("policy", "codec", "wire", "student_process")
#: Modules whose functions a submission may not replace (checked after every cell and call).
WATCHED = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
           "operator", "cmath", "statistics")
#: Code objects compiled from student cells have file names starting so.
STUDENT_FILES = ("<answer", "<student")
#: Code objects compiled from provided (setup) cells.
SETUP_FILES = ("<setup",)


def cell_filename(kind: str, label: str) -> str:
    """The file name a cell's code is compiled under, e.g. ``<answer precision>``.

    >>> cell_filename("answer", "precision").startswith(STUDENT_FILES)
    True
    """
    return f"<{kind} {label}>"


def top_package(name: str) -> str:
    """The top-level package of a dotted module name.

    >>> top_package("sklearn.metrics.pairwise")
    'sklearn'
    """
    return name.partition(".")[0]


def is_forbidden(name: str) -> bool:
    """True if module ``name`` belongs to a package graded answers may not use.

    >>> is_forbidden("torch.nn"), is_forbidden("numpy.linalg"), is_forbidden("torchvision")
    (True, False, False)
    """
    return top_package(name) in FORBIDDEN_PACKAGES


def is_allowed(name: str) -> bool:
    """True if module ``name`` is standard library, numpy, scipy or the channel's runtime."""
    top = top_package(name)
    return top in sys.stdlib_module_names or top in ALLOWED_PACKAGES or top in RUNTIME_MODULES


def _dirs(modules) -> tuple[str, ...]:
    out = []
    for module in modules:
        path = getattr(module, "__file__", None)
        if path:
            out.append(os.path.dirname(os.path.abspath(path)) + os.sep)
    return tuple(out)


def import_machinery_files() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(prefixes, exact files)`` of the code that carries out an import for someone else.

    The frozen bootstrap, :mod:`importlib` (``import_module``, ``util.find_spec``)
    and :mod:`pkgutil` (``walk_packages``, ``resolve_name``): the code that
    *asked* for an import is the first frame outside these.
    """
    import importlib
    import pkgutil
    return ("<frozen",) + _dirs([importlib]), (os.path.abspath(pkgutil.__file__),)


def library_dirs() -> tuple[str, ...]:
    """Folders of the libraries whose own optional imports never flag anyone."""
    import importlib.util
    dirs = []
    for name in ALLOWED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(os.path.abspath(p) + os.sep for p in spec.submodule_search_locations)
    return tuple(dirs)


def import_decision(fullname: str, asker: str, student_on_stack: bool,
                    libraries: tuple[str, ...]) -> tuple[str, bool]:
    """What the sandbox does with an import of ``fullname``: ``(action, flag)``.

    ``asker`` is the file of the first frame outside the import machinery (the
    code that asked for the import); ``student_on_stack`` whether any frame
    below it comes from a student cell. ``action`` is ``"normal"`` (resolve it
    as usual), ``"stub"`` (an inert stand-in module: a provided cell's plotting
    or reference imports still run), or ``"refuse"`` (``ImportError``);
    ``flag`` says whether the attempt is reported as delegation.

    >>> import_decision("torch", "<answer precision>", True, ())
    ('refuse', True)
    >>> import_decision("torch", "/usr/lib/numpy/core/x.py", True, ("/usr/lib/numpy/",))
    ('refuse', False)
    >>> import_decision("dlnotes.checks", "<setup imports>", False, ())
    ('stub', False)
    """
    if is_allowed(fullname):
        return "normal", False
    if asker.startswith(SETUP_FILES):
        return "stub", False
    if is_forbidden(fullname):
        if asker.startswith(libraries):
            return "refuse", False   # numpy's or scipy's own optional import
        return "refuse", student_on_stack or asker.startswith(STUDENT_FILES)
    if asker.startswith(STUDENT_FILES):
        return "stub", False          # plotting and the like: inert in a graded answer
    return "normal", False            # a library's own optional import: as usual


class Shell:
    """Enough of ``get_ipython()`` for magics and shell calls in a cell to do nothing."""

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _nothing


def _nothing(*args, **kwargs):
    return None


_SHELL = Shell()


def get_ipython() -> Shell:
    """The notebook's ``get_ipython()`` while grading: a shell whose every method does nothing."""
    return _SHELL


def display(*objs, **kwargs) -> None:
    """The notebook's ``display()`` while grading: shows nothing."""
    return None


def notebook_namespace() -> dict:
    """A fresh namespace for a notebook's cells, with the stand-ins a kernel would provide.

    >>> ns = notebook_namespace()
    >>> ns["__name__"], ns["get_ipython"]().run_line_magic("matplotlib", "inline")
    ('__main__', None)
    """
    return {"__name__": "__main__", "get_ipython": get_ipython, "display": display}
