"""Grading inside a Jupyter notebook (the test cells of `dlgrade nbgrader export`).

A test cell calls ``run_test("softmax", "test_softmax_matches_torch", globals())``:
the named grader runs on the functions the notebook defined, and the cell
fails (with the grader's message, one line) when the test does not pass,
which is how nbgrader decides a test cell's points. The one hidden-test cell
calls ``run_hidden_tests("softmax", globals())``, whose value is the points
earned: nbgrader's partial credit. Under nbgrader the student's code runs in
the notebook's kernel, as nbgrader always does, and can fool these cells; the
sandboxed path is `dlgrade grade` on the notebooks (grader/instructor/notebooks.py).

The graders come from a course folder found from the kernel's working
directory (the notebook's folder), never from a path written into the
notebook: ``$DLGRADE_COURSE`` if set; else the ``graders/`` folder of the
outermost nbgrader course above (the folder with ``nbgrader_config.py``; the
export puts the graders there, hidden tests included); else the nearest
``graders/`` folder (the public tests that travel with a release) or course
folder. The inputs are seeded by ``$DLGRADE_STUDENT``, which
:func:`nbgrader_student_hook` sets to the id of the student nbgrader is
grading, so a notebook scores what `dlgrade grade` gives the same code.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.engine.student import InProcessBackend
from grader.runtime.policy import FORBIDDEN_MODULES, forbidden_message

if TYPE_CHECKING:
    from grader.course import Course


class NamespaceBackend(InProcessBackend):
    """The functions of a notebook's namespace, as a submission."""

    def __init__(self, namespace: dict[str, Any], display_path: str = "the notebook") -> None:
        self._namespace = namespace
        super().__init__(Path("notebook.ipynb"), display_path)

    def _load(self) -> None:
        for value in self._namespace.values():
            if (
                isinstance(value, types.ModuleType)
                and value.__name__.split(".")[0] in FORBIDDEN_MODULES
            ):
                self._error = forbidden_message(value.__name__, self.display_path)
                return
        module = types.ModuleType("notebook_submission")
        module.__dict__.update({k: v for k, v in self._namespace.items() if not k.startswith("_")})
        self._runner.module = module


GRADERS_DIR = "graders"  # beside the notebooks, or in the nbgrader course folder


class NotebookMessage(Exception):
    """A failure shown in the cell as the message alone: IPython calls ``_render_traceback_``
    instead of printing a traceback (the cell still fails, so nbgrader gives it 0 points)."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


class CourseNotFound(NotebookMessage):
    pass


class TestFailed(NotebookMessage, AssertionError):
    __test__ = False  # not a pytest test class


def find_course(start: Path | None = None) -> Course:
    """The course whose graders the test cells run (see the module's docstring)."""
    from grader.course import COURSE_FILE, Course
    from grader.errors import UserError

    env = os.environ.get("DLGRADE_COURSE")
    if env:
        if not (Path(env) / COURSE_FILE).is_file():
            raise CourseNotFound(f"DLGRADE_COURSE={env} is not a dlgrade course (no {COURSE_FILE})")
        return Course.load(Path(env))
    here = (start or Path.cwd()).resolve()
    folders = [here, *here.parents]
    candidates = [f for f in reversed(folders) if (f / "nbgrader_config.py").is_file()]
    candidates = [f / GRADERS_DIR for f in candidates] + [
        path for f in folders for path in (f / GRADERS_DIR, f)
    ]
    for folder in candidates:
        if (folder / COURSE_FILE).is_file():
            try:
                return Course.load(folder)
            except UserError as exc:
                raise CourseNotFound(f"the course in {folder} does not load: {exc}") from None
    raise CourseNotFound(
        f"no dlgrade course found from {here}: the test cells read the graders from a "
        f"'{GRADERS_DIR}/' folder beside this notebook or above it, or from $DLGRADE_COURSE"
    )


def _graders(exercise: str) -> tuple[Course, Path]:
    course = find_course()
    if exercise not in course.exercises:
        raise CourseNotFound(f"the course in {course.root} has no exercise {exercise!r}")
    tests = (
        course.solution_tests(exercise) if course.has_solutions else course.public_tests(exercise)
    )
    return course, tests


def _run(exercise: str, namespace: dict[str, Any], test: str) -> Any:
    """The result of one grader of ``exercise`` on the notebook's functions."""
    from grader.engine.mistakes import registry_for
    from grader.engine.runner import run_graders
    from grader.engine.seeding import default_seed

    course, tests = _graders(exercise)
    result = run_graders(
        tests,
        Path("notebook.ipynb"),
        exercise=exercise,
        seed=default_seed(),
        backend_factory=lambda path, display: NamespaceBackend(namespace),
        mistakes=registry_for(course.solutions_dir, exercise) if course.has_solutions else None,
        only=test,
    )
    [outcome] = result.tests
    return outcome


def run_test(exercise: str, test: str, namespace: dict[str, Any]) -> None:
    """Runs one grader on the notebook's functions; the cell fails when it does not pass."""
    outcome = _run(exercise, namespace, test)
    if outcome.status != "passed":
        hint = f"\nhint: {outcome.hint}" if outcome.hint else ""
        raise TestFailed(f"{outcome.name} ({outcome.status}): {outcome.message}{hint}")
    print(f"{outcome.name}: passed ({outcome.max_score:g} points)")


def run_hidden_tests(exercise: str, namespace: dict[str, Any]) -> float:
    """Runs the exercise's hidden tests on the notebook's functions; the points earned are the
    cell's value, which nbgrader takes as the cell's partial credit."""
    from grader.engine.runner import collect_graders

    course, tests = _graders(exercise)
    if not course.has_solutions:
        raise CourseNotFound("the hidden tests run only where the instructor's graders are")
    outcomes = [
        _run(exercise, namespace, t.name) for t in collect_graders(tests, exercise) if t.hidden
    ]
    for t in outcomes:
        print(f"{t.name}: {t.status} ({t.score:g} of {t.max_score:g} points)")
    return float(sum(t.score for t in outcomes))


def nbgrader_student_hook(notebooks: list[str], **_: Any) -> None:
    """nbgrader's ``Autograde.pre_convert_hook`` (the exported nbgrader_config.py names it): seeds
    each student's tests by their id and the class secret, as `dlgrade grade` does, instead of by
    the login of whoever runs nbgrader. The kernels inherit the variables. nbgrader's own
    ``student`` argument is the command line's ``--student`` filter ("*" by default), so the id is
    taken from the notebooks' folder, ``submitted/<student>/<assignment>/``."""
    if not notebooks:
        return
    student = Path(notebooks[0]).parent.parent.name
    os.environ["DLGRADE_STUDENT"] = student
    os.environ.pop("DLGRADE_SEED", None)
    try:
        course = find_course(Path(notebooks[0]).parent)
    except CourseNotFound:
        return
    from grader.engine.seeding import seed_for_student
    from grader.instructor.secret import secret_path

    if secret_path(course).is_file():
        from grader.instructor.secret import class_secret

        os.environ["DLGRADE_SEED"] = str(seed_for_student(student, class_secret(course, False)))
