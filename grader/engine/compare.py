"""Comparison helpers for graders: type, shape, dtype, finiteness, then values.

Each failure raises :class:`Mismatch` with a message written for a student:
what was expected, what came back, and where they differ most. The engine
prefixes the message with the call that produced the value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from grader.engine.diagnose import Wrong
from grader.engine.student import Call
from grader.runtime.plain import Opaque, describe, type_name
from grader.wording import plural

RTOL = 1e-7
ATOL = 1e-9


class Mismatch(AssertionError):
    """A submission's value is not what the oracle says it should be."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        call: Call | None = None,
        wrong: Sequence[Wrong] = (),
        diagnosis: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.call = call
        self.wrong = list(wrong)  # what was compared, for grader/engine/diagnose.py
        self.diagnosis = diagnosis  # what the comparison found itself (a dtype)
        self.about: Call | None = None  # the call whose result this is, when not the last one


@contextlib.contextmanager
def about(call: Call) -> Iterator[None]:
    """Checks of an earlier call's result (``call = student.call(...)``): a failure inside names
    that call, not the last one made (for tests that ask several questions, then check)."""
    try:
        yield
    except Mismatch as exc:
        if exc.call is None and exc.about is None:
            exc.about = call
        raise


def _fmt(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        return f"{float(x):.8g}"
    return repr(x)


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _what_it_is(got: Any) -> str:
    if isinstance(got, Opaque):
        return f"a {got.type_name} object"
    if isinstance(got, np.ndarray):
        return f"an array of shape {got.shape} and dtype {got.dtype}"
    if isinstance(got, list | tuple):
        return f"a {type(got).__name__} of length {len(got)}"
    return f"a {type_name(got)} ({describe(got)})"


def _dtype_problem(got: np.ndarray, expected: np.ndarray) -> str | None:
    want, have = expected.dtype.kind, got.dtype.kind
    if want == "f":
        if have == "f" and got.dtype.itemsize < 8:
            return f"has dtype {got.dtype}, expected float64: keep the computation in float64"
        if have != "f":
            return f"has dtype {got.dtype}, expected float64 (an integer or boolean result loses the fractions)"
    if want in "iu" and have not in "iu":
        extra = " (use .astype(int))" if have == "b" else ""
        return f"has dtype {got.dtype}, expected an integer array{extra}"
    if want == "b" and have != "b":
        return f"has dtype {got.dtype}, expected a boolean array"
    return None


def expect_array(
    got: Any,
    expected: np.ndarray,
    *,
    name: str = "the result",
    rtol: float = RTOL,
    atol: float = ATOL,
    hint: str | None = None,
    time_axis: int | None = None,
) -> np.ndarray:
    """``got`` must be an ndarray of ``expected``'s shape and kind of dtype, close in value.
    ``time_axis``: the axis of the steps when ``got`` is a sequence of states (for the diagnosis
    "right on the first step, wrong later")."""
    expected = np.asarray(expected)
    wrong = [Wrong(name, got, expected, time_axis)]
    if not isinstance(got, np.ndarray):
        raise Mismatch(
            f"{name} should be a numpy array of shape {expected.shape}, but it is {_what_it_is(got)}",
            hint=hint,
        )
    if got.shape != expected.shape:
        raise Mismatch(
            f"{name} has shape {got.shape}, expected {expected.shape}", hint=hint, wrong=wrong
        )
    problem = _dtype_problem(got, expected)
    if problem:
        raise Mismatch(f"{name} {problem}", hint=hint, diagnosis=dtype_diagnosis(got, expected))
    _compare_values(got, expected, name=name, rtol=rtol, atol=atol, hint=hint, parts=wrong)
    return got


def dtype_diagnosis(got: np.ndarray, expected: np.ndarray) -> str | None:
    """What a wrong dtype says about the computation, in a sentence for the hint."""
    want, have = expected.dtype.kind, got.dtype.kind
    if want == "f" and have == "f" and got.dtype.itemsize < 8:
        return (
            f"your result is {got.dtype}: somewhere the computation drops to {got.dtype} (an astype, "
            "an array made with that dtype), which keeps about 7 digits; keep every array float64"
        )
    if want in "iu" and have == "b":
        return "your result is a bool array (True/False); labels and actions are ints: .astype(int)"
    if want in "iu" and have == "f":
        return "your result is a float array: indices and labels are ints (np.argmax gives them)"
    if want == "f" and have in "iub":
        return f"your result is a {got.dtype} array: the fractions are lost; compute in float64"
    return None


def expect_arrays(
    parts: Sequence[tuple[str, Any, np.ndarray]], *, rtol: float = RTOL, atol: float = ATOL
) -> None:
    """Each ``(name, got, expected)`` as :func:`expect_array` checks it. All are compared before
    a failure is raised, so that it names every wrong part (``dx is wrong ...; also wrong: dW``)
    and the diagnosis can look at each of them."""
    failures: list[Mismatch] = []
    for name, got, expected in parts:
        try:
            expect_array(got, expected, name=name, rtol=rtol, atol=atol)
        except Mismatch as exc:
            failures.append(exc)
    if not failures:
        return
    first = failures[0]
    if len(failures) > 1:
        others = [f.wrong[0].name if f.wrong else "" for f in failures[1:]]
        others = [o for o in others if o] or [f"{len(failures) - 1} more"]
        first.message += f"; also wrong: {', '.join(others)}"
        first.args = (first.message,)
    first.wrong = [w for f in failures for w in f.wrong]
    raise first


def expect_shape(
    got: Any, shape: tuple[int, ...], *, name: str = "the result", kind: str = "f"
) -> np.ndarray:
    """``got`` must be an ndarray of ``shape`` whose dtype is of ``kind`` (``f``: float64, ``i``: integer)."""
    template = np.zeros(shape, dtype=np.float64 if kind == "f" else np.int64)
    if not isinstance(got, np.ndarray):
        raise Mismatch(
            f"{name} should be a numpy array of shape {tuple(shape)}, but it is {_what_it_is(got)}"
        )
    if got.shape != template.shape:
        raise Mismatch(f"{name} has shape {got.shape}, expected {template.shape}")
    problem = _dtype_problem(got, template)
    if problem:
        raise Mismatch(f"{name} {problem}", diagnosis=dtype_diagnosis(got, template))
    return got


def _compare_values(
    got: np.ndarray,
    expected: np.ndarray,
    *,
    name: str,
    rtol: float,
    atol: float,
    hint: str | None,
    parts: list[Wrong],
) -> None:
    if expected.dtype.kind in "fc":
        bad_finite = np.isfinite(expected) & ~np.isfinite(got)
        if bad_finite.any():
            idx = tuple(np.argwhere(bad_finite)[0])
            count = int(bad_finite.sum())
            raise Mismatch(
                f"{name} has {plural(count, 'non-finite value')} (nan or inf) where finite values "
                f"were expected; the first at {_index(idx)}: got {_fmt(got[idx])}, expected {_fmt(expected[idx])}",
                hint=hint,
                wrong=parts,
            )
        close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = got == expected
    if close.all():
        return
    wrong = int((~close).sum())
    if got.ndim == 0:
        raise Mismatch(
            f"{name} is {_fmt(got[()])}, expected {_fmt(expected[()])}", hint=hint, wrong=parts
        )
    with np.errstate(all="ignore"):
        diff = np.abs(got.astype(np.complex128 if got.dtype.kind == "c" else np.float64) - expected)
        diff = np.where(close, 0, np.nan_to_num(diff, nan=np.inf))
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), got.shape))
        max_abs = float(diff[idx])
        denom = np.abs(expected[idx]) if expected.dtype.kind in "fc" else abs(expected[idx])
        rel = max_abs / float(denom) if float(denom) > 0 else float("inf")
    detail = (
        f"; largest difference {max_abs:.3g} (relative {rel:.3g})"
        if expected.dtype.kind in "fc"
        else ""
    )
    raise Mismatch(
        f"{name} is wrong at {wrong} of {got.size} entries; at {_index(idx)} expected {_fmt(expected[idx])}, "
        f"got {_fmt(got[idx])}{detail}",
        hint=hint,
        wrong=parts,
    )


