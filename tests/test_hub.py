"""The class loop on a real JupyterHub: release, fetch, submit, collect, grade, feedback.

A real JupyterHub (PAM logins, LocalProcessSpawner, configurable-http-proxy
from npm) on 127.0.0.1, with system accounts this test creates with
``useradd`` and removes at the end: one instructor, students A and B. Student
A works in Chromium (login, Assignments tab); student B through their server's
REST API, and as a shell user trying to get at A's work. Needs root (CI runs
as root) and ``make hub-env``.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser import _missing
from dlnotes_course import hub as hubmod
from dlnotes_course.layout import repo_root
from dlnotes_course.release import VERSION_KEY, _secret_lines
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered

CHAPTER = "01_metrics"
COURSE = hubmod.COURSE_ID

pytestmark = pytest.mark.slow


def _need(ok: bool, why: str):
    if not ok:
        _missing(why, "the hub test")


class Hub:
    def __init__(self, settings, proc, passwords, token):
        self.s, self.proc, self.passwords, self.token = settings, proc, passwords, token
        self.base = f"http://127.0.0.1:{settings['port']}"
        self.user_tokens = {}

    def request(self, path, method="GET", body=None, token=None, form=False):
        data, headers = None, {"Authorization": f"token {token or self.token}"}
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=120) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    def start_server(self, user):
        try:
            self.request(f"/hub/api/users/{user}/server", "POST")
        except urllib.error.HTTPError as exc:
            if exc.code != 400:   # 400: already running
                raise
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            info = self.request(f"/hub/api/users/{user}")
            if info["servers"].get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start:\n{hubmod.tail(self.s['state'])}")

    def user_token(self, user):
        if user not in self.user_tokens:
            self.user_tokens[user] = self.request(
                f"/hub/api/users/{user}/tokens", "POST", {"note": "hub test", "expires_in": 3600}
            )["token"]
        return self.user_tokens[user]

    def server(self, user, path, method="GET", body=None, form=False):
        """Call ``user``'s single-user server, with a token of ``user``."""
        return self.request(f"/user/{user}{path}", method, body, self.user_token(user), form)

    def assignments(self, user, action=None):
        if action is None:
            return self.server(user, f"/assignments?course_id={COURSE}")
        return self.server(user, f"/assignments/{action}", "POST",
                           {"course_id": COURSE, "assignment_id": CHAPTER}, form=True)

    def status(self, user, path) -> int:
        req = urllib.request.Request(f"{self.base}/user/{user}{path}", headers={
            "Authorization": f"token {self.user_token(user)}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def read_nb(self, user, path):
        model = self.server(user, f"/api/contents/{path}?content=1")
        return nbformat.from_dict(model["content"])

    def write_nb(self, user, path, nb):
        self.server(user, f"/api/contents/{path}", "PUT",
                    {"type": "notebook", "format": "json", "content": nbformat.from_dict(nb)})


@pytest.fixture(scope="module")
def hub():
    _need(hasattr(os, "geteuid") and os.geteuid() == 0,
          "the hub test creates system accounts: run it as root")
    _need((hubmod.PREFIX / "bin" / "jupyterhub").exists()
          and (hubmod.PREFIX / "proxy" / "node_modules" / ".bin" /
               "configurable-http-proxy").exists(),
          f"no hub environment in {hubmod.PREFIX} (make hub-env)")
    tag = secrets.token_hex(3)
    instructor, a, b = f"dlt{tag}i", f"dlt{tag}a", f"dlt{tag}b"
    base = Path(f"/srv/dlnotes-hub-test-{tag}")
    passwords = {u: secrets.token_urlsafe(12) for u in (instructor, a, b)}
    proc = None
    try:
        for user, password in passwords.items():
            hubmod.create_user(user, password)
        token = secrets.token_hex(32)
        settings = hubmod.setup(base, instructor, [a, b], repo=repo_root(), driver_token=token)
        proc = hubmod.start(settings)
        h = Hub(settings, proc, passwords, token)
        h.instructor, h.a, h.b = instructor, a, b
        yield h
    finally:
        if proc is not None:
            hubmod.stop(proc)
        for user in passwords:
            hubmod.remove_user(user)
        shutil.rmtree(base, ignore_errors=True)


def instructor(hub, *args, check=True):
    return hubmod.as_user(hub.instructor, [str(hubmod.PREFIX / "bin" / "dlnotes-course"), *args],
                          env=hubmod.instructor_env(hub.instructor), check=check)


def as_b(hub, script: str) -> dict:
    """Run python as student B (a shell on the hub machine); the script prints JSON."""
    out = hubmod.as_user(hub.b, [str(hubmod.PREFIX / "bin" / "python"), "-c", script])
    return json.loads(out.stdout)


def answers_of(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def test_class_loop(hub, tmp_path):
    source = load_chapter(CHAPTER)
    answer_ids = list(answers_of(source))
    ex = Path(hub.s["exchange"]) / COURSE
    for user in (hub.instructor, hub.a, hub.b):
        hub.start_server(user)
    # the formgrader is the instructor's only
    assert hub.status(hub.instructor, "/formgrader") == 200
    assert hub.status(hub.b, "/formgrader") == 404
    kernels = hub.server(hub.b, "/lab/api/settings/@jupyterlab/apputils-extension:kernels-settings")
    assert kernels["schema"]["properties"]["commsOverSubshells"]["default"] == "disabled"

    # 1. The instructor releases the chapter, stamped with its version.
    out = instructor(hub, "release", CHAPTER).stdout
    assert f"released {CHAPTER}" in out, out
    commit = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "--short=10", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    listed = hub.assignments(hub.b)
    assert [x["assignment_id"] for x in listed["value"] if x["status"] == "released"] == [CHAPTER]

    # 2a. Student A, in the browser: log in, fetch from the Assignments tab.
    _browser_fetch(hub, hub.a)
    nb_a = hub.read_nb(hub.a, f"{CHAPTER}/{CHAPTER}.ipynb")
    stamp = nb_a.cells[0].metadata[VERSION_KEY]
    assert stamp["commit"] == commit and stamp["chapter"] == CHAPTER
    assert datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d") in stamp["date"]
    assert commit in nb_a.cells[0].source
    solved = answered(nb_a, source)
    hub.write_nb(hub.a, f"{CHAPTER}/{CHAPTER}.ipynb", solved)
    _browser_submit(hub, hub.a)

    # 2b. Student B through the REST API: half done, then again with one more answer.
    hub.assignments(hub.b, "fetch")
    nb_b = hub.read_nb(hub.b, f"{CHAPTER}/{CHAPTER}.ipynb")
    half = answer_ids[: len(answer_ids) // 2]
    first = answered(nb_b, source, blank=tuple(answer_ids[1:]))
    hub.write_nb(hub.b, f"{CHAPTER}/{CHAPTER}.ipynb", first)
    assert hub.assignments(hub.b, "submit")["success"]
    time.sleep(1.1)   # nbgrader's submission timestamps have a resolution finer than this
    second = answered(nb_b, source, blank=tuple(answer_ids[len(half):]))
    hub.write_nb(hub.b, f"{CHAPTER}/{CHAPTER}.ipynb", second)
    assert hub.assignments(hub.b, "submit")["success"]

    # 3. B, as a shell user on the machine, goes after A's submission.
    a_dirs = [p for p in ex.joinpath("inbound").iterdir() if p.name.startswith(hub.a + "+")]
    b_dirs = sorted(p for p in ex.joinpath("inbound").iterdir()
                    if p.name.startswith(hub.b + "+"))
    assert len(a_dirs) == 1 and len(b_dirs) == 2
    a_dir, b_latest = a_dirs[0], b_dirs[-1]
    forged = ex / "inbound" / f"{hub.a}+{CHAPTER}+2999-01-01 00:00:00.000000 UTC+forged"
    attempts = as_b(hub, f"""
import json, os, shutil
r = {{}}
def attempt(name, fn):
    try:
        fn(); r[name] = "done"
    except OSError as e:
        r[name] = type(e).__name__
attempt("list inbound", lambda: os.listdir({str(ex / 'inbound')!r}))
attempt("read A's notebook", lambda: open({str(a_dir / (CHAPTER + '.ipynb'))!r}).read())
attempt("list A's submission", lambda: os.listdir({str(a_dir)!r}))
attempt("overwrite A's notebook", lambda: open({str(a_dir / (CHAPTER + '.ipynb'))!r}, "w"))
attempt("add a file to A's submission", lambda: open({str(a_dir / 'x.txt')!r}, "w"))
attempt("rename A's submission", lambda: os.rename({str(a_dir)!r}, {str(a_dir) + 'x'!r}))
attempt("delete A's submission", lambda: shutil.rmtree({str(a_dir)!r}))
attempt("move the course away", lambda: os.rename({str(ex)!r}, {str(ex) + 'x'!r}))
attempt("list the feedback", lambda: os.listdir({str(ex / 'feedback')!r}))
def forge():
    os.mkdir({str(forged)!r})
    shutil.copy({str(b_latest / (CHAPTER + '.ipynb'))!r}, {str(forged / (CHAPTER + '.ipynb'))!r})
    for name in ("timestamp.txt", "submission_secret.txt"):
        shutil.copy(os.path.join({str(b_latest)!r}, name), os.path.join({str(forged)!r}, name))
attempt("submit in A's name", forge)
attempt("jam collect with a bad folder name",
        lambda: os.mkdir({str(ex / 'inbound' / (hub.b + '+' + CHAPTER + '+not a date'))!r}))
attempt("link A's notebook into own submission",
        lambda: os.symlink({str(a_dir / (CHAPTER + '.ipynb'))!r}, {str(b_latest / 'a.ipynb')!r}))
print(json.dumps(r))
""")
    denied = {k: v for k, v in attempts.items() if v != "done"}
    allowed = {"submit in A's name", "jam collect with a bad folder name",
               "link A's notebook into own submission"}
    assert set(denied) == set(attempts) - allowed, attempts
    assert all(v == "PermissionError" for v in denied.values()), attempts
    # creating entries is what a submission is; collect must not be fooled by them
    assert attempts["submit in A's name"] == "done"

    # 4. The instructor collects (A's own submission, B's latest) and grades.
    out = instructor(hub, "collect", CHAPTER).stdout
    assert f"student {hub.a}, notebook {CHAPTER}: skipped" in out and hub.b in out, out
    assert "a.ipynb: not a regular file" in out, out
    assert "not a date: not a submission folder name" in out, out
    course = hubmod.home(hub.instructor) / "course"
    submitted = course / "submitted"
    assert answers_of(nbformat.read(submitted / hub.a / CHAPTER / f"{CHAPTER}.ipynb", 4)) \
        == answers_of(solved)
    assert answers_of(nbformat.read(submitted / hub.b / CHAPTER / f"{CHAPTER}.ipynb", 4)) \
        == answers_of(second)
    assert not (submitted / hub.b / CHAPTER / "a.ipynb").exists()

    grades = course / "grades" / CHAPTER
    env = {**os.environ, "DLNOTES_ROOT": hub.s["instructor_root"]}
    run = subprocess.run([str(Path(sys.executable).parent / "dlnotes-grade"), CHAPTER,
                          str(submitted), "--out", str(grades), "--course", str(course),
                          "--workers", "2", "--timeout", "60"],
                         capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(grades / "grades.csv"))}
    assert set(rows) == {hub.a, hub.b}
    ra, rb = rows[hub.a], rows[hub.b]
    assert ra["status"] == rb["status"] == "graded", (ra, rb)
    assert float(ra["score"]) == float(ra["max_score"]) > 0
    assert 0 < float(rb["score"]) < float(rb["max_score"])
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, row in rows.items():
            assert gb.find_submission(CHAPTER, student).score == pytest.approx(float(row["score"]))
    assert (grades / "grades.csv").stat().st_uid == hubmod.home(hub.instructor).stat().st_uid

    # 5. Feedback: released by the instructor, fetched by each student, their own only.
    out = instructor(hub, "feedback", CHAPTER).stdout
    assert "to 2 students" in out, out
    secrets_ = [line for line, kind in _secret_lines(source).items() if kind == "hidden test"]
    pages = {}
    for student in (hub.a, hub.b):
        hub.assignments(student, "fetch_feedback")
        listing = hub.server(student, f"/api/contents/{CHAPTER}/feedback")["content"]
        assert len(listing) == 1, listing   # one graded submission: one feedback folder
        where = urllib.parse.quote(f"{listing[0]['path']}/{CHAPTER}.html")
        page = hub.server(student, f"/api/contents/{where}?content=1&type=file&format=text"
                          )["content"]
        pages[student] = page
        assert f"feedback for {student}" in page
        other = hub.b if student == hub.a else hub.a
        assert other not in page
        assert "BEGIN HIDDEN" not in page and "assert " not in page
        assert not [s for s in secrets_ if s in page]
    assert "checks passed" in pages[hub.a] and "failed" not in pages[hub.a]
    assert "failed" in pages[hub.b] and "what to fix" in pages[hub.b]

    # 6. A newer release never overwrites a fetched, edited copy.
    time.sleep(1.1)
    instructor(hub, "release", CHAPTER)
    before = hub.read_nb(hub.a, f"{CHAPTER}/{CHAPTER}.ipynb")
    hub.assignments(hub.a, "fetch")
    after = hub.read_nb(hub.a, f"{CHAPTER}/{CHAPTER}.ipynb")
    assert after == before and answers_of(after) == answers_of(solved)
    # ...and the new one arrives next to it once the old copy is renamed
    hub.server(hub.a, f"/api/contents/{CHAPTER}", "PATCH", {"path": f"{CHAPTER}-first"})
    hub.assignments(hub.a, "fetch")
    fresh = hub.read_nb(hub.a, f"{CHAPTER}/{CHAPTER}.ipynb")
    assert fresh.cells[0].metadata[VERSION_KEY]["date"] > stamp["date"]
    assert answers_of(hub.read_nb(hub.a, f"{CHAPTER}-first/{CHAPTER}.ipynb")) \
        == answers_of(solved)
    assert answers_of(fresh) == answers_of(nb_a)   # the new release's stubs


def _login(page, hub, user):
    page.goto(f"{hub.base}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", hub.passwords[user])
    page.click("#login_submit, input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=120_000)
    page.wait_for_selector(".jp-LauncherCard, .jp-DirListing", timeout=120_000)


def _open_assignments(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    # a student gets nbgrader's student parts only
    assert not any("Formgrader" in i or "Course List" in i for i in items), items
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    page.wait_for_selector("#released_assignments_list, .assignment-list, #assignments",
                           timeout=60_000)


_PAGES = {}


def _browser_fetch(hub, user):
    from browser import chromium, require_browser, shot

    require_browser()
    ctx = chromium()
    context = ctx.__enter__()
    _PAGES[user] = (ctx, context)
    page = context.new_page()
    _login(page, hub, user)
    _open_assignments(page)
    row = page.locator("#released_assignments_list .list_item:not(.nested_list_item)",
                       has_text=CHAPTER)
    row.locator("button", has_text="Fetch").click()
    page.locator("#fetched_assignments_list .list_item:not(.nested_list_item)",
                 has_text=CHAPTER).wait_for()
    shot(page, "hub-1-fetched")
    # the fetched notebook opens on its release version
    page.goto(f"{hub.base}/user/{user}/lab/tree/{CHAPTER}/{CHAPTER}.ipynb")
    cell = page.locator(".jp-NotebookPanel .jp-Cell", has_text=f"Release of {CHAPTER}").first
    cell.wait_for()
    assert cell.evaluate(
        "el => [...el.parentElement.querySelectorAll(':scope > .jp-Cell')].indexOf(el)") == 0
    shot(page, "hub-2-version")
    _open_assignments(page)


def _browser_submit(hub, user):
    from browser import shot

    ctx, context = _PAGES.pop(user)
    try:
        page = context.pages[-1]
        row = page.locator("#fetched_assignments_list .list_item:not(.nested_list_item)",
                           has_text=CHAPTER)
        row.locator("button", has_text="Submit").click()
        page.locator("#submitted_assignments_list .list_item:not(.nested_list_item)",
                     has_text=CHAPTER).wait_for()
        shot(page, "hub-3-submitted", doc_name="hub_assignments")
    finally:
        ctx.__exit__(None, None, None)
