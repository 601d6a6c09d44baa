"""The sandboxed backend: the submission runs in a worker process the grader controls.

Each :class:`SandboxBackend` (one per student and exercise) has a worker forked in a
:class:`~grader.sandbox.process.Sandbox` (see process.py for the zygote and the isolation
levels), and speaks to it over two pipes in the codec of grader/runtime/codec.py (never pickle).
Its limits are set from outside: wall time per call (the grader kills it), address space, CPU
time, file size, processes and memory of the whole sandbox, output kept.

Nothing the worker sends is trusted: an answer is decoded under a size, value and time budget;
every string in it (messages, parameter names, type names, printed output) is cut to a few KB
and stripped of control characters before anything stores or shows it; and an answer whose shape
does not fit the request (a batched call returning fewer results than asked, a missing field) is
an error for that call.

This module also holds what every backend shares: the :class:`Backend` protocol, the
:class:`RawCall` a backend reports, and the static check of a source file.
"""

from __future__ import annotations

import ast
import os
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.runtime import codec
from grader.runtime.plain import Opaque, clean_text, map_plain
from grader.runtime.policy import FORBIDDEN_MODULES, forbidden_message
from grader.runtime.worker import IMPORT_TIME_LIMIT, describe_import_failure
from grader.sandbox.process import (
    Limits,
    Sandbox,
    Worker,
    WorkerGone,
    ZygoteGone,
)

GRACE = 1.0  # seconds past a call's limit before the worker is killed from outside
OUTPUT_KEEP = 3000  # bytes of a call's output kept for the report
MESSAGE_KEEP = 2000  # characters of any message from the worker
NAME_KEEP = 100  # characters of a name (a parameter, a type, a module) from the worker


# -- what every backend shares ---------------------------------------------------------------------
@dataclass
class RawCall:
    """What a backend reports of a call: plain data and text only."""

    result: Any = None
    args_after: tuple[Any, ...] = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    param_names: tuple[str, ...] = ()
    error: str | None = None  # set when the submission raised
    timed_out: bool = False


class Backend(Protocol):
    """Where a submission runs. Every method returns plain data or text."""

    display_path: str

    def import_error(self) -> str | None: ...

    def has(self, name: str) -> bool: ...

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall: ...

    def repeat(self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        """``n`` calls with the same arguments in one round trip; ``result`` is the list of results."""
        ...

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        """Runs a trusted factory (grader/runtime/factories.py) on the submission's side; the
        result comes back as plain data, non-plain parts as Opaque handles."""
        ...

    def violation(self) -> str | None:
        """Why the exercise must score 0 whatever the tests said, once the run is over."""
        ...

    def close(self) -> None: ...


def _clean_handles(value: Any) -> Any:
    """The value with each Opaque's type name made safe (it comes from the submission)."""
    return map_plain(
        value,
        lambda v: (
            Opaque(v.ident, clean_text(v.type_name, NAME_KEEP, keep_lines=False))
            if isinstance(v, Opaque)
            else v
        ),
    )


def raw_call(answer: dict[str, Any], args: tuple = (), kwargs: dict | None = None) -> RawCall:
    """A runner's answer as a RawCall. The answer comes from the submission's process: its
    strings are cleaned, and fields of the wrong shape make the call an error."""
    error = answer.get("error")
    timed_out = answer.get("timed_out", False)
    if error is not None or timed_out:
        return RawCall(
            error=None if error is None else clean_text(error),
            timed_out=timed_out is True,
            param_names=_names(answer.get("param_names")),
        )
    problem = None
    args_after = answer.get("args_after", ())
    kwargs_after = answer.get("kwargs_after", {})
    if not isinstance(args_after, tuple | list) or len(args_after) != len(args):
        problem = "the arguments it sent back do not match the call"
    elif not isinstance(kwargs_after, dict) or set(kwargs_after) != set(kwargs or {}):
        problem = "the keyword arguments it sent back do not match the call"
    elif "result" not in answer:
        problem = "its answer has no result"
    if problem is not None:
        return RawCall(error=f"the submission's process sent a malformed answer: {problem}")
    return RawCall(
        result=_clean_handles(answer.get("result")),
        args_after=tuple(_clean_handles(a) for a in args_after),
        kwargs_after={k: _clean_handles(v) for k, v in kwargs_after.items()},
        param_names=_names(answer.get("param_names")),
    )


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, tuple | list):
        return ()
    return tuple(
        clean_text(n, NAME_KEEP, keep_lines=False) for n in value[:64] if isinstance(n, str)
    )


