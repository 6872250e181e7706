"""What the class got wrong, at a glance: ``OUT/class_report.html`` and ``class_summary.csv``.

Built from the graded results only (:class:`dlnotes_course.grade.Result`, which
``dlnotes-grade`` rebuilds from ``OUT/results/``), so a resumed run writes the
same report. The page is one self-contained file: the histogram is inline SVG,
there is no script and nothing is fetched; every text that came from a
submission (student ids, messages) is HTML-escaped.

Sections: the score histogram and the status counts; per exercise its points,
mean score, share of full marks and share "not answered"; per check the
failures, split into "not answered", the known mistakes it matched (with
counts and a few student ids each) and "unexplained" (a wrong answer no
planted mistake explains: worth a new one); grading time (median, max, the
slowest submissions); with ``--similarity``, the pairs of students whose
answers look alike, side by side.
"""

from __future__ import annotations

import csv
import html
import math
import statistics
from collections import Counter
from pathlib import Path

STATUSES = ("graded", "timeout", "memory", "crashed", "invalid", "tampered", "flagged")
NOT_ANSWERED = "not answered yet"
CSV_COLUMNS = ("kind", "name", "detail", "count", "value", "students")
SHOWN_IDS = 5          # student ids listed per mistake
SLOWEST = 5

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
td, th { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.ids { color: #555; font-size: .9em; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
.side pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; font-size: .8em; margin: 0; }
mark { background: #ffd54f; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
"""


def exercise_of(grade_id: str) -> str:
    """The answer a check belongs to: ``test_precision_hidden`` → ``precision``."""
    return grade_id.removeprefix("test_").removesuffix("_hidden")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def summarize(results) -> dict:
    """Every figure of the report, from a list of ``Result``.

    Invalid submissions count in the status counts only: they have no answers.
    """
    graded = [r for r in results if r.status != "invalid"]
    max_score = max((r.max_score for r in results), default=0.0)
    statuses = Counter(r.status for r in results)
    checks: dict[str, dict] = {}
    exercises: dict[str, dict] = {}
    for r in graded:
        per_ex: dict[str, list] = {}
        for c in r.checks:
            per_ex.setdefault(exercise_of(c.grade_id), []).append(c)
            row = checks.setdefault(c.grade_id, {"points": c.max_score, "failed": 0,
                                                 "not_answered": [], "unexplained": [],
                                                 "mistakes": {}})
            if c.passed:
                continue
            row["failed"] += 1
            if c.mistake:
                row["mistakes"].setdefault(c.mistake, []).append(r.student)
            elif NOT_ANSWERED in c.message:
                row["not_answered"].append(r.student)
            else:
                row["unexplained"].append(r.student)
        for name, cs in per_ex.items():
            ex = exercises.setdefault(name, {"points": sum(c.max_score for c in cs),
                                             "scores": [], "full": 0, "not_answered": 0})
            ex["scores"].append(sum(c.score for c in cs))
            ex["full"] += all(c.passed for c in cs)
            ex["not_answered"] += any(NOT_ANSWERED in c.message for c in cs)
    times = [r.seconds for r in graded]
    return {
        "n": len(results), "graded": graded, "max_score": max_score,
        "statuses": {s: statuses.get(s, 0) for s in STATUSES},
        "scores": [r.score for r in results],
        "exercises": {name: {"points": ex["points"],
                             "mean": statistics.fmean(ex["scores"]),
                             "full": _share(ex["full"], len(ex["scores"])),
                             "not_answered": _share(ex["not_answered"], len(ex["scores"]))}
                      for name, ex in exercises.items()},
        "checks": checks,
        "median_s": statistics.median(times) if times else 0.0,
        "max_s": max(times, default=0.0),
        "slowest": sorted(graded, key=lambda r: -r.seconds)[:SLOWEST],
    }


def histogram_bins(scores, max_score: float) -> list[tuple[float, float, int]]:
    """``(low, high, count)`` bins of the scores, then one bar for full marks.

    One point wide up to 20 points, else ``ceil(max_score / 10)`` points wide.

    >>> histogram_bins([0, 1, 1, 3], 3)
    [(0.0, 1.0, 1), (1.0, 2.0, 2), (2.0, 3.0, 0), (3.0, 3.0, 1)]
    """
    if max_score <= 0:
        return [(0.0, 0.0, len(scores))]
    step = 1.0 if max_score <= 20 else float(math.ceil(max_score / 10))
    edges = []
    low = 0.0
    while low < max_score - 1e-9:
        edges.append((low, min(low + step, max_score)))
        low += step
    bins = [[lo, hi, 0] for lo, hi in edges] + [[float(max_score), float(max_score), 0]]
    for s in scores:
        if s >= max_score - 1e-9:
            bins[-1][2] += 1
            continue
        for b in bins[:-1]:
            if b[0] <= s < b[1]:
                b[2] += 1
                break
    return [(float(lo), float(hi), n) for lo, hi, n in bins]


def histogram_svg(scores, max_score: float) -> str:
    """An inline SVG bar chart of the scores (one bar per bin, the count above it)."""
    bins = histogram_bins(scores, max_score)
    width, height, pad = 760, 220, 30
    bar = (width - 2 * pad) / len(bins)
    top = max((n for *_, n in bins), default=0) or 1
    parts = [f'<svg id="histogram" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{height + 40}" viewBox="0 0 {width} {height + 40}">',
             f"<title>Score distribution of {len(scores)} submissions</title>"]
    for i, (lo, hi, n) in enumerate(bins):
        h = (height - 2 * pad) * n / top
        x, y = pad + i * bar, height - pad - h
        label = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
        parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                     f'fill="#4a7ab5"><title>{html.escape(label)}: {n}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - pad + 16:.1f}" '
                     f'text-anchor="middle">{html.escape(label)}</text>')
    parts.append(f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
                 'stroke="#333"/>')
    parts.append(f'<text x="{width / 2}" y="{height + 20}" text-anchor="middle">score '
                 f'(of {max_score:g})</text></svg>')
    return "".join(parts)


def _ids(students) -> str:
    shown = ", ".join(students[:SHOWN_IDS]) + (", …" if len(students) > SHOWN_IDS else "")
    return f"<span class='ids'>{html.escape(shown)}</span>"


def _similarity_html(sim) -> str:
    esc = html.escape
    o = sim.options
    head = (f"<h2 id='similarity'>Similar answers</h2><p>copydetect over the answer cells of "
            f"{len(sim.compared)} submissions (provided lines, stubs and comments removed); "
            f"pairs at or above {o.threshold:.0%} of one student's answers, highest first. "
            f"{len(sim.too_short)} submissions had under {o.min_tokens} characters of answer "
            f"tokens and were not compared. Highest score of any pair: {sim.best:.0%}.</p>")
    if not sim.pairs:
        return head + "<p>No pair reaches the threshold.</p>"
    rows = ["<table id='similar-pairs'><tr><th>students</th><th class='n'>similarity</th>"
            "<th class='n'>share of each</th></tr>"]
    for p in sim.pairs:
        rows.append(f"<tr><td>{esc(p.first)} – {esc(p.second)}</td>"
                    f"<td class='n'>{p.score:.0%}</td>"
                    f"<td class='n'>{p.shares[0]:.0%} / {p.shares[1]:.0%}</td></tr>")
    rows.append("</table>")
    views = [f"<details><summary>{esc(p.first)} – {esc(p.second)}: {p.score:.0%}</summary>"
             f"<div class='side'><div><b>{esc(p.first)}</b><pre>{p.html[0]}</pre></div>"
             f"<div><b>{esc(p.second)}</b><pre>{p.html[1]}</pre></div></div></details>"
             for p in sim.pairs]
    return head + "".join(rows) + "".join(views)


def render(summary: dict, chapter: str, similarity=None) -> str:
    """The class report page of :func:`summarize`'s figures."""
    esc = html.escape
    s = summary
    status = "".join(f"<tr><td>{st}</td><td class='n'>{n}</td></tr>"
                     for st, n in s["statuses"].items())
    ex_rows = "".join(
        f"<tr><td>{esc(name)}</td><td class='n'>{e['points']:g}</td>"
        f"<td class='n'>{e['mean']:.2f}</td><td class='n'>{_pct(e['full'])}</td>"
        f"<td class='n'>{_pct(e['not_answered'])}</td></tr>"
        for name, e in s["exercises"].items())
    check_rows = []
    for gid, c in s["checks"].items():
        mistakes = sorted(c["mistakes"].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        listed = "".join(f"<li><b>{len(ids)}×</b> {esc(m)} {_ids(ids)}</li>"
                         for m, ids in mistakes)
        check_rows.append(
            f"<tr><td>{esc(gid)}</td><td class='n'>{c['failed']}</td>"
            f"<td class='n'>{len(c['not_answered'])}</td>"
            f"<td>{'<ul>' + listed + '</ul>' if listed else ''}</td>"
            f"<td class='n'>{len(c['unexplained'])} {_ids(c['unexplained'])}</td></tr>")
    slow = "".join(f"<tr><td>{esc(r.student)}</td><td>{esc(r.status)}</td>"
                   f"<td class='n'>{r.seconds:.1f} s</td></tr>" for r in s["slowest"])
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(chapter)}: class report</title><style>{_STYLE}</style></head><body>"
        f"<h1>{esc(chapter)}: class report</h1>"
        f"<p>{s['n']} submissions; {len(s['graded'])} graded (invalid files have no answers "
        "and count in the statuses only).</p>"
        "<h2>Scores</h2>" + histogram_svg(s["scores"], s["max_score"]) +
        "<h2>Statuses</h2><table id='statuses'><tr><th>status</th><th class='n'>submissions</th>"
        f"</tr>{status}</table>"
        "<h2>Exercises</h2><table id='exercises'><tr><th>exercise</th><th class='n'>points</th>"
        "<th class='n'>mean score</th><th class='n'>full marks</th>"
        f"<th class='n'>not answered</th></tr>{ex_rows}</table>"
        "<h2>Checks: what to re-teach</h2><p>Failures split into unanswered exercises, the "
        "likely mistakes the checks recognised, and unexplained wrong answers (no known "
        "mistake matched: a new one may be worth writing).</p>"
        "<table id='checks'><tr><th>check</th><th class='n'>failed</th>"
        "<th class='n'>not answered</th><th>likely mistakes</th><th class='n'>unexplained</th>"
        f"</tr>{''.join(check_rows)}</table>"
        f"<h2>Grading time</h2><p>median {s['median_s']:.1f} s, max {s['max_s']:.1f} s per "
        "submission.</p><table id='slowest'><tr><th>slowest</th><th>status</th>"
        f"<th class='n'>time</th></tr>{slow}</table>"
        + (_similarity_html(similarity) if similarity is not None else "")
        + "</body></html>\n")


def summary_rows(summary: dict, similarity=None) -> list[dict]:
    """The rows of ``class_summary.csv`` (see :data:`CSV_COLUMNS`)."""
    rows = [{"kind": "status", "name": st, "count": n} for st, n in summary["statuses"].items()]
    for name, e in summary["exercises"].items():
        rows.append({"kind": "exercise", "name": name, "detail": "points", "value": e["points"]})
        rows.append({"kind": "exercise", "name": name, "detail": "mean_score",
                     "value": round(e["mean"], 4)})
        rows.append({"kind": "exercise", "name": name, "detail": "full_marks_share",
                     "value": round(e["full"], 4)})
        rows.append({"kind": "exercise", "name": name, "detail": "not_answered_share",
                     "value": round(e["not_answered"], 4)})
    for gid, c in summary["checks"].items():
        rows.append({"kind": "check", "name": gid, "detail": "failed", "count": c["failed"]})
        rows.append({"kind": "check", "name": gid, "detail": "not_answered",
                     "count": len(c["not_answered"]), "students": " ".join(c["not_answered"])})
        rows.append({"kind": "check", "name": gid, "detail": "unexplained",
                     "count": len(c["unexplained"]), "students": " ".join(c["unexplained"])})
        for mistake, ids in sorted(c["mistakes"].items(), key=lambda kv: -len(kv[1])):
            rows.append({"kind": "mistake", "name": gid, "detail": mistake, "count": len(ids),
                         "students": " ".join(ids)})
    rows.append({"kind": "time", "name": "median_seconds", "value": round(summary["median_s"], 3)})
    rows.append({"kind": "time", "name": "max_seconds", "value": round(summary["max_s"], 3)})
    for r in summary["slowest"]:
        rows.append({"kind": "slowest", "name": r.student, "detail": r.status,
                     "value": round(r.seconds, 3)})
    for p in (similarity.pairs if similarity is not None else []):
        rows.append({"kind": "similar", "name": f"{p.first} {p.second}",
                     "value": round(p.score, 4)})
    return rows


def write_class_report(results, out: Path, *, chapter: str, similarity=None) -> None:
    """Write ``out/class_report.html`` and ``out/class_summary.csv`` for ``results``.

    ``similarity`` is a :class:`dlnotes_course.similarity.SimilarityReport`, or
    None for no similarity section.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    (out / "class_report.html").write_text(render(summary, chapter, similarity),
                                           encoding="utf-8")
    with open(out / "class_summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(summary_rows(summary, similarity))
