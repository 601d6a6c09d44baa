"""The sandboxed process tree behind SandboxBackend: a zygote, and the workers forked from it.

A :class:`Sandbox` holds one student's files. It starts one process (inside
bubblewrap where it works, else a plain process with limits) that imports the
worker's runtime and NumPy once and then waits: the *zygote*. Each worker, one
per exercise and one more after each crash or time-out, is forked from it and
answers within milliseconds instead of paying an interpreter start-up. The
grader hands the zygote a worker's three pipes over a Unix socket
(``SCM_RIGHTS``), and asks it to report a worker's exit status and to kill
every worker and whatever they started. A zygote that dies or stops
answering (a worker may kill it: they share a uid) is replaced by a fresh one.

Nothing of one student is ever in another student's sandbox: the grader starts
a sandbox per student and closes it before the next.

:func:`prepare` starts the sandbox of a file ahead of need, so that it boots
while `dlgrade check` loads pytest and the graders.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ALLOWED_PACKAGES = (
    "numpy",
    "gymnasium",
    "cloudpickle",
    "typing_extensions",
    "farama_notifications",
)
RUNTIME_FILES = {  # the worker's own code, copied beside it under names a submission won't use
    "dlgrade_rt_plain.py": "grader/engine/plain.py",
    "dlgrade_rt_factories.py": "grader/engine/factories.py",
    "dlgrade_rt_codec.py": "grader/sandbox/codec.py",
    "dlgrade_rt_worker.py": "grader/sandbox/worker.py",
}
NOBODY = 65534
_LIVE: set[int] = set()  # the pids of the sandboxes this process runs now


@dataclass(frozen=True)
class Limits:
    memory: int = 2 << 30  # address space, bytes
    cpu_seconds: int = 600  # CPU time of each process
    file_size: int = 64 << 20  # the largest file the worker may write
    open_files: int = 256
    processes: int = 32  # per worker; applied where the worker has a uid of its own


class WorkerGone(Exception):
    """The worker died or stopped answering."""


class ZygoteGone(Exception):
    """The sandbox's zygote died or stopped answering."""


SPAWN_TIME_LIMIT = 30.0  # the first spawn waits for the sandbox to boot and NumPy to import
CONTROL_TIME_LIMIT = 5.0  # any other request to the zygote


@dataclass
class Worker:
    """A worker forked in a sandbox: its pid there and the grader's ends of its pipes."""

    pid: int  # in the sandbox's PID namespace, where it has one
    request: int  # the grader writes requests here
    answer: int  # and reads answers here
    output: int  # and the worker's stdout and stderr here
    path: str  # the submission, as the worker sees it


