# Public tests of `softmax`: run them with  dlgrade check softmax
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_softmax.py by `dlgrade generate`: do not edit.
"""Graders of `softmax`: every function against PyTorch on inputs drawn for you.

Each test checks one idea; its docstring says which. `student` is your module,
`rng` a random generator seeded for you, and the `*_ref` functions below are
the PyTorch references the answers are compared with.
"""

import numpy as np
import pytest

from grader.testing import (
    F,
    expect,
    expect_array,
    expect_scalar,
    expect_shape,
    expect_unmodified,
    oracle,
    torch,
)


# -- the PyTorch references -----------------------------------------------------------
@oracle
def softmax_ref(z, axis):
    return torch.softmax(z, dim=axis)


@oracle
def log_softmax_ref(z, axis):
    return torch.log_softmax(z, dim=axis)


@oracle
def cross_entropy_ref(logits, labels):
    return F.cross_entropy(logits, labels)


@oracle
def cross_entropy_grad_ref(logits, labels):
    logits = logits.clone().requires_grad_(True)
    F.cross_entropy(logits, labels).backward()
    return logits.grad


@oracle
def sigmoid_ref(z):
    return torch.sigmoid(z)


@oracle
def bce_ref(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets)


def random_logits(rng, scale=3.0):
    n, k = rng.integers(2, 9), rng.integers(2, 7)
    return rng.normal(scale=scale, size=(n, k))


def random_labels(rng, logits):
    n, k = logits.shape
    return rng.integers(0, k, size=n).astype(np.int64)


# -- public tests -----------------------------------------------------------------------
@pytest.mark.points(2)
def test_softmax_matches_torch(student, rng):
    """softmax(z) over the last axis equals torch.softmax(z, dim=-1)."""
    z = random_logits(rng)
    expect_array(student.softmax(z), softmax_ref(z, -1))


@pytest.mark.points(1)
def test_softmax_rows_are_distributions(student, rng):
    """Each row of softmax(z) is a probability distribution: entries in [0, 1] summing to one."""
    z = random_logits(rng)
    p = expect_shape(student.softmax(z), z.shape)
    expect(bool(np.all((p >= 0) & (p <= 1))), "some probabilities are outside [0, 1]")
    sums = p.sum(axis=-1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    expect(
        np.allclose(sums, 1.0), f"the rows do not sum to one: row {worst} sums to {sums[worst]:.6g}"
    )


@pytest.mark.points(1)
def test_softmax_along_axis_0(student, rng):
    """softmax(z, axis=0) normalises the columns instead of the rows."""
    z = random_logits(rng)
    expect_array(student.softmax(z, axis=0), softmax_ref(z, 0))


@pytest.mark.points(2)
def test_log_softmax_matches_torch(student, rng):
    """log_softmax(z) equals torch.log_softmax(z, dim=-1)."""
    z = random_logits(rng)
    expect_array(student.log_softmax(z), log_softmax_ref(z, -1))


@pytest.mark.points(2)
def test_cross_entropy_matches_torch(student, rng):
    """cross_entropy(logits, labels) equals F.cross_entropy (the mean over the batch)."""
    logits = random_logits(rng)
    labels = random_labels(rng, logits)
    expect_scalar(
        student.cross_entropy(logits, labels), cross_entropy_ref(logits, labels), name="the loss"
    )


@pytest.mark.points(2)
def test_cross_entropy_grad_matches_autograd(student, rng):
    """cross_entropy_grad equals the gradient autograd computes for F.cross_entropy."""
    logits = random_logits(rng)
    labels = random_labels(rng, logits)
    expect_array(
        student.cross_entropy_grad(logits, labels),
        cross_entropy_grad_ref(logits, labels),
        name="the gradient",
    )


@pytest.mark.points(1)
def test_sigmoid_matches_torch(student, rng):
    """sigmoid(z) equals torch.sigmoid(z), elementwise, for any shape."""
    z = rng.normal(scale=4.0, size=tuple(rng.integers(1, 6, size=3)))
    expect_array(student.sigmoid(z), sigmoid_ref(z))


@pytest.mark.points(2)
def test_binary_cross_entropy_matches_torch(student, rng):
    """binary_cross_entropy(logits, targets) equals F.binary_cross_entropy_with_logits."""
    logits = rng.normal(scale=3.0, size=rng.integers(3, 20))
    targets = (rng.random(logits.shape) < 0.5).astype(np.float64)
    expect_scalar(
        student.binary_cross_entropy(logits, targets), bce_ref(logits, targets), name="the loss"
    )
