"""How counts are said to people: one `plural()` for every message that counts something."""

from __future__ import annotations


def plural(n: int | float, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, plural unless ``n`` is one: "1 student", "3 students", "2.5 points".

    ``nouns`` is the plural where it is not the noun plus "s". A float is written as ``:g``
    writes it (2.0 -> "2")."""
    number = f"{n:g}" if isinstance(n, float) else str(n)
    return f"{number} {noun if n == 1 else (nouns or noun + 's')}"
