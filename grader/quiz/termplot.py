"""A figure drawn with Unicode for a terminal: lines in braille dots (2 x 4 per character),
scatter points as marks, a decision region as light shade, axes with their ranges, a legend.

Series are told apart by colour and, for a screen or a pipe without colour, by their style:
the first line is solid, a dashed series is drawn with gaps; scatter classes use o, x, +, *.
"""

from __future__ import annotations

import math

from rich.text import Text

from grader.quiz.plotdata import Plot

STYLES = ("cyan", "magenta", "yellow", "green")
MARKS = ("o", "x", "+", "*")
SHADE = "░"
_BRAILLE = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] of a cell


def _label(v: float) -> str:
    """An axis label: short (two significant digits below 10)."""
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.1e}"
    return f"{v:.3g}" if abs(v) >= 10 else f"{v:.2g}"


def _limits(plot: Plot) -> tuple[float, float, float, float]:
    xs = [v for s in plot.series for v in s.x]
    ys = [v for s in plot.series for v in s.y]
    if plot.region is not None:
        xs += [plot.region.xs[0], plot.region.xs[-1]]
        ys += [plot.region.ys[0], plot.region.ys[-1]]
    x0, x1 = plot.xlim or (min(xs), max(xs))
    y0, y1 = plot.ylim or (min(ys), max(ys))
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 <= y0:
        y0, y1 = y0 - 1, y1 + 1
    return x0, x1, y0, y1


class Canvas:
    """Character cells, each with braille dots, an optional mark, and a style."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.dots = [[0] * cols for _ in range(rows)]
        self.marks: list[list[str | None]] = [[None] * cols for _ in range(rows)]
        self.styles: list[list[str]] = [[""] * cols for _ in range(rows)]

    def dot(self, px: int, py: int, style: str) -> None:
        """Sets the dot at (``px``, ``py``), dots counted from the top left."""
        col, row = px // 2, py // 4
        if 0 <= col < self.cols and 0 <= row < self.rows:
            self.dots[row][col] |= _BRAILLE[py % 4][px % 2]
            if self.marks[row][col] in (None, SHADE):
                self.styles[row][col] = style

    def mark(self, col: int, row: int, char: str, style: str) -> None:
        if 0 <= col < self.cols and 0 <= row < self.rows:
            self.marks[row][col] = char
            self.styles[row][col] = style

    def cell(self, row: int, col: int) -> str:
        mark = self.marks[row][col]
        if mark is not None and (mark != SHADE or not self.dots[row][col]):
            return mark
        return chr(0x2800 + self.dots[row][col]) if self.dots[row][col] else " "


def draw(plot: Plot, width: int = 72, height: int = 16) -> Text:
    """``plot`` as rich Text, ``width`` columns wide: the title, the axes, the legend."""
    x0, x1, y0, y1 = _limits(plot)
    labels = [_label(y1), _label((y0 + y1) / 2), _label(y0)]
    margin = max(len(t) for t in labels) + 1
    cols, rows = max(10, width - margin - 1), max(4, height - 4)
    canvas = Canvas(cols, rows)
    px_w, px_h = cols * 2, rows * 4

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * (px_w - 1), (y1 - y) / (y1 - y0) * (px_h - 1)

    if plot.region is not None:
        _shade(canvas, plot, x0, x1, y0, y1)
    for y in plot.hlines:
        if y0 <= y <= y1:
            _, py = to_px(x0, y)
            for column in range(0, px_w, 3):
                canvas.dot(column, round(py), "dim")
    scatter = 0
    for k, s in enumerate(plot.series):
        style = STYLES[k % len(STYLES)]
        if s.kind == "scatter":
            for x, y in zip(s.x, s.y, strict=True):
                px, py = to_px(x, y)
                canvas.mark(int(px) // 2, int(py) // 4, MARKS[scatter % len(MARKS)], style)
            scatter += 1
            continue
        _line(canvas, [to_px(x, y) for x, y in zip(s.x, s.y, strict=True)], style, s.dashed)
    return _compose(plot, canvas, labels, margin, (x0, x1))


def _shade(canvas: Canvas, plot: Plot, x0: float, x1: float, y0: float, y1: float) -> None:
    region = plot.region
    assert region is not None
    for row in range(canvas.rows):
        y = y1 - (row + 0.5) / canvas.rows * (y1 - y0)
        j = min(range(len(region.ys)), key=lambda j: abs(region.ys[j] - y))
        for col in range(canvas.cols):
            x = x0 + (col + 0.5) / canvas.cols * (x1 - x0)
            i = min(range(len(region.xs)), key=lambda i: abs(region.xs[i] - x))
            if region.inside[j][i]:
                canvas.mark(col, row, SHADE, "dim blue")


def _line(canvas: Canvas, points: list[tuple[float, float]], style: str, dashed: bool) -> None:
    """Joins the points with dots; a dashed line leaves every other run of 3 dots out."""
    n = 0
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        steps = max(1, int(max(abs(bx - ax), abs(by - ay))))
        for t in range(steps + 1):
            n += 1
            if dashed and (n // 3) % 2:
                continue
            x = ax + (bx - ax) * t / steps
            y = ay + (by - ay) * t / steps
            if math.isfinite(x) and math.isfinite(y):
                canvas.dot(round(x), round(y), style)
    if len(points) == 1:
        canvas.dot(round(points[0][0]), round(points[0][1]), style)


def _compose(
    plot: Plot, canvas: Canvas, labels: list[str], margin: int, xrange: tuple[float, float]
) -> Text:
    out = Text()
    out.append(plot.title + "\n", style="bold")
    label_rows = {0: labels[0], canvas.rows // 2: labels[1], canvas.rows - 1: labels[2]}
    for row in range(canvas.rows):
        out.append(label_rows.get(row, "").rjust(margin - 1) + " ", style="dim")
        out.append("┤" if row in label_rows else "│", style="dim")
        for col in range(canvas.cols):
            out.append(canvas.cell(row, col), style=canvas.styles[row][col] or None)
        out.append("\n")
    out.append(" " * margin + "└" + "─" * canvas.cols + "\n", style="dim")
    left, right = _label(xrange[0]), _label(xrange[1])
    axis = f"{left}{plot.xlabel.center(canvas.cols - len(left) - len(right))}{right}"
    out.append(" " * (margin + 1) + axis + "\n", style="dim")
    if plot.ylabel:
        out.append(" " * (margin + 1) + f"vertical: {plot.ylabel}", style="dim")
    legend = _legend(plot)
    if legend.plain:
        out.append("   " if plot.ylabel else " " * (margin + 1))
        out.append(legend)
    return out


def _legend(plot: Plot) -> Text:
    legend = Text()
    scatter = 0
    for k, s in enumerate(plot.series):
        style = STYLES[k % len(STYLES)]
        if s.kind == "scatter":
            sample, scatter = MARKS[scatter % len(MARKS)], scatter + 1
        else:
            sample = "⠒ ⠒" if s.dashed else "⠒⠒⠒"
        if s.label:
            legend.append(("  " if legend.plain else "") + sample + " ", style=style)
            legend.append(s.label + (" (dashed)" if s.dashed else ""))
    if plot.region is not None:
        legend.append(("  " if legend.plain else "") + SHADE + " ", style="dim blue")
        legend.append(plot.region.label or "region")
    return legend
