"""Question text split into prose and code: fenced blocks and inline `code` are left untouched.

Inline ``$math$`` is converted (for a terminal, for MathJax) only in the prose: a ``$`` or ``_``
inside a code block or an inline code span is code, not math.

    ```python
    loss = criterion(torch.softmax(logits, dim=1), y)
    ```
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.#-]*)[ \t]*\n(.*?)\n[ \t]*```[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)([^`\n]|[^`\n].*?[^`\n])\1")


@dataclass(frozen=True)
class Block:
    """A run of prose (``language`` None) or one fenced code block (its language, maybe "")."""

    text: str
    language: str | None = None

    @property
    def is_code(self) -> bool:
        return self.language is not None


def blocks(text: str) -> list[Block]:
    """``text`` as prose and fenced code blocks, in order; the fences themselves dropped."""
    out: list[Block] = []
    pos = 0
    for m in FENCE.finditer(text):
        if m.start() > pos:
            out.append(Block(text[pos : m.start()]))
        out.append(Block(m.group(2), m.group(1)))
        pos = m.end()
    if pos < len(text) or not out:
        out.append(Block(text[pos:]))
    return out


def has_code_block(text: str) -> bool:
    return FENCE.search(text) is not None


def map_prose(text: str, convert: Callable[[str], str]) -> str:
    """``text`` with ``convert`` applied to the prose only: fenced blocks (fences kept) and
    inline code spans pass through unchanged."""
    parts: list[str] = []
    pos = 0
    for m in FENCE.finditer(text):
        parts.append(_map_inline(text[pos : m.start()], convert))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(_map_inline(text[pos:], convert))
    return "".join(parts)


def _map_inline(prose: str, convert: Callable[[str], str]) -> str:
    parts: list[str] = []
    pos = 0
    for m in INLINE_CODE.finditer(prose):
        parts.append(convert(prose[pos : m.start()]))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(convert(prose[pos:]))
    return "".join(parts)


def without_code(text: str) -> str:
    """The prose alone (code blocks and inline code removed): what word checks should read."""
    prose = FENCE.sub(" ", text)
    return INLINE_CODE.sub(" ", prose)
