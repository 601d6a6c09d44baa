"""Properties on drawn shapes and values (hypothesis), where fixed draws miss cases: the reference
solutions agree with the torch oracles the graders use on any shape (windows that barely fit,
strides larger than the kernel, ties in every window), and a diagnosis never fails, never
speaks of a degenerate output, and never of a right one."""

from __future__ import annotations

import importlib.util

import numpy as np
import torch
import torch.nn.functional as F
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.engine.diagnose import degenerate, diagnose_pair

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def load(exercise: str):
    spec = importlib.util.spec_from_file_location(
        f"prop_{exercise}", REPO / "solutions" / f"{exercise}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONV = load("conv")


@st.composite
def conv_case(draw):
    """A convolution whose kernel fits the padded input, with any stride and padding."""
    N, C, F_ = (draw(st.integers(1, 3)) for _ in range(3))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 4))
    H = draw(st.integers(max(1, KH - 2 * padding), 8))
    W = draw(st.integers(max(1, KW - 2 * padding), 8))
    seed = draw(st.integers(0, 2**31))
    return N, C, H, W, F_, KH, KW, stride, padding, seed


@SETTINGS
@given(conv_case())
def test_conv_reference_agrees_with_torch_on_any_shape(case) -> None:
    N, C, H, W, F_, KH, KW, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F_, C, KH, KW)), rng.normal(size=F_)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    dout = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(dout))
    assert np.allclose(CONV.conv2d_forward(x, w, b, stride, padding), out.detach().numpy())
    dx, dw, db = CONV.conv2d_backward(dout, x, w, b, stride, padding)
    assert np.allclose(dx, xt.grad.numpy()) and np.allclose(dw, wt.grad.numpy())
    assert np.allclose(db, bt.grad.numpy())
    assert CONV.conv_output_size(H, KH, stride, padding) == out.shape[2]


@SETTINGS
@given(
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(2, 9),
    st.integers(2, 9),
    st.integers(0, 2**31),
)
def test_pooling_reference_agrees_with_torch_with_ties_everywhere(
    kernel, stride, H, W, seed
) -> None:
    """Small integers: most windows hold their maximum more than once."""
    if kernel > min(H, W):
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=(2, 2, H, W)).astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, kernel, stride)
    dout = rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(dout))
    assert np.allclose(CONV.maxpool2d_forward(x, kernel, stride), out.detach().numpy())
    assert np.allclose(CONV.maxpool2d_backward(dout, x, kernel, stride), xt.grad.numpy())


arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
    elements=st.floats(-1e6, 1e6, allow_nan=False),
)


@SETTINGS
@given(arrays, st.data())
def test_a_diagnosis_never_fails_and_never_speaks_of_a_right_or_degenerate_output(
    expected, data
) -> None:
    got = data.draw(
        st.one_of(
            hnp.arrays(np.float64, expected.shape, elements=st.floats(-1e6, 1e6, allow_nan=False)),
            st.just(np.zeros_like(expected)),
            st.just(expected.copy()),
            st.just(expected * 2),
            st.just(-expected),
        )
    )
    found = diagnose_pair(got, expected)
    if degenerate(got) or degenerate(expected) or np.array_equal(got, expected):
        assert found is None
    else:
        assert found is None or isinstance(found, str)
