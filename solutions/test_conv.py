"""Graders of `conv`: convolution and max-pooling against torch.nn.functional and its autograd.

`student` is your module, `rng` a random generator seeded for you. The
references are F.conv2d and F.max_pool2d on the same numbers, and their
gradients come from autograd, so any correct implementation passes (loops,
im2col, stride tricks).

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  conv_output_size: (n + 2p - d(k - 1) - 1) // s + 1, an int . test_conv_output_size_matches_torch
  conv2d_forward: cross-correlation (w not flipped), bias per channel . test_conv2d_forward_matches_torch
        stride, padding on every side .... test_conv2d_forward_with_stride_and_padding,
                                             test_stride_above_one_with_padding_backward*
        height and width apart; channels; a batch of one . test_non_square_inputs_and_kernels*,
                                             test_one_channel_and_many*
        a kernel as large as the padded input . test_kernel_as_large_as_the_padded_input*
  conv2d_backward: dx, dw, db; overlapping windows add up . test_conv2d_backward_matches_autograd
        stride and padding (rows in no window) . test_stride_above_one_with_padding_backward*
  maxpool2d_forward: the max of each window, windows `stride` apart . test_maxpool2d_forward_matches_torch,
                                             test_pooling_with_stride_other_than_kernel*
  maxpool2d_backward: the gradient to the max only . test_maxpool2d_backward_matches_autograd
        overlapping windows add up; gaps get 0 . test_pooling_with_stride_other_than_kernel*
        ties: the first maximum in row-major order takes it . test_pooling_ties_go_to_the_first_maximum*
  inputs left unmodified .................. test_inputs_left_unmodified*
"""

import numpy as np
import pytest

from grader.testing import (
    F,
    about,
    expect_array,
    expect_arrays,
    expect_scalar,
    expect_sequence,
    expect_unmodified,
    oracle,
    torch,
)


# -- the PyTorch references -------------------------------------------------------------------
def _leaf(t):
    return t.clone().requires_grad_(True)


@oracle
def output_size_ref(n, kernel, stride, padding, dilation):
    probe = torch.zeros(1, 1, n, 1)
    kernel_probe = torch.zeros(1, 1, kernel, 1)
    out = F.conv2d(probe, kernel_probe, stride=(stride, 1), padding=(padding, 0), dilation=dilation)
    return out.shape[2]


@oracle
def conv_ref(x, w, b, stride, padding, dout=None):
    x, w, b = _leaf(x), _leaf(w), _leaf(b)
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    if dout is None:
        return out
    out.backward(dout)
    return out, x.grad, w.grad, b.grad


@oracle
def pool_ref(x, kernel, stride, dout=None):
    x = _leaf(x)
    out = F.max_pool2d(x, kernel, stride)
    if dout is None:
        return out
    out.backward(dout)
    return out, x.grad


# the forward passes' output sizes are conv_output_size's: its failure is named first
BUILDS_ON = {"conv2d_forward": ("conv_output_size",), "maxpool2d_forward": ("conv_output_size",)}


# -- inputs -------------------------------------------------------------------------------------------
def conv_inputs(rng, N, C, H, W, F_, KH, KW):
    x = rng.normal(size=(N, C, H, W))
    w = rng.normal(scale=1 / np.sqrt(C * KH * KW), size=(F_, C, KH, KW))
    b = rng.normal(size=F_)
    return x, w, b


def out_shape(N, F_, H, W, KH, KW, stride, padding):
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    return (N, F_, H_out, W_out)


def check_conv(student, rng, N, C, H, W, F_, KH, KW, stride, padding, forward=True, backward=True):
    """Forward against F.conv2d, then (dx, dw, db) against autograd."""
    x, w, b = conv_inputs(rng, N, C, H, W, F_, KH, KW)
    dout = rng.normal(size=out_shape(N, F_, H, W, KH, KW, stride, padding))
    out_ref, dx_ref, dw_ref, db_ref = conv_ref(x, w, b, stride, padding, dout)
    if forward:
        expect_array(student.conv2d_forward(x, w, b, stride, padding), out_ref, name="the output")
    if backward:
        dx, dw, db = expect_sequence(
            student.conv2d_backward(dout, x, w, b, stride, padding), 3, what="(dx, dw, db)"
        )
        expect_arrays([("dx", dx, dx_ref), ("dw", dw, dw_ref), ("db", db, db_ref)])


