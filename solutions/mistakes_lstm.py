"""Known mistakes in `lstm`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
"""

import numpy as np

from grader.testing import mistake


@mistake(
    "lstm_cell_forward",
    "gates in order i, f, o, g; torch stacks i, f, g, o (the cell candidate g is the third block)",
)
def lstm_gates_i_f_o_g(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f) * c + s(a_i) * np.tanh(a_g)
    return s(a_o) * np.tanh(c_next), c_next


@mistake("lstm_cell_forward", "torch's cell has two biases: add both b_ih and b_hh")
def lstm_one_bias(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f) * c + s(a_i) * np.tanh(a_g)
    return s(a_o) * np.tanh(c_next), c_next


@mistake("lstm_cell_forward", "h_next = o * tanh(c_next): the tanh of the cell state is missing")
def lstm_h_without_tanh(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f) * c + s(a_i) * np.tanh(a_g)
    return s(a_o) * c_next, c_next


@mistake("lstm_cell_forward", "the cell candidate g uses tanh, not sigmoid (it can be negative)")
def lstm_g_with_sigmoid(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f) * c + s(a_i) * s(a_g)
    return s(a_o) * np.tanh(c_next), c_next


@mistake(
    "lstm_forward",
    "carry c from step to step as well as h: each step starts from the previous step's c",
)
def lstm_forward_resets_c(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    h, hs = h0, []
    for x_t in x:
        a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        c = s(a_f) * c0 + s(a_i) * np.tanh(a_g)
        h = s(a_o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs), h, c


@mistake(
    "lstm_cell_backward",
    "c_next also reaches the loss through h_next = o * tanh(c_next): "
    "add dh_next * o * (1 - tanh(c_next)**2) to dc_next",
)
def lstm_backward_misses_the_h_path(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = s(a_i), s(a_f), np.tanh(a_g), s(a_o)
    t = np.tanh(f * c + i * g)
    dc_total = dc_next
    do = dh_next * t
    da = np.concatenate(
        [dc_total * g * i * (1 - i), dc_total * c * f * (1 - f), dc_total * i * (1 - g**2)]
        + [do * o * (1 - o)],
        axis=1,
    )
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_total * f, da.T @ x, da.T @ h, db, db.copy()


@mistake(
    "lstm_cell_backward",
    "the gradient reaching c goes through the forget gate: dc = dc_total * f",
)
def lstm_backward_dc_without_forget_gate(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = s(a_i), s(a_f), np.tanh(a_g), s(a_o)
    t = np.tanh(f * c + i * g)
    dc_total = dc_next + dh_next * o * (1 - t**2)
    do = dh_next * t
    da = np.concatenate(
        [dc_total * g * i * (1 - i), dc_total * c * f * (1 - f), dc_total * i * (1 - g**2)]
        + [do * o * (1 - o)],
        axis=1,
    )
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_total, da.T @ x, da.T @ h, db, db.copy()


@mistake(
    "gru_cell_forward",
    "torch applies the reset gate after the matrix product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
)
def gru_reset_before_the_product(x, h, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    r = s(gi[:, :H] + gh[:, :H])
    z = s(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
    return (1 - z) * n + z * h


@mistake(
    "gru_cell_forward",
    "the update gate keeps the old state: h_next = (1 - z) * n + z * h, not z * n + (1 - z) * h",
)
def gru_update_gate_swapped(x, h, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    r = s(gi[:, :H] + gh[:, :H])
    z = s(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    return z * n + (1 - z) * h


@mistake("gru_cell_forward", "GRU gates are stacked reset, update, new (r first, then z)")
def gru_gates_z_r_n(x, h, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    z = s(gi[:, :H] + gh[:, :H])
    r = s(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h
