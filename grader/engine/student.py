"""The ``student`` proxy: how graders call a submission without touching it.

Graders call ``student.softmax(z)`` (or ``student.call("softmax", z)`` for the
full record of a call). Every argument is copied on the way in, every result is
copied on the way out as plain data (grader/runtime/plain.py), and whatever is
not plain stays with the submission behind an ``Opaque`` handle. Where the
submission actually runs is the backend's business: :class:`InProcessBackend`
here; the sandbox provides one that runs it in a separate worker process.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.runtime import factories
from grader.runtime.plain import Opaque, copy_plain, describe, equal_exactly
from grader.runtime.worker import Runner
from grader.sandbox.backend import Backend, RawCall, check_source, raw_call

__all__ = ["Backend", "RawCall"]


# -- what can go wrong on the submission's side, as the graders see it ----------------
class StudentError(Exception):
    """The submission failed (raised, is missing a function, did not import).

    Carries only text: the submission's own exception object never reaches the graders.
    """


class MissingFunction(StudentError):
    pass


class SubmissionImportError(StudentError):
    pass


class StudentTimeout(StudentError):
    pass


DEFAULT_BUDGET = 60.0  # seconds all the calls of one exercise may take together


@dataclass
class CallBudget:
    """The time one exercise's calls may take together, and the functions that already ran out
    of time: an endless loop costs its first call's time limit once, not once per test."""

    seconds: float = DEFAULT_BUDGET
    used: float = 0.0
    stuck: dict[str, str] = field(default_factory=dict)  # function -> why it is not called again

    def check(self, name: str) -> float | None:
        """The time left, or raises StudentTimeout when ``name`` is stuck or nothing is left."""
        if name in self.stuck:
            raise StudentTimeout(self.stuck[name])
        left = self.seconds - self.used
        if left <= 0:
            raise StudentTimeout(
                f"not called: the exercise's calls used up their {self.seconds:g} s together"
            )
        return left


# -- the record of one call -----------------------------------------------------------
@dataclass
class Call:
    """One call of a submission's function: the inputs, the result, the inputs afterwards."""

    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any = None
    args_after: tuple[Any, ...] = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    param_names: tuple[str, ...] = ()
    seconds: float = 0.0
    repeat: int | None = None  # set for student.repeat(...): the result is the list of results
    returned: bool = False  # the submission returned (no exception, no timeout)
    limit: float = 0.0  # the time this call was given
    recipes: dict[int, tuple[str, tuple, dict]] = field(
        default_factory=dict
    )  # how its handles were built

    def arg_name(self, position: int) -> str:
        if position < len(self.param_names):
            return self.param_names[position]
        return f"argument {position + 1}"

    def modified(self) -> list[str]:
        """The names of the arguments the submission changed in place."""
        names = [
            self.arg_name(i)
            for i, (before, after) in enumerate(zip(self.args, self.args_after, strict=False))
            if not equal_exactly(before, after)
        ]
        names += [
            k
            for k, v in self.kwargs.items()
            if k in self.kwargs_after and not equal_exactly(v, self.kwargs_after[k])
        ]
        return names

    def describe(self) -> str:
        parts = [f"{self.arg_name(i)}={describe(a)}" for i, a in enumerate(self.args)]
        parts += [f"{k}={describe(v)}" for k, v in self.kwargs.items()]
        return f"{self.function}({', '.join(parts)})"


