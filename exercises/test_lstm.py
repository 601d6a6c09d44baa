# Public tests of `lstm`: run them with  dlgrade check lstm
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_lstm.py by `dlgrade generate`: do not edit.
"""Graders of `lstm`: LSTM and GRU cells against torch.nn.LSTMCell, nn.LSTM and nn.GRUCell.

`student` is your module, `rng` a random generator seeded for you. The
references are torch's own modules loaded with your weights (the layouts are
the same), and the backward pass is autograd through nn.LSTMCell.

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  lstm_cell_forward: gates i, f, g, o stacked in W_ih, W_hh; both biases; c_next = f c + i g;
        h_next = o tanh(c_next) ....... test_lstm_cell_forward_matches_torch
        D != H, H = 1 ................. test_input_and_hidden_sizes_differ*
        saturated gates give no nan .... test_saturated_gates
  lstm_forward: the cell at each step, h and c carried; hs (T, N, H), h_T, c_T .
                                             test_lstm_forward_matches_torch_lstm
        T = 1, N = 1 .................. test_sequence_of_length_one_and_batch_of_one*
  lstm_cell_backward: the seven gradients . test_lstm_cell_backward_matches_autograd
        c reaches the loss through h_next and through c_next . test_backward_from_each_path_alone*
        D != H ........................ test_input_and_hidden_sizes_differ*
  gru_cell_forward: gates r, z, n; r applied after the product; (1 - z) n + z h .
                                             test_gru_cell_forward_matches_torch
        step after step ............... test_gru_cell_unrolled_matches_torch*
  inputs left unmodified .................. test_inputs_left_unmodified*
"""

import numpy as np
import pytest

from grader.testing import (
    expect_array,
    expect_arrays,
    expect_sequence,
    expect_unmodified,
    nn,
    oracle,
    torch,
)


# -- the PyTorch references -------------------------------------------------------------------
def _load(module, W_ih, W_hh, b_ih, b_hh, suffix=""):
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(W_ih)
        getattr(module, "weight_hh" + suffix).copy_(W_hh)
        getattr(module, "bias_ih" + suffix).copy_(b_ih)
        getattr(module, "bias_hh" + suffix).copy_(b_hh)
    return module


def _leaf(t):
    return t.clone().requires_grad_(True)


@oracle
def lstm_cell_ref(x, h, c, W_ih, W_hh, b_ih, b_hh, dh_next, dc_next):
    D, H = x.shape[1], h.shape[1]
    cell = nn.LSTMCell(D, H, dtype=torch.float64, device=x.device)
    _load(cell, W_ih, W_hh, b_ih, b_hh)
    x, h, c = _leaf(x), _leaf(h), _leaf(c)
    h_next, c_next = cell(x, (h, c))
    ((h_next * dh_next).sum() + (c_next * dc_next).sum()).backward()
    grads = (x.grad, h.grad, c.grad, cell.weight_ih.grad, cell.weight_hh.grad)
    return (h_next, c_next), grads + (cell.bias_ih.grad, cell.bias_hh.grad)


