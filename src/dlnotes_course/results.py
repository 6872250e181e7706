"""The result model, from the worker that grades to the files the driver writes.

A worker produces an :class:`Outcome` (JSON-able: it crosses processes and
Dask); the driver stores it under ``results/`` and turns it into one
:class:`Result` per submission, from which ``grades.csv``, ``report.txt``,
the feedback pages, the gradebook and the class report are written.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

STATUSES = ("graded", "flagged", "tampered", "memory", "timeout", "crashed", "invalid")
MAX_TEXT = 2000          # longest message or reason kept (student-controlled text)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def clean(text, limit: int = MAX_TEXT) -> str:
    """Student-controlled text made safe for one line of a report or one CSV field.

    Control characters (newlines and tabs included) become visible escapes, so
    they can never start a line or a column; the text is cut at ``limit``.

    >>> clean("a\\tb\\nc")
    'a\\\\tb\\\\nc'
    """
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass
class Check:
    """One graded cell: its id, points and, if it failed, the message."""

    grade_id: str
    score: float
    max_score: float
    message: str = ""
    mistake: str = ""       # the known mistake the failure matched (dlnotes.checks), or ""
    seconds: float = 0.0    # time the check's cell took

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @classmethod
    def from_dict(cls, d: dict, max_score: float) -> Check:
        return cls(str(d.get("grade_id", "")), float(d.get("score", 0.0)), max_score,
                   clean(d.get("message", "")), clean(d.get("mistake", ""), 300),
                   float(d.get("seconds", 0.0)))


@dataclass
class Outcome:
    """What grading one submission produced, in a worker."""

    checks: list[dict] = field(default_factory=list)   # Check fields, as dicts
    status: str = "graded"
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    warning: str = ""
    seconds: float = 0.0
    sandboxed: bool = False     # the student process ran in bubblewrap
    grader: str = ""            # hash of the grading code that produced it
    grader_error: str = ""      # the grader itself failed: never stored for resume

    def to_dict(self) -> dict:
        return asdict(self)

    def flag(self, flags: list[str]) -> None:
        """An attempt to game the checks outranks every other status and leads the reason."""
        if flags:
            self.flags = list(flags)
            self.status = "flagged"
            self.reasons.insert(0, "attempt to game the checks: " + "; ".join(flags))

    @classmethod
    def failed(cls, why: str, grader: str = "") -> Outcome:
        """A submission the grader itself could not finish (not the student's doing)."""
        return cls(status="crashed", reasons=[why[:300]], grader=grader, grader_error=why[:300])


@dataclass
class Result:
    """The outcome for one submission (one row of ``grades.csv``)."""

    student: str
    chapter: str
    score: float
    max_score: float
    status: str
    reason: str = ""
    notebook: str = ""
    checks: list[Check] = field(default_factory=list)
    warning: str = ""
    seconds: float = 0.0    # grading time of the submission

    @property
    def valid_id(self) -> bool:
        from .collect import STUDENT_ID
        return bool(STUDENT_ID.match(self.student))

    def row(self) -> dict:
        return {"student": clean(self.student), "chapter": self.chapter,
                "score": f"{self.score:g}", "max_score": f"{self.max_score:g}",
                "status": self.status, "reason": clean(self.reason)}

    @classmethod
    def from_outcome(cls, student: str, chapter: str, notebook: str,
                     points: dict[str, float], outcome: dict) -> Result:
        """The row of one submission: every check of the chapter, graded or not."""
        got = {c.get("grade_id"): c for c in outcome.get("checks", []) if isinstance(c, dict)}
        checks = [Check.from_dict({**got.get(gid, {"message": "not graded"}), "grade_id": gid}, p)
                  for gid, p in points.items()]
        for c in checks:
            c.score = min(max(c.score, 0.0), c.max_score)
        status = outcome.get("status", "crashed")
        return cls(student, chapter, sum(c.score for c in checks), sum(points.values()),
                   status if status in STATUSES else "crashed",
                   clean("; ".join(map(str, outcome.get("reasons", [])))), notebook, checks,
                   clean(outcome.get("warning", "")), float(outcome.get("seconds", 0.0)))

    @classmethod
    def invalid(cls, student: str, chapter: str, notebook: str, points: dict[str, float],
                why: str) -> Result:
        return cls(student, chapter, 0.0, sum(points.values()), "invalid", clean(why), notebook,
                   [Check(g, 0.0, p, "not graded") for g, p in points.items()])
