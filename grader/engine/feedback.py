"""The hint under a failing test: a known mistake, else a diagnosis, else nothing; and for a
function built on another that fails too, which one to fix first.

The one place that decides what a failure's hint says (the plugin calls it):

1. a registered mistake that reproduces the submission's outputs (grader/engine/mistakes.py);
2. else the shape of the difference, when it clearly has one (grader/engine/diagnose.py);
3. after every test has run: a function whose grader declares that it builds on others
   (``BUILDS_ON = {"lstm_forward": ("lstm_cell_forward",)}`` in the grader file) and whose
   component failed a test of its own is told to fix that component first, in place of any
   other hint (with a wrong component, its output may look like any of its own mistakes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from grader.engine.diagnose import diagnose
from grader.engine.results import TestResult
from grader.engine.student import Call

if TYPE_CHECKING:
    from grader.engine.mistakes import Registry


def explain(
    exc: BaseException, calls: Sequence[Call], registry: Registry | None
) -> tuple[str | None, str | None]:
    """(hint, where it comes from) for a failed comparison: a registered mistake that reproduces
    the outputs ("mistake"), else the grader's own hint for what it saw ("grader"), else what the
    comparison or the shape of the difference says ("diagnosis"). A hint is advice: whatever
    goes wrong while looking for one leaves the failure without it."""
    try:
        if registry is not None:
            hint = registry.hint_for(calls)
            if hint:
                return hint, "mistake"
        if getattr(exc, "hint", None):
            return exc.hint, "grader"  # type: ignore[attr-defined]
        if getattr(exc, "diagnosis", None):
            return exc.diagnosis, "diagnosis"  # type: ignore[attr-defined]
        wrong = getattr(exc, "wrong", None)
        if wrong:
            call = (
                getattr(exc, "call", None)
                or getattr(exc, "about", None)
                or (calls[-1] if calls else None)
            )
            found = diagnose(wrong, call)
            if found:
                return found, "diagnosis"
    except Exception:
        if os.environ.get("DLGRADE_DEBUG_HINTS"):  # the project's tests want to see such bugs
            raise
    return None, None


def components_first(results: Sequence[TestResult], builds_on: Mapping[str, Sequence[str]]) -> None:
    """Tells each failed test of a composite function to fix its failing component first."""
    failing: dict[str, list[str]] = {}
    for result in results:
        if result.status != "passed" and result.function:
            failing.setdefault(result.function, []).append(result.name)
    for result in results:  # before any other hint: a wrong component can mimic any mistake
        if result.status == "passed" or not result.function:
            continue
        broken = [
            c for c in builds_on.get(result.function, ()) if c != result.function and c in failing
        ]
        if not broken:
            continue
        component = broken[0]
        result.hint = (
            f"{component} fails its own tests, and {result.function} builds on it: make "
            f"{component} right, then come back to {result.function}"
        )
        result.hint_source = "component"


def builds_on_of(module: Any) -> dict[str, tuple[str, ...]]:
    """The ``BUILDS_ON`` map a grader module declares (empty when it declares none)."""
    value = getattr(module, "BUILDS_ON", None)
    if not isinstance(value, Mapping):
        return {}
    return {str(k): tuple(str(c) for c in v) for k, v in value.items()}


ERROR_HINTS = (  # (what NumPy says, what it usually means), for a submission that raised
    (
        "could not be broadcast",
        "shapes that do not broadcast: a sum or max along an axis drops that axis unless "
        "keepdims=True; print the shape of each array in the line that failed",
    ),
    (
        "matmul: Input operand",
        "the shapes of a matrix product do not match: check each matrix's layout (here W is "
        "(d_in, d_out); in torch's layout it would be transposed)",
    ),
    (
        "shapes (",
        "the shapes of a product do not match: check each array's layout and transpose",
    ),
    (
        "out of bounds",
        "an index goes past the end of an axis: check where windows start and how many there are",
    ),
    (
        "truth value of an array",
        "an `if` (or and/or) on a whole array: compare single numbers, or use np.any / np.all",
    ),
    (
        "'NoneType'",
        "a value is None where an array was expected: does every function end with a return?",
    ),
)


def explain_error(message: str) -> str | None:
    """A hint for a submission's exception whose NumPy message has a usual meaning."""
    if "raised" not in message or "NotImplementedError" in message:
        return None
    for pattern, hint in ERROR_HINTS:
        if pattern in message:
            return hint
    return None
