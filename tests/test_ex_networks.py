"""backprop, conv, lstm: other correct designs than the reference score full marks too, and
typical wrong ones lose the right tests with the hint that names them."""

from __future__ import annotations

from pathlib import Path

import pytest
from edit_source import write_variant

from grader.course import Course
from grader.engine.runner import check


def failures(result) -> dict[str, str]:
    return {t.name: t.message for t in result.tests if t.status != "passed"}


def test_class_based_mlp_cache_scores_full_marks(course: Course, tmp_path: Path) -> None:
    """The cache is the student's own design: an object with methods works as well as a list."""
    path = write_variant(
        course.solution("backprop"),
        tmp_path / "backprop.py",
        mlp_forward="""
        class _Net:
            def __init__(self, params, activation):
                self.params, self.activation, self.inputs, self.pre = params, activation, [], []

            def forward(self, X):
                h = X
                for i, (W, b) in enumerate(self.params):
                    self.inputs.append(h)
                    h = h @ W + b
                    if i < len(self.params) - 1:
                        self.pre.append(h)
                        h = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
                             "tanh": np.tanh}[self.activation](h)
                return h

        def mlp_forward(X, params, activation="relu"):
            net = _Net(params, activation)
            return net.forward(X), net
        """,
        mlp_backward="""
        def mlp_backward(dscores, cache):
            grads, d = [], dscores
            for i in reversed(range(len(cache.params))):
                W, b = cache.params[i]
                grads.append((cache.inputs[i].T @ d, d.sum(axis=0)))
                d = d @ W.T
                if i > 0:
                    z = cache.pre[i - 1]
                    d = {"relu": lambda: d * (z > 0), "sigmoid": lambda: d * (s := 1 / (1 + np.exp(-z))) * (1 - s),
                         "tanh": lambda: d * (1 - np.tanh(z) ** 2)}[cache.activation]()
            return grads[::-1]
        """,
    )
    result = check(course, "backprop", path=path, hidden=True, seed=5)
    assert result.full_marks, failures(result)


def test_im2col_convolution_scores_full_marks(course: Course, tmp_path: Path) -> None:
    """A vectorised convolution (im2col with stride tricks, one matrix product) is just as right."""
    path = write_variant(
        course.solution("conv"),
        tmp_path / "conv.py",
        conv2d_forward="""
        def conv2d_forward(x, w, b, stride=1, padding=0):
            F, C, KH, KW = w.shape
            xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            win = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))
            win = win[:, :, ::stride, ::stride]  # (N, C, H', W', KH, KW)
            return np.einsum("nchwuv,fcuv->nfhw", win, w) + b[None, :, None, None]
        """,
        conv2d_backward="""
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            F, C, KH, KW = w.shape
            N, _, H, W = x.shape
            xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            win = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            dw = np.einsum("nfhw,nchwuv->fcuv", dout, win)
            cols = np.einsum("nfhw,fcuv->nchwuv", dout, w)
            dxp = np.zeros_like(xp)
            Ho, Wo = dout.shape[2:]
            for u in range(KH):
                for v in range(KW):
                    dxp[:, :, u : u + stride * Ho : stride, v : v + stride * Wo : stride] += cols[..., u, v]
            return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))
        """,
    )
    result = check(course, "conv", path=path, hidden=True, seed=5)
    assert result.full_marks, failures(result)


def test_split_gate_lstm_scores_full_marks(course: Course, tmp_path: Path) -> None:
    """Slicing each gate's weights out of W_ih/W_hh and applying them one by one is as right as
    one stacked product."""
    path = write_variant(
        course.solution("lstm"),
        tmp_path / "lstm.py",
        lstm_cell_forward="""
        def lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
            H = h.shape[1]
            gate = lambda k: x @ W_ih[k * H:(k + 1) * H].T + h @ W_hh[k * H:(k + 1) * H].T + b_ih[k * H:(k + 1) * H] + b_hh[k * H:(k + 1) * H]
            i, f, g, o = _sigmoid(gate(0)), _sigmoid(gate(1)), np.tanh(gate(2)), _sigmoid(gate(3))
            c_next = f * c + i * g
            return o * np.tanh(c_next), c_next
        """,
    )
    result = check(course, "lstm", path=path, hidden=True, seed=5)
    assert result.full_marks, failures(result)


@pytest.mark.parametrize(
    ("exercise", "function", "body", "lost", "hint"),
    [
        (
            "conv",
            "conv2d_forward",
            """
            def conv2d_forward(x, w, b, stride=1, padding=0):
                import numpy as np
                F, C, KH, KW = w.shape
                xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                win = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
                return np.einsum("nchwuv,fcuv->nfhw", win, w[:, :, ::-1, ::-1]) + b[None, :, None, None]
            """,
            "test_conv2d_forward_matches_torch",
            "cross-correlation",
        ),
        (
            "lstm",
            "lstm_cell_forward",
            """
            def lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
                a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
                a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)
                c_next = _sigmoid(a_f) * c + _sigmoid(a_i) * np.tanh(a_g)
                return _sigmoid(a_o) * np.tanh(c_next), c_next
            """,
            "test_lstm_cell_forward_matches_torch",
            "torch stacks i, f, g, o",
        ),
    ],
    ids=["flipped-kernel-einsum", "gate-order-ifog"],
)
def test_a_differently_written_mistake_is_still_named(
    course: Course, tmp_path: Path, exercise, function, body, lost, hint
) -> None:
    """The hint comes from the student's outputs, not their code: a vectorised flipped kernel is
    recognised as the loop-based mistake of the registry."""
    path = write_variant(course.solution(exercise), tmp_path / f"{exercise}.py", **{function: body})
    result = check(course, exercise, path=path, seed=5)
    failed = {t.name: t for t in result.tests if t.status != "passed"}
    assert lost in failed
    assert failed[lost].hint and hint in failed[lost].hint
