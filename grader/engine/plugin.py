"""The pytest plugin graders run under: ``points`` and ``time_limit`` markers, the
``student``, ``rng`` and ``device`` fixtures, and the per-test results.

Loaded by the grading engine (``-p grader.engine.plugin``), and by plain ``pytest exercises/``
through the ``exercises/conftest.py`` that `dlgrade generate` writes, where the submission is the
module beside the test file (``exercises/test_softmax.py`` grades ``exercises/softmax.py``). It is
not registered for other pytest sessions: its fixture names (``student``, ``rng``) are generic.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from grader.engine.feedback import builds_on_of, components_first, explain, explain_error
from grader.engine.results import TestResult, TestStatus
from grader.engine.seeding import default_seed, seed_of_test
from grader.engine.student import (
    DEFAULT_BUDGET,
    Backend,
    CallBudget,
    Student,
    StudentError,
    StudentTimeout,
)
from grader.errors import display_path
from grader.sandbox.backend import SandboxBackend

if TYPE_CHECKING:
    from grader.engine.session import CheckSession

DEFAULT_TIME_LIMIT = 10.0  # seconds per call of a submission's function
OUTPUT_CAP = 4000  # characters of a test's captured output kept in its result

BackendFactory = Callable[[Path, str], Backend]


@dataclass
class EngineOptions:
    """How the engine wants this run graded (absent under plain pytest)."""

    submission: Path
    exercise: str
    seed: int
    hidden_regions: list[Any] = field(default_factory=list)
    backend_factory: BackendFactory = SandboxBackend
    default_time_limit: float = DEFAULT_TIME_LIMIT
    time_budget: float = DEFAULT_BUDGET  # all the calls of the exercise together
    wanted_artifacts: frozenset[str] = frozenset()
    mistakes: Any = None  # a grader.engine.mistakes.Registry, to name known mistakes in failures
    shown_as: str | None = None  # how messages name the submission (default: its path)


@dataclass
class RunState:
    """What the plugin learns during a run: the tests, their results, and any grader problems."""

    items: dict[str, TestResult] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    # why the whole exercise scores 0 whatever its tests said (a forbidden import at run time)
    disqualified: str | None = None
    builds_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the graders' BUILDS_ON


class Artifacts:
    """Data a grader hands to the report when it is asked for (e.g. a learning curve to plot)."""

    def __init__(self, wanted: frozenset[str], store: dict[str, Any]) -> None:
        self._wanted = wanted
        self._store = store

    def wanted(self, name: str) -> bool:
        return name in self._wanted

    def add(self, name: str, value: Any) -> None:
        self._store[name] = value


ENGINE_KEY = pytest.StashKey[EngineOptions]()
STATE_KEY = pytest.StashKey[RunState]()
SESSION_KEY = pytest.StashKey["CheckSession"]()  # the run's sandbox, references and device


class EngineConfig:
    """The plugin object the engine passes to ``pytest.main`` with its options and the run's
    CheckSession (engine/session.py)."""

    def __init__(self, options: EngineOptions, session: CheckSession | None = None) -> None:
        self.options = options
        self.session = session
        self.config: pytest.Config | None = None
        self.interrupted = False  # Ctrl-C: pytest stops the run and returns, the engine re-raises

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest's own Interrupted (errors during collection) subclasses KeyboardInterrupt
        self.interrupted = excinfo.type is KeyboardInterrupt

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[ENGINE_KEY] = self.options
        if self.session is not None:
            config.stash[SESSION_KEY] = self.session
        self.config = config

    @property
    def state(self) -> RunState:
        assert self.config is not None, "pytest did not configure the run"
        return self.config.stash.setdefault(STATE_KEY, RunState())

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Results come from the exception itself (_classify); pytest's formatted traceback of a
        # failure, which nothing reads here, cost 38 ms per failed test (a third of class grading).
        for item in items:
            item.repr_failure = _exception_only  # type: ignore[method-assign]
            # pytest declares _repr_failure_py to return a TerminalRepr; callers print a str alike
            item._repr_failure_py = _exception_only  # type: ignore[method-assign, assignment]


def _exception_only(excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
    return excinfo.exconly()


# -- configuration ------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade")
    group.addoption(
        "--dlgrade-seed",
        type=int,
        default=None,
        help="base seed of the graders' inputs (default: derived from $DLGRADE_STUDENT or the login name)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n): what the test is worth (the exercise's total is the sum)"
    )
    config.addinivalue_line(
        "markers", "time_limit(seconds): the time allowed for each call of the submission"
    )
    config.stash.setdefault(STATE_KEY, RunState())


def _engine(config: pytest.Config) -> EngineOptions | None:
    return config.stash.get(ENGINE_KEY, None)


def _session(config: pytest.Config) -> CheckSession | None:
    return config.stash.get(SESSION_KEY, None)


def _exercise_of(path: Path) -> str:
    stem = path.stem
    return stem[len("test_") :] if stem.startswith("test_") else stem


def _hidden(item: pytest.Item, options: EngineOptions | None) -> bool:
    if options is None or not isinstance(item, pytest.Function):
        return False
    line = item.function.__code__.co_firstlineno
    return any(line in region for region in options.hidden_regions)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash.setdefault(STATE_KEY, RunState())
    options = _engine(config)
    for item in items:
        if options is None and "student" not in getattr(item, "fixturenames", ()):
            continue  # under plain pytest, only tests of a submission are graders
        marker = item.get_closest_marker("points")
        if (
            marker is None
            or not marker.args
            or not isinstance(marker.args[0], int | float)
            or marker.args[0] <= 0
        ):
            state.problems.append(f"{item.nodeid} has no @pytest.mark.points(N) with N > 0")
            continue
        doc = (
            (getattr(item, "function", None).__doc__ or "")
            if isinstance(item, pytest.Function)
            else ""
        )
        state.builds_on.update(builds_on_of(getattr(item, "module", None)))
        state.items[item.nodeid] = TestResult(
            name=item.name,
            max_score=float(marker.args[0]),
            status="error",
            message="not run",
            hidden=_hidden(item, options),
            doc=" ".join(doc.split()),
        )
        state.order.append(item.nodeid)
    if state.problems and options is None:
        raise pytest.UsageError("; ".join(state.problems))


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dlgrade_submission(request: pytest.FixtureRequest) -> Iterator[tuple[Backend, CallBudget]]:
    """The submission this grader module checks, loaded once per module, and the time budget
    its calls share."""
    options = _engine(request.config)
    session = _session(request.config)
    if options is not None:
        shown = options.shown_as or display_path(options.submission)
        prepared = (
            session.take_sandbox(options.submission)
            if session is not None and options.backend_factory is SandboxBackend
            else None
        )
        if prepared is not None:  # the sandbox the check started while the graders loaded
            backend: Backend = SandboxBackend(options.submission, shown, prepared=prepared)
        else:
            backend = options.backend_factory(options.submission, shown)
        budget = CallBudget(options.time_budget)
    else:
        test_file = Path(str(request.path))
        path = test_file.with_name(f"{_exercise_of(test_file)}.py")
        backend = SandboxBackend(path, display_path(path))
        budget = CallBudget()
    try:
        yield backend, budget
    finally:
        reason = backend.violation()
        if reason:
            request.config.stash.setdefault(STATE_KEY, RunState()).disqualified = reason
        backend.close()


@pytest.fixture
def student(
    request: pytest.FixtureRequest, dlgrade_submission: tuple[Backend, CallBudget]
) -> Student:
    """The submission under test: ``student.softmax(z)`` calls its ``softmax``."""
    options = _engine(request.config)
    limit = options.default_time_limit if options else DEFAULT_TIME_LIMIT
    marker = request.node.get_closest_marker("time_limit")
    if marker is not None and marker.args:
        limit = float(marker.args[0])
    backend, budget = dlgrade_submission
    return Student(backend, time_limit=limit, budget=budget, test=request.node.name)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> Any:
    """A NumPy Generator seeded by (student, exercise, test): reproducible, different per student."""
    import numpy as np

    options = _engine(request.config)
    if options is not None:
        base, exercise = options.seed, options.exercise
    else:
        base = request.config.getoption("--dlgrade-seed")
        base = default_seed() if base is None else base
        exercise = _exercise_of(Path(str(request.path)))
    return np.random.default_rng(seed_of_test(base, exercise, request.node.name))


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    """Where graders leave data the user asked for (``artifacts.wanted("learning_curve")``)."""
    options = _engine(request.config)
    state = request.config.stash.setdefault(STATE_KEY, RunState())
    return Artifacts(options.wanted_artifacts if options else frozenset(), state.artifacts)


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The device the torch oracles run on: ``cuda`` where there is a GPU, else ``cpu``."""
    session = _session(request.config)
    if session is not None:
        return session.device
    from grader.oracle import resolve_device

    return resolve_device()