class InProcessBackend:
    """Imports the submission into this process under a neutral module name.

    The fallback of the foundation and of tests: it copies data both ways like a
    worker does, but cannot stop a submission that attacks the grader itself
    (grader/sandbox/ runs it in a separate, limited process instead).
    """

    def __init__(self, path: Path, display_path: str | None = None) -> None:
        self.path = path.resolve()
        self.display_path = display_path or str(path)
        self._runner = Runner(self.path, self.display_path)
        self._error: str | None = None
        self._load()

    def _load(self) -> None:
        self._error = check_source(self.path, self.display_path)
        if self._error is not None:
            return
        self._runner.load()
        self._error = self._runner.error

    def import_error(self) -> str | None:
        return self._error

    def has(self, name: str) -> bool:
        return self._runner.has(name)

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return raw_call(self._runner.run(name, None, args, kwargs, time_limit), args, kwargs)

    def repeat(self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return raw_call(self._runner.run(name, n, args, kwargs, time_limit), args, kwargs)

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        if factory not in factories.FACTORIES:
            raise KeyError(f"no trusted factory named {factory!r}")
        answer = self._runner.new(factory, args, kwargs)
        return RawCall(result=answer.get("result"), error=answer.get("error"))

    def violation(self) -> str | None:
        return None  # no import blocker runs in this process: only the static check applies

    def close(self) -> None:
        self._runner.close()


# -- the proxy graders use ----------------------------------------------------------------
class Student:
    """The submission under test, as graders see it.

    ``student.softmax(z)`` calls the submission's ``softmax`` on a copy of ``z``
    and returns a copy of the result; ``student.call("softmax", z)`` returns the
    whole :class:`Call` (inputs after the call included, to spot in-place
    changes). Failures on the submission's side raise :class:`StudentError`.
    """

    def __init__(
        self,
        backend: Backend,
        time_limit: float = 10.0,
        budget: CallBudget | None = None,
        test: str = "",
    ) -> None:
        self._backend = backend
        self.time_limit = time_limit
        self.budget = budget or CallBudget()
        self.test = test  # the test these calls belong to, for messages
        self.calls: list[Call] = []
        self._recipes: dict[int, tuple[str, tuple, dict]] = {}

    @property
    def last(self) -> Call | None:
        return self.calls[-1] if self.calls else None

    def has(self, name: str) -> bool:
        return self._backend.import_error() is None and self._backend.has(name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Call:
        record = self._start(name, args, kwargs)
        raw = self._backend.call(name, record.args, record.kwargs, record.limit)
        return self._finish(record, raw)

    def _start(self, name: str, args: tuple, kwargs: dict) -> Call:
        error = self._backend.import_error()
        if error is not None:
            raise SubmissionImportError(error)
        if not self._backend.has(name):
            raise MissingFunction(f"{self._backend.display_path} has no function `{name}`")
        record = Call(
            name, tuple(copy_plain(a) for a in args), {k: copy_plain(v) for k, v in kwargs.items()}
        )
        record.recipes = {
            h.ident: self._recipes[h.ident]
            for h in handles_in((args, kwargs))
            if h.ident in self._recipes
        }
        left = self.budget.check(name)
        record.limit = min(self.time_limit, left) if left is not None else self.time_limit
        record.seconds = time.perf_counter()
        self.calls.append(record)
        return record

    def _finish(self, record: Call, raw: RawCall) -> Call:
        record.seconds = time.perf_counter() - record.seconds
        self.budget.used += record.seconds
        record.param_names = raw.param_names
        if raw.timed_out:
            if record.limit < self.time_limit:
                raise StudentTimeout(
                    f"{record.function} was stopped after {record.limit:.3g} s, when the "
                    f"exercise's calls had used up their {self.budget.seconds:g} s together"
                )
            message = (
                f"{record.function} did not finish within {self.time_limit:g} s (an endless loop?)"
            )
            where = f" in {self.test}" if self.test else ""
            self.budget.stuck[record.function] = (
                f"{record.function} is not called again: it did not finish within "
                f"{self.time_limit:g} s{where} (still that endless loop?)"
            )
            raise StudentTimeout(message)
        if raw.error is not None:
            raise StudentError(raw.error)
        record.result = raw.result
        record.args_after = raw.args_after
        record.kwargs_after = raw.kwargs_after
        record.returned = True
        return record

    def repeat(self, name: str, n: int, *args: Any, **kwargs: Any) -> list[Any]:
        """``n`` calls of ``name`` with the same arguments, in one round trip (e.g. 10,000 draws
        from ``epsilon_greedy`` with one random Generator); the time limit covers them all."""
        record = self._start(name, args, kwargs)
        record.repeat = n
        raw = self._backend.repeat(name, n, record.args, record.kwargs, record.limit)
        return self._finish(record, raw).result

    def new(self, factory: str, *args: Any, **kwargs: Any) -> Any:
        """Runs a trusted factory (grader/runtime/factories.py) on the submission's side, e.g.
        ``student.new("numpy.random.default_rng", 7)`` or ``student.new("function", "sum_of_squares")``.
        An object comes back as an ``Opaque`` handle to pass to later calls; plain data (such as
        ``student.new("episode_returns", env)``) comes back as a copy. Arguments may be handles."""
        raw = self._backend.new(
            factory,
            tuple(copy_plain(a) for a in args),
            {k: copy_plain(v) for k, v in kwargs.items()},
        )
        if raw.error is not None:
            raise StudentError(raw.error)
        if isinstance(raw.result, Opaque):
            self._recipes[raw.result.ident] = (factory, copy_plain(args), copy_plain(kwargs))
        return raw.result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Function(self, name)


def handles_in(value: Any) -> list[Opaque]:
    """The Opaque handles inside ``value`` (in lists, tuples and dicts), in order."""
    if isinstance(value, Opaque):
        return [value]
    if isinstance(value, list | tuple):
        return [h for v in value for h in handles_in(v)]
    if isinstance(value, dict):
        return [h for v in value.values() for h in handles_in(v)]
    return []


class _Function:
    def __init__(self, student: Student, name: str) -> None:
        self._student = student
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student.call(self._name, *args, **kwargs).result

    def __repr__(self) -> str:
        return f"<student function {self._name}>"


def unload_submission_modules() -> None:
    """Forgets the in-process submission modules (after a grading run)."""
    for name in [m for m in sys.modules if m.startswith("dlgrade_submission_")]:
        del sys.modules[name]
