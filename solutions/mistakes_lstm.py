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


@mistake(
    "lstm_cell_forward",
    "the cell uses b_ih and b_hh as given: no +1 on the forget gate (that is an initialisation "
    "of the bias, not part of the cell)",
)
def lstm_forget_gate_bias_plus_one(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f + 1.0) * c + s(a_i) * np.tanh(a_g)
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


@mistake(
    "gru_cell_forward",
    "GRU gate order: the gates are stacked reset, update, new (r, z, n): r first, then z",
)
def gru_gates_z_r_n(x, h, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    z = s(gi[:, :H] + gh[:, :H])
    r = s(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h


@mistake(
    "lstm_cell_forward",
    "h_next = o * tanh(c_next), with the new cell state c_next, not the previous c",
)
def lstm_h_from_the_previous_c(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    c_next = s(a_f) * c + s(a_i) * np.tanh(a_g)
    return s(a_o) * np.tanh(c), c_next


@mistake(
    "lstm_forward",
    "hs[t] is the hidden state after step t: yours stores the one before the step (off by one: "
    "hs[0] is h0)",
)
def lstm_forward_stores_h_before_the_step(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    h, c, hs = h0, c0, []
    for x_t in x:
        hs.append(h)
        a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        c = s(a_f) * c + s(a_i) * np.tanh(a_g)
        h = s(a_o) * np.tanh(c)
    return np.stack(hs), h, c


@mistake("lstm_forward", "hs holds the hidden states h of every step, not the cell states c")
def lstm_forward_stores_c(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    h, c, hs = h0, c0, []
    for x_t in x:
        a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        c = s(a_f) * c + s(a_i) * np.tanh(a_g)
        h = s(a_o) * np.tanh(c)
        hs.append(c)
    return np.stack(hs), h, c


@mistake(
    "lstm_forward",
    "lstm_forward changes h0 and c0 in place (h[...] = ...): rebind the names, h, c = "
    "lstm_cell_forward(...), instead of writing into the caller's arrays",
    in_place=True,
)
def lstm_forward_writes_into_h0_and_c0(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    h, c, hs = h0, c0, []
    for x_t in x:
        a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        c_new = s(a_f) * c + s(a_i) * np.tanh(a_g)
        h[...], c[...] = s(a_o) * np.tanh(c_new), c_new
        hs.append(h.copy())
    return np.stack(hs), h, c


@mistake(
    "lstm_cell_backward",
    "t = tanh(c_next), the new cell state: h_next = o * tanh(c_next), not tanh(c)",
)
def lstm_backward_tanh_of_the_previous_c(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = s(a_i), s(a_f), np.tanh(a_g), s(a_o)
    t = np.tanh(c)
    dc_total = dc_next + dh_next * o * (1 - t**2)
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
    "the output gate multiplies tanh(c_next): do = dh_next * tanh(c_next), not dh_next * c_next",
)
def lstm_backward_do_without_the_tanh(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = s(a_i), s(a_f), np.tanh(a_g), s(a_o)
    c_next = f * c + i * g
    t = np.tanh(c_next)
    dc_total = dc_next + dh_next * o * (1 - t**2)
    do = dh_next * c_next
    da = np.concatenate(
        [dc_total * g * i * (1 - i), dc_total * c * f * (1 - f), dc_total * i * (1 - g**2)]
        + [do * o * (1 - o)],
        axis=1,
    )
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_total * f, da.T @ x, da.T @ h, db, db.copy()


@mistake(
    "lstm_cell_backward",
    "a gate's derivative is i * (1 - i) with the gate value i itself (already a sigmoid): "
    "sigmoid(i) * (1 - sigmoid(i)) applies the sigmoid twice",
)
def lstm_backward_sigmoid_of_the_gates(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = s(a_i), s(a_f), np.tanh(a_g), s(a_o)
    t = np.tanh(f * c + i * g)
    dc_total = dc_next + dh_next * o * (1 - t**2)
    do = dh_next * t
    d = lambda v: s(v) * (1 - s(v))  # noqa: E731
    da = np.concatenate(
        [dc_total * g * d(i), dc_total * c * d(f), dc_total * i * (1 - g**2), do * d(o)], axis=1
    )
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_total * f, da.T @ x, da.T @ h, db, db.copy()


@mistake(
    "lstm_cell_backward",
    "dh = da @ W_hh only: h reaches the loss only through the gates; dh_next is the gradient of "
    "h_next, not of h, so it is not added to dh",
)
def lstm_backward_adds_dh_next_to_dh(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
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
    return da @ W_ih, da @ W_hh + dh_next, dc_total * f, da.T @ x, da.T @ h, db, db.copy()


@mistake(
    "gru_cell_forward",
    "b_hn is inside the reset: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); yours adds b_hn "
    "outside r * (...)",
)
def gru_b_hn_outside_the_reset(x, h, W_ih, W_hh, b_ih, b_hh):
    s = lambda v: 0.5 * (1 + np.tanh(0.5 * v))  # noqa: E731
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    r = s(gi[:, :H] + gh[:, :H])
    z = s(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * (h @ W_hh[2 * H :].T) + b_hh[2 * H :])
    return (1 - z) * n + z * h
