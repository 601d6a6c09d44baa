"""What /proc says about processes, read in one place: their ids, each one's parent, state,
name and real uid, a process's descendants and the memory a set of them holds.

Every reader here treats a process that ends while it is being read as gone (None, or left out),
never as an error: the sandbox's processes die whenever they like.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/<pid>/stat that the sandbox uses."""

    pid: int
    name: str
    state: str  # "R", "S", "Z" (dead, not yet reaped)...
    ppid: int


def pids() -> list[int]:
    """The ids of every process this process can see."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def stat(pid: int) -> Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the name sits between the first "(" and the last ")", and may hold either
    name = text[text.find("(") + 1 : text.rfind(")")]
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return Stat(pid, name, fields[0], int(fields[1]))
    except (IndexError, ValueError):
        return None


def real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def children_of(parent: int, state: str | None = None) -> list[Stat]:
    """``parent``'s children (only those in ``state``, if given), from every process's stat."""
    found = []
    for pid in pids():
        info = stat(pid)
        if info is not None and info.ppid == parent and (state is None or info.state == state):
            found.append(info)
    return found


def process_tree(root: int) -> set[int]:
    """``root`` and its descendants: by each thread's ``children`` file where the kernel has them
    (only the tree is read), else by the parent links of every process."""
    children = _children_by_task_files if _children_files() else _children_by_parents()
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children(pid)
    return found


@functools.cache
def _children_files() -> bool:
    me = os.getpid()
    return Path(f"/proc/{me}/task/{me}/children").exists()


def _children_by_task_files(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # it ended meanwhile
    found: list[int] = []
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except (OSError, ValueError):
            continue  # that thread ended meanwhile
    return found


def _children_by_parents() -> Callable[[int], list[int]]:
    """A lookup of children, from one pass over every process's parent link."""
    table: dict[int, list[int]] = {}
    for pid in pids():
        info = stat(pid)
        if info is not None:
            table.setdefault(info.ppid, []).append(pid)
    return lambda pid: table.get(pid, [])


def resident_memory(of: set[int]) -> int:
    """The resident memory of the processes ``of`` together, in bytes (those that ended count
    nothing)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in of:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
    return total
