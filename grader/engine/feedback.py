"""The hint under a failing test: a known mistake, else a diagnosis, else nothing; and for a
function built on another that fails too, which one to fix first.

The one place that decides what a failure's hint says (the plugin calls it):

1. a registered mistake that reproduces the submission's outputs (grader/engine/mistakes.py);
2. else the shape of the difference, when it clearly has one (grader/engine/diagnose.py);
3. after every test has run: a function whose grader declares that it builds on others
   (``BUILDS_ON = {"lstm_forward": ("lstm_cell_forward",)}`` in the grader file) and whose
   component failed a test of its own is told to fix that component first, in place of a
   diagnosis (a registered mistake's hint stays: it explains the output exactly).
"""

from __future__ import annotations

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
    """(hint, where it comes from: "mistake" or "diagnosis") for a failed comparison."""
    if registry is not None:
        hint = registry.hint_for(calls)
        if hint:
            return hint, "mistake"
    wrong = getattr(exc, "wrong", None)
    if wrong:
        call = getattr(exc, "call", None) or (calls[-1] if calls else None)
        found = diagnose(wrong, call)
        if found:
            return found, "diagnosis"
    return None, None


def components_first(results: Sequence[TestResult], builds_on: Mapping[str, Sequence[str]]) -> None:
    """Tells each failed test of a composite function to fix its failing component first."""
    failing: dict[str, list[str]] = {}
    for result in results:
        if result.status != "passed" and result.function:
            failing.setdefault(result.function, []).append(result.name)
    for result in results:
        if result.status == "passed" or not result.function or result.hint_source == "mistake":
            continue
        broken = [
            c for c in builds_on.get(result.function, ()) if c != result.function and c in failing
        ]
        if not broken:
            continue
        component = broken[0]
        tests = failing[component]
        result.hint = (
            f"{result.function} builds on {component}, which fails "
            f"{'its own test' if len(tests) == 1 else 'its own tests'} {', '.join(tests)}: "
            f"fix {component} first"
        )
        result.hint_source = "component"


def builds_on_of(module: Any) -> dict[str, tuple[str, ...]]:
    """The ``BUILDS_ON`` map a grader module declares (empty when it declares none)."""
    value = getattr(module, "BUILDS_ON", None)
    if not isinstance(value, Mapping):
        return {}
    return {str(k): tuple(str(c) for c in v) for k, v in value.items()}
