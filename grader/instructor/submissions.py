"""What each student handed in: their folders, and the one file graded for each exercise, read
safely.

A submission file is read only when it is a regular file (``lstat`` first, then opened with
``O_NOFOLLOW | O_NONBLOCK``, so neither a symbolic link nor a FIFO nor a device is followed or
waited on) of at most ``MAX_BYTES``. What cannot be graded (a link, a folder, a FIFO, a file too
large or unreadable, several candidates) becomes that student's error for that exercise, and the
run goes on. A near miss is found and said: ``Softmax.py``, ``softmax (1).py`` (a browser's
second download), ``softmax.py`` in a subfolder; what the student handed in instead is named
when nothing fits. Archive junk (``__MACOSX``, ``.DS_Store``, dot-folders) is skipped, with a
note.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UserError

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MAX_BYTES = 1 << 20  # a submission file (a .py; a notebook may be larger, see notebooks.py)
JUNK = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", "__pycache__"}
MAX_DEPTH = 3  # subfolders searched for a misplaced file


class Unreadable(Exception):
    """A file that is not graded, and why (one line, for the student's results)."""


@dataclass(frozen=True)
class Found:
    """The file of one (student, exercise): its content, or why there is none."""

    student: str
    exercise: str
    shown_as: str  # e.g. "alice/softmax.py": how results name it
    content: bytes | None = None
    kind: str = "py"  # "py" or "ipynb"
    problem: str | None = None  # why nothing is graded
    notes: tuple[str, ...] = ()  # e.g. that a near miss was taken


@dataclass
class Roster:
    """The student folders of a submissions folder, and what was skipped."""

    students: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # student -> why nothing is graded
    notes: list[str] = field(default_factory=list)


def is_junk(name: str) -> bool:
    return name in JUNK or name.startswith((".", "._", "~$"))


def students_in(submissions: Path, out: Path | None = None) -> Roster:
    """The student folders of ``submissions``. Junk and the output folder (when it lies inside)
    are skipped with a note; a student folder that is a link is that student's error; an unsafe
    name stops the run before anything is graded, naming it (outputs are named by student id)."""
    if not submissions.is_dir():
        raise UserError(f"no such folder: {submissions}")
    roster = Roster()
    skip = out.resolve() if out is not None else None
    for entry in sorted(submissions.iterdir()):
        name = entry.name
        if is_junk(name):
            if entry.is_dir() and not entry.is_symlink():
                roster.notes.append(f"skipped {name}/ (not a student: archive junk or hidden)")
            continue
        if name.startswith("_"):
            continue  # dlgrade's own files (_students.csv, _submitted.csv); no id starts so
        try:
            info = entry.lstat()
        except OSError:
            continue
        if skip is not None and entry.resolve() == skip:
            roster.notes.append(f"skipped {name}/ (the output folder)")
            continue
        if stat.S_ISLNK(info.st_mode):
            if not SAFE_ID.match(name):
                continue
            roster.students.append(name)
            roster.problems[name] = (
                f"{name}/ is a symbolic link, not a folder: only folders of regular files are "
                "graded"
            )
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue  # stray files beside the student folders
        if not SAFE_ID.match(name):
            raise UserError(
                f"{entry}: {name!r} is not a safe student id (letters, digits, . _ @ -, "
                "starting with a letter or digit); rename the folder"
            )
        roster.students.append(name)
    if not roster.students:
        raise UserError(
            f"{submissions} has no student folders (expected SUBMISSIONS/<student_id>/<exercise>.py)"
        )
    return roster


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; Unreadable with
    the reason otherwise. Never follows a link, never waits on a FIFO or a device."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise Unreadable("it is missing") from None
    except OSError as exc:
        raise Unreadable(f"it cannot be read ({exc.strerror})") from None
    what = _not_regular(info.st_mode)
    if what:
        raise Unreadable(f"it is {what}: only regular files are graded")
    if info.st_size > limit:
        raise Unreadable(f"it is larger than {limit // 1024} KiB")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("it is a symbolic link: only regular files are graded") from None
        raise Unreadable(f"it cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the lstat
            raise Unreadable("it is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise Unreadable(f"it is larger than {limit // 1024} KiB")
    return b"".join(chunks)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


_COPY = re.compile(
    r"^(?P<stem>.+?)(?:\s*\(\d+\)|-\d+|_\d+)$"
)  # "softmax (1)", Canvas's "softmax-1"


def _matches(name: str, exercise: str, suffix: str) -> str | None:
    """How ``name`` names ``exercise``'s file: "exact", a near miss ("case", "copy"), or None."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() != suffix:
        return None
    if name == f"{exercise}.{suffix}":
        return "exact"
    if stem.lower() == exercise.lower():
        return "case"
    copy = _COPY.match(stem)
    if copy and copy.group("stem").lower() == exercise.lower():
        return "copy"
    return None


def _candidates(folder: Path, exercise: str, suffix: str) -> list[tuple[Path, str]]:
    """Every file below ``folder`` (junk skipped, links not followed) that names ``exercise``."""
    found: list[tuple[Path, str]] = []

    def walk(current: Path, depth: int) -> None:
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if is_junk(entry.name):
                continue
            how = _matches(entry.name, exercise, suffix)
            if how is not None:
                found.append((Path(entry.path), how))
            elif entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                walk(Path(entry.path), depth + 1)

    walk(folder, 0)
    return found


def find(
    submissions: Path,
    student: str,
    exercise: str,
    within: str | None = None,
    suffixes: tuple[str, ...] = ("py", "ipynb"),
    others: frozenset[str] = frozenset(),
) -> Found:
    """The file graded for ``exercise`` of ``student``: ``<exercise>.py`` at the top of their
    folder; else a near miss (other case, a numbered copy, a subfolder), with a note; else their
    notebook the same way. Several candidates of one kind, or a candidate that is not a regular
    file, make a problem that names them. ``within``: only that subfolder (nbgrader's
    ``submitted/<student>/<assignment>/``). ``others``: the names of the other exercises' files,
    never named as what was handed in instead."""
    folder = submissions / student
    if within is not None and (folder / within).is_dir():
        found = find(folder, within, exercise, None, suffixes, others)
        shown = f"{student}/{found.shown_as}"
        problem = found.problem
        if problem is not None and problem.startswith("no file "):
            problem = f"no file {exercise}.ipynb or .py in {student}/{within}/"
        elif problem is not None:
            problem = problem.replace(f"{within}/", f"{student}/{within}/")
        notes = tuple(n.replace(f"{within}/", f"{student}/{within}/") for n in found.notes)
        return Found(student, exercise, shown, found.content, found.kind, problem, notes)
    for suffix in suffixes:
        candidates = _candidates(folder, exercise, suffix)
        if not candidates:
            continue
        exact = [(p, h) for p, h in candidates if h == "exact" and p.parent == folder]
        chosen = exact or candidates
        names = [f"{student}/{p.relative_to(folder).as_posix()}" for p, _ in chosen]
        if len(chosen) > 1:
            return Found(
                student,
                exercise,
                names[0],
                kind=suffix,
                problem=f"several files could be {exercise}.{suffix}: {', '.join(names)}; hand "
                "in one (or, in nbgrader's layout, name the assignment with --assignment)",
            )
        path, how = chosen[0]
        notes = ()
        if not exact:
            reason = {
                "case": "its name differs in case",
                "copy": "a numbered copy",
                "exact": "in a subfolder",
            }[how]
            notes = (f"graded {names[0]} as {exercise}.{suffix} ({reason})",)
        try:
            content = read_regular(path, MAX_BYTES if suffix == "py" else 20 * MAX_BYTES)
        except Unreadable as exc:
            return Found(student, exercise, names[0], kind=suffix, problem=f"{names[0]}: {exc}")
        return Found(student, exercise, names[0], content, suffix, None, notes)
    handed_in = sorted(
        f"{p.relative_to(folder).as_posix()}"
        for p in _all_files(folder)
        if p.suffix.lower() in (".py", ".ipynb") and p.name not in others
    )
    handed = (
        f" (it holds {', '.join(handed_in[:5])}{' ...' if len(handed_in) > 5 else ''})"
        if handed_in
        else ""
    )
    return Found(
        student,
        exercise,
        f"{student}/{exercise}.py",
        problem=f"no file {exercise}.py in the submission of {student}{handed}",
    )


def _all_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not is_junk(d)]
        if len(Path(root).relative_to(folder).parts) >= MAX_DEPTH:
            dirs[:] = []
        found += [Path(root) / f for f in files if not is_junk(f)]
    return found