def check_pool(student, rng, N, C, H, W, kernel, stride, forward=True, ties=False):
    """Forward against F.max_pool2d, then dx against autograd; with ties, x holds small
    integers, so that most windows have their maximum more than once."""
    x = (
        rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64)
        if ties
        else rng.normal(size=(N, C, H, W))
    )
    H_out, W_out = (H - kernel) // stride + 1, (W - kernel) // stride + 1
    dout = rng.normal(size=(N, C, H_out, W_out))
    out_ref, dx_ref = pool_ref(x, kernel, stride, dout)
    if forward:
        expect_array(student.maxpool2d_forward(x, kernel, stride), out_ref, name="the output")
    expect_array(student.maxpool2d_backward(dout, x, kernel, stride), dx_ref, name="dx")


def sizes(rng, n, low=2, high=6):
    return [int(v) for v in rng.integers(low, high, size=n)]


# -- public tests ------------------------------------------------------------------------------------------
@pytest.mark.points(2)
def test_conv_output_size_matches_torch(student, rng):
    """conv_output_size gives the length F.conv2d produces, for strides, paddings and dilations."""
    cases = [(32, 5, 1, 0, 1), (32, 3, 2, 1, 1), (7, 3, 3, 0, 1), (10, 3, 1, 2, 2)]
    cases += [
        (int(rng.integers(8, 40)), int(rng.integers(1, 6)), int(s), int(p), 1)
        for s, p in rng.integers(1, 4, size=(4, 2))
    ]
    calls = [student.call("conv_output_size", *case) for case in cases]  # all, then check
    for case, call in zip(cases, calls):
        with about(call):
            expect_scalar(call.result, output_size_ref(*case), integer=True)


@pytest.mark.points(3)
def test_conv2d_forward_matches_torch(student, rng):
    """conv2d_forward with stride 1 and no padding gives F.conv2d's output (cross-correlation)."""
    N, C, F_, K = sizes(rng, 4, 2, 4)
    H, W = sizes(rng, 2, K + 1, K + 5)
    check_conv(student, rng, N, C, H, W, F_, K, K, stride=1, padding=0, backward=False)


@pytest.mark.points(2)
def test_conv2d_forward_with_stride_and_padding(student, rng):
    """conv2d_forward with stride 2 and padding 1 on every side gives F.conv2d's output."""
    N, C, F_ = sizes(rng, 3, 1, 4)
    check_conv(student, rng, N, C, 7, 7, F_, 3, 3, stride=2, padding=1, backward=False)


@pytest.mark.points(3)
def test_conv2d_backward_matches_autograd(student, rng):
    """conv2d_backward gives dx, dw and db as autograd does (stride 1, padding 1: windows overlap)."""
    N, C, F_ = sizes(rng, 3, 1, 4)
    H, W = sizes(rng, 2, 4, 7)
    check_conv(student, rng, N, C, H, W, F_, 3, 3, stride=1, padding=1, forward=False)


@pytest.mark.points(2)
def test_maxpool2d_forward_matches_torch(student, rng):
    """maxpool2d_forward with 2x2 windows, stride 2, gives F.max_pool2d's output."""
    N, C = sizes(rng, 2, 1, 4)
    H, W = (2 * v for v in sizes(rng, 2, 2, 5))
    x = rng.normal(size=(N, C, H, W))
    expect_array(student.maxpool2d_forward(x, 2, 2), pool_ref(x, 2, 2))


@pytest.mark.points(3)
def test_maxpool2d_backward_matches_autograd(student, rng):
    """maxpool2d_backward sends each window's gradient to its maximum, as autograd does."""
    N, C = sizes(rng, 2, 1, 4)
    H, W = (2 * v for v in sizes(rng, 2, 2, 5))
    check_pool(student, rng, N, C, H, W, 2, 2, forward=False)


