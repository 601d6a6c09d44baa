"""Whatever a function returns, the graders judge it: an odd answer costs its tests, never a
grader fault. A grader that crashes on a student's value (a bool array where it indexes, None
where it takes a length, a complex number where it compares) would be reported as a grader
problem: the student's tests excluded from the grade, the class run ending with exit 3.

Each "student" of the class below answers every function of every exercise with one odd value.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli
from grader.course import Course
from grader.sandbox.isolation import bwrap

ODD = {
    "none": "None",
    "string": "'hello'",
    "object": "object()",
    "nested": "[[1, [2, 3]], {'a': (4,)}]",
    "nan": "float('nan')",
    "negative": "-1",
    "big": "__import__('numpy').zeros((300, 300))",
    "intarray": "__import__('numpy').arange(6)",
    "tuple3": "(1, 2, 3)",
    "boolarr": "__import__('numpy').ones((2, 2), dtype=bool)",
    "complexarr": "__import__('numpy').ones(3, dtype=complex)",
    "inf": "__import__('numpy').full(4, __import__('numpy').inf)",
}


def answering(stub: str, expression: str) -> str:
    """The stub with the body of every function replaced by ``return <expression>``."""
    tree = ast.parse(stub)
    value = ast.parse(expression, mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.body = [ast.Return(value)]
    return ast.unparse(tree) + "\n"


def test_no_odd_answer_is_a_grader_fault(course_copy: Course, tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    for kind, expression in ODD.items():
        folder = subs / kind
        folder.mkdir(parents=True)
        for name in course_copy.exercises:
            stub = course_copy.stub(name).read_text(encoding="utf-8")
            (folder / f"{name}.py").write_text(answering(stub, expression))
    trust = [] if bwrap() is not None else ["--trust-submissions"]
    result = CliRunner().invoke(
        cli,
        ["--course", str(course_copy.root), "grade", str(subs), "--out", str(out), *trust],
    )
    faults = json.loads((out / "_run.json").read_text()).get("grader_faults", [])
    for kind in ODD:  # (a fault is left out of a student's results: none should be there either)
        for exercise in json.loads((out / f"{kind}.json").read_text()):
            faults += [
                f"{kind} / {exercise['exercise']} / {t['name']}: {t['message'][:200]}"
                for t in exercise["tests"]
                if t["status"] == "grader_error"
            ]
    assert not faults, "\n".join(faults)
    assert result.exit_code == 0, result.output
