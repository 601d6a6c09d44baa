"""The class secret: what makes graded inputs unknowable outside the instructor's hands.

`dlgrade grade` seeds each student's inputs from their id *and* this secret, so a student's own
`dlgrade check` (seeded by their id alone) never sees the inputs they are graded on, and a table of
answers keyed by input is worth nothing. It is created on first use in
``solutions/.class-secret`` (mode 0600), which no release, notebook or student bundle holds; the
Gradescope autograder zip carries it (students never see that zip).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from grader.course import Course
from grader.errors import UserError

SECRET_FILE = ".class-secret"
_FORMAT = re.compile(r"^[0-9a-f]{64}$")


def secret_path(course: Course) -> Path:
    return course.solutions_dir / SECRET_FILE


def class_secret(course: Course, create: bool = True) -> str:
    """The course's secret, made now if it has none (and ``create``)."""
    path = secret_path(course)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise UserError(
                f"the course has no class secret ({path}); `dlgrade grade` makes one"
            ) from None
        text = secrets.token_hex(32)
        tmp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text + "\n")
        try:
            os.link(tmp, path)  # never replaces a secret another run made meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return class_secret(course, create=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: the class secret cannot be read ({exc})") from None
    if not _FORMAT.match(text):
        raise UserError(f"{path}: not a class secret (64 hex digits); remove it to make a new one")
    return text
