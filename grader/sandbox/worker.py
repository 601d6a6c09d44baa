"""Running a submission: import it, call its functions, keep its objects behind handles.

:class:`Runner` does the work wherever the submission runs: inside the grading
process for :class:`grader.engine.student.InProcessBackend`, or inside the
sandboxed worker process, whose main loop (``serve``) is at the end of this
file. In the worker this file runs on its own, beside copies of plain.py,
factories.py and codec.py, and must not need anything else from ``grader``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import inspect
import itertools
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    from grader.engine import factories
    from grader.engine.plain import Opaque, copy_plain, type_name
except ImportError:  # inside the sandboxed worker, where `grader` cannot be imported
    import dlgrade_rt_factories as factories  # type: ignore[no-redef]
    from dlgrade_rt_plain import Opaque, copy_plain, type_name  # type: ignore[no-redef]

FORBIDDEN_MODULES = (
    "torch",
    "tensorflow",
    "jax",
    "jaxlib",
    "scipy",
    "sklearn",
    "keras",
    "cupy",
    "mxnet",
    "paddle",
    "grader",
)
WHY_FORBIDDEN = (
    "submissions may use only NumPy and the Python standard library "
    "(the graders compare your code with PyTorch, so the point is to write it yourself)"
)
IMPORT_TIME_LIMIT = 10.0


# -- messages about the submission's failures ---------------------------------------------------
def safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    return text if len(text) <= 300 else text[:297] + "..."


def line_in(exc: BaseException, path: Path) -> int | None:
    """The last line of ``path`` in the traceback of ``exc``."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename) == path:
            line = lineno
    return line


def describe_import_failure(exc: BaseException, path: Path, display_path: str) -> str:
    if isinstance(exc, SyntaxError):
        return f"{display_path} has a syntax error at line {exc.lineno}: {exc.msg}"
    line = line_in(exc, path)
    where = f" (line {line})" if line else ""
    if isinstance(exc, NotImplementedError):
        return f"importing {display_path} raised NotImplementedError{where}: code at the top level of the file must run"
    return f"importing {display_path} raised {type(exc).__name__}{where}: {safe_str(exc)}"


def describe_call_error(name: str, exc: BaseException, path: Path, display_path: str) -> str:
    line = line_in(exc, path)
    where = f" at {display_path}, line {line}" if line else ""
    if isinstance(exc, NotImplementedError):
        return f"{name} is not written yet: it raises NotImplementedError{where}"
    return f"{name} raised {type(exc).__name__}{where}: {safe_str(exc)}"


def forbidden_message(module: str, display_path: str, line: int | None = None) -> str:
    where = f", line {line}" if line else ""
    return f"{display_path}{where}: importing {module} is not allowed: {WHY_FORBIDDEN}"


# -- time limits from inside --------------------------------------------------------------------
class CallTimeout(BaseException):
    """Raised into the submission when its time is up (a BaseException, so `except Exception` misses it)."""


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Interrupts the block after ``seconds`` (main thread only; elsewhere no limit applies)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CallTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- the runner ---------------------------------------------------------------------------------
class HandleGone(Exception):
    pass


_module_counter = itertools.count()


