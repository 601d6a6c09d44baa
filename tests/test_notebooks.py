"""Notebook submissions graded in the sandbox: only the solution cells' code (by nbgrader's
metadata), nbgrader's submitted/<student>/<assignment>/ layout, the same scores as the same code
in a .py file, and the kernel attacks that fool `nbgrader autograde` scoring 0."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from edit_source import replace_functions

from grader.cli import cli
from grader.course import Course
from grader.generate.markers import BEGIN_SOLUTION, END_SOLUTION
from grader.instructor.nbgrader_export import notebook
from grader.instructor.notebooks import solution_module, solution_module_from
from grader.instructor.submissions import find

WRONG_SOFTMAX = """
def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""


def _stub_code(course: Course, exercise: str) -> str:
    """What a student finds in the release notebook's solution cell (nbgrader's stub)."""
    code = "".join(_solution_cell(notebook(course, exercise))["source"])
    out, inside = [], False
    for line in code.splitlines():
        if line.strip() == BEGIN_SOLUTION:
            inside = True
            out.append(line.replace(BEGIN_SOLUTION, "raise NotImplementedError"))
        elif line.strip() == END_SOLUTION:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) + "\n"


def _solution_cell(nb: dict) -> dict:
    [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    return cell


def _notebook(course: Course, exercise: str, code: str) -> dict:
    nb = copy.deepcopy(notebook(course, exercise))
    _solution_cell(nb)["source"] = code.splitlines(keepends=True)
    return nb


def _write(path: Path, nb: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def test_only_solution_cells_are_taken_wherever_they_are(tmp_path: Path) -> None:
    def cell(source: str, solution: bool | None = None, kind: str = "code") -> dict:
        meta = {} if solution is None else {"nbgrader": {"solution": solution, "grade": False}}
        return {"cell_type": kind, "metadata": meta, "source": source, "outputs": []}

    nb = {
        "cells": [
            cell("# Title", kind="markdown"),
            cell("def softmax(z):\n    return 'not a solution cell'\n"),  # no nbgrader metadata
            cell("import numpy as np\n%matplotlib inline\n!pip list\n", solution=True),
            cell("def softmax(z):\n    return 'a test cell'\n", solution=False),
            cell(["def softmax(z):\n", "    return np.exp(z)\n"], solution=True),
        ]
    }
    module = solution_module(_write(tmp_path / "softmax.ipynb", nb), "ann/softmax.ipynb")
    namespace: dict = {}
    exec(compile(module, "softmax.py", "exec"), namespace)
    assert namespace["softmax"](0.0) == 1.0
    assert "not a solution cell" not in module and "a test cell" not in module
    assert "(cells 3, 5)" in module and "# (IPython, not run) %matplotlib inline" in module


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "is not JSON"), ("[1, 2]", "no object"), ('{"cells": 3}', "no list of cells")],
)
def test_a_notebook_that_cannot_be_read_becomes_a_module_saying_why(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "softmax.ipynb"
    path.write_text(content)
    module = solution_module(path, "ann/softmax.ipynb")
    with pytest.raises(ImportError, match=reason):
        exec(compile(module, "softmax.py", "exec"), {})


def test_nbgrader_layout_is_found_and_an_ambiguous_one_named(
    course: Course, tmp_path: Path
) -> None:
    submitted = tmp_path / "submitted"
    student = submitted / "ann"
    nb = _notebook(course, "softmax", _stub_code(course, "softmax"))
    _write(student / "ps1" / "softmax.ipynb", nb)
    found = find(submitted, "ann", "softmax")
    assert found.kind == "ipynb" and found.shown_as == "ann/ps1/softmax.ipynb"
    assert "def softmax(" in solution_module_from(found.content, found.shown_as)
    _write(student / "ps2" / "softmax.ipynb", nb)
    _write(student / ".ipynb_checkpoints" / "softmax.ipynb", nb)  # junk: never a candidate
    ambiguous = find(submitted, "ann", "softmax")
    assert ambiguous.content is None
    assert ambiguous.problem.startswith(
        "several files could be softmax.ipynb: ann/ps1/softmax.ipynb, ann/ps2/softmax.ipynb"
    )
    assert "--assignment" in ambiguous.problem
    chosen = find(submitted, "ann", "softmax", within="ps2")
    assert chosen.shown_as == "ann/ps2/softmax.ipynb" and chosen.content is not None
    assert find(submitted, "ann", "conv", within="ps2").content is None
    (student / "softmax.py").write_text("x = 1\n")  # a .py at the top wins
    assert find(submitted, "ann", "softmax").shown_as == "ann/softmax.py"


def _grade(course: Course, submissions: Path, out: Path, *extra: str) -> dict:
    result = CliRunner().invoke(
        cli,
        ["--course", str(course.root), "grade", str(submissions), "--out", str(out), *extra],
    )
    assert result.exit_code == 0, result.output
    return {
        path.stem: {r["exercise"]: r for r in json.loads(path.read_text())}
        for path in out.glob("*.json")
        if not path.name.startswith("_")  # the run's side file
    }


def test_a_notebook_scores_what_the_same_code_in_a_py_file_scores(
    course: Course, tmp_path: Path
) -> None:
    code = replace_functions(course.solution("softmax").read_text(), softmax=WRONG_SOFTMAX)
    _write(tmp_path / "nb" / "ann" / "softmax.ipynb", _notebook(course, "softmax", code))
    (tmp_path / "py" / "ann").mkdir(parents=True)
    (tmp_path / "py" / "ann" / "softmax.py").write_text(code)
    as_notebook = _grade(course, tmp_path / "nb", tmp_path / "g1", "--exercise", "softmax")
    as_py = _grade(course, tmp_path / "py", tmp_path / "g2", "--exercise", "softmax")
    assert as_notebook == as_py
    result = as_notebook["ann"]["softmax"]
    assert 0 < result["score"] < result["max_score"]
    assert any(t["hint"] for t in result["tests"])  # the known mistake is named, as for a .py


ATTACKS = {
    # a solution cell that redefines the test cells' functions: under nbgrader the test cells
    # then call these, and pass
    "redefines_run_test": """
def run_test(exercise, test, namespace):
    print(f"{test}: passed")

def run_hidden_tests(exercise, namespace):
    return 11.0
""",
    # patching the grader itself, by import
    "patches_run_graders": """
import types
import grader.engine.runner as _runner
from grader.engine.results import TestResult

def _all_passed(tests, submission, *, only=None, **_):
    return types.SimpleNamespace(tests=[TestResult(only, 2.0, "passed")])

_runner.run_graders = _all_passed
""",
    # patching it through sys.modules, without an import statement
    "patches_through_sys_modules": """
import sys
sys.modules["grader.engine.runner"].run_graders = lambda *a, **k: None
sys.modules["grader.notebook"].run_test = lambda *a, **k: None
""",
    # reaching the grader by __import__
    "patches_by_dunder_import": """
__import__("grader.notebook").notebook.run_test = lambda *a, **k: None
""",
}


def test_kernel_attacks_score_zero_through_dlgrade_grade(course: Course, tmp_path: Path) -> None:
    """The attacks that fool `nbgrader autograde` (student code in the kernel beside the tests),
    each in a solution cell next to an unfinished stub, in nbgrader's layout."""
    stub = _stub_code(course, "softmax")
    submitted = tmp_path / "submitted"
    for student, attack in ATTACKS.items():
        nb = _notebook(course, "softmax", stub + attack)
        _write(submitted / student.replace("_", "-") / "ps1" / "softmax.ipynb", nb)
    _write(submitted / "honest" / "ps1" / "softmax.ipynb", _notebook(course, "softmax", stub))
    grades = _grade(
        course, submitted, tmp_path / "grades", "--assignment", "ps1", "--exercise", "softmax"
    )
    assert set(grades) == {s.replace("_", "-") for s in ATTACKS} | {"honest"}
    for student, results in grades.items():
        softmax = results["softmax"]
        assert softmax["max_score"] > 0 and softmax["score"] == 0, (student, softmax)
    # the stub alone fails as unfinished; the attacks that import the grader are refused as such
    assert all("not written yet" in t["message"] for t in grades["honest"]["softmax"]["tests"])
    for student in ("patches-run-graders", "patches-by-dunder-import"):
        assert all("grader" in t["message"] for t in grades[student]["softmax"]["tests"])
    csv = (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    assert csv[0] == "student,softmax,total" and all(line.endswith(",0,0") for line in csv[1:])


def test_an_ambiguous_nbgrader_layout_is_that_students_error_and_the_run_goes_on(
    course: Course, tmp_path: Path
) -> None:
    nb = _notebook(course, "softmax", _stub_code(course, "softmax"))
    for assignment in ("ps1", "ps2"):
        _write(tmp_path / "submitted" / "ann" / assignment / "softmax.ipynb", nb)
    _write(tmp_path / "submitted" / "bob" / "ps1" / "softmax.ipynb", nb)
    grades = _grade(course, tmp_path / "submitted", tmp_path / "grades", "--exercise", "softmax")
    assert "several files could be softmax.ipynb" in grades["ann"]["softmax"]["tests"][0]["message"]
    assert all("not written yet" in t["message"] for t in grades["bob"]["softmax"]["tests"])
