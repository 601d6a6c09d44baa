"""The worked examples in the reference solutions' docstrings are true (they are what students read)."""

from __future__ import annotations

import ast
import doctest
import importlib.util

import pytest
from conftest import REPO

from grader.course import Course

COURSE = Course.load(REPO)


def load(exercise: str):
    spec = importlib.util.spec_from_file_location(f"doc_{exercise}", COURSE.solution(exercise))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def student_functions(exercise: str) -> list[str]:
    """The functions of the stub a student writes (those that raise NotImplementedError)."""
    tree = ast.parse(COURSE.stub(exercise).read_text())
    return [
        f.name
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and "raise NotImplementedError" in ast.unparse(f)
    ]


@pytest.mark.parametrize("exercise", COURSE.exercises)
def test_docstring_examples_hold(exercise: str) -> None:
    module = load(exercise)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    functions = [
        f
        for f in vars(module).values()
        if callable(f) and getattr(f, "__module__", "") == module.__name__
    ]
    assert all(f.__doc__ for f in functions), "every function has a docstring"


@pytest.mark.parametrize("exercise", COURSE.exercises)
def test_every_function_a_student_writes_has_an_example_that_runs(exercise: str) -> None:
    module = load(exercise)
    finder = doctest.DocTestFinder()
    for name in student_functions(exercise):
        examples = [e for t in finder.find(getattr(module, name), name) for e in t.examples]
        assert examples, f"{exercise}.{name} has no example (>>> ...) in its docstring"


@pytest.mark.parametrize("name", ["conv2d_backward", "maxpool2d_backward"])
def test_backward_docstrings_give_the_arguments_and_the_shape_of_dout(name: str) -> None:
    doc = getattr(load("conv"), name).__doc__
    assert "Args:" in doc and "dout:" in doc and "(N, " in doc.split("dout:")[1].splitlines()[0]
    assert ">>>" in doc


@pytest.mark.parametrize("exercise", COURSE.exercises)
def test_every_grader_test_is_in_the_rule_map_of_its_header(exercise: str) -> None:
    """The header of solutions/test_<exercise>.py maps each docstring rule to its tests: the map
    names every test of the file, and only tests that exist."""
    import re

    source = COURSE.solution_tests(exercise).read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    assert "Every rule of the docstrings" in doc
    mapped = set(re.findall(r"test_[a-z0-9_]+", doc))
    defined = {
        f.name for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")
    }
    assert mapped == defined, (sorted(mapped - defined), sorted(defined - mapped))
