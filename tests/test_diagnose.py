"""Diagnoses of wrong answers that match no registered mistake (grader/engine/diagnose.py), and
the hint that sends a composite function to its failing component (grader/engine/feedback.py)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.engine.compare import Mismatch, expect_array, expect_arrays, expect_scalar
from grader.engine.diagnose import Wrong, degenerate, diagnose, diagnose_pair
from grader.engine.feedback import components_first, explain
from grader.engine.mistakes import Registry, mistake
from grader.engine.results import TestResult
from grader.engine.student import Call

rng = np.random.default_rng(0)


def call(name: str, *args) -> Call:
    return Call(name, args, {}, returned=True, param_names=("logits", "labels", "x")[: len(args)])


def test_a_constant_factor_is_named() -> None:
    e = rng.normal(size=(3, 4))
    assert "times 2, everywhere" in diagnose_pair(2 * e, e)
    assert "times 1/2" in diagnose_pair(e / 2, e)
    assert diagnose_pair(1.37 * e, e) is None  # no simple number: more often an accident
    assert "times 2/3" in diagnose_pair(2 * e / 3, e)


def test_a_factor_that_is_the_batch_size_is_a_sum_for_a_mean() -> None:
    logits = rng.normal(size=(5, 3))
    e = rng.normal(size=(5, 3))
    found = diagnose_pair(5 * e, e, call("f", logits))
    assert "5 times" in found and "axis 0 of logits (the batch)" in found and "sum" in found
    found = diagnose_pair(e / 5, e, call("f", logits))
    assert "divided by 5" in found and "mean" in found


def test_a_scalar_is_diagnosed_only_by_an_exact_simple_ratio() -> None:
    logits = rng.normal(size=(4, 3))
    assert "4 times" in diagnose_pair(4 * 0.731, 0.731, call("cross_entropy", logits))
    assert "sign is flipped" in diagnose_pair(-0.731, 0.731)
    assert diagnose_pair(0.9, 0.731) is None  # any two numbers have a ratio


def test_a_flipped_sign_is_named() -> None:
    e = rng.normal(size=(3, 4))
    assert "sign is flipped" in diagnose_pair(-e, e)


def test_a_transpose_and_mixed_axes_are_named() -> None:
    e = rng.normal(size=(3, 4))
    assert "transpose" in diagnose_pair(e.T, e)
    square = rng.normal(size=(4, 4))
    assert "transpose" in diagnose_pair(square.T, square)
    e3 = rng.normal(size=(2, 3, 4))
    assert "axes in the order (0, 2, 1)" in diagnose_pair(e3.transpose(0, 2, 1), e3)


def test_blocks_in_another_order_are_gates_in_the_wrong_order() -> None:
    e = rng.normal(size=(8, 3))  # four gates of two rows
    swapped = np.concatenate([e[0:2], e[2:4], e[6:8], e[4:6]])
    found = diagnose_pair(swapped, e)
    assert "order of its 4 blocks of 2 along axis 0" in found and "0, 1, 3, 2" in found
    assert "gates" in found


def test_right_inside_and_wrong_on_the_border_is_the_padding() -> None:
    e = rng.normal(size=(2, 3, 6, 7))
    g = e.copy()
    g[..., 0, :] += 1.0
    g[..., :, -1] -= 0.5
    assert "border" in diagnose_pair(g, e) and "padding" in diagnose_pair(g, e)
    one = e.copy()
    one[0, 0, 0, 3] += 1.0  # a single wrong entry that happens to lie on the border
    assert diagnose_pair(one, e) is None
    table = rng.normal(size=(5, 3))
    wrong = table.copy()
    wrong[0, 1] += 1.0  # a Q-table is no image
    assert diagnose_pair(wrong, table) is None


def test_non_finite_values_from_large_inputs_are_overflow() -> None:
    z = rng.normal(size=(3, 4)) * 1e4
    e = rng.random(size=(3, 4))
    g = e.copy()
    g[1, 2] = np.nan
    found = diagnose_pair(g, e, call("softmax", z))
    assert "inf or nan" in found and "overflow" in found and "stable" in found
    assert diagnose_pair(g, e, call("softmax", z / 1e4)) is None  # small inputs: no such claim
    assert "overflow" in diagnose_pair(float("inf"), 3.2, call("f", z))


def test_float32_precision_is_named() -> None:
    e = rng.normal(size=(4, 5))
    g = e.astype(np.float32).astype(np.float64)
    assert "float32" in diagnose_pair(g, e)
    assert diagnose_pair(e + 1e-7, e) is None  # small, but not float32 numbers


def test_right_on_the_first_step_only_is_the_state_not_carried() -> None:
    e = rng.normal(size=(4, 2, 3))
    g = e.copy()
    g[1:] *= 0.7
    g[1:] += 0.1
    found = diagnose_pair(g, e, time_axis=0)
    assert "first step is right and step 1 is wrong" in found and "carried" in found
    assert diagnose_pair(g, e) is None or "carried" not in diagnose_pair(g, e)


@pytest.mark.parametrize(
    "got",
    [np.zeros((3, 4)), np.full((3, 4), 2.5), np.zeros((2, 2, 0, 0)), np.full((3,), np.nan)],
    ids=["zeros", "constant", "empty", "all-nan"],
)
def test_no_diagnosis_from_a_degenerate_output(got: np.ndarray) -> None:
    assert degenerate(got)
    assert diagnose_pair(got, rng.normal(size=got.shape)) is None


def test_no_diagnosis_of_an_unrecognisable_difference() -> None:
    e = rng.normal(size=(3, 4))
    assert diagnose_pair(rng.normal(size=(3, 4)), e) is None
    assert not degenerate(np.array([1.0, 2.0])) and not degenerate(3.0)
    assert degenerate(()) and degenerate((np.zeros(3), np.ones(2)))
    assert not degenerate((np.zeros(3), np.arange(2.0)))


def test_comparisons_hand_their_values_to_the_diagnosis() -> None:
    e = rng.normal(size=(3, 4))
    with pytest.raises(Mismatch) as info:
        expect_array(e.T, e, name="dW")
    assert "transpose" in diagnose(info.value.wrong)
    with pytest.raises(Mismatch) as info:
        expect_scalar(-1.5, 1.5)
    assert "sign" in diagnose(info.value.wrong)


def test_expect_arrays_names_every_wrong_part_and_diagnoses_any() -> None:
    dx, dW, db = rng.normal(size=(3, 4)), rng.normal(size=(8, 3)), rng.normal(size=8)
    perm = np.r_[0:2, 2:4, 6:8, 4:6]
    with pytest.raises(Mismatch) as info:
        expect_arrays(
            [("dx", dx + rng.normal(size=dx.shape), dx), ("dW", dW[perm], dW), ("db", db[perm], db)]
        )
    assert (
        info.value.message.startswith("dx is wrong") and "also wrong: dW, db" in info.value.message
    )
    assert diagnose(info.value.wrong).startswith("dW: your result is right up to the order")


def test_a_registered_mistake_comes_before_a_diagnosis(tmp_path) -> None:
    @mistake("f", "you doubled it")
    def doubled(x):
        return 2 * x

    registry = Registry({"f": [doubled.__dlgrade_mistake__]}, None)
    x = rng.normal(size=5)
    c = Call("f", (x,), {}, result=2 * x, returned=True)
    exc = Mismatch("wrong", wrong=[Wrong("the result", 2 * x, x)])
    assert explain(exc, [c], registry) == ("you doubled it", "mistake")
    hint, source = explain(exc, [c], None)
    assert source == "diagnosis" and "times 2" in hint


def test_a_registered_mistake_is_not_named_from_a_degenerate_output() -> None:
    @mistake("f", "the padding is one-sided")
    def empty(x):
        return np.zeros((2, 2, 0, 0))

    registry = Registry({"f": [empty.__dlgrade_mistake__]}, None)
    c = Call("f", (np.ones(3),), {}, result=np.zeros((2, 2, 0, 0)), returned=True)
    assert registry.hint_for([c]) is None


def test_a_composite_function_is_sent_to_its_failing_component() -> None:
    cell = TestResult("test_cell", 3, "failed", "h_next is wrong", function="lstm_cell_forward")
    seq = TestResult(
        "test_seq",
        3,
        "failed",
        "hs is wrong",
        function="lstm_forward",
        hint="x",
        hint_source="diagnosis",
    )
    known = TestResult(
        "test_seq2",
        1,
        "failed",
        "hs",
        function="lstm_forward",
        hint="resets c",
        hint_source="mistake",
    )
    other = TestResult("test_gru", 3, "failed", "wrong", function="gru_cell_forward")
    components_first([cell, seq, known, other], {"lstm_forward": ("lstm_cell_forward",)})
    assert seq.hint == (
        "lstm_cell_forward fails its own tests, and lstm_forward builds on it: make "
        "lstm_cell_forward right, then come back to lstm_forward"
    )
    assert known.hint == seq.hint  # a known mistake of lstm_forward may be the cell's doing
    assert other.hint is None and cell.hint is None
