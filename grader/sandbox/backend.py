"""The sandboxed backend: the submission runs in a worker process the grader controls.

Each :class:`SandboxBackend` (one per student and exercise) has a worker forked
in a :class:`~grader.sandbox.process.Sandbox` (one per student; see
process.py for the zygote and the OS sandbox), and speaks to it over two
pipes in the codec of codec.py (never pickle). The worker sees a directory
holding only copies of the submission(s), a minimal environment, and on its
``sys.path`` only the standard library, NumPy and Gymnasium. Its limits are
set from outside: wall time per call (the grader kills it), address space,
CPU time, file size and output kept. A worker that times out, crashes or
stops answering is killed with everything it started, and the next call gets
a fresh one, forked in milliseconds.

Where bubblewrap (``bwrap``) works, the sandbox also has its own mount, PID,
network and IPC namespaces, with the file system reduced to what it needs:
the worker can neither see the grader's files nor signal the grader. Where it
does not, the worker runs as a plain process (under an unprivileged uid when
the grader is root and the interpreter allows it), and
:func:`~grader.sandbox.process.isolation` says so.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import time
from pathlib import Path
from typing import Any

from grader.engine.student import RawCall, check_source, raw_call
from grader.sandbox import codec
from grader.sandbox.process import (
    Limits,
    Sandbox,
    Worker,
    WorkerGone,
    ZygoteGone,
    take_prepared,
)
from grader.sandbox.worker import (
    IMPORT_TIME_LIMIT,
    forbidden_message,
)

GRACE = 1.0  # seconds past a call's limit before the worker is killed from outside
OUTPUT_KEEP = 3000  # bytes of a call's output kept for the report


# -- the backend --------------------------------------------------------------------------------
class SandboxBackend:
    """A Backend (grader/engine/student.py) that runs the submission in a worker process."""

    def __init__(
        self,
        path: Path,
        display_path: str | None = None,
        limits: Limits | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        """``sandbox``: the student's sandbox holding ``path``, shared by the exercises of one
        student (closed by its owner); by default the backend starts (and closes) its own, or
        takes over the one :func:`~grader.sandbox.process.prepare` started."""
        self.path = path.resolve()
        self.display_path = display_path or str(path)
        self._error: str | None = None
        self._forbidden: str | None = None
        self._has: dict[str, bool] = {}
        self._worker: Worker | None = None
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None
        self._error = check_source(self.path, self.display_path)
        if self._error is None:
            if self._sandbox is None:
                self._sandbox = take_prepared(self.path) or Sandbox([self.path], limits or Limits())
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
            self._error = str(hello["error"])

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
        if self._worker is None or self._sandbox is None:
            return "no worker"
        code = self._sandbox.exit_code(self._worker, wait=2.0)
        if code is None:
            return "it stopped answering"
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
        if self._worker is None:
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
