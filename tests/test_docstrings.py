"""The worked examples in the reference solutions' docstrings are true (they are what students read)."""

from __future__ import annotations

import doctest
import importlib.util

import pytest
from conftest import REPO

from grader.course import Course

COURSE = Course.load(REPO)


@pytest.mark.parametrize("exercise", COURSE.exercises)
def test_docstring_examples_hold(exercise: str) -> None:
    spec = importlib.util.spec_from_file_location(f"doc_{exercise}", COURSE.solution(exercise))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    functions = [
        f
        for f in vars(module).values()
        if callable(f) and getattr(f, "__module__", "") == module.__name__
    ]
    assert all(f.__doc__ for f in functions), "every function has a docstring"
