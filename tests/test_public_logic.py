"""No reference logic in public files: nothing in a public test file computes what a student's
function should compute.

The public test files are taken from a release of every exercise (no solutions/ folder, so no
reference module), and run twice:

* against the release's stubs: every test scores 0 (nothing public passes a test by itself)
  and nothing under solutions/ is opened;
* against a copy of the reference solution given as the student's file, with every function of
  the public file (except the tests and the ``@oracle`` PyTorch references) instrumented. Then
  (1) no public function, called on the graders' inputs of a student function, returns what the
  reference returned on them; (2) no value a public function computed during a test equals a
  value the submission gave in that test (a result, or data read back from an object it was
  given, such as the returns an environment recorded).

Two planted leaks (a NumPy softmax, the Q-learning loop the public file once held) show that
both checks find what they look for.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import os
import shutil
import signal
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.course import Course
from grader.engine.mistakes import equal_within_tolerance
from grader.engine.runner import check
from grader.engine.student import InProcessBackend, RawCall
from grader.runtime import factories
from grader.runtime.plain import Opaque

PROBE = "dlgrade_public_logic_probe"


@dataclass
class Event:
    """A value seen during one test: a submission's result, or a public function's."""

    test: str
    function: str
    value: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    recipes: dict = field(default_factory=dict)
    # a public function's call: the submission events that happened during it (what it relays)
    during: range = range(0)


@dataclass
class Probe:
    """What one instrumented run saw."""

    submission: list[Event] = field(default_factory=list)
    public: list[Event] = field(default_factory=list)
    functions: dict[str, Any] = field(default_factory=dict)  # the public functions, unwrapped
    recipes: dict[int, tuple[str, tuple, dict]] = field(default_factory=dict)

    def instrument(self, namespace: dict[str, Any], names: list[str]) -> None:
        """Wraps the named functions of a public test module so that their results are recorded."""
        for name in names:
            self.functions[name] = namespace[name]
            namespace[name] = self._recording(name, namespace[name])

    def _recording(self, name: str, function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            first = len(self.submission)
            value = function(*args, **kwargs)
            during = range(first, len(self.submission))
            self.public.append(Event(_current_test(), name, value, during=during))
            return value

        return wrapper


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


class Recorder(InProcessBackend):
    """The submission in this process, every call and every plain factory result recorded."""

    probe: Probe

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        raw = super().call(name, args, kwargs, time_limit)
        if raw.error is None and not raw.timed_out:
            self.probe.submission.append(
                Event(_current_test(), name, raw.result, args, kwargs, dict(self.probe.recipes))
            )
        return raw

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        raw = super().new(factory, args, kwargs)
        if isinstance(raw.result, Opaque):
            self.probe.recipes[raw.result.ident] = (factory, args, kwargs)
        elif raw.error is None:  # data read back from the submission's objects
            self.probe.submission.append(Event(_current_test(), factory, raw.result))
        return raw


def public_helpers(path: Path) -> list[str]:
    """The module-level functions of a public test file other than tests and ``@oracle``s."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("test_"):
            continue
        decorators = {getattr(d, "id", getattr(d, "attr", "")) for d in node.decorator_list}
        if "oracle" not in decorators:
            names.append(node.name)
    return names


def _instrument(public_tests: Path) -> None:
    names = public_helpers(public_tests)
    public_tests.write_text(
        public_tests.read_text()
        + f"\n\nimport sys as _s\n_s.modules[{PROBE!r}].instrument(globals(), {names!r})\n"
    )


def _materialize(value: Any, recipes: dict[int, tuple[str, tuple, dict]]) -> Any:
    if isinstance(value, Opaque):
        factory, args, kwargs = recipes[value.ident]
        return factories.build(
            factory, *_materialize(args, recipes), **_materialize(kwargs, recipes)
        )
    if isinstance(value, list | tuple):
        return type(value)(_materialize(v, recipes) for v in value)
    if isinstance(value, dict):
        return {k: _materialize(v, recipes) for k, v in value.items()}
    return value.copy() if isinstance(value, np.ndarray) else value


