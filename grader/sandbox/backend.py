"""The sandboxed backend: the submission runs in a worker process the grader controls.

One worker per submission (per student and exercise), started by
:class:`SandboxBackend`, which speaks to it over two pipes in the codec of
codec.py (never pickle). The worker sees a fresh directory holding only a copy
of the submission, a minimal environment, and on its ``sys.path`` only the
standard library, NumPy and Gymnasium. Its limits are set from outside: wall
time per call (the grader kills it), address space, CPU time, file size and
output kept. A worker that times out, crashes or stops answering is killed
with everything it started, and the next call gets a fresh one.

Where bubblewrap (``bwrap``) works, the worker also runs in its own mount,
PID, network and IPC namespaces, with the file system reduced to what it
needs: it can neither see the grader's files nor signal the grader. Where it
does not, the worker runs as a plain process (under an unprivileged uid when
the grader is root and the interpreter allows it), and :func:`isolation`
says so.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grader.engine.student import RawCall, check_source, raw_call
from grader.sandbox import codec
from grader.sandbox.worker import (
    IMPORT_TIME_LIMIT,
    forbidden_message,
)

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
_LIVE: set[int] = set()  # the pids of the workers this process runs now
GRACE = 1.0  # seconds past a call's limit before the worker is killed from outside
OUTPUT_KEEP = 3000  # bytes of a call's output kept for the report


@dataclass(frozen=True)
class Limits:
    memory: int = 2 << 30  # address space, bytes
    cpu_seconds: int = 600  # CPU time of the whole worker
    file_size: int = 64 << 20  # the largest file the worker may write
    open_files: int = 256
    processes: int = 32  # per worker; applied where the worker has a uid of its own


class WorkerGone(Exception):
    """The worker died or stopped answering."""


# -- what the machine offers ----------------------------------------------------------------------
@cache
def _bwrap() -> str | None:
    """The bwrap executable, if it can actually build a sandbox here."""
    exe = shutil.which("bwrap")
    if exe is None or os.environ.get("DLGRADE_NO_BWRAP"):
        return None
    probe = subprocess.run(
        [exe, *_bwrap_base(), _interpreter(), "-I", "-S", "-c", ""],
        capture_output=True,
        timeout=20,
    )
    return exe if probe.returncode == 0 else None


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


# -- the backend --------------------------------------------------------------------------------
class SandboxBackend:
    """A Backend (grader/engine/student.py) that runs the submission in a worker process."""

    def __init__(
        self, path: Path, display_path: str | None = None, limits: Limits = Limits()
    ) -> None:
        self.path = path.resolve()
        self.display_path = display_path or str(path)
        self.limits = limits
        self._error: str | None = None
        self._forbidden: str | None = None
        self._has: dict[str, bool] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._error = check_source(self.path, self.display_path)
        if self._error is None:
            self._start()

    # -- set-up --------------------------------------------------------------------------------
    def _prepare_dir(self) -> tuple[Path, list[str]]:
        """The worker's directory (the submission, its runtime) and the command that starts it."""
        tmp = Path(tempfile.mkdtemp(prefix="dlgrade-worker-"))
        self._tmp = tmp
        work, runtime = tmp / "work", tmp / "runtime"
        work.mkdir()
        runtime.mkdir()
        package_root = Path(__file__).resolve().parents[2]
        for name, source in RUNTIME_FILES.items():
            shutil.copyfile(package_root / source, runtime / name)
        shutil.copyfile(self.path, work / self.path.name)
        packages = _site_packages()
        bwrap = _bwrap()
        if bwrap:
            site, rt, cwd = "/site", "/runtime", "/sandbox"
            cmd = [bwrap, *_bwrap_base()]
            for paths in packages.values():
                for p in paths:
                    cmd += ["--ro-bind", str(p), f"{site}/{p.name}"]
            cmd += ["--ro-bind", str(runtime), rt, "--bind", str(work), cwd, "--chdir", cwd]
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
            if _can_drop_privileges():
                os.chown(work, NOBODY, NOBODY)
        boot = (
            f"import sys; sys.path[:0] = [{rt!r}, {site!r}]; "
            "import dlgrade_rt_worker as w; w.serve(int(sys.argv[1]), int(sys.argv[2]))"
        )
        cmd += ["-I", "-S", "-B", "-c", boot]  # the pipes' numbers follow, in _start
        self._worker_path = f"{cwd}/{self.path.name}"
        return Path(cwd), cmd

    def _start(self) -> None:
        _become_subreaper()
        cwd, cmd = self._prepare_dir()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        cmd += [str(req_r), str(resp_w)]
        limits = self.limits
        drop = _bwrap() is None and _can_drop_privileges()
        own_uid = drop or (
            _bwrap() is not None and os.geteuid() == 0
        )  # bwrap: uid 65534 in its own user namespace

        def in_child() -> None:
            """Runs in the forked child before exec, before anything of the student's."""
            try:  # killed with the grader, should the grader itself be killed
                ctypes.CDLL(None, use_errno=True).prctl(
                    1, signal.SIGKILL, 0, 0, 0
                )  # PR_SET_PDEATHSIG
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
            if own_uid:  # counted per uid: only where the worker's uid is its alone
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

        kwargs: dict[str, Any] = {}
        if drop:
            kwargs = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        try:
            self._proc = proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                cwd=None if _bwrap() else cwd,
                env=None if _bwrap() else _environment(str(cwd)),
                pass_fds=(req_r, resp_w),
                preexec_fn=in_child,
                start_new_session=True,
                close_fds=True,
                **kwargs,
            )
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        _LIVE.add(proc.pid)
        self._req, self._resp, self._out = req_w, resp_r, out_r
        os.set_blocking(self._out, False)
        try:
            hello = self._exchange(
                {"path": self._worker_path, "display_path": self.display_path},
                IMPORT_TIME_LIMIT,
            )
        except TimeoutError:
            self._error = f"importing {self.display_path} took longer than {IMPORT_TIME_LIMIT:g} s"
            self._kill()
            return
        except WorkerGone as exc:
            self._error = f"importing {self.display_path} ended the worker process ({exc})"
            self._kill()
            return
        self._note_forbidden(hello)
        if hello.get("error"):
            self._error = str(hello["error"])

    # -- talking to the worker -------------------------------------------------------------------
    def _exchange(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        """Sends one request and waits for its answer, draining the worker's output meanwhile."""
        if self._proc is None:
            raise WorkerGone("no worker")
        data = codec.frame(message)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._req, view) :]
        except BrokenPipeError as exc:
            raise WorkerGone(self._exit_text()) from exc
        deadline = time.monotonic() + time_limit + GRACE
        answer = bytearray()
        need: int | None = None
        kept, dropped = bytearray(), 0
        try:
            while need is None or len(answer) < need:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                ready, _, _ = select.select([self._resp, self._out], [], [], left)
                if self._out in ready:
                    chunk = self._read_output()
                    room = max(0, OUTPUT_KEEP - len(kept))
                    kept += chunk[:room]
                    dropped += max(0, len(chunk) - room)
                if self._resp in ready:
                    chunk = os.read(self._resp, 1 << 20)
                    if not chunk:
                        raise WorkerGone(self._exit_text())
                    answer += chunk
                    if need is None and len(answer) >= 8:
                        need = 8 + struct.unpack("<Q", bytes(answer[:8]))[0]
                        if need > codec.MAX_FRAME + 8:
                            raise WorkerGone("the worker sent a message over the size limit")
        finally:
            try:
                chunk = self._read_output()
                room = max(0, OUTPUT_KEEP - len(kept))
                kept += chunk[:room]
                dropped += max(0, len(chunk) - room)
            except OSError:
                pass
            self._show_output(bytes(kept), dropped)
        try:
            value = codec.decode(bytes(answer[8:need]))
        except codec.CodecError as exc:
            raise WorkerGone(f"the worker sent data the grader cannot read ({exc})") from exc
        if not isinstance(value, dict):
            raise WorkerGone("the worker sent data the grader cannot read")
        return value

    def _read_output(self) -> bytes:
        chunks = []
        for _ in range(64):  # at most 64 pipe-fulls per wake-up: never starve the answer
            try:
                chunk = os.read(self._out, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def _show_output(self, kept: bytes, dropped: int) -> None:
        """The submission's output of this call, made harmless, into the test's captured output."""
        if not kept and not dropped:
            return
        text = kept.decode("utf-8", "replace")
        safe = "".join(
            c if c.isprintable() or c in "\n\t" else "\N{REPLACEMENT CHARACTER}" for c in text
        )
        if dropped:
            safe += f"\n[{dropped} more bytes of output dropped]\n"
        sys.stdout.write(safe)

    def _exit_text(self) -> str:
        if self._proc is None:
            return "no worker"
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if _bwrap() and code > 128:  # bwrap reports its child's death by signal n as 128 + n
            code = 128 - code
        if code < 0:
            name = signal.Signals(-code).name
            extra = " (over its CPU-time limit)" if -code == signal.SIGXCPU else ""
            return f"killed by {name}{extra}"
        return f"it exited with status {code}"

    def _note_forbidden(self, answer: dict[str, Any]) -> None:
        attempts = answer.get("forbidden") or []
        if attempts and self._forbidden is None:
            self._forbidden = forbidden_message(str(attempts[0]), self.display_path)

    def _request(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        if self._proc is None:
            self._start()
            if self._error is not None:
                return {"error": self._error}
        try:
            answer = self._exchange(message, time_limit)
        except TimeoutError:
            self._kill()
            return {"timed_out": True}
        except WorkerGone as exc:
            self._kill()
            return {"error": f"the submission's process ended during the call: {exc}"}
        self._note_forbidden(answer)
        if self._forbidden is not None:
            return {"error": self._forbidden}
        return answer

    # -- the Backend protocol ------------------------------------------------------------------
    def import_error(self) -> str | None:
        return self._error or self._forbidden

    def violation(self) -> str | None:
        """Why the exercise must score 0 whatever the tests said (a forbidden import at run time)."""
        return self._forbidden

    def has(self, name: str) -> bool:
        if name not in self._has:
            answer = self._request({"op": "has", "name": name}, IMPORT_TIME_LIMIT)
            self._has[name] = answer.get("result") is True
        return self._has[name]

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return self._call(name, None, args, kwargs, time_limit)

    def repeat(self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return self._call(name, n, args, kwargs, time_limit)

    def _call(
        self, name: str, n: int | None, args: tuple, kwargs: dict, time_limit: float
    ) -> RawCall:
        message = {"op": "call", "name": name, "n": n, "args": list(args), "kwargs": kwargs}
        message["time_limit"] = float(time_limit)
        return raw_call(self._request(message, time_limit))

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        message = {"op": "new", "factory": factory, "args": list(args), "kwargs": kwargs}
        return raw_call(self._request(message, 60.0))

    def close(self) -> None:
        self._kill()

    # -- clean-up ------------------------------------------------------------------------------
    def _kill(self) -> None:
        """Kills the worker and everything it started; removes its directory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for fd in (self._req, self._resp, self._out):
                try:
                    os.close(fd)
                except OSError:
                    pass
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
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _environment(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _stat_fields(pid: str) -> tuple[int, int, int] | None:
    """(ppid, pgid, sid) of a process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[2]), int(fields[3])


def _kill_strays(worker_pid: int) -> None:
    """Kills what a worker left behind: its process group and session, and orphans that escaped
    into new sessions (they were re-parented to this process, the subreaper)."""
    if not Path("/proc").is_dir():
        return
    me = os.getpid()
    my_sid = os.getsid(0)
    for _ in range(3):
        strays = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            fields = _stat_fields(entry)
            if fields is None:
                continue
            ppid, pgid, sid = fields
            if int(entry) in _LIVE:
                continue
            if worker_pid in (pgid, sid) or (ppid == me and sid != my_sid):
                strays.append(int(entry))
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
