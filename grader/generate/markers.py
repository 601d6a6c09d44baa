"""nbgrader's region markers, and the transformations that clear them.

A solution file marks the student's part with ``### BEGIN SOLUTION`` /
``### END SOLUTION``; a grader file marks hidden tests with
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. These are nbgrader's own
markers, so the same sources can feed nbgrader.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import FileLineError

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")


@dataclass(frozen=True)
class Region:
    """Lines ``begin`` to ``end`` (1-based, the marker lines included)."""

    begin: int
    end: int

    def __contains__(self, line: int) -> bool:
        return self.begin <= line <= self.end


MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
_MARKER_LETTERS = {marker: re.sub(r"[^A-Z]", "", marker) for marker in MARKERS}
# a marker written as a comment after code on the same line
_TRAILING_MARKER = re.compile(r"#+\s*(BEGIN|END)\s*(SOLUTION|HIDDEN\s*TEST)", re.IGNORECASE)


def _is_marker(line: str, marker: str) -> bool:
    """A marker is a line that holds the marker and nothing else (indentation aside)."""
    return line.strip() == marker


def _distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def resembled_marker(line: str) -> str | None:
    """The marker ``line`` reads like without being it (``## BEGIN SOLUTION``, ``### end
    solution``, ``### BEGIN SOLUTON``, ``### END SOLUTIONS``, ``### BEGIN HIDDEN TEST``, a marker
    after code on the same line), or None. nbgrader and ``generate`` would both pass such a line
    over as an ordinary comment, and the region it meant to hide would reach the students."""
    text = line.strip()
    if text in MARKERS:
        return None
    if not text.startswith("#"):
        found = _TRAILING_MARKER.search(text)
        if found is None:
            return None
        text = found.group(0)
    letters = re.sub(r"[^A-Za-z]", "", text).upper()
    for marker, word in _MARKER_LETTERS.items():
        budget = 1 if len(word) < 12 else 2  # one typo in END SOLUTION, two in the longer ones
        for k in range(len(word) - budget, len(word) + budget + 1):
            if _distance(letters[:k], word) <= budget:
                return marker
    return None


def reject_near_misses(lines: list[str], path: Path) -> None:
    """A line that looks like a marker but is not one is an error naming file and line."""
    for number, line in enumerate(lines, start=1):
        marker = resembled_marker(line)
        if marker is not None:
            raise FileLineError(
                path,
                number,
                f"{line.strip()!r} looks like the marker '{marker}' but is not it: write the "
                "marker exactly, alone on its line (otherwise what it should hide is published)",
            )


def find_regions(lines: list[str], begin: str, end: str, path: Path) -> list[Region]:
    """The marked regions of ``lines``; unbalanced or nested markers name file and line."""
    regions: list[Region] = []
    open_at: int | None = None
    for number, line in enumerate(lines, start=1):
        if _is_marker(line, begin):
            if open_at is not None:
                raise FileLineError(
                    path, number, f"nested '{begin}' (the one at line {open_at} has no '{end}' yet)"
                )
            open_at = number
        elif _is_marker(line, end):
            if open_at is None:
                raise FileLineError(path, number, f"'{end}' without a '{begin}' before it")
            regions.append(Region(open_at, number))
            open_at = None
    if open_at is not None:
        raise FileLineError(path, open_at, f"no '{end}' for this '{begin}'")
    return regions


def _function_spans(source: str, path: Path) -> list[tuple[int, int, int]]:
    """(def line, last line, indentation) of every function in ``source``, nested ones included."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise FileLineError(path, exc.lineno, f"syntax error: {exc.msg}") from exc
    return [
        (node.lineno, node.end_lineno or node.lineno, node.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _inside_function(lines: list[str], region: Region, spans: list[tuple[int, int, int]]) -> bool:
    """Whether the region's code lies in a function body, indented deeper than its ``def``.

    The END marker is a comment after the last statement, so it may fall after
    the function's last line of code; what counts is where the region's code is.
    """
    code = [n for n in range(region.begin + 1, region.end) if lines[n - 1].strip()]
    first = code[0] if code else region.begin
    marker = lines[region.begin - 1]
    indent = len(marker) - len(marker.lstrip())
    return any(start < region.begin and first <= end and indent > col for start, end, col in spans)


class ClearSolutions:
    """Replaces each solution region with ``raise NotImplementedError`` at its indentation.

    A region must lie inside one function's body, so that the stub stays a
    function a student fills in (nbgrader's ``ClearSolutions`` does the same).
    """

    def __call__(self, source: str, path: Path) -> str:
        lines = source.splitlines()
        regions = find_regions(lines, BEGIN_SOLUTION, END_SOLUTION, path)
        if not regions:
            return source
        spans = _function_spans(source, path)
        for region in regions:
            if not _inside_function(lines, region, spans):
                raise FileLineError(
                    path, region.begin, f"'{BEGIN_SOLUTION}' outside a function body"
                )
        out: list[str] = []
        cursor = 0
        for region in regions:
            out.extend(lines[cursor : region.begin - 1])
            marker_line = lines[region.begin - 1]
            indent = marker_line[: len(marker_line) - len(marker_line.lstrip())]
            out.extend(indent + stub for stub in STUB_LINES)
            cursor = region.end
        out.extend(lines[cursor:])
        return "\n".join(out) + "\n"


class ClearHiddenTests:
    """Removes each hidden-test region, markers included."""

    def __call__(self, source: str, path: Path) -> str:
        lines = source.splitlines()
        regions = find_regions(lines, BEGIN_HIDDEN, END_HIDDEN, path)
        if not regions:
            return source
        hidden = {n for r in regions for n in range(r.begin, r.end + 1)}
        kept = [line for n, line in enumerate(lines, start=1) if n not in hidden]
        return "\n".join(_collapse_blank_runs(kept)).rstrip("\n") + "\n"


def _collapse_blank_runs(lines: list[str], most: int = 2) -> list[str]:
    out: list[str] = []
    blanks = 0
    for line in lines:
        blanks = blanks + 1 if not line.strip() else 0
        if blanks <= most:
            out.append(line)
    return out


class RejectNearMisses:
    """Fails on the first line that reads like a marker without being one exactly."""

    def __call__(self, source: str, path: Path) -> str:
        reject_near_misses(source.splitlines(), path)
        return source


class RejectMarkers:
    """Fails if any of ``markers`` is left in a file that should hold none."""

    def __init__(self, *markers: str) -> None:
        self.markers = markers

    def __call__(self, source: str, path: Path) -> str:
        for number, line in enumerate(source.splitlines(), start=1):
            for marker in self.markers:
                if _is_marker(line, marker):
                    raise FileLineError(path, number, f"'{marker}' does not belong in this file")
        return source


class AddHeader:
    """Puts a comment block saying where the file came from at the top."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines

    def __call__(self, source: str, path: Path) -> str:
        return "".join(f"# {line}\n" if line else "#\n" for line in self.lines) + source


def hidden_lines(path: Path) -> list[Region]:
    """The hidden-test regions of a grader file (used to mark results as hidden)."""
    return find_regions(
        path.read_text(encoding="utf-8").splitlines(), BEGIN_HIDDEN, END_HIDDEN, path
    )
