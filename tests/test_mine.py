"""Tests for dlnotes.mine: the reader's own answers from a chapter, or the reference.

Every test writes real notebooks (nbgrader cell metadata as the release has it)
into temporary folders and points the search at them through the environment.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dlnotes import activations, data, linear, metrics, mine, regularization

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def cell(kind, source, grade_id=None):
    source = textwrap.dedent(source).strip("\n")
    meta = {
        "provided": {},
        "helper": {"nbgrader": {"grade_id": grade_id or "helper", "locked": True,
                                "solution": False, "grade": False}},
        "answer": {"nbgrader": {"grade_id": grade_id or "answer", "solution": True,
                                "grade": False, "locked": False}},
        "test": {"nbgrader": {"grade_id": grade_id or "test_answer", "grade": True,
                              "solution": False, "locked": True, "points": 1}},
        "demo": {"tags": ["demo"]},
    }[kind]
    return {"cell_type": "code", "metadata": meta, "source": source.splitlines(keepends=True),
            "outputs": [], "execution_count": None}


def write_notebook(path, cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    markdown = {"cell_type": "markdown", "metadata": {}, "source": "# A chapter"}
    path.write_text(json.dumps({"cells": [markdown, *cells], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty workspace, checkout and home folders, used in that order by the search."""
    dirs = {k: tmp_path / k for k in ("workspace_env", "checkout", "home")}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setenv("DLNOTES_WORKSPACE", str(dirs["workspace_env"]))
    monkeypatch.setenv("DLNOTES_ROOT", str(dirs["checkout"]))
    monkeypatch.setenv("HOME", str(dirs["home"]))
    return dirs


def in_workspace(places, chapter, cells):
    return write_notebook(places["workspace_env"] / f"{chapter}.ipynb", cells)


PROVIDED = cell("provided", "import numpy as np")

ANSWERED_PRECISION = cell("answer", '''
    def precision(y_true, y_pred):
        """The reader's own, recognisable by its attribute."""
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        return float(np.sum(y_true * y_pred) / max(np.sum(y_pred), 1))
    precision.by_reader = True
    ''', "precision")

STUB_RECALL = cell("answer", f'''
    def recall(y_true, y_pred):
        """Recall."""
        {textwrap.indent(STUB, "        ").strip()}
    ''', "recall")


def test_answered_name_is_the_readers_and_nothing_is_printed(places, capsys):
    in_workspace(places, "01_metrics", [PROVIDED, ANSWERED_PRECISION])
    own = mine.load("01_metrics", ["precision"])
    assert getattr(own.precision, "by_reader", False)
    assert own.precision([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
    assert capsys.readouterr().out == ""


def test_stub_falls_back_with_one_line(places, capsys):
    in_workspace(places, "01_metrics", [PROVIDED, ANSWERED_PRECISION, STUB_RECALL])
    own = mine.load("01_metrics", ["precision", "recall"])
    assert own.recall is metrics.recall
    assert getattr(own.precision, "by_reader", False)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["01_metrics: your recall is not answered yet (still raises "
                     "NotImplementedError); using dlnotes.metrics.recall instead"]


def test_the_real_release_stub_is_detected(places, capsys):
    # the release's stub keeps the docstring and replaces the body with nbgrader's two lines
    stub = cell("answer", '''
        def fit_line(x, y):
            """Least-squares slope and intercept (w, b) of y ~ w x + b."""
            # YOUR CODE HERE
            raise NotImplementedError()
        ''', "fit_line")
    in_workspace(places, "00_foundations", [PROVIDED, stub])
    assert mine.load("00_foundations", "fit_line").fit_line is linear.fit_line
    assert "fit_line is not answered yet" in capsys.readouterr().out


def test_stub_is_detected_per_definition(places, capsys):
    both = cell("answer", f'''
        def sigmoid(x):
            return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))

        def sigmoid_grad(x):
            {STUB.splitlines()[1]}
        ''', "sigmoid")
    in_workspace(places, "02_activations", [PROVIDED, both])
    own = mine.load("02_activations", ["sigmoid", "sigmoid_grad"])
    assert own.sigmoid is not activations.sigmoid
    assert own.sigmoid_grad is activations.sigmoid_grad
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "sigmoid_grad" in out[0]


def test_class_with_a_stub_method_falls_back(places, capsys):
    value = cell("answer", f'''
        class Value:
            def __init__(self, data):
                self.data = data

            def backward(self):
                {STUB.splitlines()[1]}
        ''', "Value")
    in_workspace(places, "04_backprop", [value])
    from dlnotes import backprop

    assert mine.load("04_backprop", ["Value"]).Value is backprop.Value
    assert "Value is not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("source, reason", [
    ("def precision(y_true, y_pred):\n    return 1.0\nraise ValueError('bad shape (7, 3)')",
     "its cell raised ValueError: bad shape (7, 3)"),
    ("import not_a_module_anywhere\ndef precision(y_true, y_pred):\n    return 1.0",
     "its cell raised ModuleNotFoundError"),
    ("def precision(y_true, y_pred)\n    return 1.0", "its cell raised SyntaxError"),
])
def test_a_raising_cell_falls_back(places, capsys, source, reason):
    in_workspace(places, "01_metrics", [PROVIDED, cell("answer", source, "precision")])
    assert mine.load("01_metrics", ["precision"]).precision is metrics.precision
    out = capsys.readouterr().out
    assert reason in out and "using dlnotes.metrics.precision instead" in out
    assert len(out.splitlines()) == 1


