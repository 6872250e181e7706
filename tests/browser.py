"""Drive a real browser (Debian's Chromium, through playwright) against JupyterLab.

Shared by ``tests/test_browser.py`` and ``tests/test_site.py``. JupyterLab is
started the way ``make lab`` starts it (:func:`dlnotes_course.lab.lab_command`,
with nbgrader's instructor parts switched off by
:func:`dlnotes_course.lab.configure_for_readers`), on a free loopback port with
a random token, in a folder of its own; it is stopped, kernels and all, at the end.

``playwright install`` cannot download browsers here: the tests use
``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from dlnotes_course.lab import (
    VALIDATE_SERVER_EXTENSIONS,
    configure_for_readers,
    free_port,
    lab_command,
)
from dlnotes_course.layout import repo_root

CHROMIUM = os.environ.get("DLNOTES_CHROMIUM", "/usr/bin/chromium")
# As root Chromium needs --no-sandbox. Without the background-networking flags it
# tries to reach Google's services, and this machine's closed network refuses them.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 900}
SHOTS = repo_root() / "build" / "screenshots"
# `make screenshots` sets this: the tests then also write the one screenshot per
# chapter that is committed under docs/screenshots/.
DOC_SHOTS = os.environ.get("DLNOTES_DOC_SCREENSHOTS")

# Settings of the test's JupyterLab only: render every cell (no windowing, so
# the DOM holds the whole notebook) and never ask about news or updates.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def require_browser():
    """Skip (fail on CI) when playwright or Chromium is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")


def _missing(why: str, what: str = "browser tests"):
    """Skip, except on CI, where a missing part is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} cannot run: {why}")
    pytest.skip(why)


@contextmanager
def chromium():
    """A fresh headless Chromium (own user-data-dir); yields a browser context."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="dlnotes-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport=VIEWPORT, device_scale_factor=1)
            context.set_default_timeout(60_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Lab:
    """A JupyterLab server of the tests: ``url(path)`` and kernel housekeeping."""

    def __init__(self, root: Path, port: int, token: str, process: subprocess.Popen):
        self.root, self.port, self.token, self.process = root, port, token, process
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str = "") -> str:
        return f"{self.base}/lab/tree/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            return json.loads(body) if body else None

    def status(self, path: str) -> int:
        req = urllib.request.Request(f"{self.base}{path}",
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def post(self, path: str, timeout: float = 600):
        req = urllib.request.Request(f"{self.base}{path}", method="POST", data=b"",
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())

    def shutdown_kernels(self):
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", "DELETE")


@contextmanager
def jupyterlab(root: Path, stock_validate: bool = False):
    """JupyterLab on ``root`` as ``make lab`` starts it, with a random token.

    ``stock_validate`` puts nbgrader's own Validate handler back (benchmarks
    compare it with the book's).
    """
    work = Path(tempfile.mkdtemp(prefix="dlnotes-lab-"))
    config = work / "config"
    # The reader setup of `make lab`, written to a config dir of this server only
    # (JUPYTER_CONFIG_PATH comes first), so the tests never change the venv.
    configure_for_readers(prefix=str(work))
    shutil.move(str(work / "etc" / "jupyter"), config)
    if stock_validate:
        server = config / "jupyter_server_config.json"
        data = json.loads(server.read_text())
        exts = data["ServerApp"]["jpserver_extensions"]
        exts.update({name: not on for name, on in VALIDATE_SERVER_EXTENSIONS.items()})
        server.write_text(json.dumps(data))
    settings = work / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(config),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), PYTHONWARNINGS="ignore",
               # the chapters' training demos take their smaller CI budget
               CI=os.environ.get("CI") or "1")
    port, token = free_port(18888), secrets.token_hex(16)
    log = open(work / "lab.log", "wb")
    process = subprocess.Popen(lab_command(root, port, token), cwd=root, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(root, port, token, process)
    lab.env = env  # what a second `make lab` needs to find this server
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError("JupyterLab exited:\n" + (work / "lab.log").read_text())
            try:
                lab.api("/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start in 90 s:\n"
                                       + (work / "lab.log").read_text()) from None
                time.sleep(0.3)
        yield lab
    finally:
        try:
            lab.shutdown_kernels()
        except OSError:
            pass
        _stop(process)
        log.close()
        leaked = _processes_mentioning(str(work))  # kernels: `-f <work>/runtime/kernel-*.json`
        for pid in leaked:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
    if leaked:
        raise RuntimeError(f"JupyterLab left processes behind (killed): {leaked}")


def _processes_mentioning(text: str, wait_s: float = 10) -> list[int]:
    """PIDs whose command line contains ``text``, once they had ``wait_s`` to exit."""
    deadline = time.monotonic() + wait_s
    while True:
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline and int(proc.name) != os.getpid():
                found.append(int(proc.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _stop(process: subprocess.Popen):
    """Stop the server and everything it started (kernels), by its process group."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        except ProcessLookupError:
            pass
    try:  # kernels live in the same process group; leave none behind
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def shot(page, name: str, doc_name: str | None = None) -> Path:
    """Screenshot the page to build/screenshots/; with ``make screenshots``, to docs too."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if DOC_SHOTS and doc_name:
        target = Path(DOC_SHOTS)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / f"{doc_name}.png")
    return path
