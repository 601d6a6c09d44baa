"""The reference cache of the student's loop: torch oracle outputs stored on disk.

An oracle's output depends only on its inputs, the grader file and the device,
so it is stored under the hash of those (the inputs encoded by the sandbox's
codec). A second `dlgrade check` of an exercise whose inputs have not changed
then finds every reference on disk and never imports torch. A changed grader
file changes every key. Only the student's own public check uses it: grading
with hidden tests (`--hidden`, `--solution`, `dlgrade grade`, Gradescope) never
reads a cache that a student could have written.

The cache answers the oracles of one check through its CheckSession (engine/session.py).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_VERSION = "1"


def graders_digest(graders: Path) -> str:
    """The part of every key that the grader file's content decides."""
    return hashlib.sha256(CACHE_VERSION.encode() + graders.read_bytes()).hexdigest()


def device_label() -> str:
    """The part of every key that the device decides: ``$DLGRADE_DEVICE`` as asked (``auto``
    when unset), so that a key is known without importing torch."""
    return os.environ.get("DLGRADE_DEVICE", "auto").strip().lower() or "auto"


def run_key(graders: Path, seed: int) -> str:
    """One check's references as a whole: the grader file's content, the seed and the device."""
    return hashlib.sha256(
        f"{graders_digest(graders)}\0{seed}\0{device_label()}".encode()
    ).hexdigest()


class OracleCache:
    """``DATA_HOME/cache/oracles.sqlite``: key -> encoded oracle output."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=5)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS oracles (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS complete (run TEXT PRIMARY KEY)")
        self.hits = self.misses = 0
        self.not_stored = 0  # references computed but not kept (not plain data)

    @classmethod
    def default(cls) -> OracleCache:
        """The student's cache, in ``DATA_HOME/cache/oracles.sqlite``."""
        from grader.paths import data_home

        return cls(data_home() / "cache" / "oracles.sqlite")

    def is_complete(self, run: str) -> bool:
        """Whether a check with this :func:`run_key` had every test reach its comparison and
        stored every reference it computed: the next one will then most likely not need torch
        (engine/plan.py starts the reference process otherwise)."""
        found = self.db.execute("SELECT 1 FROM complete WHERE run = ?", (run,)).fetchone()
        return found is not None

    def mark_complete(self, run: str) -> None:
        if self.not_stored == 0:
            try:
                self.db.execute("INSERT OR IGNORE INTO complete VALUES (?)", (run,))
            except sqlite3.Error:
                pass

    def key_for(
        self, graders: str, fn: Callable[..., Any], args: tuple, kwargs: dict
    ) -> str | None:
        """The key of one oracle call (``graders``: :func:`graders_digest` of its grader file),
        or None when the inputs are not plain data (the output is then not stored)."""
        from grader.runtime import codec

        try:
            inputs = codec.encode([list(args), kwargs])
        except TypeError:
            self.not_stored += 1
            return None
        h = hashlib.sha256()
        for part in (graders, fn.__qualname__, device_label()):
            h.update(part.encode() + b"\0")
        h.update(inputs)
        return h.hexdigest()

    def get(self, key: str) -> tuple[bool, Any]:
        from grader.runtime import codec

        row = self.db.execute("SELECT value FROM oracles WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return False, None
        try:
            value = codec.decode(row[0])
        except codec.CodecError:
            self.misses += 1
            return False, None
        self.hits += 1
        return True, value

    def put(self, key: str, value: Any) -> None:
        from grader.runtime import codec

        try:
            data = codec.encode(value)
        except TypeError:
            self.not_stored += 1  # an output the codec cannot store is simply not cached
            return
        try:
            self.db.execute("INSERT OR REPLACE INTO oracles VALUES (?, ?)", (key, data))
        except sqlite3.Error:
            self.not_stored += 1

    def close(self) -> None:
        self.db.close()
