"""Pairs of students whose answers look alike, found with copydetect.

Only answer cells are compared (the cells whose ``grade_id`` is a solution
cell of the instructor source); every line that the release already puts in
such a cell (the ``def`` line, the docstring, the stub) is removed, and
copydetect's tokenizer drops comments and replaces every name by one letter,
so renaming variables changes nothing.

copydetect (Stanford MOSS's winnowing) fingerprints each student's answers
with the hashes of all ``k``-character windows of that token text; the
similarity of a pair is the share of one student's answer tokens covered by
fingerprints found in the other's, and the pair's score is the larger of the
two shares. Reordering independent statements only breaks the windows that
straddle a moved line.

Short answers look alike whoever writes them (``return tp / (tp + fp)``).
Three things keep them from raising pairs: a window of ``k = 25`` token
characters is longer than such a line, so it matches nothing by itself; a
student whose answers, stripped, have fewer than ``min_tokens`` token
characters is left out of the comparison (and counted); and the default
threshold asks for half of one student's answers to be covered.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from .source import nbgrader_meta

#: copydetect's k (noise threshold): shorter matches are ignored.
NOISE = 25
DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_TOKENS = 200


@dataclass(frozen=True)
class SimilarityOptions:
    """``dlnotes-grade --similarity`` settings."""

    threshold: float = DEFAULT_THRESHOLD
    min_tokens: int = DEFAULT_MIN_TOKENS

    def __post_init__(self):
        if not 0 < self.threshold <= 1:
            raise ValueError(f"--similarity-threshold must be in (0, 1], got {self.threshold}")
        if self.min_tokens < NOISE:
            raise ValueError(f"--similarity-min-tokens must be at least {NOISE}, "
                             f"got {self.min_tokens}")


@dataclass
class Pair:
    """Two students, their similarity and their answers marked where they overlap."""

    first: str
    second: str
    score: float
    shares: tuple[float, float]
    html: tuple[str, str] = ("", "")    # escaped answers, overlaps in <mark>


@dataclass
class SimilarityReport:
    options: SimilarityOptions
    pairs: list[Pair] = field(default_factory=list)   # above the threshold, highest first
    compared: list[str] = field(default_factory=list)
    too_short: list[str] = field(default_factory=list)
    best: float = 0.0                                 # highest score of any pair


def _gid(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def _text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def answer_text(submission_nb, answer_ids, given: dict[str, str]) -> str:
    """The student's answer cells, in order, without the lines the release put there.

    ``given`` maps each answer cell's grade_id to its release text (stub and
    provided lines).
    """
    cells = {}
    for cell in submission_nb.get("cells", []):
        gid = _gid(cell)
        if gid in answer_ids and gid not in cells and cell.get("cell_type") == "code":
            cells[gid] = _text(cell)
    parts = []
    for gid in answer_ids:
        provided = {line.strip() for line in given.get(gid, "").splitlines() if line.strip()}
        kept = [line for line in cells.get(gid, "").splitlines()
                if line.strip() and line.strip() not in provided]
        if kept:
            parts.append("\n".join(kept))
    return "\n".join(parts) + ("\n" if parts else "")


def _fingerprint(name: str, code: str, boilerplate):
    from copydetect import CodeFingerprint
    return CodeFingerprint(f"{name}.py", NOISE, 1, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def compare(answers: dict[str, str], options: SimilarityOptions,
            boilerplate_code: str = "") -> SimilarityReport:
    """Compare every two students' answer texts; keep the pairs at or above the threshold."""
    import numpy as np
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    boiler = _fingerprint("given", boilerplate_code, None).hashes if boilerplate_code else set()
    boiler = np.array(sorted(boiler), dtype=np.int64) if boiler else None
    report = SimilarityReport(options)
    prints = {}
    for student, code in sorted(answers.items()):
        fp = _fingerprint(student, code, boiler)
        if len(fp.filtered_code) < options.min_tokens:
            report.too_short.append(student)
        else:
            prints[student] = fp
            report.compared.append(student)
    names = sorted(prints)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            _, shares, slices = compare_files(prints[a], prints[b])
            score = float(max(shares))
            report.best = max(report.best, score)
            if score < options.threshold:
                continue
            marked = tuple(
                highlight_overlap(prints[s].raw_code, sl, "<mark>", "</mark>", escape_html=True)[0]
                for s, sl in zip((a, b), slices, strict=True))
            report.pairs.append(Pair(a, b, score, (float(shares[0]), float(shares[1])), marked))
    report.pairs.sort(key=lambda p: (-p.score, p.first, p.second))
    return report


def class_similarity(notebooks: dict[str, bytes], chapter, release_text: str,
                     options: SimilarityOptions):
    """Similarity of the answer cells of the submissions ``{student: notebook bytes}``.

    ``chapter`` is the instructor source's :class:`~dlnotes_course.source.Chapter`
    (which cells are answers), ``release_text`` the student release (what those
    cells held when given out). The bytes are those graded: nothing is read again.
    """
    release_nb = json.loads(release_text)
    answer_ids = [c.grade_id for c in chapter.answers]
    given = {_gid(c): _text(c) for c in release_nb["cells"] if _gid(c) in answer_ids}
    answers = {}
    for student, data in notebooks.items():
        try:
            nb = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        answers[student] = answer_text(nb, answer_ids, given)
    return compare(answers, options, "\n".join(given.values()))