def forbidden_imports(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, module) for each import of a forbidden module, also via ``__import__``/``importlib``."""
    tree = ast.parse(source, filename=filename)
    found: list[tuple[int, str]] = []

    def check(line: int, module: str | None) -> None:
        if module and module.split(".")[0] in FORBIDDEN_MODULES:
            found.append((line, module))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            check(node.lineno, node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                check(node.lineno, node.args[0].value)
    return found


def check_source(path: Path, display_path: str) -> str | None:
    """Why the submission cannot be run at all (unreadable, a syntax error, a forbidden import),
    found before any of its code runs; None when it may run."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {display_path}: {exc}"
    try:
        bad = forbidden_imports(source, str(path))
    except SyntaxError as exc:
        return describe_import_failure(exc, path, display_path)
    if bad:
        line, module = bad[0]
        return forbidden_message(module, display_path, line)
    return None


# -- the backend --------------------------------------------------------------------------------
class SandboxBackend:
    """A Backend that runs the submission in a worker process."""

    def __init__(
        self,
        path: Path,
        display_path: str | None = None,
        limits: Limits | None = None,
        sandbox: Sandbox | None = None,
        prepared: Sandbox | None = None,
    ) -> None:
        """``sandbox``: a sandbox holding ``path`` (closed by its owner); by default the backend
        starts (and closes) its own, or takes over ``prepared``, one started ahead of need for
        ``path`` (a check's CheckSession starts it while the graders load)."""
        self.path = path.resolve()
        self.display_path = display_path or str(path)
        self._error: str | None = None
        self._forbidden: str | None = None
        self._has: dict[str, bool] = {}
        self._worker: Worker | None = None
        self._seen_as = ""  # where the worker sees the submission
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None
        self._error = check_source(self.path, self.display_path)
        if self._error is not None and prepared is not None:
            prepared.close()  # the file is not even loaded
        if self._error is None:
            if self._sandbox is None:
                try:
                    self._sandbox = prepared or Sandbox([self.path], limits or Limits())
                except (OSError, ZygoteGone) as exc:
                    self._error = f"the sandbox for {self.display_path} could not start: {exc}"
                    return
            self._start()

    # -- set-up --------------------------------------------------------------------------------
    def _start(self) -> None:
        assert self._sandbox is not None
        try:
            self._worker = worker = self._sandbox.spawn(self.path)
        except (ZygoteGone, OSError) as exc:
            self._error = f"the sandbox for {self.display_path} could not start: {exc}"
            return
        self._req, self._resp, self._out = worker.request, worker.answer, worker.output
        self._seen_as = worker.path
        os.set_blocking(self._out, False)
        try:
            hello = self._exchange(
                {"path": worker.path, "display_path": self.display_path},
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
            self._error = clean_text(self._stable(str(hello["error"])))

    # -- talking to the worker -------------------------------------------------------------------
    def _exchange(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        """Sends one request and waits for its answer, draining the worker's output meanwhile."""
        if self._worker is None:
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
                    if need is not None and len(answer) > need:
                        raise WorkerGone("the worker sent more than one answer")
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
        safe = clean_text(self._stable(kept.decode("utf-8", "replace")), OUTPUT_KEEP)
        if dropped:
            safe += f"\n[{dropped} more bytes of output dropped]\n"
        sys.stdout.write(safe)

    def _stable(self, text: str) -> str:
        """``text`` with the sandbox's own paths (a temporary folder outside bubblewrap) written
        as the submission's name: the same output gives the same bytes on every run."""
        if self._seen_as:
            text = text.replace(self._seen_as, self.display_path)
        if self._sandbox is not None:
            for path in self._sandbox.private_paths():
                text = text.replace(path, "<sandbox>")
        return text

    def _exit_text(self) -> str:
        if self._worker is None or self._sandbox is None:
            return "no worker"
        code = self._sandbox.exit_code(self._worker, wait=2.0)
        hit = self._sandbox.limit_hit()
        if hit is not None:
            return f"the sandbox went over its limit on {hit} ({_limit_text(hit, self._sandbox.limits)})"
        if code is None:
            return "it stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            extra = " (over its CPU-time limit)" if -code == signal.SIGXCPU else ""
            return f"killed by {name}{extra}"
        return f"it exited with status {code}"

    def _note_forbidden(self, answer: dict[str, Any]) -> None:
        attempts = answer.get("forbidden") or []
        if not isinstance(attempts, list | tuple):
            attempts = ["an unnamed module"]
        if attempts and self._forbidden is None:
            module = clean_text(attempts[0], NAME_KEEP, keep_lines=False)
            self._forbidden = forbidden_message(module, self.display_path)

    def _request(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        for attempt in (1, 2):
            if self._worker is None:
                self._start()
                if self._error is not None:
                    return {"error": self._error}
            mark = self._sandbox.memory_mark() if self._sandbox is not None else 0
            try:
                answer = self._exchange(message, time_limit)
            except TimeoutError:
                self._kill()
                return {"timed_out": True}
            except WorkerGone as exc:
                zygote_died = self._sandbox is not None and not self._sandbox.zygote_alive()
                self._kill()
                if zygote_died and attempt == 1:
                    continue  # the worker went down with its zygote (killed by an earlier call):
                    # this call may never have run, so it gets one fresh worker
                return {"error": f"the submission's process ended during the call: {exc}"}
            sandbox = self._sandbox
            if sandbox is not None and (hit := sandbox.went_over(mark)) is not None:
                self._kill()  # an answer made by going over the sandbox's limits is not taken
                limit = _limit_text(hit, sandbox.limits)
                return {
                    "error": f"the sandbox went over its limit on {hit} during the call "
                    f"({limit}): its answer is not taken"
                }
            break
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
        raw = self._call(name, n, args, kwargs, time_limit)
        if raw.error is None and not raw.timed_out:
            if type(raw.result) is not list or len(raw.result) != n:
                got = len(raw.result) if type(raw.result) is list else type(raw.result).__name__
                return RawCall(
                    error=f"the submission's process answered {n} calls of {name} with {got} "
                    "results",
                    param_names=raw.param_names,
                )
        return raw

    def _call(
        self, name: str, n: int | None, args: tuple, kwargs: dict, time_limit: float
    ) -> RawCall:
        message: dict[str, Any] = {
            "op": "call",
            "name": name,
            "n": n,
            "args": list(args),
            "kwargs": kwargs,
        }
        message["time_limit"] = float(time_limit)
        answer = self._request(message, time_limit)
        if isinstance(answer.get("error"), str):
            answer["error"] = self._stable(answer["error"])
        return raw_call(answer, args, kwargs)

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        message = {"op": "new", "factory": factory, "args": list(args), "kwargs": kwargs}
        answer = self._request(message, 60.0)
        if answer.get("error") is not None or "result" not in answer:
            return RawCall(error=clean_text(answer.get("error") or "no result"))
        return RawCall(result=_clean_handles(answer["result"]))

    def close(self) -> None:
        self._kill()
        if self._owns_sandbox and self._sandbox is not None:
            self._sandbox.close()
        self._sandbox = None

    # -- clean-up ------------------------------------------------------------------------------
    def _kill(self) -> None:
        """Kills the worker and everything it started; the sandbox stays for the next worker."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        for fd in (worker.request, worker.answer, worker.output):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._sandbox is not None:
            self._sandbox.kill_workers()


def _limit_text(what: str, limits: Limits) -> str:
    if what == "memory":
        return f"{limits.memory / (1 << 30):g} GiB for all its processes together"
    return f"{limits.processes} processes"