class Runner:
    """Imports one submission and runs calls on it; results come back as plain data and handles.

    Every method returns a dict of plain data (``result``, ``args_after``, ``kwargs_after``,
    ``param_names``, ``error``, ``timed_out``), whichever side of a process boundary it runs on.
    """

    def __init__(self, path: Path, display_path: str, module_name: str | None = None) -> None:
        self.path = path
        self.display_path = display_path
        self.module: Any = None
        self.error: str | None = None
        self._kept: dict[int, Any] = {}
        self._handles: dict[int, int] = {}  # id(object) -> handle, while the object is kept
        self._ids = itertools.count(1)
        self._name = module_name or f"dlgrade_submission_{next(_module_counter)}"

    def load(self) -> None:
        spec = importlib.util.spec_from_file_location(self._name, self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            with alarm(IMPORT_TIME_LIMIT):
                spec.loader.exec_module(module)
        except CallTimeout:
            self.error = f"importing {self.display_path} took longer than {IMPORT_TIME_LIMIT:g} s"
        except BaseException as exc:  # the submission's top level may raise anything
            self.error = describe_import_failure(exc, self.path, self.display_path)
        else:
            self.module = module

    def has(self, name: str) -> bool:
        return self.module is not None and callable(getattr(self.module, name, None))

    def keep(self, value: Any) -> Opaque:
        """The handle of ``value``: the same object always gets the same handle."""
        ident = self._handles.get(id(value))
        if ident is None or self._kept.get(ident) is not value:
            ident = next(self._ids)
            self._kept[ident] = value
            self._handles[id(value)] = ident
        return Opaque(ident, type_name(value))

    def resolve(self, value: Any) -> Any:
        """Grader data in, with Opaque handles turned back into the submission's objects."""
        if isinstance(value, Opaque):
            if value.ident not in self._kept:
                raise HandleGone(f"{value!r} is no longer available")
            return self._kept[value.ident]
        if type(value) in (list, tuple):
            return type(value)(self.resolve(v) for v in value)
        if type(value) is dict:
            return {k: self.resolve(v) for k, v in value.items()}
        return copy_plain(value)

    def run(
        self, name: str, n: int | None, args: tuple, kwargs: dict, time_limit: float
    ) -> dict[str, Any]:
        """Calls ``name`` once (``n`` None) or ``n`` times with the same arguments."""
        func = getattr(self.module, name)
        try:
            params = tuple(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            params = ()
        out: dict[str, Any] = {"param_names": params}
        try:
            args_in = tuple(self.resolve(a) for a in args)
            kwargs_in = {k: self.resolve(v) for k, v in kwargs.items()}
        except HandleGone as exc:
            out["error"] = str(exc)
            return out
        results = []
        try:
            with alarm(time_limit):
                for _ in range(1 if n is None else n):
                    results.append(func(*args_in, **kwargs_in))
        except CallTimeout:
            out["timed_out"] = True
            return out
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from a submission too
            out["error"] = describe_call_error(name, exc, self.path, self.display_path)
            return out
        out["result"] = copy_plain(results[0] if n is None else results, keep=self.keep)
        out["args_after"] = tuple(copy_plain(a, keep=self.keep) for a in args_in)
        out["kwargs_after"] = {k: copy_plain(v, keep=self.keep) for k, v in kwargs_in.items()}
        return out

    def new(self, factory: str, args: tuple, kwargs: dict) -> dict[str, Any]:
        if factory not in factories.FACTORIES:
            return {"error": f"no trusted factory named {factory!r}"}
        try:
            args_in = tuple(self.resolve(a) for a in args)
            kwargs_in = {k: self.resolve(v) for k, v in kwargs.items()}
            built = factories.build(factory, *args_in, **kwargs_in)
        except HandleGone as exc:
            return {"error": str(exc)}
        except Exception as exc:  # a trusted factory failing on state the submission left behind
            return {"error": f"{factory} failed: {type(exc).__name__}: {safe_str(exc)}"}
        return {"result": copy_plain(built, keep=self.keep)}

    def close(self) -> None:
        self._kept.clear()
        self._handles.clear()
        self.module = None


# -- the worker process -------------------------------------------------------------------------
class ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses forbidden modules at run time (``__import__``, ``importlib``, ``exec``...)."""

    def __init__(self, display_path: str) -> None:
        self.display_path = display_path
        self.attempts: list[str] = []

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in FORBIDDEN_MODULES:
            self.attempts.append(fullname)
            raise ImportError(forbidden_message(fullname, self.display_path))
        return None


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def serve(fd_in: int, fd_out: int) -> None:
    """The worker's loop: one request in, one answer out, until the grader closes the pipe."""
    import struct

    import dlgrade_rt_codec as codec  # type: ignore[import-not-found]

    def send(value: dict[str, Any]) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            data = codec.frame(value)
        except TypeError as exc:
            data = codec.frame({"error": f"the result cannot be sent to the grader: {exc}"})
        view = memoryview(data)
        while view:
            view = view[os.write(fd_out, view) :]

    def receive() -> Any:
        (size,) = struct.unpack("<Q", _read_exact(fd_in, 8))
        return codec.decode(_read_exact(fd_in, size))

    hello = receive()
    blocker = ImportBlocker(hello["display_path"])
    sys.meta_path.insert(0, blocker)
    runner = Runner(Path(hello["path"]), hello["display_path"], module_name="submission")
    runner.load()
    send({"error": runner.error, "forbidden": blocker.attempts})
    while True:
        try:
            request = receive()
        except EOFError:
            return
        op = request.get("op")
        if op == "has":
            answer: dict[str, Any] = {"result": runner.has(request["name"])}
        elif op == "call":
            answer = runner.run(
                request["name"],
                request.get("n"),
                tuple(request["args"]),
                request["kwargs"],
                request["time_limit"],
            )
        elif op == "new":
            answer = runner.new(request["factory"], tuple(request["args"]), request["kwargs"])
        else:
            answer = {"error": f"unknown request {op!r}"}
        answer["forbidden"] = list(blocker.attempts)
        send(answer)


def _stat_fields(pid: str) -> tuple[int, int, int] | None:
    """(ppid, pgid, sid) of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[2]), int(fields[3])


def kill_processes(is_stray: Callable[[int, int, int, int], bool]) -> None:
    """SIGKILLs every process (but this one) for which ``is_stray(pid, ppid, pgid, sid)`` holds,
    three passes for those started meanwhile, and reaps those that were children of this one."""
    if not os.path.isdir("/proc"):
        return
    me = os.getpid()
    for _ in range(3):
        strays = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            fields = _stat_fields(entry)
            if fields is not None and is_stray(int(entry), *fields):
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


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def zygote(ctrl_fd: int, namespaced: bool) -> None:
    """The sandbox's warm parent (grader/sandbox/process.py): NumPy and this runtime are imported
    once; each worker is a fork that runs ``serve``. Requests come as JSON on the control socket:
    ``spawn`` (with the worker's three pipe ends), ``reap`` (a worker's exit status) and ``kill``
    (every worker and what they started: in its own PID namespace everything but this process,
    else the workers' sessions and the orphans re-parented here)."""
    import json
    import socket

    import numpy as np

    ctrl = socket.socket(fileno=ctrl_fd)
    _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: a worker's orphans come here, to be killed
    me = os.getpid()
    workers: set[int] = set()
    codes: dict[int, int] = {}

    def reap(pid: int, wait: float) -> int | None:
        deadline = time.monotonic() + max(0.0, min(wait, 10.0))
        while pid not in codes:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done:
                codes[pid] = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)
        return codes[pid]

    while True:
        try:
            data, fds, _, _ = socket.recv_fds(ctrl, 1 << 16, 3)
        except OSError:
            return
        if not data:
            return  # the grader is gone
        try:
            request = json.loads(data)
        except ValueError:
            request = {}
        op = request.get("op") if isinstance(request, dict) else None
        if op == "spawn" and len(fds) == 3:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            pid = os.fork()
            if pid == 0:  # the worker
                code = 0
                try:
                    ctrl.close()
                    os.setsid()
                    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: dies with the zygote
                    request_fd, answer_fd, output_fd = fds
                    os.dup2(output_fd, 1)
                    os.dup2(output_fd, 2)
                    os.close(output_fd)
                    np.random.seed()  # as fresh as a new interpreter's
                    serve(request_fd, answer_fd)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    for stream in (sys.stdout, sys.stderr):
                        try:
                            stream.flush()
                        except Exception:
                            pass
                    os._exit(code)
            workers.add(pid)
            answer: dict[str, Any] = {"pid": pid}
        elif op == "reap" and isinstance(request.get("pid"), int):
            answer = {"code": reap(request["pid"], float(request.get("wait", 0)))}
        elif op == "kill":
            if namespaced:  # everything in the sandbox but this process (and its pid 1)
                os.kill(-1, signal.SIGKILL)
            else:
                kill_processes(lambda pid, ppid, pgid, sid: sid in workers or ppid == me)
            while True:
                try:
                    pid, status = os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                codes[pid] = os.waitstatus_to_exitcode(status)
            workers.clear()
            answer = {"ok": True}
        else:
            answer = {"error": f"unknown request {op!r}"}
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        ctrl.send(json.dumps(answer).encode())


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