### BEGIN HIDDEN TESTS
@pytest.mark.points(2)
def test_stride_above_one_with_padding_backward(student, rng):
    """Forward and backward with stride 2 and 3 and padding 1 and 2, where some rows of the
    padded input fall in no window at all."""
    for stride, padding in ((2, 1), (3, 2), (2, 2)):
        check_conv(student, rng, 2, 2, 8, 9, 3, 3, 3, stride=stride, padding=padding)


@pytest.mark.points(1)
def test_kernel_as_large_as_the_padded_input(student, rng):
    """A kernel covering the whole padded input gives a 1x1 output, and its gradients."""
    H, W, padding = 4, 5, 1
    check_conv(student, rng, 2, 3, H, W, 2, H + 2 * padding, W + 2 * padding, 1, padding)


@pytest.mark.points(1)
def test_non_square_inputs_and_kernels(student, rng):
    """Height and width are handled separately: a 5x9 input, a 2x4 kernel."""
    check_conv(student, rng, 2, 2, 5, 9, 3, 2, 4, stride=1, padding=0)
    check_conv(student, rng, 1, 1, 6, 11, 2, 3, 2, stride=2, padding=1)


@pytest.mark.points(1)
def test_one_channel_and_many(student, rng):
    """One input and one output channel, then eight in and six out, and a batch of one."""
    check_conv(student, rng, 3, 1, 6, 6, 1, 3, 3, stride=1, padding=1)
    check_conv(student, rng, 1, 8, 5, 5, 6, 3, 3, stride=1, padding=0)


@pytest.mark.points(2)
def test_pooling_with_stride_other_than_kernel(student, rng):
    """Overlapping windows (kernel 3, stride 2: a maximum shared by two windows collects both
    gradients) and gaps between windows (kernel 2, stride 3), on a non-square input."""
    check_pool(student, rng, 2, 3, 7, 9, 3, 2)
    check_pool(student, rng, 2, 2, 8, 11, 2, 3)


@pytest.mark.points(2)
def test_pooling_ties_go_to_the_first_maximum(student, rng):
    """Where a window holds its maximum more than once, only the first in row-major order gets
    the gradient, as in PyTorch: windows side by side, overlapping, and 1 apart."""
    check_pool(student, rng, 2, 2, 6, 8, 2, 2, ties=True)
    check_pool(student, rng, 2, 2, 7, 7, 3, 2, ties=True)
    check_pool(student, rng, 1, 2, 5, 6, 2, 1, ties=True)


@pytest.mark.points(1)
def test_inputs_left_unmodified(student, rng):
    """No function changes the arrays it is given, and each gives the right answer."""
    x, w, b = conv_inputs(rng, 2, 2, 5, 5, 3, 3, 3)
    dout = rng.normal(size=(2, 3, 5, 5))
    out_ref, dx_ref, dw_ref, db_ref = conv_ref(x, w, b, 1, 1, dout)
    call = student.call("conv2d_forward", x, w, b, 1, 1)
    expect_array(call.result, out_ref, name="the output")
    expect_unmodified(call)
    call = student.call("conv2d_backward", dout, x, w, b, 1, 1)
    dx, dw, db = expect_sequence(call.result, 3, what="(dx, dw, db)")
    expect_arrays([("dx", dx, dx_ref), ("dw", dw, dw_ref), ("db", db, db_ref)])
    expect_unmodified(call)
    dpool = rng.normal(size=(2, 2, 4, 4))
    pool_out, pool_dx = pool_ref(x, 2, 1, dpool)
    call = student.call("maxpool2d_forward", x, 2, 1)
    expect_array(call.result, pool_out, name="the output")
    expect_unmodified(call)
    call = student.call("maxpool2d_backward", dpool, x, 2, 1)
    expect_array(call.result, pool_dx, name="dx")
    expect_unmodified(call)


### END HIDDEN TESTS
