"""What a wrong answer looks like, when it clearly looks like something: generic diagnoses.

When a comparison fails and no registered mistake (grader/engine/mistakes.py)
explains the output, the engine asks :func:`diagnose` whether the difference
between what came back and what was expected has a recognisable shape:

* a constant factor, named, and "a sum where the mean belongs" when it is a size of the input;
* a flipped sign;
* a transpose, or axes in another order;
* blocks in another order (stacked gates);
* right inside and wrong on the border (padding);
* non-finite values where the inputs are large (overflow);
* differences at float32's precision;
* right on the first step of a sequence and wrong later (state not carried).

A diagnosis is only drawn from outputs that carry information: never from an
empty, constant or all-equal array (an output of zeros "is" every array times 0).
Each diagnosis is one sentence a student can act on, or nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from grader.engine.student import Call
from grader.runtime.plain import Opaque

CLOSE_RTOL = 1e-6  # "the same" for a diagnosis: tighter than any grader's tolerance would need
CLOSE_ATOL = 1e-9
LARGE_INPUT = 100.0  # inputs beyond this magnitude can overflow exp()


def degenerate(value: Any) -> bool:
    """An output that tells nothing about how it was computed: empty, or every entry the same
    (numbers alone are not degenerate: a loss is one number). Tuples and lists are degenerate
    when every part is."""
    if isinstance(value, list | tuple):  # objects kept with the submission tell nothing either
        numbers = _numbers(value)
        if numbers is not None and (numbers.size == 0 or np.all(numbers == numbers[0])):
            return True  # (zeros, 0.0) too
        return all(degenerate(v) for v in value if v is not None and not isinstance(v, Opaque))
    try:
        array = np.asarray(value)
    except Exception:
        return False
    if array.dtype.kind not in "biuf":
        return False
    if array.size == 0:
        return True
    if array.ndim == 0 or array.size == 1:
        return False
    flat = array.ravel()
    if array.dtype.kind == "f":
        return bool(np.all((flat == flat[0]) | (np.isnan(flat) & np.isnan(flat[0]))))
    return bool(np.all(flat == flat[0]))


def _numbers(value: Any) -> np.ndarray | None:
    """Every number in a tuple or list of arrays and numbers, flat; None if something else is in it."""
    found = []
    for part in value:
        if part is None or isinstance(part, Opaque):
            continue
        if isinstance(part, list | tuple):
            inner = _numbers(part)
            if inner is None:
                return None
            found.append(inner)
            continue
        try:
            array = np.asarray(part)
        except Exception:
            return None
        if array.dtype.kind not in "biuf":
            return None
        found.append(array.astype(np.float64).ravel())
    return np.concatenate(found) if found else np.zeros(0)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(
        np.allclose(
            a, b, rtol=CLOSE_RTOL, atol=CLOSE_ATOL * max(1.0, float(np.max(np.abs(b), initial=0)))
        )
    )


def _floats(value: Any) -> np.ndarray | None:
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float64)


# -- sizes of the call's inputs, to name a factor ---------------------------------------------
def _sizes(call: Call | None) -> list[tuple[int, str]]:
    """(size, what it is) for each axis length and total size of the call's array arguments."""
    if call is None:
        return []
    found: list[tuple[int, str]] = []
    named = [(call.arg_name(i), a) for i, a in enumerate(call.args)] + list(call.kwargs.items())
    for name, value in named:
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            continue
        for axis, n in enumerate(value.shape):
            what = (
                f"the length of {name}" if value.ndim == 1 else f"the size of axis {axis} of {name}"
            )
            if axis == 0 and value.ndim >= 2:
                what += " (the batch)"
            found.append((n, what))
        if value.ndim >= 2:
            found.append((value.size, f"the number of entries of {name}"))
    return [(n, what) for n, what in found if n >= 2]


