"""A process beside `dlgrade check` that imports torch while the check loads, then runs its oracles.

On a 2-core laptop, importing torch (about 1.3 s) is most of a first `dlgrade check`. The check's
CheckSession (engine/session.py) starts this process first thing, when it expects to need
references (the reference cache has not seen this grader file, seed and device; engine/cache.py).
The host imports torch and NumPy while the check imports pytest, loads the graders and boots the
sandbox, on the other core; each ``@oracle`` call then goes to it, its inputs and outputs in the
sandbox's codec.

It is the grader's own code: it loads the grader file and runs its oracles on the inputs the
graders made; no student code runs in it. A call it cannot answer (an input or output the codec
cannot carry, an oracle that raises, a host that died) is computed in the check's own process
instead, exactly as without the host, so the results are the same either way.

    python -m grader.engine.oracle_host     # the host's side: frames on stdin, answers on stdout
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class OracleHost:
    """The check's side: starts the host, sends it oracle calls, stops it."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PACKAGE_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "grader.engine.oracle_host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.answered = 0

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[bool, Any]:
        """(True, the oracle's output) computed by the host, or (False, None): compute it here."""
        from grader.runtime import codec

        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            return False, None
        if "<" in fn.__qualname__:  # a nested function: the host cannot name it
            return False, None
        request = {
            "file": fn.__code__.co_filename,
            "name": fn.__qualname__,
            "args": list(args),
            "kwargs": kwargs,
        }
        try:
            data = codec.frame(request)
        except TypeError:
            return False, None
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
            answer = _read_frame(proc.stdout)
        except (OSError, EOFError, ValueError, codec.CodecError):
            self.stop()  # a host that failed once is not asked again
            return False, None
        if not isinstance(answer, dict) or "value" not in answer:
            return False, None
        self.answered += 1
        return True, answer["value"]

    @property
    def alive(self) -> bool:
        """Whether calls still go to the host (it has not failed or been stopped)."""
        return self.proc is not None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass


def _read_frame(stream: IO[bytes]) -> Any:
    from grader.runtime import codec

    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", header)
    if size > codec.MAX_FRAME:
        raise ValueError("frame too large")
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return codec.decode(body)


# -- the host's side -------------------------------------------------------------------------------
def serve() -> None:
    """Imports torch, then answers oracle calls until stdin closes."""
    import importlib.util

    import torch  # noqa: F401  (the point of this process: imported while the check loads)

    from grader.oracle import resolve_device, run_here
    from grader.runtime import codec

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what an oracle prints must not end up in the answers
    requests = sys.stdin.buffer
    modules: dict[str, Any] = {}
    device: str | None = None
    while True:
        try:
            request = _read_frame(requests)
        except EOFError:
            return
        try:
            file, name = request["file"], request["name"]
            if file not in modules:
                spec = importlib.util.spec_from_file_location(
                    f"dlgrade_oracles_{len(modules)}", file
                )
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                modules[file] = module
            target: Any = modules[file]
            for part in name.split("."):
                target = getattr(target, part)
            fn = getattr(target, "__wrapped__", target)  # the oracle itself, not its cache wrapper
            device = device or resolve_device()
            value = run_here(fn, tuple(request["args"]), request["kwargs"], device)
            data = codec.frame({"value": value})
        except BaseException:  # noqa: BLE001  (the check computes it itself, and sees the error)
            data = codec.frame({"failed": True})
        answers.write(data)
        answers.flush()


if __name__ == "__main__":
    serve()
