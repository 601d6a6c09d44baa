"""Running a submission: import it, call its functions, keep its objects behind handles.

:class:`Runner` does the work wherever the submission runs: inside the grading
process for :class:`grader.engine.student.InProcessBackend`, or inside the
sandboxed worker process, whose main loop (``serve``) is at the end of this
file. Part of the worker-side runtime (grader/runtime/): it imports nothing
outside this folder, which the sandbox makes visible to the worker as the
package ``dlgrade_runtime``.
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
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import codec, factories
from .plain import Opaque, copy_plain, map_plain, type_name
from .policy import FORBIDDEN_MODULES, forbidden_message

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
        return map_plain(value, self._resolve_part)

    def _resolve_part(self, value: Any) -> Any:
        if isinstance(value, Opaque):
            if value.ident not in self._kept:
                raise HandleGone(f"{value!r} is no longer available")
            return self._kept[value.ident]
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
