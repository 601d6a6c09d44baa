"""Grading many submissions at many seeds: registered mistakes, trivial answers, the blind set.

Used by tests/test_mistakes.py, tests/test_trivial.py, tests/test_blind.py and
benchmarks/mistakes.py. Submissions here are our own code (the reference with one
function replaced, or files of tests/blind/), so they run in this process
(``InProcessBackend``): a check then costs 0.1 to 2 s instead of a sandbox start.

Seeds come from ``$DLGRADE_SEEDS``: ``1-20``, ``3,7,11`` or ``sample:3`` (the default:
three seeds of 1 to 20, the next three each day, so that CI covers every seed
within a week and a failure on a given day can be rerun with its seed named;
``python benchmarks/mistakes.py`` runs all twenty).
"""

from __future__ import annotations

import ast
import datetime
import functools
import inspect
import os
import textwrap
from pathlib import Path

from edit_source import replace_functions

from grader.course import Course
from grader.engine.mistakes import Mistake, Registry, registry_for
from grader.engine.results import ExerciseResult
from grader.engine.runner import run_graders
from grader.engine.student import InProcessBackend

os.environ.setdefault("DLGRADE_DEBUG_HINTS", "1")  # a bug in a hint fails the check here
REPO = Path(__file__).resolve().parents[1]
COURSE = Course.load(REPO)
ALL_SEEDS = range(1, 21)
DEFAULT_SEEDS = "sample:3"


def seeds(spec: str | None = None) -> list[int]:
    """The seeds ``$DLGRADE_SEEDS`` (or ``spec``) asks for, in increasing order."""
    spec = (spec or os.environ.get("DLGRADE_SEEDS") or DEFAULT_SEEDS).strip()
    if spec.startswith("sample:"):
        return rotation(list(ALL_SEEDS), int(spec.split(":", 1)[1]))
    chosen: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            low, high = (int(v) for v in part.split("-"))
            chosen.update(range(low, high + 1))
        elif part.strip():
            chosen.add(int(part))
    return sorted(chosen)


def rotation(pool: list[int], k: int, day: int | None = None) -> list[int]:
    """``k`` of ``pool`` for ``day`` (today by default): the day's window in a rotation through
    the pool, so that any ``ceil(len(pool) / k)`` days in a row cover all of it."""
    day = datetime.date.today().toordinal() if day is None else day
    k = max(1, min(k, len(pool)))
    start = day * k % len(pool)
    return sorted(pool[(start + i) % len(pool)] for i in range(k))


def threshold(max_score: float) -> float:
    """What a registered mistake must cost at least: 2 points or 8% of the exercise."""
    return max(2.0, 0.08 * max_score)


_registries: dict[str, Registry | None] = {}


def registry(exercise: str) -> Registry | None:
    if exercise not in _registries:
        _registries[exercise] = registry_for(COURSE.solutions_dir, exercise)
    return _registries[exercise]


def grade(exercise: str, submission: Path, seed: int, *, hidden: bool = True) -> ExerciseResult:
    """The grade of ``submission`` (hidden tests included), with the hints of the registry."""
    tests = COURSE.solution_tests(exercise) if hidden else COURSE.public_tests(exercise)
    return run_graders(
        tests,
        submission,
        exercise=exercise,
        seed=seed,
        backend_factory=InProcessBackend,
        hidden_included=hidden,
        mistakes=registry(exercise),
    )


# -- submissions ------------------------------------------------------------------------------
def as_submission_function(m: Mistake) -> str:
    """The mistake's source as a function with the student's function name (decorator dropped)."""
    source = textwrap.dedent(inspect.getsource(m.implementation))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    lines = source.splitlines()[node.lineno - 1 :]
    lines[0] = lines[0].replace(f"def {m.name}(", f"def {m.function}(", 1)
    return "\n".join(lines)


def mistake_submission(exercise: str, m: Mistake, folder: Path) -> Path:
    """The reference solution with the mistake's function spliced in, as ``folder/<exercise>.py``."""
    source = COURSE.solution(exercise).read_text(encoding="utf-8")
    path = folder / f"{exercise}.py"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_functions(source, **{m.function: as_submission_function(m)}))
    return path


def student_functions(exercise: str) -> list[str]:
    """The functions a student writes: those of the stub that raise NotImplementedError."""
    tree = ast.parse(COURSE.stub(exercise).read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n)
            for n in ast.walk(node)
        )
    ]


TRIVIAL_KINDS = ("zeros", "ones", "first_argument", "constant_0", "constant_1")

_TRIVIAL_TEMPLATE = '''"""A trivial submission ({kind}): every function answers without computing anything."""
import numpy as np

_reference = {{}}
exec(compile({source!r}, "reference", "exec"), _reference)  # only to know the shapes


def _like(value, fill):
    if isinstance(value, np.ndarray):
        return np.full(value.shape, fill, dtype=value.dtype)
    if isinstance(value, (bool, np.bool_)):
        return bool(fill)
    if isinstance(value, (int, np.integer)):
        return int(fill)
    if isinstance(value, (float, np.floating)):
        return float(fill)
    if isinstance(value, (list, tuple)):
        return type(value)(_like(v, fill) for v in value)
    return value


def _answer(name, args, kwargs):
    kind = {kind!r}
    if kind == "first_argument":
        return args[0]
    if kind.startswith("constant_"):
        return int(kind.split("_")[1])
    fill = 0 if kind == "zeros" else 1
    if name == "train_q_learning":  # the shape of the table, without training for it
        env = args[0]
        return np.full((env.observation_space.n, env.action_space.n), float(fill))
    return _like(_reference[name](*args, **kwargs), fill)
'''