def _numbers(value: Any) -> list[float] | None:
    """The numbers a value holds, flattened (None when it is not numbers all through)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | Opaque):
        return None
    if isinstance(value, list | tuple):
        parts = [_numbers(v) for v in value]
        return None if any(p is None for p in parts) else [x for p in parts for x in p]
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype.kind not in "biuf":
        return None
    return [float(x) for x in array.ravel()]


def distinctive(value: Any, inputs: tuple = ()) -> bool:
    """Enough information that an equal value is no coincidence: at least four numbers, not all
    the same, and not one of the inputs handed back."""
    numbers = _numbers(value)
    if numbers is None or len(numbers) < 4 or len(set(numbers)) < 2:
        return False
    return not any(equal_within_tolerance(value, x) for x in inputs)


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def stop(*_: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def same_output_on_graders_inputs(probe: Probe) -> list[str]:
    """Check (1): public functions called on each student call's inputs."""
    found = []
    seen: set[tuple[str, str]] = set()
    for event in probe.submission:
        if event.function in factories.FACTORIES or not distinctive(event.value, event.args):
            continue
        for name, function in probe.functions.items():
            try:
                args = _materialize(event.args, event.recipes)
                kwargs = _materialize(event.kwargs, event.recipes)
                inspect.signature(function).bind(*args, **kwargs)
            except (TypeError, KeyError):
                continue
            try:
                with _time_limit(10), np.errstate(all="ignore"):
                    got = function(*args, **kwargs)
            except Exception:
                continue
            if equal_within_tolerance(got, event.value) and (name, event.function) not in seen:
                seen.add((name, event.function))
                found.append(f"{name} computes {event.function} (on the inputs of {event.test})")
    return found


def same_values_in_a_test(probe: Probe) -> list[str]:
    """Check (2): what public functions computed during a test, against what the submission gave."""
    found = []
    for mine in probe.public:
        if not distinctive(mine.value) or any(
            equal_within_tolerance(mine.value, probe.submission[i].value) for i in mine.during
        ):
            continue  # nothing to go by, or it hands on what the submission gave it
        for theirs in probe.submission:
            if theirs.test == mine.test and distinctive(theirs.value, theirs.args):
                if equal_within_tolerance(mine.value, theirs.value):
                    found.append(
                        f"{mine.function} gave what the submission's {theirs.function} gave, "
                        f"in {mine.test.split('::')[-1]}"
                    )
    return sorted(set(found))


