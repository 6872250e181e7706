"""The reader's JupyterLab, proven in a real browser (issue 11).

One JupyterLab (set up as ``make lab`` sets it up) and one headless Chromium
serve the whole module. The metrics chapter gets the full flow:

1. the student notebook, run cell by cell as a reader does: prose, plots and
   widgets render, and the only errors are the unanswered exercises';
2. the instructor version, run all: no error output, every plot an image, and
   moving the threshold slider changes the confusion matrix shown;
3. a correct answer typed into an exercise cell passes its visible test;
4. nbgrader's Validate button, served by dlnotes-check, shows the teaching
   summary ("0 of 8 exercises pass", each exercise's message) on the blank
   notebook, counts the exercise answered in step 3, and passes the instructor
   notebook.

Every other chapter gets a smoke run of its instructor version, and every
chapter is checked to open on a title, what it covers and how to check answers.
Screenshots go to ``build/screenshots/``; ``make screenshots`` also refreshes the
one per chapter committed under ``docs/screenshots/``.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from browser import chromium, jupyterlab, require_browser, shot
from dlnotes_course.layout import chapter_ids, chapters_dir, source_path
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import solution_source

CHAPTERS = chapter_ids()
FULL = "01_metrics"
pytestmark = pytest.mark.slow

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS = f"{PANEL} .jp-Notebook .jp-Cell"
# Outputs of the current notebook, as JupyterLab renders them.
_OUTPUT_TEXTS = f"""(mime) => [...document.querySelectorAll(
    '{PANEL} .jp-OutputArea-output[data-mime-type="' + mime + '"]')].map(e => e.innerText)"""
_ALL_EXECUTED = f"""() => {{
    const ps = [...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt')];
    return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.textContent));
}}"""
# An unanswered exercise: a stub raising NotImplementedError, or a value still to be
# set ("set precision_at_half ... to numbers"), as test_chapters.py accepts too.
_UNANSWERED = re.compile(r"NotImplementedError|not answered yet|^AssertionError: set ", re.M)
_ERROR_LINE = re.compile(r"Traceback|^\w*(Error|Exception)\b", re.M)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    root = tmp_path_factory.mktemp("lab-root")
    for chapter in CHAPTERS:
        release = chapters_dir() / f"{chapter}.ipynb"
        if release.exists():
            shutil.copyfile(release, root / f"{chapter}.ipynb")
        nbformat.write(load_chapter(chapter), root / f"{chapter}.instructor.ipynb")
    with jupyterlab(root) as server:
        yield server


@pytest.fixture(scope="module")
def context(lab):
    with chromium() as ctx:
        yield ctx


@pytest.fixture
def page(context, lab):
    page = context.new_page()
    yield page
    page.close()
    lab.shutdown_kernels()


def open_notebook(page, lab, name: str):
    page.goto(lab.url(name) + "&reset")
    page.wait_for_selector(f"{CELLS}")
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=90_000)
    if page.locator("#jp-left-stack").is_visible():
        page.keyboard.press("Control+b")  # hide the file browser: a wider notebook
    page.locator(f"{PANEL} .jp-Notebook").wait_for()


def run_all(page, timeout_s: int = 240):
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    page.wait_for_function(_ALL_EXECUTED, timeout=timeout_s * 1000)
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=60_000)


def run_cell_by_cell(page, timeout_s: int = 120):
    """Shift+Enter through every cell, as a reader does; errors do not stop it.

    (JupyterLab's "Run All Cells" stops at the first error, so on a blank
    release it would stop at the first unanswered exercise's test.)
    """
    cells = page.locator(CELLS)
    n = cells.count()
    cells.nth(0).locator(".jp-InputPrompt, .jp-Cell-inputCollapser").first.click()
    page.keyboard.press("Escape")
    for i in range(n):
        cell = cells.nth(i)
        code = "jp-CodeCell" in (cell.get_attribute("class") or "")
        # JupyterLab does not run an empty cell (a hidden-test cell of the release)
        code = code and cell.locator(".cm-content").inner_text().strip() != ""
        page.keyboard.press("Shift+Enter")
        if code:
            try:
                cell.locator(".jp-InputPrompt").filter(
                    has_text=re.compile(r"\[\d+\]")).wait_for(timeout=timeout_s * 1000)
            except Exception:
                shot(page, f"cell-by-cell-stuck-at-{i}")
                raise


def outputs(page, mime: str) -> list[str]:
    return page.evaluate(_OUTPUT_TEXTS, mime)


def error_outputs(page) -> list[str]:
    return [t for t in outputs(page, "application/vnd.jupyter.stderr") if _ERROR_LINE.search(t)]


def has_widgets(chapter: str) -> bool:
    return "ipywidgets" in source_path(chapter).read_text(encoding="utf-8")


def check_renders(page, widgets: bool = True):
    """Prose (headings, typeset math), plots as images, and live widgets."""
    assert page.locator(f"{PANEL} .jp-MarkdownOutput h1").count() >= 1
    page.wait_for_selector(f"{PANEL} .jp-MarkdownOutput mjx-container", state="attached")
    assert page.locator(f"{PANEL} .jp-OutputArea-output img").count() >= 1, "no plot"
    figure_texts = [t for t in outputs(page, "text/plain") if "<Figure size" in t]
    assert figure_texts == [], "a plot rendered as text, not as an image"
    if widgets:
        page.wait_for_selector(f"{PANEL} .jp-OutputArea-output .jupyter-widgets",
                               timeout=30_000)
    text = page.locator(PANEL).inner_text()
    assert "Error displaying widget" not in text
    assert "interactive(children" not in text, "a widget rendered as text"


def check_intro(page):
    """The first cell, before anything runs: a title, what it covers, how to check answers."""
    first = page.locator(f"{CELLS} .jp-MarkdownOutput").first
    assert first.locator("h1").count() == 1, "the chapter opens without a title"
    text = first.inner_text()
    assert re.search(r"covers", text, re.I), "the intro does not say what the chapter covers"
    assert re.search(r"check (your )?answers|Validate", text, re.I), \
        "the intro does not say how to check answers"


def validate(page) -> str:
    """Press nbgrader's Validate; return the text of its result dialog."""
    page.locator(f"{PANEL} .jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=240_000)
    return dialog.inner_text()


def close_dialog(page):
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def cell_index(chapter: str, grade_id: str) -> int:
    nb = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def scroll_to(page, selector: str):
    page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)


# --------------------------------------------------------------------------- reader setup

def test_reader_lab_has_student_nbgrader_parts_only(page, lab):
    open_notebook(page, lab, f"{FULL}.ipynb")
    assert page.locator(f"{PANEL} .jp-Toolbar").get_by_text("Validate", exact=True).count() == 1
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    assert any("Assignment List" in i for i in items), items
    assert not any("Formgrader" in i or "Course List" in i for i in items), items
    assert lab.status("/formgrader") == 404  # the instructor's server extension is off
    # widget callbacks run on the kernel's main shell, never beside a running cell
    kernels = lab.api("/lab/api/settings/@jupyterlab/apputils-extension:kernels-settings")
    assert kernels["schema"]["properties"]["commsOverSubshells"]["default"] == "disabled"
    assert page.get_by_text("Create Assignment").count() == 0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_on_title_coverage_and_how_to_check(page, lab, chapter):
    if not (lab.root / f"{chapter}.ipynb").exists():
        # test_chapters.py's sync test fails for it; nothing to open here yet
        pytest.skip(f"chapters/{chapter}.ipynb is not released yet (make release)")
    open_notebook(page, lab, f"{chapter}.ipynb")
    shot(page, f"{chapter}-0-opened")
    check_intro(page)


# --------------------------------------------------------------------------- full flow

def test_metrics_student_flow(page, lab):
    """Steps 4 (blank), 1 and 3 on the student notebook."""
    open_notebook(page, lab, f"{FULL}.ipynb")

    # 4. Validate on the blank release: the teaching summary, one line per exercise.
    n = len([c for c in load_chapter(FULL).cells
             if c.metadata.get("nbgrader", {}).get("solution")])
    report = validate(page)
    shot(page, f"{FULL}-4-validate-blank")
    assert f"Check my work: 0 of {n} exercises pass" in report, report[:500]
    assert "The following cell failed" not in report   # the summary is not a cell
    assert "Success!" not in report
    assert report.count("not answered yet") == report.count("FAIL") >= n - 1
    assert "FAIL  confusion_matrix: not answered yet" in report
    close_dialog(page)

    # 1. Run it as a reader does: everything renders; only unanswered exercises fail.
    run_cell_by_cell(page)
    check_renders(page)
    errors = error_outputs(page)
    assert errors, "the blank release should show the unanswered exercises failing"
    unexpected = [e for e in errors if not _UNANSWERED.search(e)]
    assert unexpected == [], unexpected[0][:800] if unexpected else ""
    scroll_to(page, f"{PANEL} .jupyter-widgets.widget-slider")
    shot(page, f"{FULL}-1-student-run")

    # 3. Type a correct answer into an exercise cell; its visible test passes.
    answer_at = cell_index(FULL, "confusion_matrix")
    test_at = cell_index(FULL, "test_confusion_matrix")
    assert test_at == answer_at + 1
    source = next(c for c in load_chapter(FULL).cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "confusion_matrix").source
    cells = page.locator(CELLS)
    assert cells.nth(test_at).locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 1
    editor = cells.nth(answer_at).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(solution_source(source))
    page.keyboard.press("Shift+Enter")   # run the answer, move to its test
    prompt = cells.nth(test_at).locator(".jp-InputPrompt")
    before = prompt.inner_text()
    page.keyboard.press("Shift+Enter")   # run the visible test
    page.wait_for_function(
        "([el, before]) => el.textContent !== before && /\\[\\d+\\]/.test(el.textContent)",
        arg=[prompt.element_handle(), before])
    page.wait_for_selector("#jp-main-statusbar >> text=Idle")
    test_out = cells.nth(test_at).locator(".jp-OutputArea-output")
    assert test_out.count() == 0, test_out.all_inner_texts()
    cells.nth(answer_at).evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, f"{FULL}-3-answer-passes")

    # 4. Validate (it saves the notebook first) now counts that exercise.
    report = validate(page)
    shot(page, f"{FULL}-4-validate-one-answered")
    assert f"Check my work: 1 of {n} exercises pass" in report, report[:500]
    assert "pass  confusion_matrix" in report
    close_dialog(page)


