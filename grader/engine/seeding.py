"""Seeds: one per student, and from it one per (exercise, test), so every input is reproducible."""

from __future__ import annotations

import getpass
import hashlib
import os


def _digest(text: str, nbytes: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:nbytes], "big")


def seed_for_student(student_id: str, secret: str | None = None) -> int:
    """The base seed of a student: a number below 10**8 derived from their id, and from the class
    secret when grading (grader/instructor/secret.py), so that no one without the secret can
    reproduce the graded inputs."""
    if secret is None:
        return _digest(f"dlgrade-student/{student_id}", 8) % 10**8
    return _digest(f"dlgrade-class/{secret}/{student_id}", 8) % 10**8


def default_seed() -> int:
    """The local student's base seed: ``$DLGRADE_SEED`` if set (nbgrader's autograde sets it),
    else from ``$DLGRADE_STUDENT``, else the login name."""
    forced = os.environ.get("DLGRADE_SEED")
    if forced and forced.isdigit():
        return int(forced)
    student = os.environ.get("DLGRADE_STUDENT")
    if not student:
        try:
            student = getpass.getuser()
        except Exception:  # no login name (some containers)
            student = "student"
    return seed_for_student(student)


def seed_of_test(base: int, exercise: str, test_name: str) -> int:
    """The seed of one test's inputs."""
    return _digest(f"{base}/{exercise}/{test_name}", 8)
