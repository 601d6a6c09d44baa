"""The ``student`` proxy: how graders call a submission without touching it.

Graders call ``student.softmax(z)`` (or ``student.call("softmax", z)`` for the
full record of a call). Every argument is copied on the way in, every result is
copied on the way out as plain data (grader/engine/plain.py), and whatever is
not plain stays with the submission behind an ``Opaque`` handle. Where the
submission actually runs is the backend's business: :class:`InProcessBackend`
here; the sandbox provides one that runs it in a separate worker process.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import itertools
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.engine.plain import Opaque, copy_plain, describe, same_value, type_name

FORBIDDEN_MODULES = (
    "torch",
    "tensorflow",
    "jax",
    "jaxlib",
    "scipy",
    "sklearn",
    "keras",
    "cupy",
    "mxnet",
    "paddle",
    "grader",
)
WHY_FORBIDDEN = (
    "submissions may use only NumPy and the Python standard library "
    "(the graders compare your code with PyTorch, so the point is to write it yourself)"
)


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
            if not same_value(before, after)
        ]
        names += [
            k
            for k, v in self.kwargs.items()
            if k in self.kwargs_after and not same_value(v, self.kwargs_after[k])
        ]
        return names

    def describe(self) -> str:
        parts = [f"{self.arg_name(i)}={describe(a)}" for i, a in enumerate(self.args)]
        parts += [f"{k}={describe(v)}" for k, v in self.kwargs.items()]
        return f"{self.function}({', '.join(parts)})"


@dataclass
class RawCall:
    """What a backend reports of a call: plain data and text only."""

    result: Any = None
    args_after: tuple[Any, ...] = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    param_names: tuple[str, ...] = ()
    error: str | None = None  # set when the submission raised
    timed_out: bool = False


class Backend(Protocol):
    """Where a submission runs. Every method returns plain data or text."""

    display_path: str

    def import_error(self) -> str | None: ...

    def has(self, name: str) -> bool: ...

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall: ...

    def repeat(self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        """``n`` calls with the same arguments in one round trip; ``result`` is the list of results."""
        ...

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        """Runs a trusted factory (grader/engine/factories.py) on the submission's side; the
        result comes back as plain data, non-plain parts as Opaque handles."""
        ...

    def close(self) -> None: ...


# -- static checks of the source --------------------------------------------------------
def forbidden_imports(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, module) for each import of a forbidden module, also via ``__import__``/``importlib``."""
    tree = ast.parse(source, filename=filename)
    found: list[tuple[int, str]] = []

    def check(line: int, module: str | None) -> None:
        if module and module.split(".")[0] in FORBIDDEN_MODULES:
            found.append((line, module))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            check(node.lineno, node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                check(node.lineno, node.args[0].value)
    return found


def describe_import_failure(exc: BaseException, path: Path, display_path: str) -> str:
    if isinstance(exc, SyntaxError):
        return f"{display_path} has a syntax error at line {exc.lineno}: {exc.msg}"
    line = _line_in(exc, path)
    where = f" (line {line})" if line else ""
    if isinstance(exc, NotImplementedError):
        return f"importing {display_path} raised NotImplementedError{where}: code at the top level of the file must run"
    return f"importing {display_path} raised {type(exc).__name__}{where}: {_safe_str(exc)}"


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    return text if len(text) <= 300 else text[:297] + "..."


def _line_in(exc: BaseException, path: Path) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename) == path:
            line = lineno
    return line


def describe_call_error(name: str, exc: BaseException, path: Path, display_path: str) -> str:
    line = _line_in(exc, path)
    where = f" at {display_path}, line {line}" if line else ""
    if isinstance(exc, NotImplementedError):
        return f"{name} is not written yet: it raises NotImplementedError{where}"
    return f"{name} raised {type(exc).__name__}{where}: {_safe_str(exc)}"


