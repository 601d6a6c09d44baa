"""The PyTorch side of the graders: torch imported lazily, the grading device, and ``@oracle``.

Torch is imported the first time an oracle runs, never before: a grader module
can be collected (``dlgrade list``) without paying for it.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import Any

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

_device: str | None = None


def grading_device() -> str:
    """``cuda`` where PyTorch sees a GPU, else ``cpu``; ``$DLGRADE_DEVICE`` overrides."""
    global _device
    wanted = os.environ.get("DLGRADE_DEVICE", "").strip().lower()
    if _device is not None and (not wanted or wanted == _device):
        return _device
    if wanted:
        if wanted not in ("cpu", "cuda") and not wanted.startswith("cuda:"):
            raise UserError(f"DLGRADE_DEVICE={wanted!r}: use cpu or cuda")
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"DLGRADE_DEVICE={wanted}, but PyTorch sees no CUDA GPU")
        _device = wanted
    else:
        _device = "cuda" if torch.cuda.is_available() else "cpu"
    return _device


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


def oracle(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Runs a PyTorch reference on NumPy inputs: arrays go in as tensors on the grading device
    (float64 stays float64, int64 stays int64), tensors come back as NumPy arrays."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from grader.engine import cache, oracle_host  # engine/cache.py, engine/oracle_host.py

        key = cache.key_for(fn, args, kwargs)
        if key is not None:
            found, value = cache.lookup(key)
            if found:
                return value  # torch is not even imported
        host = oracle_host.current()
        done, result = host.call(fn, args, kwargs) if host is not None else (False, None)
        if not done:
            device = grading_device()
            result = to_numpy(fn(*to_torch(args, device), **to_torch(kwargs, device)))
        if key is not None:
            cache.store(key, result)
        return result

    return run
