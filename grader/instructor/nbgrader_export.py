"""`dlgrade nbgrader export`: the course's exercises as nbgrader source notebooks.

For each exercise, ``DIR/source/<assignment>/<exercise>.ipynb`` holds: the
exercise's description (the module docstring), a locked set-up cell, the
reference solution as one solution cell (its ``### BEGIN SOLUTION`` markers are
nbgrader's own, so ``nbgrader generate_assignment`` strips the solutions), one
autograded test cell per public grader with its points, and one cell for all
hidden graders: in the release it reads only ``# hidden tests: N points``
(nbgrader removes what lies between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``, and puts it back when it autogrades); its grade id
and points name nothing a student could learn from, and its value, the points
the hidden tests gave, is nbgrader's partial credit.

No path of the instructor's machine is written: the graders travel with the
course folder. ``DIR/graders/`` holds the graders, hidden tests, known mistakes
and reference (the nbgrader course folder is the instructor's);
``DIR/source/<assignment>/graders/`` holds the public tests, which nbgrader
releases with the notebooks. The test cells find them from the notebook's
folder (grader/notebook.py), so a notebook scores what ``dlgrade grade`` gives
the same code.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from grader.course import Course
from grader.errors import UserError
from grader.generate.pipeline import require_generated
from grader.notebook import GRADERS_DIR
from grader.wording import plural

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
        meta: dict[str, Any] = {
            "grade": False,
            "solution": False,
            "locked": False,
            "schema_version": 3,
        }
        meta.update(nbgrader)
        meta["grade_id"] = grade_id
        cell["metadata"]["nbgrader"] = meta
    return cell


def _points(n: float) -> str:
    return plural(float(n), "point")


def hidden_cell(exercise: str) -> str:
    """The grade id of the cell that runs all hidden tests of ``exercise``."""
    return f"{exercise}-hidden"


def public_cell(exercise: str, test: str) -> str:
    """The grade id of the cell that runs the public test ``test``."""
    return f"{exercise}-{test}"


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
            "# The graders are read from the graders/ folder beside this notebook (or above it).\n"
            "from grader.notebook import run_hidden_tests, run_test",
            f"{exercise}-setup",
            locked=True,
        ),
        _cell("code", code, f"{exercise}-code", solution=True),
    ]
    graders = collect_graders(course.solution_tests(exercise), exercise)
    for test in (t for t in graders if not t.hidden):
        heading = f"# {test.name} ({_points(test.max_score)})\n"
        cells.append(
            _cell(
                "code",
                heading + f"run_test({exercise!r}, {test.name!r}, globals())",
                public_cell(exercise, test.name),
                grade=True,
                locked=True,
                points=test.max_score,
            )
        )
    hidden = sum(t.max_score for t in graders if t.hidden)
    if hidden:
        cells.append(
            _cell(
                "code",
                f"# hidden tests: {_points(hidden)}\n"
                f"### BEGIN HIDDEN TESTS\nrun_hidden_tests({exercise!r}, globals())\n"
                "### END HIDDEN TESTS",
                hidden_cell(exercise),
                grade=True,
                locked=True,
                points=hidden,
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
    written += _copy_graders(course, out / GRADERS_DIR, exercises, public=False)
    written += _copy_graders(course, folder / GRADERS_DIR, exercises, public=True)
    return written


def _copy_graders(course: Course, target: Path, exercises: list[str], public: bool) -> list[Path]:
    """A course folder of graders: the public tests (released with the notebooks), or the
    graders, known mistakes and reference solutions (for autograding, in the instructor's
    nbgrader folder). A folder written before keeps its other exercises."""
    listed: list[str] = []
    existing = target / "course.yaml"
    if existing.is_file():
        data = yaml.safe_load(existing.read_text(encoding="utf-8")) or {}
        listed = [e for e in data.get("exercises", []) if isinstance(e, str)]
    listed += [e for e in exercises if e not in listed]
    written = []
    if public:
        sources = [course.public_tests(e) for e in exercises]
        folder = target / "exercises"
    else:
        sources = [
            path
            for e in exercises
            for path in (
                course.solution(e),
                course.solution_tests(e),
                course.solutions_dir / f"mistakes_{e}.py",
            )
            if path.is_file()
        ]
        folder = target / "solutions"
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy(source, folder / source.name)
        written.append(folder / source.name)
    if not public:  # autograde seeds as `dlgrade grade` does: by id and the class secret
        from grader.instructor.secret import SECRET_FILE, class_secret

        secret = folder / SECRET_FILE
        secret.write_text(class_secret(course) + "\n", encoding="ascii")
        secret.chmod(0o600)
        written.append(secret)
    text = yaml.safe_dump({"title": course.title, "exercises": listed}, sort_keys=False)
    existing.write_text(
        "# The graders of the exported exercises, written by `dlgrade nbgrader export`.\n" + text,
        encoding="utf-8",
    )
    written.append(existing)
    return written
