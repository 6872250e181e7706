"""``make hub``: a course JupyterHub on 127.0.0.1, with an instructor and two students.

What it sets up (as root; the hub test in ``tests/test_hub.py`` uses the same
functions with its own accounts and folder):

- system accounts made with ``useradd`` and passwords set with ``chpasswd``;
  the hub logs them in with PAM and starts each one's server as that user;
- the users' environment is ``$DLNOTES_HUB_PREFIX`` (``/opt/dlnotes-hub``,
  built by ``make hub-env`` from Debian's ``python3``: the project's own
  ``.venv`` may sit where other users cannot read), with ``configurable-http-proxy``
  from npm in its ``proxy/`` folder;
- ``BASE/exchange``: nbgrader's exchange with the permissions of
  :func:`dlnotes_course.exchange.prepare_exchange`;
- ``BASE/jupyter/nbgrader_config.py`` for everyone (course id, exchange, the
  private submit) and ``BASE/students/etc/jupyter`` switching off nbgrader's
  instructor parts for students (as ``make lab`` does for readers);
- the instructor's ``~/dlnotes`` (a clone of this repository: the chapter
  sources) and ``~/course`` (``dlnotes-course init``);
- ``BASE/state`` (root only): the hub's database, cookie secret, log, settings.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .exchange import SUBMIT_CLASS, prepare_exchange
from .lab import configure_for_readers, free_port
from .layout import repo_root

PREFIX = Path(os.environ.get("DLNOTES_HUB_PREFIX", "/opt/dlnotes-hub"))
COURSE_ID = "dlnotes"

NBGRADER_CONFIG = '''"""nbgrader settings every user of this hub shares (dlnotes_course.hub)."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.ExchangeFactory.submit = {submit!r}
'''

INSTRUCTOR_NBGRADER_CONFIG = '''"""The formgrader and nbgrader's command line use ~/course."""
from dlnotes_course.course import load_course