def run_probe(course: Course, exercise: str, reference: Path) -> Probe:
    probe = Probe()
    sys.modules[PROBE] = probe  # type: ignore[assignment]
    try:
        result = check(
            course,
            exercise,
            path=reference,
            seed=5,
            backend_factory=type("Rec", (Recorder,), {"probe": probe}),
            wanted_artifacts=frozenset({"learning_curve"}),
            use_cache=False,
        )
    finally:
        del sys.modules[PROBE]
    assert result.full_marks, [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert probe.submission and probe.functions
    return probe


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A release of every exercise of the course, and beside it the reference solutions."""
    root = tmp_path_factory.mktemp("public-logic")
    course = Course.load(REPO)
    assignment = root / "all.yaml"
    assignment.write_text("title: All\nexercises: [" + ", ".join(course.exercises) + "]\n")
    out = root / "release"
    result = CliRunner().invoke(
        cli, ["--course", str(REPO), "release", str(assignment), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert not (out / "solutions").exists()
    (root / "reference").mkdir()
    for e in course.exercises:
        shutil.copy(course.solution(e), root / "reference" / f"{e}.py")
    return Course.load(out)


def _exercises() -> list[str]:
    return list(Course.load(REPO).exercises)


@pytest.mark.parametrize("exercise", _exercises())
def test_public_tests_alone_score_nothing_and_read_no_solution(
    release: Course, exercise: str
) -> None:
    opened: list[str] = []
    watching = types.SimpleNamespace(on=True)

    def audit(event: str, args: tuple) -> None:
        if watching.on and event == "open" and isinstance(args[0], str | os.PathLike):
            opened.append(os.fspath(args[0]))

    sys.addaudithook(audit)  # hooks cannot be removed: this one is switched off below
    try:
        result = check(release, exercise, seed=3, backend_factory=InProcessBackend)
    finally:
        watching.on = False
    assert result.score == 0 and result.max_score > 0
    assert all(t.status == "error" and "NotImplementedError" in t.message for t in result.tests)
    assert not [p for p in opened if "solutions" in Path(p).parts or "mistakes_" in p]


@pytest.mark.parametrize("exercise", _exercises())
def test_no_public_function_computes_what_a_student_function_should(
    release: Course, exercise: str, tmp_path: Path
) -> None:
    course = Course.load(shutil.copytree(release.root, tmp_path / "r", symlinks=False))
    _instrument(course.public_tests(exercise))
    probe = run_probe(course, exercise, release.root.parent / "reference" / f"{exercise}.py")
    assert same_output_on_graders_inputs(probe) == []
    assert same_values_in_a_test(probe) == []


OLD_REFERENCE_RETURNS = '''

def reference_returns(env_spec, n_episodes, seed, alpha, gamma, epsilon):
    """The grader's own Q-learning run (what the public file held before issue 17)."""
    table, _, _, rewards, start = env_model(*env_spec)
    S, A = rewards.shape
    Q, rng, returns = np.zeros((S, A)), np.random.default_rng(seed), []
    for _ in range(n_episodes):
        s, total, terminated = start, 0.0, False
        while not terminated:
            best = np.flatnonzero(Q[s] == Q[s].max())
            a = int(rng.integers(A)) if rng.random() < epsilon else int(rng.choice(best))
            (_, s_next, r, terminated), *_ = table[s][a]
            Q[s, a] += alpha * (r + (0.0 if terminated else gamma * Q[s_next].max()) - Q[s, a])
            s, total = int(s_next), total + r
        returns.append(total)
    return returns
'''

NUMPY_SOFTMAX = '''

def normalise(z, axis=-1):
    """A helper that is the solution in disguise."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def test_the_checks_find_the_training_loop_a_public_file_once_held(
    release: Course, tmp_path: Path
) -> None:
    course = Course.load(shutil.copytree(release.root, tmp_path / "r"))
    tests = course.public_tests("qlearning")
    text = tests.read_text().replace(
        "list(CLIFF_WALKING_REFERENCE_RETURNS)",
        "reference_returns(CLIFF_WALKING, 300, seed, **params)",
    )
    assert "reference_returns(CLIFF_WALKING" in text
    tests.write_text(text + OLD_REFERENCE_RETURNS)
    _instrument(tests)
    probe = run_probe(course, "qlearning", release.root.parent / "reference" / "qlearning.py")
    found = same_values_in_a_test(probe)
    assert any(
        f.startswith("reference_returns gave what the submission's episode_returns gave")
        for f in found
    ), found


def test_the_checks_find_a_helper_that_is_the_solution(release: Course, tmp_path: Path) -> None:
    course = Course.load(shutil.copytree(release.root, tmp_path / "r"))
    tests = course.public_tests("softmax")
    tests.write_text(tests.read_text() + NUMPY_SOFTMAX)
    _instrument(tests)
    probe = run_probe(course, "softmax", release.root.parent / "reference" / "softmax.py")
    found = same_output_on_graders_inputs(probe)
    assert any(f.startswith("normalise computes softmax") for f in found), found


def test_the_learning_curve_shipped_as_data_is_the_references(course: Course) -> None:
    """CLIFF_WALKING_REFERENCE_RETURNS in the qlearning graders: the reference solution's return
    per episode on CliffWalking-v1 (alpha 0.5, gamma 0.99, epsilon 0.1), averaged over seeds 0-19."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("qlearning_ref", course.solution("qlearning"))
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    runs = []
    for seed in range(20):
        env = factories.build(
            "gymnasium.make_recorded", "CliffWalking-v1", disable_env_checker=True
        )
        reference.train_q_learning(env, 300, alpha=0.5, gamma=0.99, epsilon=0.1, seed=seed)
        runs.append(factories.build("episode_returns", env))
    shipped = {}
    exec(  # the constant alone, read from the generated public file
        next(
            ast.unparse(node)
            for node in ast.parse(course.public_tests("qlearning").read_text()).body
            if isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "CLIFF_WALKING_REFERENCE_RETURNS"
        ),
        shipped,
    )
    np.testing.assert_allclose(
        shipped["CLIFF_WALKING_REFERENCE_RETURNS"], np.mean(runs, axis=0), rtol=0, atol=1e-9
    )
