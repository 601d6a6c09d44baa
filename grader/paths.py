"""Where dlgrade keeps things: the per-user data directory (quiz attempts, the last check of each
exercise), and the one way files are written atomically."""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """``$DLGRADE_HOME``, else ``$XDG_DATA_HOME/dlgrade``, else ``~/.local/share/dlgrade``."""
    env = os.environ.get("DLGRADE_HOME")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "dlgrade"


def write_atomically(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file beside it: readers see the old file
    or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