def test_other_names_survive_a_raising_cell(places, capsys):
    broken = cell("answer", "def recall(y_true, y_pred):\n    return 0.0\n1 / 0", "recall")
    in_workspace(places, "01_metrics", [PROVIDED, ANSWERED_PRECISION, broken])
    own = mine.load("01_metrics", ["precision", "recall"])
    assert getattr(own.precision, "by_reader", False) and own.recall is metrics.recall
    assert "your recall is unusable: its cell raised ZeroDivisionError" in capsys.readouterr().out


def test_a_later_cell_that_defines_the_name_again_wins(places, capsys):
    fixed = cell("provided", "def recall(y_true, y_pred):\n    return 0.25")
    in_workspace(places, "01_metrics", [PROVIDED, STUB_RECALL, fixed])
    assert mine.load("01_metrics", ["recall"]).recall([1], [1]) == 0.25
    assert capsys.readouterr().out == ""


def test_missing_name_falls_back(places, capsys):
    in_workspace(places, "01_metrics", [PROVIDED, ANSWERED_PRECISION])
    assert mine.load("01_metrics", ["f1_average"]).f1_average is metrics.f1_average
    out = capsys.readouterr().out
    assert "your f1_average is not defined in" in out
    assert "using dlnotes.metrics.f1_average instead" in out


def test_no_copy_anywhere_falls_back_for_every_name(places, capsys):
    own = mine.load("01_metrics", ["precision", "recall"])
    assert (own.precision, own.recall) == (metrics.precision, metrics.recall)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("no copy of 01_metrics in" in line for line in lines)
    assert str(places["home"] / "01_metrics" / "01_metrics.ipynb") in lines[0]


def test_test_and_demo_cells_do_not_run(places, capsys):
    cells = [
        PROVIDED,
        cell("demo", "import matplotlib_is_not_needed\nprecision = None\nraise SystemExit(1)"),
        ANSWERED_PRECISION,
        cell("test", "precision = None\nassert False, 'a test cell ran'", "test_precision"),
        cell("test", "raise KeyboardInterrupt", "test_precision_hidden"),
        cell("demo", "precision = 'demo'"),
    ]
    in_workspace(places, "01_metrics", cells)
    own = mine.load("01_metrics", ["precision"])
    assert getattr(own.precision, "by_reader", False)
    assert capsys.readouterr().out == ""


