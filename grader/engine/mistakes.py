"""Feedback that names the mistake: known wrong implementations, matched against a failing call.

An exercise's known mistakes live beside its solution, in
``solutions/mistakes_<exercise>.py`` (never shipped to students). Each is an
implementation of the mistake, decorated with the function it gets wrong and a
hint written for a student::

    @mistake("softmax", "your softmax normalises over the batch axis; sum over the classes")
    def softmax_over_the_batch(z, axis=-1):
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

When a test fails, the engine replays the test's calls (the graders' inputs,
recorded by the ``student`` proxy) through the registered mistakes, in this
trusted process. A mistake is named when it reproduces what the submission
returned, and the reference solution, on the same inputs, does not.
Mistake functions must be self-contained (NumPy and the standard library).
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import itertools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.engine.diagnose import degenerate
from grader.engine.student import Call, handles_in
from grader.errors import GraderError, display_path
from grader.runtime.plain import Opaque, map_plain
from grader.runtime.worker import CallTimeout, alarm

MATCH_RTOL = 1e-6
MATCH_ATOL = 1e-9
REPLAY_SECONDS = 5.0  # one replay of a mistake (they run in the grading process: bounded)
HINT_SECONDS = 10.0  # all replays for one failed test; what is left unreplayed names nothing
# a call that took the submission longer is not replayed (a long training run), on a quiet
# machine; see slow_call_seconds for a busy one
SLOW_CALL_SECONDS = 0.5


def slow_call_seconds() -> float:
    """SLOW_CALL_SECONDS, stretched by the machine's load: wall-clock time grows with it (a
    training run of 0.2 s on a quiet two-core machine takes 1 s at a load of 10), and a call
    that is replayed on a quiet machine must be replayed on a busy one too, or the same
    submission would be named on one machine only."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return SLOW_CALL_SECONDS
    return SLOW_CALL_SECONDS * max(1.0, load / (os.cpu_count() or 1))


_counter = itertools.count()


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation of ``function`` and the hint that names it."""

    function: str
    hint: str
    implementation: Callable[..., Any]
    in_place: bool = False  # the mistake is what it does to its arguments, not what it returns
    # arguments that an earlier call of the submission produced: {parameter: that function}
    produced_by: tuple[tuple[str, str], ...] = ()
    compared: tuple[int, ...] | None = None  # the parts of the result compared (None: all)

    @property
    def name(self) -> str:
        return self.implementation.__name__


def mistake(
    function: str,
    hint: str,
    *,
    in_place: bool = False,
    produced_by: dict[str, str] | None = None,
    compared: tuple[int, ...] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as a known mistake in ``function``.

    ``produced_by={"cache": "mlp_forward"}``: the argument ``cache`` is something an earlier call
    of the submission's ``mlp_forward`` returned (its own design, usually kept behind a handle).
    When the call is replayed, the mistake and the reference both receive in its place what the
    reference solution's ``mlp_forward`` returns for that call's inputs: such a mistake is
    written against the reference's design of ``cache``. ``compared=(0,)``: only the first
    part of the result is compared (the scores of ``(scores, cache)``, a cache being the
    student's own design)."""

    def register(implementation: Callable[..., Any]) -> Callable[..., Any]:
        implementation.__dlgrade_mistake__ = Mistake(  # type: ignore[attr-defined]
            function, hint, implementation, in_place, tuple((produced_by or {}).items()), compared
        )
        return implementation

    return register