def test_metrics_instructor_flow(page, lab):
    """Steps 2 and 4 (instructor) on the instructor version."""
    open_notebook(page, lab, f"{FULL}.instructor.ipynb")
    run_all(page)
    assert error_outputs(page) == []
    check_renders(page)

    # The threshold slider: the confusion matrix and curves change with it.
    interact = page.locator(f"{PANEL} .widget-interact").filter(has_text="threshold")
    interact.first.evaluate("e => e.scrollIntoView({block: 'start'})")
    plot = interact.locator(".widget-output img").first
    plot.wait_for()
    before = plot.get_attribute("src")
    shot(page, f"{FULL}-2-instructor-slider-before", doc_name=FULL)
    handle = interact.locator(".noUi-handle").first
    handle.focus()
    for _ in range(20):
        handle.press("ArrowRight")
    readout = interact.locator(".widget-readout").first
    page.wait_for_function("el => el.textContent.trim() === '0.70'", arg=readout.element_handle())
    for _ in range(2):  # the slider queues an update per step: let the last one land
        page.wait_for_selector("#jp-main-statusbar >> text=Idle")
        page.wait_for_timeout(700)
    page.wait_for_function(
        "([el, before]) => { const img = el.querySelector('.widget-output img');"
        " return img && img.getAttribute('src') !== before; }",
        arg=[interact.first.element_handle(), before], timeout=30_000)
    assert interact.locator(".widget-output img").first.get_attribute("src") != before
    shot(page, f"{FULL}-2-instructor-slider-after")

    # 4. Validate passes the instructor notebook (its visible tests; demos are skipped).
    report = validate(page)
    shot(page, f"{FULL}-4-validate-instructor")
    assert "Success! Your notebook passes all the tests." in report, report[:800]
    close_dialog(page)


