"""Figures for questions: seeded functions that describe a plot, drawn as PNG or in the terminal.

A question names a figure by function and parameters, never by a file::

    figure: {function: loss_curves, params: {scenario: overfitting}, seed: 3}

A function registered with ``@figure("name")`` takes a ``random.Random`` and the parameters
and returns a :class:`~grader.quiz.plotdata.Plot` (lines, scatter points, a shaded decision region): plain data, so
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

from grader.quiz.plotdata import Plot, Region, Series


@dataclass(frozen=True)
class FigureSpec:
    """Which figure a question shows: a registered function, its parameters, the seed of its noise."""

    function: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "params": self.params, "seed": self.seed}


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


# -- drawing --------------------------------------------------------------------------------------
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def png(spec: FigureSpec, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, drawn with matplotlib (imported here, only when needed)."""
    import io

    try:
        import matplotlib
    except ImportError:
        from grader.errors import UserError

        raise UserError(
            "drawing figures as PNG needs matplotlib: pip install 'dlgrade[plot]'"
        ) from None
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    p = plot(spec)
    fig = Figure(figsize=(6.4, 4.0), dpi=dpi)
    ax = fig.add_subplot()
    if p.region is not None:
        r = p.region
        values = [[1.0 if cell else 0.0 for cell in row] for row in r.inside]
        ax.pcolormesh(r.xs, r.ys, values, cmap="Blues", vmin=0, vmax=4, shading="nearest")
    for y in p.hlines:
        ax.axhline(y, color="0.6", linewidth=0.8, linestyle=":")
    markers = iter(("o", "x", "s", "^"))
    for k, s in enumerate(p.series):
        colour = COLOURS[k % len(COLOURS)]
        if s.kind == "scatter":
            ax.scatter(s.x, s.y, s=18, marker=next(markers), color=colour, label=s.label or None)
        else:
            style = "--" if s.dashed else "-"
            ax.plot(s.x, s.y, style, color=colour, linewidth=1.6, label=s.label or None)
    if p.xlim:
        ax.set_xlim(*p.xlim)
    if p.ylim:
        ax.set_ylim(*p.ylim)
    ax.set_title(p.title)
    ax.set_xlabel(p.xlabel)
    ax.set_ylabel(p.ylabel)
    ax.grid(alpha=0.25)
    if any(s.label for s in p.series):
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def terminal(spec: FigureSpec, width: int = 72, height: int = 16) -> Any:
    """The figure as a rich ``Text`` for a terminal: a Unicode (braille) plot ``width`` columns
    wide and about ``height`` rows high, with its axes and a legend."""
    from grader.quiz.termplot import draw

    return draw(plot(spec), width, height)


def alt_text(spec: FigureSpec) -> str:
    """A short description for exports (an image's alt text): the title and the axes."""
    p = plot(spec)
    axes = f" ({p.ylabel} against {p.xlabel})" if p.xlabel and p.ylabel else ""
    return f"Figure: {p.title}{axes}"


# -- the figure functions -------------------------------------------------------------------------
def _noise(rng: random.Random, scale: float) -> float:
    return rng.gauss(0.0, scale)


LOSS_SCENARIOS = (
    "good_fit",
    "overfitting",
    "underfitting",
    "lr_too_high",
    "lr_too_low",
    "unshuffled",
    "step_decay",
)


@figure("loss_curves")
def loss_curves(rng: random.Random, scenario: str = "overfitting", epochs: int = 60) -> Plot:
    """Training (and validation) loss of one run, as a scenario of a debugging question."""
    if scenario not in LOSS_SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(LOSS_SCENARIOS)}")
    xs = [float(x) for x in range(1, epochs + 1)]
    if scenario == "lr_too_high":
        its = [float(t) for t in range(0, 201, 2)]
        # each step overshoots: the loss swings more and more widely and climbs
        ys = [2.3 * math.exp(t / 80) * (0.55 + 0.9 * rng.random()) for t in its]
        return Plot(
            "Training loss, logged every 2 iterations",
            "iteration",
            "loss",
            [Series(its, ys, "training loss")],
            ylim=(0, max(ys) * 1.05),
        )
    if scenario == "unshuffled":
        per_class, classes, rounds = 10, 5, 4
        its = [float(t) for t in range(per_class * classes * rounds)]
        ys = []
        for t in its:
            into_block = int(t) % per_class
            ys.append(0.35 + 2.2 * math.exp(-into_block / 2.2) + abs(_noise(rng, 0.04)))
        return Plot(
            f"Training loss per iteration (one epoch = {per_class * classes} iterations)",
            "iteration",
            "loss",
            [Series(its, ys, "training loss")],
            ylim=(0, 3.0),
        )
    if scenario == "step_decay":
        xs = [float(x) for x in range(1, 91)]
        train, val = [], []
        for x in xs:
            level = 1.1 * math.exp(-x / 12) + (0.6 if x <= 30 else 0.3 if x <= 60 else 0.12)
            train.append(level + _noise(rng, 0.015))
            val.append(level + 0.08 + _noise(rng, 0.03))
        return Plot(
            "Loss per epoch",
            "epoch",
            "loss",
            [Series(xs, train, "training"), Series(xs, val, "validation", dashed=True)],
            ylim=(0, 1.9),
        )
    turn = rng.randint(12, 20)
    train, val = [], []
    for x in xs:
        if scenario == "overfitting":
            t = 2.0 * math.exp(-x / 9) + 0.04
            v = 1.7 * math.exp(-x / 8) + 0.45 + 0.018 * max(0.0, x - turn) ** 1.15
        elif scenario == "good_fit":
            t = 1.9 * math.exp(-x / 11) + 0.22
            v = 1.9 * math.exp(-x / 11) + 0.3
        elif scenario == "underfitting":
            t = 0.7 * math.exp(-x / 4) + 1.55
            v = 0.7 * math.exp(-x / 4) + 1.6
        else:  # lr_too_low
            t = 2.3 - 0.0045 * x
            v = 2.32 - 0.0042 * x
        train.append(max(0.01, t + _noise(rng, 0.015)))
        val.append(max(0.01, v + _noise(rng, 0.02)))
    return Plot(
        "Loss per epoch",
        "epoch",
        "loss",
        [Series(xs, train, "training"), Series(xs, val, "validation", dashed=True)],
        ylim=(0, 2.6),
    )


