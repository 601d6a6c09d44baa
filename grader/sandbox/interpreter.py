"""A Python that an unprivileged uid can run, for sandboxes without bubblewrap when the grader is
root.

An interpreter under a private home (pyenv in ``/root``, mode 0700) cannot be run by another uid.
Rather than run a submission as root, the sandbox then uses a linked tree of that interpreter:
its executable, its shared library and its standard library (no site-packages), hard links (or
copies, across file systems) in a root-owned folder others may read but not write. It is built
once per interpreter and kept (``/var/tmp/dlgrade-python-<digest>``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path


@cache
def interpreter() -> str:
    """The interpreter a sandbox runs: this one's base executable (a venv's real Python)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


SKIP = {
    "site-packages",
    "dist-packages",
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "__pycache__",
}


def clean_environment(python: Sequence[str], home: str = "/") -> dict[str, str]:
    """The whole environment a sandboxed process gets: nothing of the grader's."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    tree = Path(python[0]).parents[1]
    if tree.name.startswith("dlgrade-python-"):
        env["LD_LIBRARY_PATH"] = str(tree / "lib")
    return env


def run_as_probe(
    python: Sequence[str], argv: Sequence[str], text: bool = False
) -> subprocess.CompletedProcess:
    """Runs ``python -I -S ARGV`` as the probe uid, in a clean environment, from /: what the
    interpreter of a sandboxed submission can do and read."""
    from grader.sandbox.uids import PROBE_UID

    return subprocess.run(
        [*python, "-I", "-S", *argv],
        capture_output=True,
        text=text,
        timeout=30,
        user=PROBE_UID,
        group=PROBE_UID,
        extra_groups=[],
        env=clean_environment(python),
        cwd="/",
    )


def _runs_unprivileged(python: Sequence[str]) -> bool:
    try:
        proc = run_as_probe(python, ["-c", "import encodings, json, ctypes, struct, socket"])
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


@cache
def unprivileged_interpreter() -> tuple[str, ...] | None:
    """The command that starts this Python as an unprivileged uid (root only): the interpreter
    itself where others can run it, else a linked tree of it; None if neither works."""
    if os.geteuid() != 0:
        return (interpreter(),)
    if _runs_unprivileged((interpreter(),)):
        return (interpreter(),)
    try:
        tree = _linked_tree()
    except OSError:
        return None
    python = (str(tree / "bin" / Path(interpreter()).name),)
    return python if _runs_unprivileged(python) else None


def _linked_tree() -> Path:
    base = Path(sys.base_prefix).resolve()
    exe = Path(interpreter())
    stamp = f"{exe}|{exe.stat().st_mtime_ns}|{base}|1"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    parent = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path("/tmp")
    tree = parent / f"dlgrade-python-{digest}"
    done = tree / ".complete"
    if _trusted(tree) and done.exists():
        return tree
    if tree.exists() or tree.is_symlink():  # unfinished, or not ours: start again
        if tree.is_symlink() or not _trusted(tree):
            tree = Path(os.path.join(parent, f"dlgrade-python-{digest}-{os.getpid()}"))
        shutil.rmtree(tree, ignore_errors=True)
    staging = Path(f"{tree}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o755)
    (staging / "bin").mkdir(mode=0o755)
    _link(exe, staging / "bin" / exe.name)
    lib = base / "lib"
    (staging / "lib").mkdir(mode=0o755)
    for shared in lib.glob("libpython*.so*"):
        _link(shared.resolve(), staging / "lib" / shared.name)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    _link_tree(lib / version, staging / "lib" / version)
    (staging / ".complete").touch()
    os.chmod(staging, 0o755)
    os.replace(staging, tree)
    return tree


def _trusted(path: Path) -> bool:
    """Ours and writable by nobody else (so nobody else can have changed it)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return info.st_uid == os.geteuid() and not (info.st_mode & 0o022) and path.is_dir()


def _link(source: Path, dest: Path) -> None:
    """A hard link where others may read the file already, else a copy that they may read (a
    link shares the original's mode, which is not ours to change)."""
    if source.stat().st_mode & 0o004:
        try:
            os.link(source, dest)
            return
        except OSError:
            pass
    shutil.copy2(source, dest)
    os.chmod(dest, os.stat(dest).st_mode | 0o444)


def _link_tree(source: Path, dest: Path) -> None:
    dest.mkdir(mode=0o755)
    for entry in os.scandir(source):
        if entry.name in SKIP:
            continue
        target = dest / entry.name
        if entry.is_dir(follow_symlinks=False):
            _link_tree(Path(entry.path), target)
        elif entry.is_file(follow_symlinks=False):
            _link(Path(entry.path), target)
