"""The bubblewrap command line of a sandbox: what its file system holds, and nothing more.

Inside: the system's shared libraries (only their folders of ``/usr``, any Python package folder
in them hidden),
the interpreter's own prefix (its site-packages hidden), the allowed packages under ``/site``, the
runtime package under ``/runtime``, the student's file read-only in ``/sandbox``, fresh
size-limited tmpfs for ``/sandbox``, ``/tmp`` and ``/dev/shm``, a fresh ``/proc`` and ``/dev``, no
network, no environment but the one given. Run by root, bubblewrap makes no user namespace (it
would map the sandbox's uid to the host's root): the sandbox keeps only CAP_SETUID and
CAP_SETGID, which the zygote uses at once to become the sandbox's own uid for good.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from grader.sandbox.interpreter import interpreter
from grader.sandbox.limits import Limits

SITE, RUNTIME, WORK = "/site", "/runtime", "/sandbox"

PYTHON_PACKAGE_FOLDERS = (  # hidden: a submission must not import what is installed system-wide
    "/usr/lib/python3/dist-packages",
    "/usr/lib/python3*/site-packages",
    "/usr/lib/python3*/dist-packages",
    "/usr/lib64/python3*/site-packages",
    "/usr/local/lib/python3*/site-packages",
    "/usr/local/lib/python3*/dist-packages",
    "/usr/share/python3*",
    "/usr/lib/python3/*-packages",
)


def _parents(path: Path) -> list[str]:
    """``--dir`` for each folder above ``path`` (bubblewrap would make them 0700: unreadable to
    the sandbox's uid)."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if str(parent) != "/":
            args += ["--dir", str(parent)]
    return args


def hidden_package_folders(base: Path) -> list[str]:
    """Every site-packages or dist-packages folder the sandbox would otherwise see."""
    found: set[str] = set()
    for pattern in PYTHON_PACKAGE_FOLDERS:
        found.update(p for p in glob.glob(pattern) if os.path.isdir(p))
    for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages"):
        found.update(str(p) for p in base.glob(pattern) if p.is_dir())
    return sorted(found)


def system_library_folders() -> list[Path]:
    """The folders of the system's shared libraries (the interpreter's, NumPy's): only these of
    /usr are visible in the sandbox, not the rest (system Python packages, bundled SDKs...)."""
    import sysconfig

    triple = sysconfig.get_config_var("MULTIARCH") or ""
    found = [Path("/usr/lib") / triple] if triple else []
    found += [Path("/usr/lib64"), Path("/usr/lib32")]
    found = [p for p in found if p.is_dir() and not p.is_symlink()]
    return found or [Path("/usr/lib")]  # no multiarch folder: all of it, packages hidden below


def base_args(as_root: bool) -> list[str]:
    """Namespaces and the read-only system part of the file system."""
    base = Path(sys.base_prefix).resolve()
    args = ["--die-with-parent", "--new-session", "--clearenv"]
    if as_root:
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-all", "--cap-drop", "ALL"]
    args += ["--dir", "/usr"]
    for folder in system_library_folders():
        args += [*_parents(folder), "--ro-bind", str(folder), str(folder)]
    for top in ("bin", "lib", "lib64", "lib32", "sbin"):
        p = Path("/" + top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    exe = Path(interpreter())
    if str(base).startswith("/usr/"):  # a system Python: its executable and standard library
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        args += [*_parents(exe), "--ro-bind", str(exe), str(exe)]
        stdlib = base / "lib" / version
        args += [*_parents(stdlib), "--ro-bind", str(stdlib), str(stdlib)]
    else:
        args += [*_parents(base), "--ro-bind", str(base), str(base)]
    for hidden in hidden_package_folders(base):
        args += ["--tmpfs", hidden, "--remount-ro", hidden]
    args += ["--dev", "/dev", "--proc", "/proc"]
    return args


def probe_command(exe: str) -> list[str]:
    """A bwrap run that succeeds only where the real sandbox can start."""
    as_root = os.geteuid() == 0
    return [exe, *base_args(as_root), "--", interpreter(), "-I", "-S", "-c", ""]


def sandbox_command(
    exe: str,
    *,
    runtime: Path,
    packages: Iterable[Path],
    files: dict[str, Path],
    limits: Limits,
    env: dict[str, str],
) -> list[str]:
    """The bwrap arguments up to ``--`` (the interpreter's command follows)."""
    as_root = os.geteuid() == 0
    cmd = [exe, *base_args(as_root)]
    size = str(limits.disk)
    for folder in ("/tmp", "/dev/shm", WORK):
        cmd += ["--size", size, "--perms", "1777", "--tmpfs", folder]
    cmd += ["--dir", SITE]
    for path in packages:
        cmd += ["--ro-bind", str(path), f"{SITE}/{path.name}"]
    cmd += ["--dir", RUNTIME, "--ro-bind", str(runtime), f"{RUNTIME}/dlgrade_runtime"]
    for name, copy in files.items():  # read-only: what is graded is what was handed in
        cmd += ["--ro-bind", str(copy), f"{WORK}/{name}"]
    cmd += ["--chdir", WORK]
    for var, value in env.items():
        cmd += ["--setenv", var, value]
    cmd += ["--"]
    return cmd
