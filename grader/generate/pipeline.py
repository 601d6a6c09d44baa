"""Composes the transformations of markers.py into the generated exercises/ folder, and proves
(proof.py) that what it wrote holds no solution and no hidden test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.errors import FileLineError, UserError, display_path
from grader.generate.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    AddHeader,
    ClearHiddenTests,
    ClearSolutions,
    RejectMarkers,
    RejectNearMisses,
    find_regions,
)
from grader.generate.proof import (
    Secrets,
    check_public_tests,
    check_stub,
    leaked,
    solution_regions_required,
)

Transform = Callable[[str, Path], str]


def stub_pipeline(name: str) -> list[Transform]:
    return [
        RejectNearMisses(),
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
        RejectNearMisses(),
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
    """The generated files of one exercise: {path under exercises/: content}, each proven."""
    sources = [
        (course.solution(name), course.stub(name), stub_pipeline(name)),
        (course.solution_tests(name), course.public_tests(name), public_tests_pipeline(name)),
    ]
    out: dict[Path, str] = {}
    for source, target, transforms in sources:
        if not source.is_file():
            raise UserError(f"course.yaml lists '{name}' but {source} does not exist")
        out[target] = run_pipeline(source, transforms)
    prove_exercise(course, name, out)
    return out


def prove_exercise(course: Course, name: str, rendered: dict[Path, str]) -> None:
    """The stub is the solution with its regions cleared (and it has regions, unless course.yaml
    calls the exercise a reading exercise); the public tests are the graders without the hidden
    ones. Both compared as syntax trees; an error names file and line."""
    solution = course.solution(name)
    source = solution.read_text(encoding="utf-8")
    regions = find_regions(source.splitlines(), BEGIN_SOLUTION, END_SOLUTION, solution)
    solution_regions_required(solution, regions, name in course.reading)
    check_stub(source, solution, regions, rendered[course.stub(name)], course.stub(name))
    graders = course.solution_tests(name)
    text = graders.read_text(encoding="utf-8")
    hidden = find_regions(text.splitlines(), BEGIN_HIDDEN, END_HIDDEN, graders)
    public = course.public_tests(name)
    check_public_tests(text, graders, hidden, rendered[public], public)


def course_secrets(course: Course) -> Secrets:
    """The statements of every solution region of the course."""
    files = []
    for name in course.exercises:
        path = course.solution(name)
        source = path.read_text(encoding="utf-8")
        files.append(
            (path, source, find_regions(source.splitlines(), BEGIN_SOLUTION, END_SOLUTION, path))
        )
    return Secrets.of(files)


def render_course(course: Course) -> dict[Path, str]:
    """Every generated file of the course, proven: stubs and public tests as above, and no
    statement of any solution region in any of them."""
    if not course.has_solutions:
        raise UserError(
            f"no solutions/ folder in {course.root}: generation needs the instructor's sources"
        )
    files: dict[Path, str] = {}
    for name in course.exercises:
        files.update(render_exercise(course, name))
    secrets = course_secrets(course)
    for path, text in files.items():
        leaks = leaked(text, path, secrets)
        if leaks:
            raise leaks[0].error()
    return files


def require_generated(course: Course, names: Sequence[str]) -> Secrets:
    """What release, Gradescope and nbgrader hand out passes generate's checks, and exercises/
    holds exactly what generate writes for ``names``; returns the course's secrets, to scan
    what is handed out."""
    files = render_course(course)
    for name in names:
        for path in (course.stub(name), course.public_tests(name)):
            if not path.is_file():
                raise UserError(f"{display_path(path)} is missing: run dlgrade generate")
            have = path.read_text(encoding="utf-8").splitlines()
            want = files[path].splitlines()
            if have != want:
                line = next(
                    (i for i, (a, b) in enumerate(zip(have, want, strict=False), 1) if a != b),
                    min(len(have), len(want)) + 1,
                )
                raise FileLineError(
                    path,
                    line,
                    "differs from what dlgrade generate writes from solutions/: run dlgrade "
                    "generate (only generated, checked files are handed out)",
                )
    return course_secrets(course)


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
