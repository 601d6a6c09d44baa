"""The sandboxed process tree behind SandboxBackend: a zygote, and the workers forked from it.

A :class:`Sandbox` holds one submission file of one student (a fresh sandbox per student and
exercise: nothing one exercise's code leaves behind is seen by another's tests). It starts one
process, at the run's isolation level (isolation.py), that imports the worker's runtime and
NumPy once and then waits: the *zygote*. Each worker (the first, and one more after each crash
or time-out) is forked from it and answers within milliseconds instead of paying an interpreter
start-up. The grader hands the zygote a worker's three pipes over a Unix socket
(``SCM_RIGHTS``), and asks it to report a worker's exit status and to kill every worker and
whatever they started. A zygote that dies or stops answering (a worker may kill it) is replaced.

Where the grader is root, every sandbox runs under a uid of its own (uids.py), inside
bubblewrap as well as outside it. All of a sandbox's processes together are capped by a cgroup
of their own, or by the watchdog where none can be made (limits.py). Closing a sandbox kills
its whole tree, its cgroup and its uid's processes, and removes what it wrote.

:func:`prepare` starts the sandbox of a file ahead of need, so that it boots while `dlgrade
check` loads pytest and the graders.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grader.runtime as runtime_package
from grader.runtime.zygote import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_PDEATHSIG,
    drop_privileges,
    prctl,
)
from grader.sandbox.bwrap import RUNTIME, SITE, WORK, sandbox_command
from grader.sandbox.interpreter import clean_environment, interpreter, unprivileged_interpreter
from grader.sandbox.isolation import (
    Isolation,
    allowed_packages,
    bwrap,
    detect,
    forget_bwrap,
)
from grader.sandbox.limits import WATCHDOG, Cgroup, Limits, over
from grader.sandbox.procfs import process_tree
from grader.sandbox.uids import SandboxUid, remove_files_of

__all__ = ["Limits", "Sandbox", "Worker", "WorkerGone", "ZygoteGone"]

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()  # the sandboxes this process runs now


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
    """One student's file, and the zygote the workers that run it are forked from."""

    def __init__(
        self,
        files: Iterable[Path],
        limits: Limits | None = None,
        isolation: Isolation | None = None,
    ) -> None:
        self.files = {Path(f).resolve() for f in files}
        if len({f.name for f in self.files}) != len(self.files):
            raise ValueError("the files of one sandbox need distinct names")
        self.limits = limits or Limits()
        self.isolation = isolation or detect()
        self._contents: dict[str, bytes] = {}  # the worker never sees (or changes) the originals
        for f in self.files:
            try:
                self._contents[f.name] = f.read_bytes()
            except OSError:  # gone or unreadable: the backend's source check reports it
                self._contents[f.name] = b""
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._tmp: Path | None = None
        self._uid: SandboxUid | None = None
        self._cgroup: Cgroup | None = None
        self._watch: int | None = None
        self._cwd = ""
        self._booted = False  # a zygote of this sandbox has answered once
        self.over_limit: str | None = None  # the limit all its processes together went over
        self._overs = 0  # how often the watchdog found them over
        self._start()

    def path_of(self, file: Path) -> str:
        """Where a worker of this sandbox sees ``file``."""
        return f"{self._cwd}/{Path(file).name}"

    def private_paths(self) -> list[str]:
        """The folders of this sandbox that a worker's messages may show (they differ from run
        to run outside bubblewrap), longest first."""
        paths = [self._cwd]
        if self._tmp is not None:
            paths.append(str(self._tmp))
        return sorted({p for p in paths if p}, key=len, reverse=True)

    # -- the zygote's process ----------------------------------------------------------------
    def _start(self) -> None:
        _become_subreaper()
        if self._tmp is not None:  # a restart: the last zygote's folder goes
            shutil.rmtree(self._tmp, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-"))
        self._tmp = tmp
        os.chmod(tmp, 0o755)
        runtime = tmp / "runtime"
        runtime.mkdir(mode=0o755)
        shutil.copytree(
            Path(runtime_package.__file__).parent,
            runtime / "dlgrade_runtime",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        files = tmp / "files"
        files.mkdir(mode=0o755)
        for name, content in self._contents.items():  # copies, as they were at the first start
            (files / name).write_bytes(content)
            os.chmod(files / name, 0o644)
        as_root = os.geteuid() == 0
        if as_root and self._uid is None:
            self._uid = SandboxUid()
        uid = self._uid.uid if self._uid is not None else None
        packages = [p for paths in allowed_packages().values() for p in paths]
        level = self.isolation.level
        exe = bwrap() if level == "bubblewrap" else None
        if level == "bubblewrap" and exe is None:
            raise ZygoteGone("bubblewrap no longer works here")
        if exe is not None:
            env = clean_environment((interpreter(),), home=WORK)
            site, rt, cwd, mode = SITE, RUNTIME, WORK, "pidns"
            cmd = sandbox_command(
                exe,
                runtime=runtime / "dlgrade_runtime",
                packages=packages,
                files={name: files / name for name in self._contents},
                limits=self.limits,
                env=env,
            )
            cmd.append(interpreter())
            popen_env: dict[str, str] = {}
        else:
            python = unprivileged_interpreter() if as_root else (interpreter(),)
            if python is None:
                raise ZygoteGone(
                    "no unprivileged user can run this Python: refusing to run as root"
                )
            site_dir = tmp / "site"
            site_dir.mkdir(mode=0o755)
            for p in packages:
                (site_dir / p.name).symlink_to(p)
            site, rt, cwd = str(site_dir), str(runtime), str(files)
            mode = "uid" if uid is not None else "session"
            scratch = tmp / "scratch"
            scratch.mkdir(mode=0o700)
            if uid is not None:
                os.chown(scratch, uid, uid)
                os.chmod(files, 0o1777)  # the worker may add files here, not replace the student's
            env = clean_environment(python, home=str(scratch))
            cmd = list(python)
            popen_env = env
        self._cwd = cwd
        boot = (
            f"import sys; sys.path[:0] = [{rt!r}, {site!r}]; "
            "import dlgrade_runtime.zygote as z; "
            "z.drop_privileges(int(sys.argv[3])) if len(sys.argv) > 3 else None; "
            "z.main(int(sys.argv[1]), sys.argv[2])"
        )
        cmd += ["-I", "-S", "-B", "-c", boot]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd += [str(theirs.fileno()), mode]
        if exe is not None and uid is not None:
            cmd.append(str(uid))  # bubblewrap run by root: the zygote drops to it first thing
        if self._cgroup is None:
            self._cgroup = Cgroup.create(self.limits)
        cgroup = self._cgroup
        limits = self.limits

        drop_to = uid if exe is None else None  # bubblewrap: the zygote drops, inside

        def in_child() -> None:
            """Runs in the forked child before exec, before anything of the student's: into the
            sandbox's cgroup, under its limits, then (outside bubblewrap) its uid for good."""
            if cgroup is not None:
                try:
                    cgroup.join()
                except OSError:
                    pass  # counted by nothing then: the grader's watchdog is not running for it
            for res, value in (
                (resource.RLIMIT_AS, limits.memory),
                (resource.RLIMIT_CPU, limits.cpu_seconds),
                (resource.RLIMIT_FSIZE, limits.file_size),
                (resource.RLIMIT_NOFILE, limits.open_files),
                (resource.RLIMIT_CORE, 0),
            ):
                resource.setrlimit(res, (value, value))
            if uid is not None:  # counted per uid: the sandbox's uid is its alone
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            if drop_to is not None:
                drop_privileges(drop_to)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # killed with the grader, should it be killed

        with open(tmp / "zygote.log", "wb") as log:  # the zygote's own errors, for our messages
            try:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=cwd if exe is None else None,
                    env=popen_env,
                    pass_fds=(theirs.fileno(),),
                    preexec_fn=in_child,
                    start_new_session=True,
                    close_fds=True,
                )
            finally:
                theirs.close()
        _LIVE.add(self)
        self._ctrl = ours
        if cgroup is None and self._watch is None:
            self._watch = WATCHDOG.watch(self._processes, self.limits, self._went_over)

    def _processes(self) -> set[int]:
        proc = self._proc
        return process_tree(proc.pid) if proc is not None else set()

    def _went_over(self, what: str) -> None:
        """The watchdog saw all the sandbox's processes together go over a limit."""
        self.over_limit = what
        self._overs += 1
        self._kill_tree()

    def memory_mark(self) -> int:
        """Where the sandbox's count of kills for memory stands: taken before a call, for
        :meth:`went_over`."""
        return self._overs + (self._cgroup.oom_kills() if self._cgroup is not None else 0)

    def went_over(self, mark: int) -> str | None:
        """The sandbox-wide limit its processes went over during a call that did answer: the
        kernel killed one of them for memory since ``mark`` (a cgroup), or, where the watchdog
        counts, they are more, or hold more memory, now than the limits. A hoard or a fork bomb
        that answers between two of the watchdog's looks, or whose answer got out before the
        kernel killed a part of it, is seen here, and its answer is not taken. (A cgroup's
        process cap makes the fork that would go over fail: nothing to look at here.)"""
        if self._cgroup is not None:
            return "memory" if self._overs + self._cgroup.oom_kills() > mark else None
        if self._overs > mark:
            return self.over_limit
        return over(self._processes(), self.limits) if self._proc is not None else None

    def limit_hit(self) -> str | None:
        """The sandbox-wide limit its processes went over, if any ("memory", "processes")."""
        if self.over_limit is None and self._cgroup is not None:
            self.over_limit = self._cgroup.over_limit()
        return self.over_limit

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
                if not self._booted and self.isolation.level == "bubblewrap":
                    forget_bwrap()  # it never answered: perhaps bwrap no longer works here
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

    def zygote_alive(self) -> bool:
        """Whether the zygote still holds its end of the control socket (a worker killed with it
        dies of that, so a worker that vanished with its zygote was not the submission's doing
        alone: its call may not have run)."""
        if self._ctrl is None:
            return False
        try:
            return self._ctrl.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def kill_workers(self) -> None:
        """Kills every worker and everything they started; the zygote stays for the next."""
        try:
            self._ask({"op": "kill"}, (), CONTROL_TIME_LIMIT)
        except ZygoteGone:
            self._stop()

    def close(self) -> None:
        self._stop()
        if self._watch is not None:
            WATCHDOG.unwatch(self._watch)
            self._watch = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill_tree(self) -> None:
        """Kills every process of the sandbox, wherever it went (cgroup, uid, process group)."""
        proc = self._proc
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._cgroup is not None:
            self._cgroup.kill()
        if self._uid is not None:
            from grader.sandbox.uids import kill_uid, reap_orphans

            kill_uid(self._uid.uid)
            reap_orphans(self._uid.uid)

    def _stop(self) -> None:
        """Kills the whole tree: zygote, workers, and what they started."""
        proc, self._proc = self._proc, None
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if proc is None:
            return
        self._proc = proc
        self._kill_tree()
        self._proc = None
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        from grader.sandbox.uids import reap_dead

        reap_dead()  # the inner bubblewrap, re-parented here
        _LIVE.discard(self)
        if self._uid is not None:
            remove_files_of(self._uid.uid)


@functools.cache
def _become_subreaper() -> None:
    """Orphans of a sandbox (a worker whose zygote died) become children of this process, to be
    reaped here (a container's init may never reap them)."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def close_all_on_exit() -> None:
    """Kills every process of every sandbox this process still runs (it is going away)."""
    for sandbox in list(_LIVE):
        sandbox._kill_tree()


WORK_DIR = WORK  # where a worker sees its files under bubblewrap
