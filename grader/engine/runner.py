"""Runs an exercise's graders with pytest, in this process, and returns an ExerciseResult."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from grader.course import Course
from grader.engine.cache import OracleCache, run_key
from grader.engine.mistakes import Registry, registry_for
from grader.engine.plan import CheckPlan, plan_check
from grader.engine.plugin import BackendFactory, EngineConfig, EngineOptions
from grader.engine.results import ExerciseResult, TestResult
from grader.engine.seeding import default_seed
from grader.engine.session import CheckSession, open_check
from grader.engine.student import DEFAULT_BUDGET, unload_submission_modules
from grader.errors import GraderError, display_path
from grader.generate.markers import hidden_lines
from grader.sandbox.backend import SandboxBackend
from grader.sandbox.isolation import Isolation, detect


def _pytest_args(
    tests: Path, workdir: Path, extra: list[str], only: str | Sequence[str] | None = None
) -> list[str]:
    names = [only] if isinstance(only, str) else list(only or [])
    return [
        *([f"{tests}::{name}" for name in names] or [str(tests)]),
        "-p",
        "grader.engine.plugin",
        "--disable-plugin-autoload",  # only our plugin: the grading run ignores what else is installed
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "no:unraisableexception",  # its gc.collect() at every teardown costs 50 ms a check
        "-p",
        "no:threadexception",
        *(  # built-in plugins graders have no use for: not even imported (15 ms a check)
            arg
            for name in ("unittest", "junitxml", "debugging", "doctest", "legacypath", "pastebin")
            for arg in ("-p", f"no:{name}")
        ),
        "--noconftest",  # a conftest.py beside the graders or the submission is never loaded
        "-c",
        str(workdir / "pytest.ini"),
        "--rootdir",
        str(workdir),
        "--import-mode=importlib",
        *extra,
    ]


def _run_pytest(
    tests: Path,
    options: EngineOptions,
    extra: list[str],
    only: str | Sequence[str] | None = None,
    session: CheckSession | None = None,
) -> EngineConfig:
    engine = EngineConfig(options, session)
    before = set(sys.modules)
    err = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="dlgrade-") as tmp:
        workdir = Path(tmp)
        (workdir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = pytest.main(_pytest_args(tests, workdir, extra, only), plugins=[engine])
    for name in set(sys.modules) - before:  # forget the grader module and the submission
        module = sys.modules.get(name)
        if getattr(module, "__file__", None) == str(tests) or name.startswith(
            "dlgrade_submission_"
        ):
            del sys.modules[name]
    unload_submission_modules()
    if engine.interrupted:  # Ctrl-C, which pytest turned into an exit code: the user's, not ours
        raise KeyboardInterrupt
    if engine.config is None:
        raise GraderError(
            f"pytest could not start on {display_path(tests)}: {err.getvalue().strip()}"
        )
    state = engine.state
    if state.problems:
        raise GraderError(f"{display_path(tests)}: " + "; ".join(state.problems))
    if code in (
        pytest.ExitCode.INTERRUPTED,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.USAGE_ERROR,
    ):
        detail = err.getvalue().strip().splitlines()
        raise GraderError(
            f"the graders in {display_path(tests)} could not be loaded"
            + (f": {detail[-1]}" if detail else "")
        )
    return engine


def run_graders(
    tests: Path,
    submission: Path,
    *,
    exercise: str,
    seed: int,
    backend_factory: BackendFactory = SandboxBackend,
    hidden_included: bool = False,
    wanted_artifacts: frozenset[str] = frozenset(),
    mistakes: Registry | None = None,
    only: str | Sequence[str] | None = None,
    oracle_cache: OracleCache | None = None,
    isolation: Isolation | None = None,
    shown_as: str | None = None,
    time_budget: float = DEFAULT_BUDGET,
    session: CheckSession | None = None,
) -> ExerciseResult:
    """Grades ``submission`` with the grader file ``tests`` (or only its tests named ``only``);
    ``mistakes`` names known mistakes; ``oracle_cache`` (the student's loop only) keeps the
    torch references on disk; ``isolation``: the run's level, recorded in the result (where the
    submission runs in a sandbox); ``shown_as``: how messages name the submission (a class's
    ``alice/softmax.py``); ``time_budget``: the seconds all its calls may take together;
    ``session``: the run's sandbox, reference process, cache and device (by default a session of
    its own, with ``oracle_cache``), which its caller closes."""
    tests = tests.resolve()
    options = EngineOptions(
        submission=submission.resolve(),
        exercise=exercise,
        seed=seed,
        hidden_regions=hidden_lines(tests),
        backend_factory=backend_factory,
        wanted_artifacts=wanted_artifacts,
        mistakes=mistakes,
        shown_as=shown_as,
        time_budget=time_budget,
    )
    if session is not None and oracle_cache is not None:
        raise ValueError("give the reference cache to the session, not to run_graders")
    if session is None:
        with CheckSession(tests, oracle_cache) as own:
            engine = _run_pytest(tests, options, [], only, own)
    else:
        engine = _run_pytest(tests, options, [], only, session)
    state = engine.state
    if not state.order:
        raise GraderError(f"{display_path(tests)} has no tests")
    notes: list[str] = []
    if state.disqualified:  # caught at run time: the whole exercise fails, not only that test
        for name in state.order:
            result = state.items[name]
            result.status, result.message, result.hint = "error", state.disqualified, None
    return ExerciseResult(
        exercise=exercise,
        tests=[state.items[n] for n in state.order],
        seed=seed,
        submission=shown_as or display_path(submission),
        hidden_included=hidden_included,
        artifacts=dict(state.artifacts),
        notes=notes,
        isolation=isolation.level if isolation is not None else None,
    )


def collect_graders(tests: Path, exercise: str) -> list[TestResult]:
    """The tests of a grader file (name, points, hidden) without running them."""
    tests = tests.resolve()
    options = EngineOptions(
        submission=tests, exercise=exercise, seed=0, hidden_regions=hidden_lines(tests)
    )
    state = _run_pytest(tests, options, ["--collect-only"]).state
    return [state.items[n] for n in state.order]


def protected_paths(course: Course) -> tuple[Path, ...]:
    """What a submission must not read: the instructor's side of the course."""
    return (course.solutions_dir,) if course.has_solutions else ()


