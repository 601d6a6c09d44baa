"""The comparison helpers: each kind of wrong value gets a message that says what and where."""

from __future__ import annotations

import numpy as np
import pytest

from grader.engine.compare import (
    Mismatch,
    expect_array,
    expect_number,
    expect_scalar,
    expect_sequence,
    expect_shape,
    expect_unmodified,
)
from grader.engine.student import Call
from grader.runtime.plain import Opaque


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(Mismatch) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_equal_arrays_pass_and_are_returned() -> None:
    x = np.arange(6.0).reshape(2, 3)
    assert expect_array(x + 1e-12, x) is not None


def test_not_an_array() -> None:
    assert "should be a numpy array of shape (2,), but it is a list of length 2" in message(
        expect_array, [1.0, 2.0], np.zeros(2)
    )
    assert "a Generator object" in message(expect_array, Opaque(1, "Generator"), np.zeros(2))


def test_shape() -> None:
    assert (
        message(expect_array, np.zeros(3), np.zeros((3, 1)))
        == "the result has shape (3,), expected (3, 1)"
    )


def test_dtype() -> None:
    assert "dtype float32, expected float64" in message(
        expect_array, np.zeros(2, np.float32), np.zeros(2)
    )
    assert "expected an integer array (use .astype(int))" in message(
        expect_array, np.zeros(2, bool), np.zeros(2, np.int64)
    )
    assert "dtype int64, expected float64" in message(
        expect_array, np.zeros(2, np.int64), np.zeros(2)
    )


def test_non_finite_values_are_located() -> None:
    got = np.array([[0.5, np.nan], [0.2, 0.3]])
    text = message(expect_array, got, np.full((2, 2), 0.25))
    assert "1 non-finite value" in text and "at [0, 1]" in text and "got nan" in text


def test_largest_difference_is_reported() -> None:
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[1, 2] = 0.5
    got[0, 0] = 0.1
    text = message(expect_array, got, expected, name="the gradient")
    assert text.startswith("the gradient is wrong at 2 of 6 entries; at [1, 2] expected 0, got 0.5")
    assert "largest difference 0.5" in text


def test_tolerance_is_tight() -> None:
    x = np.array([1.0, 2.0])
    expect_array(x * (1 + 1e-9), x)
    with pytest.raises(Mismatch):
        expect_array(x * (1 + 1e-5), x)


def test_scalars() -> None:
    assert expect_scalar(np.float64(0.5), 0.5) == 0.5
    assert expect_scalar(np.array(0.5), 0.5) == 0.5
    assert "should be a number, but it is an array of shape (1,)" in message(
        expect_scalar, np.array([0.5]), 0.5
    )
    assert "(use float(...) or .item()" in message(expect_scalar, np.array([0.5]), 0.5)
    assert (
        message(expect_scalar, 0.7, 0.5, name="the loss")
        == "the loss is 0.7, expected 0.5 (difference 0.2)"
    )
    assert "expected the finite value" in message(expect_scalar, float("inf"), 2.0)
    assert (
        message(expect_scalar, 3, 4, integer=True, name="epochs_run")
        == "epochs_run is 3, expected 4"
    )
    assert "should be an integer" in message(expect_number, 3.0, integer=True)
    assert "should be a number" in message(expect_number, True)


def test_sequences_and_shapes() -> None:
    assert expect_sequence([1, 2], 2) == (1, 2)
    assert "should be a tuple of 2 values (w, b)" in message(
        expect_sequence, np.zeros(2), 2, what="(w, b)"
    )
    assert "has shape (2,), expected (3,)" in message(expect_shape, np.zeros(2), (3,))


def test_unmodified_names_the_argument() -> None:
    call = Call("softmax", (np.ones(2),), {}, args_after=(np.zeros(2),), param_names=("z", "axis"))
    assert "softmax changed its input z in place" in message(expect_unmodified, call)
    same = Call("softmax", (np.ones(2),), {}, args_after=(np.ones(2),), param_names=("z",))
    expect_unmodified(same)
