"""Teaching feedback for one graded submission, as a standalone HTML page.

The page lists every check (graded cell) with its points and, for a failed
check, the message its assertion raised. It never includes the source of a
test cell or a traceback, which would show hidden-test code (nbgrader's own
feedback does: nbgrader issues #917 and #1363).
"""

from __future__ import annotations

import html
from pathlib import Path

from .source import answer_of_test

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left;
         vertical-align: top; }
.pass { color: #176b2c; } .fail { color: #a4141b; }
.summary { font-size: 1.2rem; margin: 1rem 0; }
"""


def describe(grade_id: str) -> str:
    """A reader's name for a check: ``test_precision_hidden`` → ``precision (hidden tests)``.

    The release enforces the naming rule (``test_<answer>[_hidden]``); a check
    named otherwise keeps its own name.
    """
    answer = answer_of_test(grade_id)
    if not answer:
        return grade_id
    return f"{answer} ({'hidden' if grade_id.endswith('_hidden') else 'visible'} tests)"


def render(result) -> str:
    """The feedback page of a :class:`dlnotes_course.grade.Result`."""
    passed = sum(c.passed for c in result.checks)
    esc = html.escape
    rows = []
    for c in result.checks:
        ok = c.passed
        rows.append(
            f"<tr><td>{esc(describe(c.grade_id))}</td>"
            f"<td>{c.score:g} / {c.max_score:g}</td>"
            f"<td class='{'pass' if ok else 'fail'}'>{'passed' if ok else 'failed'}</td>"
            f"<td>{esc(c.message) if not ok else ''}</td></tr>")
    if result.status != "graded":
        status = f"<p class='fail'><b>{esc(result.status)}</b>: {esc(result.reason)}</p>"
    else:
        status = f"<p><b>Note</b>: {esc(result.reason)}</p>" if result.reason else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(result.chapter)} feedback for {esc(result.student)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{esc(result.chapter)}: feedback for {esc(result.student)}</h1>{status}"
        f"<p class='summary'>{passed} of {len(result.checks)} checks passed; "
        f"score {result.score:g} of {result.max_score:g}.</p>"
        "<table><tr><th>check</th><th>points</th><th>result</th><th>what to fix</th></tr>"
        + "".join(rows) + "</table></body></html>\n")


def write_feedback(result, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
