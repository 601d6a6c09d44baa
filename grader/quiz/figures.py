"""Figures for questions: seeded functions that describe a plot, drawn as PNG or in the terminal.

A question names a figure by function and parameters, never by a file::

    figure: {function: loss_curves, params: {scenario: overfitting}, seed: 3}

A function registered with ``@figure("name")`` takes a ``random.Random`` and the parameters
and returns a :class:`Plot` (lines, scatter points, a shaded decision region): plain data, so
the quiz can describe, validate and store figures without drawing them. Drawing is lazy:
:func:`png` imports matplotlib only when called (exports); :func:`terminal` draws a Unicode
(braille) plot for the quiz in a terminal. Importing this module imports neither.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FigureSpec:
    """Which figure a question shows: a registered function, its parameters, the seed of its noise."""

    function: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "params": self.params, "seed": self.seed}


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


FigureFn = Callable[..., Plot]
FIGURES: dict[str, FigureFn] = {}


def figure(name: str) -> Callable[[FigureFn], FigureFn]:
    """Registers a figure function under ``name`` (what a bank's ``figure.function`` names)."""

    def register(fn: FigureFn) -> FigureFn:
        FIGURES[name] = fn
        return fn

    return register


def spec_from(raw: Any) -> tuple[FigureSpec | None, str | None]:
    """(the spec, None) from a bank's or a generator's ``figure`` mapping, or (None, why not)."""
    if not isinstance(raw, dict):
        return None, "figure must be a mapping {function: name, params: {...}}"
    raw = {k: v for k, v in raw.items() if k != "__line__"}
    unknown = sorted(set(raw) - {"function", "params", "seed"})
    if unknown:
        return None, f"unknown figure field {unknown[0]!r} (function, params, seed)"
    name = raw.get("function")
    if name not in FIGURES:
        return None, f"unknown figure function {name!r} (known: {', '.join(sorted(FIGURES))})"
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        return None, "figure params must be a mapping"
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        return None, "figure seed must be an integer"
    params = {k: v for k, v in params.items() if k != "__line__"}
    accepted = inspect.signature(FIGURES[name]).parameters
    for key in params:
        if key not in accepted or key == "rng":
            known = ", ".join(p for p in accepted if p != "rng")
            return None, f"figure {name} takes no parameter {key!r} (it takes: {known})"
    return FigureSpec(name, params, seed), None


def plot(spec: FigureSpec) -> Plot:
    """The figure's data: its function called with a ``random.Random(seed)`` and its params."""
    return FIGURES[spec.function](random.Random(spec.seed), **spec.params)


def check(spec: FigureSpec) -> str | None:
    """Why the figure cannot be drawn (its function raises or returns no data), or None."""
    try:
        p = plot(spec)
    except Exception as exc:  # a figure function is code: report, don't crash
        return f"figure {spec.function} raised {type(exc).__name__}: {exc}"
    if not isinstance(p, Plot) or not (p.series or p.region):
        return f"figure {spec.function} returned nothing to draw"
    for s in p.series:
        if len(s.x) != len(s.y) or not all(math.isfinite(v) for v in (*s.x, *s.y)):
            return f"figure {spec.function}: series {s.label!r} has unequal or non-finite data"
    return None
