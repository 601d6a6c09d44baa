# Exercise `lstm`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check lstm
# (generated from solutions/lstm.py by `dlgrade generate`)
"""Recurrent cells by hand: the LSTM (forward over a sequence, and one backward step) and the GRU.

The weights are laid out as in ``torch.nn.LSTMCell``: one matrix holds the four
gates stacked on top of each other,

    W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,),   gate order i, f, g, o

so that ``a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh`` is ``(N, 4H)`` and its four
column blocks of width H are the pre-activations of the input gate i, the forget
gate f, the cell candidate g and the output gate o:

    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)

The GRU (``torch.nn.GRUCell``) stacks three gates, reset r, update z, new n:

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
    z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
    h_next = (1 - z) * n + z * h

Shapes: ``x (N, D)`` for one step, ``(T, N, D)`` for a sequence; ``h, c (N, H)``.
Nothing here modifies its inputs.
"""

import numpy as np


def _sigmoid(a):
    """The logistic function, computing exp of non-positive numbers only: no overflow."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, as ``torch.nn.LSTMCell`` computes it.

    Args:
        x: float64 array ``(N, D)``, the input at this step.
        h, c: float64 arrays ``(N, H)``, the previous hidden and cell states.
        W_ih: ``(4H, D)``; W_hh: ``(4H, H)``; b_ih, b_hh: ``(4H,)``; gates stacked i, f, g, o.

    Returns:
        ``(h_next, c_next)``, each ``(N, H)``.

    Example:
        >>> H, D = 1, 1  # all weights 0: every gate is sigmoid(0) = 0.5 and g = tanh(0) = 0
        >>> h, c = lstm_cell_forward(np.ones((1, D)), np.zeros((1, H)), np.ones((1, H)),
        ...                          np.zeros((4 * H, D)), np.zeros((4 * H, H)), np.zeros(4 * H), np.zeros(4 * H))
        >>> c, h.round(4)
        (array([[0.5]]), array([[0.2311]]))
    """
    return np.ones_like(h), np.ones_like(c)


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """An LSTM over a whole sequence, as a one-layer ``torch.nn.LSTM``: the cell applied at
    each step t = 0 .. T-1, carrying h and c from one step to the next.

    Args:
        x: float64 array ``(T, N, D)``, time first.
        h0, c0: float64 arrays ``(N, H)``, the initial states.
        W_ih, W_hh, b_ih, b_hh: as in ``lstm_cell_forward``.

    Returns:
        ``(hs, h_T, c_T)``: ``hs (T, N, H)`` holds the hidden state after each step;
        ``h_T`` and ``c_T`` ``(N, H)`` are the states after the last step.
    """
    return np.ones((x.shape[0],) + h0.shape), np.ones_like(h0), np.ones_like(c0)


def lstm_cell_backward(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    """Gradients of one LSTM step taken at inputs ``x, h, c``, given ``dh_next = dL/dh_next``
    and ``dc_next = dL/dc_next`` (the cell state also reaches the loss directly, through the
    following steps).

    By the chain rule, with ``t = tanh(c_next)``:

        dc_total = dc_next + dh_next * o * (1 - t**2)     c_next feeds h_next too
        do = dh_next * t;   di = dc_total * g;   dg = dc_total * i;   df = dc_total * c
        dc = dc_total * f
        da = [di * i(1-i), df * f(1-f), dg * (1-g**2), do * o(1-o)]   stacked as (N, 4H)
        dx = da @ W_ih;  dh = da @ W_hh;  dW_ih = da.T @ x;  dW_hh = da.T @ h
        db_ih = db_hh = da summed over the batch

    Returns:
        ``(dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh)``, each shaped like its variable.
    """
    return (np.ones_like(x), np.ones_like(h), np.ones_like(c), np.ones_like(W_ih),
            np.ones_like(W_hh), np.ones_like(b_ih), np.ones_like(b_hh))


def gru_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, as ``torch.nn.GRUCell`` computes it.

    Args:
        x: float64 array ``(N, D)``; h: float64 array ``(N, H)``.
        W_ih: ``(3H, D)``; W_hh: ``(3H, H)``; b_ih, b_hh: ``(3H,)``; gates stacked r, z, n.

    Returns:
        ``h_next (N, H)``. Note the reset gate multiplies ``h W_hn^T + b_hn``, after the
        matrix product, as torch does.
    """
    return np.ones_like(h)
