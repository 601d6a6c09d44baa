"""The per-user data directory (quiz attempts, the last check of each exercise)."""

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
