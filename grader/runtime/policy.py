"""What a submission may import, and the message when it imports something else.

Part of the worker-side runtime (grader/runtime/): both the grader's static check and the
worker's import blocker read this list.
"""

from __future__ import annotations

FORBIDDEN_MODULES = (
    "torch",
    "tensorflow",
    "jax",
    "jaxlib",
    "scipy",
    "sklearn",
    "keras",
    "cupy",
    "mxnet",
    "paddle",
    "grader",
    "dlgrade_runtime",
)
WHY_FORBIDDEN = (
    "submissions may use only NumPy and the Python standard library "
    "(the graders compare your code with PyTorch, so the point is to write it yourself)"
)


def forbidden_message(module: str, display_path: str, line: int | None = None) -> str:
    where = f", line {line}" if line else ""
    return f"{display_path}{where}: importing {module} is not allowed: {WHY_FORBIDDEN}"