def _nice(k: float) -> str | None:
    """``k`` as a short exact number (3, 1/4, 2/3), or None when it is not one."""
    frac = Fraction(k).limit_denominator(64)
    if frac.numerator == 0 or abs(float(frac) - k) > 1e-9 * max(1.0, abs(k)):
        return None
    if abs(frac.numerator) > 10_000:
        return None
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def _factor(got: np.ndarray, expected: np.ndarray, call: Call | None) -> str | None:
    if got.shape != expected.shape:
        return None
    denom = float(np.sum(expected * expected))
    if denom == 0 or not np.all(np.isfinite(got)):
        return None
    if expected.size > 1 and np.count_nonzero(np.abs(expected) > CLOSE_ATOL) < 2:
        return None  # one nonzero entry: any output with the same support "is" a multiple of it
    k = float(np.sum(got * expected)) / denom
    if not np.isfinite(k) or abs(k) < 1e-12 or abs(k - 1) < 1e-6:
        return None
    if not _close(got, k * expected):
        return None
    if abs(k + 1) < 1e-9:
        return "your result is exactly minus the expected one: the sign is flipped"
    nice = _nice(k)
    if nice is None:
        return None  # a ratio like 1.442 is more often an accident of small shapes than a slip
    for n, what in _sizes(call):
        if abs(k - n) < 1e-9 * n:
            return (
                f"your result is {n} times the expected one, and {n} is {what}: "
                "a sum where the mean belongs?"
            )
        if abs(k * n - 1) < 1e-9:
            return (
                f"your result is the expected one divided by {n}, and {n} is {what}: "
                "a mean where the sum belongs, or a division too many?"
            )
        if abs(k + n) < 1e-9 * n or abs(k * n + 1) < 1e-9:
            return (
                f"your result is the expected one times {nice}: the sign is flipped, "
                f"and {n} is {what} (a sum where the mean belongs, or the other way round?)"
            )
    sign = " (so the sign is flipped too)" if k < 0 else ""
    return f"your result is the expected one times {nice}, everywhere{sign}: a constant factor is wrong"


def _axes(got: np.ndarray, expected: np.ndarray) -> str | None:
    if got.ndim != expected.ndim or got.ndim < 2 or got.ndim > 4:
        return None
    for perm in itertools.permutations(range(got.ndim)):
        if perm == tuple(range(got.ndim)):
            continue
        candidate = np.transpose(expected, perm)
        if candidate.shape == got.shape and _close(got, candidate):
            if got.ndim == 2:
                return f"your result is the transpose of the expected one (expected shape {expected.shape})"
            return (
                f"your result has the expected values with the axes in the order {perm} "
                f"(expected shape {expected.shape}): the axes are mixed up"
            )
    return None


def _blocks(got: np.ndarray, expected: np.ndarray) -> str | None:
    if got.shape != expected.shape:
        return None
    for axis, size in enumerate(expected.shape):
        for k in (4, 3, 2):
            if size % k or size < k:
                continue
            parts = np.split(expected, k, axis=axis)
            for perm in itertools.permutations(range(k)):
                if perm == tuple(range(k)):
                    continue
                if _close(got, np.concatenate([parts[p] for p in perm], axis=axis)):
                    order = ", ".join(str(p) for p in perm)
                    return (
                        f"your result is right up to the order of its {k} blocks of {size // k} "
                        f"along axis {axis}: you have blocks {order} of the expected ones "
                        "(stacked gates in the wrong order?)"
                    )
    return None