def check(
    course: Course,
    exercise: str,
    *,
    path: Path | None = None,
    solution: bool = False,
    hidden: bool = False,
    seed: int | None = None,
    backend_factory: BackendFactory = SandboxBackend,
    wanted_artifacts: frozenset[str] = frozenset(),
    use_cache: bool = True,
) -> ExerciseResult:
    """`dlgrade check` in one call: plans it, opens its session, runs it (:func:`run_check`) and
    closes the session (`dlgrade check --all`, and the tests)."""
    plan = plan_check(course, exercise, path=path, solution=solution, hidden=hidden)
    with open_check(plan, use_cache) as session:
        return run_check(
            course,
            plan,
            session,
            seed=seed,
            backend_factory=backend_factory,
            wanted_artifacts=wanted_artifacts,
        )


def run_check(
    course: Course,
    plan: CheckPlan,
    session: CheckSession,
    *,
    seed: int | None = None,
    backend_factory: BackendFactory = SandboxBackend,
    wanted_artifacts: frozenset[str] = frozenset(),
) -> ExerciseResult:
    """`dlgrade check`: the exercise and submission that ``plan`` chose, graded in ``session``
    (which its caller opened, and closes). The public check of a student keeps the torch
    references in the session's cache (grader/engine/cache.py); a check with hidden tests never
    has one."""
    seed = default_seed() if seed is None else seed
    sandboxed = backend_factory is SandboxBackend
    isolation = detect(protected_paths(course)) if sandboxed else None
    exercise = plan.exercise
    result = run_graders(
        plan.tests,
        plan.submission,
        exercise=exercise,
        seed=seed,
        backend_factory=backend_factory,
        hidden_included=plan.hidden,
        wanted_artifacts=wanted_artifacts,
        mistakes=registry_for(course.solutions_dir, exercise) if course.has_solutions else None,
        isolation=isolation,
        time_budget=course.time_budget,
        session=session,
    )
    if isolation is not None and plan.hidden and isolation.level != "bubblewrap":
        # the instructor's check of a submission: say what the submission could reach
        result.notes.append(f"sandbox: {isolation.describe()}")
    cache = session.cache
    if cache is not None and all(t.status in ("passed", "failed") for t in result.tests):
        # every test got as far as comparing with its references, which are now stored: the
        # next check of this file will most likely not need the reference process
        cache.mark_complete(run_key(plan.tests, seed))
    return result
