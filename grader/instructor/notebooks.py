"""Notebook submissions for `dlgrade grade`: the code of their solution cells as a module that is
graded in the sandbox like any file, and where a student's notebook is in nbgrader's layout.

Only the cells nbgrader marks as solution cells (``metadata.nbgrader.solution: true``) are taken,
wherever they are in the notebook; test cells, set-up cells and anything else a student added
never run. So a solution cell that redefines ``run_test`` or patches the grader, which fools
`nbgrader autograde` (it runs the student's code in the kernel beside the tests), only defines
a function nobody calls, or is refused as a forbidden import, in the sandbox.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

from grader.errors import display_path

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # a notebook with large outputs is still far below this
# IPython's line magics and shell escapes: not Python, kept as comments so line numbers stay
_MAGIC = re.compile(r"^(\s*)([%!].*)$")


class NotebookError(Exception):
    """A submitted notebook dlgrade cannot read (the submission then scores 0, saying why)."""


def solution_cells(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """(cell number from 1, source) of each solution code cell, in notebook order."""
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("it has no list of cells")
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        if not isinstance(nbgrader, dict) or nbgrader.get("solution") is not True:
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"cell {number} has no text as its source")
        found.append((number, source))
    return found


def read_notebook(path: Path) -> dict[str, Any]:
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError("it is not a regular file (a link, a folder...)")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"it is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"it cannot be read ({type(exc).__name__})") from None
    except ValueError as exc:
        raise NotebookError(f"it is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise NotebookError("it is not a notebook (JSON, but no object)")
    return data


def solution_module(path: Path, shown_as: str | None = None) -> str:
    """The Python module made of the solution cells of the notebook ``path``.

    A notebook that cannot be read gives a module that raises, when imported, the reason: the
    submission scores 0 with that message, and the rest of the class is graded as usual."""
    shown = shown_as or display_path(path)
    try:
        notebook = read_notebook(path)
    except NotebookError as exc:
        return _refusal(shown, exc)
    return _module(notebook, shown)


def solution_module_from(data: bytes, shown_as: str) -> str:
    """:func:`solution_module` of a notebook's bytes (read safely by the caller)."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _refusal(shown_as, NotebookError("it cannot be read (UnicodeDecodeError)"))
    except ValueError as exc:
        return _refusal(shown_as, NotebookError(f"it is not JSON ({exc})"))
    if not isinstance(notebook, dict):
        return _refusal(shown_as, NotebookError("it is not a notebook (JSON, but no object)"))
    return _module(notebook, shown_as)


def _refusal(shown: str, exc: NotebookError) -> str:
    reason = f"{shown} is not a notebook dlgrade can grade: {exc}"
    return f"# {reason}\nraise ImportError({reason!r})\n"


def _module(notebook: dict[str, Any], shown: str) -> str:
    try:
        cells = solution_cells(notebook)
    except NotebookError as exc:
        return _refusal(shown, exc)
    numbers = ", ".join(str(n) for n, _ in cells) or "none"
    which = "cell" if len(cells) == 1 else "cells"
    parts = [f"# The solution cells of {shown} ({which} {numbers}), extracted by dlgrade grade.\n"]
    if not cells:
        parts.append("# The notebook has no solution cell (nbgrader metadata solution: true).\n")
    for number, source in cells:
        lines = [_MAGIC.sub(r"\1# (IPython, not run) \2", line) for line in source.splitlines()]
        parts.append(f"\n# -- cell {number}\n" + "\n".join(lines) + "\n")
    return "".join(parts)
