"""``make html``: a static reading copy of the book in ``site/``.

Each chapter page is the **student release** (``chapters/<chapter>.ipynb``:
stubs instead of solutions, no hidden tests) with the **outputs of the
instructor notebook's run** attached to the cells that are not exercises:
prose, demo plots and the first state of each widget. Why this way:

- the release is already proven leak-free (``release.find_leaks``), so no
  solution code can reach the site: cell sources come only from the release;
- the demos run as the instructor notebook runs them (``make test`` proves it
  runs clean), so a demo that uses an earlier answer still has its output;
- answer and test cells show no output at all (neither the stubs' failures
  nor anything computed by a solution).

Widgets need a kernel, so the site shows a snapshot instead: the outputs
(plots) the widget showed in its first state, with a note to use ``make lab``
to move it. Math is typeset by MathJax 2, copied into ``site/mathjax/`` from
the ``jupyter-server-mathjax`` package, and no page loads anything from the
network, so the site works offline (open ``site/index.html``).

Executing a chapter costs seconds, so the executed notebooks are cached in
``build/site-cache/``, keyed by the chapter's source and the ``dlnotes``
library it imports.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import time
from pathlib import Path

import nbformat

from .layout import chapter_ids, chapters_dir, repo_root, source_path
from .source import cell_kind, load_chapter

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
WIDGET_NOTE = ("*Interactive widget: on this static page, its first state. "
               "Run the chapter in JupyterLab (`make lab`) to move it.*")

_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']],
            displayMath: [['$$', '$$'], ['\\[', '\\]']],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], webFont: "STIX-Web", imageFont: null,
               preferredFont: null, linebreaks: {automatic: true}},
  displayAlign: "center", messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
<nav class="dlnotes-nav"><a href="index.html">&larr; dlnotes: all chapters</a></nav>
{%- endblock body_header -%}
{% block extra_css %}
<style>.dlnotes-nav { padding: .5rem 1rem; font-family: system-ui, sans-serif; }</style>
{% endblock extra_css %}
"""

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }
li { margin: .8rem 0; } a { font-weight: 600; } .covers { color: #444; }
"""


def site_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "site"


def cache_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "build" / "site-cache"


def _cache_key(chapter: str, root: Path | None = None) -> str:
    digest = hashlib.sha256(source_path(chapter, root).read_bytes())
    library = (root or repo_root()) / "src" / "dlnotes"
    for path in sorted(library.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(b"CI" if os.environ.get("CI") else b"full")  # demos' training budget
    return digest.hexdigest()[:16]


def ipc_kernels(folder: Path):
    """Kernel configuration: Unix sockets in ``folder`` instead of TCP ports.

    Kernels started at the same moment by several processes can pick the same
    free TCP port and talk to each other's clients (a hang); a socket file in a
    folder of one's own cannot clash. Over TCP each kernel also warns that its
    traffic is not encrypted. The path is absolute because the kernel and its
    client run in different folders.
    """
    from traitlets.config import Config
    return Config({"KernelManager": {"transport": "ipc",
                                     "ip": str(Path(folder).resolve() / "kernel")}})


def run_notebook(nb, run_dir: Path, cell_timeout: int = 600, budget: float = 300.0,
                 attempts: int = 2):
    """Execute ``nb`` in a fresh kernel in ``run_dir``; the executed copy.

    Now and then a kernel finishes a cell (one with a widget, so far) and the
    client never hears of it: it waits with the kernel idle, past any cell
    timeout (nbclient issue #312 describes the same block). So a run gets
    ``budget`` seconds in all; past that its kernel is shut down and the
    notebook runs again from the start, ``attempts`` times at most.
    """
    import asyncio

    from nbclient import NotebookClient

    async def attempt(client) -> bool:
        run = asyncio.ensure_future(client.async_execute())
        done, _ = await asyncio.wait({run}, timeout=budget)
        if run in done:
            run.result()          # a real error of the run is raised, not retried
            return True
        run.cancel()
        try:
            await run
        except BaseException:  # noqa: BLE001 - nbclient reports the cancel as a dead kernel
            pass
        km = client.km
        if km is not None and km.has_kernel:
            try:
                await km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - already gone with its client
                pass
        return False

    for _ in range(attempts):
        copy = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
        client = NotebookClient(copy, timeout=cell_timeout, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": str(run_dir)}},
                                config=ipc_kernels(run_dir))
        if asyncio.run(attempt(client)):
            return copy
    raise TimeoutError(f"the notebook did not finish in {budget:g} s, {attempts} times")


def executed_instructor(chapter: str, root: Path | None = None, cache: Path | None = None,
                        timeout: int = 600):
    """The instructor notebook executed top to bottom, demos included (cached by content).

    The chapter tests pass a fresh ``cache`` folder, so that each test session
    runs the notebooks again.
    """
    cache = Path(cache or cache_dir(root))
    path = cache / f"{chapter}-{_cache_key(chapter, root)}.ipynb"
    if path.exists():
        return nbformat.read(path, as_version=4)
    run_dir = cache / "run" / chapter
    run_dir.mkdir(parents=True, exist_ok=True)
    nb = run_notebook(load_chapter(chapter, root), run_dir, timeout)
    for stale in cache.glob(f"{chapter}-*.ipynb"):
        stale.unlink()
    cache.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return nb


def _widget_snapshot(model_id: str, state: dict, seen=None) -> list:
    """The outputs shown by a widget and its children (its Output widgets' plots)."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id].get("state", {})
    outputs = list(model.get("outputs", [])) if \
        state[model_id].get("model_name") == "OutputModel" else []
    for child in model.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            outputs += _widget_snapshot(child.removeprefix("IPY_MODEL_"), state, seen)
    return outputs


def _static_outputs(outputs: list, widget_state: dict) -> list:
    """Cell outputs fit for a static page: widget views become their snapshot."""
    static = []
    for out in outputs:
        data = out.get("data", {})
        if WIDGET_VIEW in data:
            snapshot = _widget_snapshot(data[WIDGET_VIEW].get("model_id", ""), widget_state)
            static.append(nbformat.v4.new_output(
                "display_data", data={"text/markdown": WIDGET_NOTE}))
            static += [nbformat.from_dict(o) for o in snapshot
                       if o.get("output_type") != "error"]
        elif out.get("output_type") == "error":
            continue  # never on a reading page (the instructor run has none)
        else:
            static.append(out)
    return static


def reading_copy(release_nb, executed_nb):
    """The release with the executed demo outputs; exercise cells get none."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(release_nb), as_version=4))
    widget_state = executed_nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get(
        "state", {})
    ran = {c.id: c for c in executed_nb.cells if c.cell_type == "code"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source_cell = ran.get(cell.id)
        cell.outputs = []
        cell.execution_count = None
        if cell_kind(cell) in ("answer", "test") or source_cell is None:
            continue
        cell.outputs = _static_outputs(source_cell.get("outputs", []), widget_state)
        cell.execution_count = source_cell.get("execution_count")
    nb.metadata.pop("widgets", None)
    return nb


def _exporter():
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"dlnotes_site.html.j2": _TEMPLATE})],
        template_file="dlnotes_site.html.j2",
        mathjax_url=f"mathjax/MathJax.js?config={MATHJAX_CONFIG}",
    )


def chapter_title(nb) -> tuple[str, str]:
    """``(title, what it covers)`` from the chapter's first markdown cell."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = first.splitlines()
    title = next((ln.lstrip("#").strip() for ln in lines if ln.startswith("# ")), "")
    paragraph = []
    for ln in lines:
        if ln.startswith("#"):
            continue
        if not ln.strip():
            if paragraph:
                break
            continue
        paragraph.append(ln.strip())
    return title, " ".join(paragraph)


def copy_mathjax(out: Path) -> None:
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = out / "mathjax"
    if (target / "MathJax.js").exists():
        return
    shutil.copytree(static, target, ignore=shutil.ignore_patterns("localization"))


def _index(entries: list[tuple[str, str, str]]) -> str:
    esc = html.escape
    items = "".join(
        f"<li><a href='{esc(page)}'>{esc(title)}</a><div class='covers'>{esc(covers)}</div></li>"
        for page, title, covers in entries)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>dlnotes: deep-learning fundamentals</title><style>{_INDEX_STYLE}</style>"
            "</head><body><h1>dlnotes: deep-learning fundamentals</h1>"
            "<p>A static reading copy of the book: prose, plots and a snapshot of each "
            "widget. To run the code, answer the exercises and check them, clone the "
            "repository and run <code>make lab</code>.</p>"
            f"<ol class='chapters'>{items}</ol></body></html>\n")


def build(chapters: list[str] | None = None, out: Path | None = None,
          root: Path | None = None, cache: Path | None = None, log=print) -> Path:
    """Write ``index.html`` and one page per chapter into ``out`` (``site/``)."""
    out = Path(out or site_dir(root))
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    exporter = _exporter()
    entries = []
    for chapter in chapters or chapter_ids(root):
        release_path = chapters_dir(root) / f"{chapter}.ipynb"
        if not release_path.exists():
            log(f"{chapter}: no release in chapters/ yet (make release); skipped")
            continue
        start = time.perf_counter()
        release = nbformat.read(release_path, as_version=4)
        nb = reading_copy(release, executed_instructor(chapter, root, cache))
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": chapter}})
        (out / f"{chapter}.html").write_text(body, encoding="utf-8")
        title, covers = chapter_title(release)
        entries.append((f"{chapter}.html", title or chapter, covers))
        log(f"{chapter}: {out / (chapter + '.html')} in {time.perf_counter() - start:.1f} s")
    (out / "index.html").write_text(_index(entries), encoding="utf-8")
    return out / "index.html"


def main(argv=None) -> int:
    """``python -m dlnotes_course.site [CHAPTER ...] [--out DIR]``: build the reading copy."""
    import argparse

    parser = argparse.ArgumentParser(prog="dlnotes-site", description=main.__doc__)
    parser.add_argument("chapters", nargs="*", help="chapter ids (default: every chapter)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (site/)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    index = build(args.chapters or None, args.out)
    print(f"site: {index} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
