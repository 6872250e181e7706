r"""The reader's own answers from another chapter, for the training demos.

A demo that trains a model uses the functions the reader wrote: the ones of its
own chapter directly, and those of an earlier chapter through :func:`load`::

    from dlnotes import mine
    own = mine.load("00_foundations", ["logistic_regression_grad"])
    own.logistic_regression_grad(w, b, X, y)

:func:`load` finds the reader's working copy of that chapter, runs its
provided cells and answer cells in a fresh namespace and returns the requested
names from it. Where the reader's version is missing, still the release's stub
or broken, it returns the ``dlnotes`` reference instead and prints one line
saying so, so a demo always runs.

This is for demos only. Grading sees one notebook: graded cells never call
:func:`load`, and an exercise that needs an earlier one takes it as a
parameter.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import io
import json
import os
import re
import types
from pathlib import Path

__all__ = ["REFERENCES", "GROUPS", "candidates", "find", "load", "own"]

_CHAPTER = re.compile(r"^\d\d_[a-z0-9_]+$")

#: For each chapter, the names :func:`load` can return and the ``dlnotes``
#: function (``"module.name"``) that stands in when the reader's is unusable.
#: Only names whose reference has the chapter's signature and return value.
REFERENCES: dict[str, dict[str, str]] = {
    "00_foundations": {
        **{n: f"data.{n}" for n in ("kfold_indices", "standardize")},
        **{n: f"linear.{n}" for n in (
            "fit_line", "normal_equation", "logistic_regression_loss",
            "logistic_regression_grad", "softmax_regression_loss", "softmax_regression_grad",
            "train_logistic_regression", "ridge_fit", "kfold_select")},
    },
    "01_metrics": {n: f"metrics.{n}" for n in (
        "confusion_matrix", "accuracy", "precision", "recall", "f1_score", "roc_curve",
        "roc_auc_score", "average_precision_score", "precision_recall_curve",
        "confusion_matrix_multiclass", "f1_average")},
    "02_activations": {n: f"activations.{n}" for n in (
        "sigmoid", "sigmoid_grad", "prelu_backward", "gelu", "gelu_tanh_grad", "softmax",
        "log_softmax", "softmax_backward")},
    "03_losses": {n: f"losses.{n}" for n in (
        "mse", "mse_grad", "huber", "binary_cross_entropy_with_logits", "cross_entropy",
        "cross_entropy_grad", "kl_divergence", "focal_loss", "focal_loss_grad")},
    "04_backprop": {n: f"backprop.{n}" for n in (
        "numerical_gradient", "relative_error", "Value", "train_moons")},
    "05_optimizers": {n: f"optim.{n}" for n in (
        "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "warmup_cosine_lr")},
    "06_regularization": {n: f"regularization.{n}" for n in (
        "l1_proximal_step", "dropout", "batch_norm_forward", "batch_norm_backward",
        "layer_norm_forward", "layer_norm_backward", "kaiming_normal", "clip_grad_norm",
        "EarlyStopping")},
    "07_cnn": {
        **{n: f"cnn.{n}" for n in ("stack_geometry", "im2col", "col2im")},
        "conv2d_forward": "cnn.conv2d_forward_cols", "conv2d_backward": "cnn.conv2d_backward_cols",
        "max_pool2d_forward": "cnn.max_pool2d", "max_pool2d_backward": "cnn.max_pool2d_grad"},
    "08_rnn": {n: f"rnn.{n}" for n in (
        "rnn_step", "gru_step", "lstm_step_forward", "lstm_step_backward", "sample_next")},
    "09_transformer": {n: f"attention.{n}" for n in (
        "scaled_dot_product_attention", "causal_mask", "split_heads", "merge_heads",
        "sinusoidal_positional_encoding", "sdpa_backward", "multi_head_attention")},
    "10_gpt": {n: f"gpt.{n}" for n in (
        "embedding_backward", "gpt_block_forward", "gpt_block_backward", "generate")},
}

#: Names that only work together (a forward pass and the backward pass that
#: reads its cache): if one of a group falls back, the requested others do too.
GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"layer_norm_forward", "layer_norm_backward"}),
    frozenset({"gpt_block_forward", "gpt_block_backward"}),
)


#: References that yield where the chapter's answer returns a list.
_AS_LIST = frozenset({"data.kfold_indices"})


def _reference(chapter: str, name: str):
    """The ``dlnotes`` function standing in for ``name`` (wrapped to return a list if needed)."""
    target = REFERENCES[chapter][name]
    module, attr = target.split(".")
    fn = getattr(importlib.import_module(f"dlnotes.{module}"), attr)
    if target not in _AS_LIST:
        return fn

    @functools.wraps(fn)
    def as_list(*args, **kwargs):
        return list(fn(*args, **kwargs))

    return as_list


# --------------------------------------------------------------------------
# finding the reader's copy
# --------------------------------------------------------------------------

def _checkout_root() -> Path:
    """``$DLNOTES_ROOT`` if set, else the checkout this file lives in (``src/dlnotes/..``)."""
    env = os.environ.get("DLNOTES_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def candidates(chapter: str) -> list[Path]:
    """Where :func:`load` looks for ``chapter``'s notebook, in order.

    1. ``$DLNOTES_WORKSPACE/<chapter>.ipynb``, then
       ``$DLNOTES_WORKSPACE/<chapter>/<chapter>.ipynb`` (if the variable is set);
    2. the ``make lab`` working copy, ``<root>/workspace/<chapter>.ipynb``, where
       ``<root>`` is ``$DLNOTES_ROOT`` or the checkout ``dlnotes`` is imported from;
    3. the assignment a course hub's *Assignments* tab fetched into the home
       folder, ``~/<chapter>/<chapter>.ipynb``.

    ``<chapter>.new-release.ipynb`` (a newer release ``make lab`` put next to the
    reader's copy) is never used.
    """
    _check_chapter(chapter)
    paths = []
    workspace = os.environ.get("DLNOTES_WORKSPACE")
    if workspace:
        paths += [Path(workspace) / f"{chapter}.ipynb",
                  Path(workspace) / chapter / f"{chapter}.ipynb"]
    paths.append(_checkout_root() / "workspace" / f"{chapter}.ipynb")
    paths.append(Path.home() / chapter / f"{chapter}.ipynb")
    return paths


def find(chapter: str) -> Path | None:
    """The first of :func:`candidates` that is a file, or None."""
    return next((p for p in candidates(chapter) if p.is_file()), None)


# --------------------------------------------------------------------------
# running the provided and answer cells
# --------------------------------------------------------------------------

def _check_chapter(chapter) -> str:
    if not isinstance(chapter, str) or not _CHAPTER.match(chapter):
        raise ValueError(f"chapter must look like '01_metrics', got {chapter!r}")
    if chapter not in REFERENCES:
        raise ValueError(f"chapter {chapter!r} is not one of {sorted(REFERENCES)}")
    return chapter


def _check_names(chapter: str, names) -> list[str]:
    if isinstance(names, str):
        names = [names]
    try:
        names = list(names)
    except TypeError:
        raise ValueError(f"names must be a list of names, got {names!r}") from None
    known = REFERENCES[chapter]
    for name in names:
        if not isinstance(name, str) or name not in known:
            raise ValueError(f"names: {name!r} has no dlnotes reference in {chapter} "
                             f"(known: {', '.join(sorted(known))})")
    if not names:
        raise ValueError("names must name at least one function")
    return names


def _runnable_cells(notebook: dict) -> list[tuple[str, bool]]:
    """``(source, is_answer)`` of the code cells to run: provided and answer cells.

    Skipped: test cells (nbgrader ``grade`` without ``solution``) and demo cells
    (tag ``demo``). Lines that are IPython magics or shell escapes are dropped.
    """
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        grading = meta.get("nbgrader", {})
        if "demo" in meta.get("tags", []):
            continue
        is_answer = bool(grading.get("solution"))
        if grading.get("grade") and not is_answer:
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        source = "\n".join(line for line in source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        cells.append((source, is_answer))
    return cells


def _raises_not_implemented(node: ast.AST) -> bool:
    """True if ``node`` contains ``raise NotImplementedError`` (the release's stub)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Raise) and sub.exc is not None:
            exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _bound_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level names a cell binds, each with the statement that binds it."""
    bound = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[stmt.name] = stmt
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        bound[sub.id] = stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                bound[(alias.asname or alias.name).split(".")[0]] = stmt
    return bound


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 100 else text[:97] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _exec_cell(source: str, namespace: dict, filename: str):
    """Run one cell; return (names it binds, the exception it raised or None)."""
    sink = io.StringIO()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return None, exc
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            exec(compile(tree, filename, "exec"), namespace)
    except Exception as exc:  # a reader's cell that fails: its names fall back
        return _bound_names(tree), exc
    return _bound_names(tree), None


def _run(path: Path, names: list[str]) -> tuple[dict, dict[str, str]]:
    """Run the notebook's cells; return the namespace and why each unusable name is so."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": f"dlnotes_mine_{path.stem}"}
    problems: dict[str, str] = {}
    for source, is_answer in _runnable_cells(notebook):
        bound, error = _exec_cell(source, namespace, str(path))
        for name in names:
            # a cell that cannot even be parsed may have been meant to define anything
            if error is not None and (bound is None or name in bound):
                problems[name] = f"is unusable: its cell raised {_one_line(error)}"
            elif bound is not None and name in bound:
                problems.pop(name, None)  # defined again, by a cell that ran
                if is_answer and _raises_not_implemented(bound[name]):
                    problems[name] = "is not answered yet (still raises NotImplementedError)"
    for name in names:
        if name not in namespace and name not in problems:
            problems[name] = f"is not defined in {path}"
    return namespace, problems


def load(chapter: str, names) -> types.SimpleNamespace:
    r"""The reader's own ``names`` from ``chapter``, the ``dlnotes`` reference where unusable.

    The reader's copy of the chapter is the first notebook found by
    :func:`candidates` (``$DLNOTES_WORKSPACE``, then the ``make lab``
    workspace, then the hub's fetched assignment folder). Its provided cells
    and answer cells run, in order, in a fresh namespace; test cells and demo
    cells do not run, and what the cells print is not shown.

    A requested name falls back to its reference (:data:`REFERENCES`) when

    * no copy of the chapter is found;
    * the copy does not define it;
    * it is still a stub: the answer cell's definition of the name contains
      ``raise NotImplementedError``, which is what the release puts in every
      answer (a reader's own ``raise NotImplementedError`` in a branch counts
      as unanswered too);
    * the cell that defines it raised (or has a syntax error) -- a later cell
      that defines the name again cures this;
    * another name of its :data:`GROUPS` falls back (a forward and the
      backward that reads its cache come from the same source).

    Each fallback prints one line naming the function and the reference that
    stands in for it.

    Parameters
    ----------
    chapter : str
        Chapter id, e.g. ``"06_regularization"``.
    names : str or list of str
        Names to return; each must be in ``REFERENCES[chapter]``.

    Returns
    -------
    types.SimpleNamespace
        One attribute per requested name.

    Raises
    ------
    ValueError
        If ``chapter`` is unknown or a name has no reference in it.

    Examples
    --------
    A working copy whose ``precision`` is still the release's stub:

    >>> import json, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> stub = "def precision(y_true, y_pred):\n    raise NotImplementedError()"
    >>> answer = {"cell_type": "code", "source": stub,
    ...           "metadata": {"nbgrader": {"grade_id": "precision", "solution": True}}}
    >>> with open(os.path.join(folder, "01_metrics.ipynb"), "w") as f:
    ...     json.dump({"cells": [answer]}, f)
    >>> os.environ["DLNOTES_WORKSPACE"] = folder
    >>> own = load("01_metrics", ["precision"])  # doctest: +ELLIPSIS
    01_metrics: your precision is not answered yet (...); using dlnotes.metrics.precision instead
    >>> own.precision([1, 0, 1], [1, 1, 1])
    0.6666666666666666
    >>> del os.environ["DLNOTES_WORKSPACE"]
    """
    _check_chapter(chapter)
    names = _check_names(chapter, names)
    path = find(chapter)
    if path is None:
        where = ", ".join(str(p) for p in candidates(chapter))
        namespace, problems = {}, dict.fromkeys(
            names, f"is not available (no copy of {chapter} in {where})")
    else:
        namespace, problems = _run(path, names)
    return _resolve(chapter, names, namespace, problems)


def _resolve(chapter: str, names: list[str], namespace: dict,
             problems: dict[str, str]) -> types.SimpleNamespace:
    """The usable names from ``namespace``, the reference (with one printed line) for the rest."""
    for group in GROUPS:
        failed = [n for n in names if n in group and n in problems]
        for name in names:
            if name in group and name not in problems and failed:
                problems[name] = f"goes with {failed[0]}, which is not usable"
    result = {}
    for name in names:
        if name in problems:
            print(f"{chapter}: your {name} {problems[name]}; "
                  f"using dlnotes.{REFERENCES[chapter][name]} instead")
            result[name] = _reference(chapter, name)
        else:
            result[name] = namespace[name]
    return types.SimpleNamespace(**result)


def _code_raises_not_implemented(code: types.CodeType) -> bool:
    if "NotImplementedError" in code.co_names:
        return True
    return any(isinstance(c, types.CodeType) and _code_raises_not_implemented(c)
               for c in code.co_consts)


def _is_stub(obj) -> bool:
    """True if ``obj`` (a function, or a class through its methods) names NotImplementedError."""
    if isinstance(obj, type):
        return any(_is_stub(member) for member in vars(obj).values())
    code = getattr(obj, "__code__", None)
    return code is not None and _code_raises_not_implemented(code)


def own(namespace: dict, chapter: str, names) -> types.SimpleNamespace:
    r"""The reader's ``names`` from the running notebook, the reference where still a stub.

    For a training demo that uses answers of **its own** chapter: pass the
    notebook's ``globals()``. A name that is not defined, or whose definition
    (a function, or any method of a class) still raises
    ``NotImplementedError`` as the release's stub does, is replaced by its
    ``dlnotes`` reference with one printed line, as :func:`load` does for an
    earlier chapter; :data:`GROUPS` fall back together.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace, ``globals()``.
    chapter : str
        This chapter's id, e.g. ``"07_cnn"``.
    names : str or list of str
        Names to return; each must be in ``REFERENCES[chapter]``.

    Returns
    -------
    types.SimpleNamespace
        One attribute per requested name.

    Examples
    --------
    >>> def precision(y_true, y_pred):
    ...     raise NotImplementedError()
    >>> def recall(y_true, y_pred):
    ...     return 0.5
    >>> mine = own({"precision": precision, "recall": recall}, "01_metrics",
    ...            ["precision", "recall"])  # doctest: +ELLIPSIS
    01_metrics: your precision is not answered yet (...); using dlnotes.metrics.precision instead
    >>> mine.recall([1], [1])
    0.5
    """
    _check_chapter(chapter)
    names = _check_names(chapter, names)
    if not isinstance(namespace, dict):
        raise ValueError("namespace must be a dict such as globals(), "
                         f"got {type(namespace).__name__}")
    problems = {}
    for name in names:
        if name not in namespace:
            problems[name] = "is not defined yet (run its cell first)"
        elif _is_stub(namespace[name]):
            problems[name] = "is not answered yet (still raises NotImplementedError)"
    return _resolve(chapter, names, namespace, problems)
