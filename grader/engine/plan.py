"""What `dlgrade check` grades: the grader file and the submission its options choose.

Light on purpose (no pytest, no NumPy): the command decides this first, so that the sandbox and
the reference process can start while the rest loads (engine/session.py `start_check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.errors import UserError, display_path


@dataclass(frozen=True)
class CheckPlan:
    """Which graders grade which file: what `dlgrade check` decided from its options."""

    exercise: str
    tests: Path
    submission: Path
    hidden: bool


def plan_check(
    course: Course,
    exercise: str,
    *,
    path: Path | None = None,
    solution: bool = False,
    hidden: bool = False,
) -> CheckPlan:
    """Chooses grader file and submission; input problems raise UserError."""
    course.require_exercise(exercise)
    if solution and path is not None:
        raise UserError(
            "--solution grades the reference solution; it cannot be combined with --path"
        )
    if solution or hidden:
        if not course.has_solutions:
            flag = "--solution" if solution else "--hidden"
            raise UserError(
                f"{flag} needs the instructor's solutions/ folder, which this course does not have"
            )
        tests = course.solution_tests(exercise)
        hidden = True
    else:
        tests = course.public_tests(exercise)
    if solution:
        submission = course.solution(exercise)
    else:
        submission = path if path is not None else course.stub(exercise)
    if not tests.is_file():
        raise UserError(
            f"the graders of '{exercise}' are missing: {display_path(tests)} (run dlgrade generate?)"
        )
    if not submission.is_file():
        raise UserError(f"no such file: {display_path(submission)}")
    return CheckPlan(exercise, tests, submission, hidden)
