"""Grading inside a Jupyter notebook (the test cells of `dlgrade nbgrader export`).

A test cell calls ``run_test("softmax", "test_softmax_matches_torch", globals())``:
the named grader runs on the functions the notebook defined, and the cell
raises AssertionError (with the grader's message) when the test does not pass,
which is how nbgrader decides a test cell's points. Under nbgrader the student's
code runs in the notebook's kernel, as nbgrader always does; the sandbox applies
to `dlgrade check` and `dlgrade grade`.

The graders come from the course named by ``$DLGRADE_COURSE`` (the export's
setup cell sets it): the instructor's solutions/ when it is there (hidden tests
included), else the public exercises/. The inputs are seeded by
``$DLGRADE_STUDENT``, which :func:`nbgrader_student_hook` sets to the id of the
student nbgrader is grading, so a notebook scores what `dlgrade grade` gives
the same code.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

from grader.engine.student import InProcessBackend
from grader.runtime.policy import FORBIDDEN_MODULES, forbidden_message


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


def run_test(exercise: str, test: str, namespace: dict[str, Any]) -> None:
    """Runs one grader on the notebook's functions; AssertionError when it does not pass."""
    from grader.course import Course
    from grader.engine.runner import run_graders
    from grader.engine.seeding import default_seed

    root = os.environ.get("DLGRADE_COURSE")
    course = Course.load(Path(root)) if root else Course.find()
    tests = (
        course.solution_tests(exercise) if course.has_solutions else course.public_tests(exercise)
    )
    from grader.engine.mistakes import registry_for

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
    if outcome.status != "passed":
        hint = f"\nhint: {outcome.hint}" if outcome.hint else ""
        raise AssertionError(f"{outcome.name} ({outcome.status}): {outcome.message}{hint}")
    print(f"{outcome.name}: passed ({outcome.max_score:g} points)")


def nbgrader_student_hook(notebooks: list[str], **_: Any) -> None:
    """nbgrader's ``Autograde.pre_convert_hook`` (the exported nbgrader_config.py names it): seeds
    each student's tests by their id, as `dlgrade grade` does, instead of by the login of whoever
    runs nbgrader. The kernels inherit the variable. nbgrader's own ``student`` argument is the
    command line's ``--student`` filter ("*" by default), so the id is taken from the notebooks'
    folder, ``submitted/<student>/<assignment>/``."""
    if notebooks:
        os.environ["DLGRADE_STUDENT"] = Path(notebooks[0]).parent.parent.name
