"""Resources of a sandbox: limits per process (rlimits) and for all its processes together.

All of a sandbox's processes together are capped by a cgroup of their own where the machine lets
us write one (cgroup v1's ``pids`` and ``memory`` controllers, or v2's ``pids.max`` and
``memory.max``), and otherwise by :class:`Watchdog`, a thread of the grader that counts them and
their memory every 0.2 s and kills the sandbox's workers when they go over. Either way an answer
made while the sandbox went over its memory is not taken (``Sandbox.went_over``, which looks again
as each answer comes). Disk is capped by size-limited tmpfs under bubblewrap (see bwrap.py).
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from grader.sandbox.procfs import resident_memory


@dataclass(frozen=True)
class Limits:
    memory: int = 2 << 30  # all the sandbox's processes together, and each one's address space
    cpu_seconds: int = 600  # CPU time of each process
    file_size: int = 64 << 20  # the largest file a worker may write
    disk: int = 64 << 20  # each writable folder of a bubblewrap sandbox (/sandbox, /tmp)
    open_files: int = 256
    processes: int = 32  # all the sandbox's processes together


_serial = count()
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path in ``controller``'s hierarchy (v1), or in the unified one
    (controller ""), from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in (parts[1].split(",") if parts[1] else [""]):
            return parts[2]
    return None


class Cgroup:
    """The pids and memory cgroups of one sandbox; :meth:`create` gives None where the machine
    does not let us make them (then the :class:`Watchdog` counts)."""

    def __init__(self, dirs: list[Path], version: int) -> None:
        self.dirs = dirs
        self.version = version

    @classmethod
    def create(cls, limits: Limits) -> Cgroup | None:
        if os.environ.get("DLGRADE_NO_CGROUP"):
            return None
        # random too: a process id is reused, and a cgroup a killed run left behind under the
        # same name would make mkdir fail and leave this sandbox to the slower watchdog
        name = f"dlgrade-{os.getpid()}-{next(_serial)}-{secrets.token_hex(4)}"
        if (CGROUP_ROOT / "pids" / "pids.max").exists() or (CGROUP_ROOT / "pids").is_dir():
            made = []
            try:
                for controller, settings in (
                    ("pids", {"pids.max": str(limits.processes + 2)}),  # + bwrap's own two
                    (
                        "memory",
                        {
                            "memory.limit_in_bytes": str(limits.memory),
                            "memory.memsw.limit_in_bytes": str(limits.memory),
                        },
                    ),
                ):
                    own = _own_cgroup(controller)
                    if own is None:
                        raise OSError(f"no {controller} cgroup")
                    parent = CGROUP_ROOT / controller / own.lstrip("/")
                    _sweep(parent)
                    path = parent / name
                    path.mkdir()
                    made.append(path)
                    for key, value in settings.items():
                        if (path / key).exists():
                            (path / key).write_text(value)
                return cls(made, 1)
            except OSError:
                for path in made:
                    _remove(path)
                return None
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            own = _own_cgroup("")
            if own is None:
                return None
            parent = CGROUP_ROOT / own.lstrip("/")
            path = parent / name
            try:
                _sweep(parent)
                path.mkdir()
                (path / "pids.max").write_text(str(limits.processes + 2))
                (path / "memory.max").write_text(str(limits.memory))
                if (path / "memory.swap.max").exists():
                    (path / "memory.swap.max").write_text("0")
            except OSError:
                _remove(path)
                return None
            return cls([path], 2)
        return None

    def join(self) -> None:
        """Moves the calling process into the cgroups (the sandbox's first process calls this
        before it execs: all it starts is counted with it)."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs:
            try:
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def kill(self) -> None:
        """SIGKILLs every process in the cgroups (again, for those forked meanwhile)."""
        for _ in range(20):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)

    def oom_kills(self) -> int:
        """How many of the sandbox's processes the kernel has killed for going over its memory."""
        kills = 0
        for path in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                try:
                    for line in (path / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            kills += int(value)
                except (OSError, ValueError):
                    continue
        return kills

    def over_limit(self) -> str | None:
        """What limit the sandbox hit, if any: for a worker that died of it."""
        for path in self.dirs:
            for name, key, what in (
                ("memory.oom_control", "oom_kill", "memory"),
                ("memory.events", "oom_kill", "memory"),
                ("pids.events", "max", "processes"),
            ):
                try:
                    fields = dict(
                        line.split()[:2] for line in (path / name).read_text().splitlines()
                    )
                except (OSError, ValueError):
                    continue
                if int(fields.get(key, "0")) > 0:
                    return what
            try:
                if int((path / "memory.failcnt").read_text()) > 0:
                    return "memory"
            except (OSError, ValueError):
                pass
        return None

    def remove(self) -> None:
        self.kill()
        for path in self.dirs:
            _remove(path)
        self.dirs = []


def counted_by() -> str:
    """How all of a sandbox's processes together are held to their limits on this machine, in
    words (``dlgrade sandbox status``)."""
    cgroup = Cgroup.create(Limits())
    if cgroup is not None:
        cgroup.remove()
        return f"a cgroup of its own (cgroup v{cgroup.version})"
    if os.environ.get("DLGRADE_NO_CGROUP"):
        why = "DLGRADE_NO_CGROUP is set"
    else:
        why = "this machine lets dlgrade make no cgroup"
    return f"a watchdog every {Watchdog.PERIOD:g} s, and a look at each answer ({why})"


def _remove(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)  # its last processes are still being torn down


def _sweep(parent: Path) -> None:
    """Removes the sandbox cgroups of dlgrade runs that died without removing them (killing
    whatever is still in them)."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        parts = entry.name.split("-")
        if len(parts) not in (3, 4) or parts[0] != "dlgrade" or not parts[1].isdigit():
            continue
        owner = int(parts[1])
        if owner == os.getpid() or Path(f"/proc/{owner}").exists():
            continue
        Cgroup([entry], 1).remove()


# -- where no cgroup can be made ---------------------------------------------------------------
class Watchdog:
    """One thread for all the sandboxes of this process: every 0.2 s it adds up each sandbox's
    processes and resident memory, and calls its ``on_over(what)`` when one goes over."""

    PERIOD = 0.2

    def __init__(self) -> None:
        self._watched: dict[int, tuple[Callable[[], set[int]], Limits, Callable[[str], None]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._keys = count()

    def watch(
        self, processes: Callable[[], set[int]], limits: Limits, on_over: Callable[[str], None]
    ) -> int:
        with self._lock:
            key = next(self._keys)
            self._watched[key] = (processes, limits, on_over)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="dlgrade-watchdog", daemon=True
                )
                self._thread.start()
        return key

    def unwatch(self, key: int) -> None:
        with self._lock:
            self._watched.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.PERIOD)
            with self._lock:
                watched = list(self._watched.values())
            for processes, limits, on_over in watched:
                what = over(processes(), limits)
                if what is not None:
                    on_over(what)


WATCHDOG = Watchdog()


def over(pids: set[int], limits: Limits) -> str | None:
    """The limit the sandbox's processes ``pids`` are over together, as the watchdog counts them:
    "processes" (bubblewrap's own two not counted against the cap), "memory", or None."""
    if len(pids) > limits.processes + 2:
        return "processes"
    if resident_memory(pids) > limits.memory:
        return "memory"
    return None
