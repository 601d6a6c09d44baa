"""Builds test submissions by replacing functions of a module's source (for the project's tests)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path


def replace_functions(source: str, **bodies: str) -> str:
    """``source`` with each named top-level function replaced by the given ``def`` text.

    An empty string deletes the function.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in bodies:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (start, node.end_lineno)
    missing = set(bodies) - set(spans)
    assert not missing, f"no such functions: {missing}"
    for name, (start, end) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
        lines[start - 1 : end] = textwrap.dedent(bodies[name]).strip("\n").splitlines()
    return "\n".join(lines) + "\n"


def write_variant(base: Path, target: Path, **bodies: str) -> Path:
    """Writes ``base`` with some functions replaced to ``target``; returns ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        replace_functions(base.read_text(encoding="utf-8"), **bodies), encoding="utf-8"
    )
    return target
