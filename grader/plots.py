"""Pictures a student can look at: the learning curve of a training run (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import UserError


def _smooth(values: list[float], window: int) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if len(x) < window:
        return x
    kernel = np.ones(window) / window
    return np.convolve(x, kernel, mode="valid")


def plot_learning_curve(curve: dict[str, Any], path: Path, window: int = 10) -> None:
    """Draws the return per episode of the student's run beside the reference's, to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UserError("--plot needs matplotlib: pip install 'dlgrade[plot]'") from exc
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    lows, highs = [], []
    styles: dict[str, dict[str, Any]] = {
        "yours": {"color": "tab:blue", "linestyle": "-", "zorder": 2},
        "reference": {"color": "black", "linestyle": "--", "zorder": 3},
    }
    for key, style in styles.items():
        returns = curve.get(key) or []
        if not returns:
            continue
        episodes = np.arange(1, len(returns) + 1)
        if key == "yours":
            ax.plot(episodes, returns, color=style["color"], alpha=0.25, linewidth=0.8)
        smooth = _smooth(returns, window)
        ax.plot(
            episodes[len(episodes) - len(smooth) :],
            smooth,
            linewidth=1.8,
            label=f"{key} (mean of {window} episodes)",
            **style,
        )
        lows.append(float(np.min(smooth)))
        highs.append(float(np.max(returns)))
    if lows:  # the first episodes of a random walk can be far below: show the part that learns
        span = max(highs) - min(lows)
        ax.set_ylim(min(lows) - 0.1 * span, max(highs) + 0.1 * span)
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(curve.get("title", "learning curve"))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