ACTIVATIONS: dict[str, Callable[[float], float]] = {
    "relu": lambda x: max(0.0, x),
    "leaky_relu": lambda x: x if x > 0 else 0.1 * x,
    "elu": lambda x: x if x > 0 else math.exp(x) - 1,
    "gelu": lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
    "softplus": lambda x: math.log1p(math.exp(x)),
}


@figure("activation")
def activation(rng: random.Random, name: str = "relu", derivative: bool = False) -> Plot:
    """An activation function (or its derivative, by central differences) on [-4, 4]."""
    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {', '.join(ACTIVATIONS)}")
    f = ACTIVATIONS[name]
    xs = [i / 20 for i in range(-80, 81)]
    h = 1e-4
    ys = [(f(x + h) - f(x - h)) / (2 * h) if derivative else f(x) for x in xs]
    title = "The derivative f′(x) of an activation function" if derivative else "f(x)"
    lo, hi = min(ys), max(ys)
    pad = 0.1 * max(hi - lo, 0.5)
    return Plot(
        title if derivative else "An activation function f(x)",
        "x",
        "f′(x)" if derivative else "f(x)",
        [Series(xs, ys)],
        ylim=(min(lo, 0.0) - pad, hi + pad),
        hlines=[0.0],
    )


GAN_SCENARIOS = ("balanced", "discriminator_wins")


@figure("gan_losses")
def gan_losses(rng: random.Random, scenario: str = "balanced") -> Plot:
    """Discriminator and generator losses (binary cross-entropy) over training."""
    if scenario not in GAN_SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(GAN_SCENARIOS)}")
    its = [float(t) for t in range(0, 5001, 50)]
    d, g = [], []
    for t in its:
        if scenario == "balanced":
            d.append(1.3 + 0.08 * math.sin(t / 400) + _noise(rng, 0.06))
            g.append(0.85 + 0.12 * math.sin(t / 400 + 1.5) + _noise(rng, 0.08))
        else:
            d.append(0.02 + 1.35 * math.exp(-t / 350) + abs(_noise(rng, 0.02)))
            rise = 1 - math.exp(-t / 400)
            g.append(0.7 + 6.3 * rise + _noise(rng, 0.05 + 0.25 * rise))
    return Plot(
        "GAN training losses",
        "iteration",
        "loss",
        [Series(its, d, "discriminator"), Series(its, g, "generator", dashed=True)],
        ylim=(0, max(max(d), max(g)) * 1.1),
    )


SAMPLE_SCENARIOS = ("healthy", "mode_collapse")


@figure("gan_samples")
def gan_samples(rng: random.Random, scenario: str = "mode_collapse", modes: int = 8) -> Plot:
    """Real data (a ring of Gaussian modes) and a generator's samples, in two dimensions."""
    if scenario not in SAMPLE_SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SAMPLE_SCENARIOS)}")
    centres = [
        (2 * math.cos(2 * math.pi * k / modes), 2 * math.sin(2 * math.pi * k / modes))
        for k in range(modes)
    ]
    real_x, real_y, fake_x, fake_y = [], [], [], []
    for k in range(modes * 12):
        cx, cy = centres[k % modes]
        real_x.append(cx + _noise(rng, 0.12))
        real_y.append(cy + _noise(rng, 0.12))
    collapsed = rng.randrange(modes)
    for k in range(modes * 12):
        cx, cy = centres[collapsed if scenario == "mode_collapse" else k % modes]
        fake_x.append(cx + _noise(rng, 0.1))
        fake_y.append(cy + _noise(rng, 0.1))
    return Plot(
        "Real samples and generated samples",
        "x₁",
        "x₂",
        [
            Series(real_x, real_y, "real data", kind="scatter"),
            Series(fake_x, fake_y, "generated", kind="scatter"),
        ],
        xlim=(-3, 3),
        ylim=(-3, 3),
    )