def test_provided_helpers_run_and_output_is_not_shown(places, capsys):
    cells = [
        cell("provided", "import numpy as np\nprint('hello from the chapter')\n%matplotlib inline"),
        cell("helper", "def tp_fp(t, p):\n    return np.sum(t * p), np.sum((1 - t) * p)",
             "helper_tp_fp"),
        cell("answer", '''
            def precision(y_true, y_pred):
                tp, fp = tp_fp(np.asarray(y_true), np.asarray(y_pred))
                print("debugging", tp, fp)
                return float(tp / (tp + fp))
            ''', "precision"),
    ]
    in_workspace(places, "01_metrics", cells)
    own = mine.load("01_metrics", ["precision"])
    assert capsys.readouterr().out == ""
    assert own.precision([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)


def test_each_load_gets_a_fresh_namespace(places, capsys):
    counter = cell("provided", "calls = []\ndef kfold_indices(n, k, shuffle=False, seed=None):\n"
                               "    calls.append(n)\n    return len(calls)")
    in_workspace(places, "00_foundations", [counter])
    first = mine.load("00_foundations", ["kfold_indices"]).kfold_indices
    second = mine.load("00_foundations", ["kfold_indices"]).kfold_indices
    assert first(3, 2) == 1 and first(3, 2) == 2 and second(3, 2) == 1
    assert "calls" not in globals()


def test_forward_and_backward_of_a_group_fall_back_together(places, capsys):
    forward = cell("answer", '''
        def layer_norm_forward(x, gamma, beta, eps=1e-05):
            return "readers-out", "readers-cache"
        ''', "layer_norm_forward")
    backward = cell("answer", f'''
        def layer_norm_backward(dout, cache):
            {STUB.splitlines()[1]}
        ''', "layer_norm_backward")
    in_workspace(places, "06_regularization", [forward, backward])
    own = mine.load("06_regularization", ["layer_norm_forward", "layer_norm_backward"])
    assert own.layer_norm_forward is regularization.layer_norm_forward
    assert own.layer_norm_backward is regularization.layer_norm_backward
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "layer_norm_forward goes with layer_norm_backward" in out[0]
    # asked alone, the answered forward is the reader's
    assert mine.load("06_regularization", ["layer_norm_forward"]).layer_norm_forward(
        1, 1, 1) == ("readers-out", "readers-cache")


def test_kfold_indices_reference_returns_a_list_like_the_chapter(places, capsys):
    got = mine.load("00_foundations", ["kfold_indices"]).kfold_indices(7, 3)
    assert isinstance(got, list)
    for (tr, va), (tr_ref, va_ref) in zip(got, data.kfold_indices(7, 3), strict=True):
        np.testing.assert_array_equal(tr, tr_ref)
        np.testing.assert_array_equal(va, va_ref)


# --------------------------------------------------------------------------
# where the reader's copy is found
# --------------------------------------------------------------------------

def marker_notebook(path, value):
    cells = [cell("answer", f"def precision(y_true, y_pred):\n    return {value}", "precision")]
    return write_notebook(path, cells)


def test_search_order(places, capsys):
    ws, root, home = places["workspace_env"], places["checkout"], places["home"]
    marker_notebook(home / "01_metrics" / "01_metrics.ipynb", 3.0)
    assert mine.load("01_metrics", ["precision"]).precision(0, 0) == 3.0  # the hub's folder
    marker_notebook(root / "workspace" / "01_metrics.ipynb", 2.0)
    assert mine.load("01_metrics", ["precision"]).precision(0, 0) == 2.0  # make lab's copy
    marker_notebook(ws / "01_metrics" / "01_metrics.ipynb", 1.5)
    assert mine.load("01_metrics", ["precision"]).precision(0, 0) == 1.5
    marker_notebook(ws / "01_metrics.ipynb", 1.0)
    assert mine.load("01_metrics", ["precision"]).precision(0, 0) == 1.0  # $DLNOTES_WORKSPACE
    assert mine.candidates("01_metrics") == [
        ws / "01_metrics.ipynb", ws / "01_metrics" / "01_metrics.ipynb",
        root / "workspace" / "01_metrics.ipynb", home / "01_metrics" / "01_metrics.ipynb"]
    assert mine.find("01_metrics") == ws / "01_metrics.ipynb"
    assert capsys.readouterr().out == ""


def test_new_release_next_to_the_copy_is_ignored(places, capsys, monkeypatch):
    monkeypatch.delenv("DLNOTES_WORKSPACE")
    lab = places["checkout"] / "workspace"
    marker_notebook(lab / "01_metrics.new-release.ipynb", 9.0)
    assert mine.find("01_metrics") is None
    marker_notebook(lab / "01_metrics.ipynb", 2.0)
    assert mine.find("01_metrics") == lab / "01_metrics.ipynb"
    assert len(mine.candidates("01_metrics")) == 2


def test_without_dlnotes_root_the_checkout_of_the_package_is_used(monkeypatch):
    monkeypatch.delenv("DLNOTES_ROOT", raising=False)
    monkeypatch.delenv("DLNOTES_WORKSPACE", raising=False)
    from pathlib import Path

    checkout = Path(mine.__file__).resolve().parents[2]
    assert mine.candidates("02_activations")[0] == checkout / "workspace" / "02_activations.ipynb"


# --------------------------------------------------------------------------
# the table and bad input
# --------------------------------------------------------------------------

def test_every_reference_in_the_table_exists():
    for chapter, table in mine.REFERENCES.items():
        for name in table:
            assert callable(mine._reference(chapter, name)), (chapter, name)
    for group in mine.GROUPS:
        assert any(group <= set(table) for table in mine.REFERENCES.values())


@pytest.mark.parametrize("chapter, names, match", [
    ("1_metrics", ["precision"], "chapter must look like"),
    (None, ["precision"], "chapter must look like"),
    ("42_quantum", ["precision"], "is not one of"),
    ("01_metrics", ["softmax"], "names: 'softmax' has no dlnotes reference in 01_metrics"),
    ("01_metrics", [], "at least one"),
    ("01_metrics", 3, "names must be a list"),
])
def test_bad_input(places, chapter, names, match):
    with pytest.raises(ValueError, match=match):
        mine.load(chapter, names)


def test_dlnotes_does_not_import_the_course_package():
    code = ("import sys, dlnotes.mine, dlnotes.checks; "
            "print(any(m.startswith('dlnotes_course') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


# --------------------------------------------------------------------------
# own: this chapter's answers, from the running notebook's namespace
# --------------------------------------------------------------------------

def test_own_keeps_answers_and_replaces_stubs_with_one_line_each(capsys):
    from dlnotes import metrics

    def precision(y_true, y_pred):
        raise NotImplementedError()

    def recall(y_true, y_pred):
        return 0.25

    got = mine.own({"precision": precision, "recall": recall}, "01_metrics",
                   ["precision", "recall", "f1_score"])
    out = capsys.readouterr().out.splitlines()
    assert got.recall is recall
    assert got.precision is metrics.precision
    assert got.f1_score is metrics.f1_score
    assert out == [
        "01_metrics: your precision is not answered yet (still raises NotImplementedError); "
        "using dlnotes.metrics.precision instead",
        "01_metrics: your f1_score is not defined yet (run its cell first); "
        "using dlnotes.metrics.f1_score instead",
    ]


def test_own_sees_a_stub_method_of_a_class_and_nested_functions(capsys):
    from dlnotes import optim

    class SGD:
        def __init__(self, params, lr):
            self.params = params

        def step(self, grads):
            raise NotImplementedError()

    def Adam(params, lr=1e-3):  # a factory whose inner function is the stub
        def step(grads):
            raise NotImplementedError
        return step

    got = mine.own({"SGD": SGD, "Adam": Adam}, "05_optimizers", ["SGD", "Adam"])
    assert got.SGD is optim.SGD and got.Adam is optim.Adam
    assert capsys.readouterr().out.count("not answered yet") == 2


def test_own_falls_back_together_for_a_group(capsys):
    from dlnotes import regularization

    def layer_norm_forward(x, gamma, beta, eps=1e-5):
        return x, None

    def layer_norm_backward(dout, cache):
        raise NotImplementedError()

    got = mine.own({"layer_norm_forward": layer_norm_forward,
                    "layer_norm_backward": layer_norm_backward},
                   "06_regularization", ["layer_norm_forward", "layer_norm_backward"])
    assert got.layer_norm_forward is regularization.layer_norm_forward
    assert "goes with layer_norm_backward" in capsys.readouterr().out


def test_own_rejects_bad_arguments():
    with pytest.raises(ValueError, match="namespace must be a dict"):
        mine.own([], "01_metrics", ["precision"])
    with pytest.raises(ValueError, match="no dlnotes reference"):
        mine.own({}, "01_metrics", ["nope"])
