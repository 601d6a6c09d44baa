"""`dlgrade nbgrader import-grades`: the scores of `dlgrade grade` written into nbgrader's
gradebook, through nbgrader's own API (``nbgrader.api.Gradebook``), so that a course that lives
in nbgrader keeps its formgrader, feedback and exports while its notebooks are graded in the
sandbox instead of in the kernel.

Each public test's score goes to its grade cell (``<exercise>-<test>``), the hidden tests' sum
to the exercise's one hidden cell (``<exercise>-hidden``), as `dlgrade nbgrader export` names
them; nbgrader must know the assignment (``nbgrader generate_assignment`` records its cells).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import UserError, display_path
from grader.instructor.nbgrader_export import hidden_cell, public_cell


@dataclass(frozen=True)
class Imported:
    students: int
    notebooks: int
    cells: int
    database: str


def read_grades(grades_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The per-student results `dlgrade grade` wrote: ``<student>.json``, a list of exercises."""
    if not (grades_dir / "grades.csv").is_file():
        raise UserError(f"{grades_dir} holds no grades.csv: give the --out folder of dlgrade grade")
    grades = {}
    for path in sorted(grades_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"{display_path(path)}: not JSON ({exc})") from None
        if isinstance(data, list) and all(isinstance(r, dict) and "exercise" in r for r in data):
            grades[path.stem] = data
    if not grades:
        raise UserError(f"{grades_dir} holds no student results (<student>.json)")
    return grades


def _course_id(nbcourse: Path) -> str:
    """The course id of the exported nbgrader_config.py (nbgrader's default otherwise)."""
    config = nbcourse / "nbgrader_config.py"
    if config.is_file():
        found = re.search(
            r"^c\.CourseDirectory\.course_id\s*=\s*(['\"])(.*?)\1",
            config.read_text(encoding="utf-8"),
            re.MULTILINE,
        )
        if found:
            return found.group(2)
    return "default_course"


def import_grades(
    grades_dir: Path, nbcourse: Path, assignment: str, db_url: str | None = None
) -> Imported:
    """Writes the scores of ``grades_dir`` into the gradebook of the nbgrader course ``nbcourse``
    as ``assignment``'s autograded scores."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise UserError("import-grades needs nbgrader: pip install 'dlgrade[nbgrader]'") from None
    grades = read_grades(grades_dir)
    if db_url is None:
        database = nbcourse / "gradebook.db"
        if not database.is_file():
            raise UserError(
                f"{display_path(database)} does not exist: run nbgrader generate_assignment "
                f"{assignment} in {display_path(nbcourse)} first (or give --db)"
            )
        db_url = f"sqlite:///{database.resolve()}"
    cells = 0
    notebooks = 0
    with Gradebook(db_url, course_id=_course_id(nbcourse)) as gb:
        try:
            known = gb.find_assignment(assignment)
        except MissingEntry:
            raise UserError(
                f"nbgrader's gradebook has no assignment {assignment!r}: run nbgrader "
                f"generate_assignment {assignment} first"
            ) from None
        grade_cells = {nb.name: {c.name for c in nb.grade_cells} for nb in known.notebooks}
        for student, results in sorted(grades.items()):
            gb.update_or_create_student(student)
            with gb.db.no_autoflush:  # as SQLAlchemy asks, while nbgrader builds the submission
                gb.update_or_create_submission(assignment, student)
            for result in results:
                exercise = result["exercise"]
                if exercise not in grade_cells:
                    continue  # graded, but not a notebook of this assignment
                scores: dict[str, float] = defaultdict(float)
                for test in result["tests"]:
                    cell = public_cell(exercise, test["name"])
                    if cell not in grade_cells[exercise]:
                        cell = hidden_cell(exercise)
                    if cell not in grade_cells[exercise]:
                        raise UserError(
                            f"{assignment}/{exercise}.ipynb has no grade cell for "
                            f"{test['name']}: export and generate the assignment again"
                        )
                    scores[cell] += float(test["score"])
                for cell, score in scores.items():
                    grade = gb.find_grade(cell, exercise, assignment, student)
                    grade.auto_score = score
                    grade.needs_manual_grade = False
                    cells += 1
                notebooks += 1
        gb.db.commit()
    return Imported(len(grades), notebooks, cells, db_url)
