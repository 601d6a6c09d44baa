"""Feedback that names the mistake: every registered mistake is caught, at every seed, costs what
it is worth, and is named.

The seeds are those of $DLGRADE_SEEDS (tests/sweeps.py: three of 1 to 20 by default, the next
three each day, all twenty within a week); ``DLGRADE_SEEDS=1-20`` checks every one, and several
processes can share the work (``DLGRADE_SEEDS=1-10 pytest tests/test_mistakes.py &
DLGRADE_SEEDS=11-20 pytest ...``).
``python benchmarks/mistakes.py`` prints the whole table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import sweeps
from conftest import REPO
from sweeps import as_submission_function  # noqa: F401 (benchmarks/run.py, test_cache.py)

from grader.course import Course
from grader.engine.mistakes import Mistake, Registry, equal_within_tolerance, mistake, registry_for
from grader.engine.runner import check
from grader.engine.student import Call

COURSE = Course.load(REPO)
MIN_MISTAKES = 6
SEEDS = sweeps.seeds()


def registered() -> list[tuple[str, Mistake]]:
    found = []
    for exercise in COURSE.exercises:
        registry = registry_for(COURSE.solutions_dir, exercise)
        assert registry is not None, f"solutions/mistakes_{exercise}.py is missing"
        found += [(exercise, m) for m in registry.all()]
    return found


MISTAKES = registered()
TOTALS = {exercise: sweeps.total_points(exercise) for exercise in COURSE.exercises}


@pytest.mark.parametrize("exercise", COURSE.exercises)
def test_every_exercise_registers_enough_mistakes(exercise: str) -> None:
    registry = registry_for(COURSE.solutions_dir, exercise)
    assert registry is not None and len(registry.all()) >= MIN_MISTAKES
    stub_functions = {
        f.name
        for f in ast.parse(COURSE.stub(exercise).read_text()).body
        if isinstance(f, ast.FunctionDef)
    }
    for m in registry.all():
        assert m.function in stub_functions, f"{m.name} names no function of {exercise}"
        assert m.hint.strip() and len(m.hint) < 200


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("exercise", "m"), MISTAKES, ids=[f"{e}-{m.name}" for e, m in MISTAKES])
def test_mistake_costs_what_it_is_worth_and_is_named(
    exercise: str, m: Mistake, seed: int, tmp_path: Path
) -> None:
    """At least 2 points or 8% of the exercise, whichever is more, and its hint on a failure."""
    lost, result = sweeps.mistake_result(exercise, m, seed, tmp_path)
    need = sweeps.threshold(TOTALS[exercise])
    failed = [t.name for t in result.tests if t.status != "passed"] if result else []
    assert lost >= need, (
        f"{m.name} costs {lost:g} of {TOTALS[exercise]:g} points at seed {seed} "
        f"(at least {need:g} needed); failed: {failed}"
    )
    hinted = [t for t in result.tests if t.hint == m.hint]
    assert hinted, (
        f"{m.name} is not named at seed {seed}; hints given: {[t.hint for t in result.tests if t.hint]}"
    )
    assert all(t.status != "passed" for t in hinted)


def test_a_mistake_is_named_through_the_sandbox_too(tmp_path: Path) -> None:
    """The sweep runs submissions in this process; the real path (a sandboxed worker) names
    the same mistake."""
    m = next(m for e, m in MISTAKES if m.name == "conv_with_flipped_kernel")
    path = sweeps.mistake_submission("conv", m, tmp_path)
    result = check(COURSE, "conv", path=path, hidden=True, seed=17)
    assert any(t.hint == m.hint for t in result.tests)


def test_the_reference_gets_no_hints() -> None:
    for exercise in COURSE.exercises:
        result = check(COURSE, exercise, solution=True, seed=17)
        assert all(t.hint is None for t in result.tests)


def test_a_mistake_that_agrees_with_the_reference_on_the_inputs_is_not_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy.py").write_text("def f(x):\n    return abs(x)\n")
    (tmp_path / "mistakes_toy.py").write_text(
        "from grader.testing import mistake\n\n"
        "@mistake('f', 'you forgot the absolute value')\n"
        "def identity(x):\n    return x\n"
    )
    registry = registry_for(tmp_path, "toy")
    assert registry is not None
    positive = Call(
        "f", (2.0,), {}, result=3.0, returned=True
    )  # wrong, but identity(2) == abs(2): no evidence
    negative = Call("f", (-2.0,), {}, result=-2.0, returned=True)  # identity explains this one
    assert registry.hint_for([positive]) is None
    assert registry.hint_for([negative]) == "you forgot the absolute value"


def test_in_place_mistakes_are_matched_on_the_arguments(tmp_path: Path) -> None:
    @mistake("g", "g changes x in place", in_place=True)
    def doubles_in_place(x):
        x *= 2
        return x.sum()

    registry = Registry({"g": [doubles_in_place.__dlgrade_mistake__]}, None)
    x = np.ones(3)
    call = Call("g", (x,), {}, result=6.0, args_after=(x * 2,), returned=True)
    assert registry.hint_for([call]) == "g changes x in place"
    untouched = Call("g", (x,), {}, result=6.0, args_after=(x,), returned=True)
    assert registry.hint_for([untouched]) is None


def test_same_compares_kind_and_tolerance() -> None:
    assert equal_within_tolerance(np.array([1, 0]), np.array([1, 0], dtype=np.int32))
    assert not equal_within_tolerance(np.array([True, False]), np.array([1, 0]))
    assert equal_within_tolerance((np.ones(2), 1.0), [np.ones(2) + 1e-12, 1.0])
    assert equal_within_tolerance(np.array([np.nan]), np.array([np.nan]))
    assert not equal_within_tolerance(np.ones(2), np.ones(3))


def test_a_busy_machine_stretches_the_replay_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A training run replayed on a quiet machine is replayed on a busy one too: the threshold
    grows with the load per core, and never falls below its quiet value."""
    import grader.engine.mistakes as mistakes

    monkeypatch.setattr(mistakes.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(mistakes.os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    assert mistakes.slow_call_seconds() == mistakes.SLOW_CALL_SECONDS
    monkeypatch.setattr(mistakes.os, "getloadavg", lambda: (10.0, 10.0, 10.0))
    assert mistakes.slow_call_seconds() == 5 * mistakes.SLOW_CALL_SECONDS


def test_the_daily_seeds_cover_every_seed_within_a_week() -> None:
    """CI samples the seeds: a window a day, moving on, so that a week covers all twenty (and the
    blind set's five, one a day, in five days)."""
    twenty = list(sweeps.ALL_SEEDS)
    for k, days in ((3, 7), (5, 4), (1, 20)):
        for first in (739_000, 739_001, 739_013):
            windows = [sweeps.rotation(twenty, k, first + d) for d in range(days)]
            assert all(len(w) == k for w in windows)
            assert set().union(*windows) == set(twenty), (k, first, windows)
    five = [1, 2, 3, 4, 5]
    assert {s for d in range(5) for s in sweeps.rotation(five, 1, 739_000 + d)} == set(five)
    assert len(sweeps.seeds("sample:3")) == 3 and set(sweeps.seeds("sample:3")) <= set(twenty)
