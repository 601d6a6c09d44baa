"""The sandbox's warm parent: it imports NumPy and the runtime once, then forks one worker per
request, and kills every worker (and what they started) when the grader asks.

Part of the worker-side runtime (grader/runtime/): it imports nothing outside this folder. The
grader starts it (grader/sandbox/process.py) as::

    python -I -S -B -c "<boot>" CTRL_FD MODE [UID]

where the boot line puts the runtime on ``sys.path`` and calls :func:`main`. ``MODE`` says how
the zygote finds everything a worker started, to kill it: ``pidns`` (it has a PID namespace of its
own: everything but itself), ``uid`` (a uid of its own: everything of that uid), ``session``
(neither: the workers' sessions and the orphans re-parented to it). Where the grader runs as root
inside bubblewrap without a user namespace, ``UID`` is the sandbox's uid, taken by
:func:`drop_privileges` before any other code runs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36


try:  # loaded now: after a drop of privileges the standard library may be out of reach
    import ctypes

    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    _LIBC = None


def prctl(option: int, value: int) -> bool:
    """``prctl(option, value)``; False where it is not available."""
    try:
        return _LIBC is not None and _LIBC.prctl(option, value, 0, 0, 0) == 0
    except AttributeError:
        return False


def drop_privileges(uid: int) -> None:
    """Becomes ``uid`` (and group ``uid``) for good: no supplementary groups, no capabilities,
    no way back (no new privileges). Raises if any step fails: a worker never runs as root."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if os.getuid() == 0 or os.geteuid() == 0 or os.getgid() == 0:
        raise SystemExit("dlgrade sandbox: could not leave uid 0")


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


def main(ctrl_fd: int, mode: str) -> None:
    """Serves the grader's requests on the control socket until it closes. Requests are JSON:
    ``spawn`` (with the worker's three pipe ends), ``reap`` (a worker's exit status) and
    ``kill`` (every worker and whatever they started)."""
    import json
    import socket

    import numpy as np

    from .worker import serve

    ctrl = socket.socket(fileno=ctrl_fd)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # a worker's orphans come here, to be killed
    prctl(PR_SET_DUMPABLE, 0)  # no worker may trace or rewrite this process
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

    def kill_all() -> None:
        if mode in ("pidns", "uid"):
            # everything this process may signal but itself: in its own PID namespace, the
            # whole sandbox; with a uid of its own, every process of that uid
            try:
                os.kill(-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # nothing left to kill
        else:
            kill_processes(lambda pid, ppid, pgid, sid: sid in workers or ppid == me)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            codes[pid] = os.waitstatus_to_exitcode(status)
        workers.clear()

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
                    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the zygote
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
            kill_all()
            answer = {"ok": True}
        else:
            answer = {"error": f"unknown request {op!r}"}
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        ctrl.send(json.dumps(answer).encode())