DATASETS = ("blobs", "xor", "circles", "moons")
MODELS = ("linear", "nonlinear", "memorising")


def _dataset(rng: random.Random, data: str, n: int) -> list[tuple[float, float, int]]:
    points = []
    for i in range(n):
        label = i % 2
        if data == "blobs":
            c = (-1.2, -0.8) if label == 0 else (1.1, 0.9)
            x, y = c[0] + _noise(rng, 0.6), c[1] + _noise(rng, 0.6)
        elif data == "xor":
            sx, sy = rng.choice([(1, 1), (-1, -1)] if label else [(1, -1), (-1, 1)])
            x, y = sx * (1.2 + _noise(rng, 0.45)), sy * (1.2 + _noise(rng, 0.45))
        elif data == "circles":
            r = (0.9 if label else 2.2) + _noise(rng, 0.2)
            a = rng.uniform(0, 2 * math.pi)
            x, y = r * math.cos(a), r * math.sin(a)
        else:  # moons
            a = rng.uniform(0, math.pi)
            x, y = (
                (math.cos(a) * 1.6 - 0.8, math.sin(a) * 1.6 - 0.4)
                if label == 0
                else (0.8 - math.cos(a) * 1.6, 0.4 - math.sin(a) * 1.6)
            )
            x, y = x + _noise(rng, 0.25), y + _noise(rng, 0.25)
        points.append((x, y, label))
    return points


def _true_rule(data: str, x: float, y: float) -> bool:
    if data == "blobs":
        return 2.3 * x + 1.7 * y > 0
    if data == "xor":
        return x * y > 0
    if data == "circles":
        return x * x + y * y < 1.55**2
    # moons: nearer the lower moon's arc (class 1) than the upper one's
    return _nearest_arc(x, y, _LOWER_ARC) < _nearest_arc(x, y, _UPPER_ARC)


_ANGLES = [math.pi * i / 40 for i in range(41)]
_UPPER_ARC = [(1.6 * math.cos(a) - 0.8, 1.6 * math.sin(a) - 0.4) for a in _ANGLES]
_LOWER_ARC = [(0.8 - 1.6 * math.cos(a), 0.4 - 1.6 * math.sin(a)) for a in _ANGLES]


def _nearest_arc(x: float, y: float, arc: list[tuple[float, float]]) -> float:
    return min((px - x) ** 2 + (py - y) ** 2 for px, py in arc)


@figure("decision_boundary")
def decision_boundary(
    rng: random.Random, data: str = "xor", model: str = "linear", flip: float = 0.0
) -> Plot:
    """Two classes of points and the region a model assigns to class 1 (shaded): a linear model
    (one straight boundary), a nonlinear one (the rule that generated the data), or one that
    memorises its training points (the nearest neighbour's label). ``flip``: the share of labels
    flipped (noise for the memorising model to fit)."""
    if data not in DATASETS or model not in MODELS:
        raise ValueError(f"data is one of {', '.join(DATASETS)}; model one of {', '.join(MODELS)}")
    points = _dataset(rng, data, 80)
    points = [(x, y, 1 - c if rng.random() < flip else c) for x, y, c in points]
    lo, hi = -3.0, 3.0
    xs = [lo + (hi - lo) * (i + 0.5) / 48 for i in range(48)]
    ys = [lo + (hi - lo) * (j + 0.5) / 32 for j in range(32)]
    angle = rng.uniform(0.3, 1.2)

    def predict(x: float, y: float) -> bool:
        if model == "linear":
            if data == "blobs":
                return _true_rule(data, x, y)
            return math.cos(angle) * x - math.sin(angle) * y > 0.2
        if model == "nonlinear":
            return _true_rule(data, x, y)
        nearest = min(points, key=lambda p: (p[0] - x) ** 2 + (p[1] - y) ** 2)
        return nearest[2] == 1

    inside = [[predict(x, y) for x in xs] for y in ys]
    series = [
        Series(
            [p[0] for p in points if p[2] == c],
            [p[1] for p in points if p[2] == c],
            f"class {c}",
            kind="scatter",
        )
        for c in (0, 1)
    ]
    return Plot(
        "Training points and the model's decision regions",
        "x₁",
        "x₂",
        series,
        region=Region(xs, ys, inside, "predicted class 1"),
        xlim=(lo, hi),
        ylim=(lo, hi),
    )