def trivial_submission(exercise: str, kind: str, folder: Path) -> Path:
    """A submission whose every function returns a trivial value of ``kind``: zeros or ones
    shaped like the right answer, its first argument, or the constant 0 or 1."""
    assert kind in TRIVIAL_KINDS
    source = COURSE.solution(exercise).read_text(encoding="utf-8")
    text = _TRIVIAL_TEMPLATE.format(kind=kind, source=source)
    for name in student_functions(exercise):
        text += f"\n\ndef {name}(*args, **kwargs):\n    return _answer({name!r}, args, kwargs)\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{exercise}.py"
    path.write_text(text, encoding="utf-8")
    return path


# -- which tests a mistake can change --------------------------------------------------------
PROXY_METHODS = {"call", "repeat", "new", "has", "calls", "last", "time_limit"}


def _module_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _closure(direct: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [n for n in direct.get(name, ()) if n in direct]
    return seen


@functools.cache
def tests_using(exercise: str, tests: Path | None = None) -> dict[str, set[str]]:
    """For each test of the grader file: the student functions it calls, through its helpers
    too (``student.softmax(...)``, ``student.call("softmax", ...)``, ``student.repeat(...)``;
    any string naming a student function counts, which can only add tests)."""
    functions = _module_functions(tests or COURSE.solution_tests(exercise))
    names = set(student_functions(exercise))
    calls: dict[str, set[str]] = {}
    uses: dict[str, set[str]] = {}
    for name, node in functions.items():
        calls[name], uses[name] = set(), set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and sub.value in names:
                uses[name].add(sub.value)  # student.call(name, ...) with the name in a list
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                calls[name].add(sub.func.id)
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and sub.value.id == "student"
                and sub.attr not in PROXY_METHODS
            ):
                uses[name].add(sub.attr)
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in ("call", "repeat")
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == "student"
                and sub.args
                and isinstance(sub.args[0], ast.Constant)
            ):
                uses[name].add(str(sub.args[0].value))
    return {
        name: set().union(*(uses[f] for f in _closure(calls, name)))
        for name in functions
        if name.startswith("test_")
    }


@functools.cache
def callers(exercise: str, function: str) -> set[str]:
    """The reference's functions whose result depends on ``function`` (itself included)."""
    functions = _module_functions(COURSE.solution(exercise))
    direct = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in functions}
        for name, node in functions.items()
    }
    return {name for name in functions if function in _closure(direct, name)}


def affected_tests(exercise: str, function: str) -> list[str]:
    """The tests whose outcome a mistake in ``function`` of the reference can change: the others
    run the reference's own code on the same inputs, and pass."""
    reach = callers(exercise, function)
    return sorted(name for name, used in tests_using(exercise).items() if used & reach)


# Tests that train an agent: a broken one runs to every time limit. They run last, one at a
# time, cheapest first, and only until a mistake's cost and name are established.
SLOW_TESTS = (
    "test_train_q_learning_bootstraps_after_a_truncation",
    "test_train_q_learning_is_reproducible",
    "test_train_q_learning_breaks_ties_at_random",
    "test_train_q_learning_finds_a_shortest_path_on_frozen_lake",
    "test_train_q_learning_walks_the_cliff_edge",
)


def mistake_result(
    exercise: str, m: Mistake, seed: int, folder: Path
) -> tuple[float, ExerciseResult | None]:
    """(points lost, the result of the tests it can change) for the reference with mistake ``m``.

    The tests that call no function built on ``m.function`` run first, together; then the
    others, and the slow ones (SLOW_TESTS) one at a time, only while the cost is below the
    threshold or the mistake is not named: what is reported is a lower bound of the cost, which
    is what the checks need."""
    affected = affected_tests(exercise, m.function)
    if not affected:
        return 0.0, None
    builders = callers(exercise, m.function) - {m.function}
    uses = tests_using(exercise)
    quick = [t for t in affected if t not in SLOW_TESTS]
    stages = [
        [t for t in quick if not uses[t] & builders],
        [t for t in quick if uses[t] & builders],
    ] + [[t] for t in SLOW_TESTS if t in affected]
    submission = mistake_submission(exercise, m, folder)
    lost, tests, result = 0.0, [], None
    for only in stages:
        if not only:
            continue
        result = run_graders(
            COURSE.solution_tests(exercise),
            submission,
            exercise=exercise,
            seed=seed,
            backend_factory=InProcessBackend,
            hidden_included=True,
            mistakes=registry(exercise),
            only=only,
        )
        lost += result.max_score - result.score
        tests += result.tests
        named = any(t.hint == m.hint for t in tests)
        if lost >= threshold(total_points(exercise)) and named:
            break
    assert result is not None
    result.tests = tests
    return lost, result


@functools.cache
def total_points(exercise: str) -> float:
    from grader.engine.runner import collect_graders

    return float(
        sum(t.max_score for t in collect_graders(COURSE.solution_tests(exercise), exercise))
    )