# --------------------------------------------------------------------------- smoke runs

@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c != FULL])
def test_chapter_smoke(page, lab, chapter):
    """The instructor version runs clean in the browser and its widgets render."""
    open_notebook(page, lab, f"{chapter}.instructor.ipynb")
    run_all(page)
    errors = error_outputs(page)
    assert errors == [], errors[0][:800] if errors else ""
    widgets = has_widgets(chapter)
    check_renders(page, widgets)
    interact = f"{PANEL} .jp-OutputArea-output .widget-interact"
    scroll_to(page, interact if page.locator(interact).count()
              else f"{PANEL} .jp-OutputArea-output .jupyter-widgets" if widgets
              else f"{PANEL} .jp-OutputArea-output img")
    page.wait_for_selector("#jp-main-statusbar >> text=Idle")
    shot(page, f"{chapter}-smoke", doc_name=chapter)


def test_second_make_lab_points_at_the_running_one(lab):
    """``make lab`` while a JupyterLab already serves the folder: no port error."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "dlnotes_course.lab", "--workspace",
                           str(lab.root), "--port", str(lab.port)],
                          env=lab.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "already running" in done.stdout
    assert f"127.0.0.1:{lab.port}/lab?token={lab.token}" in done.stdout
    assert "jupyter server stop" in done.stdout
