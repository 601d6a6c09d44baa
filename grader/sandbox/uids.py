"""A uid of its own for each live sandbox, where the grader is root.

A sandbox's processes run under a uid no other sandbox (of this or any other dlgrade run on the
machine) holds meanwhile, so they can signal nothing but themselves, ``RLIMIT_NPROC`` caps each
sandbox on its own, and "every process of that uid" is exactly the sandbox's, to kill. A uid is
held with a lock file (``flock``) for the sandbox's life; a crashed run's locks go with its
process. The range (``DLGRADE_UID_BASE``, 1,000 uids from 1,900,000,000 by default) lies far
above any real user's.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

from grader.sandbox import procfs

COUNT = 1000
PROBE_UID = int(os.environ.get("DLGRADE_UID_BASE", "1900000000")) + COUNT  # probes only


def _base() -> int:
    return int(os.environ.get("DLGRADE_UID_BASE", "1900000000"))


def _lock_dir() -> Path:
    for parent in (Path("/run"), Path("/var/tmp"), Path("/tmp")):
        if parent.is_dir() and os.access(parent, os.W_OK):
            folder = parent / "dlgrade-uids"
            try:
                folder.mkdir(mode=0o700, exist_ok=True)
                info = folder.lstat()
            except OSError:
                continue
            if info.st_uid == os.geteuid() and not (info.st_mode & 0o022) and folder.is_dir():
                return folder
    raise OSError("no private folder for the sandbox uid locks")


class SandboxUid:
    """One uid, held until :meth:`release`."""

    def __init__(self) -> None:
        folder = _lock_dir()
        start = (os.getpid() * 7) % COUNT  # concurrent runs start their search apart
        for i in range(COUNT):
            n = (start + i) % COUNT
            fd = os.open(folder / f"{n}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid = _base() + n
            self._fd: int | None = fd
            kill_uid(self.uid)  # whatever a crashed run left under this uid
            return
        raise OSError(f"all {COUNT} sandbox uids are in use")

    def release(self) -> None:
        if self._fd is not None:
            kill_uid(self.uid)
            remove_files_of(self.uid)
            os.close(self._fd)
            self._fd = None


def kill_uid(uid: int) -> int:
    """SIGKILLs every process whose real uid is ``uid`` (three passes, for those forked meanwhile);
    how many were found."""
    found = 0
    for _ in range(3):
        pids = [pid for pid in procfs.pids() if procfs.real_uid(pid) == uid]
        if not pids:
            break
        found += len(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return found


def reap_orphans(uid: int) -> None:
    """Reaps the processes of ``uid`` that were re-parented to this process (a subreaper) and
    have died: no zombie of a sandbox is left behind."""
    for _ in range(50):
        mine = [c.pid for c in procfs.children_of(os.getpid()) if procfs.real_uid(c.pid) == uid]
        if not mine:
            return
        for pid in mine:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)


def reap_dead(names: tuple[str, ...] = ("bwrap",)) -> int:
    """Reaps this process's dead children named ``names`` that no one else waits for: the inner
    bubblewrap of a sandbox, re-parented here (a subreaper) once the outer one was killed. Left
    alone, every sandbox of a long class run would leave a zombie and use up a process id.
    Only processes already dead are touched, so no ``Popen`` loses its child. Returns how many."""
    reaped = 0
    for child in procfs.children_of(os.getpid(), state="Z"):
        if child.name not in names:
            continue
        try:
            if os.waitpid(child.pid, os.WNOHANG)[0]:
                reaped += 1
        except ChildProcessError:
            pass
    return reaped


SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(uid: int) -> None:
    """Removes what ``uid`` left in the machine's world-writable folders (outside bubblewrap a
    sandbox can write there): nothing one sandbox wrote is seen by the next one."""
    import shutil

    for folder in SHARED_WRITABLE:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
