"""Helpers the project's tests share (imported as ``helpers``; not a test module)."""

from __future__ import annotations

import os
from pathlib import Path


def uid_base(tag: int) -> int:
    """A range of sandbox uids of this test run's own (``DLGRADE_UID_BASE``), so that a check for
    leftovers sees only what this run started: other dlgrade runs on the machine use others."""
    return 1_800_000_000 + (os.getpid() % 97) * 10_000 + tag * 1_000


def processes_of(base: int) -> list[int]:
    """The live processes whose real uid lies in ``base``'s range of sandbox uids."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if base <= int(line.split()[1]) < base + 1001:
                        found.append(int(entry))
                    break
        except OSError:
            continue
    return found
