"""Trusted factories: objects graders ask the submission's side to build, described as data.

Some arguments cannot be copied across to a submission (a random Generator, a
Gymnasium environment, a function to differentiate). Graders describe them by
name instead, ``student.new("numpy.random.default_rng", 7)``, and the object is
built where the submission runs, from this module only, then kept there
behind an ``Opaque`` handle (or, when the result is plain data, copied back). This module must import nothing from ``grader``:
a sandboxed worker imports it on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


# -- scalar functions for numerical_gradient: f(x) -> float for an array x ----------------------
def sum_of_squares(x: np.ndarray) -> float:
    """f(x) = sum x^2; gradient 2x."""
    return float(np.sum(x * x))


def sum_of_sines(x: np.ndarray) -> float:
    """f(x) = sum sin(x); gradient cos(x)."""
    return float(np.sum(np.sin(x)))


def log_sum_exp(x: np.ndarray) -> float:
    """f(x) = log sum exp(x); gradient softmax(x) over all entries."""
    m = float(np.max(x))
    return m + math.log(float(np.sum(np.exp(x - m))))


def weighted_cubes(x: np.ndarray) -> float:
    """f(x) = sum_i w_i x_i^3 with fixed weights w_i = (i mod 3) - 1; gradient 3 w x^2."""
    w = (np.arange(x.size) % 3 - 1).reshape(x.shape)
    return float(np.sum(w * x**3))


FUNCTIONS: dict[str, Callable[[np.ndarray], float]] = {
    f.__name__: f for f in (sum_of_squares, sum_of_sines, log_sum_exp, weighted_cubes)
}


def function(name: str) -> Callable[[np.ndarray], float]:
    """One of the functions above, by name."""
    return FUNCTIONS[name]


def _gymnasium_make(env_id: str, **kwargs: Any) -> Any:
    import gymnasium

    return gymnasium.make(env_id, **kwargs)


def _gymnasium_make_recorded(env_id: str, **kwargs: Any) -> Any:
    """An environment that remembers the return of every episode (see ``episode_returns``)."""
    from gymnasium.wrappers import RecordEpisodeStatistics

    return RecordEpisodeStatistics(_gymnasium_make(env_id, **kwargs), buffer_length=1_000_000)


def episode_returns(env: Any) -> list[float]:
    """The returns of the episodes run on an environment from ``gymnasium.make_recorded``."""
    return [float(x) for x in env.return_queue]


FACTORIES: dict[str, Callable[..., Any]] = {
    "numpy.random.default_rng": np.random.default_rng,
    "gymnasium.make": _gymnasium_make,
    "gymnasium.make_recorded": _gymnasium_make_recorded,
    "episode_returns": episode_returns,
    "function": function,
}


def build(factory: str, *args: Any, **kwargs: Any) -> Any:
    """``FACTORIES[factory](*args, **kwargs)``; KeyError for an unknown factory.

    Plain results (numbers, lists of numbers...) go back to the graders as data; anything
    else stays on the submission's side behind a handle.
    """
    return FACTORIES[factory](*args, **kwargs)