def _border(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Images (N, C, H, W) right inside and wrong on a good part of their border: padding."""
    if got.shape != expected.shape or got.ndim != 4:
        return None
    H, W = expected.shape[-2:]
    for width in (1, 2, 3):
        if H <= 2 * width or W <= 2 * width:
            break
        inside = (..., slice(width, H - width), slice(width, W - width))
        if degenerate(expected[inside]) or not _close(got[inside], expected[inside]):
            continue
        wrong = ~np.isclose(got, expected, rtol=CLOSE_RTOL, atol=CLOSE_ATOL)
        border = np.ones((H, W), dtype=bool)
        border[width : H - width, width : W - width] = False
        if wrong[..., border].sum() < 0.25 * wrong[..., border].size:
            return None  # a few wrong entries that happen to lie on the border
        return (
            f"your result is right everywhere but on the border ({width} entr"
            f"{'y' if width == 1 else 'ies'} wide) of the images: check the padding "
            "(zeros on every side) and what is cut off at the edges"
        )
    return None


def _first_step(got: np.ndarray, expected: np.ndarray, axis: int) -> str | None:
    if got.shape != expected.shape or got.ndim == 0 or got.shape[axis] < 2:
        return None
    first = (slice(None),) * axis + (0,)
    if not _close(got[first], expected[first]):
        return None
    at = lambda a, t: a[(slice(None),) * axis + (t,)]  # noqa: E731
    wrong = next(
        (t for t in range(1, got.shape[axis]) if not _close(at(got, t), at(expected, t))), None
    )
    if wrong is None:
        return None
    return (
        f"the first step is right and step {wrong} is wrong: is the state carried from one step "
        "to the next (each step starts from the previous step's h and c)?"
    )


def _float32(got: np.ndarray, expected: np.ndarray) -> str | None:
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return None
    as32 = got.astype(np.float32).astype(np.float64)
    if not np.array_equal(as32, got):
        return None
    exp32 = expected.astype(np.float32).astype(np.float64)
    if np.array_equal(exp32, expected):
        return None  # the expected values are float32 numbers too: no evidence
    scale = float(np.max(np.abs(expected), initial=0))
    if scale == 0 or float(np.max(np.abs(got - expected))) > 1e-4 * scale:
        return None
    return (
        "your values are float32 numbers (about 7 significant digits): somewhere the computation "
        "runs in float32; keep every array float64"
    )


def _overflow(got: np.ndarray, expected: np.ndarray, call: Call | None) -> str | None:
    if got.shape != expected.shape or np.all(np.isfinite(got)):
        return None
    if not np.all(np.isfinite(expected)):
        return None
    largest = 0.0
    for value in (call.args if call else ()) + tuple((call.kwargs if call else {}).values()):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
            largest = max(largest, float(np.max(np.abs(value))))
        elif isinstance(value, float | int) and not isinstance(value, bool):
            largest = max(largest, abs(float(value)))
    if largest < LARGE_INPUT:
        return None
    return (
        f"inf or nan where the inputs are large (up to {largest:.3g} in magnitude): exp() overflows "
        "beyond about 709, and a probability that rounds to 0 gives log(0) = -inf; compute it in a "
        "stable form (subtract the max, log-sum-exp, log1p(exp(-|x|)))"
    )


def diagnose_pair(
    got: Any, expected: Any, call: Call | None = None, *, time_axis: int | None = None
) -> str | None:
    """One sentence on how ``got`` differs from ``expected``, when the difference clearly has a
    shape; None otherwise, and always None for a degenerate ``got`` or ``expected``."""
    g, e = _floats(got), _floats(expected)
    if g is None or e is None or degenerate(g) or degenerate(e):
        return None
    if g.shape == e.shape:
        overflow = _overflow(g, e, call)
        if overflow:
            return overflow
        if not np.all(np.isfinite(e)):
            return None
        float32 = _float32(g, e)  # within any "close", but wrong by the graders' tolerance
        if float32 or _close(g, e):
            return float32
    checks = [lambda: _axes(g, e)]
    if g.shape == e.shape:
        checks = [
            lambda: _factor(g, e, call),
            lambda: _axes(g, e),
            lambda: _blocks(g, e),
            lambda: _first_step(g, e, time_axis) if time_axis is not None else None,
            lambda: _border(g, e),
        ]
    for check in checks:
        found = check()
        if found:
            return found
    return None


@dataclass(frozen=True)
class Wrong:
    """One wrong part of a result, as a comparison saw it."""

    name: str
    got: Any
    expected: Any
    time_axis: int | None = None  # the axis of the steps, for a sequence of states


def diagnose(parts: Sequence[Wrong], call: Call | None = None) -> str | None:
    """The first diagnosis among the wrong parts of a result, named after its part when the
    result has several."""
    for part in parts:
        found = diagnose_pair(part.got, part.expected, call, time_axis=part.time_axis)
        if found:
            return found if len(parts) == 1 else f"{part.name}: {found}"
    return None
