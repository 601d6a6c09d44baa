"""Composes the transformations of markers.py into the generated exercises/ folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.errors import UserError
from grader.generate.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    AddHeader,
    ClearHiddenTests,
    ClearSolutions,
    RejectMarkers,
)

Transform = Callable[[str, Path], str]


def stub_pipeline(name: str) -> list[Transform]:
    return [
        RejectMarkers(BEGIN_HIDDEN, END_HIDDEN),
        ClearSolutions(),
        AddHeader(
            f"Exercise `{name}`: replace each `raise NotImplementedError` with your code.",
            f"Check your work with:  dlgrade check {name}",
            f"(generated from solutions/{name}.py by `dlgrade generate`)",
        ),
    ]


def public_tests_pipeline(name: str) -> list[Transform]:
    return [
        RejectMarkers(BEGIN_SOLUTION, END_SOLUTION),
        ClearHiddenTests(),
        AddHeader(
            f"Public tests of `{name}`: run them with  dlgrade check {name}",
            "(the graders also run hidden tests, which are not in this file)",
            f"Generated from solutions/test_{name}.py by `dlgrade generate`: do not edit.",
        ),
    ]


def run_pipeline(path: Path, transforms: Sequence[Transform]) -> str:
    text = path.read_text(encoding="utf-8")
    for transform in transforms:
        text = transform(text, path)
    return text


def render_exercise(course: Course, name: str) -> dict[Path, str]:
    """The generated files of one exercise: {path under exercises/: content}."""
    sources = [
        (course.solution(name), course.stub(name), stub_pipeline(name)),
        (course.solution_tests(name), course.public_tests(name), public_tests_pipeline(name)),
    ]
    out: dict[Path, str] = {}
    for source, target, transforms in sources:
        if not source.is_file():
            raise UserError(f"course.yaml lists '{name}' but {source} does not exist")
        out[target] = run_pipeline(source, transforms)
    return out


def render_course(course: Course) -> dict[Path, str]:
    if not course.has_solutions:
        raise UserError(
            f"no solutions/ folder in {course.root}: generation needs the instructor's sources"
        )
    files: dict[Path, str] = {}
    for name in course.exercises:
        files.update(render_exercise(course, name))
    return files


def generate_course(course: Course) -> list[Path]:
    """Writes exercises/ from solutions/; returns the files that changed."""
    files = render_course(course)
    course.exercises_dir.mkdir(exist_ok=True)
    changed = []
    for path, content in files.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


@dataclass(frozen=True)
class Drift:
    """A generated file that is not what generation would write."""

    path: Path
    reason: str  # "missing", "differs", "not generated"


def check_course(course: Course) -> list[Drift]:
    """What in exercises/ differs from what `generate` would write (empty when up to date)."""
    files = render_course(course)
    drift = []
    for path, content in files.items():
        if not path.is_file():
            drift.append(Drift(path, "missing"))
        elif path.read_text(encoding="utf-8") != content:
            drift.append(Drift(path, "differs"))
    if course.exercises_dir.is_dir():
        for path in sorted(course.exercises_dir.glob("*.py")):
            if path not in files:
                drift.append(Drift(path, "not generated"))
    return drift
