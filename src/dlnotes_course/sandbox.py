"""Start a student process in a sandbox, with limits, and kill it for sure.

The sandbox is Debian's ``bubblewrap`` (``bwrap``) plus cgroups:

- a read-only view of the system, in which the repository (instructor source,
  hidden tests), the course directory (gradebook), the submissions, the output
  folder and every temporary directory are replaced by empty folders, and the
  packages a graded answer may not use (dlnotes, scikit-learn, torch) are
  emptied too; the Python installation and numpy/scipy stay readable;
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

from .wire import Channel

HERE = Path(__file__).resolve().parent
RUNTIME_FILES = ("wire.py", "student_process.py")
SANDBOX_DIR = "/tmp/grader"
PRIVATE = "/tmp/student"
FORBIDDEN_DISTS = ("torch", "sklearn", "dlnotes", "dlnotes_course", "nbgrader", "functorch")
KEPT_OUTPUT = 64 * 1024
PIDS_MAX = 64


def _site_packages() -> list[Path]:
    import site
    dirs = set(site.getsitepackages()) | {site.getusersitepackages()}
    return [Path(d) for d in dirs if Path(d).is_dir()]


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


class Cgroup:
    """A memory + pids cgroup for one student process (v2, or v1 hierarchies)."""

    def __init__(self, dirs: list[Path], version: int):
        self.dirs = dirs
        self.version = version

    @staticmethod
    def _own_path(controller: str) -> str:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if (controller == "" and names == "") or controller in names.split(","):
                return path
        raise OSError(f"no {controller or 'v2'} cgroup")

    @classmethod
    def create(cls, memory_mb: int) -> tuple[Cgroup | None, str]:
        name = f"dlnotes-{uuid.uuid4().hex[:12]}"
        memory = str(int(memory_mb) * 1024 * 1024)
        try:
            root = Path("/sys/fs/cgroup")
            v2 = root / "cgroup.controllers"
            if v2.exists() and {"memory", "pids"} <= set(v2.read_text().split()):
                parent = root / cls._own_path("").lstrip("/")
                d = parent / name
                d.mkdir()
                (d / "memory.max").write_text(memory)
                if (d / "memory.swap.max").exists():
                    (d / "memory.swap.max").write_text("0")
                (d / "pids.max").write_text(str(PIDS_MAX))
                return cls([d], 2), ""
            mem = root / "memory" / cls._own_path("memory").lstrip("/") / name
            pids = root / "pids" / cls._own_path("pids").lstrip("/") / name
            mem.mkdir()
            try:
                pids.mkdir()
            except OSError:
                mem.rmdir()
                raise
            (mem / "memory.limit_in_bytes").write_text(memory)
            swap = mem / "memory.memsw.limit_in_bytes"
            if swap.exists():
                try:
                    swap.write_text(memory)
                except OSError:
                    pass
            (pids / "pids.max").write_text(str(PIDS_MAX))
            return cls([mem, pids], 1), ""
        except OSError as exc:
            return None, f"cgroups unavailable ({exc.strerror or exc})"

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_kills(self) -> int:
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
            pids = set()
            for f in self.procs_files():
                try:
                    pids |= {int(p) for p in Path(f).read_text().split()}
                except OSError:
                    pass
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _drain(stream, sink: list, counter: list) -> None:
    """Read a pipe to the end, keeping the first KEPT_OUTPUT bytes only."""
    kept = 0
    while True:
        chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
        if not chunk:
            break
        counter[0] += len(chunk)
        if kept < KEPT_OUTPUT:
            sink.append(chunk[:KEPT_OUTPUT - kept])
            kept += len(sink[-1])


class StudentProcess:
    """One sandboxed student process and the grader's end of its channel."""

    def __init__(self, memory_mb: int = 2048, hide: tuple = (), notebook: bytes = b"",
                 sandbox: bool = True, writable=None):
        self.cgroup, problem = Cgroup.create(memory_mb)
        notes = [problem] if problem else []
        grader_end, student_end = socket.socketpair()
        self.workdir = Path(tempfile.mkdtemp(prefix="dlnotes-student-"))
        (self.workdir / "submission.ipynb").write_bytes(notebook)
        fd = student_end.fileno()
        use_bwrap = sandbox and not bwrap_problem()
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
            writes = " ".join(f'echo $$ > "{f}";' for f in self.cgroup.procs_files())
            cmd = ["/bin/sh", "-c", writes + ' exec "$@"', "sh", *cmd]
        home = PRIVATE if use_bwrap else str(self.workdir)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home,
               "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen(cmd, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=cwd, env=env, start_new_session=True)
        student_end.close()
        self.output: list[bytes] = []
        self.output_bytes = [0]
        self._drainer = threading.Thread(target=_drain, args=(self.proc.stdout, self.output,
                                                              self.output_bytes), daemon=True)
        self._drainer.start()
        self.channel = Channel(grader_end, "g", trusted=True)
        self.warning = "; ".join(notes)
        self.sandboxed = use_bwrap

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
            for name in FORBIDDEN_DISTS:
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
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, seconds: float) -> None:
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

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
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)
