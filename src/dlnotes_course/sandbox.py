"""Start a student process in a sandbox, with limits, and kill it for sure.

The sandbox is Debian's ``bubblewrap`` (``bwrap``) plus cgroups:

- a read-only view of the system, in which the repository (instructor source,
  hidden tests), the course directory (gradebook), the submissions, the output
  folder and every temporary directory are replaced by empty folders, and the
  packages a graded answer may not use (:data:`policy.FORBIDDEN_PACKAGES`) are
  emptied too (and the student process refuses to import them); the Python
  installation and numpy/scipy stay readable;
- a private writable ``/tmp/student`` holding only this student's notebook;
- new user (uid 65534, no capabilities), pid, network, IPC and UTS
  namespaces: no network at all (the grader talks to the process over an
  inherited socket, not TCP), no view of other processes;
- ``--die-with-parent``: it dies with the grader's worker, which dies with the
  driver;
- a memory cgroup (``--memory`` MB for the process and its children, OOM kills
  counted) and a pids cgroup (64 tasks: a fork storm hits the wall).
  cgroup v2 is used where its controllers are available, else v1.

Where ``bwrap`` is missing or cannot start, the student process runs without
the filesystem and namespace isolation and :attr:`StudentProcess.warning` says
so; the grader puts that warning in its report. It never falls back silently.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .policy import FORBIDDEN_PACKAGES
from .wire import GraderChannel

HERE = Path(__file__).resolve().parent
# shipped into the sandbox: standard library and numpy only
RUNTIME_FILES = ("policy.py", "codec.py", "wire.py", "student_process.py")
SANDBOX_DIR = "/tmp/grader"
PRIVATE = "/tmp/student"
PIDS_MAX = 64
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "dlnotes-"


def _site_packages() -> list[Path]:
    import site
    dirs = set(site.getsitepackages()) | {site.getusersitepackages()}
    return [Path(d) for d in dirs if Path(d).is_dir()]


def sandboxed(requested: bool = True) -> bool:
    """Whether a student process runs in bubblewrap: asked for, and bwrap works here."""
    return bool(requested) and not bwrap_problem()


@functools.cache
def bwrap_problem() -> str:
    """Empty if bubblewrap works here, else why not."""
    exe = shutil.which("bwrap")
    if not exe:
        return "bubblewrap (bwrap) is not installed"
    try:
        probe = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user",
                                "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
                                "--proc", "/proc", "--dev", "/dev", "true"],
                               capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if probe.returncode != 0:
        return "bwrap could not start: " + probe.stderr.decode(errors="replace").strip()[:200]
    return ""


def _own_cgroup(controller: str) -> Path:
    """This process's cgroup folder for ``controller`` (``""``: the v2 hierarchy).

    A grader process that runs in a ``dlnotes-*`` cgroup of its own (a
    per-submission limit) makes its cgroups beside that one, not inside it.
    """
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            base = CGROUP_ROOT if controller == "" else CGROUP_ROOT / controller
            d = base / path.lstrip("/")
            return d.parent if d.name.startswith(CGROUP_PREFIX) else d
    raise OSError(f"no {controller or 'v2'} cgroup")


def _v2() -> bool:
    controllers = CGROUP_ROOT / "cgroup.controllers"
    return controllers.exists() and {"memory", "pids"} <= set(controllers.read_text().split())


class Cgroup:
    """A memory + pids cgroup (v2, or v1 hierarchies) for any process and its children.

    >>> cgroup, problem = Cgroup.create(2048, name_prefix="dlnotes-grader-")  # doctest: +SKIP
    >>> cgroup.add(pid); ...; cgroup.oom_kills(); cgroup.remove()             # doctest: +SKIP
    """

    def __init__(self, dirs: list[Path], version: int):
        self.dirs = dirs
        self.version = version

    @classmethod
    def create(cls, memory_mb: int, name_prefix: str = CGROUP_PREFIX,
               pids_max: int = PIDS_MAX) -> tuple[Cgroup | None, str]:
        """A new cgroup limited to ``memory_mb`` MB (no swap) and ``pids_max`` tasks.

        Returns ``(cgroup, "")``, or ``(None, why)`` where cgroups cannot be made.
        ``name_prefix`` must start with ``dlnotes-`` (what :func:`sweep_stale` removes).
        """
        if not name_prefix.startswith(CGROUP_PREFIX):
            raise ValueError(f"name_prefix must start with {CGROUP_PREFIX!r}, got {name_prefix!r}")
        name = f"{name_prefix}{uuid.uuid4().hex[:12]}"
        memory = str(int(memory_mb) * 1024 * 1024)
        try:
            if _v2():
                d = _own_cgroup("") / name
                d.mkdir()
                cgroup = cls([d], 2)
                try:
                    (d / "memory.max").write_text(memory)
                    if (d / "memory.swap.max").exists():
                        (d / "memory.swap.max").write_text("0")
                    (d / "pids.max").write_text(str(pids_max))
                except OSError:
                    cgroup.remove()
                    raise
                return cgroup, ""
            mem = _own_cgroup("memory") / name
            pids = _own_cgroup("pids") / name
            mem.mkdir()
            cgroup = cls([mem], 1)
            try:
                pids.mkdir()
                cgroup.dirs.append(pids)
                (mem / "memory.limit_in_bytes").write_text(memory)
                swap = mem / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    try:
                        swap.write_text(memory)
                    except OSError:
                        pass
                (pids / "pids.max").write_text(str(pids_max))
            except OSError:
                cgroup.remove()
                raise
            return cgroup, ""
        except OSError as exc:
            return None, f"cgroups unavailable ({exc.strerror or exc})"

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def add(self, pid: int) -> None:
        """Move process ``pid`` (and the children it starts later) into this cgroup."""
        for f in self.procs_files():
            Path(f).write_text(str(int(pid)))

    def pids(self) -> set[int]:
        found = set()
        for f in self.procs_files():
            try:
                found |= {int(p) for p in Path(f).read_text().split()}
            except OSError:
                pass
        return found

    def oom_kills(self) -> int:
        """How many processes of this cgroup the kernel killed for memory."""
        d = self.dirs[0]
        path = d / ("memory.events" if self.version == 2 else "memory.oom_control")
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except OSError:
            pass
        return 0

    def kill_all(self) -> None:
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what still runs in it and delete it."""
        self.kill_all()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def sweep_stale(min_age: float = 600.0, prefix: str = CGROUP_PREFIX) -> list[str]:
    """Remove empty ``dlnotes-*`` cgroups older than ``min_age`` seconds (left by a killed run).

    Only empty ones: a cgroup with a process in it belongs to a run still going
    (and one younger than ``min_age`` may be about to get its process).
    ``prefix`` narrows the names swept. Returns the folders removed.
    """
    if min_age < 0:
        raise ValueError(f"min_age must be >= 0 seconds, got {min_age}")
    if not prefix.startswith(CGROUP_PREFIX):
        raise ValueError(f"prefix must start with {CGROUP_PREFIX!r}, got {prefix!r}")
    try:
        parents = [_own_cgroup("")] if _v2() else [_own_cgroup("memory"), _own_cgroup("pids")]
    except OSError:
        return []
    removed, now = [], time.time()
    for parent in parents:
        try:
            children = [d for d in parent.iterdir() if d.name.startswith(prefix)]
        except OSError:
            continue
        for d in children:
            try:
                if now - d.stat().st_mtime < min_age or (d / "cgroup.procs").read_text().strip():
                    continue
                d.rmdir()
                removed.append(str(d))
            except OSError:
                continue
    return removed


