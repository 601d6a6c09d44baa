"""Plain data: the only values that cross from a submission to the graders.

NumPy arrays of numeric dtype, Python and NumPy numbers, bools, strings, None,
and lists, tuples and dicts of those, each of exactly those types (no
subclasses, which could lie about themselves). Anything else stays on the
submission's side behind an :class:`Opaque` handle that graders can pass back
but never look into.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

NUMERIC_KINDS = "biufc"
MAX_DEPTH = 32
_SCALARS = (bool, int, float, complex, str, type(None))


@dataclass(frozen=True)
class Opaque:
    """A value that stayed with the submission: ``type_name`` is all graders learn of it."""

    ident: int
    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object kept with the submission>"


def is_plain_array(value: Any) -> bool:
    return (
        type(value) is np.ndarray
        and value.dtype.kind in NUMERIC_KINDS
        and value.dtype.fields is None
        and not value.dtype.hasobject
    )


def is_plain_numpy_scalar(value: Any) -> bool:
    kind = type(value)
    return (
        isinstance(value, np.generic)
        and kind.__module__ == "numpy"
        and np.dtype(kind).kind in NUMERIC_KINDS
    )


def type_name(value: Any) -> str:
    """The class name of ``value`` (without its module: a submission's module name is noise)."""
    return type(value).__qualname__


def copy_plain(value: Any, keep: Callable[[Any], Opaque] | None = None, _depth: int = 0) -> Any:
    """A deep copy of ``value`` in which every non-plain part is replaced by ``keep(part)``.

    With ``keep=None`` a non-plain part raises :class:`TypeError` naming its type.
    """
    if _depth > MAX_DEPTH:
        raise TypeError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is np.ndarray and is_plain_array(value):
        return np.array(value, copy=True, order="C")
    if is_plain_numpy_scalar(value):
        return value.copy()
    if kind is list or kind is tuple:
        items = [copy_plain(v, keep, _depth + 1) for v in value]
        return items if kind is list else tuple(items)
    if kind is dict and all(type(k) in (str, int) for k in value):
        return {k: copy_plain(v, keep, _depth + 1) for k, v in value.items()}
    if kind is Opaque:
        return value
    if keep is None:
        raise TypeError(f"a {type_name(value)} is not plain data")
    return keep(value)


def map_plain(value: Any, fn: Callable[[Any], Any], _depth: int = 0) -> Any:
    """``value`` rebuilt with ``fn`` applied to every leaf (anything but a list, tuple or dict);
    containers keep their exact type."""
    if _depth > MAX_DEPTH:
        raise TypeError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if kind is list or kind is tuple:
        items = [map_plain(v, fn, _depth + 1) for v in value]
        return items if kind is list else tuple(items)
    if kind is dict:
        return {k: map_plain(v, fn, _depth + 1) for k, v in value.items()}
    return fn(value)


def clean_text(text: Any, limit: int = 2000, keep_lines: bool = True) -> str:
    """A string from the submission's side made safe to store and show: at most ``limit``
    characters, every control character (escape sequences above all) replaced."""
    if not isinstance(text, str):
        text = "" if text is None else str(type(text).__name__)
    cut = len(text) > limit
    text = text[:limit]
    allowed = "\n\t" if keep_lines else ""
    safe = "".join(
        c if c.isprintable() or c in allowed else "\N{REPLACEMENT CHARACTER}" for c in text
    )
    return safe + (" [cut]" if cut else "")


def describe(value: Any) -> str:
    """A short description for messages: ``float64 (4, 5)`` for arrays, the value for scalars."""
    if type(value) is np.ndarray:
        return f"{value.dtype} array {tuple(value.shape)}"
    if isinstance(value, bool | int | np.integer):
        return repr(int(value)) if not isinstance(value, bool) else repr(value)
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 30 else repr(value[:27] + "...")
    if value is None:
        return "None"
    if type(value) in (list, tuple):
        inner = ", ".join(describe(v) for v in value[:4])
        more = ", ..." if len(value) > 4 else ""
        open_, close = ("[", "]") if type(value) is list else ("(", ")")
        return f"{open_}{inner}{more}{close}"
    if isinstance(value, Opaque):
        return value.type_name
    return type_name(value)


def equal_exactly(a: Any, b: Any) -> bool:
    """Exact equality of two plain values (NaN equal to NaN), used to spot modified inputs."""
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(equal_exactly(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(equal_exactly(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)