# -- the oracles -------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    """The test's ``@oracle`` calls (its fixtures' too) go to the run's CheckSession: from the
    cache, the reference process, or computed here on its device (grader/oracle.py)."""
    from grader.oracle import oracles_from

    with oracles_from(_session(item.config)):
        return (yield)


# -- results -----------------------------------------------------------------------------------
def _classify(
    excinfo: pytest.ExceptionInfo[BaseException], item: pytest.Item
) -> tuple[TestStatus, str, str | None]:
    from grader.engine.compare import Mismatch

    exc = excinfo.value
    student: Student | None = getattr(item, "funcargs", {}).get("student")
    last = student.last if student is not None else None
    if isinstance(exc, StudentTimeout):
        return "timeout", str(exc), None
    if isinstance(exc, StudentError):
        return "error", str(exc), None
    if isinstance(exc, Mismatch):
        call = exc.call or exc.about or last
        prefix = f"{call.describe()}: " if call is not None and exc.call is None else ""
        return "failed", prefix + exc.message, exc.hint
    if isinstance(exc, AssertionError):
        text = str(exc).split("\nassert ")[0].strip() or "a check of the result failed"
        prefix = f"{last.describe()}: " if last is not None else ""
        return "failed", prefix + text, None
    if excinfo.errisinstance(pytest.skip.Exception):
        return "grader_error", f"the grader skipped this test: {exc}", None
    # anything else was raised by the grader's own code: the instructor's problem, not a failure
    after = f" (after {last.describe()})" if last is not None else ""
    where = _grader_line(excinfo, item)
    return "grader_error", f"{where}: {type(exc).__name__}: {exc}{after}", None


def _grader_line(excinfo: pytest.ExceptionInfo[BaseException], item: pytest.Item) -> str:
    """Where in the grader file the exception was raised (the deepest frame in that file)."""
    grader_file = str(getattr(item, "path", ""))
    line = None
    for entry in excinfo.traceback:
        if str(entry.path) == grader_file:
            line = entry.lineno + 1
    name = Path(grader_file).name or "the grader"
    return f"{name}, line {line}" if line else name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash.get(STATE_KEY, None)
    result = state.items.get(item.nodeid) if state is not None else None
    if result is None:
        return report
    if call.when == "setup" and call.excinfo is not None:
        result.status, result.message, result.hint = _classify(call.excinfo, item)
    elif call.when == "call":
        if call.excinfo is None:
            result.status, result.message, result.hint = "passed", "", None
        else:
            result.status, result.message, result.hint = _classify(call.excinfo, item)
            options = _engine(item.config)
            student = getattr(item, "funcargs", {}).get("student")
            exc = call.excinfo.value
            failed_call = (
                getattr(exc, "call", None)
                or getattr(exc, "about", None)
                or (student.last if student is not None else None)
            )
            result.function = failed_call.function if failed_call is not None else None
            if result.status == "failed" and student is not None:
                registry = options.mistakes if options else None
                result.hint, result.hint_source = explain(
                    call.excinfo.value, student.calls, registry
                )
            elif result.status == "error" and result.hint is None:
                result.hint = explain_error(result.message)
                result.hint_source = "diagnosis" if result.hint else None
        output = (report.capstdout or "") + (report.capstderr or "")
        result.output = output[:OUTPUT_CAP] + ("\n[output cut]" if len(output) > OUTPUT_CAP else "")
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None:
        components_first([state.items[n] for n in state.order], state.builds_on)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Under plain pytest, the points earned, after pytest's own summary."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.order or _engine(config) is not None:
        return
    results = [state.items[n] for n in state.order]
    earned = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    terminalreporter.write_sep("=", f"dlgrade: {earned:g} / {total:g} points")