class Sandbox:
    """One student's files, and the zygote the workers that run them are forked from."""

    def __init__(self, files: Iterable[Path], limits: Limits = Limits()) -> None:
        self.files = {Path(f).resolve() for f in files}
        if len({f.name for f in self.files}) != len(self.files):
            raise ValueError("the files of one sandbox need distinct names")
        self.limits = limits
        self._contents: dict[str, bytes] = {}  # the worker never sees (or changes) the originals
        for f in self.files:
            try:
                self._contents[f.name] = f.read_bytes()
            except OSError:  # gone or unreadable: the backend's source check reports it
                self._contents[f.name] = b""
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._tmp: Path | None = None
        self._cwd = ""
        self._booted = False  # a zygote of this sandbox has answered once
        self._start()

    def path_of(self, file: Path) -> str:
        """Where a worker of this sandbox sees ``file``."""
        return f"{self._cwd}/{Path(file).name}"

    # -- the zygote's process ----------------------------------------------------------------
    def _start(self) -> None:
        _become_subreaper()
        if self._tmp is not None:  # a restart: the last zygote's folder goes
            shutil.rmtree(self._tmp, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-"))
        self._tmp = tmp
        work, runtime = tmp / "work", tmp / "runtime"
        work.mkdir()
        runtime.mkdir()
        package_root = Path(__file__).resolve().parents[2]
        for name, source in RUNTIME_FILES.items():
            shutil.copyfile(package_root / source, runtime / name)
        for name, content in self._contents.items():  # copies, as they were at the first start
            (work / name).write_bytes(content)
        packages = _site_packages()
        bwrap = _bwrap()
        if bwrap:
            site, rt, cwd = "/site", "/runtime", "/sandbox"
            cmd = [bwrap, *_bwrap_base()]
            for paths in packages.values():
                for p in paths:
                    cmd += ["--ro-bind", str(p), f"{site}/{p.name}"]
            cmd += ["--ro-bind", str(runtime), rt, "--bind", str(work), cwd]
            for file in self.files:  # one exercise's code cannot rewrite another's file
                cmd += ["--ro-bind", str(work / file.name), f"{cwd}/{file.name}"]
            cmd += ["--chdir", cwd]
            for var, value in _environment(cwd).items():
                cmd += ["--setenv", var, value]
            cmd = [*cmd, "--", _interpreter()]
        else:
            site_dir = tmp / "site"
            site_dir.mkdir()
            for paths in packages.values():
                for p in paths:
                    (site_dir / p.name).symlink_to(p)
            site, rt, cwd = str(site_dir), str(runtime), str(work)
            cmd = [_interpreter()]
            os.chmod(tmp, 0o755)
            if _can_drop_privileges():  # nobody may write here, but not replace the files
                os.chmod(work, 0o1777)
        self._cwd = cwd
        boot = (
            f"import sys; sys.path[:0] = [{rt!r}, {site!r}]; "
            "import dlgrade_rt_worker as w; w.zygote(int(sys.argv[1]), sys.argv[2] == '1')"
        )
        cmd += ["-I", "-S", "-B", "-c", boot]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd += [str(theirs.fileno()), "1" if bwrap else "0"]
        limits = self.limits
        drop = bwrap is None and _can_drop_privileges()
        own_uid = drop or (bwrap is not None and os.geteuid() == 0)  # bwrap: uid 65534 there

        def in_child() -> None:
            """Runs in the forked child before exec, before anything of the student's."""
            try:  # killed with the grader, should the grader itself be killed
                ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
            except (OSError, AttributeError):
                pass
            for res, value in (
                (resource.RLIMIT_AS, limits.memory),
                (resource.RLIMIT_CPU, limits.cpu_seconds),
                (resource.RLIMIT_FSIZE, limits.file_size),
                (resource.RLIMIT_NOFILE, limits.open_files),
                (resource.RLIMIT_CORE, 0),
            ):
                resource.setrlimit(res, (value, value))
            if own_uid:  # counted per uid: only where the sandbox's uid is its alone
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

        kwargs: dict[str, Any] = {}
        if drop:
            kwargs = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        with open(tmp / "zygote.log", "wb") as log:  # the zygote's own errors, for our messages
            try:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=None if bwrap else cwd,
                    env=None if bwrap else _environment(cwd),
                    pass_fds=(theirs.fileno(),),
                    preexec_fn=in_child,
                    start_new_session=True,
                    close_fds=True,
                    **kwargs,
                )
            finally:
                theirs.close()
        _LIVE.add(self._proc.pid)
        self._ctrl = ours

    def _ask(self, request: dict[str, Any], fds: tuple[int, ...], time_limit: float) -> dict:
        """One request to the zygote and its answer; ZygoteGone when there is none."""
        if self._ctrl is None or self._proc is None:
            raise ZygoteGone("no sandbox")
        try:
            self._ctrl.settimeout(time_limit)
            socket.send_fds(self._ctrl, [json.dumps(request).encode()], list(fds))
            data = self._ctrl.recv(1 << 16)
        except (OSError, TimeoutError) as exc:
            raise ZygoteGone(self._zygote_trouble()) from exc
        try:
            answer = json.loads(data) if data else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ZygoteGone(self._zygote_trouble())
        return answer

    def _zygote_trouble(self) -> str:
        if self._proc is not None and self._proc.poll() is None:
            return "the sandbox stopped answering"
        log = ""
        if self._tmp is not None:
            try:
                lines = (self._tmp / "zygote.log").read_text(errors="replace").strip().splitlines()
                log = f": {lines[-1][:300]}" if lines else ""
            except OSError:
                pass
        return f"the sandbox's process ended{log}"

    # -- workers -----------------------------------------------------------------------------
    def spawn(self, file: Path) -> Worker:
        """A fresh worker for ``file`` (one of this sandbox's files), forked from the zygote; a
        zygote that is gone is replaced once."""
        for attempt in (1, 2):
            if self._proc is None:
                self._start()
            fds = [os.pipe() for _ in range(3)]  # requests, answers, output
            theirs = (fds[0][0], fds[1][1], fds[2][1])
            try:
                answer = self._ask({"op": "spawn"}, theirs, SPAWN_TIME_LIMIT)
            except ZygoteGone:
                for r, w in fds:
                    os.close(r)
                    os.close(w)
                if not self._booted and _bwrap():
                    _forget_bwrap()  # it never answered: perhaps bwrap no longer works here
                self._stop()
                if attempt == 2:
                    raise
                continue
            finally:
                for fd in theirs:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._booted = True
            pid = answer.get("pid")
            if not isinstance(pid, int) or isinstance(pid, bool):
                for fd in (fds[0][1], fds[1][0], fds[2][0]):
                    os.close(fd)
                self._stop()
                raise ZygoteGone("the sandbox answered nonsense")
            return Worker(pid, fds[0][1], fds[1][0], fds[2][0], self.path_of(file))
        raise AssertionError("unreachable")

    def exit_code(self, worker: Worker, wait: float) -> int | None:
        """The worker's exit status (negative: killed by that signal), waiting up to ``wait``
        seconds; None if it is still running or the zygote cannot say."""
        try:
            code = self._ask({"op": "reap", "pid": worker.pid, "wait": wait}, (), wait + 2.0)
        except ZygoteGone:
            return None
        value = code.get("code")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def kill_workers(self) -> None:
        """Kills every worker and everything they started; the zygote stays for the next."""
        try:
            self._ask({"op": "kill"}, (), CONTROL_TIME_LIMIT)
        except ZygoteGone:
            self._stop()

    def close(self) -> None:
        self._stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _stop(self) -> None:
        """Kills the whole tree: zygote, workers, and what they started."""
        proc, self._proc = self._proc, None
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        _LIVE.discard(proc.pid)
        _kill_strays(proc.pid)


