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
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.engine.diagnose import degenerate
from grader.engine.plain import Opaque
from grader.engine.student import Call
from grader.errors import GraderError, display_path

MATCH_RTOL = 1e-6
MATCH_ATOL = 1e-9
_counter = itertools.count()


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation of ``function`` and the hint that names it."""

    function: str
    hint: str
    implementation: Callable[..., Any]
    in_place: bool = False  # the mistake is what it does to its arguments, not what it returns

    @property
    def name(self) -> str:
        return self.implementation.__name__


def mistake(
    function: str, hint: str, *, in_place: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as a known mistake in ``function``."""

    def register(implementation: Callable[..., Any]) -> Callable[..., Any]:
        implementation.__dlgrade_mistake__ = Mistake(function, hint, implementation, in_place)  # type: ignore[attr-defined]
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
        output is not degenerate (empty, or all entries equal).
        Functions are tried from the one called last (the call that failed, usually).
        """
        by_function: dict[str, list[Call]] = {}
        for call in calls:
            by_function.setdefault(call.function, []).append(call)
        for function in sorted(
            by_function, key=lambda f: -max(i for i, c in enumerate(calls) if c.function == f)
        ):
            group = [c for c in by_function[function] if _replayable(c)]
            for candidate in self.mistakes.get(function, []):
                verdicts = [self._explains(candidate, call) for call in group]
                if (
                    verdicts
                    and all(v is not False for v in verdicts)
                    and any(v is True for v in verdicts)
                ):
                    return candidate.hint
        return None

    def _explains(self, candidate: Mistake, call: Call) -> bool | None:
        """True: the mistake reproduces the call and the reference does not; None: it reproduces
        the call but so does the reference (no evidence either way); False: it does not reproduce it."""
        wrong = _replay(candidate.implementation, call)
        if wrong is None:
            return False
        wrong_result, wrong_args = wrong
        agree = _agree_draws if call.repeat else same
        if candidate.in_place:
            after, before = _plain_args(call.args_after), _plain_args(call.args)
            if not same(wrong_args, after):
                return False
            if same(wrong_args, before):
                return None
        elif not agree(wrong_result, call.result):
            return False
        if not candidate.in_place and degenerate(call.result):
            return None  # an empty or all-equal output is what many wrong implementations give
        right_impl = getattr(self.reference, call.function, None) if self.reference else None
        right = _replay(right_impl, call) if right_impl is not None else None
        if right is None:
            return True
        right_result, right_args = right
        if candidate.in_place:
            return None if same(right_args, wrong_args) else True
        return None if agree(right_result, wrong_result) else True


def _replayable(call: Call) -> bool:
    """A call can be replayed when it returned (no exception) plain data and every object it was
    given can be rebuilt from its recipe."""
    if not call.returned:
        return False  # the call raised or timed out: nothing came back to compare
    if any(h.ident not in call.recipes for h in _handles((call.args, call.kwargs))):
        return False
    return not _handles(call.result)


def _replay(implementation: Callable[..., Any], call: Call) -> tuple[Any, tuple[Any, ...]] | None:
    """What ``implementation`` returns on the call's inputs (every repeat of a repeated call),
    and its arguments afterwards."""
    try:
        args = _materialize(call.args, call.recipes)
        kwargs = _materialize(call.kwargs, call.recipes)
        with np.errstate(all="ignore"):
            if call.repeat:
                result: Any = [implementation(*args, **kwargs) for _ in range(call.repeat)]
            else:
                result = implementation(*args, **kwargs)
    except Exception:
        return None
    return result, _plain_args(args)


def _handles(value: Any) -> list[Opaque]:
    if isinstance(value, Opaque):
        return [value]
    if isinstance(value, list | tuple):
        return [h for v in value for h in _handles(v)]
    if isinstance(value, dict):
        return [h for v in value.values() for h in _handles(v)]
    return []


def _materialize(value: Any, recipes: dict[int, tuple[str, tuple, dict]]) -> Any:
    """A copy of ``value`` with each handle rebuilt, fresh, from its recipe (trusted factories)."""
    from grader.engine import factories

    if isinstance(value, Opaque):
        factory, args, kwargs = recipes[value.ident]
        return factories.build(factory, *copy.deepcopy(args), **copy.deepcopy(kwargs))
    if isinstance(value, list | tuple):
        return type(value)(_materialize(v, recipes) for v in value)
    if isinstance(value, dict):
        return {k: _materialize(v, recipes) for k, v in value.items()}
    return copy.deepcopy(value)


def _plain_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments with objects (handles, environments) left out, to compare what a call did to its arrays."""
    return tuple(a if same(a, a) else None for a in args)


def _agree_draws(a: Any, b: Any) -> bool:
    """Two lists of integer draws agree when their frequencies do, within a bound that two
    samples of the same distribution exceed with probability below one in a million (Hoeffding)."""
    if not isinstance(a, list | tuple) or not isinstance(b, list | tuple) or not a or not b:
        return same(a, b)
    try:
        x, y = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return same(a, b)
    if x.ndim != 1 or y.ndim != 1 or min(x.min(), y.min()) < 0 or max(x.max(), y.max()) > 10_000:
        return same(a, b)
    k = int(max(x.max(), y.max())) + 1
    fx, fy = np.bincount(x, minlength=k) / len(x), np.bincount(y, minlength=k) / len(y)
    bound = sum(float(np.sqrt(np.log(4 * k / 1e-6) / (2 * n))) for n in (len(x), len(y)))
    return bool(np.max(np.abs(fx - fy)) < bound)


def same(a: Any, b: Any) -> bool:
    """Equal up to a tight tolerance, NaN equal to NaN, structure and kind of each part equal."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple | dict) or isinstance(b, list | tuple | dict):
        return False
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
