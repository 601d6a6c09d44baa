"""The course as it travels to grading machines: a content-addressed archive, checked before use.

A cluster's workers share no file system with the coordinator. What grading a file needs from the
course (course.yaml and the solutions folder: graders, references, known mistakes, the class
secret; never a student's file) is packed into a :class:`CourseArchive` whose digest is the SHA-256
of its manifest (each path and the SHA-256 of its bytes, sorted). A worker unpacks it once per
digest into its own cache (``DLGRADE_HOME/cache/courses/<digest>``, mode 0700) and, before a
folder there is used, reads it back and checks that it still has that digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.course import COURSE_FILE, Course
from grader.errors import UserError

MAX_BYTES = 64 << 20  # a course larger than this is not sent to every worker
_SAFE_PART = re.compile(r"^[A-Za-z0-9_.@+-]+$")
_SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


class ArchiveMismatch(UserError):
    """An archive or an unpacked course whose content is not what its digest says."""


@dataclass(frozen=True)
class CourseArchive:
    """The files a worker needs to grade a course's submissions, by their path in the course."""

    digest: str
    files: Mapping[str, bytes]

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.files.values())


def manifest_digest(files: Mapping[str, bytes]) -> str:
    """The SHA-256 of the sorted lines ``path NUL sha256(content)``: the archive's name."""
    lines = "".join(
        f"{path}\0{hashlib.sha256(files[path]).hexdigest()}\n" for path in sorted(files)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def pack(course: Course) -> CourseArchive:
    """course.yaml and every regular file below solutions/ (the class secret included; caches
    skipped), as an archive."""
    files = {COURSE_FILE: (course.root / COURSE_FILE).read_bytes()}
    for path in sorted(course.solutions_dir.rglob("*")):
        rel = path.relative_to(course.root)
        if any(part in _SKIPPED for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():  # a link the instructor made is followed: the course is theirs
            files[rel.as_posix()] = path.read_bytes()
    archive = CourseArchive(manifest_digest(files), files)
    if archive.size > MAX_BYTES:
        raise UserError(
            f"{course.solutions_dir} holds {archive.size >> 20} MiB, more than the "
            f"{MAX_BYTES >> 20} MiB sent to every worker: move data files out of solutions/"
        )
    return archive


def _check_path(path: str) -> None:
    parts = path.split("/")
    if not parts or not all(_SAFE_PART.match(p) and p not in (".", "..") for p in parts):
        raise ArchiveMismatch(f"the course archive holds an unsafe path: {path!r}")


def cache_root() -> Path:
    """Where this machine keeps the courses it was sent."""
    from grader.paths import data_home

    return data_home() / "cache" / "courses"


def unpack(archive: CourseArchive, root: Path | None = None) -> Path:
    """The folder of ``archive`` under ``root`` (default :func:`cache_root`): checked if it is
    there already (and made again if it does not hold what its digest says), else written."""
    if manifest_digest(archive.files) != archive.digest:
        raise ArchiveMismatch(
            f"the course archive {archive.digest[:12]} does not match its digest: it was changed "
            "on its way"
        )
    for path in archive.files:
        _check_path(path)
    root = cache_root() if root is None else root
    folder = root / archive.digest
    if folder.is_dir():
        try:
            return verify(folder, archive.digest)
        except ArchiveMismatch:
            shutil.rmtree(folder, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = Path(tempfile.mkdtemp(prefix=f".{archive.digest[:12]}-", dir=root))
    try:
        for path, data in archive.files.items():
            target = tmp.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            tmp.rename(folder)
        except OSError:  # another worker of this machine was quicker: use (and check) theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return verify(folder, archive.digest)


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` by its relative path; a link or anything else that is
    not a folder or a regular file is a mismatch (nothing of ours makes one)."""
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode):
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
            elif not stat.S_ISDIR(mode):
                raise ArchiveMismatch(f"{path} is not a regular file")
    return files


def verify(folder: Path, digest: str) -> Path:
    """``folder`` if the files below it have ``digest``; ArchiveMismatch otherwise."""
    try:
        files = read_tree(folder)
    except OSError as exc:
        raise ArchiveMismatch(f"{folder} cannot be read ({exc})") from None
    if manifest_digest(files) != digest:
        raise ArchiveMismatch(f"{folder} no longer holds the course {digest[:12]}")
    return folder
