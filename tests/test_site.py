"""``make html``: the static reading copy, read in a real browser.

The test builds the site for two chapters (the executed notebooks are cached
in ``build/site-cache/``, shared with ``make html``), opens the index in
Chromium, follows the link to each chapter and checks that its math was
typeset by MathJax (no raw ``$$`` left), its plots are there, and that no line
of a solution appears.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest

from browser import chromium, require_browser, shot
from dlnotes_course.layout import chapter_ids, chapters_dir
from dlnotes_course.release import _secret_lines
from dlnotes_course.site import WIDGET_NOTE, build, reading_copy
from dlnotes_course.source import load_chapter

pytestmark = pytest.mark.slow
# The site test builds only these (the index links exactly these pages).
SITE_CHAPTERS = [c for c in ("01_metrics", "02_activations") if c in chapter_ids()]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build(SITE_CHAPTERS, out, log=lambda *_: None)
    return out


def leaked_lines(chapter: str, text: str) -> list[str]:
    """Lines of the chapter's solution blocks found, as whole lines, in ``text``.

    (Line by line, as ``release.find_leaks`` compares: a solution's
    ``y = np.asarray(y)`` is no leak inside a helper's ``y = np.asarray(y).astype(bool)``.)
    """
    lines = {line.strip() for line in text.splitlines()}
    return [line for line, kind in _secret_lines(load_chapter(chapter)).items()
            if kind == "solution" and line in lines]


@pytest.mark.parametrize("chapter", SITE_CHAPTERS)
def test_reading_copy_keeps_demo_outputs_and_no_solutions(chapter):
    from dlnotes_course.site import executed_instructor

    release = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
    nb = reading_copy(release, executed_instructor(chapter))
    text = nbformat.writes(nb)
    assert leaked_lines(chapter, "\n".join(c.source for c in nb.cells)) == []
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN" not in text
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if nbg.get("solution") or nbg.get("grade"):
            assert cell.get("outputs", []) == []
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images
    assert WIDGET_NOTE in text  # each chapter has a widget, shown as a snapshot


def test_index_links_every_chapter_with_math_and_no_solutions(site):
    require_browser()
    with chromium() as context:
        page = context.new_page()
        page.goto((site / "index.html").as_uri())
        links = page.locator("ol.chapters a")
        assert links.count() == len(SITE_CHAPTERS)
        shot(page, "site-index")
        for i, chapter in enumerate(SITE_CHAPTERS):
            page.goto((site / "index.html").as_uri())
            page.locator("ol.chapters a").nth(i).click()
            page.wait_for_url(re.compile(rf"{chapter}\.html$"))
            # MathJax 2 typesets into .MathJax / .MathJax_Display elements
            page.wait_for_selector(".MathJax_Display", state="attached", timeout=60_000)
            page.wait_for_function(
                "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                "&& !MathJax.Hub.queue.running", timeout=60_000)
            text = page.locator("main").inner_text()
            assert "$$" not in text, "raw display math left on the page"
            assert page.locator(".MathJax").count() > 10
            assert page.locator(".jp-OutputArea-output img").count() >= 1
            assert leaked_lines(chapter, text) == []
            assert page.locator("h1").first.inner_text().startswith("Chapter")
            shot(page, f"site-{chapter}")


def test_a_run_that_never_finishes_is_started_again(tmp_path):
    """A kernel whose client never hears back is shut down and the notebook run again."""
    from nbformat.v4 import new_code_cell, new_notebook

    from dlnotes_course.site import run_notebook

    marker = tmp_path / "first-attempt"
    nb = new_notebook(cells=[new_code_cell(
        "import pathlib, time\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n"
        "    m.write_text('x')\n"
        "    time.sleep(60)\n"
        "print('done')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    start = time.monotonic()
    out = run_notebook(nb, tmp_path, budget=8)
    assert marker.exists() and "done" in out.cells[0].outputs[0]["text"]
    assert time.monotonic() - start < 40
    assert nb.cells[0].outputs == []          # the original is left as it was

    with pytest.raises(TimeoutError, match="did not finish"):
        run_notebook(new_notebook(cells=[new_code_cell("import time\ntime.sleep(60)")],
                                  metadata=nb.metadata), tmp_path, budget=3)
