"""A figure as plain data (lines, scatter points, a shaded region): what the course's figures
(figures.py) return and what the PNG and terminal (termplot.py) drawings are made from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Series:
    """One thing drawn in the axes: a line, or scatter points (one class of points each)."""

    x: list[float]
    y: list[float]
    label: str = ""
    kind: str = "line"  # line | scatter
    dashed: bool = False


@dataclass
class Region:
    """A decision region: ``inside[r][c]`` is True where the model predicts the shaded class, on
    a grid of ``len(xs)`` columns by ``len(ys)`` rows (row 0 at the bottom)."""

    xs: list[float]
    ys: list[float]
    inside: list[list[bool]]
    label: str = ""


@dataclass
class Plot:
    """A figure as data: what both the PNG and the terminal drawings are made from."""

    title: str
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    region: Region | None = None
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    hlines: list[float] = field(default_factory=list)  # reference lines (y = 0, y = log 4 ...)