# -- running a submission in this process -------------------------------------------------
class _CallTimeout(BaseException):
    """Raised into the submission when its time is up (a BaseException, so `except Exception` misses it)."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupts the block after ``seconds`` (main thread only; elsewhere no limit applies)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _CallTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_module_counter = itertools.count()


class InProcessBackend:
    """Imports the submission into this process under a neutral module name.

    The fallback of the foundation and of tests: it copies data both ways like a
    worker would, but cannot stop a submission that attacks the grader itself.
    """

    def __init__(self, path: Path, display_path: str | None = None) -> None:
        self.path = path.resolve()
        self.display_path = display_path or str(path)
        self._module: Any = None
        self._error: str | None = None
        self._kept: dict[int, Any] = {}
        self._handles: dict[int, int] = {}  # id(object) -> handle, while the object is kept
        self._ids = itertools.count(1)
        self._load()

    def _load(self) -> None:
        try:
            source = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._error = f"cannot read {self.display_path}: {exc}"
            return
        try:
            bad = forbidden_imports(source, str(self.path))
        except SyntaxError as exc:
            self._error = describe_import_failure(exc, self.path, self.display_path)
            return
        if bad:
            line, module = bad[0]
            self._error = f"{self.display_path}, line {line}: importing {module} is not allowed: {WHY_FORBIDDEN}"
            return
        name = f"dlgrade_submission_{next(_module_counter)}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            with _alarm(10.0):
                spec.loader.exec_module(module)
        except _CallTimeout:
            self._error = f"importing {self.display_path} took longer than 10 s"
        except BaseException as exc:  # the submission's top level may raise anything
            self._error = describe_import_failure(exc, self.path, self.display_path)
        else:
            self._module = module

    def import_error(self) -> str | None:
        return self._error

    def has(self, name: str) -> bool:
        return self._module is not None and callable(getattr(self._module, name, None))

    def _keep(self, value: Any) -> Opaque:
        """The handle of ``value``: the same object always gets the same handle."""
        ident = self._handles.get(id(value))
        if ident is None or self._kept.get(ident) is not value:
            ident = next(self._ids)
            self._kept[ident] = value
            self._handles[id(value)] = ident
        return Opaque(ident, type_name(value))

    def _resolve(self, value: Any) -> Any:
        """Grader data in, with Opaque handles turned back into the submission's objects."""
        if isinstance(value, Opaque):
            if value.ident not in self._kept:
                raise StudentError(f"{value!r} is no longer available")
            return self._kept[value.ident]
        if type(value) in (list, tuple):
            return type(value)(self._resolve(v) for v in value)
        if type(value) is dict:
            return {k: self._resolve(v) for k, v in value.items()}
        return copy_plain(value)

    def call(self, name: str, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return self._run(name, 1, args, kwargs, time_limit, single=True)

    def repeat(self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float) -> RawCall:
        return self._run(name, n, args, kwargs, time_limit, single=False)

    def _run(
        self, name: str, n: int, args: tuple, kwargs: dict, time_limit: float, single: bool
    ) -> RawCall:
        func = getattr(self._module, name)
        try:
            params = tuple(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            params = ()
        raw = RawCall(param_names=params)
        try:
            args_in = tuple(self._resolve(a) for a in args)
            kwargs_in = {k: self._resolve(v) for k, v in kwargs.items()}
        except StudentError as exc:
            raw.error = str(exc)
            return raw
        results = []
        try:
            with _alarm(time_limit):
                for _ in range(n):
                    results.append(func(*args_in, **kwargs_in))
        except _CallTimeout:
            raw.timed_out = True
            return raw
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from a submission too
            raw.error = describe_call_error(name, exc, self.path, self.display_path)
            return raw
        raw.result = copy_plain(results[0] if single else results, keep=self._keep)
        raw.args_after = tuple(copy_plain(a, keep=self._keep) for a in args_in)
        raw.kwargs_after = {k: copy_plain(v, keep=self._keep) for k, v in kwargs_in.items()}
        return raw

    def new(self, factory: str, args: tuple, kwargs: dict) -> RawCall:
        from grader.engine import factories

        if factory not in factories.FACTORIES:
            raise KeyError(f"no trusted factory named {factory!r}")
        try:
            args_in = tuple(self._resolve(a) for a in args)
            kwargs_in = {k: self._resolve(v) for k, v in kwargs.items()}
            built = factories.build(factory, *args_in, **kwargs_in)
        except StudentError as exc:
            return RawCall(error=str(exc))
        except Exception as exc:  # a trusted factory failing on state the submission left behind
            return RawCall(error=f"{factory} failed: {type(exc).__name__}: {_safe_str(exc)}")
        return RawCall(result=copy_plain(built, keep=self._keep))

    def close(self) -> None:
        self._kept.clear()
        self._handles.clear()
        self._module = None


# -- the proxy graders use ----------------------------------------------------------------
class Student:
    """The submission under test, as graders see it.

    ``student.softmax(z)`` calls the submission's ``softmax`` on a copy of ``z``
    and returns a copy of the result; ``student.call("softmax", z)`` returns the
    whole :class:`Call` (inputs after the call included, to spot in-place
    changes). Failures on the submission's side raise :class:`StudentError`.
    """

    def __init__(self, backend: Backend, time_limit: float = 10.0) -> None:
        self._backend = backend
        self.time_limit = time_limit
        self.calls: list[Call] = []
        self._recipes: dict[int, tuple[str, tuple, dict]] = {}

    @property
    def last(self) -> Call | None:
        return self.calls[-1] if self.calls else None

    def has(self, name: str) -> bool:
        return self._backend.import_error() is None and self._backend.has(name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Call:
        record = self._start(name, args, kwargs)
        raw = self._backend.call(name, record.args, record.kwargs, self.time_limit)
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
            for h in _handles((args, kwargs))
            if h.ident in self._recipes
        }
        record.seconds = time.perf_counter()
        self.calls.append(record)
        return record

    def _finish(self, record: Call, raw: RawCall) -> Call:
        record.seconds = time.perf_counter() - record.seconds
        record.param_names = raw.param_names
        if raw.timed_out:
            raise StudentTimeout(
                f"{record.function} did not finish within {self.time_limit:g} s (an endless loop?)"
            )
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
        raw = self._backend.repeat(name, n, record.args, record.kwargs, self.time_limit)
        return self._finish(record, raw).result

    def new(self, factory: str, *args: Any, **kwargs: Any) -> Any:
        """Runs a trusted factory (grader/engine/factories.py) on the submission's side, e.g.
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


def _handles(value: Any) -> list[Opaque]:
    if isinstance(value, Opaque):
        return [value]
    if isinstance(value, list | tuple):
        return [h for v in value for h in _handles(v)]
    if isinstance(value, dict):
        return [h for v in value.values() for h in _handles(v)]
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
