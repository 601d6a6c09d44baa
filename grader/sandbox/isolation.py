"""Isolation levels: what this machine lets the sandbox guarantee, named and recorded.

``bubblewrap``
    namespaces (mount, PID, network, IPC), a file system holding only the interpreter, the
    allowed packages and the student's file; per-sandbox limits on processes, memory and disk;
    never the host's root. Safe for a class.
``uid``
    a plain process under a uid of its own (never root), with the course, the secrets and the
    forbidden packages unreadable to it (probed, not assumed). One student per run: the
    Gradescope container.
``process``
    a plain process with rlimits. It trusts the submission: fine for a student checking their
    own work; refused for a class unless the instructor says the submissions are trusted. The
    forbidden-import check is advisory here.

:func:`detect` chooses the level once per run (it is cached) from what works here: bubblewrap
if it can build a sandbox, else ``uid`` if the grader is root and the probe finds nothing it
must protect readable, else ``process``. Student code never runs as root outside: where the
grader is root and no unprivileged uid can run the interpreter, no level is offered at all
(:class:`NoSafeLevel`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from grader.errors import UserError
from grader.sandbox.interpreter import interpreter

Level = Literal["bubblewrap", "uid", "process"]
LEVELS: tuple[Level, ...] = ("process", "uid", "bubblewrap")  # weakest first

SUMMARY: dict[Level, str] = {
    "bubblewrap": "OS sandbox (bubblewrap): own namespaces and file system, limits per sandbox",
    "uid": "a uid of its own, the course unreadable to it; no OS sandbox",
    "process": "a separate process with limits; no OS sandbox: it trusts the submission",
}


class NoSafeLevel(UserError):
    """Student code would run as root: refused."""


@dataclass(frozen=True)
class Isolation:
    """The level a run uses, and one line on why (what is missing for the next level up)."""

    level: Level
    why: str = ""

    def describe(self) -> str:
        text = f"{self.level}: {SUMMARY[self.level]}"
        return f"{text} ({self.why})" if self.why else text

    def at_least(self, level: Level) -> bool:
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "detail": self.describe()}


# -- bubblewrap -------------------------------------------------------------------------------------
@cache
def bwrap() -> str | None:
    """The bwrap executable, if it can build a sandbox here. A probe that worked is remembered
    (30 ms off every check) for this bwrap, interpreter, user and kernel, until a sandbox fails to
    boot (:func:`forget_bwrap`); only working probes are remembered, so a planted marker cannot
    turn the sandbox off."""
    exe = shutil.which("bwrap")
    if exe is None or os.environ.get("DLGRADE_NO_BWRAP"):
        return None
    marker = _probe_marker(exe)
    if marker is not None and marker.exists():
        return exe
    from grader.sandbox.bwrap import probe_command

    try:
        probe = subprocess.run(probe_command(exe), capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if probe.returncode != 0:
        return None
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass
    return exe


def _probe_marker(exe: str) -> Path | None:
    from grader.paths import data_home

    try:
        stamp = (
            f"v2|{exe}|{os.stat(exe).st_mtime_ns}|{interpreter()}|{os.geteuid()}|"
            f"{os.uname().release}"
        )
    except OSError:
        return None
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return data_home() / "cache" / f"bwrap-works-{digest}"


def forget_bwrap() -> None:
    """A sandbox did not boot under bwrap: probe again next time."""
    exe = shutil.which("bwrap")
    marker = _probe_marker(exe) if exe else None
    if marker is not None:
        marker.unlink(missing_ok=True)
    bwrap.cache_clear()
    detect.cache_clear()


def _bwrap_missing() -> str:
    if os.environ.get("DLGRADE_NO_BWRAP"):
        return "bubblewrap turned off by DLGRADE_NO_BWRAP"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    return "bubblewrap is installed but cannot build a sandbox here"


# -- the packages --------------------------------------------------------------------------------
ALLOWED_PACKAGES = (
    "numpy",
    "gymnasium",
    "cloudpickle",
    "typing_extensions",
    "farama_notifications",
)


def allowed_packages() -> dict[str, list[Path]]:
    """name -> the paths (package dir or module, plus a wheel's ``.libs``) of the packages a
    submission may import."""
    found: dict[str, list[Path]] = {}
    for name in ALLOWED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        path = origin.parent if origin.name == "__init__.py" else origin
        paths = [path]
        libs = path.with_name(path.name + ".libs")
        if libs.is_dir():
            paths.append(libs)
        found[name] = paths
    return found


def forbidden_package_files() -> list[Path]:
    """A file of each forbidden package installed beside this interpreter (what a submission at
    the ``uid`` level must not be able to read)."""
    from grader.runtime.policy import FORBIDDEN_MODULES

    files = []
    for name in FORBIDDEN_MODULES:
        if name in ("grader", "dlgrade_runtime"):
            continue  # the course itself is probed as a protected path
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin and os.path.isfile(spec.origin):
            files.append(Path(spec.origin))
    return files


# -- the levels --------------------------------------------------------------------------------
@cache
def detect(protect: tuple[Path, ...] = ()) -> Isolation:
    """The level this machine offers for a run that must keep ``protect`` (the course's
    solutions, the class secret, the output folder...) out of the submission's reach."""
    if bwrap() is not None:
        return Isolation("bubblewrap")
    missing = _bwrap_missing()
    if os.geteuid() != 0:
        return Isolation("process", f"{missing}; not root, so no uid of its own")
    from grader.sandbox.interpreter import unprivileged_interpreter

    python = unprivileged_interpreter()
    if python is None:
        raise NoSafeLevel(
            f"{missing}, and no unprivileged user can run this Python ({interpreter()}): "
            "submissions would run as root. Install bubblewrap, or run dlgrade as an ordinary user"
        )
    readable = readable_to_sandbox(python, [*protect, *forbidden_package_files()])
    if readable:
        shown = ", ".join(str(p) for p in readable[:2]) + (" ..." if len(readable) > 2 else "")
        return Isolation("process", f"{missing}; the sandbox's uid can read {shown}")
    return Isolation("uid", missing)


def readable_to_sandbox(python: Sequence[str], paths: Iterable[Path]) -> list[Path]:
    """Which of ``paths`` a process under a sandbox uid can read (it tries, as that uid)."""
    paths = [Path(p) for p in paths if Path(p).exists()]
    if not paths:
        return []
    script = (
        "import json, os, sys\n"
        "out = []\n"
        "for p in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n"
        "        out.append(p)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(json.dumps(out))\n"
    )
    from grader.sandbox.interpreter import run_as_probe

    proc = run_as_probe(python, ["-c", script, json.dumps([str(p) for p in paths])], text=True)
    if proc.returncode != 0:  # it could not even start: treat everything as exposed
        return paths
    return [Path(p) for p in json.loads(proc.stdout)]


def require(isolation: Isolation, needed: Level, what: str, trusted: bool) -> None:
    """Refuses (UserError: one line, exit 2) to grade ``what`` below level ``needed``, unless the
    instructor said the submissions are trusted."""
    if isolation.at_least(needed) or trusted:
        return
    raise UserError(
        f"{what} needs the {needed} isolation level, but this machine offers {isolation.level} "
        f"({isolation.why}): install bubblewrap (apt install bubblewrap), or pass "
        "--trust-submissions if every submission is trusted"
    )


def lock_down() -> list[Path]:
    """Makes every installed forbidden package unreadable to other uids (root only): what the
    ``uid`` level needs besides an unreadable course. Returns the folders changed."""
    changed = []
    for origin in forbidden_package_files():
        folder = origin.parent if origin.name == "__init__.py" else origin
        for path in (folder, folder.with_name(folder.name + ".libs")):
            if path.exists() and path.stat().st_mode & 0o077:
                os.chmod(path, path.stat().st_mode & ~0o077)
                changed.append(path)
    detect.cache_clear()
    return changed