c = get_config()  # noqa: F821
c.merge(load_course("~/course"))
'''


def home(user: str) -> Path:
    import pwd

    return Path(pwd.getpwnam(user).pw_dir)


def create_user(name: str, password: str) -> None:
    """A system account with a home folder and a password (PAM logs it in)."""
    subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name],
                   check=True, capture_output=True, text=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", check=True,
                   capture_output=True, text=True)


def user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def remove_user(name: str) -> None:
    """Stop everything ``name`` runs, then delete the account and its home."""
    if not user_exists(name):
        return
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    time.sleep(0.2)
    subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


def user_env(user: str, **extra) -> dict:
    return {"HOME": str(home(user)), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
            "PATH": f"{PREFIX / 'bin'}:/usr/local/bin:/usr/bin:/bin", **extra}


def as_user(user: str, cmd: list[str], env: dict | None = None, check: bool = True,
            timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd`` as ``user`` (``runuser``), in their home, with a clean environment."""
    env = env or user_env(user)
    full = ["runuser", "-u", user, "--", "env", "-i",
            *[f"{k}={v}" for k, v in env.items()], *cmd]
    result = subprocess.run(full, cwd=env["HOME"], capture_output=True, text=True,
                            timeout=timeout, **kw)
    if check and result.returncode:
        raise RuntimeError(f"as {user}: {' '.join(cmd)} exited {result.returncode}:\n"
                           f"{result.stdout}\n{result.stderr}")
    return result


def instructor_env(instructor: str) -> dict:
    return user_env(instructor, DLNOTES_ROOT=str(home(instructor) / "dlnotes"))


def setup(base: Path, instructor: str, students: list[str], repo: Path | None = None,
          driver_token: str | None = None) -> dict:
    """Prepare folders, exchange and the instructor's course; return the hub's settings."""
    if not (PREFIX / "bin" / "jupyterhub").exists():
        raise RuntimeError(f"no hub environment in {PREFIX}: run `make hub-env` first")
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    state = base / "state"
    state.mkdir(exist_ok=True)
    os.chmod(state, 0o700)
    exchange = base / "exchange"
    prepare_exchange(exchange, COURSE_ID, instructor)
    jupyter = base / "jupyter"
    jupyter.mkdir(exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG.format(course_id=COURSE_ID, exchange=str(exchange), submit=SUBMIT_CLASS))
    # no "get Jupyter news?" prompt or update checks on a class's servers
    (jupyter / "jupyter_server_config.json").write_text(json.dumps(
        {"LabApp": {"news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}}, indent=2))
    configure_for_readers(prefix=str(base / "students"))
    for path in [jupyter, *(base / "students").rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(base / "students", 0o755)

    ihome = home(instructor)
    clone = ihome / "dlnotes"
    if not clone.exists():
        subprocess.run(["git", "clone", "--quiet", str(repo or repo_root()), str(clone)],
                       check=True, capture_output=True, text=True)
        subprocess.run(["chown", "-R", f"{instructor}:", str(clone)], check=True)
    env = instructor_env(instructor)
    as_user(instructor, [str(PREFIX / "bin" / "dlnotes-course"), "init", str(ihome / "course"),
                         "--exchange", str(exchange), "--course-id", COURSE_ID], env=env)
    as_user(instructor, ["mkdir", "-p", str(ihome / ".jupyter")], env=env)
    as_user(instructor, ["sh", "-c", f"cat > {ihome / '.jupyter' / 'nbgrader_config.py'}"],
            env=env, input=INSTRUCTOR_NBGRADER_CONFIG)

    port = free_port(8000)
    settings = {
        "port": port, "hub_port": free_port(port + 1), "proxy_api_port": 0,
        "proxy": str(PREFIX / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"),
        "prefix": str(PREFIX), "state": str(state), "exchange": str(exchange),
        "jupyter_config": str(jupyter), "student_config": str(base / "students" / "etc" /
                                                               "jupyter"),
        "instructor": instructor, "students": list(students),
        "instructor_root": str(clone), "driver_token": driver_token,
    }
    settings["proxy_api_port"] = free_port(settings["hub_port"] + 1)
    (state / "settings.json").write_text(json.dumps(settings, indent=2))
    return settings


def start(settings: dict, timeout: float = 90) -> subprocess.Popen:
    """Start JupyterHub (and its proxy); return once its API answers."""
    state = Path(settings["state"])
    log = open(state / "hub.log", "ab")
    env = {**os.environ, "DLNOTES_HUB_SETTINGS": str(state / "settings.json"),
           "PATH": f"{PREFIX / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    env.pop("DLNOTES_ROOT", None)
    proc = subprocess.Popen([str(PREFIX / "bin" / "jupyterhub"), "-f",
                             str(repo_root() / "hub" / "jupyterhub_config.py")],
                            cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{settings['port']}/hub/api/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with {proc.returncode}:\n" + tail(state))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"JupyterHub did not answer on {url} in {timeout:.0f} s:\n" + tail(state))


def tail(state: Path, lines: int = 40) -> str:
    try:
        return "\n".join((Path(state) / "hub.log").read_text(errors="replace")
                         .splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop the hub: it stops the users' servers and its proxy on the way out."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def main(argv=None) -> int:
    """``make hub``: the demo hub in /srv/dlnotes-hub, until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="dlnotes-hub", description=main.__doc__)
    parser.add_argument("--base", type=Path, default=Path("/srv/dlnotes-hub"))
    parser.add_argument("--instructor", default="dlnotes-teacher")
    parser.add_argument("--students", nargs="+", default=["dlnotes-alice", "dlnotes-bob"])
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("make hub: the demo hub creates system accounts and starts servers as them; "
              "run it as root (sudo make hub)", file=sys.stderr)
        return 2
    passwords_file = args.base / "state" / "passwords.json"
    passwords = json.loads(passwords_file.read_text()) if passwords_file.exists() else {}
    for user in [args.instructor, *args.students]:
        if not user_exists(user):
            passwords[user] = secrets.token_urlsafe(9)
            create_user(user, passwords[user])
    try:
        settings = setup(args.base, args.instructor, args.students)
        passwords_file.write_text(json.dumps(passwords, indent=2))
        os.chmod(passwords_file, 0o600)
        proc = start(settings)
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"make hub: {exc}", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{settings['port']}/"
    print(f"\nThe course hub is running at {url}\nAccounts (passwords also in {passwords_file}):")
    for user in [args.instructor, *args.students]:
        role = "instructor" if user == args.instructor else "student"
        print(f"  {user:20s} {passwords.get(user, '(existing account: its own password)'):16s}"
              f" {role}")
    print(f"\nAs {args.instructor}, in a terminal of the hub: `dlnotes-course release 01_metrics`;"
          " students then use the Assignments tab (Fetch, Submit). docs/course.md has the"
          " rest of the loop. Stop the hub with Ctrl-C.", flush=True)
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