def expect_number(got: Any, *, name: str = "the result", integer: bool = False) -> float | int:
    """``got`` must be one number (an integer if ``integer``); returns it as a Python number."""
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    allowed = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(got, bool | np.bool_) or not isinstance(got, allowed):
        kind = "an integer" if integer else "a number"
        extra = ""
        if isinstance(got, np.ndarray) and got.size == 1:
            extra = " (use float(...) or .item() to return the number itself)"
        raise Mismatch(f"{name} should be {kind}, but it is {_what_it_is(got)}{extra}")
    return int(got) if integer else float(got)


def expect_scalar(
    got: Any,
    expected: float | int,
    *,
    name: str = "the result",
    rtol: float = RTOL,
    atol: float = ATOL,
    integer: bool = False,
    hint: str | None = None,
) -> float | int:
    """``got`` must be one number (a Python or NumPy scalar, or a 0-d array) close to ``expected``."""
    got = expect_number(got, name=name, integer=integer)
    if integer:
        if got != int(expected):
            raise Mismatch(f"{name} is {got}, expected {int(expected)}", hint=hint)
        return got
    value = float(got)
    wrong = [Wrong(name, value, float(expected))]
    if np.isfinite(expected) and not np.isfinite(value):
        raise Mismatch(
            f"{name} is {value}, a non-finite value, expected the finite value {_fmt(expected)}",
            hint=hint,
            wrong=wrong,
        )
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise Mismatch(
            f"{name} is {_fmt(value)}, expected {_fmt(expected)} (difference {abs(value - expected):.3g})",
            hint=hint,
            wrong=wrong,
        )
    return value


def expect_finite(got: np.ndarray, *, name: str = "the result") -> np.ndarray:
    """Every entry of ``got`` must be finite: a nan or an inf is named as such, before any other
    property is checked (a nan is not "outside [0, 1]", it is not a number)."""
    bad = ~np.isfinite(got)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        count = int(bad.sum())
        raise Mismatch(
            f"{name} has {plural(count, 'non-finite value')} (nan or inf); "
            f"the first at {_index(idx)} is {_fmt(got[idx])}"
        )
    return got


def expect_sequence(
    got: Any, length: int, *, name: str = "the result", what: str = ""
) -> tuple[Any, ...]:
    """``got`` must be a tuple or list of ``length`` items (e.g. ``(w_new, b_new)``); returns it as a tuple."""
    if not isinstance(got, tuple | list) or len(got) != length:
        shape = f" {what}" if what else ""
        raise Mismatch(
            f"{name} should be a tuple of {length} values{shape}, but it is {_what_it_is(got)}"
        )
    return tuple(got)


def expect_unmodified(call: Call, *, hint: str | None = None) -> None:
    """The submission must not have changed any argument of ``call`` in place."""
    changed = call.modified()
    if changed:
        names = ", ".join(changed)
        raise Mismatch(
            f"{call.function} changed its input{'s' if len(changed) > 1 else ''} {names} in place; "
            "work on a copy (x = x.copy()) or use operations that return new arrays (x = x - m, not x -= m)",
            hint=hint,
            call=call,
        )


def expect(condition: bool, message: str, *, hint: str | None = None) -> None:
    """A property that must hold, with the message a student reads when it does not."""
    if not condition:
        raise Mismatch(message, hint=hint)