# -- sandboxes started ahead of need ---------------------------------------------------------------
_PREPARED: dict[Path, Sandbox] = {}


def prepare(path: Path) -> None:
    """Starts the sandbox for ``path`` now, in the background; the SandboxBackend of that file
    takes it over (:func:`take_prepared`)."""
    path = Path(path).resolve()
    if path in _PREPARED or not path.is_file():
        return
    try:
        _PREPARED[path] = Sandbox([path])
    except OSError:
        return  # the backend will start one itself, and report what goes wrong
    if len(_PREPARED) == 1:
        atexit.register(close_prepared)


def take_prepared(path: Path) -> Sandbox | None:
    return _PREPARED.pop(Path(path).resolve(), None)


def close_prepared() -> None:
    """Closes the prepared sandboxes nobody took (the check ended before it needed one)."""
    while _PREPARED:
        _PREPARED.popitem()[1].close()


# -- what the machine offers ----------------------------------------------------------------------
@cache
def _bwrap() -> str | None:
    """The bwrap executable, if it can actually build a sandbox here. A probe that worked is
    remembered (30 ms off every check) for this bwrap, interpreter, user and kernel, until a
    sandbox fails to boot (:func:`_forget_bwrap`)."""
    exe = shutil.which("bwrap")
    if exe is None or os.environ.get("DLGRADE_NO_BWRAP"):
        return None
    marker = _probe_marker(exe)
    if marker is not None and marker.exists():
        return exe
    probe = subprocess.run(
        [exe, *_bwrap_base(), _interpreter(), "-I", "-S", "-c", ""],
        capture_output=True,
        timeout=20,
    )
    if probe.returncode != 0:
        return None
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass
    return exe


def _probe_marker(exe: str) -> Path | None:
    from grader.paths import data_home

    try:
        stamp = (
            f"{exe}|{os.stat(exe).st_mtime_ns}|{_interpreter()}|{os.geteuid()}|{os.uname().release}"
        )
    except OSError:
        return None
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return data_home() / "cache" / f"bwrap-works-{digest}"


def _forget_bwrap() -> None:
    """A sandbox did not boot under bwrap: probe again next time."""
    exe = shutil.which("bwrap")
    marker = _probe_marker(exe) if exe else None
    if marker is not None:
        marker.unlink(missing_ok=True)


def isolation() -> str:
    """One line on how submissions are isolated on this machine, for reports."""
    if _bwrap():
        return "bubblewrap sandbox: separate process, file system and PID namespace"
    if os.environ.get("DLGRADE_NO_BWRAP"):
        why = "bubblewrap turned off by DLGRADE_NO_BWRAP"
    elif shutil.which("bwrap") is None:
        why = "bubblewrap is not installed"
    else:
        why = "bubblewrap cannot run here"
    who = " under uid 65534" if _can_drop_privileges() else ""
    return (
        f"worker process{who} with limits, no OS sandbox ({why}): a hostile submission could "
        "read files this user can read"
    )


@cache
def _interpreter() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def _site_packages() -> dict[str, list[Path]]:
    """name -> the paths (package dir or module, plus NumPy's ``.libs``) of the allowed packages."""
    found: dict[str, list[Path]] = {}
    for name in ALLOWED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        path = origin.parent if origin.name == "__init__.py" else origin
        paths = [path]
        libs = path.with_name(path.name + ".libs")
        if libs.is_dir():
            paths.append(libs)
        found[name] = paths
    return found


def _bwrap_base() -> list[str]:
    base = Path(sys.base_prefix).resolve()
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if os.geteuid() == 0:
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "lib32", "sbin"):
        p = Path("/" + top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    if not str(base).startswith("/usr/"):
        args += ["--ro-bind", str(base), str(base)]
    for site in {Path(p) for p in sys.path if p.endswith("-packages")} | {
        base / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    }:
        if site.is_dir() and str(site.resolve()).startswith(str(base)):
            args += ["--tmpfs", str(site.resolve())]  # hide the interpreter's own packages
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    return args


def _path_open_to_others(path: str) -> bool:
    p = Path(path)
    for part in [p, *p.parents]:
        try:
            if not part.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


@cache
def _can_drop_privileges() -> bool:
    """Root can run the worker as nobody, if nobody can run the interpreter."""
    return os.geteuid() == 0 and _path_open_to_others(_interpreter())


@cache
def _become_subreaper() -> None:
    """Orphans of a worker become children of this process, so none escapes the clean-up."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _environment(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _kill_strays(root_pid: int) -> None:
    """Kills what a sandbox left behind: its process group and session, and orphans that escaped
    into new sessions (they were re-parented to this process, the subreaper)."""
    from grader.sandbox.worker import kill_processes

    me, my_sid = os.getpid(), os.getsid(0)
    kill_processes(
        lambda pid, ppid, pgid, sid: (
            pid not in _LIVE and (root_pid in (pgid, sid) or (ppid == me and sid != my_sid))
        )
    )