def _drain(stream, counter: list) -> None:
    """Read a pipe to the end, counting its bytes (the output itself is not kept)."""
    while True:
        chunk = stream.read1(1 << 16)
        if not chunk:
            break
        counter[0] += len(chunk)


class StudentProcess:
    """One sandboxed student process and the grader's end of its channel.

    ``hide``: folders replaced by empty ones in the sandbox; ``notebook``: the
    bytes put in the private folder; ``sandbox=False`` runs without bubblewrap
    (the cgroup limits still apply); ``writable(array) -> bool``: the arrays the
    student's in-place changes may reach (see :class:`wire.GraderChannel`).
    :attr:`sandboxed` says whether bubblewrap runs it, :attr:`warning` what
    isolation is missing, :attr:`output_bytes` how much the process printed (the
    output itself is discarded).
    """

    def __init__(self, memory_mb: int = 2048, hide: tuple = (), notebook: bytes = b"",
                 sandbox: bool = True, writable=None):
        self.cgroup, problem = Cgroup.create(memory_mb)
        self.workdir = Path(tempfile.mkdtemp(prefix="dlnotes-student-"))
        try:
            self._start(problem, hide, notebook, sandbox, writable)
        except BaseException:
            if self.cgroup is not None:
                self.cgroup.remove()
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise

    def _start(self, problem, hide, notebook, sandbox, writable) -> None:
        notes = [problem] if problem else []
        grader_end, student_end = socket.socketpair()
        (self.workdir / "submission.ipynb").write_bytes(notebook)
        fd = student_end.fileno()
        use_bwrap = self.sandboxed = sandboxed(sandbox)
        if sandbox and not use_bwrap:
            notes.append(f"sandbox unavailable: {bwrap_problem()}")
        if not sandbox:
            notes.append("sandbox disabled")
        python = sys.executable
        if use_bwrap:
            cmd = self._bwrap_command(hide, fd) + [python, "-I",
                                                   f"{SANDBOX_DIR}/student_process.py", str(fd)]
            cwd = None
        else:
            cmd = [python, "-I", str(HERE / "student_process.py"), str(fd)]
            cwd = self.workdir
        if self.cgroup is not None:
            # never run outside the limits: a failed write ends the process
            writes = " ".join(f'echo $$ > "{f}" || exit 125;' for f in self.cgroup.procs_files())
            cmd = ["/bin/sh", "-c", writes + ' exec "$@"', "sh", *cmd]
        home = PRIVATE if use_bwrap else str(self.workdir)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home,
               "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen(cmd, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=cwd, env=env, start_new_session=True)
        student_end.close()
        self._printed = [0]
        self._drainer = threading.Thread(target=_drain, args=(self.proc.stdout, self._printed),
                                         daemon=True)
        self._drainer.start()
        self.channel = GraderChannel(grader_end, writable=writable)
        self.warning = "; ".join(notes)

    @property
    def output_bytes(self) -> int:
        """Bytes the process wrote to stdout and stderr so far."""
        return self._printed[0]

    def _bwrap_command(self, hide, fd) -> list[str]:
        cmd = ["bwrap", "--ro-bind", "/", "/"]
        hidden = {Path(p).resolve() for p in hide if p}
        hidden |= {Path(tempfile.gettempdir()).resolve(), Path("/tmp"), Path("/var/tmp"),
                   Path("/home")}
        for d in sorted(hidden, key=lambda p: len(p.parts)):
            if d.is_dir() and d != Path("/"):
                cmd += ["--tmpfs", str(d)]
        # what must stay visible under a hidden folder: the interpreter and its packages
        keep = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
        for k in sorted(keep, key=lambda p: len(p.parts)):
            if any(h == k or h in k.parents for h in hidden):
                cmd += ["--ro-bind", str(k), str(k)]
        for sp in _site_packages():
            for name in FORBIDDEN_PACKAGES:
                if (sp / name).is_dir():
                    cmd += ["--tmpfs", str(sp / name)]
        cmd += ["--dir", SANDBOX_DIR]
        for f in RUNTIME_FILES:
            cmd += ["--ro-bind", str(HERE / f), f"{SANDBOX_DIR}/{f}"]
        cmd += ["--dir", PRIVATE,
                "--ro-bind", str(self.workdir / "submission.ipynb"), f"{PRIVATE}/submission.ipynb",
                "--proc", "/proc", "--dev", "/dev",
                "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
                "--cap-drop", "ALL", "--die-with-parent", "--new-session",
                "--chdir", PRIVATE]
        return cmd

    # -- life and death ------------------------------------------------------
    def oom_killed(self) -> bool:
        return self.cgroup is not None and self.cgroup.oom_kills() > 0

    def exit_description(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "still running"
        # bwrap reports a child killed by signal N as exit status 128 + N
        signum = -code if code < 0 else (code - 128 if 128 < code < 160 else 0)
        if signum:
            try:
                return f"was killed by {signal.Signals(signum).name}"
            except ValueError:
                return f"was killed by signal {signum}"
        return f"exited with status {code}"

    def close(self) -> None:
        """Kill the process and its children; always remove the cgroup and the folder."""
        try:
            try:
                self.channel.sock.close()
            except OSError:
                pass
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if self.cgroup is not None:
                self.cgroup.kill_all()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._drainer.join(timeout=5)
        finally:
            if self.cgroup is not None:
                self.cgroup.remove()
            shutil.rmtree(self.workdir, ignore_errors=True)
