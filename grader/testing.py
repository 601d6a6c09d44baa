"""What grader files import: comparisons, the oracle decorator, lazy torch.

from grader.testing import F, expect_array, oracle, torch
"""

from grader.engine.compare import (
    Mismatch,
    about,
    expect,
    expect_array,
    expect_arrays,
    expect_finite,
    expect_number,
    expect_scalar,
    expect_sequence,
    expect_shape,
    expect_unmodified,
)
from grader.engine.mistakes import mistake
from grader.engine.student import Call, StudentError
from grader.oracle import F, grading_device, nn, oracle, torch

__all__ = [
    "Call",
    "about",
    "F",
    "Mismatch",
    "StudentError",
    "expect",
    "expect_array",
    "expect_arrays",
    "expect_finite",
    "expect_number",
    "expect_scalar",
    "expect_sequence",
    "expect_shape",
    "expect_unmodified",
    "grading_device",
    "mistake",
    "nn",
    "oracle",
    "torch",
]