def _load_module(path: Path, prefix: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{prefix}_{next(_counter)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise GraderError(
            f"{display_path(path)} does not load: {type(exc).__name__}: {exc}"
        ) from exc
    return module


@dataclass
class Registry:
    """The mistakes of one exercise, and its reference solution to tell them from right answers."""

    mistakes: dict[str, list[Mistake]]
    reference: ModuleType | None

    @classmethod
    def load(cls, mistakes_file: Path, reference_file: Path | None) -> Registry:
        module = _load_module(mistakes_file, "dlgrade_mistakes")
        found: dict[str, list[Mistake]] = {}
        for value in vars(module).values():
            entry = getattr(value, "__dlgrade_mistake__", None)
            if isinstance(entry, Mistake):
                found.setdefault(entry.function, []).append(entry)
        reference = None
        if reference_file is not None and reference_file.is_file():
            reference = _load_module(reference_file, "dlgrade_reference")
        return cls(found, reference)

    def all(self) -> list[Mistake]:
        return [m for group in self.mistakes.values() for m in group]

    def hint_for(self, calls: Sequence[Call]) -> str | None:
        """The hint of the mistake that explains a test's calls of one function, or None.

        A mistake explains them when it reproduces what the submission gave on every call of
        that function that can be replayed, and differs from the reference on at least one whose
        output is not degenerate (empty, or all entries equal). When mistakes with different
        hints explain the same calls, the calls cannot tell which one was made: no hint.
        Functions are tried from the one called last (the call that failed, usually).
        """
        deadline = time.monotonic() + HINT_SECONDS
        by_function: dict[str, list[int]] = {}
        for index, call in enumerate(calls):
            by_function.setdefault(call.function, []).append(index)
        for function in sorted(by_function, key=lambda f: -by_function[f][-1]):
            if not any(_informative(calls[i]) for i in by_function[function]):
                continue  # only empty or all-equal outputs: no mistake could be named from them
            if _the_same_answer(calls, by_function[function], self.reference, deadline):
                continue  # one answer to every question (a constant) tells nothing
            hints: list[str] = []
            references: dict[Any, Any] = {}  # the reference's replays, shared by the candidates
            for candidate in self.mistakes.get(function, []):
                verdicts = [
                    self._explains(candidate, calls, index, deadline, references)
                    for index in by_function[function]
                ]
                if any(v is TIMEOUT for v in verdicts):
                    return None  # not all the evidence could be weighed: no hint
                verdicts = [v for v in verdicts if v is not SKIP]
                if all(v is not False for v in verdicts) and any(v is True for v in verdicts):
                    hints.append(candidate.hint)
            if len(set(hints)) == 1:
                return hints[0]
            if hints:
                return None  # ambiguous: naming one of them could name a mistake not made
        return None

    def _explains(
        self,
        candidate: Mistake,
        calls: Sequence[Call],
        index: int,
        deadline: float,
        references: dict[Any, Any] | None = None,
    ) -> Any:
        """True: the mistake reproduces the call and the reference does not; None: it reproduces
        the call but so does the reference (no evidence either way); False: it does not
        reproduce it; SKIP: the call cannot be replayed."""
        call = calls[index]
        inputs = _inputs(candidate, calls, index, self.reference)
        if inputs is None:
            return SKIP
        wrong = _replay(candidate.implementation, call, inputs, deadline)
        if wrong is TIMEOUT:
            return TIMEOUT
        if wrong is None:
            return False
        wrong_result, wrong_args = wrong
        agree = _agree_draws if call.repeat else equal_within_tolerance
        got = _parts(call.result, candidate.compared)
        wrong_result = _parts(wrong_result, candidate.compared)
        if candidate.in_place:
            after, before = _plain_args(call.args_after), _plain_args(call.args)
            if not equal_within_tolerance(wrong_args, after):
                return False
            if equal_within_tolerance(wrong_args, before):
                return None
        elif not agree(_masked(wrong_result, got), _masked(got, got)):
            return False
        elif call.modified() and not equal_within_tolerance(
            wrong_args, _plain_args(call.args_after)
        ):
            return False  # the submission changed its arguments, this mistake does not
        if not candidate.in_place and not call.repeat and degenerate(_masked(got, got)):
            return None  # an empty or all-equal output is what many wrong implementations give
        right_impl = getattr(self.reference, call.function, None) if self.reference else None
        key = (index, candidate.produced_by)
        references = {} if references is None else references
        if key not in references or references[key] is TIMEOUT:
            references[key] = (
                _replay(right_impl, call, inputs, deadline) if right_impl is not None else None
            )
        right = references[key]
        if right is TIMEOUT:
            return TIMEOUT
        if right is None:
            return True
        right_result, right_args = right
        right_result = _parts(right_result, candidate.compared)
        if candidate.in_place:
            return None if equal_within_tolerance(right_args, wrong_args) else True
        agreed = agree(_masked(right_result, got), _masked(wrong_result, got))
        return None if agreed else True


SKIP = object()
TIMEOUT = object()  # a replay ran out of time


def _informative(call: Call) -> bool:
    """Whether a call's output could confirm a mistake: it returned something not degenerate
    (a repeated call's draws always count; an in-place mistake shows in the arguments)."""
    if not call.returned:
        return False
    if call.repeat:
        return True
    return not degenerate(_masked(call.result, call.result)) or not equal_within_tolerance(
        _plain_args(call.args_after), _plain_args(call.args)
    )


def _the_same_answer(
    calls: Sequence[Call], indices: list[int], reference: ModuleType | None, deadline: float
) -> bool:
    """Whether a function gave one and the same answer to three or more different questions of a
    test whose right answers differ (a constant, which many wrong implementations give)."""
    returned = [calls[i] for i in indices if calls[i].returned and not calls[i].repeat]
    if len(returned) < 3 or any(handles_in((c.args, c.kwargs, c.result)) for c in returned):
        return False
    if not all(equal_within_tolerance(c.result, returned[0].result) for c in returned[1:]):
        return False
    right = getattr(reference, returned[0].function, None) if reference else None
    if right is None:
        return True
    answers = [_replay(right, c, _Inputs(c, {}, reference), deadline) for c in returned]
    if any(a is None or a is TIMEOUT for a in answers):
        return True
    return not all(equal_within_tolerance(a[0], answers[0][0]) for a in answers[1:])


@dataclass
class _Inputs:
    """How to rebuild a call's arguments: objects from their recipes, and the arguments an
    earlier call produced from the reference solution's answer to that call."""

    call: Call
    produced: dict[int | str, tuple[Call, tuple[int, ...]]]  # argument -> (producer, path)
    reference: ModuleType | None

    def __call__(self) -> tuple[tuple, dict]:
        args = [_materialize(a, self.call.recipes) for a in self.call.args]
        kwargs = {k: _materialize(v, self.call.recipes) for k, v in self.call.kwargs.items()}
        for where, (producer, path) in self.produced.items():
            function = getattr(self.reference, producer.function)
            value = function(
                *_materialize(producer.args, producer.recipes),
                **_materialize(producer.kwargs, producer.recipes),
            )
            for i in path:
                value = value[i]
            if isinstance(where, int):
                args[where] = value
            else:
                kwargs[where] = value
        return tuple(args), kwargs


def _inputs(
    candidate: Mistake, calls: Sequence[Call], index: int, reference: ModuleType | None
) -> _Inputs | None:
    """How to replay ``calls[index]`` for ``candidate``, or None when it cannot be replayed: the
    call raised or timed out, took the submission more than slow_call_seconds(), or was given an
    object that neither a trusted factory built nor (for the arguments the mistake declares
    ``produced_by``) an earlier call returned."""
    call = calls[index]
    if not call.returned or call.seconds > slow_call_seconds():
        return None  # nothing came back; or replaying it for every mistake would cost too much
    produced: dict[int | str, tuple[Call, tuple[int, ...]]] = {}
    if candidate.produced_by and reference is None:
        return None
    for name, function in candidate.produced_by:
        where: int | str = name
        if name in call.kwargs:
            value = call.kwargs[name]
        elif name in call.param_names and call.param_names.index(name) < len(call.args):
            where = call.param_names.index(name)
            value = call.args[where]
        else:
            try:
                position = list(inspect.signature(candidate.implementation).parameters).index(name)
            except ValueError:
                return None
            if position >= len(call.args):
                return None
            where, value = position, call.args[position]
        found = _producer(calls[:index], function, value)
        if found is None:
            return None
        produced[where] = found
    rest = [a for i, a in enumerate(call.args) if i not in produced]
    rest += [v for k, v in call.kwargs.items() if k not in produced]
    if any(h.ident not in call.recipes for h in handles_in(rest)):
        return None
    return _Inputs(call, produced, reference)


def _producer(
    earlier: Sequence[Call], function: str, value: Any
) -> tuple[Call, tuple[int, ...]] | None:
    """The last earlier call of ``function`` whose result holds ``value``, and where in it."""
    for call in reversed(earlier):
        if call.function == function and call.returned:
            path = _find(call.result, value)
            if path is not None:
                return call, path
    return None


def _find(result: Any, value: Any, path: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    if isinstance(value, Opaque) and isinstance(result, Opaque):
        return path if result.ident == value.ident else None
    if (
        not isinstance(value, Opaque)
        and not handles_in(value)
        and equal_within_tolerance(result, value)
    ):
        return path
    if isinstance(result, list | tuple):
        for i, part in enumerate(result):
            found = _find(part, value, (*path, i))
            if found is not None:
                return found
    return None


def _parts(result: Any, indices: tuple[int, ...] | None) -> Any:
    """The parts ``indices`` of a tuple result (the whole result when None or not a tuple)."""
    if indices is None or not isinstance(result, list | tuple) or len(result) <= max(indices):
        return result
    return tuple(result[i] for i in indices)


def _masked(value: Any, like: Any) -> Any:
    """``value`` with the parts where ``like`` (the submission's result) holds an object left out:
    an object kept with the submission (an MLP's cache) is its own design, not comparable."""
    if isinstance(like, Opaque):
        return None
    if (
        isinstance(like, list | tuple)
        and isinstance(value, list | tuple)
        and len(like) == len(value)
    ):
        return tuple(_masked(v, w) for v, w in zip(value, like, strict=True))
    return value


def _replay(
    implementation: Callable[..., Any],
    call: Call,
    inputs: Callable[[], tuple[tuple, dict]],
    deadline: float,
) -> Any:
    """What ``implementation`` returns on the call's inputs (every repeat of a repeated call),
    and its arguments afterwards; None when it raises or runs five times as long as the
    submission did (it computes something else), TIMEOUT when it runs past the time left
    (REPLAY_SECONDS at most: a mistake may loop where the submission was stopped)."""
    left = min(REPLAY_SECONDS, deadline - time.monotonic())
    if left <= 0:
        return TIMEOUT
    # a replay that takes far longer than the submission took computes something else
    own = max(0.5, 5 * call.seconds)
    try:
        args, kwargs = inputs()
        with np.errstate(all="ignore"), alarm(min(left, own)):
            if call.repeat:
                result: Any = [implementation(*args, **kwargs) for _ in range(call.repeat)]
            else:
                result = implementation(*args, **kwargs)
    except CallTimeout:
        return None if own < left else TIMEOUT
    except Exception:
        return None
    return result, _plain_args(args)


def _materialize(value: Any, recipes: dict[int, tuple[str, tuple, dict]]) -> Any:
    """A copy of ``value`` with each handle rebuilt, fresh, from its recipe (trusted factories)."""
    from grader.runtime import factories

    def fresh(part: Any) -> Any:
        if isinstance(part, Opaque):
            factory, args, kwargs = recipes[part.ident]
            return factories.build(factory, *copy.deepcopy(args), **copy.deepcopy(kwargs))
        return copy.deepcopy(part)

    # the recorded arguments are plain data (copy_plain made them): map_plain walks them
    return map_plain(value, fresh)


def _plain_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments with objects (handles, environments) left out, to compare what a call did to its arrays."""
    return tuple(a if equal_within_tolerance(a, a) else None for a in args)


def _agree_draws(a: Any, b: Any) -> bool:
    """Two lists of integer draws agree when their frequencies do, within a bound that two
    samples of the same distribution exceed with probability below one in a million (Hoeffding)."""
    if not isinstance(a, list | tuple) or not isinstance(b, list | tuple) or not a or not b:
        return equal_within_tolerance(a, b)
    try:
        x, y = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return equal_within_tolerance(a, b)
    if x.ndim != 1 or y.ndim != 1 or min(x.min(), y.min()) < 0 or max(x.max(), y.max()) > 10_000:
        return equal_within_tolerance(a, b)
    k = int(max(x.max(), y.max())) + 1
    fx, fy = np.bincount(x, minlength=k) / len(x), np.bincount(y, minlength=k) / len(y)
    bound = sum(float(np.sqrt(np.log(4 * k / 1e-6) / (2 * n))) for n in (len(x), len(y)))
    return bool(np.max(np.abs(fx - fy)) < bound)


def equal_within_tolerance(a: Any, b: Any) -> bool:
    """Equal up to a tight tolerance, NaN equal to NaN, structure and kind of each part equal."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(
            equal_within_tolerance(x, y) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal_within_tolerance(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple | dict) or isinstance(b, list | tuple | dict):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    try:
        x, y = np.asarray(a), np.asarray(b)
    except Exception:
        return False
    kind = {"b": "b", "i": "i", "u": "i", "f": "f", "c": "c"}
    if (
        x.shape != y.shape
        or kind.get(x.dtype.kind) != kind.get(y.dtype.kind)
        or x.dtype.kind not in kind
    ):
        return False
    if x.dtype.kind in "fc" or y.dtype.kind in "fc":
        return bool(np.allclose(x, y, rtol=MATCH_RTOL, atol=MATCH_ATOL, equal_nan=True))
    return bool(np.array_equal(x, y))


def registry_for(solutions_dir: Path, exercise: str) -> Registry | None:
    """The registry of ``exercise`` when its course has one (solutions/mistakes_<exercise>.py)."""
    path = solutions_dir / f"mistakes_{exercise}.py"
    if not path.is_file():
        return None
    return Registry.load(path, solutions_dir / f"{exercise}.py")
