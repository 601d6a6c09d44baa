"""The PyTorch side of the graders: torch imported lazily, the grading device, and ``@oracle``.

Torch is imported the first time an oracle runs, never before: a grader module
can be collected (``dlgrade list``) without paying for it.

An oracle runs in this process unless a grading run is on: the engine's plugin then hands each
test the run's :class:`~grader.engine.session.CheckSession` (:func:`oracles_from`), which answers
the calls from its reference cache or its reference process. This module imports nothing of the
engine: the engine depends on it, never the other way round.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import numpy as np

from grader.errors import UserError

_PROBES = frozenset({"pytestmark"})


class LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        # Tools probe attributes while looking around (pytest asks every object in a test
        # module for `pytestmark`, `__test__`, `_mock_name`...): those must not import torch,
        # so private names and the probes are not forwarded.
        if attr.startswith("_") or attr in _PROBES:
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)


torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")
nn = LazyModule("torch.nn")


def resolve_device() -> str:
    """``cuda`` where PyTorch sees a GPU, else ``cpu``; ``$DLGRADE_DEVICE`` overrides."""
    wanted = os.environ.get("DLGRADE_DEVICE", "").strip().lower()
    if wanted:
        if wanted not in ("cpu", "cuda") and not wanted.startswith("cuda:"):
            raise UserError(f"DLGRADE_DEVICE={wanted!r}: use cpu or cuda")
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"DLGRADE_DEVICE={wanted}, but PyTorch sees no CUDA GPU")
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


class OracleRunner(Protocol):
    """What answers the oracle calls of a grading run (the engine's CheckSession)."""

    @property
    def device(self) -> str: ...

    def run_oracle(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any: ...


_runner: ContextVar[OracleRunner | None] = ContextVar("dlgrade_oracle_runner", default=None)


@contextmanager
def oracles_from(runner: OracleRunner | None) -> Iterator[None]:
    """Oracles called inside the block (a test of a grading run) go to ``runner``."""
    token = _runner.set(runner)
    try:
        yield
    finally:
        _runner.reset(token)


def grading_device() -> str:
    """The device the oracles run on: the grading run's, else :func:`resolve_device`'s."""
    runner = _runner.get()
    return runner.device if runner is not None else resolve_device()


def to_torch(value: Any, device: str) -> Any:
    """NumPy arrays (also inside lists, tuples and dicts) as tensors on ``device``."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value).copy()).to(device)
    if isinstance(value, list | tuple):
        return type(value)(to_torch(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_torch(v, device) for k, v in value.items()}
    return value


def to_numpy(value: Any) -> Any:
    """Tensors (also inside lists, tuples and dicts) as NumPy arrays; 0-d tensors as Python numbers."""
    if isinstance(value, list | tuple):
        return type(value)(to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        array = value.detach().cpu().numpy()
        return array.item() if array.ndim == 0 else array
    return value


def run_here(fn: Callable[..., Any], args: tuple, kwargs: dict, device: str) -> Any:
    """``fn`` run in this process on ``device``: NumPy in, tensors to it, NumPy out."""
    return to_numpy(fn(*to_torch(args, device), **to_torch(kwargs, device)))


def oracle(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Runs a PyTorch reference on NumPy inputs: arrays go in as tensors on the grading device
    (float64 stays float64, int64 stays int64), tensors come back as NumPy arrays."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        runner = _runner.get()
        if runner is None:
            return run_here(fn, args, kwargs, resolve_device())
        return runner.run_oracle(fn, args, kwargs)

    return run