@oracle
def lstm_ref(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    D, H = x.shape[2], h0.shape[1]
    lstm = nn.LSTM(D, H, dtype=torch.float64, device=x.device)
    _load(lstm, W_ih, W_hh, b_ih, b_hh, suffix="_l0")
    with torch.no_grad():
        hs, (h_T, c_T) = lstm(x, (h0[None], c0[None]))
    return hs, h_T[0], c_T[0]


@oracle
def gru_cell_ref(x, h, W_ih, W_hh, b_ih, b_hh):
    cell = nn.GRUCell(x.shape[1], h.shape[1], dtype=torch.float64, device=x.device)
    _load(cell, W_ih, W_hh, b_ih, b_hh)
    with torch.no_grad():
        return cell(x, h)


# lstm_forward is lstm_cell_forward applied at each step: its failure is sent there first
BUILDS_ON = {"lstm_forward": ("lstm_cell_forward",)}


# -- inputs -------------------------------------------------------------------------------------------
def weights(rng, gates, D, H, scale=1.0):
    s = scale / np.sqrt(H)
    return (
        rng.normal(scale=s, size=(gates * H, D)),
        rng.normal(scale=s, size=(gates * H, H)),
        rng.normal(scale=s, size=gates * H),
        rng.normal(scale=s, size=gates * H),
    )


def step_inputs(rng, N, D, H, gates=4, scale=1.0):
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    return x, h, c, weights(rng, gates, D, H, scale)


def dims(rng):
    N, D, H = (int(v) for v in rng.integers(2, 6, size=3))
    return N, D, H


def check_cell_forward(student, rng, N, D, H, scale=1.0):
    x, h, c, W = step_inputs(rng, N, D, H, scale=scale)
    (h_ref, c_ref), _ = lstm_cell_ref(x, h, c, *W, np.zeros((N, H)), np.zeros((N, H)))
    h_next, c_next = expect_sequence(
        student.lstm_cell_forward(x, h, c, *W), 2, what="(h_next, c_next)"
    )
    expect_arrays([("h_next", h_next, h_ref), ("c_next", c_next, c_ref)])


NAMES = ("dx", "dh", "dc", "dW_ih", "dW_hh", "db_ih", "db_hh")


def check_cell_backward(student, rng, N, D, H, dh_next=None, dc_next=None):
    x, h, c, W = step_inputs(rng, N, D, H)
    dh_next = rng.normal(size=(N, H)) if dh_next is None else dh_next
    dc_next = rng.normal(size=(N, H)) if dc_next is None else dc_next
    _, grads_ref = lstm_cell_ref(x, h, c, *W, dh_next, dc_next)
    grads = expect_sequence(
        student.lstm_cell_backward(dh_next, dc_next, x, h, c, *W),
        7,
        what="(dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh)",
    )
    expect_arrays([(name, got, expected) for got, expected, name in zip(grads, grads_ref, NAMES)])


def check_sequence(student, rng, T, N, D, H):
    x = rng.normal(size=(T, N, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W = weights(rng, 4, D, H)
    hs_ref, h_ref, c_ref = lstm_ref(x, h0, c0, *W)
    hs, h_T, c_T = expect_sequence(student.lstm_forward(x, h0, c0, *W), 3, what="(hs, h_T, c_T)")
    expect_array(hs, hs_ref, name="hs", time_axis=0)
    expect_arrays([("h_T", h_T, h_ref), ("c_T", c_T, c_ref)])


# -- public tests ------------------------------------------------------------------------------------------
@pytest.mark.points(3)
def test_lstm_cell_forward_matches_torch(student, rng):
    """lstm_cell_forward gives nn.LSTMCell's (h_next, c_next) for the same weights."""
    check_cell_forward(student, rng, *dims(rng))


@pytest.mark.points(3)
def test_lstm_forward_matches_torch_lstm(student, rng):
    """lstm_forward over a sequence gives nn.LSTM's outputs and final states."""
    check_sequence(student, rng, int(rng.integers(3, 7)), *dims(rng))


@pytest.mark.points(5)
def test_lstm_cell_backward_matches_autograd(student, rng):
    """lstm_cell_backward gives the seven gradients autograd computes through nn.LSTMCell."""
    check_cell_backward(student, rng, *dims(rng))


@pytest.mark.points(3)
def test_gru_cell_forward_matches_torch(student, rng):
    """gru_cell_forward gives nn.GRUCell's h_next for the same weights."""
    N, D, H = dims(rng)
    x, h, _, W = step_inputs(rng, N, D, H, gates=3)
    expect_array(student.gru_cell_forward(x, h, *W), gru_cell_ref(x, h, *W), name="h_next")


@pytest.mark.points(1)
def test_saturated_gates(student, rng):
    """Weights large enough to saturate every gate (pre-activations in the thousands) give
    torch's values, not nan (exp(a) / (1 + exp(a)) is inf / inf = nan there)."""
    check_cell_forward(student, rng, 3, 4, 3, scale=1000.0)
