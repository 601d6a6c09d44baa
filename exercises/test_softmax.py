# Public tests of `softmax`: run them with  dlgrade check softmax
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_softmax.py by `dlgrade generate`: do not edit.
"""Graders of `softmax`: every function against PyTorch on inputs drawn for you.

Each test checks one idea; its docstring says which. `student` is your module,
`rng` a random generator seeded for you, and the `*_ref` functions below are
the PyTorch references the answers are compared with.

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  softmax: exp(z_i) / sum_j exp(z_j) ..... test_softmax_matches_torch
           entries in [0, 1], rows sum to one . test_softmax_rows_are_distributions
           along `axis` (0, -1, the middle of 3) . test_softmax_along_axis_0, test_softmax_of_3d_array*
           stable for logits of magnitude 1e4 . test_large_logits_are_stable,
                                             test_softmax_large_logits_are_stable*
  log_softmax: z - log sum exp(z) ......... test_log_softmax_matches_torch
           along `axis` ................... test_softmax_of_3d_array*
           never -inf for finite logits (1e4) . test_large_logits_are_stable,
                                             test_log_softmax_large_logits_are_stable*
  cross_entropy: mean (not sum) of -log p[label] . test_cross_entropy_matches_torch
           a batch of one ................. test_cross_entropy_batch_of_one*
           stable for 1e4 ................. test_large_logits_are_stable,
                                             test_cross_entropy_large_logits_are_stable*
  cross_entropy_grad: (softmax - onehot) / n . test_cross_entropy_grad_matches_autograd
           rows sum to zero, a batch of one . test_cross_entropy_batch_of_one*
           stable for 1e4 ................. test_cross_entropy_grad_large_logits*
  sigmoid: elementwise, any shape ......... test_sigmoid_matches_torch
           exact at +-1000 and beyond (no inf/inf) . test_large_logits_are_stable,
                                             test_sigmoid_extreme_values*
  binary_cross_entropy: mean over all elements, any shape . test_binary_cross_entropy_matches_torch
           soft targets, stable from logits . test_large_logits_are_stable,
                                             test_binary_cross_entropy_large_logits_are_stable*
  inputs left unmodified .................. test_inputs_left_unmodified*
"""

import numpy as np
import pytest

from grader.testing import (
    F,
    expect,
    expect_array,
    expect_finite,
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


# the losses are built of softmax and log_softmax: a failure is sent to them first when they fail
BUILDS_ON = {"cross_entropy": ("log_softmax",), "cross_entropy_grad": ("softmax",)}


def random_logits(rng, scale=3.0):
    n, k = rng.integers(2, 9), rng.integers(2, 7)
    return rng.normal(scale=scale, size=(n, k))


def random_labels(rng, logits):
    n, k = logits.shape
    return rng.integers(0, k, size=n).astype(np.int64)


def large_logits(rng):
    """Logits where exp() overflows, beside ordinary ones: rows of magnitude 1e4, rows of the
    ordinary scale shifted thousands apart, and ordinary rows (which a naive formula gets right,
    so that its output is not all nan)."""
    n, k = int(rng.integers(5, 9)), int(rng.integers(3, 7))
    z = rng.normal(scale=3.0, size=(n, k))
    rows = rng.permutation(n)
    z[rows[:2]] *= 1e4 / 3.0
    z[rows[2:4]] += rng.choice([-1.0, 1.0], size=(2, 1)) * rng.uniform(2000, 5000, size=(2, 1))
    return z


def unlikely_labels(rng, logits):
    """Labels, the least likely class of every row whose logits span more than 800: their
    probability underflows to 0, where log(softmax) gives -inf; random in the other rows."""
    labels = random_labels(rng, logits)
    wide = np.ptp(logits, axis=1) > 800
    labels[wide] = np.argmin(logits[wide], axis=1)
    return labels


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
    p = expect_finite(expect_shape(student.softmax(z), z.shape), name="softmax(z)")
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
    """binary_cross_entropy(logits, targets) equals F.binary_cross_entropy_with_logits: the mean
    over all elements, for a vector and for a (n, k) matrix."""
    logits = rng.normal(scale=3.0, size=rng.integers(3, 20))
    targets = (rng.random(logits.shape) < 0.5).astype(np.float64)
    expect_scalar(
        student.binary_cross_entropy(logits, targets), bce_ref(logits, targets), name="the loss"
    )
    logits = rng.normal(scale=3.0, size=(int(rng.integers(2, 6)), int(rng.integers(3, 7))))
    targets = (rng.random(logits.shape) < 0.5).astype(np.float64)
    expect_scalar(
        student.binary_cross_entropy(logits, targets), bce_ref(logits, targets), name="the loss"
    )


@pytest.mark.points(2)
def test_large_logits_are_stable(student, rng):
    """softmax, log_softmax, cross_entropy, sigmoid and binary_cross_entropy stay finite and
    exact for inputs of magnitude 1e4, where exp() overflows and probabilities underflow to 0:
    subtract the max, use log-sum-exp and the stable forms."""
    z = large_logits(rng)
    expect_array(student.softmax(z), softmax_ref(z, -1), name="softmax(z)")
    expect_array(student.log_softmax(z), log_softmax_ref(z, -1), name="log_softmax(z)")
    labels = unlikely_labels(rng, z)
    expect_scalar(student.cross_entropy(z, labels), cross_entropy_ref(z, labels), name="the loss")
    expect_array(student.sigmoid(z), sigmoid_ref(z), name="sigmoid(z)")
    targets = rng.random(z.shape)
    expect_scalar(student.binary_cross_entropy(z, targets), bce_ref(z, targets), name="the loss")
