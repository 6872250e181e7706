"""``make lab``: JupyterLab on the reader's working copy, set up for readers.

What a reader gets, all from the project's own install:

- JupyterLab 4 on ``127.0.0.1`` with ``workspace/`` (see :mod:`.workspace`) as
  its root, the venv's ``python3`` kernel (``dlnotes`` importable) and
  ipywidgets;
- nbgrader's *student* lab parts (the **Validate** button and the assignment
  list; the button's server handler is :mod:`.check`'s, which runs the
  provided cells, the answers and the visible tests, demos skipped), while
  its *instructor* parts (formgrader, create-assignment, course list) are
  switched off at the venv's level (``sys_prefix``) by
  :func:`configure_for_readers`: JupyterLab's ``page_config.json`` and the
  server's extension switches under ``.venv/etc/jupyter/``;
- a printed URL and how to stop it; a second ``make lab`` while one runs on
  the same folder points at the running one instead of failing on the port.

The browser tests (``tests/test_browser.py``) start JupyterLab through
:func:`lab_command` too, so they test what a reader gets.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from pathlib import Path

from .layout import chapters_dir, repo_root

# nbgrader's lab plugins and server extensions that only an instructor uses.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
# The Validate button keeps nbgrader's lab part; its server handler is
# dlnotes-check's (:mod:`.check`): demos skipped, a teaching summary in seconds.
VALIDATE_SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.validate_assignment": False,
    "dlnotes_course.check": True,
}
STUDENT_LAB_PLUGINS = (
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:assignment-list",
)


def _config_dir(prefix: str | None = None) -> Path:
    return Path(prefix or sys.prefix) / "etc" / "jupyter"


def _merge_json(path: Path, update) -> bool:
    """Apply ``update(dict)`` to a JSON file; write it only if it changed."""
    data = json.loads(path.read_text()) if path.exists() else {}
    before = json.dumps(data, sort_keys=True)
    update(data)
    if json.dumps(data, sort_keys=True) == before:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return True


def configure_for_readers(prefix: str | None = None) -> bool:
    """Switch off nbgrader's instructor parts in this venv; True if anything changed.

    Writes what ``jupyter labextension disable --level=sys_prefix`` and
    ``jupyter server extension disable --sys-prefix`` write, without their
    start-up cost: ``disabledExtensions`` in ``labconfig/page_config.json`` and
    ``jpserver_extensions`` in ``jupyter_server_config.json``, where nbgrader's
    Validate handler is swapped for :mod:`.check`'s. Idempotent.
    """
    etc = _config_dir(prefix)

    def lab(data):
        disabled = data.setdefault("disabledExtensions", {})
        for plugin in INSTRUCTOR_LAB_PLUGINS:
            disabled[plugin] = True
        for plugin in STUDENT_LAB_PLUGINS:
            disabled.pop(plugin, None)

    def server(data):
        exts = data.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})
        for ext in INSTRUCTOR_SERVER_EXTENSIONS:
            exts[ext] = False
        exts.update(VALIDATE_SERVER_EXTENSIONS)

    changed = _merge_json(etc / "labconfig" / "page_config.json", lab)
    return _merge_json(etc / "jupyter_server_config.json", server) or changed


# JupyterLab 4.4+ sends widget messages to a kernel *subshell* by default: a
# slider's callback then runs in another thread while a cell runs in the main
# one. matplotlib is not thread-safe (seen in the browser tests: a log-scale
# tick label failing to parse inside the optimizer chapter's widget), so every
# JupyterLab of the book keeps comms on the main shell.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"},
}


def install_lab_overrides(prefix: str | None = None) -> Path:
    """Write the book's JupyterLab setting defaults for the environment at ``prefix``.

    They go to ``share/jupyter/lab/settings/overrides.d/dlnotes.json``, which
    JupyterLab reads as defaults (a user's own settings still win).
    """
    path = Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / \
        "overrides.d" / "dlnotes.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(LAB_OVERRIDES, indent=2, sort_keys=True) + "\n")
    return path


def free_port(start: int = 8888, tries: int = 50) -> int:
    """The first loopback port from ``start`` on that nothing listens on."""
    for port in range(start, start + tries):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + tries - 1}")


def lab_command(root_dir: Path, port: int, token: str, extra=()) -> list[str]:
    """The ``jupyter lab`` command line for ``root_dir`` on ``127.0.0.1:port``."""
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to run as root otherwise
    return cmd + list(extra)


def running_on(root_dir: Path) -> dict | None:
    """The JupyterLab/Jupyter server already serving ``root_dir``, if any."""
    from jupyter_server.serverapp import list_running_servers

    want = Path(root_dir).resolve()
    for info in list_running_servers():
        root = info.get("root_dir") or info.get("notebook_dir") or ""
        try:
            same = Path(root).resolve() == want
        except OSError:
            same = False
        if same and _pid_alive(info.get("pid")):
            return info
    return None


def _pid_alive(pid) -> bool:
    if not pid:
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv=None) -> int:
    """``python -m dlnotes_course.lab [--workspace DIR] [--port N]``: what ``make lab`` runs."""
    import argparse

    from .workspace import sync

    parser = argparse.ArgumentParser(prog="dlnotes-lab", description=main.__doc__)
    parser.add_argument("--workspace", type=Path, default=repo_root() / "workspace")
    parser.add_argument("--port", type=int, default=8888, help="first port to try (8888)")
    parser.add_argument("--install-settings", action="store_true",
                        help="only write the book's JupyterLab setting defaults into this venv")
    args = parser.parse_args(argv)
    install_lab_overrides()
    if args.install_settings:
        return 0
    workspace = args.workspace.resolve()

    for line in sync(chapters_dir(), workspace):
        print(line)
    configure_for_readers()
    info = running_on(workspace)
    if info:
        url = f"{info['url'].rstrip('/')}/lab?token={info.get('token', '')}"
        print(f"JupyterLab is already running on {workspace} (pid {info.get('pid')}):\n"
              f"  {url}\n"
              f"Open that URL, or stop it first: Ctrl-C in its terminal, or "
              f"`.venv/bin/jupyter server stop {info['port']}`.")
        return 0

    port = free_port(args.port)
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    print(f"\nJupyterLab on your working copy ({workspace}):\n  {url}\n"
          "Open that URL in your browser. Stop JupyterLab with Ctrl-C (twice) in this "
          f"terminal, or `.venv/bin/jupyter server stop {port}` from another one.\n",
          flush=True)
    cmd = lab_command(workspace, port, token)
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
