"""`dlgrade nbgrader export`: the course's exercises as nbgrader source notebooks.

For each exercise, ``DIR/source/<assignment>/<exercise>.ipynb`` holds: the
exercise's description (the module docstring), a locked set-up cell, the
reference solution as one solution cell (its ``### BEGIN SOLUTION`` markers are
nbgrader's own, so ``nbgrader generate_assignment`` strips the solutions), and
one autograded test cell per grader with its points; hidden graders sit between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, which nbgrader removes
from the release and puts back when it autogrades. Each test cell runs the
course's grader of that name (grader/notebook.py), so a notebook scores what
``dlgrade check --hidden`` gives the same code.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.errors import UserError
from grader.generate.pipeline import require_generated

CONFIG = """# nbgrader configuration written by `dlgrade nbgrader export`.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = "."
# the stub nbgrader leaves where a solution was: the same as dlgrade's stubs
c.ClearSolutions.code_stub = {{"python": "raise NotImplementedError"}}
# the graders import torch once per notebook; give each cell time
c.ExecutePreprocessor.timeout = 300
# each student's inputs seeded by their id, as `dlgrade grade` seeds them
c.Autograde.pre_convert_hook = "grader.notebook.nbgrader_student_hook"
"""


def _cell(kind: str, source: str, grade_id: str | None = None, **nbgrader: Any) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "metadata": {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    if grade_id is not None:
        meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
        meta.update(nbgrader)
        meta["grade_id"] = grade_id
        cell["metadata"]["nbgrader"] = meta
    return cell


def notebook(course: Course, exercise: str) -> dict[str, Any]:
    """The nbgrader source notebook of one exercise."""
    from grader.engine.runner import collect_graders

    source = course.solution(exercise).read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or exercise
    body_start = (
        tree.body[1].lineno if isinstance(tree.body[0], ast.Expr) and len(tree.body) > 1 else 1
    )
    code = "\n".join(source.splitlines()[body_start - 1 :]).strip() + "\n"
    title, _, rest = doc.partition("\n")
    cells = [
        _cell(
            "markdown",
            f"# {exercise}: {title}\n\n{rest.strip()}\n\nWrite your code where it says "
            "`raise NotImplementedError`, using NumPy only, then run the test cells below.",
        ),
        _cell(
            "code",
            "import os\n"
            f'os.environ.setdefault("DLGRADE_COURSE", {str(course.root)!r})\n'
            "from grader.notebook import run_test",
            f"{exercise}-setup",
            locked=True,
        ),
        _cell("code", code, f"{exercise}-code", solution=True),
    ]
    for test in collect_graders(course.solution_tests(exercise), exercise):
        call = f"run_test({exercise!r}, {test.name!r}, globals())"
        if test.hidden:
            call = f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS"
        heading = f"# {test.name} ({test.max_score:g} point{'s' if test.max_score != 1 else ''})\n"
        cells.append(
            _cell(
                "code",
                heading + call,
                f"{exercise}-{test.name}",
                grade=True,
                locked=True,
                points=test.max_score,
            )
        )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def export(course: Course, out: Path, assignment: str, exercises: list[str]) -> list[Path]:
    """Writes the notebooks and nbgrader_config.py into the nbgrader course folder ``out``."""
    if not course.has_solutions:
        raise UserError("the nbgrader source notebooks are built from the instructor's solutions/")
    for e in exercises:
        course.require_exercise(e)
    require_generated(course, exercises)  # nbgrader strips only exact markers: check them first
    folder = out / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for e in exercises:
        path = folder / f"{e}.ipynb"
        nb = notebook(course, e)
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"{e}-{i}"
        path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    config = out / "nbgrader_config.py"
    config.write_text(CONFIG.format(course_id=course.title or "dlgrade"), encoding="utf-8")
    written.append(config)
    return written
